package render

import (
	"fmt"
	"io"
	"strings"
)

// maxFailureReasons is the most reasons MarkdownFailure lists; one last
// line says how many more there were.
const maxFailureReasons = 50

// MarkdownFailure writes, in place of a plan that could not be made, a
// markdown document that starts with the same marker as Markdown's, says
// that the plan failed, and lists why (escaped, at most 50 reasons, within
// the limit). A workflow that updates its comment by the marker then never
// keeps showing an older plan as the current one.
func MarkdownFailure(w io.Writer, reasons []string, opts MarkdownOptions) error {
	if opts.Marker == "" {
		opts.Marker = DefaultMarker
	}
	if opts.Limit <= 0 {
		opts.Limit = DefaultMarkdownLimit
	}
	var b strings.Builder
	b.WriteString(opts.Marker + "\n")
	b.WriteString("### tokensync plan: failed\n\n")
	b.WriteString("> [!CAUTION]\n> The plan could not be made, so this shows no changes, and no earlier plan is current. Fix what is listed below and run `tokensync plan` again.\n\n")
	const noteRoom = 100 // the closing line below
	for i, r := range reasons {
		line := "- " + guardMessage(r) + "\n"
		if i == maxFailureReasons || b.Len()+len(line) > opts.Limit-noteRoom {
			fmt.Fprintf(&b, "- ... and %d more\n", len(reasons)-i)
			break
		}
		b.WriteString(line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
