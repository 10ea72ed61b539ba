package keycloak

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// settingsState is an existing realm whose representation is a new
// realm's with the fields of overrides (JSON) replaced.
func settingsState(t *testing.T, overrides string) *State {
	t.Helper()
	st := emptyState("demo", true)
	st.RealmRep = maps.Clone(newRealmDefaults)
	if overrides != "" {
		var o map[string]json.RawMessage
		if err := json.Unmarshal([]byte(overrides), &o); err != nil {
			t.Fatal(err)
		}
		maps.Copy(st.RealmRep, o)
	}
	st.RequiredActions = requiredActionsByAlias(newRealmRequiredActions())
	return st
}

func fieldsOf(c *plan.Change) map[string]plan.FieldDiff {
	out := map[string]plan.FieldDiff{}
	for _, f := range c.Fields {
		out[f.Field] = f
	}
	return out
}

func TestDiffSettingsOneChangeOfNamedFields(t *testing.T) {
	d := desired(t, `  settings:
    display_name: Shop
    tokens: {sso_session_idle: 1h, access_token_lifespan: 5m, offline_session_max: 60d}
    brute_force: {enabled: true, quick_login_check: 2s}
    otp_policy: {digits: 8}
    events: {types: [LOGOUT, LOGIN]}
`)
	st := settingsState(t, `{"ssoSessionIdleTimeout":1800,"enabledEventTypes":["LOGIN","LOGOUT"]}`)
	p := mustDiff(t, d, st)
	c := find(t, p.Changes, "realm-settings", "settings")
	if c.Action != plan.Update {
		t.Fatalf("action %s", c.Action)
	}
	fs := fieldsOf(c)
	if f := fs["tokens.sso_session_idle"]; f.Old != "30m" || f.New != "1h" {
		t.Errorf("sso_session_idle: %v -> %v, want 30m -> 1h", f.Old, f.New)
	}
	if f := fs["brute_force.quick_login_check"]; f.Old != "1s" || f.New != "2s" {
		t.Errorf("quick_login_check: %v -> %v", f.Old, f.New)
	}
	for _, same := range []string{"tokens.access_token_lifespan", "events.types"} {
		if _, ok := fs[same]; ok {
			t.Errorf("%s is unchanged but planned", same)
		}
	}
	body := c.Op.(updateRealmSettings).Body
	want := map[string]any{"displayName": "Shop", "ssoSessionIdleTimeout": int64(3600),
		// 60d is the default: only the limit is turned on
		"offlineSessionMaxLifespanEnabled": true, "bruteForceProtected": true, "quickLoginCheckMilliSeconds": int64(2000),
		// the whole OTP policy: Keycloak ignores a part of it
		"otpPolicyDigits": int64(8), "otpPolicyType": "totp", "otpPolicyAlgorithm": "HmacSHA1", "otpPolicyPeriod": int64(30),
		"otpPolicyLookAheadWindow": int64(1), "otpPolicyInitialCounter": int64(0), "otpPolicyCodeReusable": false}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body = %v\nwant %v", body, want)
	}
	if _, ok := body["attributes"]; ok || c.Op.(updateRealmSettings).Attributes != nil {
		t.Error("attributes sent without settings.attributes")
	}
}

func TestDiffSettingsUnchangedIsNoOp(t *testing.T) {
	d := desired(t, `  settings:
    tokens: {sso_session_idle: 30m}
    password_policy: "length(12)  and digits"
    events: {types: [LOGIN, LOGOUT], listeners: [jboss-logging]}
    attributes: {frontendUrl: "https://sso.example.com"}
`)
	st := settingsState(t, `{"passwordPolicy":"length(12) and digits","enabledEventTypes":["LOGOUT","LOGIN"],
		"attributes":{"frontendUrl":"https://sso.example.com","ssoctl.owned":"{}"}}`)
	p := mustDiff(t, d, st)
	if c := find(t, p.Changes, "realm-settings", "settings"); c.Action != plan.NoOp {
		t.Errorf("plan %s %v, want no-op", c.Action, c.Fields)
	}
}

func TestDiffSettingsNamedAttributes(t *testing.T) {
	d := desired(t, `  settings:
    attributes: {frontendUrl: "https://sso.example.com"}
`)
	st := settingsState(t, `{"attributes":{"other":"kept","ssoctl.owned":"{}"}}`)
	c := find(t, mustDiff(t, d, st).Changes, "realm-settings", "settings")
	o := c.Op.(updateRealmSettings)
	if !maps.Equal(o.Attributes, map[string]string{"frontendUrl": "https://sso.example.com"}) || len(o.Body) != 0 {
		t.Errorf("op = %+v, want only the named attribute (merged at apply)", o)
	}
}

func TestDiffSettingsNewRealmAgainstDefaults(t *testing.T) {
	d := desired(t, `  settings:
    tokens: {sso_session_idle: 30m, sso_session_max: 12h}
`)
	c := find(t, mustDiff(t, d, emptyState("demo", false)).Changes, "realm-settings", "settings")
	fs := fieldsOf(c)
	if len(fs) != 1 || fs["tokens.sso_session_max"].Old != "10h" {
		t.Errorf("fields %v, want only sso_session_max 10h -> 12h", c.Fields)
	}
}

func TestDiffPasswordPolicy(t *testing.T) {
	providers := []PasswordPolicyProvider{{ID: "length", ConfigType: "int"}, {ID: "digits", ConfigType: "int"}, {ID: "notUsername"},
		{ID: "regexPattern", ConfigType: "String", MultipleSupported: true}}
	for _, tc := range []struct{ policy, err string }{
		{"length(12) and digits(2)", ""},
		{"length(12) and lenght(2)", `"lenght" is not a password policy this Keycloak has; it has digits, length, notUsername, regexPattern`},
		{"length(x)", "length takes a whole number"},
		{"notUsername(3)", "notUsername takes no value"},
		{"length and  and digits", "term 2 is empty"},
		{"regexPattern(a) and regexPattern(b)", "regexPattern is given twice"},
		{"length(12", "opens a ( it does not close"},
	} {
		d := desired(t, "  settings:\n    password_policy: \""+tc.policy+"\"\n")
		st := settingsState(t, "")
		st.ServerInfo = &ServerInfo{PasswordPolicies: providers}
		_, err := Diff(d, st, DiffOptions{})
		var ie *InputError
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.policy, err)
		case tc.err != "" && (!errors.As(err, &ie) || ie.Key != "keycloak.settings.password_policy" || !strings.Contains(ie.Msg, tc.err)):
			t.Errorf("%s: %v, want an InputError at keycloak.settings.password_policy with %q", tc.policy, err, tc.err)
		}
	}
	// Unchanged: not validated (server-info not read).
	d := desired(t, "  settings:\n    password_policy: \"custom-provider(1)\"\n")
	if _, err := Diff(d, settingsState(t, `{"passwordPolicy":"custom-provider(1)"}`), DiffOptions{}); err != nil {
		t.Errorf("unchanged policy: %v", err)
	}
}

func TestDiffUsersPasswordsAgainstPolicy(t *testing.T) {
	d := desired(t, `  settings:
    password_policy: "length(12) and notUsername"
  users:
    - {username: alice, password_env: ALICE_PASSWORD}
`)
	_, err := Diff(d, settingsState(t, ""), DiffOptions{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Key != "keycloak.users[0].password_env" || !strings.Contains(ie.Msg, "Invalid password: minimum length 12.") {
		t.Fatalf("%v", err)
	}
	// The realm's policy when the file sets none.
	d = desired(t, "  users:\n    - {username: alice, password_env: ALICE_PASSWORD}\n")
	_, err = Diff(d, settingsState(t, `{"passwordPolicy":"digits(3)"}`), DiffOptions{})
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "must contain at least 3 numerical digits.") {
		t.Errorf("%v", err)
	}
	// A password that passes.
	if _, err := Diff(d, settingsState(t, `{"passwordPolicy":"digits(1) and hashIterations(27500) and passwordHistory(3)"}`), DiffOptions{}); err != nil {
		t.Errorf("%v", err)
	}
}

func TestDiffThemes(t *testing.T) {
	d := desired(t, "  settings:\n    themes: {login: fancy}\n")
	st := settingsState(t, "")
	st.ServerInfo = &ServerInfo{}
	_ = json.Unmarshal([]byte(`{"themes":{"login":[{"name":"keycloak"},{"name":"keycloak.v2"}]}}`), st.ServerInfo)
	_, err := Diff(d, st, DiffOptions{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Key != "keycloak.settings.themes.login" || !strings.Contains(ie.Msg, "keycloak, keycloak.v2") {
		t.Errorf("%v", err)
	}
	d = desired(t, "  settings:\n    themes: {login: keycloak.v2}\n")
	if _, err := Diff(d, st, DiffOptions{}); err != nil {
		t.Error(err)
	}
}

func TestDiffSMTPPassword(t *testing.T) {
	fp, err := fingerprint("smtp-pw")
	if err != nil {
		t.Fatal(err)
	}
	cur := `{"smtpServer":{"host":"mail","from":"a@b","auth":"true","user":"sso","password":"**********","starttls":"false","ssl":"false","debug":"true"},
	"attributes":{"ssoctl.smtp":"` + fp + `"}}`
	mk := func(pw, extra string) *Desired {
		d := desired(t, "  settings:\n    smtp: {host: mail, from: a@b, user: sso, password_env: SMTP_PW"+extra+"}\n")
		d.SMTPPassword = pw
		return d
	}
	// Same password, same fields: nothing.
	if c := find(t, mustDiff(t, mk("smtp-pw", ""), settingsState(t, cur)).Changes, "realm-settings", "settings"); c.Action != plan.NoOp {
		t.Errorf("unchanged SMTP: %s %v", c.Action, c.Fields)
	}
	// Another field: the mask goes back, unknown keys are kept.
	c := find(t, mustDiff(t, mk("smtp-pw", ", port: 2525"), settingsState(t, cur)).Changes, "realm-settings", "settings")
	o := c.Op.(updateRealmSettings)
	smtp := o.Body["smtpServer"].(map[string]string)
	if smtp["password"] != secretMask || smtp["port"] != "2525" || smtp["debug"] != "true" || o.SMTPPassword != "" {
		t.Errorf("op = %+v", o)
	}
	// A new password: sent, masked in the plan.
	c = find(t, mustDiff(t, mk("new-pw", ""), settingsState(t, cur)).Changes, "realm-settings", "settings")
	o = c.Op.(updateRealmSettings)
	if o.SMTPPassword != "new-pw" || !fieldsOf(c)["smtp.password"].Secret {
		t.Errorf("op = %+v, fields %v", o, c.Fields)
	}
	// Missing: a warning; an error for apply.
	p := mustDiff(t, mk("", ""), settingsState(t, cur))
	if len(p.Warnings) == 0 || !strings.Contains(p.Warnings[0], "SMTP_PW") {
		t.Errorf("warnings %v", p.Warnings)
	}
	var ms *plan.MissingSecretError
	if _, err := Diff(mk("", ""), settingsState(t, cur), DiffOptions{ForApply: true}); !errors.As(err, &ms) {
		t.Errorf("for apply: %v", err)
	}
}

func TestFingerprint(t *testing.T) {
	a, _ := fingerprint("pw")
	b, _ := fingerprint("pw")
	if a == b {
		t.Error("two fingerprints of one password are equal: no salt")
	}
	if !fingerprintMatches(a, "pw") || fingerprintMatches(a, "pw2") || fingerprintMatches("garbage", "pw") {
		t.Error("fingerprintMatches")
	}
	if !strings.HasPrefix(a, "pbkdf2-sha256$600000$") || strings.Contains(a, "pw$") {
		t.Errorf("fingerprint %s", a)
	}
}

func TestDiffRequiredActions(t *testing.T) {
	d := desired(t, `  required_actions:
    - {alias: CONFIGURE_TOTP, default: true}
    - {alias: UPDATE_PASSWORD}
    - {alias: TERMS_AND_CONDITIONS, config: {k: v}}
    - {alias: my-action}
`)
	st := settingsState(t, "")
	delete(st.RequiredActions, "TERMS_AND_CONDITIONS")
	st.UnregisteredActions = []UnregisteredAction{{ProviderID: "TERMS_AND_CONDITIONS", Name: "Terms and Conditions"}}
	_, err := Diff(d, st, DiffOptions{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Key != "keycloak.required_actions[3].alias" || !strings.Contains(ie.Msg, "TERMS_AND_CONDITIONS, UPDATE_EMAIL") {
		t.Fatalf("%v", err)
	}
	d.RequiredActions = d.RequiredActions[:3]
	p := mustDiff(t, d, st)
	if c := find(t, p.Changes, "required-action", "CONFIGURE_TOTP"); c.Action != plan.Update || fieldsOf(c)["defaultAction"].New != true {
		t.Errorf("CONFIGURE_TOTP: %s %v", c.Action, c.Fields)
	}
	if c := find(t, p.Changes, "required-action", "UPDATE_PASSWORD"); c.Action != plan.NoOp {
		t.Errorf("UPDATE_PASSWORD: %s %v", c.Action, c.Fields)
	}
	c := find(t, p.Changes, "required-action", "TERMS_AND_CONDITIONS")
	if o := c.Op.(updateRequiredAction); c.Action != plan.Create || !o.Register || !o.Enabled || o.Config["k"] != "v" {
		t.Errorf("TERMS_AND_CONDITIONS: %s %+v", c.Action, c.Op)
	}
}

func TestExportSettingsOnlyWhatDiffers(t *testing.T) {
	if s := exportSettings(newRealmDefaults); s != nil {
		t.Errorf("a new realm exports settings: %+v", s)
	}
	st := settingsState(t, `{"ssoSessionIdleTimeout":3600,"quickLoginCheckMilliSeconds":2000,"enabledEventTypes":["LOGOUT","LOGIN"],
		"passwordPolicy":"length(12)","attributes":{"ssoctl.owned":"{}","cibaInterval":"5","frontendUrl":"https://x"}}`)
	s := exportSettings(st.RealmRep)
	if s == nil || *s.Tokens.SSOSessionIdle != "1h" || *s.BruteForce.QuickLoginCheck != "2s" || *s.PasswordPolicy != "length(12)" ||
		strings.Join(s.Events.Types, ",") != "LOGIN,LOGOUT" || !maps.Equal(s.Attributes, map[string]string{"frontendUrl": "https://x"}) {
		t.Errorf("export %+v", s)
	}
	if s.Login != nil || s.OTPPolicy != nil {
		t.Errorf("defaults exported: %+v %+v", s.Login, s.OTPPolicy)
	}
	st.RequiredActions["CONFIGURE_TOTP"].DefaultAction = true
	st.RequiredActions["UPDATE_PROFILE"].Enabled = false
	got := exportRequiredActions(st)
	want := []spec.RequiredAction{{Alias: "CONFIGURE_TOTP", Default: ptr(true)}, {Alias: "UPDATE_PROFILE", Enabled: ptr(false)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("required actions %+v", got)
	}
}
