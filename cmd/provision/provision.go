// Package provision plans and applies a whole sso.yaml across the systems
// it names, in order: Keycloak first, then Vault. It hands each system what
// the earlier ones decided: the client secrets Keycloak holds (or is about
// to create), the realms this run creates (whose discovery documents do not
// exist yet), and the Keycloak facts that Vault's alias warnings need.
//
// It sits under cmd because it is orchestration, not a system: the domain
// packages keycloak and vault know nothing of each other.
package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates/django"
	"github.com/ssoctl/ssoctl/vault"
)

// Systems connect to the servers a file names. Each is called at most
// once, and only when the plan needs that system.
type Systems struct {
	Keycloak func(k *spec.Keycloak) (*keycloak.Admin, error)
	Vault    func(v *spec.Vault) (*vault.Conn, error)
	// CheckDiscovery fetches an OIDC discovery document and checks it as
	// Vault will; nil skips the check.
	CheckDiscovery func(ctx context.Context, url string) error
}

// The values of Options.Only.
const (
	OnlyKeycloak = "keycloak"
	OnlyVault    = "vault"
	// OnlyRancher plans the rancher: section's SAML client in Keycloak.
	OnlyRancher = "rancher"
)

// Options tune a plan.
type Options struct {
	// Only restricts the plan to one system ("" plans every section).
	Only string
	// ForApply makes missing secrets errors instead of warnings.
	ForApply bool
	// Concurrency bounds the requests in flight while reading (and is what
	// the caller should pass to Execute).
	Concurrency int
	Getenv      func(string) string
	// OnSecret is called with every secret read from a server (client
	// secrets), so the caller can mask it.
	OnSecret func(string)
}

// Plan reads every system the file (or Only) selects and returns one plan
// whose changes apply Keycloak before Vault.
func Plan(ctx context.Context, file *spec.File, sys Systems, o Options) (*plan.Plan, error) {
	p := &plan.Plan{}
	if o.Only == OnlyRancher && file.Rancher == nil {
		return nil, &inputError{fmt.Sprintf("%s: --only rancher needs a rancher: section", file.Path)}
	}
	if o.Only == OnlyRancher && (file.Keycloak == nil || file.Keycloak.Client(file.Rancher.SAMLClient) == nil) {
		return nil, &inputError{fmt.Sprintf("%s: rancher.saml_client %q is not a client of the keycloak: section", file.Path, file.Rancher.SAMLClient)}
	}
	var admin *keycloak.Admin
	needKeycloak := file.Keycloak != nil && (o.Only != OnlyVault || (file.Vault != nil && needsKeycloakSecret(file)))
	if needKeycloak {
		var err error
		if admin, err = sys.Keycloak(file.Keycloak); err != nil {
			return nil, err
		}
	}
	newClients := map[string]bool{}
	pendingIssuers := map[string]bool{}
	if file.Keycloak != nil && o.Only != OnlyVault {
		ko := keycloak.PlanOptions{Getenv: o.Getenv, ForApply: o.ForApply, Concurrency: o.Concurrency,
			Owner: file.Owner, AdoptFrom: file.AdoptFrom}
		if o.Only == OnlyRancher {
			ko.OnlyClients = []string{file.Rancher.SAMLClient}
		}
		// The Django sites' needs are part of their clients' desired state.
		k, needs, err := django.KeycloakWithNeeds(file)
		if err != nil {
			return nil, err
		}
		out, err := admin.Plan(ctx, k, ko)
		var ie *keycloak.InputError
		if errors.As(err, &ie) && ie.Key != "" {
			return nil, &spec.Error{File: file.Path, Line: file.Line(ie.Key), Key: ie.Key, Msg: ie.Msg}
		}
		if err != nil {
			return nil, err
		}
		annotate(out.Plan, k.Realm, needs)
		if out.RealmCreated {
			pendingIssuers[Issuer(file.Keycloak)] = true
		}
		newClients = out.NewClients
		p.Merge(out.Plan)
	}
	if file.Vault == nil || (o.Only != "" && o.Only != OnlyVault) {
		return p, nil
	}
	conn, err := sys.Vault(file.Vault)
	if err != nil {
		return nil, err
	}
	vo := vault.PlanOptions{Getenv: o.Getenv, NewSecrets: newClients, CheckDiscovery: sys.CheckDiscovery,
		PendingIssuers: pendingIssuers, ForApply: o.ForApply, Concurrency: o.Concurrency, KeycloakClients: map[string]bool{},
		Owner: file.Owner, AdoptFrom: file.AdoptFrom}
	if admin != nil {
		for _, c := range file.Keycloak.Clients {
			vo.KeycloakClients[c.ClientID] = true
		}
		realm := file.Keycloak.Realm
		vo.ClientSecret = func(ctx context.Context, clientID string) (string, error) {
			s, err := admin.ClientSecret(ctx, realm, clientID)
			if o.OnSecret != nil && s != "" {
				o.OnSecret(s)
			}
			return s, err
		}
	}
	vp, err := conn.Plan(ctx, file.Vault, vo)
	if err != nil {
		return nil, err
	}
	for _, w := range AliasWarnings(file.Vault, file.Keycloak) {
		vp.Warn("%s", w)
	}
	p.Merge(vp)
	return p, nil
}

// annotate notes on each Keycloak change that a Django site's need causes
// which site and library need it.
func annotate(p *plan.Plan, realm string, needs []django.Need) {
	for _, c := range p.Changes {
		if c.System != "keycloak" || c.Action == plan.NoOp {
			continue
		}
		var notes []string
		for _, n := range needs {
			if n.Kind == "mapper" && c.Kind == "mapper" && c.Name == realm+"/"+n.Client+"/"+n.Value ||
				n.Kind != "mapper" && c.Kind == "client" && c.Name == realm+"/"+n.Client && touches(c, n.Kind) {
				if !slices.Contains(notes, n.Note()) {
					notes = append(notes, n.Note())
				}
			}
		}
		c.Note = strings.Join(notes, "; ")
	}
}

// touches reports whether a client change writes the field a need is about
// (a client created in this run writes them all).
func touches(c *plan.Change, kind string) bool {
	field := map[string]string{"redirect-uri": "redirectUris", "post-logout-redirect-uri": "attributes." + keycloak.AttrPostLogoutRedirectURIs,
		"userinfo-unsigned": "attributes." + keycloak.AttrUserinfoSignatureAlg}[kind]
	return c.Action == plan.Create || slices.ContainsFunc(c.Fields, func(f plan.FieldDiff) bool { return f.Field == field })
}

// Issuer is the issuer URL of the keycloak section's realm.
func Issuer(k *spec.Keycloak) string {
	return strings.TrimRight(k.URL, "/") + "/realms/" + k.Realm
}

// needsKeycloakSecret reports whether a Vault mount reads its client
// secret from a client of the keycloak section.
func needsKeycloakSecret(file *spec.File) bool {
	for _, a := range file.Vault.Auth {
		if a.ClientID != "" && a.ClientSecretEnv == "" && file.Keycloak.Client(a.ClientID) != nil {
			return true
		}
	}
	return false
}

// inputError is a problem with the file that the CLI reports with exit 2.
type inputError struct{ msg string }

func (e *inputError) Error() string  { return e.msg }
func (e *inputError) BadInput() bool { return true }
