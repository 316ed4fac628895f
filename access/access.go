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
// nothing else of it (nor does the DEPLOYMENT_ACCESSOR Astro adds for it).
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
//
// The report's JSON document is Document (format_version 2: principals
// and grants in tables, named by index); Read reads it, and the
// format_version 1 document (Report's own json form) earlier versions
// wrote.
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
		Production: append([]spec.Glob{}, in.Production...), RolePermissions: in.RolePermissions}
	r.RoleLevels = RatedLevels(in.RolePermissions, in.RoleLevels)
	b := newBuilder(obs)
	b.levels = r.RoleLevels
	b.addSubjects(obs.Subjects, in.Members)
	rank := b.ranks()
	cover := newSpecCover(in.Desired)
	r.Deployments = make([]Deployment, len(b.deps))
	for i := range b.deps {
		r.Deployments[i] = b.deployment(i, rank, cover, in)
	}
	if in.Review != nil {
		rv := *in.Review
		r.Review = &rv
		r.Findings = findings(in, r)
	}
	return r
}

// addSubjects records every subject's access and, with members, the
// access of each team's members through it.
func (b *builder) addSubjects(subjects []sync.Subject, members map[string][]astroapi.TeamMember) {
	// pending is a principal's access, added once every cell is counted.
	type pending struct {
		p      Ref
		status string
		gs     *grants
	}
	var all []pending
	users := map[string]sync.Subject{}
	byID := make([]grants, len(subjects))
	for i, s := range subjects {
		if s.Kind == sync.KindUser {
			users[s.ID] = s
		}
		byID[i] = b.grantsOf(s, nil)
		all = append(all, pending{principal(s), s.Status, &byID[i]})
	}
	for _, s := range subjects {
		if s.Kind != sync.KindTeam || len(members[s.ID]) == 0 {
			continue
		}
		team := principal(s)
		gs := b.grantsOf(s, &team) // once per team, for all its members
		for _, m := range members[s.ID] {
			u := Ref{Kind: string(sync.KindUser), ID: m.UserID, Name: m.Username}
			if known, ok := users[m.UserID]; ok {
				u.Name = known.Name
			}
			all = append(all, pending{u, users[m.UserID].Status, &gs})
		}
	}
	n := 0
	for _, a := range all {
		n += b.reach(a.gs)
	}
	b.entries, b.refOf = make([]Entry, 0, n), make([]int32, 0, n)
	for _, a := range all {
		b.add(a.p, a.status, *a.gs)
	}
}

// reach is how many cells gs makes at most.
func (b *builder) reach(gs *grants) int {
	n := len(gs.onDep)
	for _, w := range gs.workspaces {
		n += len(b.inWS[w.workspace])
	}
	if gs.owner != nil {
		n += len(b.deps)
	}
	return n
}

// deployment is deployment i of the report: its cells, sorted by
// principal, each with its grants sorted, its level and whether the spec
// covers it.
func (b *builder) deployment(i int, rank []int, cover specCover, in Input) Deployment {
	d := b.deps[i]
	cells := b.cells[b.depIndex[d.ID]] // a deployment listed twice has the cells of its first
	slices.SortFunc(cells, func(x, y int32) int { return cmp.Compare(rank[b.refOf[x]], rank[b.refOf[y]]) })
	rd := Deployment{ID: d.ID, Name: d.Name, WorkspaceID: d.WorkspaceID, Workspace: b.wsName[d.WorkspaceID], InSpec: cover.inSpec[d.ID],
		Production: anyMatch(in.Production, d.Name), Access: make([]Entry, len(cells))}
	for j, c := range cells {
		e := &b.entries[c]
		if len(e.Grants) > 1 {
			slices.SortFunc(e.Grants, compareGrant)
		}
		e.Level = highest(e.Grants)
		if in.Desired != nil {
			e.Unmanaged = !cover.covers(d, *e)
		}
		rd.Access[j] = *e
	}
	return rd
}

// RatedLevels are the levels of custom roles as the report rates them:
// from their permissions (RatePermissions; a role they do not rate is left
// out), overridden by those given (--role-level); nil when there are none.
// Policies rate custom roles with it too.
func RatedLevels(perms map[string][]string, given RoleLevels) RoleLevels {
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
	m = RatedLevels(r.RolePermissions, m)
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

// grants is a subject's access, each grant with its level (and the team
// it is held through, for a team's members): on deployments (by index in
// the builder's deployments), on workspaces (every deployment of each),
// and on every deployment (ORGANIZATION_OWNER).
type grants struct {
	onDep      []depGrant
	workspaces []wsGrant
	owner      *Grant
}

type depGrant struct {
	dep int
	g   Grant
}

type wsGrant struct {
	workspace string
	g         Grant
}

// grantsOf is s's access, held through team via when not nil; a role on a
// deployment the credential cannot see is left out.
func (b *builder) grantsOf(s sync.Subject, via *Ref) grants {
	var gs grants
	for _, sg := range s.Grants {
		switch sg.Scope.Level {
		case sync.LevelDeployment:
			// DEPLOYMENT_ACCESSOR, which Astro adds for DAG roles, grants
			// nothing by itself: the DAG roles are the access.
			if i, ok := b.depIndex[sg.Scope.ID]; ok && sg.Role != astroapi.RoleDeploymentAccessor {
				gs.onDep = append(gs.onDep, depGrant{i, b.leveled(Grant{Role: sg.Role, Source: FromDeployment, Via: via})})
			}
		case sync.LevelWorkspace:
			if impliesDeploymentAccess[sg.Role] {
				gs.workspaces = append(gs.workspaces, wsGrant{sg.Scope.ID, b.leveled(Grant{Role: sg.Role, Source: FromWorkspace, Via: via})})
			}
		case sync.LevelDAG, sync.LevelDAGTag:
			if i, ok := b.depIndex[sg.Scope.Deployment]; ok {
				gs.onDep = append(gs.onDep, depGrant{i, b.leveled(Grant{Role: sg.Role, Source: dagSource[sg.Scope.Level], DAG: sg.Scope.ID, Via: via})})
			}
		}
	}
	if s.OrganizationRole() == astroapi.RoleOrganizationOwner {
		g := b.leveled(Grant{Role: astroapi.RoleOrganizationOwner, Source: FromOrganization, Via: via})
		gs.owner = &g
	}
	return gs
}

func (b *builder) leveled(g Grant) Grant {
	g.Level = b.levels.level(g)
	return g
}

func principal(s sync.Subject) Ref { return Ref{Kind: string(s.Kind), ID: s.ID, Name: s.Name} }

// builder collects the cells of the matrix. A principal has a number by
// kind and id (a cell is a deployment and that number) and a number by
// its whole Ref (which orders the cells).
type builder struct {
	deps     []astroapi.Deployment
	depIndex map[string]int   // deployment id → index in deps
	inWS     map[string][]int // workspace id → its deployments' indexes
	wsName   map[string]string
	ids      map[kindID]int32 // principal by kind and id
	refNums  map[Ref]int32    // principal by Ref
	refs     []Ref            // by Ref number
	entries  []Entry          // every cell
	refOf    []int32          // the Ref number of each cell's principal
	cells    [][]int32        // by deployment index: its cells, in order of first grant
	// held are the cells of each principal (by kind and id number), as
	// (deployment index, cell); slot, by deployment index, is the cell + 1
	// of the principal being added.
	held   [][]heldCell
	slot   []int32
	levels RoleLevels
}

type kindID struct{ kind, id string }

type heldCell struct{ dep, cell int32 }

func newBuilder(obs *sync.Observed) *builder {
	b := &builder{depIndex: map[string]int{}, inWS: map[string][]int{}, wsName: map[string]string{},
		ids: map[kindID]int32{}, refNums: map[Ref]int32{}}
	for _, w := range obs.Workspaces {
		b.wsName[w.ID] = w.Name
	}
	b.deps = slices.Clone(obs.Deployments)
	slices.SortFunc(b.deps, func(x, y astroapi.Deployment) int {
		return cmp.Or(strings.Compare(b.wsName[x.WorkspaceID], b.wsName[y.WorkspaceID]), strings.Compare(x.Name, y.Name), strings.Compare(x.ID, y.ID))
	})
	b.cells = make([][]int32, len(b.deps))
	b.slot = make([]int32, len(b.deps))
	for i, d := range b.deps {
		if _, dup := b.depIndex[d.ID]; !dup {
			b.depIndex[d.ID] = i
		}
		b.inWS[d.WorkspaceID] = append(b.inWS[d.WorkspaceID], i)
	}
	return b
}

// add records gs as p's access.
func (b *builder) add(p Ref, status string, gs grants) {
	if len(gs.onDep) == 0 && len(gs.workspaces) == 0 && gs.owner == nil {
		return
	}
	id, ok := b.ids[kindID{p.Kind, p.ID}]
	if !ok {
		id = int32(len(b.held))
		b.ids[kindID{p.Kind, p.ID}] = id
		b.held = append(b.held, nil)
	}
	ref, ok := b.refNums[p]
	if !ok {
		ref = int32(len(b.refs))
		b.refNums[p] = ref
		b.refs = append(b.refs, p)
	}
	for _, h := range b.held[id] {
		b.slot[h.dep] = h.cell + 1
	}
	c := cellOf{p: p, status: status, id: id, ref: ref}
	for _, d := range gs.onDep {
		b.grant(d.dep, c, d.g)
	}
	for _, w := range gs.workspaces {
		for _, dep := range b.inWS[w.workspace] {
			b.grant(dep, c, w.g)
		}
	}
	if gs.owner != nil {
		for dep := range b.deps {
			b.grant(dep, c, *gs.owner)
		}
	}
	for _, h := range b.held[id] {
		b.slot[h.dep] = 0
	}
}

// cellOf is the principal of the cells add makes.
type cellOf struct {
	p       Ref
	status  string
	id, ref int32
}

func (b *builder) grant(dep int, c cellOf, g Grant) {
	i := b.slot[dep] - 1
	if i < 0 {
		i = int32(len(b.entries))
		b.entries = append(b.entries, Entry{Principal: c.p, Status: c.status})
		b.refOf = append(b.refOf, c.ref)
		b.cells[dep] = append(b.cells[dep], i)
		b.held[c.id] = append(b.held[c.id], heldCell{int32(dep), i})
		b.slot[dep] = i + 1
	}
	e := &b.entries[i]
	for _, x := range e.Grants {
		if equalGrant(x, g) {
			return
		}
	}
	e.Grants = append(e.Grants, g)
}

// ranks are the places of the principals' Refs in the order of the
// report's cells (compareRef), by Ref number.
func (b *builder) ranks() []int {
	order := make([]int, len(b.refs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return compareRef(b.refs[x], b.refs[y]) })
	rank := make([]int, len(b.refs))
	for place, i := range order {
		rank[i] = place
	}
	return rank
}

// equalGrant says a and b are the same grant: role, source, DAG and team.
func equalGrant(a, b Grant) bool {
	return a.Role == b.Role && a.Source == b.Source && a.DAG == b.DAG &&
		(a.Via == b.Via || (a.Via != nil && b.Via != nil && *a.Via == *b.Via))
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

// sourceRank orders the sources of a cell's grants (an unknown one
// first).
func sourceRank(s Source) int {
	switch s {
	case FromDAG:
		return 1
	case FromDAGTag:
		return 2
	case FromWorkspace:
		return 3
	case FromOrganization:
		return 4
	}
	return 0
}

func compareGrant(a, b Grant) int {
	return cmp.Or(
		cmp.Compare(sourceRank(a.Source), sourceRank(b.Source)),
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

// rank orders principals by kind: people first, then tokens, then a kind
// tokensync does not know.
func rank(kind string) int {
	switch sync.Kind(kind) {
	case sync.KindUser:
		return 0
	case sync.KindTeam:
		return 1
	case sync.KindWorkspaceToken:
		return 2
	case sync.KindOrganizationToken:
		return 3
	case sync.KindDeploymentToken:
		return 4
	}
	return 5
}

func compareRef(a, b Ref) int {
	return cmp.Or(cmp.Compare(rank(a.Kind), rank(b.Kind)), strings.Compare(a.Kind, b.Kind),
		strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
}
