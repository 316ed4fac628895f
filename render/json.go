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

// JSON writes the plan document, indented, followed by a newline. The
// characters Safe escapes are \u escapes in its strings (encoding/json
// escapes only the ASCII ones), so the document reads back the same and a
// terminal or a viewer of the file shows them.
func JSON(w io.Writer, p sync.Plan, m planfile.Meta) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(planfile.New(p, m)); err != nil {
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
