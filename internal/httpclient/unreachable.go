package httpclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
)

// UnreachableError means a server could not be reached at all: the
// connection was refused, the name did not resolve, the request timed out.
// It names the server, its URL and the network cause.
type UnreachableError struct {
	// Server is what was called, e.g. "Keycloak" or "Vault".
	Server string
	URL    string
	// Context says what the call was for, e.g. the realm and the source of
	// the credentials it logged in with; "" when there is nothing to add.
	Context string
	Err     error
}

func (e *UnreachableError) Error() string {
	ctx := ""
	if e.Context != "" {
		ctx = " (" + e.Context + ")"
	}
	return fmt.Sprintf("cannot reach %s at %s%s: %s", e.Server, e.URL, ctx, NetCause(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// NetCause describes a transport failure in a few words: the DNS failure,
// the refused dial with its address, or a timeout.
func NetCause(err error) string {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		return "DNS lookup failed: " + dnsErr.Err + " (" + dnsErr.Name + ")"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.As(err, &opErr) && opErr.Err != nil:
		addr := ""
		if opErr.Addr != nil {
			addr = " " + opErr.Addr.String()
		}
		return opErr.Op + addr + ": " + opErr.Err.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
