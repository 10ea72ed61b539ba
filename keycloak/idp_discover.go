package keycloak

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ssoctl/ssoctl/spec"
)

// maxUpstreamDocument bounds a discovery document or SAML descriptor.
const maxUpstreamDocument = 1 << 20

// discoverIdPs reads, for each provider of the file that is new or whose
// issuer (metadata_url) changed, the upstream's discovery document (SAML
// descriptor), so that the plan shows the endpoints it will set. A
// provider that is unchanged costs no request.
func (a *Admin) discoverIdPs(ctx context.Context, d *Desired, st *State) error {
	for i := range d.IdPs {
		p := &d.IdPs[i]
		var cur *IdPRep
		if st.IdPs != nil {
			cur = st.IdPs.Providers[p.Alias]
		}
		switch p.Type {
		case "oidc", "keycloak-oidc":
			if cur != nil && cur.Config["issuer"] == p.Issuer {
				continue
			}
			found, err := a.oidcDiscovery(ctx, p.Issuer)
			if err != nil {
				return &InputError{Key: p.Key + ".issuer", Msg: fmt.Sprintf("identity provider %s: %v", spec.Quote(p.Alias), err)}
			}
			p.Discovered = found
		case "saml":
			if p.MetadataURL == "" || cur != nil && cur.Config["metadataDescriptorUrl"] == p.MetadataURL {
				continue
			}
			found, err := a.samlDescriptor(ctx, p.MetadataURL)
			if err != nil {
				return &InputError{Key: p.Key + ".metadata_url", Msg: fmt.Sprintf("identity provider %s: %v", spec.Quote(p.Alias), err)}
			}
			p.Discovered = found
		}
	}
	return nil
}

// fetchUpstream GETs one document of an upstream, at most
// maxUpstreamDocument bytes.
func (a *Admin) fetchUpstream(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading %s: HTTP %d", url, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamDocument+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", url, err)
	}
	if len(data) > maxUpstreamDocument {
		return nil, fmt.Errorf("%s is larger than %d bytes", url, maxUpstreamDocument)
	}
	return data, nil
}

// oidcDiscovery reads issuer's discovery document into the provider's
// config keys.
func (a *Admin) oidcDiscovery(ctx context.Context, issuer string) (map[string]string, error) {
	url := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	data, err := a.fetchUpstream(ctx, url)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		UserInfo      string `json:"userinfo_endpoint"`
		JWKS          string `json:"jwks_uri"`
		EndSession    string `json:"end_session_endpoint"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s is not a discovery document: %v", url, err)
	}
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("the discovery document at %s names issuer %s, not %s", url, spec.Quote(doc.Issuer), spec.Quote(issuer))
	}
	if doc.Authorization == "" || doc.Token == "" || doc.JWKS == "" {
		return nil, fmt.Errorf("the discovery document at %s lacks authorization_endpoint, token_endpoint or jwks_uri", url)
	}
	out := map[string]string{"authorizationUrl": doc.Authorization, "tokenUrl": doc.Token, "jwksUrl": doc.JWKS}
	if doc.UserInfo != "" {
		out["userInfoUrl"] = doc.UserInfo
	}
	if doc.EndSession != "" {
		out["logoutUrl"] = doc.EndSession
	}
	return out, nil
}

// samlDescriptor reads an IdP's SAML metadata: its entity id, its single
// sign-on URL (the POST binding, else the redirect one) and its signing
// certificate.
func (a *Admin) samlDescriptor(ctx context.Context, url string) (map[string]string, error) {
	data, err := a.fetchUpstream(ctx, url)
	if err != nil {
		return nil, err
	}
	var md struct {
		EntityID string `xml:"entityID,attr"`
		IdP      struct {
			Keys []struct {
				Use  string `xml:"use,attr"`
				Cert string `xml:"KeyInfo>X509Data>X509Certificate"`
			} `xml:"KeyDescriptor"`
			SSO []struct {
				Binding  string `xml:"Binding,attr"`
				Location string `xml:"Location,attr"`
			} `xml:"SingleSignOnService"`
		} `xml:"IDPSSODescriptor"`
	}
	if err := xml.Unmarshal(data, &md); err != nil {
		return nil, fmt.Errorf("%s is not SAML metadata: %v", url, err)
	}
	out := map[string]string{"idpEntityId": md.EntityID}
	for _, s := range md.IdP.SSO {
		if strings.HasSuffix(s.Binding, ":HTTP-POST") {
			out["singleSignOnServiceUrl"] = s.Location
			out["postBindingAuthnRequest"], out["postBindingResponse"] = "true", "true"
		}
	}
	if out["singleSignOnServiceUrl"] == "" {
		for _, s := range md.IdP.SSO {
			if strings.HasSuffix(s.Binding, ":HTTP-Redirect") {
				out["singleSignOnServiceUrl"] = s.Location
			}
		}
	}
	for _, k := range md.IdP.Keys {
		if k.Use == "" || k.Use == "signing" {
			out["signingCertificate"] = strings.Join(strings.Fields(k.Cert), "")
			out["validateSignature"] = "true"
			break
		}
	}
	if md.EntityID == "" || out["singleSignOnServiceUrl"] == "" {
		return nil, fmt.Errorf("the SAML metadata at %s names no IdP entity id or single sign-on service", url)
	}
	return out, nil
}

// readIdPListings reads the providers and their mappers without the
// export: one listing, and one per provider.
func (r *reader) readIdPListings() error {
	var raws []json.RawMessage
	if err := r.get("/"+esc(r.realm)+"/identity-provider/instances", &raws); err != nil {
		return err
	}
	e := idpExport{IdentityProviders: raws}
	is := e.idpState()
	if is == nil {
		return fmt.Errorf("realm %s: an identity provider that does not decode", r.realm)
	}
	for alias := range is.Providers {
		var ms []*IdPMapperRep
		if err := r.get("/"+esc(r.realm)+"/identity-provider/instances/"+esc(alias)+"/mappers", &ms); err != nil {
			return err
		}
		is.Mappers[alias] = map[string]*IdPMapperRep{}
		for _, m := range ms {
			is.Mappers[alias][m.Name] = m
		}
	}
	r.mu.Lock()
	r.st.IdPs = is
	r.mu.Unlock()
	return nil
}
