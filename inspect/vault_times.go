package inspect

import (
	"strconv"
	"time"
)

// jwtTimes is cap's time validation with the role's leeways. cap counts a time claim that is
// absent, null or 0 whole seconds as missing and makes up the missing ones: exp = the later of
// iat and nbf + expiration_leeway when exp is missing; nbf = iat when nbf is missing, or
// exp − not_before_leeway when iat is missing too. The messages say which of these Vault did.
func (e *vaultEval) jwtTimes(reg vaultRegistered) (string, Finding) {
	role, claims := e.role, e.tok.Claims
	iat, nbf, exp := reg.iat, reg.nbf, reg.exp
	if iat == 0 && exp == 0 && nbf == 0 {
		return vaultMsgNoTimes, Finding{ID: FindingVaultTime,
			Message: "Vault finds none of iat, nbf, exp: " + vaultAbsent(claims, "iat") + "; " + vaultAbsent(claims, "nbf") + "; " + vaultAbsent(claims, "exp"),
			Fix:     "use a token from Keycloak (it always sets exp and iat)"}
	}
	outOfRange := map[string]bool{}
	for _, name := range [...]string{"exp", "nbf", "iat"} {
		if v, ok := claims[name]; ok && v != nil {
			if _, inRange := NumericDate(v); !inRange {
				outOfRange[name] = true
			}
		}
	}
	rangeNote := func(name string, n int64) string {
		return name + " " + describeValue(claims[name]) + " is out of range, and Vault reads it as " + strconv.FormatInt(n, 10) + " seconds, " + vaultTimeWords(n)
	}
	leeway := func(field string, d time.Duration) (int64, string) {
		switch {
		case d < 0:
			return 0, field + " 0s (a negative value disables it)"
		case d == 0:
			return 150, field + " 2m30s (the default for 0)"
		}
		return int64(d.Seconds()), field + " " + (time.Duration(int64(d.Seconds())) * time.Second).String()
	}

	expWhy := ""
	if exp == 0 {
		latest, latestName := iat, "iat"
		if nbf > iat {
			latest, latestName = nbf, "nbf"
		}
		var from string
		switch {
		case iat != 0 && nbf != 0:
			from = "the later of iat and nbf (" + latestName + " " + vaultTimeWords(latest) + ")"
		case iat != 0:
			from = "iat " + vaultTimeWords(iat)
		case nbf > 0:
			from = "nbf " + vaultTimeWords(nbf)
		default: // iat missing and nbf before 1970: cap keeps iat's 0
			from = "0 (iat is missing, and nbf " + vaultTimeWords(nbf) + " is not later than 0)"
		}
		l, lText := leeway("expiration_leeway", role.ExpirationLeeway)
		exp = latest + l
		expWhy = vaultAbsent(claims, "exp") + ", so Vault makes up exp = " + from + " + " + lText + " = " + vaultTimeWords(exp)
	}
	nbfWhy, nbfFromExp := "", false
	if nbf == 0 {
		if iat != 0 {
			nbf = iat
			nbfWhy = vaultAbsent(claims, "nbf") + ", so Vault takes iat as nbf: " + vaultTimeWords(nbf)
		} else {
			l, lText := leeway("not_before_leeway", role.NotBeforeLeeway)
			nbf = exp - l // exp is the token's own here: a made-up exp needs iat or nbf
			neither := vaultAbsent(claims, "nbf") + " and " + vaultAbsent(claims, "iat")
			if _, has := claims["nbf"]; !has {
				if _, has := claims["iat"]; !has {
					neither = "the token has neither nbf nor iat"
				}
			}
			nbfWhy = neither + ", so Vault makes up nbf = exp " + vaultTimeWords(exp) + " − " + lText + " = " + vaultTimeWords(nbf)
			nbfFromExp = true
		}
	}

	cks := role.ClockSkewLeeway
	switch {
	case cks < 0:
		cks = 0
	case cks == 0:
		cks = 60 * time.Second
	}
	now := e.now
	skewText := "clock_skew_leeway " + cks.String()
	if role.ClockSkewLeeway == 0 {
		skewText += " (the default for 0)"
	}
	skewFix := "sync the clocks of Keycloak and Vault with NTP, or raise clock_skew_leeway on " + e.roleRef() + " (seconds; -1 disables it)"
	failed := "" // the claim Vault stops at; it checks nbf, then exp, then iat
	defer func() {
		for _, name := range [...]string{"nbf", "exp", "iat"} {
			if name == failed {
				break
			}
			if outOfRange[name] {
				n := map[string]int64{"exp": reg.exp, "nbf": reg.nbf, "iat": reg.iat}[name]
				e.hint(Finding{ID: FindingVaultTime, Severity: SeverityWarning, Message: rangeNote(name, n) + "; Vault does not object to it",
					Fix: "the issuer must write " + name + " as the seconds since 1970 of a real date"})
			}
		}
	}()
	if nbfT := vaultTime(nbf); now.Add(cks).Before(nbfT) {
		failed = "nbf"
		what, fix := "nbf "+vaultTimeWords(nbf), skewFix
		switch {
		case outOfRange["nbf"]:
			what = rangeNote("nbf", nbf)
		case nbfWhy != "":
			what = nbfWhy
		}
		if nbfFromExp {
			fix = "have the issuer write iat (Keycloak always does), or raise not_before_leeway on " + e.roleRef() + " to at least the token's lifetime: Vault made nbf up from exp because the token has neither nbf nor iat"
		}
		return vaultMsgNotYetValid, Finding{ID: FindingVaultTime,
			Message: what + ", which is " + aheadOf(nbfT, now) + " Vault's clock " + fmtTime(now) + ", more than " + skewText,
			Fix:     fix}
	}
	if expT := vaultTime(exp); now.Add(-cks).After(expT) {
		failed = "exp"
		what, fix := "exp "+vaultTimeWords(exp), "get a fresh token (Keycloak: realm Access Token Lifespan); if the clocks disagree, "+skewFix
		switch {
		case outOfRange["exp"]:
			what = rangeNote("exp", exp)
			fix = "the issuer must write exp as the seconds since 1970 of a real date (Keycloak: check hardcoded-claim or attribute mappers named exp)"
		case expWhy != "":
			what = expWhy
			fix = "have the issuer write exp (Keycloak always does), or raise expiration_leeway on " + e.roleRef() + ": it is how long Vault accepts a token without exp"
		}
		return vaultMsgExpired, Finding{ID: FindingVaultTime,
			Message: what + ", which is " + behind(expT, now) + " Vault's clock " + fmtTime(now) + ", more than " + skewText,
			Fix:     fix}
	}
	if iatT := vaultTime(iat); iat != 0 && now.Add(cks).Before(iatT) {
		failed = "iat"
		what := "iat " + vaultTimeWords(iat)
		if outOfRange["iat"] {
			what = rangeNote("iat", iat)
		}
		return vaultMsgFuture, Finding{ID: FindingVaultTime,
			Message: what + ", which is " + aheadOf(iatT, now) + " Vault's clock " + fmtTime(now) + ", more than " + skewText,
			Fix:     skewFix}
	}
	return "", Finding{}
}

// vaultTimeWords shows a time Vault computed from n seconds: RFC 3339 within the NumericDate
// range, otherwise only whether it lies in the past or the future (Go cannot format it right).
func vaultTimeWords(n int64) string {
	t := vaultTime(n)
	switch {
	case n >= MinNumericDate && n <= MaxNumericDate:
		return fmtTime(t)
	case t.Before(time.Unix(0, 0)):
		return "a time in the distant past"
	}
	return "a time far in the future"
}

// aheadOf says how far t is ahead of now ("2m0s ahead of"), behind how far t is behind it
// ("2m30s behind"); for times outside the NumericDate range, and more than a century away, in
// words, since a time.Duration cannot hold the difference.
func aheadOf(t, now time.Time) string {
	if d := t.Sub(now); d < 100*365*24*time.Hour {
		return roundDur(d).String() + " ahead of"
	}
	return "more than a century ahead of"
}

func behind(t, now time.Time) string {
	if d := now.Sub(t); d < 100*365*24*time.Hour {
		return roundDur(d).String() + " behind"
	}
	return "more than a century behind"
}

// vaultAbsent says why Vault counts the time claim name as missing: it is absent, null, or a
// number that is 0 in whole seconds.
func vaultAbsent(claims map[string]any, name string) string {
	v, present := claims[name]
	switch {
	case !present:
		return "the token has no " + name
	case v == nil:
		return name + " is null, which Vault reads as absent"
	}
	if f, ok := numericValue(v); ok && f == 0 {
		return name + " is 0, which Vault counts as absent"
	}
	return name + " is " + describeValue(v) + ", 0 in whole seconds, which Vault counts as absent"
}
