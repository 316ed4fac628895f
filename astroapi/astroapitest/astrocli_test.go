package astroapitest

// Replays of the Astro CLI's `astro deployment user|team add|update|remove|list`,
// `astro workspace user|team add|update|remove|list`, `astro workspace
// token update`, and `astro organization user|team|token update` (CLI
// v1.43+, astro-client-v1: cloud/user/user.go, cloud/team/team.go,
// cloud/workspace-token/workspace_token.go,
// cloud/organization/organization_token.go): the same requests, in the
// same order, with the same query strings (the generated client encodes
// them sorted by key) and bodies, decoded into types shaped like the CLI's
// generated ones. Each test is named after the command it mimics. They
// need no binary: none runs the real `astro`.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
)

// The CLI's generated types (astrov1), with their JSON tags and field order.
type (
	cliWorkspaceRole struct {
		Role        string `json:"role"`
		WorkspaceID string `json:"workspaceId"`
	}
	cliDeploymentRole struct {
		DeploymentID string `json:"deploymentId"`
		Role         string `json:"role"`
	}
	cliUser struct {
		AvatarURL        string               `json:"avatarUrl"`
		CreatedAt        time.Time            `json:"createdAt"`
		DagRoles         *[]astroapi.DagRole  `json:"dagRoles,omitempty"`
		DeploymentRoles  *[]cliDeploymentRole `json:"deploymentRoles,omitempty"`
		FullName         string               `json:"fullName"`
		ID               string               `json:"id"`
		OrganizationRole *string              `json:"organizationRole,omitempty"`
		Status           string               `json:"status"`
		UpdatedAt        time.Time            `json:"updatedAt"`
		Username         string               `json:"username"`
		WorkspaceRoles   *[]cliWorkspaceRole  `json:"workspaceRoles,omitempty"`
	}
	cliUsersPaginated struct {
		Limit      int       `json:"limit"`
		Offset     int       `json:"offset"`
		TotalCount int       `json:"totalCount"`
		Users      []cliUser `json:"users"`
	}
	cliUpdateUserRolesRequest struct {
		DagRoles         *[]astroapi.DagRole  `json:"dagRoles,omitempty"`
		DeploymentRoles  *[]cliDeploymentRole `json:"deploymentRoles,omitempty"`
		OrganizationRole *string              `json:"organizationRole,omitempty"`
		WorkspaceRoles   *[]cliWorkspaceRole  `json:"workspaceRoles,omitempty"`
	}
	cliTeam struct {
		CreatedAt        time.Time            `json:"createdAt"`
		DagRoles         *[]astroapi.DagRole  `json:"dagRoles,omitempty"`
		DeploymentRoles  *[]cliDeploymentRole `json:"deploymentRoles,omitempty"`
		Description      *string              `json:"description,omitempty"`
		ID               string               `json:"id"`
		IsIdpManaged     bool                 `json:"isIdpManaged"`
		Name             string               `json:"name"`
		OrganizationID   string               `json:"organizationId"`
		OrganizationRole string               `json:"organizationRole"`
		UpdatedAt        time.Time            `json:"updatedAt"`
		WorkspaceRoles   *[]cliWorkspaceRole  `json:"workspaceRoles,omitempty"`
	}
	cliTeamsPaginated struct {
		Limit      int       `json:"limit"`
		Offset     int       `json:"offset"`
		Teams      []cliTeam `json:"teams"`
		TotalCount int       `json:"totalCount"`
	}
	cliUpdateTeamRolesRequest struct {
		DagRoles         *[]astroapi.DagRole  `json:"dagRoles,omitempty"`
		DeploymentRoles  *[]cliDeploymentRole `json:"deploymentRoles,omitempty"`
		OrganizationRole string               `json:"organizationRole"`
		WorkspaceRoles   *[]cliWorkspaceRole  `json:"workspaceRoles,omitempty"`
	}
)

// astroCLI plays the Astro CLI against an emulator and records the
// request lines it sends.
type astroCLI struct {
	t    *testing.T
	srv  *Server
	base string

	mu    sync.Mutex
	lines []string
}

const cliPageLimit = 100 // userPaginationLimit, teamPaginationLimit

func newAstroCLI(t *testing.T, st *State) *astroCLI {
	t.Helper()
	cli := &astroCLI{t: t, srv: NewServer(st, Options{RateLimits: NoRateLimit})}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cli.mu.Lock()
		cli.lines = append(cli.lines, r.Method+" "+r.URL.RequestURI())
		cli.mu.Unlock()
		cli.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	cli.base = ts.URL + "/v1/organizations/" + org
	return cli
}

// send makes one request as the CLI's generated client does; it fails the
// test unless the answer is 200 (NormalizeAPIError).
func (cli *astroCLI) send(method, pathAndQuery string, in, out any) {
	cli.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			cli.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, cli.base+pathAndQuery, body)
	if err != nil {
		cli.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer astro-cli-token")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cli.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		cli.t.Fatalf("%s %s: %d %s", method, pathAndQuery, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		cli.t.Fatalf("%s %s: decode: %v: %s", method, pathAndQuery, err, raw)
	}
}

// pageQuery is the query of one page of a CLI list: the filter (key=value,
// or none when key is ""), limit and offset, encoded sorted by key.
func pageQuery(key, value string, offset int) string {
	q := url.Values{"limit": {fmt.Sprint(cliPageLimit)}, "offset": {fmt.Sprint(offset)}}
	if key != "" {
		q.Set(key, value)
	}
	return "?" + q.Encode()
}

// listUsers is the CLI's listUsers: pages of 100 until totalCount <= offset+limit.
func (cli *astroCLI) listUsers(deploymentID string) []cliUser {
	if deploymentID == "" {
		return cli.listUsersBy("", "")
	}
	return cli.listUsersBy("deploymentId", deploymentID)
}

// listUsersBy lists the users with filter key=value (none when key is "").
func (cli *astroCLI) listUsersBy(key, value string) []cliUser {
	var users []cliUser
	for offset := 0; ; offset += cliPageLimit {
		var page cliUsersPaginated
		cli.send(http.MethodGet, "/users"+pageQuery(key, value, offset), nil, &page)
		users = append(users, page.Users...)
		if page.TotalCount <= offset+cliPageLimit {
			return users
		}
	}
}

func (cli *astroCLI) listTeams(deploymentID string) []cliTeam {
	return cli.listTeamsBy("deploymentId", deploymentID)
}

// listTeamsBy lists the teams with filter key=value.
func (cli *astroCLI) listTeamsBy(key, value string) []cliTeam {
	var teams []cliTeam
	for offset := 0; ; offset += cliPageLimit {
		var page cliTeamsPaginated
		cli.send(http.MethodGet, "/teams"+pageQuery(key, value, offset), nil, &page)
		teams = append(teams, page.Teams...)
		if page.TotalCount <= offset+cliPageLimit {
			return teams
		}
	}
}

// upsertDeploymentRole is the CLI's: the entry for deploymentID replaced
// by role, or removed when role is "".
func upsertDeploymentRole(existing *[]cliDeploymentRole, deploymentID, role string) *[]cliDeploymentRole {
	out := []cliDeploymentRole{}
	if existing != nil {
		for _, r := range *existing {
			if r.DeploymentID != deploymentID {
				out = append(out, r)
			}
		}
	}
	if role != "" {
		out = append(out, cliDeploymentRole{DeploymentID: deploymentID, Role: role})
	}
	return &out
}

// deploymentUser runs `astro deployment user add|update|remove`: add finds
// the user among all organization users, update and remove among the
// deployment's; then a GET and a POST of organizationRole, workspaceRoles
// and the edited deploymentRoles, without dagRoles.
func (cli *astroCLI) deploymentUser(command, email, role, deploymentID string) {
	cli.t.Helper()
	filter := deploymentID
	if command == "add" {
		filter = ""
	}
	var id string
	for _, u := range cli.listUsers(filter) {
		if u.Username == strings.ToLower(email) {
			id = u.ID
		}
	}
	if id == "" {
		cli.t.Fatalf("astro deployment user %s: no user was found for the email you provided", command)
	}
	var current cliUser
	cli.send(http.MethodGet, "/users/"+id, nil, &current)
	if command == "remove" {
		role = ""
	}
	req := cliUpdateUserRolesRequest{
		OrganizationRole: current.OrganizationRole,
		WorkspaceRoles:   current.WorkspaceRoles,
		DeploymentRoles:  upsertDeploymentRole(current.DeploymentRoles, deploymentID, role),
	}
	var answer astroapi.SubjectRoles
	cli.send(http.MethodPost, "/users/"+id+"/roles", req, &answer)
}

// deploymentTeam runs `astro deployment team add|update|remove TEAM_ID`: a
// GET of the team and a POST of its organizationRole, workspaceRoles and
// the edited deploymentRoles, without dagRoles. (Without TEAM_ID the CLI
// first lists teams for an interactive picker.)
func (cli *astroCLI) deploymentTeam(command, teamID, role, deploymentID string) {
	cli.t.Helper()
	var team cliTeam
	cli.send(http.MethodGet, "/teams/"+teamID, nil, &team)
	if command == "remove" {
		role = ""
	}
	req := cliUpdateTeamRolesRequest{
		OrganizationRole: team.OrganizationRole,
		WorkspaceRoles:   team.WorkspaceRoles,
		DeploymentRoles:  upsertDeploymentRole(team.DeploymentRoles, deploymentID, role),
	}
	var answer astroapi.SubjectRoles
	cli.send(http.MethodPost, "/teams/"+team.ID+"/roles", req, &answer)
}

func (cli *astroCLI) wantLines(want ...string) {
	cli.t.Helper()
	for i := range want {
		want[i] = strings.Replace(want[i], " /", " /v1/organizations/"+org+"/", 1)
	}
	if diff := cmp.Diff(want, cli.lines); diff != "" {
		cli.t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func (cli *astroCLI) user(id string) User {
	for _, u := range cli.srv.State().Users {
		if u.ID == id {
			return u
		}
	}
	cli.t.Fatalf("no user %q", id)
	return User{}
}

func (cli *astroCLI) team(id string) Team {
	for _, t := range cli.srv.State().Teams {
		if t.ID == id {
			return t
		}
	}
	cli.t.Fatalf("no team %q", id)
	return Team{}
}

func wantRoleSet(t *testing.T, want, got RoleSet) {
	t.Helper()
	if diff := cmp.Diff(want.normalized(), got.normalized()); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
}

// TestAstroDeploymentUserAddDropsDagRolesInferred: `astro deployment user
// add ann@example.com --role DEPLOYMENT_VIEWER --deployment-id dep-b1`
// keeps Ann's organization, workspace and other deployment roles (the
// DEPLOYMENT_ACCESSOR her DAG role brought included), gains
// WORKSPACE_ACCESSOR on ws-b, and loses her DAG role, which the CLI does
// not send back (inferred).
func TestAstroDeploymentUserAddDropsDagRolesInferred(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.deploymentUser("add", "Ann@Example.com", "DEPLOYMENT_VIEWER", "dep-b1")
	cli.wantLines(
		"GET /users?limit=100&offset=0",
		"GET /users/usr-ann",
		"POST /users/usr-ann/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_MEMBER"}, {WorkspaceID: "ws-b", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles: []astroapi.DeploymentRole{
			{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}, {DeploymentID: "dep-a2", Role: astroapi.RoleDeploymentAccessor},
			{DeploymentID: "dep-b1", Role: "DEPLOYMENT_VIEWER"},
		},
	}, cli.user("usr-ann").RoleSet)
}

// TestAstroDeploymentUserAddPagesOfHundred: the CLI lists every
// organization user in pages of 100.
func TestAstroDeploymentUserAddPagesOfHundred(t *testing.T) {
	st := subjectState()
	for i := range 150 {
		st.Users = append(st.Users, User{ID: fmt.Sprintf("usr-%03d", i), Username: fmt.Sprintf("u%03d@example.com", i), Status: astroapi.UserActive,
			RoleSet: RoleSet{OrganizationRole: "ORGANIZATION_MEMBER"}})
	}
	cli := newAstroCLI(t, st)
	cli.deploymentUser("add", "u149@example.com", "DEPLOYMENT_ADMIN", "dep-a2")
	cli.wantLines(
		"GET /users?limit=100&offset=0",
		"GET /users?limit=100&offset=100",
		"GET /users/usr-149",
		"POST /users/usr-149/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a2", Role: "DEPLOYMENT_ADMIN"}},
	}, cli.user("usr-149").RoleSet)
}

// TestAstroDeploymentUserUpdate: `astro deployment user update
// bob@example.com --role DEPLOYMENT_ADMIN --deployment-id dep-b1` finds Bob
// among the deployment's users.
func TestAstroDeploymentUserUpdate(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.deploymentUser("update", "bob@example.com", "DEPLOYMENT_ADMIN", "dep-b1")
	cli.wantLines(
		"GET /users?deploymentId=dep-b1&limit=100&offset=0",
		"GET /users/usr-bob",
		"POST /users/usr-bob/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-b1", Role: "DEPLOYMENT_ADMIN"}},
	}, cli.user("usr-bob").RoleSet)
}

// TestAstroDeploymentUserRemoveKeepsWorkspaceAccessorInferred: `astro
// deployment user remove bob@example.com --deployment-id dep-b1` removes
// Bob's last deployment role; his WORKSPACE_ACCESSOR stays (inferred).
func TestAstroDeploymentUserRemoveKeepsWorkspaceAccessorInferred(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.deploymentUser("remove", "bob@example.com", "", "dep-b1")
	cli.wantLines(
		"GET /users?deploymentId=dep-b1&limit=100&offset=0",
		"GET /users/usr-bob",
		"POST /users/usr-bob/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: astroapi.RoleWorkspaceAccessor}},
	}, cli.user("usr-bob").RoleSet)
}

// TestAstroDeploymentUserList: `astro deployment user list --deployment-id
// dep-a1` prints FULLNAME, EMAIL, ID, DEPLOYMENT ROLE for each user.
func TestAstroDeploymentUserList(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	var rows []string
	for _, u := range cli.listUsers("dep-a1") {
		role := ""
		for _, r := range *u.DeploymentRoles {
			if r.DeploymentID == "dep-a1" {
				role = r.Role
			}
		}
		rows = append(rows, strings.Join([]string{u.FullName, u.Username, u.ID, role}, " | "))
	}
	cli.wantLines("GET /users?deploymentId=dep-a1&limit=100&offset=0")
	if diff := cmp.Diff([]string{"Ann Alpha | ann@example.com | usr-ann | DEPLOYMENT_ADMIN"}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// TestAstroDeploymentTeamAdd: `astro deployment team add team-idp --role
// DEPLOYMENT_ADMIN --deployment-id dep-a1`: the team has no workspace role,
// so the CLI leaves workspaceRoles out and Astro adds WORKSPACE_ACCESSOR.
func TestAstroDeploymentTeamAdd(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.deploymentTeam("add", "team-idp", "DEPLOYMENT_ADMIN", "dep-a1")
	cli.wantLines(
		"GET /teams/team-idp",
		"POST /teams/team-idp/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_OWNER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}},
	}, cli.team("team-idp").RoleSet)
	if got := cli.team("team-idp").MemberIDs; !cmp.Equal(got, []string{"usr-cat"}) {
		t.Errorf("members %v changed", got)
	}
}

// TestAstroDeploymentTeamUpdateDropsDagRolesInferred: `astro deployment
// team update team-de --role DEPLOYMENT_ADMIN --deployment-id dep-a2`
// drops the team's DAG role, which the CLI does not send (inferred), and
// keeps the DEPLOYMENT_ACCESSOR it brought, which the CLI sends back.
func TestAstroDeploymentTeamUpdateDropsDagRolesInferred(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.deploymentTeam("update", "team-de", "DEPLOYMENT_ADMIN", "dep-a2")
	cli.wantLines(
		"GET /teams/team-de",
		"POST /teams/team-de/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: astroapi.RoleDeploymentAccessor}, {DeploymentID: "dep-a2", Role: "DEPLOYMENT_ADMIN"}},
	}, cli.team("team-de").RoleSet)
}

// TestAstroDeploymentTeamRemove: `astro deployment team remove team-de
// --deployment-id dep-a2` leaves the team's other deployment role (the
// DEPLOYMENT_ACCESSOR its DAG role brought) and drops the DAG role.
func TestAstroDeploymentTeamRemove(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	cli.deploymentTeam("remove", "team-de", "", "dep-a2")
	cli.wantLines(
		"GET /teams/team-de",
		"POST /teams/team-de/roles",
	)
	wantRoleSet(t, RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: astroapi.RoleDeploymentAccessor}},
	}, cli.team("team-de").RoleSet)
}

// TestAstroDeploymentTeamList: `astro deployment team list --deployment-id
// dep-a2` prints ID, ROLE, NAME, DESCRIPTION for each team.
func TestAstroDeploymentTeamList(t *testing.T) {
	cli := newAstroCLI(t, subjectState())
	var rows []string
	for _, tm := range cli.listTeams("dep-a2") {
		role, desc := "", ""
		for _, r := range *tm.DeploymentRoles {
			if r.DeploymentID == "dep-a2" {
				role = r.Role
			}
		}
		if tm.Description != nil {
			desc = *tm.Description
		}
		rows = append(rows, strings.Join([]string{tm.ID, role, tm.Name, desc}, " | "))
	}
	cli.wantLines("GET /teams?deploymentId=dep-a2&limit=100&offset=0")
	if diff := cmp.Diff([]string{"team-de | DAG_DEPLOYER | data-engineering | ETL"}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
