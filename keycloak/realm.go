package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
)

// OwnershipAttribute is the realm attribute in which ssoctl records the
// objects it created or adopted, so that --prune deletes only those.
const OwnershipAttribute = "ssoctl.owned"

// readRealm reads the realm and its ownership record into st; a realm that
// does not exist leaves st.RealmExists false.
func (a *Admin) readRealm(ctx context.Context, st *State) error {
	var raw json.RawMessage
	if err := a.get(ctx, "/"+esc(st.Realm), &raw); err != nil {
		if IsNotFound(err) {
			return nil
		}
		return err
	}
	var rr gocloak.RealmRepresentation
	if err := errors.Join(json.Unmarshal(raw, &rr), json.Unmarshal(raw, &st.RealmRep)); err != nil {
		return fmt.Errorf("decoding realm %s: %w", st.Realm, err)
	}
	st.RealmExists = true
	st.Record = plan.Record{}
	if raw := deref(rr.Attributes)[OwnershipAttribute]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &st.Record); err != nil {
			st.Record = plan.Record{}
			st.Warnings = append(st.Warnings, fmt.Sprintf("realm %s: the ownership record (attribute %s) cannot be read (%v); nothing is pruned until apply rewrites it", st.Realm, OwnershipAttribute, err))
		}
	}
	st.Owned = plan.Owned{}
	for r := range st.Record {
		st.Owned[r] = true
	}
	return nil
}

// realm plans the realm itself: created when missing (the file must say
// create_realm: true, which Admin.Plan checks before diffing).
func (b *builder) realm() {
	if b.st.RealmExists {
		b.p.Add(plan.NewChange("keycloak", plan.PhaseKeycloak, stepRealm, "realm", b.d.Realm, plan.NoOp, nil, nil))
		return
	}
	b.p.Add(plan.NewChange("keycloak", plan.PhaseKeycloak, stepRealm, "realm", b.d.Realm, plan.Create,
		[]plan.FieldDiff{{Field: "enabled", New: true}}, createRealm{}))
}

// createRealm creates the realm, enabled; a realm created meanwhile is
// adopted.
type createRealm struct{}

func (createRealm) apply(ctx context.Context, x *executor) error {
	_, err := x.a.do(ctx, http.MethodPost, "", map[string]any{"realm": x.realm, "enabled": true}, nil)
	if IsConflict(err) {
		return nil
	}
	return err
}

// userProfile lets admins set user attributes that the realm's user profile
// does not declare: since Keycloak 24 such attributes are dropped silently
// unless the unmanaged-attribute policy allows them.
func (b *builder) userProfile() {
	needed := false
	for _, u := range b.d.Users {
		needed = needed || len(u.Attributes) > 0
	}
	if !needed {
		return
	}
	cur := b.st.UnmanagedAttributePolicy
	if cur == "ENABLED" || cur == "ADMIN_EDIT" {
		b.p.Add(b.change("user-profile", "unmanagedAttributePolicy", plan.NoOp, stepRoles, nil, nil))
		return
	}
	b.p.Add(b.change("user-profile", "unmanagedAttributePolicy", plan.Update, stepRoles,
		[]plan.FieldDiff{{Field: "unmanagedAttributePolicy", Old: cur, New: "ADMIN_EDIT"}}, allowUnmanagedAttributes{}))
}

// readUserProfile reads the user profile's policy for attributes it does
// not declare.
func (r *reader) readUserProfile() error {
	var prof struct {
		Policy string `json:"unmanagedAttributePolicy"`
	}
	if err := r.get("/"+esc(r.realm)+"/users/profile", &prof); err != nil {
		return err
	}
	r.st.UnmanagedAttributePolicy = prof.Policy
	return nil
}

// allowUnmanagedAttributes sets the user profile's unmanaged-attribute
// policy to ADMIN_EDIT, keeping the rest of the profile as it is.
type allowUnmanagedAttributes struct{}

func (allowUnmanagedAttributes) apply(ctx context.Context, x *executor) error {
	var prof map[string]any
	if err := x.a.get(ctx, x.path("users", "profile"), &prof); err != nil {
		return err
	}
	prof["unmanagedAttributePolicy"] = "ADMIN_EDIT"
	_, err := x.a.do(ctx, http.MethodPut, x.path("users", "profile"), prof, nil)
	return err
}
