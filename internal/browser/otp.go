package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"

	"github.com/ssoctl/ssoctl/internal/totp"
)

// The pages Keycloak's login may show after the password (keycloak.v2
// theme, 26.7.3), by their body's data-page-id.
const (
	PageLogin      = "login-login"
	PageOTP        = "login-login-otp"
	PageConfigTOTP = "login-login-config-totp"
	PageTerms      = "login-terms"
)

// The steps a login can stop at when the browser has not been told how to
// pass them. Each is wrapped with ErrKeycloak.
var (
	// ErrOTPRequired: Keycloak asks for a one-time code and the browser
	// holds no OTP secret.
	ErrOTPRequired = errors.New("Keycloak asks for a one-time code")
	// ErrOTPSetup: Keycloak asks the user to set up an OTP device
	// (the CONFIGURE_TOTP required action) and SetupOTP is off.
	ErrOTPSetup = errors.New("Keycloak asks the user to set up a one-time-code device")
	// ErrTerms: Keycloak shows the terms and conditions and AcceptTerms
	// is off.
	ErrTerms = errors.New("Keycloak asks the user to accept the terms and conditions")
)

// PageID is the data-page-id of the page's body ("" when it has none):
// which of Keycloak's templates rendered it.
func (p *Page) PageID() string {
	z := html.NewTokenizer(bytes.NewReader(p.Body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return ""
		}
		if tt != html.StartTagToken {
			continue
		}
		t := z.Token()
		if t.Data != "body" {
			continue
		}
		for _, a := range t.Attr {
			if a.Key == "data-page-id" {
				return a.Val
			}
		}
		return ""
	}
}

// ElementText is the text inside the element with id, white space folded;
// "" when there is none.
func (p *Page) ElementText(id string) string {
	z := html.NewTokenizer(bytes.NewReader(p.Body))
	depth := 0
	var b strings.Builder
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.StartTagToken:
			t := z.Token()
			if depth > 0 {
				depth++
				continue
			}
			for _, a := range t.Attr {
				if a.Key == "id" && a.Val == id {
					depth = 1
				}
			}
		case html.EndTagToken:
			if depth > 0 {
				if depth--; depth == 0 {
					return strings.Join(strings.Fields(b.String()), " ")
				}
			}
		case html.TextToken:
			if depth > 0 {
				b.Write(z.Text())
				b.WriteByte(' ')
			}
		}
	}
}

// OTPSetup is what Keycloak's OTP setup page (login-config-totp) shows in
// manual mode: the secret, and the policy the code must follow.
type OTPSetup struct {
	// Key is the secret's bytes, decoded from the base32 the page shows in
	// groups of four (Keycloak's secret is a random string whose bytes
	// are the HMAC key; the form posts it back as totpSecret).
	Key    []byte
	Policy totp.Policy
}

// ReadOTPSetup reads the setup page in manual mode (the page behind its
// "Unable to scan?" link, mode=manual). The base32 secret must decode to
// the totpSecret field the form posts, or the page is not understood.
func (p *Page) ReadOTPSetup() (*OTPSetup, error) {
	f := p.Form("kc-totp-settings-form")
	if f == nil {
		return nil, fmt.Errorf("no OTP setup form (kc-totp-settings-form) at %s", p.URL.Redacted())
	}
	shown := p.ElementText("kc-totp-secret-key")
	if shown == "" {
		return nil, fmt.Errorf("the OTP setup page at %s shows no secret (kc-totp-secret-key): is it in manual mode?", p.URL.Redacted())
	}
	key, err := totp.DecodeSecret(shown)
	if err != nil {
		return nil, err
	}
	if posted := f.Fields.Get("totpSecret"); posted != "" && posted != string(key) {
		return nil, fmt.Errorf("the OTP setup page's secret does not decode to the secret its form posts")
	}
	s := &OTPSetup{Key: key}
	if typ := p.ElementText("kc-totp-type"); typ != "" && !strings.Contains(typ, "Time-based") {
		return nil, fmt.Errorf("the realm's OTP policy is %q: only time-based codes (TOTP) are supported", typ)
	}
	switch alg := strings.TrimSpace(strings.TrimPrefix(p.ElementText("kc-totp-algorithm"), "Algorithm:")); alg {
	case "", "SHA1":
		s.Policy.Algorithm = "HmacSHA1"
	case "SHA256", "SHA512":
		s.Policy.Algorithm = "Hmac" + alg
	default:
		return nil, fmt.Errorf("the OTP setup page names an unknown algorithm %q", alg)
	}
	for _, n := range []struct {
		id, label string
		dst       *int
	}{{"kc-totp-digits", "Digits:", &s.Policy.Digits}, {"kc-totp-period", "Interval:", &s.Policy.Period}} {
		v := strings.TrimSpace(strings.TrimPrefix(p.ElementText(n.id), n.label))
		if v == "" {
			continue
		}
		if *n.dst, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("the OTP setup page's %s %q is not a number", n.label, v)
		}
	}
	return s, nil
}

// OTP hands out one-time codes of one secret for a run of logins. Keycloak
// refuses a code it has accepted before (its policy's code_reusable is
// false by default: measured on 26.7.3, the code that finished the setup
// is refused at the next login), so each code is given once: the current
// time step's, then the next ones within Keycloak's look-around window,
// then, when those are spent, the next step's after waiting for it.
type OTP struct {
	Key    []byte
	Policy totp.Policy
	// Window is the realm's look-around window (otpPolicyLookAheadWindow,
	// Keycloak's default 1): codes of that many steps either side of now
	// are accepted.
	Window int
	// Now and Sleep default to the clock; tests set them.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error

	mu   sync.Mutex
	last uint64 // the last step handed out, 0 none
}

// Code returns a code Keycloak has not seen from this OTP.
func (o *OTP) Code(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now, sleep := o.Now, o.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	period := o.Policy.Period
	if period <= 0 {
		period = 30
	}
	step := uint64(now().Unix()) / uint64(period)
	next := max(step, o.last+1)
	if next > step+uint64(o.Window) {
		// Wait until next is within the window.
		at := time.Unix(int64((next-uint64(o.Window))*uint64(period)), 0)
		if err := sleep(ctx, at.Sub(now())); err != nil {
			return "", err
		}
	}
	code, err := totp.HOTP(o.Key, next, o.Policy)
	if err != nil {
		return "", err
	}
	o.last = next
	return code, nil
}

// FreshAt is when another OTP of the same key (another process's, or the
// next run's) first gets a code this one has not handed out: the start of
// the step after the last one given.
func (o *OTP) FreshAt() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	period := o.Policy.Period
	if period <= 0 {
		period = 30
	}
	return time.Unix(int64((o.last+1)*uint64(period)), 0)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// afterPassword passes the pages Keycloak shows between the password form
// and the redirect back to the application: the one-time code (with b.OTP),
// the OTP setup (with b.SetupOTP: the secret read from the page becomes
// b.OTP) and the terms (with b.AcceptTerms). Any other page is returned.
func (b *Browser) afterPassword(ctx context.Context, p *Page, username string) (*Page, error) {
	for range 8 {
		if p.Status/100 == 3 {
			return p, nil
		}
		var err error
		switch p.PageID() {
		case PageOTP:
			p, err = b.enterOTP(ctx, p, username)
		case PageConfigTOTP:
			p, err = b.setupOTP(ctx, p, username)
		case PageTerms:
			p, err = b.acceptTerms(ctx, p, username)
		default:
			return p, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: the login of %s went round Keycloak's pages more than 8 times: %s", ErrKeycloak, username, b.Trail())
}

// enterOTP submits a code on the one-time-code page (form
// kc-otp-login-form, field otp; the credential preselected in
// selectedCredentialId is kept). The page shown again is a refusal.
func (b *Browser) enterOTP(ctx context.Context, p *Page, username string) (*Page, error) {
	if b.OTP == nil {
		return nil, fmt.Errorf("%w: %w for %s", ErrKeycloak, ErrOTPRequired, username)
	}
	f := p.Form("kc-otp-login-form")
	if f == nil {
		return nil, fmt.Errorf("%w: the one-time-code page at %s has no form kc-otp-login-form", ErrKeycloak, p.URL.Redacted())
	}
	code, err := b.OTP.Code(ctx)
	if err != nil {
		return nil, err
	}
	next, err := b.Submit(ctx, p, f, url.Values{"otp": {code}})
	if err != nil {
		return nil, err
	}
	if next.Status == 200 && next.PageID() == PageOTP {
		return nil, fmt.Errorf("%w: Keycloak refused the one-time code of %s: %s", ErrKeycloak, username, keycloakMessage(next))
	}
	return next, nil
}

// setupOTP completes the CONFIGURE_TOTP required action: it opens the
// page's manual mode ("Unable to scan?", id mode-manual) to read the secret,
// computes a code and submits it with the device name (totp, totpSecret,
// userLabel).
func (b *Browser) setupOTP(ctx context.Context, p *Page, username string) (*Page, error) {
	if !b.SetupOTP {
		return nil, fmt.Errorf("%w: %w (%s)", ErrKeycloak, ErrOTPSetup, username)
	}
	if p.ElementText("kc-totp-secret-key") == "" {
		link := p.Link("mode-manual")
		if link == "" {
			return nil, fmt.Errorf("%w: the OTP setup page at %s has no manual mode link (mode-manual)", ErrKeycloak, p.URL.Redacted())
		}
		var err error
		if p, err = b.Get(ctx, link); err != nil {
			return nil, err
		}
	}
	setup, err := p.ReadOTPSetup()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeycloak, err)
	}
	b.OTP = &OTP{Key: setup.Key, Policy: setup.Policy, Window: 1}
	code, err := b.OTP.Code(ctx)
	if err != nil {
		return nil, err
	}
	label := b.OTPDevice
	if label == "" {
		label = "ssoctl"
	}
	next, err := b.Submit(ctx, p, p.Form("kc-totp-settings-form"), url.Values{"totp": {code}, "userLabel": {label}})
	if err != nil {
		return nil, err
	}
	if next.Status == 200 && next.PageID() == PageConfigTOTP {
		return nil, fmt.Errorf("%w: Keycloak refused the OTP setup of %s: %s", ErrKeycloak, username, keycloakMessage(next))
	}
	return next, nil
}

// acceptTerms presses Accept (button kc-accept, name accept) on the
// TERMS_AND_CONDITIONS page.
func (b *Browser) acceptTerms(ctx context.Context, p *Page, username string) (*Page, error) {
	if !b.AcceptTerms {
		return nil, fmt.Errorf("%w: %w (%s)", ErrKeycloak, ErrTerms, username)
	}
	f := p.Form("kc-accept")
	if f == nil {
		return nil, fmt.Errorf("%w: the terms page at %s has no Accept button (kc-accept)", ErrKeycloak, p.URL.Redacted())
	}
	next, err := b.Submit(ctx, p, f, url.Values{"accept": {""}})
	if err != nil {
		return nil, err
	}
	if next.Status == 200 && next.PageID() == PageTerms {
		return nil, fmt.Errorf("%w: Keycloak showed the terms again after Accept for %s: %s", ErrKeycloak, username, keycloakMessage(next))
	}
	return next, nil
}
