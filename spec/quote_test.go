package spec

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("x", 500_000)
	for _, tt := range []struct {
		name, in, want string
	}{
		{"short", "vault", `"vault"`},
		{"at the limit", strings.Repeat("a", MaxQuoted), `"` + strings.Repeat("a", MaxQuoted) + `"`},
		{"long", long, `"` + long[:MaxQuoted] + `"… (500000 bytes)`},
		{"control characters escaped", "a\x1b]0;x\x07\n", `"a\x1b]0;x\a\n"`},
		// é is 2 bytes: the cut steps back rather than split it.
		{"cut between runes", strings.Repeat("a", MaxQuoted-1) + strings.Repeat("é", 40), `"` + strings.Repeat("a", MaxQuoted-1) + `"… (143 bytes)`},
		{"invalid UTF-8 cut anyway", strings.Repeat("\x80", 100), `"` + strings.Repeat(`\x80`, MaxQuoted-3) + `"… (100 bytes)`},
	} {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("%s: Quote = %.200q, want %.200q", tt.name, got, tt.want)
		}
	}
	pw := strings.Repeat("p", 70)
	for _, u := range []string{"https://admin:" + pw + "@kc.example/", "https://admin:" + pw[:40] + "@kc.example/realms?token=" + pw} {
		if got := Quote(u); strings.Contains(got, "ppp") || !strings.HasPrefix(got, `"https://`) {
			t.Errorf("a long URL's secrets: %q", got)
		}
	}
	if got := quoteList([]string{"a", long}); got != `["a" "`+long[:MaxQuoted]+`"… (500000 bytes)]` {
		t.Errorf("quoteList = %.200q", got)
	}
	many := strings.Fields(strings.Repeat("r ", 25))
	if got := quoteList(many); !strings.HasSuffix(got, `"r" and 15 more]`) || strings.Count(got, `"r"`) != maxListed {
		t.Errorf("quoteList of 25 = %q", got)
	}
	if got := clip(strings.Repeat("é", 40)); !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > MaxQuoted+len("…") {
		t.Errorf("clip = %q", got)
	}
}

// sizeOf is an sso.yaml whose realm_roles are an anchor of size bytes and
// uses aliases of it.
func sizeOf(size, uses int) []byte {
	var b strings.Builder
	b.WriteString("keycloak:\n  url: http://x\n  realm: r\n  realm_roles: [&b ")
	b.WriteString(strings.Repeat("x", size))
	b.WriteString(strings.Repeat(",*b", uses))
	b.WriteString("]\n")
	return []byte(b.String())
}

// An error quotes a short prefix of a value, and a file's message lists
// 20 errors and how many more (before: each of 95,000 "listed twice"
// errors quoted a 500 KB value: 6.6 GB and over 2 minutes, not done).
func TestErrorsQuoteShortPrefixes(t *testing.T) {
	_, err := Parse("sso.yaml", sizeOf(100_000, 100), nil) // 10 MB through aliases, under the limit
	var es Errors
	if !errors.As(err, &es) || len(es) != 100 {
		t.Fatalf("err = %.300v", err)
	}
	msg := err.Error()
	if lines := strings.Split(msg, "\n"); len(lines) != MaxErrorsListed+1 || lines[MaxErrorsListed] != "... and 80 more errors" {
		t.Errorf("%d lines, the last %q", len(lines), lines[len(lines)-1])
	}
	if len(msg) > 8<<10 || !strings.Contains(msg, `"… (100000 bytes) is listed twice`) {
		t.Errorf("%d bytes: %.300s", len(msg), msg)
	}
}

// The bytes that aliases add are bounded like their nodes: the 785 KB
// file of the report (a 500 KB anchor used 95,000 times) is refused as
// such.
func TestAliasBytesAreBounded(t *testing.T) {
	data := sizeOf(500_000, 95_000)
	if len(data) > MaxFileSize {
		t.Fatalf("%d bytes", len(data))
	}
	_, err := Parse("sso.yaml", data, nil)
	var bi interface{ BadInput() bool }
	if err == nil || !strings.Contains(err.Error(), "more than 16777216 bytes (16 MiB, the alias expansion limit)") || !errors.As(err, &bi) || len(err.Error()) > 1<<10 {
		t.Errorf("err = %.300v", err)
	}
	// A merge counts what it merges.
	var b strings.Builder
	b.WriteString("keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - &c {client_id: a, description: " + strings.Repeat("d", 500_000) + "}\n")
	b.WriteString(strings.Repeat("    - {<<: *c, client_id: b}\n", 40))
	if _, err := Parse("sso.yaml", []byte(b.String()), nil); err == nil || !strings.Contains(err.Error(), "16 MiB, the alias expansion limit") {
		t.Errorf("merges: %.300v", err)
	}
}

// A long mapping key appears cut in key paths, the same in the checker and
// the validator, so that its errors still name their line.
func TestLongKeysInPaths(t *testing.T) {
	id := strings.Repeat("k", 500_000)
	data := "keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - {client_id: " + id + ", roles: [a]}\n" +
		"  groups:\n    - name: g\n      client_roles:\n        ? " + id + "\n        : [b" + strings.Repeat(",b", 20_000) + "]\n"
	_, err := Parse("sso.yaml", []byte(data), nil)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %.300v", err)
	}
	want := "keycloak.groups[0].client_roles." + clip(id)
	for _, e := range es[:3] {
		if e.Key != want || e.Line != 9 || !strings.Contains(e.Msg, `role "b" is not among client "kkk`) || !strings.Contains(e.Msg, `(500000 bytes)'s roles ["a"]`) {
			t.Errorf("%+.300v", e)
		}
	}
	if len(err.Error()) > 8<<10 {
		t.Errorf("%d bytes", len(err.Error()))
	}
}
