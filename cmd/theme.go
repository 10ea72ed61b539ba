package cmd

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Theme is the one place ssoctl styles text. Each role has a meaning, not a
// color: OK for passing checks and applied changes, Warn for findings that
// do not fail, Fail for errors, Muted for secondary detail, Bold for
// headings.
type Theme struct {
	OK, Warn, Fail, Muted, Bold lipgloss.Style
}

// newTheme returns a theme rendering to w; with color false every role is a
// plain pass-through, so piped output carries no escape codes. The streams
// already decided whether w is a terminal, so the profile is set rather
// than probed (the theme uses the 16 ANSI colors only).
func newTheme(w io.Writer, color bool) *Theme {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return &Theme{
		OK:    r.NewStyle().Foreground(lipgloss.Color("2")),
		Warn:  r.NewStyle().Foreground(lipgloss.Color("3")),
		Fail:  r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		Muted: r.NewStyle().Foreground(lipgloss.Color("8")),
		Bold:  r.NewStyle().Bold(true),
	}
}

// OutTheme returns the theme for stdout.
func (s *IOStreams) OutTheme() *Theme { return newTheme(s.Out, s.ColorOut()) }

// ErrTheme returns the theme for stderr.
func (s *IOStreams) ErrTheme() *Theme { return newTheme(s.ErrOut, s.ColorErr()) }
