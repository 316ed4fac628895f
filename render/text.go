package render

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fatih/color"

	"github.com/tokensync/tokensync/sync"
)

// palette holds the colours of the text output; every colour is disabled
// when colour is off.
type palette struct {
	add, update, remove, unmanaged, heading, faint, bad *color.Color
}

func newPalette(enabled bool) palette {
	p := palette{
		add:       color.New(color.FgGreen),
		update:    color.New(color.FgYellow),
		remove:    color.New(color.FgRed),
		unmanaged: color.New(color.Faint),
		heading:   color.New(color.Bold),
		faint:     color.New(color.Faint),
		bad:       color.New(color.FgRed, color.Bold),
	}
	for _, c := range []*color.Color{p.add, p.update, p.remove, p.unmanaged, p.heading, p.faint, p.bad} {
		if enabled {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return p
}

// Text writes the plan for a terminal: changes grouped by scope, then
// the failed guards and the summary line. With colour false it writes plain
// text.
func Text(w io.Writer, p sync.Plan, colour bool) error {
	return planText(w, p, colour, "No changes: the managed scopes match the spec.")
}

// SavedText writes a saved plan as Text does. A saved plan without
// changes says only that: the organization may have changed since.
func SavedText(w io.Writer, p sync.Plan, colour bool) error {
	return planText(w, p, colour, "No changes in the saved plan: nothing to apply (run plan to compare the organization with the spec now).")
}

func planText(w io.Writer, p sync.Plan, colour bool, noChanges string) error {
	pal := newPalette(colour)
	bw := bufio.NewWriter(w) // one write per plan, not per line
	tw := &errWriter{w: bw}
	groups := groupByScope(p)
	for i, g := range groups {
		if i > 0 {
			tw.printf("\n")
		}
		if id := scopeID(g.Scope); id != "" {
			tw.printf("%s %s\n", pal.heading.Sprint(ScopeTitle(g.Scope)), pal.faint.Sprint("("+Safe(id)+")"))
		} else {
			tw.printf("%s\n", pal.heading.Sprint(ScopeTitle(g.Scope)))
		}
		labelWidth, roleWidth := 0, 0
		for _, c := range g.Changes {
			labelWidth = max(labelWidth, len(SubjectLabel(c.Subject)))
			roleWidth = max(roleWidth, len(roleChange(c)))
		}
		for _, c := range g.Changes {
			sign, col := symbol(c.Action, pal)
			line := fmt.Sprintf("  %s %-*s  %s", sign, labelWidth, SubjectLabel(c.Subject), roleChange(c))
			if c.Reason != "" {
				line = fmt.Sprintf("  %s %-*s  %-*s  # %s", sign, labelWidth, SubjectLabel(c.Subject), roleWidth, roleChange(c), Safe(c.Reason))
			}
			tw.printf("%s\n", col.Sprint(line))
		}
	}
	violationsText(tw, p, pal)
	for _, g := range p.Guards {
		if !g.OK {
			tw.printf("\n%s %s\n", pal.bad.Sprint("Refused by guard "+g.Name+":"), Safe(g.Message))
		}
	}
	add, change, remove := p.Summary()
	if len(groups) > 0 {
		tw.printf("\n")
	}
	if len(p.Partial) > 0 {
		tw.printf("%s\n", pal.update.Sprint(PartialNote(p.Partial)))
	}
	if len(p.Changes) == 0 {
		tw.printf("%s\n", pal.heading.Sprint(noChanges))
	} else {
		tw.printf("%s\n", pal.heading.Sprintf("Plan: %d to add, %d to change, %d to remove.", add, change, remove))
	}
	if tw.err != nil {
		return tw.err
	}
	return bw.Flush()
}

// symbol is the one-character mark of an action and its colour.
func symbol(a sync.Action, pal palette) (string, *color.Color) {
	switch a {
	case sync.Add:
		return "+", pal.add
	case sync.Update:
		return "~", pal.update
	case sync.Remove:
		return "-", pal.remove
	default:
		return "?", pal.unmanaged
	}
}

// SubjectLabel names a subject in text output, escaped by Safe, with its
// kind: "workspace token name [id]", "organization token name [id]",
// "user username [id]", "team name [id]".
func SubjectLabel(s sync.SubjectRef) string {
	return kindPrefix(s.Kind) + Safe(s.Name) + " [" + Safe(s.ID) + "]"
}

// kindPrefix names a subject's kind before its name, as the report does
// (kindLabel), so that a workspace token and an organization token of the
// same name are told apart in every output.
func kindPrefix(k sync.Kind) string {
	return kindLabel(string(k)) + " "
}

// roleChange shows the role of a change: NEW, OLD -> NEW, or OLD.
func roleChange(c sync.Change) string {
	switch c.Action {
	case sync.Update:
		return Safe(c.Before) + " -> " + Safe(c.After)
	case sync.Add:
		return Safe(c.After)
	default:
		return Safe(c.Before)
	}
}

// scopeGroup is the changes and unmanaged assignments of one scope.
type scopeGroup struct {
	Scope   sync.ScopeRef
	Changes []sync.Change // changes first, then unmanaged
}

// groupByScope groups a plan by scope, keeping the plan's order within
// each, the groups in the plan's order of scopes (sync.CompareScope).
func groupByScope(p sync.Plan) []scopeGroup {
	var groups []scopeGroup
	index := map[sync.Scope]int{}
	for _, list := range [][]sync.Change{p.Changes, p.Unmanaged} {
		for _, c := range list {
			k := c.Scope.Key()
			i, ok := index[k]
			if !ok {
				i = len(groups)
				index[k] = i
				groups = append(groups, scopeGroup{Scope: c.Scope})
			}
			groups[i].Changes = append(groups[i].Changes, c)
		}
	}
	slices.SortStableFunc(groups, func(a, b scopeGroup) int { return sync.CompareScope(a.Scope, b.Scope) })
	return groups
}

// ScopeTitle names a scope in text output, escaped by Safe: "organization
// ID", "workspace NAME", "deployment NAME", "DAG ID of deployment NAME",
// "DAG tag TAG of deployment NAME".
func ScopeTitle(s sync.ScopeRef) string { return Safe(scopeTitle(s)) }

// scopeTitle is ScopeTitle unescaped, for outputs that escape their own way.
func scopeTitle(s sync.ScopeRef) string {
	switch s.Level {
	case sync.LevelOrganization:
		return "organization " + cmp.Or(s.Name, s.ID)
	case sync.LevelDAG:
		return "DAG " + s.ID + " of deployment " + cmp.Or(s.Deployment.Name, s.Deployment.ID)
	case sync.LevelDAGTag:
		return "DAG tag " + s.ID + " of deployment " + cmp.Or(s.Deployment.Name, s.Deployment.ID)
	}
	return string(s.Level) + " " + cmp.Or(s.Name, s.ID)
}

// scopeID is the id shown beside a scope's title: a DAG's deployment id,
// none for the organization (its title names its id),
// the scope's own id otherwise.
func scopeID(s sync.ScopeRef) string {
	switch s.Level {
	case sync.LevelDAG, sync.LevelDAGTag:
		return s.Deployment.ID
	case sync.LevelOrganization:
		return ""
	}
	return s.ID
}

// errWriter remembers the first write error so renderers can write freely
// and report once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}

// PartialNote says a plan covers only the scopes --target named, each
// by its title and id.
func PartialNote(scopes []sync.ScopeRef) string {
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = Safe(partialName(s))
	}
	return "Partial plan: only " + strings.Join(names, ", ") + " (--target)"
}

// partialName names a scope of a partial plan as its heading does, its
// title and id: two deployments (or DAGs) of one name in two workspaces
// are told apart. Unescaped.
func partialName(s sync.ScopeRef) string {
	if id := scopeID(s); id != "" {
		return scopeTitle(s) + " (" + id + ")"
	}
	return scopeTitle(s)
}
