package cmd

import (
	"errors"
	"fmt"
	"strings"
)

// Exit codes, as documented in the README.
const (
	ExitOK       = 0 // success, nothing wrong
	ExitFailure  = 1 // runtime failure: network, server error
	ExitUsage    = 2 // bad usage or bad input: flags, unparsable file, malformed token
	ExitFindings = 3 // a check found problems
	ExitChanges  = 4 // plan --detailed-exitcode found pending changes
)

// UsageError is a problem with flags or arguments; the command's usage line
// is printed after it.
type UsageError struct {
	Err error
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitError ends the command with a specific code. A nil Err means the
// command already reported everything it had to say (findings, a plan).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// inputError is bad input found by the CLI itself (exit 2), reported in
// one line without the usage block.
type inputError struct{ msg string }

func (e *inputError) Error() string  { return e.msg }
func (e *inputError) BadInput() bool { return true }

func inputErrorf(format string, args ...any) error {
	return &inputError{fmt.Sprintf(format, args...)}
}

// badInput is implemented by domain errors that blame the caller's input
// (a malformed token, a broken sso.yaml, unparsable XML) rather than a
// server. Domain packages implement it without importing cmd.
type badInput interface{ BadInput() bool }

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var bi badInput
	if errors.As(err, &bi) && bi.BadInput() {
		return ExitUsage
	}
	if isCobraUsageError(err) {
		return ExitUsage
	}
	return ExitFailure
}

// isCobraUsageError recognises the argument errors cobra itself returns,
// which carry no type of their own.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command ", "unknown flag: ", "unknown shorthand flag: ", "accepts ", "requires at least ", "requires at most ", "invalid argument ", "flag needs an argument"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// outputError is a failure to write stdout: a runtime failure (exit 1).
type outputError struct{ err error }

func (e *outputError) Error() string { return "writing the output: " + e.err.Error() }
func (e *outputError) Unwrap() error { return e.err }

// internalError is a panic recovered from a command: a bug in ssoctl, a
// runtime failure (exit 1) whatever its value says.
type internalError struct {
	value any
	stack []byte
}

func (e *internalError) Error() string {
	return fmt.Sprintf("internal error: %v (a bug in ssoctl; please report it with this trace)\n%s", e.value, e.stack)
}
