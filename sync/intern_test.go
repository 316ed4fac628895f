package sync

import (
	"context"
	"testing"
	"unsafe"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// same reports whether a and b are one string: equal, sharing their bytes.
func same(a, b string) bool { return a == b && unsafe.StringData(a) == unsafe.StringData(b) }

// TestObserveInterns checks that Observe gives equal ids and roles one
// string: a grant's workspace or deployment id is the one of the lists,
// a built-in role is astroapi's constant, and the grants of two subjects
// on one DAG share its id. The planner's comparisons rely on it for speed
// only, so this test is what notices a change that undoes it.
func TestObserveInterns(t *testing.T) {
	st := &astroapitest.State{
		Organization: astroapitest.Organization{ID: org, Name: "Intern Org"},
		Workspaces:   []astroapitest.Workspace{{ID: "ws-1", Name: "one"}},
		Deployments:  []astroapitest.Deployment{{ID: "dep-a", Name: "alpha", WorkspaceID: "ws-1"}},
		Users: []astroapitest.User{
			{ID: "usr-alice", Username: "alice@example.com", Status: astroapi.UserActive, RoleSet: astroapitest.RoleSet{
				OrganizationRole: "ORGANIZATION_MEMBER",
				WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-1", Role: "WORKSPACE_MEMBER"}},
				DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a", Role: "DEPLOYMENT_ACCESSOR"}},
				DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-a", DagID: "rollup", Role: "DAG_VIEWER"}},
			}},
			{ID: "usr-bob", Username: "bob@example.com", Status: astroapi.UserActive, RoleSet: astroapitest.RoleSet{
				OrganizationRole: "ORGANIZATION_MEMBER",
				WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-1", Role: "WORKSPACE_ACCESSOR"}},
				DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a", Role: "DEPLOYMENT_ADMIN"}},
				DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-a", DagID: "rollup", Role: "DAG_AUTHOR"}},
			}},
		},
	}
	_, url := astroapitest.NewTestServer(t, st, astroapitest.Options{RateLimits: astroapitest.Limits{GET: -1, POST: -1, DELETE: -1}})
	c, err := astroapi.New(url, astroapi.WithCredential("intern-test-credential"))
	if err != nil {
		t.Fatal(err)
	}
	obs, err := NewEngine(c, org).Observe(context.Background())
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	ids := map[Level]string{LevelWorkspace: obs.Workspaces[0].ID, LevelDeployment: obs.Deployments[0].ID}
	var dagIDs []string
	for _, s := range obs.Subjects {
		for _, g := range s.Grants {
			if id, ok := ids[g.Scope.Level]; ok && !same(g.Scope.ID, id) {
				t.Errorf("%s: grant on %s %s: its id is not the list's string", s.Name, g.Scope.Level, g.Scope.ID)
			}
			if g.Scope.Deployment != "" && !same(g.Scope.Deployment, ids[LevelDeployment]) {
				t.Errorf("%s: grant on %v: its deployment is not the list's string", s.Name, g.Scope)
			}
			if g.Scope.Level == LevelDAG {
				dagIDs = append(dagIDs, g.Scope.ID)
			}
			if !same(g.Role, astroapi.CanonicalRole(g.Role)) {
				t.Errorf("%s: role %s is not astroapi's constant", s.Name, g.Role)
			}
		}
	}
	if len(dagIDs) != 2 || !same(dagIDs[0], dagIDs[1]) {
		t.Errorf("DAG grants' ids %q: want two that are one string", dagIDs)
	}
	if !same(astroapi.CanonicalRole("deployment_admin"), astroapi.RoleDeploymentAdmin) {
		t.Errorf("CanonicalRole(deployment_admin) is not astroapi.RoleDeploymentAdmin's string")
	}
}
