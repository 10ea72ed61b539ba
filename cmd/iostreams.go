package cmd

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams are the three streams a command talks through, plus what is
// known about them. Commands never touch os.Stdout directly, so tests can
// swap in buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	noColor   bool
}

// SystemIO returns the process's standard streams. Terminal detection is a
// cheap ioctl per stream; nothing else is probed at start-up.
func SystemIO() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       &checkedWriter{w: os.Stdout},
		ErrOut:    os.Stderr,
		stdinTTY:  isatty.IsTerminal(os.Stdin.Fd()),
		stdoutTTY: isatty.IsTerminal(os.Stdout.Fd()),
		stderrTTY: isatty.IsTerminal(os.Stderr.Fd()),
		noColor:   os.Getenv("NO_COLOR") != "",
	}
}

// TestIO returns streams backed by buffers, none of them a terminal.
func TestIO() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY marks the streams as terminals (or not), for tests of the human
// output path.
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// IsStdinTTY reports whether standard input is a terminal (so a prompt can
// be shown).
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// DisableColor turns styling off (--no-color).
func (s *IOStreams) DisableColor() { s.noColor = true }

// ColorOut reports whether stdout may carry styling.
func (s *IOStreams) ColorOut() bool { return s.stdoutTTY && !s.noColor }

// ColorErr reports whether stderr may carry styling.
func (s *IOStreams) ColorErr() bool { return s.stderrTTY && !s.noColor }

// checkedWriter remembers the first failed write: output that could not be
// written (a full disk, a closed pipe) makes the command exit 1 however the
// command itself treated the error.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// outErr is the first error writing stdout, if any.
func (s *IOStreams) outErr() error {
	if c, ok := s.Out.(*checkedWriter); ok {
		return c.err
	}
	return nil
}
