package render

import (
	"fmt"
	"io"
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
// the unmanaged assignments collapsed, and a note when the limit cut
// sections out, saying how many scopes it left out.
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

	var sections []string
	for _, g := range groupByScope(sync.Plan{Changes: p.Changes}) {
		sections = append(sections, scopeSection(g))
	}
	scopes := len(sections) // the sections before the unmanaged one
	if len(p.Unmanaged) > 0 {
		sections = append(sections, unmanagedSection(p.Unmanaged))
	}

	var b strings.Builder
	b.WriteString(head.String())
	const noteRoom = 300 // the longest note below
	for i, s := range sections {
		room := opts.Limit - b.Len() - len(s)
		if room >= noteRoom || (i == len(sections)-1 && room >= 0) {
			b.WriteString(s)
			continue
		}
		fmt.Fprintf(&b, "\n> [!NOTE]\n> %s left out to keep this comment under %d characters. Run `tokensync plan` for the whole plan.\n", cutNote(scopes-i, len(sections) > scopes), opts.Limit)
		break
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cutNote says what the limit cut out: how many scope sections (of
// changes), and whether the unmanaged assignments' section too.
func cutNote(scopes int, unmanaged bool) string {
	switch {
	case scopes > 0 && unmanaged:
		return fmt.Sprintf("%d more scope section(s) and the unmanaged assignments' section", scopes)
	case scopes > 0:
		return fmt.Sprintf("%d more scope section(s)", scopes)
	}
	return "The unmanaged assignments' section"
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
func scopeSection(g scopeGroup) string {
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
	var b strings.Builder
	id := ""
	if s := scopeID(g.Scope); s != "" {
		id = " (<code>" + htmlText(s) + "</code>)"
	}
	fmt.Fprintf(&b, "\n<details%s><summary><b>%s</b>%s: +%d ~%d -%d</summary>\n\n",
		open, htmlText(scopeTitle(g.Scope)), id, a, u, r)
	b.WriteString("| | subject | before | after | reason |\n|---|---|---|---|---|\n")
	for _, c := range g.Changes {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", mdSymbol(c.Action), mdSubject(c.Subject), mdRole(c.Before), mdRole(c.After), mdText(c.Reason))
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

// unmanagedSection lists the assignments left alone, collapsed.
func unmanagedSection(cs []sync.Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n<details><summary>%d unmanaged assignment(s) left alone</summary>\n\n", len(cs))
	b.WriteString("| scope | subject | role | reason |\n|---|---|---|---|\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdText(scopeTitle(c.Scope)), mdSubject(c.Subject), mdRole(c.Before), mdText(c.Reason))
	}
	b.WriteString("\n</details>\n")
	return b.String()
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
	return fmt.Sprintf("%s%s <sub>%s</sub>", kindPrefix(s.Kind), mdText(s.Name), mdText(s.ID))
}

func mdRole(r string) string {
	if r == "" {
		return "—"
	}
	return "`" + strings.NewReplacer("`", "'", "|", `\|`).Replace(Safe(r)) + "`"
}

// mdText makes user-controlled text safe inside a markdown table cell: Safe,
// then the characters markdown would act on.
func mdText(s string) string {
	return strings.NewReplacer(`\`, `\\`, "|", `\|`, "&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "'", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`).Replace(Safe(s))
}

// htmlText escapes text inside an HTML element.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(Safe(s))
}
