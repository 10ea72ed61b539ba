package plan

import "fmt"

// MissingSecretError names an environment variable that a command needs and
// that is not set: a user's password, a client secret, an admin credential.
// It is the caller's input problem (exit code 2).
type MissingSecretError struct {
	// Object is what needs the secret, e.g. "user alice" or "the Keycloak admin login".
	Object string
	Env    string
	// Hint says what else would do, when there is another way.
	Hint string
}

func (e *MissingSecretError) Error() string {
	s := fmt.Sprintf("%s needs $%s, which is not set", e.Object, e.Env)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// BadInput marks a missing secret as the caller's input problem (exit 2).
func (e *MissingSecretError) BadInput() bool { return true }
