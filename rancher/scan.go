package rancher

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// Limits applied to every metadata document before anything else reads it.
// Keycloak's descriptor is a few kilobytes; the limits leave ample room for
// realms with many keys while keeping memory bounded for hostile input.
const (
	// MaxInputBytes is the largest metadata document accepted.
	MaxInputBytes = 8 << 20
	// MaxDepth is the deepest element nesting accepted. Keycloak's
	// descriptor nests six levels.
	MaxDepth = 64
	// MaxTokenBytes is the largest single token accepted: a start tag with
	// its attributes, one attribute value, a text node, a comment or a
	// processing instruction. A certificate is about 1–3 KiB.
	MaxTokenBytes = 64 << 10
	// MaxNamespaceDecls is the most namespace declarations in scope at
	// once. Keycloak declares four; federation metadata a dozen or two.
	MaxNamespaceDecls = 64
	// MaxEntityDescriptors is the most EntityDescriptors one document may
	// hold. Keycloak serves one.
	MaxEntityDescriptors = 1000
)

// XML namespaces used by SAML metadata.
const (
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsXMLDSig   = "http://www.w3.org/2000/09/xmldsig#"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	nsXML       = "http://www.w3.org/XML/1998/namespace"
)

// wellKnownPrefixes are the prefixes Keycloak's metadata uses, with the
// namespaces they always stand for. Only these are declared when a document
// uses them without a declaration.
var wellKnownPrefixes = map[string]string{
	"md":   nsMetadata,
	"ds":   nsXMLDSig,
	"dsig": nsXMLDSig,
	"saml": nsAssertion,
	"xsi":  nsXSI,
}

// maxUndeclaredRecorded caps how many distinct undeclared prefixes are kept
// per EntityDescriptor, so hostile input cannot grow the record.
const maxUndeclaredRecorded = 16

// ReadMetadata reads a metadata document from r, stopping with a
// *LimitError as soon as it exceeds MaxInputBytes, so that a hostile file or
// URL cannot exhaust memory. The caller closes r.
func ReadMetadata(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxInputBytes {
		return nil, &LimitError{Limit: "MaxInputBytes", Max: MaxInputBytes, Subject: "input"}
	}
	return data, nil
}

// nsDecl is one namespace declaration; prefix "" is the default namespace.
type nsDecl struct {
	prefix, uri string
}

// prefixUse records where a namespace prefix was used without a declaration.
type prefixUse struct {
	prefix string
	name   string // qualified name of the element or attribute using it
	line   int
}

type elemKind uint8

const (
	kindOther    elemKind = iota
	kindEntities          // an EntitiesDescriptor on the root-to-descriptor chain
	kindEntity            // a candidate EntityDescriptor
)

// frame is one open element during the scan.
type frame struct {
	prefix, local string
	decls         []nsDecl
	kind          elemKind
	wrapper       int // index into document.wrappers when kind == kindEntities
}

// candidate is an EntityDescriptor that could become the output root: the
// document root, or a child of an EntitiesDescriptor chain from the root.
type candidate struct {
	start   int64 // offset of '<'
	nameEnd int64 // offset just past the element name in the start tag
	end     int64 // offset just past the end tag
	line    int
	depth   int // 1 for the root
	prefix  string
	// entityID is the value Rancher's decoder sees: the last attribute whose
	// local name is entityID.
	entityID  string
	hasIDPSSO bool
	signed    bool // has an enveloped ds:Signature child
	// inherited lists the namespace declarations in scope from ancestors
	// that the element does not make itself, outermost first.
	inherited []nsDecl
	// undeclared lists prefixes used inside the element that no element in
	// scope declares, first use of each.
	undeclared     []prefixUse
	undeclaredMore bool // more distinct undeclared prefixes than recorded
	// defaultMissing is set when the element is unprefixed and no default
	// namespace declaration is in scope, so it lands in no namespace.
	defaultMissing bool
	wrappers       []int // indexes of the enclosing EntitiesDescriptors
	// decoded is the element decoded as Rancher would decode Convert's
	// output, before any repair of undeclared namespaces (decodeCandidates
	// only; nil when a missing default namespace makes it moot).
	decoded *decodeResult
}

// wrapperInfo describes one EntitiesDescriptor on the chain from the root.
type wrapperInfo struct {
	signed bool
	line   int
}

// document is what the bounded scan learns about a metadata document.
type document struct {
	// prologEnd is the offset just past the XML declaration (and a leading
	// byte order mark), or 0 when the document has none.
	prologEnd int64
	root      struct {
		prefix, local string
		space         string // resolved namespace, "" for none
		declared      bool   // the root's prefix (or default namespace) is declared
		line          int
	}
	wrappers   []wrapperInfo
	candidates []*candidate
	// decoded is the root decoded as Rancher decodes it (decodeRoot only).
	decoded *decodeResult
	// certElements records KeyInfo/X509Data/X509Certificate elements that are
	// not in the xmldsig namespace, for Check's diagnosis (first few only).
	certElements []certElement
}

// certElement is a certificate-carrying element outside the xmldsig namespace.
type certElement struct {
	name       string // qualified name as written
	space      string // resolved namespace; "" when undeclared
	undeclared bool
	line       int
}

const maxCertElementsRecorded = 4

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decodeTarget says which element scanDocument decodes as Rancher does while
// it scans, so that the document is tokenized only once.
type decodeTarget int

const (
	// decodeRoot decodes the root element, as Rancher decodes a document.
	decodeRoot decodeTarget = iota
	// decodeCandidates decodes every candidate EntityDescriptor as it
	// would appear in Convert's output: with its inherited namespace
	// declarations placed on it.
	decodeCandidates
)

// scanDocument reads data token by token with encoding/xml's raw tokenizer,
// enforcing the limits, rejecting DOCTYPE, checking well-formedness (matched
// tags, one root, no text outside it), resolving namespace prefixes itself,
// and recording byte offsets of every candidate EntityDescriptor. It never
// expands entities and keeps only O(depth) state besides the candidates.
//
// In the same pass it decodes the target element(s) into Rancher's struct
// by feeding the raw tokens to encoding/xml's own namespace-aware decoder
// (xml.NewTokenDecoder), which yields what decoding those bytes would.
func scanDocument(data []byte, target decodeTarget) (*document, error) {
	if len(data) > MaxInputBytes {
		return nil, &LimitError{Limit: "MaxInputBytes", Max: MaxInputBytes, Subject: "input", Size: int64(len(data))}
	}
	s := &scanner{
		data:     data,
		dec:      xml.NewDecoder(bytes.NewReader(data)),
		doc:      &document{},
		bindings: make(map[string][]string),
		hasBOM:   bytes.HasPrefix(data, utf8BOM),
	}
	for {
		tok, err := s.next()
		if err == io.EOF {
			return s.doc, nil
		}
		if err != nil {
			return nil, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case target == decodeRoot && len(s.stack) == 1:
			md, err := s.decodeElement(start, nil)
			if s.err != nil {
				return nil, s.err
			}
			s.doc.decoded = &decodeResult{md: md, err: err}
		case target == decodeCandidates && s.opened != nil && !s.opened.defaultMissing:
			c := s.opened
			md, err := s.decodeElement(start, c.inherited)
			if s.err != nil {
				return nil, s.err
			}
			c.decoded = &decodeResult{md: md, err: err}
		}
	}
}

// decodeResult is the outcome of decoding one element as Rancher does.
type decodeResult struct {
	md  *rancherIDPMetadata
	err error
}

// scanner is the state of one bounded scan.
type scanner struct {
	data       []byte
	dec        *xml.Decoder
	doc        *document
	stack      []frame
	cand       *candidate // the open candidate, if any
	opened     *candidate // the candidate the last token opened, if it did
	rootSeen   bool
	rootClosed bool
	nsDecls    int                 // namespace declarations in scope
	bindings   map[string][]string // prefix -> URIs declared for it, innermost last
	candidates int                 // EntityDescriptor candidates opened so far
	hasBOM     bool
	err        error // sticky: the first error next returned
}

// next reads one raw token, checks it against the limits and the
// well-formedness rules, records what the package needs, and returns it.
// At the end of a complete document it returns io.EOF.
func (s *scanner) next() (xml.Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	tok, err := s.step()
	if err != nil && err != io.EOF {
		s.err = err
	}
	return tok, err
}

func (s *scanner) step() (xml.Token, error) {
	s.opened = nil
	off := s.dec.InputOffset()
	line, _ := s.dec.InputPos() // where the token starts
	tok, err := s.dec.RawToken()
	if err == io.EOF {
		return nil, s.finish()
	}
	if err != nil {
		return nil, syntaxInputError(err)
	}
	end := s.dec.InputOffset()
	span := end - off
	doc := s.doc

	switch t := tok.(type) {
	case xml.Directive:
		return nil, &InputError{Input: "metadata", Line: line,
			Reason: "DOCTYPE and ENTITY declarations are not allowed (they are how entity-expansion \"XML bombs\" work, and Keycloak never sends one)"}

	case xml.ProcInst:
		if span > MaxTokenBytes {
			return nil, &LimitError{Limit: "MaxTokenBytes", Max: MaxTokenBytes, Subject: "processing instruction", Size: span, Line: line}
		}
		if t.Target == "xml" {
			if off != 0 && !(s.hasBOM && off == int64(len(utf8BOM))) {
				return nil, &InputError{Input: "metadata", Line: line, Reason: "the XML declaration must come first"}
			}
			doc.prologEnd = end
		}

	case xml.Comment:
		if span > MaxTokenBytes {
			return nil, &LimitError{Limit: "MaxTokenBytes", Max: MaxTokenBytes, Subject: "comment", Size: span, Line: line}
		}

	case xml.CharData:
		if span > MaxTokenBytes {
			return nil, &LimitError{Limit: "MaxTokenBytes", Max: MaxTokenBytes, Subject: "text", Size: span, Line: line}
		}
		if len(s.stack) == 0 {
			text := []byte(t)
			if off == 0 && s.hasBOM {
				text = text[len(utf8BOM):]
			}
			if len(bytes.TrimLeft(text, " \t\r\n")) != 0 {
				return nil, &InputError{Input: "metadata", Line: line, Reason: "text outside the root element"}
			}
		}

	case xml.StartElement:
		if err := s.startElement(t, off, span, line); err != nil {
			return nil, err
		}

	case xml.EndElement:
		if len(s.stack) == 0 {
			return nil, &InputError{Input: "metadata", Line: line, Reason: fmt.Sprintf("unexpected end tag </%s>", qualified(t.Name))}
		}
		top := s.stack[len(s.stack)-1]
		if t.Name.Space != top.prefix || t.Name.Local != top.local {
			return nil, &InputError{Input: "metadata", Line: line,
				Reason: fmt.Sprintf("element <%s> closed by </%s>", qualified(xml.Name{Space: top.prefix, Local: top.local}), qualified(t.Name))}
		}
		if top.kind == kindEntity && s.cand != nil {
			s.cand.end = end
			doc.candidates = append(doc.candidates, s.cand)
			s.cand = nil
		}
		s.nsDecls -= len(top.decls)
		for _, d := range top.decls {
			if uris := s.bindings[d.prefix]; len(uris) > 1 {
				s.bindings[d.prefix] = uris[:len(uris)-1]
			} else {
				delete(s.bindings, d.prefix)
			}
		}
		s.stack = s.stack[:len(s.stack)-1]
		if len(s.stack) == 0 {
			s.rootClosed = true
		}
	}
	return tok, nil
}

func (s *scanner) startElement(t xml.StartElement, off, span int64, line int) error {
	doc := s.doc
	depth := len(s.stack) + 1
	if depth > MaxDepth {
		return &LimitError{Limit: "MaxDepth", Max: MaxDepth, Subject: "element nesting depth", Size: int64(depth), Line: line}
	}
	if s.rootClosed {
		return &InputError{Input: "metadata", Line: line, Reason: "more than one root element"}
	}
	var decls []nsDecl
	for _, a := range t.Attr {
		if len(a.Value) > MaxTokenBytes {
			return &LimitError{Limit: "MaxTokenBytes", Max: MaxTokenBytes,
				Subject: fmt.Sprintf("attribute %q on <%s>", qualified(a.Name), qualified(t.Name)), Size: int64(len(a.Value)), Line: line}
		}
		switch {
		case a.Name.Space == "xmlns":
			if a.Value == "" {
				return &InputError{Input: "metadata", Line: line, Reason: fmt.Sprintf("namespace prefix %q is bound to an empty name on <%s>", a.Name.Local, qualified(t.Name))}
			}
			decls = append(decls, nsDecl{prefix: a.Name.Local, uri: a.Value})
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			decls = append(decls, nsDecl{prefix: "", uri: a.Value})
		}
	}
	if dup, ok := duplicateAttr(t.Attr); ok {
		return &InputError{Input: "metadata", Line: line, Reason: fmt.Sprintf("attribute %q appears twice on <%s>", qualified(dup), qualified(t.Name))}
	}
	if s.nsDecls+len(decls) > MaxNamespaceDecls {
		return &LimitError{Limit: "MaxNamespaceDecls", Max: MaxNamespaceDecls, Subject: "count of namespace declarations in scope",
			Size: int64(s.nsDecls + len(decls)), Line: line}
	}
	if span > MaxTokenBytes {
		return &LimitError{Limit: "MaxTokenBytes", Max: MaxTokenBytes, Subject: fmt.Sprintf("start tag <%s>", qualified(t.Name)), Size: span, Line: line}
	}

	parentKind, parentWrapper := kindOther, 0
	if len(s.stack) > 0 {
		parentKind, parentWrapper = s.stack[len(s.stack)-1].kind, s.stack[len(s.stack)-1].wrapper
	}
	s.stack = append(s.stack, frame{prefix: t.Name.Space, local: t.Name.Local, decls: decls})
	s.nsDecls += len(decls)
	for _, d := range decls {
		s.bindings[d.prefix] = append(s.bindings[d.prefix], d.uri)
	}
	top := &s.stack[len(s.stack)-1]
	space, declared := s.resolve(t.Name.Space)
	// Metadata-like: in the metadata namespace, or in none at all
	// (undeclared prefix or missing default) so a repair may apply.
	metadataLike := space == nsMetadata || !declared || space == ""

	if depth == 1 {
		s.rootSeen = true
		doc.root.prefix, doc.root.local, doc.root.line = t.Name.Space, t.Name.Local, line
		doc.root.declared = declared
		if declared {
			doc.root.space = space
		}
	}

	if c := s.cand; c != nil {
		s.recordUses(c, t, line)
		if depth == c.depth+1 {
			switch {
			case t.Name.Local == "IDPSSODescriptor" && metadataLike:
				c.hasIDPSSO = true
			case t.Name.Local == "Signature" && (space == nsXMLDSig || !declared):
				c.signed = true
			}
		}
	} else if depth == 1 || parentKind == kindEntities {
		switch {
		case t.Name.Local == "EntitiesDescriptor" && metadataLike:
			top.kind = kindEntities
			top.wrapper = len(doc.wrappers)
			doc.wrappers = append(doc.wrappers, wrapperInfo{line: line})
		case t.Name.Local == "EntityDescriptor" && metadataLike:
			if s.candidates++; s.candidates > MaxEntityDescriptors {
				return &LimitError{Limit: "MaxEntityDescriptors", Max: MaxEntityDescriptors, Subject: "number of EntityDescriptors",
					Size: int64(s.candidates), Line: line}
			}
			top.kind = kindEntity
			c, err := newCandidate(s.data, s.stack, t, off, depth, line, declared)
			if err != nil {
				return err
			}
			s.cand = c
			s.recordUses(c, t, line)
			s.opened = s.cand
		case depth > 1 && t.Name.Local == "Signature" && (space == nsXMLDSig || !declared):
			doc.wrappers[parentWrapper].signed = true
		}
	}

	if t.Name.Local == "KeyInfo" || t.Name.Local == "X509Data" || t.Name.Local == "X509Certificate" {
		if space != nsXMLDSig && len(doc.certElements) < maxCertElementsRecorded {
			doc.certElements = append(doc.certElements, certElement{name: qualified(t.Name), space: space, undeclared: !declared, line: line})
		}
	}
	return nil
}

// finish checks, at the end of input, that the document was complete.
func (s *scanner) finish() error {
	if !s.rootSeen {
		return &InputError{Input: "metadata", Reason: "no root element (empty input?)"}
	}
	if len(s.stack) > 0 {
		top := s.stack[len(s.stack)-1]
		line, _ := s.dec.InputPos()
		return &InputError{Input: "metadata", Line: line,
			Reason: fmt.Sprintf("input ends inside <%s> (truncated?)", qualified(xml.Name{Space: top.prefix, Local: top.local}))}
	}
	return io.EOF
}

// decodeElement decodes the element whose start tag the scanner just
// returned, with Rancher's struct, pulling the rest of its tokens through
// the scanner so that every limit and check still applies. Namespace
// declarations in inject are placed on the start tag first, as Convert
// writes them. A scanner error is left in s.err for the caller.
func (s *scanner) decodeElement(start xml.StartElement, inject []nsDecl) (*rancherIDPMetadata, error) {
	attrs := make([]xml.Attr, 0, len(inject)+len(start.Attr))
	for _, d := range inject {
		if d.prefix == "" {
			attrs = append(attrs, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: d.uri})
		} else {
			attrs = append(attrs, xml.Attr{Name: xml.Name{Space: "xmlns", Local: d.prefix}, Value: d.uri})
		}
	}
	start.Attr = append(attrs, start.Attr...)
	r := &elementTokens{s: s, first: start, depth: len(s.stack)}
	var md rancherIDPMetadata
	if err := xml.NewTokenDecoder(r).Decode(&md); err != nil {
		return nil, err
	}
	return &md, nil
}

// elementTokens hands one element's raw tokens, read through the scanner,
// to an xml.Decoder.
type elementTokens struct {
	s     *scanner
	first xml.Token
	depth int // stack depth of the element
}

func (r *elementTokens) Token() (xml.Token, error) {
	if r.first != nil {
		t := r.first
		r.first = nil
		return t, nil
	}
	if len(r.s.stack) < r.depth {
		return nil, io.EOF // the element is complete
	}
	return r.s.next()
}

// newCandidate records an EntityDescriptor start tag: its offsets, entityID
// and the namespace declarations it inherits from its ancestors.
// nameDeclared says whether the element's own prefix (or, unprefixed, the
// default namespace) is declared.
func newCandidate(data []byte, stack []frame, t xml.StartElement, off int64, depth, line int, nameDeclared bool) (*candidate, error) {
	qname := qualified(t.Name)
	c := &candidate{
		start:   off,
		nameEnd: off + 1 + int64(len(qname)),
		line:    line,
		depth:   depth,
		prefix:  t.Name.Space,
	}
	if c.nameEnd > int64(len(data)) || data[off] != '<' || string(data[off+1:c.nameEnd]) != qname {
		// encoding/xml reports the offset of '<' for every start tag;
		// anything else is a bug in this package, not in the input.
		return nil, fmt.Errorf("rancher: internal error: start tag <%s> not found at offset %d", qname, off)
	}
	for _, a := range t.Attr {
		if a.Name.Local == "entityID" {
			c.entityID = a.Value
		}
	}
	for _, w := range stack[:len(stack)-1] {
		if w.kind == kindEntities {
			c.wrappers = append(c.wrappers, w.wrapper)
		}
	}
	own := stack[len(stack)-1].decls
	for _, f := range stack[:len(stack)-1] {
		for _, d := range f.decls {
			if declares(own, d.prefix) {
				continue
			}
			replaced := false
			for i := range c.inherited {
				if c.inherited[i].prefix == d.prefix {
					c.inherited[i].uri = d.uri
					replaced = true
				}
			}
			if !replaced {
				c.inherited = append(c.inherited, d)
			}
		}
	}
	// An inherited xmlns="" only undoes an outer default; the output root
	// has no outer default, so declaring it would be noise.
	kept := c.inherited[:0]
	for _, d := range c.inherited {
		if d.prefix != "" || d.uri != "" {
			kept = append(kept, d)
		}
	}
	c.inherited = kept
	c.defaultMissing = t.Name.Space == "" && !nameDeclared
	return c, nil
}

// recordUses notes every prefix used by the element's name and attributes
// that no element in scope declares.
func (s *scanner) recordUses(c *candidate, t xml.StartElement, line int) {
	note := func(n xml.Name) {
		if n.Space == "" || n.Space == "xml" {
			return
		}
		if _, declared := s.resolve(n.Space); declared {
			return
		}
		for _, u := range c.undeclared {
			if u.prefix == n.Space {
				return
			}
		}
		if len(c.undeclared) >= maxUndeclaredRecorded {
			c.undeclaredMore = true
			return
		}
		c.undeclared = append(c.undeclared, prefixUse{prefix: n.Space, name: qualified(n), line: line})
	}
	note(t.Name)
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" {
			continue
		}
		note(a.Name)
	}
}

// resolve finds the namespace bound to prefix ("" for the default
// namespace) by the innermost declaration in scope.
func (s *scanner) resolve(prefix string) (uri string, declared bool) {
	switch prefix {
	case "xml":
		return nsXML, true
	case "xmlns":
		return "", false
	}
	if uris := s.bindings[prefix]; len(uris) > 0 {
		return uris[len(uris)-1], true
	}
	return "", false
}

// duplicateAttr reports an attribute name given twice. Small attribute
// lists (all real ones) are compared pairwise; large ones use a map made
// for this element only, so a huge tag costs nothing later.
func duplicateAttr(attrs []xml.Attr) (xml.Name, bool) {
	if len(attrs) <= 16 {
		for i := range attrs {
			for j := i + 1; j < len(attrs); j++ {
				if attrs[i].Name == attrs[j].Name {
					return attrs[i].Name, true
				}
			}
		}
		return xml.Name{}, false
	}
	seen := make(map[xml.Name]struct{}, len(attrs))
	for _, a := range attrs {
		if _, dup := seen[a.Name]; dup {
			return a.Name, true
		}
		seen[a.Name] = struct{}{}
	}
	return xml.Name{}, false
}

func declares(decls []nsDecl, prefix string) bool {
	for _, d := range decls {
		if d.prefix == prefix {
			return true
		}
	}
	return false
}

// qualified renders a raw (unresolved) name as written: prefix:local.
func qualified(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// syntaxInputError wraps an encoding/xml error as a BadInput error.
func syntaxInputError(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &InputError{Input: "metadata", Reason: "not well-formed XML", Err: err}
	}
	return &InputError{Input: "metadata", Reason: "cannot read XML", Err: err}
}
