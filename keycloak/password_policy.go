package keycloak

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/ssoctl/ssoctl/spec"
)

// The realm's password policy, in Keycloak's grammar: terms joined by
// " and ", each an id or id(value). Measured on Keycloak 26.7.3:
//   - the realm stores the policy re-written (extra blanks dropped) and, of
//     an id given twice, only the last term, in the place of the first
//     ("length and  notUsername and regexPattern(a.*) and regexPattern(.*b)"
//     is stored as "length and notUsername and regexPattern(.*b)"), although
//     server-info marks regexPattern multipleSupported; so a repeated id is
//     refused here;
//   - an unknown id is refused with 400 {"errorMessage":"Password policy not
//     found"}, without naming it; "" removes the policy (passwordPolicy then
//     reads null);
//   - a password is checked against the policies in the order of Java's
//     HashMap over their ids (DefaultPasswordPolicyManagerProvider walks
//     PasswordPolicy's map), and the first refusal is the answer: with
//     every built-in policy on, "bob" for user bob is refused for
//     notContainsUsername, not notUsername; "zzzzzzzzzzzzzz" for
//     specialChars before upperCase and maxLength. javaHashOrder reproduces
//     that order;
//   - lengths count UTF-16 units (a password of one emoji and "a" has length
//     3); notUsername, notEmail and notContainsUsername ignore case;
//     specialChars counts what is neither letter nor digit (a space counts,
//     é does not); digits, lowerCase and upperCase count Unicode's; each
//     regexPattern must match the whole password.
//
// Keycloak has no endpoint that checks a password without setting it, so
// ssoctl checks the built-in policies itself, offline, and answers in
// Keycloak's words. The messages are Keycloak 26.7.3's English ones, as its
// theme jar (org.keycloak.keycloak-themes-26.7.3.jar,
// theme/base/admin/messages/messages_en.properties and
// theme/base/login/messages/messages_en.properties) has them, and as the
// admin API answered a refused reset-password on the testbed
// ({"error":"invalidPasswordMinLengthMessage","error_description":"Invalid
// password: minimum length 12."}):
//
//	invalidPasswordMinLengthMessage=Invalid password: minimum length {0}.
//	invalidPasswordMaxLengthMessage=Invalid password: maximum length {0}.
//	invalidPasswordMinDigitsMessage=Invalid password: must contain at least {0} numerical digits.
//	invalidPasswordMinLowerCaseCharsMessage=Invalid password: must contain at least {0} lower case characters.
//	invalidPasswordMinUpperCaseCharsMessage=Invalid password: must contain at least {0} upper case characters.
//	invalidPasswordMinSpecialCharsMessage=Invalid password: must contain at least {0} special characters.
//	invalidPasswordNotUsernameMessage=Invalid password: must not be equal to the username.
//	invalidPasswordNotContainsUsernameMessage=Invalid password: Can not contain the username.
//	invalidPasswordNotEmailMessage=Invalid password: must not be equal to the email.
//	invalidPasswordRegexPatternMessage=Invalid password: fails to match regex pattern(s).
//
// Policies that need what only the server has (passwordHistory,
// passwordBlacklist, passwordAge, forceExpiredPasswordChange, hash*,
// maxAuthAge, recoveryCodesWarningThreshold, and any a provider adds) are
// not checked: Keycloak may still refuse a password for them at apply.

// MaxPasswordPolicy bounds the policy string a file may give.
const MaxPasswordPolicy = spec.MaxPasswordPolicy

// policyTerm is one term of a password policy.
type policyTerm struct {
	ID       string
	Value    string
	HasValue bool
}

func (t policyTerm) String() string {
	if t.HasValue {
		return t.ID + "(" + t.Value + ")"
	}
	return t.ID
}

// parsePolicy splits a policy into its terms; "" is no policy.
func parsePolicy(s string) ([]policyTerm, error) {
	if len(s) > MaxPasswordPolicy {
		return nil, fmt.Errorf("the policy is %d characters long; at most %d", len(s), MaxPasswordPolicy)
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []policyTerm
	seen := map[string]bool{}
	for i, raw := range strings.Split(s, " and ") {
		term := strings.TrimSpace(raw)
		if term == "" {
			return nil, fmt.Errorf("term %d is empty (terms are joined by \" and \")", i+1)
		}
		t := policyTerm{ID: term}
		if open := strings.IndexByte(term, '('); open >= 0 {
			if !strings.HasSuffix(term, ")") {
				return nil, fmt.Errorf("term %s opens a ( it does not close at its end", spec.Quote(term))
			}
			t = policyTerm{ID: strings.TrimSpace(term[:open]), Value: term[open+1 : len(term)-1], HasValue: true}
		}
		if t.ID == "" || strings.ContainsAny(t.ID, " \t)") {
			return nil, fmt.Errorf("term %s has no policy id before its value", spec.Quote(term))
		}
		if seen[t.ID] {
			return nil, fmt.Errorf("%s is given twice; Keycloak keeps only the last one (join regular expressions into one pattern)", t.ID)
		}
		seen[t.ID] = true
		out = append(out, t)
	}
	return out, nil
}

// normalPolicy is the policy as Keycloak stores it, or s itself when it
// does not parse.
func normalPolicy(s string) string {
	terms, err := parsePolicy(s)
	if err != nil {
		return s
	}
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.String()
	}
	return strings.Join(parts, " and ")
}

// PasswordPolicyProvider is one of the server's password policies, as
// server-info lists it.
type PasswordPolicyProvider struct {
	ID                string `json:"id"`
	ConfigType        string `json:"configType"`
	DefaultValue      string `json:"defaultValue"`
	MultipleSupported bool   `json:"multipleSupported"`
}

// checkPolicy parses a policy and checks it against the server's
// providers (nil skips that check).
func checkPolicy(s string, providers []PasswordPolicyProvider) ([]policyTerm, error) {
	terms, err := parsePolicy(s)
	if err != nil || providers == nil {
		return terms, err
	}
	var ids []string
	for _, p := range providers {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	for _, t := range terms {
		i := slices.IndexFunc(providers, func(p PasswordPolicyProvider) bool { return p.ID == t.ID })
		if i < 0 {
			return nil, fmt.Errorf("%s is not a password policy this Keycloak has; it has %s", spec.Quote(t.ID), strings.Join(ids, ", "))
		}
		p := providers[i]
		switch {
		case p.ConfigType == "" && t.HasValue:
			return nil, fmt.Errorf("%s takes no value, got %s", t.ID, spec.Quote(t.String()))
		case p.ConfigType == "int" && t.HasValue:
			if _, err := strconv.Atoi(strings.TrimSpace(t.Value)); err != nil {
				return nil, fmt.Errorf("%s takes a whole number, got %s", t.ID, spec.Quote(t.String()))
			}
		case t.ID == "regexPattern":
			if !t.HasValue || t.Value == "" {
				return nil, fmt.Errorf("regexPattern needs a pattern: regexPattern(^[^ ]+$)")
			}
		}
	}
	return terms, nil
}

// builtinDefaults are the values of the built-in policies given without
// one, as server-info's defaultValue has them on Keycloak 26.7.3.
var builtinDefaults = map[string]int{"length": 8, "maxLength": 64, "digits": 1, "lowerCase": 1, "upperCase": 1, "specialChars": 1}

// refusal returns Keycloak's message for the first policy that refuses
// password for the user (username as Keycloak stores it, lower case; email
// may be ""), in Keycloak's order; "" when none of the policies checked
// offline refuses it.
func refusal(terms []policyTerm, username, email, password string) string {
	byID := map[string]policyTerm{}
	var ids []string
	for _, t := range terms {
		byID[t.ID] = t
		ids = append(ids, t.ID)
	}
	for _, id := range javaHashOrder(ids) {
		if msg := refusedBy(byID[id], username, email, password); msg != "" {
			return msg
		}
	}
	return ""
}

func refusedBy(t policyTerm, username, email, password string) string {
	n, ok := builtinDefaults[t.ID]
	if ok && t.HasValue {
		v, err := strconv.Atoi(strings.TrimSpace(t.Value))
		if err != nil {
			return "" // Keycloak refuses such a policy itself
		}
		n = v
	}
	count := func(f func(rune) bool) int {
		c := 0
		for _, r := range password {
			if f(r) {
				c++
			}
		}
		return c
	}
	arg := javaNumber(n)
	switch t.ID {
	case "length":
		if utf16Len(password) < n {
			return "Invalid password: minimum length " + arg + "."
		}
	case "maxLength":
		if utf16Len(password) > n {
			return "Invalid password: maximum length " + arg + "."
		}
	case "digits":
		if count(unicode.IsDigit) < n {
			return "Invalid password: must contain at least " + arg + " numerical digits."
		}
	case "lowerCase":
		if count(unicode.IsLower) < n {
			return "Invalid password: must contain at least " + arg + " lower case characters."
		}
	case "upperCase":
		if count(unicode.IsUpper) < n {
			return "Invalid password: must contain at least " + arg + " upper case characters."
		}
	case "specialChars":
		special := 0
		for _, r := range password {
			switch {
			case r > 0xFFFF:
				special += 2 // two UTF-16 surrogates, neither a letter nor a digit
			case !unicode.IsLetter(r) && !unicode.IsDigit(r):
				special++
			}
		}
		if special < n {
			return "Invalid password: must contain at least " + arg + " special characters."
		}
	case "notUsername":
		if username != "" && strings.EqualFold(password, username) {
			return "Invalid password: must not be equal to the username."
		}
	case "notEmail":
		if email != "" && strings.EqualFold(password, email) {
			return "Invalid password: must not be equal to the email."
		}
	case "notContainsUsername":
		if username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)) {
			return "Invalid password: Can not contain the username."
		}
	case "regexPattern":
		re, err := regexp.Compile("^(?:" + t.Value + ")$")
		if err != nil {
			return "" // Java's syntax that Go's lacks: not checked offline
		}
		if !re.MatchString(password) {
			return "Invalid password: fails to match regex pattern(s)."
		}
	}
	return ""
}

// utf16Len is the length of s as Java counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// javaNumber writes n as Java's MessageFormat does ({0} of an Integer):
// with grouping commas.
func javaNumber(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// javaHashOrder orders ids as a java.util.HashMap with them inserted in
// this order iterates them: by bucket (String.hashCode spread, masked by a
// table of 16 that doubles past 3/4 full), then by insertion.
func javaHashOrder(ids []string) []string {
	size := 16
	for len(ids) > size*3/4 {
		size *= 2
	}
	bucket := func(s string) int {
		var h int32
		for _, c := range utf16Units(s) {
			h = 31*h + int32(c)
		}
		u := uint32(h)
		return int((u ^ u>>16) & uint32(size-1))
	}
	out := slices.Clone(ids)
	slices.SortStableFunc(out, func(a, b string) int { return bucket(a) - bucket(b) })
	return out
}

func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			out = append(out, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
			continue
		}
		out = append(out, uint16(r))
	}
	return out
}

// PasswordRefusal is Keycloak's message for the first of policy's built-in
// checks that password fails for the user, in the order Keycloak checks
// them; "" when none does (or the policy does not parse). Policies that
// need the server are not checked.
func PasswordRefusal(policy, username, email, password string) string {
	terms, err := parsePolicy(policy)
	if err != nil {
		return ""
	}
	return refusal(terms, strings.ToLower(username), email, password)
}
