package doctor

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/rancher"
	"github.com/ssoctl/ssoctl/spec"
)

// rancher checks the SAML client and the metadata as Rancher will use them.
func (d *doc) rancher(ctx context.Context) {
	r := d.t.Rancher
	if r == nil {
		return
	}
	// The client doctor was pointed at, when it is a SAML client: its ID
	// is then checked against Rancher's entity ID rather than looked up.
	v := d.live.client
	var err error
	if v.Settings().Protocol != "saml" {
		v, err = d.sys.Keycloak.ReadClient(ctx, d.t.Realm, r.SAMLClient)
	}
	if err != nil {
		d.add(Check{ID: "rancher.client", System: sysRancher, Status: Fail, Message: "Rancher's SAML client " + r.SAMLClient + " cannot be read: " + err.Error(),
			Fix: "create a saml client whose client id is " + r.URL + "/v1-saml/keycloak/saml/metadata"})
		return
	}
	sc := v.Export()
	d2 := keycloak.ExpandClient(sc)
	client := &rancher.SAMLClient{ClientID: sc.ClientID, RedirectURIs: sc.RedirectURIs, Attributes: d2.Attributes}
	for _, m := range d2.Mappers {
		client.Mappers = append(client.Mappers, rancher.SAMLAttribute{MapperName: m.Name, AttributeName: m.Config["attribute.name"], FriendlyName: m.Config["friendly.name"]})
	}
	meta := d.t.RancherMetadata
	if meta == nil {
		raw, err := keycloak.Descriptor(ctx, d.sys.HTTP, d.t.KeycloakURL, d.t.Realm)
		if err != nil {
			d.add(Check{ID: "rancher.metadata", System: sysRancher, Status: Fail, Message: "the realm's SAML descriptor cannot be fetched: " + err.Error()})
			return
		}
		conv, err := rancher.Convert(raw, rancher.ConvertOptions{})
		if err != nil {
			d.add(Check{ID: "rancher.metadata", System: sysRancher, Status: Fail, Message: "the realm's SAML descriptor: " + err.Error()})
			return
		}
		meta = conv.Metadata
	}
	findings, err := rancher.Check(meta, d.sys.Now())
	if err != nil {
		d.add(Check{ID: "rancher.metadata", System: sysRancher, Status: Fail, Message: "the IdP metadata is not XML Rancher can read: " + err.Error()})
		return
	}
	d.saml = &samlSetup{client: client, metadata: meta}
	_, cfgFindings, err := rancher.BuildConfig(rancher.ConfigInput{RancherURL: r.URL, Client: client, Metadata: meta,
		Fields: rancher.FieldsOf(r.Fields)})
	noFields := r.Fields == (spec.RancherFields{})
	if err == nil {
		// Rancher's own key pair is Rancher's business: doctor checks what
		// Keycloak and the metadata give it.
		// Without fields (doctor run on flags alone) there is nothing to
		// hold the mappers against; what they send is listed instead.
		findings = append(findings, slices.DeleteFunc(cfgFindings, func(f rancher.Finding) bool {
			return f.ID == rancher.FindingSPCertMissing || f.ID == rancher.FindingSPKeyMissing || (noFields && f.ID == rancher.FindingFieldMissing)
		})...)
		if noFields {
			var sent []string
			for _, a := range client.Mappers {
				if name := cmp.Or(a.FriendlyName, a.AttributeName); name != "" {
					sent = append(sent, name)
				}
			}
			d.add(Check{ID: "rancher.fields", System: sysRancher, Status: Warn,
				Message: fmt.Sprintf("the SAML client sends the attributes %s; Rancher's display name, user name, UID and groups fields must each be one of these", strings.Join(sent, ", ")),
				Fix:     "run doctor with --rancher-fields display_name=…,user_name=…,uid=…,groups=… (Rancher's values) to check them"})
		}
	}
	if len(findings) == 0 {
		what := "SAML client, fields"
		if noFields {
			what = "SAML client"
		}
		d.ok(sysRancher, "rancher.config", "Rancher's "+what+" and metadata are as Rancher decodes them")
	}
	for _, f := range findings {
		st := Fail
		if f.Severity != "error" {
			st = Warn
		}
		d.add(Check{ID: "rancher." + strings.TrimPrefix(f.ID, "rancher."), System: sysRancher, Status: st, Message: f.Message, Fix: f.Fix})
	}
}
