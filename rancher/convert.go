package rancher

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// Shape is the form in which Keycloak (or a person) delivered the metadata.
type Shape int

const (
	// ShapeUnknown is the zero value; Convert never reports it.
	ShapeUnknown Shape = iota
	// ShapeEntityDescriptor is a single EntityDescriptor root: Keycloak 14
	// and later (md:-prefixed), Keycloak 5 and earlier, or a hand edit.
	ShapeEntityDescriptor
	// ShapeEntitiesDescriptor is an unprefixed EntitiesDescriptor wrapper,
	// Keycloak 6-13's template: namespaces (default and dsig) are declared
	// only on the wrapper.
	ShapeEntitiesDescriptor
	// ShapePrefixedEntitiesDescriptor is an md:EntitiesDescriptor wrapper
	// whose EntityDescriptor redeclares its namespaces, as Keycloak's
	// SAMLMetadataWriter produced it before Keycloak 14.
	ShapePrefixedEntitiesDescriptor
)

// String names the shape as its root element is written.
func (s Shape) String() string {
	switch s {
	case ShapeEntityDescriptor:
		return "EntityDescriptor"
	case ShapeEntitiesDescriptor:
		return "EntitiesDescriptor"
	case ShapePrefixedEntitiesDescriptor:
		return "md:EntitiesDescriptor"
	}
	return "unknown"
}

// MarshalText makes a Shape render as its String in JSON.
func (s Shape) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ConvertOptions tunes Convert.
type ConvertOptions struct {
	// EntityID picks the EntityDescriptor with this entityID when the input
	// holds several. Empty means: pick the only one (preferring those with
	// an IDPSSODescriptor), or fail with an *EntitySelectionError.
	EntityID string
}

// Result is what Convert produced.
type Result struct {
	// Metadata is the single-EntityDescriptor document Rancher decodes.
	// It aliases no memory of the input.
	Metadata []byte
	// Shape is the input's shape.
	Shape Shape
	// EntityID is the chosen descriptor's entityID, as Rancher decodes it.
	EntityID string
	// Changed is false when Metadata is byte-for-byte the input.
	Changed bool
	// Warnings are findings of severity warning about what the conversion
	// did: namespaces it had to declare, signatures it invalidated.
	Warnings []Finding
}

// Convert turns Keycloak SAML IdP metadata of any shape Keycloak has served
// into the single EntityDescriptor root that Rancher decodes.
//
// It works on bytes, not on a re-serialised tree: the chosen EntityDescriptor
// is cut out of the input unchanged (attribute order, prefixes, whitespace,
// text) and only its start tag gains the namespace declarations it inherited
// from the EntitiesDescriptor wrapper, plus declarations for the well-known
// prefixes (md, ds, dsig, saml, xsi) and the metadata default namespace when
// the input uses them without declaring them (a browser copy, a hand edit).
// An XML declaration is kept. A document that already is a self-contained
// EntityDescriptor comes back byte-for-byte identical.
//
// Convert validates its output by decoding it as Rancher does; it does not
// judge the content (certificates, bindings): run Check on Result.Metadata
// for that. Errors implement BadInput() bool: *InputError, *LimitError and
// *EntitySelectionError.
func Convert(metadata []byte, opts ConvertOptions) (*Result, error) {
	doc, err := scanDocument(metadata, decodeCandidates)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	switch {
	case doc.root.local == "EntityDescriptor" && len(doc.candidates) == 1 && doc.candidates[0].depth == 1:
		res.Shape = ShapeEntityDescriptor
	case doc.root.local == "EntitiesDescriptor" && len(doc.wrappers) > 0 && doc.root.prefix == "":
		res.Shape = ShapeEntitiesDescriptor
	case doc.root.local == "EntitiesDescriptor" && len(doc.wrappers) > 0:
		res.Shape = ShapePrefixedEntitiesDescriptor
	default:
		return nil, &InputError{Input: "metadata", Line: doc.root.line,
			Reason: fmt.Sprintf("root element <%s> is not SAML metadata (want EntityDescriptor or EntitiesDescriptor in %s)",
				qualified(xml.Name{Space: doc.root.prefix, Local: doc.root.local}), nsMetadata)}
	}
	cand, err := chooseCandidate(doc, opts.EntityID)
	if err != nil {
		return nil, err
	}

	inject, warnings, err := declarationsFor(cand)
	if err != nil {
		return nil, err
	}
	res.Warnings = warnings

	out := spliceOutput(metadata, doc, cand, inject)
	res.Metadata = out
	res.Changed = !bytes.Equal(out, metadata)

	if res.Changed {
		res.Warnings = append(res.Warnings, signatureWarnings(doc, cand)...)
	}

	// The scan decoded the candidate as it appears in the output unless a
	// repair changed how its prefixes resolve; then decode the output.
	decoded := cand.decoded
	if decoded == nil || len(cand.undeclared) > 0 {
		md, err := decodeAsRancher(out)
		decoded = &decodeResult{md: md, err: err}
	}
	md, err := decoded.md, decoded.err
	if err != nil {
		return nil, &InputError{Input: "metadata", Line: cand.line,
			Reason: "Rancher's decoder would still reject the converted EntityDescriptor", Err: err}
	}
	if md.EntityID != cand.entityID {
		return nil, &InputError{Input: "metadata", Line: cand.line,
			Reason: fmt.Sprintf("Rancher decodes entityID %q but the EntityDescriptor says %q", md.EntityID, cand.entityID)}
	}
	res.EntityID = md.EntityID
	return res, nil
}

// spliceOutput writes the document Convert returns: the input with inject
// placed after the candidate's element name, and, when the candidate is not
// the root, only the XML declaration and the candidate kept.
func spliceOutput(metadata []byte, doc *document, c *candidate, inject []byte) []byte {
	switch {
	case c.depth == 1 && len(inject) == 0:
		return bytes.Clone(metadata)
	case c.depth == 1:
		out := make([]byte, 0, len(metadata)+len(inject))
		out = append(out, metadata[:c.nameEnd]...)
		out = append(out, inject...)
		return append(out, metadata[c.nameEnd:]...)
	}
	out := make([]byte, 0, doc.prologEnd+1+(c.end-c.start)+int64(len(inject))+1)
	if doc.prologEnd > 0 {
		out = append(out, metadata[:doc.prologEnd]...)
		out = append(out, '\n')
	}
	out = append(out, metadata[c.start:c.nameEnd]...)
	out = append(out, inject...)
	out = append(out, metadata[c.nameEnd:c.end]...)
	return append(out, '\n')
}

// chooseCandidate picks the EntityDescriptor to keep.
func chooseCandidate(doc *document, entityID string) (*candidate, error) {
	all := doc.candidates
	if len(all) == 0 {
		return nil, &InputError{Input: "metadata", Line: doc.root.line, Reason: "no EntityDescriptor inside the EntitiesDescriptor"}
	}
	ids := make([]string, len(all))
	for i, c := range all {
		ids[i] = c.entityID
	}
	pool := all
	if entityID != "" {
		pool = nil
		for _, c := range all {
			if c.entityID == entityID {
				pool = append(pool, c)
			}
		}
		if len(pool) == 0 {
			return nil, &EntitySelectionError{Requested: entityID, EntityIDs: ids}
		}
	}
	if len(pool) == 1 {
		return pool[0], nil
	}
	var idps []*candidate
	for _, c := range pool {
		if c.hasIDPSSO {
			idps = append(idps, c)
		}
	}
	if len(idps) == 1 {
		return idps[0], nil
	}
	if entityID != "" && len(idps) > 1 {
		// Several descriptors share the requested entityID: the first
		// identity provider among them is the one Keycloak would list.
		return idps[0], nil
	}
	if entityID != "" {
		return pool[0], nil
	}
	return nil, &EntitySelectionError{EntityIDs: ids}
}

// declarationsFor returns the xmlns attributes to insert right after the
// chosen element's name, and a warning per namespace it had to guess.
func declarationsFor(c *candidate) ([]byte, []Finding, error) {
	var (
		b        bytes.Buffer
		warnings []Finding
	)
	for _, d := range c.inherited {
		writeXMLNS(&b, d)
	}
	if c.defaultMissing {
		writeXMLNS(&b, nsDecl{uri: nsMetadata})
		warnings = append(warnings, Finding{ID: FindingNamespaceDeclared, Severity: SeverityWarning,
			Message: fmt.Sprintf("The EntityDescriptor (line %d) declares no namespace; declared the SAML metadata namespace %s on it.", c.line, nsMetadata),
			Fix:     "None needed for Rancher. The input was probably copied from a browser's rendered view; fetch the raw descriptor next time."})
	}
	var unknown []string
	for _, u := range c.undeclared {
		uri, ok := wellKnownPrefixes[u.prefix]
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q (first on <%s>, line %d)", u.prefix, u.name, u.line))
			continue
		}
		writeXMLNS(&b, nsDecl{prefix: u.prefix, uri: uri})
		warnings = append(warnings, Finding{ID: FindingNamespaceDeclared, Severity: SeverityWarning,
			Message: fmt.Sprintf("The prefix %q is used (first on <%s>, line %d) but never declared; declared it as %s on the EntityDescriptor.", u.prefix, u.name, u.line, uri),
			Fix:     "None needed for Rancher. The input was probably edited by hand or copied from a browser's rendered view; fetch the raw descriptor next time."})
	}
	if len(unknown) > 0 || c.undeclaredMore {
		reason := "namespace prefixes used but never declared: " + strings.Join(unknown, ", ")
		if c.undeclaredMore {
			reason += " and more"
		}
		return nil, nil, &InputError{Input: "metadata", Line: c.line, Reason: reason}
	}
	return b.Bytes(), warnings, nil
}

// writeXMLNS writes ` xmlns:prefix="uri"` (or ` xmlns="uri"`), escaping the
// URI so that it decodes to exactly the declared value.
func writeXMLNS(b *bytes.Buffer, d nsDecl) {
	b.WriteString(" xmlns")
	if d.prefix != "" {
		b.WriteByte(':')
		b.WriteString(d.prefix)
	}
	b.WriteString(`="`)
	_ = xml.EscapeText(b, []byte(d.uri)) // writes to a bytes.Buffer never fail
	b.WriteByte('"')
}

// signatureWarnings reports enveloped signatures the conversion invalidates:
// on a dropped EntitiesDescriptor wrapper, or on the changed EntityDescriptor.
func signatureWarnings(doc *document, c *candidate) []Finding {
	var ws []Finding
	const fix = "None needed for Rancher, which decodes the metadata without verifying a signature. " +
		"Keep the original file for any consumer that does verify it."
	for _, w := range c.wrappers {
		if doc.wrappers[w].signed {
			ws = append(ws, Finding{ID: FindingSignatureInvalidated, Severity: SeverityWarning,
				Message: fmt.Sprintf("The EntitiesDescriptor (line %d) carries an XML signature; the conversion drops that element, so the output is no longer signed.", doc.wrappers[w].line),
				Fix:     fix})
		}
	}
	if c.signed {
		ws = append(ws, Finding{ID: FindingSignatureInvalidated, Severity: SeverityWarning,
			Message: fmt.Sprintf("The EntityDescriptor (line %d) carries an XML signature; the conversion changes the document, so the signature may no longer verify.", c.line),
			Fix:     fix})
	}
	return ws
}
