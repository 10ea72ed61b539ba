// Command floor is the startup floor of ssoctl's binary: the same command
// tree linked (so every package ssoctl links is initialised, as in
// ssoctl), and nothing run. bench/startup.sh times it beside ssoctl, a Go
// hello-world and jwt-cli: the gap between floor and hello-world is what
// the linked packages cost before main; the gap between ssoctl and floor
// is ssoctl's own work.
package main

import (
	"os"

	"github.com/ssoctl/ssoctl/cmd"
)

func main() {
	// Never true: it keeps the whole tree linked, as in ssoctl.
	if len(os.Args) > 1<<20 {
		os.Exit(cmd.Main())
	}
}
