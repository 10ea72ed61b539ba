package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// A signal ends a command that is stuck where no context reaches (opening
// a FIFO nobody writes): after the grace period, or at once on a second
// signal.
func TestSignalsEndAStuckCommand(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sigs := range [][]os.Signal{{syscall.SIGTERM}, {os.Interrupt, os.Interrupt}} {
		cmd := exec.Command(binary(t), "inspect", "token", fifo, "--insecure-no-verify")
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // let it reach the open
		for _, s := range sigs {
			cmd.Process.Signal(s)
			time.Sleep(50 * time.Millisecond)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "interrupted") {
				t.Errorf("%v: %v, stderr %q", sigs, err, errOut.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: still running 10 s after the signal", sigs)
		}
	}
}

// Output that cannot be written is a failure, whatever the command.
func TestUnwritableOutputExits1(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("this test needs /dev/full: %v", err)
	}
	defer full.Close()
	tok := filepath.Join(t.TempDir(), "t.jwt")
	// {"alg":"RS256","typ":"JWT"}.{"sub":"x","exp":4102444800}
	os.WriteFile(tok, []byte("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln"), 0o600)
	for _, args := range [][]string{{"version"}, {"completion", "bash"}, {"inspect", "token", tok, "--insecure-no-verify"}, {"inspect", "token", tok, "--insecure-no-verify", "-o", "json"}} {
		cmd := exec.Command(binary(t), args...)
		cmd.Stdout = full
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "no space left on device") {
			t.Errorf("%v: %v, stderr %q", args, err, errOut.String())
		}
	}
}
