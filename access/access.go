// Package access computes the access report: who can touch which
// deployment, and how. It is pure: it reads what sync.Observe listed (and,
// when given, the resolved spec and the members of teams) and writes
// nothing anywhere.
//
// A principal (an API token of any scope, a user or a team) has access to
// a deployment from a deployment role on it, from a workspace role on the
// deployment's workspace that implies deployment access (WORKSPACE_OWNER,
// WORKSPACE_OPERATOR, WORKSPACE_AUTHOR, WORKSPACE_MEMBER; the
// WORKSPACE_ACCESSOR role Astro adds on its own grants nothing by itself),
// or from ORGANIZATION_OWNER, which reaches every deployment. A DAG role,
// held on one DAG or DAG tag of a deployment, is access of its own level
// (dag): it appears on its deployment, naming the DAG or tag, and reaches
// nothing else of it.
//
// With a resolved spec, a grant is managed when the spec manages its scope
// (the organization, the workspace, the deployment, the DAG or DAG tag) and
// lists the principal there, or prunes its kind there; a cell is managed
// when every grant of it is.
//
// With a Review, the report lists findings: tokens expired, expiring,
// without expiry, unused or not rotated (from the tokens as listed),
// INACTIVE, BANNED or PENDING users holding roles, and redundant grants;
// the caller adds policy violations with Report.AddFindings. Custom
// deployment roles are rated from their permissions (RatePermissions).
package access

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// FormatVersion is the version of the report document report -o json
// writes (Document).
const FormatVersion = "2"

// FormatVersion1 is the version of the document tokensync wrote before
// (Report's own json form), which Read still reads.
const FormatVersion1 = "1"

// Source is where a grant of access comes from.
type Source string

// The sources of access.
const (
	FromDeployment   Source = "deployment"
	FromWorkspace    Source = "workspace"
	FromOrganization Source = "organization"
	// FromDAG and FromDAGTag are a DAG role held on one DAG or on the DAGs
	// of one tag; the grant's DAG names it.
	FromDAG    Source = "dag"
	FromDAGTag Source = "dagTag"
)

// dagSource is the source of a grant held at a DAG level.
var dagSource = map[sync.Level]Source{sync.LevelDAG: FromDAG, sync.LevelDAGTag: FromDAGTag}

// impliesDeploymentAccess are the workspace roles that give access to
// every deployment of their workspace.
var impliesDeploymentAccess = map[string]bool{
	astroapi.RoleWorkspaceOwner:    true,
	astroapi.RoleWorkspaceOperator: true,
	astroapi.RoleWorkspaceAuthor:   true,
	astroapi.RoleWorkspaceMember:   true,
}

// Ref names a principal: its kind (as plans name it), id and name (a
// user's username).
type Ref struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Grant is one way a principal reaches a deployment.
type Grant struct {
	Role string `json:"role"`
	// Level is how much the role lets its holder do (see Level).
	Level  Level  `json:"level"`
	Source Source `json:"source"`
	// DAG is the DAG id (source dag) or the tag (source dagTag) the role is
	// held on; "" for the other sources.
	DAG string `json:"dag,omitempty"`
	// Via is the team a user holds the grant through (--expand-teams).
	Via *Ref `json:"via,omitempty"`
}

// String is the grant as a reader sees it: ROLE (source[, via team X]).
func (g Grant) String() string {
	if g.Via != nil {
		return g.Role + " (" + g.SourceText() + ", via team " + g.Via.Name + ")"
	}
	return g.Role + " (" + g.SourceText() + ")"
}

// SourceText is the grant's source as a reader sees it: deployment,
// workspace, organization, "dag · ID" or "dag tag · TAG".
func (g Grant) SourceText() string {
	switch g.Source {
	case FromDAG:
		return "dag · " + g.DAG
	case FromDAGTag:
		return "dag tag · " + g.DAG
	}
	return string(g.Source)
}

// OnDAG says the grant is a DAG role, held on a DAG or DAG tag.
func (g Grant) OnDAG() bool { return g.Source == FromDAG || g.Source == FromDAGTag }

// Entry is one cell of the matrix: a principal's access to a deployment.
type Entry struct {
	Principal Ref `json:"principal"`
	// Status is a user's status (ACTIVE, INACTIVE, PENDING, BANNED).
	Status string `json:"status,omitempty"`
	// Level is the highest level of the grants.
	Level  Level   `json:"level"`
	Grants []Grant `json:"grants"`
	// Unmanaged says the spec does not cover the cell: a grant of it is on
	// a scope the spec does not manage, or the spec neither lists the
	// principal there nor prunes its kind there. Always false without a
	// spec.
	Unmanaged bool `json:"unmanaged"`
}

// Deployment is one deployment and everyone who can touch it.
type Deployment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	WorkspaceID string `json:"workspace_id"`
	Workspace   string `json:"workspace"`
	// InSpec says the spec lists the deployment (false without a spec).
	InSpec bool `json:"in_spec"`
	// Production says the deployment's name matches a --production
	// pattern.
	Production bool    `json:"production"`
	Access     []Entry `json:"access"`
}

// Report is the access report. Its json form is the document of
// format_version 1 (FormatVersion1), which Read still reads; report -o
// json writes Document.
type Report struct {
	FormatVersion    string `json:"format_version"`
	TokensyncVersion string `json:"tokensync_version"`
	Organization     string `json:"organization"`
	GeneratedAt      string `json:"generated_at"`
	// Spec says a spec was given, so Unmanaged and InSpec mean something.
	Spec          bool `json:"spec"`
	TeamsExpanded bool `json:"teams_expanded"`
	// Production are the patterns that mark production deployments.
	Production []spec.Glob `json:"production"`
	// RoleLevels are the levels of custom deployment roles: rated from
	// their permissions (RolePermissions), or given by --role-level, which
	// wins; a custom role not in it has level custom.
	RoleLevels RoleLevels `json:"role_levels,omitempty"`
	// RolePermissions are the permissions of the custom deployment roles
	// the report read (GET /roles/{id}), by role name.
	RolePermissions map[string][]string `json:"role_permissions,omitempty"`
	// Filters narrowed the report (--deployment, --workspace, --principal,
	// --min-role); absent when nothing was left out.
	Filters     *Filter      `json:"filters,omitempty"`
	Deployments []Deployment `json:"deployments"`
	// Since is what changed since a previous report (--since).
	Since *Since `json:"since,omitempty"`
	// Review are the thresholds the token findings were computed with;
	// absent when the report has no findings computed.
	Review *Review `json:"review,omitempty"`
	// Findings are what an access review should look at: token hygiene,
	// users' status, redundant grants and policy violations (AddFindings),
	// most severe first.
	Findings []Finding `json:"findings,omitempty"`
}

// Input is what a report is computed from.
type Input struct {
	Observed *sync.Observed
	// Desired is the resolved spec, nil without one.
	Desired *sync.Desired
	// Members are the members of each team by team id, nil unless teams are
	// expanded.
	Members map[string][]astroapi.TeamMember
	// Production are the patterns of production deployments' names.
	Production []spec.Glob
	// RoleLevels are the levels given to custom deployment roles
	// (--role-level); they win over RolePermissions.
	RoleLevels RoleLevels
	// RolePermissions are the permissions of custom deployment roles by
	// name, from which they are rated (RatePermissions).
	RolePermissions map[string][]string
	// Tokens are the tokens as listed, by id: their lifecycle fields make
	// the token findings.
	Tokens map[string]astroapi.Token
	// Review, when not nil, makes the report compute its findings.
	Review *Review
}

// cellKey identifies a cell: a deployment and a principal.
type cellKey struct{ dep, kind, id string }

// Compute builds the report (without its version, time and Since, which
// the caller sets).
func Compute(in Input) Report {
	obs := in.Observed
	r := Report{FormatVersion: FormatVersion, Organization: obs.Organization, Spec: in.Desired != nil, TeamsExpanded: in.Members != nil,
		Production: append([]spec.Glob{}, in.Production...), RolePermissions: in.RolePermissions, Deployments: []Deployment{}}
	r.RoleLevels = ratedLevels(in.RolePermissions, in.RoleLevels)
	b := newBuilder(obs)
	b.levels = r.RoleLevels
	users := map[string]sync.Subject{}
	for _, s := range obs.Subjects {
		if s.Kind == sync.KindUser {
			users[s.ID] = s
		}
		b.add(principal(s), s.Status, grantsOf(s), nil)
	}
	for _, s := range obs.Subjects {
		if s.Kind != sync.KindTeam || in.Members == nil {
			continue
		}
		team := principal(s)
		for _, m := range in.Members[s.ID] {
			u := Ref{Kind: string(sync.KindUser), ID: m.UserID, Name: m.Username}
			if known, ok := users[m.UserID]; ok {
				u.Name = known.Name
			}
			b.add(u, users[m.UserID].Status, grantsOf(s), &team)
		}
	}
	cover := newSpecCover(in.Desired)
	for _, d := range b.deps {
		rd := Deployment{ID: d.ID, Name: d.Name, WorkspaceID: d.WorkspaceID, Workspace: b.wsName[d.WorkspaceID], InSpec: cover.inSpec[d.ID],
			Production: anyMatch(in.Production, d.Name), Access: []Entry{}}
		for _, e := range b.cells[d.ID] {
			slices.SortFunc(e.Grants, compareGrant)
			e.Level = highest(e.Grants)
			if in.Desired != nil {
				e.Unmanaged = !cover.covers(d, *e)
			}
			rd.Access = append(rd.Access, *e)
		}
		slices.SortFunc(rd.Access, func(a, b Entry) int { return compareRef(a.Principal, b.Principal) })
		r.Deployments = append(r.Deployments, rd)
	}
	if in.Review != nil {
		rv := *in.Review
		r.Review = &rv
		r.Findings = findings(in, r)
	}
	return r
}

// ratedLevels are the levels of custom roles rated from their permissions,
// overridden by those given; nil when there are none.
func ratedLevels(perms map[string][]string, given RoleLevels) RoleLevels {
	m := RoleLevels{}
	for role, ps := range perms {
		if l := RatePermissions(ps); rateable(l) {
			m[role] = l
		}
	}
	maps.Copy(m, given)
	if len(m) == 0 {
		return nil
	}
	return m
}

// Relevel gives custom deployment roles the levels m (over those rated
// from RolePermissions) and works out every grant's and cell's level, and
// the redundant grants, again.
func (r *Report) Relevel(m RoleLevels) {
	m = ratedLevels(r.RolePermissions, m)
	r.RoleLevels = m
	defer r.refreshRedundant()
	for i := range r.Deployments {
		for j := range r.Deployments[i].Access {
			e := &r.Deployments[i].Access[j]
			for k := range e.Grants {
				e.Grants[k].Level = m.level(e.Grants[k])
			}
			e.Level = highest(e.Grants)
		}
	}
}

// MarkProduction marks again which deployments are production, by the
// patterns globs, and records them.
func (r *Report) MarkProduction(globs []spec.Glob) {
	r.Production = append([]spec.Glob{}, globs...)
	for i := range r.Deployments {
		r.Deployments[i].Production = anyMatch(globs, r.Deployments[i].Name)
	}
}

// grants is a subject's access, by source.
type grants struct {
	deployments []astroapi.DeploymentRole
	workspaces  []astroapi.WorkspaceRole // those implying deployment access
	owner       bool                     // ORGANIZATION_OWNER
	dags        []sync.Grant             // DAG and DAG tag roles
}

func grantsOf(s sync.Subject) grants {
	g := grants{deployments: s.Deployments(), owner: s.OrganizationRole() == astroapi.RoleOrganizationOwner}
	for _, w := range s.WorkspaceRoles() {
		if impliesDeploymentAccess[w.Role] {
			g.workspaces = append(g.workspaces, w)
		}
	}
	for _, sg := range s.Grants {
		if dagSource[sg.Scope.Level] != "" {
			g.dags = append(g.dags, sg)
		}
	}
	return g
}

func principal(s sync.Subject) Ref { return Ref{Kind: string(s.Kind), ID: s.ID, Name: s.Name} }

// builder collects the cells of the matrix.
type builder struct {
	deps   []astroapi.Deployment
	known  map[string]bool     // deployment ids
	inWS   map[string][]string // workspace id → its deployment ids
	wsName map[string]string
	cells  map[string][]*Entry // deployment id → its cells, in order of first grant
	index  map[cellKey]*Entry
	levels RoleLevels
}

func newBuilder(obs *sync.Observed) *builder {
	b := &builder{known: map[string]bool{}, inWS: map[string][]string{}, wsName: map[string]string{},
		cells: map[string][]*Entry{}, index: map[cellKey]*Entry{}}
	for _, w := range obs.Workspaces {
		b.wsName[w.ID] = w.Name
	}
	b.deps = slices.Clone(obs.Deployments)
	slices.SortFunc(b.deps, func(x, y astroapi.Deployment) int {
		return cmp.Or(strings.Compare(b.wsName[x.WorkspaceID], b.wsName[y.WorkspaceID]), strings.Compare(x.Name, y.Name), strings.Compare(x.ID, y.ID))
	})
	for _, d := range b.deps {
		b.known[d.ID] = true
		b.inWS[d.WorkspaceID] = append(b.inWS[d.WorkspaceID], d.ID)
	}
	return b
}

// add records g as p's access, held through team via when not nil.
func (b *builder) add(p Ref, status string, g grants, via *Ref) {
	for _, d := range g.deployments {
		b.grant(d.DeploymentID, p, status, Grant{Role: d.Role, Source: FromDeployment, Via: via})
	}
	for _, w := range g.workspaces {
		for _, dep := range b.inWS[w.WorkspaceID] {
			b.grant(dep, p, status, Grant{Role: w.Role, Source: FromWorkspace, Via: via})
		}
	}
	for _, d := range g.dags {
		b.grant(d.Scope.Deployment, p, status, Grant{Role: d.Role, Source: dagSource[d.Scope.Level], DAG: d.Scope.ID, Via: via})
	}
	if g.owner {
		for _, d := range b.deps {
			b.grant(d.ID, p, status, Grant{Role: astroapi.RoleOrganizationOwner, Source: FromOrganization, Via: via})
		}
	}
}

func (b *builder) grant(dep string, p Ref, status string, g Grant) {
	if !b.known[dep] {
		return // a role on a deployment the credential cannot see
	}
	g.Level = b.levels.level(g)
	k := cellKey{dep, p.Kind, p.ID}
	e := b.index[k]
	if e == nil {
		e = &Entry{Principal: p, Status: status}
		b.index[k] = e
		b.cells[dep] = append(b.cells[dep], e)
	}
	if !slices.ContainsFunc(e.Grants, func(x Grant) bool { return sameGrant(x, g) }) {
		e.Grants = append(e.Grants, g)
	}
}

// specCover is what the spec covers: the principals it lists on each
// scope it manages (state: absent included), the scopes themselves, and
// the deployments it lists.
type specCover struct {
	listed map[scopedKey]bool
	scopes map[sync.Scope]*sync.ManagedScope
	ignore map[sync.Kind][]string
	inSpec map[string]bool
}

// scopedKey is a principal on a scope.
type scopedKey struct {
	scope    sync.Scope
	kind, id string
}

func newSpecCover(d *sync.Desired) specCover {
	c := specCover{listed: map[scopedKey]bool{}, scopes: map[sync.Scope]*sync.ManagedScope{}, inSpec: map[string]bool{}}
	if d == nil {
		return c
	}
	c.ignore = d.Ignore
	for i := range d.Scopes {
		m := &d.Scopes[i]
		sc := m.Key()
		c.scopes[sc] = m
		if m.Level == sync.LevelDeployment {
			c.inSpec[m.ID] = true
		}
		for _, a := range m.Assignments {
			c.listed[scopedKey{sc, string(a.Subject.Kind), a.Subject.ID}] = true
		}
	}
	return c
}

// scopeOf is the scope where g, reaching deployment d, is held.
func scopeOf(d astroapi.Deployment, g Grant) sync.Scope {
	switch g.Source {
	case FromWorkspace:
		return sync.Scope{Level: sync.LevelWorkspace, ID: d.WorkspaceID}
	case FromOrganization:
		return sync.Organization
	case FromDAG:
		return sync.Scope{Level: sync.LevelDAG, ID: g.DAG, Deployment: d.ID}
	case FromDAGTag:
		return sync.Scope{Level: sync.LevelDAGTag, ID: g.DAG, Deployment: d.ID}
	}
	return sync.Scope{Level: sync.LevelDeployment, ID: d.ID}
}

// covers says the spec covers e on d: every grant of it is managed, the
// principal's own or (a team member's) the team's it holds the grant
// through.
func (c specCover) covers(d astroapi.Deployment, e Entry) bool {
	for _, g := range e.Grants {
		holder := e.Principal
		if g.Via != nil {
			holder = *g.Via
		}
		if !c.manages(scopeOf(d, g), holder) {
			return false
		}
	}
	return true
}

// manages says the spec decides holder's role at sc: it lists the
// principal there, or prunes its kind there (and would remove or demote
// the role). Prune leaves alone what the planner never removes: an
// ignored subject, and a token's role on its own organization or
// workspace (a workspace token holds workspace roles on its own only).
func (c specCover) manages(sc sync.Scope, holder Ref) bool {
	if c.listed[scopedKey{sc, holder.Kind, holder.ID}] {
		return true
	}
	m := c.scopes[sc]
	kind := sync.Kind(holder.Kind)
	if m == nil || !m.Prune || !slices.Contains(m.Lists, kind) {
		return false
	}
	switch {
	case kind == sync.KindOrganizationToken && sc.Level == sync.LevelOrganization,
		kind == sync.KindWorkspaceToken && sc.Level == sync.LevelWorkspace:
		return false
	}
	return !sync.Matches(c.ignore[kind], sync.SubjectRef{Kind: kind, ID: holder.ID, Name: holder.Name})
}

var sourceRank = map[Source]int{FromDeployment: 0, FromDAG: 1, FromDAGTag: 2, FromWorkspace: 3, FromOrganization: 4}

func compareGrant(a, b Grant) int {
	return cmp.Or(
		cmp.Compare(sourceRank[a.Source], sourceRank[b.Source]),
		strings.Compare(a.DAG, b.DAG),
		compareVia(a.Via, b.Via),
		strings.Compare(a.Role, b.Role),
	)
}

func compareVia(a, b *Ref) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return compareRef(*a, *b)
}

func sameGrant(a, b Grant) bool { return compareGrant(a, b) == 0 }

// kindRank orders principals: people first, then tokens.
var kindRank = map[string]int{
	string(sync.KindUser): 0, string(sync.KindTeam): 1, string(sync.KindWorkspaceToken): 2,
	string(sync.KindOrganizationToken): 3, string(sync.KindDeploymentToken): 4,
}

func rank(kind string) int {
	if r, ok := kindRank[kind]; ok {
		return r
	}
	return len(kindRank)
}

func compareRef(a, b Ref) int {
	return cmp.Or(cmp.Compare(rank(a.Kind), rank(b.Kind)), strings.Compare(a.Kind, b.Kind),
		strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
}
