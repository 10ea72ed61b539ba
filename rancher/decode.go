package rancher

import (
	"encoding/xml"
	"time"
)

// SAML binding URNs that matter to Rancher.
const (
	// HTTPRedirectBinding is the binding Rancher uses to send the login
	// request; the IdP metadata must offer a SingleSignOnService with it.
	HTTPRedirectBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	// HTTPPostBinding is the binding Keycloak uses to return the response.
	HTTPPostBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)

// The types below reproduce, field by field and tag by tag, the structs
// Rancher decodes Keycloak metadata into: its own IDPMetadata root
// (pkg/auth/providers/saml, which leaves out the root's cacheDuration) and
// the IDPSSODescriptor tree of its SAML library (rancher/saml, a fork of
// crewjam/saml). Only fields that can make decoding fail or that Check reads
// are kept; fields whose decoding can never fail (strings in elements Rancher
// ignores, the etree Signature) are left out, which changes no outcome.
// Decoding with encoding/xml through these types therefore fails exactly
// when Rancher's decode fails, with the same error text.

type rancherIDPMetadata struct {
	XMLName           xml.Name                  `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	ValidUntil        time.Time                 `xml:"validUntil,attr"`
	EntityID          string                    `xml:"entityID,attr"`
	IDPSSODescriptors []rancherIDPSSODescriptor `xml:"IDPSSODescriptor"`
	SPSSODescriptors  []rancherSPSSODescriptor  `xml:"SPSSODescriptor"`
}

type rancherRoleDescriptor struct {
	ID                         string                 `xml:",attr,omitempty"`
	ValidUntil                 time.Time              `xml:"validUntil,attr,omitempty"`
	CacheDuration              time.Duration          `xml:"cacheDuration,attr,omitempty"`
	ProtocolSupportEnumeration string                 `xml:"protocolSupportEnumeration,attr"`
	ErrorURL                   string                 `xml:"errorURL,attr,omitempty"`
	KeyDescriptors             []rancherKeyDescriptor `xml:"KeyDescriptor,omitempty"`
}

type rancherKeyDescriptor struct {
	Use               string                    `xml:"use,attr"`
	KeyInfo           rancherKeyInfo            `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
	EncryptionMethods []rancherEncryptionMethod `xml:"EncryptionMethod"`
}

type rancherEncryptionMethod struct {
	Algorithm string `xml:"Algorithm,attr"`
}

type rancherKeyInfo struct {
	XMLName  xml.Name        `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
	X509Data rancherX509Data `xml:"X509Data"`
}

type rancherX509Data struct {
	XMLName          xml.Name                 `xml:"http://www.w3.org/2000/09/xmldsig# X509Data"`
	X509Certificates []rancherX509Certificate `xml:"X509Certificate"`
}

type rancherX509Certificate struct {
	XMLName xml.Name `xml:"http://www.w3.org/2000/09/xmldsig# X509Certificate"`
	Data    string   `xml:",chardata"`
}

type rancherEndpoint struct {
	Binding          string `xml:"Binding,attr"`
	Location         string `xml:"Location,attr"`
	ResponseLocation string `xml:"ResponseLocation,attr,omitempty"`
}

type rancherIndexedEndpoint struct {
	Binding          string  `xml:"Binding,attr"`
	Location         string  `xml:"Location,attr"`
	ResponseLocation *string `xml:"ResponseLocation,attr,omitempty"`
	Index            int     `xml:"index,attr"`
	IsDefault        *bool   `xml:"isDefault,attr"`
}

type rancherSSODescriptor struct {
	rancherRoleDescriptor
	ArtifactResolutionServices []rancherIndexedEndpoint `xml:"ArtifactResolutionService"`
	SingleLogoutServices       []rancherEndpoint        `xml:"SingleLogoutService"`
	ManageNameIDServices       []rancherEndpoint        `xml:"ManageNameIDService"`
	NameIDFormats              []string                 `xml:"NameIDFormat"`
}

type rancherIDPSSODescriptor struct {
	XMLName xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:metadata IDPSSODescriptor"`
	rancherSSODescriptor
	WantAuthnRequestsSigned *bool `xml:",attr"`

	SingleSignOnServices       []rancherEndpoint `xml:"SingleSignOnService"`
	NameIDMappingServices      []rancherEndpoint `xml:"NameIDMappingService"`
	AssertionIDRequestServices []rancherEndpoint `xml:"AssertionIDRequestService"`
	AttributeProfiles          []string          `xml:"AttributeProfile"`
}

type rancherSPSSODescriptor struct {
	XMLName xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:metadata SPSSODescriptor"`
	rancherSSODescriptor
	AuthnRequestsSigned        *bool                              `xml:",attr"`
	WantAssertionsSigned       *bool                              `xml:",attr"`
	AssertionConsumerServices  []rancherIndexedEndpoint           `xml:"AssertionConsumerService"`
	AttributeConsumingServices []rancherAttributeConsumingService `xml:"AttributeConsumingService"`
}

type rancherAttributeConsumingService struct {
	Index     int   `xml:"index,attr"`
	IsDefault *bool `xml:"isDefault,attr"`
}

// decodeAsRancher decodes metadata the way Rancher does. A non-nil error
// carries encoding/xml's text, which is what Rancher reports.
func decodeAsRancher(metadata []byte) (*rancherIDPMetadata, error) {
	var md rancherIDPMetadata
	if err := xml.Unmarshal(metadata, &md); err != nil {
		return nil, err
	}
	return &md, nil
}
