package keycloak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/internal/totp"
)

// LoginStatus is what decides, before any login is tried, how a user's
// login will go: the user's OTP credential, its brute-force state, and the
// realm settings that shape both and the login's server-side trace. It is
// read with the admin API only (no login, so no failure is counted).
type LoginStatus struct {
	UserID          string
	Enabled         bool
	RequiredActions []string
	// DisabledReason is the user attribute Keycloak sets when it disables
	// a user for good (permanentLockout).
	DisabledReason string
	// OTP is the policy of the user's first OTP credential (its own
	// credentialData: Keycloak computes the codes from it), nil without one.
	OTP *totp.Policy
	// BruteForce is GET …/attack-detection/brute-force/users/{id}.
	BruteForce BruteForceStatus
	Realm      LoginSettings
}

// BruteForceStatus is Keycloak's record of a user's login failures
// (26.7.3 answers these fields; FailedLoginNotBefore is in seconds,
// LastFailure in milliseconds).
type BruteForceStatus struct {
	Disabled             bool   `json:"disabled"`
	NumFailures          int    `json:"numFailures"`
	NumTemporaryLockouts int    `json:"numTemporaryLockouts"`
	LastFailure          int64  `json:"lastFailure"`
	LastIPFailure        string `json:"lastIPFailure"`
	FailedLoginNotBefore int64  `json:"failedLoginNotBefore"`
}

// LoginSettings are the realm's brute-force, OTP and events settings as
// the realm GET names them.
type LoginSettings struct {
	BruteForceProtected          bool     `json:"bruteForceProtected"`
	PermanentLockout             bool     `json:"permanentLockout"`
	MaxTemporaryLockouts         int      `json:"maxTemporaryLockouts"`
	BruteForceStrategy           string   `json:"bruteForceStrategy"`
	FailureFactor                int      `json:"failureFactor"`
	WaitIncrementSeconds         int64    `json:"waitIncrementSeconds"`
	MaxFailureWaitSeconds        int64    `json:"maxFailureWaitSeconds"`
	MinimumQuickLoginWaitSeconds int64    `json:"minimumQuickLoginWaitSeconds"`
	QuickLoginCheckMilliSeconds  int64    `json:"quickLoginCheckMilliSeconds"`
	OTPPolicyLookAheadWindow     int      `json:"otpPolicyLookAheadWindow"`
	EventsEnabled                bool     `json:"eventsEnabled"`
	EnabledEventTypes            []string `json:"enabledEventTypes"`
}

// StoresEvent reports whether the realm stores user events of type t:
// events on, and t among enabledEventTypes (an empty list is every type).
func (s LoginSettings) StoresEvent(t string) bool {
	return s.EventsEnabled && (len(s.EnabledEventTypes) == 0 || slices.Contains(s.EnabledEventTypes, t))
}

// LoginStatus reads user's login status in realm: the user (by exact
// username), its credentials, its brute-force record and the realm.
func (a *Admin) LoginStatus(ctx context.Context, realm, username string) (*LoginStatus, error) {
	var users []gocloak.User
	if err := a.get(ctx, "/"+esc(realm)+"/users?exact=true&briefRepresentation=false&username="+url.QueryEscape(username), &users); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(users, func(u gocloak.User) bool { return strings.EqualFold(deref(u.Username), username) })
	if i < 0 {
		return nil, notFound("user %q in realm %q on %s", username, realm, a.base)
	}
	u := users[i]
	s := &LoginStatus{UserID: deref(u.ID), Enabled: deref(u.Enabled), RequiredActions: deref(u.RequiredActions)}
	if attrs := deref(u.Attributes); len(attrs["disabledReason"]) > 0 {
		s.DisabledReason = attrs["disabledReason"][0]
	}
	var creds []struct {
		Type           string `json:"type"`
		CredentialData string `json:"credentialData"`
	}
	if err := a.get(ctx, "/"+esc(realm)+"/users/"+esc(s.UserID)+"/credentials", &creds); err != nil {
		return nil, err
	}
	for _, c := range creds {
		if c.Type != "otp" {
			continue
		}
		var d struct {
			SubType   string `json:"subType"`
			Digits    int    `json:"digits"`
			Period    int    `json:"period"`
			Algorithm string `json:"algorithm"`
		}
		if err := json.Unmarshal([]byte(c.CredentialData), &d); err != nil {
			return nil, fmt.Errorf("user %s's OTP credential: %w", username, err)
		}
		if d.SubType == "totp" {
			s.OTP = &totp.Policy{Algorithm: d.Algorithm, Digits: d.Digits, Period: d.Period}
			break
		}
	}
	if err := a.get(ctx, "/"+esc(realm)+"/attack-detection/brute-force/users/"+esc(s.UserID), &s.BruteForce); err != nil {
		return nil, err
	}
	if err := a.get(ctx, "/"+esc(realm), &s.Realm); err != nil {
		return nil, err
	}
	return s, nil
}

// Lockout is a user that brute-force detection keeps from logging in.
type Lockout struct {
	// Permanent: Keycloak disabled the user (permanentLockout); an admin
	// must enable it again. Else Until is when logins are allowed again.
	Permanent bool
	Until     time.Time
	Failures  int
	// LastFailure and LastIP are the last failed login's.
	LastFailure time.Time
	LastIP      string
}

// Locked is the user's lockout at now, nil when it may log in. A
// temporary lock ends at failedLoginNotBefore, which Keycloak sets on the
// failure that locked (DefaultBruteForceProtector): the last failure plus
// the wait, WaitIncrement times numFailures/failureFactor (strategy
// MULTIPLE) or times 1+numFailures-failureFactor (LINEAR), at most
// MaxFailureWait; a quick failure (within QuickLoginCheck of the one
// before) that earns no wait waits MinimumQuickLoginWait. When the status
// has no failedLoginNotBefore (older servers) the time is computed so.
func (s *LoginStatus) Locked(now time.Time) *Lockout {
	r, bf := s.Realm, s.BruteForce
	if !r.BruteForceProtected {
		return nil
	}
	l := &Lockout{Failures: bf.NumFailures, LastIP: bf.LastIPFailure}
	if bf.LastFailure > 0 {
		l.LastFailure = time.UnixMilli(bf.LastFailure)
	}
	if !s.Enabled && s.DisabledReason == "permanentLockout" {
		l.Permanent = true
		return l
	}
	until := bf.FailedLoginNotBefore
	if until == 0 && bf.LastFailure > 0 {
		if wait := lockWait(r, bf.NumFailures); wait > 0 {
			until = bf.LastFailure/1000 + wait
		}
	}
	if until == 0 || now.Unix() >= until {
		return nil
	}
	l.Until = time.Unix(until, 0)
	return l
}

// lockWait is the wait in seconds Keycloak sets after the failure that
// brought the count to n (0 none), leaving out the quick-login wait,
// which depends on the failure before.
func lockWait(r LoginSettings, n int) int64 {
	if r.FailureFactor <= 0 || (r.PermanentLockout && r.MaxTemporaryLockouts == 0) {
		return 0
	}
	var wait int64
	if r.BruteForceStrategy == "LINEAR" {
		wait = r.WaitIncrementSeconds * int64(1+n-r.FailureFactor)
	} else {
		wait = r.WaitIncrementSeconds * int64(n/r.FailureFactor)
	}
	if wait <= 0 {
		return 0
	}
	if !r.PermanentLockout || r.MaxTemporaryLockouts > 0 {
		wait = min(wait, r.MaxFailureWaitSeconds)
	}
	return wait
}

// Event is one stored user event (GET …/events).
type Event struct {
	ID        string            `json:"id"`
	Time      int64             `json:"time"` // milliseconds
	Type      string            `json:"type"`
	ClientID  string            `json:"clientId"`
	UserID    string            `json:"userId"`
	SessionID string            `json:"sessionId"`
	IPAddress string            `json:"ipAddress"`
	Details   map[string]string `json:"details"`
}

// MaxEvents bounds one events read.
const MaxEvents = 200

// Events reads the realm's stored user events of type typ for userID,
// newest first, at most MaxEvents.
func (a *Admin) Events(ctx context.Context, realm, typ, userID string) ([]Event, error) {
	q := url.Values{"type": {typ}, "user": {userID}, "first": {"0"}, "max": {fmt.Sprint(MaxEvents)}}
	var evs []Event
	if err := a.get(ctx, "/"+esc(realm)+"/events?"+q.Encode(), &evs); err != nil {
		return nil, err
	}
	return evs, nil
}
