package cmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/rancher"
)

// metadataSource is where convert and check read metadata from: FILE, URL
// or - (Arg), or the descriptor of --realm.
type metadataSource struct {
	Arg string
	keycloakTarget
}

func (s *metadataSource) addFlags(cmd *cobra.Command) {
	s.keycloakTarget.addFlags(cmd, "fetch the descriptor of this realm from Keycloak")
}

// read returns the metadata and a name for it.
func (s *metadataSource) read(ctx context.Context, in io.Reader, getenv func(string) string, connect *connector) ([]byte, string, error) {
	if s.Realm != "" {
		if err := s.resolve(getenv); err != nil {
			return nil, "", err
		}
		hc, err := connect.plainHTTP()
		if err != nil {
			return nil, "", err
		}
		data, err := keycloak.Descriptor(ctx, hc, s.URL, s.Realm)
		return data, "realm " + s.Realm, err
	}
	switch {
	case s.Arg == "" || s.Arg == "-":
		data, err := rancher.ReadMetadata(in)
		return data, "stdin", err
	case strings.HasPrefix(s.Arg, "http://") || strings.HasPrefix(s.Arg, "https://"):
		hc, err := connect.plainHTTP()
		if err != nil {
			return nil, "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Arg, nil)
		if err != nil {
			return nil, "", usageErrorf("bad URL %q: %v", s.Arg, err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, "", fmt.Errorf("fetching %s: %w", s.Arg, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			return nil, "", fmt.Errorf("fetching %s: HTTP %d: %s", s.Arg, resp.StatusCode, strings.TrimSpace(string(body)))
		}
		data, err := rancher.ReadMetadata(resp.Body)
		return data, s.Arg, err
	default:
		file, err := openFile(s.Arg)
		if err != nil {
			return nil, "", err
		}
		defer file.Close()
		data, err := rancher.ReadMetadata(file)
		return data, s.Arg, err
	}
}

func nonNilFindings(fs []rancher.Finding) []rancher.Finding {
	if fs == nil {
		return []rancher.Finding{}
	}
	return fs
}
