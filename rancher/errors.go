package rancher

import (
	"fmt"
	"strconv"
	"strings"
)

// InputError reports input this package cannot use: metadata that is not
// well-formed XML or holds no EntityDescriptor, a DOCTYPE declaration, a
// namespace prefix nobody declares, or a Rancher URL that does not parse.
// Err, when set, is the underlying error (often an *xml.SyntaxError).
type InputError struct {
	// Input names what was being read, e.g. "metadata" or "Rancher URL".
	Input string
	// Line is the 1-based line in the metadata where the problem was seen,
	// or 0 when unknown or not applicable.
	Line   int
	Reason string
	Err    error
}

// Error says what was read, where, and what is wrong with it.
func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.Input)
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *InputError) Unwrap() error { return e.Err }

// BadInput reports that the caller's input, not a server, is at fault; the
// CLI maps it to exit code 2.
func (e *InputError) BadInput() bool { return true }

// LimitError reports input that exceeds one of the safety limits
// ([MaxInputBytes], [MaxDepth], [MaxTokenBytes], [MaxNamespaceDecls],
// [MaxEntityDescriptors]). Its message names the limit
// so that a user who hits it on genuine metadata knows what was refused.
type LimitError struct {
	// Limit is the name of the exported constant that was exceeded.
	Limit string
	// Max is the limit's value.
	Max int64
	// Subject says what exceeded it, e.g. "input" or `attribute "entityID" on <EntityDescriptor>`.
	Subject string
	// Size is the measured size: bytes for MaxInputBytes and MaxTokenBytes,
	// a count for the others; 0 when reading stopped as soon as the limit
	// was passed.
	Size int64
	// Line is the 1-based line where the limit was hit, 0 when unknown.
	Line int
}

// Error names the limit, its value and what exceeded it.
func (e *LimitError) Error() string {
	var b strings.Builder
	b.WriteString("metadata")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	b.WriteString(": ")
	switch {
	case e.Limit != "MaxInputBytes" && e.Limit != "MaxTokenBytes":
		fmt.Fprintf(&b, "%s reaches %d, over the %s limit of %d", e.Subject, e.Size, e.Limit, e.Max)
	default: // the shape of every input limit's message
		fmt.Fprintf(&b, "%s is larger than %d bytes (the %s limit)", e.Subject, e.Max, e.Limit)
		if e.Size > 0 {
			fmt.Fprintf(&b, ": %d bytes", e.Size)
		}
	}
	return b.String()
}

// BadInput reports that the caller's input is at fault (exit code 2).
func (e *LimitError) BadInput() bool { return true }

// EntitySelectionError reports metadata holding several EntityDescriptors
// when none could be chosen: either no entity ID was requested and more than
// one candidate remains, or the requested entity ID is not among them.
type EntitySelectionError struct {
	// Requested is the entity ID asked for, "" when none was given.
	Requested string
	// EntityIDs lists the entityID of every EntityDescriptor found, in
	// document order.
	EntityIDs []string
}

// Error lists the entity IDs found, so that the user can pick one.
func (e *EntitySelectionError) Error() string {
	quoted := make([]string, len(e.EntityIDs))
	for i, id := range e.EntityIDs {
		quoted[i] = strconv.Quote(id)
	}
	list := strings.Join(quoted, ", ")
	if e.Requested == "" {
		return fmt.Sprintf("metadata holds %d EntityDescriptors (%s); choose one by entity ID", len(e.EntityIDs), list)
	}
	return fmt.Sprintf("metadata holds no EntityDescriptor with entityID %q; found: %s", e.Requested, list)
}

// BadInput reports that the caller must choose differently (exit code 2).
func (e *EntitySelectionError) BadInput() bool { return true }
