package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// ParseFragment checks that data is a piece of an sso.yaml: YAML whose keys
// and value types are those of the file, without the rules a whole file
// must follow (a server URL, a realm). Fixes that ssoctl prints parse with
// it.
func ParseFragment(name string, data []byte) (*File, error) {
	return decode(name, data, "the fragment is empty")
}

// keys that identify the items of a list in sso.yaml, so that merging a
// fragment updates the item instead of adding a second one.
var itemKeys = []string{"client_id", "path", "name", "username"}

// MergeFragment merges the fragment into the sso.yaml text doc and returns
// the new text, comments and order kept (a yaml.v3 node edit). Mappings
// merge key by key; list items that name the same client, mount, group or
// user merge; mappers merge by kind and name; lists of plain values gain the
// values they lack; other values are replaced.
//
// The merge changes the meaning of the objects the fragment names and of
// nothing else, also where doc shares values through YAML anchors, aliases
// and << merge keys: a value reached through an alias is expanded in place
// (a copy) before it changes; a changed value that others alias keeps its
// old meaning for them (its anchor moves, with a copy, to the first alias);
// a key a mapping inherits through << is copied into the mapping before it
// changes. Each copy carries a comment saying why. A merge that changes
// nothing copies nothing. The fragment itself must be plain YAML: no
// anchors, aliases or merge keys. doc must be one YAML document, and the
// result must load as an sso.yaml's keys and types.
func MergeFragment(doc, fragment []byte) ([]byte, error) {
	if _, err := ParseFragment("fix", fragment); err != nil {
		return nil, err
	}
	var f yaml.Node
	if err := yaml.Unmarshal(fragment, &f); err != nil {
		return nil, err
	}
	if n := notPlain(&f); n != nil {
		return nil, &Error{File: "fix", Line: n.Line, Msg: "a fragment is plain YAML: no anchors, aliases or << merge keys"}
	}
	var d yaml.Node
	if err := oneDocument(doc, &d); err != nil {
		return nil, err
	}
	if d.Kind == 0 {
		d = f
	} else {
		if root := d.Content[0]; root.Kind != yaml.MappingNode && root.ShortTag() != "!!null" {
			return nil, &Error{File: "the file", Line: root.Line, Msg: "want a mapping of keys, got " + describe(root)}
		}
		m := &merger{doc: &d}
		if err := m.merge(nil, f.Content[0], ""); err != nil {
			return nil, err
		}
	}
	plainMergeKeys(&d)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&d); err != nil {
		return nil, err
	}
	enc.Close()
	// The result must load as an sso.yaml's keys and types (also when doc
	// did not: an unknown key, an alias bomb); text that yaml.v3 writes and
	// cannot read back is an error, never a file.
	if _, err := decode("the merged file", buf.Bytes(), "file is empty"); err != nil {
		return nil, fmt.Errorf("merging the fragment would make a file that does not load: %w", err)
	}
	return buf.Bytes(), nil
}

// oneDocument parses data, which must hold one YAML document at most, into
// n (left zero when data holds none).
func oneDocument(data []byte, n *yaml.Node) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(n); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case err == nil:
		return &Error{File: "the file", Line: more.Line, Msg: "a second YAML document (after ---): sso.yaml is one document"}
	case !errors.Is(err, io.EOF):
		return err
	}
	return nil
}

// notPlain returns the first anchor, alias or merge key in n, or nil.
func notPlain(n *yaml.Node) *yaml.Node {
	if n.Anchor != "" || n.Kind == yaml.AliasNode || isMergeKey(n) {
		return n
	}
	for _, c := range n.Content {
		if bad := notPlain(c); bad != nil {
			return bad
		}
	}
	return nil
}

// isMergeKey reports YAML's merge key <<, as yaml.v3 reads it.
func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && (n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

// plainMergeKeys clears the tag of plain merge keys, which yaml.v3 would
// otherwise write as "!!merge <<:".
func plainMergeKeys(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; isMergeKey(k) && k.Style == 0 {
				k.Tag = ""
			}
		}
	}
	if n.Kind != yaml.AliasNode {
		for _, c := range n.Content {
			plainMergeKeys(c)
		}
	}
}

// A merger merges a fragment into a document, unsharing what it changes.
type merger struct {
	doc *yaml.Node // the document node
}

// step is one step down a path from the document's root: into a mapping's
// key (its own, else one it inherits through <<) or a list's item.
type step struct {
	key  string
	item int
	list bool
}

// get returns the value at path, aliases followed, without changing the
// document; nil when the path leads nowhere.
func (m *merger) get(path []step) *yaml.Node {
	n := resolve(m.doc.Content[0])
	for _, s := range path {
		var next *yaml.Node
		switch {
		case s.list && n.Kind == yaml.SequenceNode && s.item < len(n.Content):
			next = n.Content[s.item]
		case !s.list && n.Kind == yaml.MappingNode:
			next, _ = lookup(n, s.key)
		}
		if next == nil {
			return nil
		}
		n = resolve(next)
	}
	return n
}

// own makes every node on path the document's own at that place, so that a
// change to the last one changes the meaning of nothing else, and returns
// it. A node reached through an alias is replaced by a copy of its value; a
// node that others alias hands its anchor, with a copy, to the first alias;
// a key inherited through << is copied into the mapping. Nodes already
// owned stay as they are.
func (m *merger) own(path []step) *yaml.Node {
	parent, at := m.slot(path)
	if at < 0 {
		key := path[len(path)-1].key
		v, via := lookup(parent, key)
		if v == nil { // not inherited either: the caller checked it is
			v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
		}
		cp := copyNode(resolve(v))
		parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key,
			HeadComment: fmt.Sprintf("# copied from <<: %s by ssoctl doctor --fix: the fix changes this copy only", via)}, cp)
		return cp
	}
	child := parent.Content[at]
	if child.Kind == yaml.AliasNode {
		cp := copyAt(child)
		comment(parent, at, fmt.Sprintf("# expanded from *%s by ssoctl doctor --fix: the fix changes this copy only", child.Value))
		parent.Content[at] = cp
		return cp
	}
	m.moveAnchor(child, nil, path)
	return child
}

// slot owns the nodes above the last one on path and returns where the
// last one is: parent.Content[at], or at -1 when parent inherits its key
// through <<.
func (m *merger) slot(path []step) (parent *yaml.Node, at int) {
	if len(path) == 0 {
		return m.doc, 0
	}
	parent = m.own(path[:len(path)-1])
	s := path[len(path)-1]
	if s.list {
		return parent, s.item
	}
	j := slices.IndexFunc(pairs(parent), func(k *yaml.Node) bool { return !isMergeKey(k) && resolve(k).Value == s.key })
	if j < 0 {
		return parent, -1
	}
	return parent, 2*j + 1
}

// moveAnchor keeps the meaning of the aliases of n outside the subtree
// within (nil: anywhere) when n is about to change or go: the first such
// alias becomes a copy of n that holds n's anchor, and the others refer to
// it. path is where n is, for the comment.
func (m *merger) moveAnchor(n, within *yaml.Node, path []step) {
	if n.Anchor == "" {
		return
	}
	var first *yaml.Node
	var firstParent *yaml.Node
	firstAt := -1
	var rest []*yaml.Node
	var under map[*yaml.Node]bool
	if within != nil {
		under = map[*yaml.Node]bool{within: true}
		walk(within, func(_ *yaml.Node, _ int, c *yaml.Node) { under[c] = true })
	}
	walk(m.doc, func(parent *yaml.Node, at int, c *yaml.Node) {
		if c.Kind != yaml.AliasNode || c.Alias != n || under[c] {
			return
		}
		if first == nil {
			first, firstParent, firstAt = c, parent, at
			return
		}
		rest = append(rest, c)
	})
	if first == nil {
		return
	}
	cp := copyAt(first)
	cp.Anchor = n.Anchor
	n.Anchor = ""
	firstParent.Content[firstAt] = cp
	comment(firstParent, firstAt, fmt.Sprintf("# &%s moved here from %s by ssoctl doctor --fix: the fix changes that one only", cp.Anchor, m.describe(path)))
	for _, a := range rest {
		a.Alias = cp
	}
}

// evacuate keeps, before the subtree n is replaced, the meaning of every
// alias outside it of an anchor inside it.
func (m *merger) evacuate(n *yaml.Node, path []step) {
	aliased := map[*yaml.Node]bool{}
	walk(m.doc, func(_ *yaml.Node, _ int, c *yaml.Node) {
		if c.Kind == yaml.AliasNode {
			aliased[c.Alias] = true
		}
	})
	var anchored []*yaml.Node
	if n.Anchor != "" && aliased[n] {
		anchored = append(anchored, n)
	}
	walk(n, func(_ *yaml.Node, _ int, c *yaml.Node) {
		if c.Anchor != "" && aliased[c] {
			anchored = append(anchored, c)
		}
	})
	// In document order, outer first: a copy made for one is searched for
	// aliases of the next.
	for _, a := range anchored {
		m.moveAnchor(a, n, path)
	}
}

// walk calls fn for each node under n in document order, with its parent
// and index; it does not follow aliases.
func walk(n *yaml.Node, fn func(parent *yaml.Node, at int, c *yaml.Node)) {
	if n.Kind == yaml.AliasNode {
		return
	}
	for i, c := range n.Content {
		fn(n, i, c)
		walk(c, fn)
	}
}

// comment adds text to the comment above the value parent.Content[at]: on
// its key in a mapping, on the item in a list.
func comment(parent *yaml.Node, at int, text string) {
	n := parent.Content[at]
	if parent.Kind == yaml.MappingNode && at%2 == 1 {
		n = parent.Content[at-1]
	}
	if n.HeadComment != "" {
		text = n.HeadComment + "\n" + text
	}
	n.HeadComment = text
}

// describe names a path for a comment, with the identity of list items
// (keycloak.clients[vault].redirect_uris).
func (m *merger) describe(path []step) string {
	var b strings.Builder
	for k, s := range path {
		if !s.list {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
			continue
		}
		id := fmt.Sprint(s.item)
		if item := m.get(path[:k+1]); item != nil && item.Kind == yaml.MappingNode {
			for _, key := range itemKeys {
				if v, _ := lookup(item, key); v != nil && resolve(v).Kind == yaml.ScalarNode {
					id = resolve(v).Value
					break
				}
			}
		}
		fmt.Fprintf(&b, "[%s]", id)
	}
	return commentText(b.String())
}

// commentText makes s safe inside a one-line YAML comment: control
// characters (a newline would end the comment) escaped, 120 bytes at most.
func commentText(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }) {
		s = strings.Trim(strconv.QuoteToASCII(s), `"`)
	}
	if len(s) > 120 {
		s = strings.ToValidUTF8(s[:120], "") + "…"
	}
	return s
}

// copyNode copies n and what it holds, without anchors (the original keeps
// them); aliases inside stay aliases of the same values.
func copyNode(n *yaml.Node) *yaml.Node {
	cp := *n
	cp.Anchor = ""
	if n.Kind != yaml.AliasNode && n.Content != nil {
		cp.Content = make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			cp.Content[i] = copyNode(c)
		}
	}
	return &cp
}

// copyAt is a copy of alias's value to take its place: the comments at
// the alias stay there.
func copyAt(alias *yaml.Node) *yaml.Node {
	cp := copyNode(resolve(alias))
	cp.HeadComment, cp.LineComment, cp.FootComment = alias.HeadComment, alias.LineComment, alias.FootComment
	return cp
}

// resolve follows an alias to its value.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// lookup finds key in mapping m as yaml.v3 reads it (see eachKey). via
// names the merge source of an inherited key (*a), and is "" for m's own.
func lookup(m *yaml.Node, key string) (v *yaml.Node, via string) {
	eachKey(m, func(k, val *yaml.Node, from string) bool {
		if resolve(k).Value != key {
			return true
		}
		v, via = val, from
		return false
	})
	return v, via
}

// eachKey calls fn with the keys and values of mapping m in yaml.v3's order
// of precedence: m's own, then those of each mapping it merges (<<: *a or
// <<: [*a, *b]) in order, each with its own merges; a key met again is
// passed again, and the first one counts. via names the merge source (*a,
// or "a mapping" written in place), "" for m's own keys. fn returns false
// to stop.
func eachKey(m *yaml.Node, fn func(k, v *yaml.Node, via string) bool) {
	var each func(m *yaml.Node, via string, depth int) bool
	each = func(m *yaml.Node, via string, depth int) bool {
		m = resolve(m)
		if m.Kind != yaml.MappingNode || depth > 64 {
			return true
		}
		var merge *yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			if isMergeKey(m.Content[i]) {
				merge = m.Content[i+1]
			} else if !fn(m.Content[i], m.Content[i+1], via) {
				return false
			}
		}
		if merge == nil {
			return true
		}
		sources := []*yaml.Node{merge}
		if r := resolve(merge); r.Kind == yaml.SequenceNode {
			sources = r.Content
		}
		for _, src := range sources {
			from := via
			if depth == 0 {
				from = "a mapping"
				if src.Kind == yaml.AliasNode {
					from = "*" + src.Value
				}
			}
			if !each(src, from, depth+1) {
				return false
			}
		}
		return true
	}
	each(m, "", 0)
}

// merge merges src (a fragment's node) into the value at path; client is
// the client_id of the client the nodes belong to (mapper names derive from
// it).
func (m *merger) merge(path []step, src *yaml.Node, client string) error {
	dst := m.get(path)
	if dst == nil {
		return fmt.Errorf("merging the fragment: %s is not in the file", commentText(m.describe(path)))
	}
	sub := func(s step) []step { return append(slices.Clip(path), s) }
	switch {
	case dst.Kind == yaml.MappingNode && src.Kind == yaml.MappingNode:
		if id, _ := lookup(dst, "client_id"); id != nil && resolve(id).Kind == yaml.ScalarNode {
			client = resolve(id).Value
		}
		for i := 0; i+1 < len(src.Content); i += 2 {
			k, v := src.Content[i], src.Content[i+1]
			if have, _ := lookup(m.get(path), k.Value); have == nil {
				d := m.own(path)
				d.Content = append(d.Content, k, v)
				continue
			}
			if err := m.merge(sub(step{key: k.Value}), v, client); err != nil {
				return err
			}
		}
	case dst.Kind == yaml.SequenceNode && src.Kind == yaml.SequenceNode:
		for _, item := range src.Content {
			dst := m.get(path)
			j := sameItem(dst.Content, item, client)
			switch {
			case j < 0:
				d := m.own(path)
				d.Content = append(d.Content, item)
			case item.Kind == yaml.MappingNode && isMapper(item):
				// A mapper is replaced whole; its comments stay.
				old := dst.Content[j]
				if sameMapper(resolve(old), item) {
					continue
				}
				d := m.own(path)
				old = d.Content[j]
				m.evacuate(old, sub(step{list: true, item: j}))
				item.HeadComment, item.LineComment, item.FootComment = old.HeadComment, old.LineComment, old.FootComment
				if r := resolve(old); len(item.Content) > 1 && len(r.Content) > 1 && old.Kind != yaml.AliasNode {
					item.Content[len(item.Content)-1].LineComment = r.Content[len(r.Content)-1].LineComment
				}
				d.Content[j] = item
			default:
				if err := m.merge(sub(step{list: true, item: j}), item, client); err != nil {
					return err
				}
			}
		}
	default:
		if dst.Kind == yaml.ScalarNode && src.Kind == yaml.ScalarNode && dst.Value == src.Value && dst.ShortTag() == src.ShortTag() {
			return nil // already so
		}
		// A value is replaced; the comments around it stay.
		parent, at := m.slot(path)
		if at < 0 { // inherited through <<: this mapping's own value now
			parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: path[len(path)-1].key}, src)
			return nil
		}
		old := parent.Content[at]
		m.evacuate(old, path)
		if src.HeadComment == "" && src.LineComment == "" && src.FootComment == "" {
			src.HeadComment, src.LineComment, src.FootComment = old.HeadComment, old.LineComment, old.FootComment
		}
		parent.Content[at] = src
	}
	return nil
}

// pairs lists a mapping's keys.
func pairs(m *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		out = append(out, m.Content[i])
	}
	return out
}

// sameItem finds the item of list that item stands for, or -1. The list's
// items are read as yaml.v3 reads them: through aliases and merge keys.
func sameItem(list []*yaml.Node, item *yaml.Node, client string) int {
	return slices.IndexFunc(list, func(n *yaml.Node) bool {
		n = resolve(n)
		if n.Kind == yaml.ScalarNode && item.Kind == yaml.ScalarNode {
			return n.Value == item.Value
		}
		if n.Kind != yaml.MappingNode || item.Kind != yaml.MappingNode {
			return false
		}
		if isMapper(item) && isMapper(n) {
			return mapperName(n, client) == mapperName(item, client)
		}
		for _, k := range itemKeys {
			a, _ := lookup(n, k)
			b, _ := lookup(item, k)
			if a != nil && b != nil {
				return resolve(a).Value == resolve(b).Value
			}
		}
		return false
	})
}

var mapperKinds = []string{"audience", "client_roles", "realm_roles", "groups", "attribute", "saml_property", "saml_attribute", "saml_groups", "raw"}

// isMapper reports a mapper item: one mapper kind key, and a name at most
// (its own keys and those it merges).
func isMapper(n *yaml.Node) bool {
	kinds, other := map[string]bool{}, false
	eachKey(n, func(k, _ *yaml.Node, _ string) bool {
		switch name := resolve(k).Value; {
		case slices.Contains(mapperKinds, name):
			kinds[name] = true
		case name != "name":
			other = true
			return false
		}
		return true
	})
	return !other && len(kinds) == 1
}

// mapperName is a mapper item's default name on client.
func mapperName(n *yaml.Node, client string) string {
	var m Mapper
	if err := n.Decode(&m); err != nil {
		return ""
	}
	return m.DefaultName(client)
}

// sameMapper reports two mapper items that mean the same mapper.
func sameMapper(a, b *yaml.Node) bool {
	var ma, mb Mapper
	return a.Decode(&ma) == nil && b.Decode(&mb) == nil && reflect.DeepEqual(ma, mb)
}
