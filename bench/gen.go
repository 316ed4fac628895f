package main

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// Size is the shape of a synthetic organization. Assignments are the
// tokens' deployment roles; People, when set, adds users and teams.
type Size struct {
	Name                                         string
	Workspaces, Deployments, Tokens, Assignments int
	People                                       People
	// DAGGrants, when not 0, gives every subject roles on every level (see
	// Levels): an organization role, workspace roles, and DAGGrants DAG
	// roles in all.
	DAGGrants int
	// Workloads are the workloads run on this size; nil runs every one.
	Workloads []string
	// Baseline are the workloads on which the Astro CLI's pattern is
	// replayed; the others are counted, not run (see report).
	Baseline []string
}

// People are the users and teams of a Size: how many there are, how many
// hold deployment roles, and how many deployment roles they hold in all.
type People struct {
	Users, UsersWithRoles, UserAssignments int
	Teams, TeamsWithRoles, TeamAssignments int
}

// The workloads of every size.
const (
	wlPlan       = "plan"
	wlPlanDrift  = "plan (drift)"
	wlApply      = "apply"
	wlApplyDrift = "apply (drift)"
	// Every level (X): export --out DIR of the whole organization, then
	// plan -f DIR --prune of that export, which must be empty.
	wlExportLevels = "export (every level)"
	wlPlanLevels   = "plan (every level)"
	// The reports of the fully applied organization (see reportWorkloads).
	wlReportHTML      = "report (html)"
	wlReportJSON      = "report (json)"
	wlReportHTMLTeams = "report (html, expand-teams)"
	wlReportJSONTeams = "report (json, expand-teams)"
)

// sizes are the organizations the benchmark knows. S, M and L are API
// tokens only; P is an organization of people: 5,000 users, 300 teams and
// 1,500 tokens; R is P's people and tokens on 300 deployments in 30
// workspaces, the organization of the access report's target.
var sizes = []Size{
	{Name: "S", Workspaces: 3, Deployments: 10, Tokens: 30, Assignments: 100, Baseline: []string{wlApply, wlApplyDrift}},
	{Name: "M", Workspaces: 10, Deployments: 100, Tokens: 300, Assignments: 1500, Baseline: []string{wlApply, wlApplyDrift}},
	{Name: "L", Workspaces: 50, Deployments: 1000, Tokens: 3000, Assignments: 30000},
	{Name: "P", Workspaces: 20, Deployments: 200, Tokens: 1500, Assignments: 3000, Baseline: []string{wlApplyDrift}, People: People{
		Users: 5000, UsersWithRoles: 2000, UserAssignments: 3000,
		Teams: 300, TeamsWithRoles: 250, TeamAssignments: 600,
	}},
	{Name: "R", Workspaces: 30, Deployments: 300, Tokens: 1500, Assignments: 3000, People: People{
		Users: 5000, UsersWithRoles: 2000, UserAssignments: 3000,
		Teams: 300, TeamsWithRoles: 250, TeamAssignments: 600,
	}},
	// X is the every-level issue's organization: 50,000 users and 2,000
	// teams, each with an organization role and roles on one or two of
	// 200 workspaces, 20,000 tokens, 2,000 deployments and 20,000 DAG
	// roles. Only its plans run: its applies would take hours of POSTs.
	{Name: "X", Workspaces: 200, Deployments: 2000, Tokens: 20000, Assignments: 24000, DAGGrants: 20000,
		Workloads: []string{wlPlan, wlPlanDrift, wlExportLevels, wlPlanLevels},
		People: People{
			Users: 50000, UsersWithRoles: 10000, UserAssignments: 15000,
			Teams: 2000, TeamsWithRoles: 1500, TeamAssignments: 3000,
		}},
}

// defaultSizes are the sizes `go run ./bench` runs without --sizes; P, R
// and X are opt-in.
const defaultSizes = "S,M,L"

// seed is the fixed seed of every generated organization.
const seed = 20260128

// deploymentRoles are the roles assignments draw from, with their weights:
// the built-in one and three custom deployment roles open to every
// workspace.
var deploymentRoles = []struct {
	name   string
	weight int
}{
	{astroapi.RoleDeploymentAdmin, 5},
	{"DAG_DEPLOYER", 2},
	{"DEPLOYMENT_VIEWER", 2},
	{"AIRFLOW_OPERATOR", 1},
}

// Kind is the family of a subject: an API token, a user or a team.
type Kind int

// The kinds of subject, in the order a spec lists them under a deployment.
const (
	KindToken Kind = iota
	KindUser
	KindTeam
)

var kindNames = [...]string{"token", "user", "team"}

func (k Kind) String() string { return kindNames[k] }

// kinds are every Kind.
var kinds = []Kind{KindToken, KindUser, KindTeam}

// Assignment is one role of a subject on a deployment: Subject indexes
// Org.Tokens, Org.Users or Org.Teams by Kind, Deployment Org.Deployments.
type Assignment struct {
	Kind                Kind
	Subject, Deployment int
	Role                string
}

// DriftKind is how the drifted organization departs from the spec for one
// assignment.
type DriftKind int

// The kinds of drift.
const (
	DriftRemoved DriftKind = iota // the spec's assignment is missing
	DriftChanged                  // the spec's assignment holds another role
	DriftAdded                    // an assignment the spec does not list
)

// Drift is one departure of the drifted organization from the spec. Want
// is the spec's assignment (Removed, Changed) and Have the organization's
// (Changed, Added).
type Drift struct {
	Kind       DriftKind
	Want, Have Assignment
}

// Token is a generated API token; Workspace is -1 for an organization token.
type Token struct {
	ID, Name, Scope, OwnRole string
	Workspace                int
}

// Org is a synthetic organization, its spec (Want) and its drift. Every
// slice is in a fixed order, so the same Size gives the same Org.
type Org struct {
	Size        Size
	ID          string
	Workspaces  []astroapitest.Workspace
	Deployments []astroapitest.Deployment
	depWS       []int // workspace index of each deployment
	Roles       []astroapitest.CustomRole
	Tokens      []Token
	Users       []User
	Teams       []Team
	// Want is the full assignment set of the spec, sorted by deployment,
	// kind, then subject.
	Want []Assignment
	// Drift turns Want into the drifted organization: 10% of len(Want).
	Drift []Drift
	// Levels are the roles of every subject on the other levels, by Kind
	// and subject, when the size has DAGGrants (see levels.go).
	Levels [3][]Levels
	// dagDeps are the places of users and teams (true) and tokens (false)
	// whose deployment holds a DAG role of the subject, with Levels.
	dagDeps map[place]bool
}

// Generate builds the organization of size z deterministically from seed:
// workspaces, deployments spread over them (each workspace has one at
// least), about 5% organization tokens, workspace tokens placed in the
// workspace of a random deployment (so busy workspaces have more tokens),
// then exactly z.Assignments assignments: every deployment and every token
// gets one, the rest go to random tokens, each on a deployment of its own
// workspace (any deployment for an organization token). Users and teams,
// when z has people, come next (see people). The drift picks 10% of the
// assignments and removes a third of them, changes the role of a third,
// and gives the subject of the last third an extra deployment.
func Generate(z Size, seed uint64) (*Org, error) {
	if z.Workspaces < 1 || z.Deployments < z.Workspaces || z.Tokens < 1 || z.Assignments < max(z.Deployments, z.Tokens) {
		return nil, fmt.Errorf("size %s: want 1 <= workspaces <= deployments and assignments >= max(deployments, tokens)", z.Name)
	}
	if err := z.People.check(z.Deployments); err != nil {
		return nil, fmt.Errorf("size %s: %w", z.Name, err)
	}
	g := &generator{
		z: z,
		r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		o: &Org{Size: z, ID: fmt.Sprintf("clbenchorg%015d", seed%1e15)},
	}
	g.places()
	g.tokens()
	if err := g.assignments(); err != nil {
		return nil, err
	}
	g.people()
	if err := g.levels(); err != nil {
		return nil, err
	}
	g.drift()
	return g.o, nil
}

// generator holds what the steps of Generate share. The steps draw from r
// in a fixed order, so that a seed always gives the same organization.
type generator struct {
	z         Size
	r         *rand.Rand
	o         *Org
	depsOf    [][]int    // deployments of each workspace
	avail     [3][][]int // by Kind, deployments each subject may still get, shuffled
	orgTokens []int
	wsTokens  [][]int // tokens of each workspace
	assigned  []int   // assignments of each token
}

// places makes the workspaces, the deployments and the custom roles.
func (g *generator) places() {
	z, r, o := g.z, g.r, g.o
	for i := range z.Workspaces {
		o.Workspaces = append(o.Workspaces, astroapitest.Workspace{
			ID:   fmt.Sprintf("clbenchws%016d", i),
			Name: fmt.Sprintf("%s-%03d", units[i%len(units)], i),
		})
	}
	g.depsOf = make([][]int, z.Workspaces)
	for i := range z.Deployments {
		ws := i
		if i >= z.Workspaces {
			ws = r.IntN(z.Workspaces)
		}
		o.depWS = append(o.depWS, ws)
		g.depsOf[ws] = append(g.depsOf[ws], i)
		o.Deployments = append(o.Deployments, astroapitest.Deployment{
			ID:          fmt.Sprintf("clbenchdp%016d", i),
			Name:        fmt.Sprintf("%s-%s-%04d", apps[r.IntN(len(apps))], envs[r.IntN(len(envs))], i),
			WorkspaceID: o.Workspaces[ws].ID,
		})
	}
	for _, dr := range deploymentRoles[1:] {
		o.Roles = append(o.Roles, astroapitest.CustomRole{Name: dr.name, ScopeType: astroapi.ScopeDeployment, RestrictedWorkspaceIDs: []string{}})
	}
}

// tokens makes the tokens, one in twenty an organization token, and the
// deployments each may get.
func (g *generator) tokens() {
	z, r, o := g.z, g.r, g.o
	isOrg := make([]bool, z.Tokens)
	for _, i := range r.Perm(z.Tokens)[:max(2, z.Tokens/20)] {
		isOrg[i] = true
	}
	g.avail[KindToken] = make([][]int, z.Tokens)
	g.wsTokens = make([][]int, z.Workspaces)
	for i := range z.Tokens {
		t := Token{ID: fmt.Sprintf("clbenchtk%016d", i), Workspace: -1}
		if isOrg[i] {
			t.Scope, t.OwnRole = astroapi.ScopeOrganization, astroapi.RoleOrganizationMember
			t.Name = fmt.Sprintf("org-%s-%05d", orgBots[r.IntN(len(orgBots))], i)
			g.avail[KindToken][i] = r.Perm(z.Deployments)
			g.orgTokens = append(g.orgTokens, i)
		} else {
			t.Workspace = o.depWS[r.IntN(z.Deployments)]
			t.Scope, t.OwnRole = astroapi.ScopeWorkspace, wsRoles[r.IntN(len(wsRoles))]
			t.Name = fmt.Sprintf("%s-%s-%05d", o.Workspaces[t.Workspace].Name, bots[r.IntN(len(bots))], i)
			avail := slices.Clone(g.depsOf[t.Workspace])
			r.Shuffle(len(avail), func(a, b int) { avail[a], avail[b] = avail[b], avail[a] })
			g.avail[KindToken][i] = avail
			g.wsTokens[t.Workspace] = append(g.wsTokens[t.Workspace], i)
		}
		o.Tokens = append(o.Tokens, t)
	}
}

// assign gives token t a random role on deployment d.
func (g *generator) assign(t, d int) {
	g.assignSubject(KindToken, t, d)
	g.assigned[t]++
}

// assignSubject gives subject s of kind k a random role on deployment d.
func (g *generator) assignSubject(k Kind, s, d int) {
	g.o.Want = append(g.o.Want, Assignment{Kind: k, Subject: s, Deployment: d, Role: g.o.randomRole(g.r, "")})
}

// pop takes the last deployment subject s of kind k may still get.
func (g *generator) pop(k Kind, s int) int {
	avail := g.avail[k][s]
	d := avail[len(avail)-1]
	g.avail[k][s] = avail[:len(avail)-1]
	return d
}

// assignments makes exactly z.Assignments assignments: one for every
// deployment, one for every token, the rest on random tokens.
func (g *generator) assignments() error {
	z, r, o := g.z, g.r, g.o
	g.assigned = make([]int, z.Tokens)
	for d := range z.Deployments { // every deployment gets a token
		cands := append(slices.Clone(g.wsTokens[o.depWS[d]]), g.orgTokens...)
		t := cands[r.IntN(len(cands))]
		if i := slices.Index(g.avail[KindToken][t], d); i >= 0 {
			g.avail[KindToken][t] = slices.Delete(g.avail[KindToken][t], i, i+1)
		}
		g.assign(t, d)
	}
	for t := range z.Tokens { // every token gets a deployment
		if g.assigned[t] == 0 {
			g.assign(t, g.pop(KindToken, t))
		}
	}
	var spare []int // tokens with deployments left
	for t := range z.Tokens {
		if len(g.avail[KindToken][t]) > 0 {
			spare = append(spare, t)
		}
	}
	for len(o.Want) < z.Assignments {
		if len(spare) == 0 {
			return fmt.Errorf("size %s: only %d assignments fit (want %d)", z.Name, len(o.Want), z.Assignments)
		}
		i := r.IntN(len(spare))
		t := spare[i]
		g.assign(t, g.pop(KindToken, t))
		if len(g.avail[KindToken][t]) == 0 {
			spare[i] = spare[len(spare)-1]
			spare = spare[:len(spare)-1]
		}
	}
	slices.SortFunc(o.Want, compareAssignment)
	return nil
}

// drift picks 10% of the assignments and removes a third of them, changes
// the role of a third, and gives the subject of the last third an extra
// deployment.
func (g *generator) drift() {
	r, o := g.r, g.o
	for _, i := range r.Perm(len(o.Want))[:len(o.Want)/10] {
		a := o.Want[i]
		kind := DriftKind(r.IntN(3))
		if kind == DriftAdded && len(g.avail[a.Kind][a.Subject]) == 0 || kind == DriftRemoved && o.dagPlace(a) {
			kind = DriftChanged
		}
		switch kind {
		case DriftRemoved:
			o.Drift = append(o.Drift, Drift{Kind: kind, Want: a})
		case DriftChanged:
			have := a
			have.Role = o.randomRole(r, a.Role)
			o.Drift = append(o.Drift, Drift{Kind: kind, Want: a, Have: have})
		case DriftAdded:
			d := g.pop(a.Kind, a.Subject)
			o.Drift = append(o.Drift, Drift{Kind: kind, Have: Assignment{Kind: a.Kind, Subject: a.Subject, Deployment: d, Role: o.randomRole(r, "")}})
		}
	}
}

func compareAssignment(a, b Assignment) int {
	return cmp.Or(cmp.Compare(a.Deployment, b.Deployment), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Subject, b.Subject))
}

// randomRole draws a deployment role other than not.
func (o *Org) randomRole(r *rand.Rand, not string) string {
	for range 100 {
		n := r.IntN(10)
		for _, dr := range deploymentRoles {
			if n < dr.weight {
				if dr.name != not {
					return dr.name
				}
				break
			}
			n -= dr.weight
		}
	}
	panic("bench: no other deployment role") // unreachable with several roles
}

var (
	units   = []string{"data", "ml", "marketing", "finance", "platform", "growth", "risk", "ops"}
	apps    = []string{"analytics", "ingestion", "training", "reporting", "etl", "features", "billing"}
	envs    = []string{"prod", "staging", "dev"}
	bots    = []string{"ci-deployer", "airflow-bot", "dbt-runner", "observer", "release"}
	orgBots = []string{"observer", "platform-admin", "audit"}
	wsRoles = []string{"WORKSPACE_MEMBER", "WORKSPACE_OPERATOR", "WORKSPACE_AUTHOR"}
)

// place is an assignment without its role.
type place struct {
	k    Kind
	s, d int
}

func (a Assignment) place() place { return place{a.Kind, a.Subject, a.Deployment} }

// Drifted returns the assignments of the drifted organization, sorted.
func (o *Org) Drifted() []Assignment {
	m := make(map[place]string, len(o.Want)+len(o.Drift))
	for _, a := range o.Want {
		m[a.place()] = a.Role
	}
	for _, d := range o.Drift {
		switch d.Kind {
		case DriftRemoved:
			delete(m, d.Want.place())
		case DriftChanged, DriftAdded:
			m[d.Have.place()] = d.Have.Role
		}
	}
	out := make([]Assignment, 0, len(m))
	for p, role := range m {
		out = append(out, Assignment{Kind: p.k, Subject: p.s, Deployment: p.d, Role: role})
	}
	slices.SortFunc(out, compareAssignment)
	return out
}

// State returns the emulator state of the organization holding exactly the
// deployment assignments as, besides every token's own workspace or
// organization role and every user's and team's other roles (see
// people.go).
func (o *Org) State(as []Assignment) *astroapitest.State {
	st := &astroapitest.State{
		Organization: astroapitest.Organization{ID: o.ID, Name: "Bench Org " + o.Size.Name},
		Workspaces:   slices.Clone(o.Workspaces),
		Deployments:  slices.Clone(o.Deployments),
		Roles:        slices.Clone(o.Roles),
	}
	roles := make([][]astroapi.Role, len(o.Tokens))
	for i, t := range o.Tokens {
		roles[i] = append([]astroapi.Role{o.ownRole(t)}, o.tokenLevelRoles(i)...)
	}
	for _, a := range as {
		if a.Kind == KindToken {
			roles[a.Subject] = append(roles[a.Subject], astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: o.Deployments[a.Deployment].ID, Role: a.Role})
		}
	}
	for i, t := range o.Tokens {
		st.Tokens = append(st.Tokens, astroapitest.Token{ID: t.ID, Name: t.Name, Scope: t.Scope, Roles: roles[i]})
	}
	o.peopleState(st, as)
	return st
}

// ownRole is the role of token t on its own workspace or the organization.
func (o *Org) ownRole(t Token) astroapi.Role {
	if t.Workspace >= 0 {
		return astroapi.Role{EntityType: astroapi.EntityWorkspace, EntityID: o.Workspaces[t.Workspace].ID, Role: t.OwnRole}
	}
	return astroapi.Role{EntityType: astroapi.EntityOrganization, EntityID: o.ID, Role: t.OwnRole}
}

// count returns how many subjects of kind k the organization has.
func (o *Org) count(k Kind) int {
	return [...]int{len(o.Tokens), len(o.Users), len(o.Teams)}[k]
}

// Changed counts, by kind, the subjects whose deployment roles differ
// between the assignment sets from and to: the writes an apply needs.
func (o *Org) Changed(from, to []Assignment) [3]int {
	sig := func(as []Assignment) [3][]map[int]string {
		var m [3][]map[int]string
		for _, k := range kinds {
			m[k] = make([]map[int]string, o.count(k))
		}
		for _, a := range as {
			if m[a.Kind][a.Subject] == nil {
				m[a.Kind][a.Subject] = map[int]string{}
			}
			m[a.Kind][a.Subject][a.Deployment] = a.Role
		}
		return m
	}
	a, b := sig(from), sig(to)
	var n [3]int
	for _, k := range kinds {
		for s := range a[k] {
			if !maps.Equal(a[k][s], b[k][s]) {
				n[k]++
			}
		}
	}
	return n
}

// ChangedSubjects is the sum of Changed: every write an apply needs.
func (o *Org) ChangedSubjects(from, to []Assignment) int {
	n := o.Changed(from, to)
	return n[KindToken] + n[KindUser] + n[KindTeam]
}

// SpecYAML returns the tokens.yaml of the full assignment set: every
// deployment by id, with prune on and all four kinds listed (an empty list
// where it has none, as export writes them) so that an apply also removes
// what the spec does not list, of every kind; tokens by name (even indexes) or by id (odd ones);
// users by username (even indexes; every fourth capitalised, as people
// write them) or id; teams by name (even) or id.
func (o *Org) SpecYAML() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by `go run ./bench`: organization %s, seed %d.\n", o.Size.Name, seed)
	fmt.Fprintf(&b, "version: 1\norganization: %s\ndeployments:\n", o.ID)
	byDep := make([][]Assignment, len(o.Deployments))
	for _, a := range o.Want {
		byDep[a.Deployment] = append(byDep[a.Deployment], a)
	}
	for d, dep := range o.Deployments {
		fmt.Fprintf(&b, "  - id: %s\n    prune: true\n", dep.ID)
		o.writeDeploymentLists(&b, byDep[d])
	}
	return b.Bytes()
}

// writeDeploymentLists writes the four lists of a deployment's entry in
// the spec, with the assignments as of that deployment.
func (o *Org) writeDeploymentLists(b *bytes.Buffer, as []Assignment) {
	for _, list := range specLists {
		first := true
		for _, a := range as {
			if !list.has(o, a) {
				continue
			}
			if first {
				fmt.Fprintf(b, "    %s:\n", list.key)
				first = false
			}
			key, value := o.ref(a)
			fmt.Fprintf(b, "      - %s: %s\n        role: %s\n", key, value, a.Role)
		}
		if first { // an empty list: prune owns this kind too
			fmt.Fprintf(b, "    %s: []\n", list.key)
		}
	}
}

// specLists are the keys of a deployment in the spec, in order, and the
// assignments each lists.
var specLists = []struct {
	key string
	has func(o *Org, a Assignment) bool
}{
	{"workspaceTokens", func(o *Org, a Assignment) bool {
		return a.Kind == KindToken && o.Tokens[a.Subject].Scope == astroapi.ScopeWorkspace
	}},
	{"organizationTokens", func(o *Org, a Assignment) bool {
		return a.Kind == KindToken && o.Tokens[a.Subject].Scope == astroapi.ScopeOrganization
	}},
	{"users", func(_ *Org, a Assignment) bool { return a.Kind == KindUser }},
	{"teams", func(_ *Org, a Assignment) bool { return a.Kind == KindTeam }},
}

// ref is how the spec names the subject of a: a key and its value.
func (o *Org) ref(a Assignment) (key, value string) {
	byID := a.Subject%2 == 1
	switch {
	case a.Kind == KindToken && byID:
		return "id", o.Tokens[a.Subject].ID
	case a.Kind == KindToken:
		return "name", o.Tokens[a.Subject].Name
	case a.Kind == KindUser && byID:
		return "id", o.Users[a.Subject].ID
	case a.Kind == KindUser && a.Subject%4 == 0:
		u := o.Users[a.Subject].Username
		return "username", strings.ToUpper(u[:1]) + u[1:]
	case a.Kind == KindUser:
		return "username", o.Users[a.Subject].Username
	case byID:
		return "id", o.Teams[a.Subject].ID
	default:
		return "name", o.Teams[a.Subject].Name
	}
}

// Op is one Astro CLI command of the baseline: add, update or remove the
// role of a subject on a deployment (Role is "" for remove).
type Op struct {
	Command string // "add", "update", "remove"
	Assignment
}

// FromNothingOps are the commands that build the spec from an organization
// without deployment roles: one add per assignment, and an update where a
// DAG role holds the DEPLOYMENT_ACCESSOR that Astro gave it.
func (o *Org) FromNothingOps() []Op {
	ops := make([]Op, 0, len(o.Want))
	for _, a := range o.Want {
		cmd := "add"
		if o.dagPlace(a) {
			cmd = "update"
		}
		ops = append(ops, Op{Command: cmd, Assignment: a})
	}
	return ops
}

// FromNothingCounts returns what a plan of the spec against the
// organization without deployment roles shows: an add per assignment, a
// change where a DAG role holds DEPLOYMENT_ACCESSOR.
func (o *Org) FromNothingCounts() (add, change int) {
	for _, a := range o.Want {
		if o.dagPlace(a) {
			change++
		} else {
			add++
		}
	}
	return add, change
}

// DriftOps are the commands that undo the drift, one per drifted
// assignment, as an operator who knew exactly what drifted would type.
func (o *Org) DriftOps() []Op {
	ops := make([]Op, 0, len(o.Drift))
	for _, d := range o.Drift {
		switch d.Kind {
		case DriftRemoved:
			ops = append(ops, Op{Command: "add", Assignment: d.Want})
		case DriftChanged:
			ops = append(ops, Op{Command: "update", Assignment: d.Want})
		case DriftAdded:
			remove := d.Have
			remove.Role = ""
			ops = append(ops, Op{Command: "remove", Assignment: remove})
		}
	}
	return ops
}

// DriftCounts returns what a plan of the spec against the drifted
// organization shows: adds, changes, removals.
func (o *Org) DriftCounts() (add, change, remove int) {
	for _, d := range o.Drift {
		switch d.Kind {
		case DriftRemoved:
			add++
		case DriftChanged:
			change++
		case DriftAdded:
			remove++
		}
	}
	return add, change, remove
}
