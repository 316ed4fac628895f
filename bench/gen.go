package main

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// Size is the shape of a synthetic organization.
type Size struct {
	Name                                         string
	Workspaces, Deployments, Tokens, Assignments int
}

// sizes are the organizations the benchmark knows, smallest first.
var sizes = []Size{
	{Name: "S", Workspaces: 3, Deployments: 10, Tokens: 30, Assignments: 100},
	{Name: "M", Workspaces: 10, Deployments: 100, Tokens: 300, Assignments: 1500},
	{Name: "L", Workspaces: 50, Deployments: 1000, Tokens: 3000, Assignments: 30000},
}

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

// Assignment is one role of a token on a deployment, by index into
// Org.Tokens and Org.Deployments.
type Assignment struct {
	Token, Deployment int
	Role              string
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
	// Want is the full assignment set of the spec, sorted by deployment,
	// then token.
	Want []Assignment
	// Drift turns Want into the drifted organization: 10% of len(Want).
	Drift []Drift
}

// Generate builds the organization of size z deterministically from seed:
// workspaces, deployments spread over them (each workspace has one at
// least), about 5% organization tokens, workspace tokens placed in the
// workspace of a random deployment (so busy workspaces have more tokens),
// then exactly z.Assignments assignments: every deployment and every token
// gets one, the rest go to random tokens, each on a deployment of its own
// workspace (any deployment for an organization token). The drift picks
// 10% of the assignments and removes a third of them, changes the role of
// a third, and gives the token of the last third an extra deployment.
func Generate(z Size, seed uint64) (*Org, error) {
	if z.Workspaces < 1 || z.Deployments < z.Workspaces || z.Tokens < 1 || z.Assignments < max(z.Deployments, z.Tokens) {
		return nil, fmt.Errorf("size %s: want 1 <= workspaces <= deployments and assignments >= max(deployments, tokens)", z.Name)
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
	g.drift()
	return g.o, nil
}

// generator holds what the steps of Generate share. The steps draw from r
// in a fixed order, so that a seed always gives the same organization.
type generator struct {
	z         Size
	r         *rand.Rand
	o         *Org
	depsOf    [][]int // deployments of each workspace
	avail     [][]int // deployments each token may still get, shuffled
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
			Name: fmt.Sprintf("%s-%03d", teams[i%len(teams)], i),
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
	g.avail = make([][]int, z.Tokens)
	g.wsTokens = make([][]int, z.Workspaces)
	for i := range z.Tokens {
		t := Token{ID: fmt.Sprintf("clbenchtk%016d", i), Workspace: -1}
		if isOrg[i] {
			t.Scope, t.OwnRole = astroapi.ScopeOrganization, astroapi.RoleOrganizationMember
			t.Name = fmt.Sprintf("org-%s-%05d", orgBots[r.IntN(len(orgBots))], i)
			g.avail[i] = r.Perm(z.Deployments)
			g.orgTokens = append(g.orgTokens, i)
		} else {
			t.Workspace = o.depWS[r.IntN(z.Deployments)]
			t.Scope, t.OwnRole = astroapi.ScopeWorkspace, wsRoles[r.IntN(len(wsRoles))]
			t.Name = fmt.Sprintf("%s-%s-%05d", o.Workspaces[t.Workspace].Name, bots[r.IntN(len(bots))], i)
			avail := slices.Clone(g.depsOf[t.Workspace])
			r.Shuffle(len(avail), func(a, b int) { avail[a], avail[b] = avail[b], avail[a] })
			g.avail[i] = avail
			g.wsTokens[t.Workspace] = append(g.wsTokens[t.Workspace], i)
		}
		o.Tokens = append(o.Tokens, t)
	}
}

// assign gives token t a random role on deployment d.
func (g *generator) assign(t, d int) {
	g.o.Want = append(g.o.Want, Assignment{Token: t, Deployment: d, Role: g.o.randomRole(g.r, "")})
	g.assigned[t]++
}

// pop takes the last deployment token t may still get.
func (g *generator) pop(t int) int {
	d := g.avail[t][len(g.avail[t])-1]
	g.avail[t] = g.avail[t][:len(g.avail[t])-1]
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
		if i := slices.Index(g.avail[t], d); i >= 0 {
			g.avail[t] = slices.Delete(g.avail[t], i, i+1)
		}
		g.assign(t, d)
	}
	for t := range z.Tokens { // every token gets a deployment
		if g.assigned[t] == 0 {
			g.assign(t, g.pop(t))
		}
	}
	var spare []int // tokens with deployments left
	for t := range z.Tokens {
		if len(g.avail[t]) > 0 {
			spare = append(spare, t)
		}
	}
	for len(o.Want) < z.Assignments {
		if len(spare) == 0 {
			return fmt.Errorf("size %s: only %d assignments fit (want %d)", z.Name, len(o.Want), z.Assignments)
		}
		i := r.IntN(len(spare))
		t := spare[i]
		g.assign(t, g.pop(t))
		if len(g.avail[t]) == 0 {
			spare[i] = spare[len(spare)-1]
			spare = spare[:len(spare)-1]
		}
	}
	slices.SortFunc(o.Want, compareAssignment)
	return nil
}

// drift picks 10% of the assignments and removes a third of them, changes
// the role of a third, and gives the token of the last third an extra
// deployment.
func (g *generator) drift() {
	r, o := g.r, g.o
	for _, i := range r.Perm(len(o.Want))[:len(o.Want)/10] {
		a := o.Want[i]
		kind := DriftKind(r.IntN(3))
		if kind == DriftAdded && len(g.avail[a.Token]) == 0 {
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
			d := g.pop(a.Token)
			o.Drift = append(o.Drift, Drift{Kind: kind, Have: Assignment{Token: a.Token, Deployment: d, Role: o.randomRole(r, "")}})
		}
	}
}

func compareAssignment(a, b Assignment) int {
	return cmp.Or(cmp.Compare(a.Deployment, b.Deployment), cmp.Compare(a.Token, b.Token))
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
	teams   = []string{"data", "ml", "marketing", "finance", "platform", "growth", "risk", "ops"}
	apps    = []string{"analytics", "ingestion", "training", "reporting", "etl", "features", "billing"}
	envs    = []string{"prod", "staging", "dev"}
	bots    = []string{"ci-deployer", "airflow-bot", "dbt-runner", "observer", "release"}
	orgBots = []string{"observer", "platform-admin", "audit"}
	wsRoles = []string{"WORKSPACE_MEMBER", "WORKSPACE_OPERATOR", "WORKSPACE_AUTHOR"}
)

// Drifted returns the assignments of the drifted organization, sorted.
func (o *Org) Drifted() []Assignment {
	type key struct{ t, d int }
	m := make(map[key]string, len(o.Want)+len(o.Drift))
	for _, a := range o.Want {
		m[key{a.Token, a.Deployment}] = a.Role
	}
	for _, d := range o.Drift {
		switch d.Kind {
		case DriftRemoved:
			delete(m, key{d.Want.Token, d.Want.Deployment})
		case DriftChanged, DriftAdded:
			m[key{d.Have.Token, d.Have.Deployment}] = d.Have.Role
		}
	}
	out := make([]Assignment, 0, len(m))
	for k, role := range m {
		out = append(out, Assignment{Token: k.t, Deployment: k.d, Role: role})
	}
	slices.SortFunc(out, compareAssignment)
	return out
}

// State returns the emulator state of the organization holding exactly the
// deployment assignments as, besides every token's own workspace or
// organization role.
func (o *Org) State(as []Assignment) *astroapitest.State {
	st := &astroapitest.State{
		Organization: astroapitest.Organization{ID: o.ID, Name: "Bench Org " + o.Size.Name},
		Workspaces:   slices.Clone(o.Workspaces),
		Deployments:  slices.Clone(o.Deployments),
		Roles:        slices.Clone(o.Roles),
	}
	roles := make([][]astroapi.Role, len(o.Tokens))
	for i, t := range o.Tokens {
		own := astroapi.Role{EntityType: astroapi.EntityOrganization, EntityID: o.ID, Role: t.OwnRole}
		if t.Workspace >= 0 {
			own = astroapi.Role{EntityType: astroapi.EntityWorkspace, EntityID: o.Workspaces[t.Workspace].ID, Role: t.OwnRole}
		}
		roles[i] = []astroapi.Role{own}
	}
	for _, a := range as {
		roles[a.Token] = append(roles[a.Token], astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: o.Deployments[a.Deployment].ID, Role: a.Role})
	}
	for i, t := range o.Tokens {
		st.Tokens = append(st.Tokens, astroapitest.Token{ID: t.ID, Name: t.Name, Scope: t.Scope, Roles: roles[i]})
	}
	return st
}

// ChangedTokens counts the tokens whose deployment roles differ between
// the assignment sets from and to: the writes an apply needs.
func (o *Org) ChangedTokens(from, to []Assignment) int {
	sig := func(as []Assignment) []map[int]string {
		m := make([]map[int]string, len(o.Tokens))
		for _, a := range as {
			if m[a.Token] == nil {
				m[a.Token] = map[int]string{}
			}
			m[a.Token][a.Deployment] = a.Role
		}
		return m
	}
	a, b := sig(from), sig(to)
	n := 0
	for t := range o.Tokens {
		if !mapsEqual(a[t], b[t]) {
			n++
		}
	}
	return n
}

func mapsEqual(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// SpecYAML returns the tokens.yaml of the full assignment set: every
// deployment by id, with prune on so that an apply also removes what the
// spec does not list; tokens by name (even indexes) or by id (odd ones).
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
		for _, list := range []struct {
			key   string
			scope string
		}{{"workspaceTokens", astroapi.ScopeWorkspace}, {"organizationTokens", astroapi.ScopeOrganization}} {
			first := true
			for _, a := range byDep[d] {
				t := o.Tokens[a.Token]
				if t.Scope != list.scope {
					continue
				}
				if first {
					fmt.Fprintf(&b, "    %s:\n", list.key)
					first = false
				}
				if a.Token%2 == 0 {
					fmt.Fprintf(&b, "      - name: %s\n", t.Name)
				} else {
					fmt.Fprintf(&b, "      - id: %s\n", t.ID)
				}
				fmt.Fprintf(&b, "        role: %s\n", a.Role)
			}
		}
	}
	return b.Bytes()
}

// Op is one Astro CLI command of the baseline: add, update or remove the
// role of a token on a deployment.
type Op struct {
	Kind       string // "add", "update", "remove"
	Token      int
	Deployment int
	Role       string // "" for remove
}

// FromNothingOps are the commands that build the spec from an organization
// with own-scope roles only: one add per assignment.
func (o *Org) FromNothingOps() []Op {
	ops := make([]Op, 0, len(o.Want))
	for _, a := range o.Want {
		ops = append(ops, Op{Kind: "add", Token: a.Token, Deployment: a.Deployment, Role: a.Role})
	}
	return ops
}

// DriftOps are the commands that undo the drift, one per drifted
// assignment, as an operator who knew exactly what drifted would type.
func (o *Org) DriftOps() []Op {
	ops := make([]Op, 0, len(o.Drift))
	for _, d := range o.Drift {
		switch d.Kind {
		case DriftRemoved:
			ops = append(ops, Op{Kind: "add", Token: d.Want.Token, Deployment: d.Want.Deployment, Role: d.Want.Role})
		case DriftChanged:
			ops = append(ops, Op{Kind: "update", Token: d.Want.Token, Deployment: d.Want.Deployment, Role: d.Want.Role})
		case DriftAdded:
			ops = append(ops, Op{Kind: "remove", Token: d.Have.Token, Deployment: d.Have.Deployment})
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
