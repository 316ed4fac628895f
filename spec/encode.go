package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Document is a spec file to write with Encode: what `tokensync export`
// builds. Entries, workspaces, deployments and DAGs are written in the
// order given.
type Document struct {
	Organization string
	// Comment is written at the top, one comment line per line.
	Comment string
	// OrganizationRoles is written as organizationRoles when it is not
	// nil.
	OrganizationRoles *OrganizationRolesDoc
	// Workspaces are written under workspaces when there are any.
	Workspaces  []WorkspaceDoc
	Deployments []DeploymentDoc
	// Always are the kinds whose key every entry of every level writes
	// (the organization level, each workspace, deployment and DAG), as []
	// when it has no entry of that kind, where the level has that key
	// (organizationRoles has no workspaceTokens); the other kinds are
	// written only when they have entries.
	Always []Kind
	// Ignore are globs written under ignoreTokens, ignoreUsers and
	// ignoreTeams alike: the principals they match are left alone.
	Ignore []string
}

// DeploymentDoc is one deployment of a Document, written by ID; its Name
// and Workspace name go in a comment. Its Dags are written under dags
// when there are any.
type DeploymentDoc struct {
	ID, Name, Workspace string
	Entries             map[Kind][]EntryDoc
	Dags                []DagDoc
}

// OrganizationRolesDoc is the organization level of a Document: the
// organization roles of organization tokens, users and teams. Entries of
// KindWorkspaceToken are an error: a workspace token has no organization
// role.
type OrganizationRolesDoc struct {
	Entries map[Kind][]EntryDoc
}

// WorkspaceDoc is one workspace of a Document and the workspace roles of
// its principals, written by ID with its Name in a comment, or by Name
// when ID is "".
type WorkspaceDoc struct {
	ID, Name string
	Entries  map[Kind][]EntryDoc
}

// DagDoc is one DAG entry of a deployment of a Document and the DAG roles
// of its principals: exactly one of DagID and DagTag.
type DagDoc struct {
	DagID, DagTag string
	Entries       map[Kind][]EntryDoc
}

// EntryDoc is one entry of a Document: by Name (a token's or team's name,
// a user's username) or, when Name is "", by ID. Comment follows the id
// or name.
type EntryDoc struct {
	ID, Name, Role, Comment string
}

// Encode writes doc as a spec file that Parse reads back as the same
// assignments. Every value that some YAML reader could take for anything
// but a string is double-quoted, and no character that is not printable
// (controls, line breaks, bidirectional overrides, invisible characters;
// the ASCII space aside) is written raw, in values or comments: values
// carry them as YAML escapes, comments as Go escapes.
func Encode(w io.Writer, doc Document) error {
	if err := doc.check(); err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc.node()); err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	// '#' starts no plain scalar nor key, and comments went through
	// Inert: a "##[" is in a double-quoted scalar, where \x23 is '#'.
	_, err := w.Write(bytes.ReplaceAll(escapeQuoted(b.Bytes()), []byte("##["), []byte(`#\x23[`)))
	return err
}

// check reports what doc holds that no spec can say.
func (doc Document) check() error {
	if o := doc.OrganizationRoles; o != nil && len(o.Entries[KindWorkspaceToken]) > 0 {
		return errors.New("organizationRoles has no workspaceTokens: a workspace token has no organization role")
	}
	for _, d := range doc.Deployments {
		for _, g := range d.Dags {
			if (g.DagID == "") == (g.DagTag == "") {
				return fmt.Errorf("deployment %q: a DAG entry needs exactly one of DagID and DagTag, got %q and %q", d.ID, g.DagID, g.DagTag)
			}
		}
	}
	return nil
}

// node builds the YAML document.
func (doc Document) node() *yaml.Node {
	always := map[Kind]bool{}
	for _, k := range doc.Always {
		always[k] = true
	}
	root := mapping("version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"},
		"organization", scalar(doc.Organization))
	if len(doc.Ignore) > 0 {
		for _, key := range []string{"ignoreTokens", "ignoreUsers", "ignoreTeams"} {
			globs := seq()
			for _, g := range doc.Ignore {
				globs.Content = append(globs.Content, scalar(g))
			}
			root.Content = append(root.Content, scalar(key), globs)
		}
	}
	if o := doc.OrganizationRoles; o != nil {
		org := mapping()
		writeLists(org, o.Entries, always, KindWorkspaceToken)
		root.Content = append(root.Content, scalar("organizationRoles"), org)
	}
	if len(doc.Workspaces) > 0 {
		workspaces := seq()
		for _, w := range doc.Workspaces {
			workspaces.Content = append(workspaces.Content, w.node(always))
		}
		root.Content = append(root.Content, scalar("workspaces"), workspaces)
	}
	deployments := seq()
	for _, d := range doc.Deployments {
		deployments.Content = append(deployments.Content, d.node(always))
	}
	root.Content = append(root.Content, scalar("deployments"), deployments)
	lines := strings.Split(doc.Comment, "\n")
	for i, l := range lines {
		lines[i] = Inert(l)
	}
	root.HeadComment = strings.Join(lines, "\n")
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
}

// node is the entry of workspace w.
func (w WorkspaceDoc) node(always map[Kind]bool) *yaml.Node {
	n := mapping("name", scalar(w.Name))
	if w.ID != "" {
		n = mapping("id", scalar(w.ID))
		n.Content[1].LineComment = comment(w.Name)
	}
	writeLists(n, w.Entries, always, "")
	return n
}

// node is the entry of deployment d.
func (d DeploymentDoc) node(always map[Kind]bool) *yaml.Node {
	n := mapping("id", scalar(d.ID))
	n.Content[1].LineComment = comment(fmt.Sprintf("%s (workspace %s)", d.Name, d.Workspace))
	writeLists(n, d.Entries, always, "")
	if len(d.Dags) > 0 {
		dags := seq()
		for _, g := range d.Dags {
			dag := mapping("dagId", scalar(g.DagID))
			if g.DagID == "" {
				dag = mapping("dagTag", scalar(g.DagTag))
			}
			writeLists(dag, g.Entries, always, "")
			dags.Content = append(dags.Content, dag)
		}
		n.Content = append(n.Content, scalar("dags"), dags)
	}
	return n
}

// writeLists appends to the entry n the list of each kind (but without)
// that has entries or is always written.
func writeLists(n *yaml.Node, entries map[Kind][]EntryDoc, always map[Kind]bool, without Kind) {
	for _, k := range Kinds() {
		if list := entries[k]; k != without && (len(list) > 0 || always[k]) {
			n.Content = append(n.Content, scalar(k.Key()), entryList(k, list))
		}
	}
}

// entryList is the list of entries of kind k.
func entryList(k Kind, entries []EntryDoc) *yaml.Node {
	nameKey := "name"
	if k == KindUser {
		nameKey = "username"
	}
	list := seq()
	for _, e := range entries {
		n := mapping(nameKey, scalar(e.Name), "role", scalar(e.Role))
		if e.Name == "" {
			n = mapping("id", scalar(e.ID), "role", scalar(e.Role))
		}
		n.Content[1].LineComment = comment(e.Comment)
		list.Content = append(list.Content, n)
	}
	return list
}

// comment is the line comment that shows text, inert, or "" for none. It
// carries its own "# ": the encoder takes a comment that starts with "#"
// as already marked and would drop that "#" of the text.
func comment(text string) string {
	if text == "" {
		return ""
	}
	return "# " + Inert(text)
}

// scalar is a string value. It is plain only when every YAML version and
// every reader takes it as that string and nothing else; otherwise it is
// double-quoted, where every character can be escaped (see escapeQuoted).
func scalar(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if !plainWord.MatchString(v) || yaml11Word[strings.ToLower(v)] {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// plainWord matches the strings written plain: a letter, then letters,
// digits and "_.@/-", words separated by single spaces. What else YAML may
// write plain (a leading digit, ':' or '#' inside, "~", "=") some reader
// takes as a number, a time, a comment or a null.
var plainWord = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.@/-]*( [A-Za-z0-9_.@/-]+)*$`)

// yaml11Word are the words YAML 1.1 reads as booleans or null, in lower
// case: written plain, `name: yes` is a string for the spec's parser but a
// boolean for other tools.
var yaml11Word = map[string]bool{
	"y": true, "yes": true, "n": true, "no": true, "true": true, "false": true,
	"on": true, "off": true, "null": true,
}

func seq() *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
}

// mapping builds a mapping node from alternating keys and value nodes.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, scalar(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

// Hidden reports whether r is a character that must not reach a reader
// raw: every character unicode.IsPrint rejects (controls, line and
// paragraph separators, format characters such as the bidirectional
// overrides, spaces other than U+0020, private-use and unassigned code
// points), the ASCII space aside. It is the one rule of tokensync's
// escaping: the spec's comments here, and every output (render.Safe).
func Hidden(r rune) bool {
	return r != ' ' && !unicode.IsPrint(r)
}

// Inert returns s with every Hidden character written as a Go escape (\n,
// \x1b, \u202e), and a byte that is not UTF-8 as U+FFFD, so that it shows
// what it holds and cannot drive a terminal or reorder what a reader sees;
// nor can it make a GitHub Actions workflow command of a line of a job's
// log (see NoCommand). Inert(Inert(s)) == Inert(s).
func Inert(s string) string { return NoCommand(Shown(s)) }

// Shown is Inert but for NoCommand: for text inside a workflow command of
// tokensync's own (an annotation's file property), which no runner reads
// for another.
func Shown(s string) string {
	if strings.IndexFunc(s, Hidden) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		if !Hidden(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r) // '\x1b'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// NoCommand returns s such that no line of a GitHub Actions job's log
// that holds it is a workflow command: the runner takes a line that
// starts with "::" (after spaces) for one (::warning, ::stop-commands,
// ::add-mask), and "##[" anywhere in a line for one of the old form. A
// leading "::" has its first ':' written `\x3a`, and "##[" is written
// `#\x23[`, escapes as Inert writes them. A "::" inside s is left: s
// starts a line only where it is printed first, as a file name is.
func NoCommand(s string) string {
	if t := strings.TrimLeft(s, " "); strings.HasPrefix(t, "::") {
		at := len(s) - len(t)
		s = s[:at] + `\x3a` + s[at+1:]
	}
	return strings.ReplaceAll(s, "##[", `#\x23[`)
}

// escapeQuoted writes every hidden character above ASCII in the encoded
// document as a \u or \U escape. scalar double-quotes every value that
// holds one; in double quotes the YAML encoder escapes the ASCII ones and
// writes the rest (bidi overrides, invisible characters, other spaces and
// line breaks) as they are. Comments went through inert and keys are the
// spec's own, so no such character is found outside a double-quoted
// scalar.
func escapeQuoted(doc []byte) []byte {
	unsafe := func(r rune) bool { return r >= utf8.RuneSelf && Hidden(r) }
	if bytes.IndexFunc(doc, unsafe) < 0 {
		return doc
	}
	out := make([]byte, 0, len(doc)+64)
	for _, r := range string(doc) {
		switch {
		case !unsafe(r):
			out = utf8.AppendRune(out, r)
		case r > 0xffff:
			out = fmt.Appendf(out, `\U%08X`, r)
		default:
			out = fmt.Appendf(out, `\u%04X`, r)
		}
	}
	return out
}
