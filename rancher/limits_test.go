package rancher

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

const mdOpen = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://kc/realms/demo">`

// hostile inputs, each with the limit its error must name.
func hostileInputs() []struct{ name, in, limit string } {
	billionLaughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol9;"/>`
	external := `<!DOCTYPE EntityDescriptor SYSTEM "file:///etc/passwd"><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>`
	deep := mdOpen + strings.Repeat("<IDPSSODescriptor>", 100) + strings.Repeat("</IDPSSODescriptor>", 100) + "</EntityDescriptor>"
	hugeAttr := `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + strings.Repeat("a", MaxTokenBytes+1) + `"/>`
	manyAttrs := `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"`
	for i := 0; len(manyAttrs) <= MaxTokenBytes; i++ {
		manyAttrs += " a" + strings.Repeat("x", 20) + string(rune('a'+i%26)) + strings.Repeat("y", i/26) + `="v"`
	}
	manyAttrs += "/>"
	hugeText := mdOpen + "<IDPSSODescriptor>" + strings.Repeat("x", MaxTokenBytes+1) + "</IDPSSODescriptor></EntityDescriptor>"
	hugeComment := mdOpen + "<!--" + strings.Repeat("x", MaxTokenBytes) + "--></EntityDescriptor>"
	nsFlood := `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"`
	for i := range MaxNamespaceDecls {
		nsFlood += fmt.Sprintf(` xmlns:p%d="urn:p%d"`, i, i)
	}
	nsFlood += `><EntityDescriptor entityID="x"/></EntitiesDescriptor>`
	entityFlood := `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` +
		strings.Repeat(`<EntityDescriptor entityID="x"/>`, MaxEntityDescriptors+1) + `</EntitiesDescriptor>`
	oversized := mdOpen + strings.Repeat("<!-- padding -->\n", MaxInputBytes/17+1) + "</EntityDescriptor>"
	return []struct{ name, in, limit string }{
		{"billion laughs", billionLaughs, "DOCTYPE"},
		{"external entity", external, "DOCTYPE"},
		{"deep nesting", deep, "MaxDepth limit of 64"},
		{"huge attribute", hugeAttr, `attribute "entityID" on <EntityDescriptor> is larger than 65536 bytes (the MaxTokenBytes limit): 65537 bytes`},
		{"huge start tag", manyAttrs, "start tag <EntityDescriptor>"},
		{"huge text", hugeText, "text is larger than 65536 bytes (the MaxTokenBytes limit): 65537 bytes"},
		{"huge comment", hugeComment, "comment is"},
		{"oversized input", oversized, "input is larger than 8388608 bytes (the MaxInputBytes limit)"},
		{"namespace flood", nsFlood, "count of namespace declarations in scope reaches 65, over the MaxNamespaceDecls limit of 64"},
		{"entity flood", entityFlood, "number of EntityDescriptors reaches 1001, over the MaxEntityDescriptors limit of 1000"},
	}
}

func TestHostileInputIsRejected(t *testing.T) {
	for _, tt := range hostileInputs() {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Convert([]byte(tt.in), ConvertOptions{})
			assertBadInput(t, err)
			if !strings.Contains(err.Error(), tt.limit) {
				t.Errorf("Convert error %q does not name %q", err, tt.limit)
			}
			fs, err := Check([]byte(tt.in), time.Time{})
			assertBadInput(t, err)
			if fs != nil || !strings.Contains(err.Error(), tt.limit) {
				t.Errorf("Check error %q (findings %v) does not name %q", err, fs, tt.limit)
			}
		})
	}
}

func TestLimitErrorType(t *testing.T) {
	_, err := Convert([]byte(mdOpen+strings.Repeat("<a>", MaxDepth)+strings.Repeat("</a>", MaxDepth)+"</EntityDescriptor>"), ConvertOptions{})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "MaxDepth" || le.Size != MaxDepth+1 || le.Line != 1 {
		t.Fatalf("err = %#v", err)
	}
	// Exactly at the limit is fine.
	_, err = scanDocument([]byte(mdOpen+strings.Repeat("<a>", MaxDepth-1)+strings.Repeat("</a>", MaxDepth-1)+"</EntityDescriptor>"), decodeRoot)
	if err != nil {
		t.Fatalf("depth %d rejected: %v", MaxDepth, err)
	}
	_, err = scanDocument([]byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="`+strings.Repeat("a", MaxTokenBytes-200)+`"/>`), decodeRoot)
	if err != nil {
		t.Fatalf("attribute under the limit rejected: %v", err)
	}
	var ie *InputError
	_, err = Convert([]byte(`<!DOCTYPE x><x/>`), ConvertOptions{})
	if !errors.As(err, &ie) || !strings.Contains(ie.Reason, "XML bombs") {
		t.Errorf("DOCTYPE: %#v", err)
	}
}

// endless yields 'x' forever and counts what was read.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadMetadataStopsAtTheLimit(t *testing.T) {
	src := &endless{}
	_, err := ReadMetadata(src)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "MaxInputBytes" || !strings.Contains(err.Error(), "larger than 8388608 bytes (the MaxInputBytes limit)") {
		t.Fatalf("err = %v", err)
	}
	assertBadInput(t, err)
	if src.n > MaxInputBytes+1 {
		t.Errorf("read %d bytes from an endless source; the limit is %d", src.n, MaxInputBytes)
	}

	in := readTestdata(t, "keycloak-26-entity.xml")
	got, err := ReadMetadata(bytes.NewReader(in))
	if err != nil || !bytes.Equal(got, in) {
		t.Fatalf("ReadMetadata = %d bytes, %v", len(got), err)
	}
	got, err = ReadMetadata(io.LimitReader(&endless{}, MaxInputBytes))
	if err != nil || len(got) != MaxInputBytes {
		t.Fatalf("exactly MaxInputBytes: %d bytes, %v", len(got), err)
	}
}
