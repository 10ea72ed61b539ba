package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binary builds ssoctl once per test run, so these tests drive it the way a
// user does: argv, stdin, exit codes, stdout and stderr.
func binary(t *testing.T) string {
	t.Helper()
	if testBinary != "" {
		return testBinary
	}
	dir, err := os.MkdirTemp("", "ssoctl-e2e")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ssoctl")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	testBinary = bin
	return bin
}

var testBinary string

func TestMain(m *testing.M) {
	code := m.Run()
	if testBinary != "" {
		os.RemoveAll(filepath.Dir(testBinary))
	}
	os.Exit(code)
}

func runBin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

func TestBinaryExitCodes(t *testing.T) {
	if code, _, stderr := runBin(t, "", "--bogus"); code != 2 || !strings.Contains(stderr, "unknown flag: --bogus") {
		t.Fatalf("--bogus: exit %d, stderr %q", code, stderr)
	}
	if code, stdout, _ := runBin(t, "", "--help"); code != 0 || !strings.Contains(stdout, "Usage:") {
		t.Fatalf("--help: exit %d", code)
	}
	if code, stdout, _ := runBin(t, "", "version"); code != 0 || !strings.HasPrefix(stdout, "ssoctl ") {
		t.Fatalf("version: exit %d, %q", code, stdout)
	}
	if code, stdout, _ := runBin(t, "", "completion", "bash"); code != 0 || !strings.Contains(stdout, "bash completion") {
		t.Fatalf("completion bash: exit %d", code)
	}
}
