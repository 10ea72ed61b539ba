package doctor

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/vault"
)

// live is everything doctor read.
type live struct {
	// disc is the realm's discovery check (nil when it failed: discErr).
	disc    *inspect.DiscoveryReport
	discErr error
	// kcClock and vaultClock read the servers' clocks: the admin token's
	// iat for Keycloak (it sends no Date header), the Date header for Vault.
	kcClock, vaultClock clockReading
	client              *keycloak.ClientView
	state               *keycloak.State // the realm's roles and groups
	mounts              []*mount
	tokens              tokenModel
}

// clockReading is a server's time and this machine's at the same moment.
type clockReading struct {
	server, local time.Time
	source        string
}

// mount is one Vault mount as doctor understands it.
type mount struct {
	view  *vault.MountView
	cfg   *inspect.VaultConfig
	roles map[string]*inspect.VaultRole
	names []string // role names, sorted
}

func read(ctx context.Context, t Target, sys Systems) (*live, error) {
	l := &live{}
	issuer := strings.TrimRight(t.KeycloakURL, "/") + "/realms/" + t.Realm
	l.disc, l.discErr = inspect.CheckDiscovery(ctx, sys.HTTP, issuer)
	var err error
	if l.client, err = sys.Keycloak.ReadClient(ctx, t.Realm, t.Client); err != nil {
		return nil, err
	}
	if l.state, err = sys.Keycloak.ReadState(ctx, t.Realm, keycloak.ReadOptions{}); err != nil {
		return nil, err
	}
	if server, local, err := sys.Keycloak.Clock(ctx); err == nil {
		l.kcClock = clockReading{server: server, local: local, source: "the iat of its admin token"}
	}
	l.tokens = model(l.client)
	for _, m := range t.Mounts {
		if sys.Vault == nil {
			return nil, fmt.Errorf("mount %s: no Vault connection", m.Path)
		}
		v, err := sys.Vault.ReadMount(ctx, m.Path, m.Roles)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, &MissingError{What: fmt.Sprintf("auth mount %s/ on Vault %s", m.Path, sys.Vault.Addr())}
		}
		mt := &mount{view: v, roles: map[string]*inspect.VaultRole{}}
		if mt.cfg, err = inspect.VaultConfigFromServer(v.Config); err != nil {
			return nil, err
		}
		for name, raw := range v.Roles {
			r, err := inspect.VaultRoleFromServer(name, raw)
			if err != nil {
				return nil, fmt.Errorf("role %s/%s: %w", m.Path, name, err)
			}
			mt.roles[name] = r
			mt.names = append(mt.names, name)
		}
		for _, want := range m.Roles {
			if mt.roles[want] == nil {
				return nil, &MissingError{What: fmt.Sprintf("role %q on auth mount %s/", want, m.Path)}
			}
		}
		slices.Sort(mt.names)
		l.mounts = append(l.mounts, mt)
	}
	if sys.Vault != nil && len(t.Mounts) > 0 {
		if _, date, err := sys.Vault.Health(ctx); err == nil {
			if server, err := http.ParseTime(date); err == nil {
				l.vaultClock = clockReading{server: server, local: sys.Now(), source: "its Date header"}
			}
		}
	}
	return l, nil
}

// MissingError is an object doctor was told to check and cannot find: the
// caller's input (exit 2).
type MissingError struct{ What string }

func (e *MissingError) Error() string  { return e.What + " not found" }
func (e *MissingError) BadInput() bool { return true }

// claim is one claim a client's tokens can carry (keycloak's TokenClaim)
// at its JSON pointer, and which tokens.
type claim struct {
	pointer              string
	id, access, userinfo bool
	mapper, scope, kind  string
	roleClient           string            // client roles mappers: whose roles
	fullPath             bool              // group membership mappers
	mapperIndex          int               // index among the client's own mappers, -1 for a scope's
	config               map[string]string // the mapper's, for fixes
}

// tokenModel is what the client's own mappers and its default scopes put
// into the ID token, the access token and userinfo.
type tokenModel struct {
	claims []claim
	// idAud and accessAud are the audiences an audience mapper adds.
	idAud, accessAud []string
}

// model is keycloak's token model of the client, each claim at the JSON
// pointer Vault and the token checks read it by.
func model(v *keycloak.ClientView) tokenModel {
	km := v.Tokens()
	m := tokenModel{idAud: km.IDAud, accessAud: km.AccessAud}
	for _, c := range km.Claims {
		m.claims = append(m.claims, claim{pointer: inspect.KeycloakClaimPointer(c.Name).String(), id: c.ID, access: c.Access, userinfo: c.Userinfo,
			mapper: c.Mapper, scope: c.Scope, kind: c.Kind, roleClient: c.RoleClient, fullPath: c.FullPath, mapperIndex: c.Index, config: c.Config})
	}
	return m
}

// find returns the claims at pointer p.
func (m tokenModel) find(p string) []claim {
	var out []claim
	for _, c := range m.claims {
		if c.pointer == p {
			out = append(out, c)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
