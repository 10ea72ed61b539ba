package keycloak

import (
	"testing"
	"time"
)

func TestLockedAsKeycloakComputesIt(t *testing.T) {
	realm := LoginSettings{BruteForceProtected: true, FailureFactor: 3, WaitIncrementSeconds: 60, MaxFailureWaitSeconds: 900,
		MinimumQuickLoginWaitSeconds: 60, QuickLoginCheckMilliSeconds: 1000, BruteForceStrategy: "MULTIPLE"}
	last := int64(1796686117554) // measured: 3 failures, failedLoginNotBefore 1796686177
	now := time.UnixMilli(last).Add(time.Second)
	cases := []struct {
		name  string
		edit  func(*LoginStatus)
		until int64 // 0: not locked
		perm  bool
	}{
		{"as measured", func(s *LoginStatus) { s.BruteForce.FailedLoginNotBefore = 1796686177 }, 1796686177, false},
		{"computed: 3 failures of 3", func(s *LoginStatus) {}, 1796686177, false},
		{"computed: 2 failures of 3", func(s *LoginStatus) { s.BruteForce.NumFailures = 2 }, 0, false},
		{"computed: 7 failures wait 2×60", func(s *LoginStatus) { s.BruteForce.NumFailures = 7 }, last/1000 + 120, false},
		{"computed: capped at max wait", func(s *LoginStatus) { s.BruteForce.NumFailures = 300 }, last/1000 + 900, false},
		{"linear: 4 failures of 3 wait 2×60", func(s *LoginStatus) { s.Realm.BruteForceStrategy = "LINEAR"; s.BruteForce.NumFailures = 4 }, last/1000 + 120, false},
		{"over", func(s *LoginStatus) { s.BruteForce.FailedLoginNotBefore = now.Unix() }, 0, false},
		{"detection off", func(s *LoginStatus) { s.Realm.BruteForceProtected = false }, 0, false},
		{"permanent", func(s *LoginStatus) { s.Enabled = false; s.DisabledReason = "permanentLockout" }, 0, true},
		{"permanent lockout without temporary ones waits for no time", func(s *LoginStatus) { s.Realm.PermanentLockout = true }, 0, false},
	}
	for _, c := range cases {
		s := &LoginStatus{Enabled: true, Realm: realm, BruteForce: BruteForceStatus{NumFailures: 3, LastFailure: last, LastIPFailure: "127.0.0.1"}}
		c.edit(s)
		l := s.Locked(now)
		switch {
		case c.until == 0 && !c.perm:
			if l != nil {
				t.Errorf("%s: locked %+v", c.name, l)
			}
		case l == nil:
			t.Errorf("%s: not locked", c.name)
		case l.Permanent != c.perm || (!c.perm && l.Until.Unix() != c.until):
			t.Errorf("%s: %+v, want until %d permanent %v", c.name, l, c.until, c.perm)
		}
	}
}

func TestStoresEvent(t *testing.T) {
	for _, c := range []struct {
		s    LoginSettings
		want bool
	}{{LoginSettings{}, false}, {LoginSettings{EventsEnabled: true}, true},
		{LoginSettings{EventsEnabled: true, EnabledEventTypes: []string{"LOGOUT"}}, false},
		{LoginSettings{EventsEnabled: true, EnabledEventTypes: []string{"LOGOUT", "LOGIN"}}, true}} {
		if got := c.s.StoresEvent("LOGIN"); got != c.want {
			t.Errorf("%+v: %v", c.s, got)
		}
	}
}
