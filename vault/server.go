package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// Server flavours: Vault, or OpenBao (the MPL fork, same API).
const (
	FlavorVault   = "vault"
	FlavorOpenBao = "openbao"
)

// Server is what answers at the address.
type Server struct {
	Flavor  string `json:"flavor"`
	Version string `json:"version"`
	Addr    string `json:"addr"`
}

// Name is the product's name: "Vault" or "OpenBao".
func (s Server) Name() string {
	if s.Flavor == FlavorOpenBao {
		return "OpenBao"
	}
	return "Vault"
}

func (s Server) String() string {
	v := ""
	if s.Version != "" {
		v = " " + s.Version
	}
	return s.Name() + v + " at " + s.Addr
}

// maxSealStatus bounds the sys/seal-status answer.
const maxSealStatus = 64 << 10

// Server reads the flavour and version from sys/seal-status (no token
// needed). Vault answers with build_date; OpenBao with commit_date and no
// build_date (measured on Vault 1.19.0 and OpenBao 2.7.2). The result is
// kept: later messages name the server by its flavour.
func (c *Conn) Server(ctx context.Context) (Server, error) {
	if c.server != nil {
		return *c.server, nil
	}
	resp, err := c.api.Logical().ReadRawWithContext(ctx, "sys/seal-status")
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return Server{}, c.wrap("GET", "sys/seal-status", err)
	}
	var st map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSealStatus)).Decode(&st); err != nil {
		return Server{}, fmt.Errorf("%s/v1/sys/seal-status: %w", c.addr, err)
	}
	s := Server{Flavor: FlavorVault, Addr: c.addr}
	s.Version, _ = st["version"].(string)
	_, build := st["build_date"]
	_, commit := st["commit_date"]
	if commit && !build {
		s.Flavor = FlavorOpenBao
	}
	c.server = &s
	return s, nil
}

// name is the server's product name for messages: "Vault" until Server
// has read the flavour.
func (c *Conn) name() string {
	if c.server != nil {
		return c.server.Name()
	}
	return "Vault"
}
