package inspect

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"

	"github.com/ryanuber/go-glob"
)

// The budgets of ssoctl's evaluation of OpenBao's templated token policies
// (token_policies_template_claims). OpenBao itself runs the templates with
// no limit at all (docs/openbao.md); ssoctl stops at the first budget a
// role's templates go past and says it cannot evaluate them
// (*TemplateLimitError). All of them are per role: the budgets are shared
// by the role's templates together.
const (
	// MaxTemplateText bounds the bytes of template text in a role's
	// token_policies together; longer text is not parsed (text/template's
	// parser is recursive, and deeply nested text costs it stack).
	MaxTemplateText = 64 << 10
	// MaxTemplateSteps bounds the steps of an evaluation: one for every
	// node of a template body, branch or range iteration that runs (an
	// empty body costs one too).
	MaxTemplateSteps = 100_000
	// MaxTemplateOutput bounds the bytes the templates write.
	MaxTemplateOutput = 64 << 10
	// MaxTemplateValue bounds the bytes one function call may produce
	// (printf, replace, base64, …), checked before the call where the
	// size can be known in advance, so that a variable cannot grow
	// without writes.
	MaxTemplateValue = 1 << 20
	// MaxTemplateFuncBytes bounds the bytes all function calls together
	// produce.
	MaxTemplateFuncBytes = 16 << 20
	// MaxTemplateDepth bounds the nesting of what runs: the depth of the
	// parse tree of each template being executed, summed over the
	// {{template}} calls under way. Go's own limit (100000 calls) costs
	// about 120 MB of stack before it stops.
	MaxTemplateDepth = 10_000
	// MaxTemplateTime bounds the wall time of an evaluation.
	MaxTemplateTime = 250 * time.Millisecond
)

// TemplateLimit names the budget a template went past.
type TemplateLimit string

// The budgets, as TemplateLimitError names them.
const (
	TemplateLimitText      TemplateLimit = "text"       // MaxTemplateText
	TemplateLimitSteps     TemplateLimit = "steps"      // MaxTemplateSteps
	TemplateLimitOutput    TemplateLimit = "output"     // MaxTemplateOutput
	TemplateLimitValue     TemplateLimit = "value"      // MaxTemplateValue
	TemplateLimitFuncBytes TemplateLimit = "func-bytes" // MaxTemplateFuncBytes
	TemplateLimitDepth     TemplateLimit = "depth"      // MaxTemplateDepth
	TemplateLimitTime      TemplateLimit = "time"       // MaxTemplateTime
)

// TemplateLimitError is ssoctl's verdict "ssoctl cannot evaluate this
// template": a token_policies template went past one of ssoctl's budgets
// (MaxTemplateSteps and the rest). It says nothing of what OpenBao would
// do, which has no limit of its own. It blames the input (BadInput) when the
// role comes from a file; for a role read from a server the model turns it
// into a warning (VaultOptions.RoleFromServer).
type TemplateLimitError struct {
	// Policy is the index in token_policies of the template that stopped.
	Policy int
	// Limit is the budget it went past, Max that budget (bytes, steps,
	// nesting, or milliseconds for TemplateLimitTime).
	Limit TemplateLimit
	Max   int64
	// Steps, Output and FuncBytes are what the evaluation had spent when it
	// stopped: steps run, bytes written, bytes produced by function calls.
	Steps, Output, FuncBytes int64
}

// Error implements error.
func (e *TemplateLimitError) Error() string {
	what := map[TemplateLimit]string{
		TemplateLimitText:      "%d bytes of template text",
		TemplateLimitSteps:     "%d steps",
		TemplateLimitOutput:    "%d bytes of output",
		TemplateLimitValue:     "%d bytes from one function call",
		TemplateLimitFuncBytes: "%d bytes from function calls",
		TemplateLimitDepth:     "a nesting of %d",
		TemplateLimitTime:      "%d ms",
	}[e.Limit]
	return fmt.Sprintf("ssoctl cannot evaluate this template: token_policies template [%d] goes past ssoctl's budget of "+what, e.Policy, e.Max)
}

// BadInput reports true: a role file whose templates ssoctl cannot
// evaluate is refused like a malformed one (exit 2).
func (e *TemplateLimitError) BadInput() bool { return true }

// templateLimits are the budgets of one evaluation; tests shrink them.
type templateLimits struct {
	text, steps, output, value, funcBytes, depth int64
	time                                         time.Duration
}

var defaultTemplateLimits = templateLimits{text: MaxTemplateText, steps: MaxTemplateSteps, output: MaxTemplateOutput,
	value: MaxTemplateValue, funcBytes: MaxTemplateFuncBytes, depth: MaxTemplateDepth, time: MaxTemplateTime}

// templateBudget is what one evaluation (all of a role's templates) has
// spent.
type templateBudget struct {
	lim                      templateLimits
	deadline                 time.Time
	policy                   int
	steps, output, funcBytes int64
	depth                    int64
	sizes                    map[sizeKey]valueSize
	// The instrumentation's marks: empty text nodes, told apart from the
	// template's own text by their backing arrays. Executing one writes
	// nothing and costs a step, or enters or leaves a {{template}} call
	// (the weight: + on entry, - on return).
	stepMark []byte
	weights  map[*byte]int64
}

func newTemplateBudget(lim templateLimits) *templateBudget {
	return &templateBudget{lim: lim, deadline: time.Now().Add(lim.time), stepMark: make([]byte, 0, 1), weights: map[*byte]int64{}}
}

func (b *templateBudget) fail(l TemplateLimit) *TemplateLimitError {
	max := map[TemplateLimit]int64{TemplateLimitText: b.lim.text, TemplateLimitSteps: b.lim.steps, TemplateLimitOutput: b.lim.output,
		TemplateLimitValue: b.lim.value, TemplateLimitFuncBytes: b.lim.funcBytes, TemplateLimitDepth: b.lim.depth,
		TemplateLimitTime: b.lim.time.Milliseconds()}[l]
	return &TemplateLimitError{Policy: b.policy, Limit: l, Max: max, Steps: b.steps, Output: b.output, FuncBytes: b.funcBytes}
}

// step is run before every node of every list that runs.
func (b *templateBudget) step() error {
	b.steps++
	if b.steps > b.lim.steps {
		return b.fail(TemplateLimitSteps)
	}
	if !time.Now().Before(b.deadline) {
		return b.fail(TemplateLimitTime)
	}
	return nil
}

// mark runs the instrumentation's mark p, if it is one.
func (b *templateBudget) mark(p []byte) error {
	if cap(p) == 0 {
		return nil
	}
	at := &p[:1][0]
	if at == &b.stepMark[:1][0] {
		return b.step()
	}
	if b.depth += b.weights[at]; b.depth > b.lim.depth {
		return b.fail(TemplateLimitDepth)
	}
	return nil
}

// newMark is a mark of its own, with a depth weight.
func (b *templateBudget) newMark(weight int64) []byte {
	m := make([]byte, 0, 1)
	b.weights[&m[:1][0]] = weight
	return m
}

// fits checks, before a function call, that the n bytes it may produce
// are within the value budget.
func (b *templateBudget) fits(n int64) error {
	if n > b.lim.value {
		return b.fail(TemplateLimitValue)
	}
	return nil
}

// result charges the string a function made.
func (b *templateBudget) result(s string) (string, error) {
	if err := b.fits(int64(len(s))); err != nil {
		return "", err
	}
	if b.funcBytes += int64(len(s)); b.funcBytes > b.lim.funcBytes {
		return "", b.fail(TemplateLimitFuncBytes)
	}
	return s, nil
}

// budgetWriter collects one template's output within the output budget.
type budgetWriter struct {
	b  *templateBudget
	sb strings.Builder
}

func (w *budgetWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, w.b.mark(p)
	}
	if w.b.output+int64(len(p)) > w.b.lim.output {
		return 0, w.b.fail(TemplateLimitOutput)
	}
	w.b.output += int64(len(p))
	return w.sb.Write(p)
}

// funcs are the functions the instrumented templates run with: OpenBao's
// (base, from templateFuncs) and text/template's that allocate, each
// checking the size it produces (or, for glob, allocates). Arguments and results are those of the
// functions they stand for, so conversions and error texts stay the same.
func (b *templateBudget) funcs(base template.FuncMap) template.FuncMap {
	random := base["random"].(func(int) (string, error))
	return template.FuncMap{
		// OpenBao makes n random characters; ssoctl only marks the result
		// unpredictable, but holds n to the value budget all the same.
		"random": func(n int) (string, error) {
			if err := b.fits(int64(n)); err != nil {
				return "", err
			}
			return random(n)
		},
		"replace": func(find, repl, s string) (string, error) {
			n := int64(len(s)) + int64(strings.Count(s, find))*int64(len(repl)-len(find))
			if err := b.fits(n); err != nil {
				return "", err
			}
			return b.result(strings.ReplaceAll(s, find, repl))
		},
		// go-glob splits the pattern at each * (16 bytes a part).
		"glob": func(pattern, v string) (bool, error) {
			if err := b.fits(16 * int64(strings.Count(pattern, "*")+1)); err != nil {
				return false, err
			}
			return glob.Glob(pattern, v), nil
		},
		"uppercase": func(s string) (string, error) { return b.result(strings.ToUpper(s)) },
		"lowercase": func(s string) (string, error) { return b.result(strings.ToLower(s)) },
		"base64": func(s string) (string, error) {
			if err := b.fits(int64(base64.StdEncoding.EncodedLen(len(s)))); err != nil {
				return "", err
			}
			return b.result(base64.StdEncoding.EncodeToString([]byte(s)))
		},
		"decode_base64": func(s string) (string, error) {
			d, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return string(d), err
			}
			return b.result(string(d))
		},
		"hex": func(s string) (string, error) {
			if err := b.fits(int64(hex.EncodedLen(len(s)))); err != nil {
				return "", err
			}
			return b.result(hex.EncodeToString([]byte(s)))
		},
		"decode_hex": func(s string) (string, error) {
			d, err := hex.DecodeString(s)
			if err != nil {
				return string(d), err
			}
			return b.result(string(d))
		},
		"printf": func(format string, args ...any) (string, error) {
			if err := b.fits(b.printfBound(format, args)); err != nil {
				return "", err
			}
			return b.result(fmt.Sprintf(format, args...))
		},
		"print": func(args ...any) (string, error) {
			if err := b.fits(b.printBound(args)); err != nil {
				return "", err
			}
			return b.result(fmt.Sprint(args...))
		},
		"println": func(args ...any) (string, error) {
			if err := b.fits(b.printBound(args) + 1); err != nil {
				return "", err
			}
			return b.result(fmt.Sprintln(args...))
		},
		// The escapers format their arguments as print does, then grow
		// the text at most sixfold.
		"html":     b.escaper(template.HTMLEscaper),
		"js":       b.escaper(template.JSEscaper),
		"urlquery": b.escaper(template.URLQueryEscaper),
	}
}

func (b *templateBudget) escaper(f func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		if err := b.fits(b.printBound(args)); err != nil {
			return "", err
		}
		return b.result(f(args...))
	}
}

// valueSize bounds what fmt makes of a value: bytes with any verb
// (printf), bytes with %v (print), and the leaves a verb's width and
// precision apply to.
type valueSize struct{ any, plain, leaves int64 }

type sizeKey struct {
	p    uintptr
	n    int
	kind reflect.Kind
}

// scalarSize bounds fmt's text for a number, bool or nil with any verb
// and no width or precision (%f of 1e308 is 316 bytes; a complex has two).
const scalarSize = 1024

// size bounds fmt's text for v. Composite values (the claims' objects and
// lists) are measured once per evaluation.
func (b *templateBudget) size(v any) valueSize {
	switch x := v.(type) {
	case string:
		// %q, %x, "% #x" grow a string at most fivefold; a verb that does
		// not fit wraps it in %!v(string=…).
		return valueSize{any: 6*int64(len(x)) + 40, plain: int64(len(x)), leaves: 1}
	case map[string]any:
		if len(x) == 0 {
			return valueSize{any: 64, plain: 8, leaves: 1}
		}
		k := sizeKey{reflect.ValueOf(x).Pointer(), len(x), reflect.Map}
		if s, ok := b.sizes[k]; ok {
			return s
		}
		s := valueSize{any: 64, plain: 8}
		for key, e := range x {
			ks, es := b.size(key), b.size(e)
			s.any += ks.any + es.any + 4
			s.plain += ks.plain + es.plain + 2
			s.leaves += ks.leaves + es.leaves
		}
		b.memo(k, s)
		return s
	case []any:
		if len(x) == 0 {
			return valueSize{any: 64, plain: 8, leaves: 1}
		}
		k := sizeKey{reflect.ValueOf(x).Pointer(), len(x), reflect.Slice}
		if s, ok := b.sizes[k]; ok {
			return s
		}
		s := valueSize{any: 64, plain: 8}
		for _, e := range x {
			es := b.size(e)
			s.any += es.any + 2
			s.plain += es.plain + 1
			s.leaves += es.leaves
		}
		b.memo(k, s)
		return s
	case complex64, complex128:
		return valueSize{any: 2 * scalarSize, plain: 2 * scalarSize, leaves: 2}
	}
	return valueSize{any: scalarSize, plain: scalarSize, leaves: 1}
}

func (b *templateBudget) memo(k sizeKey, s valueSize) {
	if b.sizes == nil {
		b.sizes = map[sizeKey]valueSize{}
	}
	b.sizes[k] = s
}

// printBound bounds fmt.Sprint(args...) (and the escapers' input).
func (b *templateBudget) printBound(args []any) int64 {
	n := int64(0)
	for _, a := range args {
		n += b.size(a).plain + 1
	}
	return n
}

// fmtMaxNum is the largest width or precision fmt reads from digits: it
// stops past 1e6 (and drops the rest of the format).
const fmtMaxNum = 1e6*10 + 9

// printfBound bounds fmt.Sprintf(format, args...) from above: the format,
// every argument formatted with any verb (again for each verb that picks
// its argument by [n]), and each verb's width and precision once for every
// leaf of the largest argument, plus room for fmt's %!verb(…) notes.
func (b *templateBudget) printfBound(format string, args []any) int64 {
	sum, maxAny, maxLeaves, maxStar := int64(0), int64(0), int64(1), int64(0)
	for _, a := range args {
		s := b.size(a)
		sum += s.any
		maxAny, maxLeaves = max(maxAny, s.any), max(maxLeaves, s.leaves)
		if n, ok := fmtIntArg(a); ok {
			maxStar = max(maxStar, n)
		}
	}
	verbs, indexed, pads := int64(0), int64(0), int64(0)
	// num reads a width or precision at format[i:] as fmt does.
	num := func(i int) (int64, int, bool) {
		if i < len(format) && format[i] == '*' {
			return maxStar, i + 1, true
		}
		n := int64(0)
		for ; i < len(format) && '0' <= format[i] && format[i] <= '9'; i++ {
			if n > 1e6 {
				return 0, len(format), false // fmt gives up on the rest
			}
			n = n*10 + int64(format[i]-'0')
		}
		return n, i, true
	}
	index := func(i int) int {
		if i < len(format) && format[i] == '[' {
			indexed++
			if j := strings.IndexByte(format[i:], ']'); j >= 0 {
				return i + j + 1
			}
		}
		return i
	}
scan:
	for i := 0; i < len(format); {
		if format[i] != '%' {
			i++
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("#0+- ", format[i]) >= 0 {
			i++
		}
		i = index(i)
		w, i2, ok := num(i)
		if i = i2; !ok {
			break scan
		}
		pads += min(w, fmtMaxNum)
		if i < len(format) && format[i] == '.' {
			i = index(i + 1)
			p, i2, ok := num(i)
			if i = i2; !ok {
				break scan
			}
			pads += min(p, fmtMaxNum)
		}
		i = index(i)
		if i < len(format) {
			_, n := utf8.DecodeRuneInString(format[i:])
			i += n
		}
		verbs++
	}
	return int64(len(format)) + sum + indexed*maxAny + pads*maxLeaves + 64*(verbs+int64(len(args))+1)
}

// fmtIntArg is the width fmt would take from a * argument: an integer of
// at most 1e6 either way (a larger one is %!(BADWIDTH), no width).
func fmtIntArg(a any) (int64, bool) {
	v := reflect.ValueOf(a)
	n := int64(0)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n = v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n = int64(min(v.Uint(), 1<<62))
	default:
		return 0, false
	}
	if n < -1e6 || n > 1e6 {
		return 0, true
	}
	return max(n, -n), true
}

// instrument rewrites the parsed templates of t so that every node of
// every list is preceded by a step mark (an empty list gets one), and
// every {{template}} call is surrounded by marks that enter and leave the
// depth of the called template. It returns the depth of t itself. The
// marks are text nodes that write nothing, so the executor runs them
// like the template's own text: the template's semantics, output and
// error texts stay text/template's.
func (b *templateBudget) instrument(t *template.Template) int {
	depths := map[string]int{}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			depths[tt.Name()] = nodeDepth(tt.Tree.Root)
		}
	}
	seen := map[*parse.ListNode]bool{}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			b.instrumentList(tt.Tree.Root, depths, seen)
		}
	}
	return depths[t.Name()]
}

func (b *templateBudget) instrumentList(l *parse.ListNode, depths map[string]int, seen map[*parse.ListNode]bool) {
	if l == nil || seen[l] {
		return
	}
	seen[l] = true
	nodes := make([]parse.Node, 0, 2*len(l.Nodes)+1)
	if len(l.Nodes) == 0 {
		nodes = append(nodes, markNode(l.Pos, b.stepMark))
	}
	for _, n := range l.Nodes {
		pos := n.Position()
		nodes = append(nodes, markNode(pos, b.stepMark))
		switch n := n.(type) {
		case *parse.IfNode:
			b.instrumentList(n.List, depths, seen)
			b.instrumentList(n.ElseList, depths, seen)
		case *parse.RangeNode:
			b.instrumentList(n.List, depths, seen)
			b.instrumentList(n.ElseList, depths, seen)
		case *parse.WithNode:
			b.instrumentList(n.List, depths, seen)
			b.instrumentList(n.ElseList, depths, seen)
		case *parse.TemplateNode:
			w := int64(1 + depths[n.Name])
			nodes = append(nodes, markNode(pos, b.newMark(w)), n, markNode(pos, b.newMark(-w)))
			continue
		}
		nodes = append(nodes, n)
	}
	l.Nodes = nodes
}

func markNode(pos parse.Pos, mark []byte) *parse.TextNode {
	return &parse.TextNode{NodeType: parse.NodeText, Pos: pos, Text: mark}
}

// nodeDepth is the depth of a parse tree: what executing it nests.
func nodeDepth(n parse.Node) int {
	d := 0
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return 0
		}
		for _, c := range n.Nodes {
			d = max(d, nodeDepth(c))
		}
	case *parse.ActionNode:
		d = nodeDepth(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return 0
		}
		for _, c := range n.Cmds {
			d = max(d, nodeDepth(c))
		}
	case *parse.CommandNode:
		for _, c := range n.Args {
			d = max(d, nodeDepth(c))
		}
	case *parse.ChainNode:
		d = nodeDepth(n.Node)
	case *parse.IfNode:
		d = max(nodeDepth(n.Pipe), nodeDepth(n.List), nodeDepth(n.ElseList))
	case *parse.RangeNode:
		d = max(nodeDepth(n.Pipe), nodeDepth(n.List), nodeDepth(n.ElseList))
	case *parse.WithNode:
		d = max(nodeDepth(n.Pipe), nodeDepth(n.List), nodeDepth(n.ElseList))
	case *parse.TemplateNode:
		d = nodeDepth(n.Pipe)
	}
	return 1 + d
}
