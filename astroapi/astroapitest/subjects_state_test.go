package astroapitest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
)

const subjectsYAML = `organization: {id: o, name: O}
workspaces: [{id: w, name: a}, {id: v, name: b}]
deployments: [{id: d, name: x, workspaceId: w}]
roles: [{name: R, scopeType: DEPLOYMENT, restrictedWorkspaceIds: [w]}]
users:
  - id: u1
    username: ann@example.com
    fullName: Ann
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: w, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: d, role: R}]
    dagRoles: [{deploymentId: d, dagId: etl, role: DAG_AUTHOR}]
    createdAt: 2024-05-01T12:00:00Z
  - {id: u2, username: bob@example.com, status: BANNED}
teams:
  - id: t1
    name: data-engineering
    isIdpManaged: true
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: w, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: d, role: DEPLOYMENT_ACCESSOR}]
    dagRoles: [{deploymentId: d, dagTag: finance, role: DAG_VIEWER}]
    memberIds: [u1, u2]
`

func TestParseStateUsersAndTeams(t *testing.T) {
	got, err := ParseState("s.yaml", []byte(subjectsYAML))
	if err != nil {
		t.Fatal(err)
	}
	wantUsers := []User{
		{ID: "u1", Username: "ann@example.com", FullName: "Ann", Status: "ACTIVE", RoleSet: RoleSet{
			OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "w", Role: "WORKSPACE_ACCESSOR"}},
			DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "d", Role: "R"}},
			DagRoles:         []astroapi.DagRole{{DeploymentID: "d", DagID: "etl", Role: "DAG_AUTHOR"}},
		}, CreatedAt: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{ID: "u2", Username: "bob@example.com", Status: "BANNED", RoleSet: RoleSet{
			WorkspaceRoles: []astroapi.WorkspaceRole{}, DeploymentRoles: []astroapi.DeploymentRole{}, DagRoles: []astroapi.DagRole{},
		}},
	}
	wantTeams := []Team{
		{ID: "t1", Name: "data-engineering", IsIdpManaged: true, RoleSet: RoleSet{
			OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "w", Role: "WORKSPACE_ACCESSOR"}},
			DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "d", Role: "DEPLOYMENT_ACCESSOR"}},
			DagRoles:         []astroapi.DagRole{{DeploymentID: "d", DagTag: "finance", Role: "DAG_VIEWER"}},
		}, MemberIDs: []string{"u1", "u2"}},
	}
	if diff := cmp.Diff(wantUsers, got.Users); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantTeams, got.Teams); diff != "" {
		t.Errorf("teams (-want +got):\n%s", diff)
	}

	// The admin endpoint answers the same state, which parses back equal.
	_, base := NewTestServer(t, got, Options{RateLimits: NoRateLimit})
	wantRoundTrip(t, base, got)
}

// wantRoundTrip checks that GET /_emulator/state of the emulator at base
// answers a state that parses back equal to want, and returns its JSON.
func wantRoundTrip(t *testing.T, base string, want *State) []byte {
	t.Helper()
	resp, raw := fetch(t, http.MethodGet, strings.TrimSuffix(base, "/v1")+"/_emulator/state", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_emulator/state: %d %s", resp.StatusCode, raw)
	}
	back, err := ParseState("state.json", raw)
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	return raw
}

// TestParseStateUsersAndTeamsErrors: users and teams are checked as
// strictly as tokens, every problem at its position.
func TestParseStateUsersAndTeamsErrors(t *testing.T) {
	head := `organization: {id: o, name: O}
workspaces: [{id: w, name: a}, {id: v, name: b}]
deployments: [{id: d, name: x, workspaceId: w}]
roles: [{name: R, scopeType: DEPLOYMENT, restrictedWorkspaceIds: [v]}]
`
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "unknown keys and wrong kinds",
			yaml: head + `users:
  - {id: u, username: a@x, status: ACTIVE, email: a@x}
teams:
  - {id: t, name: n, organizationRole: ORGANIZATION_MEMBER, memberIds: u, isIdpManaged: "no"}
`,
			want: []string{
				`s.yaml:6:44: user: unknown key "email" (want one of createdAt, dagRoles, deploymentRoles, fullName, id, organizationRole, status, updatedAt, username, workspaceRoles)`,
				`s.yaml:8:72: team memberIds: want a list, found "u"`,
				`s.yaml:8:89: team isIdpManaged: want true or false, found "no"`,
			},
		},
		{
			name: "ids, usernames, statuses and members",
			yaml: head + `users:
  - {id: u, username: Ann@X.com, status: ACTIVE}
  - {id: u, username: ann@x.com, status: active}
  - {id: "", username: "", status: GONE}
teams:
  - {id: t, name: "", organizationRole: ORGANIZATION_MEMBER, memberIds: [u, u, nobody]}
  - {id: t, name: m}
`,
			want: []string{
				`s.yaml:7:10: duplicate user id "u"`,
				`s.yaml:7:23: user "u": username "ann@x.com" is already the username of user "u"`,
				`s.yaml:7:42: user "u": status "active" is not one of ACTIVE, INACTIVE, PENDING, BANNED`,
				`s.yaml:8:10: user id is required`,
				`s.yaml:8:24: user "": username is required`,
				`s.yaml:8:36: user "": status "GONE" is not one of ACTIVE, INACTIVE, PENDING, BANNED`,
				`s.yaml:10:19: team "t": name is required`,
				`s.yaml:10:77: team "t": user "u" is listed twice`,
				`s.yaml:10:80: team "t": unknown user "nobody"`,
				`s.yaml:11:5: team "t": organizationRole is required`,
				`s.yaml:11:10: duplicate team id "t"`,
			},
		},
		{
			name: "roles",
			yaml: head + `users:
  - id: u
    username: a@x
    status: ACTIVE
    workspaceRoles: [{workspaceId: nowhere, role: WORKSPACE_MEMBER}]
    deploymentRoles: [{deploymentId: d, role: R}]
    dagRoles: [{deploymentId: d, dagId: a, dagTag: b, role: DAG_VIEWER}, {deploymentId: d, dagId: c, role: dag_viewer}]
teams:
  - id: t
    name: n
    organizationRole: organization_member
    deploymentRoles: [{deploymentId: d, role: DEPLOYMENT_ADMIN}, {deploymentId: gone, role: DEPLOYMENT_ADMIN}]
`,
			want: []string{
				`s.yaml:6:5: user "u": deploymentRoles requires also specifying an organizationRole`,
				`s.yaml:9:36: user "u": unknown workspace "nowhere"`,
				`s.yaml:10:23: user "u": deployment "d" is in workspace "w", where the user holds no workspace role: Astro adds {workspaceId: w, role: WORKSPACE_ACCESSOR} on its own, so the state must list it`,
				`s.yaml:10:47: user "u": custom role "R" is restricted to workspaces v and cannot be granted in workspace "w"`,
				`s.yaml:11:16: user "u": only one of dagId and dagTag may be set`,
				`s.yaml:11:108: user "u": built-in role "dag_viewer" must be written "DAG_VIEWER", as the API stores it`,
				`s.yaml:15:23: team "t": built-in role "organization_member" must be written "ORGANIZATION_MEMBER", as the API stores it`,
				`s.yaml:16:23: team "t": deployment "d" is in workspace "w", where the team holds no workspace role: Astro adds {workspaceId: w, role: WORKSPACE_ACCESSOR} on its own, so the state must list it`,
				`s.yaml:16:81: team "t": unknown deployment "gone"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := ParseState("s.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("ParseState = %+v, want errors", st)
			}
			got := strings.Split(err.Error(), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExampleOrgUsersAndTeams checks that examples/org.yaml has the users
// and teams the docs and tests rely on.
func TestExampleOrgUsersAndTeams(t *testing.T) {
	st, err := LoadState("../../examples/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const analyticsProd = "clvduhrvd000008l842ohcpvb"
	var inactive, withDag, onAnalyticsProd, idpTeams int
	for _, u := range st.Users {
		if u.Status == astroapi.UserInactive {
			inactive++
		}
		if len(u.DagRoles) > 0 {
			withDag++
		}
		for _, d := range u.DeploymentRoles {
			if d.DeploymentID == analyticsProd {
				onAnalyticsProd++
			}
		}
	}
	for _, tm := range st.Teams {
		if tm.IsIdpManaged {
			idpTeams++
		}
	}
	if inactive == 0 || withDag == 0 || onAnalyticsProd == 0 || idpTeams == 0 {
		t.Errorf("inactive users %d, users with DAG roles %d, users on analytics-prod %d, IdP teams %d: want at least one of each",
			inactive, withDag, onAnalyticsProd, idpTeams)
	}
}
