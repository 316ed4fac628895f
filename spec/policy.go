package spec

import (
	"bytes"
	"path"
	"strings"
	"unicode/utf8"

	"cel.dev/cel-go/parser/gen"
	"github.com/antlr4-go/antlr/v4"
	"go.yaml.in/yaml/v3"
)

// This file reads the policy keys: policies (in a spec file or a file
// given with --policy) and production.

// DefaultProduction is the glob of production deployments' names when no
// file sets production.
const DefaultProduction Glob = "*prod*"

// Condition says what a policy's expression is evaluated over: each
// effective grant, or each scope with its grants.
type Condition string

// The conditions of a policy, named by their keys.
const (
	ConditionGrant Condition = "grant"
	ConditionScope Condition = "scope"
)

// Policy is one entry of policies: a rule whose expression (CEL, a
// boolean) is a violation when true.
type Policy struct {
	// Pos is the position of the entry.
	Pos         Pos
	Name        string
	Description string
	// On is the key of its expression: grant or scope.
	On   Condition
	Expr Expr
	// Files are the globs of files: the rule covers only grants written by
	// spec files whose path (absolute and cleaned, or any trailing part of
	// it after a /: see MatchFile) matches one; none means every grant,
	// written by a spec file or not.
	Files []Pattern
}

// Expr is a CEL expression as written in a spec file.
type Expr struct {
	Text string
	// Pos is the position of the YAML value holding it.
	Pos Pos
	// layout says how the text lies in the file: see At.
	layout exprLayout
	// start is the column of the text's first character (one-line
	// layout), or the indentation of its lines (block layout).
	start int
	// segs are where the pieces of a folded text lie (segment layout).
	segs []exprSeg
}

// exprSeg is a piece of an expression's text written verbatim on one line
// of the file: from byte off of the text, at line and col of the file.
type exprSeg struct {
	off, line, col int
}

type exprLayout int

const (
	layoutUnknown exprLayout = iota // folded, or escapes: only Pos is known
	layoutLine                      // written verbatim on the line of Pos from column start
	layoutBlock                     // a literal block: line i of the text is line Pos.Line+i, from column start
	layoutSegs                      // folded (>, or plain or quoted on several lines): pieces of lines, in segs
	layoutQuoted                    // quoted, with escapes: where its lines fold is not known, only Pos
)

// At is the position in the file of the character at line and col of the
// expression's text (both counting from 1, columns in characters, as CEL
// reports them). It is exact for an expression on one line, plain or
// quoted without escapes, for a literal block scalar (|), and for a folded
// one (> and >-, or plain or quoted on several lines); otherwise (a quoted
// value with escapes) it is the position of the value.
func (e Expr) At(line, col int) Pos {
	switch {
	case e.layout == layoutLine && line == 1:
		return Pos{File: e.Pos.File, Line: e.Pos.Line, Col: e.start + col - 1}
	case e.layout == layoutBlock && line >= 1:
		return Pos{File: e.Pos.File, Line: e.Pos.Line + line, Col: e.start + col - 1}
	case e.layout == layoutSegs:
		off, ok := textOffset(e.Text, line, col)
		if !ok {
			break
		}
		i := len(e.segs) - 1
		for i > 0 && e.segs[i].off > off {
			i--
		}
		sg := e.segs[i]
		return Pos{File: e.Pos.File, Line: sg.line, Col: sg.col + utf8.RuneCountInString(e.Text[sg.off:off])}
	}
	return e.Pos
}

// foldedComment reports a // comment of e, the value of key, that
// comments out lines folding joined to its own (see swallowingComment).
func (f *file) foldedComment(e Expr, key string) {
	at, ok := e.swallowingComment()
	switch {
	case ok && e.layout == layoutQuoted:
		f.errorf(at.Line, at.Col, "this quoted rule has a // comment, which runs to the end of the rule's line: YAML folds the lines of a quoted value into one, and with escapes where they fold cannot be told, so the lines after the comment may not be part of the rule; write it as a literal block (%s: |) or drop the comment", key)
	case ok:
		f.errorf(at.Line, at.Col, "this // comment runs to the end of the rule's line, which folding made of the lines after it too: they are not part of the rule; write it as a literal block (%s: |) or drop the comment", key)
	}
}

// swallowingComment is where a // comment starts, in a folded text, that
// comments out what folding joined to its line from a later line of the
// file: YAML folds the lines of >, of a plain value and of a quoted one
// into one, and a comment in CEL runs to the end of the line. The text is
// read by CEL's own lexer, so that // in a string (a URL) or a quoted
// identifier is no comment. A quoted value with escapes cannot be mapped
// to its lines: any comment in it is where the value starts.
func (e Expr) swallowingComment() (Pos, bool) {
	switch e.layout {
	case layoutQuoted:
		return e.Pos, len(comments(e.Text)) > 0
	case layoutSegs:
	default:
		return Pos{}, false
	}
	for _, c := range comments(e.Text) {
		for _, sg := range e.segs {
			if sg.off > c.start && sg.off < c.end {
				line, col := lineCol(e.Text, c.start)
				return e.At(line, col), true
			}
		}
	}
	return Pos{}, false
}

// span is a piece of a text, from byte start to byte end.
type span struct{ start, end int }

// comments are the // comments of text, a CEL expression, as CEL's lexer
// reads them. Past what it cannot read (a string left open, say) it goes
// on as it does when the compiler reads the text, which reports that.
func comments(text string) []span {
	// The lexer counts in characters; off[i] is the byte offset of
	// character i.
	off := make([]int, 0, len(text)+1)
	for i := range text {
		off = append(off, i)
	}
	off = append(off, len(text))
	lex := gen.NewCELLexer(antlr.NewInputStream(text))
	lex.RemoveErrorListeners() // the default one prints to standard error
	var out []span
	for tok := lex.NextToken(); tok.GetTokenType() != antlr.TokenEOF; tok = lex.NextToken() {
		if tok.GetTokenType() == gen.CELLexerCOMMENT {
			out = append(out, span{off[tok.GetStart()], off[tok.GetStop()+1]})
		}
	}
	return out
}

// lineCol is the line and column (from 1, in characters) of byte off of
// text.
func lineCol(text string, off int) (int, int) {
	line := 1 + strings.Count(text[:off], "\n")
	start := strings.LastIndexByte(text[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(text[start:off])
}

// textOffset is the byte offset in text of line and col (from 1, col in
// characters).
func textOffset(text string, line, col int) (int, bool) {
	off := 0
	for ; line > 1; line-- {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	rest, ok := skipRunes(text[off:], col-1)
	return len(text) - len(rest), ok && col >= 1
}

// folded finds the pieces of text, a folded scalar's value, on the lines
// of the file from line first (from column col on that line, the rest of
// it from their indentation), as YAML folds them: lines joined by a space
// or a line feed, blank lines and indentation left out. Nil when the lines
// do not give text so.
func (f *file) folded(text string, first, col int) []exprSeg {
	var segs []exprSeg
	pos := 0
	for i := first; pos < len(text); i++ {
		raw, ok := f.lineOK(i)
		if !ok {
			return nil
		}
		start := 1
		if i == first {
			if raw, ok = skipRunes(raw, col-1); !ok {
				return nil
			}
			start = col
		}
		trimmed := strings.TrimLeft(raw, " \t")
		content := strings.TrimRight(trimmed, " \t")
		if content == "" {
			continue
		}
		start += utf8.RuneCountInString(raw) - utf8.RuneCountInString(trimmed)
		rest := text[pos:]
		switch {
		case strings.HasPrefix(rest, content):
		case strings.HasPrefix(content, rest): // the value ends within the line (a comment follows)
			content = rest
		default:
			return nil
		}
		segs = append(segs, exprSeg{off: pos, line: i, col: start})
		pos += len(content)
		for pos < len(text) && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n') {
			pos++
		}
	}
	return segs
}

var (
	policyKeys     = []string{"name", "description", "grant", "scope", "files"}
	policyFileKeys = []string{"version", "policies", "production"}
)

// Production are the globs of production deployments' names: those of the
// production key, or DefaultProduction when no file sets it.
func (s *Spec) ProductionGlobs() []Glob {
	if s.ProductionPos.File == "" {
		return []Glob{DefaultProduction}
	}
	out := make([]Glob, len(s.Production))
	for i, p := range s.Production {
		out[i] = Glob(p.Glob)
	}
	return out
}

// production reads the top-level key production (p), which one file at
// most may have: a policy file (--policy), or a spec file that no policy's
// files match (see checkProduction).
func (f *file) production(p pair) {
	first := &f.l.specProduction
	if f.policyOnly {
		first = &f.l.policyProduction
	}
	if first.File != "" {
		f.errorAt(p.key, "production is already set at %s; production deployments are set in one file only", *first)
		return
	}
	globs := f.globs(p.value, "production", nil)
	if globs == nil {
		globs = []Pattern{}
	}
	*first = f.pos(p.key)
	if f.policyOnly || f.l.policyProduction.File == "" { // a policy file's wins
		f.l.spec.Production, f.l.spec.ProductionPos = globs, *first
	}
}

// checkProduction reports a spec file's production key that no spec file
// may have, once every file is read: when a policy file sets production
// (the policy's owner pins it), or when a policy's files match the spec
// file (a delegated file may not choose which deployments the rules call
// production).
func (l *loader) checkProduction() {
	at := l.specProduction
	if at.File == "" {
		return
	}
	if pin := l.policyProduction; pin.File != "" {
		l.errorf(at, "production is already set at %s, in a policy file (--policy); a spec file may not set it too", pin)
		return
	}
	for _, p := range l.spec.Policies {
		for _, g := range p.Files {
			if MatchFile([]Glob{Glob(g.Glob)}, at.File) {
				l.errorf(at, "production may not be set in a file that policy %s covers (files %s at %s): the rules' owner sets it, in a policy file (--policy) or a spec file no policy's files match", excerpt(p.Name), excerpt(g.Glob), g.Pos)
				return
			}
		}
	}
}

// policyTop checks the root of a file given with --policy: a mapping of
// policies, production, or both, and, optionally, version.
func (f *file) policyTop(root *yaml.Node) {
	if root.Kind != yaml.MappingNode {
		f.errorAt(root, "the top level must be a mapping, got %s", describe(root))
		return
	}
	var fm fieldMap
	f.fields(root, "in policy file", policyFileKeys, &fm)
	if p, ok := fm.get("version"); ok {
		f.version(p.value)
	}
	if p, ok := fm.get("policies"); ok {
		f.policies(p.value)
	} else if fm.missing("policies") && !fm.has("production") {
		f.errorAt(root, `missing key "policies" (a policy file holds the rules under "policies")`)
	}
	if p, ok := fm.get("production"); ok {
		f.production(p)
	}
}

// policies reads the value of a policies key.
func (f *file) policies(v *yaml.Node) {
	for _, item := range f.list(v, "policies") {
		f.policy(item)
	}
}

// policy reads one entry of policies.
func (f *file) policy(n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		return
	}
	if n.Kind != yaml.MappingNode {
		f.errorAt(n, `"policies" entry must be a mapping, got %s`, describe(n))
		return
	}
	var fm fieldMap
	f.fields(n, "in policy", policyKeys, &fm)
	p := Policy{Pos: f.pos(n)}
	name, named := f.value(&fm, "name")
	if !fm.has("name") && fm.missing("name") {
		f.errorAt(n, `policy needs "name"`)
	}
	p.Name = name
	prefix, noun := "", "policy"
	if named {
		prefix, noun = "policy "+excerpt(name)+": ", "policy "+excerpt(name)
	}
	if d, ok := fm.get("description"); ok {
		p.Description, _ = f.str(d.value, "description", "")
	} else if fm.missing("description") {
		f.errorAt(n, `%smissing key "description" (what a violation reports)`, prefix)
	}
	valid := named
	switch g, s := fm.has("grant"), fm.has("scope"); {
	case g && s:
		pg, _ := fm.get("grant")
		ps, _ := fm.get("scope")
		f.errorAt(later(pg.key, ps.key), `%s has both "grant" and "scope"; use one`, noun)
		valid = false
	case !g && !s:
		if fm.missing("grant") && fm.missing("scope") {
			f.errorAt(n, `%s needs "grant" (an expression over each grant) or "scope" (over each scope and its grants)`, noun)
		}
		valid = false
	default:
		p.On = ConditionGrant
		if s {
			p.On = ConditionScope
		}
		q, _ := fm.get(string(p.On))
		text, ok := f.str(q.value, string(p.On), "")
		valid = valid && ok
		p.Expr = f.expr(q.value, text)
		f.foldedComment(p.Expr, string(p.On))
	}
	if q, ok := fm.get("files"); ok {
		p.Files = f.globs(q.value, "files", nil)
		f.cleanFiles(p.Files)
	}
	if !named {
		return
	}
	f.declarePolicy(p)
	if valid { // a duplicate too: its other errors are reported with this one
		f.l.spec.Policies = append(f.l.spec.Policies, p)
	}
}

// declarePolicy records the name of policy p, or reports it taken.
func (f *file) declarePolicy(p Policy) {
	first, dup := f.l.policies[p.Name]
	switch {
	case !dup:
		f.l.policies[p.Name] = declared{p.Pos, f.policyOnly}
	case f.policyOnly && !first.policyFile:
		// Policy files are read last: the spec file that takes the name
		// of a rule its owner wrote is the one to change.
		f.l.errorf(first.Pos, "policy %s is also declared at %s, in a policy file (--policy); policy names are unique over all files", excerpt(p.Name), p.Pos)
	default:
		f.l.errorf(p.Pos, "policy %s is already declared at %s; policy names are unique over all files", excerpt(p.Name), first.Pos)
	}
}

// cleanFiles reports the globs of a policy's files that are not clean
// paths: a glob is matched against the absolute path of a spec file,
// cleaned (MatchFile), so one with "//", a "." or ".." part or a trailing '/'
// would match no file however -f spells it.
func (f *file) cleanFiles(globs []Pattern) {
	for _, g := range globs {
		want := path.Clean(g.Glob)
		if want == g.Glob {
			continue
		}
		if strings.HasSuffix(g.Glob, "/") && want != "/" {
			want += "/*"
		}
		f.l.errorf(g.Pos, "files glob %s is not a clean path, and would match no file: write %s (a glob is matched against the spec file's absolute path, cleaned, with / between its parts)", excerpt(g.Glob), excerpt(want))
	}
}

// expr is the expression text held by the scalar v, with how it lies in
// the file.
func (f *file) expr(v *yaml.Node, text string) Expr {
	e := Expr{Text: text, Pos: f.pos(v)}
	switch v.Style {
	case 0, yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		line := f.line(v.Line)
		start := v.Column
		if v.Style != 0 {
			start++
		}
		if rest, ok := skipRunes(line, start-1); ok && strings.HasPrefix(rest, text) && !strings.ContainsAny(text, "\n") {
			e.layout, e.start = layoutLine, start
		} else if v.Line > 0 { // on several lines, or quoted with escapes
			if e.segs = f.folded(text, v.Line, start); e.segs != nil {
				e.layout = layoutSegs
			} else if v.Style != 0 {
				e.layout = layoutQuoted
			}
		}
	case yaml.FoldedStyle:
		if e.segs = f.folded(text, v.Line+1, 1); e.segs != nil {
			e.layout = layoutSegs
		}
	case yaml.LiteralStyle:
		for i := v.Line + 1; ; i++ {
			line, ok := f.lineOK(i)
			if !ok {
				break
			}
			if trimmed := strings.TrimLeft(line, " "); trimmed != "" {
				e.layout, e.start = layoutBlock, len(line)-len(trimmed)+1
				break
			}
		}
	}
	return e
}

// skipRunes returns s without its first n characters.
func skipRunes(s string, n int) (string, bool) {
	for ; n > 0; n-- {
		if s == "" {
			return "", false
		}
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
	}
	return s, true
}

// line is the text of line n (from 1) of the file, without its line end.
func (f *file) line(n int) string {
	s, _ := f.lineOK(n)
	return s
}

func (f *file) lineOK(n int) (string, bool) {
	text := f.text
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(text, '\n')
		if j < 0 {
			return "", false
		}
		text = text[j+1:]
	}
	if len(text) == 0 {
		return "", false
	}
	if j := bytes.IndexByte(text, '\n'); j >= 0 {
		text = text[:j]
	}
	return string(bytes.TrimSuffix(text, []byte("\r"))), true
}
