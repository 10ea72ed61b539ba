package vault

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// mount plans one auth mount: the mount itself, its config, its roles with
// the record of which roles ssoctl owns, and its external groups.
func (b *builder) mount(a spec.AuthMount) error {
	cur, exists := b.st.Mounts[a.Path]
	if exists && cur.Type != a.Type {
		return &InputError{Msg: fmt.Sprintf("vault.auth path %q: Vault already has a %q auth method there, the file asks for %q; re-typing it would drop every role on it. Choose another path, or disable the mount (vault auth disable %s) if you mean to start over", a.Path, cur.Type, a.Type, a.Path)}
	}
	named := slices.Sorted(maps.Keys(a.Roles))
	switch {
	case !exists:
		b.p.Add(b.change("auth-mount", a.Path, plan.Create, stepMounts,
			[]plan.FieldDiff{{Field: "type", New: a.Type}, {Field: "description", New: a.Description}},
			enableMount{Path: a.Path, Type: a.Type, Description: a.Description, Owner: b.o.Owner, Roles: named}))
	case a.Description != "" && a.Description != cur.Description:
		b.p.Add(b.change("auth-mount", a.Path, plan.Update, stepMounts,
			[]plan.FieldDiff{{Field: "description", Old: cur.Description, New: a.Description}}, tuneMount{Path: a.Path, Description: a.Description}))
	default:
		b.p.Add(b.change("auth-mount", a.Path, plan.NoOp, stepMounts, nil, nil))
	}
	if err := b.config(a, exists); err != nil {
		return err
	}
	pruned, err := b.roles(a)
	if err != nil {
		return err
	}
	if exists {
		b.rolesRecord(a.Path, named, pruned)
	}
	return b.groups(a)
}

// rolesRecord plans the mount option that lists the roles ssoctl owns.
// Without --prune it only grows: every role the file names is added before
// the roles are written. With --prune it is written again after the
// deletions, without the deleted roles and those that no longer exist.
//
// Each owner's roles are an option of their own (RolesOptionOf), and Vault
// merges the options a tune sends into the mount's, so two files' applies
// never write over each other's. A role this file takes from another
// owner (adopt_from, or a role recorded before owners) leaves that owner's
// option in the same tune.
func (b *builder) rolesRecord(path string, named []string, pruned map[string]bool) {
	owners := b.st.RoleOwners(path)
	owned := b.mine(owners)
	start := maps.Clone(owned)
	for _, n := range named {
		start[n] = true
	}
	label := path + "/ option " + RolesOptionOf(b.o.Owner)
	if taken := b.taken(owners, named); !maps.Equal(start, owned) || len(taken) > 0 {
		b.p.Add(b.change("ownership-record", label, plan.Update, stepConfig,
			[]plan.FieldDiff{{Field: "roles", Old: joinSet(owned), New: joinSet(start)}},
			recordRoles{Path: path, Options: b.rolesOptions(owners, start, taken)}))
	}
	exists := map[string]bool{}
	for _, n := range b.st.RoleNames[path] {
		exists[n] = true
	}
	after := map[string]bool{}
	for n := range start {
		if !pruned[n] && (exists[n] || slices.Contains(named, n)) {
			after[n] = true
		}
	}
	if !maps.Equal(after, start) {
		b.p.AfterPrune = append(b.p.AfterPrune, b.change("ownership-record", label, plan.Update, stepRecordAfter,
			[]plan.FieldDiff{{Field: "roles", Old: joinSet(start), New: joinSet(after)}},
			recordRoles{Path: path, Options: map[string]string{RolesOptionOf(b.o.Owner): joinSet(after)}}))
	}
}

// mine returns the roles of owners that this file may prune: its owner's,
// and those recorded before owners when it adopts them.
func (b *builder) mine(owners map[string]string) map[string]bool {
	out := map[string]bool{}
	for n, o := range owners {
		if b.o.claimant().Prunes(o) {
			out[n] = true
		}
	}
	return out
}

// taken returns the named roles that another owner's option lists (the
// file adopts them), by that owner.
func (b *builder) taken(owners map[string]string, named []string) map[string][]string {
	out := map[string][]string{}
	for _, n := range named {
		if o, ok := owners[n]; ok && o != b.o.Owner {
			out[o] = append(out[o], n)
		}
	}
	return out
}

// rolesOptions is the tune that records start as this owner's roles and
// removes the taken roles from their former owners' options (an empty
// value deletes an option).
func (b *builder) rolesOptions(owners map[string]string, start map[string]bool, taken map[string][]string) map[string]string {
	opts := map[string]string{RolesOptionOf(b.o.Owner): joinSet(start)}
	for o, roles := range taken {
		left := map[string]bool{}
		for n, oo := range owners {
			if oo == o && !slices.Contains(roles, n) {
				left[n] = true
			}
		}
		opts[RolesOptionOf(o)] = joinSet(left)
	}
	return opts
}

func joinSet(s map[string]bool) string { return strings.Join(slices.Sorted(maps.Keys(s)), ",") }

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

// config plans a mount's config. The client secret is write-only in Vault:
// it is (re)written whenever the config is written, and the config is
// written when anything readable differs or Keycloak creates the client in
// this run.
func (b *builder) config(a spec.AuthMount, mountExists bool) error {
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
	var secret secretSource
	if a.ClientID != "" {
		switch {
		case a.ClientSecretEnv != "":
			secret.Value = b.o.Getenv(a.ClientSecretEnv)
			if secret.Value == "" {
				err := &plan.MissingSecretError{Object: "vault auth " + a.Path, Env: a.ClientSecretEnv}
				if b.o.ForApply {
					return err
				}
				b.p.Warn("%v", err)
			}
		case b.o.KeycloakClients[a.ClientID]:
			secret.KeycloakClient = a.ClientID
			if b.o.NewSecrets[a.ClientID] {
				fields = append(fields, plan.FieldDiff{Field: "oidc_client_secret", New: "(new secret of Keycloak client " + a.ClientID + ")"})
			}
		default:
			return &InputError{Msg: fmt.Sprintf("vault.auth %q: oidc_client_id %q needs a secret: set client_secret_env, or describe client %q in the keycloak: section so ssoctl reads it from Keycloak", a.Path, a.ClientID, a.ClientID)}
		}
	}
	if have != nil && len(fields) == 0 {
		b.p.Add(b.change("auth-config", a.Path, plan.NoOp, stepConfig, nil, nil))
		return nil
	}
	action := plan.Update
	if have == nil || !mountExists {
		action = plan.Create
	}
	if a.ClientID != "" && !slices.ContainsFunc(fields, func(f plan.FieldDiff) bool { return f.Field == "oidc_client_secret" }) {
		fields = append(fields, plan.FieldDiff{Field: "oidc_client_secret", New: "(write-only; sent with the config)"})
	}
	b.p.Add(b.change("auth-config", a.Path, action, stepConfig, fields,
		writeConfig{Path: a.Path, Body: want, DiscoveryURL: a.DiscoveryURL, ClientID: a.ClientID, Secret: secret}))
	return nil
}

// enableMount enables an auth method with the ownership record of the
// roles the file names. A mount of the same type enabled meanwhile is
// adopted.
type enableMount struct {
	Path, Type, Description string
	// Owner is the file's owner, whose option lists Roles.
	Owner string
	Roles []string
}

func (o enableMount) apply(ctx context.Context, x *executor) error {
	c := x.c
	record := map[string]string{RolesOptionOf(o.Owner): strings.Join(o.Roles, ",")}
	opts := &vaultapi.EnableAuthOptions{Type: o.Type, Description: o.Description, Options: record}
	err := c.wrap("POST", "sys/auth/"+o.Path, c.api.Sys().EnableAuthWithOptionsWithContext(ctx, o.Path, opts))
	var e *APIError
	if err != nil && !(errors.As(err, &e) && strings.Contains(strings.Join(e.Errors, " "), "path is already in use")) {
		return err
	}
	// Enabled now, or meanwhile by someone else: read the accessor that
	// the mount's aliases need, and adopt a mount of the same type.
	mounts, lerr := c.api.Sys().ListAuthWithContext(ctx)
	if lerr != nil {
		return c.wrap("GET", "sys/auth", lerr)
	}
	m := mounts[o.Path+"/"]
	if m == nil || m.Type != o.Type {
		if err != nil {
			return err
		}
		return fmt.Errorf("auth mount %s/ is missing right after it was enabled", o.Path)
	}
	x.ids.Set(mountRef(o.Path), m.Accessor)
	if err != nil {
		// Another file's apply enabled it: record this file's roles in
		// this owner's option, which leaves the others' alone.
		return recordRoles{Path: o.Path, Options: record}.apply(ctx, x)
	}
	return nil
}

// tuneMount sets a mount's description.
type tuneMount struct{ Path, Description string }

func (o tuneMount) apply(ctx context.Context, x *executor) error {
	_, err := x.c.write(ctx, "sys/auth/"+o.Path+"/tune", map[string]any{"description": o.Description})
	return err
}

// recordRoles writes the mount option that lists ssoctl's roles. Tuning
// merges options: the mount's other options stay.
type recordRoles struct {
	Path string
	// Options are the mount options to set: owner's option, and those of
	// owners whose roles it takes.
	Options map[string]string
}

func (o recordRoles) apply(ctx context.Context, x *executor) error {
	_, err := x.c.write(ctx, "sys/auth/"+o.Path+"/tune", map[string]any{"options": o.Options})
	return err
}

// secretSource says where a mount's client secret comes from: the value of
// client_secret_env, or the Keycloak client of that id, read when the
// config is written (it may not exist before).
type secretSource struct {
	Value          string
	KeycloakClient string
}

// writeConfig writes a mount's whole config, with the client secret, after
// checking the discovery document once more (the realm may be new).
type writeConfig struct {
	Path         string
	Body         map[string]any
	DiscoveryURL string
	ClientID     string
	Secret       secretSource
}

func (o writeConfig) apply(ctx context.Context, x *executor) error {
	if x.o.CheckDiscovery != nil && o.DiscoveryURL != "" {
		if err := x.o.CheckDiscovery(ctx, o.DiscoveryURL); err != nil {
			return err
		}
	}
	body := maps.Clone(o.Body)
	if o.ClientID != "" {
		s := o.Secret.Value
		if o.Secret.KeycloakClient != "" {
			if x.o.ClientSecret == nil {
				return fmt.Errorf("vault.auth %q: the secret of Keycloak client %q is needed, but Keycloak is not connected", o.Path, o.Secret.KeycloakClient)
			}
			var err error
			if s, err = x.o.ClientSecret(ctx, o.Secret.KeycloakClient); err != nil {
				return err
			}
		}
		if s == "" {
			return &InputError{Msg: fmt.Sprintf("vault.auth %q: client %q has no secret (a public client?); Vault's OIDC flow needs a confidential client", o.Path, o.ClientID)}
		}
		body["oidc_client_secret"] = s
	}
	_, err := x.c.write(ctx, "auth/"+o.Path+"/config", body)
	var e *APIError
	if errors.As(err, &e) && e.Status == 400 && strings.Contains(strings.Join(e.Errors, " "), "error checking oidc discovery URL") {
		e.Hint = "Vault could not fetch " + o.DiscoveryURL + "/.well-known/openid-configuration, or its issuer differs from that URL; Vault logs the detail"
	}
	return err
}
