package keycloak

import (
	"time"

	"github.com/Nerzal/gocloak/v13"
)

// AdvanceClock moves a's clock forward, so tests can expire its token.
func AdvanceClock(a *Admin, d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now
	a.now = func() time.Time { return now().Add(d) }
}

// Logins reports how many token requests (logins and refreshes) a made.
func Logins(a *Admin) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logins
}

func clientRep(attrs map[string]string) *gocloak.Client {
	f := false
	p := "openid-connect"
	return &gocloak.Client{Protocol: &p, PublicClient: &f, BearerOnly: &f, Attributes: &attrs}
}

func repOf(m Mapper) gocloak.ProtocolMapperRepresentation {
	return gocloak.ProtocolMapperRepresentation{Name: &m.Name, ProtocolMapper: &m.ProtocolMapper, Protocol: &m.Protocol, Config: &m.Config}
}
