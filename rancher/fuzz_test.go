package rancher

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// addSeeds seeds a fuzz target with every XML fixture and a few small
// documents that reach the corners of the scanner.
func addSeeds(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`<EntityDescriptor entityID="x"/>`,
		`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><md:EntitiesDescriptor><md:EntityDescriptor entityID="a"/></md:EntitiesDescriptor></md:EntitiesDescriptor>`,
		`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:x="u&amp;&quot;v"><EntityDescriptor x:a="1" entityID="e"><![CDATA[<a>]]><!--c--><?pi x?></EntityDescriptor></EntitiesDescriptor>`,
		`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><EntityDescriptor xmlns="" entityID="e"/></EntitiesDescriptor>`,
		"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<EntityDescriptor xmlns:entityID=\"z\" entityID=\"y\"/>",
		`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzConvert: Convert never panics, fails only with BadInput errors, and
// whatever it returns is well-formed, declares every prefix it uses,
// decodes with Rancher's struct to the reported entityID, and converts to
// itself.
func FuzzConvert(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		assertCandidatesDecodedInPass(t, in)
		res, err := Convert(in, ConvertOptions{})
		if err != nil {
			var bi interface{ BadInput() bool }
			if !errors.As(err, &bi) || !bi.BadInput() {
				t.Fatalf("error without BadInput: %T %v", err, err)
			}
			var sel *EntitySelectionError
			if errors.As(err, &sel) {
				// Every non-empty entity ID listed can be chosen explicitly.
				for _, id := range sel.EntityIDs {
					if id == "" {
						continue
					}
					if _, err := Convert(in, ConvertOptions{EntityID: id}); errors.As(err, &sel) {
						t.Fatalf("entity ID %q listed but not selectable: %v", id, err)
					}
				}
			}
			return
		}
		out := res.Metadata
		if err := wellFormed(out); err != nil {
			t.Fatalf("output is not well-formed: %v\n%s", err, out)
		}
		if p := undeclaredPrefix(out); p != "" {
			t.Fatalf("output uses undeclared prefix %q\n%s", p, out)
		}
		md, err := decodeAsRancher(out)
		if err != nil {
			t.Fatalf("Rancher's decoder rejects the output: %v\n%s", err, out)
		}
		if md.EntityID != res.EntityID {
			t.Fatalf("decoded entityID %q, result says %q", md.EntityID, res.EntityID)
		}
		assertDecodedInPass(t, out)
		again, err := Convert(out, ConvertOptions{})
		if err != nil {
			t.Fatalf("converting the output fails: %v\n%s", err, out)
		}
		if again.Changed {
			t.Fatalf("converting the output changes it:\n%s\n---\n%s", out, again.Metadata)
		}
		if !res.Changed && !bytes.Equal(out, in) {
			t.Fatal("Changed is false but the output differs")
		}
	})
}

// FuzzCheck: Check never panics, fails only with BadInput errors, and
// returns complete findings.
func FuzzCheck(f *testing.F) {
	addSeeds(f)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in []byte) {
		assertDecodedInPass(t, in)
		fs, err := Check(in, now)
		if err != nil {
			var bi interface{ BadInput() bool }
			if !errors.As(err, &bi) || !bi.BadInput() {
				t.Fatalf("error without BadInput: %T %v", err, err)
			}
			if fs != nil {
				t.Fatal("findings alongside an error")
			}
			return
		}
		for _, f := range fs {
			if f.ID == "" || f.Message == "" || f.Fix == "" || (f.Severity != SeverityError && f.Severity != SeverityWarning) {
				t.Fatalf("incomplete finding %+v", f)
			}
		}
	})
}

// assertDecodedInPass requires the decode done during the scan, from raw
// tokens, to equal decoding the bytes as Rancher does.
func assertDecodedInPass(t *testing.T, data []byte) {
	t.Helper()
	doc, err := scanDocument(data, decodeRoot)
	if err != nil {
		return
	}
	md, derr := decodeAsRancher(data)
	got := doc.decoded
	if (got.err == nil) != (derr == nil) || (derr != nil && got.err.Error() != derr.Error()) {
		t.Fatalf("in-pass decode error %v, Rancher's decode error %v", got.err, derr)
	}
	if derr == nil && !reflect.DeepEqual(got.md, md) {
		t.Fatalf("in-pass decode differs:\n%+v\n%+v", got.md, md)
	}
}

// assertCandidatesDecodedInPass requires each candidate's decode during the
// scan to equal decoding the output Convert would write for it.
func assertCandidatesDecodedInPass(t *testing.T, in []byte) {
	t.Helper()
	doc, err := scanDocument(in, decodeCandidates)
	if err != nil {
		return
	}
	for _, c := range doc.candidates {
		if c.decoded == nil || len(c.undeclared) > 0 {
			continue
		}
		inject, _, err := declarationsFor(c)
		if err != nil {
			t.Fatalf("declarations: %v", err)
		}
		out := spliceOutput(in, doc, c, inject)
		md, derr := decodeAsRancher(out)
		got := c.decoded
		if (got.err == nil) != (derr == nil) || (derr != nil && got.err.Error() != derr.Error()) {
			t.Fatalf("in-pass decode error %v, decode of the output %v\n%s", got.err, derr, out)
		}
		if derr == nil && !reflect.DeepEqual(got.md, md) {
			t.Fatalf("in-pass decode differs:\n%+v\n%+v", got.md, md)
		}
	}
}

// wellFormed runs encoding/xml's namespace-aware tokenizer, which checks
// tag matching, over the whole document.
func wellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	roots := 0
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.Directive:
			return errors.New("directive in output")
		}
	}
	if roots != 1 || depth != 0 {
		return errors.New("not exactly one balanced root")
	}
	return nil
}

// undeclaredPrefix returns a prefix the document uses on an element or
// attribute without a declaration in scope, or "". It is written apart from
// the package's scanner so that the two check each other.
func undeclaredPrefix(data []byte) string {
	d := xml.NewDecoder(bytes.NewReader(data))
	var scopes [][]string
	inScope := func(p string) bool {
		for _, s := range scopes {
			for _, q := range s {
				if q == p {
					return true
				}
			}
		}
		return p == "xml"
	}
	for {
		tok, err := d.RawToken()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var s []string
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					s = append(s, a.Name.Local)
				}
			}
			scopes = append(scopes, s)
			if t.Name.Space != "" && !inScope(t.Name.Space) {
				return t.Name.Space
			}
			for _, a := range t.Attr {
				if a.Name.Space != "" && a.Name.Space != "xmlns" && !inScope(a.Name.Space) {
					return a.Name.Space
				}
			}
		case xml.EndElement:
			scopes = scopes[:len(scopes)-1]
		}
	}
}
