package access

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/sync"
)

func dagRole(dep, dag, role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: dag, DeploymentID: dep, Role: role}
}
func dagTagRole(dep, tag, role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityDAGTag, EntityID: tag, DeploymentID: dep, Role: role}
}

// TestComputeDAG: a DAG role is access of level dag on its deployment,
// naming the DAG or tag, whatever the role; it reaches nothing else, and
// the DEPLOYMENT_ACCESSOR Astro adds for it is no access of its own.
func TestComputeDAG(t *testing.T) {
	carol := sync.UserSubject(astroapi.User{ID: "u-3", Username: "carol", OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_ACCESSOR"}},
		DagRoles: []astroapi.DagRole{
			{DeploymentID: "d-a1", DagID: "rollup", Role: "DAG_AUTHOR"},
			{DeploymentID: "d-a1", DagTag: "finance", Role: "DAG_VIEWER"},
			{DeploymentID: "d-gone", DagID: "x", Role: "DAG_AUTHOR"},
		}})
	team := sync.TeamSubject(astroapi.Team{ID: "g-2", Name: "analysts", OrganizationRole: "ORGANIZATION_MEMBER",
		DagRoles: []astroapi.DagRole{{DeploymentID: "d-b1", DagID: "report", Role: "CUSTOM_DAG_ROLE"}}})
	r := Compute(Input{
		Observed: org(carol, team,
			tok("ci", "WORKSPACE", ws("ws-a", "WORKSPACE_ACCESSOR"), dep("d-a2", "DEPLOYMENT_ACCESSOR"), dagRole("d-a2", "load", "DAG_AUTHOR"), dagTagRole("d-a2", "etl", "DAG_AUTHOR"))),
		Members:    map[string][]astroapi.TeamMember{"g-2": {{UserID: "u-4", Username: "dan"}}},
		RoleLevels: RoleLevels{"CUSTOM_DAG_ROLE": LevelAdmin},
	})
	want := map[string][]string{
		"d-a1 user:carol":        {"DAG_AUTHOR (dag · rollup)", "DAG_VIEWER (dag tag · finance)"},
		"d-a2 workspaceToken:ci": {"DAG_AUTHOR (dag · load)", "DAG_AUTHOR (dag tag · etl)"},
		"d-b1 team:analysts":     {"CUSTOM_DAG_ROLE (dag · report)"},
		"d-b1 user:dan":          {"CUSTOM_DAG_ROLE (dag · report, via team analysts)"},
	}
	if diff := cmp.Diff(want, cells(r)); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
	levels := map[string]Level{}
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			levels[d.ID+" "+e.Principal.Name] = e.Level
			for _, g := range e.Grants {
				if g.OnDAG() && g.Level != LevelDAG {
					t.Errorf("%s on %s: %s has level %s, want dag", e.Principal.Name, d.ID, g, g.Level)
				}
			}
		}
	}
	// A custom DAG role is never rated as the deployment's admin, even
	// with a --role-level for it.
	if diff := cmp.Diff(map[string]Level{"d-a1 carol": LevelDAG, "d-a2 ci": LevelDAG, "d-b1 analysts": LevelDAG, "d-b1 dan": LevelDAG}, levels); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
	r.Relevel(RoleLevels{"CUSTOM_DAG_ROLE": LevelAdmin, "DAG_AUTHOR": LevelAdmin})
	if got := r.Deployments[0].Access[0]; got.Level != LevelDAG {
		t.Errorf("after Relevel, %s has level %s, want dag", got.Principal.Name, got.Level)
	}
	// --min-role view leaves a DAG-only cell out.
	f := Filter{MinLevel: LevelView}.Apply(r)
	for _, d := range f.Deployments {
		for _, e := range d.Access {
			if e.Level == LevelDAG {
				t.Errorf("--min-role view kept %s on %s", e.Principal.Name, d.ID)
			}
		}
	}
}

// TestComputeManagedEveryLevel: a grant is managed when the spec manages
// its scope and lists the principal there, or prunes its kind there.
func TestComputeManagedEveryLevel(t *testing.T) {
	owner := sync.UserSubject(astroapi.User{ID: "u-o", Username: "olga", OrganizationRole: "ORGANIZATION_OWNER"})
	wsOp := sync.UserSubject(astroapi.User{ID: "u-w", Username: "wes", OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_OPERATOR"}, {WorkspaceID: "ws-b", Role: "WORKSPACE_AUTHOR"}}})
	pruned := sync.UserSubject(astroapi.User{ID: "u-p", Username: "pat", OrganizationRole: "ORGANIZATION_OWNER",
		WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: "WORKSPACE_MEMBER"}}})
	ignoredOwner := sync.UserSubject(astroapi.User{ID: "u-i", Username: "ian@example.com", OrganizationRole: "ORGANIZATION_OWNER"})
	dagUser := sync.UserSubject(astroapi.User{ID: "u-d", Username: "dora", OrganizationRole: "ORGANIZATION_MEMBER",
		DagRoles: []astroapi.DagRole{{DeploymentID: "d-a1", DagID: "rollup", Role: "DAG_AUTHOR"}, {DeploymentID: "d-a1", DagID: "other", Role: "DAG_VIEWER"},
			{DeploymentID: "d-a2", DagTag: "finance", Role: "DAG_VIEWER"}}})
	orgTok := tok("org-tok", "ORGANIZATION", orgRole("ORGANIZATION_OWNER"))
	wsTok := tok("ws-tok", "WORKSPACE", ws("ws-b", "WORKSPACE_OWNER"))
	desired := &sync.Desired{
		Ignore: map[sync.Kind][]string{sync.KindUser: {"*@example.com"}},
		Scopes: []sync.ManagedScope{
			{ScopeRef: sync.ScopeRef{Level: sync.LevelOrganization, ID: "o"}, Prune: true, Lists: []sync.Kind{sync.KindUser, sync.KindOrganizationToken},
				Assignments: []sync.DesiredAssignment{{Subject: sync.SubjectRef{Kind: sync.KindUser, ID: "u-o"}, Role: "ORGANIZATION_OWNER"}}},
			{ScopeRef: sync.ScopeRef{Level: sync.LevelWorkspace, ID: "ws-a", Name: "alpha"}, WorkspaceID: "ws-a",
				Assignments: []sync.DesiredAssignment{{Subject: sync.SubjectRef{Kind: sync.KindUser, ID: "u-w"}, Role: "WORKSPACE_OPERATOR"}}},
			{ScopeRef: sync.ScopeRef{Level: sync.LevelWorkspace, ID: "ws-b", Name: "beta"}, WorkspaceID: "ws-b", Prune: true,
				Lists: []sync.Kind{sync.KindUser, sync.KindWorkspaceToken}},
			{ScopeRef: sync.ScopeRef{Level: sync.LevelDAG, ID: "rollup", Name: "rollup", Deployment: sync.DeploymentRef{ID: "d-a1", Name: "a1"}}, WorkspaceID: "ws-a",
				Assignments: []sync.DesiredAssignment{{Subject: sync.SubjectRef{Kind: sync.KindUser, ID: "u-d"}, Role: "DAG_AUTHOR"}}},
			{ScopeRef: sync.ScopeRef{Level: sync.LevelDAGTag, ID: "finance", Name: "finance", Deployment: sync.DeploymentRef{ID: "d-a2", Name: "a2"}}, WorkspaceID: "ws-a",
				Prune: true, Lists: []sync.Kind{sync.KindUser}},
		},
	}
	r := Compute(Input{Observed: org(owner, wsOp, pruned, ignoredOwner, dagUser, orgTok, wsTok), Desired: desired})
	unmanaged := map[string]bool{}
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			unmanaged[d.ID+" "+e.Principal.Name] = e.Unmanaged
		}
	}
	want := map[string]bool{
		// The organization is managed: olga is listed; pat's owner role
		// would be demoted by prune; ian is ignored; an organization
		// token's own role is never removed.
		"d-a1 olga": false, "d-a2 olga": false, "d-b1 olga": false,
		"d-a1 pat": false, "d-a2 pat": false, "d-b1 pat": false, // ws-b prunes users too
		"d-a1 ian@example.com": true, "d-a2 ian@example.com": true, "d-b1 ian@example.com": true,
		"d-a1 org-tok": true, "d-a2 org-tok": true, "d-b1 org-tok": true,
		// wes is listed on alpha; beta prunes users.
		"d-a1 wes": false, "d-a2 wes": false, "d-b1 wes": false,
		// A workspace token's role on its own workspace is never removed.
		"d-b1 ws-tok": true,
		// dora: rollup is listed, other is not managed; the finance tag
		// prunes users.
		"d-a1 dora": true, "d-a2 dora": false,
	}
	if diff := cmp.Diff(want, unmanaged); diff != "" {
		t.Errorf("unmanaged (-want +got):\n%s", diff)
	}

	// Without prune and listing, the same grants are unmanaged.
	bare := &sync.Desired{Scopes: []sync.ManagedScope{
		{ScopeRef: sync.ScopeRef{Level: sync.LevelDAG, ID: "rollup", Deployment: sync.DeploymentRef{ID: "d-a1"}}},
		{ScopeRef: sync.ScopeRef{Level: sync.LevelOrganization, ID: "o"}},
		{ScopeRef: sync.ScopeRef{Level: sync.LevelWorkspace, ID: "ws-b"}, Lists: []sync.Kind{sync.KindUser}},
	}}
	r = Compute(Input{Observed: org(owner, pruned, dagUser), Desired: bare})
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			if !e.Unmanaged {
				t.Errorf("%s on %s is managed by a spec that neither lists nor prunes it", e.Principal.Name, d.ID)
			}
		}
	}
}
