package keycloak

import (
	"maps"
	"testing"

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
