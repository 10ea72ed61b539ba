package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRancherConvertAndCheckCLI(t *testing.T) {
	dir := t.TempDir()
	src := "../rancher/testdata/keycloak-6-template.xml"
	code, stdout, _ := run(t, "rancher", "check", src)
	if code != ExitFindings || !strings.Contains(stdout, "expected element type <EntityDescriptor> but have <EntitiesDescriptor>") {
		t.Fatalf("check of a 6-13 wrapper: exit %d\n%s", code, stdout)
	}
	out := filepath.Join(dir, "rancher.xml")
	code, stdout, stderr := run(t, "rancher", "convert", src, "--out", out)
	if code != 0 || stdout != "" || !strings.Contains(stderr, "wrote "+out) {
		t.Fatalf("convert: exit %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = run(t, "rancher", "check", out)
	if code != 0 || !strings.Contains(stdout, "Rancher can use this metadata") {
		t.Fatalf("check after convert: exit %d %q", code, stdout)
	}
	code, stdout, _ = run(t, "-o", "json", "rancher", "convert", src)
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || doc["shape"] != "EntitiesDescriptor" || !strings.HasPrefix(doc["metadata"].(string), "<") {
		t.Fatalf("convert -o json: exit %d %s", code, stdout)
	}
	code, stdout, _ = run(t, "-o", "json", "rancher", "check", src)
	if code != ExitFindings || json.Unmarshal([]byte(stdout), &doc) != nil || doc["usable"] != false {
		t.Fatalf("check -o json: exit %d %s", code, stdout)
	}
	bad := filepath.Join(dir, "bad.xml")
	os.WriteFile(bad, []byte("<EntityDescriptor><unclosed>"), 0o600)
	if code, _, stderr := run(t, "rancher", "check", bad); code != ExitUsage {
		t.Fatalf("broken XML: exit %d %q", code, stderr)
	}
	bomb := filepath.Join(dir, "bomb.xml")
	os.WriteFile(bomb, []byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><EntityDescriptor>&lol2;</EntityDescriptor>`), 0o600)
	if code, _, stderr := run(t, "rancher", "convert", bomb); code != ExitUsage || !strings.Contains(strings.ToLower(stderr), "doctype") {
		t.Fatalf("entity bomb: exit %d %q", code, stderr)
	}
	if code, _, _ := run(t, "rancher", "convert", "../rancher/testdata/multi-entity.xml"); code != ExitUsage {
		t.Fatalf("several entities without --entity-id: exit %d", code)
	}
	if code, _, stderr := run(t, "rancher", "check", filepath.Join(dir, "missing.xml")); code != ExitUsage || !strings.Contains(stderr, "missing.xml") {
		t.Fatalf("missing file: exit %d %q", code, stderr)
	}
}

func TestRancherLoginInputAndUnreachable(t *testing.T) {
	dir := t.TempDir()
	noRancher := filepath.Join(dir, "k.yaml")
	os.WriteFile(noRancher, []byte("keycloak:\n  url: http://127.0.0.1:1\n  realm: r\n"), 0o600)
	if code, _, stderr := run(t, "rancher", "login", "-f", noRancher, "--user", "carol"); code != ExitUsage || !strings.Contains(stderr, "needs both a keycloak: and a rancher: section") {
		t.Errorf("no rancher: section: exit %d %s", code, stderr)
	}
	full := filepath.Join(dir, "r.yaml")
	os.WriteFile(full, []byte("keycloak:\n  url: http://127.0.0.1:1\n  realm: r\n  clients:\n    - {client_id: \"https://rancher.example.com/v1-saml/keycloak/saml/metadata\", protocol: saml}\n"+
		"  users:\n    - {username: carol, password_env: CAROL_PW}\nrancher:\n  url: https://rancher.example.com\n  fields: {uid: email}\n"), 0o600)
	ios, _, out, errOut := TestIO()
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return map[string]string{"CAROL_PW": "s3cret-carol"}[k] }
	code := Run(f, []string{"rancher", "login", "-f", full, "--user", "carol"})
	stderr := errOut.String() + out.String()
	if code != ExitFailure || !strings.Contains(stderr, "cannot reach Keycloak at http://127.0.0.1:1") || strings.Contains(stderr, "s3cret-carol") {
		t.Errorf("unreachable Keycloak: exit %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "rancher", "login", "-f", full, "--user", "carol", "--sp-cert", filepath.Join("..", "rancher", "testdata", "sp.crt"), "--sp-key", filepath.Join("..", "rancher", "testdata", "sp-ec.key")); code != ExitUsage || !strings.Contains(stderr, "RSA") {
		t.Errorf("EC SP key: exit %d %s", code, stderr)
	}
}
