package render

import (
	"fmt"
	"strings"

	"github.com/tokensync/tokensync/sync"
)

// maxViolationsShown is how many policy violations the markdown comment
// lists; the rest are counted. Text lists them all.
const maxViolationsShown = 30

// violationText is one violation on one line, escaped by Safe: the rule,
// then what breaks it, then the spec entry that grants it.
func violationText(v sync.Violation) string {
	var b strings.Builder
	b.WriteString(Safe(v.Rule) + ": ")
	if v.Subject != nil {
		b.WriteString(SubjectLabel(*v.Subject) + " holds " + Safe(v.Role) + " on " + ScopeTitle(v.Scope))
		if v.Via != "" && v.Via != "direct" {
			b.WriteString(" through " + Safe(v.Via))
		}
	} else {
		b.WriteString(ScopeTitle(v.Scope))
		if v.Why != "" {
			b.WriteString(": " + Safe(v.Why))
		}
	}
	if v.Source != nil {
		b.WriteString(" (" + v.Source.String() + ")")
	}
	if v.Err != "" {
		b.WriteString(" [the rule could not be evaluated: " + Safe(v.Err) + "]")
	}
	return b.String()
}

// violationsText lists the violations of p, each with its rule's
// description.
func violationsText(tw *errWriter, p sync.Plan, pal palette) {
	if len(p.Violations) == 0 {
		return
	}
	tw.printf("\n%s\n", pal.bad.Sprintf("Policy violations (%d):", len(p.Violations)))
	last := ""
	for _, v := range p.Violations {
		tw.printf("  %s\n", violationText(v))
		if v.Description != "" && v.Rule != last {
			tw.printf("      %s\n", pal.faint.Sprint(Safe(v.Description)))
		}
		last = v.Rule
	}
}

// violationsMarkdown is the violations of p as a table for the comment:
// at most maxViolationsShown rows, and no more than fit in limit
// characters.
func violationsMarkdown(p sync.Plan, limit int) string {
	if len(p.Violations) == 0 {
		return ""
	}
	var b strings.Builder
	header := fmt.Sprintf("\n#### Policy violations (%d)\n\n| rule | principal | scope | role | spec |\n|---|---|---|---|---|\n", len(p.Violations))
	shown := mdTable(&b, header, p.Violations[:min(len(p.Violations), maxViolationsShown)], limit, func(v sync.Violation) string {
		principal, role := "", ""
		if v.Subject != nil {
			principal = mdSubject(*v.Subject)
			role = mdRole(v.Role)
			if v.Via != "" && v.Via != "direct" {
				role += " via " + mdText(v.Via)
			}
		}
		if v.Subject == nil && v.Why != "" {
			role = mdText(v.Why)
		}
		source := ""
		if v.Source != nil {
			source = mdText(v.Source.String())
		}
		return fmt.Sprintf("| %s | %s | %s | %s | %s |\n", mdText(v.Rule)+"<br>"+mdText(v.Description), principal, mdText(scopeTitle(v.Scope)), role, source)
	})
	if left := len(p.Violations) - shown; left > 0 {
		fmt.Fprintf(&b, "\n%d more; run `tokensync plan` for every one.\n", left)
	}
	return b.String()
}
