package cmd

import (
	"fmt"
	"io"

	"github.com/ssoctl/ssoctl/inspect"
)

// writeFindingList prints one finding per entry, whichever package found it
// (rancher's Finding is inspect's): a mark by severity, the message and its
// id, then Vault's message and the fix, indented.
func writeFindingList(w io.Writer, th *Theme, indent string, fs []inspect.Finding) {
	for _, fd := range fs {
		mark := th.Fail.Render("✗")
		switch fd.Severity {
		case inspect.SeverityWarning:
			mark = th.Warn.Render("!")
		case inspect.SeverityInfo:
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
