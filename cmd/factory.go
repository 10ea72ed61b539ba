package cmd

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/internal/secret"
)

// GlobalOptions are the flags every command accepts.
type GlobalOptions struct {
	Output      string // text | json
	NoColor     bool
	Debug       bool
	ShowSecrets bool
}

// JSON reports whether machine-readable output was asked for.
func (g *GlobalOptions) JSON() bool { return g.Output == "json" }

// Factory carries the dependencies commands share. Everything expensive is
// built lazily, on first use, so a command that needs no network (inspect
// with a JWKS file, rancher check) pays nothing for it.
type Factory struct {
	IO      *IOStreams
	Globals *GlobalOptions
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Context is cancelled on interrupt.
	Context context.Context
	// Redactor masks secrets the run has seen (client secrets, tokens) in
	// debug logs and error messages.
	Redactor *secret.Redactor
	// HTTPClient builds the client for one system; opts carry its TLS
	// settings. Tests may replace it.
	HTTPClient func(opts httpclient.Options) (*http.Client, error)
}

// NewFactory returns the production wiring on the given streams.
func NewFactory(ios *IOStreams) *Factory {
	f := &Factory{
		IO:       ios,
		Globals:  &GlobalOptions{Output: "text"},
		Getenv:   os.Getenv,
		Now:      time.Now,
		Context:  context.Background(),
		Redactor: &secret.Redactor{},
	}
	f.HTTPClient = func(opts httpclient.Options) (*http.Client, error) {
		if f.debugEnabled() {
			opts.Debug = f.IO.ErrOut
			opts.Redactor = f.Redactor
		}
		return httpclient.New(opts)
	}
	return f
}

func (f *Factory) debugEnabled() bool {
	return f.Globals.Debug || f.Getenv("SSOCTL_DEBUG") == "1"
}
