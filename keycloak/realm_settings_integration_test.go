//go:build integration

package keycloak_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// newSetHarness is newHarness with a realm named hset-… (this helper's
// prefix on the shared testbed).
func newSetHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.realm = fmt.Sprintf("hset-%s-%d", strings.ToLower(strings.TrimPrefix(t.Name(), "TestIntegration")), time.Now().UnixNano()%1e6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.env.DeleteRealm(ctx, h.realm); err != nil {
			t.Errorf("deleting realm %s: %v", h.realm, err)
		}
	})
	return h
}

// realmJSON reads the realm's representation, or one admin path below it.
func (h *harness) realmJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	var out map[string]any
	if err := h.env.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+h.realm+path, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (h *harness) requiredActions(t *testing.T) map[string]map[string]any {
	t.Helper()
	var list []map[string]any
	if err := h.env.KeycloakAdminRequest(context.Background(), http.MethodGet, "/"+h.realm+"/authentication/required-actions", nil, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, ra := range list {
		out[ra["alias"].(string)] = ra
	}
	return out
}

func parseKeycloak(t *testing.T, realm, yaml string) *spec.Keycloak {
	t.Helper()
	f, err := spec.Parse("sso.yaml", []byte(yaml), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f.Keycloak.Realm = realm
	return f.Keycloak
}

// reapplyWritesNothing plans and applies k again and fails on any write.
func (h *harness) reapplyWritesNothing(t *testing.T, ctx context.Context, k *spec.Keycloak, env ...func(string) string) {
	t.Helper()
	h.cnt.writes.Store(0)
	h.cnt.reads.Store(0)
	h.cnt.mu.Lock()
	h.cnt.writeTargets = nil
	h.cnt.mu.Unlock()
	getenv := getenv
	if len(env) > 0 {
		getenv = env[0]
	}
	p := applyWith(t, ctx, h.admin, k, getenv)
	if p.HasChanges() {
		var b strings.Builder
		p.WriteText(&b, plan.RenderOptions{})
		t.Errorf("second plan has changes:\n%s", b.String())
	}
	if n := h.cnt.writes.Load(); n != 0 {
		t.Errorf("second apply made %d writes (%v), want 0", n, h.cnt.writeTargets)
	}
}

func TestIntegrationRealmRequiredActionsOTPBruteForce(t *testing.T) {
	h := newSetHarness(t)
	ctx := context.Background()
	k := parseKeycloak(t, h.realm, `
keycloak:
  url: http://unused
  realm: x
  create_realm: true
  settings:
    brute_force: {enabled: true, permanent_lockout: false, max_failures: 5, wait_increment: 1m, max_wait: 15m,
                  failure_reset: 12h, quick_login_check: 2s, quick_login_wait: 2m, max_temporary_lockouts: 3}
    otp_policy: {type: totp, algorithm: HmacSHA256, digits: 8, period: 45, look_ahead_window: 2, code_reusable: true}
  required_actions:
    - {alias: CONFIGURE_TOTP, default: true}
    - {alias: TERMS_AND_CONDITIONS}
    - {alias: UPDATE_PASSWORD, config: {max_auth_age: "120"}}
    - {alias: VERIFY_PROFILE, enabled: false}
`)
	if _, err := h.apply(t, ctx, k, false); err != nil {
		t.Fatal(err)
	}
	r := h.realmJSON(t, "")
	want := map[string]any{"bruteForceProtected": true, "permanentLockout": false, "failureFactor": 5.0, "waitIncrementSeconds": 60.0,
		"maxFailureWaitSeconds": 900.0, "maxDeltaTimeSeconds": 43200.0, "quickLoginCheckMilliSeconds": 2000.0,
		"minimumQuickLoginWaitSeconds": 120.0, "maxTemporaryLockouts": 3.0,
		"otpPolicyType": "totp", "otpPolicyAlgorithm": "HmacSHA256", "otpPolicyDigits": 8.0, "otpPolicyPeriod": 45.0,
		"otpPolicyLookAheadWindow": 2.0, "otpPolicyCodeReusable": true}
	for f, v := range want {
		if r[f] != v {
			t.Errorf("realm %s = %v, want %v", f, r[f], v)
		}
	}
	ras := h.requiredActions(t)
	check := func(alias string, enabled, def bool) {
		ra := ras[alias]
		if ra == nil {
			t.Errorf("required action %s missing", alias)
			return
		}
		if ra["enabled"] != enabled || ra["defaultAction"] != def {
			t.Errorf("required action %s: enabled %v default %v, want %v %v", alias, ra["enabled"], ra["defaultAction"], enabled, def)
		}
	}
	check("CONFIGURE_TOTP", true, true)
	check("TERMS_AND_CONDITIONS", true, false)
	check("UPDATE_PASSWORD", true, false)
	check("VERIFY_PROFILE", false, false)
	check("UPDATE_PROFILE", true, false) // not listed: left alone
	if cfg, _ := ras["UPDATE_PASSWORD"]["config"].(map[string]any); cfg["max_auth_age"] != "120" {
		t.Errorf("UPDATE_PASSWORD config = %v, want max_auth_age 120", ras["UPDATE_PASSWORD"]["config"])
	}
	if ras["CONFIGURE_TOTP"]["name"] != "Configure OTP" || ras["CONFIGURE_TOTP"]["priority"] == 0.0 {
		t.Errorf("CONFIGURE_TOTP lost its name or priority: %v", ras["CONFIGURE_TOTP"])
	}
	h.reapplyWritesNothing(t, ctx, k)

	// The export's required actions are the listing's.
	bulk, err := h.admin.ReadState(ctx, h.realm, keycloak.ReadOptions{RequiredActions: true})
	if err != nil {
		t.Fatal(err)
	}
	each, err := h.admin.ReadState(ctx, h.realm, keycloak.ReadOptions{RequiredActions: true, PerObject: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(bulk.RequiredActions) < 14 || !reflect.DeepEqual(bulk.RequiredActions, each.RequiredActions) {
		t.Errorf("required actions from the export differ from the listing's:\n%v\n%v", bulk.RequiredActions, each.RequiredActions)
	}

	// An action deleted from the realm is registered again.
	if err := h.env.KeycloakAdminRequest(ctx, http.MethodDelete, "/"+h.realm+"/authentication/required-actions/TERMS_AND_CONDITIONS", nil, nil); err != nil {
		t.Fatal(err)
	}
	p, err := h.apply(t, ctx, k, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Summary(); s.Create != 1 {
		t.Errorf("after the deletion: %+v, want 1 create (the registration)", s)
	}
	check = func(alias string, enabled, def bool) {
		ra := h.requiredActions(t)[alias]
		if ra == nil || ra["enabled"] != enabled || ra["defaultAction"] != def {
			t.Errorf("required action %s = %v, want enabled %v default %v", alias, ra, enabled, def)
		}
	}
	check("TERMS_AND_CONDITIONS", true, false)
	h.reapplyWritesNothing(t, ctx, k)

	// An alias the server does not offer: an input error naming the key
	// and what the server has.
	k.RequiredActions = append(k.RequiredActions, spec.RequiredAction{Alias: "NO_SUCH_ACTION"})
	_, err = h.admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: getenv})
	var ie *keycloak.InputError
	if !errors.As(err, &ie) || ie.Key != "keycloak.required_actions[4].alias" || !strings.Contains(ie.Msg, "CONFIGURE_TOTP") {
		t.Fatalf("unknown alias: %v (%#v), want an InputError at keycloak.required_actions[4].alias listing the offered actions", err, ie)
	}
	t.Log(ie.Msg)
}

// recorder keeps the method, path and body of every write.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path string
	body         []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Body != nil && !strings.HasSuffix(req.URL.Path, "/token") {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, b})
		r.mu.Unlock()
	}
	return r.base.RoundTrip(req)
}

func (r *recorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// applyWith plans and applies k with getenv through admin a.
func applyWith(t *testing.T, ctx context.Context, a *keycloak.Admin, k *spec.Keycloak, getenv func(string) string) *plan.Plan {
	t.Helper()
	out, err := a.Plan(ctx, k, keycloak.PlanOptions{Getenv: getenv, ForApply: true})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if err := out.Plan.Execute(ctx, 8, nil); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return out.Plan
}

func TestIntegrationRealmSettingsExample(t *testing.T) {
	h := newSetHarness(t)
	ctx := context.Background()
	f := h.load(t, "../examples/realm.yaml")
	k := f.Keycloak
	k.Flows, k.Bindings, k.Users = nil, nil, nil // flows are proven in flows_integration_test.go, the TOTP user in cmd
	k.Settings.Attributes = map[string]string{"hset.named": "one"}
	// The realm exists with an attribute the file does not name.
	if err := h.env.KeycloakAdminRequest(ctx, http.MethodPost, "", map[string]any{"realm": h.realm, "enabled": true,
		"attributes": map[string]string{"hset.kept": "yes"}}, nil); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SMTP_PASSWORD": "smtp-Secret-1"}
	p := applyWith(t, ctx, h.admin, k, func(k string) string { return env[k] })
	var b strings.Builder
	p.WriteText(&b, plan.RenderOptions{})
	if strings.Contains(b.String(), "smtp-Secret-1") {
		t.Errorf("the plan shows the SMTP password:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "brute_force.max_failures: 30 -> 5") {
		t.Errorf("the plan does not show brute_force.max_failures: 30 -> 5:\n%s", b.String())
	}

	r := h.realmJSON(t, "")
	want := map[string]any{
		"displayName": "Staff", "registrationAllowed": false, "rememberMe": true, "resetPasswordAllowed": true, "verifyEmail": false,
		"loginWithEmailAllowed": true, "duplicateEmailsAllowed": false, "editUsernameAllowed": false,
		"accessTokenLifespan": 300.0, "ssoSessionIdleTimeout": 1800.0, "ssoSessionMaxLifespan": 36000.0,
		"offlineSessionIdleTimeout": 2592000.0, "accessCodeLifespan": 60.0,
		"passwordPolicy":      "length(12) and digits(1) and notUsername",
		"bruteForceProtected": true, "failureFactor": 5.0, "waitIncrementSeconds": 60.0, "maxFailureWaitSeconds": 900.0,
		"otpPolicyType": "totp", "otpPolicyAlgorithm": "HmacSHA1", "otpPolicyDigits": 6.0, "otpPolicyPeriod": 30.0,
		"loginTheme":    "keycloak.v2",
		"eventsEnabled": true, "adminEventsEnabled": true, "adminEventsDetailsEnabled": true, "eventsExpiration": 604800.0,
	}
	for field, v := range want {
		if r[field] != v {
			t.Errorf("realm %s = %v, want %v", field, r[field], v)
		}
	}
	types := strs(r["enabledEventTypes"])
	slices.Sort(types)
	if !slices.Equal(types, []string{"LOGIN", "LOGIN_ERROR", "LOGOUT"}) {
		t.Errorf("enabledEventTypes = %v", types)
	}
	smtp := r["smtpServer"].(map[string]any)
	for k, v := range map[string]any{"host": "mail.example.com", "port": "587", "from": "sso@example.com", "starttls": "true", "ssl": "false",
		"auth": "true", "user": "sso", "password": "**********"} {
		if smtp[k] != v {
			t.Errorf("smtpServer.%s = %v, want %v", k, smtp[k], v)
		}
	}
	attrs := r["attributes"].(map[string]any)
	for _, k := range []string{"hset.kept", "hset.named", keycloak.OwnershipAttribute, keycloak.SMTPFingerprintAttribute} {
		if attrs[k] == nil || attrs[k] == "" {
			t.Errorf("attribute %s missing after apply: %v", k, attrs)
		}
	}
	ras := h.requiredActions(t)
	if ras["CONFIGURE_TOTP"]["defaultAction"] != true || ras["TERMS_AND_CONDITIONS"]["enabled"] != true {
		t.Errorf("required actions: %v %v", ras["CONFIGURE_TOTP"], ras["TERMS_AND_CONDITIONS"])
	}
	ev := h.realmJSON(t, "/events/config")
	if ev["eventsEnabled"] != true || ev["adminEventsEnabled"] != true {
		t.Errorf("events config = %v", ev)
	}

	// A re-apply writes nothing, and a plan of the same realm without the
	// settings and required actions reads as much.
	h.cnt.writes.Store(0)
	h.cnt.reads.Store(0)
	applyWith(t, ctx, h.admin, k, func(k string) string { return env[k] })
	if n := h.cnt.writes.Load(); n != 0 {
		t.Errorf("re-apply made %d writes: %v", n, h.cnt.writeTargets)
	}
	with := h.cnt.reads.Load()
	bare := *k
	bare.Settings, bare.RequiredActions = nil, nil
	h.cnt.reads.Store(0)
	mustPlan(t, ctx, h.admin, &bare, keycloak.PlanOptions{})
	without := h.cnt.reads.Load()
	t.Logf("no-op plan: %d requests with settings and required actions, %d without", with, without)
	if with-without > 4 {
		t.Errorf("settings and required actions cost %d more requests, want at most 4", with-without)
	}

	// A named attribute changed: the others, ssoctl.owned among them, stay.
	k.Settings.Attributes["hset.named"] = "two"
	applyWith(t, ctx, h.admin, k, func(k string) string { return env[k] })
	attrs = h.realmJSON(t, "")["attributes"].(map[string]any)
	if attrs["hset.named"] != "two" || attrs["hset.kept"] != "yes" || attrs[keycloak.OwnershipAttribute] == nil || attrs[keycloak.SMTPFingerprintAttribute] == nil {
		t.Errorf("attributes after changing one: %v", attrs)
	}
}

// fakeSMTP accepts mail on loopback and records the passwords it is
// given (AUTH PLAIN or LOGIN).
type fakeSMTP struct {
	ln        net.Listener
	mu        sync.Mutex
	passwords []string
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSMTP{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *fakeSMTP) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	rd := bufio.NewReader(c)
	say := func(l string) { fmt.Fprintf(c, "%s\r\n", l) }
	line := func() string { l, _ := rd.ReadString('\n'); return strings.TrimRight(l, "\r\n") }
	record := func(b64 string) {
		raw, _ := base64.StdEncoding.DecodeString(b64)
		s.mu.Lock()
		s.passwords = append(s.passwords, string(raw))
		s.mu.Unlock()
	}
	say("220 fake ESMTP")
	for {
		l := line()
		cmd := strings.ToUpper(l)
		switch {
		case l == "" && cmd == "":
			return
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-fake")
			say("250 AUTH PLAIN LOGIN")
		case strings.HasPrefix(cmd, "AUTH PLAIN"):
			arg := strings.TrimSpace(l[len("AUTH PLAIN"):])
			if arg == "" {
				say("334 ")
				arg = line()
			}
			raw, _ := base64.StdEncoding.DecodeString(arg)
			parts := strings.Split(string(raw), "\x00")
			s.mu.Lock()
			s.passwords = append(s.passwords, parts[len(parts)-1])
			s.mu.Unlock()
			say("235 ok")
		case strings.HasPrefix(cmd, "AUTH LOGIN"):
			say("334 VXNlcm5hbWU6")
			_ = line()
			say("334 UGFzc3dvcmQ6")
			record(line())
			say("235 ok")
		case cmd == "DATA":
			say("354 go on")
			for l, err := rd.ReadString('\n'); err == nil && strings.TrimRight(l, "\r\n") != "."; l, err = rd.ReadString('\n') {
			}
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *fakeSMTP) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.passwords) == 0 {
		return ""
	}
	return s.passwords[len(s.passwords)-1]
}

// sendMail makes the realm send a mail (execute-actions-email to user id)
// and returns the password its SMTP server was given.
func (h *harness) sendMail(t *testing.T, s *fakeSMTP, id string) string {
	t.Helper()
	if err := h.env.KeycloakAdminRequest(context.Background(), http.MethodPut, "/"+h.realm+"/users/"+id+"/execute-actions-email", []string{"UPDATE_PASSWORD"}, nil); err != nil {
		t.Fatalf("sending a mail: %v", err)
	}
	return s.last()
}

func TestIntegrationRealmSMTPPasswordNotResent(t *testing.T) {
	h := newSetHarness(t)
	rec := &recorder{base: h.cnt}
	h.hc.Transport = rec
	ctx := context.Background()
	smtpd := newFakeSMTP(t)
	k := parseKeycloak(t, h.realm, fmt.Sprintf(`
keycloak:
  url: http://unused
  realm: x
  create_realm: true
  settings:
    smtp: {host: 127.0.0.1, port: %d, from: sso@example.com, from_display_name: SSO, user: sso, password_env: SMTP_PASSWORD}
  users:
    - {username: mailme, email: mailme@example.com}
`, smtpd.port()))
	env := map[string]string{"SMTP_PASSWORD": "first-Secret-1"}
	getenv := func(k string) string { return env[k] }
	applyWith(t, ctx, h.admin, k, getenv)
	sent := rec.take()
	if !slices.ContainsFunc(sent, func(r recorded) bool { return bytes.Contains(r.body, []byte("first-Secret-1")) }) {
		t.Fatalf("the first apply did not send the password")
	}
	var users []map[string]any
	if err := h.env.KeycloakAdminRequest(ctx, http.MethodGet, "/"+h.realm+"/users?username=mailme&exact=true", nil, &users); err != nil || len(users) != 1 {
		t.Fatalf("user: %v %v", users, err)
	}
	id := users[0]["id"].(string)
	if got := h.sendMail(t, smtpd, id); got != "first-Secret-1" {
		t.Fatalf("the SMTP server got password %q, want the one applied", got)
	}

	// Re-apply: nothing is written, so nothing is sent.
	h.reapplyWritesNothing(t, ctx, k, getenv)
	for _, r := range rec.take() {
		if bytes.Contains(r.body, []byte("first-Secret-1")) {
			t.Errorf("a re-apply sent the SMTP password: %s %s", r.method, r.path)
		}
	}

	// Another SMTP field changes: the PUT carries the mask, and Keycloak
	// keeps the stored password.
	k.Settings.SMTP.FromDisplayName = "Single sign-on"
	applyWith(t, ctx, h.admin, k, getenv)
	puts := 0
	for _, r := range rec.take() {
		if bytes.Contains(r.body, []byte("first-Secret-1")) {
			t.Errorf("changing from_display_name sent the SMTP password: %s %s", r.method, r.path)
		}
		if r.method == http.MethodPut && strings.HasSuffix(r.path, "/"+h.realm) {
			puts++
			var body struct {
				SMTP map[string]string `json:"smtpServer"`
				Attr map[string]string `json:"attributes"`
			}
			_ = json.Unmarshal(r.body, &body)
			if body.SMTP["password"] != "**********" || body.SMTP["fromDisplayName"] != "Single sign-on" || body.Attr != nil {
				t.Errorf("realm PUT = %s, want the mask as password, the new display name, no attributes", r.body)
			}
		}
	}
	if puts != 1 {
		t.Errorf("%d realm PUTs, want 1", puts)
	}
	if got := h.sendMail(t, smtpd, id); got != "first-Secret-1" {
		t.Errorf("after a PUT with the mask the SMTP server got %q, want the stored password kept", got)
	}

	// The password changes: it is sent, once.
	env["SMTP_PASSWORD"] = "second-Secret-2"
	p := applyWith(t, ctx, h.admin, k, getenv)
	var b strings.Builder
	p.WriteText(&b, plan.RenderOptions{})
	if strings.Contains(b.String(), "second-Secret-2") || !strings.Contains(b.String(), "smtp.password") {
		t.Errorf("plan of a new SMTP password:\n%s", b.String())
	}
	if got := h.sendMail(t, smtpd, id); got != "second-Secret-2" {
		t.Errorf("after the change the SMTP server got %q", got)
	}
	rec.take()
	h.reapplyWritesNothing(t, ctx, k, getenv)

	// Missing at plan: a warning; at apply: an error.
	out, err := h.admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: func(string) string { return "" }})
	if err != nil || !slices.ContainsFunc(out.Plan.Warnings, func(w string) bool { return strings.Contains(w, "SMTP_PASSWORD") }) {
		t.Errorf("plan without the password: %v, warnings %v", err, out.Plan.Warnings)
	}
	_, err = h.admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: func(string) string { return "" }, ForApply: true})
	var ms *plan.MissingSecretError
	if !errors.As(err, &ms) {
		t.Errorf("apply without the password: %v, want a MissingSecretError", err)
	}
}

func TestIntegrationRealmWeakPasswordRefusedAtPlan(t *testing.T) {
	h := newSetHarness(t)
	ctx := context.Background()
	k := parseKeycloak(t, h.realm, `
keycloak:
  url: http://unused
  realm: x
  create_realm: true
  settings:
    password_policy: "length(12) and digits(1) and notUsername"
  users:
    - {username: weak, password_env: WEAK_PASSWORD}
`)
	getenv := func(string) string { return "short-pw1" }
	h.cnt.writes.Store(0)
	_, err := h.admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: getenv, ForApply: true})
	var ie *keycloak.InputError
	if !errors.As(err, &ie) || ie.Key != "keycloak.users[0].password_env" || !strings.Contains(ie.Msg, "Invalid password: minimum length 12.") {
		t.Fatalf("plan = %v, want an InputError at keycloak.users[0].password_env with Keycloak's words", err)
	}
	if n := h.cnt.writes.Load(); n != 0 {
		t.Errorf("planning wrote %d times", n)
	}
	t.Log(ie.Msg)
	// The realm's own policy counts when the file sets none.
	if err := h.env.KeycloakAdminRequest(ctx, http.MethodPost, "", map[string]any{"realm": h.realm, "enabled": true, "passwordPolicy": "upperCase(2)"}, nil); err != nil {
		t.Fatal(err)
	}
	k.Settings = nil
	_, err = h.admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: getenv, ForApply: true})
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "Invalid password: must contain at least 2 upper case characters.") {
		t.Errorf("plan under the realm's policy = %v", err)
	}
	// A policy the server lacks names the line's key and what it offers.
	k.Settings = &spec.RealmSettings{PasswordPolicy: ptrTo("length(12) and lenght(3)")}
	_, err = h.admin.Plan(ctx, k, keycloak.PlanOptions{Getenv: getenv})
	if !errors.As(err, &ie) || ie.Key != "keycloak.settings.password_policy" || !strings.Contains(ie.Msg, "notUsername") {
		t.Errorf("unknown policy = %v", err)
	}
	t.Log(ie.Msg)
}

func ptrTo[T any](v T) *T { return &v }

// TestIntegrationPasswordWordsMatchKeycloak sets each password on a real
// user under a policy of every built-in check, and compares Keycloak's
// answer with PasswordRefusal's.
func TestIntegrationPasswordWordsMatchKeycloak(t *testing.T) {
	h := newSetHarness(t)
	ctx := context.Background()
	policy := "length(6) and maxLength(12) and digits(2) and lowerCase(1) and upperCase(2) and specialChars(1) and notUsername and notEmail and notContainsUsername and regexPattern([^x]*)"
	if err := h.env.KeycloakAdminRequest(ctx, http.MethodPost, "", map[string]any{"realm": h.realm, "enabled": true, "passwordPolicy": policy}, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.env.KeycloakAdminRequest(ctx, http.MethodPost, "/"+h.realm+"/users", map[string]any{"username": "bob", "email": "b@example.com", "enabled": true}, nil); err != nil {
		t.Fatal(err)
	}
	var users []map[string]any
	if err := h.env.KeycloakAdminRequest(ctx, http.MethodGet, "/"+h.realm+"/users?username=bob&exact=true", nil, &users); err != nil {
		t.Fatal(err)
	}
	id := users[0]["id"].(string)
	for _, pw := range []string{"a", "bob", "BOB", "xbobx", "b@example.com", "zzzzzzzzzzzzzzzz", "abcdefgh", "abCDefgh", "abCD12gh", "abCD12g!",
		"abCD12g!x", "😀😀AB12a", "aé AB12", "ABCDEF12!", "abcdef12!", "ab CD 12"} {
		var got string
		err := h.env.KeycloakAdminRequest(ctx, http.MethodPut, "/"+h.realm+"/users/"+id+"/reset-password", map[string]any{"type": "password", "value": pw, "temporary": false}, nil)
		if err != nil {
			got = err.Error()
		}
		ours := keycloak.PasswordRefusal(policy, "bob", "b@example.com", pw)
		switch {
		case ours == "" && err != nil:
			t.Errorf("%q: Keycloak refused it (%s); ssoctl did not", pw, got)
		case ours != "" && err == nil:
			t.Errorf("%q: ssoctl refuses it (%s); Keycloak took it", pw, ours)
		case ours != "" && !strings.Contains(got, ours):
			t.Errorf("%q: Keycloak said %s; ssoctl says %s", pw, got, ours)
		}
	}
}

func TestIntegrationRealmSettingsExportRoundTrip(t *testing.T) {
	src := newSetHarness(t)
	ctx := context.Background()
	f := src.load(t, "../examples/realm.yaml")
	k := f.Keycloak
	k.Flows, k.Bindings, k.Users = nil, nil, nil
	k.Settings.Tokens.SSOSessionIdle = ptrTo("1h")
	k.Settings.Tokens.OfflineSessionMax = ptrTo("90d")
	k.Settings.BruteForce.QuickLoginCheck = ptrTo("3s")
	k.Settings.OTPPolicy.Digits = ptrTo(8)
	k.Settings.Attributes = map[string]string{"hset.exported": "yes"}
	k.RequiredActions = append(k.RequiredActions, spec.RequiredAction{Alias: "UPDATE_PROFILE", Enabled: ptrTo(false)},
		spec.RequiredAction{Alias: "UPDATE_PASSWORD", Config: map[string]string{"max_auth_age": "120"}})
	env := map[string]string{"SMTP_PASSWORD": "smtp-Secret-1"}
	getenv := func(k string) string { return env[k] }
	applyWith(t, ctx, src.admin, k, getenv)
	exported, err := src.admin.Export(ctx, src.realm, nil)
	if err != nil {
		t.Fatal(err)
	}
	text, err := spec.Marshal(&spec.File{Keycloak: exported})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sso_session_idle: 1h", "offline_session_max: 90d", "quick_login_check: 3s", "digits: 8", "max_failures: 5",
		"password_policy: length(12) and digits(1) and notUsername", "password_env: SMTP_PASSWORD", "login: keycloak.v2", "expiration: 7d",
		"hset.exported: \"yes\"", "alias: CONFIGURE_TOTP", "alias: UPDATE_PROFILE", "max_auth_age: \"120\""} {
		if !strings.Contains(string(text), want) {
			t.Errorf("export lacks %q", want)
		}
	}
	for _, unwanted := range []string{"ssoctl.", "access_token_lifespan", "VERIFY_EMAIL", "otp_policy:\n      type"} {
		if strings.Contains(string(text), unwanted) {
			t.Errorf("export has %q (a default, or ssoctl's own)", unwanted)
		}
	}
	reparsed, err := spec.Parse("export.yaml", text, func(string) string { return src.env.KeycloakURL })
	if err != nil {
		t.Fatalf("export does not load: %v\n%s", err, text)
	}
	dst := newSetHarness(t)
	reparsed.Keycloak.Realm = dst.realm
	reparsed.Keycloak.CreateRealm = true
	applyWith(t, ctx, dst.admin, reparsed.Keycloak, getenv)
	again, err := dst.admin.Export(ctx, dst.realm, nil)
	if err != nil {
		t.Fatal(err)
	}
	again.Realm = src.realm
	text2, _ := spec.Marshal(&spec.File{Keycloak: again})
	if string(text) != string(text2) {
		t.Fatalf("round trip differs:\n--- source\n%s\n--- copy\n%s", text, text2)
	}
	dst.reapplyWritesNothing(t, ctx, reparsed.Keycloak, getenv)
}
