package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"golang.org/x/sync/errgroup"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates"
)

// Execution stages; Vault comes after Keycloak (whose stages are below 100),
// because a mount's config may need a client secret Keycloak creates.
const (
	stagePolicies = 100
	stageMounts   = 100
	stageConfig   = 101
	stageRoles    = 102
	stageGroups   = 102
	stageAliases  = 103
	stagePrune    = 110
)

// PlanOptions carry what the vault section needs from outside it.
type PlanOptions struct {
	Getenv func(string) string
	// ClientSecret returns the secret of a Keycloak client named in the same
	// file; nil when the file has no keycloak section.
	ClientSecret func(ctx context.Context, clientID string) (string, error)
	// NewSecrets lists Keycloak clients that this run creates: their secrets
	// do not exist yet, and the mount config must be (re)written.
	NewSecrets map[string]bool
	// CheckDiscovery fetches an OIDC discovery document and checks that its
	// issuer equals url exactly. Nil skips the check. It runs while planning,
	// and again just before the mount config is written.
	CheckDiscovery func(ctx context.Context, url string) error
	// PendingIssuers are discovery URLs of realms this run creates: they
	// cannot be checked until the Keycloak part has been applied.
	PendingIssuers map[string]bool
	// Keycloak is the file's keycloak section, for alias warnings.
	Keycloak *spec.Keycloak
	// ForApply makes missing secrets an error instead of a warning.
	ForApply bool
}

// MissingSecretError names an environment variable apply needs.
type MissingSecretError struct {
	Object, Env string
}

func (e *MissingSecretError) Error() string {
	return fmt.Sprintf("%s needs $%s, which is not set", e.Object, e.Env)
}

// BadInput marks a missing secret as the caller's problem (exit 2).
func (e *MissingSecretError) BadInput() bool { return true }

// State is what Vault holds now for the objects a file manages.
type State struct {
	Mounts   map[string]*vaultapi.AuthMount // by path without the trailing slash
	Policies map[string]string              // managed name -> HCL ("" when missing)
	Configs  map[string]map[string]any      // mount -> auth config
	Roles    map[string]map[string]map[string]any
	// RoleNames lists every role on each managed mount (for prune).
	RoleNames map[string][]string
	Groups    map[string]map[string]any // managed name -> identity group (nil when missing)
	Aliases   []GroupAlias              // every group alias
}

// GroupAlias is one entry of the group-alias listing.
type GroupAlias struct {
	ID, Name, MountAccessor, CanonicalID string
}

// ReadState reads the mounts, policies, configs, roles, groups and aliases
// that v names, with up to conc requests in flight: one listing of mounts,
// one read per managed policy, config, role and group, one role listing per
// mount, and one listing of all group aliases.
func (c *Conn) ReadState(ctx context.Context, v *spec.Vault, conc int) (*State, error) {
	st := &State{Policies: map[string]string{}, Configs: map[string]map[string]any{}, Roles: map[string]map[string]map[string]any{},
		RoleNames: map[string][]string{}, Groups: map[string]map[string]any{}, Mounts: map[string]*vaultapi.AuthMount{}}
	mounts, err := c.api.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return nil, c.wrap("GET", "sys/auth", err)
	}
	for p, m := range mounts {
		st.Mounts[strings.TrimSuffix(p, "/")] = m
	}
	if conc <= 0 {
		conc = 8
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for name := range v.Policies {
		g.Go(func() error {
			hcl, err := c.api.Sys().GetPolicyWithContext(gctx, name)
			if err != nil {
				return c.wrap("GET", "sys/policies/acl/"+name, err)
			}
			mu.Lock()
			st.Policies[name] = hcl
			mu.Unlock()
			return nil
		})
	}
	for _, a := range v.Auth {
		if _, ok := st.Mounts[a.Path]; !ok {
			continue
		}
		g.Go(func() error {
			cfg, err := c.read(gctx, "auth/"+a.Path+"/config")
			if err != nil {
				return err
			}
			mu.Lock()
			st.Configs[a.Path] = cfg
			mu.Unlock()
			return nil
		})
		g.Go(func() error {
			data, err := c.list(gctx, "auth/"+a.Path+"/role")
			if err != nil {
				return err
			}
			names := stringList(data["keys"])
			mu.Lock()
			st.RoleNames[a.Path] = names
			mu.Unlock()
			return nil
		})
		for name := range a.Roles {
			g.Go(func() error {
				r, err := c.read(gctx, "auth/"+a.Path+"/role/"+name)
				if err != nil {
					return err
				}
				mu.Lock()
				if st.Roles[a.Path] == nil {
					st.Roles[a.Path] = map[string]map[string]any{}
				}
				if r != nil {
					st.Roles[a.Path][name] = r
				}
				mu.Unlock()
				return nil
			})
		}
	}
	// Groups are global: read them whether or not their mount exists yet.
	for _, a := range v.Auth {
		for _, grp := range a.Groups {
			g.Go(func() error {
				data, err := c.read(gctx, "identity/group/name/"+grp.Name)
				if err != nil {
					return err
				}
				mu.Lock()
				st.Groups[grp.Name] = data
				mu.Unlock()
				return nil
			})
		}
	}
	if len(v.Auth) > 0 {
		g.Go(func() error {
			data, err := c.list(gctx, "identity/group-alias/id")
			if err != nil {
				return err
			}
			info, _ := data["key_info"].(map[string]any)
			var out []GroupAlias
			for id, raw := range info {
				m, _ := raw.(map[string]any)
				out = append(out, GroupAlias{ID: id, Name: str(m["name"]), MountAccessor: str(m["mount_accessor"]), CanonicalID: str(m["canonical_id"])})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
			mu.Lock()
			st.Aliases = out
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return st, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func stringList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// runtime ids, filled as mounts and groups are created.
type ids struct {
	mu        sync.Mutex
	accessors map[string]string // mount path -> accessor
	groups    map[string]string // group name -> id
}

func (x *ids) get(m map[string]string, k string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return m[k]
}

func (x *ids) set(m map[string]string, k, v string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	m[k] = v
}

// Plan reads Vault and returns the changes that make it match v.
func (c *Conn) Plan(ctx context.Context, v *spec.Vault, o PlanOptions) (*plan.Plan, error) {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	// Check discovery first: Vault only says "error checking oidc discovery URL".
	if o.CheckDiscovery != nil {
		for _, a := range v.Auth {
			if a.DiscoveryURL != "" && !o.PendingIssuers[strings.TrimRight(a.DiscoveryURL, "/")] {
				if err := o.CheckDiscovery(ctx, a.DiscoveryURL); err != nil {
					return nil, err
				}
			}
		}
	}
	st, err := c.ReadState(ctx, v, 8)
	if err != nil {
		return nil, err
	}
	b := &builder{c: c, v: v, o: o, st: st, p: &plan.Plan{}, x: &ids{accessors: map[string]string{}, groups: map[string]string{}}}
	for p, m := range st.Mounts {
		b.x.accessors[p] = m.Accessor
	}
	if err := b.build(); err != nil {
		return nil, err
	}
	return b.p, nil
}

type builder struct {
	c  *Conn
	v  *spec.Vault
	o  PlanOptions
	st *State
	p  *plan.Plan
	x  *ids
}

func (b *builder) change(kind, name string, action plan.Action, stage int, fields []plan.FieldDiff, apply func(context.Context) error) *plan.Change {
	ch := &plan.Change{System: "vault", Kind: kind, Name: name, Action: action, Stage: stage, Fields: fields}
	if action != plan.NoOp {
		ch.Apply = apply
	}
	return ch
}

func (b *builder) build() error {
	if err := b.policies(); err != nil {
		return err
	}
	for _, a := range b.v.Auth {
		if err := b.mount(a); err != nil {
			return err
		}
	}
	b.aliasWarnings()
	return nil
}

// PolicyText resolves a policy's HCL from the file or a shipped template.
func PolicyText(p spec.Policy) (string, error) {
	if p.HCL != "" {
		return p.HCL, nil
	}
	return templates.Read(p.Template)
}

func (b *builder) policies() error {
	c := b.c
	for _, name := range slices.Sorted(maps.Keys(b.v.Policies)) {
		text, err := PolicyText(b.v.Policies[name])
		if err != nil {
			return &InputError{Msg: fmt.Sprintf("vault.policies.%s: %v", name, err)}
		}
		cur := b.st.Policies[name]
		if cur == text {
			b.p.Add(b.change("policy", name, plan.NoOp, stagePolicies, nil, nil))
			continue
		}
		action := plan.Update
		if cur == "" {
			action = plan.Create
		}
		var old any
		if cur != "" {
			old = cur
		}
		n := name
		b.p.Add(b.change("policy", name, action, stagePolicies, []plan.FieldDiff{{Field: "policy", Old: old, New: text}}, func(ctx context.Context) error {
			err := c.api.Sys().PutPolicyWithContext(ctx, n, text)
			if e, ok := c.wrap("PUT", "sys/policies/acl/"+n, err).(*APIError); ok && e.Status == 400 {
				// Vault refused the HCL: that is the file's fault.
				return &InputError{Msg: fmt.Sprintf("vault.policies.%s: Vault refused the policy: %s", n, strings.Join(e.Errors, "; "))}
			} else if err != nil {
				return c.wrap("PUT", "sys/policies/acl/"+n, err)
			}
			return nil
		}))
	}
	return nil
}

func (b *builder) mount(a spec.AuthMount) error {
	c, x := b.c, b.x
	cur, exists := b.st.Mounts[a.Path]
	if exists && cur.Type != a.Type {
		return &InputError{Msg: fmt.Sprintf("vault.auth path %q: Vault already has a %q auth method there, the file asks for %q; re-typing it would drop every role on it. Choose another path, or disable the mount (vault auth disable %s) if you mean to start over", a.Path, cur.Type, a.Type, a.Path)}
	}
	if !exists {
		b.p.Add(b.change("auth-mount", a.Path, plan.Create, stageMounts, []plan.FieldDiff{{Field: "type", New: a.Type}, {Field: "description", New: a.Description}}, func(ctx context.Context) error {
			err := c.api.Sys().EnableAuthWithOptionsWithContext(ctx, a.Path, &vaultapi.EnableAuthOptions{Type: a.Type, Description: a.Description})
			if err != nil {
				if e, ok := c.wrap("POST", "sys/auth/"+a.Path, err).(*APIError); ok && strings.Contains(strings.Join(e.Errors, " "), "path is already in use") {
					// Enabled meanwhile: adopt it if the type matches.
					mounts, lerr := c.api.Sys().ListAuthWithContext(ctx)
					if lerr == nil {
						if m := mounts[a.Path+"/"]; m != nil && m.Type == a.Type {
							x.set(x.accessors, a.Path, m.Accessor)
							return nil
						}
					}
				}
				return c.wrap("POST", "sys/auth/"+a.Path, err)
			}
			mounts, err := c.api.Sys().ListAuthWithContext(ctx)
			if err != nil {
				return c.wrap("GET", "sys/auth", err)
			}
			if m := mounts[a.Path+"/"]; m != nil {
				x.set(x.accessors, a.Path, m.Accessor)
			}
			return nil
		}))
	} else if a.Description != "" && a.Description != cur.Description {
		b.p.Add(b.change("auth-mount", a.Path, plan.Update, stageMounts, []plan.FieldDiff{{Field: "description", Old: cur.Description, New: a.Description}}, func(ctx context.Context) error {
			_, err := c.write(ctx, "sys/auth/"+a.Path+"/tune", map[string]any{"description": a.Description})
			return err
		}))
	} else {
		b.p.Add(b.change("auth-mount", a.Path, plan.NoOp, stageMounts, nil, nil))
	}
	if err := b.config(a, exists); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(a.Roles)) {
		if err := b.role(a, name, a.Roles[name]); err != nil {
			return err
		}
	}
	for _, name := range b.st.RoleNames[a.Path] {
		if _, ok := a.Roles[name]; ok {
			continue
		}
		n := name
		b.p.Prunable = append(b.p.Prunable, b.change("role", a.Path+"/"+n, plan.Delete, stagePrune, nil, func(ctx context.Context) error {
			return c.delete(ctx, "auth/"+a.Path+"/role/"+n)
		}))
	}
	for _, g := range a.Groups {
		if err := b.group(a, g); err != nil {
			return err
		}
	}
	// Groups whose alias sits on this mount but that the file does not name.
	if acc := x.accessors[a.Path]; acc != "" {
		named := map[string]bool{}
		for _, g := range a.Groups {
			if id := str(b.st.Groups[g.Name]["id"]); id != "" {
				named[id] = true
			}
		}
		for _, al := range b.st.Aliases {
			if al.MountAccessor != acc || named[al.CanonicalID] {
				continue
			}
			gid := al.CanonicalID
			b.p.Prunable = append(b.p.Prunable, b.change("group", fmt.Sprintf("%s (id %s, alias %q on %s/)", gid, gid, al.Name, a.Path), plan.Delete, stagePrune, nil, func(ctx context.Context) error {
				return c.delete(ctx, "identity/group/id/"+gid)
			}))
		}
	}
	return nil
}

// configBody is the full config Vault will hold: Vault replaces the whole
// config on every write, so every managed field is sent each time.
func configBody(a spec.AuthMount) map[string]any {
	issuer := a.BoundIssuer
	if issuer == "" && a.DiscoveryURL != "" {
		issuer = a.DiscoveryURL
	}
	return map[string]any{
		"oidc_discovery_url":     a.DiscoveryURL,
		"oidc_discovery_ca_pem":  a.DiscoveryCAPEM,
		"oidc_client_id":         a.ClientID,
		"default_role":           a.DefaultRole,
		"bound_issuer":           issuer,
		"jwks_url":               a.JWKSURL,
		"jwt_validation_pubkeys": nonNil(a.JWTValidationPubkeys),
		"jwt_supported_algs":     nonNil(a.JWTSupportedAlgs),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (b *builder) config(a spec.AuthMount, mountExists bool) error {
	c := b.c
	want := configBody(a)
	have := b.st.Configs[a.Path]
	var fields []plan.FieldDiff
	for _, k := range slices.Sorted(maps.Keys(want)) {
		var old any
		if have != nil {
			old = normalize(have[k])
		}
		if !plan.Equal(old, normalize(want[k])) {
			fields = append(fields, plan.FieldDiff{Field: k, Old: old, New: want[k]})
		}
	}
	// The client secret is write-only in Vault: it is (re)written whenever
	// the config is written, and the config is written when anything
	// readable differs or Keycloak creates the client in this run.
	var secret func(context.Context) (string, error)
	if a.ClientID != "" {
		switch {
		case a.ClientSecretEnv != "":
			val := b.o.Getenv(a.ClientSecretEnv)
			if val == "" {
				err := &MissingSecretError{Object: "vault auth " + a.Path, Env: a.ClientSecretEnv}
				if b.o.ForApply {
					return err
				}
				b.p.Warn("%v", err)
			}
			secret = func(context.Context) (string, error) { return val, nil }
		case b.o.ClientSecret != nil && b.o.Keycloak.Client(a.ClientID) != nil:
			fetch := b.o.ClientSecret
			secret = func(ctx context.Context) (string, error) { return fetch(ctx, a.ClientID) }
			if b.o.NewSecrets[a.ClientID] {
				fields = append(fields, plan.FieldDiff{Field: "oidc_client_secret", New: "(new secret of Keycloak client " + a.ClientID + ")"})
			}
		default:
			return &InputError{Msg: fmt.Sprintf("vault.auth %q: oidc_client_id %q needs a secret: set client_secret_env, or describe client %q in the keycloak: section so ssoctl reads it from Keycloak", a.Path, a.ClientID, a.ClientID)}
		}
	}
	if have != nil && len(fields) == 0 {
		b.p.Add(b.change("auth-config", a.Path, plan.NoOp, stageConfig, nil, nil))
		return nil
	}
	action := plan.Update
	if have == nil || !mountExists {
		action = plan.Create
	}
	if secret != nil && !slices.ContainsFunc(fields, func(f plan.FieldDiff) bool { return f.Field == "oidc_client_secret" }) {
		fields = append(fields, plan.FieldDiff{Field: "oidc_client_secret", New: "(write-only; sent with the config)"})
	}
	check := b.o.CheckDiscovery
	b.p.Add(b.change("auth-config", a.Path, action, stageConfig, fields, func(ctx context.Context) error {
		if check != nil && a.DiscoveryURL != "" {
			if err := check(ctx, a.DiscoveryURL); err != nil {
				return err
			}
		}
		body := maps.Clone(want)
		if secret != nil {
			s, err := secret(ctx)
			if err != nil {
				return err
			}
			if s == "" {
				return &InputError{Msg: fmt.Sprintf("vault.auth %q: client %q has no secret (a public client?); Vault's OIDC flow needs a confidential client", a.Path, a.ClientID)}
			}
			body["oidc_client_secret"] = s
		}
		_, err := c.write(ctx, "auth/"+a.Path+"/config", body)
		if e, ok := err.(*APIError); ok && e.Status == 400 {
			if strings.Contains(strings.Join(e.Errors, " "), "error checking oidc discovery URL") {
				e.Hint = "Vault could not fetch " + a.DiscoveryURL + "/.well-known/openid-configuration, or its issuer differs from that URL; Vault logs the detail"
			}
			return e
		}
		return err
	}))
	return nil
}

// seconds parses a TTL or leeway ("1h", "90s", "3600"); "" is 0.
func seconds(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return int64(d / time.Second), nil
}

// roleBody is the full role as Vault should hold it. role_type and
// bound_claims_type are always sent: omitted, Vault resets them to oidc
// and string.
func roleBody(r spec.Role) (map[string]any, error) {
	durs := map[string]string{"token_ttl": r.TokenTTL, "token_max_ttl": r.TokenMaxTTL, "clock_skew_leeway": r.ClockSkewLeeway,
		"expiration_leeway": r.ExpirationLeeway, "not_before_leeway": r.NotBeforeLeeway}
	body := map[string]any{
		"role_type":               r.RoleType,
		"user_claim":              r.UserClaim,
		"user_claim_json_pointer": r.UserClaimJSONPointer != nil && *r.UserClaimJSONPointer,
		"groups_claim":            r.GroupsClaim,
		"bound_audiences":         nonNil(r.BoundAudiences),
		"bound_subject":           r.BoundSubject,
		"bound_claims":            mapOrEmpty(r.BoundClaims),
		"bound_claims_type":       r.BoundClaimsType,
		"claim_mappings":          mapOrEmpty(r.ClaimMappings),
		"allowed_redirect_uris":   nonNil(r.AllowedRedirectURIs),
		"oidc_scopes":             nonNil(r.OIDCScopes),
		"token_policies":          nonNil(r.Policies),
		"verbose_oidc_logging":    r.VerboseOIDCLogging,
	}
	for k, v := range durs {
		n, err := seconds(v)
		if err != nil {
			return nil, fmt.Errorf("%s: want a duration like 1h or 3600, got %q", k, v)
		}
		body[k] = n
	}
	return body, nil
}

func mapOrEmpty[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// normalize makes values read from Vault and values from the file
// comparable: JSON round trip (numbers become float64), and lists and maps
// of any kind become []any and map[string]any.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

func (b *builder) role(a spec.AuthMount, name string, r spec.Role) error {
	c := b.c
	want, err := roleBody(r)
	if err != nil {
		return &InputError{Msg: fmt.Sprintf("vault.auth %q role %q: %v", a.Path, name, err)}
	}
	have := b.st.Roles[a.Path][name]
	var fields []plan.FieldDiff
	for _, k := range slices.Sorted(maps.Keys(want)) {
		var old any
		if have != nil {
			old = normalize(have[k])
		}
		nw := normalize(want[k])
		if !equalUnordered(k, old, nw) {
			fields = append(fields, plan.FieldDiff{Field: k, Old: old, New: want[k]})
		}
	}
	label := a.Path + "/" + name
	if have != nil && len(fields) == 0 {
		b.p.Add(b.change("role", label, plan.NoOp, stageRoles, nil, nil))
		return nil
	}
	action := plan.Update
	if have == nil {
		action = plan.Create
		fields = nil
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if nv := normalize(want[k]); !plan.Equal(nil, nv) && nv != float64(0) && nv != false {
				fields = append(fields, plan.FieldDiff{Field: k, New: want[k]})
			}
		}
	}
	b.p.Add(b.change("role", label, action, stageRoles, fields, func(ctx context.Context) error {
		_, err := c.write(ctx, "auth/"+a.Path+"/role/"+name, want)
		if e, ok := err.(*APIError); ok && e.Status == 400 {
			return &InputError{Msg: fmt.Sprintf("vault.auth %q role %q: Vault refused it: %s", a.Path, name, strings.Join(e.Errors, "; "))}
		}
		return err
	}))
	return nil
}

// equalUnordered compares field values; the lists Vault treats as sets
// compare without order.
func equalUnordered(field string, a, b any) bool {
	switch field {
	case "bound_audiences", "allowed_redirect_uris", "oidc_scopes", "token_policies", "jwt_supported_algs":
		return plan.Equal(sortedAny(a), sortedAny(b))
	}
	return plan.Equal(a, b) || reflect.DeepEqual(a, b)
}

func sortedAny(v any) any {
	l, ok := v.([]any)
	if !ok {
		return v
	}
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = fmt.Sprint(e)
	}
	sort.Strings(s)
	return s
}

func (b *builder) group(a spec.AuthMount, g spec.ExternalGroup) error {
	c, x := b.c, b.x
	cur := b.st.Groups[g.Name]
	if cur != nil && str(cur["type"]) != "external" {
		return &InputError{Msg: fmt.Sprintf("vault.auth %q group %q: Vault already has it as an %s group, and aliases can only be set on external groups; rename the group in the file or delete it in Vault", a.Path, g.Name, str(cur["type"]))}
	}
	policies := nonNil(g.Policies)
	if cur == nil {
		b.p.Add(b.change("group", g.Name, plan.Create, stageGroups, []plan.FieldDiff{{Field: "type", New: "external"}, {Field: "policies", New: policies}}, func(ctx context.Context) error {
			// The name endpoint upserts; read back the id (an update answers 204).
			if _, err := c.write(ctx, "identity/group/name/"+g.Name, map[string]any{"type": "external", "policies": policies}); err != nil {
				return err
			}
			data, err := c.read(ctx, "identity/group/name/"+g.Name)
			if err != nil {
				return err
			}
			x.set(x.groups, g.Name, str(data["id"]))
			return nil
		}))
	} else {
		x.set(x.groups, g.Name, str(cur["id"]))
		havePol := stringList(cur["policies"])
		if plan.Equal(sortedAny(normalize(havePol)), sortedAny(normalize(policies))) {
			b.p.Add(b.change("group", g.Name, plan.NoOp, stageGroups, nil, nil))
		} else {
			b.p.Add(b.change("group", g.Name, plan.Update, stageGroups, []plan.FieldDiff{{Field: "policies", Old: havePol, New: policies}}, func(ctx context.Context) error {
				_, err := c.write(ctx, "identity/group/name/"+g.Name, map[string]any{"type": "external", "policies": policies})
				return err
			}))
		}
	}
	if g.Alias == "" {
		return nil
	}
	// The group's one alias: external groups have exactly one, and alias
	// create is not idempotent, so look before writing.
	var haveAlias map[string]any
	if cur != nil {
		haveAlias, _ = cur["alias"].(map[string]any)
	}
	acc := x.accessors[a.Path]
	label := g.Name + " <- " + a.Path + "/" + g.Alias
	if haveAlias != nil && strings.EqualFold(str(haveAlias["name"]), g.Alias) && acc != "" && str(haveAlias["mount_accessor"]) == acc {
		b.p.Add(b.change("group-alias", label, plan.NoOp, stageAliases, nil, nil))
		return nil
	}
	if acc != "" {
		for _, al := range b.st.Aliases {
			if al.MountAccessor == acc && strings.EqualFold(al.Name, g.Alias) && (cur == nil || al.CanonicalID != str(cur["id"])) {
				return &InputError{Msg: fmt.Sprintf("vault.auth %q group %q: alias %q on %s/ already belongs to another group (id %s); name that group in the file instead, or delete it", a.Path, g.Name, g.Alias, a.Path, al.CanonicalID)}
			}
		}
	}
	aliasID := ""
	var old any
	if haveAlias != nil && str(haveAlias["id"]) != "" {
		aliasID = str(haveAlias["id"])
		old = fmt.Sprintf("%s on %s", str(haveAlias["name"]), str(haveAlias["mount_path"]))
	}
	action := plan.Create
	if aliasID != "" {
		action = plan.Update
	}
	b.p.Add(b.change("group-alias", label, action, stageAliases, []plan.FieldDiff{{Field: "alias", Old: old, New: g.Alias + " on " + a.Path + "/"}}, func(ctx context.Context) error {
		accessor, gid := x.get(x.accessors, a.Path), x.get(x.groups, g.Name)
		if accessor == "" || gid == "" {
			return fmt.Errorf("group alias %s: mount %s/ or group %s is missing", g.Alias, a.Path, g.Name)
		}
		body := map[string]any{"name": g.Alias, "mount_accessor": accessor, "canonical_id": gid}
		path := "identity/group-alias"
		if aliasID != "" {
			path += "/id/" + aliasID
		}
		_, err := c.write(ctx, path, body)
		return err
	}))
	return nil
}
