package inspect

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/ssoctl/ssoctl/internal/httpclient"
)

// Key is one public verification key with what its JWK registered about it. The raw crypto key
// is kept ready for verification, so a KeySet parsed once verifies many tokens without re-parsing.
type Key struct {
	// ID is the JWK "kid" ("" for PEM keys and kid-less JWKs).
	ID string `json:"kid,omitempty"`
	// Alg is the JWK "alg" the key is registered for ("" when the JWK has none, and for PEM keys).
	Alg string `json:"alg,omitempty"`
	// Use is the JWK "use" ("sig", "enc" or ""). Keys with use "enc" never verify signatures.
	Use string `json:"use,omitempty"`
	// Type is the key type: "RSA", "EC" or "OKP".
	Type string `json:"kty"`
	// Curve is the curve of an EC or OKP key: "P-256", "P-384", "P-521" or "Ed25519".
	Curve string `json:"crv,omitempty"`
	// Bits is the RSA modulus size or the curve size.
	Bits int `json:"bits"`
	// Public is *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
	Public crypto.PublicKey `json:"-"`
}

// KeySource yields the keys a token may have been signed with. *KeySet (static keys from a file
// or PEM) and *RemoteJWKS (a JWKS URL) implement it.
type KeySource interface {
	// KeysFor returns the keys whose kid equals kid (keys without a kid are candidates for any
	// kid), or every key when kid is "". An error is a runtime failure (e.g. the JWKS could not
	// be fetched), not a verification result.
	KeysFor(ctx context.Context, kid string) ([]*Key, error)
	// String describes the source for messages, e.g. "JWKS https://…/certs".
	String() string
}

// KeySet is a parsed, immutable set of public keys.
type KeySet struct {
	keys    []*Key
	skipped []string
	name    string

	// Built once by index(): lookups on the verification path allocate nothing.
	byID    map[string][]*Key
	kidless []*Key
	desc    string
}

// NewKeySet builds a KeySet from keys; name describes it in messages (e.g. "jwt_validation_pubkeys").
func NewKeySet(name string, keys ...*Key) *KeySet {
	return (&KeySet{keys: keys, name: name}).index()
}

// index prepares the kid lookup and the description; every constructor ends with it.
func (s *KeySet) index() *KeySet {
	s.byID = make(map[string][]*Key, len(s.keys))
	s.kidless = nil
	for _, k := range s.keys {
		if k.ID == "" {
			s.kidless = append(s.kidless, k)
			continue
		}
		s.byID[k.ID] = append(s.byID[k.ID], k)
	}
	name := s.name
	if name == "" {
		name = "key set"
	}
	if len(s.keys) == 1 {
		s.desc = name + " (1 key)"
	} else {
		s.desc = name + " (" + strconv.Itoa(len(s.keys)) + " keys)"
	}
	return s
}

// Keys returns the keys in document order.
func (s *KeySet) Keys() []*Key { return s.keys }

// Len returns the number of usable keys.
func (s *KeySet) Len() int { return len(s.keys) }

// Skipped lists the JWKs that were left out, and why (e.g. a symmetric "oct" key).
func (s *KeySet) Skipped() []string { return s.skipped }

// String describes the set for messages.
func (s *KeySet) String() string { return s.desc }

// KeysFor implements KeySource: keys with this kid, else the kid-less keys; all keys for kid "".
func (s *KeySet) KeysFor(_ context.Context, kid string) ([]*Key, error) {
	exact, kidless := s.byKid(kid)
	if len(exact) > 0 {
		return exact, nil
	}
	return kidless, nil
}

func (s *KeySet) byKid(kid string) (exact, kidless []*Key) {
	if kid == "" {
		return s.keys, nil
	}
	return s.byID[kid], s.kidless
}

// Lookup returns the keys for a token header: by kid when kid is set (as KeysFor), otherwise
// the keys that can verify alg (registered for it, or of its family when they have no alg).
func (s *KeySet) Lookup(kid, alg string) []*Key {
	if kid != "" {
		keys, _ := s.KeysFor(context.Background(), kid)
		return keys
	}
	var out []*Key
	for _, k := range s.keys {
		if keyAccepts(k, alg) == "" {
			out = append(out, k)
		}
	}
	return out
}

// ParseKeys reads a key file: PEM (public keys or certificates) when it starts with
// "-----BEGIN", otherwise a JWKS or a single JWK.
func ParseKeys(data []byte) (*KeySet, error) {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
		return ParsePEMKeys(data)
	}
	return ParseJWKS(data)
}

// ParseJWKS parses a JSON Web Key Set ({"keys": [...]}) or a single JWK with jwx. Private keys
// are reduced to their public part; symmetric and other non-signature keys are listed in
// Skipped. A document that does not parse is an *InputError (BadInput).
func ParseJWKS(data []byte) (*KeySet, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, badInput("JWKS", "", err)
	}
	ks := &KeySet{name: "JWKS"}
	for i := 0; i < set.Len(); i++ {
		k, ok := set.Key(i)
		if !ok {
			continue
		}
		kid := k.KeyID()
		label := "key " + strconv.Itoa(i)
		if kid != "" {
			label += " (kid " + strconv.Quote(kid) + ")"
		}
		pk, err := jwk.PublicKeyOf(k)
		if err != nil {
			ks.skipped = append(ks.skipped, label+": "+string(k.KeyType())+" key has no public part (a shared secret never verifies with public-key algorithms)")
			continue
		}
		var raw any
		if err := pk.Raw(&raw); err != nil {
			ks.skipped = append(ks.skipped, label+": "+err.Error())
			continue
		}
		alg := ""
		if a := k.Algorithm(); a != nil {
			alg = a.String()
		}
		key, err := newKey(raw, kid, alg, k.KeyUsage())
		if err != nil {
			ks.skipped = append(ks.skipped, label+": "+err.Error())
			continue
		}
		ks.keys = append(ks.keys, key)
	}
	return ks.index(), nil
}

// ParsePEMKeys parses one or more PEM blocks: "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY" (PKCS #1)
// or "CERTIFICATE". Vault's jwt_validation_pubkeys are such PEM strings. Anything else,
// including private keys, is an *InputError.
func ParsePEMKeys(data []byte) (*KeySet, error) {
	ks := &KeySet{name: "PEM public keys"}
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var pub any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			return nil, badInput("PEM", "block "+strconv.Itoa(n)+" is "+strconv.Quote(block.Type)+"; expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE (never a private key)", nil)
		}
		if err != nil {
			return nil, badInput("PEM", "block "+strconv.Itoa(n)+" ("+block.Type+")", err)
		}
		key, err := newKey(pub, "", "", "")
		if err != nil {
			return nil, badInput("PEM", "block "+strconv.Itoa(n), err)
		}
		ks.keys = append(ks.keys, key)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, badInput("PEM", "data that is not a PEM block follows the keys", nil)
	}
	if len(ks.keys) == 0 {
		return nil, badInput("PEM", "no PEM block found", nil)
	}
	return ks.index(), nil
}

// KeySetFromPEMs parses a list of PEM strings such as Vault's jwt_validation_pubkeys.
func KeySetFromPEMs(pems []string) (*KeySet, error) {
	ks := &KeySet{name: "jwt_validation_pubkeys"}
	for i, p := range pems {
		one, err := ParsePEMKeys([]byte(p))
		if err != nil {
			if ie, ok := err.(*InputError); ok {
				ie.What = "jwt_validation_pubkeys[" + strconv.Itoa(i) + "]"
			}
			return nil, err
		}
		ks.keys = append(ks.keys, one.keys...)
	}
	return ks.index(), nil
}

func newKey(pub any, kid, alg, use string) (*Key, error) {
	k := &Key{ID: kid, Alg: alg, Use: use, Public: pub}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k.Type, k.Bits = "RSA", p.N.BitLen()
	case *ecdsa.PublicKey:
		k.Type = "EC"
		if p.Curve == nil {
			return nil, errors.New("EC key without a curve")
		}
		k.Curve, k.Bits = p.Curve.Params().Name, p.Curve.Params().BitSize
	case ed25519.PublicKey:
		k.Type, k.Curve, k.Bits = "OKP", "Ed25519", 256
	default:
		return nil, errors.New("unsupported key type " + strings.TrimPrefix(typeName(pub), "*") + " (only RSA, EC P-256/384/521 and Ed25519 verify JWTs)")
	}
	return k, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case []byte:
		return "symmetric key"
	}
	return strings.TrimPrefix(strings.TrimPrefix(fmtType(v), "*"), "crypto/")
}

// RemoteJWKS is a KeySource backed by a JWKS URL, fetched with the caller's *http.Client on first
// use and cached. When a token's kid is not in the cached set, it fetches the JWKS once more (the
// provider may have rotated its keys) before reporting the kid unknown; it refetches at most once
// per kid. It is safe for concurrent use.
type RemoteJWKS struct {
	url    string
	client *http.Client

	mu        sync.Mutex
	set       *KeySet
	fetches   int
	refetched map[string]bool
}

// NewRemoteJWKS returns a KeySource for the JWKS at url, fetched with client.
func NewRemoteJWKS(client *http.Client, url string) *RemoteJWKS {
	return &RemoteJWKS{url: url, client: client}
}

// URL returns the JWKS address.
func (r *RemoteJWKS) URL() string { return r.url }

// String describes the source for messages.
func (r *RemoteJWKS) String() string { return "JWKS " + r.url }

// Fetches returns how many times the JWKS was requested.
func (r *RemoteJWKS) Fetches() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches
}

// KeySet returns the last fetched set, fetching it first if needed.
func (r *RemoteJWKS) KeySet(ctx context.Context) (*KeySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		if err := r.fetchLocked(ctx); err != nil {
			return nil, err
		}
	}
	return r.set, nil
}

// KeysFor implements KeySource, refetching once for a kid the cached set does not have.
func (r *RemoteJWKS) KeysFor(ctx context.Context, kid string) ([]*Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		if err := r.fetchLocked(ctx); err != nil {
			return nil, err
		}
	}
	exact, kidless := r.set.byKid(kid)
	if len(exact) == 0 && kid != "" && !r.refetched[kid] {
		if r.refetched == nil {
			r.refetched = map[string]bool{}
		}
		r.refetched[kid] = true
		if err := r.fetchLocked(ctx); err != nil {
			return nil, err
		}
		exact, kidless = r.set.byKid(kid)
	}
	if len(exact) > 0 {
		return exact, nil
	}
	return kidless, nil
}

func (r *RemoteJWKS) fetchLocked(ctx context.Context) error {
	r.fetches++
	body, err := getDocument(ctx, r.client, r.url)
	if err != nil {
		return err
	}
	set, err := ParseJWKS(body)
	if err != nil {
		return &FetchError{URL: r.url, StatusCode: http.StatusOK, Err: err}
	}
	set.name = "JWKS " + r.url
	r.set = set.index()
	return nil
}

// maxDocumentSize bounds a discovery document or JWKS: 4 MiB, far above
// any real one. A larger answer is bad input (exit 2).
const maxDocumentSize = 4 << 20

// getDocument GETs url with client and returns the body of a 200 answer.
func getDocument(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	if client == nil {
		return nil, &FetchError{URL: url, Err: errors.New("no HTTP client given")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, &FetchError{URL: url, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, &FetchError{URL: url, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if err != nil {
		return nil, &FetchError{URL: url, StatusCode: resp.StatusCode, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		snippet := strings.TrimSpace(string(body))
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		return nil, &FetchError{URL: url, StatusCode: resp.StatusCode, Body: snippet}
	}
	if len(body) > maxDocumentSize {
		return nil, &httpclient.ResponseTooLargeError{Method: http.MethodGet, URL: httpclient.MaskURL(req.URL), Limit: maxDocumentSize}
	}
	return body, nil
}
