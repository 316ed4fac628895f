package access

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/spec"
)

// Filter narrows a report: to some deployments or workspaces, to
// principals matching a pattern, to grants of at least a level. The zero
// Filter keeps everything.
type Filter struct {
	// Deployments are deployment ids, names or workspace/name.
	Deployments []string `json:"deployments,omitempty"`
	// Workspaces are workspace ids or names.
	Workspaces []string `json:"workspaces,omitempty"`
	// Principals are globs matched against a principal's name and id.
	Principals []spec.Glob `json:"principals,omitempty"`
	// MinLevel drops grants below it (custom roles are always kept).
	MinLevel Level `json:"min_level,omitempty"`
}

// IsZero says the filter keeps everything.
func (f Filter) IsZero() bool {
	return len(f.Deployments) == 0 && len(f.Workspaces) == 0 && len(f.Principals) == 0 && f.MinLevel == ""
}

// Apply narrows r. With a principal pattern or a level, a deployment left
// with nobody is left out too: the report then answers "where can these
// principals reach", not "who reaches everything".
func (f Filter) Apply(r Report) Report {
	if f.IsZero() {
		return r
	}
	out := r
	out.Deployments = []Deployment{}
	byCell := len(f.Principals) > 0 || f.MinLevel != ""
	for _, d := range r.Deployments {
		if !f.keepsDeployment(d) {
			continue
		}
		d.Access = f.cells(d.Access)
		if byCell && len(d.Access) == 0 {
			continue
		}
		out.Deployments = append(out.Deployments, d)
	}
	out.Findings = f.findings(r.Findings, out)
	return out
}

// findings keeps the findings about what the narrowed report out shows:
// one on a deployment when out has that deployment and the principal
// matches, and, when it names a role (a redundant grant), the cell still
// holds that role (--min-role may drop it); one about a principal as a
// whole (a token's, a user's) when the principal matches and, narrowed by
// deployment, workspace or level, has a cell in out.
func (f Filter) findings(fs []Finding, out Report) []Finding {
	if fs == nil {
		return nil
	}
	deps := map[string]bool{}
	cells := map[cellKey]bool{}
	roles := map[cellKey][]Grant{}
	for _, d := range out.Deployments {
		deps[d.ID] = true
		for _, e := range d.Access {
			cells[cellKey{"", e.Principal.Kind, e.Principal.ID}] = true
			roles[cellKey{d.ID, e.Principal.Kind, e.Principal.ID}] = e.Grants
		}
	}
	holds := func(x Finding) bool {
		return slices.ContainsFunc(roles[cellKey{x.Deployment.ID, x.Principal.Kind, x.Principal.ID}], func(g Grant) bool { return g.Role == x.Role })
	}
	byCell := len(f.Deployments) > 0 || len(f.Workspaces) > 0 || f.MinLevel != ""
	kept := []Finding{}
	for _, x := range fs {
		switch {
		case len(f.Principals) > 0 && !anyMatch(f.Principals, x.Principal.Name, x.Principal.ID):
		case x.Deployment != nil && !deps[x.Deployment.ID]:
		case x.Deployment != nil && x.Role != "" && f.MinLevel != "" && !holds(x):
		case x.Deployment == nil && byCell && !cells[cellKey{"", x.Principal.Kind, x.Principal.ID}]:
		default:
			kept = append(kept, x)
		}
	}
	return kept
}

func (f Filter) keepsDeployment(d Deployment) bool {
	if len(f.Workspaces) > 0 && !slices.Contains(f.Workspaces, d.WorkspaceID) && !slices.Contains(f.Workspaces, d.Workspace) {
		return false
	}
	return len(f.Deployments) == 0 || slices.ContainsFunc(f.Deployments, func(ref string) bool { return refersTo(ref, d) })
}

// refersTo says ref names d: its id, its name, or workspace/name.
func refersTo(ref string, d Deployment) bool {
	return ref == d.ID || ref == d.Name || ref == d.Workspace+"/"+d.Name
}

// cells keeps the cells of matching principals, with their grants at or
// above the level.
func (f Filter) cells(es []Entry) []Entry {
	kept := []Entry{}
	for _, e := range es {
		if len(f.Principals) > 0 && !anyMatch(f.Principals, e.Principal.Name, e.Principal.ID) {
			continue
		}
		if f.MinLevel != "" {
			var gs []Grant
			for _, g := range e.Grants {
				if g.Level.atLeast(f.MinLevel) {
					gs = append(gs, g)
				}
			}
			if len(gs) == 0 {
				continue
			}
			e.Grants, e.Level = gs, highest(gs)
		}
		kept = append(kept, e)
	}
	return kept
}

// Unmatched are the deployment and workspace references of f that name
// nothing in r, as errors a user can act on.
func (f Filter) Unmatched(r Report) []string {
	var out []string
	for _, ref := range f.Deployments {
		if !slices.ContainsFunc(r.Deployments, func(d Deployment) bool { return refersTo(ref, d) }) {
			out = append(out, fmt.Sprintf("--deployment %q: no deployment has this id, name or workspace/name", ref))
		}
	}
	for _, ref := range f.Workspaces {
		if !slices.ContainsFunc(r.Deployments, func(d Deployment) bool { return ref == d.WorkspaceID || ref == d.Workspace }) {
			out = append(out, fmt.Sprintf("--workspace %q: no workspace with a deployment has this id or name", ref))
		}
	}
	return out
}

// String is the filter as the flags that make it, for a warning.
func (f Filter) String() string {
	var parts []string
	for _, d := range f.Deployments {
		parts = append(parts, "--deployment "+d)
	}
	for _, w := range f.Workspaces {
		parts = append(parts, "--workspace "+w)
	}
	for _, p := range f.Principals {
		parts = append(parts, "--principal "+string(p))
	}
	if f.MinLevel != "" {
		parts = append(parts, "--min-role "+string(f.MinLevel))
	}
	if len(parts) == 0 {
		return "no filter"
	}
	return strings.Join(parts, " ")
}

// anyMatch says one of s matches one of globs.
func anyMatch(globs []spec.Glob, s ...string) bool {
	for _, g := range globs {
		for _, x := range s {
			if g.Match(x) {
				return true
			}
		}
	}
	return false
}
