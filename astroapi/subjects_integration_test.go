package astroapi_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// subjectsState is smallState with a few users and teams.
func subjectsState() *astroapitest.State {
	st := smallState()
	st.Users = []astroapitest.User{
		{ID: "usr-ann", Username: "ann@example.com", FullName: "Ann", Status: astroapi.UserActive, RoleSet: astroapitest.RoleSet{
			OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: wsAlpha, Role: "WORKSPACE_MEMBER"}},
			DeploymentRoles: []astroapi.DeploymentRole{
				{DeploymentID: depAlphaProd, Role: astroapi.RoleDeploymentAdmin}, {DeploymentID: depAlphaStg, Role: astroapi.RoleDeploymentAccessor},
			},
			DagRoles: []astroapi.DagRole{{DeploymentID: depAlphaStg, DagID: "etl", Role: "DAG_VIEWER"}},
		}},
		{ID: "usr-bob", Username: "bob@example.com", Status: astroapi.UserInactive, RoleSet: astroapitest.RoleSet{OrganizationRole: "ORGANIZATION_MEMBER"}},
	}
	for i := range 7 {
		st.Users = append(st.Users, astroapitest.User{
			ID: fmt.Sprintf("usr-%d", i), Username: fmt.Sprintf("u%d@example.com", i), Status: astroapi.UserActive,
			RoleSet: astroapitest.RoleSet{
				OrganizationRole: "ORGANIZATION_MEMBER",
				WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: wsBeta, Role: astroapi.RoleWorkspaceAccessor}},
				DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: depBetaProd, Role: roleViewer}},
			},
		})
	}
	st.Teams = []astroapitest.Team{
		{ID: "team-a", Name: "data-engineering", RoleSet: astroapitest.RoleSet{
			OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: wsAlpha, Role: astroapi.RoleWorkspaceAccessor}},
			DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: depAlphaStg, Role: roleDeployer}},
		}, MemberIDs: []string{"usr-ann", "usr-bob", "usr-0", "usr-1", "usr-2"}},
		{ID: "team-b", Name: "data-engineering", IsIdpManaged: true, RoleSet: astroapitest.RoleSet{OrganizationRole: "ORGANIZATION_OWNER"}},
	}
	return st
}

func userIDsOf(us []astroapi.User) []string {
	return project(us, func(u astroapi.User) string { return u.ID })
}

// TestUsersAndTeamsAgainstEmulator drains short pages of users, teams and
// members, and applies every filter.
func TestUsersAndTeamsAgainstEmulator(t *testing.T) {
	_, base := astroapitest.NewTestServer(t, subjectsState(), astroapitest.Options{RateLimits: astroapitest.NoRateLimit, MaxPageSize: 2})
	c := newClient(t, base, astroapi.WithPageSize(3))
	ctx := t.Context()

	all, err := c.Users(ctx, orgID, astroapi.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 9 {
		t.Errorf("%d users, want 9: %v", len(all), userIDsOf(all))
	}
	prod, err := c.Users(ctx, orgID, astroapi.UserFilter{DeploymentID: depAlphaProd})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"usr-ann"}, userIDsOf(prod)); diff != "" {
		t.Errorf("users of %s (-want +got):\n%s", depAlphaProd, diff)
	}
	beta, err := c.Users(ctx, orgID, astroapi.UserFilter{WorkspaceID: wsBeta})
	if err != nil {
		t.Fatal(err)
	}
	if len(beta) != 7 {
		t.Errorf("%d users in %s, want 7", len(beta), wsBeta)
	}

	teams, err := c.Teams(ctx, orgID, astroapi.TeamFilter{Names: []string{"data-engineering"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"team-a", "team-b"}, project(teams, func(t astroapi.Team) string { return t.ID })); diff != "" {
		t.Errorf("teams named data-engineering (-want +got):\n%s", diff)
	}
	stg, err := c.Teams(ctx, orgID, astroapi.TeamFilter{DeploymentID: depAlphaStg, WorkspaceID: wsAlpha})
	if err != nil {
		t.Fatal(err)
	}
	if len(stg) != 1 || stg[0].ID != "team-a" || stg[0].DeploymentRoles[0].Role != roleDeployer {
		t.Errorf("teams of %s: %+v", depAlphaStg, stg)
	}
	members, err := c.TeamMembers(ctx, orgID, "team-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"usr-ann", "usr-bob", "usr-0", "usr-1", "usr-2"}, project(members, func(m astroapi.TeamMember) string { return m.UserID })); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}

	ann, err := c.User(ctx, orgID, "usr-ann")
	if err != nil {
		t.Fatal(err)
	}
	if ann.Username != "ann@example.com" || ann.Status != astroapi.UserActive || len(ann.DagRoles) != 1 {
		t.Errorf("user %+v", ann)
	}
	idp, err := c.Team(ctx, orgID, "team-b")
	if err != nil {
		t.Fatal(err)
	}
	if !idp.IsIdpManaged || idp.OrganizationRole != "ORGANIZATION_OWNER" {
		t.Errorf("team %+v", idp)
	}
	if _, err := c.User(ctx, orgID, "usr-nope"); !errors.Is(err, astroapi.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	if _, err := c.Team(ctx, orgID, "team-nope"); !errors.Is(err, astroapi.ErrNotFound) {
		t.Errorf("unknown team: %v, want ErrNotFound", err)
	}
}

// TestSetUserAndTeamRolesKeepWhatIsSent: a read-modify-write through the
// client keeps every part it re-sends, DAG roles included, and Astro's
// WORKSPACE_ACCESSOR appears where a deployment role lands in a new
// workspace.
func TestSetUserAndTeamRolesKeepWhatIsSent(t *testing.T) {
	srv, base := astroapitest.NewTestServer(t, subjectsState(), unlimited)
	c := newClient(t, base)
	ctx := t.Context()

	ann, err := c.User(ctx, orgID, "usr-ann")
	if err != nil {
		t.Fatal(err)
	}
	req := astroapi.UpdateUserRolesRequest{
		OrganizationRole: ann.OrganizationRole,
		WorkspaceRoles:   ann.WorkspaceRoles,
		DeploymentRoles:  append(ann.DeploymentRoles, astroapi.DeploymentRole{DeploymentID: depBetaProd, Role: roleViewer}),
		DagRoles:         ann.DagRoles,
	}
	sr, err := c.SetUserRoles(ctx, orgID, "usr-ann", req)
	if err != nil {
		t.Fatal(err)
	}
	want := astroapi.SubjectRoles{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: wsAlpha, Role: "WORKSPACE_MEMBER"}, {WorkspaceID: wsBeta, Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles: []astroapi.DeploymentRole{
			{DeploymentID: depAlphaProd, Role: astroapi.RoleDeploymentAdmin}, {DeploymentID: depAlphaStg, Role: astroapi.RoleDeploymentAccessor},
			{DeploymentID: depBetaProd, Role: roleViewer},
		},
		DagRoles: []astroapi.DagRole{{DeploymentID: depAlphaStg, DagID: "etl", Role: "DAG_VIEWER"}},
	}
	if diff := cmp.Diff(want, sr); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	after, err := c.User(ctx, orgID, "usr-ann")
	if err != nil {
		t.Fatal(err)
	}
	got := astroapi.SubjectRoles{OrganizationRole: after.OrganizationRole, WorkspaceRoles: after.WorkspaceRoles, DeploymentRoles: after.DeploymentRoles, DagRoles: after.DagRoles}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("user after the write (-want +got):\n%s", diff)
	}

	// A team: its deployment role replaced, nothing else.
	if _, err := c.SetTeamRoles(ctx, orgID, "team-a", astroapi.UpdateTeamRolesRequest{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: wsAlpha, Role: astroapi.RoleWorkspaceAccessor}},
	}); err != nil {
		t.Fatal(err)
	}
	team, err := c.Team(ctx, orgID, "team-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(team.DeploymentRoles) != 0 || len(team.WorkspaceRoles) != 1 {
		t.Errorf("team after the write: %+v", team)
	}
	st := srv.Stats()
	if st.UserRoleWrites["usr-ann"] != 1 || st.TeamRoleWrites["team-a"] != 1 {
		t.Errorf("writes: %v %v", st.UserRoleWrites, st.TeamRoleWrites)
	}
}

// TestSetTeamRolesRejectedIsA400Error: the emulator's validation reaches
// the caller as an *Error with field errors, and nothing is written.
func TestSetTeamRolesRejectedIsA400Error(t *testing.T) {
	srv, base := astroapitest.NewTestServer(t, subjectsState(), unlimited)
	c := newClient(t, base)
	_, err := c.SetTeamRoles(t.Context(), orgID, "team-a", astroapi.UpdateTeamRolesRequest{
		OrganizationRole: "ORGANIZATION_MEMBER",
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: depBetaProd, Role: roleDeployer}},
	})
	var apiErr *astroapi.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || len(apiErr.FieldErrors) != 1 ||
		apiErr.FieldErrors[0].Field != "deploymentRoles[0].role" || apiErr.FieldErrors[0].Code != "restricted" {
		t.Fatalf("error %#v, want a 400 on deploymentRoles[0].role (restricted)", err)
	}
	if n := srv.Stats().TeamRoleWrites["team-a"]; n != 0 {
		t.Errorf("%d writes, want 0", n)
	}
}
