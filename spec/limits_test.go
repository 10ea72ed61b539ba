package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// aliasBomb is an sso.yaml whose aliases expand to w*w mappers: each of w
// clients is an alias of one whose mappers are w aliases of one mapper.
func aliasBomb(w int) []byte {
	var b strings.Builder
	b.WriteString("keycloak:\n  url: http://x\n  realm: r\n  clients:\n")
	b.WriteString("    - &c {client_id: a, mappers: [&g {groups: {claim: g, full_path: true}}")
	b.WriteString(strings.Repeat(", *g", w-1))
	b.WriteString("]}\n")
	b.WriteString(strings.Repeat("    - *c\n", w-1))
	return []byte(b.String())
}

// An alias bomb is refused at the expansion limit, naming it, as bad input
// (before: a 13 KB file took 14 s and 800 MB).
func TestAliasBombIsRefused(t *testing.T) {
	_, err := Parse("sso.yaml", aliasBomb(1000), nil)
	var bi interface{ BadInput() bool }
	if err == nil || !strings.Contains(err.Error(), "alias expansion limit") || !errors.As(err, &bi) || !bi.BadInput() {
		t.Fatalf("err = %v", err)
	}
	// Reuse through anchors below the limit is fine.
	var ok strings.Builder
	ok.WriteString("keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - {client_id: c0, roles: &roles [a, b, c, d]}\n")
	for i := 1; i < 500; i++ {
		fmt.Fprintf(&ok, "    - {client_id: c%d, roles: *roles}\n", i)
	}
	if _, err := Parse("sso.yaml", []byte(ok.String()), nil); err != nil {
		t.Errorf("500 clients sharing a role list: %v", err)
	}
}

func BenchmarkParseAliasBomb(b *testing.B) {
	data := aliasBomb(1400) // 18 KB
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse("sso.yaml", data, nil); err == nil {
			b.Fatal("accepted")
		}
	}
}

// The largest file the loader takes, without aliases: one realm role per
// line up to the size limit.
func BenchmarkParseMaxSize(b *testing.B) {
	var s strings.Builder
	s.WriteString("keycloak:\n  url: http://x\n  realm: r\n  realm_roles:\n")
	for i := 0; s.Len() < MaxFileSize-64; i++ {
		fmt.Fprintf(&s, "    - role-%07d\n", i)
	}
	data := []byte(s.String())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Parse("sso.yaml", data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMergeKeys(t *testing.T) {
	f, err := Parse("sso.yaml", []byte(`keycloak:
  url: http://x
  realm: r
  clients:
    - &base
      client_id: a
      roles: &roles [reader, writer]
      direct_access_grants: true
    - <<: *base
      client_id: b
    - <<: [*base]
      client_id: c
      direct_access_grants: false
      standard_flow: false
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, c := f.Keycloak.Client("b"), f.Keycloak.Client("c")
	if b == nil || c == nil || len(b.Roles) != 2 || !*b.DirectAccessGrants || *c.DirectAccessGrants || len(c.Roles) != 2 || *c.StandardFlow {
		t.Errorf("merged clients %+v %+v", b, c)
	}
	// A merged key is checked like any other.
	_, err = Parse("sso.yaml", []byte("keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - &base {client_id: a, acess: public}\n    - {<<: *base, client_id: b}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown key "acess"`) {
		t.Errorf("a misspelt merged key: %v", err)
	}
	_, err = Parse("sso.yaml", []byte("keycloak:\n  url: http://x\n  realm: r\n  clients:\n    - {<<: [a, b], client_id: b}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "<< merges mappings") {
		t.Errorf("merging scalars: %v", err)
	}
}

func TestOneDocument(t *testing.T) {
	_, err := Parse("sso.yaml", []byte("keycloak:\n  url: http://x\n  realm: r\n---\nvault: {}\n"), nil)
	var e *Error
	if !errors.As(err, &e) || e.Line != 4 || !strings.Contains(err.Error(), "a second YAML document") {
		t.Errorf("two documents: %v", err)
	}
	// A lone leading --- is one document.
	if _, err := Parse("sso.yaml", []byte("---\nkeycloak:\n  url: http://x\n  realm: r\n"), nil); err != nil {
		t.Errorf("leading ---: %v", err)
	}
}

// An alias inside the value it names is a cycle, refused at once (found by
// fuzzing: &b {<<: *b} recursed to the expansion limit, 7 s and 440 MB).
func TestAliasCycles(t *testing.T) {
	for _, body := range []string{"    - &b {<<: *b, client_id: a}\n", "    - &c {client_id: a, roles: &r [x], mappers: [*c]}\n"} {
		_, err := Parse("sso.yaml", []byte("keycloak:\n  url: http://x\n  realm: r\n  clients:\n"+body), nil)
		if err == nil || !strings.Contains(err.Error(), "a cycle") {
			t.Errorf("%q: %v", body, err)
		}
	}
}
