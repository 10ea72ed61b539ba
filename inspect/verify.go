package inspect

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"strconv"
	"strings"
)

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	// Verified is true when the signature verified with a key that may sign this algorithm.
	Verified bool `json:"verified"`
	// Alg is the token's header alg.
	Alg string `json:"alg"`
	// Kid is the token's header kid.
	Kid string `json:"kid,omitempty"`
	// Key is the key that verified the signature (nil unless Verified).
	Key *Key `json:"key,omitempty"`
	// Source describes where the keys came from.
	Source string `json:"source,omitempty"`
	// KeysTried counts the candidate keys whose signature check ran.
	KeysTried int `json:"keys_tried"`
}

// signatureAlgs lists the JWS algorithms verified here: the ones Vault accepts.
var signatureAlgs = [...]string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

func isSignatureAlg(alg string) bool {
	for _, a := range signatureAlgs {
		if a == alg {
			return true
		}
	}
	return false
}

// Verify checks tok's signature with the keys from src. The rules:
//   - alg "none" (any case) or no alg is never accepted;
//   - HS256/384/512 are never verified with a public key (HS/RS key confusion);
//   - a key registered for an alg (JWK "alg") verifies only tokens with exactly that alg;
//   - a key without one verifies only its family: RS*/PS* for RSA, ES256/384/512 for
//     P-256/384/521, EdDSA for Ed25519; a key with use "enc" verifies nothing;
//   - the algorithm always comes from the token header checked against the key, never from the
//     key type alone;
//   - a "crit" header is refused (RFC 7515 §4.1.11): ssoctl understands no JWS extension;
//   - RSA keys under MinRSABits or with an exponent Go refuses (e.g. e=1) verify nothing
//     (FindingKeyUnusable), whatever GODEBUG says.
//
// Failed checks come back as findings; the error is only for a key source that cannot deliver
// keys (e.g. the JWKS URL is down). A nil src yields a FindingUnverified warning.
func Verify(ctx context.Context, tok *Token, src KeySource) (VerifyResult, []Finding, error) {
	res := VerifyResult{Alg: tok.Header.Alg, Kid: tok.Header.Kid}
	if f := algFinding(tok); f != nil {
		return res, []Finding{*f}, nil
	}
	if f := critFinding(tok.Header.Fields); f != nil {
		return res, []Finding{*f}, nil
	}
	if src == nil {
		return res, []Finding{{ID: FindingUnverified, Severity: SeverityWarning,
			Message: "the signature was not checked (no keys given)",
			Fix:     "pass --issuer URL (discovery + JWKS) or --jwks URL|FILE to verify the signature"}}, nil
	}
	res.Source = src.String()
	keys, err := src.KeysFor(ctx, tok.Header.Kid)
	if err != nil {
		return res, nil, err
	}
	alg := tok.Header.Alg
	if len(keys) == 0 {
		if tok.Header.Kid != "" {
			msg := "no key in " + src.String() + " has kid " + strconv.Quote(tok.Header.Kid)
			if _, remote := src.(*RemoteJWKS); remote {
				msg += ", also after fetching the JWKS again"
			}
			return res, []Finding{{ID: FindingKidUnknown, Severity: SeverityError, Message: msg,
				Fix: "verify against the issuer that signed this token (check iss and --issuer/--jwks); if the realm's keys were rotated, the token was signed by a key that has since been removed: get a new token"}}, nil
		}
		return res, []Finding{{ID: FindingNoKey, Severity: SeverityError,
			Message: src.String() + " holds no keys",
			Fix:     "point --jwks at the realm's certs endpoint (…/realms/REALM/protocol/openid-connect/certs)"}}, nil
	}
	var refused, defects []string
	var digestBuf [sha512.Size]byte
	var digest []byte
	for _, k := range keys {
		if why := keyAccepts(k, alg); why != "" {
			refused = append(refused, why)
			continue
		}
		if why := keyDefect(k); why != "" {
			defects = append(defects, why)
			continue
		}
		if digest == nil {
			digest = hashInto(digestBuf[:0], alg, tok.SigningInput)
		}
		res.KeysTried++
		if verifySignature(alg, k, tok.SigningInput, digest, tok.Signature) {
			res.Verified = true
			res.Key = k
			return res, nil, nil
		}
	}
	if res.KeysTried == 0 && len(defects) > 0 {
		msg := "the only keys that could verify this " + alg + " token are unusable: " + strings.Join(defects, "; ")
		if len(refused) > 0 {
			msg += " (other keys refused: " + strings.Join(refused, "; ") + ")"
		}
		return res, []Finding{{ID: FindingKeyUnusable, Severity: SeverityError, Message: msg,
			Fix: "the issuer must sign with a sound key: RSA of at least 2048 bits with e=65537 (Keycloak: Realm settings → Keys → Add provider → rsa-generated, key size 2048 or more), and publish it in its JWKS"}}, nil
	}
	if res.KeysTried == 0 {
		return res, []Finding{{ID: FindingAlgKeyMismatch, Severity: SeverityError,
			Message: "the token says alg " + alg + " but no candidate key may verify it: " + strings.Join(refused, "; "),
			Fix:     "an attacker can pick the header alg, so the key decides: sign with the key's algorithm (Keycloak: the client's 'ID token signature algorithm' / 'Access token signature algorithm' and the realm's active keys)"}}, nil
	}
	msg := "the signature does not verify with " + keyList(keys, alg)
	if refused = append(refused, defects...); len(refused) > 0 {
		msg += " (other keys refused: " + strings.Join(refused, "; ") + ")"
	}
	return res, []Finding{{ID: FindingSignature, Severity: SeverityError, Message: msg,
		Fix: "the token was altered, or signed by another key with the same kid: check that --issuer/--jwks belong to the token's iss " + strconv.Quote(claimString(tok.Claims, "iss"))}}, nil
}

// algFinding refuses the algorithms that must never verify, before any key is looked at.
func algFinding(tok *Token) *Finding {
	alg := tok.Header.Alg
	switch {
	case alg == "" || strings.EqualFold(alg, "none"):
		return &Finding{ID: FindingAlgNone, Severity: SeverityError,
			Message: "the header has alg " + strconv.Quote(alg) + ": an unsigned token is never accepted",
			Fix:     "use the token the identity provider issued; Keycloak always signs (RS256 unless the client says otherwise)"}
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return &Finding{ID: FindingAlgHMAC, Severity: SeverityError,
			Message: "the header has alg " + alg + " (HMAC with a shared secret); a public key never verifies it, because using a public key as an HMAC secret is the HS/RS key-confusion attack",
			Fix:     "have the issuer sign with an asymmetric algorithm (RS256, ES256, PS256, EdDSA); Vault accepts only those"}
	case !isSignatureAlg(alg):
		return &Finding{ID: FindingAlgUnsupported, Severity: SeverityError,
			Message: "the header has alg " + strconv.Quote(alg) + ", which is not one of " + strings.Join(signatureAlgs[:], ", "),
			Fix:     "have the issuer sign with one of " + strings.Join(signatureAlgs[:], ", ")}
	case len(tok.Signature) == 0:
		return &Finding{ID: FindingUnsigned, Severity: SeverityError,
			Message: "the signature segment is empty",
			Fix:     "use the complete token (three segments, the third is the signature)"}
	}
	return nil
}

// jwsHeaderNames are the header parameters RFC 7515 defines for JWS; crit must not name them.
var jwsHeaderNames = map[string]bool{"alg": true, "jku": true, "jwk": true, "kid": true, "x5u": true, "x5c": true,
	"x5t": true, "x5t#S256": true, "typ": true, "cty": true, "crit": true}

// critFinding applies RFC 7515 §4.1.11 to the "crit" header: it must be a non-empty list of
// distinct extension names that occur in the header, and the recipient must understand every one.
// ssoctl understands no extension, so any valid crit is refused too (a nil result means no crit).
func critFinding(header map[string]any) *Finding {
	v, present := header["crit"]
	if !present {
		return nil
	}
	const rfc = "RFC 7515 §4.1.11"
	bad := func(why string) *Finding {
		return &Finding{ID: FindingCrit, Severity: SeverityError, Message: why,
			Fix: "have the issuer sign without a crit header (Keycloak never writes one); no verifier may accept a token whose critical extensions it does not understand"}
	}
	list, isList := v.([]any)
	switch {
	case !isList:
		return bad("the header's crit is " + typedValue(v) + "; " + rfc + " requires a list of header names, so the token is invalid")
	case len(list) == 0:
		return bad("the header's crit is an empty list, which " + rfc + " forbids, so the token is invalid")
	}
	seen := make(map[string]bool, len(list))
	var unknown []string
	for _, e := range list {
		name, isStr := e.(string)
		_, inHeader := header[name]
		switch {
		case !isStr:
			return bad("the header's crit holds " + typedValue(e) + "; " + rfc + " requires header names (strings), so the token is invalid")
		case seen[name]:
			return bad("the header's crit names " + strconv.Quote(name) + " twice, which " + rfc + " forbids, so the token is invalid")
		case jwsHeaderNames[name]:
			return bad("the header's crit names " + strconv.Quote(name) + ", a header parameter JWS itself defines, which " + rfc + " forbids, so the token is invalid")
		case !inHeader:
			return bad("the header's crit names " + strconv.Quote(name) + ", which the header does not have; " + rfc + " makes such a token invalid")
		}
		seen[name] = true
		unknown = append(unknown, name)
	}
	return bad("the header's crit marks " + quoteList(unknown) + " as critical extensions, which ssoctl does not understand; " + rfc + " says a token with a critical extension the verifier does not understand is invalid, so the signature was not accepted")
}

// keyAccepts returns "" when key k may verify alg, else why not.
func keyAccepts(k *Key, alg string) string {
	switch {
	case k.Use == "enc":
		return keyName(k) + " is an encryption key (use \"enc\")"
	case k.Alg != "" && k.Alg != alg:
		return keyName(k) + " is registered for alg " + k.Alg + ", not " + alg
	case familyAccepts(k, alg):
		return ""
	case k.Alg != "":
		return keyName(k) + " (" + keyDesc(k) + ") cannot produce " + alg + " signatures"
	}
	return keyName(k) + " (" + keyDesc(k) + ") cannot verify " + alg
}

// MinRSABits is the smallest RSA modulus Go's crypto/rsa verifies with (since Go 1.24, unless
// GODEBUG=rsa1024min=0); ssoctl refuses smaller keys whatever GODEBUG says.
const MinRSABits = 1024

// keyDefect returns "" when k is a key Go verifies with, else what is wrong with it: an RSA
// modulus under MinRSABits or even, or a public exponent Go refuses (below 2, even, or above 2³¹−1).
func keyDefect(k *Key) string {
	pub, ok := k.Public.(*rsa.PublicKey)
	if !ok {
		return ""
	}
	name := keyName(k) + " (" + keyDesc(k) + ")"
	switch {
	case pub.N == nil || pub.N.Sign() <= 0 || pub.N.Bit(0) == 0:
		return name + " has an even or empty modulus, so it is not an RSA key"
	case pub.N.BitLen() < MinRSABits:
		return name + " is too small: Go refuses RSA keys under " + strconv.Itoa(MinRSABits) + " bits (and such a key can be factored)"
	case pub.E < 2:
		return name + " has public exponent e=" + strconv.Itoa(pub.E) + ", which is invalid: with e=1 the signature is the signed data itself, so anyone can forge one, and Go refuses it"
	case pub.E%2 == 0:
		return name + " has an even public exponent e=" + strconv.Itoa(pub.E) + ", which is invalid, and Go refuses it"
	case pub.E > 1<<31-1:
		return name + " has public exponent e=" + strconv.Itoa(pub.E) + ", larger than the 2³¹−1 Go accepts"
	}
	return ""
}

func keyName(k *Key) string {
	if k.ID == "" {
		return "key"
	}
	return "key " + strconv.Quote(k.ID)
}

// familyAccepts is the key-type rule: which algorithms a key of this type and curve can verify.
func familyAccepts(k *Key, alg string) bool {
	switch k.Type {
	case "RSA":
		return len(alg) == 5 && (alg[:2] == "RS" || alg[:2] == "PS")
	case "EC":
		return (alg == "ES256" && k.Curve == "P-256") || (alg == "ES384" && k.Curve == "P-384") || (alg == "ES512" && k.Curve == "P-521")
	case "OKP":
		return alg == "EdDSA" && k.Curve == "Ed25519"
	}
	return false
}

func keyDesc(k *Key) string {
	if k.Curve != "" {
		return k.Type + " " + k.Curve
	}
	return k.Type + " " + strconv.Itoa(k.Bits) + "-bit"
}

func keyList(keys []*Key, alg string) string {
	var names []string
	for _, k := range keys {
		if keyAccepts(k, alg) == "" && keyDefect(k) == "" {
			n := keyDesc(k)
			if k.ID != "" {
				n = "kid " + strconv.Quote(k.ID) + " (" + n + ")"
			}
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

func hashFor(alg string, data []byte) []byte {
	return hashInto(make([]byte, 0, sha512.Size), alg, data)
}

// hashInto appends alg's digest of data to dst (nothing for EdDSA, which signs the message).
func hashInto(dst []byte, alg string, data []byte) []byte {
	switch alg[len(alg)-3:] {
	case "256":
		h := sha256.Sum256(data)
		return append(dst, h[:]...)
	case "384":
		h := sha512.Sum384(data)
		return append(dst, h[:]...)
	case "512":
		h := sha512.Sum512(data)
		return append(dst, h[:]...)
	}
	return dst[:0:0] // non-nil: "hashed" already
}

func hashID(alg string) crypto.Hash {
	switch alg[len(alg)-3:] {
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return crypto.SHA256
}

// verifySignature checks sig over the signing input with key k; alg has been matched to k.
func verifySignature(alg string, k *Key, signingInput, digest, sig []byte) bool {
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if alg[0] == 'P' {
			return rsa.VerifyPSS(pub, hashID(alg), digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
		}
		return rsa.VerifyPKCS1v15(pub, hashID(alg), digest, sig) == nil
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest, r, s)
	case ed25519.PublicKey:
		return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, signingInput, sig)
	}
	return false
}
