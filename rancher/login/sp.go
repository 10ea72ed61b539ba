// Package login logs in to Keycloak as Rancher's Keycloak SAML provider
// does, without Rancher: it configures github.com/rancher/saml (the fork of
// crewjam/saml that Rancher pins) the way Rancher configures it, sends the
// SP-initiated AuthnRequest over HTTP-Redirect signed with RSA-SHA256,
// fills in Keycloak's login form, captures the POST-binding response that
// Keycloak renders for Rancher's ACS URL instead of posting it, validates it
// with the library, and resolves the Rancher principal from the attributes
// as Rancher's provider does. Every failure becomes a finding that names
// its cause and the fix.
package login

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"fmt"
	"github.com/ssoctl/ssoctl/internal/browser"
	"math/big"
	"net/url"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/ssoctl/ssoctl/rancher"
)

// Rancher's principal types for its Keycloak SAML provider: the provider
// name with "_user" and "_group".
const (
	UserPrincipalPrefix  = rancher.ProviderName + "_user://"
	GroupPrincipalPrefix = rancher.ProviderName + "_group://"
)

// Config is what Rancher holds for its Keycloak SAML provider, plus what
// ssoctl knows of the Keycloak client (for the causes of failures).
type Config struct {
	// RancherURL is rancherApiHost, e.g. https://rancher.example.com.
	RancherURL string
	// EntityID is Rancher's optional entityID; "" is the metadata URL.
	EntityID string
	// Metadata is the IdP metadata Rancher holds (rancher convert's output).
	Metadata []byte
	// SPCertPEM and SPKeyPEM are Rancher's SP pair. Both empty: a throwaway
	// pair is made, which is enough unless Keycloak verifies request
	// signatures against a stored certificate or encrypts assertions.
	SPCertPEM, SPKeyPEM []byte
	Fields              rancher.Fields
	// Client is the Keycloak SAML client as the file declares it, used to
	// name the sso.yaml fix; nil when unknown.
	Client *rancher.SAMLClient
	// ClientName names the client in fixes ("" is the entity ID).
	ClientName string
	// OTP answers Keycloak's one-time-code page (nil: a login that meets
	// it stops there, as a Keycloak refusal).
	OTP *browser.OTP
}

// idpMetadata is the root Rancher decodes the IdP metadata into (its own
// struct, which leaves out cacheDuration), holding the library's types.
type idpMetadata struct {
	XMLName           xml.Name                `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	ValidUntil        time.Time               `xml:"validUntil,attr"`
	EntityID          string                  `xml:"entityID,attr"`
	IDPSSODescriptors []saml.IDPSSODescriptor `xml:"IDPSSODescriptor"`
	SPSSODescriptors  []saml.SPSSODescriptor  `xml:"SPSSODescriptor"`
}

// serviceProvider is the library's SP, configured as Rancher 2.10 and later
// configure it.
type serviceProvider struct {
	sp        *saml.ServiceProvider
	urls      rancher.ServiceProvider
	throwaway bool // the SP pair was made here, not given
}

// newServiceProvider configures the SP. Bad input (the URL, the key pair,
// metadata Rancher cannot decode) is returned as findings.
func newServiceProvider(cfg Config) (*serviceProvider, []rancher.Finding, error) {
	urls, err := rancher.ServiceProviderFor(cfg.RancherURL)
	if err != nil {
		return nil, nil, err
	}
	out := &serviceProvider{urls: urls}
	var key *rsa.PrivateKey
	var cert *x509.Certificate
	var fs []rancher.Finding
	if len(cfg.SPCertPEM) == 0 && len(cfg.SPKeyPEM) == 0 {
		if key, cert, err = throwawayPair(urls.RancherURL); err != nil {
			return nil, nil, err
		}
		out.throwaway = true
	} else {
		key, cert, fs = rancher.SPKeyPair(cfg.SPCertPEM, cfg.SPKeyPEM)
		if key == nil {
			return nil, fs, nil
		}
	}
	var md idpMetadata
	if err := xml.Unmarshal(cfg.Metadata, &md); err != nil {
		return nil, append(fs, rancher.Finding{ID: rancher.FindingDecode, Severity: rancher.SeverityError,
			Message: "Rancher cannot decode the IdP metadata: " + err.Error(),
			Fix:     "Convert the realm's descriptor for Rancher: ssoctl rancher convert --realm REALM"}), nil
	}
	metadataURL, _ := url.Parse(urls.EntityID)
	acsURL, _ := url.Parse(urls.ACSURL)
	sloURL, _ := url.Parse(urls.SLOURL)
	out.sp = &saml.ServiceProvider{
		EntityID:        cfg.EntityID,
		Key:             key,
		Certificate:     cert,
		MetadataURL:     *metadataURL,
		AcsURL:          *acsURL,
		SloURL:          *sloURL,
		SignatureMethod: dsig.RSASHA256SignatureMethod,
		IDPMetadata: &saml.EntityDescriptor{XMLName: md.XMLName, ValidUntil: md.ValidUntil, EntityID: md.EntityID,
			IDPSSODescriptors: md.IDPSSODescriptors, SPSSODescriptors: md.SPSSODescriptors},
	}
	return out, fs, nil
}

// entityID is the SP's entity ID as the library uses it: the configured
// one, else the metadata URL.
func (s *serviceProvider) entityID() string {
	if s.sp.EntityID != "" {
		return s.sp.EntityID
	}
	return s.urls.EntityID
}

// throwawayPair makes an RSA key and a self-signed certificate for one
// login.
func throwawayPair(cn string) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("making a throwaway SP certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}
