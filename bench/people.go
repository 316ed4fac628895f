package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// User is a generated user: ACTIVE, ORGANIZATION_MEMBER, WORKSPACE_MEMBER
// of its home Workspace (-1: none), and DAG_VIEWER of one DAG of
// deployment DAG (-1: none), one where the spec gives it a role. These
// roles are what a write must keep.
type User struct {
	ID, Username, FullName string
	Workspace, DAG         int
}

// Team is a generated team: ORGANIZATION_MEMBER, WORKSPACE_OPERATOR of its
// home Workspace, DAG_AUTHOR of the DAGs tagged "nightly" of deployment
// DAG (-1: none; one where the spec gives it a role), and a few members
// (indexes into Org.Users).
type Team struct {
	ID, Name       string
	Workspace, DAG int
	Members        []int
}

// The roles of generated users and teams besides their deployment roles.
const (
	userWorkspaceRole = astroapi.RoleWorkspaceMember
	teamWorkspaceRole = astroapi.RoleWorkspaceOperator
	userDAG           = "etl_daily"
	teamDAGTag        = "nightly"
)

// check reports whether people of this shape fit deployments.
func (p People) check(deployments int) error {
	for _, k := range []struct {
		kind              string
		n, with, assigned int
	}{{"users", p.Users, p.UsersWithRoles, p.UserAssignments}, {"teams", p.Teams, p.TeamsWithRoles, p.TeamAssignments}} {
		if k.with > k.n || k.assigned < k.with || k.assigned > k.with*deployments || (k.with == 0) != (k.assigned == 0) {
			return fmt.Errorf("%s: want %s with roles <= %s and with roles <= assignments <= with roles × deployments", k.kind, k.kind, k.kind)
		}
	}
	return nil
}

// people makes the users and teams of z and their assignments: the users
// and teams with roles are drawn at random, each gets one deployment, and
// the rest of the assignments go to random ones among them, on any
// deployment (users and teams are not bound to a workspace). Sizes
// without people draw nothing, so that their organizations stay as they
// were.
func (g *generator) people() {
	p := g.z.People
	if p.Users == 0 && p.Teams == 0 {
		return
	}
	z, r, o := g.z, g.r, g.o
	for i := range p.Users {
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		u := User{
			ID:       fmt.Sprintf("clbenchus%016d", i),
			Username: fmt.Sprintf("%s.%s.%05d@example.com", first, last, i),
			FullName: fmt.Sprintf("%s %s", first, last),
			// Two in three are members of a workspace.
			Workspace: -1, DAG: -1,
		}
		if r.IntN(3) > 0 {
			u.Workspace = r.IntN(z.Workspaces)
		}
		if i%10 == 0 {
			u.DAG = r.IntN(z.Deployments)
		}
		o.Users = append(o.Users, u)
	}
	for i := range p.Teams {
		t := Team{
			ID:        fmt.Sprintf("clbenchtm%016d", i),
			Name:      fmt.Sprintf("%s-%s-%03d", units[r.IntN(len(units))], functions[r.IntN(len(functions))], i),
			Workspace: r.IntN(z.Workspaces), DAG: -1,
		}
		if i%5 == 0 {
			t.DAG = r.IntN(z.Deployments)
		}
		members := map[int]bool{}
		for len(members) < min(3+r.IntN(10), p.Users) {
			members[r.IntN(p.Users)] = true
		}
		for m := range members {
			t.Members = append(t.Members, m)
		}
		slices.Sort(t.Members)
		o.Teams = append(o.Teams, t)
	}
	g.spread(KindUser, p.Users, p.UsersWithRoles, p.UserAssignments)
	g.spread(KindTeam, p.Teams, p.TeamsWithRoles, p.TeamAssignments)
	g.placeDAGs()
	slices.SortFunc(o.Want, compareAssignment)
}

// placeDAGs moves each drawn DAG role onto a deployment where its subject
// holds a role in the spec (the one its draw picks among them), and drops
// it when the subject holds none there: Astro adds DEPLOYMENT_ACCESSOR for
// a DAG role on a deployment without one, which a spec would have to list.
// drift never removes the role on a DAG's deployment. It draws nothing.
func (g *generator) placeDAGs() {
	deps := [3]map[int][]int{KindUser: {}, KindTeam: {}}
	for _, a := range g.o.Want {
		if a.Kind != KindToken {
			deps[a.Kind][a.Subject] = append(deps[a.Kind][a.Subject], a.Deployment)
		}
	}
	place := func(k Kind, s int, dag *int) {
		ds := deps[k][s]
		if *dag < 0 || len(ds) == 0 {
			*dag = -1
			return
		}
		slices.Sort(ds)
		*dag = ds[*dag%len(ds)]
	}
	for i := range g.o.Users {
		place(KindUser, i, &g.o.Users[i].DAG)
	}
	for i := range g.o.Teams {
		place(KindTeam, i, &g.o.Teams[i].DAG)
	}
}

// dagPlace reports whether a is a user's or team's role on the deployment
// of its DAG role.
func (o *Org) dagPlace(a Assignment) bool {
	if o.dagDeps != nil {
		return o.dagDeps[a.place()]
	}
	switch a.Kind {
	case KindUser:
		return o.Users[a.Subject].DAG == a.Deployment
	case KindTeam:
		return o.Teams[a.Subject].DAG == a.Deployment
	}
	return false
}

// spread gives with of the n subjects of kind k one deployment role each,
// then the rest of total to random ones among them.
func (g *generator) spread(k Kind, n, with, total int) {
	g.avail[k] = make([][]int, n)
	spare := g.r.Perm(n)[:with]
	for _, s := range spare {
		g.avail[k][s] = g.r.Perm(g.z.Deployments)
		g.assignSubject(k, s, g.pop(k, s))
	}
	spare = slices.Clone(spare)
	for range total - with {
		i := g.r.IntN(len(spare))
		s := spare[i]
		g.assignSubject(k, s, g.pop(k, s))
		if len(g.avail[k][s]) == 0 {
			spare[i] = spare[len(spare)-1]
			spare = spare[:len(spare)-1]
		}
	}
}

var (
	firstNames = []string{"ada", "alan", "grace", "linus", "barbara", "ken", "margaret", "dennis", "frances", "edsger", "radia", "john", "sophie", "tim", "hedy", "guido"}
	lastNames  = []string{"lovelace", "turing", "hopper", "torvalds", "liskov", "thompson", "hamilton", "ritchie", "allen", "dijkstra", "perlman", "backus", "wilson", "berners-lee", "lamarr", "van-rossum"}
	functions  = []string{"engineering", "analysts", "oncall", "admins", "science", "readers"}
)

// peopleState adds the users and teams of the organization to st, with the
// deployment roles of as, their other roles, and WORKSPACE_ACCESSOR where
// Astro would have added it.
func (o *Org) peopleState(st *astroapitest.State, as []Assignment) {
	deps := [3][][]astroapi.DeploymentRole{KindUser: make([][]astroapi.DeploymentRole, len(o.Users)), KindTeam: make([][]astroapi.DeploymentRole, len(o.Teams))}
	for _, a := range as {
		if a.Kind != KindToken {
			deps[a.Kind][a.Subject] = append(deps[a.Kind][a.Subject], astroapi.DeploymentRole{DeploymentID: o.Deployments[a.Deployment].ID, Role: a.Role})
		}
	}
	for i, u := range o.Users {
		rs := o.userRoles(u)
		rs.DeploymentRoles = deps[KindUser][i]
		o.addAccessors(&rs)
		st.Users = append(st.Users, astroapitest.User{ID: u.ID, Username: u.Username, FullName: u.FullName, Status: astroapi.UserActive, RoleSet: rs})
	}
	for i, t := range o.Teams {
		rs := o.teamRoles(t)
		rs.DeploymentRoles = deps[KindTeam][i]
		o.addAccessors(&rs)
		members := make([]string, len(t.Members))
		for j, m := range t.Members {
			members[j] = o.Users[m].ID
		}
		st.Teams = append(st.Teams, astroapitest.Team{ID: t.ID, Name: t.Name, RoleSet: rs, MemberIDs: members})
	}
}

// userRoles are the roles of u besides its deployment roles.
func (o *Org) userRoles(u User) astroapitest.RoleSet {
	if o.Levels[KindUser] != nil {
		return o.levelRoles(o.Levels[KindUser][o.userIndex(u)])
	}
	rs := astroapitest.RoleSet{OrganizationRole: astroapi.RoleOrganizationMember, WorkspaceRoles: []astroapi.WorkspaceRole{}, DagRoles: []astroapi.DagRole{}}
	if u.Workspace >= 0 {
		rs.WorkspaceRoles = append(rs.WorkspaceRoles, astroapi.WorkspaceRole{WorkspaceID: o.Workspaces[u.Workspace].ID, Role: userWorkspaceRole})
	}
	if u.DAG >= 0 {
		rs.DagRoles = append(rs.DagRoles, astroapi.DagRole{DeploymentID: o.Deployments[u.DAG].ID, DagID: userDAG, Role: astroapi.RoleDAGViewer})
	}
	return rs
}

// teamRoles are the roles of t besides its deployment roles.
func (o *Org) teamRoles(t Team) astroapitest.RoleSet {
	if o.Levels[KindTeam] != nil {
		return o.levelRoles(o.Levels[KindTeam][o.teamIndex(t)])
	}
	rs := astroapitest.RoleSet{
		OrganizationRole: astroapi.RoleOrganizationMember,
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: o.Workspaces[t.Workspace].ID, Role: teamWorkspaceRole}},
		DagRoles:         []astroapi.DagRole{},
	}
	if t.DAG >= 0 {
		rs.DagRoles = append(rs.DagRoles, astroapi.DagRole{DeploymentID: o.Deployments[t.DAG].ID, DagTag: teamDAGTag, Role: astroapi.RoleDAGAuthor})
	}
	return rs
}

// levelRoles are the roles of a user or team with levels l besides its
// deployment roles.
func (o *Org) levelRoles(l Levels) astroapitest.RoleSet {
	rs := astroapitest.RoleSet{OrganizationRole: l.OrgRole, WorkspaceRoles: []astroapi.WorkspaceRole{}, DagRoles: o.dagRoles(l)}
	for _, w := range l.Workspaces {
		rs.WorkspaceRoles = append(rs.WorkspaceRoles, astroapi.WorkspaceRole{WorkspaceID: o.Workspaces[w.Workspace].ID, Role: w.Role})
	}
	return rs
}

// userIndex and teamIndex are the indexes of a generated user and team,
// which the generator numbers in order.
func (o *Org) userIndex(u User) int { return idIndex(u.ID, "clbenchus%d") }
func (o *Org) teamIndex(t Team) int { return idIndex(t.ID, "clbenchtm%d") }

func idIndex(id, format string) int {
	var i int
	if _, err := fmt.Sscanf(id, format, &i); err != nil {
		return -1
	}
	return i
}

// addAccessors gives rs DEPLOYMENT_ACCESSOR on every deployment where it
// holds a DAG role and no deployment role, then WORKSPACE_ACCESSOR on every
// workspace where it holds a deployment role and no workspace role, as
// Astro does.
func (o *Org) addAccessors(rs *astroapitest.RoleSet) {
	for _, g := range rs.DagRoles {
		if !slices.ContainsFunc(rs.DeploymentRoles, func(d astroapi.DeploymentRole) bool { return d.DeploymentID == g.DeploymentID }) {
			rs.DeploymentRoles = append(rs.DeploymentRoles, astroapi.DeploymentRole{DeploymentID: g.DeploymentID, Role: astroapi.RoleDeploymentAccessor})
		}
	}
	for _, d := range rs.DeploymentRoles {
		ws := o.Deployments[o.depIndex(d.DeploymentID)].WorkspaceID
		if !slices.ContainsFunc(rs.WorkspaceRoles, func(w astroapi.WorkspaceRole) bool { return w.WorkspaceID == ws }) {
			rs.WorkspaceRoles = append(rs.WorkspaceRoles, astroapi.WorkspaceRole{WorkspaceID: ws, Role: astroapi.RoleWorkspaceAccessor})
		}
	}
}

// depIndex is the index of the deployment with id, which the generator
// numbers in order.
func (o *Org) depIndex(id string) int {
	var i int
	if _, err := fmt.Sscanf(id, "clbenchdp%d", &i); err != nil || i < 0 || i >= len(o.Deployments) {
		return -1
	}
	return i
}

// checkPeople reports the first difference between the users and teams of
// st and the organization with the assignments want, beyond DAG roles,
// and counts the users and teams that lost their DAG roles. A user or
// team must keep its organization role and its own workspace role; any
// other workspace role must be WORKSPACE_ACCESSOR. It returns how many
// deployment roles it saw.
func (o *Org) checkPeople(st *astroapitest.State, exp map[place]string) (roles, lostDAG int, err error) {
	if len(st.Users) != len(o.Users) || len(st.Teams) != len(o.Teams) {
		return 0, 0, fmt.Errorf("the organization has %d users and %d teams, want %d and %d", len(st.Users), len(st.Teams), len(o.Users), len(o.Teams))
	}
	for i, u := range st.Users {
		n, lost, err := o.checkRoleSet(KindUser, i, u.Username, u.RoleSet, o.userRoles(o.Users[i]), exp)
		if err != nil {
			return 0, 0, err
		}
		roles, lostDAG = roles+n, lostDAG+lost
	}
	for i, t := range st.Teams {
		n, lost, err := o.checkRoleSet(KindTeam, i, t.Name, t.RoleSet, o.teamRoles(o.Teams[i]), exp)
		if err != nil {
			return 0, 0, err
		}
		roles, lostDAG = roles+n, lostDAG+lost
	}
	return roles, lostDAG, nil
}

// checkRoleSet checks the role set got of subject s of kind k against its
// other roles base and the deployment roles exp (see checkPeople).
func (o *Org) checkRoleSet(k Kind, s int, name string, got, base astroapitest.RoleSet, exp map[place]string) (roles, lostDAG int, err error) {
	if got.OrganizationRole != base.OrganizationRole {
		return 0, 0, fmt.Errorf("%s %s holds organization role %q, want %q", k, name, got.OrganizationRole, base.OrganizationRole)
	}
	for _, w := range base.WorkspaceRoles {
		if !slices.Contains(got.WorkspaceRoles, w) {
			return 0, 0, fmt.Errorf("%s %s lost its role %s on workspace %s", k, name, w.Role, w.WorkspaceID)
		}
	}
	for _, w := range got.WorkspaceRoles {
		if !slices.Contains(base.WorkspaceRoles, w) && w.Role != astroapi.RoleWorkspaceAccessor {
			return 0, 0, fmt.Errorf("%s %s holds %s on workspace %s, which it did not", k, name, w.Role, w.WorkspaceID)
		}
	}
	for _, d := range got.DeploymentRoles {
		want := exp[place{k, s, o.depIndex(d.DeploymentID)}]
		if want == "" && d.Role == astroapi.RoleDeploymentAccessor && slices.ContainsFunc(got.DagRoles, func(g astroapi.DagRole) bool { return g.DeploymentID == d.DeploymentID }) {
			continue // the accessor its DAG role brought
		}
		if want != d.Role {
			return 0, 0, fmt.Errorf("%s %s holds %s on deployment %s, want %q", k, name, d.Role, d.DeploymentID, want)
		}
		roles++
	}
	if !slices.Equal(got.DagRoles, base.DagRoles) {
		lostDAG = 1
	}
	return roles, lostDAG, nil
}

// errLostDAG is the error of a run that dropped DAG roles.
var errLostDAG = errors.New("DAG roles were dropped")
