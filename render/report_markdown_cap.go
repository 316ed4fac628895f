package render

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// reportNoteRoom is the room kept for the longest note below.
const reportNoteRoom = 400

// capReportMarkdown joins the markdown report's head (its title, notes and
// what changed since), its summary table and its deployments' sections
// under limit characters, as Markdown does the plan's: the head, then the
// summary, then as many sections as fit, and a note saying how many were
// left out and how to see them. A head longer than half the limit (a
// filter of thousands of names) is cut at a line; a summary too long by
// itself (thousands of deployments) keeps the rows that fit, and says how
// many it left out.
func capReportMarkdown(head, summary string, sections []string, limit int) string {
	var b strings.Builder
	b.WriteString(cutLines(head, limit/2, "_The rest of this header is left out._\n\n"))
	if b.Len()+len(summary)+reportNoteRoom > limit {
		kept, left := summaryRows(summary, limit-b.Len()-reportNoteRoom)
		b.WriteString(kept)
		fmt.Fprintf(&b, "\n> [!NOTE]\n> %d more deployment(s) left out of this summary, and every deployment's section, to keep this under %d characters. %s\n",
			left, limit, wholeReport)
		return b.String()
	}
	b.WriteString(summary)
	for i, s := range sections {
		room := limit - b.Len() - len(s)
		if room >= reportNoteRoom || (i == len(sections)-1 && room >= 0) {
			b.WriteString(s)
			continue
		}
		fmt.Fprintf(&b, "> [!NOTE]\n> %d more deployment section(s) left out to keep this under %d characters. %s\n", len(sections)-i, limit, wholeReport)
		break
	}
	return b.String()
}

// wholeReport says where the whole report is.
const wholeReport = "Run `tokensync report` for the whole report (`-o html` or `-o csv`, or narrowed by `--workspace` or `--deployment`)."

// cutLines is s when it is at most n bytes long, or else its whole lines
// that fit in n bytes (its first n bytes, at a character, when its first
// line does not fit) followed by note.
func cutLines(s string, n int, note string) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], '\n') + 1
	if cut == 0 {
		for cut = n; cut > 0 && !utf8.RuneStart(s[cut]); cut-- {
		}
		return s[:cut] + "\n\n" + note
	}
	return s[:cut] + "\n" + note
}

// summaryRows is the summary table's header and as many of its rows as
// fit in n bytes, and how many rows it left out.
func summaryRows(summary string, n int) (kept string, left int) {
	lines := strings.SplitAfter(strings.TrimRight(summary, "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		if i >= 2 && b.Len()+len(l) > n { // the header and its rule are kept
			return b.String(), len(lines) - i
		}
		b.WriteString(l)
	}
	return b.String(), 0
}
