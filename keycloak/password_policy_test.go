package keycloak

import (
	"slices"
	"testing"
)

func TestJavaHashOrder(t *testing.T) {
	// The order Keycloak 26.7.3 checked these in (measured with one
	// password failing several: see password_policy.go).
	got := javaHashOrder([]string{"length", "notUsername", "notEmail", "upperCase", "specialChars", "lowerCase", "maxLength", "notContainsUsername", "regexPattern", "digits"})
	want := []string{"notContainsUsername", "specialChars", "upperCase", "lowerCase", "length", "regexPattern", "notUsername", "digits", "maxLength", "notEmail"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v\nwant  %v", got, want)
	}
}

func TestPasswordRefusal(t *testing.T) {
	for _, tc := range []struct{ policy, user, email, pw, want string }{
		{"length(12) and digits(1)", "bob", "", "short", "Invalid password: minimum length 12."},
		{"length(12) and digits(1)", "bob", "", "longenoughpassword", "Invalid password: must contain at least 1 numerical digits."},
		{"length", "bob", "", "1234567", "Invalid password: minimum length 8."},
		{"length(3)", "bob", "", "😀a", ""}, // three UTF-16 units
		{"length(4)", "bob", "", "😀a", "Invalid password: minimum length 4."},
		{"maxLength(3)", "bob", "", "abcd", "Invalid password: maximum length 3."},
		{"specialChars(1)", "bob", "", "a b", ""},
		{"specialChars(1)", "bob", "", "aé", "Invalid password: must contain at least 1 special characters."},
		{"upperCase(1)", "bob", "", "aÉ", ""},
		{"lowerCase(2)", "bob", "", "aB", "Invalid password: must contain at least 2 lower case characters."},
		{"notUsername", "bob", "", "BOB", "Invalid password: must not be equal to the username."},
		{"notEmail", "bob", "b@x.org", "B@X.org", "Invalid password: must not be equal to the email."},
		{"notContainsUsername", "bob", "", "xBoBx", "Invalid password: Can not contain the username."},
		{"regexPattern(a.*)", "bob", "", "ba", "Invalid password: fails to match regex pattern(s)."},
		{"regexPattern(a.*)", "bob", "", "ab", ""},
		{"regexPattern((?<=x)a)", "bob", "", "ab", ""}, // Java syntax Go lacks: not checked
		{"length(1000)", "bob", "", "a", "Invalid password: minimum length 1,000."},
		{"passwordHistory(3) and passwordBlacklist(x.txt) and hashIterations(1)", "bob", "", "a", ""},
		// the first refusal in Keycloak's order, not the file's
		{"length(3) and notUsername and notContainsUsername", "bob", "", "bob", "Invalid password: Can not contain the username."},
	} {
		if got := PasswordRefusal(tc.policy, tc.user, tc.email, tc.pw); got != tc.want {
			t.Errorf("%s / %q: %q, want %q", tc.policy, tc.pw, got, tc.want)
		}
	}
}

func TestNormalPolicy(t *testing.T) {
	for in, want := range map[string]string{
		"length(12)  and digits": "length(12) and digits",
		" length ":               "length",
		"":                       "",
	} {
		if got := normalPolicy(in); got != want {
			t.Errorf("normalPolicy(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add("length(12) and digits(1) and notUsername")
	f.Add("regexPattern(a and b)")
	f.Fuzz(func(t *testing.T, s string) {
		terms, err := parsePolicy(s)
		if err != nil {
			return
		}
		// What parses, normalised, parses to the same terms.
		again, err := parsePolicy(normalPolicy(s))
		if err != nil || !slices.Equal(terms, again) {
			t.Fatalf("%q: %v then %v (%v)", s, terms, again, err)
		}
		_ = refusal(terms, "u", "e", s)
	})
}
