package keycloak

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// Steps of the federations: the providers with the clients (a role
// mapper names a client, created at stepClients), their mappers after.
const (
	stepFederations      = stepClientParts
	stepFederationMapper = stepAssign
)

func federationRef(name string) plan.Ref { return plan.Ref{Kind: "federation", Name: name} }
func federationMapperRef(fed, name string) plan.Ref {
	return plan.Ref{Kind: "federation-mapper", Scope: fed, Name: name}
}

// keycloakLDAPMappers are the mappers Keycloak adds to a new provider: a
// file's mapper of one of these names adopts it, and ssoctl never records
// them as its own (a prune must not delete them).
var keycloakLDAPMappers = []string{"username", "first name", "last name", "email", "creation date", "modify date", "Kerberos principal attribute mapper"}

// expandFederations returns the file's federations and their bind
// credentials from the environment.
func expandFederations(fs []spec.Federation, getenv func(string) string) ([]spec.Federation, map[string]string) {
	secrets := map[string]string{}
	for _, f := range fs {
		if f.BindCredentialEnv != "" {
			secrets[f.Name] = getenv(f.BindCredentialEnv)
		}
	}
	return fs, secrets
}

// federations plans the file's LDAP providers and their mappers: by name,
// each changed in place (one PUT of the whole component as read), the
// bind credential sent only when its fingerprint differs.
func (b *builder) federations() error {
	have := b.st.Federations
	for i := range b.d.Federations {
		f := &b.d.Federations[i]
		key := fmt.Sprintf("keycloak.user_federation[%d]", i)
		b.name(federationRef(f.Name))
		want, err := federationConfig(f)
		if err != nil {
			return &InputError{Key: key, Msg: err.Error()}
		}
		secret, send := "", false
		if f.BindCredentialEnv != "" {
			secret = b.d.FederationSecrets[f.Name]
			if secret == "" {
				err := &plan.MissingSecretError{Object: "federation " + f.Name + " (its bind credential)", Env: f.BindCredentialEnv}
				if b.o.ForApply {
					return err
				}
				b.p.Warn("%v; apply will stop before writing anything", err)
			} else {
				send = !fingerprintMatches(b.attribute(b.st.RealmRep, federationFingerprintAttr(f.Name)), secret)
			}
		}
		cur := have[f.Name]
		if cur == nil {
			fields := configDiffs("", want, nil)
			if f.BindCredentialEnv != "" {
				fields = append(fields, plan.FieldDiff{Field: bindCredentialKey, New: secretMask, Secret: true})
			}
			body := maps.Clone(want)
			op := syncFederation{Name: f.Name, Config: body, Secret: secret}
			b.p.Add(b.change("federation", f.Name, plan.Create, stepFederations, fields, op))
		} else {
			diffs, unsafe := federationDiff(want, cur, send)
			if len(unsafe) > 0 {
				k := unsafe[0]
				return &InputError{Key: key + "." + federationFileKey(k), Msg: fmt.Sprintf("federation %s: %s cannot be changed in place: %s (Keycloak would take it; ssoctl does not, and never deletes and re-creates a federation: that deletes the users it imported)", spec.Quote(f.Name), federationFileKey(k), unsafeInPlace[k])}
			}
			action := plan.NoOp
			var o op
			if len(diffs) > 0 {
				action = plan.Update
				s := ""
				if send {
					s = secret
				}
				o = syncFederation{Name: f.Name, ID: cur.ID, Config: mergedConfig(cur.Config, want, ""), Secret: s}
			}
			b.p.Add(b.change("federation", f.Name, action, stepFederations, diffs, o))
		}
		for j, sm := range f.Mappers {
			if r := sm.Role; r != nil && r.Client != "" && b.d.client(r.Client) == nil && b.st.Clients[r.Client] == nil {
				return &InputError{Key: fmt.Sprintf("%s.mappers[%d].role.client", key, j), Msg: fmt.Sprintf("federation %s: the role mapper's client %s is neither in the file nor in realm %s", spec.Quote(f.Name), spec.Quote(r.Client), b.d.Realm)}
			}
		}
		for _, m := range federationMappers(f) {
			if !slices.Contains(keycloakLDAPMappers, m.Name) {
				b.name(federationMapperRef(f.Name, m.Name))
			}
			name := f.Name + "/" + m.Name
			var hm *componentRep
			if cur != nil {
				hm = cur.Mappers[m.Name]
			}
			if hm == nil {
				op := syncFederationMapper{Federation: f.Name, Name: m.Name, ProviderID: m.ProviderID, Config: m.Config}
				b.p.Add(b.change("federation-mapper", name, plan.Create, stepFederationMapper, configDiffs("", m.Config, nil), op))
				continue
			}
			diffs, err := fedMapperDiff(m, hm)
			if err != nil {
				return &InputError{Key: key + ".mappers", Msg: "federation " + spec.Quote(f.Name) + ": " + err.Error()}
			}
			action, o := plan.NoOp, op(nil)
			if len(diffs) > 0 {
				action = plan.Update
				o = syncFederationMapper{Federation: f.Name, Name: m.Name, ProviderID: m.ProviderID, ID: hm.ID, Config: mergedConfig(hm.Config, m.Config, "")}
			}
			b.p.Add(b.change("federation-mapper", name, action, stepFederationMapper, diffs, o))
		}
	}
	return nil
}

// federationFileKey names a provider's config key as the file does.
func federationFileKey(k string) string {
	switch k {
	case "uuidLDAPAttribute":
		return "uuid_attribute"
	case "importEnabled":
		return "sync.import_users"
	}
	return strings.ToLower(k)
}

// syncFederation creates (ID "") or updates one LDAP provider. Config is
// the whole config to send; Secret, when set, is the bind credential to
// send, and its fingerprint is kept in the realm after.
type syncFederation struct {
	Name, ID string
	Config   map[string][]string
	Secret   string
}

func (o syncFederation) apply(ctx context.Context, x *executor) error {
	cfg := maps.Clone(o.Config)
	if o.Secret != "" {
		cfg[bindCredentialKey] = []string{o.Secret}
	}
	if o.ID == "" {
		parent, err := x.realmID(ctx)
		if err != nil {
			return err
		}
		body := componentRep{Name: o.Name, ProviderID: "ldap", ProviderType: userStorageType, ParentID: parent, Config: cfg}
		id, err := x.a.create(ctx, x.path("components"), body)
		if err != nil {
			return err
		}
		x.ids.Set(federationRef(o.Name), id)
	} else {
		var cur componentRep
		if err := x.a.get(ctx, x.path("components", esc(o.ID)), &cur); err != nil {
			return err
		}
		cur.Config = cfg
		if _, err := x.a.do(ctx, http.MethodPut, x.path("components", esc(o.ID)), cur, nil); err != nil {
			return err
		}
		x.ids.Set(federationRef(o.Name), o.ID)
	}
	if o.Secret == "" {
		return nil
	}
	fp, err := fingerprint(o.Secret)
	if err != nil {
		return err
	}
	return x.withAttributes(ctx, nil, func(attrs map[string]string) error {
		attrs[federationFingerprintAttr(o.Name)] = fp
		return nil
	})
}

// syncFederationMapper creates (ID "") or updates one mapper of a
// provider. A create looks the name up first: a provider created in this
// apply already has Keycloak's own mappers (email, username, …), and an
// interrupted apply may have made it.
type syncFederationMapper struct {
	Federation, Name, ProviderID, ID string
	Config                           map[string][]string
}

func (o syncFederationMapper) apply(ctx context.Context, x *executor) error {
	parent, ok := x.ids.Get(federationRef(o.Federation))
	if !ok {
		return notFound("federation %s", o.Federation)
	}
	id, cfg := o.ID, o.Config
	if id == "" {
		var found []componentRep
		q := url.Values{"parent": {parent}, "type": {ldapMapperType}, "name": {o.Name}}
		if err := x.a.get(ctx, x.path("components")+"?"+q.Encode(), &found); err != nil {
			return err
		}
		for _, c := range found {
			if c.Name == o.Name {
				if c.ProviderID != o.ProviderID {
					return fmt.Errorf("federation %s: mapper %s is a %s, not a %s", o.Federation, o.Name, c.ProviderID, o.ProviderID)
				}
				id, cfg = c.ID, mergedConfig(c.Config, o.Config, "")
				break
			}
		}
	}
	body := componentRep{ID: id, Name: o.Name, ProviderID: o.ProviderID, ProviderType: ldapMapperType, ParentID: parent, Config: cfg}
	if id == "" {
		body.ID = ""
		_, err := x.a.create(ctx, x.path("components"), body)
		return err
	}
	_, err := x.a.do(ctx, http.MethodPut, x.path("components", esc(id)), body, nil)
	return err
}

// realmID is the realm's id (a provider's parentId).
func (x *executor) realmID(ctx context.Context) (string, error) {
	var rr struct {
		ID string `json:"id"`
	}
	if err := x.a.get(ctx, x.path(), &rr); err != nil {
		return "", err
	}
	return rr.ID, nil
}

// readFederationListings reads the LDAP providers and their mappers when
// the export is refused: two listings (GET /components lists them flat,
// a mapper naming its provider by parentId).
func (r *reader) readFederationListings() error {
	var providers, mappers []componentRep
	base := "/" + esc(r.realm) + "/components?type="
	if err := r.get(base+url.QueryEscape(userStorageType), &providers); err != nil {
		return err
	}
	if err := r.get(base+url.QueryEscape(ldapMapperType), &mappers); err != nil {
		return err
	}
	byParent := map[string][]componentRep{}
	for _, m := range mappers {
		byParent[m.ParentID] = append(byParent[m.ParentID], m)
	}
	for i := range providers {
		providers[i].SubComponents = map[string][]componentRep{ldapMapperType: byParent[providers[i].ID]}
	}
	fs := decodeFederations(map[string][]componentRep{userStorageType: providers})
	r.mu.Lock()
	r.st.Federations = fs
	r.mu.Unlock()
	return nil
}
