package render

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/tokensync/tokensync/spec"
)

// Safe returns s with every character that is not printable written as a
// Go escape (\n, \t, \x1b, \u009b, \u202e), so that text from the API
// (names, ids, roles, error messages) cannot drive a terminal (ANSI and OSC
// sequences start with ESC and may end with BEL), start a line of its own,
// or reorder what a reader sees (the bidirectional overrides and isolates
// U+202A–U+202E and U+2066–U+2069, and other invisible format characters).
// Printable characters, the ASCII space among them, are kept as they are; a
// byte that is not UTF-8 becomes U+FFFD.
// Safe(Safe(s)) == Safe(s).
func Safe(s string) string { return spec.Inert(s) }

// Escapes reports whether Safe escapes r: every character that
// unicode.IsPrint rejects (controls, line and paragraph separators, format
// characters, spaces other than U+0020, private-use and unassigned code
// points) except the ASCII space (spec.Hidden, the one rule).
func Escapes(r rune) bool { return spec.Hidden(r) }

// SafeLines is Safe for each line of s: its line feeds are kept, for
// messages that are several lines by design (a joined error).
func SafeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Safe(l)
	}
	return strings.Join(lines, "\n")
}

// EscapeQuoted returns doc with every character that Safe escapes from DEL
// (U+007F) up written by escape instead: encoding/json escapes the C0
// controls but leaves DEL and everything above ASCII raw. It is for
// documents in which such a character can only be inside a quoted string
// that has escapes: JSON, whose syntax is printable ASCII, or YAML whose
// scalars holding one are double-quoted and whose comments went through
// Safe. The result reads back the same.
func EscapeQuoted(doc []byte, escape func(dst []byte, r rune) []byte) []byte {
	// '#' is outside such a document's syntax: a "##[", which a GitHub
	// Actions runner takes for a workflow command in any line of a job's
	// log (spec.NoCommand), is in a quoted string, where its '#' is escaped.
	doc = bytes.ReplaceAll(doc, []byte("##["), append(escape([]byte("#"), '#'), '['))
	unsafe := func(r rune) bool { return r >= utf8.RuneSelf-1 && Escapes(r) }
	if bytes.IndexFunc(doc, unsafe) < 0 {
		return doc
	}
	out := make([]byte, 0, len(doc)+64)
	for _, r := range string(doc) {
		if unsafe(r) {
			out = escape(out, r)
		} else {
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}
