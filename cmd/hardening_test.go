package cmd

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/ssoctl/ssoctl/internal/httpclient"
)

// No secret reaches an error line: not the credentials of a URL, not a
// secret written where a variable name belongs, not a short password.
func TestErrorsHideSecrets(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "t.jwt")
	os.WriteFile(tok, []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"), 0o600)
	file := filepath.Join(dir, "sso.yaml")
	os.WriteFile(file, []byte("keycloak:\n  realm: r\n  admin: {client_id: bot, client_secret_env: S3cr3t-V4lue!}\n"), 0o600)
	for _, tt := range []struct {
		name   string
		env    map[string]string
		args   []string
		secret []string
		want   string
	}{
		{"jwks URL credentials", nil, []string{"inspect", "token", tok, "--jwks", "http://user:pa55w0rd@127.0.0.1:1/certs?token=t0ken-v4lue"},
			[]string{"pa55w0rd", "t0ken-v4lue"}, "http://****@127.0.0.1:1/certs?token=****"},
		{"KEYCLOAK_URL credentials", map[string]string{"KEYCLOAK_URL": "http://admin:kc-pa55@127.0.0.1:1", "KEYCLOAK_ADMIN": "a", "KEYCLOAK_ADMIN_PASSWORD": "pw"},
			[]string{"export", "keycloak", "--realm", "r"}, []string{"kc-pa55"}, "http://****@127.0.0.1:1"},
		{"a secret as a variable name in the file", map[string]string{"KEYCLOAK_URL": "http://127.0.0.1:1"}, []string{"plan", "-f", file},
			[]string{"S3cr3t-V4lue!"}, "client_secret_env: not a variable name"},
		{"a secret as --client-secret-env", map[string]string{"KEYCLOAK_URL": "http://127.0.0.1:1"},
			[]string{"keycloak", "token", "--realm", "r", "--client", "c", "--client-secret-env", "Sup3r s3cret"}, []string{"Sup3r s3cret"}, "not a variable name"},
	} {
		code, stdout, stderr := runWith(t, tt.env, "", tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tt.name, code, stderr, tt.want)
		}
		for _, s := range tt.secret {
			if strings.Contains(stdout+stderr, s) {
				t.Errorf("%s: %q printed:\n%s", tt.name, s, stderr)
			}
		}
	}
}

// Control characters from a server or a file are escaped in error lines.
func TestErrorLinesAreTerminalSafe(t *testing.T) {
	// The file name comes back in the open error as it was given.
	_, _, stderr := runWith(t, nil, "", "inspect", "token", "no-such-\x1b]0;pwned\x07", "--insecure-no-verify")
	if strings.ContainsAny(stderr, "\x1b\x07") || !strings.Contains(stderr, `no-such-\x1b]0;pwned\x07`) {
		t.Errorf("stderr %q", stderr)
	}
}

// --out replaces only a regular file, keeps its mode, and leaves no
// temporary file behind when it fails.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg.xml")
	os.WriteFile(reg, []byte("old"), 0o640)
	if err := writeFileAtomic(reg, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(reg); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the file's own 0640", fi.Mode().Perm())
	}
	fresh := filepath.Join(dir, "fresh.xml")
	if err := writeFileAtomic(fresh, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o644 {
		t.Errorf("a new file's mode %v", fi.Mode().Perm())
	}
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o600)
	link := filepath.Join(dir, "link.xml")
	os.Symlink(target, link)
	fifo := filepath.Join(dir, "fifo.xml")
	syscall.Mkfifo(fifo, 0o600)
	for path, kind := range map[string]string{link: "a symlink", fifo: "a FIFO", "/dev/null": "a device", dir: "a directory"} {
		err := writeFileAtomic(path, []byte("x"))
		if err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), kind) {
			t.Errorf("%s: %v", path, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Error("the symlink's target was written")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// Input is checked before the first request: a missing VAULT_TOKEN, a
// missing password variable and an SP key that does not parse each exit 2
// with Keycloak never asked.
func TestInputBeforeNetwork(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); w.WriteHeader(500) }))
	defer srv.Close()
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	base := map[string]string{"KEYCLOAK_URL": srv.URL, "KEYCLOAK_ADMIN": "a", "KEYCLOAK_ADMIN_PASSWORD": "b", "VAULT_ADDR": srv.URL,
		"VAULT_TOKEN": "t", "ALICE_PASSWORD": "x", "BOB_PASSWORD": "y", "CAROL_PASSWORD": "z"}
	without := func(k string) map[string]string { m := maps.Clone(base); delete(m, k); return m }
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no VAULT_TOKEN", without("VAULT_TOKEN"), []string{"plan", "-f", "../examples/sso.yaml"}, "$VAULT_TOKEN"},
		{"no password", without("ALICE_PASSWORD"), []string{"apply", "-f", "../examples/sso.yaml"}, "$ALICE_PASSWORD"},
		{"a bad SP key", base, []string{"rancher", "config", "-f", "../examples/rancher.yaml", "--sp-key", bad, "--sp-cert", bad}, "not PEM"},
	} {
		code, _, stderr := runWith(t, tt.env, "", tt.args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, %s", tt.name, code, stderr)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// Every input has a limit, with one message shape: a file, stdin, a URL's
// body. (Before: --jwks /dev/zero read 23 GB in 3 s.)
func TestInputLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[`))
		w.Write([]byte(strings.Repeat(" ", 5<<20)))
	}))
	defer srv.Close()
	tok := filepath.Join(t.TempDir(), "t.jwt")
	os.WriteFile(tok, []byte("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln"), 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "token", tok, "--jwks", "/dev/zero"}, "/dev/zero is larger than"},
		{[]string{"inspect", "token", tok, "--vault-role-file", "/dev/zero", "--insecure-no-verify"}, "/dev/zero is larger than"},
		{[]string{"inspect", "token", "/dev/zero", "--insecure-no-verify"}, "/dev/zero is larger than"},
		{[]string{"inspect", "token", tok, "--jwks", srv.URL + "/certs"}, "is larger than 4194304 bytes (4 MiB)"},
		{[]string{"rancher", "check", "/dev/zero"}, "larger than"},
	} {
		code, _, stderr := runWith(t, nil, "", tt.args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %s", tt.args, code, stderr)
		}
	}
}

// The error output of one run is bounded: a file's errors quote short
// prefixes and list 20 of them, and any error is cut at maxErrorBytes
// (before: 95,000 errors, each quoting a 500 KB value whole).
func TestErrorOutputIsBounded(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	for _, tt := range []struct {
		name, stdin, want string
	}{
		{"100 uses of a 100 KB value", "keycloak:\n  url: http://127.0.0.1:1\n  realm: r\n  realm_roles: [&b " + big + strings.Repeat(",*b", 100) + "]\n",
			"... and 80 more errors"},
		{"the report's 785 KB file", "keycloak:\n  url: http://127.0.0.1:1\n  realm: r\n  realm_roles: [&b " + strings.Repeat("x", 500_000) + strings.Repeat(",*b", 95_000) + "]\n",
			"the alias expansion limit"},
	} {
		code, _, stderr := runWith(t, nil, tt.stdin, "plan", "-f", "-")
		if code != ExitUsage || !strings.Contains(stderr, tt.want) || len(stderr) > 8<<10 {
			t.Errorf("%s: exit %d, %d bytes: %.300s", tt.name, code, len(stderr), stderr)
		}
	}
	long := strings.Repeat("é", maxErrorBytes)
	if got := capError(long); len(got) > maxErrorBytes+100 || !strings.HasSuffix(got, "… (the error is cut here; 131072 bytes in all)") || !utf8.ValidString(got) {
		t.Errorf("capError: %d bytes, ends %q", len(got), got[len(got)-60:])
	}
	if got := capError("short"); got != "short" {
		t.Errorf("capError(short) = %q", got)
	}
}

// A failure of ssoctl itself is a runtime failure, never bad input (exit
// 2): a panic on the command's goroutine is exit 1 even when its value
// claims bad input, and a panic elsewhere or a fatal runtime error (out of
// memory) ends the process with SIGABRT instead of the runtime's exit 2.
func TestRuntimeFailuresAreNotBadInput(t *testing.T) {
	switch os.Getenv("SSOCTL_TEST_RUNTIME") {
	case "crash":
		syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{}) // no core file
		runtimeLimits(os.Getenv)
		go func() { panic("a bug on another goroutine") }()
		select {}
	case "limit":
		runtimeLimits(os.Getenv)
		fmt.Println(debug.SetMemoryLimit(-1))
		os.Exit(0)
	}
	ios, _, _, errOut := TestIO()
	f := NewFactory(ios)
	env := map[string]string{"KEYCLOAK_URL": "http://127.0.0.1:1", "KEYCLOAK_CLIENT_ID": "c", "KEYCLOAK_CLIENT_SECRET": "s"}
	f.Getenv = func(k string) string { return env[k] }
	f.HTTPClient = func(httpclient.Options) (*http.Client, error) { panic(inputErrorf("a value that claims bad input")) }
	if code := Run(f, []string{"keycloak", "token", "--realm", "r", "--client", "c", "--client-secret-env", "KEYCLOAK_CLIENT_SECRET"}); code != ExitFailure ||
		!strings.Contains(errOut.String(), "internal error: a value that claims bad input (a bug in ssoctl") {
		t.Errorf("a panic: exit %d, %.500s", code, errOut.String())
	}

	child := func(mode string, env ...string) (*exec.Cmd, []byte, error) {
		c := exec.Command(os.Args[0], "-test.run=^TestRuntimeFailuresAreNotBadInput$")
		c.Env = append(os.Environ(), append(env, "SSOCTL_TEST_RUNTIME="+mode)...)
		out, err := c.CombinedOutput()
		return c, out, err
	}
	c, out, err := child("crash")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == ExitUsage || !c.ProcessState.Sys().(syscall.WaitStatus).Signaled() ||
		c.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGABRT || !bytes.Contains(out, []byte("a bug on another goroutine")) {
		t.Errorf("a panic on another goroutine: %v, %.300s", err, out)
	}
	for _, tt := range []struct {
		env  []string
		want int64
	}{
		{[]string{"GOMEMLIMIT="}, MemoryLimit},
		{[]string{"GOMEMLIMIT=123MiB"}, 123 << 20}, // the user's limit stays
	} {
		_, out, err := child("limit", tt.env...)
		if got := strings.TrimSpace(string(out)); err != nil || got != strconv.FormatInt(tt.want, 10) {
			t.Errorf("%v: the memory limit is %s (%v), want %d", tt.env, got, err, tt.want)
		}
	}
}

// A login without a password, and a server URL from a flag or the
// environment that is not http(s), are bad input (exit 2) found before the
// first request.
func TestLoginInputBeforeNetwork(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); w.WriteHeader(500) }))
	defer srv.Close()
	dir := t.TempDir()
	tok := filepath.Join(dir, "t.jwt")
	os.WriteFile(tok, []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"), 0o600)
	noURL := filepath.Join(dir, "sso.yaml")
	os.WriteFile(noURL, []byte("keycloak:\n  realm: r\nvault:\n  auth: [{path: jwt, type: jwt, jwks_url: "+srv.URL+"}]\n"), 0o600)
	base := map[string]string{"KEYCLOAK_URL": srv.URL, "KEYCLOAK_REALM": "r", "KEYCLOAK_ADMIN": "a", "KEYCLOAK_ADMIN_PASSWORD": "b",
		"VAULT_ADDR": srv.URL, "VAULT_TOKEN": "t", "S": "secret"}
	with := func(kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	noPassword := "no password: set $SSOCTL_PASSWORD or pass it on stdin"
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"token --user", base, []string{"keycloak", "token", "--client", "c", "--user", "alice"}, noPassword},
		{"token --user with the client secret", base, []string{"keycloak", "token", "--client", "c", "--client-secret-env", "S", "--user", "alice"}, noPassword},
		{"authz --user", base, []string{"keycloak", "authz", "--client", "c", "--user", "alice"}, noPassword},
		{"doctor --user", base, []string{"doctor", "--client", "c", "--user", "alice"}, noPassword},
		{"$KEYCLOAK_URL ftp", with("KEYCLOAK_URL", "ftp://u:pa55w0rd@127.0.0.1/"), []string{"keycloak", "token", "--client", "c"},
			`$KEYCLOAK_URL: want an http(s) URL, got "ftp://****@127.0.0.1/"`},
		{"--url ftp", base, []string{"export", "keycloak", "--url", "ftp://127.0.0.1/"}, `--url: want an http(s) URL, got "ftp://127.0.0.1/"`},
		{"$KEYCLOAK_URL without a host", with("KEYCLOAK_URL", "http:/kc"), []string{"doctor", "--client", "c"}, `$KEYCLOAK_URL: want an http(s) URL`},
		{"$KEYCLOAK_URL for a file", with("KEYCLOAK_URL", "file:///etc/passwd"), []string{"plan", "-f", noURL},
			`keycloak: $KEYCLOAK_URL (keycloak.url is not set): want an http(s) URL, got "file:///etc/passwd"`},
		{"$VAULT_ADDR for a file", with("VAULT_ADDR", "unix:///run/vault.sock"), []string{"plan", "-f", noURL},
			`vault: $VAULT_ADDR (vault.addr is not set): want an http(s) URL`},
		{"$VAULT_ADDR", with("VAULT_ADDR", "ftp://127.0.0.1"), []string{"vault", "login", "--mount", "jwt", tok}, `$VAULT_ADDR: want an http(s) URL, got "ftp://127.0.0.1"`},
		{"$BAO_ADDR", with("VAULT_ADDR", "", "BAO_ADDR", "gopher://127.0.0.1"), []string{"inspect", "token", tok, "--insecure-no-verify", "--vault-role", "r"},
			`$BAO_ADDR: want an http(s) URL`},
	} {
		code, _, stderr := runWith(t, tt.env, "", tt.args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "pa55w0rd") {
			t.Errorf("%s: exit %d, %s", tt.name, code, stderr)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// A claim holding a number beyond a 64-bit float is named as such (exit 2),
// not as claims that are not a JSON object.
func TestTokenNumberOutOfRange(t *testing.T) {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct {
		header, claims, want string
	}{
		{`{"alg":"RS256"}`, `{"sub":"x","exp": 1e999999999}`, `malformed token payload: claim "exp": number 1e999999999 is out of range for a 64-bit float`},
		{`{"alg":"RS256"}`, `{"sub":"x","resource_access":{"a":{"roles":[1e400]}}}`, `claim "resource_access": number 1e400 at /resource_access/a/roles/0 is out of range`},
	} {
		code, _, stderr := runWith(t, nil, seg(tt.header)+"."+seg(tt.claims)+".c2ln", "inspect", "token", "-", "--insecure-no-verify")
		if code != ExitUsage || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "not a JSON object") {
			t.Errorf("%s: exit %d, %s", tt.claims, code, stderr)
		}
	}
}
