package cmd

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/internal/httpclient"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/rancher"
	"github.com/ssoctl/ssoctl/spec"
)

func newRancherCmd(f *Factory) *cobra.Command {
	return newGroupCmd("rancher <command>", "Make Keycloak's SAML metadata work for Rancher", newRancherConvertCmd(f, nil), newRancherCheckCmd(f, nil), newRancherConfigCmd(f, nil))
}

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
func (s *metadataSource) read(f *Factory) ([]byte, string, error) {
	if s.Realm != "" {
		if err := s.resolve(f); err != nil {
			return nil, "", err
		}
		hc, err := f.HTTPClient(httpclient.Options{})
		if err != nil {
			return nil, "", err
		}
		data, err := keycloak.Descriptor(f.Context, hc, s.URL, s.Realm)
		return data, "realm " + s.Realm, err
	}
	switch {
	case s.Arg == "" || s.Arg == "-":
		data, err := rancher.ReadMetadata(f.IO.In)
		return data, "stdin", err
	case strings.HasPrefix(s.Arg, "http://") || strings.HasPrefix(s.Arg, "https://"):
		hc, err := f.HTTPClient(httpclient.Options{})
		if err != nil {
			return nil, "", err
		}
		req, err := http.NewRequestWithContext(f.Context, http.MethodGet, s.Arg, nil)
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

type rancherConvertOptions struct {
	f        *Factory
	Src      metadataSource
	EntityID string
	Out      string
}

func newRancherConvertCmd(f *Factory, runF func(*rancherConvertOptions) error) *cobra.Command {
	opts := &rancherConvertOptions{f: f}
	cmd := &cobra.Command{
		Use:   "convert [FILE|URL|-] [--realm R] [--entity-id ID] [--out FILE]",
		Short: "Reshape Keycloak's SAML metadata into the EntityDescriptor Rancher decodes",
		Long: `Read Keycloak SAML IdP metadata (a file, a URL, stdin, or --realm to fetch it
from Keycloak) and write the single <EntityDescriptor> root Rancher's Keycloak
provider decodes, with every namespace prefix it uses declared on it and the
whole IDPSSODescriptor intact. Keycloak 6-13's <EntitiesDescriptor> wrapper and
the md:-prefixed variant are unwrapped; a Keycloak 14+ EntityDescriptor passes
through unchanged. With several EntityDescriptors, pick one with --entity-id.

The result goes to stdout or --out FILE (-o is the global text|json switch;
-o json prints {shape, entity_id, changed, warnings, metadata}).`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Src.Arg = args[0]
			}
			if opts.Src.Realm != "" && opts.Src.Arg != "" {
				return usageErrorf("give a FILE/URL or --realm, not both")
			}
			if runF != nil {
				return runF(opts)
			}
			return rancherConvertRun(opts)
		},
	}
	opts.Src.addFlags(cmd)
	cmd.Flags().StringVar(&opts.EntityID, "entity-id", "", "the EntityDescriptor to keep when there are several")
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the metadata to FILE instead of stdout")
	return cmd
}

func rancherConvertRun(opts *rancherConvertOptions) error {
	f := opts.f
	data, _, err := opts.Src.read(f)
	if err != nil {
		return err
	}
	res, err := rancher.Convert(data, rancher.ConvertOptions{EntityID: opts.EntityID})
	if err != nil {
		return err
	}
	th := f.IO.ErrTheme()
	for _, w := range res.Warnings {
		fmt.Fprintf(f.IO.ErrOut, "%s %s\n", th.Warn.Render("warning:"), w.Message)
	}
	if f.Globals.JSON() {
		return writeJSON(f.IO.Out, struct {
			Shape    rancher.Shape     `json:"shape"`
			EntityID string            `json:"entity_id"`
			Changed  bool              `json:"changed"`
			Warnings []rancher.Finding `json:"warnings"`
			Metadata string            `json:"metadata"`
		}{res.Shape, res.EntityID, res.Changed, nonNilFindings(res.Warnings), string(res.Metadata)})
	}
	if opts.Out != "" {
		if err := writeFileAtomic(opts.Out, res.Metadata); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "%s wrote %s (%s, entityID %s)\n", th.OK.Render("✓"), opts.Out, res.Shape, res.EntityID)
		return nil
	}
	_, err = f.IO.Out.Write(res.Metadata)
	return err
}

func nonNilFindings(fs []rancher.Finding) []rancher.Finding {
	if fs == nil {
		return []rancher.Finding{}
	}
	return fs
}

// writeFileAtomic writes data next to path and renames it into place, so an
// interrupted write never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

type rancherCheckOptions struct {
	f   *Factory
	Src metadataSource
}

func newRancherCheckCmd(f *Factory, runF func(*rancherCheckOptions) error) *cobra.Command {
	opts := &rancherCheckOptions{f: f}
	cmd := &cobra.Command{
		Use:   "check FILE|URL|- [--realm R]",
		Short: "Decode metadata exactly as Rancher does and report what would fail",
		Long: `Decode IdP metadata with the same structure Rancher's Keycloak SAML provider
uses and report, with a fix for each: Rancher's own error text when it would
refuse the file, no signing certificate that decodes (an undeclared ds/dsig
prefix makes it vanish silently), a certificate that does not parse, no
SingleSignOnService with the HTTP-Redirect binding Rancher logs in with, and a
certificate that has expired or expires within 30 days (a warning).

Exit codes: 0 usable (warnings may be printed), 3 Rancher would fail, 2 not XML.`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Src.Arg = args[0]
			}
			if (opts.Src.Arg == "") == (opts.Src.Realm == "") {
				return usageErrorf("give one of FILE, URL, - or --realm")
			}
			if runF != nil {
				return runF(opts)
			}
			return rancherCheckRun(opts)
		},
	}
	opts.Src.addFlags(cmd)
	return cmd
}

func rancherCheckRun(opts *rancherCheckOptions) error {
	f := opts.f
	data, name, err := opts.Src.read(f)
	if err != nil {
		return err
	}
	findings, err := rancher.Check(data, f.Now())
	if err != nil {
		return err
	}
	if f.Globals.JSON() {
		if err := writeJSON(f.IO.Out, struct {
			Input    string            `json:"input"`
			Usable   bool              `json:"usable"`
			Findings []rancher.Finding `json:"findings"`
		}{name, !rancher.HasErrors(findings), nonNilFindings(findings)}); err != nil {
			return err
		}
	} else {
		writeRancherFindings(f, name, findings)
	}
	if rancher.HasErrors(findings) {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

func writeRancherFindings(f *Factory, name string, findings []rancher.Finding) {
	th := f.IO.OutTheme()
	w := f.IO.Out
	if len(findings) == 0 {
		fmt.Fprintf(w, "%s %s: Rancher can use this metadata\n", th.OK.Render("✓"), name)
		return
	}
	writeFindingList(w, th, "", fromRancher(findings))
	if !rancher.HasErrors(findings) {
		fmt.Fprintf(w, "%s %s: usable, with the warnings above\n", th.OK.Render("✓"), name)
	}
}

type rancherConfigOptions struct {
	f      *Factory
	File   string
	SPCert string
	SPKey  string
}

func newRancherConfigCmd(f *Factory, runF func(*rancherConfigOptions) error) *cobra.Command {
	opts := &rancherConfigOptions{f: f}
	cmd := &cobra.Command{
		Use:   "config -f sso.yaml [--sp-cert FILE --sp-key FILE]",
		Short: "Print Rancher's Keycloak SAML auth config as JSON, and check the SAML client",
		Long: `Build the body of Rancher's Keycloak SAML auth config (displayNameField,
userNameField, uidField, groupsField, rancherApiHost, entityID,
idpMetadataContent, spCert, spKey) from the file's rancher: section and the
realm's live IdP metadata, converted for Rancher.

It also checks the file's SAML client against what Rancher expects: client_id
equals <rancher>/v1-saml/keycloak/saml/metadata, a redirect URI equals the ACS
URL, every field names a mapper's friendly name (or attribute name), the
signature settings follow Rancher's documentation, and the SP key is RSA in
PKCS#1 or PKCS#8 and matches the certificate. Findings go to stderr; the exit
code is 3 when any is an error.

The SP key is a secret: on a terminal it is masked unless --show-secrets;
piped, the JSON is printed whole so that it can be posted.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return rancherConfigRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", "sso.yaml", "the sso.yaml with keycloak: and rancher: sections")
	cmd.Flags().StringVar(&opts.SPCert, "sp-cert", "", "Rancher's SP certificate (PEM)")
	cmd.Flags().StringVar(&opts.SPKey, "sp-key", "", "Rancher's SP private key (PEM, RSA PKCS#1 or PKCS#8)")
	return cmd
}

// samlClientFor describes the file's SAML client as Rancher will see it.
func samlClientFor(c *spec.Client) *rancher.SAMLClient {
	if c == nil {
		return nil
	}
	d := keycloak.ExpandClient(*c)
	out := &rancher.SAMLClient{ClientID: c.ClientID, RedirectURIs: c.RedirectURIs, Attributes: d.Attributes}
	for _, m := range d.Mappers {
		out.Mappers = append(out.Mappers, rancher.SAMLAttribute{MapperName: m.Name, AttributeName: m.Config["attribute.name"], FriendlyName: m.Config["friendly.name"]})
	}
	return out
}

func rancherConfigRun(opts *rancherConfigOptions) error {
	f := opts.f
	file, err := spec.Load(opts.File, f.Getenv)
	if err != nil {
		return err
	}
	if file.Rancher == nil || file.Keycloak == nil {
		return &inputError{opts.File + ": rancher config needs both a keycloak: and a rancher: section"}
	}
	in := rancher.ConfigInput{
		RancherURL: file.Rancher.URL,
		Fields:     rancher.Fields{DisplayName: file.Rancher.Fields.DisplayName, UserName: file.Rancher.Fields.UserName, UID: file.Rancher.Fields.UID, Groups: file.Rancher.Fields.Groups},
		Client:     samlClientFor(file.Keycloak.Client(file.Rancher.SAMLClient)),
	}
	for _, p := range []struct {
		path string
		dst  *[]byte
	}{{opts.SPCert, &in.SPCertPEM}, {opts.SPKey, &in.SPKeyPEM}} {
		if p.path == "" {
			continue
		}
		data, err := os.ReadFile(p.path)
		if err != nil {
			return &inputError{err.Error()}
		}
		*p.dst = data
	}
	hc, err := f.HTTPClient(httpclient.Options{})
	if err != nil {
		return err
	}
	raw, err := keycloak.Descriptor(f.Context, hc, file.Keycloak.URL, file.Keycloak.Realm)
	if err != nil {
		return err
	}
	conv, err := rancher.Convert(raw, rancher.ConvertOptions{})
	if err != nil {
		return fmt.Errorf("realm %s's descriptor: %w", file.Keycloak.Realm, err)
	}
	in.Metadata = conv.Metadata
	cfg, findings, err := rancher.BuildConfig(in)
	if err != nil {
		return err
	}
	if len(in.SPKeyPEM) > 0 {
		f.Redactor.Add(strings.TrimSpace(string(in.SPKeyPEM)))
	}
	if f.IO.IsStdoutTTY() && !f.Globals.ShowSecrets && cfg.SPKey != "" {
		cfg.SPKey = "(masked; pipe the output or pass --show-secrets)"
	}
	if err := writeJSON(f.IO.Out, cfg); err != nil {
		return err
	}
	writeFindingList(f.IO.ErrOut, f.IO.ErrTheme(), "", fromRancher(findings))
	if rancher.HasErrors(findings) {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}
