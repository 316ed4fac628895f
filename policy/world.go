package policy

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// World is what effective grants are built from.
type World struct {
	// Organization is the organization's id; OrganizationName its name
	// ("" gives its id).
	Organization     string
	OrganizationName string
	// Subjects are every subject with its grants on every level as they
	// would be after the plan: managed and unmanaged, tokens, users and
	// teams.
	Subjects    []sync.Subject
	Workspaces  []astroapi.Workspace
	Deployments []astroapi.Deployment
	// Members are the user ids of each team's members, by team id.
	Members map[string][]string
	// Production are the globs of production deployments' names
	// (spec.Spec.ProductionGlobs).
	Production []spec.Glob
	// Rate rates a role's access; nil rates it as the access report does:
	// a custom role from RolePermissions, with RoleLevels over them
	// (access.RatedLevels), every other role by its fixed level.
	Rate func(role string) access.Level
	// RolePermissions are the permissions of custom roles by name, as GET
	// /organizations/{org}/roles/{id} lists them; RoleLevels the levels
	// given to custom roles (--role-level), which win. Read when Rate is
	// nil.
	RolePermissions map[string][]string
	RoleLevels      access.RoleLevels
	// Sources are the spec entries that write each (scope, subject) role,
	// so that a violation can name its file and line, and files: select.
	Sources map[sync.Key]spec.Pos
}

// Access is every effective grant of a world, and every scope: the
// organization, each workspace and deployment, and each DAG and DAG tag
// that holds a grant.
type Access struct {
	Grants []Grant
	Scopes []*Scope
	// ix is the index of Grants Build made; Check makes its own when
	// Grants were changed since (a Subject or Scope changed in place is
	// not seen: its place in the order is kept).
	ix *index
}

// Rate rates roles on every level as the access report does, with the
// levels of custom roles (access.RoleLevels.OfAny): those rated from their
// permissions and given, as access.RatedLevels makes them.
func Rate(levels access.RoleLevels) func(role string) access.Level {
	return levels.OfAny
}

// reachesDeployments are the workspace roles that give access to every
// deployment of their workspace, as in the access report; the
// WORKSPACE_ACCESSOR Astro adds on its own gives none.
var reachesDeployments = map[string]bool{
	astroapi.RoleWorkspaceOwner:    true,
	astroapi.RoleWorkspaceOperator: true,
	astroapi.RoleWorkspaceAuthor:   true,
	astroapi.RoleWorkspaceMember:   true,
}

// builder holds the shared values of one Build.
type builder struct {
	w      World
	rate   func(string) access.Level
	scopes map[sync.Scope]*Scope
	deps   map[string]astroapi.Deployment
	inWS   map[string][]*Scope // workspace id → its deployments' scopes
	wsName map[string]string
	roles  map[string]Role
	out    []Grant
	extra  []*Scope // scopes met in grants only
}

// Build is every effective grant of w. A subject's role at a scope is a
// grant with via.kind direct; a team's role is also one grant per member,
// with the user as subject (via.kind team). A user's or team's role set
// is first given the accessor roles Astro adds for it (withAccessors), as
// apply would leave it. A workspace role that reaches
// deployments gives one more grant on each deployment of the workspace
// (via.kind workspace), and ORGANIZATION_OWNER one on every workspace and
// deployment (via.kind organization); a member of a team holding such a
// role gets them too, with via.team set. Each grant's Source is the spec
// entry that writes the role it comes from. Build is pure; grants come in
// the order of w.Subjects.
func Build(w World) Access {
	b := &builder{w: w, rate: w.Rate, scopes: map[sync.Scope]*Scope{}, deps: map[string]astroapi.Deployment{},
		inWS: map[string][]*Scope{}, wsName: map[string]string{}, roles: map[string]Role{}}
	if b.rate == nil {
		b.rate = Rate(access.RatedLevels(w.RolePermissions, w.RoleLevels))
	}
	a := Access{}
	org := &Scope{Level: string(sync.LevelOrganization), ID: w.Organization, Name: cmp.Or(w.OrganizationName, w.Organization), key: sync.Organization}
	b.scopes[sync.Organization] = org
	a.Scopes = append(a.Scopes, org)
	for _, ws := range w.Workspaces {
		b.wsName[ws.ID] = ws.Name
		k := sync.Scope{Level: sync.LevelWorkspace, ID: ws.ID}
		s := &Scope{Level: string(sync.LevelWorkspace), ID: ws.ID, Name: ws.Name, Workspace: ws.Name, key: k, rank: 1}
		b.scopes[k] = s
		a.Scopes = append(a.Scopes, s)
	}
	for _, d := range w.Deployments {
		b.deps[d.ID] = d
		k := sync.Scope{Level: sync.LevelDeployment, ID: d.ID}
		s := &Scope{Level: string(sync.LevelDeployment), ID: d.ID, Name: d.Name, Workspace: b.workspaceName(d),
			Production: b.production(d.Name), key: k, rank: 2}
		b.scopes[k] = s
		b.inWS[d.WorkspaceID] = append(b.inWS[d.WorkspaceID], s)
		a.Scopes = append(a.Scopes, s)
	}
	users := map[string]*Subject{}
	subjects := make([]*Subject, len(w.Subjects))
	for i, s := range w.Subjects {
		subjects[i] = subjectOf(s)
		if s.Kind == sync.KindUser {
			users[s.ID] = subjects[i]
		}
	}
	// The grants are counted first, so that the list of a large
	// organization (a million grants) is made once, not copied into one
	// twice its size each time it outgrows its room.
	held := make([]sync.Subject, len(w.Subjects))
	n := 0
	for i, s := range w.Subjects {
		held[i] = b.withAccessors(s)
		n += b.count(held[i]) * (1 + len(w.Members[s.ID]))
	}
	b.out = make([]Grant, 0, n)
	for i, s := range held {
		b.subject(subjects[i], s, Via{})
		if s.Kind != sync.KindTeam {
			continue
		}
		for _, id := range w.Members[s.ID] {
			u := users[id]
			if u == nil {
				u = &Subject{Kind: string(sync.KindUser), ID: id, Name: id}
				users[id] = u
			}
			b.subject(u, s, Via{Kind: ViaTeam, Team: s.Name})
		}
	}
	a.Grants = b.out
	a.Scopes = append(a.Scopes, b.extra...)
	a.ix = newIndex(a)
	return a
}

func (b *builder) workspaceName(d astroapi.Deployment) string {
	if n, ok := b.wsName[d.WorkspaceID]; ok {
		return n
	}
	return d.WorkspaceName
}

func (b *builder) production(name string) bool {
	return slices.ContainsFunc(b.w.Production, func(g spec.Glob) bool { return g.Match(name) })
}

// subjectOf is s as the variable subject.
func subjectOf(s sync.Subject) *Subject {
	h := s.Hygiene
	return &Subject{Kind: string(s.Kind), ID: s.ID, Name: s.Name, Status: s.Status, ExpiresAt: h.ExpiresAt,
		LastUsedAt: h.LastUsedAt, LastRotatedAt: h.LastRotatedAt, CreatedAt: h.CreatedAt, IdpManaged: h.IdpManaged}
}

// count is how many grants subject adds for holder's roles, or more.
func (b *builder) count(holder sync.Subject) int {
	n := 0
	for _, g := range holder.Grants {
		n++
		switch {
		case g.Scope.Level == sync.LevelWorkspace && reachesDeployments[g.Role]:
			n += len(b.inWS[g.Scope.ID])
		case g.Scope.Level == sync.LevelOrganization && g.Role == astroapi.RoleOrganizationOwner:
			n += len(b.w.Workspaces) + len(b.w.Deployments)
		}
	}
	return n
}

// subject adds the grants subj holds through holder's roles: its own
// (via zero) or, for a member, a team's (via.kind team).
func (b *builder) subject(subj *Subject, holder sync.Subject, via Via) {
	for _, g := range holder.Grants {
		sc := b.scope(g.Scope)
		if sc == nil {
			continue
		}
		src := b.w.Sources[sync.Key{Scope: g.Scope, Subject: holder.ID}]
		role := b.role(g.Role)
		v := via
		if v.Kind == "" {
			v.Kind = ViaDirect
		}
		b.out = append(b.out, Grant{Subject: subj, Role: role, Via: v, Scope: sc, Source: src})
		switch {
		case g.Scope.Level == sync.LevelWorkspace && reachesDeployments[g.Role]:
			for _, d := range b.inWS[g.Scope.ID] {
				b.out = append(b.out, Grant{Subject: subj, Role: role, Via: Via{Kind: ViaWorkspace, Team: via.Team}, Scope: d, Source: src})
			}
		case g.Scope.Level == sync.LevelOrganization && g.Role == astroapi.RoleOrganizationOwner:
			for _, s := range b.scopeList() {
				b.out = append(b.out, Grant{Subject: subj, Role: role, Via: Via{Kind: ViaOrganization, Team: via.Team}, Scope: s, Source: src})
			}
		}
	}
}

// withAccessors is s with the accessor roles Astro adds when it writes a
// user's or team's role set, as the emulator adds them: DEPLOYMENT_ACCESSOR
// on each deployment where s holds a DAG or DAG tag role but no deployment
// role (sync.Scope.Parent), then WORKSPACE_ACCESSOR in each workspace
// where s holds a deployment role but no workspace role. A token gets
// none (Astro documents them for users and teams; the emulator adds none).
// A role set Astro wrote holds them already; a plan's (sync.Plan.After)
// does not, so rules see at plan time the access apply leaves. s's grants
// are not modified.
func (b *builder) withAccessors(s sync.Subject) sync.Subject {
	if s.Kind != sync.KindUser && s.Kind != sync.KindTeam {
		return s
	}
	if !slices.ContainsFunc(s.Grants, func(g sync.Grant) bool {
		return g.Scope.Level == sync.LevelDeployment || g.Scope.Parent().Level != ""
	}) {
		return s
	}
	held := make(map[sync.Scope]bool, len(s.Grants))
	for _, g := range s.Grants {
		held[g.Scope] = true
	}
	grants := slices.Clip(s.Grants)
	add := func(sc sync.Scope, role string) {
		if !held[sc] {
			held[sc] = true
			grants = append(grants, sync.Grant{Scope: sc, Role: role})
		}
	}
	for _, g := range s.Grants {
		if p := g.Scope.Parent(); p.Level == sync.LevelDeployment {
			add(p, astroapi.RoleDeploymentAccessor)
		}
	}
	for i := 0; i < len(grants); i++ {
		if g := grants[i]; g.Scope.Level == sync.LevelDeployment {
			if d, ok := b.deps[g.Scope.ID]; ok && d.WorkspaceID != "" {
				add(sync.Scope{Level: sync.LevelWorkspace, ID: d.WorkspaceID}, astroapi.RoleWorkspaceAccessor)
			}
		}
	}
	s.Grants = grants
	return s
}

// scopeList is every workspace and deployment scope, in the order of the
// world.
func (b *builder) scopeList() []*Scope {
	out := make([]*Scope, 0, len(b.w.Workspaces)+len(b.w.Deployments))
	for _, ws := range b.w.Workspaces {
		out = append(out, b.scopes[sync.Scope{Level: sync.LevelWorkspace, ID: ws.ID}])
	}
	for _, d := range b.w.Deployments {
		out = append(out, b.scopes[sync.Scope{Level: sync.LevelDeployment, ID: d.ID}])
	}
	return out
}

// scope is the variable scope of k, made once per scope; nil for a level
// policies do not know.
func (b *builder) scope(k sync.Scope) *Scope {
	if s, ok := b.scopes[k]; ok {
		return s
	}
	var s *Scope
	switch k.Level {
	case sync.LevelWorkspace:
		s = &Scope{Level: string(k.Level), ID: k.ID, Name: k.ID, key: k, rank: 1}
	case sync.LevelDeployment:
		// A deployment the world does not list: named by its id.
		s = &Scope{Level: string(k.Level), ID: k.ID, Name: k.ID, Production: b.production(k.ID), key: k, rank: 2}
	case sync.LevelDAG, sync.LevelDAGTag:
		d, ok := b.deps[k.Deployment]
		name := k.Deployment
		if ok {
			name = d.Name
		}
		s = &Scope{Level: string(sync.LevelDAG), ID: k.ID, Name: k.ID, Workspace: b.workspaceName(d), Deployment: name,
			Production: b.production(name), key: k, rank: 3}
	default:
		return nil
	}
	b.scopes[k] = s
	b.extra = append(b.extra, s)
	return s
}

// role is the variable role of name, rated once.
func (b *builder) role(name string) Role {
	if r, ok := b.roles[name]; ok {
		return r
	}
	r := Role{Name: name, Access: string(b.rate(name))}
	b.roles[name] = r
	return r
}

// compareScope orders scopes: the organization, workspaces, deployments,
// DAGs; then by workspace, deployment, name and id.
func compareScope(a, b *Scope) int {
	return cmp.Or(cmp.Compare(a.rank, b.rank), strings.Compare(a.Workspace, b.Workspace),
		strings.Compare(a.Deployment, b.Deployment), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID),
		strings.Compare(string(a.key.Level), string(b.key.Level)))
}
