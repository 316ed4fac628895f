package astroapitest

// Replays of the Astro CLI's workspace and organization commands (see
// astrocli_test.go): `astro workspace user|team add|update|remove|list`,
// `astro workspace token update --role`, `astro organization user|team|token
// update --role`.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
)

// The CLI's generated bodies of the name updates (UpdateTeamRequest,
// UpdateApiTokenRequest) and of a token's role write.
type (
	cliUpdateNameRequest struct {
		Description *string `json:"description,omitempty"`
		Name        string  `json:"name"`
	}
	cliUpdateTokenRolesRequest struct {
		Roles []astroapi.Role `json:"roles"`
	}
	cliTokensPaginated struct {
		Limit      int              `json:"limit"`
		Offset     int              `json:"offset"`
		Tokens     []astroapi.Token `json:"tokens"`
		TotalCount int              `json:"totalCount"`
	}
)

// status sends one request as send does and returns the status and the
// Error body of a failure (NormalizeAPIError turns it into the CLI's
// error), without failing the test.
func (cli *astroCLI) status(method, pathAndQuery string, in any) (int, astroapi.ErrorBody) {
	cli.t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		cli.t.Fatal(err)
	}
	req, err := http.NewRequest(method, cli.base+pathAndQuery, bytes.NewReader(b))
	if err != nil {
		cli.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer astro-cli-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cli.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body astroapi.ErrorBody
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(raw, &body); err != nil {
			cli.t.Fatalf("%s %s: %d, body %s: %v", method, pathAndQuery, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode, body
}

// upsertWorkspaceRole is the CLI's (user and team): the entry for
// workspaceID replaced by role, appended last, or removed when role is "".
func upsertWorkspaceRole(existing *[]cliWorkspaceRole, workspaceID, role string) *[]cliWorkspaceRole {
	out := []cliWorkspaceRole{}
	if existing != nil {
		for _, r := range *existing {
			if r.WorkspaceID != workspaceID {
				out = append(out, r)
			}
		}
	}
	if role != "" {
		out = append(out, cliWorkspaceRole{WorkspaceID: workspaceID, Role: role})
	}
	return &out
}

// upsertTokenRole is the CLI's upsertRole for tokens: the entry of
// (entityType, entityID) replaced by role, appended last.
func upsertTokenRole(existing []astroapi.Role, entityType, entityID, role string) []astroapi.Role {
	out := []astroapi.Role{}
	for _, r := range existing {
		if r.EntityType != entityType || r.EntityID != entityID {
			out = append(out, r)
		}
	}
	return append(out, astroapi.Role{EntityType: entityType, EntityID: entityID, Role: role})
}

// findUser is the CLI's getUserID: the user whose username is email,
// exactly.
func (cli *astroCLI) findUser(users []cliUser, email string) string {
	cli.t.Helper()
	for _, u := range users {
		if u.Username == email {
			return u.ID
		}
	}
	cli.t.Fatalf("no user was found for the email you provided")
	return ""
}

// workspaceUserRequest runs `astro workspace user add|update|remove EMAIL
// [--role R] --workspace-id W` up to its POST, and returns the user's id
// and the body: add finds the user among all organization users, update
// and remove among the workspace's; then a GET, and a body of the user's
// organizationRole and deploymentRoles as read and its edited
// workspaceRoles, without dagRoles.
func (cli *astroCLI) workspaceUserRequest(command, email, role, workspaceID string) (string, cliUpdateUserRolesRequest) {
	cli.t.Helper()
	var users []cliUser
	if command == "add" {
		users = cli.listUsersBy("", "")
	} else {
		users = cli.listUsersBy("workspaceId", workspaceID)
	}
	id := cli.findUser(users, email)
	var current cliUser
	cli.send(http.MethodGet, "/users/"+id, nil, &current)
	if command == "remove" {
		role = ""
	}
	return id, cliUpdateUserRolesRequest{
		OrganizationRole: current.OrganizationRole,
		WorkspaceRoles:   upsertWorkspaceRole(current.WorkspaceRoles, workspaceID, role),
		DeploymentRoles:  current.DeploymentRoles,
	}
}

func (cli *astroCLI) workspaceUser(command, email, role, workspaceID string) {
	cli.t.Helper()
	id, req := cli.workspaceUserRequest(command, email, role, workspaceID)
	var answer astroapi.SubjectRoles
	cli.send(http.MethodPost, "/users/"+id+"/roles", req, &answer)
}

// workspaceTeam runs `astro workspace team add|update|remove TEAM_ID
// [--role R] --workspace-id W`: a GET of the team and a POST of its
// organizationRole and deploymentRoles as read and its edited
// workspaceRoles, without dagRoles.
func (cli *astroCLI) workspaceTeam(command, teamID, role, workspaceID string) {
	cli.t.Helper()
	var team cliTeam
	cli.send(http.MethodGet, "/teams/"+teamID, nil, &team)
	if command == "remove" {
		role = ""
	}
	req := cliUpdateTeamRolesRequest{
		OrganizationRole: team.OrganizationRole,
		WorkspaceRoles:   upsertWorkspaceRole(team.WorkspaceRoles, workspaceID, role),
		DeploymentRoles:  team.DeploymentRoles,
	}
	var answer astroapi.SubjectRoles
	cli.send(http.MethodPost, "/teams/"+team.ID+"/roles", req, &answer)
}

// listTokensBy lists the tokens with filter key=value, in pages of 100.
func (cli *astroCLI) listTokensBy(key, value string) []astroapi.Token {
	var tokens []astroapi.Token
	for offset := 0; ; offset += cliPageLimit {
		var page cliTokensPaginated
		cli.send(http.MethodGet, "/tokens"+pageQuery(key, value, offset), nil, &page)
		tokens = append(tokens, page.Tokens...)
		if page.TotalCount <= offset+cliPageLimit {
			return tokens
		}
	}
}

// tokenUpdate runs the rest of `astro workspace|organization token update
// --name N --role R` once the token is listed: the one of that scope and
// name, a GET, a POST of its name and description as read, and a POST of
// its roles with the entry of (entityType, entityID) replaced by role and
// moved last.
func (cli *astroCLI) tokenUpdate(listed []astroapi.Token, scope, name, entityType, entityID, role string) {
	cli.t.Helper()
	var id string
	for _, tok := range listed {
		if tok.Scope == scope && tok.Name == name {
			id = tok.ID
		}
	}
	if id == "" {
		cli.t.Fatalf("no API token was found for the API token name you provided")
	}
	var tok astroapi.Token
	cli.send(http.MethodGet, "/tokens/"+id, nil, &tok)
	desc := tok.Description
	var updated astroapi.Token
	cli.send(http.MethodPost, "/tokens/"+id, cliUpdateNameRequest{Name: tok.Name, Description: &desc}, &updated)
	var answer astroapi.SubjectRoles
	cli.send(http.MethodPost, "/tokens/"+id+"/roles", cliUpdateTokenRolesRequest{Roles: upsertTokenRole(tok.Roles, entityType, entityID, role)}, &answer)
}

func (cli *astroCLI) token(id string) Token {
	for _, t := range cli.srv.State().Tokens {
		if t.ID == id {
			return t
		}
	}
	cli.t.Fatalf("no token %q", id)
	return Token{}
}

// TestAstroWorkspaceUserAdd: `astro workspace user add cat@example.com
// --role WORKSPACE_AUTHOR --workspace-id ws-b`.
func TestAstroWorkspaceUserAdd(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.workspaceUser("add", "cat@example.com", "WORKSPACE_AUTHOR", "ws-b")
	cli.wantLines(
		"GET /users?limit=100&offset=0",
		"GET /users/usr-cat",
		"POST /users/usr-cat/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: "WORKSPACE_AUTHOR"}},
	}, cli.user("usr-cat").RoleSet)
}

// TestAstroWorkspaceUserAddWithoutOrganizationRoleFails: a user without an
// organization role (dan, PENDING) cannot be added: the CLI sends
// workspaceRoles without organizationRole and the API answers 400 with a
// field error, which the CLI prints.
func TestAstroWorkspaceUserAddWithoutOrganizationRoleFails(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	id, req := cli.workspaceUserRequest("add", "dan@example.com", "WORKSPACE_MEMBER", "ws-a")
	status, body := cli.status(http.MethodPost, "/users/"+id+"/roles", req)
	if status != http.StatusBadRequest || !cmp.Equal(fieldsOf(body.FieldErrors), []string{"organizationRole required"}) {
		t.Errorf("status %d, body %+v: want 400 with organizationRole required", status, body)
	}
	wantRoleSet(t, RoleSet{}, cli.user("usr-dan").RoleSet)
}

// TestAstroWorkspaceUserUpdateDropsDagRolesInferred: `astro workspace user
// update ann@example.com --role WORKSPACE_OWNER --workspace-id ws-a` finds
// Ann among the workspace's users; her deployment roles stay (the
// DEPLOYMENT_ACCESSOR of her DAG role included) and her DAG role goes, as
// the CLI does not send it (inferred).
func TestAstroWorkspaceUserUpdateDropsDagRolesInferred(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.workspaceUser("update", "ann@example.com", "WORKSPACE_OWNER", "ws-a")
	cli.wantLines(
		"GET /users?limit=100&offset=0&workspaceId=ws-a",
		"GET /users/usr-ann",
		"POST /users/usr-ann/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_OWNER"}},
		DeploymentRoles: []astroapi.DeploymentRole{
			{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}, {DeploymentID: "dep-a2", Role: astroapi.RoleDeploymentAccessor},
		},
	}, cli.user("usr-ann").RoleSet)
}

// TestAstroWorkspaceUserRemoveLeavesAccessorForDeploymentRoles: `astro
// workspace user remove ann@example.com --workspace-id ws-a` drops her
// workspace role but sends her deployment roles in ws-a back, so Astro
// gives her WORKSPACE_ACCESSOR there.
func TestAstroWorkspaceUserRemoveLeavesAccessorForDeploymentRoles(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.workspaceUser("remove", "ann@example.com", "", "ws-a")
	cli.wantLines(
		"GET /users?limit=100&offset=0&workspaceId=ws-a",
		"GET /users/usr-ann",
		"POST /users/usr-ann/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles: []astroapi.DeploymentRole{
			{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}, {DeploymentID: "dep-a2", Role: astroapi.RoleDeploymentAccessor},
		},
	}, cli.user("usr-ann").RoleSet)
}

// TestAstroWorkspaceUserList: `astro workspace user list --workspace-id
// ws-b` prints FULLNAME, EMAIL, ID, WORKSPACE ROLE for each user with a
// role there.
func TestAstroWorkspaceUserList(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	var rows []string
	for _, u := range cli.listUsersBy("workspaceId", "ws-b") {
		role := ""
		for _, r := range *u.WorkspaceRoles {
			if r.WorkspaceID == "ws-b" {
				role = r.Role
			}
		}
		rows = append(rows, strings.Join([]string{u.FullName, u.Username, u.ID, role}, " | "))
	}
	cli.wantLines("GET /users?limit=100&offset=0&workspaceId=ws-b")
	if diff := cmp.Diff([]string{"Bob Beta | bob@example.com | usr-bob | WORKSPACE_ACCESSOR"}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// TestAstroWorkspaceTeamAdd: `astro workspace team add team-de2 --role
// WORKSPACE_OPERATOR --workspace-id ws-a` keeps its role on ws-b.
func TestAstroWorkspaceTeamAdd(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.workspaceTeam("add", "team-de2", "WORKSPACE_OPERATOR", "ws-a")
	cli.wantLines(
		"GET /teams/team-de2",
		"POST /teams/team-de2/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: "WORKSPACE_MEMBER"}, {WorkspaceID: "ws-a", Role: "WORKSPACE_OPERATOR"}},
	}, cli.team("team-de2").RoleSet)
}

// TestAstroWorkspaceTeamUpdateDropsDagRolesInferred: `astro workspace team
// update team-de --role WORKSPACE_AUTHOR --workspace-id ws-a`: its
// deployment roles stay, its DAG role goes (inferred).
func TestAstroWorkspaceTeamUpdateDropsDagRolesInferred(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.workspaceTeam("update", "team-de", "WORKSPACE_AUTHOR", "ws-a")
	cli.wantLines(
		"GET /teams/team-de",
		"POST /teams/team-de/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_AUTHOR"}},
		DeploymentRoles: []astroapi.DeploymentRole{
			{DeploymentID: "dep-a2", Role: "DAG_DEPLOYER"}, {DeploymentID: "dep-a1", Role: astroapi.RoleDeploymentAccessor},
		},
	}, cli.team("team-de").RoleSet)
}

// TestAstroWorkspaceTeamRemove: `astro workspace team remove team-de2
// --workspace-id ws-b` leaves the team its organization role only.
func TestAstroWorkspaceTeamRemove(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.workspaceTeam("remove", "team-de2", "", "ws-b")
	cli.wantLines(
		"GET /teams/team-de2",
		"POST /teams/team-de2/roles",
	)
	wantRoleSet(t, RoleSet{OrganizationRole: "ORGANIZATION_MEMBER"}, cli.team("team-de2").RoleSet)
}

// TestAstroWorkspaceTeamList: `astro workspace team list --workspace-id
// ws-a` lists the teams with a role on ws-a.
func TestAstroWorkspaceTeamList(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	var rows []string
	for _, tm := range cli.listTeamsBy("workspaceId", "ws-a") {
		role := ""
		for _, r := range *tm.WorkspaceRoles {
			if r.WorkspaceID == "ws-a" {
				role = r.Role
			}
		}
		rows = append(rows, strings.Join([]string{tm.ID, role, tm.Name}, " | "))
	}
	cli.wantLines("GET /teams?limit=100&offset=0&workspaceId=ws-a")
	if diff := cmp.Diff([]string{"team-de | WORKSPACE_ACCESSOR | data-engineering"}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// TestAstroWorkspaceTokenUpdate: `astro workspace token update --name
// ci-deployer --role WORKSPACE_OPERATOR --workspace-id ws-a` lists the
// tokens holding a role on ws-a, keeps the WORKSPACE ones named so (the
// ci-deployer of ws-b is not among them), rewrites the name and
// description, then the roles with the workspace role moved last.
func TestAstroWorkspaceTokenUpdate(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.tokenUpdate(cli.listTokensBy("workspaceId", "ws-a"), astroapi.ScopeWorkspace, "ci-deployer", astroapi.EntityWorkspace, "ws-a", "WORKSPACE_OPERATOR")
	cli.wantLines(
		"GET /tokens?limit=100&offset=0&workspaceId=ws-a",
		"GET /tokens/tok-ws-a",
		"POST /tokens/tok-ws-a",
		"POST /tokens/tok-ws-a/roles",
	)
	got := cli.token("tok-ws-a")
	if diff := cmp.Diff([]astroapi.Role{depRole("dep-a1", "DEPLOYMENT_ADMIN"), wsRole("ws-a", "WORKSPACE_OPERATOR")}, got.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if got.Name != "ci-deployer" || got.Description != "deploys alpha" {
		t.Errorf("name %q, description %q: want them as they were", got.Name, got.Description)
	}
}

// TestAstroOrganizationTokenUpdate: `astro organization token update
// --name org-bot --role ORGANIZATION_OWNER` lists the organization tokens,
// rewrites the name and description, then the roles with the organization
// role replaced and moved last.
func TestAstroOrganizationTokenUpdate(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.tokenUpdate(cli.listTokensBy("includeOnlyOrganizationTokens", "true"), astroapi.ScopeOrganization, "org-bot", astroapi.EntityOrganization, org, "ORGANIZATION_OWNER")
	cli.wantLines(
		"GET /tokens?includeOnlyOrganizationTokens=true&limit=100&offset=0",
		"GET /tokens/tok-org",
		"POST /tokens/tok-org",
		"POST /tokens/tok-org/roles",
	)
	want := []astroapi.Role{depRole("dep-a1", "DEPLOYMENT_ADMIN"), wsRole("ws-b", "WORKSPACE_AUTHOR"), orgRole("ORGANIZATION_OWNER")}
	if diff := cmp.Diff(want, cli.token("tok-org").Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
}

// TestAstroOrganizationUserUpdateDropsOtherRolesInferred: `astro
// organization user update ann@example.com --role
// ORGANIZATION_BILLING_ADMIN` posts the organization role alone; since a
// role write replaces the whole set and a part left out means none
// (inferred), Ann loses her workspace, deployment and DAG roles.
func TestAstroOrganizationUserUpdateDropsOtherRolesInferred(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	id := cli.findUser(cli.listUsersBy("", ""), "ann@example.com")
	role := "ORGANIZATION_BILLING_ADMIN"
	var answer astroapi.SubjectRoles
	cli.send(http.MethodPost, "/users/"+id+"/roles", cliUpdateUserRolesRequest{OrganizationRole: &role}, &answer)
	cli.wantLines(
		"GET /users?limit=100&offset=0",
		"POST /users/usr-ann/roles",
	)
	wantRoleSet(t, RoleSet{OrganizationRole: role}, cli.user("usr-ann").RoleSet)
}

// TestAstroOrganizationTeamUpdate: `astro organization team update
// team-de --role ORGANIZATION_OWNER`: a GET, a POST of its name and
// description as read, then a POST of the new organization role with its
// workspace and deployment roles as read; its DAG role goes (inferred).
func TestAstroOrganizationTeamUpdate(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	var team cliTeam
	cli.send(http.MethodGet, "/teams/team-de", nil, &team)
	var updated cliTeam
	cli.send(http.MethodPost, "/teams/team-de", cliUpdateNameRequest{Name: team.Name, Description: team.Description}, &updated)
	var answer astroapi.SubjectRoles
	cli.send(http.MethodPost, "/teams/team-de/roles", cliUpdateTeamRolesRequest{
		OrganizationRole: "ORGANIZATION_OWNER", WorkspaceRoles: team.WorkspaceRoles, DeploymentRoles: team.DeploymentRoles,
	}, &answer)
	cli.wantLines(
		"GET /teams/team-de",
		"POST /teams/team-de",
		"POST /teams/team-de/roles",
	)
	got := cli.team("team-de")
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_OWNER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles: []astroapi.DeploymentRole{
			{DeploymentID: "dep-a2", Role: "DAG_DEPLOYER"}, {DeploymentID: "dep-a1", Role: astroapi.RoleDeploymentAccessor},
		},
	}, got.RoleSet)
	if got.Name != "data-engineering" || got.Description != "ETL" || updated.ID != "team-de" {
		t.Errorf("team %+v (answer %+v): want its name and description as they were", got, updated)
	}
}
