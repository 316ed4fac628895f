package spec

import (
	"bytes"
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
// builds. Entries and deployments are written in the order given.
type Document struct {
	Organization string
	// Comment is written at the top, one comment line per line.
	Comment     string
	Deployments []DeploymentDoc
	// Always are the kinds whose key every deployment writes, as [] when
	// it has no entry of that kind; the other kinds are written only when
	// they have entries.
	Always []Kind
	// Ignore are globs written under ignoreTokens, ignoreUsers and
	// ignoreTeams alike: the principals they match are left alone.
	Ignore []string
}

// DeploymentDoc is one deployment of a Document, written by ID; its Name
// and Workspace name go in a comment.
type DeploymentDoc struct {
	ID, Name, Workspace string
	Entries             map[Kind][]EntryDoc
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
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc.node()); err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	_, err := w.Write(escapeQuoted(b.Bytes()))
	return err
}

// node builds the YAML document.
func (doc Document) node() *yaml.Node {
	always := map[Kind]bool{}
	for _, k := range doc.Always {
		always[k] = true
	}
	deployments := seq()
	for _, d := range doc.Deployments {
		dep := mapping("id", scalar(d.ID))
		dep.Content[1].LineComment = comment(fmt.Sprintf("%s (workspace %s)", d.Name, d.Workspace))
		for _, k := range Kinds() {
			if entries := d.Entries[k]; len(entries) > 0 || always[k] {
				dep.Content = append(dep.Content, scalar(k.Key()), entryList(k, entries))
			}
		}
		deployments.Content = append(deployments.Content, dep)
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
	root.Content = append(root.Content, scalar("deployments"), deployments)
	lines := strings.Split(doc.Comment, "\n")
	for i, l := range lines {
		lines[i] = Inert(l)
	}
	root.HeadComment = strings.Join(lines, "\n")
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
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
// what it holds and cannot drive a terminal or reorder what a reader sees.
// Inert(Inert(s)) == Inert(s).
func Inert(s string) string {
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
