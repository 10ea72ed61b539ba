package cmd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/spec"
)

// maxInput bounds what is read from a token file or stdin.
const maxInput = 1 << 20

// readInput reads the file name, or in for "-" or "", up to limit bytes.
// A file that is missing or too large is bad input (exit 2).
func readInput(in io.Reader, name string, limit int64) ([]byte, error) {
	r := in
	label := name
	if name == "-" || name == "" {
		label = "stdin"
	} else {
		file, err := openFile(name)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		r = file
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, inputErrorf("reading %s: %v", label, err)
	}
	if int64(len(data)) > limit {
		return nil, inputErrorf("%s is larger than %d bytes", label, limit)
	}
	return data, nil
}

// openFile opens a named input file, reporting a missing one as bad input.
func openFile(name string) (*os.File, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, &inputError{err.Error()}
	}
	return file, nil
}

// userPassword is the password of --user: "" without one; else, first,
// the variable the file's users: entry for the user names (password_env,
// when file is not nil and that variable is set), then readPassword's
// ($SSOCTL_PASSWORD, a prompt, stdin); registered with the redactor.
// Commands that log a user in (doctor, rancher login, keycloak token,
// keycloak authz) call it before their first request, so that a missing
// password is exit 2 with no server asked.
func userPassword(ios *IOStreams, getenv func(string) string, r *secret.Redactor, file *spec.File, user string) (string, error) {
	if user == "" {
		return "", nil
	}
	p := ""
	if file != nil {
		p = filePassword(file, user, getenv)
	}
	var err error
	if p == "" {
		if p, err = readPassword(ios, getenv, "Password for "+user+": "); err != nil {
			return "", err
		}
	}
	r.Add(p)
	return p, nil
}

// readPassword reads $SSOCTL_PASSWORD, else prompts on a terminal without
// echo, else reads the first line of stdin.
func readPassword(ios *IOStreams, getenv func(string) string, prompt string) (string, error) {
	if p := getenv("SSOCTL_PASSWORD"); p != "" {
		return p, nil
	}
	if file, ok := ios.In.(*os.File); ok && ios.IsStdinTTY() {
		fmt.Fprint(ios.ErrOut, prompt)
		b, err := term.ReadPassword(int(file.Fd()))
		fmt.Fprintln(ios.ErrOut)
		if err != nil {
			return "", fmt.Errorf("reading password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(io.LimitReader(ios.In, maxInput)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", inputErrorf("no password: set $SSOCTL_PASSWORD or pass it on stdin")
	}
	return line, nil
}
