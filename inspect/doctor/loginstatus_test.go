package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/totp"
)

// addLoginStatus stubs what doctor reads of alice's login status before
// its logins: the user, its credentials (otp: an OTP credential's data
// as Keycloak 26.7.3 lists it, "" none) and its brute-force record (a
// clean one); the realm GET is keycloakRoutes'.
func addLoginStatus(r map[string]stubReply, otp string) {
	r["GET /admin/realms/demo/users"] = stubReply{Body: `[{"id":"u-alice","username":"alice","enabled":true,"totp":` + fmt.Sprint(otp != "") + `,"requiredActions":[],"attributes":{}}]`}
	creds := `[{"id":"c1","type":"password","createdDate":1796685946461,"credentialData":"{\"hashIterations\":5,\"algorithm\":\"argon2\"}"}`
	if otp != "" {
		creds += `,{"id":"c2","type":"otp","userLabel":"ssoctl","createdDate":1796685946470,"credentialData":` + fmt.Sprintf("%q", otp) + `}`
	}
	r["GET /admin/realms/demo/users/u-alice/credentials"] = stubReply{Body: creds + "]"}
	if _, ok := r["GET /admin/realms/demo/attack-detection/brute-force/users/u-alice"]; !ok {
		r["GET /admin/realms/demo/attack-detection/brute-force/users/u-alice"] = stubReply{Body: `{"numFailures":0,"disabled":false,"lastIPFailure":"n/a","lastFailure":0}`}
	}
}

// A user with an OTP credential: without a secret the password grant is
// not sent (it would count a failure) and says what to pass; with one the
// grant carries the code, computed under the credential's own policy.
func TestRunPasswordGrantWithOTP(t *testing.T) {
	key := []byte("12345678901234567890")
	policy := `{"subType":"totp","digits":8,"counter":0,"period":45,"algorithm":"HmacSHA256"}`
	for _, withKey := range []bool{false, true} {
		s := newStubServers(t, func(base string) map[string]stubReply {
			r := keycloakRoutes(base)
			r["GET /admin/realms/demo/clients/u1/client-secret"] = stubReply{Body: `{"type":"secret","value":"vault-secret"}`}
			addLoginStatus(r, policy)
			if withKey {
				r[stubDemoToken] = stubReply{Status: 401, Body: `{"error":"invalid_grant","error_description":"Invalid user credentials"}`}
				r["GET /admin/realms/demo/attack-detection/brute-force/users/u-alice"] = stubReply{Body: `{"numFailures":1,"disabled":false,"lastIPFailure":"127.0.0.1","lastFailure":1796686117554}`}
			}
			return r
		}, nil)
		o := Options{User: "alice", Password: "alice-pw", TOTPEnv: "ALICE_TOTP"}
		if withKey {
			o.TOTPKey = key
		}
		rep, err := Run(context.Background(), Target{KeycloakURL: s.kc.URL(), Realm: "demo", Client: "vault"}, s.sys, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Logins) != 1 || rep.Logins[0].OK {
			t.Fatalf("logins %+v", rep.Logins)
		}
		msg := rep.Logins[0].Message
		if !withKey {
			if msg != "Keycloak asks alice for a one-time code: pass --totp-secret-env ALICE_TOTP (a variable holding alice's base32 OTP secret); the grant was not sent, as Keycloak would count it a failed login" {
				t.Errorf("message %q", msg)
			}
			continue
		}
		grant := string(s.kc.Body(stubDemoToken))
		now := time.Now()
		var codes []string
		for _, d := range []time.Duration{-45 * time.Second, 0, 45 * time.Second} {
			c, _ := totp.Code(key, now.Add(d), totp.Policy{Algorithm: "HmacSHA256", Digits: 8, Period: 45})
			codes = append(codes, "totp="+c)
		}
		if !slices.ContainsFunc(codes, func(c string) bool { return strings.Contains(grant, c) }) {
			t.Errorf("grant %q carries none of %v", grant, codes)
		}
		if !strings.Contains(msg, "a wrong one-time code alike: check that $ALICE_TOTP holds alice's secret") {
			t.Errorf("message %q", msg)
		}
	}
}

// A locked user is the finding, with when the lock ends; no login is sent.
func TestRunLockedUser(t *testing.T) {
	now := time.Unix(1796686120, 0)
	s := newStubServers(t, func(base string) map[string]stubReply {
		r := keycloakRoutes(base)
		r["GET /admin/realms/demo"] = stubReply{Body: `{"id":"demo","realm":"demo","enabled":true,"attributes":{},"bruteForceProtected":true,"failureFactor":3,"waitIncrementSeconds":60,"maxFailureWaitSeconds":900,"bruteForceStrategy":"MULTIPLE"}`}
		r["GET /admin/realms/demo/attack-detection/brute-force/users/u-alice"] = stubReply{Body: `{"numFailures":3,"disabled":true,"lastIPFailure":"127.0.0.1","lastFailure":1796686117554,"failedLoginNotBefore":1796686177,"numTemporaryLockouts":1}`}
		addLoginStatus(r, "")
		return r
	}, nil)
	s.sys.Now = func() time.Time { return now }
	rep, err := Run(context.Background(), Target{KeycloakURL: s.kc.URL(), Realm: "demo", Client: "vault"}, s.sys, Options{User: "alice", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	c := checkOf(rep.Checks, "login.lockout")
	if c == nil || c.Status != Fail || !strings.HasPrefix(c.Message, "alice is locked by brute-force detection until 2026-12-07T23:29:37Z (57s from now) after 3 failed logins") ||
		!strings.Contains(c.Fix, "attack-detection/brute-force/users/u-alice") || !strings.Contains(c.Evidence, "from 127.0.0.1") {
		t.Errorf("lockout check %+v", c)
	}
	if len(rep.Logins) != 1 || rep.Logins[0].Step != "brute-force detection" || c == nil || rep.Logins[0].Message != c.Message {
		t.Errorf("logins %+v", rep.Logins)
	}
}
