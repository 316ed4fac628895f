package render

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tokensync/tokensync/sync"
)

// DefaultMarker is the hidden comment that starts every markdown plan, so a
// workflow can find its earlier comment and update it in place.
const DefaultMarker = "<!-- tokensync-plan -->"

// DefaultMarkdownLimit keeps a markdown plan below GitHub's 65,536-character
// limit on comments and job summaries.
const DefaultMarkdownLimit = 60000

// MarkdownOptions steer Markdown. Zero values mean the defaults.
type MarkdownOptions struct {
	Marker string // hidden marker comment; DefaultMarker when ""
	Limit  int    // maximum length in bytes; DefaultMarkdownLimit when 0
}

// Markdown writes the plan for a pull-request comment or a job summary:
// the counts in the title, a warning when anything is removed, a section
// per scope in the plan's order (the organization, workspaces, deployments
// each followed by its DAGs and DAG tags; open when it removes something),
// the unmanaged assignments collapsed. When the whole plan passes the
// limit, the sections that take a role away are kept first (see
// fitSections), a section too long is shown in part, the sections stay in
// the plan's order, and a note says what was left out.
func Markdown(w io.Writer, p sync.Plan, opts MarkdownOptions) error {
	if opts.Marker == "" {
		opts.Marker = DefaultMarker
	}
	if opts.Limit <= 0 {
		opts.Limit = DefaultMarkdownLimit
	}
	add, change, remove := p.Summary()
	var head strings.Builder
	head.WriteString(opts.Marker + "\n")
	if len(p.Changes) == 0 {
		head.WriteString("### tokensync plan: no changes\n\nThe managed scopes match the spec.\n")
	} else {
		fmt.Fprintf(&head, "### tokensync plan: %d to add, %d to change, %d to remove\n", add, change, remove)
	}
	for _, g := range p.Guards {
		if !g.OK {
			fmt.Fprintf(&head, "\n> [!CAUTION]\n> **Refused by guard %s:** %s\n", g.Name, guardMessage(g.Message))
		}
	}
	head.WriteString(violationsMarkdown(p, opts.Limit/3))
	if len(p.Partial) > 0 {
		fmt.Fprintf(&head, "\n> [!NOTE]\n> Partial plan: only %s (`--target`). Other scopes of the spec were not planned.\n", partialNames(p.Partial))
	}
	if remove > 0 {
		fmt.Fprintf(&head, "\n> [!WARNING]\n> This plan **removes %d assignment(s)**: the tokens, users and teams below lose their role on these scopes.\n", remove)
	}

	var sections []mdSection
	for _, g := range groupByScope(sync.Plan{Changes: p.Changes}) {
		sections = append(sections, scopeSection(g))
	}
	if len(p.Unmanaged) > 0 {
		sections = append(sections, unmanagedSection(p.Unmanaged))
	}

	var b strings.Builder
	b.WriteString(head.String())
	whole := b.Len()
	for _, s := range sections {
		whole += s.size()
	}
	if whole <= opts.Limit {
		for _, s := range sections {
			b.WriteString(s.top + strings.Join(s.rows, "") + s.end)
		}
	} else {
		writeCut(&b, sections, opts.Limit)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCut writes to b, after the head, the parts of sections that fit
// under limit with the note that says what was left out. Which parts is
// decided by fitSections; they are written in the plan's order.
func writeCut(b *strings.Builder, sections []mdSection, limit int) {
	room := limit - b.Len() - len(leftOutNote(maxLeftOut(sections), limit))
	var left leftOut
	for i, keep := range fitSections(sections, room) {
		left.add(sections[i], keep)
		if keep != nil {
			sections[i].write(b, keep)
		}
	}
	b.WriteString(leftOutNote(left, limit))
}

// fitSections decides which rows of each section to show in room bytes:
// nil leaves a section out, and otherwise keep[i] shows its row i. The
// sections that take a role away (a removal, a demotion) come first, then
// the other scopes, then the unmanaged assignments. Within each of these
// classes, in the plan's order, every section that fits is kept whole;
// then each that did not is kept in part while rows fit (those that take a
// role away first), its left-out rows counted in it. A class that leaves
// anything out leaves no room to the classes after it.
func fitSections(sections []mdSection, room int) [][]bool {
	keep := make([][]bool, len(sections))
	for class := range 3 {
		var rest []int
		for i, s := range sections {
			if s.class() != class {
				continue
			}
			if s.size() <= room {
				keep[i] = slices.Repeat([]bool{true}, len(s.rows))
				room -= s.size()
				continue
			}
			rest = append(rest, i)
		}
		for _, i := range rest {
			keep[i], room = fitRows(sections[i], room)
		}
		if len(rest) > 0 {
			room = 0 // what this class left out comes before the next class
		}
	}
	return keep
}

// fitRows is the rows of s that fit in room bytes, with its top, end and
// the line that counts the rows left out: the rows that take a role away
// first, then the others, each in order, until one does not fit. It is nil
// when not one row fits. It returns the room left.
func fitRows(s mdSection, room int) ([]bool, int) {
	n, takes := s.leftOut(nil) // the cut line at its longest
	used := len(s.top) + len(s.end) + len(s.cutLine(n, takes))
	keep := make([]bool, len(s.rows))
	shown := 0
	for _, pass := range []bool{true, false} {
		for i, r := range s.rows {
			if s.takes[i] != pass {
				continue
			}
			if used+len(r) > room {
				if shown == 0 {
					return nil, room
				}
				return keep, room - used
			}
			keep[i] = true
			used += len(r)
			shown++
		}
	}
	return keep, room - used
}

// mdSection is a section of the markdown plan in parts, so that the limit
// can keep some of its rows: its top (summary and table header), its
// rows, whether each takes a role away (sync.Change.Takes), and its end.
type mdSection struct {
	top, end  string
	rows      []string
	takes     []bool
	unmanaged bool // the unmanaged assignments' section
}

// size is the length of s written whole.
func (s mdSection) size() int {
	n := len(s.top) + len(s.end)
	for _, r := range s.rows {
		n += len(r)
	}
	return n
}

// class orders sections for the limit: 0 when s takes a role away, 1 for
// the other scopes, 2 for the unmanaged assignments.
func (s mdSection) class() int {
	switch {
	case s.unmanaged:
		return 2
	case slices.Contains(s.takes, true):
		return 0
	}
	return 1
}

// cutLine counts, inside a section shown in part, its n rows left out,
// takes of which take a role away.
func (s mdSection) cutLine(n, takes int) string {
	switch {
	case s.unmanaged:
		return fmt.Sprintf("\n%d more unmanaged assignment(s) left out.\n", n)
	case takes > 0:
		return fmt.Sprintf("\n%d more change(s) of this scope left out, %d of them taking a role away.\n", n, takes)
	}
	return fmt.Sprintf("\n%d more change(s) of this scope left out.\n", n)
}

// leftOut counts the rows of s that keep does not show, all of them when
// keep is nil, and how many of those take a role away.
func (s mdSection) leftOut(keep []bool) (n, takes int) {
	for i := range s.rows {
		if keep == nil || !keep[i] {
			n++
			if s.takes[i] {
				takes++
			}
		}
	}
	return n, takes
}

// write writes s to b with the rows keep shows, and the line that counts
// the others when there are any.
func (s mdSection) write(b *strings.Builder, keep []bool) {
	b.WriteString(s.top)
	for i, r := range s.rows {
		if keep[i] {
			b.WriteString(r)
		}
	}
	if n, takes := s.leftOut(keep); n > 0 {
		b.WriteString(s.cutLine(n, takes))
	}
	b.WriteString(s.end)
}

// leftOut counts what the limit left out of a markdown plan.
type leftOut struct {
	sections, sectionChanges int  // scope sections left out whole, and their changes
	cut, cutChanges          int  // scope sections shown in part, and their changes left out
	takes                    int  // changes left out that take a role away
	unmanaged                bool // the unmanaged assignments' section left out whole
	unmanagedRows            int  // unmanaged assignments left out of their section shown in part
}

// add counts what keep (see fitSections) leaves out of s.
func (l *leftOut) add(s mdSection, keep []bool) {
	n, takes := s.leftOut(keep)
	l.takes += takes
	switch {
	case n == 0:
	case s.unmanaged && keep == nil:
		l.unmanaged = true
	case s.unmanaged:
		l.unmanagedRows += n
	case keep == nil:
		l.sections++
		l.sectionChanges += n
	default:
		l.cut++
		l.cutChanges += n
	}
}

// maxLeftOut is a count of everything in sections as left out, each
// number at its largest, so that its note is at least as long as any note
// the limit can need.
func maxLeftOut(sections []mdSection) leftOut {
	var l leftOut
	for _, s := range sections {
		if s.unmanaged {
			l.unmanagedRows = len(s.rows)
			continue
		}
		l.sections++
		l.cut++
		n, takes := s.leftOut(nil)
		l.sectionChanges += n
		l.cutChanges += n
		l.takes += takes
	}
	return l
}

// leftOutNote says what the limit left out of the plan, how many of the
// changes left out take a role away, and where to see them all; it is ""
// when nothing was left out.
func leftOutNote(l leftOut, limit int) string {
	var parts []string
	if l.sections > 0 {
		parts = append(parts, fmt.Sprintf("%d scope section(s) with %d change(s)", l.sections, l.sectionChanges))
	}
	if l.cut > 0 {
		parts = append(parts, fmt.Sprintf("%d change(s) of %d scope section(s) shown in part", l.cutChanges, l.cut))
	}
	if l.unmanagedRows > 0 {
		parts = append(parts, fmt.Sprintf("%d row(s) of the unmanaged assignments' section", l.unmanagedRows))
	} else if l.unmanaged {
		parts = append(parts, "the unmanaged assignments' section")
	}
	if len(parts) == 0 {
		return ""
	}
	what := parts[0]
	if len(parts) > 1 {
		what = strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
	takes := ""
	if l.takes > 0 {
		takes = fmt.Sprintf("; %d of the changes left out take a role away", l.takes)
	}
	return fmt.Sprintf("\n> [!NOTE]\n> %s left out to keep this comment under %d characters%s. Run `tokensync plan` for the whole plan.\n",
		upperFirst(what), limit, takes)
}

// upperFirst is s, which is not empty, with its first letter in upper
// case.
func upperFirst(s string) string {
	return strings.ToUpper(s[:1]) + s[1:]
}

// maxPartialNames is the most scopes the partial-plan note names; the
// head of the comment is written whole, before the sections the limit may
// cut, so it must stay short however many --target flags were given.
const maxPartialNames = 20

// partialNames names the scopes of a partial plan, escaped, at most
// maxPartialNames of them.
func partialNames(scopes []sync.ScopeRef) string {
	var names []string
	for i, s := range scopes {
		if i == maxPartialNames {
			names = append(names, fmt.Sprintf("and %d more", len(scopes)-i))
			break
		}
		names = append(names, mdText(partialName(s)))
	}
	return strings.Join(names, ", ")
}

// maxGuardMessage caps a refused guard's message, in bytes before
// escaping: it can name every deployment or change of a large plan, and the
// title and banners are written whole, before the sections that the limit
// may cut. Escaped, three such messages stay well under the default limit.
const maxGuardMessage = 2000

// guardMessage is a guard's message for the banner, cut to maxGuardMessage.
func guardMessage(s string) string {
	if len(s) <= maxGuardMessage {
		return mdText(s)
	}
	cut := maxGuardMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return mdText(s[:cut]) + "... (cut; run `tokensync plan` for the whole message)"
}

// scopeSection is one scope's changes as a table, open when it
// removes something.
func scopeSection(g scopeGroup) mdSection {
	var a, u, r int
	for _, c := range g.Changes {
		switch c.Action {
		case sync.Add:
			a++
		case sync.Update:
			u++
		case sync.Remove:
			r++
		}
	}
	open := ""
	if r > 0 {
		open = " open"
	}
	id := ""
	if s := scopeID(g.Scope); s != "" {
		id = " (<code>" + htmlText(s) + "</code>)"
	}
	s := mdSection{
		top: fmt.Sprintf("\n<details%s><summary><b>%s</b>%s: +%d ~%d -%d</summary>\n\n", open, htmlText(scopeTitle(g.Scope)), id, a, u, r) +
			"| | subject | before | after | reason |\n|---|---|---|---|---|\n",
		end: "\n</details>\n",
	}
	for _, c := range g.Changes {
		s.rows = append(s.rows, fmt.Sprintf("| %s | %s | %s | %s | %s |\n", mdSymbol(c.Action), mdSubject(c.Subject), mdRole(c.Before), mdRole(c.After), mdText(c.Reason)))
		s.takes = append(s.takes, c.Takes())
	}
	return s
}

// unmanagedSection lists the assignments left alone, collapsed.
func unmanagedSection(cs []sync.Change) mdSection {
	s := mdSection{
		top: fmt.Sprintf("\n<details><summary>%d unmanaged assignment(s) left alone</summary>\n\n", len(cs)) +
			"| scope | subject | role | reason |\n|---|---|---|---|\n",
		end:       "\n</details>\n",
		takes:     make([]bool, len(cs)),
		unmanaged: true,
	}
	for _, c := range cs {
		s.rows = append(s.rows, fmt.Sprintf("| %s | %s | %s | %s |\n", mdText(scopeTitle(c.Scope)), mdSubject(c.Subject), mdRole(c.Before), mdText(c.Reason)))
	}
	return s
}

func mdSymbol(a sync.Action) string {
	switch a {
	case sync.Add:
		return "➕ add"
	case sync.Update:
		return "✏️ change"
	case sync.Remove:
		return "➖ **remove**"
	default:
		return string(a)
	}
}

func mdSubject(s sync.SubjectRef) string {
	return fmt.Sprintf("%s %s <sub>%s</sub>", mdKind(string(s.Kind)), mdText(s.Name), mdText(s.ID))
}

// mdKind is a kind of principal as markdown text: its label, or the kind
// itself escaped when it is not one tokensync knows (a saved plan or
// report can hold any).
func mdKind(kind string) string { return mdText(kindLabel(kind)) }

func mdRole(r string) string {
	if r == "" {
		return "—"
	}
	return mdCode(r)
}

// The replacers of the markdown and HTML escapes, built once: a
// strings.Replacer builds its tables on first use.
var (
	mdTextEscapes = strings.NewReplacer(`\`, `\\`, "|", `\|`, "&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`)
	mdCodeEscapes = strings.NewReplacer("|", `\|`)
	htmlEscapes   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
)

// mdText makes user-controlled text safe inside a markdown table cell, a
// list item or a quote: Safe, then the characters markdown would act on
// (a backtick shows as a backtick and cannot open a code span), then
// noMention.
func mdText(s string) string { return noMention(mdTextEscapes.Replace(Safe(s))) }

// mdCode is text as a markdown code span, its backticks included: Safe,
// a pipe escaped (a table cell ends at a pipe even inside a code span),
// and fences one backtick longer than the longest run of backticks in
// it, with a space inside them when it starts or ends with a backtick or
// with a space at both ends (which CommonMark strips), so that it shows
// exactly as it is and cannot end the span early. Nothing in it can
// mention anyone: GitHub looks for no mention inside code (see
// noMention), and a character reference would show as it is written.
func mdCode(s string) string {
	s = mdCodeEscapes.Replace(Safe(s))
	longest, run := 0, 0
	for i := range len(s) {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		(len(s) > 1 && s[0] == ' ' && s[len(s)-1] == ' ' && strings.Trim(s, " ") != "") {
		pad = " "
	}
	fence := strings.Repeat("`", longest+1)
	return fence + pad + s + pad + fence
}

// htmlText escapes text inside an HTML element: Safe, the characters HTML
// would act on, then noMention.
func htmlText(s string) string { return noMention(htmlEscapes.Replace(Safe(s))) }

// zeroWidthSpace is the character reference noMention puts after an @.
const zeroWidthSpace = "&#8203;"

// noMention puts a zero-width space, written as the character reference
// &#8203;, after every @ of s, already escaped for markdown or HTML, that
// could start a mention: one that does not follow an ASCII letter or
// digit, and is followed by one, by a character beyond ASCII, or by
// nothing (text may follow s). So a name from the API (a team
// "@acme/platform-admins", a user "@alice") shows as it is in a comment
// on GitHub but notifies nobody, and an e-mail address keeps its @: it
// follows a letter or digit, where GitHub sees no mention.
//
// GitHub finds mentions in the text of the rendered HTML, outside pre,
// code and a elements: an @ at the start of a text node or after a
// character that is not a word character (ASCII [A-Za-z0-9_]), then a
// login or org/team, which starts with an ASCII letter or digit
// (html-pipeline's MentionFilter, lib/html/pipeline/mention_filter.rb,
// the public form of GitHub's filter). An @ after a word character, _
// included, is kept, so an e-mail address shows as it is (b_@example.com
// too); one before any character beyond ASCII (which a case-insensitive
// match might fold to a letter) is taken as one that could start a
// mention, to be safe. The escapes of mdText and htmlText never put a letter or
// digit right after an @ (they start with \ or &). The reference is
// decoded to U+200B before the filter runs, so the @ is followed by no
// login. It is what bots that post on GitHub do: Renovate writes every
// "@" of a pull-request body as "@&#8203;" but after a letter
// (renovatebot/renovate, lib/util/markdown.ts, sanitizeMarkdown; PR
// #1084, "escape every @ in pr body with zero width space"), and
// dependabot puts U+200B after the @ of a mention and shows it as code
// (dependabot-core, LinkAndMentionSanitizer). Writing the @ itself as
// "&#64;" does not help: it is decoded to an @ before the filter runs
// (zwave-js/zwave-js-ui PR #4743's review), which is why mdText and
// htmlText escape every & of a name, and why noMention runs after them.
//
// An @ grows by 7 bytes only before a letter, a digit or a character
// beyond ASCII, so escaped text stays within 5 times its length, as
// before (an & is 5 bytes escaped): see maxGuardMessage.
func noMention(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*len(zeroWidthSpace))
	for i := range len(s) {
		b.WriteByte(s[i])
		if s[i] == '@' && (i == 0 || !isASCIIAlnum(s[i-1]) && s[i-1] != '_') &&
			(i+1 == len(s) || isASCIIAlnum(s[i+1]) || s[i+1] >= utf8.RuneSelf) && !domain(s[i+1:]) {
			b.WriteString(zeroWidthSpace)
		}
	}
	return b.String()
}

// domain reports whether s, what follows an @, starts as the domain of an
// e-mail address does: a login's characters ([A-Za-z0-9-]) then a dot and
// a letter or digit. GitHub takes no mention there (the login must not be
// followed by such a dot: html-pipeline's MentionPattern), so a-@example.com
// and a.@example.com show as they are.
func domain(s string) bool {
	i := 0
	for i < len(s) && (isASCIIAlnum(s[i]) || s[i] == '-') {
		i++
	}
	return i > 0 && i+1 < len(s) && s[i] == '.' && isASCIIAlnum(s[i+1])
}

// isASCIIAlnum reports whether c is an ASCII letter or digit.
func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
