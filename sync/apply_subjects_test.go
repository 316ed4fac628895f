package sync

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/spec"
)

// TestApplyKeepsUnmanagedOfUsersAndTeams: a write to a user or team
// replaces its whole role set, so apply sends back everything it does not
// manage exactly as read (organization role, workspace roles, roles on
// other deployments, DAG roles), also what another writer changed between
// plan and apply, with one read and one write per subject.
func TestApplyKeepsUnmanagedOfUsersAndTeams(t *testing.T) {
	depB := astroapi.Deployment{ID: "dep-b", Name: "beta", WorkspaceID: "ws-2"}
	dagA := astroapi.DagRole{DeploymentID: "dep-a", DagID: "etl", Role: "DAG_AUTHOR"}
	dagX := astroapi.DagRole{DeploymentID: "dep-x", DagTag: "finance", Role: "DAG_VIEWER"}
	dagB := astroapi.DagRole{DeploymentID: "dep-b", DagID: "ml", Role: "DAG_VIEWER"}
	al := astroapi.User{
		ID: "usr-alice", Username: "alice@example.com", Status: astroapi.UserActive, OrganizationRole: "ORGANIZATION_OWNER",
		WorkspaceRoles:  []astroapi.WorkspaceRole{workspaceRole("ws-2", "WORKSPACE_OWNER"), workspaceRole("ws-1", astroapi.RoleWorkspaceAccessor)},
		DeploymentRoles: []astroapi.DeploymentRole{deploymentRole("dep-x", "VIEWER"), deploymentRole("dep-a", "DAG_DEPLOYER"), deploymentRole("dep-b", "DEPLOYMENT_ADMIN")},
		DagRoles:        []astroapi.DagRole{dagX, dagA},
	}
	de := astroapi.Team{
		ID: "team-de", Name: "data-engineering", OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:  []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_MEMBER")},
		DeploymentRoles: []astroapi.DeploymentRole{deploymentRole("dep-a", "DEPLOYMENT_ADMIN"), deploymentRole("dep-x", "DEPLOYMENT_ADMIN")},
		DagRoles:        []astroapi.DagRole{dagA},
	}
	obs := &Observed{
		Organization: org,
		Deployments:  []astroapi.Deployment{depA, depB, depX},
		Subjects:     subjects([]astroapi.Token{anchor}, []astroapi.User{al}, []astroapi.Team{de}),
	}
	d := Desired{Scopes: []ManagedScope{
		alpha(false,
			DesiredAssignment{Subject: aliceRef, Role: "DEPLOYMENT_ADMIN", Source: at(12)},
			DesiredAssignment{Subject: teamRef, Absent: true, Source: at(13)},
		),
		{
			ScopeRef:    ScopeRef{Level: LevelDeployment, ID: "dep-b", Name: "beta"},
			WorkspaceID: "ws-2",
			Prune:       true,
			Lists:       []Kind{KindUser, KindTeam},
			Source:      at(20),
			Assignments: []DesiredAssignment{
				{Subject: teamRef, Role: "DAG_DEPLOYER", Source: at(21)},
			},
		},
	}}
	p := Compute(d, obs, Options{MaxRemovals: -1})
	if p.Refused() {
		t.Fatalf("plan refused: %+v", p.Guards)
	}
	s := newFakeStore(anchor).withUsers(al).withTeams(de)
	// Another writer, between plan and apply: a DAG role and a workspace
	// role for alice, a role on another deployment.
	s.modifyUser("usr-alice", func(u *astroapi.User) {
		u.DagRoles = append(u.DagRoles, dagB)
		u.WorkspaceRoles = append(u.WorkspaceRoles, workspaceRole("ws-3", "WORKSPACE_AUTHOR"))
		u.DeploymentRoles = append(u.DeploymentRoles, deploymentRole("dep-y", "VIEWER"))
	})
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{})
	if !res.Complete() || len(res.Written) != 2 {
		t.Fatalf("Apply: %+v", res)
	}

	wantAlice := al
	wantAlice.WorkspaceRoles = append(slices.Clone(al.WorkspaceRoles), workspaceRole("ws-3", "WORKSPACE_AUTHOR"))
	wantAlice.DeploymentRoles = []astroapi.DeploymentRole{
		deploymentRole("dep-x", "VIEWER"),
		deploymentRole("dep-a", "DEPLOYMENT_ADMIN"), // updated in place
		// dep-b pruned (beta lists users), but her DAG role there, added by
		// the other writer, keeps DEPLOYMENT_ACCESSOR: Astro would add it
		deploymentRole("dep-b", "DEPLOYMENT_ACCESSOR"),
		deploymentRole("dep-y", "VIEWER"),
	}
	wantAlice.DagRoles = []astroapi.DagRole{dagX, dagA, dagB}
	if diff := cmp.Diff(wantAlice, s.user("usr-alice")); diff != "" {
		t.Errorf("alice (-want +got):\n%s", diff)
	}
	wantTeam := de
	wantTeam.DeploymentRoles = []astroapi.DeploymentRole{
		// state: absent on alpha, where its DAG role keeps DEPLOYMENT_ACCESSOR
		deploymentRole("dep-a", "DEPLOYMENT_ACCESSOR"),
		deploymentRole("dep-x", "DEPLOYMENT_ADMIN"),
		deploymentRole("dep-b", "DAG_DEPLOYER"), // added
	}
	if diff := cmp.Diff(wantTeam, s.team("team-de")); diff != "" {
		t.Errorf("data-engineering (-want +got):\n%s", diff)
	}
	gets, sets := s.calls()
	once := map[string]int{"usr-alice": 1, "team-de": 1}
	if diff := cmp.Diff(once, gets); diff != "" {
		t.Errorf("GETs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(once, sets); diff != "" {
		t.Errorf("POSTs (-want +got):\n%s", diff)
	}
	changed := map[string]bool{}
	for _, w := range res.Written {
		changed[w.Subject.ID] = w.ChangedSincePlan
	}
	if diff := cmp.Diff(map[string]bool{"usr-alice": true, "team-de": false}, changed); diff != "" {
		t.Errorf("ChangedSincePlan (-want +got):\n%s", diff)
	}
	if v := Verify(p, res, s.snapshot()); !v.Converged || len(v.ChangedByOthers) != 0 {
		t.Errorf("Verify = %+v, want converged", v)
	}
}

// TestVerifyWorkspaceAccessorIsNotDrift: Astro (and the emulator) adds
// WORKSPACE_ACCESSOR on the workspace of a deployment where a user or team
// gains a role without holding a workspace role there. Verification must
// not take that for a change by another writer, and the next plan is
// empty.
func TestVerifyWorkspaceAccessorIsNotDrift(t *testing.T) {
	st := &astroapitest.State{
		Organization: astroapitest.Organization{ID: org, Name: "Accessor Org"},
		Workspaces:   []astroapitest.Workspace{{ID: "ws-1", Name: "one"}, {ID: "ws-2", Name: "two"}},
		Deployments:  []astroapitest.Deployment{{ID: "dep-a", Name: "alpha", WorkspaceID: "ws-1"}, {ID: "dep-b", Name: "beta", WorkspaceID: "ws-2"}},
		Users: []astroapitest.User{{ID: "usr-alice", Username: "alice@example.com", Status: astroapi.UserActive,
			RoleSet: astroapitest.RoleSet{OrganizationRole: "ORGANIZATION_MEMBER", WorkspaceRoles: []astroapi.WorkspaceRole{workspaceRole("ws-2", "WORKSPACE_MEMBER")}}}},
		Teams: []astroapitest.Team{{ID: "team-de", Name: "data-engineering",
			RoleSet: astroapitest.RoleSet{OrganizationRole: "ORGANIZATION_MEMBER"}}},
	}
	_, url := astroapitest.NewTestServer(t, st, astroapitest.Options{RateLimits: astroapitest.Limits{GET: -1, POST: -1, DELETE: -1}})
	c, err := astroapi.New(url, astroapi.WithCredential("accessor-test-credential"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e := NewEngine(c, org)
	obs, err := e.Observe(ctx)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	sp, err := spec.Parse("access.yaml", []byte(`version: 1
deployments:
  - id: dep-a
    users:
      - username: alice@example.com
        role: DEPLOYMENT_ADMIN
    teams:
      - name: data-engineering
        role: DEPLOYMENT_ADMIN
  - id: dep-b
    users:
      - username: alice@example.com
        role: DEPLOYMENT_ADMIN
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	d, err := Resolve(sp, obs)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	p := Compute(d, obs, Options{MaxRemovals: -1})
	if add, _, _ := p.Summary(); add != 3 {
		t.Fatalf("plan adds %d, want 3: %+v", add, p.Changes)
	}
	out := e.Execute(ctx, p, ApplyOptions{})
	if !out.Complete() || out.Verification == nil {
		t.Fatalf("Execute: %+v", out)
	}
	if diff := cmp.Diff(Verification{Converged: true}, *out.Verification); diff != "" {
		t.Errorf("Verification (-want +got):\n%s", diff)
	}

	// The emulator did add the accessor roles, and nothing else.
	u, err := c.User(ctx, org, "usr-alice")
	if err != nil {
		t.Fatal(err)
	}
	wantWS := []astroapi.WorkspaceRole{workspaceRole("ws-2", "WORKSPACE_MEMBER"), workspaceRole("ws-1", astroapi.RoleWorkspaceAccessor)}
	if diff := cmp.Diff(wantWS, u.WorkspaceRoles); diff != "" {
		t.Errorf("alice's workspace roles (-want +got):\n%s", diff)
	}
	tm, err := c.Team(ctx, org, "team-de")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]astroapi.WorkspaceRole{workspaceRole("ws-1", astroapi.RoleWorkspaceAccessor)}, tm.WorkspaceRoles); diff != "" {
		t.Errorf("the team's workspace roles (-want +got):\n%s", diff)
	}

	// A saved plan made before is not stale for the accessor alone, and
	// the next plan is empty.
	now, err := e.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again := Compute(d, now, Options{MaxRemovals: -1}); len(again.Changes) != 0 {
		t.Errorf("plan after apply has changes: %+v", again.Changes)
	}
	for _, w := range out.Written {
		for _, s := range now.Subjects {
			if s.ID == w.Subject.ID && s.Fingerprint != w.Fingerprint {
				t.Errorf("%s: fingerprint after apply differs from the one written", labelID(s.SubjectRef))
			}
		}
	}
}
