package cmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/internal/secret"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/rancher"
	"github.com/ssoctl/ssoctl/spec"
)

type rancherConfigOptions struct {
	fileOptions
	SPCert string
	SPKey  string
}

func newRancherConfigCmd(f *Factory, runF func(*rancherConfigOptions) error) *cobra.Command {
	opts := &rancherConfigOptions{fileOptions: newFileOptions(f)}
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
			return runCommand(cmd, opts, runF, rancherConfigRun)
		},
	}
	opts.addFileFlag(cmd, "sso.yaml", "the sso.yaml with keycloak: and rancher: sections")
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
	file, err := opts.load()
	if err != nil {
		return err
	}
	if file.Rancher == nil || file.Keycloak == nil {
		return inputErrorf("%s: rancher config needs both a keycloak: and a rancher: section", opts.File)
	}
	in := rancher.ConfigInput{
		RancherURL: file.Rancher.URL,
		Fields:     rancher.FieldsOf(file.Rancher.Fields),
		Client:     samlClientFor(file.Keycloak.Client(file.Rancher.SAMLClient)),
	}
	if in.SPCertPEM, in.SPKeyPEM, err = readSPPair(opts.IO.In, opts.Redactor, opts.SPCert, opts.SPKey); err != nil {
		return err
	}
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	if in.Metadata, err = rancherMetadata(opts.Context, hc, file.Keycloak.URL, file.Keycloak.Realm); err != nil {
		return err
	}
	cfg, findings, err := rancher.BuildConfig(in)
	if err != nil {
		return err
	}
	if opts.IO.IsStdoutTTY() && !opts.Globals.ShowSecrets && cfg.SPKey != "" {
		cfg.SPKey = "(masked; pipe the output or pass --show-secrets)"
	}
	if err := writeJSON(opts.IO.Out, cfg); err != nil {
		return err
	}
	writeFindingList(opts.IO.ErrOut, opts.IO.ErrTheme(), "", findings)
	if rancher.HasErrors(findings) {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// readSPPair reads --sp-cert and --sp-key (either may be "", "-" is
// stdin) and masks the key in all output. A pair that does not parse is
// bad input, said before any server is asked (a missing half is left to the
// caller's checks).
func readSPPair(stdin io.Reader, red *secret.Redactor, certPath, keyPath string) (cert, key []byte, err error) {
	for _, p := range []struct {
		path string
		dst  *[]byte
	}{{certPath, &cert}, {keyPath, &key}} {
		if p.path == "" {
			continue
		}
		if *p.dst, err = readInput(stdin, p.path, maxKeyFile); err != nil {
			return nil, nil, err
		}
	}
	if len(key) > 0 {
		red.Add(strings.TrimSpace(string(key)))
	}
	if len(cert)+len(key) > 0 {
		for _, f := range rancher.SPKeyPairFindings(cert, key) {
			if f.ID == rancher.FindingSPKeyInvalid || f.ID == rancher.FindingSPCertInvalid {
				return nil, nil, inputErrorf("%s", f.Message)
			}
		}
	}
	return cert, key, nil
}

// rancherMetadata is the realm's live IdP descriptor, converted to the one
// EntityDescriptor root Rancher decodes.
func rancherMetadata(ctx context.Context, hc *http.Client, keycloakURL, realm string) ([]byte, error) {
	raw, err := keycloak.Descriptor(ctx, hc, keycloakURL, realm)
	if err != nil {
		return nil, err
	}
	conv, err := rancher.Convert(raw, rancher.ConvertOptions{})
	if err != nil {
		return nil, fmt.Errorf("realm %s's descriptor: %w", realm, err)
	}
	return conv.Metadata, nil
}
