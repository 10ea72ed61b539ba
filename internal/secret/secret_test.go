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
	want := "secret=s3cr…alue&x=ab&p=****"
	if got != want {
		t.Fatalf("Redact = %q, want %q", got, want)
	}
	var nilR *Redactor
	if nilR.Redact("x") != "x" {
		t.Fatal("nil Redactor must pass text through")
	}
}
