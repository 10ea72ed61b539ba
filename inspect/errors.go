package inspect

import (
	"strconv"
)

// InputError reports input that cannot be understood at all: a token that is not three
// base64url segments of JSON, an encrypted token, an unparsable JWKS, PEM block, role file or JSON
// pointer. The CLI maps it to exit code 2 through BadInput.
type InputError struct {
	// What names the input, e.g. "token", "token header", "JWKS", "vault role file", "JSON pointer".
	What string
	// Reason says what is wrong, in words a user can act on.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *InputError) Error() string {
	msg := "malformed " + e.What
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *InputError) Unwrap() error { return e.Err }

// BadInput reports that the error is the user's input, not a runtime failure; always true.
func (e *InputError) BadInput() bool { return true }

func badInput(what, reason string, err error) *InputError {
	return &InputError{What: what, Reason: reason, Err: err}
}

// FetchError reports that a document (OIDC discovery, JWKS) could not be fetched or understood:
// a network failure, a non-200 answer, or a body that is not what the URL should serve. It is a
// runtime failure (exit code 1), not bad input.
type FetchError struct {
	// URL is the address that was requested.
	URL string
	// StatusCode is the HTTP status, or 0 when no response arrived.
	StatusCode int
	// Body is the start of the response body for a non-200 answer.
	Body string
	// Err is the underlying error (transport error, or why the body was rejected).
	Err error
}

// Error implements error.
func (e *FetchError) Error() string {
	msg := "fetching " + e.URL
	if e.StatusCode != 0 && e.StatusCode != 200 {
		msg += ": HTTP " + strconv.Itoa(e.StatusCode)
		if e.Body != "" {
			msg += ": " + e.Body
		}
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *FetchError) Unwrap() error { return e.Err }

// BadInput reports false: a fetch failure is a runtime failure, not the user's input.
func (e *FetchError) BadInput() bool { return false }
