package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ssoctl/ssoctl/internal/browser"
	"github.com/ssoctl/ssoctl/keycloak"
)

// loginStatus reads the user's login status before any login (admin API
// reads only, so nothing counts toward brute-force detection) and sets up
// the run's one-time codes. It reports false when the user is locked: the
// lock is the finding, and no login is tried, as each would be refused
// with the words of a wrong password. A status that cannot be read is a
// warning, and the logins run as they would without it.
func (d *doc) loginStatus(ctx context.Context, user string) bool {
	st, err := d.sys.Keycloak.LoginStatus(ctx, d.t.Realm, user)
	if err != nil {
		d.add(Check{ID: "login.status", System: sysKeycloak, Status: Warn,
			Message: "the login status of " + user + " could not be read, so its one-time code, brute-force lock and login events are not checked", Evidence: keycloakMessage(err)})
		return true
	}
	d.status = st
	if l := st.Locked(d.sys.Now()); l != nil {
		d.locked(user, l)
		return false
	}
	switch {
	case st.OTP != nil && d.totpKey != nil:
		d.otp = &browser.OTP{Key: d.totpKey, Policy: *st.OTP, Window: st.Realm.OTPPolicyLookAheadWindow}
	case d.totpKey != nil:
		d.add(Check{ID: "login.otp", System: sysKeycloak, Status: Warn,
			Message: fmt.Sprintf("%s has no OTP credential in Keycloak, so $%s is not used (a login that asks for a code is the realm's flow asking a user without a device)", user, d.totpEnv)})
	}
	return true
}

// locked reports the user's brute-force lock: a failed login and its
// check, with when it ends and how to lift it.
func (d *doc) locked(user string, l *keycloak.Lockout) {
	msg := d.lockMessage(user, l)
	d.rep.Logins = append(d.rep.Logins, Login{Path: "keycloak", User: user, Step: "brute-force detection", Message: msg, check: len(d.rep.Checks)})
	fix := fmt.Sprintf("wait until then, or lift the lock: Users → %s → the Temporarily locked switch, or DELETE /admin/realms/%s/attack-detection/brute-force/users/%s", user, d.t.Realm, d.status.UserID)
	if l.Permanent {
		fix = fmt.Sprintf("enable the user again: Users → %s → Enabled (Keycloak disabled it for good: permanent lockout)", user)
	}
	evidence := fmt.Sprintf("%d failed logins", l.Failures)
	if !l.LastFailure.IsZero() {
		evidence += fmt.Sprintf(", the last at %s from %s", l.LastFailure.UTC().Format(time.RFC3339), l.LastIP)
	}
	d.add(Check{ID: "login.lockout", System: sysKeycloak, Status: Fail, Message: msg, Evidence: evidence, Fix: fix})
}

func (d *doc) lockMessage(user string, l *keycloak.Lockout) string {
	if l.Permanent {
		return fmt.Sprintf("Keycloak has disabled %s for good: locked by brute-force detection (permanent lockout) after %d failed logins; no login was tried", user, l.Failures)
	}
	left := l.Until.Sub(d.sys.Now()).Round(time.Second)
	return fmt.Sprintf("%s is locked by brute-force detection until %s (%s from now) after %d failed logins: Keycloak refuses every login until then with \"Invalid user credentials\", the words of a wrong password; no login was tried",
		user, l.Until.UTC().Format(time.RFC3339), left, l.Failures)
}

// lockedByRun checks, after a login Keycloak refused, whether that failure
// locked the user, and says so: the next logins (this run's or anyone's)
// are refused for that reason, not the password.
func (d *doc) lockedByRun(ctx context.Context, user string) {
	if d.refused == "" || d.status == nil {
		return
	}
	st, err := d.sys.Keycloak.LoginStatus(ctx, d.t.Realm, user)
	if err != nil {
		return
	}
	d.status = st
	if l := st.Locked(d.sys.Now()); l != nil {
		d.locked(user, l)
	}
}

// otpMissing is the words for a login that needs a one-time code doctor
// was not given.
func (d *doc) otpMissing(user string) string {
	env := d.totpEnv
	if env == "" {
		env = "VAR"
	}
	return fmt.Sprintf("Keycloak asks %s for a one-time code: pass --totp-secret-env %s (a variable holding %s's base32 OTP secret)", user, env, user)
}

// browser is a browser for one login, answering the one-time-code page
// with the run's codes. It never sets up an OTP device nor accepts terms
// for the user: those are the user's to do.
func (d *doc) browser() *browser.Browser {
	b := browser.Over(d.sys.HTTP)
	b.OTP = d.otp
	return b
}

// browserMessage words a browser login's failure, plainly for the pages
// doctor does not pass.
func (d *doc) browserMessage(user string, err error) string {
	switch {
	case errors.Is(err, browser.ErrOTPRequired):
		return d.otpMissing(user)
	case errors.Is(err, browser.ErrOTPSetup):
		return fmt.Sprintf("Keycloak asks %s to set up a one-time-code device (required action CONFIGURE_TOTP): doctor does not set one up for the user; log in once in a browser to do it, or create the user with totp_secret_env", user)
	case errors.Is(err, browser.ErrTerms):
		return fmt.Sprintf("Keycloak asks %s to accept the terms and conditions (required action TERMS_AND_CONDITIONS): doctor does not accept them for the user; log in once in a browser to do it", user)
	}
	return err.Error()
}

// loginEvents names, in each login's evidence, the LOGIN event Keycloak
// stored for the session it opened; when the realm stores no LOGIN events
// that is a warning, since the logins then leave no server-side trace.
func (d *doc) loginEvents(ctx context.Context, user string) {
	st := d.status
	if st == nil || !slices.ContainsFunc(d.rep.Logins, func(l Login) bool { return l.OK && len(l.sessions) > 0 }) {
		return
	}
	if !st.Realm.StoresEvent("LOGIN") {
		c := Check{ID: "login.events", System: sysKeycloak, Status: Warn,
			Message: fmt.Sprintf("realm %s stores no LOGIN events, so its login evidence has no server-side trace", d.t.Realm),
			Fix:     "Realm settings → Events → User events settings: Save events on, with LOGIN among the saved types"}
		if st.Realm.EventsEnabled {
			c.Evidence = "user events are on, but enabledEventTypes lacks LOGIN: " + strings.Join(st.Realm.EnabledEventTypes, ", ")
		} else {
			c.Evidence = "eventsEnabled is false"
			c.FixYAML = "keycloak:\n  settings:\n    events:\n      user_events: true\n"
		}
		d.add(c)
		return
	}
	evs, err := d.sys.Keycloak.Events(ctx, d.t.Realm, "LOGIN", st.UserID)
	if err != nil {
		d.add(Check{ID: "login.events", System: sysKeycloak, Status: Warn, Message: "the realm's LOGIN events could not be read", Evidence: keycloakMessage(err)})
		return
	}
	used := map[string]bool{}
	for i := range d.rep.Logins {
		l := &d.rep.Logins[i]
		if !l.OK || len(l.sessions) == 0 {
			continue
		}
		j := slices.IndexFunc(evs, func(e keycloak.Event) bool { return !used[e.ID] && slices.Contains(l.sessions, e.SessionID) })
		if j < 0 {
			d.add(Check{ID: "login.events", System: sysKeycloak, Status: Warn,
				Message:  fmt.Sprintf("%s as %s left no LOGIN event in realm %s, though the realm stores them", l.Path, user, d.t.Realm),
				Evidence: "session " + strings.Join(l.sessions, ", ")})
			continue
		}
		e := evs[j]
		used[e.ID] = true
		l.Evidence = fmt.Sprintf("Keycloak's LOGIN event %s at %s: client %s, session %s, from %s", e.ID, time.UnixMilli(e.Time).UTC().Format(time.RFC3339), e.ClientID, e.SessionID, e.IPAddress)
		if l.check < len(d.rep.Checks) {
			d.rep.Checks[l.check].Evidence = l.Evidence
		}
	}
}
