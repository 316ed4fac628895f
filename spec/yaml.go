package spec

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/tokensync/tokensync/internal/anchors"
)

// file is the parsing state of one file.
type file struct {
	l    *loader
	name string
	text []byte // the content, BOM removed
	// policyOnly says the file was given with --policy: it holds only
	// policies.
	policyOnly bool
}

func (f *file) pos(n *yaml.Node) Pos {
	return Pos{File: f.name, Line: n.Line, Col: n.Column}
}

func (f *file) errorf(line, col int, format string, args ...any) {
	f.l.errorf(Pos{File: f.name, Line: line, Col: col}, format, args...)
}

func (f *file) errorAt(n *yaml.Node, format string, args ...any) {
	f.l.errorf(f.pos(n), format, args...)
}

// checkText finds the first byte that is not UTF-8 or the first character
// YAML forbids, which the YAML parser would report without a position. It
// counts lines and columns as the parser does: columns in characters, and
// "\n", "\r\n", "\r", U+0085, U+2028 and U+2029 as line breaks.
func checkText(text []byte) (line, col int, msg string) {
	line, col = 1, 1
	for i := 0; i < len(text); {
		if c := text[i]; c >= 0x20 && c <= 0x7e {
			// Printable ASCII, most of a file: allowed, one column.
			col++
			i++
			continue
		}
		r, size := utf8.DecodeRune(text[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return line, col, fmt.Sprintf("invalid UTF-8 (byte 0x%02x); the file must be UTF-8 encoded", text[i])
		case r == '\r' && i+1 < len(text) && text[i+1] == '\n':
			// The '\n' ends the line.
		case r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029:
			line, col = line+1, 0
		case !allowedRune(r):
			return line, col, fmt.Sprintf("control character %U is not allowed", r)
		}
		col++
		i += size
	}
	return 0, 0, ""
}

// allowedRune reports whether r, not a line break, may be in a file.
func allowedRune(r rune) bool {
	return r == '\t' || (r >= 0x20 && r <= 0x7e) || (r >= 0xa0 && r <= 0xd7ff) ||
		(r >= 0xe000 && r <= 0xfffd) || r >= 0x10000
}

// decode parses text as one YAML document and returns its root node, or
// nil after reporting why there is none.
func (f *file) decode(text []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var doc yaml.Node
	if err := decodeNode(dec, &doc); err != nil {
		if err == io.EOF {
			f.errorf(1, 1, "file is empty")
		} else {
			f.syntaxError(text, err)
		}
		return nil
	}
	var next yaml.Node
	switch err := decodeNode(dec, &next); {
	case err == io.EOF:
	case err != nil:
		f.syntaxError(text, err)
	default:
		f.errorAt(&next, "multiple YAML documents are not supported; use one file per document")
	}
	if len(doc.Content) == 0 {
		f.errorf(1, 1, "file is empty")
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" && root.Value == "" {
		f.errorf(1, 1, "file is empty")
		return nil
	}
	return root
}

// decodeNode decodes the next document, turning a panic of the YAML parser
// into an error.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: internal parser error: %v", r)
		}
	}()
	return dec.Decode(n)
}

// parserErrors are the messages of the YAML parser (as opposed to its
// scanner): it reports their line counting from 0, and the line where the
// enclosing block or flow collection starts.
var parserErrors = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected <document start>": true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxError reports an error of the YAML parser. Its messages read
// "yaml: line N: problem", or "yaml: problem" when the problem is on the
// first line; they carry no column.
func (f *file) syntaxError(text []byte, err error) {
	msg, _ := strings.CutPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if v, err := strconv.Atoi(n); err == nil {
				line, msg = v, after
				if parserErrors[msg] {
					line++
				}
			}
		}
	}
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		line, col := findAlias(text, name)
		f.errorf(line, col, "anchors and aliases are not supported")
		return
	}
	lines := bytes.Count(text, []byte("\n"))
	if len(text) > 0 && text[len(text)-1] != '\n' {
		lines++
	}
	line = max(1, min(line, lines))
	col := 1
	// The line given is where the scanner's context starts (a plain scalar,
	// say); a tab that breaks the indentation may be on a later line.
	switch {
	case msg == "found character that cannot start any token":
		if l, tab := leadingTab(text, line, line); tab > 0 {
			line, col = l, tab
			msg = "found a tab character in indentation; indent with spaces"
		}
	case strings.Contains(msg, "tab character"):
		if l, tab := leadingTab(text, line, lines); tab > 0 {
			line, col = l, tab
		}
	case msg == "found incompatible YAML document":
		msg = "a %YAML directive other than %YAML 1.1 is not supported; remove the line (the spec needs no directive)"
	}
	f.errorf(line, col, "invalid YAML: %s", msg)
}

// leadingTab returns the first line from first to last with a tab in its
// indentation, and the column of that tab; or 0, 0.
func leadingTab(text []byte, first, last int) (line, col int) {
	line = 1
	for len(text) > 0 && line <= last {
		end := bytes.IndexByte(text, '\n')
		if end < 0 {
			end = len(text)
		}
		if line >= first {
			if i := bytes.IndexFunc(text[:end], func(r rune) bool { return r != ' ' }); i >= 0 && text[i] == '\t' {
				return line, i + 1
			}
		}
		text = text[min(end+1, len(text)):]
		line++
	}
	return 0, 0
}

// findAlias returns the position of the first alias *name in text, or 1:1.
func findAlias(text []byte, name string) (line, col int) {
	needle := []byte("*" + name)
	for off := 0; ; {
		i := bytes.Index(text[off:], needle)
		if i < 0 {
			return 1, 1
		}
		i += off
		end := i + len(needle)
		if (i == 0 || bytes.IndexByte([]byte(" \t\n\r[{,:"), text[i-1]) >= 0) &&
			(end == len(text) || bytes.IndexByte([]byte(" \t\n\r]},"), text[end]) >= 0) {
			before := text[:i]
			line = 1 + bytes.Count(before, []byte("\n"))
			col = 1 + utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
			return line, col
		}
		off = i + 1
	}
}

// checkAnchors reports the first anchor or alias of the tree, if any: they
// are refused, which also defuses alias bombs. The walk does not follow
// aliases.
func (f *file) checkAnchors(root *yaml.Node) {
	switch first, n := anchors.Find(root); {
	case n == 1:
		f.errorAt(first, "anchors and aliases are not supported")
	case n > 1:
		f.errorAt(first, "anchors and aliases are not supported (%d more in this file)", n-1)
	}
}

// describe names the type and value of n for messages: `string "yes"`,
// `integer 1`, `null`, `list`, `mapping`.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	}
	switch tag := n.ShortTag(); tag {
	case "!!str":
		return "string " + excerpt(n.Value)
	case "!!null":
		return "null"
	case "!!bool":
		return "boolean " + show(n)
	case "!!int":
		return "integer " + show(n)
	case "!!float":
		return "number " + show(n)
	case "!!timestamp":
		return "timestamp " + show(n)
	default:
		return tag + " value " + excerpt(n.Value)
	}
}

// show is a scalar's text for messages: as written when plain and short,
// quoted otherwise.
func show(n *yaml.Node) string {
	v := truncate(n.Value)
	if n.Style != 0 || v != n.Value || v == "" || strings.ContainsAny(v, " \t\"\\") {
		return strconv.Quote(v)
	}
	return v
}

// excerpt is how a message quotes text from a file (a key, a value, a
// name): at most its first 40 characters, quoted, with every character
// that is not printable escaped, so that no message carries more than a
// short excerpt of what a file holds.
func excerpt(s string) string { return strconv.Quote(truncate(s)) }

// Clip shortens s to the 40 characters a message may quote of a file, and
// marks the cut with "...".
func Clip(s string) string { return truncate(s) }

// truncate shortens s to 40 characters for messages.
func truncate(s string) string {
	n := 0
	for i := range s {
		if n == 40 {
			return s[:i] + "..."
		}
		n++
	}
	return s
}
