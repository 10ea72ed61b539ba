package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds how much of sso.yaml is read: 1 MiB holds thousands of
// clients, and keeps loading the largest file under 1 s and 64 MiB.
const MaxFileSize = 1 << 20

// Error is one problem in sso.yaml, located by file, line and key path.
type Error struct {
	File string
	Line int
	Key  string // dotted path, e.g. keycloak.clients[0].access
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// BadInput marks the error as the file's fault (exit code 2).
func (e *Error) BadInput() bool { return true }

// Errors is every problem found in one file, in line order.
type Errors []*Error

// MaxErrorsListed is how many of a file's errors its message lists; a
// last line says how many more there are.
const MaxErrorsListed = 20

func (es Errors) Error() string {
	msgs := make([]string, 0, min(len(es), MaxErrorsListed+1))
	for i, e := range es {
		if i == MaxErrorsListed {
			msgs = append(msgs, fmt.Sprintf("... and %d more errors", len(es)-i))
			break
		}
		msgs = append(msgs, e.Error())
	}
	return strings.Join(msgs, "\n")
}

// BadInput marks the errors as the file's fault (exit code 2).
func (es Errors) BadInput() bool { return true }

// Load reads and validates the sso.yaml at path; "-" reads stdin, the
// command's input stream. getenv supplies defaults such as $KEYCLOAK_URL;
// nil means no environment. path may be a regular file, or a pipe or FIFO
// (-f <(sops -d sso.yaml)) that delivers the file within MaxPipeWait; a
// directory, device or socket is refused.
func Load(path string, stdin io.Reader, getenv func(string) string) (*File, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, MaxFileSize+1))
		path = "<stdin>"
	} else {
		data, err = readLimited(path, pipeWait)
	}
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	return Parse(path, data, getenv)
}

// MaxPipeWait bounds how long a pipe or FIFO given as sso.yaml may take to
// deliver it: a writer must open it, write the file and close it within
// this time. A FIFO that nobody writes is refused then, instead of waiting
// for ever.
const MaxPipeWait = 10 * time.Second

// pipeWait is MaxPipeWait; tests shorten it.
var pipeWait = MaxPipeWait

// readLimited reads a regular file, or a pipe or FIFO within wait, up to
// MaxFileSize+1 bytes. The type is checked before the file is opened, the
// open never blocks (O_NONBLOCK: a FIFO with no writer), and the opened
// file must be the one checked.
func readLimited(path string, wait time.Duration) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if m := fi.Mode(); !m.IsRegular() && m&fs.ModeNamedPipe == 0 {
		return nil, fmt.Errorf("not a regular file (%s): give sso.yaml's path, or - for stdin", FileKind(m))
	}
	f, err := openChecked(path, fi)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Mode().IsRegular() {
		return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	}
	return readPipe(f, MaxFileSize+1, wait)
}

// openChecked opens path for reading without blocking and checks that the
// opened file is fi (not something put in its place meanwhile).
func openChecked(path string, fi fs.FileInfo) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if got, err := f.Stat(); err != nil || !os.SameFile(fi, got) {
		f.Close()
		return nil, errors.New("the file was replaced while it was being opened")
	}
	return f, nil
}

// ReadForEdit reads the sso.yaml at path for a command that writes it back
// (doctor --fix): once, within MaxFileSize. It must be a regular file: not
// a symlink (the write would replace the link), a FIFO, a device or a
// directory; the type is checked before the file is opened, and the open
// never blocks. The FileInfo lets the writer see whether the file changed
// meanwhile.
func ReadForEdit(path string) ([]byte, fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, nil, &Error{File: path, Msg: err.Error()}
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &Error{File: path, Msg: fmt.Sprintf("not a regular file (%s): --fix rewrites the file, so it must be one", FileKind(fi.Mode()))}
	}
	f, err := openChecked(path, fi)
	if err != nil {
		return nil, nil, &Error{File: path, Msg: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, &Error{File: path, Msg: err.Error()}
	}
	if len(data) > MaxFileSize {
		return nil, nil, &Error{File: path, Msg: fmt.Sprintf("file is larger than %d bytes (1 MiB), the limit for sso.yaml", MaxFileSize)}
	}
	return data, fi, nil
}

// FileKind names a file type in messages: a symlink, a FIFO, a device, a
// directory, a socket.
func FileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// Parse validates data as an sso.yaml named name.
func Parse(name string, data []byte, getenv func(string) string) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file is larger than %d bytes (1 MiB), the limit for sso.yaml", MaxFileSize)}
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	f, err := decode(name, data, "file is empty")
	if err != nil {
		return nil, err
	}
	if errs := f.validate(getenv); len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// decode reads data as YAML whose keys and value types are those of an
// sso.yaml (unknown keys and wrong types named with their lines), without
// the rules a whole file must follow.
func decode(name string, data []byte, empty string) (*File, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: empty}
		}
		return nil, quoteHint(yamlError(name, err), data)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case err == nil:
		return nil, &Error{File: name, Line: more.Line, Msg: "a second YAML document (after ---): sso.yaml is one document; merge them or use two files"}
	case !errors.Is(err, io.EOF):
		return nil, quoteHint(yamlError(name, err), data)
	}
	f := &File{Path: name, lines: map[string]int{}}
	c := &checker{file: name, lines: f.lines, budget: countNodes(doc) + MaxAliasExpansion}
	c.check(doc, reflect.TypeOf(File{}), "")
	if len(c.errs) > 0 {
		return nil, c.sorted()
	}
	if err := doc.Decode(f); err != nil {
		return nil, yamlError(name, err)
	}
	f.Path = name
	return f, nil
}

// quoteHint adds the fix for the common mistake of an unquoted ${…} (a
// Keycloak claim name such as resource_access.${client_id}.roles) inside a
// flow mapping, where { and } end the mapping.
func quoteHint(err error, data []byte) error {
	var e *Error
	if !errors.As(err, &e) || e.Line == 0 {
		return err
	}
	lines := strings.Split(string(data), "\n")
	for _, n := range []int{e.Line - 1, e.Line} { // yaml.v3 may name the next line
		if n < 0 || n >= len(lines) || !strings.Contains(lines[n], "${") {
			continue
		}
		m := regexp.MustCompile(`([A-Za-z_]+):\s*([^,{}\s"']*\$\{[^}]*\}[^,{}\s]*)`).FindStringSubmatch(lines[n])
		e.Line = n + 1
		if m != nil {
			e.Msg += fmt.Sprintf("; a value with ${…} inside {…} must be quoted: quote it: %s: %s", clip(m[1]), Quote(m[2]))
		} else {
			e.Msg += "; a value with ${…} inside {…} must be quoted"
		}
		return e
	}
	return err
}

// yamlError turns a yaml.v3 error ("yaml: line 3: ...") into an Error with
// the file name and line.
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line = l
				msg = strings.TrimSpace(tail)
			}
		}
	}
	return &Error{File: name, Line: line, Msg: msg}
}

// checker walks the YAML tree alongside the Go types, so that unknown keys
// and wrongly typed values are reported with their line and key path before
// anything is decoded.
type checker struct {
	file  string
	lines map[string]int
	errs  Errors
	// budget is how many nodes the walk may visit: the document's own and
	// MaxAliasExpansion more through aliases. An alias bomb (anchors that
	// refer to anchors, each use a copy) is stopped there.
	budget int
	// aliased counts the aliases the walk is inside: keys reached through
	// one keep the lines of their anchor, recorded once.
	aliased int
	// expanding counts the aliases and merges (<<: *a) the walk is inside,
	// and bytes the bytes of the keys and values visited there, up to
	// MaxAliasBytes: a 500 KB value used 95,000 times is 47 GB to hash,
	// compare and quote for every later step.
	expanding, bytes int
	// active holds the nodes the walk is inside, to catch cycles.
	active map[*yaml.Node]bool
	// fields caches yamlFields per struct type: an alias bomb visits
	// 100,000 mappings of a few types.
	fields map[reflect.Type]map[string]reflect.Type
}

// line records the line of the key at path, once per node of the file.
func (c *checker) line(path string, n *yaml.Node) {
	if c.aliased == 0 {
		c.lines[path] = n.Line
	}
}

// MaxAliasExpansion bounds the nodes that YAML aliases may add to an
// sso.yaml when expanded (each use of an alias counts its whole value).
// Reusing lists through anchors stays far below it; a bomb does not.
const MaxAliasExpansion = 100_000

// MaxAliasBytes bounds the bytes of keys and values that YAML aliases and
// merge keys may add to an sso.yaml when expanded, 16 times the file's own
// limit: 100,000 nodes of 160 bytes, or a 500 KB value used 33 times.
const MaxAliasBytes = 16 << 20

// spend counts the bytes of s, met at n, against MaxAliasBytes when the
// walk is inside an alias or a merge, and reports whether the walk may go
// on.
func (c *checker) spend(n *yaml.Node, path, s string) bool {
	if c.expanding == 0 || c.budget <= 0 {
		return c.budget > 0
	}
	if c.bytes += len(s); c.bytes > MaxAliasBytes {
		c.errorf(n, path, "the file's aliases expand to more than %d bytes (16 MiB, the alias expansion limit): is a long value used too often?", MaxAliasBytes)
		c.budget = 0
		return false
	}
	return true
}

// countNodes counts a document's nodes without following aliases.
func countNodes(n *yaml.Node) int {
	total := 1
	for _, c := range n.Content {
		total += countNodes(c)
	}
	return total
}

func (c *checker) errorf(n *yaml.Node, key, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) sorted() Errors {
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Line < c.errs[j].Line })
	return c.errs
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func (c *checker) check(n *yaml.Node, t reflect.Type, path string) {
	if c.budget <= 0 {
		return
	}
	if c.budget--; c.budget == 0 {
		c.errorf(n, path, "the file's aliases expand to more than %d nodes (the alias expansion limit): is it an alias bomb?", MaxAliasExpansion)
		return
	}
	if n.Kind == yaml.AliasNode {
		at := n
		n = n.Alias
		c.aliased++
		c.expanding++
		defer func() { c.aliased--; c.expanding-- }()
		if !c.spend(at, path, n.Value) {
			return
		}
	} else if !c.spend(n, path, n.Value) {
		return
	}
	// A value that holds an alias of itself (&a [*a], or &b {<<: *b}) is a
	// cycle: no sso.yaml can mean it.
	if c.active[n] {
		c.errorf(n, path, "an alias here refers to a value that contains it (a cycle)")
		c.budget = 0
		return
	}
	if c.active == nil {
		c.active = map[*yaml.Node]bool{}
	}
	c.active[n] = true
	defer delete(c.active, n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) && n.Kind == yaml.ScalarNode {
		return // a shorthand scalar; its UnmarshalYAML validates it
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.errorf(n, path, "want a mapping of keys, got %s", describe(n))
			return
		}
		fields := c.fields[t]
		if fields == nil {
			if c.fields == nil {
				c.fields = map[reflect.Type]map[string]reflect.Type{}
			}
			fields = yamlFields(t)
			c.fields[t] = fields
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if c.merge(k, v, t, path) {
				continue
			}
			key := join(path, k.Value)
			if !c.spend(k, key, k.Value) {
				return
			}
			c.line(key, k)
			ft, ok := fields[k.Value]
			if !ok {
				c.errorf(k, key, "unknown key %s%s", Quote(k.Value), suggest(k.Value, fields))
				continue
			}
			c.check(v, ft, key)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.errorf(n, path, "want a list, got %s", describe(n))
			return
		}
		for i, item := range n.Content {
			key := fmt.Sprintf("%s[%d]", path, i)
			c.line(key, item)
			c.check(item, t.Elem(), key)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.errorf(n, path, "want a mapping, got %s", describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if c.merge(k, v, t, path) {
				continue
			}
			key := join(path, k.Value)
			if !c.spend(k, key, k.Value) {
				return
			}
			c.line(key, k)
			c.check(v, t.Elem(), key)
		}
	case reflect.Interface:
		// any value is accepted (bound_claims values)
	default:
		if n.Kind != yaml.ScalarNode {
			c.errorf(n, path, "want %s, got %s", kindName(t), describe(n))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.errorf(n, path, "want %s, got %s", kindName(t), Quote(n.Value))
			return
		}
		if strings.HasSuffix(path, "_env") && n.Value != "" && !IsVarName(n.Value) {
			c.errorf(n, path, "not a variable name: give the name of the environment variable that holds the value (the value is not shown: it may be the secret itself)")
		}
	}
}

var envName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// IsVarName reports whether s can name an environment variable.
func IsVarName(s string) bool { return envName().MatchString(s) }

// merge checks the value of YAML's merge key (<<: *defaults, or a list of
// such) as part of the mapping it sits in, and reports whether k was one.
func (c *checker) merge(k, v *yaml.Node, t reflect.Type, path string) bool {
	if k.Tag != "!!merge" {
		return false
	}
	c.expanding++ // what it merges is counted like an alias
	defer func() { c.expanding-- }()
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	for _, m := range items {
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		if m.Kind != yaml.MappingNode {
			c.errorf(m, path, "<< merges mappings, got %s", describe(m))
			continue
		}
		c.check(m, t, path)
	}
	return true
}

// yamlFields maps the YAML keys of struct t (inline structs flattened) to
// their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// join is the key path of key in the mapping at path.
func join(path, key string) string {
	if path == "" {
		return clip(key)
	}
	return path + "." + clip(key)
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return Quote(n.Value)
	}
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	default:
		return t.Kind().String()
	}
}

// suggest proposes the closest known key for a misspelt one.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for k := range fields {
		if d := editDistance(key, k); d < bestD || (d == bestD && best != "" && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", Quote(best))
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// UnmarshalYAML accepts `audience: vault` as well as the mapping form.
func (a *AudienceMapper) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		a.Client = n.Value
		return nil
	}
	type plain AudienceMapper
	return n.Decode((*plain)(a))
}

// MarshalYAML writes the `audience: vault` shorthand when nothing else is set.
func (a AudienceMapper) MarshalYAML() (any, error) {
	if a.Custom == "" && a.TokenFlags == (TokenFlags{}) {
		return a.Client, nil
	}
	type plain AudienceMapper
	return plain(a), nil
}

// Marshal renders v (a File or a section) as sso.yaml text, two-space
// indented.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// VaultEnv reads a Vault client variable the way both CLIs allow: VAULT_X,
// else OpenBao's BAO_X (name is X, e.g. "ADDR"). It returns the value and
// the variable it came from ("" when neither is set).
func VaultEnv(getenv func(string) string, name string) (value, from string) {
	for _, k := range []string{"VAULT_" + name, "BAO_" + name} {
		if v := getenv(k); v != "" {
			return v, k
		}
	}
	return "", ""
}
