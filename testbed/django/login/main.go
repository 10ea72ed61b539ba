// Command login logs a user in to a Django site rendered by ssoctl, the
// way a browser would: the admin login page, its "Log in with Keycloak"
// button, Keycloak's login form, the callback. The demo uses it.
//
//	SSOCTL_PASSWORD=... go run ./testbed/django/login SITE-URL USERNAME [PATH]...
//
// It prints where the login ended, then the status of each PATH fetched in
// the same session.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/ssoctl/ssoctl/internal/browser"
)

func main() {
	if len(os.Args) < 3 || os.Getenv("SSOCTL_PASSWORD") == "" {
		fmt.Fprintln(os.Stderr, "usage: SSOCTL_PASSWORD=... login SITE-URL USERNAME [PATH]...")
		os.Exit(2)
	}
	site, user := os.Args[1], os.Args[2]
	ctx := context.Background()
	b := browser.New()
	p, err := b.AppLogin(ctx, site+"/admin/login/?next=/admin/", "keycloak-sso-login", user, os.Getenv("SSOCTL_PASSWORD"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "login as %s failed: %v\nhops: %s\n", user, err, b.Trail())
		os.Exit(1)
	}
	fmt.Printf("%s logged in through Keycloak; the login ended at %s (%d)\n", user, p.URL.Path, p.Status)
	for _, path := range os.Args[3:] {
		r, err := b.Do(ctx, http.MethodGet, site+path, nil, "")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("  GET %s → %d\n", path, r.Status)
	}
}
