package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/vault"
)

// maxKeyFile bounds a JWKS or PEM file given to --jwks.
const maxKeyFile = 1 << 20

type inspectTokenOptions struct {
	commonOptions
	Input          string
	Issuer         string
	JWKS           string
	Audiences      []string
	Claims         []string
	VaultRole      string
	VaultMount     string
	VaultRoleFile  string
	Flavor         string
	Leeway         time.Duration
	IDToken        bool
	AccessToken    bool
	InsecureNoVrfy bool
}

func newInspectTokenCmd(f *Factory, runF func(*inspectTokenOptions) error) *cobra.Command {
	opts := &inspectTokenOptions{commonOptions: newCommonOptions(f)}
	cmd := &cobra.Command{
		Use:   "token [FILE|-] [--issuer URL | --jwks URL|FILE] [flags]",
		Short: "Decode, verify and check a JWT, and predict what Vault will say about it",
		Long: `Read a JWT from FILE or stdin: a compact token (whitespace and "Bearer " are
tolerated) or a token-endpoint JSON response, whose ID token is inspected
unless --access-token is given.

The signature is verified with keys from --jwks (a URL or a JWKS/PEM file) or
from --issuer (OIDC discovery, then its jwks_uri). The algorithm must be the
key's: alg none and HMAC with a public key are refused. An unknown kid makes
ssoctl fetch the JWKS once more. --insecure-no-verify shows the claims without
verifying anything and exits 3.

Checks: exp, nbf and iat with --leeway; iss against --issuer exactly;
--audience against aud; --claim PTR[=VALUE] with RFC 6901 pointers (presence,
equality, membership); Keycloak's traps (aud only "account", roles only in the
access token, full-path groups, a groups claim missing for a user without
groups).

With --vault-role NAME (read with the mount's config from $VAULT_ADDR, mount
--vault-mount, default jwt) or --vault-role-file FILE (the JSON of
'vault read -format=json auth/M/role/R'), the token is run through Vault's own
checks in Vault's order and the verdict quotes the message Vault would give,
with the fix. OpenBao ($BAO_ADDR when $VAULT_ADDR is unset) is modelled as
OpenBao (templated token_policies included): with --vault-role the server says
which it is; with --vault-role-file, --flavor vault|openbao says (default
vault).

Exit codes: 0 every check passed, 3 a check failed (signature included),
2 malformed input, 1 a server could not be reached.`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input = "-"
			if len(args) == 1 {
				opts.Input = args[0]
			}
			if err := validateInspectTokenOptions(opts); err != nil {
				return err
			}
			opts.VaultMount = strings.Trim(opts.VaultMount, "/")
			return runCommand(cmd, opts, runF, inspectTokenRun)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Issuer, "issuer", "", "the expected issuer; its discovery document gives the keys")
	fl.StringVar(&opts.JWKS, "jwks", "", "keys to verify with: a JWKS URL, or a JWKS or PEM file")
	fl.StringArrayVar(&opts.Audiences, "audience", nil, "an audience that aud must contain (repeatable)")
	fl.StringArrayVar(&opts.Claims, "claim", nil, "PTR[=VALUE]: the claim at the JSON pointer must exist (and equal or contain VALUE) (repeatable)")
	fl.StringVar(&opts.VaultRole, "vault-role", "", "predict Vault's verdict for this role, read from $VAULT_ADDR")
	fl.StringVar(&opts.VaultMount, "vault-mount", "jwt", "the auth mount of --vault-role")
	fl.StringVar(&opts.VaultRoleFile, "vault-role-file", "", "predict Vault's verdict for the role in this file (vault read -format=json auth/M/role/R)")
	fl.StringVar(&opts.Flavor, "flavor", "", "the server --vault-role-file's role is for: vault (default) or openbao")
	fl.DurationVar(&opts.Leeway, "leeway", 60*time.Second, "clock tolerance for exp, nbf and iat")
	fl.BoolVar(&opts.IDToken, "id-token", false, "inspect the ID token of a token response")
	fl.BoolVar(&opts.AccessToken, "access-token", false, "inspect the access token of a token response")
	fl.BoolVar(&opts.InsecureNoVrfy, "insecure-no-verify", false, "decode and check claims without verifying the signature (exits 3)")
	return cmd
}

// validateInspectTokenOptions checks the flags that exclude or need each other.
func validateInspectTokenOptions(opts *inspectTokenOptions) error {
	if opts.IDToken && opts.AccessToken {
		return usageErrorf("--id-token and --access-token are mutually exclusive")
	}
	if opts.Issuer != "" && opts.JWKS != "" {
		return usageErrorf("--issuer and --jwks are mutually exclusive")
	}
	if opts.VaultRole != "" && opts.VaultRoleFile != "" {
		return usageErrorf("--vault-role and --vault-role-file are mutually exclusive")
	}
	switch {
	case opts.Flavor != "" && opts.Flavor != inspect.FlavorVault && opts.Flavor != inspect.FlavorOpenBao:
		return usageErrorf("unknown --flavor %q: want vault or openbao", opts.Flavor)
	case opts.Flavor != "" && opts.VaultRoleFile == "":
		return usageErrorf("--flavor goes with --vault-role-file (with --vault-role the server says what it is)")
	}
	if opts.InsecureNoVrfy && (opts.Issuer != "" || opts.JWKS != "") {
		return usageErrorf("--insecure-no-verify contradicts --issuer/--jwks")
	}
	if !opts.InsecureNoVrfy && opts.Issuer == "" && opts.JWKS == "" && opts.VaultRole == "" {
		return usageErrorf("nothing to verify the signature with: give --issuer or --jwks (or --vault-role, whose mount config names the keys), or --insecure-no-verify to only decode")
	}
	return nil
}

func inspectTokenRun(opts *inspectTokenOptions) error {
	tok, err := readToken(opts)
	if err != nil {
		return err
	}
	in, err := inspectOptions(opts)
	if err != nil {
		return err
	}
	rep, err := inspect.Inspect(opts.Context, tok, in)
	if le := (*inspect.TemplateLimitError)(nil); errors.As(err, &le) && opts.VaultRoleFile != "" {
		return fmt.Errorf("--vault-role-file %s: %w", opts.VaultRoleFile, err)
	}
	if err != nil {
		return err
	}
	if opts.InsecureNoVrfy {
		rep.Findings = append([]inspect.Finding{{ID: "token.not-verified", Severity: inspect.SeverityError,
			Message: "the signature was NOT verified (--insecure-no-verify): anyone could have written these claims",
			Fix:     "verify with --issuer URL or --jwks URL|FILE"}}, rep.Findings...)
	}
	if opts.Globals.JSON() {
		if err := writeJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	} else {
		writeReport(opts.IO, opts.Now(), tok, rep)
	}
	if rep.Failed() || opts.InsecureNoVrfy {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// readToken reads the token to inspect (--id-token and --access-token pick
// one of a token response) and redacts it.
func readToken(opts *inspectTokenOptions) (*inspect.Token, error) {
	data, err := readInput(opts.IO.In, opts.Input, maxInput)
	if err != nil {
		return nil, err
	}
	pick := inspect.PickDefault
	switch {
	case opts.IDToken:
		pick = inspect.PickIDToken
	case opts.AccessToken:
		pick = inspect.PickAccessToken
	}
	tok, err := inspect.ParseInput(data, pick)
	if err != nil {
		return nil, err
	}
	opts.Redactor.Add(tok.Raw)
	return tok, nil
}

// inspectOptions are the checks the flags ask for, the keys to verify
// with, and the Vault role to evaluate.
func inspectOptions(opts *inspectTokenOptions) (inspect.InspectOptions, error) {
	check := inspect.CheckOptions{Now: opts.Now(), Leeway: opts.Leeway, Issuer: opts.Issuer, Audiences: opts.Audiences}
	if opts.Leeway == 0 {
		check.Leeway = -1 // --leeway 0 means none
	}
	for _, c := range opts.Claims {
		a, err := inspect.ParseClaimAssertion(c)
		if err != nil {
			return inspect.InspectOptions{}, err
		}
		check.Claims = append(check.Claims, a)
	}
	in := inspect.InspectOptions{Check: check}
	var err error
	if in.Keys, err = flagKeys(opts); err != nil {
		return in, err
	}
	if vi, err := vaultInput(opts); err != nil {
		return in, err
	} else if vi != nil {
		in.Vault = vi
		if in.Keys == nil && !opts.InsecureNoVrfy && vi.Config != nil {
			// Verify with the keys the mount's config names, as Vault will.
			if in.Keys, err = configKeys(opts.Context, opts.connect, vi.Config); err != nil {
				return in, err
			}
		}
		if in.Keys == nil && !opts.InsecureNoVrfy {
			return in, usageErrorf("the Vault role does not say which keys to verify with: give --issuer or --jwks")
		}
	}
	return in, nil
}

// flagKeys is the key source --issuer or --jwks names, or nil. Network
// clients are built only when a URL is involved, so that an offline check
// (--jwks FILE) starts nothing it does not need.
func flagKeys(opts *inspectTokenOptions) (inspect.KeySource, error) {
	switch {
	case opts.Issuer != "":
		hc, err := opts.connect.plainHTTP()
		if err != nil {
			return nil, err
		}
		d, err := inspect.Discover(opts.Context, hc, opts.Issuer)
		if err != nil {
			return nil, err
		}
		return inspect.NewRemoteJWKS(hc, d.JWKSURI), nil
	case strings.HasPrefix(opts.JWKS, "http://") || strings.HasPrefix(opts.JWKS, "https://"):
		hc, err := opts.connect.plainHTTP()
		if err != nil {
			return nil, err
		}
		return inspect.NewRemoteJWKS(hc, opts.JWKS), nil
	case opts.JWKS != "":
		b, err := readInput(opts.IO.In, opts.JWKS, maxKeyFile)
		if err != nil {
			return nil, err
		}
		return inspect.ParseKeys(b)
	}
	return nil, nil
}

// vaultInput reads the Vault role (and the mount config) to evaluate, or nil.
func vaultInput(opts *inspectTokenOptions) (*inspect.VaultInput, error) {
	ctx := opts.Context
	switch {
	case opts.VaultRoleFile != "":
		b, err := readInput(opts.IO.In, opts.VaultRoleFile, maxInput)
		if err != nil {
			return nil, err
		}
		r, err := inspect.ParseVaultRoleFile(b)
		if err != nil {
			return nil, err
		}
		flavor := opts.Flavor
		if flavor == "" {
			flavor = inspect.FlavorVault
		}
		return &inspect.VaultInput{Role: r, Options: inspect.VaultOptions{Flavor: flavor}}, nil
	case opts.VaultRole != "":
		conn, err := opts.connect.vaultConn("", "", true)
		if err != nil {
			return nil, err
		}
		rm, err := conn.ReadRole(ctx, opts.VaultMount, opts.VaultRole)
		if err != nil {
			return nil, err
		}
		if rm == nil {
			return nil, fmt.Errorf("no role %q on mount %s/ of the Vault at %s (Vault would answer: role %q could not be found)", opts.VaultRole, opts.VaultMount, conn.Addr(), opts.VaultRole)
		}
		r, err := inspect.VaultRoleFromServer(opts.VaultRole, rm)
		if err != nil {
			return nil, err
		}
		cm, err := conn.ReadAuthConfig(ctx, opts.VaultMount)
		if err != nil {
			return nil, err
		}
		c, err := inspect.VaultConfigFromServer(cm)
		if err != nil {
			return nil, err
		}
		mountType, err := conn.AuthType(ctx, opts.VaultMount)
		if err != nil {
			return nil, err
		}
		vo := inspect.VaultOptions{RoleName: opts.VaultRole, Mount: opts.VaultMount, Flavor: inspect.FlavorVault, RoleFromServer: true}
		if srv, err := conn.Server(ctx); err == nil && srv.Flavor == vault.FlavorOpenBao {
			vo.Flavor = inspect.FlavorOpenBao
		}
		if mountType == "jwt" {
			vo.Login = inspect.VaultLoginJWT
		}
		return &inspect.VaultInput{Role: r, Config: c, Options: vo}, nil
	}
	return nil, nil
}

// configKeys returns the key source a Vault mount config names.
func configKeys(ctx context.Context, connect *connector, c *inspect.VaultConfig) (inspect.KeySource, error) {
	switch {
	case len(c.JWTValidationPubKeys) > 0:
		return inspect.KeySetFromPEMs(c.JWTValidationPubKeys)
	case c.JWKSURL != "":
		hc, err := connect.plainHTTP()
		if err != nil {
			return nil, err
		}
		return inspect.NewRemoteJWKS(hc, c.JWKSURL), nil
	case c.OIDCDiscoveryURL != "":
		hc, err := connect.plainHTTP()
		if err != nil {
			return nil, err
		}
		d, err := inspect.Discover(ctx, hc, c.OIDCDiscoveryURL)
		if err != nil {
			return nil, err
		}
		return inspect.NewRemoteJWKS(hc, d.JWKSURI), nil
	}
	return nil, nil
}

// claimOrder lists the registered claims first, in the order people read them.
var claimOrder = []string{"iss", "sub", "aud", "azp", "typ", "exp", "iat", "nbf", "auth_time"}

var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true}

// writeReport prints rep for people. Every string that comes from the token (or from a
// server) goes through termSafe, so that a claim cannot move the cursor, retitle the window or
// forge a line of the report.
func writeReport(ios *IOStreams, now time.Time, tok *inspect.Token, rep *inspect.Report) {
	th := ios.OutTheme()
	w := ios.Out
	kind := string(tok.Kind)
	if tok.FromResponse {
		kind += " token from a token response"
	} else {
		kind += " token"
	}
	fmt.Fprintf(w, "%s %s\n", th.Bold.Render("Token:"), kind)
	fmt.Fprintf(w, "%s\n", th.Bold.Render("Header:"))
	for _, k := range slices.Sorted(maps.Keys(rep.Header)) {
		fmt.Fprintf(w, "  %-10s %s\n", termSafe(k), termSafe(compact(rep.Header[k])))
	}
	fmt.Fprintf(w, "%s\n", th.Bold.Render("Claims:"))
	keys := slices.Sorted(maps.Keys(rep.Claims))
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := slices.Index(claimOrder, keys[i]), slices.Index(claimOrder, keys[j])
		switch {
		case a >= 0 && b >= 0:
			return a < b
		case a >= 0 || b >= 0:
			return a >= 0
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		v := compact(rep.Claims[k])
		if timeClaims[k] {
			v = describeTime(rep.Claims[k], now, k)
		}
		fmt.Fprintf(w, "  %-18s %s\n", termSafe(k), termSafe(v))
	}
	writeSignature(w, th, tok, rep)
	writeFindings(ios, "Findings:", rep.Findings)
	if rep.Vault != nil {
		writeVaultVerdict(ios, rep.Vault)
	}
}

// writeSignature prints whether the signature was verified, and with which key.
func writeSignature(w io.Writer, th *Theme, tok *inspect.Token, rep *inspect.Report) {
	switch {
	case rep.Verified:
		src := ""
		if rep.Verification != nil && rep.Verification.Source != "" {
			src = " from " + rep.Verification.Source
		}
		kid := ""
		if rep.Verification != nil && rep.Verification.Key != nil && rep.Verification.Key.ID != "" {
			kid = " (kid " + rep.Verification.Key.ID + ")"
		}
		fmt.Fprintf(w, "%s %s verified with %s\n", th.Bold.Render("Signature:"), th.OK.Render("✓"), termSafe(tok.Header.Alg+kid+src))
	case rep.Verification == nil:
		fmt.Fprintf(w, "%s %s NOT verified\n", th.Bold.Render("Signature:"), th.Fail.Render("✗"))
	default:
		fmt.Fprintf(w, "%s %s failed\n", th.Bold.Render("Signature:"), th.Fail.Render("✗"))
	}
}

// writeVaultVerdict prints what Vault would say of the token.
func writeVaultVerdict(ios *IOStreams, v *inspect.VaultVerdict) {
	th := ios.OutTheme()
	w := ios.Out
	verdict := th.OK.Render("✓ Vault would accept it")
	switch {
	case v.CannotEvaluate():
		verdict = th.Warn.Render("? ssoctl cannot evaluate the role's token_policies templates")
	case !v.Accepted:
		verdict = th.Fail.Render("✗ Vault would reject it") + " at " + string(v.Step)
	}
	fmt.Fprintf(w, "%s role %s (%s login): %s\n", th.Bold.Render("Vault:"), termSafe(strconv.Quote(v.Role)), v.Login, verdict)
	switch {
	case !v.Accepted && len(v.Messages) > 1:
		fmt.Fprintf(w, "  Vault says one of (it names the first failing entry in Go's random map order):\n")
		for _, m := range v.Messages {
			fmt.Fprintf(w, "    %s\n", termSafe(m))
		}
	case !v.Accepted && v.Message != "":
		fmt.Fprintf(w, "  Vault says: %s\n", termSafe(v.Message))
	}
	if v.Accepted {
		fmt.Fprintf(w, "  entity alias: %s\n", termSafe(v.Alias))
		if len(v.GroupAliases) > 0 {
			fmt.Fprintf(w, "  group aliases: %s\n", termSafe(strings.Join(v.GroupAliases, ", ")))
		}
		if len(v.Policies) > 0 {
			fmt.Fprintf(w, "  token policies: %s\n", termSafe(strings.Join(v.Policies, ", ")))
		}
	}
	writeFindings(ios, "", v.Findings)
}

// writeFindings prints findings under title, their text made terminal-safe (messages quote
// token values). A finding whose Vault message is one of several lists them all.
func writeFindings(ios *IOStreams, title string, fs []inspect.Finding) {
	if len(fs) == 0 {
		return
	}
	th := ios.OutTheme()
	if title != "" {
		fmt.Fprintf(ios.Out, "%s\n", th.Bold.Render(title))
	}
	list := slices.Clone(fs)
	for i := range list {
		fd := &list[i]
		if vm := fs[i].VaultMessages; len(vm) > 1 {
			fd.VaultMessage = "one of: " + strings.Join(vm, " | ")
		}
		fd.ID, fd.Message, fd.VaultMessage, fd.Fix = termSafe(fd.ID), termSafe(fd.Message), termSafe(fd.VaultMessage), termSafe(fd.Fix)
	}
	writeFindingList(ios.Out, th, "  ", list)
}

// termSafe escapes what a terminal would act on instead of printing: C0 controls (ESC, BEL,
// backspace, carriage return, newline, ...) and DEL as \x1b-style escapes (\n, \r and \t by
// name), C1 controls, the line and paragraph separators and the bidirectional overrides as
// \u009b-style escapes, and bytes that are not UTF-8 as \xff. Other text is unchanged.
func termSafe(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+16)
	b = append(b, s[:i]...)
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafeRune(r, size):
			b = append(b, s[i:i+size]...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case size == 1: // a C0 control, DEL, or a byte that is not UTF-8
			c := s[i]
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		default:
			b = append(b, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		}
		i += size
	}
	return string(b)
}

// unsafeRune reports whether a terminal may act on r (of encoded length size) rather than show it.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0x2028, r == 0x2029,
		r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func compact(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// describeTime renders a NumericDate as RFC3339 with a relative hint; a number outside the
// dates inspect reads (years 0 to 9999) is shown as written, marked out of range.
func describeTime(v any, now time.Time, claim string) string {
	if v == nil {
		return "null"
	}
	t, ok := inspect.NumericDate(v)
	if !ok {
		if _, isNum := v.(json.Number); isNum {
			return compact(v) + " (out of range: not a date between the years 0 and 9999)"
		}
		return compact(v) + " (not a number)"
	}
	t = t.Truncate(time.Second)
	// Whole seconds as int64: a time.Duration saturates at 292 years, and a NumericDate may be
	// up to year 9999.
	d := t.Unix() - now.Round(time.Second).Unix()
	var rel string
	switch claim {
	case "exp":
		if d >= 0 {
			rel = "expires in " + human(d)
		} else {
			rel = "expired " + human(-d) + " ago"
		}
	case "nbf":
		if d > 0 {
			rel = "valid in " + human(d)
		} else {
			rel = "valid since " + human(-d)
		}
	default:
		if d > 0 {
			rel = "in " + human(d) + ", in the future"
		} else {
			rel = human(-d) + " ago"
		}
	}
	return t.Format(time.RFC3339) + " (" + rel + ")"
}

// human renders a number of seconds (at least 0) as "45s", "12m", "3h05m" or "9d".
func human(secs int64) string {
	switch {
	case secs < 60:
		return strconv.FormatInt(secs, 10) + "s"
	case secs < 3600:
		return strconv.FormatInt(secs/60, 10) + "m"
	case secs < 48*3600:
		return fmt.Sprintf("%dh%02dm", secs/3600, secs/60%60)
	}
	return strconv.FormatInt(secs/86400, 10) + "d"
}
