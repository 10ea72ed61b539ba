package django

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/ssoctl/ssoctl/spec"
)

// InputError is a render input that cannot be the realm's: a discovery
// document or public key that no Keycloak serves for the realm. The CLI
// reports it as bad input, before anything is written.
type InputError struct {
	// Field names the value (issuer, token_endpoint, public_key, …).
	Field string
	// Value is the offending value (messages quote it with spec.Quote).
	Value string
	Why   string
}

// BadInput marks the error as the caller's input (exit 2 in the CLI).
func (e *InputError) BadInput() bool { return true }

func (e *InputError) Error() string {
	return fmt.Sprintf("the realm's %s %s %s", e.Field, spec.Quote(e.Value), e.Why)
}

// Check refuses what the rendered app must not be built from: an endpoint of
// the discovery document (fetched from documentURL) that is not an absolute
// http(s) URL under the issuer's path, on the issuer's host or the one the
// document came from (Keycloak's backchannel endpoints may name the host it
// was asked on); an issuer that is not the realm's (…/realms/REALM); a
// public key that is not a base64 SubjectPublicKeyInfo. Values that pass
// still reach the app only as Python literals.
func (in Input) Check(documentURL string) error {
	e := in.Endpoints
	iss, err := endpointURL("issuer", e.Issuer)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(iss.Path, "/realms/"+in.Realm) {
		return &InputError{Field: "issuer", Value: e.Issuer, Why: fmt.Sprintf("is not an issuer of realm %s (…/realms/REALM)", spec.Quote(in.Realm))}
	}
	hosts := []string{strings.ToLower(iss.Host)}
	if d, err := url.Parse(documentURL); err == nil && d.Host != "" {
		hosts = append(hosts, strings.ToLower(d.Host))
	}
	for _, ep := range []struct{ field, value string }{
		{"authorization_endpoint", e.Authorization}, {"token_endpoint", e.Token}, {"userinfo_endpoint", e.Userinfo},
		{"jwks_uri", e.JWKS}, {"end_session_endpoint", e.EndSession},
	} {
		u, err := endpointURL(ep.field, ep.value)
		if err != nil {
			return err
		}
		host := strings.ToLower(u.Host)
		if host != hosts[0] && (len(hosts) < 2 || host != hosts[1]) {
			return &InputError{Field: ep.field, Value: ep.value, Why: fmt.Sprintf("is not on the realm's host (%s)", strings.Join(hosts, " or "))}
		}
		if !strings.HasPrefix(u.Path, iss.Path+"/") {
			return &InputError{Field: ep.field, Value: ep.value, Why: fmt.Sprintf("is not under the issuer's path %s", iss.Path)}
		}
	}
	if in.Site != nil && in.Site.Library == spec.LibSocial {
		der, err := base64.StdEncoding.DecodeString(in.PublicKey)
		if err == nil {
			_, err = x509.ParsePKIXPublicKey(der)
		}
		if err != nil {
			return &InputError{Field: "public_key", Value: in.PublicKey, Why: "is not a base64 public key (SubjectPublicKeyInfo)"}
		}
	}
	return nil
}

// endpointURL parses an endpoint of the discovery document: an absolute
// http(s) URL with a host, and nothing a URL of Keycloak's holds not
// (credentials, a query, a fragment, spaces or control characters).
func endpointURL(field, v string) (*url.URL, error) {
	if v == "" {
		return nil, &InputError{Field: field, Value: v, Why: "is missing"}
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return nil, &InputError{Field: field, Value: v, Why: "holds a space or a control character"}
	}
	u, err := url.Parse(v)
	switch {
	case err != nil, u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.Opaque != "":
		return nil, &InputError{Field: field, Value: v, Why: "is not an http(s) URL"}
	case u.User != nil, u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return nil, &InputError{Field: field, Value: v, Why: "holds credentials, a query or a fragment"}
	}
	return u, nil
}
