package doctor

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/ssoctl/ssoctl/spec"
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
// the lines of a list item, e.g. "audience: vault".
func mapperFix(client, mapper string) string {
	lines := strings.Split(mapper, "\n")
	out := []string{"mappers:", "  - " + lines[0]}
	for _, l := range lines[1:] {
		out = append(out, "    "+l)
	}
	return clientFix(client, out...)
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

// The fix fragments of doctor's Vault rules, one per rule, so that every
// check of a rule proposes the same lines.

// issuerFix sets the issuer a mount trusts (field: discovery_url or
// bound_issuer) to the one Keycloak writes into tokens.
func issuerFix(path, field, issuer string) string {
	return mountFix(path, field+": "+yq(issuer))
}

// boundAudienceFix binds a role to one audience (inspect.VaultAudience).
func boundAudienceFix(path, role, aud string) string {
	return roleFix(path, role, "bound_audiences: "+yqList([]string{aud}))
}

// audienceMapperFix gives the client an audience mapper that adds aud to its
// tokens (inspect.VaultAudience, from Keycloak's side).
func audienceMapperFix(client, aud string) string {
	return mapperFix(client, "audience: "+yq(aud))
}

// userClaimFix points a role's user_claim at sub, which every Keycloak
// token has (inspect.VaultClaimReads).
func userClaimFix(path, role string) string {
	return roleFix(path, role, "user_claim: sub")
}

// groupsClaimFix points a role's groups_claim at a JSON pointer
// (inspect.VaultClaimReads).
func groupsClaimFix(path, role, pointer string) string {
	return roleFix(path, role, "groups_claim: "+yq(pointer))
}

// redirectURIFix adds a callback to a role's allowed_redirect_uris.
func redirectURIFix(path, role, uri string) string {
	return roleFix(path, role, "allowed_redirect_uris: "+yqList([]string{uri}))
}

// mapperYAML renders a mapper as sso.yaml writes one: a line per key
// (the kind, and a name where it is not the default), each value in flow
// style, as mapperFix takes it.
func mapperYAML(m spec.Mapper) (string, error) {
	var n yaml.Node
	if err := n.Encode(m); err != nil {
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
	for _, c := range n.Content {
		flow(c)
	}
	out, err := yaml.Marshal(&n)
	return strings.TrimSpace(string(out)), err
}
