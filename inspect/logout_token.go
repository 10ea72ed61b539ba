package inspect

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BackchannelLogoutEvent is the member a logout token's events claim must
// hold (OpenID Connect Back-Channel Logout 1.0, §2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutTokenExpect is what a relying party knows when a logout token
// arrives: who must have issued it, to whom, and about which session.
type LogoutTokenExpect struct {
	// Issuer must equal iss exactly.
	Issuer string
	// Audience (the client id) must be in aud.
	Audience string
	// SID is the session's sid; when set, a sid claim must equal it. A token
	// without sid then needs Subject to match (Keycloak leaves sid out unless
	// the client's "Backchannel logout session required" is on).
	SID string
	// Subject is the user's id; when set, a sub claim must equal it.
	Subject string
	// Now and Leeway check iat and exp (zero Now: time.Now; Leeway as in
	// CheckOptions).
	Now    time.Time
	Leeway time.Duration
}

// LogoutTokenCheck is one rule of the logout token validation (§2.6).
type LogoutTokenCheck struct {
	// Rule is one of format, signature, iss, aud, times, events, sid, sub,
	// nonce.
	Rule    string `json:"rule"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// LogoutTokenResult is a logout token and its checks.
type LogoutTokenResult struct {
	// Valid is true when every check passed.
	Valid bool `json:"valid"`
	// Alg, Kid and Typ are the header's.
	Alg string `json:"alg,omitempty"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
	// Claims are the token's claims (nil when it did not decode).
	Claims map[string]any     `json:"claims,omitempty"`
	Checks []LogoutTokenCheck `json:"checks"`
}

func (r *LogoutTokenResult) add(rule string, ok bool, msg string) {
	r.Checks = append(r.Checks, LogoutTokenCheck{Rule: rule, OK: ok, Message: msg})
	if !ok {
		r.Valid = false
	}
}

// VerifyLogoutToken validates a back-channel logout token as §2.6 of the
// specification has a relying party do: the signature with keys (Verify's
// rules: never alg none or an HMAC, the header's alg checked against the
// key, never chosen by the key's type), iss, aud, iat (and exp when
// present), an events claim that holds BackchannelLogoutEvent as a JSON
// object, a sid or a sub (each equal to the expected one when that is
// known), and no nonce. Every rule is checked and reported, also after one
// failed. The error is only for keys that cannot be had (the JWKS is down).
func VerifyLogoutToken(ctx context.Context, raw string, keys KeySource, want LogoutTokenExpect) (*LogoutTokenResult, error) {
	res := &LogoutTokenResult{Valid: true, Checks: []LogoutTokenCheck{}}
	tok, err := ParseCompact(strings.TrimSpace(raw))
	if err != nil {
		res.add("format", false, "the logout token is not a signed JWT: "+err.Error())
		return res, nil
	}
	res.Alg, res.Kid, res.Typ, res.Claims = tok.Header.Alg, tok.Header.Kid, tok.Header.Typ, tok.Claims

	vr, findings, err := Verify(ctx, tok, keys)
	if err != nil {
		return nil, err
	}
	switch {
	case vr.Verified:
		msg := "signed with " + vr.Alg
		if vr.Kid != "" {
			msg += " by key " + strconv.Quote(vr.Kid)
		}
		res.add("signature", true, msg+" from "+vr.Source)
	case len(findings) > 0:
		res.add("signature", false, findings[0].Message)
	default:
		res.add("signature", false, "the signature was not verified")
	}

	if f := CheckIssuer(tok.Claims, want.Issuer); len(f) > 0 {
		res.add("iss", false, f[0].Message)
	} else {
		res.add("iss", true, "iss is "+strconv.Quote(want.Issuer))
	}
	if f := CheckAudience(tok.Claims, []string{want.Audience}); len(f) > 0 {
		res.add("aud", false, f[0].Message)
	} else {
		res.add("aud", true, "aud holds "+strconv.Quote(want.Audience))
	}

	now := want.Now
	if now.IsZero() {
		now = time.Now()
	}
	var timeProblems []string
	if _, ok := tok.Claims["iat"]; !ok {
		timeProblems = append(timeProblems, "no iat claim, which a logout token must carry")
	}
	for _, f := range CheckTimes(tok.Claims, now, want.Leeway) {
		if f.Severity == SeverityError {
			timeProblems = append(timeProblems, f.Message)
		}
	}
	if len(timeProblems) > 0 {
		res.add("times", false, strings.Join(timeProblems, "; "))
	} else {
		res.add("times", true, "iat is present and the token is current")
	}

	switch ev, present := tok.Claims["events"]; {
	case !present:
		res.add("events", false, "no events claim; a logout token's events must hold "+strconv.Quote(BackchannelLogoutEvent))
	default:
		m, isObj := ev.(map[string]any)
		member, has := m[BackchannelLogoutEvent]
		_, memberObj := member.(map[string]any)
		switch {
		case !isObj:
			res.add("events", false, "events is "+jsonTypeName(ev)+", not a JSON object")
		case !has:
			res.add("events", false, "events does not hold "+strconv.Quote(BackchannelLogoutEvent)+" (it has "+quoteList(memberNames(m))+")")
		case !memberObj:
			res.add("events", false, "events' "+strconv.Quote(BackchannelLogoutEvent)+" is "+jsonTypeName(member)+", not a JSON object")
		default:
			res.add("events", true, "events holds "+strconv.Quote(BackchannelLogoutEvent))
		}
	}

	sid, hasSID := tok.Claims["sid"].(string)
	sub, hasSub := tok.Claims["sub"].(string)
	switch {
	case !hasSID && !hasSub:
		res.add("sid", false, "neither sid nor sub is a string claim: the token names no session and no user")
	case hasSID && want.SID != "" && sid != want.SID:
		res.add("sid", false, "sid is "+strconv.Quote(sid)+", not the session's "+strconv.Quote(want.SID))
	case hasSID && want.SID != "":
		res.add("sid", true, "sid is the session's "+strconv.Quote(sid))
	case hasSID:
		res.add("sid", true, "sid is "+strconv.Quote(sid))
	default:
		res.add("sid", true, "no sid claim (the token names the user by sub only)")
	}
	switch {
	case hasSub && want.Subject != "" && sub != want.Subject:
		res.add("sub", false, "sub is "+strconv.Quote(sub)+", not the user's "+strconv.Quote(want.Subject))
	case hasSub && want.Subject != "":
		res.add("sub", true, "sub is the user's "+strconv.Quote(sub))
	case hasSub:
		res.add("sub", true, "sub is "+strconv.Quote(sub))
	case want.SID != "" && hasSID:
		res.add("sub", true, "no sub claim; the sid names the session")
	default:
		res.add("sub", true, "no sub claim")
	}

	if _, present := tok.Claims["nonce"]; present {
		res.add("nonce", false, "the token has a nonce claim, which a logout token must not have (it would then pass for an ID token)")
	} else {
		res.add("nonce", true, "no nonce claim")
	}
	return res, nil
}

func memberNames(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
