package keycloak

import "time"

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
