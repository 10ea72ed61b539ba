// Package django knows the Django OIDC libraries: what each needs from its
// Keycloak client (the callback URL, an audience mapper, a groups mapper
// with the token flags it reads, unsigned userinfo), and how to render the
// keycloak_sso Django app that wires a site to Keycloak with that library.
// The facts come from the libraries' sources and were proven against the
// real Keycloak 26 (shared/reference/django-libs.md).
//
// Only render.go and app/ are templates. The rest is domain logic that
// lives here so one package holds everything ssoctl knows about a library:
// the needs model (needs.go: a site's needs merged into the file's keycloak:
// section, which plan, apply and doctor use) and the checks of a client
// against a library (django.go). It imports spec and no server package.
package django

import (
	"github.com/ssoctl/ssoctl/spec"
)

// Flags are the token flags a library reads a claim from.
type Flags struct {
	IDToken, AccessToken, Userinfo bool
}

// Library is what ssoctl knows of one Django OIDC library.
type Library struct {
	Name string
	// Refusal, when set, is the proven reason the library cannot log in
	// against Keycloak 26 as it ships; render refuses it (exit 3) and names
	// Nearest instead.
	Refusal string
	Nearest string
	// Requirements are the pinned pip lines the rendered app needs.
	Requirements []string
	// Callback is the callback path under the site's URL.
	Callback string
	// Login is the path the SSO button starts the login at; LoginPost says
	// whether it must be a POST (with the CSRF token).
	Login     string
	LoginPost bool
	// Groups are the tokens the library reads the groups claim from.
	Groups Flags
	// Audience says the library checks the access token's aud against
	// the client_id (an audience mapper is needed).
	Audience bool
	// UnsignedUserinfo says the library cannot parse a signed userinfo.
	UnsignedUserinfo bool
	// RolesClaim says the library requires a flat "roles" claim in the ID
	// token (django-keycloak-oidc).
	RolesClaim bool
	// Apps and Middleware are what configure() adds to the settings.
	Apps       []string
	Middleware []string
}

// API is what ssoctl knows of one API (Bearer token) library.
type API struct {
	Name         string
	Requirements []string
	// Audience: the library (as rendered) checks aud against the client_id.
	Audience bool
}

var django = "Django==5.2.19"

// Libraries are the Django OIDC libraries by name.
var Libraries = map[string]*Library{
	spec.LibMozilla: {
		Name:         spec.LibMozilla,
		Requirements: []string{django, "mozilla-django-oidc==5.0.2"},
		Callback:     "/oidc/callback/", Login: "/oidc/authenticate/",
		// Claims come from userinfo (mozilla_django_oidc/auth.py:337-360).
		Groups: Flags{IDToken: true, Userinfo: true},
		Apps:   []string{"mozilla_django_oidc"},
	},
	spec.LibKeycloakOID: {
		Name:         spec.LibKeycloakOID,
		Requirements: []string{django, "mozilla-django-oidc==5.0.2", "django-keycloak-oidc==0.3.255"},
		Callback:     "/oidc/callback/", Login: "/oidc/authenticate/",
		// Roles and groups come from the verified ID token (auth.py:55-73).
		Groups:     Flags{IDToken: true, Userinfo: true},
		RolesClaim: true,
		Apps:       []string{"mozilla_django_oidc", "django_keycloak_oidc"},
	},
	spec.LibSocial: {
		Name:         spec.LibSocial,
		Requirements: []string{django, "social-auth-app-django==8.0.0", "social-auth-core==7.0.0"},
		Callback:     "/social/complete/keycloak/", Login: "/social/login/keycloak/", LoginPost: true,
		// Only the access token is read, and its aud must hold KEY
		// (social_core/backends/keycloak.py:120-137).
		Groups:   Flags{AccessToken: true},
		Audience: true,
		Apps:     []string{"social_django"},
	},
	spec.LibSocialOIDC: {
		Name:         spec.LibSocialOIDC,
		Requirements: []string{django, "social-auth-app-django==8.0.0", "social-auth-core==7.0.0"},
		Callback:     "/social/complete/oidc/", Login: "/social/login/oidc/", LoginPost: true,
		// Groups from the ID token first, else userinfo; userinfo is read
		// with response.json() (social_core/backends/base.py:874).
		Groups:           Flags{IDToken: true, Userinfo: true},
		UnsignedUserinfo: true,
		Apps:             []string{"social_django"},
	},
	spec.LibAllauth: {
		Name:         spec.LibAllauth,
		Requirements: []string{django, "django-allauth==65.22.1"},
		Callback:     "/accounts/oidc/keycloak/login/callback/", Login: "/accounts/oidc/keycloak/login/", LoginPost: true,
		// Userinfo is read with response.json() (openid_connect/views.py:73).
		Groups:           Flags{IDToken: true, Userinfo: true},
		UnsignedUserinfo: true,
		Apps:             []string{"allauth", "allauth.account", "allauth.socialaccount", "allauth.socialaccount.providers.openid_connect"},
		Middleware:       []string{"allauth.account.middleware.AccountMiddleware"},
	},
	spec.LibJWTOIDC: {
		Name: spec.LibJWTOIDC,
		Refusal: "django-jwt-oidc 1.0.12 sends the token request as JSON (django_jwt/views.py:97-101); " +
			`Keycloak's token endpoint takes only form parameters and answers 400 "Missing form parameter: grant_type", ` +
			"so no login ever completes",
		Nearest: spec.LibMozilla,
	},
	spec.LibAdminSSO: {
		Name: spec.LibAdminSSO,
		Refusal: `django-admin-sso 5.2.0 asks for the scope "email" only (admin_sso/views.py:14-18), so Keycloak returns no ID token ` +
			"and the callback fails (TypeError at views.py:86); patched to ask for openid it reads the email from an ID token it never " +
			"verifies and logs in only users pre-created as Assignment rows, with no groups or staff from Keycloak",
		Nearest: spec.LibMozilla,
	},
	spec.LibDjangoOIDC: {
		Name: spec.LibDjangoOIDC,
		Refusal: "django-oidc 0.1.4 does not import on Python 3 with Django 1.10 or later: djangooidc/views.py:59 is Python 2 syntax, " +
			"urls.py:3 imports django.conf.urls.patterns (removed in Django 1.10), and its oic 0.10 fails to import on Python 3.11",
		Nearest: spec.LibMozilla,
	},
}

// APIs are the API authentication libraries by name.
var APIs = map[string]*API{
	spec.APIDRFOIDC:     {Name: spec.APIDRFOIDC, Requirements: []string{"djangorestframework==3.18.3", "drf-oidc-auth==4.0.0"}, Audience: true},
	spec.APIMozilla:     {Name: spec.APIMozilla, Requirements: []string{"djangorestframework==3.18.3", "mozilla-django-oidc==5.0.2"}, Audience: true},
	spec.APIKeycloakAut: {Name: spec.APIKeycloakAut, Requirements: []string{"djangorestframework==3.18.3", "django-keycloak-auth==1.0.0"}, Audience: true},
}

// Requirements are the pinned pip lines for a site, library and API.
func Requirements(s *spec.DjangoSite) []string {
	var out []string
	seen := map[string]bool{}
	add := func(rs []string) {
		for _, r := range rs {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	if lib := Libraries[s.Library]; lib != nil {
		add(lib.Requirements)
	}
	if api := APIs[s.API]; api != nil {
		add(api.Requirements)
	}
	return out
}

// PostLogoutPath is where Keycloak sends the browser back after logout.
const PostLogoutPath = "/admin/login/"
