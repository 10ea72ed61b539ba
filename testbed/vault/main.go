// Command vault is the stock Vault server and CLI, built from the
// github.com/hashicorp/vault module so the testbed needs no download
// from outside the Go module proxy.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
