package browser

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/internal/totp"
)

// savedPage is a page saved from the testbed's Keycloak 26.7.3
// (testdata/*.html, written by cmd's TestIntegrationLoginsConfigureTOTP and
// TestIntegrationLoginsTerms with SSOCTL_SAVE_PAGES set; the setup page
// shows that realm's otp_policy HmacSHA256, 8 digits, 10 s).
func savedPage(t *testing.T, name string) *Page {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://127.0.0.1:50079/realms/hlog-probe/login-actions/authenticate")
	return &Page{URL: u, Status: 200, Body: body}
}

func TestPageIDs(t *testing.T) {
	for name, want := range map[string]string{
		"login-config-totp.html": PageConfigTOTP, "login-config-totp-manual.html": PageConfigTOTP, "login-config-totp-invalid.html": PageConfigTOTP,
		"login-otp.html": PageOTP, "login-otp-invalid.html": PageOTP, "terms.html": PageTerms, "login-invalid.html": PageLogin,
	} {
		if got := savedPage(t, name).PageID(); got != want {
			t.Errorf("%s: page id %q, want %q", name, got, want)
		}
	}
}

func TestReadOTPSetupManualMode(t *testing.T) {
	p := savedPage(t, "login-config-totp-manual.html")
	s, err := p.ReadOTPSetup()
	if err != nil {
		t.Fatal(err)
	}
	posted := p.Form("kc-totp-settings-form").Fields.Get("totpSecret")
	if string(s.Key) != posted || len(posted) != 20 {
		t.Fatalf("key %q, the form posts %q", s.Key, posted)
	}
	if s.Policy != (totp.Policy{Algorithm: "HmacSHA256", Digits: 8, Period: 10}) {
		t.Fatalf("policy %+v", s.Policy)
	}
	if got := p.ElementText("kc-totp-secret-key"); len(strings.Fields(got)) != 8 {
		t.Fatalf("the secret is shown as %q, want eight groups of four", got)
	}
}

func TestReadOTPSetupNeedsManualMode(t *testing.T) {
	p := savedPage(t, "login-config-totp.html")
	if _, err := p.ReadOTPSetup(); err == nil || !strings.Contains(err.Error(), "manual mode") {
		t.Fatalf("QR mode page: %v", err)
	}
	if link := p.Link("mode-manual"); !strings.Contains(link, "mode=manual") || !strings.Contains(link, "execution=CONFIGURE_TOTP") {
		t.Fatalf("manual link %q", link)
	}
}

func TestReadOTPSetupRefusesAMismatchedSecret(t *testing.T) {
	p := savedPage(t, "login-config-totp-manual.html")
	posted := p.Form("kc-totp-settings-form").Fields.Get("totpSecret")
	p.Body = []byte(strings.Replace(string(p.Body), `value="`+posted+`"`, `value="something-else"`, 1))
	if _, err := p.ReadOTPSetup(); err == nil || !strings.Contains(err.Error(), "does not decode") {
		t.Fatalf("err %v", err)
	}
}

func TestKeycloakMessagesOfRefusals(t *testing.T) {
	for name, want := range map[string]string{
		"login-otp-invalid.html":         "Invalid authenticator code.",
		"login-config-totp-invalid.html": "Invalid authenticator code.",
		"login-invalid.html":             "Invalid username or password.",
	} {
		if got := keycloakMessage(savedPage(t, name)); !strings.HasPrefix(got, want) {
			t.Errorf("%s: message %q, want %q", name, got, want)
		}
	}
	if got := keycloakMessage(savedPage(t, "login-otp.html")); strings.Contains(got, "Invalid") {
		t.Errorf("the first OTP page carries no error, got %q", got)
	}
}

func TestOTPAndTermsForms(t *testing.T) {
	otp := savedPage(t, "login-otp.html").Form("kc-otp-login-form")
	if otp == nil || otp.Method != "POST" || otp.Fields.Get("selectedCredentialId") == "" || !otp.Fields.Has("otp") {
		t.Fatalf("OTP form %+v", otp)
	}
	terms := savedPage(t, "terms.html").Form("kc-accept")
	if terms == nil || !strings.Contains(terms.Action, "execution=TERMS_AND_CONDITIONS") {
		t.Fatalf("terms form %+v", terms)
	}
}

func TestOTPCodesAreNeverReused(t *testing.T) {
	key := []byte("12345678901234567890")
	pol := totp.Policy{Period: 30}
	now := time.Unix(59, 0) // step 1
	var slept []time.Duration
	o := &OTP{Key: key, Policy: pol, Window: 1, Now: func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); now = now.Add(d); return nil }}
	var got []string
	for range 4 {
		c, err := o.Code(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	var want []string
	for _, step := range []uint64{1, 2, 3, 4} {
		c, _ := totp.HOTP(key, step, pol)
		want = append(want, c)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("codes %v, want steps 1-4 %v", got, want)
	}
	// Steps 1 and 2 are within the window at t=59; step 3 needs t>=60
	// (1 s), step 4 needs t>=90 (30 s more).
	if len(slept) != 2 || slept[0] != time.Second || slept[1] != 30*time.Second {
		t.Fatalf("slept %v", slept)
	}
	if want[0] != "287082" {
		t.Fatalf("RFC 6238's SHA1 vector at t=59 (8 digits 94287082): got %s", want[0])
	}
}
