package rancher

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

type endpointWant struct{ binding, location string }

// keycloakEndpoints is what every realm fixture serves at base.
func keycloakSSO(base string) []endpointWant {
	var out []endpointWant
	for _, b := range []string{"HTTP-POST", "HTTP-Redirect", "SOAP", "HTTP-Artifact"} {
		out = append(out, endpointWant{"urn:oasis:names:tc:SAML:2.0:bindings:" + b, base + "/protocol/saml"})
	}
	return out
}

var keycloakNameIDFormats = []string{
	"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
	"urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
	"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
	"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
}

func TestConvertShapes(t *testing.T) {
	active := certBody(t, "idp-active.crt")
	passive := certBody(t, "idp-passive.crt")
	const kc6 = "https://keycloak.example.com/auth/realms/demo"
	const kc26 = "https://keycloak.example.com/realms/demo"
	tests := []struct {
		file     string
		opts     ConvertOptions
		shape    Shape
		entityID string
		certs    []string
		sloCount int
		changed  bool
		warnings []string
	}{
		{file: "keycloak-6-template.xml", shape: ShapeEntitiesDescriptor, entityID: kc6, certs: []string{active}, sloCount: 2, changed: true},
		{file: "keycloak-11-prefixed.xml", shape: ShapePrefixedEntitiesDescriptor, entityID: kc6, certs: []string{active}, sloCount: 4, changed: true},
		{file: "keycloak-26-entity.xml", shape: ShapeEntityDescriptor, entityID: kc26, certs: []string{active, passive}, sloCount: 4},
		{file: "browser-copy-no-xmlns.xml", shape: ShapeEntityDescriptor, entityID: kc6, certs: []string{active}, sloCount: 2, changed: true,
			warnings: []string{FindingNamespaceDeclared, FindingNamespaceDeclared}},
		{file: "undeclared-md.xml", shape: ShapeEntityDescriptor, entityID: kc6, certs: []string{active}, sloCount: 4, changed: true,
			warnings: []string{FindingNamespaceDeclared}},
		{file: "undeclared-dsig.xml", shape: ShapeEntityDescriptor, entityID: kc6, certs: []string{active}, sloCount: 2, changed: true,
			warnings: []string{FindingNamespaceDeclared}},
		{file: "multi-entity.xml", opts: ConvertOptions{EntityID: "https://keycloak.example.com/auth/realms/ops"}, shape: ShapeEntitiesDescriptor,
			entityID: "https://keycloak.example.com/auth/realms/ops", certs: []string{active}, sloCount: 2, changed: true},
		{file: "signed.xml", shape: ShapeEntitiesDescriptor, entityID: kc6, certs: []string{active}, sloCount: 2, changed: true,
			warnings: []string{FindingSignatureInvalidated, FindingSignatureInvalidated}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in := readTestdata(t, tt.file)
			assertCandidatesDecodedInPass(t, in)
			res, err := Convert(in, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			assertGolden(t, strings.TrimSuffix(tt.file, ".xml")+".convert.golden", res.Metadata)
			if res.Shape != tt.shape {
				t.Errorf("shape = %v, want %v", res.Shape, tt.shape)
			}
			if res.EntityID != tt.entityID {
				t.Errorf("entityID = %q, want %q", res.EntityID, tt.entityID)
			}
			if res.Changed != tt.changed {
				t.Errorf("changed = %v, want %v", res.Changed, tt.changed)
			}
			if got := findingIDs(res.Warnings); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings = %v, want %v\n%+v", got, tt.warnings, res.Warnings)
			}
			for _, w := range res.Warnings {
				if w.Severity != SeverityWarning || w.Message == "" || w.Fix == "" {
					t.Errorf("incomplete warning %+v", w)
				}
			}

			// What Rancher decodes from the output: every fact survives exactly.
			md, err := decodeAsRancher(res.Metadata)
			if err != nil {
				t.Fatalf("Rancher's decoder rejects the output: %v", err)
			}
			if md.EntityID != tt.entityID {
				t.Errorf("decoded entityID = %q, want %q", md.EntityID, tt.entityID)
			}
			if len(md.IDPSSODescriptors) != 1 {
				t.Fatalf("decoded %d IDPSSODescriptors, want 1", len(md.IDPSSODescriptors))
			}
			idp := md.IDPSSODescriptors[0]
			var certs []string
			for _, kd := range idp.KeyDescriptors {
				if kd.Use != "signing" {
					t.Errorf("KeyDescriptor use = %q", kd.Use)
				}
				for _, c := range kd.KeyInfo.X509Data.X509Certificates {
					certs = append(certs, c.Data)
				}
			}
			if !slices.Equal(certs, tt.certs) {
				t.Errorf("decoded certificates differ:\n got %q\nwant %q", certs, tt.certs)
			}
			base := strings.TrimSuffix(tt.entityID, "/")
			var sso []endpointWant
			for _, s := range idp.SingleSignOnServices {
				sso = append(sso, endpointWant{s.Binding, s.Location})
			}
			if want := keycloakSSO(base); !slices.Equal(sso, want) {
				t.Errorf("decoded SSO services differ:\n got %v\nwant %v", sso, want)
			}
			if len(idp.SingleLogoutServices) != tt.sloCount {
				t.Errorf("decoded %d SLO services, want %d", len(idp.SingleLogoutServices), tt.sloCount)
			}
			for _, s := range idp.SingleLogoutServices {
				if s.Location != base+"/protocol/saml" || !strings.HasPrefix(s.Binding, "urn:oasis:names:tc:SAML:2.0:bindings:") {
					t.Errorf("SLO service %+v", s)
				}
			}
			if !slices.Equal(idp.NameIDFormats, keycloakNameIDFormats) {
				t.Errorf("NameIDFormats = %q", idp.NameIDFormats)
			}
			if ars := idp.ArtifactResolutionServices; len(ars) != 1 || ars[0].Location != base+"/protocol/saml/resolve" ||
				ars[0].Binding != "urn:oasis:names:tc:SAML:2.0:bindings:SOAP" || ars[0].Index != 0 {
				t.Errorf("ArtifactResolutionServices = %+v", ars)
			}
			if idp.WantAuthnRequestsSigned == nil || !*idp.WantAuthnRequestsSigned {
				t.Error("WantAuthnRequestsSigned lost")
			}

			// The output passes Rancher's checks (the passive key only warns).
			fs, err := Check(res.Metadata, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if HasErrors(fs) {
				t.Errorf("converted metadata has error findings: %+v", fs)
			}
			// Converting again changes nothing.
			again, err := Convert(res.Metadata, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed || !bytes.Equal(again.Metadata, res.Metadata) {
				t.Error("converting the output again changed it")
			}
		})
	}
}

func TestConvertPassthroughIsByteIdentical(t *testing.T) {
	in := readTestdata(t, "keycloak-26-entity.xml")
	res, err := Convert(in, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Metadata, in) || res.Changed || len(res.Warnings) != 0 {
		t.Fatalf("14+ metadata was modified (changed=%v, warnings=%v)", res.Changed, res.Warnings)
	}
	res.Metadata[0] = 'X'
	if in[0] == 'X' {
		t.Error("Result.Metadata aliases the input")
	}
}

// The kept subtree is the input's bytes with only the namespace
// declarations inserted after the element name.
func TestConvertSplicesOriginalBytes(t *testing.T) {
	in := readTestdata(t, "keycloak-6-template.xml")
	res, err := Convert(in, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(in, []byte("<EntityDescriptor "))
	end := bytes.Index(in, []byte("</EntityDescriptor>")) + len("</EntityDescriptor>")
	inner := in[start:end]
	const injected = ` xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"`
	want := append(append([]byte("<EntityDescriptor"), injected...), inner[len("<EntityDescriptor"):]...)
	want = append(want, '\n')
	if !bytes.Equal(res.Metadata, want) {
		t.Fatalf("output is not the inner descriptor plus declarations:\n%s", res.Metadata)
	}
}

func TestConvertKeepsXMLDeclaration(t *testing.T) {
	res, err := Convert(readTestdata(t, "keycloak-11-prefixed.xml"), ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const want = `<?xml version="1.0" encoding="UTF-8"?>` + "\n<md:EntityDescriptor xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:md="
	if !bytes.HasPrefix(res.Metadata, []byte(want)) {
		t.Fatalf("output starts %q", res.Metadata[:120])
	}
	// The inner descriptor redeclares everything: nothing is injected.
	if bytes.Count(res.Metadata, []byte(`xmlns:md=`)) != 1 {
		t.Error("a namespace was declared twice")
	}
	// Without a declaration in the input, none is invented.
	res, err = Convert(readTestdata(t, "keycloak-6-template.xml"), ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(res.Metadata, []byte("<?xml")) {
		t.Error("invented an XML declaration")
	}
}

func TestConvertSeveralEntityDescriptors(t *testing.T) {
	in := readTestdata(t, "multi-entity.xml")
	const demo = "https://keycloak.example.com/auth/realms/demo"
	const ops = "https://keycloak.example.com/auth/realms/ops"
	const sp = "https://rancher.example.com/v1-saml/keycloak/saml/metadata"

	_, err := Convert(in, ConvertOptions{})
	var sel *EntitySelectionError
	if !errors.As(err, &sel) {
		t.Fatalf("want *EntitySelectionError, got %v", err)
	}
	assertBadInput(t, err)
	if !slices.Equal(sel.EntityIDs, []string{demo, ops, sp}) || sel.Requested != "" {
		t.Errorf("selection error = %+v", sel)
	}
	for _, id := range []string{demo, ops, sp} {
		if !strings.Contains(err.Error(), `"`+id+`"`) {
			t.Errorf("error %q does not list %s", err, id)
		}
	}

	_, err = Convert(in, ConvertOptions{EntityID: "https://keycloak.example.com/auth/realms/nope"})
	if !errors.As(err, &sel) || sel.Requested == "" || !strings.Contains(err.Error(), `"https://keycloak.example.com/auth/realms/nope"`) || !strings.Contains(err.Error(), ops) {
		t.Fatalf("unknown entity ID: %v", err)
	}

	for _, id := range []string{demo, ops, sp} {
		res, err := Convert(in, ConvertOptions{EntityID: id})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if res.EntityID != id {
			t.Errorf("picked %q, want %q", res.EntityID, id)
		}
	}

	// With one identity provider and one service provider, the identity
	// provider is picked without being asked for.
	opsStart := bytes.Index(in, []byte(`   <EntityDescriptor entityID="`+ops))
	opsEnd := opsStart + bytes.Index(in[opsStart:], []byte("</EntityDescriptor>\n")) + len("</EntityDescriptor>\n")
	oneIDP := append(append([]byte{}, in[:opsStart]...), in[opsEnd:]...)
	res, err := Convert(oneIDP, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.EntityID != demo {
		t.Errorf("picked %q, want the identity provider %q", res.EntityID, demo)
	}
}

func TestConvertSignatureWarnings(t *testing.T) {
	res, err := Convert(readTestdata(t, "signed.xml"), ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 2 {
		t.Fatalf("warnings = %+v", res.Warnings)
	}
	if !strings.Contains(res.Warnings[0].Message, "EntitiesDescriptor (line 1)") ||
		!strings.Contains(res.Warnings[1].Message, "EntityDescriptor (line 15)") {
		t.Errorf("warnings do not locate the signatures: %+v", res.Warnings)
	}
	if !bytes.Contains(res.Metadata, []byte(`<dsig:Reference URI="#ed1">`)) || bytes.Contains(res.Metadata, []byte(`URI="#es1"`)) {
		t.Error("the descriptor's signature must stay and the wrapper's must go")
	}

	// A signed 14+ document passes through untouched: nothing is invalidated.
	signed14 := []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="x" entityID="https://kc/realms/r">` +
		`<ds:Signature><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`)
	res, err = Convert(signed14, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || len(res.Warnings) != 0 {
		t.Errorf("unchanged signed document: changed=%v warnings=%+v", res.Changed, res.Warnings)
	}
	// The same document with an undeclared prefix to repair is changed, and says so.
	unsigned := bytes.Replace(signed14, []byte(` xmlns:ds="http://www.w3.org/2000/09/xmldsig#"`), nil, 1)
	res, err = Convert(unsigned, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := findingIDs(res.Warnings); !slices.Equal(got, []string{FindingNamespaceDeclared, FindingSignatureInvalidated}) {
		t.Errorf("warnings = %v", got)
	}
}

func TestConvertRejects(t *testing.T) {
	const md = `xmlns="urn:oasis:names:tc:SAML:2.0:metadata"`
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "no root element"},
		{"not xml", "entityID=https://kc/realms/demo", "text outside the root element"},
		{"html", "<html><body>Sign in</body></html>", "root element <html> is not SAML metadata"},
		{"json", `{"error":"Realm does not exist"}`, "text outside the root element"},
		{"truncated", `<EntityDescriptor ` + md + ` entityID="x"><IDPSSODescriptor>`, "input ends inside <IDPSSODescriptor>"},
		{"mismatched", `<EntityDescriptor ` + md + `><a></b></EntityDescriptor>`, "element <a> closed by </b>"},
		{"two roots", `<EntityDescriptor ` + md + `/><EntityDescriptor ` + md + `/>`, "more than one root element"},
		{"syntax", `<EntityDescriptor ` + md + ` entityID="x></EntityDescriptor>`, "not well-formed XML"},
		{"foreign namespace", `<EntityDescriptor xmlns="urn:example"/>`, "not SAML metadata"},
		{"empty wrapper", `<EntitiesDescriptor ` + md + `></EntitiesDescriptor>`, "no EntityDescriptor inside"},
		{"unknown prefix", `<EntityDescriptor ` + md + ` entityID="x"><foo:Extensions/></EntityDescriptor>`, `prefixes used but never declared: "foo" (first on <foo:Extensions>`},
		{"duplicate attribute", `<EntityDescriptor ` + md + ` entityID="x" entityID="y"/>`, `attribute "entityID" appears twice`},
		{"empty prefix binding", `<EntityDescriptor ` + md + ` xmlns:p=""/>`, `prefix "p" is bound to an empty name`},
		{"late xml declaration", `<EntityDescriptor ` + md + `/><?xml version="1.0"?>`, "XML declaration must come first"},
		{"undecodable value", `<EntityDescriptor ` + md + ` entityID="x"><IDPSSODescriptor cacheDuration="PT1H"/></EntityDescriptor>`,
			`Rancher's decoder would still reject the converted EntityDescriptor: strconv.ParseInt: parsing "PT1H": invalid syntax`},
		{"unsupported encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><EntityDescriptor ` + md + `/>`, "ISO-8859-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Convert([]byte(tt.in), ConvertOptions{})
			if err == nil {
				t.Fatalf("converted to %s", res.Metadata)
			}
			assertBadInput(t, err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestConvertBOM(t *testing.T) {
	in := append([]byte{0xEF, 0xBB, 0xBF}, readTestdata(t, "keycloak-11-prefixed.xml")...)
	res, err := Convert(in, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(res.Metadata, []byte("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor")) {
		t.Errorf("output starts %q", res.Metadata[:60])
	}
}

func TestShapeString(t *testing.T) {
	for s, want := range map[Shape]string{
		ShapeUnknown: "unknown", ShapeEntityDescriptor: "EntityDescriptor",
		ShapeEntitiesDescriptor: "EntitiesDescriptor", ShapePrefixedEntitiesDescriptor: "md:EntitiesDescriptor",
	} {
		text, _ := s.MarshalText()
		if s.String() != want || string(text) != want {
			t.Errorf("Shape(%d) = %q/%q, want %q", s, s.String(), text, want)
		}
	}
}
