package access

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/spec"
)

// Document is the report document that report -o json writes, of
// format_version 2: each principal and each distinct grant is spelled
// once, in Principals and Grants, and named everywhere else by its index
// there (a cell, a grant held through a team, a change, a finding). The
// Report type itself, with its json tags, is the document of
// format_version 1, which Read still reads.
type Document struct {
	FormatVersion    string              `json:"format_version"`
	TokensyncVersion string              `json:"tokensync_version"`
	Organization     string              `json:"organization"`
	GeneratedAt      string              `json:"generated_at"`
	Spec             bool                `json:"spec"`
	TeamsExpanded    bool                `json:"teams_expanded"`
	Production       []spec.Glob         `json:"production"`
	RoleLevels       RoleLevels          `json:"role_levels,omitempty"`
	RolePermissions  map[string][]string `json:"role_permissions,omitempty"`
	Filters          *Filter             `json:"filters,omitempty"`
	// Principals are every principal the document names, in the order of
	// the report's cells (users, teams, then tokens of each scope, by name
	// and id).
	Principals []DocPrincipal `json:"principals"`
	// Grants are every distinct grant the document names, in the order of
	// a cell's grants (deployment, DAG, DAG tag, workspace, organization).
	Grants      []DocGrant      `json:"grants"`
	Deployments []DocDeployment `json:"deployments"`
	Since       *DocSince       `json:"since,omitempty"`
	Review      *Review         `json:"review,omitempty"`
	Findings    []DocFinding    `json:"findings,omitempty"`
}

// DocPrincipal is a principal of the document: a Ref and, for a user, its
// status.
type DocPrincipal struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status,omitempty"`
}

// DocGrant is a grant of the document; Via is the index in Principals of
// the team a user holds it through.
type DocGrant struct {
	Role   string `json:"role"`
	Level  Level  `json:"level"`
	Source Source `json:"source"`
	DAG    string `json:"dag,omitempty"`
	Via    *int   `json:"via,omitempty"`
}

// DocDeployment is a deployment of the document and its cells.
type DocDeployment struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	WorkspaceID string     `json:"workspace_id"`
	Workspace   string     `json:"workspace"`
	InSpec      bool       `json:"in_spec"`
	Production  bool       `json:"production"`
	Access      []DocEntry `json:"access"`
}

// DocEntry is a cell: the indexes of its principal and of its grants.
type DocEntry struct {
	Principal int   `json:"principal"`
	Level     Level `json:"level"`
	Grants    []int `json:"grants"`
	Unmanaged bool  `json:"unmanaged"`
}

// DocSince is Since in the document.
type DocSince struct {
	GeneratedAt string      `json:"generated_at"`
	Changes     []DocChange `json:"changes"`
}

// DocChange is a Change in the document: its principal and grants by
// index.
type DocChange struct {
	Change     string        `json:"change"`
	Deployment DeploymentRef `json:"deployment"`
	Principal  int           `json:"principal"`
	Before     []int         `json:"before"`
	After      []int         `json:"after"`
}

// DocFinding is a Finding in the document: its principal by index.
type DocFinding struct {
	Kind     string `json:"kind"`
	Category string `json:"category"`
	Severity string `json:"severity,omitempty"`
	// Principal is absent for a rule over a scope, which names none.
	Principal  *int           `json:"principal,omitempty"`
	Deployment *DeploymentRef `json:"deployment,omitempty"`
	Scope      string         `json:"scope,omitempty"`
	Role       string         `json:"role,omitempty"`
	Message    string         `json:"message"`
	Rule       string         `json:"rule,omitempty"`
	Source     string         `json:"source,omitempty"`
	New        bool           `json:"new,omitempty"`
}

// grantKey identifies a distinct grant of a document; via is the
// provisional index of its team plus one (0: none).
type grantKey struct {
	role   string
	level  Level
	source Source
	dag    string
	via    int
}

// tables are the principals and grants of a document being made. Each is
// numbered as first seen, and every index the document will hold is kept
// in refs, in the order Document writes them; number then sorts the
// tables and renumbers refs.
type tables struct {
	byID   map[string]int // principal id → index, for the first principal of that id
	byRef  map[Ref]int    // the others (another kind or name with the same id)
	refs   []Ref
	status []string
	grants map[grantKey]int
	keys   []grantKey
	pnew   []int // principal's first number → its sorted index
	gnew   []int // grant's first number → its sorted index
	// cells are the indexes the document holds, as first numbered: per
	// cell, its principal then its grants; per change, its principal,
	// then its grants before and after; per finding, its principal.
	cells []int
}

func newTables() *tables {
	return &tables{byID: map[string]int{}, byRef: map[Ref]int{}, grants: map[grantKey]int{}}
}

// principal is the index of p, numbered when first seen.
func (t *tables) principal(p Ref, status string) int {
	i, ok := t.byID[p.ID]
	if !ok || t.refs[i] != p {
		if i, ok = t.byRef[p]; !ok {
			i = len(t.refs)
			t.refs, t.status = append(t.refs, p), append(t.status, "")
			if _, taken := t.byID[p.ID]; taken {
				t.byRef[p] = i
			} else {
				t.byID[p.ID] = i
			}
		}
	}
	if status != "" && t.status[i] == "" {
		t.status[i] = status
	}
	return i
}

// grant is the index of g, numbered when first seen.
func (t *tables) grant(g Grant) int {
	k := grantKey{role: g.Role, level: g.Level, source: g.Source, dag: g.DAG}
	if g.Via != nil {
		k.via = t.principal(*g.Via, "") + 1
	}
	i, ok := t.grants[k]
	if !ok {
		i = len(t.keys)
		t.grants[k] = i
		t.keys = append(t.keys, k)
	}
	return i
}

func (t *tables) add(p Ref, status string, gss ...[]Grant) {
	t.cells = append(t.cells, t.principal(p, status))
	for _, gs := range gss {
		for _, g := range gs {
			t.cells = append(t.cells, t.grant(g))
		}
	}
}

// collect numbers every principal and grant r names, in the order
// Document writes them.
func (t *tables) collect(r *Report) {
	n := len(r.Findings)
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			n += 1 + len(e.Grants)
		}
	}
	t.cells = make([]int, 0, n)
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			t.add(e.Principal, e.Status, e.Grants)
		}
	}
	if r.Since != nil {
		for _, c := range r.Since.Changes {
			t.add(c.Principal, "", c.Before, c.After)
		}
	}
	for _, f := range r.Findings {
		if f.HasPrincipal() {
			t.add(f.Principal, f.Status)
		}
	}
}

// number sorts the tables (principals as the report's cells are, grants as
// a cell's are) and keeps how each first number is renumbered.
func (t *tables) number() ([]DocPrincipal, []DocGrant) {
	porder := make([]int, len(t.refs))
	for i := range porder {
		porder[i] = i
	}
	slices.SortFunc(porder, func(a, b int) int { return compareRef(t.refs[a], t.refs[b]) })
	pnew := make([]int, len(t.refs))
	ps := make([]DocPrincipal, len(t.refs))
	for n, i := range porder {
		pnew[i] = n
		p := t.refs[i]
		ps[n] = DocPrincipal{Kind: p.Kind, ID: p.ID, Name: p.Name, Status: t.status[i]}
	}
	grant := func(k grantKey) Grant {
		g := Grant{Role: k.role, Level: k.level, Source: k.source, DAG: k.dag}
		if k.via > 0 {
			g.Via = &t.refs[k.via-1]
		}
		return g
	}
	gorder := make([]int, len(t.keys))
	for i := range gorder {
		gorder[i] = i
	}
	slices.SortFunc(gorder, func(a, b int) int {
		ka, kb := t.keys[a], t.keys[b]
		return cmp.Or(compareGrant(grant(ka), grant(kb)), strings.Compare(string(ka.level), string(kb.level)))
	})
	gnew := make([]int, len(t.keys))
	gs := make([]DocGrant, len(t.keys))
	for n, i := range gorder {
		gnew[i] = n
		k := t.keys[i]
		gs[n] = DocGrant{Role: k.role, Level: k.level, Source: k.source, DAG: k.dag}
		if k.via > 0 {
			v := pnew[k.via-1]
			gs[n].Via = &v
		}
	}
	t.pnew, t.gnew = pnew, gnew
	return ps, gs
}

// Document is r as the document of format_version 2 (FormatVersion).
func (r Report) Document() Document {
	t := newTables()
	t.collect(&r)
	d := Document{
		FormatVersion: FormatVersion, TokensyncVersion: r.TokensyncVersion, Organization: r.Organization, GeneratedAt: r.GeneratedAt,
		Spec: r.Spec, TeamsExpanded: r.TeamsExpanded, Production: r.Production, RoleLevels: r.RoleLevels, RolePermissions: r.RolePermissions,
		Filters: r.Filters, Review: r.Review, Deployments: make([]DocDeployment, len(r.Deployments)),
	}
	if d.Production == nil {
		d.Production = []spec.Glob{}
	}
	d.Principals, d.Grants = t.number()
	w := &walk{t: t, ints: make([]int, len(t.cells))}
	for i, dep := range r.Deployments {
		dd := DocDeployment{ID: dep.ID, Name: dep.Name, WorkspaceID: dep.WorkspaceID, Workspace: dep.Workspace, InSpec: dep.InSpec,
			Production: dep.Production, Access: make([]DocEntry, len(dep.Access))}
		for j, e := range dep.Access {
			dd.Access[j] = DocEntry{Principal: w.principal(), Level: e.Level, Grants: w.grants(len(e.Grants)), Unmanaged: e.Unmanaged}
		}
		d.Deployments[i] = dd
	}
	if r.Since != nil {
		d.Since = &DocSince{GeneratedAt: r.Since.GeneratedAt, Changes: make([]DocChange, len(r.Since.Changes))}
		for i, c := range r.Since.Changes {
			d.Since.Changes[i] = DocChange{Change: c.Change, Deployment: c.Deployment, Principal: w.principal(),
				Before: w.grants(len(c.Before)), After: w.grants(len(c.After))}
		}
	}
	if r.Findings != nil {
		d.Findings = make([]DocFinding, len(r.Findings))
		for i, f := range r.Findings {
			d.Findings[i] = DocFinding{Kind: f.Kind, Category: f.Category, Severity: f.Severity,
				Deployment: f.Deployment, Scope: f.Scope, Role: f.Role, Message: f.Message, Rule: f.Rule, Source: f.Source, New: f.New}
			if f.HasPrincipal() {
				p := w.principal()
				d.Findings[i].Principal = &p
			}
		}
	}
	return d
}

// walk takes the indexes collect numbered back, in the same order,
// renumbered; the grants of every cell share one array.
type walk struct {
	t    *tables
	ints []int
	next int
}

func (w *walk) principal() int {
	i := w.t.pnew[w.t.cells[w.next]]
	w.next++
	return i
}

func (w *walk) grants(n int) []int {
	out := w.ints[w.next : w.next+n : w.next+n]
	for k := range out {
		out[k] = w.t.gnew[w.t.cells[w.next+k]]
	}
	w.next += n
	return out
}

// report is the Report d stands for; an index that is not one of its
// tables is an error naming where it is.
func (d *Document) report() (Report, error) {
	r := Report{
		FormatVersion: d.FormatVersion, TokensyncVersion: d.TokensyncVersion, Organization: d.Organization, GeneratedAt: d.GeneratedAt,
		Spec: d.Spec, TeamsExpanded: d.TeamsExpanded, Production: d.Production, RoleLevels: d.RoleLevels, RolePermissions: d.RolePermissions,
		Filters: d.Filters, Review: d.Review, Deployments: make([]Deployment, len(d.Deployments)),
	}
	x := docReader{d: d}
	for i, dd := range d.Deployments {
		dep := Deployment{ID: dd.ID, Name: dd.Name, WorkspaceID: dd.WorkspaceID, Workspace: dd.Workspace, InSpec: dd.InSpec,
			Production: dd.Production, Access: make([]Entry, len(dd.Access))}
		for j, e := range dd.Access {
			where := fmt.Sprintf("deployments[%d].access[%d]", i, j)
			p := x.principal(where, e.Principal)
			dep.Access[j] = Entry{Principal: p.ref(), Status: p.Status, Level: e.Level, Grants: x.grants(where, e.Grants), Unmanaged: e.Unmanaged}
		}
		r.Deployments[i] = dep
	}
	if d.Since != nil {
		r.Since = &Since{GeneratedAt: d.Since.GeneratedAt, Changes: make([]Change, len(d.Since.Changes))}
		for i, c := range d.Since.Changes {
			where := fmt.Sprintf("since.changes[%d]", i)
			r.Since.Changes[i] = Change{Change: c.Change, Deployment: c.Deployment, Principal: x.principal(where, c.Principal).ref(),
				Before: nonNil(x.grants(where, c.Before)), After: nonNil(x.grants(where, c.After))}
		}
	}
	if d.Findings != nil {
		r.Findings = make([]Finding, len(d.Findings))
		for i, f := range d.Findings {
			r.Findings[i] = Finding{Kind: f.Kind, Category: f.Category, Severity: f.Severity,
				Deployment: f.Deployment, Scope: f.Scope, Role: f.Role, Message: f.Message, Rule: f.Rule, Source: f.Source, New: f.New}
			if f.Principal != nil {
				p := x.principal(fmt.Sprintf("findings[%d]", i), *f.Principal)
				r.Findings[i].Principal, r.Findings[i].Status = p.ref(), p.Status
			}
		}
	}
	return r, x.err
}

func (p DocPrincipal) ref() Ref { return Ref{Kind: p.Kind, ID: p.ID, Name: p.Name} }

// docReader resolves a document's indexes, keeping the first bad one.
type docReader struct {
	d   *Document
	err error
}

func (x *docReader) principal(where string, i int) DocPrincipal {
	if i < 0 || i >= len(x.d.Principals) {
		x.fail("%s: principal %d is not an index of principals (%d)", where, i, len(x.d.Principals))
		return DocPrincipal{}
	}
	return x.d.Principals[i]
}

func (x *docReader) grants(where string, is []int) []Grant {
	if is == nil {
		return nil
	}
	out := make([]Grant, 0, len(is))
	for _, i := range is {
		if i < 0 || i >= len(x.d.Grants) {
			x.fail("%s: grant %d is not an index of grants (%d)", where, i, len(x.d.Grants))
			continue
		}
		g := x.d.Grants[i]
		out = append(out, Grant{Role: g.Role, Level: g.Level, Source: g.Source, DAG: g.DAG, Via: x.via(where, g.Via)})
	}
	return out
}

func (x *docReader) via(where string, i *int) *Ref {
	if i == nil {
		return nil
	}
	p := x.principal(where+": via", *i).ref()
	return &p
}

func (x *docReader) fail(format string, args ...any) {
	if x.err == nil {
		x.err = fmt.Errorf(format, args...)
	}
}
