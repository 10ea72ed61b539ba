package spec

import (
	"bytes"
	"slices"

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
func MergeFragment(doc, fragment []byte) ([]byte, error) {
	if _, err := ParseFragment("fix", fragment); err != nil {
		return nil, err
	}
	var d, f yaml.Node
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(fragment, &f); err != nil {
		return nil, err
	}
	if d.Kind == 0 {
		d = f
	} else if err := mergeNode(d.Content[0], f.Content[0], ""); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&d); err != nil {
		return nil, err
	}
	enc.Close()
	return buf.Bytes(), nil
}

// mergeNode merges src into dst; client is the client_id of the client the
// nodes belong to (mapper names derive from it).
func mergeNode(dst, src *yaml.Node, client string) error {
	switch {
	case dst.Kind == yaml.MappingNode && src.Kind == yaml.MappingNode:
		if id := value(dst, "client_id"); id != nil {
			client = id.Value
		}
		for i := 0; i+1 < len(src.Content); i += 2 {
			k, v := src.Content[i], src.Content[i+1]
			j := slices.IndexFunc(pairs(dst), func(n *yaml.Node) bool { return n.Value == k.Value })
			if j < 0 {
				dst.Content = append(dst.Content, k, v)
				continue
			}
			if err := mergeNode(dst.Content[2*j+1], v, client); err != nil {
				return err
			}
		}
	case dst.Kind == yaml.SequenceNode && src.Kind == yaml.SequenceNode:
		for _, item := range src.Content {
			if j := sameItem(dst.Content, item, client); j >= 0 {
				if item.Kind == yaml.MappingNode && isMapper(item) {
					// A mapper is replaced whole; its comments stay.
					item.HeadComment, item.LineComment, item.FootComment = dst.Content[j].HeadComment, dst.Content[j].LineComment, dst.Content[j].FootComment
					if len(item.Content) > 1 && len(dst.Content[j].Content) > 1 {
						last := dst.Content[j].Content[len(dst.Content[j].Content)-1]
						item.Content[len(item.Content)-1].LineComment = last.LineComment
					}
					dst.Content[j] = item
					continue
				}
				if err := mergeNode(dst.Content[j], item, client); err != nil {
					return err
				}
				continue
			}
			dst.Content = append(dst.Content, item)
		}
	default:
		// A value is replaced; the comments around it stay.
		head, line, foot := dst.HeadComment, dst.LineComment, dst.FootComment
		*dst = *src
		if dst.HeadComment == "" && dst.LineComment == "" && dst.FootComment == "" {
			dst.HeadComment, dst.LineComment, dst.FootComment = head, line, foot
		}
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

func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// sameItem finds the item of list that item stands for, or -1.
func sameItem(list []*yaml.Node, item *yaml.Node, client string) int {
	return slices.IndexFunc(list, func(n *yaml.Node) bool {
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
			if a, b := value(n, k), value(item, k); a != nil && b != nil {
				return a.Value == b.Value
			}
		}
		return false
	})
}

var mapperKinds = []string{"audience", "client_roles", "realm_roles", "groups", "attribute", "saml_property", "saml_attribute", "saml_groups", "raw"}

// isMapper reports a mapper item: one mapper kind key, and a name at most.
func isMapper(n *yaml.Node) bool {
	kinds := 0
	for _, k := range pairs(n) {
		switch {
		case slices.Contains(mapperKinds, k.Value):
			kinds++
		case k.Value != "name":
			return false
		}
	}
	return kinds == 1
}

// mapperName is a mapper item's default name on client.
func mapperName(n *yaml.Node, client string) string {
	var m Mapper
	if err := n.Decode(&m); err != nil {
		return ""
	}
	return m.DefaultName(client)
}
