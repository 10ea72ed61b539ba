package inspect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Pick chooses which token to inspect when the input is a token-endpoint response that carries
// both an ID token and an access token.
type Pick int

const (
	// PickDefault takes the ID token when the response has one, otherwise the access token.
	// For a bare JWT it takes that JWT.
	PickDefault Pick = iota
	// PickIDToken takes the response's id_token (--id-token).
	PickIDToken
	// PickAccessToken takes the response's access_token (--access-token).
	PickAccessToken
)

// Kind says what a token is for. Keycloak writes it into the "typ" claim ("ID", "Bearer",
// "Refresh"); a token taken from a token response's id_token or access_token field is known by
// that field.
type Kind string

const (
	// KindID is an OpenID Connect ID token (Keycloak typ "ID").
	KindID Kind = "id"
	// KindAccess is an OAuth access token (Keycloak typ "Bearer", or header typ "at+jwt").
	KindAccess Kind = "access"
	// KindRefresh is a Keycloak refresh token (typ "Refresh"); no relying party accepts it.
	KindRefresh Kind = "refresh"
	// KindUnknown is any other token.
	KindUnknown Kind = "unknown"
)

// Header is a decoded JOSE header. Alg, Kid and Typ are copied out of Fields for convenience;
// Fields holds every member with numbers as json.Number.
type Header struct {
	// Alg is the "alg" member, e.g. "RS256" (empty when absent).
	Alg string
	// Kid is the "kid" member (empty when absent).
	Kid string
	// Typ is the "typ" member, e.g. "JWT" (empty when absent).
	Typ string
	// Fields is the whole header.
	Fields map[string]any
}

// Token is one decoded compact JWS. Nothing in it has been verified: use Verify.
type Token struct {
	// Raw is the compact serialization, without surrounding whitespace or a "Bearer " prefix.
	Raw string
	// Header is the decoded JOSE header.
	Header Header
	// Claims is the decoded payload. Numbers are json.Number, so large integers keep every digit.
	Claims map[string]any
	// SigningInput is the ASCII "header.payload" the signature covers.
	SigningInput []byte
	// Signature is the decoded signature (empty for an unsigned token).
	Signature []byte
	// Kind is what the token is for (id, access, refresh or unknown).
	Kind Kind
	// FromResponse is true when the token came out of a token-endpoint JSON response.
	FromResponse bool
	// Companion is the other token of the same token response (the access token when this is the
	// ID token and the reverse), or nil. It lets checks compare what each token carries, e.g.
	// roles that Keycloak put only into the access token.
	Companion *Token
}

// ParseInput reads what a user pastes or pipes: a compact JWT (surrounding whitespace and a
// case-insensitive "Bearer " prefix allowed, or the JWT as a quoted JSON string), or a
// token-endpoint response {"access_token": ..., "id_token": ...}. For a response, pick selects the
// token (PickDefault: the ID token when present) and the other one is kept as Companion.
// For a bare JWT, PickIDToken or PickAccessToken is an error when the token's kind says otherwise.
// Every failure is an *InputError (BadInput).
func ParseInput(data []byte, pick Pick) (*Token, error) {
	s := bytes.TrimSpace(data)
	if len(s) == 0 {
		return nil, badInput("token", "input is empty", nil)
	}
	switch s[0] {
	case '{':
		return parseTokenResponse(s, pick)
	case '"':
		var str string
		if err := json.Unmarshal(s, &str); err != nil {
			return nil, badInput("token", "input starts with '\"' but is not a JSON string", err)
		}
		s = bytes.TrimSpace([]byte(str))
	}
	if len(s) > 7 && (s[6] == ' ' || s[6] == '\t') && strings.EqualFold(string(s[:6]), "bearer") {
		s = bytes.TrimSpace(s[7:])
	}
	tok, err := ParseCompact(string(s))
	if err != nil {
		return nil, err
	}
	switch {
	case pick == PickIDToken && (tok.Kind == KindAccess || tok.Kind == KindRefresh):
		return nil, badInput("token", "an ID token was asked for, but the input is a single "+string(tok.Kind)+" token (typ "+strconv.Quote(claimString(tok.Claims, "typ"))+"); --id-token selects from a token-endpoint response", nil)
	case pick == PickAccessToken && (tok.Kind == KindID || tok.Kind == KindRefresh):
		return nil, badInput("token", "an access token was asked for, but the input is a single "+string(tok.Kind)+" token (typ "+strconv.Quote(claimString(tok.Claims, "typ"))+"); --access-token selects from a token-endpoint response", nil)
	}
	return tok, nil
}

// tokenResponse is the part of an OAuth token-endpoint response ssoctl reads.
type tokenResponse struct {
	AccessToken *string `json:"access_token"`
	IDToken     *string `json:"id_token"`
	Error       string  `json:"error"`
	ErrorDesc   string  `json:"error_description"`
}

func parseTokenResponse(s []byte, pick Pick) (*Token, error) {
	var resp tokenResponse
	if err := json.Unmarshal(s, &resp); err != nil {
		return nil, badInput("token response", "input starts with '{' but is not a token-endpoint JSON response", err)
	}
	if resp.Error != "" {
		reason := "the token endpoint answered with error " + strconv.Quote(resp.Error)
		if resp.ErrorDesc != "" {
			reason += ": " + strconv.Quote(resp.ErrorDesc) // quoted: the text is the server's, and may hold control characters
		}
		return nil, badInput("token response", reason, nil)
	}
	has := func(p *string) bool { return p != nil && strings.TrimSpace(*p) != "" }
	if !has(resp.AccessToken) && !has(resp.IDToken) {
		return nil, badInput("token response", "JSON object has neither access_token nor id_token", nil)
	}
	var main, other *string
	var mainKind, otherKind Kind
	switch pick {
	case PickIDToken:
		if !has(resp.IDToken) {
			return nil, badInput("token response", "--id-token was asked for but the response has no id_token (request the openid scope)", nil)
		}
		main, mainKind, other, otherKind = resp.IDToken, KindID, resp.AccessToken, KindAccess
	case PickAccessToken:
		if !has(resp.AccessToken) {
			return nil, badInput("token response", "--access-token was asked for but the response has no access_token", nil)
		}
		main, mainKind, other, otherKind = resp.AccessToken, KindAccess, resp.IDToken, KindID
	default:
		if has(resp.IDToken) {
			main, mainKind, other, otherKind = resp.IDToken, KindID, resp.AccessToken, KindAccess
		} else {
			main, mainKind, other, otherKind = resp.AccessToken, KindAccess, resp.IDToken, KindID
		}
	}
	name := "id_token"
	if mainKind == KindAccess {
		name = "access_token"
	}
	tok, err := ParseCompact(strings.TrimSpace(*main))
	if err != nil {
		if ie, ok := err.(*InputError); ok {
			ie.What = name + " in token response"
		}
		return nil, err
	}
	tok.FromResponse = true
	if tok.Kind == KindUnknown {
		tok.Kind = mainKind
	}
	if has(other) {
		// An opaque (non-JWT) access token is normal for some providers: keep none then.
		if comp, err := ParseCompact(strings.TrimSpace(*other)); err == nil {
			comp.FromResponse = true
			if comp.Kind == KindUnknown {
				comp.Kind = otherKind
			}
			tok.Companion = comp
		}
	}
	return tok, nil
}

// ParseCompact decodes one compact JWS "header.payload.signature" (no whitespace, no prefix).
// A five-segment JWE is refused with an explanation; every failure is an *InputError.
func ParseCompact(raw string) (*Token, error) {
	dot1 := strings.IndexByte(raw, '.')
	dot2 := -1
	if dot1 >= 0 {
		if k := strings.IndexByte(raw[dot1+1:], '.'); k >= 0 {
			dot2 = dot1 + 1 + k
		}
	}
	if dot1 < 0 || dot2 < 0 || strings.IndexByte(raw[dot2+1:], '.') >= 0 {
		n := strings.Count(raw, ".") + 1
		if n == 5 {
			return nil, badInput("token", "this is a JWE (encrypted token, 5 segments); it can only be read with the recipient's private key. In Keycloak, turn off ID token/userinfo encryption for the client", nil)
		}
		return nil, badInput("token", "a JWT has three dot-separated segments, this input has "+strconv.Itoa(n), nil)
	}
	hseg, pseg, sseg := raw[:dot1], raw[dot1+1:dot2], raw[dot2+1:]
	if len(hseg) == 0 || len(pseg) == 0 {
		return nil, badInput("token", "empty header or payload segment", nil)
	}

	// One buffer holds a copy of the token (whose "header.payload" prefix is the signing input)
	// followed by the three decoded segments: one allocation for all of them.
	enc := base64.RawURLEncoding
	buf := make([]byte, len(raw)+enc.DecodedLen(len(hseg))+enc.DecodedLen(len(pseg))+enc.DecodedLen(len(sseg)))
	src := buf[:len(raw):len(raw)]
	copy(src, raw)
	signingInput := src[:dot2:dot2]
	rest := buf[len(raw):]

	hn, err := decodeSegment(rest, src[:dot1], "header")
	if err != nil {
		return nil, err
	}
	hdrJSON := rest[:hn:hn]
	rest = rest[hn:]
	pn, err := decodeSegment(rest, src[dot1+1:dot2], "payload")
	if err != nil {
		return nil, err
	}
	payload := rest[:pn:pn]
	rest = rest[pn:]
	sn, err := decodeSegment(rest, src[dot2+1:], "signature")
	if err != nil {
		return nil, err
	}
	sig := rest[:sn:sn]

	fields, err := decodeTokenJSON(hdrJSON, 0)
	if err != nil {
		return nil, segmentJSONError("token header", "not a JSON object", "member", err)
	}
	tok := &Token{Raw: raw, SigningInput: signingInput, Signature: sig, Header: Header{Fields: fields}}
	for _, f := range [...]struct {
		name string
		dst  *string
	}{{"alg", &tok.Header.Alg}, {"kid", &tok.Header.Kid}, {"typ", &tok.Header.Typ}} {
		switch v := fields[f.name].(type) {
		case nil:
		case string:
			*f.dst = v
		default:
			return nil, badInput("token header", "\""+f.name+"\" is not a string", nil)
		}
	}
	if _, ok := fields["enc"]; ok {
		return nil, badInput("token", "the header has \"enc\": this is a JWE (encrypted token), not a signed JWT", nil)
	}
	claims, err := decodeTokenJSON(payload, 24)
	if err != nil {
		return nil, segmentJSONError("token payload", "the claims are not a JSON object", "claim", err)
	}
	tok.Claims = claims
	tok.Kind = kindOf(tok)
	return tok, nil
}

// segmentJSONError is the *InputError for a header or payload that did not decode; nesting
// past MaxTokenDepth gets its own reason (with the *NestingError inside), and a number out of
// range names the member (a claim) that holds it.
func segmentJSONError(what, reason, member string, err error) *InputError {
	var ne *NestingError
	if errors.As(err, &ne) {
		return &InputError{What: what, Reason: "over ssoctl's nesting limit for tokens", Err: ne}
	}
	var re *NumberRangeError
	if errors.As(err, &re) {
		name := re.Member()
		if len(name) > 64 {
			name = name[:64] + "…"
		}
		return &InputError{What: what, Reason: member + " " + strconv.Quote(name), Err: re}
	}
	return badInput(what, reason, err)
}

// strictB64 refuses non-canonical encodings (unused trailing bits set), so that one token has
// exactly one spelling: a second spelling of the same bytes can only come from tampering.
var strictB64 = base64.RawURLEncoding.Strict()

func decodeSegment(dst, seg []byte, name string) (int, error) {
	// encoding/base64 skips '\r' and '\n', which would give one token a second spelling.
	if bytes.ContainsAny(seg, "\r\n") {
		return 0, badInput("token "+name, "contains a line break; a JWT segment is base64url without whitespace", nil)
	}
	n, err := strictB64.Decode(dst, seg)
	if err != nil {
		reason := "not base64url"
		if _, lax := base64.RawURLEncoding.Decode(dst, seg); lax == nil {
			reason = "non-canonical base64url (the last character has unused bits set): the token was altered"
		} else if bytes.HasSuffix(seg, []byte("=")) {
			reason = "base64url padding '=' is not allowed in a JWT"
		} else if bytes.ContainsAny(seg, "+/") {
			reason = "uses standard base64 ('+' or '/'); a JWT uses base64url ('-' and '_')"
		}
		return 0, badInput("token "+name, reason, err)
	}
	return n, nil
}

func kindOf(tok *Token) Kind {
	switch claimString(tok.Claims, "typ") {
	case "ID":
		return KindID
	case "Bearer":
		return KindAccess
	case "Refresh", "Offline":
		return KindRefresh
	}
	if strings.EqualFold(tok.Header.Typ, "at+jwt") || strings.EqualFold(tok.Header.Typ, "application/at+jwt") {
		return KindAccess
	}
	return KindUnknown
}

// claimString returns claims[name] when it is a string, else "".
func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}
