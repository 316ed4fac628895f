package sync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// world is a random organization (tokens, users and teams with random
// role sets) and a valid spec for it.
type world struct {
	obs    *Observed
	tokens []astroapi.Token
	users  []astroapi.User
	teams  []astroapi.Team
	spec   spec.Spec
	prune  bool // --prune
}

// genRoleSet draws the role set of a user or team: a random organization
// role, workspace roles (WORKSPACE_ACCESSOR among them), deployment roles
// and DAG roles (by DAG id and by tag), in random order. Like the API, it
// holds at most one role per workspace, deployment and DAG.
func genRoleSet(t *rapid.T, obs *Observed, role *rapid.Generator[string]) roleSet {
	r := roleSet{OrganizationRole: rapid.SampledFrom([]string{"ORGANIZATION_MEMBER", "ORGANIZATION_OWNER"}).Draw(t, "org role")}
	for _, ws := range obs.Workspaces {
		if rapid.Bool().Draw(t, "has workspace role") {
			r.WorkspaceRoles = append(r.WorkspaceRoles, workspaceRole(ws.ID,
				rapid.SampledFrom([]string{"WORKSPACE_MEMBER", "WORKSPACE_OWNER", astroapi.RoleWorkspaceAccessor}).Draw(t, "workspace role")))
		}
	}
	for _, dep := range obs.Deployments {
		if rapid.IntRange(0, 2).Draw(t, "has deployment role") > 0 {
			r.DeploymentRoles = append(r.DeploymentRoles, deploymentRole(dep.ID, role.Draw(t, "role")))
		}
		switch rapid.IntRange(0, 3).Draw(t, "dag role") {
		case 1:
			r.DagRoles = append(r.DagRoles, astroapi.DagRole{DeploymentID: dep.ID, DagID: "dag-" + dep.ID, Role: "DAG_AUTHOR"})
		case 2:
			r.DagRoles = append(r.DagRoles, astroapi.DagRole{DeploymentID: dep.ID, DagTag: "etl", Role: "DAG_VIEWER"})
		}
	}
	r.WorkspaceRoles = rapid.Permutation(r.WorkspaceRoles).Draw(t, "workspace role order")
	r.DeploymentRoles = rapid.Permutation(r.DeploymentRoles).Draw(t, "deployment role order")
	r.DagRoles = rapid.Permutation(r.DagRoles).Draw(t, "dag role order")
	return r
}

func genWorld(t *rapid.T) world {
	obs := &Observed{
		Organization: org,
		CustomRoles: []astroapi.CustomRole{
			{ID: "r1", Name: "DAG_DEPLOYER", ScopeType: "DEPLOYMENT"},
			{ID: "r2", Name: "OBSERVER", ScopeType: "DEPLOYMENT", RestrictedWorkspaceIDs: []string{"ws0"}},
			{ID: "r3", Name: "WS_VIEWER", ScopeType: "WORKSPACE"},
			{ID: "r4", Name: "Reader", ScopeType: "DEPLOYMENT"},
			{ID: "r5", Name: "READER", ScopeType: "DEPLOYMENT"},
		},
	}
	for i := range rapid.IntRange(1, 3).Draw(t, "workspaces") {
		obs.Workspaces = append(obs.Workspaces, astroapi.Workspace{ID: fmt.Sprintf("ws%d", i), Name: fmt.Sprintf("w%d", i)})
	}
	for i := range rapid.IntRange(1, 5).Draw(t, "deployments") {
		ws := rapid.IntRange(0, len(obs.Workspaces)-1).Draw(t, "deployment workspace")
		obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: fmt.Sprintf("dep%d", i), Name: fmt.Sprintf("d%d", i), WorkspaceID: obs.Workspaces[ws].ID})
	}
	observedRole := rapid.SampledFrom([]string{"DEPLOYMENT_ADMIN", "deployment_admin", "DAG_DEPLOYER", "OBSERVER", "Reader", "READER"})
	maybeDAG := func(roles []astroapi.Role, dep string) []astroapi.Role {
		switch rapid.IntRange(0, 3).Draw(t, "dag") {
		case 1:
			roles = append(roles, dagRole(dep, "dag-"+dep, "DAG_AUTHOR"))
		case 2:
			roles = append(roles, astroapi.Role{EntityType: astroapi.EntityDAGTag, EntityID: "tag", Role: "DAG_VIEWER", DeploymentID: dep})
		}
		return roles
	}
	w := world{obs: obs, prune: rapid.Bool().Draw(t, "--prune")}
	for i := range rapid.IntRange(0, 8).Draw(t, "tokens") {
		tok := astroapi.Token{
			ID:    fmt.Sprintf("tok%d", i),
			Name:  rapid.SampledFrom([]string{"t0", "t1", "t2", "t3", "break-glass"}).Draw(t, "token name"),
			Scope: rapid.SampledFrom([]string{"ORGANIZATION", "WORKSPACE", "DEPLOYMENT"}).Draw(t, "scope"),
		}
		switch tok.Scope {
		case "ORGANIZATION":
			tok.Roles = append(tok.Roles, orgRole("ORGANIZATION_MEMBER"))
			for _, dep := range obs.Deployments {
				if rapid.Bool().Draw(t, "has role") {
					tok.Roles = append(tok.Roles, depRole(dep.ID, observedRole.Draw(t, "role")))
				}
				tok.Roles = maybeDAG(tok.Roles, dep.ID)
			}
		case "WORKSPACE":
			ws := obs.Workspaces[rapid.IntRange(0, len(obs.Workspaces)-1).Draw(t, "token workspace")].ID
			tok.Roles = append(tok.Roles, wsRole(ws, "WORKSPACE_MEMBER"))
			for _, dep := range obs.Deployments {
				if dep.WorkspaceID != ws {
					continue
				}
				if rapid.Bool().Draw(t, "has role") {
					tok.Roles = append(tok.Roles, depRole(dep.ID, observedRole.Draw(t, "role")))
				}
				tok.Roles = maybeDAG(tok.Roles, dep.ID)
			}
		case "DEPLOYMENT":
			dep := obs.Deployments[rapid.IntRange(0, len(obs.Deployments)-1).Draw(t, "token deployment")].ID
			tok.Roles = maybeDAG([]astroapi.Role{depRole(dep, "DEPLOYMENT_ADMIN")}, dep)
		}
		tok.Roles = rapid.Permutation(tok.Roles).Draw(t, "role order")
		w.tokens = append(w.tokens, tok)
	}
	for i := range rapid.IntRange(0, 6).Draw(t, "users") {
		r := genRoleSet(t, obs, observedRole)
		w.users = append(w.users, astroapi.User{
			ID: fmt.Sprintf("usr%d", i), Username: fmt.Sprintf("user%d@example.com", i),
			Status:           rapid.SampledFrom([]string{astroapi.UserActive, astroapi.UserPending, astroapi.UserInactive, astroapi.UserBanned}).Draw(t, "status"),
			OrganizationRole: r.OrganizationRole, WorkspaceRoles: r.WorkspaceRoles, DeploymentRoles: r.DeploymentRoles, DagRoles: r.DagRoles,
		})
	}
	for i := range rapid.IntRange(0, 5).Draw(t, "teams") {
		r := genRoleSet(t, obs, observedRole)
		w.teams = append(w.teams, astroapi.Team{
			ID: fmt.Sprintf("team%d", i), Name: rapid.SampledFrom([]string{"data", "ops", "ml", "break-glass"}).Draw(t, "team name"),
			OrganizationRole: r.OrganizationRole, WorkspaceRoles: r.WorkspaceRoles, DeploymentRoles: r.DeploymentRoles, DagRoles: r.DagRoles,
		})
	}
	obs.Subjects = subjects(w.tokens, w.users, w.teams)
	obs.Subjects = rapid.Permutation(obs.Subjects).Draw(t, "subject order")

	line := 1
	next := func() spec.Pos { line++; return at(line) }
	globs := func(label string, choices [][]string) []spec.Pattern {
		var out []spec.Pattern
		for _, g := range rapid.SampledFrom(choices).Draw(t, label) {
			out = append(out, spec.Pattern{Glob: g, Pos: next()})
		}
		return out
	}
	w.spec.IgnoreTokens = globs("ignoreTokens", [][]string{nil, {"break-glass*"}, {"tok1", "t3"}})
	w.spec.IgnoreUsers = globs("ignoreUsers", [][]string{nil, {"user1@*"}, {"usr2"}})
	w.spec.IgnoreTeams = globs("ignoreTeams", [][]string{nil, {"break-glass"}, {"team1"}})
	names := map[string]int{}
	for _, s := range obs.Subjects {
		names[kinds[s.Kind].family+"/"+s.Name]++
	}
	for _, dep := range rapid.Permutation(obs.Deployments).Draw(t, "deployment order") {
		if !rapid.Bool().Draw(t, "managed") {
			continue
		}
		sd := spec.Deployment{Pos: next(), Prune: rapid.Bool().Draw(t, "prune"), AllowEmpty: rapid.Bool().Draw(t, "allowEmpty")}
		if rapid.Bool().Draw(t, "by name") {
			sd.Name = dep.Name
			sd.Workspace = rapid.SampledFrom([]string{dep.WorkspaceID, "w" + strings.TrimPrefix(dep.WorkspaceID, "ws")}).Draw(t, "workspace ref")
		} else {
			sd.ID = dep.ID
		}
		// The kinds whose key the entry contains, as the parser records
		// them; a kind with entries counts even when left out (a Spec built
		// in code).
		for _, k := range spec.Kinds() {
			if rapid.Bool().Draw(t, "lists "+string(k)) {
				sd.Lists = append(sd.Lists, k)
			}
		}
		roles := []string{"DEPLOYMENT_ADMIN", "deployment_admin", "DAG_DEPLOYER", "Reader", "READER"}
		if dep.WorkspaceID == "ws0" {
			roles = append(roles, "OBSERVER")
		}
		for _, s := range rapid.Permutation(obs.Subjects).Draw(t, "subject order in spec") {
			if !manageable(s, &w.spec) {
				continue
			}
			if s.Kind == KindWorkspaceToken && s.Workspace != dep.WorkspaceID {
				continue
			}
			e := entry{kind: s.Kind, pos: next(), id: s.ID, state: spec.Present}
			if names[kinds[s.Kind].family+"/"+s.Name] == 1 && rapid.Bool().Draw(t, "by name") {
				e.id, e.name = "", s.Name
				if s.Kind == KindUser && rapid.Bool().Draw(t, "upper-case username") {
					e.name = strings.ToUpper(e.name)
				}
			}
			inactive := s.Status == astroapi.UserInactive || s.Status == astroapi.UserBanned
			switch rapid.IntRange(0, 2).Draw(t, "entry") {
			case 0:
				continue
			case 1:
				if inactive {
					continue
				}
				e.role = rapid.SampledFrom(roles).Draw(t, "desired role")
			case 2:
				e.state = spec.Absent
			}
			addEntry(&sd, e)
		}
		w.spec.Deployments = append(w.spec.Deployments, sd)
	}
	return w
}

// addEntry adds e to the list of its kind.
func addEntry(sd *spec.Deployment, e entry) {
	switch e.kind {
	case KindWorkspaceToken:
		sd.WorkspaceTokens = append(sd.WorkspaceTokens, spec.TokenEntry{Pos: e.pos, ID: e.id, Name: e.name, Role: e.role, State: e.state})
	case KindOrganizationToken:
		sd.OrganizationTokens = append(sd.OrganizationTokens, spec.TokenEntry{Pos: e.pos, ID: e.id, Name: e.name, Role: e.role, State: e.state})
	case KindUser:
		sd.Users = append(sd.Users, spec.UserEntry{Pos: e.pos, ID: e.id, Username: e.name, Role: e.role, State: e.state})
	case KindTeam:
		sd.Teams = append(sd.Teams, spec.TeamEntry{Pos: e.pos, ID: e.id, Name: e.name, Role: e.role, State: e.state})
	}
}

// manageable reports whether tokensync may change s's assignments: a kind
// a spec lists, not ignored by its kind's globs.
func manageable(s Subject, sp *spec.Spec) bool {
	var ignore []spec.Pattern
	switch s.Kind {
	case KindWorkspaceToken, KindOrganizationToken:
		ignore = sp.IgnoreTokens
	case KindUser:
		ignore = sp.IgnoreUsers
	case KindTeam:
		ignore = sp.IgnoreTeams
	default:
		return false
	}
	for _, p := range ignore {
		if spec.Glob(p.Glob).Match(s.Name) || spec.Glob(p.Glob).Match(s.ID) {
			return false
		}
	}
	return true
}

// unmanagedPart is everything of a subject's role set but its deployment
// roles on managed deployments: the part apply must keep exactly as read,
// in its order.
func unmanagedPart(s Subject, managed map[string]bool) any {
	return slices.DeleteFunc(slices.Clone(s.Grants), func(g Grant) bool {
		return g.Scope.Level == LevelDeployment && managed[g.Scope.ID]
	})
}

// TestPropertyApply: for random organizations of every kind of subject
// (tokens, users and teams with random role sets) and random specs,
// applying the plan through the real adapters yields exactly the spec's
// assignments on managed deployments and leaves every other role of every
// subject as it was: organization and workspace roles, roles on other
// deployments, DAG roles, the roles of unmanaged and ignored subjects, and
// those of kinds a deployment does not list. Each subject is read and
// written at most once.
func TestPropertyApply(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t)
		d, err := Resolve(&w.spec, w.obs)
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		p := Compute(d, w.obs, Options{Prune: w.prune, MaxRemovals: -1})
		s := newFakeStore(w.tokens...).withUsers(w.users...).withTeams(w.teams...)
		before := s.snapshot()
		res := Apply(context.Background(), s.adapters(), p, ApplyOptions{Parallelism: rapid.IntRange(1, 4).Draw(t, "parallelism")})
		after := s.snapshot()
		cmpSubjects := cmp.AllowUnexported(Subject{})

		if p.Refused() {
			for _, g := range p.Guards {
				if !g.OK && g.Name != GuardAllowEmpty {
					t.Fatalf("unexpected guard refusal: %+v", g)
				}
			}
			if !res.Refused {
				t.Fatal("Apply did not refuse a refused plan")
			}
			if diff := cmp.Diff(before, after, cmpSubjects); diff != "" {
				t.Fatalf("a refused plan wrote (-before +after):\n%s", diff)
			}
			return
		}
		if len(res.Failed)+len(res.NotStarted)+len(res.Stale) != 0 {
			t.Fatalf("Apply did not write everything: %+v", res)
		}
		gets, sets := s.calls()
		for id, n := range gets {
			if n != 1 || sets[id] > 1 {
				t.Fatalf("subject %s: %d GETs, %d POSTs, want one read-modify-write", id, n, sets[id])
			}
		}

		// The model: what each managed deployment must hold.
		type want struct {
			role   string
			absent bool
		}
		managed := map[string]bool{}
		prunes := map[string]func(Kind) bool{} // deployment id → whether prune removes a kind's unlisted roles
		listed := map[Key]want{}
		for _, sd := range w.spec.Deployments {
			dep := sd.ID
			if dep == "" {
				dep = "dep" + strings.TrimPrefix(sd.Name, "d")
			}
			managed[dep] = true
			prunes[dep] = func(k Kind) bool { return (w.prune || sd.Prune) && sd.Listed(k) }
		}
		for _, md := range d.Scopes {
			for _, a := range md.Assignments {
				listed[Key{depScope(md.ID), a.Subject.ID}] = want{a.Role, a.Absent}
			}
		}
		for i, b := range before {
			a := after[i]
			if a.ID != b.ID {
				t.Fatalf("subjects changed: %v, then %v", subjectIDs(before), subjectIDs(after))
			}
			if diff := cmp.Diff(unmanagedPart(b, managed), unmanagedPart(a, managed), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("%s: an unmanaged role changed (-before +after):\n%s", labelID(b.SubjectRef), diff)
			}
			mine := manageable(b, &w.spec)
			for dep := range managed {
				was, now := rolesOn(b, dep), rolesOn(a, dep)
				e, ok := listed[Key{depScope(dep), b.ID}]
				switch {
				case !mine || (!ok && !prunes[dep](b.Kind)):
					if diff := cmp.Diff(was, now); diff != "" {
						t.Fatalf("%s on %s: a left-alone assignment changed (-before +after):\n%s", labelID(b.SubjectRef), dep, diff)
					}
				case (!ok || e.absent) && holdsDAGRoles(a, dep) && (b.Kind == KindUser || b.Kind == KindTeam || slices.Equal(was, []string{astroapi.RoleDeploymentAccessor})):
					// Astro keeps DEPLOYMENT_ACCESSOR for DAG roles: a
					// removal is an update to it.
					if !slices.Equal(now, []string{astroapi.RoleDeploymentAccessor}) && !slices.Equal(now, was) {
						t.Fatalf("%s on %s: holds %v, want %s (it holds DAG roles there)", labelID(b.SubjectRef), dep, now, astroapi.RoleDeploymentAccessor)
					}
				case !ok || e.absent:
					if len(now) != 0 {
						t.Fatalf("%s on %s: holds %v, want no role", labelID(b.SubjectRef), dep, now)
					}
				default:
					if len(now) != 1 || now[0] != astroapi.CanonicalRole(e.role) {
						t.Fatalf("%s on %s: holds %v, want exactly %s", labelID(b.SubjectRef), dep, now, e.role)
					}
				}
			}
		}

		again := Compute(d, &Observed{Organization: org, Deployments: w.obs.Deployments, CustomRoles: w.obs.CustomRoles, Subjects: after},
			Options{Prune: w.prune, MaxRemovals: -1})
		if len(again.Changes) != 0 {
			t.Fatalf("plan after apply is not empty: %+v", again.Changes)
		}
		if v := Verify(p, res, after); !v.Converged || len(v.ChangedByOthers) != 0 {
			t.Fatalf("Verify = %+v", v)
		}
	})
}

// holdsDAGRoles reports whether s holds a DAG or DAG tag role on dep.
func holdsDAGRoles(s Subject, dep string) bool {
	return slices.ContainsFunc(s.Grants, func(g Grant) bool {
		return (g.Scope.Level == LevelDAG || g.Scope.Level == LevelDAGTag) && g.Scope.Deployment == dep
	})
}

// rolesOn are the roles s holds on deployment dep, every entry.
func rolesOn(s Subject, dep string) []string {
	var out []string
	for _, d := range s.Deployments() {
		if d.DeploymentID == dep {
			out = append(out, d.Role)
		}
	}
	return out
}
