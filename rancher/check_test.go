package rancher

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckGolden(t *testing.T) {
	for _, file := range []string{
		"keycloak-6-template.xml", "keycloak-11-prefixed.xml", "keycloak-26-entity.xml",
		"browser-copy-no-xmlns.xml", "undeclared-md.xml", "undeclared-dsig.xml", "multi-entity.xml", "signed.xml",
	} {
		t.Run(file, func(t *testing.T) {
			assertDecodedInPass(t, readTestdata(t, file))
			fs, err := Check(readTestdata(t, file), fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(fs); err != nil {
				t.Fatal(err)
			}
			assertGolden(t, strings.TrimSuffix(file, ".xml")+".check.golden", out.Bytes())
		})
	}
}

// Each historical shape fails in Rancher with encoding/xml's own words; the
// finding must carry them verbatim, plus a fix.
func TestCheckReportsRancherDecodeErrors(t *testing.T) {
	tests := []struct {
		file, rancherSays, fix string
	}{
		{"keycloak-6-template.xml", "expected element type <EntityDescriptor> but have <EntitiesDescriptor>", "ssoctl rancher convert"},
		{"keycloak-11-prefixed.xml", "expected element type <EntityDescriptor> but have <EntitiesDescriptor>", "ssoctl rancher convert"},
		{"multi-entity.xml", "expected element type <EntityDescriptor> but have <EntitiesDescriptor>", "ssoctl rancher convert"},
		{"browser-copy-no-xmlns.xml", "expected element <EntityDescriptor> in name space urn:oasis:names:tc:SAML:2.0:metadata but have no name space", "raw descriptor"},
		{"undeclared-md.xml", "expected element <EntityDescriptor> in name space urn:oasis:names:tc:SAML:2.0:metadata but have md", "ssoctl rancher convert"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fs, err := Check(readTestdata(t, tt.file), fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 || fs[0].ID != FindingDecode || fs[0].Severity != SeverityError {
				t.Fatalf("findings = %+v", fs)
			}
			if !strings.Contains(fs[0].Message, tt.rancherSays) {
				t.Errorf("message %q lacks Rancher's text %q", fs[0].Message, tt.rancherSays)
			}
			if !strings.Contains(fs[0].Fix, tt.fix) {
				t.Errorf("fix %q lacks %q", fs[0].Fix, tt.fix)
			}
		})
	}
}

func TestCheckUndeclaredDsigIsNoSigningCert(t *testing.T) {
	in := readTestdata(t, "undeclared-dsig.xml")
	// Rancher's decoder accepts it: the trap is silent.
	md, err := decodeAsRancher(in)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if n := len(md.IDPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates); n != 0 {
		t.Fatalf("decoder saw %d certificates through an undeclared prefix", n)
	}
	fs, err := Check(in, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := findingIDs(fs); !slices.Equal(got, []string{FindingNoSigningCert}) {
		t.Fatalf("findings = %+v", fs)
	}
	for _, want := range []string{`prefix "dsig"`, "never declared", "<dsig:KeyInfo> (line 5)", "cannot find any signing certificate in the IDP SSO descriptor"} {
		if !strings.Contains(fs[0].Message, want) {
			t.Errorf("message lacks %q: %s", want, fs[0].Message)
		}
	}
	if !strings.Contains(fs[0].Fix, `xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"`) {
		t.Errorf("fix does not give the declaration: %s", fs[0].Fix)
	}
}

func TestCheckKeycloak26(t *testing.T) {
	fs, err := Check(readTestdata(t, "keycloak-26-entity.xml"), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := findingIDs(fs); !slices.Equal(got, []string{FindingCertExpiring}) {
		t.Fatalf("findings = %+v", fs)
	}
	if fs[0].Severity != SeverityWarning || !strings.Contains(fs[0].Message, "Signing certificate 2") || !strings.Contains(fs[0].Message, "2026-01-20, in 19 days") {
		t.Errorf("finding = %+v", fs[0])
	}
	// A year earlier nothing is close to expiry; a zero clock skips the check.
	for _, now := range []time.Time{fixedNow.AddDate(-1, 0, 0), {}} {
		fs, err := Check(readTestdata(t, "keycloak-26-entity.xml"), now)
		if err != nil || len(fs) != 0 {
			t.Errorf("now=%v: findings %+v, err %v", now, fs, err)
		}
	}
	// After the passive key's end it has expired.
	fs, _ = Check(readTestdata(t, "keycloak-26-entity.xml"), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if got := findingIDs(fs); !slices.Equal(got, []string{FindingCertExpired}) || !strings.Contains(fs[0].Message, "expired on 2026-01-20, 40 days ago") {
		t.Errorf("findings = %+v", fs)
	}
}

var (
	testCertOnce sync.Once
	testCertDER  []byte
)

// shortLivedCert is an ECDSA certificate valid from 2026-01-01 for 10 days
// (the check parses X.509; the key type does not matter to it).
func shortLivedCert(t *testing.T) string {
	testCertOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "short"},
			NotBefore: fixedNow, NotAfter: fixedNow.Add(10 * 24 * time.Hour)}
		testCertDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
	})
	return base64.StdEncoding.EncodeToString(testCertDER)
}

// idpMetadata builds a Keycloak 14+ style document from parts.
func idpMetadata(keyDescriptors string, ssoBindings ...string) []byte {
	var sso strings.Builder
	for _, b := range ssoBindings {
		fmt.Fprintf(&sso, `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:%s" Location="https://kc/realms/demo/protocol/saml"/>`, b)
	}
	return []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://kc/realms/demo">` +
		`<md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		keyDescriptors + sso.String() + `</md:IDPSSODescriptor></md:EntityDescriptor>`)
}

func keyDescriptor(use, cert string) string {
	attr := ""
	if use != "-" {
		attr = fmt.Sprintf(` use="%s"`, use)
	}
	return `<md:KeyDescriptor` + attr + `><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + cert + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
}

func TestCheckContent(t *testing.T) {
	good := certBody(t, "idp-active.crt")
	wrapped := ""
	for i := 0; i < len(good); i += 64 {
		wrapped += "\n      " + good[i:min(i+64, len(good))]
	}
	short := shortLivedCert(t)
	tests := []struct {
		name    string
		in      []byte
		now     time.Time
		want    []string
		message string // substring of the first finding's message
		fix     string // substring of the first finding's fix
	}{
		{name: "clean", in: idpMetadata(keyDescriptor("signing", good), "HTTP-POST", "HTTP-Redirect")},
		{name: "no use attribute counts as signing", in: idpMetadata(keyDescriptor("-", good), "HTTP-Redirect")},
		{name: "certificate wrapped over lines", in: idpMetadata(keyDescriptor("signing", wrapped+"\n"), "HTTP-Redirect")},
		{name: "no key descriptor", in: idpMetadata("", "HTTP-Redirect"), want: []string{FindingNoSigningCert},
			message: "no KeyDescriptor at all", fix: "rsa-generated"},
		{name: "encryption only", in: idpMetadata(keyDescriptor("encryption", good), "HTTP-Redirect"), want: []string{FindingNoSigningCert},
			message: "encryption only"},
		{name: "empty certificate", in: idpMetadata(keyDescriptor("signing", "  "), "HTTP-Redirect"), want: []string{FindingNoSigningCert}},
		{name: "empty beside a good one", in: idpMetadata(keyDescriptor("signing", good)+keyDescriptor("signing", ""), "HTTP-Redirect"),
			want: []string{FindingBadCert}, message: "Signing certificate 2 is empty"},
		{name: "not base64", in: idpMetadata(keyDescriptor("signing", "MIIC*not*base64"), "HTTP-Redirect"), want: []string{FindingBadCert},
			message: "cannot parse certificate: illegal base64 data at input byte 4"},
		{name: "PEM armour", in: idpMetadata(keyDescriptor("signing", "-----BEGIN CERTIFICATE-----"+good+"-----END CERTIFICATE-----"), "HTTP-Redirect"),
			want: []string{FindingBadCert}, fix: "without the -----BEGIN CERTIFICATE-----"},
		{name: "base64 but not X.509", in: idpMetadata(keyDescriptor("signing", base64.StdEncoding.EncodeToString([]byte("hello"))), "HTTP-Redirect"),
			want: []string{FindingBadCert}, message: "does not parse as X.509"},
		{name: "expiring", in: idpMetadata(keyDescriptor("signing", short), "HTTP-Redirect"), now: fixedNow.Add(24 * time.Hour),
			want: []string{FindingCertExpiring}, message: `subject "CN=short"`},
		{name: "expired", in: idpMetadata(keyDescriptor("signing", short), "HTTP-Redirect"), now: fixedNow.AddDate(0, 1, 0),
			want: []string{FindingCertExpired}, message: "21 days ago"},
		{name: "POST only", in: idpMetadata(keyDescriptor("signing", good), "HTTP-POST", "SOAP"), want: []string{FindingNoRedirectSSO},
			message: "found: urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST, urn:oasis:names:tc:SAML:2.0:bindings:SOAP", fix: "Force POST binding"},
		{name: "no SSO at all", in: idpMetadata(keyDescriptor("signing", good)), want: []string{FindingNoRedirectSSO}, message: "found: none"},
		{name: "redirect without location",
			in:   []byte(strings.Replace(string(idpMetadata(keyDescriptor("signing", good), "HTTP-Redirect")), `Location="https://kc/realms/demo/protocol/saml"`, `Location=""`, 1)),
			want: []string{FindingNoRedirectSSO}, message: "empty Location"},
		{name: "no entity ID",
			in:   []byte(strings.Replace(string(idpMetadata(keyDescriptor("signing", good), "HTTP-Redirect")), ` entityID="https://kc/realms/demo"`, "", 1)),
			want: []string{FindingNoEntityID}},
		{name: "service provider metadata",
			in:   []byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="sp"><SPSSODescriptor protocolSupportEnumeration="x"/></EntityDescriptor>`),
			want: []string{FindingNoIDPDescriptor}, message: "service-provider metadata"},
		{name: "dsig bound to another namespace",
			in:   []byte(strings.Replace(string(idpMetadata(keyDescriptor("signing", good), "HTTP-Redirect")), "http://www.w3.org/2000/09/xmldsig#", "http://www.w3.org/2000/09/xmldsig", 1)),
			want: []string{FindingNoSigningCert}, message: `<ds:KeyInfo> (line 1) is in namespace "http://www.w3.org/2000/09/xmldsig" instead`},
		{name: "cacheDuration on the IdP descriptor",
			in:   []byte(strings.Replace(string(idpMetadata(keyDescriptor("signing", good), "HTTP-Redirect")), "<md:IDPSSODescriptor ", `<md:IDPSSODescriptor cacheDuration="PT1H" `, 1)),
			want: []string{FindingDecode}, message: `strconv.ParseInt: parsing "PT1H": invalid syntax`},
		{name: "bad boolean",
			in:   []byte(strings.Replace(string(idpMetadata(keyDescriptor("signing", good), "HTTP-Redirect")), `WantAuthnRequestsSigned="true"`, `WantAuthnRequestsSigned="yes"`, 1)),
			want: []string{FindingDecode}, message: `strconv.ParseBool: parsing "yes": invalid syntax`},
		{name: "root cacheDuration is ignored as Rancher does",
			in: []byte(strings.Replace(string(idpMetadata(keyDescriptor("signing", good), "HTTP-Redirect")), "<md:EntityDescriptor ", `<md:EntityDescriptor cacheDuration="PT1H" `, 1))},
		{name: "html page",
			in:   []byte(`<html xmlns="http://www.w3.org/1999/xhtml"><body>Page not found</body></html>`),
			want: []string{FindingDecode}, message: "<html> is not SAML metadata"},
		{name: "undeclared root prefix in a foreign namespace",
			in:   []byte(`<EntityDescriptor xmlns="urn:example" entityID="x"/>`),
			want: []string{FindingDecode}, message: `namespace "urn:example"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertDecodedInPass(t, tt.in)
			now := tt.now
			if now.IsZero() {
				now = fixedNow
			}
			fs, err := Check(tt.in, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := findingIDs(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %v, want %v\n%+v", got, tt.want, fs)
			}
			for _, f := range fs {
				if f.Message == "" || f.Fix == "" || (f.Severity != SeverityError && f.Severity != SeverityWarning) {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			if tt.message != "" && !strings.Contains(fs[0].Message, tt.message) {
				t.Errorf("message %q lacks %q", fs[0].Message, tt.message)
			}
			if tt.fix != "" && !strings.Contains(fs[0].Fix, tt.fix) {
				t.Errorf("fix %q lacks %q", fs[0].Fix, tt.fix)
			}
		})
	}
}

func TestCheckSeverities(t *testing.T) {
	short := shortLivedCert(t)
	fs, err := Check(idpMetadata(keyDescriptor("signing", short), "HTTP-Redirect"), fixedNow.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if HasErrors(fs) || len(fs) != 1 || fs[0].Severity != SeverityWarning {
		t.Errorf("an expired certificate must warn, not fail: %+v", fs)
	}
	fs, _ = Check(idpMetadata("", "HTTP-Redirect"), fixedNow)
	if !HasErrors(fs) {
		t.Error("a missing certificate must fail")
	}
}

func TestCheckBadInput(t *testing.T) {
	for _, in := range []string{"", "not xml", "<EntityDescriptor", "<a></b>", `<!DOCTYPE x><x/>`} {
		fs, err := Check([]byte(in), fixedNow)
		assertBadInput(t, err)
		if fs != nil {
			t.Errorf("%q: findings %+v alongside an error", in, fs)
		}
	}
}

func TestFindingJSON(t *testing.T) {
	out, err := json.Marshal(Finding{ID: "a", Severity: SeverityError, Message: "m", Fix: "f"})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"id":"a","severity":"error","message":"m","fix":"f"}` {
		t.Errorf("json = %s", out)
	}
}
