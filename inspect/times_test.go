package inspect

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestVaultTimeWording pins the Vault model's time message for every combination of present and
// absent exp, iat and nbf: cap makes up exp from the later of iat and nbf plus
// expiration_leeway, nbf from iat, and nbf from exp − not_before_leeway only when iat is
// missing too; the message says which it did.
func TestVaultTimeWording(t *testing.T) {
	k := testKeys(t)
	now := testNow.Unix()
	const clock = ", more than clock_skew_leeway 1m0s (the default for 0)"
	const vc = " Vault's clock 2026-11-22T12:00:00Z" + clock
	times := func(kv ...any) map[string]any {
		c := with(kcAccessClaims(), "exp", deleteClaim, "iat", deleteClaim, "auth_time", deleteClaim)
		return with(c, kv...)
	}
	tests := []struct {
		name   string
		claims map[string]any
		role   map[string]any
		want   string // Vault's message; "" accepted
		msg    string // the exact finding message
	}{
		{name: "none", claims: times(), want: msgNoTimes,
			msg: "Vault finds none of iat, nbf, exp: the token has no iat; the token has no nbf; the token has no exp"},
		{name: "null and zero count as absent", claims: times("iat", 0, "nbf", json.Number("0.5"), "exp", nil), want: msgNoTimes,
			msg: "Vault finds none of iat, nbf, exp: iat is 0, which Vault counts as absent; nbf is 0.5, 0 in whole seconds, which Vault counts as absent; exp is null, which Vault reads as absent"},
		{name: "exp only: nbf made up from exp is ahead", claims: times("exp", now+600), want: msgNotYet,
			msg: "the token has neither nbf nor iat, so Vault makes up nbf = exp 2026-11-22T12:10:00Z − not_before_leeway 2m30s (the default for 0) = 2026-11-22T12:07:30Z, which is 7m30s ahead of" + vc},
		{name: "exp only, not_before_leeway raised", claims: times("exp", now+600), role: map[string]any{"not_before_leeway": json.Number("900")}},
		{name: "exp only, not_before_leeway disabled", claims: times("exp", now+600), role: map[string]any{"not_before_leeway": json.Number("-1")}, want: msgNotYet,
			msg: "the token has neither nbf nor iat, so Vault makes up nbf = exp 2026-11-22T12:10:00Z − not_before_leeway 0s (a negative value disables it) = 2026-11-22T12:10:00Z, which is 10m0s ahead of" + vc},
		{name: "exp only, null iat", claims: times("exp", now+600, "iat", nil), want: msgNotYet,
			msg: "the token has no nbf and iat is null, which Vault reads as absent, so Vault makes up nbf = exp 2026-11-22T12:10:00Z − not_before_leeway 2m30s (the default for 0) = 2026-11-22T12:07:30Z, which is 7m30s ahead of" + vc},
		{name: "exp only, within the made-up window", claims: times("exp", now+120)},
		{name: "iat only: exp made up from iat", claims: times("iat", now-300), want: msgExpired,
			msg: "the token has no exp, so Vault makes up exp = iat 2026-11-22T11:55:00Z + expiration_leeway 2m30s (the default for 0) = 2026-11-22T11:57:30Z, which is 2m30s behind" + vc},
		{name: "iat only, expiration_leeway raised", claims: times("iat", now-300), role: map[string]any{"expiration_leeway": json.Number("600")}, want: ""},
		{name: "iat only in the future: taken as nbf", claims: times("iat", now+120), want: msgNotYet,
			msg: "the token has no nbf, so Vault takes iat as nbf: 2026-11-22T12:02:00Z, which is 2m0s ahead of" + vc},
		{name: "nbf only: exp made up from nbf", claims: times("nbf", now-300), want: msgExpired,
			msg: "the token has no exp, so Vault makes up exp = nbf 2026-11-22T11:55:00Z + expiration_leeway 2m30s (the default for 0) = 2026-11-22T11:57:30Z, which is 2m30s behind" + vc},
		{name: "nbf only, before 1970", claims: times("nbf", -1000), want: msgExpired,
			msg: "the token has no exp, so Vault makes up exp = 0 (iat is missing, and nbf 1969-12-31T23:43:20Z is not later than 0) + expiration_leeway 2m30s (the default for 0) = 1970-01-01T00:02:30Z, which is 498707h57m30s behind" + vc},
		{name: "iat and nbf: exp made up from the later", claims: times("iat", now-400, "nbf", now-300), want: msgExpired,
			msg: "the token has no exp, so Vault makes up exp = the later of iat and nbf (nbf 2026-11-22T11:55:00Z) + expiration_leeway 2m30s (the default for 0) = 2026-11-22T11:57:30Z, which is 2m30s behind" + vc},
		{name: "iat and nbf, iat later", claims: times("iat", now-300, "nbf", now-400), want: msgExpired,
			msg: "the token has no exp, so Vault makes up exp = the later of iat and nbf (iat 2026-11-22T11:55:00Z) + expiration_leeway 2m30s (the default for 0) = 2026-11-22T11:57:30Z, which is 2m30s behind" + vc},
		{name: "iat and exp: nbf is iat", claims: times("iat", now+120, "exp", now+600), want: msgNotYet,
			msg: "the token has no nbf, so Vault takes iat as nbf: 2026-11-22T12:02:00Z, which is 2m0s ahead of" + vc},
		{name: "nbf and exp", claims: times("nbf", now+300, "exp", now+600), want: msgNotYet,
			msg: "nbf 2026-11-22T12:05:00Z, which is 5m0s ahead of" + vc},
		{name: "nbf and exp, expired", claims: times("nbf", now-600, "exp", now-120), want: msgExpired,
			msg: "exp 2026-11-22T11:58:00Z, which is 2m0s behind" + vc},
		{name: "all three, iat ahead", claims: times("iat", now+120, "nbf", now, "exp", now+600), want: msgFuture,
			msg: "iat 2026-11-22T12:02:00Z, which is 2m0s ahead of" + vc},
		{name: "all three, valid", claims: times("iat", now, "nbf", now, "exp", now+600)},
		{name: "exp 1e38 is read as the distant past", claims: times("iat", now, "exp", 1e38), want: msgExpired,
			msg: "exp 1e+38 is out of range, and Vault reads it as -9223372036854775808 seconds, a time in the distant past, which is more than a century behind" + vc},
	}
	cfg, _ := VaultConfigFromMap(baseConfig(t))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			role, err := VaultRoleFromMap(overlay(baseRole(), tc.role))
			if err != nil {
				t.Fatal(err)
			}
			tok := mustParse(t, signJWT(t, "RS256", k.rsaA, nil, tc.claims))
			v, err := EvaluateVault(bg, tok, role, cfg, nil, VaultOptions{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !v.Accepted {
					t.Fatalf("rejected: %q %s", v.Message, v.Findings[0].Message)
				}
				return
			}
			if v.Message != tc.want || v.Step != VaultStepTime {
				t.Fatalf("message %q at %s, want %q", v.Message, v.Step, tc.want)
			}
			if got := v.Findings[0].Message; got != tc.msg {
				t.Errorf("finding\n got %s\nwant %s", got, tc.msg)
			}
		})
	}
}

// TestTimesOutOfRangeAndNull: exp null and times outside years 0..9999 are findings of both the
// own checks and the Vault model, whose verdicts follow what the real Vault answered.
func TestTimesOutOfRangeAndNull(t *testing.T) {
	k := testKeys(t)
	role, _ := VaultRoleFromMap(baseRole())
	cfg, _ := VaultConfigFromMap(baseConfig(t))
	tests := []struct {
		name      string
		claims    map[string]any
		ownID     string
		ownSev    Severity
		ownMsg    string
		vault     string // Vault's message, "" accepted
		vaultHint string // a warning of the model when Vault accepts
	}{
		{name: "exp null", claims: with(kcAccessClaims(), "exp", nil), ownID: FindingNoExpiry, ownSev: SeverityWarning,
			ownMsg: "exp is null, which verifiers (Vault included) read as no exp"},
		{name: "nbf null", claims: with(kcAccessClaims(), "nbf", nil), ownID: FindingTimeClaimType, ownSev: SeverityWarning, ownMsg: "nbf is null, not a NumericDate"},
		{name: "exp 1e38", claims: with(kcAccessClaims(), "exp", 1e38), ownID: FindingTimeRange, ownSev: SeverityError,
			ownMsg: "exp is 1e+38, outside the NumericDates ssoctl reads as times (years 0 to 9999: -62167219200 to 253402300799 seconds); it overflows Go's 64-bit time, so Vault reads it as a time in the distant past",
			vault:  msgExpired},
		{name: "exp -1e38", claims: with(kcAccessClaims(), "exp", -1e38), ownID: FindingTimeRange, ownSev: SeverityError, ownMsg: "exp is -1e+38, outside", vault: msgExpired},
		{name: "exp just below 2^63", claims: with(kcAccessClaims(), "exp", 9.2233720368547e18), ownID: FindingTimeRange, ownSev: SeverityError, ownMsg: "it overflows Go's 64-bit time", vault: msgExpired},
		{name: "nbf 1e38", claims: with(kcAccessClaims(), "nbf", 1e38), ownID: FindingTimeRange, ownSev: SeverityError, ownMsg: "nbf is 1e+38, outside",
			vaultHint: "nbf 1e+38 is out of range, and Vault reads it as -9223372036854775808 seconds, a time in the distant past; Vault does not object to it"},
		{name: "iat 1e38", claims: with(kcAccessClaims(), "iat", 1e38), ownID: FindingTimeRange, ownSev: SeverityError, ownMsg: "iat is 1e+38, outside",
			vaultHint: "iat 1e+38 is out of range"},
		{name: "exp in year 3168875820", claims: with(kcAccessClaims(), "exp", 1e17), ownID: FindingTimeRange, ownSev: SeverityError, ownMsg: "exp is 100000000000000000, outside",
			vaultHint: "exp 100000000000000000 is out of range, and Vault reads it as 100000000000000000 seconds, a time far in the future; Vault does not object to it"},
		{name: "exp in year 9999 is in range", claims: with(kcAccessClaims(), "exp", MaxNumericDate)},
		{name: "exp before 1970 is in range (and expired)", claims: with(kcAccessClaims(), "exp", -1), ownID: FindingExpired, ownSev: SeverityError, ownMsg: "token expired", vault: msgExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := mustParse(t, signJWT(t, "RS256", k.rsaA, nil, tc.claims))
			fs := CheckTimes(tok.Claims, testNow, 0)
			if tc.ownID == "" {
				if len(fs) != 0 {
					t.Fatalf("findings %+v", fs)
				}
			} else {
				f := hasFinding(fs, tc.ownID)
				if f == nil || f.Severity != tc.ownSev || !strings.Contains(f.Message, tc.ownMsg) || f.Fix == "" {
					t.Fatalf("own findings %+v, want %s %s containing %q", fs, tc.ownSev, tc.ownID, tc.ownMsg)
				}
				if strings.Contains(f.Message, "292277026596") {
					t.Errorf("a nonsense year in %q", f.Message)
				}
			}
			v, err := EvaluateVault(bg, tok, role, cfg, nil, VaultOptions{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if tc.vault != "" {
				if v.Accepted || v.Message != tc.vault {
					t.Fatalf("Vault model: accepted %v %q, want %q", v.Accepted, v.Message, tc.vault)
				}
				return
			}
			if !v.Accepted {
				t.Fatalf("Vault model rejects: %q", v.Message)
			}
			if tc.vaultHint != "" {
				found := false
				for _, f := range v.Findings {
					found = found || (f.ID == FindingVaultTime && f.Severity == SeverityWarning && strings.Contains(f.Message, tc.vaultHint))
				}
				if !found {
					t.Errorf("no vault.time warning containing %q in %+v", tc.vaultHint, v.Findings)
				}
			}
		})
	}
}
