package secret

import "testing"

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"short", "****"},
		{"exactly12chr", "****"},
		{"a-23-character-password", "****"},
		{"0123456789abcdef01234567", "0123…4567"},
		{"ключ-очень-длинный-секрет", "ключ…крет"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactor(t *testing.T) {
	var r Redactor
	r.Add("s3cr3t-client-secret-value", "ab", "short-pw")
	got := r.Redact("secret=s3cr3t-client-secret-value&x=ab&p=short-pw")
	want := "secret=s3cr…alue&x=****&p=****"
	if got != want {
		t.Fatalf("Redact = %q, want %q", got, want)
	}
	var nilR *Redactor
	if nilR.Redact("x") != "x" {
		t.Fatal("nil Redactor must pass text through")
	}
}

// Short secrets are masked where they stand alone, and a secret holding
// another is masked whole.
func TestRedactorShortAndNested(t *testing.T) {
	var r Redactor
	r.Add("pw1", "inner-secret", "outer-inner-secret-value")
	for in, want := range map[string]string{
		"password pw1 was refused":          "password **** was refused",
		"pw12 and xpw1 stay":                "pw12 and xpw1 stay",
		"got outer-inner-secret-value here": "got oute…alue here",
		"got inner-secret here":             "got **** here",
		"the value (pw1).":                  "the value (****).",
	} {
		if got := r.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskURLs(t *testing.T) {
	for in, want := range map[string]string{
		"fetching https://user:pa55@kc.example.com/realms/x: refused": "fetching https://****@kc.example.com/realms/x: refused",
		"GET http://v:8200/v1/x?token=abc&b=2 failed":                 "GET http://v:8200/v1/x?b=****&token=**** failed",
		"see https://kc.example.com/realms/demo.":                     "see https://kc.example.com/realms/demo.",
		"(https://tok@host/p)":                                        "(https://****@host/p)",
		"no url here":                                                 "no url here",
	} {
		if got := MaskURLs(in); got != want {
			t.Errorf("MaskURLs(%q) = %q, want %q", in, got, want)
		}
	}
}
