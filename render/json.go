package render

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf16"

	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/sync"
)

// JSON writes the plan document, indented, followed by a newline, by the
// one rule of encodeJSON.
func JSON(w io.Writer, p sync.Plan, m planfile.Meta) error {
	return encodeJSON(w, planfile.New(p, m), true)
}

// encodeJSON is the one rule for every JSON document and JSON line
// tokensync writes (the plan, the apply result, the --audit-log line, the
// access report): v encoded by encoding/json, indented or on one line,
// followed by a newline, with every character Safe escapes written as a \u
// escape in its strings. encoding/json escapes only the ASCII ones (and
// U+2028, U+2029); this escapes the rest too (bidirectional overrides,
// zero-width characters, the BOM, C1 controls), so the document reads back
// the same and a terminal or a viewer of the file shows them. The document
// is one Write, so a line appended to a shared file is never interleaved.
func encodeJSON(w io.Writer, v any, indent bool) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(EscapeQuoted(b.Bytes(), jsonEscape))
	return err
}

// jsonEscape appends r as a JSON \u escape, a surrogate pair above U+FFFF.
func jsonEscape(dst []byte, r rune) []byte {
	if r > 0xffff {
		hi, lo := utf16.EncodeRune(r)
		return fmt.Appendf(dst, `\u%04x\u%04x`, hi, lo)
	}
	return fmt.Appendf(dst, `\u%04x`, r)
}
