package doctor

import (
	"maps"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates/django"
)

// FileTargets is what doctor checks for a file (-f): one target per client
// that something trusts, in the file's order. A client is trusted by the
// Vault mounts that name it (client_id) or bind its audience, by its Django
// sites, and, when nothing else names a client, by the Rancher SAML login
// (else the file's first client). The Rancher login goes with the first
// target. A mount whose discovery_url is another realm's is not the file's
// to check, and of a mount only the file's roles are checked.
func FileTargets(f *spec.File) ([]Target, error) {
	k, _, err := django.KeycloakWithNeeds(f)
	if err != nil {
		return nil, err
	}
	ts := &targetSet{base: Target{KeycloakURL: k.URL, Realm: k.Realm}, byClient: map[string]*Target{}}
	if f.Vault != nil {
		ts.addMounts(f.Vault, k)
	}
	if f.Django != nil {
		for _, s := range f.Django.Sites {
			if lib := django.Libraries[s.Library]; lib != nil && lib.Refusal == "" {
				t := ts.target(s.Client)
				t.Sites = append(t.Sites, s)
			}
		}
	}
	if len(ts.order) == 0 {
		switch {
		case f.Rancher != nil:
			ts.target(f.Rancher.SAMLClient)
		case len(k.Clients) > 0:
			ts.target(k.Clients[0].ClientID)
		default:
			return nil, &NothingToCheckError{File: f.Path}
		}
	}
	if f.Rancher != nil {
		ts.byClient[ts.order[0]].Rancher = f.Rancher
	}
	var out []Target
	for _, c := range ts.order {
		out = append(out, *ts.byClient[c])
	}
	return out, nil
}

// targetSet is the targets of a file by client, in the order the clients
// were first named.
type targetSet struct {
	base     Target
	byClient map[string]*Target
	order    []string
}

// target is client c's target, added when it is new.
func (ts *targetSet) target(c string) *Target {
	if t := ts.byClient[c]; t != nil {
		return t
	}
	t := ts.base
	t.Client = c
	ts.byClient[c] = &t
	ts.order = append(ts.order, c)
	return &t
}

// addMounts adds each of v's mounts that trusts realm k to the targets of
// the clients it names (client_id) or whose audience a role binds.
func (ts *targetSet) addMounts(v *spec.Vault, k *spec.Keycloak) {
	issuer := strings.TrimRight(k.URL, "/") + "/realms/" + k.Realm
	for _, a := range v.Auth {
		if a.DiscoveryURL != "" && strings.TrimRight(a.DiscoveryURL, "/") != issuer {
			continue // trusts another realm
		}
		clients := map[string]bool{}
		if a.ClientID != "" {
			clients[a.ClientID] = true
		}
		for _, r := range a.Roles {
			for _, aud := range r.BoundAudiences {
				if k.Client(aud) != nil {
					clients[aud] = true
				}
			}
		}
		// The file's roles: others on the mount are not the file's business.
		roles := slices.Sorted(maps.Keys(a.Roles))
		for _, c := range slices.Sorted(maps.Keys(clients)) {
			t := ts.target(c)
			t.Mounts = append(t.Mounts, Mount{Path: a.Path, Roles: roles})
		}
	}
}

// NothingToCheckError is a file that names no client Vault, a Django site
// or Rancher uses: the caller's input (exit 2).
type NothingToCheckError struct{ File string }

func (e *NothingToCheckError) Error() string {
	return e.File + " names no client that Vault, a Django site or Rancher uses; doctor has nothing to check"
}

// BadInput marks the error as the caller's input.
func (e *NothingToCheckError) BadInput() bool { return true }
