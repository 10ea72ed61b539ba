// Package rancher prepares Keycloak's SAML IdP metadata for Rancher's
// Keycloak SAML auth provider and predicts whether Rancher will accept it.
//
// Rancher decodes the metadata with encoding/xml into a struct whose root is a
// single <EntityDescriptor> in the SAML 2.0 metadata namespace. Keycloak 6–13
// serves an <EntitiesDescriptor> wrapper instead, and hand-edited or
// browser-copied metadata often loses the namespace declarations that the
// decoder needs. [Convert] turns any of those shapes into the one root Rancher
// decodes, rewriting only the bytes it must; [Check] decodes exactly as Rancher
// does and reports [Finding]s with fixes; [BuildConfig] assembles the auth
// config body Rancher expects and checks it against the Keycloak client that
// will face Rancher.
//
// The package does no network or file I/O: callers hand in bytes (see
// [ReadMetadata] for a size-bounded read). Input is treated as hostile: size,
// nesting depth and token size are limited and DOCTYPE declarations are
// rejected. Errors that blame the input implement BadInput() bool.
package rancher
