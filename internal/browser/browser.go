// Package browser drives web logins the way a browser does, without one:
// a cookie jar, redirects followed hop by hop, HTML forms found and
// submitted with their hidden fields, and Keycloak's login form filled in.
// Tests use it to log in to real Django sites and Vault through the real
// Keycloak; diagnosis can use it to prove a login works.
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// MaxPage bounds one page read.
const MaxPage = 4 << 20

// Browser is one browser session: cookies, and the hops it made.
type Browser struct {
	client *http.Client
	// Hops lists every request, in order, for error messages.
	Hops []Hop
	// Stop, when set, ends redirect following at a location it accepts: the
	// redirect is returned as the page (e.g. to a CLI's local listener).
	Stop func(*url.URL) bool
	// OTP, when set, answers Keycloak's one-time-code page; SetupOTP lets
	// the login complete the CONFIGURE_TOTP required action (the secret
	// it reads becomes OTP), naming the device OTPDevice (default
	// "ssoctl"); AcceptTerms accepts TERMS_AND_CONDITIONS. Without them a
	// login that meets those pages stops with ErrOTPRequired, ErrOTPSetup
	// or ErrTerms.
	OTP         *OTP
	SetupOTP    bool
	OTPDevice   string
	AcceptTerms bool
	// OnPage, when set, sees every answer (tests save Keycloak's pages
	// with it).
	OnPage func(*Page)
}

// Hop is one request and its answer.
type Hop struct {
	Method string
	URL    string
	Status int
}

// Page is an answer.
type Page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   []byte
}

// New returns a browser with an empty cookie jar. Keycloak's cookies are
// Secure even on http; Go's jar sends Secure cookies to loopback hosts over
// http, as browsers treat localhost as a secure context.
func New() *Browser { return Over(nil) }

// Over returns a browser whose requests go through base's transport (its
// TLS settings and request logging), with a jar and redirect policy of its
// own. A nil base is Go's default transport.
func Over(base *http.Client) *Browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if base != nil {
		c.Transport = base.Transport
		if base.Timeout > 0 {
			c.Timeout = base.Timeout
		}
	}
	return &Browser{client: c}
}

// Do sends one request (form, when non-nil, as a POST body) and does not
// follow redirects.
func (b *Browser) Do(ctx context.Context, method, target string, form url.Values, referer string) (*Page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	// A browser's Accept: Keycloak answers its error pages in JSON to some others.
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if referer != "" {
		req.Header.Set("Referer", referer)
		if u, err := url.Parse(referer); err == nil {
			req.Header.Set("Origin", u.Scheme+"://"+u.Host)
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxPage))
	if err != nil {
		return nil, err
	}
	b.Hops = append(b.Hops, Hop{method, target, resp.StatusCode})
	p := &Page{URL: req.URL, Status: resp.StatusCode, Header: resp.Header, Body: data}
	if b.OnPage != nil {
		b.OnPage(p)
	}
	return p, nil
}

// Get fetches target and follows its redirects.
func (b *Browser) Get(ctx context.Context, target string) (*Page, error) {
	p, err := b.Do(ctx, http.MethodGet, target, nil, "")
	if err != nil {
		return nil, err
	}
	return b.Follow(ctx, p)
}

// Follow follows redirects from p until a page that is not one, or one
// whose location b.Stop accepts (that redirect is returned unfollowed).
func (b *Browser) Follow(ctx context.Context, p *Page) (*Page, error) {
	return b.FollowUntil(ctx, p, b.Stop)
}

// FollowUntil is Follow with a stop: a redirect to a location stop accepts
// is not followed.
func (b *Browser) FollowUntil(ctx context.Context, p *Page, stop func(*url.URL) bool) (*Page, error) {
	for i := 0; p.Status >= 300 && p.Status < 400; i++ {
		if i == 20 {
			return nil, fmt.Errorf("more than 20 redirects: %s", b.Trail())
		}
		loc, err := p.URL.Parse(p.Header.Get("Location"))
		if err != nil || p.Header.Get("Location") == "" {
			return nil, fmt.Errorf("redirect %d from %s without a usable Location", p.Status, p.URL)
		}
		if stop != nil && stop(loc) {
			return p, nil
		}
		if p, err = b.Do(ctx, http.MethodGet, loc.String(), nil, ""); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Submit sends f (with extra fields set) and follows the redirects.
func (b *Browser) Submit(ctx context.Context, from *Page, f *Form, extra url.Values) (*Page, error) {
	fields := url.Values{}
	for k, v := range f.Fields {
		fields[k] = append([]string(nil), v...)
	}
	for k, v := range extra {
		fields[k] = v
	}
	method := http.MethodPost
	if strings.EqualFold(f.Method, http.MethodGet) {
		u, err := url.Parse(f.Action)
		if err != nil {
			return nil, err
		}
		u.RawQuery = fields.Encode()
		p, err := b.Do(ctx, http.MethodGet, u.String(), nil, from.URL.String())
		if err != nil {
			return nil, err
		}
		return b.Follow(ctx, p)
	}
	p, err := b.Do(ctx, method, f.Action, fields, from.URL.String())
	if err != nil {
		return nil, err
	}
	return b.Follow(ctx, p)
}

// Trail is the hops so far, for messages.
func (b *Browser) Trail() string {
	var parts []string
	for _, h := range b.Hops {
		u := h.URL
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		parts = append(parts, fmt.Sprintf("%s %s → %d", h.Method, u, h.Status))
	}
	return strings.Join(parts, "; ")
}

// Form is an HTML form: where it goes and the fields it sends as it is.
type Form struct {
	ID     string
	Action string
	Method string
	Fields url.Values
	// Has lists the ids of the elements inside the form.
	Has []string
}

// Forms parses every form of the page, actions resolved against its URL.
func (p *Page) Forms() []*Form {
	var out []*Form
	var cur *Form
	z := html.NewTokenizer(bytes.NewReader(p.Body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		t := z.Token()
		attr := func(name string) (string, bool) {
			for _, a := range t.Attr {
				if a.Key == name {
					return a.Val, true
				}
			}
			return "", false
		}
		switch {
		case t.Data == "form" && tt == html.StartTagToken:
			action, _ := attr("action")
			method, _ := attr("method")
			id, _ := attr("id")
			u, err := p.URL.Parse(action)
			if err != nil {
				u = p.URL
			}
			cur = &Form{ID: id, Action: u.String(), Method: strings.ToUpper(method), Fields: url.Values{}}
			if cur.Method == "" {
				cur.Method = http.MethodGet
			}
			out = append(out, cur)
		case t.Data == "form" && tt == html.EndTagToken:
			cur = nil
		case cur != nil && (tt == html.StartTagToken || tt == html.SelfClosingTagToken):
			if id, ok := attr("id"); ok {
				cur.Has = append(cur.Has, id)
			}
			if t.Data == "input" {
				name, _ := attr("name")
				typ, _ := attr("type")
				val, _ := attr("value")
				if name != "" && typ != "submit" && typ != "checkbox" && typ != "radio" {
					cur.Fields.Add(name, val)
				}
			}
		}
	}
}

// Form returns the form with id, or the form holding the element id.
func (p *Page) Form(id string) *Form {
	for _, f := range p.Forms() {
		if f.ID == id {
			return f
		}
		for _, h := range f.Has {
			if h == id {
				return f
			}
		}
	}
	return nil
}

// Link returns the href of the <a> with id, resolved, or "".
func (p *Page) Link(id string) string {
	z := html.NewTokenizer(bytes.NewReader(p.Body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return ""
		}
		t := z.Token()
		if t.Data != "a" || tt != html.StartTagToken {
			continue
		}
		var gotID, href string
		for _, a := range t.Attr {
			switch a.Key {
			case "id":
				gotID = a.Val
			case "href":
				href = a.Val
			}
		}
		if gotID == id {
			if u, err := p.URL.Parse(href); err == nil {
				return u.String()
			}
		}
	}
}

// Text is the page's text, tags removed and white space folded.
func (p *Page) Text() string {
	var b strings.Builder
	z := html.NewTokenizer(bytes.NewReader(p.Body))
	skip := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.StartTagToken, html.EndTagToken:
			name, _ := z.TagName()
			skip = tt == html.StartTagToken && (string(name) == "script" || string(name) == "style")
		case html.TextToken:
			if !skip {
				b.Write(z.Text())
				b.WriteByte(' ')
			}
		}
	}
}

// ErrKeycloak is a login that Keycloak stopped, with its message.
var ErrKeycloak = errors.New("keycloak stopped the login")
