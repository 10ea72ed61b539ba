package keycloak

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/internal/totp"
	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// User is a user with the paths of its groups.
type User struct {
	Rep    gocloak.User
	Groups []string
	// PasswordStale is set when the password the file gives was tried and
	// Keycloak refused it ("Invalid user credentials").
	PasswordStale bool
}

// UserRead names a user to read and, when Password is set, the password to
// check with one login through admin-cli (a login, not a write).
type UserRead struct {
	Username string
	Password string
}

// readUser reads one user the file names into the state, and checks its
// password when the file gives one.
func (r *reader) readUser(ur UserRead) error {
	u, err := readUser(r.get, r.realm, ur.Username)
	if err != nil || u == nil {
		return err
	}
	// A user with an OTP credential: Keycloak answers a password grant
	// without its code "Invalid user credentials", the words of a wrong
	// password, and counts it as a failed login (brute-force detection), so
	// its password is not checked (and not reset) at plan time.
	if ur.Password != "" && !deref(u.Rep.Totp) {
		if err := r.acquire(r.ctx); err != nil {
			return err
		}
		var left error
		u.PasswordStale, left, err = r.a.passwordStale(r.ctx, r.realm, ur.Username, ur.Password)
		r.release()
		if err != nil {
			return err
		}
		if left != nil {
			r.mu.Lock()
			r.st.Warnings = append(r.st.Warnings, left.Error())
			r.mu.Unlock()
		}
	}
	r.mu.Lock()
	r.st.Users[ur.Username] = u
	r.mu.Unlock()
	return nil
}

// readUser finds a user by exact username and reads its groups; nil when
// there is no such user.
func readUser(get func(string, any) error, realm, username string) (*User, error) {
	var users []gocloak.User
	q := url.Values{"username": {username}, "exact": {"true"}, "briefRepresentation": {"false"}}
	if err := get("/"+esc(realm)+"/users?"+q.Encode(), &users); err != nil {
		return nil, err
	}
	for _, u := range users {
		if strings.EqualFold(deref(u.Username), username) {
			var groups []groupRep
			if err := get("/"+esc(realm)+"/users/"+esc(deref(u.ID))+"/groups?briefRepresentation=true&first=0&max=-1", &groups); err != nil {
				return nil, err
			}
			out := &User{Rep: u}
			for _, g := range groups {
				out.Groups = append(out.Groups, strings.TrimPrefix(g.Path, "/"))
			}
			return out, nil
		}
	}
	return nil, nil
}

// passwordStale checks a user's password with one password grant through
// the realm's admin-cli client: true when Keycloak says the credentials are
// invalid. Any other refusal (a required action, a disabled direct grant)
// means the password itself was accepted. The grant's session is ended at
// once (left, a *SessionLeftError, when that failed). Each user's password
// is tried at most once per Admin (one run), so a stale password counts one
// login failure toward brute-force detection per run, however often the run
// reads the realm.
func (a *Admin) passwordStale(ctx context.Context, realm, username, password string) (stale bool, left, err error) {
	key := realm + "\x00" + username + "\x00" + password
	a.pwMu.Lock()
	v, ok := a.passwords[key]
	a.pwMu.Unlock()
	if ok {
		return v, nil, nil
	}
	tok, err := TokenGrant(ctx, a.http, a.base, realm, url.Values{
		"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {username}, "password": {password}})
	var apiErr *APIError
	switch {
	case err == nil:
		left = a.EndGrant(ctx, a.http, Grant{Realm: realm, ClientID: "admin-cli", User: username, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken})
	case errors.As(err, &apiErr):
		stale = (apiErr.Status == 400 || apiErr.Status == 401) && strings.Contains(apiErr.Message, "Invalid user credentials")
	default:
		return false, nil, err
	}
	a.pwMu.Lock()
	if a.passwords == nil {
		a.passwords = map[string]bool{}
	}
	a.passwords[key] = stale
	a.pwMu.Unlock()
	return stale, left, nil
}

// users plans the file's users (for demos and test logins): created with
// their password and groups in one request, updated field by field, their
// password reset when Keycloak refused it, and their group memberships.
// Users are never deleted.
func (b *builder) users() error {
	for i, u := range b.d.Users {
		cur := b.st.Users[u.Username]
		if cur == nil {
			if err := b.createUser(u, fmt.Sprintf("keycloak.users[%d]", i)); err != nil {
				return err
			}
			for _, g := range u.Groups {
				b.name(userGroupRef(u.Username, g))
			}
			continue
		}
		b.updateUser(u, cur)
		b.memberships(u, cur)
	}
	return nil
}

// userDefaults fills the profile fields Keycloak 24+ requires before it lets
// a user log in ("Account is not fully set up" otherwise).
func userDefaults(u DesiredUser) DesiredUser {
	if u.Email == "" {
		u.Email = u.Username + "@example.com"
	}
	if u.FirstName == "" {
		u.FirstName = u.Username
	}
	if u.LastName == "" {
		u.LastName = "Demo"
	}
	return u
}

func (b *builder) createUser(su DesiredUser, key string) error {
	u := userDefaults(su)
	if u.PasswordEnv != "" && u.Password == "" {
		err := &plan.MissingSecretError{Object: "user " + u.Username, Env: u.PasswordEnv}
		if b.o.ForApply {
			return err
		}
		b.p.Warn("%v; apply will stop before writing anything", err)
	}
	body := map[string]any{
		"username": u.Username, "email": u.Email, "firstName": u.FirstName, "lastName": u.LastName,
		"enabled": true, "emailVerified": true,
	}
	if len(u.Attributes) > 0 {
		body["attributes"] = u.Attributes
	}
	if len(u.Groups) > 0 {
		gp := make([]string, len(u.Groups))
		for i, g := range u.Groups {
			gp[i] = "/" + g
		}
		body["groups"] = gp
	}
	fields := createFields(body)
	if u.Password != "" {
		body["credentials"] = []map[string]any{{"type": "password", "value": u.Password, "temporary": false}}
		fields = append(fields, plan.FieldDiff{Field: "password", New: u.Password, Secret: true})
	}
	if u.TOTPSecretEnv != "" {
		if u.TOTPSecret == "" {
			err := &plan.MissingSecretError{Object: "user " + u.Username + "'s OTP credential", Env: u.TOTPSecretEnv}
			if b.o.ForApply {
				return err
			}
			b.p.Warn("%v; apply will stop before writing anything", err)
		} else {
			cred, err := otpCredential(u.TOTPSecret, u.OTPPolicy)
			if err != nil {
				return &InputError{Key: key + ".totp_secret_env", Msg: fmt.Sprintf("user %s: $%s: %v", u.Username, u.TOTPSecretEnv, err)}
			}
			creds, _ := body["credentials"].([]map[string]any)
			body["credentials"] = append(creds, cred)
			// Not even the masked form: its ends are 40 bits of the key.
			fields = append(fields, plan.FieldDiff{Field: "otp", New: "a TOTP secret from $" + u.TOTPSecretEnv},
				plan.FieldDiff{Field: "otp_policy", New: fmt.Sprintf("%s, %d digits, %d s", u.OTPPolicy.Algorithm, u.OTPPolicy.Digits, u.OTPPolicy.Period)})
		}
	}
	b.p.Add(b.change("user", u.Username, plan.Create, stepUsers, fields, createUser{Username: u.Username, Body: body, OTP: body["credentials"] != nil && u.TOTPSecret != ""}))
	return nil
}

func (b *builder) updateUser(su DesiredUser, cur *User) {
	id := deref(cur.Rep.ID)
	if su.TOTPSecretEnv != "" && !deref(cur.Rep.Totp) {
		b.p.Warn("keycloak user %s/%s exists without an OTP credential: totp_secret_env gives one only to a user ssoctl creates, and an existing user's credentials are left alone (delete the user to have it created with the credential, or let it set one up at its next login with CONFIGURE_TOTP)", b.d.Realm, su.Username)
	}
	if cur.PasswordStale && su.Password != "" {
		b.p.Add(b.change("user-password", su.Username, plan.Update, stepUsers,
			[]plan.FieldDiff{{Field: "password", Old: "(differs)", New: su.Password, Secret: true}},
			resetPassword{Username: su.Username, ID: id, Password: su.Password}))
	}
	var fs []plan.FieldDiff
	if su.Email != "" {
		fs = plan.Diff(fs, "email", deref(cur.Rep.Email), su.Email)
	}
	if su.FirstName != "" {
		fs = plan.Diff(fs, "firstName", deref(cur.Rep.FirstName), su.FirstName)
	}
	if su.LastName != "" {
		fs = plan.Diff(fs, "lastName", deref(cur.Rep.LastName), su.LastName)
	}
	haveAttrs := deref(cur.Rep.Attributes)
	for _, k := range slices.Sorted(maps.Keys(su.Attributes)) {
		fs = plan.Diff(fs, "attributes."+k, haveAttrs[k], su.Attributes[k])
	}
	if len(fs) == 0 {
		b.p.Add(b.change("user", su.Username, plan.NoOp, stepUsers, nil, nil))
		return
	}
	// With the user profile (Keycloak 24+) a PUT replaces every profile
	// field, so the body carries the current values of the unmanaged ones.
	pick := func(want string, have *string) string {
		if want != "" {
			return want
		}
		return deref(have)
	}
	attrs := maps.Clone(haveAttrs)
	if attrs == nil {
		attrs = map[string][]string{}
	}
	maps.Copy(attrs, su.Attributes)
	body := map[string]any{
		"username": su.Username, "email": pick(su.Email, cur.Rep.Email),
		"firstName": pick(su.FirstName, cur.Rep.FirstName), "lastName": pick(su.LastName, cur.Rep.LastName),
		"enabled": deref(cur.Rep.Enabled), "emailVerified": deref(cur.Rep.EmailVerified), "attributes": attrs,
	}
	b.p.Add(b.change("user", su.Username, plan.Update, stepUsers, fs, updateUser{su.Username, id, body}))
}

// memberships plans an existing user's groups: joins for the groups the
// file adds, and the removal of owned memberships it no longer names.
func (b *builder) memberships(u DesiredUser, cur *User) {
	id := deref(cur.Rep.ID)
	have := map[string]bool{}
	for _, g := range cur.Groups {
		have[g] = true
	}
	for _, it := range plan.Reconcile(plan.Set[string, bool]{Want: u.Groups, Have: have, Name: func(g string) string { return g }}) {
		label := u.Username + " in " + it.Name
		r := userGroupRef(u.Username, it.Name)
		switch it.Action {
		case plan.Delete:
			// The file's list is the user's list: an owned membership
			// it no longer names goes without --prune.
			leave := leaveGroup{u.Username, id, it.Name}
			b.drop(r, b.change("user", u.Username, plan.Update, stepPrune, []plan.FieldDiff{{Field: "groups", Old: it.Name}}, leave),
				b.change("user-group", label, plan.Delete, stepPrune, nil, leave))
			continue
		case plan.Create:
			b.p.Add(b.change("user-group", label, plan.Create, stepMembership, nil, joinGroup{u.Username, id, it.Name}))
		default:
			b.p.Add(b.change("user-group", label, plan.NoOp, stepMembership, nil, nil))
		}
		b.name(r)
	}
}

// createUser creates a user with its password and groups in one request,
// so an interrupted apply never leaves a user without them.
type createUser struct {
	Username string
	Body     map[string]any
	// OTP: the body gives the user an OTP credential.
	OTP bool
}

func (o createUser) apply(ctx context.Context, x *executor) error {
	id, err := x.a.create(ctx, x.path("users"), o.Body)
	if err != nil {
		if IsConflict(err) {
			return fmt.Errorf("user %q appeared while applying; run apply again to adopt it: %w", o.Username, err)
		}
		return err
	}
	x.ids.Set(userRef(o.Username), id)
	if o.OTP {
		return dropConfigureTOTP(ctx, x, id)
	}
	return nil
}

// dropConfigureTOTP removes CONFIGURE_TOTP from the required actions of a
// user just created with its OTP credential. Keycloak gives a new user the
// realm's default actions whatever the create says (measured on 26.7.3:
// "requiredActions": [] in the POST is ignored), and a user with
// CONFIGURE_TOTP pending is refused by the direct grant ("Account is not
// fully set up") and asked by the browser to set up a second device.
func dropConfigureTOTP(ctx context.Context, x *executor, id string) error {
	var u map[string]any
	if err := x.a.get(ctx, x.path("users", esc(id)), &u); err != nil {
		return err
	}
	actions, _ := u["requiredActions"].([]any)
	rest := slices.DeleteFunc(slices.Clone(actions), func(a any) bool { return a == "CONFIGURE_TOTP" })
	if len(rest) == len(actions) {
		return nil
	}
	// The user as read, so that the update changes nothing else.
	u["requiredActions"] = append([]any{}, rest...)
	_, err := x.a.do(ctx, http.MethodPut, x.path("users", esc(id)), u, nil)
	return err
}

type updateUser struct {
	Username, ID string
	Body         map[string]any
}

func (o updateUser) apply(ctx context.Context, x *executor) error {
	_, err := x.a.do(ctx, http.MethodPut, x.path("users", esc(o.ID)), o.Body, nil)
	return err
}

// resetPassword sets a user's password (not temporary).
type resetPassword struct {
	Username, ID string
	Password     string
}

func (o resetPassword) apply(ctx context.Context, x *executor) error {
	_, err := x.a.do(ctx, http.MethodPut, x.path("users", esc(o.ID), "reset-password"), map[string]any{"type": "password", "value": o.Password, "temporary": false}, nil)
	return err
}

// joinGroup adds a user to a group (which may be new in this apply).
type joinGroup struct{ Username, UserID, Group string }

func (o joinGroup) apply(ctx context.Context, x *executor) error {
	gid, err := x.groupID(ctx, o.Group)
	if err != nil {
		return err
	}
	_, err = x.a.do(ctx, http.MethodPut, x.path("users", esc(o.UserID), "groups", esc(gid)), nil, nil)
	return err
}

// leaveGroup removes a user from a group; a group that is gone is fine.
type leaveGroup joinGroup

func (o leaveGroup) apply(ctx context.Context, x *executor) error {
	gid, ok := x.ids.Get(groupRef(o.Group))
	if !ok {
		return nil
	}
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, x.path("users", esc(o.UserID), "groups", esc(gid)), nil, nil))
}

// userOTP is the TOTP secret of a file's user (the value of its
// totp_secret_env) and the policy its credential is made under: the
// file's otp_policy where it sets a field, else Keycloak's defaults
// (HmacSHA1, 6 digits, 30 s).
func userOTP(k *spec.Keycloak, u spec.User, getenv func(string) string) (string, totp.Policy) {
	p := totp.Policy{Algorithm: "HmacSHA1", Digits: 6, Period: 30}
	if k.Settings != nil && k.Settings.OTPPolicy != nil {
		op := k.Settings.OTPPolicy
		if op.Algorithm != nil {
			p.Algorithm = *op.Algorithm
		}
		if op.Digits != nil {
			p.Digits = *op.Digits
		}
		if op.Period != nil {
			p.Period = *op.Period
		}
	}
	if u.TOTPSecretEnv == "" {
		return "", p
	}
	return getenv(u.TOTPSecretEnv), p
}

// otpCredential is a TOTP credential as POST /users takes it among a new
// user's credentials (measured on Keycloak 26.7.3: the user is created with
// it and logs in with its codes, through the browser's OTP page and the
// direct grant's totp field). The secret is kept in base32 with
// credentialData's secretEncoding BASE32, which Keycloak decodes before
// computing codes: a secret whose bytes are not UTF-8 text works too (the
// raw form, secretData's value as the key's characters, would not carry
// such bytes through JSON). The codes follow the credential's algorithm,
// digits and period, not the realm's policy of the day (Keycloak's
// OTPCredentialProvider).
func otpCredential(secret string, p totp.Policy) (map[string]any, error) {
	key, err := totp.DecodeSecret(secret)
	if err != nil {
		return nil, err
	}
	if len(key) < 10 {
		return nil, fmt.Errorf("the OTP secret is %d bytes: want at least 10 (RFC 4226; Keycloak makes 20)", len(key))
	}
	if _, err := totp.HOTP(key, 0, p); err != nil {
		return nil, err
	}
	data, _ := json.Marshal(map[string]any{"subType": "totp", "digits": p.Digits, "counter": 0, "period": p.Period,
		"algorithm": p.Algorithm, "secretEncoding": "BASE32"})
	value, _ := json.Marshal(map[string]string{"value": base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)})
	return map[string]any{"type": "otp", "userLabel": "ssoctl", "secretData": string(value), "credentialData": string(data)}, nil
}
