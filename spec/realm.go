package spec

// The realm itself: its settings, required actions, authentication flows
// and flow bindings. Each section, and each key inside settings, is managed
// only when the file names it: what the file leaves out, ssoctl neither
// sets nor resets.

// RealmSettings are the realm's own settings, as named fields (never a
// whole-realm replacement).
type RealmSettings struct {
	DisplayName     *string `yaml:"display_name,omitempty"`
	DisplayNameHTML *string `yaml:"display_name_html,omitempty"`
	// Enabled false turns the realm off (nobody can log in).
	Enabled *bool `yaml:"enabled,omitempty"`
	// SSLRequired is external (Keycloak's default), none or all.
	SSLRequired    *string         `yaml:"ssl_required,omitempty"`
	Login          *LoginSettings  `yaml:"login,omitempty"`
	Tokens         *TokenSettings  `yaml:"tokens,omitempty"`
	PasswordPolicy *string         `yaml:"password_policy,omitempty"`
	BruteForce     *BruteForce     `yaml:"brute_force,omitempty"`
	OTPPolicy      *OTPPolicy      `yaml:"otp_policy,omitempty"`
	SMTP           *SMTP           `yaml:"smtp,omitempty"`
	Themes         *Themes         `yaml:"themes,omitempty"`
	Events         *EventsSettings `yaml:"events,omitempty"`
	// Attributes are raw realm attributes the keys above do not cover. Each
	// key named is managed; the realm's other attributes are kept.
	Attributes map[string]string `yaml:"attributes,omitempty"`
}

// LoginSettings are the realm's login screen options.
type LoginSettings struct {
	Registration    *bool `yaml:"registration,omitempty"`
	EmailAsUsername *bool `yaml:"email_as_username,omitempty"`
	RememberMe      *bool `yaml:"remember_me,omitempty"`
	ResetPassword   *bool `yaml:"reset_password,omitempty"`
	VerifyEmail     *bool `yaml:"verify_email,omitempty"`
	LoginWithEmail  *bool `yaml:"login_with_email,omitempty"`
	DuplicateEmails *bool `yaml:"duplicate_emails,omitempty"`
	EditUsername    *bool `yaml:"edit_username,omitempty"`
}

// TokenSettings are the realm's session and token lifetimes, as durations
// (30s, 5m, 10h, 30d; a bare number is seconds).
type TokenSettings struct {
	AccessTokenLifespan         *string `yaml:"access_token_lifespan,omitempty"`
	AccessTokenLifespanImplicit *string `yaml:"access_token_lifespan_implicit,omitempty"`
	SSOSessionIdle              *string `yaml:"sso_session_idle,omitempty"`
	SSOSessionMax               *string `yaml:"sso_session_max,omitempty"`
	SSOSessionIdleRememberMe    *string `yaml:"sso_session_idle_remember_me,omitempty"`
	SSOSessionMaxRememberMe     *string `yaml:"sso_session_max_remember_me,omitempty"`
	ClientSessionIdle           *string `yaml:"client_session_idle,omitempty"`
	ClientSessionMax            *string `yaml:"client_session_max,omitempty"`
	OfflineSessionIdle          *string `yaml:"offline_session_idle,omitempty"`
	// OfflineSessionMax also turns Keycloak's offline session limit on.
	OfflineSessionMax        *string `yaml:"offline_session_max,omitempty"`
	AccessCodeLifespan       *string `yaml:"access_code_lifespan,omitempty"`
	AccessCodeLifespanLogin  *string `yaml:"access_code_lifespan_login,omitempty"`
	AccessCodeLifespanAction *string `yaml:"access_code_lifespan_user_action,omitempty"`
	ActionTokenLifespanUser  *string `yaml:"action_token_lifespan_user,omitempty"`
	ActionTokenLifespanAdmin *string `yaml:"action_token_lifespan_admin,omitempty"`
	RevokeRefreshToken       *bool   `yaml:"revoke_refresh_token,omitempty"`
	RefreshTokenMaxReuse     *int    `yaml:"refresh_token_max_reuse,omitempty"`
}

// BruteForce is Keycloak's brute-force detection.
type BruteForce struct {
	Enabled          *bool `yaml:"enabled,omitempty"`
	PermanentLockout *bool `yaml:"permanent_lockout,omitempty"`
	MaxFailures      *int  `yaml:"max_failures,omitempty"`
	// WaitIncrement, MaxWait, FailureReset (Keycloak's "failure reset
	// time") and QuickLoginWait are durations; QuickLoginCheck too, kept
	// by Keycloak in milliseconds.
	WaitIncrement   *string `yaml:"wait_increment,omitempty"`
	MaxWait         *string `yaml:"max_wait,omitempty"`
	FailureReset    *string `yaml:"failure_reset,omitempty"`
	QuickLoginCheck *string `yaml:"quick_login_check,omitempty"`
	QuickLoginWait  *string `yaml:"quick_login_wait,omitempty"`
	// MaxTemporaryLockouts before a permanent one (permanent_lockout).
	MaxTemporaryLockouts *int `yaml:"max_temporary_lockouts,omitempty"`
}

// OTPPolicy is the realm's one-time-password policy.
type OTPPolicy struct {
	// Type is totp or hotp.
	Type *string `yaml:"type,omitempty"`
	// Algorithm is HmacSHA1, HmacSHA256 or HmacSHA512.
	Algorithm       *string `yaml:"algorithm,omitempty"`
	Digits          *int    `yaml:"digits,omitempty"`
	Period          *int    `yaml:"period,omitempty"`
	LookAheadWindow *int    `yaml:"look_ahead_window,omitempty"`
	InitialCounter  *int    `yaml:"initial_counter,omitempty"`
	CodeReusable    *bool   `yaml:"code_reusable,omitempty"`
}

// SMTP is the realm's mail server. Its password comes from the
// environment and is sent only when it changed.
type SMTP struct {
	Host            string `yaml:"host,omitempty"`
	Port            int    `yaml:"port,omitempty"`
	From            string `yaml:"from,omitempty"`
	FromDisplayName string `yaml:"from_display_name,omitempty"`
	ReplyTo         string `yaml:"reply_to,omitempty"`
	EnvelopeFrom    string `yaml:"envelope_from,omitempty"`
	StartTLS        bool   `yaml:"starttls,omitempty"`
	SSL             bool   `yaml:"ssl,omitempty"`
	// User turns SMTP authentication on; PasswordEnv names the variable
	// holding its password.
	User        string `yaml:"user,omitempty"`
	PasswordEnv string `yaml:"password_env,omitempty"`
}

// Themes are the realm's themes by kind; "" is Keycloak's default.
type Themes struct {
	Login   *string `yaml:"login,omitempty"`
	Account *string `yaml:"account,omitempty"`
	Admin   *string `yaml:"admin,omitempty"`
	Email   *string `yaml:"email,omitempty"`
}

// EventsSettings say which events the realm stores.
type EventsSettings struct {
	UserEvents *bool `yaml:"user_events,omitempty"`
	// Types are the user event types stored (LOGIN, LOGIN_ERROR, …): an
	// exact set; left out, Keycloak's default (every type).
	Types     []string `yaml:"types,omitempty"`
	Listeners []string `yaml:"listeners,omitempty"`
	// Expiration is how long user events are kept (a duration).
	Expiration         *string `yaml:"expiration,omitempty"`
	AdminEvents        *bool   `yaml:"admin_events,omitempty"`
	AdminEventsDetails *bool   `yaml:"admin_events_details,omitempty"`
}

// RequiredAction is a required action by alias. Listed, it is enabled
// unless enabled: false; default: true makes every new user do it.
// Required actions the file does not list are left as they are.
type RequiredAction struct {
	Alias   string `yaml:"alias,omitempty"`
	Enabled *bool  `yaml:"enabled,omitempty"`
	Default *bool  `yaml:"default,omitempty"`
	// Config is the action's configuration (Keycloak 25+), e.g.
	// max_auth_age for UPDATE_PASSWORD; keys named are managed.
	Config map[string]string `yaml:"config,omitempty"`
}

// Flow is a top-level authentication flow the file manages. Built-in flows
// are never edited: copy_of starts a flow from one.
type Flow struct {
	Alias       string `yaml:"alias,omitempty"`
	Description string `yaml:"description,omitempty"`
	// Type is basic-flow (default) or client-flow (client authentication).
	Type string `yaml:"type,omitempty"`
	// CopyOf names a flow (a built-in one, usually) to copy when the flow
	// is created; without Executions the flow is then kept as that copy.
	CopyOf     string      `yaml:"copy_of,omitempty"`
	Executions []Execution `yaml:"executions,omitempty"`
}

// Execution is one step of a flow, in file order: an authenticator, or a
// subflow with executions of its own.
type Execution struct {
	Authenticator string `yaml:"authenticator,omitempty"`
	Subflow       string `yaml:"subflow,omitempty"`
	// Requirement is REQUIRED, ALTERNATIVE, CONDITIONAL or DISABLED;
	// default REQUIRED.
	Requirement string `yaml:"requirement,omitempty"`
	// Description and Type (basic-flow, the default, or form-flow) are a
	// subflow's.
	Description string `yaml:"description,omitempty"`
	Type        string `yaml:"type,omitempty"`
	// Provider is a form-flow subflow's form (registration-page-form).
	Provider string `yaml:"provider,omitempty"`
	// Config is an authenticator's configuration (its keys as Keycloak
	// names them); ConfigAlias names it (default: the flow alias, the
	// authenticator and its place).
	Config      map[string]string `yaml:"config,omitempty"`
	ConfigAlias string            `yaml:"config_alias,omitempty"`
	Executions  []Execution       `yaml:"executions,omitempty"`
}

// FlowBindings are the realm's flow bindings, by flow alias.
type FlowBindings struct {
	Browser              string `yaml:"browser,omitempty"`
	Registration         string `yaml:"registration,omitempty"`
	DirectGrant          string `yaml:"direct_grant,omitempty"`
	ResetCredentials     string `yaml:"reset_credentials,omitempty"`
	ClientAuthentication string `yaml:"client_authentication,omitempty"`
	DockerAuthentication string `yaml:"docker_authentication,omitempty"`
	FirstBrokerLogin     string `yaml:"first_broker_login,omitempty"`
}

// ClientFlows are a client's overrides of the realm's browser and direct
// grant flows, by flow alias ("" removes an override).
type ClientFlows struct {
	Browser     *string `yaml:"browser,omitempty"`
	DirectGrant *string `yaml:"direct_grant,omitempty"`
}
