package keycloak

import (
	"cmp"
	"context"
	"net/http"
	"slices"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Scope assignments: which client scopes a client gets by default or as an
// option, and which the realm gives new clients. Keycloak keeps the two
// lists apart per client and per realm; ssoctl manages each as an exact set.

// serviceAccountScope is the scope Keycloak assigns to every client with a
// service account, and takes away with it: ssoctl leaves it to Keycloak.
const serviceAccountScope = "service_account"

// scopeAssignments plans the default and optional scopes of one client of
// the file, as exact sets. A new client gets them in its create body.
func (b *builder) scopeAssignments(d DesiredClient, cur *gocloak.Client) {
	if cur == nil || (d.DefaultScopes == nil && d.OptionalScopes == nil) {
		return
	}
	o := assignScopes{Client: d.ClientID, Default: d.DefaultScopes, Optional: d.OptionalScopes}
	keep := func(s string) bool { return s == serviceAccountScope }
	fs := assignFields(o, "default_scopes", "optional_scopes",
		slices.DeleteFunc(slices.Clone(deref(cur.DefaultClientScopes)), keep), slices.DeleteFunc(slices.Clone(deref(cur.OptionalClientScopes)), keep))
	b.assignChange("client-scopes", d.ClientID, fs, o)
}

// realmScopes plans the realm's default and optional client scopes for new
// clients: exact sets within each protocol the file's lists name.
func (b *builder) realmScopes() {
	if b.d.DefaultScopes == nil && b.d.OptionalScopes == nil {
		return
	}
	o := assignScopes{Default: b.d.DefaultScopes, Optional: b.d.OptionalScopes}
	for _, s := range slices.Concat(b.d.DefaultScopes, b.d.OptionalScopes) {
		if p := b.scopeProtocol(s); p != "" && !slices.Contains(o.Protocols, p) {
			o.Protocols = append(o.Protocols, p)
		}
	}
	inScope := func(s string) bool { return !slices.Contains(o.Protocols, b.scopeProtocol(s)) }
	fs := assignFields(o, "default_client_scopes", "optional_client_scopes",
		slices.DeleteFunc(slices.Clone(b.st.RealmDefaultScopes), inScope), slices.DeleteFunc(slices.Clone(b.st.RealmOptionalScopes), inScope))
	c := b.assignChange("realm-client-scopes", "defaults", fs, o)
	if !b.st.RealmExists {
		c.Note = "replaces the new realm's own defaults"
	}
}

// assignFields shows what an assignment changes.
func assignFields(o assignScopes, dk, ok string, haveDef, haveOpt []string) []plan.FieldDiff {
	var fs []plan.FieldDiff
	if o.Default != nil {
		fs = plan.DiffSet(fs, dk, haveDef, o.Default)
	}
	if o.Optional != nil {
		fs = plan.DiffSet(fs, ok, haveOpt, o.Optional)
	}
	return fs
}

func (b *builder) assignChange(kind, name string, fs []plan.FieldDiff, o assignScopes) *plan.Change {
	c := b.change(kind, name, plan.NoOp, stepAssign, nil, nil)
	if len(fs) > 0 {
		c = b.change(kind, name, plan.Update, stepAssign, fs, o)
	}
	b.p.Add(c)
	return c
}

// assignScopes makes a client's (Client set) or the realm's (Client "")
// default and optional scopes the exact sets Default and Optional (nil:
// unmanaged). The delta is taken against what the server has when it is
// applied (a realm created in this apply has its own defaults by then):
// removals first, since Keycloak keeps a scope in one list only. The realm's
// lists are managed within Protocols; a client's service_account scope is
// Keycloak's.
type assignScopes struct {
	Client            string
	Default, Optional []string
	Protocols         []string
}

func (o assignScopes) apply(ctx context.Context, x *executor) error {
	base := func(kind string) (string, error) {
		if o.Client == "" {
			return x.path("default-" + kind + "-client-scopes"), nil
		}
		uuid, err := x.clientUUID(ctx, o.Client)
		if err != nil {
			return "", err
		}
		return x.path("clients", esc(uuid), kind+"-client-scopes"), nil
	}
	lists := map[string][]Scope{}
	for _, kind := range []string{"default", "optional"} {
		path, err := base(kind)
		if err != nil {
			return err
		}
		var have []Scope
		if err := x.a.get(ctx, path, &have); err != nil {
			return err
		}
		lists[kind] = slices.DeleteFunc(have, func(s Scope) bool {
			if o.Client != "" {
				return s.Name == serviceAccountScope
			}
			return !slices.Contains(o.Protocols, cmp.Or(s.Protocol, spec.ProtocolOIDC))
		})
	}
	names := func(ss []Scope) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return out
	}
	want := map[string][]string{"default": o.Default, "optional": o.Optional}
	// What leaves a list: what a managed list does not want, and what the
	// other list wants.
	for _, kind := range []string{"default", "optional"} {
		other := map[string]string{"default": "optional", "optional": "default"}[kind]
		path, err := base(kind)
		if err != nil {
			return err
		}
		for _, s := range lists[kind] {
			if (want[kind] != nil && !slices.Contains(want[kind], s.Name)) || slices.Contains(want[other], s.Name) {
				if err := ignoreNotFound(x.a.do(ctx, http.MethodDelete, path+"/"+esc(s.ID), nil, nil)); err != nil {
					return err
				}
			}
		}
	}
	for _, kind := range []string{"default", "optional"} {
		path, err := base(kind)
		if err != nil {
			return err
		}
		have := names(lists[kind])
		for _, name := range want[kind] {
			if slices.Contains(have, name) {
				continue
			}
			id, err := x.scopeID(ctx, name)
			if err != nil {
				return err
			}
			if _, err := x.a.do(ctx, http.MethodPut, path+"/"+esc(id), nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// readRealmScopes reads the realm's default and optional scopes for new
// clients.
func (r *reader) readRealmScopes() {
	for _, kind := range []string{"default", "optional"} {
		r.spawn(func() error {
			var scopes []Scope
			if err := r.get("/"+esc(r.realm)+"/default-"+kind+"-client-scopes", &scopes); err != nil {
				return err
			}
			names := []string{}
			for _, s := range scopes {
				names = append(names, s.Name)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if kind == "default" {
				r.st.RealmDefaultScopes = names
			} else {
				r.st.RealmOptionalScopes = names
			}
			return nil
		})
	}
}
