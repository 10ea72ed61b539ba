package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// The realm's settings (keycloak.settings). Every value comes from the
// realm's GET, which planning reads anyway; a change is ONE realm PUT that
// carries only the fields that differ. Measured on Keycloak 26.7.3:
//   - a realm PUT without an attributes key keeps the attributes, with one
//     it replaces them all: attributes are sent only when the file names
//     some (or the SMTP password's fingerprint changes), merged with the
//     realm's, read again under the ownership record's lock;
//   - the events settings (eventsEnabled, enabledEventTypes,
//     eventsExpiration, eventsListeners, adminEventsEnabled,
//     adminEventsDetailsEnabled) are honoured in the realm PUT and read back
//     by GET /events/config; enabledEventTypes comes back in another order;
//   - smtpServer is one map of strings, replaced whole by a PUT, its
//     password read back as "**********"; a PUT with that mask keeps the
//     stored password;
//   - an unset displayName, loginTheme, passwordPolicy or eventsExpiration
//     is absent from the GET.

// SMTPFingerprintAttribute is the realm attribute that holds a salted
// fingerprint of the SMTP password ssoctl last sent, so that a re-apply
// knows without the password (Keycloak never shows it) whether it changed.
const SMTPFingerprintAttribute = "ssoctl.smtp"

// settingKind says how a setting's value is kept by Keycloak and written
// in the file.
type settingKind int

const (
	kBool   settingKind = iota
	kInt                // a whole number
	kString             // "" when absent
	kDur                // a duration in the file, seconds in Keycloak
	kDurMs              // a duration in the file, milliseconds in Keycloak
	kSet                // a list compared as a set
)

// settingDef maps one key of settings (below keycloak.settings) to the
// realm representation's field.
type settingDef struct {
	key, json string
	kind      settingKind
}

// settingDefs are the settings ssoctl manages by name, in the order plans
// show them. password_policy, smtp and attributes are handled apart.
var settingDefs = []settingDef{
	{"display_name", "displayName", kString},
	{"display_name_html", "displayNameHtml", kString},
	{"enabled", "enabled", kBool},
	{"ssl_required", "sslRequired", kString},
	{"login.registration", "registrationAllowed", kBool},
	{"login.email_as_username", "registrationEmailAsUsername", kBool},
	{"login.remember_me", "rememberMe", kBool},
	{"login.reset_password", "resetPasswordAllowed", kBool},
	{"login.verify_email", "verifyEmail", kBool},
	{"login.login_with_email", "loginWithEmailAllowed", kBool},
	{"login.duplicate_emails", "duplicateEmailsAllowed", kBool},
	{"login.edit_username", "editUsernameAllowed", kBool},
	{"tokens.access_token_lifespan", "accessTokenLifespan", kDur},
	{"tokens.access_token_lifespan_implicit", "accessTokenLifespanForImplicitFlow", kDur},
	{"tokens.sso_session_idle", "ssoSessionIdleTimeout", kDur},
	{"tokens.sso_session_max", "ssoSessionMaxLifespan", kDur},
	{"tokens.sso_session_idle_remember_me", "ssoSessionIdleTimeoutRememberMe", kDur},
	{"tokens.sso_session_max_remember_me", "ssoSessionMaxLifespanRememberMe", kDur},
	{"tokens.client_session_idle", "clientSessionIdleTimeout", kDur},
	{"tokens.client_session_max", "clientSessionMaxLifespan", kDur},
	{"tokens.offline_session_idle", "offlineSessionIdleTimeout", kDur},
	{"tokens.offline_session_max", "offlineSessionMaxLifespan", kDur},
	{"tokens.access_code_lifespan", "accessCodeLifespan", kDur},
	{"tokens.access_code_lifespan_login", "accessCodeLifespanLogin", kDur},
	{"tokens.access_code_lifespan_user_action", "accessCodeLifespanUserAction", kDur},
	{"tokens.action_token_lifespan_user", "actionTokenGeneratedByUserLifespan", kDur},
	{"tokens.action_token_lifespan_admin", "actionTokenGeneratedByAdminLifespan", kDur},
	{"tokens.revoke_refresh_token", "revokeRefreshToken", kBool},
	{"tokens.refresh_token_max_reuse", "refreshTokenMaxReuse", kInt},
	{"brute_force.enabled", "bruteForceProtected", kBool},
	{"brute_force.permanent_lockout", "permanentLockout", kBool},
	{"brute_force.max_failures", "failureFactor", kInt},
	{"brute_force.wait_increment", "waitIncrementSeconds", kDur},
	{"brute_force.max_wait", "maxFailureWaitSeconds", kDur},
	{"brute_force.failure_reset", "maxDeltaTimeSeconds", kDur},
	{"brute_force.quick_login_check", "quickLoginCheckMilliSeconds", kDurMs},
	{"brute_force.quick_login_wait", "minimumQuickLoginWaitSeconds", kDur},
	{"brute_force.max_temporary_lockouts", "maxTemporaryLockouts", kInt},
	{"otp_policy.type", "otpPolicyType", kString},
	{"otp_policy.algorithm", "otpPolicyAlgorithm", kString},
	{"otp_policy.digits", "otpPolicyDigits", kInt},
	{"otp_policy.period", "otpPolicyPeriod", kInt},
	{"otp_policy.look_ahead_window", "otpPolicyLookAheadWindow", kInt},
	{"otp_policy.initial_counter", "otpPolicyInitialCounter", kInt},
	{"otp_policy.code_reusable", "otpPolicyCodeReusable", kBool},
	{"themes.login", "loginTheme", kString},
	{"themes.account", "accountTheme", kString},
	{"themes.admin", "adminTheme", kString},
	{"themes.email", "emailTheme", kString},
	{"events.user_events", "eventsEnabled", kBool},
	{"events.types", "enabledEventTypes", kSet},
	{"events.listeners", "eventsListeners", kSet},
	{"events.expiration", "eventsExpiration", kDur},
	{"events.admin_events", "adminEventsEnabled", kBool},
	{"events.admin_events_details", "adminEventsDetailsEnabled", kBool},
}

// newRealmDefaults are the managed fields of a realm created over the admin
// API with {"realm":…,"enabled":true}, as GET /admin/realms/hset-probe
// answered on the testbed's Keycloak 26.7.3 (measured 2026-12-07). A realm
// that is still to be created is diffed against them, and export writes
// only what differs from them.
var newRealmDefaults = mustRawMap(`{
 "enabled":true,"sslRequired":"external",
 "registrationAllowed":false,"registrationEmailAsUsername":false,"rememberMe":false,"resetPasswordAllowed":false,
 "verifyEmail":false,"loginWithEmailAllowed":true,"duplicateEmailsAllowed":false,"editUsernameAllowed":false,
 "accessTokenLifespan":300,"accessTokenLifespanForImplicitFlow":900,"ssoSessionIdleTimeout":1800,"ssoSessionMaxLifespan":36000,
 "ssoSessionIdleTimeoutRememberMe":0,"ssoSessionMaxLifespanRememberMe":0,"clientSessionIdleTimeout":0,"clientSessionMaxLifespan":0,
 "offlineSessionIdleTimeout":2592000,"offlineSessionMaxLifespanEnabled":false,"offlineSessionMaxLifespan":5184000,
 "accessCodeLifespan":60,"accessCodeLifespanLogin":1800,"accessCodeLifespanUserAction":300,
 "actionTokenGeneratedByUserLifespan":300,"actionTokenGeneratedByAdminLifespan":43200,
 "revokeRefreshToken":false,"refreshTokenMaxReuse":0,
 "bruteForceProtected":false,"permanentLockout":false,"failureFactor":30,"waitIncrementSeconds":60,"maxFailureWaitSeconds":900,
 "maxDeltaTimeSeconds":43200,"quickLoginCheckMilliSeconds":1000,"minimumQuickLoginWaitSeconds":60,"maxTemporaryLockouts":0,
 "otpPolicyType":"totp","otpPolicyAlgorithm":"HmacSHA1","otpPolicyDigits":6,"otpPolicyPeriod":30,"otpPolicyLookAheadWindow":1,
 "otpPolicyInitialCounter":0,"otpPolicyCodeReusable":false,
 "eventsEnabled":false,"enabledEventTypes":[],"eventsListeners":["jboss-logging"],"adminEventsEnabled":false,"adminEventsDetailsEnabled":false,
 "smtpServer":{},
 "attributes":{"cibaBackchannelTokenDeliveryMode":"poll","cibaExpiresIn":"120","cibaAuthRequestedUserHint":"login_hint",
  "oauth2DeviceCodeLifespan":"600","oauth2DevicePollingInterval":"5","parRequestUriLifespan":"60","cibaInterval":"5","realmReusableOtpCode":"false"}
}`)

func mustRawMap(s string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	return m
}

// realmRep is the realm's representation to diff against: the one read,
// or a new realm's.
func (b *builder) realmRep() map[string]json.RawMessage {
	if b.st.RealmExists && b.st.RealmRep != nil {
		return b.st.RealmRep
	}
	return newRealmDefaults
}

// current decodes one field of a realm representation as its kind keeps
// it: bool, int64, string or a sorted []string; absent is the zero value.
func current(rep map[string]json.RawMessage, field string, kind settingKind) any {
	raw := rep[field]
	switch kind {
	case kBool:
		var v bool
		_ = json.Unmarshal(raw, &v)
		return v
	case kInt, kDur, kDurMs:
		var v int64
		_ = json.Unmarshal(raw, &v)
		return v
	case kSet:
		var v []string
		_ = json.Unmarshal(raw, &v)
		return sortedSet(v)
	}
	var v string
	_ = json.Unmarshal(raw, &v)
	return v
}

func sortedSet(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// settingField finds the spec field of key in s: a pointer or a slice;
// create allocates the sections on the way (for export). The zero Value
// when a section on the way is not set.
func settingField(s *spec.RealmSettings, key string, create bool) reflect.Value {
	v := reflect.ValueOf(s).Elem()
	parts := strings.Split(key, ".")
	for i, part := range parts {
		f := fieldByTag(v, part)
		if !f.IsValid() {
			panic("keycloak: no settings key " + key)
		}
		if i == len(parts)-1 {
			return f
		}
		if f.IsNil() {
			if !create {
				return reflect.Value{}
			}
			f.Set(reflect.New(f.Type().Elem()))
		}
		v = f.Elem()
	}
	return reflect.Value{}
}

func fieldByTag(v reflect.Value, name string) reflect.Value {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == name {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}

// wanted is one setting the file sets: the value as Keycloak keeps it
// (compared), as the PUT sends it, and as the file writes it (shown).
type wanted struct {
	def         settingDef
	cmp, send   any
	shown       any
	unparseable bool
}

// wantedSettings lists the settings the file sets.
func wantedSettings(s *spec.RealmSettings) []wanted {
	var out []wanted
	for _, d := range settingDefs {
		f := settingField(s, d.key, false)
		if !f.IsValid() || f.IsNil() {
			continue
		}
		w := wanted{def: d}
		switch d.kind {
		case kBool:
			w.cmp = f.Elem().Bool()
		case kInt:
			w.cmp = f.Elem().Int()
		case kString:
			w.cmp = f.Elem().String()
		case kDur, kDurMs:
			n, err := spec.Seconds(f.Elem().String())
			w.unparseable = err != nil // spec validation reports it
			if d.kind == kDurMs {
				n *= 1000
			}
			w.cmp, w.shown = n, f.Elem().String()
		case kSet:
			list := f.Interface().([]string)
			w.cmp, w.send = sortedSet(list), slices.Clone(list)
		}
		if w.send == nil {
			w.send = w.cmp
		}
		if w.shown == nil {
			w.shown = w.send
		}
		out = append(out, w)
	}
	return out
}

// shownOld writes Keycloak's value the way the file writes it.
func shownOld(kind settingKind, v any) any {
	switch kind {
	case kString:
		return nilIfEmpty(v.(string))
	case kDur:
		return spec.FormatSeconds(v.(int64))
	case kDurMs:
		return formatMillis(v.(int64))
	}
	return v
}

func formatMillis(ms int64) string {
	if ms%1000 == 0 {
		return spec.FormatSeconds(ms / 1000)
	}
	return strconv.FormatInt(ms, 10) + "ms"
}

// ServerInfo is the part of GET /admin/serverinfo that planning the realm's
// settings needs: the password policies and the themes by kind.
type ServerInfo struct {
	PasswordPolicies []PasswordPolicyProvider `json:"passwordPolicies"`
	Themes           map[string][]struct {
		Name string `json:"name"`
	} `json:"themes"`
}

// MaxServerInfo bounds server-info's answer (300 KB on Keycloak 26.7.3).
const MaxServerInfo = 32 << 20

// readSettingsFacts reads, before the diff, what only some files need:
// server-info when the file changes the password policy or a theme, and
// the unregistered required actions when it names one the realm lacks.
func (a *Admin) readSettingsFacts(ctx context.Context, d *Desired, st *State) error {
	if d.Partial {
		return nil
	}
	if err := a.readUnregisteredActions(ctx, d, st); err != nil {
		return err
	}
	s := d.Settings
	if s == nil {
		return nil
	}
	rep := st.RealmRep
	if !st.RealmExists || rep == nil {
		rep = newRealmDefaults
	}
	need := s.PasswordPolicy != nil && normalPolicy(*s.PasswordPolicy) != current(rep, "passwordPolicy", kString)
	for _, w := range wantedSettings(s) {
		need = need || strings.HasPrefix(w.def.key, "themes.") && w.cmp != current(rep, w.def.json, kString)
	}
	if !need {
		return nil
	}
	var si ServerInfo
	if err := a.getAdmin(ctx, "/serverinfo", MaxServerInfo, &si); err != nil {
		return err
	}
	st.ServerInfo = &si
	return nil
}

// getAdmin reads a path below /admin that is not a realm's (server-info).
func (a *Admin) getAdmin(ctx context.Context, path string, limit int64, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := a.accessToken(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/admin"+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		_, _, err = exchange(a.http, req, a.base, limit, out)
		if attempt == 0 && IsStatus(err, http.StatusUnauthorized) {
			a.dropToken(tok)
			continue
		}
		return err
	}
}

// IsStatus reports whether err is Keycloak's answer with this status.
func IsStatus(err error, status int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == status
}

// realmSettings plans the file's settings as one change of named fields,
// and checks the file's users' passwords against the policy in force.
func (b *builder) realmSettings() error {
	s := b.d.Settings
	if s == nil {
		return b.checkUserPasswords()
	}
	rep := b.realmRep()
	var fields []plan.FieldDiff
	body := map[string]any{}
	for _, w := range wantedSettings(s) {
		if w.unparseable {
			continue
		}
		old := current(rep, w.def.json, w.def.kind)
		if reflect.DeepEqual(old, w.cmp) {
			continue
		}
		if strings.HasPrefix(w.def.key, "themes.") {
			if err := b.checkTheme(w.def.key, w.cmp.(string)); err != nil {
				return err
			}
		}
		fields = append(fields, plan.FieldDiff{Field: w.def.key, Old: shownOld(w.def.kind, old), New: w.shown})
		body[w.def.json] = w.send
	}
	completeOTPPolicy(body, rep)
	if s.Tokens != nil && s.Tokens.OfflineSessionMax != nil && !current(rep, "offlineSessionMaxLifespanEnabled", kBool).(bool) {
		fields = append(fields, plan.FieldDiff{Field: "tokens.offline_session_max (limit on)", Old: false, New: true})
		body["offlineSessionMaxLifespanEnabled"] = true
	}
	if p := s.PasswordPolicy; p != nil {
		old := current(rep, "passwordPolicy", kString).(string)
		if normalPolicy(*p) != old {
			var providers []PasswordPolicyProvider
			if b.st.ServerInfo != nil {
				providers = b.st.ServerInfo.PasswordPolicies
			}
			if _, err := checkPolicy(*p, providers); err != nil {
				return &InputError{Key: "keycloak.settings.password_policy", Msg: err.Error()}
			}
			fields = append(fields, plan.FieldDiff{Field: "password_policy", Old: nilIfEmpty(old), New: normalPolicy(*p)})
			body["passwordPolicy"] = normalPolicy(*p)
		}
	}
	if err := b.checkUserPasswords(); err != nil {
		return err
	}
	op := updateRealmSettings{Body: body}
	if err := b.smtp(rep, &fields, &op); err != nil {
		return err
	}
	var curAttrs map[string]string
	_ = json.Unmarshal(rep["attributes"], &curAttrs)
	for _, k := range slices.Sorted(maps.Keys(s.Attributes)) {
		old, ok := curAttrs[k]
		if ok && old == s.Attributes[k] {
			continue
		}
		fields = append(fields, plan.FieldDiff{Field: "attributes." + k, Old: presentOrNil(old, ok), New: s.Attributes[k]})
		if op.Attributes == nil {
			op.Attributes = map[string]string{}
		}
		op.Attributes[k] = s.Attributes[k]
	}
	if len(fields) == 0 {
		b.p.Add(b.change("realm-settings", "settings", plan.NoOp, stepRoles, nil, nil))
		return nil
	}
	b.p.Add(b.change("realm-settings", "settings", plan.Update, stepRoles, fields, op))
	return nil
}

// otpPolicyFields are the OTP policy's fields. Keycloak 26.7.3 sets the
// policy only when a PUT carries otpPolicyType, and then all of it: a PUT
// of {"otpPolicyDigits":8} alone is ignored, and {"otpPolicyType":"totp",
// "otpPolicyDigits":8} resets the period to 0 and the algorithm to null
// (measured). So a change of any of them sends all of them.
var otpPolicyFields = []otpField{{"otpPolicyType", kString}, {"otpPolicyAlgorithm", kString}, {"otpPolicyDigits", kInt}, {"otpPolicyPeriod", kInt},
	{"otpPolicyLookAheadWindow", kInt}, {"otpPolicyInitialCounter", kInt}, {"otpPolicyCodeReusable", kBool}}

type otpField struct {
	json string
	kind settingKind
}

// completeOTPPolicy adds to a body that changes the OTP policy the
// policy's other fields as the realm has them.
func completeOTPPolicy(body map[string]any, rep map[string]json.RawMessage) {
	if !slices.ContainsFunc(otpPolicyFields, func(f otpField) bool {
		_, ok := body[f.json]
		return ok
	}) {
		return
	}
	for _, f := range otpPolicyFields {
		if _, ok := body[f.json]; !ok {
			body[f.json] = current(rep, f.json, f.kind)
		}
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkTheme refuses a theme the server does not have; "" is Keycloak's
// default.
func (b *builder) checkTheme(key, name string) error {
	si := b.st.ServerInfo
	if name == "" || si == nil {
		return nil
	}
	kind := strings.TrimPrefix(key, "themes.")
	var names []string
	for _, t := range si.Themes[kind] {
		names = append(names, t.Name)
	}
	if slices.Contains(names, name) {
		return nil
	}
	slices.Sort(names)
	return &InputError{Key: "keycloak.settings." + key, Msg: fmt.Sprintf("%s theme %s is not one this Keycloak has; it has %s (or \"\" for the default)", kind, spec.Quote(name), strings.Join(names, ", "))}
}

// checkUserPasswords refuses, before anything is written, the file's users
// whose password the realm's password policy would refuse: the file's
// policy, or the realm's when the file sets none. Keycloak's own message
// says why (see password_policy.go).
func (b *builder) checkUserPasswords() error {
	policy := current(b.realmRep(), "passwordPolicy", kString).(string)
	if s := b.d.Settings; s != nil && s.PasswordPolicy != nil {
		policy = *s.PasswordPolicy
	}
	if policy == "" {
		return nil
	}
	terms, err := parsePolicy(policy)
	if err != nil {
		return nil // the file's is reported by realmSettings; the realm's is Keycloak's
	}
	for i, u := range b.d.Users {
		if u.Password == "" {
			continue
		}
		email := u.Email
		if cur := b.st.Users[u.Username]; email == "" && cur != nil {
			email = deref(cur.Rep.Email)
		}
		if email == "" {
			email = userDefaults(u).Email
		}
		if msg := refusal(terms, strings.ToLower(u.Username), email, u.Password); msg != "" {
			return &InputError{Key: fmt.Sprintf("keycloak.users[%d].password_env", i),
				Msg: fmt.Sprintf("user %s: Keycloak would refuse the password in $%s under the password policy %s: %s", u.Username, u.PasswordEnv, spec.Quote(policy), msg)}
		}
	}
	return nil
}

// smtp plans settings.smtp: the server's map, with the password sent only
// when it changed (Keycloak keeps the stored one when it gets its mask).
func (b *builder) smtp(rep map[string]json.RawMessage, fields *[]plan.FieldDiff, op *updateRealmSettings) error {
	m := b.d.Settings.SMTP
	if m == nil {
		return nil
	}
	var cur map[string]string
	_ = json.Unmarshal(rep["smtpServer"], &cur)
	want := smtpConfig(m)
	changed := false
	for _, k := range smtpOrder {
		if smtpValue(cur, k) != want[k] {
			*fields = append(*fields, plan.FieldDiff{Field: "smtp." + smtpKeys[k], Old: nilIfEmpty(smtpValue(cur, k)), New: want[k]})
			changed = true
		}
	}
	send := false
	if m.User != "" {
		pw := b.d.SMTPPassword
		switch {
		case pw == "":
			err := &plan.MissingSecretError{Object: "settings.smtp (the SMTP password)", Env: m.PasswordEnv}
			if b.o.ForApply {
				return err
			}
			b.p.Warn("%v; apply will stop before writing anything", err)
		case cur["password"] == "" || !fingerprintMatches(b.attribute(rep, SMTPFingerprintAttribute), pw):
			// The realm's password is never shown: ssoctl knows only
			// whether it is the one it sent last (the fingerprint).
			var old any
			switch {
			case cur["password"] == "":
			case b.attribute(rep, SMTPFingerprintAttribute) == "":
				old = "(set, not by ssoctl)"
			default:
				old = "(differs)"
			}
			*fields = append(*fields, plan.FieldDiff{Field: "smtp.password", Old: old, New: pw, Secret: true})
			send, changed = true, true
		}
	}
	if !changed {
		return nil
	}
	body := map[string]string{}
	for k, v := range cur {
		body[k] = v // keys the file does not know are kept (a PUT replaces the map)
	}
	maps.Copy(body, want)
	delete(body, "password")
	if m.User != "" {
		body["password"] = secretMask
	}
	if send {
		op.SMTPPassword = b.d.SMTPPassword
	}
	op.Body["smtpServer"] = body
	return nil
}

// smtpOrder is the order in which plans show the SMTP keys.
var smtpOrder = []string{"host", "port", "from", "fromDisplayName", "replyTo", "envelopeFrom", "starttls", "ssl", "auth", "user"}

// smtpKeys names the server's SMTP keys as the file does.
var smtpKeys = map[string]string{"host": "host", "port": "port", "from": "from", "fromDisplayName": "from_display_name",
	"replyTo": "reply_to", "envelopeFrom": "envelope_from", "starttls": "starttls", "ssl": "ssl", "auth": "user (authentication)", "user": "user"}

// smtpConfig is the file's SMTP server as Keycloak's map, password apart.
func smtpConfig(m *spec.SMTP) map[string]string {
	c := map[string]string{"host": m.Host, "from": m.From, "fromDisplayName": m.FromDisplayName, "replyTo": m.ReplyTo,
		"envelopeFrom": m.EnvelopeFrom, "starttls": boolStr(m.StartTLS), "ssl": boolStr(m.SSL), "auth": boolStr(m.User != ""), "user": m.User, "port": ""}
	if m.Port != 0 {
		c["port"] = strconv.Itoa(m.Port)
	}
	return c
}

// smtpValue reads a key of the server's map: absent is "" ("false" for
// the flags).
func smtpValue(cur map[string]string, k string) string {
	v, ok := cur[k]
	if !ok && (k == "starttls" || k == "ssl" || k == "auth") {
		return "false"
	}
	return v
}

// attribute reads one realm attribute of rep.
func (b *builder) attribute(rep map[string]json.RawMessage, k string) string {
	var attrs map[string]string
	_ = json.Unmarshal(rep["attributes"], &attrs)
	return attrs[k]
}

// updateRealmSettings is the one realm PUT of a settings change: Body holds
// the changed fields only. Attributes (the file's named ones) and the SMTP
// password's fingerprint, when SMTPPassword is sent, go in as attributes
// merged with the realm's own, read again under the ownership record's
// lock (a PUT with attributes replaces them all; writeRecord takes the
// same lock, so ssoctl.owned is never lost).
type updateRealmSettings struct {
	Body         map[string]any
	Attributes   map[string]string
	SMTPPassword string
}

func (o updateRealmSettings) apply(ctx context.Context, x *executor) error {
	body := maps.Clone(o.Body)
	attrs := maps.Clone(o.Attributes)
	if o.SMTPPassword != "" {
		smtp := maps.Clone(body["smtpServer"].(map[string]string))
		smtp["password"] = o.SMTPPassword
		body["smtpServer"] = smtp
		fp, err := fingerprint(o.SMTPPassword)
		if err != nil {
			return err
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[SMTPFingerprintAttribute] = fp
	}
	if len(attrs) == 0 {
		_, err := x.a.do(ctx, http.MethodPut, x.path(), body, nil)
		return err
	}
	return x.withAttributes(ctx, body, func(cur map[string]string) error {
		maps.Copy(cur, attrs)
		return nil
	})
}

// exportSettings writes the realm's settings that differ from a new
// realm's (newRealmDefaults); nil when none do.
func exportSettings(rep map[string]json.RawMessage) *spec.RealmSettings {
	if rep == nil {
		return nil
	}
	s := &spec.RealmSettings{}
	set := false
	for _, d := range settingDefs {
		cur := current(rep, d.json, d.kind)
		if reflect.DeepEqual(cur, current(newRealmDefaults, d.json, d.kind)) && !(d.json == "offlineSessionMaxLifespan" && current(rep, "offlineSessionMaxLifespanEnabled", kBool).(bool)) {
			continue
		}
		f := settingField(s, d.key, true)
		switch d.kind {
		case kBool:
			f.Set(reflect.ValueOf(ptr(cur.(bool))))
		case kInt:
			f.Set(reflect.ValueOf(ptr(int(cur.(int64)))))
		case kString:
			f.Set(reflect.ValueOf(ptr(cur.(string))))
		case kDur:
			f.Set(reflect.ValueOf(ptr(spec.FormatSeconds(cur.(int64)))))
		case kDurMs:
			if cur.(int64)%1000 != 0 {
				continue // not a whole number of seconds: a file cannot say it
			}
			f.Set(reflect.ValueOf(ptr(formatMillis(cur.(int64)))))
		case kSet:
			f.Set(reflect.ValueOf(cur))
		}
		set = true
	}
	if p := current(rep, "passwordPolicy", kString).(string); p != "" {
		s.PasswordPolicy, set = &p, true
	}
	var smtp map[string]string
	_ = json.Unmarshal(rep["smtpServer"], &smtp)
	if smtp["host"] != "" {
		port, _ := strconv.Atoi(smtp["port"])
		s.SMTP = &spec.SMTP{Host: smtp["host"], Port: port, From: smtp["from"], FromDisplayName: smtp["fromDisplayName"],
			ReplyTo: smtp["replyTo"], EnvelopeFrom: smtp["envelopeFrom"], StartTLS: smtp["starttls"] == "true", SSL: smtp["ssl"] == "true"}
		if smtp["auth"] == "true" {
			s.SMTP.User, s.SMTP.PasswordEnv = smtp["user"], "SMTP_PASSWORD"
		}
		set = true
	}
	var attrs, defAttrs map[string]string
	_ = json.Unmarshal(rep["attributes"], &attrs)
	_ = json.Unmarshal(newRealmDefaults["attributes"], &defAttrs)
	for k, v := range attrs {
		if _, def := defAttrs[k]; def || strings.HasPrefix(k, "ssoctl.") {
			continue
		}
		if s.Attributes == nil {
			s.Attributes = map[string]string{}
		}
		s.Attributes[k], set = v, true
	}
	if !set {
		return nil
	}
	return s
}
