package doctor

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// The fix fragments are sso.yaml pieces keyed by what identifies each
// object (a client's client_id, a mount's path, a group's name), so that
// --fix can merge them into the file and a reader can paste them.

var plainScalar = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_/][A-Za-z0-9_./-]*$`) })

// yq renders s as a YAML scalar that parses back to s in block and flow
// context: plain when it is a simple word, double-quoted otherwise.
func yq(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "~", "":
		return strconv.Quote(s)
	}
	if plainScalar().MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

func yqList(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = yq(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// clientFix is a fragment for one client: lines at the client's level.
func clientFix(client string, lines ...string) string {
	return itemFix("keycloak:\n  clients:\n    - client_id: "+yq(client), lines)
}

// itemFix is head (down to a list item's key) and lines at the item's level.
func itemFix(head string, lines []string) string {
	var b strings.Builder
	b.WriteString(head + "\n")
	for _, l := range lines {
		b.WriteString("      " + l + "\n")
	}
	return b.String()
}

// mapperFix adds (or replaces, by its default name) one mapper, written as
// a flow mapping item, e.g. "audience: vault".
func mapperFix(client, mapper string) string {
	return clientFix(client, "mappers:", "  - "+mapper)
}

// mountFix is a fragment for one auth mount: lines at the mount's level.
func mountFix(path string, lines ...string) string {
	return itemFix("vault:\n  auth:\n    - path: "+yq(path), lines)
}

// roleFix sets fields of one role of a mount.
func roleFix(path, role string, fields ...string) string {
	lines := []string{"roles:", "  " + yq(role) + ":"}
	for _, f := range fields {
		lines = append(lines, "    "+f)
	}
	return mountFix(path, lines...)
}

// flowYAML renders v on one line, every mapping and list in flow style, so
// that it fits where mapperFix puts a mapper.
func flowYAML(v any) (string, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return "", err
	}
	var flow func(n *yaml.Node)
	flow = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			n.Style = yaml.FlowStyle
		}
		for _, c := range n.Content {
			flow(c)
		}
	}
	flow(&n)
	out, err := yaml.Marshal(&n)
	return strings.TrimSpace(string(out)), err
}
