//go:build unix

package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const smallFile = "keycloak:\n  url: http://kc\n  realm: r\n"

// sso.yaml through a FIFO or pipe is read when something writes it, and
// refused after MaxPipeWait when nothing does (before: a FIFO nobody wrote
// blocked in open for ever). A directory, device or socket is refused
// before it is opened.
func TestLoadPipesAndOtherFiles(t *testing.T) {
	defer func(w time.Duration) { pipeWait = w }(pipeWait)
	pipeWait = 300 * time.Millisecond
	dir := t.TempDir()
	fifo := func(name string) string {
		p := filepath.Join(dir, name)
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Nobody writes: refused after the wait, naming it.
	_, err := Load(fifo("idle"), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "a FIFO or pipe that nothing wrote within 300ms") || !strings.Contains(err.Error(), "idle: ") {
		t.Errorf("a FIFO nobody writes: %v", err)
	}

	// A writer that starts after the read, and one that sends part and
	// never closes.
	p := fifo("late")
	go func(p string) {
		time.Sleep(50 * time.Millisecond)
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err == nil {
			w.WriteString(smallFile)
			w.Close()
		}
	}(p)
	if f, err := Load(p, nil, nil); err != nil || f.Keycloak.Realm != "r" {
		t.Errorf("a FIFO written after the read began: %v", err)
	}
	p = fifo("stuck")
	done := make(chan *os.File, 1)
	go func() {
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err == nil {
			w.WriteString("keycloak:\n")
		}
		done <- w
	}()
	_, err = Load(p, nil, nil)
	if w := <-done; w != nil {
		w.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "whose writer sent 10 bytes but did not close it") {
		t.Errorf("a writer that never closes: %v", err)
	}

	// A pipe whose writer finished before the read (-f <(cat sso.yaml)).
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(smallFile)
	w.Close()
	defer r.Close()
	if f, err := Load(fmt.Sprintf("/dev/fd/%d", r.Fd()), nil, nil); err != nil || f.Keycloak.Realm != "r" {
		t.Errorf("a finished pipe: %v", err)
	}

	for path, kind := range map[string]string{dir: "a directory", "/dev/null": "a device"} {
		if _, err := Load(path, nil, nil); err == nil || !strings.Contains(err.Error(), "not a regular file ("+kind+")") {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// --fix reads only a regular file, once, without blocking; a symlink, FIFO,
// device or directory is refused before it is opened.
func TestReadForEdit(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "sso.yaml")
	os.WriteFile(reg, []byte(smallFile), 0o600)
	data, fi, err := ReadForEdit(reg)
	if err != nil || string(data) != smallFile || fi.Size() != int64(len(smallFile)) {
		t.Fatalf("a regular file: %q %v", data, err)
	}
	link := filepath.Join(dir, "link.yaml")
	os.Symlink(reg, link)
	fifo := filepath.Join(dir, "fifo.yaml")
	syscall.Mkfifo(fifo, 0o600)
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte(strings.Repeat("#", MaxFileSize+1)), 0o600)
	for path, want := range map[string]string{link: "not a regular file (a symlink)", fifo: "not a regular file (a FIFO)",
		"/dev/zero": "not a regular file (a device)", dir: "not a regular file (a directory)", big: "larger than 1048576 bytes",
		filepath.Join(dir, "none.yaml"): "no such file"} {
		_, _, err := ReadForEdit(path)
		var e *Error
		if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &e) || !e.BadInput() {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}
