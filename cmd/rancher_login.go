package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/rancher"
	"github.com/ssoctl/ssoctl/rancher/login"
	"github.com/ssoctl/ssoctl/spec"
)

type rancherLoginOptions struct {
	fileOptions
	User   string
	SPCert string
	SPKey  string
}

func newRancherLoginCmd(f *Factory, runF func(*rancherLoginOptions) error) *cobra.Command {
	opts := &rancherLoginOptions{fileOptions: newFileOptions(f)}
	cmd := &cobra.Command{
		Use:   "login -f sso.yaml --user NAME [--sp-cert FILE --sp-key FILE]",
		Short: "Log in to Keycloak as Rancher's SAML provider would, and print the Rancher principal",
		Long: `Act as Rancher's Keycloak SAML service provider, with the SAML library Rancher
itself uses (rancher/saml), configured from the file's rancher: section: entity
ID <rancher>/v1-saml/keycloak/saml/metadata, the ACS URL, the SP key pair, and
the realm's IdP metadata converted as by rancher convert.

The login is real: an AuthnRequest over HTTP-Redirect signed with RSA-SHA256
(as Rancher 2.10 and later sign it), Keycloak's login form with the user's
password, and the POST-binding response Keycloak renders for Rancher's ACS URL,
captured instead of posted. The response is validated as the library validates
it (signatures with the metadata's certificate, audience, destination, time,
decryption), and the principal is resolved as Rancher's provider resolves it:
each field by the attribute's friendly name, else its name.

The password comes from the variable the file's users: entry names
(password_env), else $SSOCTL_PASSWORD, a prompt or stdin. The Keycloak session
the login opens is deleted afterwards through the admin API (the file's admin
login), that session only; without admin credentials a warning names it. Without --sp-cert and
--sp-key a throwaway pair signs the request; give Rancher's pair when Keycloak
verifies request signatures or encrypts assertions.

Exit codes: 0 the login yields a Rancher principal and every field resolves,
3 a check failed (each finding names its cause and fix), 1 a server could not
be reached, 2 bad usage or input.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.User == "" {
				return usageErrorf("rancher login needs --user")
			}
			if (opts.SPCert == "") != (opts.SPKey == "") {
				return usageErrorf("--sp-cert and --sp-key go together")
			}
			return runCommand(cmd, opts, runF, rancherLoginRun)
		},
	}
	opts.addFileFlag(cmd, "sso.yaml", "the sso.yaml with keycloak: and rancher: sections")
	cmd.Flags().StringVar(&opts.User, "user", "", "the Keycloak user to log in as")
	cmd.Flags().StringVar(&opts.SPCert, "sp-cert", "", "Rancher's SP certificate (PEM)")
	cmd.Flags().StringVar(&opts.SPKey, "sp-key", "", "Rancher's SP private key (PEM, RSA PKCS#1 or PKCS#8)")
	return cmd
}

// rancherLoginConfig is Rancher's side of the file, as the login needs it.
func rancherLoginConfig(file *spec.File, metadata []byte) login.Config {
	r := file.Rancher
	cfg := login.Config{RancherURL: r.URL, Metadata: metadata, ClientName: r.SAMLClient,
		Fields: rancher.FieldsOf(r.Fields)}
	if c := file.Keycloak.Client(r.SAMLClient); c != nil {
		cfg.Client = samlClientFor(c)
		cfg.EntityID = c.ClientID
	}
	return cfg
}

// filePassword is the password of a user the file declares, from the
// variable its password_env names; "" when there is none.
func filePassword(file *spec.File, user string, getenv func(string) string) string {
	if file.Keycloak == nil {
		return ""
	}
	for _, u := range file.Keycloak.Users {
		if u.Username == user && u.PasswordEnv != "" {
			return getenv(u.PasswordEnv)
		}
	}
	return ""
}

func rancherLoginRun(opts *rancherLoginOptions) error {
	file, err := opts.load()
	if err != nil {
		return err
	}
	if file.Rancher == nil || file.Keycloak == nil {
		return inputErrorf("%s: rancher login needs both a keycloak: and a rancher: section", opts.File)
	}
	certPEM, keyPEM, err := readSPPair(opts.IO.In, opts.Redactor, opts.SPCert, opts.SPKey)
	if err != nil {
		return err
	}
	password, err := userPassword(opts.IO, opts.Getenv, opts.Redactor, file, opts.User)
	if err != nil {
		return err
	}
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	metadata, err := rancherMetadata(opts.Context, hc, file.Keycloak.URL, file.Keycloak.Realm)
	if err != nil {
		return err
	}
	cfg := rancherLoginConfig(file, metadata)
	cfg.SPCertPEM, cfg.SPKeyPEM = certPEM, keyPEM
	res, err := login.Run(opts.Context, hc, cfg, opts.User, password)
	if err != nil {
		return err
	}
	opts.endBrowserSessions(file.Keycloak, opts.User, res.Sessions)
	if opts.Globals.JSON() {
		if err := writeJSON(opts.IO.Out, rancherLoginJSON(res)); err != nil {
			return err
		}
	} else {
		writeRancherLogin(opts.IO.Out, opts.IO.OutTheme(), res)
	}
	writeFindingList(opts.IO.ErrOut, opts.IO.ErrTheme(), "", res.Findings)
	if !res.OK() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// rancherLoginDoc is the -o json shape: the principal's fields at the top.
type rancherLoginDoc struct {
	OK          bool                `json:"ok"`
	User        string              `json:"user"`
	Principal   string              `json:"principal"`
	UID         string              `json:"uid"`
	Username    string              `json:"username"`
	DisplayName string              `json:"display_name"`
	Groups      []string            `json:"groups"`
	Attributes  map[string][]string `json:"attributes"`
	Response    login.ResponseShape `json:"response"`
	Findings    []rancher.Finding   `json:"findings"`
}

func rancherLoginJSON(res *login.Result) rancherLoginDoc {
	doc := rancherLoginDoc{OK: res.OK(), User: res.User, Groups: []string{}, Attributes: res.Attributes, Response: res.Response, Findings: res.Findings}
	if doc.Findings == nil {
		doc.Findings = []rancher.Finding{}
	}
	if p := res.Principal; p != nil {
		doc.Principal, doc.UID, doc.Username, doc.DisplayName, doc.Groups = p.ID, p.UID, p.Username, p.DisplayName, p.Groups
	}
	return doc
}

func writeRancherLogin(w io.Writer, th *Theme, res *login.Result) {
	p := res.Principal
	if p == nil {
		fmt.Fprintf(w, "%s %s: no Rancher principal\n", th.Fail.Render("✗"), res.User)
		return
	}
	mark := th.OK.Render("✓")
	if !res.OK() {
		mark = th.Fail.Render("✗")
	}
	fmt.Fprintf(w, "%s %s logs in to Rancher as %s\n", mark, res.User, p.ID)
	fmt.Fprintf(w, "  display name  %s\n", orNone(p.DisplayName))
	fmt.Fprintf(w, "  username      %s\n", orNone(p.Username))
	groups := "(none)"
	if len(p.Groups) > 0 {
		groups = strings.Join(p.Groups, ", ")
	}
	fmt.Fprintf(w, "  groups        %s\n", groups)
	signed := []string{}
	if res.Response.ResponseSigned {
		signed = append(signed, "response")
	}
	if res.Response.AssertionSigned {
		signed = append(signed, "assertion")
	}
	if res.Response.Encrypted {
		signed = append(signed, "assertion encrypted")
	}
	fmt.Fprintf(w, "  signed        %s\n", orNone(strings.Join(signed, ", ")))
}
