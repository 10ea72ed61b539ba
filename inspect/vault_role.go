package inspect

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// VaultRole is a role of Vault's JWT/OIDC auth method (auth/MOUNT/role/NAME), with the fields
// that decide whether a login succeeds.
type VaultRole struct {
	// Name is the role name (lowercased by Vault); used for the alias metadata key "role".
	Name string
	// RoleType is "jwt" (login with a token) or "oidc" (browser flow).
	RoleType string
	// RoleTypeDefaulted is true when the input had no role_type: Vault makes such a role "oidc"
	// on every write, which is how jwt roles turn into oidc roles by accident.
	RoleTypeDefaulted bool
	// UserClaim names the claim whose value becomes the entity alias name.
	UserClaim string
	// UserClaimJSONPointer makes UserClaim a JSON pointer (otherwise a literal top-level key).
	UserClaimJSONPointer bool
	// GroupsClaim names the claim listing group alias names; a JSON pointer when it starts with "/".
	GroupsClaim string
	// BoundAudiences must share a value with aud (jwt roles: required when the token has aud).
	BoundAudiences []string
	// BoundSubject, when set, must equal sub.
	BoundSubject string
	// BoundClaimsType is "string" or "glob".
	BoundClaimsType string
	// BoundClaims maps claim names or pointers to required values (a value or a list of values).
	// Numbers are json.Number, as Vault stores them.
	BoundClaims map[string]any
	// ClaimMappings maps claim names or pointers to alias metadata keys.
	ClaimMappings map[string]string
	// ClockSkewLeeway is the tolerance on every time comparison (0: 60s, negative: none).
	ClockSkewLeeway time.Duration
	// ExpirationLeeway only makes up an exp for tokens without one (0: 150s, negative: none).
	ExpirationLeeway time.Duration
	// NotBeforeLeeway only makes up an nbf for tokens without nbf and iat (0: 150s, negative: none).
	NotBeforeLeeway time.Duration
	// AllowedRedirectURIs are the browser-flow callback URLs (oidc roles).
	AllowedRedirectURIs []string
	// OIDCScopes are extra scopes requested in the browser flow.
	OIDCScopes []string
	// MaxAge is the oidc max_age (0: unset).
	MaxAge time.Duration
	// TokenPolicies are the policies the Vault token gets from the role itself.
	TokenPolicies []string
	// TokenBoundCIDRs restrict the client addresses allowed to log in.
	TokenBoundCIDRs []string
	// TokenPoliciesTemplateClaims (OpenBao 2.1+) makes each token policy a Go
	// template over the token's claims. Vault has no such field.
	TokenPoliciesTemplateClaims bool
}

// VaultAuthType is how a mount's config validates tokens (plugin authType()).
type VaultAuthType string

const (
	// VaultAuthStaticKeys: jwt_validation_pubkeys.
	VaultAuthStaticKeys VaultAuthType = "static-keys"
	// VaultAuthJWKS: jwks_url.
	VaultAuthJWKS VaultAuthType = "jwks"
	// VaultAuthMultiJWKS: jwks_pairs.
	VaultAuthMultiJWKS VaultAuthType = "multi-jwks"
	// VaultAuthOIDCDiscovery: oidc_discovery_url without a client: JWT login with discovered keys.
	VaultAuthOIDCDiscovery VaultAuthType = "oidc-discovery"
	// VaultAuthOIDCFlow: oidc_discovery_url with client id and secret: the browser flow only.
	VaultAuthOIDCFlow VaultAuthType = "oidc-flow"
	// VaultAuthUnconfigured: none of the above.
	VaultAuthUnconfigured VaultAuthType = "unconfigured"
)

// VaultConfig is a JWT/OIDC mount's config (auth/MOUNT/config).
type VaultConfig struct {
	// BoundIssuer, when set, must equal iss exactly (jwt logins).
	BoundIssuer string
	// JWTSupportedAlgs restricts alg; empty means all ten asymmetric algorithms for jwt logins
	// and RS256 alone for the OIDC flow.
	JWTSupportedAlgs []string
	// JWTValidationPubKeys are PEM public keys (static keys).
	JWTValidationPubKeys []string
	// JWKSURL is a JWKS address.
	JWKSURL string
	// JWKSPairs counts jwks_pairs entries.
	JWKSPairs int
	// OIDCDiscoveryURL is the issuer whose discovery document is used.
	OIDCDiscoveryURL string
	// OIDCClientID is the OIDC client id (browser flow).
	OIDCClientID string
	// OIDCClientSecretSet says a client secret is stored. Vault never returns the secret on read
	// but refuses a client id without one, so VaultConfigFromMap sets it when a client id is set.
	OIDCClientSecretSet bool
	// DefaultRole is used when a login names no role.
	DefaultRole string
	// OIDCResponseTypes are the browser flow's response types: "code" (the
	// default, the code flow) and/or "id_token" (the implicit flow, which
	// Vault prefers when it is listed: no access token, so no userinfo).
	OIDCResponseTypes []string
}

// AuthType classifies the config as the plugin does: static keys, then jwks_url, then
// jwks_pairs, then discovery (the browser flow when client id and secret are set).
func (c *VaultConfig) AuthType() VaultAuthType {
	switch {
	case len(c.JWTValidationPubKeys) > 0:
		return VaultAuthStaticKeys
	case c.JWKSURL != "":
		return VaultAuthJWKS
	case c.JWKSPairs > 0:
		return VaultAuthMultiJWKS
	case c.OIDCDiscoveryURL != "":
		if c.OIDCClientID != "" && c.OIDCClientSecretSet {
			return VaultAuthOIDCFlow
		}
		return VaultAuthOIDCDiscovery
	}
	return VaultAuthUnconfigured
}

// ParseVaultRoleFile reads a role as `vault read -format=json auth/MOUNT/role/NAME` prints it
// ({"request_id": ..., "data": {...}}) or as a bare data object. Failures are *InputError.
func ParseVaultRoleFile(data []byte) (*VaultRole, error) {
	m, err := decodeVaultFile(data, "vault role file", "user_claim", "role_type")
	if err != nil {
		return nil, err
	}
	return VaultRoleFromMap(m)
}

// ParseVaultConfigFile reads a mount config as `vault read -format=json auth/MOUNT/config`
// prints it, or as a bare data object. Failures are *InputError.
func ParseVaultConfigFile(data []byte) (*VaultConfig, error) {
	m, err := decodeVaultFile(data, "vault config file", "bound_issuer", "oidc_discovery_url", "jwks_url", "jwt_validation_pubkeys")
	if err != nil {
		return nil, err
	}
	return VaultConfigFromMap(m)
}

func decodeVaultFile(data []byte, what string, ownKeys ...string) (map[string]any, error) {
	m, err := decodeJSONObject(data)
	if err != nil {
		return nil, segmentJSONError(what, "not a JSON object", "key", err)
	}
	inner, hasData := m["data"].(map[string]any)
	if !hasData {
		if _, present := m["data"]; present {
			return nil, badInput(what, "\"data\" is not an object", nil)
		}
		return m, nil
	}
	for _, k := range ownKeys {
		if _, own := m[k]; own {
			return m, nil // a bare object that happens to have a "data" field
		}
	}
	return inner, nil
}

// VaultRoleFromMap builds a role from the data map Vault returns for auth/MOUNT/role/NAME
// (numbers as json.Number, float64 or int; lists as []any or []string). Fields Vault rejects at
// write time are *InputError with Vault's message.
func VaultRoleFromMap(m map[string]any) (*VaultRole, error) {
	var err error
	r := &VaultRole{}
	fail := func(field string, e error) (*VaultRole, error) {
		return nil, badInput("vault role", "field "+field, e)
	}
	if r.RoleType, err = mapString(m, "role_type"); err != nil {
		return fail("role_type", err)
	}
	if r.RoleType == "" {
		r.RoleType, r.RoleTypeDefaulted = "oidc", true
	}
	if r.RoleType != "jwt" && r.RoleType != "oidc" {
		return nil, badInput("vault role", "invalid 'role_type': "+r.RoleType, nil)
	}
	if r.Name, err = mapString(m, "name"); err != nil {
		return fail("name", err)
	}
	r.Name = strings.ToLower(r.Name)
	if r.UserClaim, err = mapString(m, "user_claim"); err != nil {
		return fail("user_claim", err)
	}
	if r.UserClaim == "" {
		return nil, badInput("vault role", vaultMsgUserClaimRequired, nil)
	}
	if r.TokenPoliciesTemplateClaims, err = mapBool(m, "token_policies_template_claims"); err != nil {
		return fail("token_policies_template_claims", err)
	}
	if r.UserClaimJSONPointer, err = mapBool(m, "user_claim_json_pointer"); err != nil {
		return fail("user_claim_json_pointer", err)
	}
	if r.GroupsClaim, err = mapString(m, "groups_claim"); err != nil {
		return fail("groups_claim", err)
	}
	if r.BoundSubject, err = mapString(m, "bound_subject"); err != nil {
		return fail("bound_subject", err)
	}
	if r.BoundClaimsType, err = mapString(m, "bound_claims_type"); err != nil {
		return fail("bound_claims_type", err)
	}
	if r.BoundClaimsType == "" {
		r.BoundClaimsType = "string"
	}
	if r.BoundClaimsType != "string" && r.BoundClaimsType != "glob" {
		return nil, badInput("vault role", "invalid 'bound_claims_type': "+r.BoundClaimsType, nil)
	}
	lists := []struct {
		name string
		dst  *[]string
	}{
		{"bound_audiences", &r.BoundAudiences}, {"allowed_redirect_uris", &r.AllowedRedirectURIs},
		{"oidc_scopes", &r.OIDCScopes}, {"token_bound_cidrs", &r.TokenBoundCIDRs},
	}
	for _, l := range lists {
		if *l.dst, err = mapStringList(m, l.name); err != nil {
			return fail(l.name, err)
		}
	}
	if r.TokenPolicies, err = mapStringList(m, "token_policies"); err != nil {
		return fail("token_policies", err)
	}
	if len(r.TokenPolicies) == 0 {
		if r.TokenPolicies, err = mapStringList(m, "policies"); err != nil {
			return fail("policies", err)
		}
	}
	if len(r.TokenBoundCIDRs) == 0 {
		if r.TokenBoundCIDRs, err = mapStringList(m, "bound_cidrs"); err != nil {
			return fail("bound_cidrs", err)
		}
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"clock_skew_leeway", &r.ClockSkewLeeway}, {"expiration_leeway", &r.ExpirationLeeway},
		{"not_before_leeway", &r.NotBeforeLeeway}, {"max_age", &r.MaxAge},
	}
	for _, d := range durations {
		if *d.dst, err = mapSeconds(m, d.name); err != nil {
			return fail(d.name, err)
		}
	}
	switch bc := m["bound_claims"].(type) {
	case nil:
	case map[string]any:
		r.BoundClaims = make(map[string]any, len(bc))
		for k, v := range bc {
			r.BoundClaims[k] = normalizeNumbers(v)
		}
	default:
		return fail("bound_claims", errorString("expected an object, got "+jsonTypeName(bc)))
	}
	if r.ClaimMappings, err = mapKVPairs(m, "claim_mappings"); err != nil {
		return fail("claim_mappings", err)
	}
	targets := map[string]string{}
	for _, src := range slices.Sorted(maps.Keys(r.ClaimMappings)) {
		dst := r.ClaimMappings[src]
		if dst == "role" {
			return nil, badInput("vault role", "metadata key \"role\" is reserved and may not be a mapping destination", nil)
		}
		if _, dup := targets[dst]; dup {
			return nil, badInput("vault role", "multiple keys are mapped to metadata key "+strconv.Quote(dst), nil)
		}
		targets[dst] = src
	}
	return r, nil
}

// VaultRoleFromServer is the one conversion of a role read from a live server (the data map of
// auth/MOUNT/role/NAME) into the model, for `inspect token --vault-role` and doctor: the fields
// as VaultRoleFromMap reads them (a role file, --vault-role-file, goes through the same
// function), named name, since Vault's read does not return the name.
func VaultRoleFromServer(name string, m map[string]any) (*VaultRole, error) {
	r, err := VaultRoleFromMap(m)
	if err != nil {
		return nil, err
	}
	r.Name = name
	return r, nil
}

// VaultConfigFromServer is the mount config read from a live server (auth/MOUNT/config), nil
// when the mount has none (m is nil).
func VaultConfigFromServer(m map[string]any) (*VaultConfig, error) {
	if m == nil {
		return nil, nil
	}
	return VaultConfigFromMap(m)
}

// VaultConfigFromMap builds a mount config from the data map Vault returns for
// auth/MOUNT/config. A present oidc_client_secret, or an oidc_client_id (which Vault stores only
// together with a secret), marks the secret as set.
func VaultConfigFromMap(m map[string]any) (*VaultConfig, error) {
	var err error
	c := &VaultConfig{}
	fail := func(field string, e error) (*VaultConfig, error) {
		return nil, badInput("vault config", "field "+field, e)
	}
	strs := []struct {
		name string
		dst  *string
	}{
		{"bound_issuer", &c.BoundIssuer}, {"jwks_url", &c.JWKSURL}, {"oidc_discovery_url", &c.OIDCDiscoveryURL},
		{"oidc_client_id", &c.OIDCClientID}, {"default_role", &c.DefaultRole},
	}
	for _, s := range strs {
		if *s.dst, err = mapString(m, s.name); err != nil {
			return fail(s.name, err)
		}
	}
	c.DefaultRole = strings.ToLower(c.DefaultRole)
	if c.JWTSupportedAlgs, err = mapStringList(m, "jwt_supported_algs"); err != nil {
		return fail("jwt_supported_algs", err)
	}
	if c.JWTValidationPubKeys, err = mapStringList(m, "jwt_validation_pubkeys"); err != nil {
		return fail("jwt_validation_pubkeys", err)
	}
	if c.OIDCResponseTypes, err = mapStringList(m, "oidc_response_types"); err != nil {
		return fail("oidc_response_types", err)
	}
	switch p := m["jwks_pairs"].(type) {
	case nil:
	case []any:
		c.JWKSPairs = len(p)
	default:
		return fail("jwks_pairs", errorString("expected a list"))
	}
	secret, err := mapString(m, "oidc_client_secret")
	if err != nil {
		return fail("oidc_client_secret", err)
	}
	c.OIDCClientSecretSet = secret != "" || c.OIDCClientID != ""
	return c, nil
}

// errorString is a constant-free error for field validation messages.
type errorString string

// Error implements error.
func (e errorString) Error() string { return string(e) }

func mapString(m map[string]any, k string) (string, error) {
	switch v := m[k].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", errorString("expected a string, got " + jsonTypeName(v))
	}
}

func mapBool(m map[string]any, k string) (bool, error) {
	switch v := m[k].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, errorString("expected a boolean, got " + strconv.Quote(v))
		}
		return b, nil
	default:
		return false, errorString("expected a boolean, got " + jsonTypeName(v))
	}
}

// mapStringList reads a TypeCommaStringSlice: a list of strings or one comma-separated string.
func mapStringList(m map[string]any, k string) ([]string, error) {
	switch v := m[k].(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(v) == "" {
			return nil, nil
		}
		parts := strings.Split(v, ",")
		out := make([]string, 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	case []string:
		return append([]string(nil), v...), nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, errorString("expected a list of strings, found " + jsonTypeName(e))
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, errorString("expected a list of strings, got " + jsonTypeName(v))
	}
}

// mapSeconds reads a TypeSignedDurationSecond: a number of seconds or a duration string ("90s").
func mapSeconds(m map[string]any, k string) (time.Duration, error) {
	var secs float64
	switch v := m[k].(type) {
	case nil:
		return 0, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return 0, errorString("expected seconds, got " + string(v))
		}
		secs = f
	case float64:
		secs = v
	case int:
		secs = float64(v)
	case int64:
		secs = float64(v)
	case string:
		if v == "" {
			return 0, nil
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			secs = float64(n)
			break
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, errorString("expected seconds or a duration, got " + strconv.Quote(v))
		}
		return d.Truncate(time.Second), nil
	default:
		return 0, errorString("expected seconds, got " + jsonTypeName(v))
	}
	if secs > 1e9 || secs < -1e9 {
		return 0, errorString("duration out of range")
	}
	return time.Duration(int64(secs)) * time.Second, nil
}

// mapKVPairs reads a TypeKVPairs: an object of strings, or a list of "key=value" strings.
func mapKVPairs(m map[string]any, k string) (map[string]string, error) {
	switch v := m[k].(type) {
	case nil:
		return nil, nil
	case map[string]string:
		out := make(map[string]string, len(v))
		for a, b := range v {
			out[a] = b
		}
		return out, nil
	case map[string]any:
		out := make(map[string]string, len(v))
		for a, b := range v {
			s, ok := b.(string)
			if !ok {
				return nil, errorString("value of " + strconv.Quote(a) + " is " + jsonTypeName(b) + ", expected a string")
			}
			out[a] = s
		}
		return out, nil
	case []any:
		out := make(map[string]string, len(v))
		for _, e := range v {
			s, ok := e.(string)
			key, val, found := strings.Cut(s, "=")
			if !ok || !found {
				return nil, errorString("expected key=value strings")
			}
			out[key] = val
		}
		return out, nil
	default:
		return nil, errorString("expected an object of strings, got " + jsonTypeName(v))
	}
}

// normalizeNumbers turns float64 and int numbers into json.Number, the type Vault's storage
// decoding gives role values, so comparisons behave as in Vault.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case float64:
		return json.Number(strconv.FormatFloat(x, 'f', -1, 64))
	case int:
		return json.Number(strconv.Itoa(x))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeNumbers(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeNumbers(e)
		}
		return out
	}
	return v
}
