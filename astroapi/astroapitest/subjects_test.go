package astroapitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
)

// subjectState is testState with users and teams:
//
//	usr-ann  ann@example.com  ACTIVE    ORGANIZATION_MEMBER; WORKSPACE_MEMBER on ws-a; DEPLOYMENT_ADMIN on dep-a1; DAG etl on dep-a2 (and DEPLOYMENT_ACCESSOR there)
//	usr-bob  bob@example.com  ACTIVE    ORGANIZATION_MEMBER; WORKSPACE_ACCESSOR on ws-b; DEPLOYMENT_VIEWER on dep-b1
//	usr-cat  cat@example.com  INACTIVE  ORGANIZATION_MEMBER
//	usr-dan  dan@example.com  PENDING   no role
//	team-de   data-engineering  ORGANIZATION_MEMBER; WORKSPACE_ACCESSOR on ws-a; DAG_DEPLOYER on dep-a2; tag finance on dep-a1 (and DEPLOYMENT_ACCESSOR there); ann, bob
//	team-idp  idp-admins (IdP)  ORGANIZATION_OWNER; cat
//	team-de2  data-engineering  ORGANIZATION_MEMBER; WORKSPACE_MEMBER on ws-b; no member
func subjectState() *State {
	st := testState()
	st.Users = []User{
		{ID: "usr-ann", Username: "ann@example.com", FullName: "Ann Alpha", Status: astroapi.UserActive, RoleSet: RoleSet{
			OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_MEMBER"}},
			DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: astroapi.RoleDeploymentAdmin}, {DeploymentID: "dep-a2", Role: astroapi.RoleDeploymentAccessor}},
			DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-a2", DagID: "etl", Role: "DAG_VIEWER"}},
		}},
		{ID: "usr-bob", Username: "bob@example.com", FullName: "Bob Beta", Status: astroapi.UserActive, RoleSet: RoleSet{
			OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: astroapi.RoleWorkspaceAccessor}},
			DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-b1", Role: "DEPLOYMENT_VIEWER"}},
		}},
		{ID: "usr-cat", Username: "cat@example.com", Status: astroapi.UserInactive, RoleSet: RoleSet{OrganizationRole: "ORGANIZATION_MEMBER"}},
		{ID: "usr-dan", Username: "dan@example.com", Status: astroapi.UserPending},
	}
	st.Teams = []Team{
		{ID: "team-de", Name: "data-engineering", Description: "ETL", RoleSet: RoleSet{
			OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: astroapi.RoleWorkspaceAccessor}},
			DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a2", Role: "DAG_DEPLOYER"}, {DeploymentID: "dep-a1", Role: astroapi.RoleDeploymentAccessor}},
			DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-a1", DagTag: "finance", Role: "DAG_AUTHOR"}},
		}, MemberIDs: []string{"usr-ann", "usr-bob"}},
		{ID: "team-idp", Name: "idp-admins", IsIdpManaged: true, RoleSet: RoleSet{OrganizationRole: "ORGANIZATION_OWNER"}, MemberIDs: []string{"usr-cat"}},
		{ID: "team-de2", Name: "data-engineering", RoleSet: RoleSet{
			OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: "WORKSPACE_MEMBER"}},
		}},
	}
	return st
}

type userPage struct {
	Users      []astroapi.User `json:"users"`
	TotalCount int             `json:"totalCount"`
	Offset     int             `json:"offset"`
	Limit      int             `json:"limit"`
}

type teamPage struct {
	Teams      []astroapi.Team `json:"teams"`
	TotalCount int             `json:"totalCount"`
	Offset     int             `json:"offset"`
	Limit      int             `json:"limit"`
}

type memberPage struct {
	TeamMembers []astroapi.TeamMember `json:"teamMembers"`
	TotalCount  int                   `json:"totalCount"`
	Offset      int                   `json:"offset"`
	Limit       int                   `json:"limit"`
}

func userIDs(us []astroapi.User) []string {
	ids := []string{}
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	return ids
}

func teamIDs(ts []astroapi.Team) []string {
	ids := []string{}
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

// TestUserFiltersHoldersInferred: ?deploymentId=D returns the users holding
// a deployment or DAG role on D, ?workspaceId=W those holding a workspace
// role on W (inferred, as for tokens); roles through a team do not count.
func TestUserFiltersHoldersInferred(t *testing.T) {
	_, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit})
	tests := []struct {
		query     string
		wantIDs   []string
		wantTotal int
		wantLimit int
	}{
		{"", []string{"usr-ann", "usr-bob", "usr-cat", "usr-dan"}, 4, 20},
		{"?deploymentId=dep-a1", []string{"usr-ann"}, 1, 20},
		{"?deploymentId=dep-a2", []string{"usr-ann"}, 1, 20}, // a DAG role only
		{"?deploymentId=dep-b1", []string{"usr-bob"}, 1, 20},
		{"?workspaceId=ws-b", []string{"usr-bob"}, 1, 20},
		{"?workspaceId=ws-a&deploymentId=dep-b1", []string{}, 0, 20},
		{"?dagId=etl", []string{"usr-ann"}, 1, 20},
		{"?dagId=etl&deploymentId=dep-a2", []string{"usr-ann"}, 1, 20},
		{"?dagId=etl&deploymentId=dep-a1", []string{}, 0, 20}, // etl is a DAG of dep-a2
		{"?dagId=finance", []string{}, 0, 20},                 // a tag is not a DAG id
		{"?dagTags=finance", []string{}, 0, 20},               // team-de's tag: roles through a team do not count
		{"?dagTags=nope&dagTags=etl", []string{}, 0, 20},      // a DAG id is not a tag
		{"?deploymentId=dep-nope", []string{}, 0, 20},
		{"?offset=1&limit=2", []string{"usr-bob", "usr-cat"}, 4, 2},
		{"?sorts=username:desc&limit=100", []string{"usr-dan", "usr-cat", "usr-bob", "usr-ann"}, 4, 100},
		{"?sorts=fullName:asc&sorts=username:asc", []string{"usr-cat", "usr-dan", "usr-ann", "usr-bob"}, 4, 20}, // no fullName first
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[userPage](t, base+"/organizations/"+org+"/users"+tt.query)
			if diff := cmp.Diff(tt.wantIDs, userIDs(got.Users)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if got.TotalCount != tt.wantTotal || got.Limit != tt.wantLimit {
				t.Errorf("totalCount %d, limit %d; want %d, %d", got.TotalCount, got.Limit, tt.wantTotal, tt.wantLimit)
			}
		})
	}
}

func TestTeamFiltersNamesRepeated(t *testing.T) {
	_, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit})
	tests := []struct {
		query   string
		wantIDs []string
	}{
		{"", []string{"team-de", "team-idp", "team-de2"}},
		{"?names=data-engineering", []string{"team-de", "team-de2"}},
		{"?names=idp-admins&names=nobody", []string{"team-idp"}},
		{"?names=Data-Engineering", []string{}},
		{"?deploymentId=dep-a2", []string{"team-de"}},
		{"?deploymentId=dep-a1", []string{"team-de"}}, // a DAG role only
		{"?workspaceId=ws-b", []string{"team-de2"}},
		{"?names=data-engineering&workspaceId=ws-a", []string{"team-de"}},
		{"?sorts=name:desc&sorts=createdAt:asc", []string{"team-idp", "team-de", "team-de2"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[teamPage](t, base+"/organizations/"+org+"/teams"+tt.query)
			if diff := cmp.Diff(tt.wantIDs, teamIDs(got.Teams)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsersAndTeamsListsValidateQueryLikeTokens(t *testing.T) {
	_, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	tests := []struct {
		url        string
		wantFields []string
	}{
		{o + "/users?limit=0", []string{"limit min"}},
		{o + "/users?limit=1001", []string{"limit max"}},
		{o + "/users?offset=-1", []string{"offset min"}},
		{o + "/users?dagTag=etl", []string{"dagTag unknown"}},
		{o + "/users?dagId=a&dagId=b", []string{"dagId single"}},
		{o + "/users?dagTags=", []string{"dagTags required"}},
		{o + "/teams?dagId=etl", []string{"dagId unknown"}},
		{o + "/users?deploymentId=a&deploymentId=b", []string{"deploymentId single"}},
		{o + "/users?sorts=name:asc", []string{"sorts oneof"}},
		{o + "/teams?limit=x", []string{"limit integer"}},
		{o + "/teams?names=", []string{"names required"}},
		{o + "/teams/team-de/members?limit=1001", []string{"limit max"}},
		{o + "/teams/team-de?x=1", []string{"x unknown"}},
		{o + "/users/usr-ann?x=1", []string{"x unknown"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.url, o), func(t *testing.T) {
			resp, raw := fetch(t, http.MethodGet, tt.url, bearer, "")
			body := wantError(t, resp, raw, http.StatusBadRequest)
			if diff := cmp.Diff(tt.wantFields, fieldsOf(body.FieldErrors)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserAndTeamJSONShape(t *testing.T) {
	_, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	resp, raw := fetch(t, http.MethodGet, o+"/users/usr-ann", bearer, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET user: %d %s", resp.StatusCode, raw)
	}
	var u map[string]any
	if err := json.Unmarshal(raw, &u); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "username", "fullName", "avatarUrl", "status", "organizationRole", "workspaceRoles", "deploymentRoles", "dagRoles", "createdAt", "updatedAt"} {
		if _, ok := u[k]; !ok {
			t.Errorf("user has no %q: %s", k, raw)
		}
	}
	if len(u) != 11 {
		t.Errorf("user has %d fields, want 11: %s", len(u), raw)
	}
	user := get[astroapi.User](t, o+"/users/usr-ann")
	want := subjectState().Users[0]
	if diff := cmp.Diff(want.DagRoles, user.DagRoles); diff != "" {
		t.Errorf("dagRoles (-want +got):\n%s", diff)
	}

	team := get[astroapi.Team](t, o+"/teams/team-idp")
	if !team.IsIdpManaged || team.OrganizationRole != "ORGANIZATION_OWNER" || team.OrganizationID != org || team.RolesCount != 1 || team.CreatedBy == nil {
		t.Errorf("team %+v: want IdP-managed, ORGANIZATION_OWNER, organizationId, rolesCount 1, createdBy", team)
	}
	de := get[astroapi.Team](t, o+"/teams/team-de")
	if de.RolesCount != 5 || len(de.DagRoles) != 1 || de.DagRoles[0].DagTag != "finance" {
		t.Errorf("team-de %+v: want rolesCount 5 and its dagTag role", de)
	}

	for _, path := range []string{"/users/usr-nope", "/teams/team-nope", "/teams/team-nope/members", "/users/usr-nope/roles", "/teams/team-nope/roles"} {
		method := http.MethodGet
		body := ""
		if strings.HasSuffix(path, "/roles") {
			method, body = http.MethodPost, `{"organizationRole":"ORGANIZATION_MEMBER"}`
		}
		resp, raw := fetch(t, method, o+path, bearer, body)
		wantError(t, resp, raw, http.StatusNotFound)
	}
}

func TestTeamMembersPaged(t *testing.T) {
	_, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit, MaxPageSize: 1})
	url := base + "/organizations/" + org + "/teams/team-de/members"
	first := get[memberPage](t, url)
	second := get[memberPage](t, url+"?offset=1")
	if first.TotalCount != 2 || len(first.TeamMembers) != 1 || len(second.TeamMembers) != 1 {
		t.Fatalf("pages %+v %+v: want 2 members, one per page", first, second)
	}
	got := []string{first.TeamMembers[0].Username, second.TeamMembers[0].Username}
	if diff := cmp.Diff([]string{"ann@example.com", "bob@example.com"}, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if m := first.TeamMembers[0]; m.UserID != "usr-ann" || m.FullName != "Ann Alpha" || m.CreatedAt == nil {
		t.Errorf("member %+v: want userId, fullName and createdAt", m)
	}
	empty := get[memberPage](t, base+"/organizations/"+org+"/teams/team-de2/members")
	if empty.TotalCount != 0 || empty.TeamMembers == nil || len(empty.TeamMembers) != 0 {
		t.Errorf("members of an empty team %+v: want [] and 0", empty)
	}
}

func roleSetBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPostSubjectRolesReplacesWholeSetOmittedDagRolesMeanNoneInferred: a
// POST replaces the organization role, workspace, deployment and DAG
// roles; a dagRoles left out means none (inferred).
func TestPostSubjectRolesReplacesWholeSetOmittedDagRolesMeanNoneInferred(t *testing.T) {
	srv, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	before := get[astroapi.User](t, o+"/users/usr-ann")

	body := `{"organizationRole":"organization_owner","workspaceRoles":[{"workspaceId":"ws-a","role":"WORKSPACE_AUTHOR"}],"deploymentRoles":[{"deploymentId":"dep-a2","role":"DAG_DEPLOYER"}]}`
	resp, raw := fetch(t, http.MethodPost, o+"/users/usr-ann/roles", bearer, body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %d %s", resp.StatusCode, raw)
	}
	want := astroapi.SubjectRoles{
		OrganizationRole: "ORGANIZATION_OWNER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_AUTHOR"}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a2", Role: "DAG_DEPLOYER"}},
	}
	if diff := cmp.Diff(want, decode[astroapi.SubjectRoles](t, raw)); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	after := get[astroapi.User](t, o+"/users/usr-ann")
	got := astroapi.SubjectRoles{OrganizationRole: after.OrganizationRole, WorkspaceRoles: after.WorkspaceRoles, DeploymentRoles: after.DeploymentRoles, DagRoles: after.DagRoles}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("user after POST (-want +got):\n%s", diff)
	}
	if !after.UpdatedAt.After(before.UpdatedAt) || !after.CreatedAt.Equal(before.CreatedAt) {
		t.Errorf("updatedAt %v -> %v: want later, createdAt kept", before.UpdatedAt, after.UpdatedAt)
	}

	// A team: everything replaced, dagRoles sent are kept, with the
	// accessors they need.
	tbody := `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[],"deploymentRoles":[],"dagRoles":[{"deploymentId":"dep-b1","dagTag":"ops","role":"dag_viewer"}]}`
	resp, raw = fetch(t, http.MethodPost, o+"/teams/team-de/roles", bearer, tbody)
	if resp.StatusCode != 200 {
		t.Fatalf("POST team: %d %s", resp.StatusCode, raw)
	}
	team := get[astroapi.Team](t, o+"/teams/team-de")
	wantTeam := astroapi.SubjectRoles{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-b1", Role: astroapi.RoleDeploymentAccessor}},
		DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-b1", DagTag: "ops", Role: "DAG_VIEWER"}},
	}
	gotTeam := astroapi.SubjectRoles{OrganizationRole: team.OrganizationRole, WorkspaceRoles: team.WorkspaceRoles, DeploymentRoles: team.DeploymentRoles, DagRoles: team.DagRoles}
	if diff := cmp.Diff(wantTeam, gotTeam); diff != "" {
		t.Errorf("team after POST (-want +got):\n%s", diff)
	}
	if team.UpdatedBy == nil || team.UpdatedBy.SubjectType != "SERVICEKEY" {
		t.Errorf("updatedBy %+v, want the API token that wrote", team.UpdatedBy)
	}
	st := srv.Stats()
	if !cmp.Equal(st.UserRoleWrites, map[string]int{"usr-ann": 1}) || !cmp.Equal(st.TeamRoleWrites, map[string]int{"team-de": 1}) {
		t.Errorf("writes: users %v, teams %v", st.UserRoleWrites, st.TeamRoleWrites)
	}
	for _, route := range []string{
		"POST /organizations/{organizationId}/users/{userId}/roles",
		"POST /organizations/{organizationId}/teams/{teamId}/roles",
		"GET /organizations/{organizationId}/users/{userId}",
		"GET /organizations/{organizationId}/teams/{teamId}",
	} {
		if st.Requests[route] == 0 {
			t.Errorf("stats count no %q: %v", route, st.Requests)
		}
	}
}

// TestDeploymentRoleAddsWorkspaceAccessorRemovalKeepsItInferred: a
// deployment role in a workspace where the subject has no workspace role
// adds WORKSPACE_ACCESSOR there (Astronomer's docs); removing the last
// deployment role leaves it (inferred); a workspace role already there is
// left alone.
func TestDeploymentRoleAddsWorkspaceAccessorRemovalKeepsItInferred(t *testing.T) {
	tests := []struct {
		name, path, body string
		wantWS           []astroapi.WorkspaceRole
	}{
		{
			name:   "user gains a deployment role",
			path:   "/users/usr-cat/roles",
			body:   `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-b1","role":"DEPLOYMENT_ADMIN"},{"deploymentId":"dep-a1","role":"DEPLOYMENT_ADMIN"},{"deploymentId":"dep-a2","role":"DEPLOYMENT_VIEWER"}]}`,
			wantWS: []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: "WORKSPACE_ACCESSOR"}, {WorkspaceID: "ws-a", Role: "WORKSPACE_ACCESSOR"}},
		},
		{
			name:   "team gains a deployment role",
			path:   "/teams/team-idp/roles",
			body:   `{"organizationRole":"ORGANIZATION_OWNER","deploymentRoles":[{"deploymentId":"dep-a2","role":"DEPLOYMENT_ADMIN"}]}`,
			wantWS: []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_ACCESSOR"}},
		},
		{
			name:   "a workspace role already there is kept as is",
			path:   "/users/usr-cat/roles",
			body:   `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-b","role":"WORKSPACE_OPERATOR"}],"deploymentRoles":[{"deploymentId":"dep-b1","role":"DEPLOYMENT_ADMIN"}]}`,
			wantWS: []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: "WORKSPACE_OPERATOR"}},
		},
		{
			name:   "removing the last deployment role keeps the accessor",
			path:   "/users/usr-bob/roles",
			body:   `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-b","role":"WORKSPACE_ACCESSOR"}],"deploymentRoles":[]}`,
			wantWS: []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: "WORKSPACE_ACCESSOR"}},
		},
		{
			name:   "a DAG role adds the workspace accessor through its deployment accessor (inferred)",
			path:   "/users/usr-cat/roles",
			body:   `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-b1","dagId":"x","role":"DAG_AUTHOR"}]}`,
			wantWS: []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: "WORKSPACE_ACCESSOR"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit})
			resp, raw := fetch(t, http.MethodPost, base+"/organizations/"+org+tt.path, bearer, tt.body)
			if resp.StatusCode != 200 {
				t.Fatalf("POST: %d %s", resp.StatusCode, raw)
			}
			answer := decode[astroapi.SubjectRoles](t, raw)
			if diff := cmp.Diff(tt.wantWS, answer.WorkspaceRoles, cmpEmpty); diff != "" {
				t.Errorf("answer's workspaceRoles (-want +got):\n%s", diff)
			}
			st := srv.State()
			id := strings.Split(tt.path, "/")[2]
			var got []astroapi.WorkspaceRole
			for _, u := range st.Users {
				if u.ID == id {
					got = u.WorkspaceRoles
				}
			}
			for _, tm := range st.Teams {
				if tm.ID == id {
					got = tm.WorkspaceRoles
				}
			}
			if diff := cmp.Diff(tt.wantWS, got, cmpEmpty); diff != "" {
				t.Errorf("stored workspaceRoles (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []astroapi.WorkspaceRole) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return cmp.Equal(a, b)
})

// TestPostSubjectRoles400 checks every rejection of POST /users/{id}/roles
// and /teams/{id}/roles: nothing is written.
func TestPostSubjectRoles400(t *testing.T) {
	tests := []struct {
		name, path, body string
		wantFields       []string
	}{
		{"team without organization role", "/teams/team-de/roles", `{"workspaceRoles":[]}`, []string{"organizationRole required"}},
		{"user deployment roles without organization role", "/users/usr-dan/roles", `{"deploymentRoles":[{"deploymentId":"dep-a1","role":"DEPLOYMENT_ADMIN"}]}`, []string{"organizationRole required"}},
		{"user workspace roles without organization role", "/users/usr-dan/roles", `{"workspaceRoles":[{"workspaceId":"ws-a","role":"WORKSPACE_MEMBER"}]}`, []string{"organizationRole required"}},
		{"organization role that is a workspace role", "/users/usr-ann/roles", `{"organizationRole":"WORKSPACE_OWNER"}`, []string{"organizationRole role_entity"}},
		{"unknown organization role", "/teams/team-de/roles", `{"organizationRole":"ORG_ADMIN"}`, []string{"organizationRole not_found"}},
		{"unknown workspace", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-x","role":"WORKSPACE_MEMBER"}]}`, []string{"workspaceRoles[0].workspaceId not_found"}},
		{"missing workspace id", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"role":"WORKSPACE_MEMBER"}]}`, []string{"workspaceRoles[0].workspaceId required"}},
		{"deployment role on a workspace", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-a","role":"DEPLOYMENT_ADMIN"}]}`, []string{"workspaceRoles[0].role role_entity"}},
		{"duplicate workspace", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-a","role":"WORKSPACE_MEMBER"},{"workspaceId":"ws-a","role":"WORKSPACE_OWNER"}]}`, []string{"workspaceRoles[1] duplicate"}},
		{"unknown deployment", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-x","role":"DEPLOYMENT_ADMIN"}]}`, []string{"deploymentRoles[0].deploymentId not_found"}},
		{"workspace role on a deployment", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-a1","role":"WORKSPACE_OWNER"}]}`, []string{"deploymentRoles[0].role role_entity"}},
		{"a field name in another case", "/users/usr-ann/roles", `{"OrganizationRole":"ORGANIZATION_OWNER"}`, []string{"OrganizationRole unknown"}},
		{"a nested field name in another case", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceID":"ws-a","role":"WORKSPACE_MEMBER"}]}`, []string{"workspaceID unknown"}},
		{"custom workspace role on a deployment", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-a1","role":"WORKSPACE_AUDITOR"}]}`, []string{"deploymentRoles[0].role role_entity"}},
		{"unknown custom role", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-a1","role":"DEPLOYMENT_ADMN"}]}`, []string{"deploymentRoles[0].role not_found"}},
		{"custom role restricted to another workspace", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-b1","role":"DAG_DEPLOYER"}]}`, []string{"deploymentRoles[0].role restricted"}},
		{"custom role names are case-sensitive", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-a1","role":"dag_deployer"}]}`, []string{"deploymentRoles[0].role not_found"}},
		{"duplicate deployment", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-a1","role":"DEPLOYMENT_ADMIN"},{"deploymentId":"dep-a1","role":"DEPLOYMENT_VIEWER"}]}`, []string{"deploymentRoles[1] duplicate"}},
		{"DAG role with dagId and dagTag", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-a1","dagId":"a","dagTag":"b","role":"DAG_VIEWER"}]}`, []string{"dagRoles[0] one_of"}},
		{"DAG role with neither", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-a1","role":"DAG_VIEWER"}]}`, []string{"dagRoles[0] one_of"}},
		{"DAG role without deployment", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"dagId":"a","role":"DAG_VIEWER"}]}`, []string{"dagRoles[0].deploymentId required"}},
		{"DAG role on an unknown deployment", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-x","dagId":"a","role":"DAG_VIEWER"}]}`, []string{"dagRoles[0].deploymentId not_found"}},
		{"deployment role as a DAG role", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-a1","dagId":"a","role":"DEPLOYMENT_ADMIN"}]}`, []string{"dagRoles[0].role role_entity"}},
		{"unknown DAG role", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-a1","dagId":"a","role":"DAG_RUNNR"}]}`, []string{"dagRoles[0].role not_found"}},
		{"custom DEPLOYMENT role as a DAG role", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-a1","dagTag":"t","role":"DEPLOYMENT_VIEWER"}]}`, []string{"dagRoles[0].role role_entity"}},
		{"custom DAG role as a deployment role", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-a1","role":"DAG_RUNNER"}]}`, []string{"deploymentRoles[0].role role_entity"}},
		{"DAG role as a deployment role", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-a1","role":"DAG_VIEWER"}]}`, []string{"deploymentRoles[0].role role_entity"}},
		{"DAG role as an organization role", "/teams/team-de/roles", `{"organizationRole":"DAG_AUTHOR"}`, []string{"organizationRole role_entity"}},
		{"DEPLOYMENT_ACCESSOR as a workspace role", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-a","role":"DEPLOYMENT_ACCESSOR"}]}`, []string{"workspaceRoles[0].role role_entity"}},
		{"custom DAG role restricted to another workspace", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-b1","dagId":"a","role":"DAG_RUNNER"}]}`, []string{"dagRoles[0].role restricted"}},
		{"user DAG roles without organization role", "/users/usr-dan/roles", `{"dagRoles":[{"deploymentId":"dep-a1","dagId":"a","role":"DAG_VIEWER"}]}`, []string{"organizationRole required"}},
		{"duplicate DAG", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-a1","dagId":"a","role":"DAG_VIEWER"},{"deploymentId":"dep-a1","dagId":"a","role":"DAG_AUTHOR"}]}`, []string{"dagRoles[1] duplicate"}},
		{"every error at once", "/teams/team-de/roles", `{"workspaceRoles":[{"workspaceId":"ws-x","role":"WORKSPACE_MEMBER"}],"deploymentRoles":[{"deploymentId":"dep-a1"}]}`,
			[]string{"organizationRole required", "workspaceRoles[0].workspaceId not_found", "deploymentRoles[0].role required"}},
		{"unknown field", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","roles":[]}`, []string{"body invalid_json"}},
		{"unknown field in an entry", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-a","role":"WORKSPACE_MEMBER","entityType":"WORKSPACE"}]}`, []string{"body invalid_json"}},
		{"list of the wrong type", "/users/usr-ann/roles", `{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":{}}`, []string{"deploymentRoles type"}},
		{"empty body", "/users/usr-ann/roles", ``, []string{"body required"}},
		{"null body", "/users/usr-ann/roles", `null`, []string{"body type"}},
		{"array body", "/teams/team-de/roles", `[]`, []string{"body type"}},
		{"data after the object", "/teams/team-de/roles", `{"organizationRole":"ORGANIZATION_MEMBER"} {}`, []string{"body invalid_json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit})
			resp, raw := fetch(t, http.MethodPost, base+"/organizations/"+org+tt.path, bearer, tt.body)
			body := wantError(t, resp, raw, http.StatusBadRequest)
			if diff := cmp.Diff(tt.wantFields, fieldsOf(body.FieldErrors)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s\n%s", diff, raw)
			}
			if diff := cmp.Diff(subjectState().normalized(), srv.State().normalized()); diff != "" {
				t.Errorf("state changed by a refused POST (-want +got):\n%s", diff)
			}
			if st := srv.Stats(); len(st.UserRoleWrites)+len(st.TeamRoleWrites) != 0 {
				t.Errorf("refused POST counted as a write: %+v", st)
			}
		})
	}
}

func TestUsersAndTeamsAuth(t *testing.T) {
	st := subjectState()
	st.Credentials = []Credential{
		{Secret: "full"},
		{Secret: "ro", ReadOnly: true},
		{Secret: "ws-b-only", WorkspaceIDs: []string{"ws-b"}},
	}
	_, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	okBody := `{"organizationRole":"ORGANIZATION_MEMBER"}`
	tests := []struct {
		name, auth, method, path, body string
		status                         int
	}{
		{"no credential list", "", "GET", "/users", "", 401},
		{"no credential post", "", "POST", "/teams/team-idp/roles", okBody, 401},
		{"unknown secret", "Bearer nope", "GET", "/teams", "", 401},
		{"read-only may read", "Bearer ro", "GET", "/users/usr-ann", "", 200},
		{"read-only may not write a user", "Bearer ro", "POST", "/users/usr-cat/roles", okBody, 403},
		{"read-only may not write a team", "Bearer ro", "POST", "/teams/team-de2/roles", okBody, 403},
		{"confined: org-wide users list", "Bearer ws-b-only", "GET", "/users", "", 403},
		{"confined: teams by name only", "Bearer ws-b-only", "GET", "/teams?names=data-engineering", "", 403},
		{"confined: users of its workspace", "Bearer ws-b-only", "GET", "/users?workspaceId=ws-b", "", 200},
		{"confined: users of another workspace", "Bearer ws-b-only", "GET", "/users?workspaceId=ws-a", "", 403},
		{"confined: teams of its deployment", "Bearer ws-b-only", "GET", "/teams?deploymentId=dep-b1", "", 200},
		{"confined: a user with a role in its workspace", "Bearer ws-b-only", "GET", "/users/usr-bob", "", 200},
		{"confined: a user without", "Bearer ws-b-only", "GET", "/users/usr-ann", "", 403},
		{"confined: members of a team without", "Bearer ws-b-only", "GET", "/teams/team-de/members", "", 403},
		{"confined: writes refused (inferred)", "Bearer ws-b-only", "POST", "/users/usr-bob/roles", `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-b","role":"WORKSPACE_MEMBER"}]}`, 403},
		{"full credential writes", "Bearer full", "POST", "/teams/team-de2/roles", okBody, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw := fetch(t, tt.method, o+tt.path, tt.auth, tt.body)
			if tt.status == 200 {
				if resp.StatusCode != 200 {
					t.Fatalf("status %d, want 200: %s", resp.StatusCode, raw)
				}
				return
			}
			wantError(t, resp, raw, tt.status)
		})
	}
}

// TestUsersAndTeamsShareRateLimitBucketsWithTokens: one bucket per
// credential and method, whatever the route.
func TestUsersAndTeamsShareRateLimitBucketsWithTokens(t *testing.T) {
	_, base := NewTestServer(t, subjectState(), Options{RateLimits: Limits{GET: 1, POST: 1, DELETE: -1}})
	o := base + "/organizations/" + org
	steps := []struct{ method, path, body string }{
		{"GET", "/tokens", ""},
		{"GET", "/users", ""},
		{"GET", "/teams/team-de/members", ""},
		{"POST", "/tokens/tok-ws-b/roles", rolesBody(wsRole("ws-b", "WORKSPACE_MEMBER"))},
		{"POST", "/users/usr-cat/roles", `{"organizationRole":"ORGANIZATION_MEMBER"}`},
		{"POST", "/teams/team-idp/roles", `{"organizationRole":"ORGANIZATION_OWNER"}`},
	}
	var got []int
	for _, s := range steps {
		resp, _ := fetch(t, s.method, o+s.path, bearer, s.body)
		got = append(got, resp.StatusCode)
	}
	if diff := cmp.Diff([]int{200, 429, 429, 200, 429, 429}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	// Another credential has its own buckets.
	resp, raw := fetch(t, http.MethodGet, o+"/users", "Bearer other", "")
	if resp.StatusCode != 200 {
		t.Errorf("other credential: %d %s", resp.StatusCode, raw)
	}
}

func TestFaultsApplyToUsersAndTeams(t *testing.T) {
	srv, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit, FaultRate: 1, FaultSeed: 7})
	o := base + "/organizations/" + org
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, path := range []string{"/users", "/users/usr-ann", "/teams", "/teams/team-de", "/teams/team-de/members"} {
		for range 5 {
			req, err := http.NewRequest(http.MethodGet, o+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", bearer)
			resp, err := hc.Do(req)
			if err != nil {
				continue // a dropped connection
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Errorf("GET %s: 200 with FaultRate 1", path)
			}
		}
	}
	if st := srv.Stats(); st.Statuses[200] != 0 {
		t.Errorf("statuses %v: want only faults", st.Statuses)
	}
}

func TestServerSetUserAndTeamRolesValidate(t *testing.T) {
	srv, _ := NewTestServer(t, subjectState(), Options{})
	if err := srv.SetUserRoles("usr-cat", astroapi.UpdateUserRolesRequest{
		OrganizationRole: "ORGANIZATION_MEMBER",
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}},
	}); err != nil {
		t.Fatal(err)
	}
	cat := srv.State().Users[2]
	want := []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: astroapi.RoleWorkspaceAccessor}}
	if diff := cmp.Diff(want, cat.WorkspaceRoles); diff != "" {
		t.Errorf("workspace roles (-want +got):\n%s", diff)
	}
	err := srv.SetTeamRoles("team-de", astroapi.UpdateTeamRolesRequest{})
	if err == nil || !strings.Contains(err.Error(), `set roles of team "team-de": organizationRole: organizationRole is required`) {
		t.Errorf("error %v, want the missing organization role", err)
	}
	if err := srv.SetUserRoles("usr-nope", astroapi.UpdateUserRolesRequest{}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("error %v, want not found", err)
	}
	if st := srv.Stats(); len(st.UserRoleWrites) != 0 {
		t.Errorf("SetUserRoles counted in stats: %v", st.UserRoleWrites)
	}
}
