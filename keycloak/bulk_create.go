package keycloak

import (
	"context"
	"maps"
	"net/http"
	"sync"
)

// Creating in bulk. A partial import (POST …/partialImport with
// ifResourceExists FAIL) is one transaction: measured on Keycloak 26.7.3 it
// creates everything or nothing, answers 409 when one of its top-level
// objects exists, and its cost grows faster than its size (50 clients with 4
// mappers and 2 roles each: 0.3-0.4 s; 100: 1.0 s; 500 clients without
// mappers: 5 s), so it is sent in chunks (bulkChunk). Which creates go into
// an import is planned by batch (batch.go).

// groupImport is a new group as a partial import takes it. Keycloak needs
// the path: without it the import fails with a 500 (26.7.3).
type groupImport struct {
	Name        string              `json:"name"`
	Path        string              `json:"path"`
	RealmRoles  []string            `json:"realmRoles,omitempty"`
	ClientRoles map[string][]string `json:"clientRoles,omitempty"`
	SubGroups   []*groupImport      `json:"subGroups,omitempty"`
}

func attrsOf(body map[string]any) *map[string]string {
	if a, ok := body["attributes"].(map[string]string); ok {
		return &a
	}
	return nil
}

// importDefaults are what POST …/clients sets on a new OpenID Connect
// client and a partial import does not (measured on Keycloak 26.7.3): an
// import body carries them unless the file sets them, so that an imported
// client is the one POST would have made.
var importDefaults = struct {
	fields     map[string]any
	attributes map[string]string
}{
	fields:     map[string]any{"directAccessGrantsEnabled": true},
	attributes: map[string]string{AttrBackchannelSessionRequired: "true", AttrBackchannelLogoutRevokeOfflineTokens: "false"},
}

// importBody is a new client's create body for a partial import.
func importBody(create map[string]any) map[string]any {
	body := maps.Clone(create)
	for k, v := range importDefaults.fields {
		if _, set := body[k]; !set {
			body[k] = v
		}
	}
	attrs := map[string]string{}
	if a := attrsOf(create); a != nil {
		attrs = maps.Clone(*a)
	}
	for k, v := range importDefaults.attributes {
		if _, set := attrs[k]; !set {
			attrs[k] = v
		}
	}
	body["attributes"] = attrs
	return body
}

// bulkCreate is one partial import, sent once by whichever of its changes
// runs first: new clients with their mappers and roles, or new groups.
type bulkCreate struct {
	Clients []map[string]any
	Roles   map[string][]map[string]any // by clientId
	Groups  []*groupImport

	once sync.Once
	err  error
}

// partialImportResult is Keycloak's answer to a partial import. Its id is
// a created client's or top-level group's; for a client role it is the
// client's (26.7.3), and subgroups are not listed.
type partialImportResult struct {
	Results []struct {
		Action       string `json:"action"`
		ResourceType string `json:"resourceType"`
		ResourceName string `json:"resourceName"`
		ID           string `json:"id"`
	} `json:"results"`
}

func (b *bulkCreate) run(ctx context.Context, x *executor) error {
	b.once.Do(func() {
		body := map[string]any{"ifResourceExists": "FAIL"}
		if b.Clients != nil {
			body["clients"] = b.Clients
		}
		if b.Roles != nil {
			body["roles"] = map[string]any{"client": b.Roles}
		}
		if b.Groups != nil {
			body["groups"] = b.Groups
		}
		var res partialImportResult
		if _, b.err = x.a.do(ctx, http.MethodPost, x.path("partialImport"), body, &res); b.err != nil {
			return
		}
		for _, r := range res.Results {
			switch {
			case r.ID == "":
			case r.ResourceType == "CLIENT":
				x.ids.Set(clientRef(r.ResourceName), r.ID)
			case r.ResourceType == "GROUP":
				x.ids.Set(groupRef(r.ResourceName), r.ID)
			}
		}
	})
	return b.err
}

// inBulk is a create that a bulkCreate makes. When the import creates
// nothing, the create is made on its own instead: the import met an object
// that exists by now (409), or it is refused (403: partialImport needs
// manage-realm, while an admin with manage-clients may create clients one
// by one; measured on 26.7.3).
type inBulk struct {
	Bulk *bulkCreate
	Op   op
}

func (o inBulk) apply(ctx context.Context, x *executor) error {
	err := o.Bulk.run(ctx, x)
	if !IsConflict(err) && !refused(err) {
		return err
	}
	// After a 409 the objects exist by now: an import cut off in an earlier
	// run may have been committed after this run read the realm. Their
	// mappers are then adopted, as their clients, roles and groups are.
	if m, ok := o.Op.(createMapper); ok {
		m.Upsert = true
		return m.apply(ctx, x)
	}
	return o.Op.apply(ctx, x)
}

// groupID returns the id of a group, created in this apply or not: an
// import gives the ids of its top-level groups only, so a subgroup it made
// is looked up by its path the first time it is needed.
func (x *executor) groupID(ctx context.Context, path string) (string, error) {
	if id, ok := x.ids.Get(groupRef(path)); ok {
		return id, nil
	}
	var g groupRep
	if err := x.a.get(ctx, x.path("group-by-path", escPath(path)), &g); err != nil {
		if IsNotFound(err) {
			return "", notFound("group %q", path)
		}
		return "", err
	}
	x.ids.Set(groupRef(path), g.ID)
	return g.ID, nil
}
