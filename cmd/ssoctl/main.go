// Command ssoctl sets up single sign-on across Keycloak, Vault and Rancher
// and explains why a login fails. See README.md.
package main

import (
	"os"

	"github.com/ssoctl/ssoctl/cmd"
)

func main() { os.Exit(cmd.Main()) }
