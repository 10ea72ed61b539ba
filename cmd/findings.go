package cmd

import (
	"fmt"
	"io"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/rancher"
)

// finding is how every check result is shown, whichever package found it.
type finding struct {
	ID, Severity, Message, VaultMessage, Fix string
}

func fromInspect(fs []inspect.Finding) []finding {
	out := make([]finding, len(fs))
	for i, f := range fs {
		out[i] = finding{f.ID, string(f.Severity), f.Message, f.VaultMessage, f.Fix}
	}
	return out
}

func fromRancher(fs []rancher.Finding) []finding {
	out := make([]finding, len(fs))
	for i, f := range fs {
		out[i] = finding{ID: f.ID, Severity: f.Severity, Message: f.Message, Fix: f.Fix}
	}
	return out
}

// writeFindingList prints one finding per entry: a mark by severity, the
// message and its id, then Vault's message and the fix, indented.
func writeFindingList(w io.Writer, th *Theme, indent string, fs []finding) {
	for _, fd := range fs {
		mark := th.Fail.Render("✗")
		switch fd.Severity {
		case "warning":
			mark = th.Warn.Render("!")
		case "info":
			mark = th.Muted.Render("i")
		}
		fmt.Fprintf(w, "%s%s %s %s\n", indent, mark, fd.Message, th.Muted.Render("["+fd.ID+"]"))
		if fd.VaultMessage != "" {
			fmt.Fprintf(w, "%s    Vault: %s\n", indent, fd.VaultMessage)
		}
		if fd.Fix != "" {
			fmt.Fprintf(w, "%s    fix: %s\n", indent, fd.Fix)
		}
	}
}
