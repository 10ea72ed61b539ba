package keycloak

import (
	"maps"
	"slices"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/spec"
)

func TestExpandMapperSendsEveryFlag(t *testing.T) {
	f := false
	tests := []struct {
		name string
		m    spec.Mapper
		want Mapper
	}{
		{"audience shorthand", spec.Mapper{Audience: &spec.AudienceMapper{Client: "vault"}}, Mapper{
			Name: "audience vault", ProtocolMapper: "oidc-audience-mapper", Config: map[string]string{
				"included.client.audience": "vault", "id.token.claim": "true", "access.token.claim": "true",
				"userinfo.token.claim": "false", "introspection.token.claim": "true", "lightweight.claim": "false"}}},
		{"client roles default claim", spec.Mapper{ClientRoles: &spec.ClientRolesMapper{}}, Mapper{
			Name: "client roles vault", ProtocolMapper: "oidc-usermodel-client-role-mapper", Config: map[string]string{
				"usermodel.clientRoleMapping.clientId": "vault", "claim.name": "resource_access.${client_id}.roles",
				"jsonType.label": "String", "multivalued": "true", "id.token.claim": "true", "access.token.claim": "true",
				"userinfo.token.claim": "true", "introspection.token.claim": "true", "lightweight.claim": "false"}}},
		{"groups short names, access token off", spec.Mapper{Groups: &spec.GroupsMapper{TokenFlags: spec.TokenFlags{AccessToken: &f}}}, Mapper{
			Name: "groups", ProtocolMapper: "oidc-group-membership-mapper", Config: map[string]string{
				"claim.name": "groups", "full.path": "false", "multivalued": "true", "id.token.claim": "true", "access.token.claim": "false",
				"userinfo.token.claim": "true", "introspection.token.claim": "false", "lightweight.claim": "false"}}},
		{"saml groups", spec.Mapper{SAMLGroups: &spec.SAMLGroupsMapper{}}, Mapper{
			Name: "groups", ProtocolMapper: "saml-group-membership-mapper", Config: map[string]string{
				"attribute.name": "member", "friendly.name": "member", "attribute.nameformat": "Basic", "full.path": "false", "single": "true"}}},
		{"saml property friendly name defaults to the attribute", spec.Mapper{SAMLProperty: &spec.SAMLPropertyMapper{Property: "firstName", Attribute: "givenName"}}, Mapper{
			Name: "property firstName", ProtocolMapper: "saml-user-property-mapper", Config: map[string]string{
				"user.attribute": "firstName", "attribute.name": "givenName", "friendly.name": "givenName", "attribute.nameformat": "Basic"}}},
	}
	for _, tt := range tests {
		got := ExpandMapper(tt.m, "vault", "x")
		if got.Name != tt.want.Name || got.ProtocolMapper != tt.want.ProtocolMapper || !maps.Equal(got.Config, tt.want.Config) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestExportMapperRoundTrips(t *testing.T) {
	f := false
	for _, m := range []spec.Mapper{
		{Audience: &spec.AudienceMapper{Client: "vault"}},
		{ClientRoles: &spec.ClientRolesMapper{Client: "other", Claim: "roles", TokenFlags: spec.TokenFlags{Userinfo: &f}}},
		{RealmRoles: &spec.RealmRolesMapper{Claim: "realm_roles", Multivalued: &f}},
		{Groups: &spec.GroupsMapper{FullPath: true}},
		{Attribute: &spec.AttributeMapper{UserAttribute: "department", JSONType: "JSON"}},
		{Name: "custom name", SAMLGroups: &spec.SAMLGroupsMapper{Attribute: "groups", Single: &f}},
		{Name: "raw one", Raw: &spec.RawMapper{ProtocolMapper: "oidc-hardcoded-claim-mapper", Config: map[string]string{"claim.value": "x"}}},
	} {
		exp := ExpandMapper(m, "vault", "p")
		rep := repOf(exp)
		back := exportMapper(rep, "vault", "p")
		again := ExpandMapper(back, "vault", "p")
		if again.Name != exp.Name || again.ProtocolMapper != exp.ProtocolMapper || !maps.Equal(again.Config, exp.Config) {
			t.Errorf("%s: export then expand = %+v, want %+v", exp.Name, again, exp)
		}
		if m.Raw == nil && back.Raw != nil {
			t.Errorf("%s: exported as raw, want shorthand", exp.Name)
		}
	}
}

func TestClientDiffUserinfoByMeaning(t *testing.T) {
	f, tr := false, true
	d := ExpandClient(spec.Client{ClientID: "c", Protocol: spec.ProtocolOIDC, Access: "confidential", UserinfoSigned: &f})
	cur := clientRep(map[string]string{})
	if fs := clientDiff(d, cur); len(fs) != 0 {
		t.Fatalf("absent attribute is unsigned; diff = %+v", fs)
	}
	cur = clientRep(map[string]string{AttrUserinfoSignatureAlg: "ES256"})
	d.UserinfoSigned = &tr
	if fs := clientDiff(d, cur); len(fs) != 0 {
		t.Fatalf("ES256 counts as signed; diff = %+v", fs)
	}
	d.UserinfoSigned = &f
	fs := clientDiff(d, cur)
	if len(fs) != 1 || fs[0].New != "" {
		t.Fatalf("turning signing off must send \"\": %+v", fs)
	}
	if clientBody(d)["attributes"].(map[string]string)[AttrUserinfoSignatureAlg] != "" {
		t.Fatal("body must carry the empty string")
	}
}

func TestClientDiffRedirectURIsAsSet(t *testing.T) {
	d := ExpandClient(spec.Client{ClientID: "c", Protocol: spec.ProtocolOIDC, Access: "confidential", RedirectURIs: []string{"b", "a"}})
	cur := clientRep(nil)
	uris := []string{"a", "b"}
	cur.RedirectURIs = &uris
	if fs := clientDiff(d, cur); len(fs) != 0 {
		t.Fatalf("order must not matter: %+v", fs)
	}
}

func TestSAMLDefaultsFollowRancherDocs(t *testing.T) {
	d := ExpandClient(spec.Client{ClientID: "https://r/v1-saml/keycloak/saml/metadata", Protocol: spec.ProtocolSAML})
	want := map[string]string{AttrSAMLServerSignature: "true", AttrSAMLAssertionSignature: "true", AttrSAMLClientSignature: "false", AttrSAMLForcePostBinding: "false", AttrSAMLEncrypt: "false"}
	if !maps.Equal(d.Attributes, want) {
		t.Fatalf("attributes = %v", d.Attributes)
	}
	if _, ok := clientBody(d)["publicClient"]; ok {
		t.Fatal("saml clients carry no OIDC access type")
	}
}

func TestErrorMessageShapes(t *testing.T) {
	for body, want := range map[string]string{
		`{"errorMessage":"Client vault already exists"}`:                                         "Client vault already exists",
		`{"error":"invalid_grant","error_description":"Invalid user credentials"}`:               "invalid_grant: Invalid user credentials",
		`{"field":"username","errorMessage":"error-invalid-length","params":["username",3,255]}`: "error-invalid-length (field username, params [username 3 255])",
		`<html>Bad Gateway</html>`: "<html>Bad Gateway</html>",
	} {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%s) = %q, want %q", body, got, want)
		}
	}
}

func TestExpandClientSingleSignOut(t *testing.T) {
	tr, f := true, false
	s := func(v string) *string { return &v }
	d := ExpandClient(spec.Client{ClientID: "app", Protocol: spec.ProtocolOIDC, Access: "confidential",
		BackchannelLogoutSessionRequired: &f, BackchannelLogoutRevokeOfflineTokens: &tr, FrontchannelLogout: &tr, FrontchannelLogoutURL: s("https://app/fc")})
	want := map[string]string{AttrBackchannelSessionRequired: "false", AttrBackchannelLogoutRevokeOfflineTokens: "true", AttrFrontchannelURL: "https://app/fc"}
	if !maps.Equal(d.Attributes, want) {
		t.Errorf("oidc attributes = %v, want %v", d.Attributes, want)
	}
	if clientBody(d)["frontchannelLogout"] != true {
		t.Errorf("body lacks frontchannelLogout: %v", clientBody(d))
	}
	d = ExpandClient(spec.Client{ClientID: "sp", Protocol: spec.ProtocolSAML, FrontchannelLogout: &f,
		SingleLogoutURLPost: s("https://sp/post"), SingleLogoutURLRedirect: s("")})
	if d.Attributes[AttrSAMLSingleLogoutURLPost] != "https://sp/post" {
		t.Errorf("saml attributes = %v", d.Attributes)
	}
	if v, ok := d.Attributes[AttrSAMLSingleLogoutURLRedirect]; !ok || v != "" {
		t.Errorf("an empty URL must be sent as \"\" (Keycloak then removes it): %v", d.Attributes)
	}
	if clientBody(d)["frontchannelLogout"] != false {
		t.Errorf("body lacks frontchannelLogout false: %v", clientBody(d))
	}
}

// Export writes a single sign-out setting only where the client differs
// from what Keycloak 26.7.3 stores on a client created over REST, and the
// export expands back to the client it came from.
func TestExportClientSingleSignOut(t *testing.T) {
	rep := func(protocol string, front bool, attrs map[string]string) *gocloak.Client {
		c := clientRep(attrs)
		c.ClientID, c.Protocol, c.FrontChannelLogout, c.Enabled = ptr("c"), ptr(protocol), ptr(front), ptr(true)
		if protocol == spec.ProtocolSAML {
			for _, k := range []string{AttrSAMLServerSignature, AttrSAMLAssertionSignature, AttrSAMLClientSignature, AttrSAMLForcePostBinding, AttrSAMLEncrypt} {
				attrs[k] = "false"
			}
		}
		return c
	}
	s := func(v string) *string { return &v }
	tests := []struct {
		name string
		c    *gocloak.Client
		want spec.Client
	}{
		{"oidc as created", rep(spec.ProtocolOIDC, false, map[string]string{AttrBackchannelSessionRequired: "true", AttrBackchannelLogoutRevokeOfflineTokens: "false"}), spec.Client{}},
		{"oidc without the attributes", rep(spec.ProtocolOIDC, false, map[string]string{}), spec.Client{}},
		{"oidc changed", rep(spec.ProtocolOIDC, true, map[string]string{AttrBackchannelSessionRequired: "false", AttrBackchannelLogoutRevokeOfflineTokens: "true", AttrFrontchannelURL: "https://a/fc"}),
			spec.Client{BackchannelLogoutSessionRequired: ptr(false), BackchannelLogoutRevokeOfflineTokens: ptr(true), FrontchannelLogout: ptr(true), FrontchannelLogoutURL: s("https://a/fc")}},
		{"saml as created", rep(spec.ProtocolSAML, true, map[string]string{}), spec.Client{}},
		{"saml changed", rep(spec.ProtocolSAML, false, map[string]string{AttrSAMLSingleLogoutURLPost: "https://sp/p", AttrSAMLSingleLogoutURLRedirect: "https://sp/r"}),
			spec.Client{FrontchannelLogout: ptr(false), SingleLogoutURLPost: s("https://sp/p"), SingleLogoutURLRedirect: s("https://sp/r")}},
	}
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	bl := func(p *bool) string {
		if p == nil {
			return "<nil>"
		}
		return boolStr(*p)
	}
	for _, tt := range tests {
		got := exportClient(tt.c)
		g := []string{bl(got.BackchannelLogoutSessionRequired), bl(got.BackchannelLogoutRevokeOfflineTokens), bl(got.FrontchannelLogout), str(got.FrontchannelLogoutURL), str(got.SingleLogoutURLPost), str(got.SingleLogoutURLRedirect)}
		w := []string{bl(tt.want.BackchannelLogoutSessionRequired), bl(tt.want.BackchannelLogoutRevokeOfflineTokens), bl(tt.want.FrontchannelLogout), str(tt.want.FrontchannelLogoutURL), str(tt.want.SingleLogoutURLPost), str(tt.want.SingleLogoutURLRedirect)}
		if !slices.Equal(g, w) {
			t.Errorf("%s: exported %v, want %v", tt.name, g, w)
		}
		if fs := clientDiff(ExpandClient(got), tt.c); len(fs) != 0 {
			t.Errorf("%s: the export plans %+v against its client", tt.name, fs)
		}
	}
}
