package rancher

import (
	"fmt"
	"strings"
	"testing"
)

// largeMetadata builds a Keycloak 6-13 style EntitiesDescriptor of about
// size bytes: one realm with many signing keys and endpoints, the worst case
// for the byte offsets and namespace scopes Convert tracks.
func largeMetadata(tb testing.TB, size int) []byte {
	cert := certBody(tb, "idp-active.crt")
	const base = "https://keycloak.example.com/auth/realms/demo"
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<EntitiesDescriptor Name="urn:keycloak" xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#">` + "\n")
	b.WriteString(`   <EntityDescriptor entityID="` + base + `">` + "\n")
	b.WriteString(`      <IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + "\n")
	for i := 0; b.Len() < size*2/3; i++ {
		fmt.Fprintf(&b, "         <KeyDescriptor use=\"signing\">\n           <dsig:KeyInfo>\n             <dsig:KeyName>key-%d</dsig:KeyName>\n"+
			"             <dsig:X509Data>\n               <dsig:X509Certificate>%s</dsig:X509Certificate>\n             </dsig:X509Data>\n"+
			"           </dsig:KeyInfo>\n         </KeyDescriptor>\n", i, cert)
	}
	bindings := []string{"HTTP-POST", "HTTP-Redirect", "SOAP", "HTTP-Artifact"}
	for i := 0; b.Len() < size-400; i++ {
		kind := "SingleSignOnService"
		if i%2 == 1 {
			kind = "SingleLogoutService"
		}
		fmt.Fprintf(&b, "         <%s Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:%s\" Location=\"%s/protocol/saml/%d\"/>\n", kind, bindings[i%4], base, i)
	}
	b.WriteString("      </IDPSSODescriptor>\n   </EntityDescriptor>\n</EntitiesDescriptor>\n")
	return []byte(b.String())
}

func TestLargeMetadataConverts(t *testing.T) {
	in := largeMetadata(t, 1<<20)
	res, err := Convert(in, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	md, err := decodeAsRancher(res.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(md.IDPSSODescriptors[0].KeyDescriptors); n < 300 {
		t.Errorf("only %d KeyDescriptors decoded", n)
	}
	if n := len(md.IDPSSODescriptors[0].SingleSignOnServices); n < 500 {
		t.Errorf("only %d SSO services decoded", n)
	}
}

func BenchmarkConvert1MB(b *testing.B) {
	in := largeMetadata(b, 1<<20)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(in, ConvertOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck1MB(b *testing.B) {
	res, err := Convert(largeMetadata(b, 1<<20), ConvertOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(res.Metadata)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(res.Metadata, fixedNow); err != nil {
			b.Fatal(err)
		}
	}
}
