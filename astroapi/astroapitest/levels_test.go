package astroapitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tokensync/tokensync/astroapi"
)

// subjectRolesOf reads the role set the API answers for a user or team.
func subjectRolesOf(t *testing.T, url string) astroapi.SubjectRoles {
	t.Helper()
	var v struct {
		OrganizationRole string                    `json:"organizationRole"`
		WorkspaceRoles   []astroapi.WorkspaceRole  `json:"workspaceRoles"`
		DeploymentRoles  []astroapi.DeploymentRole `json:"deploymentRoles"`
		DagRoles         []astroapi.DagRole        `json:"dagRoles"`
	}
	resp, raw := fetch(t, http.MethodGet, url, bearer, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return astroapi.SubjectRoles(v)
}

// TestDagRoleAddsDeploymentAndWorkspaceAccessorsInferred: a user's or
// team's DAG role on a
// deployment where the user or team holds no deployment role brings
// DEPLOYMENT_ACCESSOR there, and that one WORKSPACE_ACCESSOR on the
// deployment's workspace when it holds no workspace role there (inferred
// from Astronomer's DAG-level access docs and the Terraform provider's
// "each deployment referenced in dag_roles must also have a corresponding
// entry in deployment_roles"). Roles already there are kept as sent.
func TestDagRoleAddsDeploymentAndWorkspaceAccessorsInferred(t *testing.T) {
	tests := []struct {
		name, path, body string
		want             astroapi.SubjectRoles
	}{
		{
			name: "a user's DAG role brings both accessors",
			path: "/users/usr-cat",
			body: `{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-b1","dagId":"etl","role":"DAG_VIEWER"}]}`,
			want: astroapi.SubjectRoles{
				OrganizationRole: "ORGANIZATION_MEMBER",
				WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: astroapi.RoleWorkspaceAccessor}},
				DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-b1", Role: astroapi.RoleDeploymentAccessor}},
				DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-b1", DagID: "etl", Role: "DAG_VIEWER"}},
			},
		},
		{
			name: "a team's tag role and custom DAG role: one accessor per deployment, the workspace role kept",
			path: "/teams/team-idp",
			body: `{"organizationRole":"ORGANIZATION_OWNER","workspaceRoles":[{"workspaceId":"ws-a","role":"WORKSPACE_OPERATOR"}],
				"dagRoles":[{"deploymentId":"dep-a2","dagTag":"finance","role":"dag_author"},{"deploymentId":"dep-a2","dagId":"etl","role":"DAG_RUNNER"}]}`,
			want: astroapi.SubjectRoles{
				OrganizationRole: "ORGANIZATION_OWNER",
				WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_OPERATOR"}},
				DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a2", Role: astroapi.RoleDeploymentAccessor}},
				DagRoles: []astroapi.DagRole{
					{DeploymentID: "dep-a2", DagTag: "finance", Role: "DAG_AUTHOR"},
					{DeploymentID: "dep-a2", DagID: "etl", Role: "DAG_RUNNER"},
				},
			},
		},
		{
			name: "a deployment role already there is kept, no accessor",
			path: "/users/usr-cat",
			body: `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-a","role":"WORKSPACE_MEMBER"}],
				"deploymentRoles":[{"deploymentId":"dep-a1","role":"DEPLOYMENT_ADMIN"}],"dagRoles":[{"deploymentId":"dep-a1","dagTag":"ops","role":"DAG_VIEWER"}]}`,
			want: astroapi.SubjectRoles{
				OrganizationRole: "ORGANIZATION_MEMBER",
				WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_MEMBER"}},
				DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}},
				DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-a1", DagTag: "ops", Role: "DAG_VIEWER"}},
			},
		},
		{
			name: "removing the accessor a DAG role needs brings it back",
			path: "/users/usr-ann",
			body: `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-a","role":"WORKSPACE_MEMBER"}],
				"deploymentRoles":[{"deploymentId":"dep-a1","role":"DEPLOYMENT_ADMIN"}],"dagRoles":[{"deploymentId":"dep-a2","dagId":"etl","role":"DAG_VIEWER"}]}`,
			want: astroapi.SubjectRoles{
				OrganizationRole: "ORGANIZATION_MEMBER",
				WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_MEMBER"}},
				DeploymentRoles: []astroapi.DeploymentRole{
					{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}, {DeploymentID: "dep-a2", Role: astroapi.RoleDeploymentAccessor},
				},
				DagRoles: []astroapi.DagRole{{DeploymentID: "dep-a2", DagID: "etl", Role: "DAG_VIEWER"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit})
			url := base + "/organizations/" + org + tt.path
			resp, raw := fetch(t, http.MethodPost, url+"/roles", bearer, tt.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST: %d %s", resp.StatusCode, raw)
			}
			opts := cmpopts.EquateEmpty()
			if diff := cmp.Diff(tt.want, decode[astroapi.SubjectRoles](t, raw), opts); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, subjectRolesOf(t, url), opts); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTokenDagRoleBringsNoAccessorInferred: a token's role list is stored
// as sent: a DAG or DAG_TAG role on a deployment where the token holds no
// DEPLOYMENT role brings no DEPLOYMENT_ACCESSOR, as a token's deployment
// role brings no WORKSPACE_ACCESSOR (inferred: Astronomer documents the
// implied parents for users and teams only, and a DEPLOYMENT token may
// hold no workspace role at all).
func TestTokenDagRoleBringsNoAccessorInferred(t *testing.T) {
	tagRole := func(tag, role, dep string) astroapi.Role {
		return astroapi.Role{EntityType: astroapi.EntityDAGTag, EntityID: tag, Role: role, DeploymentID: dep}
	}
	tests := []struct {
		name, token string
		send, want  []astroapi.Role
	}{
		{
			name: "workspace token", token: "tok-ws-a",
			send: []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_AUTHOR", "dep-a2"), tagRole("nightly", "DAG_VIEWER", "dep-a2")},
			want: []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_AUTHOR", "dep-a2"), tagRole("nightly", "DAG_VIEWER", "dep-a2")},
		},
		{
			name: "organization token", token: "tok-org",
			send: []astroapi.Role{orgRole("ORGANIZATION_MEMBER"), tagRole("finance", "DAG_VIEWER", "dep-b1")},
			want: []astroapi.Role{orgRole("ORGANIZATION_MEMBER"), tagRole("finance", "DAG_VIEWER", "dep-b1")},
		},
		{
			name: "an accessor sent is kept", token: "tok-ws-a",
			send: []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_VIEWER", "dep-a2"), depRole("dep-a2", astroapi.RoleDeploymentAccessor)},
			want: []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_VIEWER", "dep-a2"), depRole("dep-a2", astroapi.RoleDeploymentAccessor)},
		},
		{
			name: "deployment token", token: "tok-dep",
			send: []astroapi.Role{depRole("dep-a2", "DEPLOYMENT_ADMIN"), dagRole("etl", "DAG_RUNNER", "dep-a2")},
			want: []astroapi.Role{depRole("dep-a2", "DEPLOYMENT_ADMIN"), dagRole("etl", "DAG_RUNNER", "dep-a2")},
		},
		{
			name: "a deployment role already there", token: "tok-ws-a",
			send: []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_VIEWER", "dep-a1"), depRole("dep-a1", "DEPLOYMENT_ADMIN")},
			want: []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_VIEWER", "dep-a1"), depRole("dep-a1", "DEPLOYMENT_ADMIN")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
			url := base + "/organizations/" + org + "/tokens/" + tt.token
			resp, raw := fetch(t, http.MethodPost, url+"/roles", bearer, rolesBody(tt.send...))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST: %d %s", resp.StatusCode, raw)
			}
			if diff := cmp.Diff(tt.want, get[astroapi.Token](t, url).Roles); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRolesFitTheirLevel writes every built-in role and a custom role of
// each scope at every level, to a user and to a token: each is accepted at
// its own level only, and refused elsewhere with a field error. A custom
// role of scope WORKSPACE or ORGANIZATION fits no level: those levels'
// roles are built-in only.
func TestRolesFitTheirLevel(t *testing.T) {
	roles := map[string]string{ // role → its level
		"DAG_RUNNER": astroapi.ScopeDAG, "DEPLOYMENT_VIEWER": astroapi.ScopeDeployment, "WORKSPACE_AUDITOR": "", "ORGANIZATION_AUDITOR": "",
	}
	for _, d := range defaultRoles {
		roles[d.Name] = d.ScopeType
	}
	userBody := map[string]func(role string) string{
		astroapi.ScopeOrganization: func(r string) string { return fmt.Sprintf(`{"organizationRole":%q}`, r) },
		astroapi.ScopeWorkspace: func(r string) string {
			return fmt.Sprintf(`{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-a","role":%q}]}`, r)
		},
		astroapi.ScopeDeployment: func(r string) string {
			return fmt.Sprintf(`{"organizationRole":"ORGANIZATION_MEMBER","deploymentRoles":[{"deploymentId":"dep-a1","role":%q}]}`, r)
		},
		astroapi.ScopeDAG: func(r string) string {
			return fmt.Sprintf(`{"organizationRole":"ORGANIZATION_MEMBER","dagRoles":[{"deploymentId":"dep-a1","dagTag":"t","role":%q}]}`, r)
		},
	}
	userField := map[string]string{
		astroapi.ScopeOrganization: "organizationRole", astroapi.ScopeWorkspace: "workspaceRoles[0].role",
		astroapi.ScopeDeployment: "deploymentRoles[0].role", astroapi.ScopeDAG: "dagRoles[0].role",
	}
	// The organization token tok-org holds a role of each level but the
	// one tried, which takes the last entry.
	tokenRoles := map[string]func(role string) []astroapi.Role{
		astroapi.ScopeOrganization: func(r string) []astroapi.Role { return []astroapi.Role{orgRole(r)} },
		astroapi.ScopeWorkspace: func(r string) []astroapi.Role {
			return []astroapi.Role{orgRole("ORGANIZATION_MEMBER"), wsRole("ws-a", r)}
		},
		astroapi.ScopeDeployment: func(r string) []astroapi.Role {
			return []astroapi.Role{orgRole("ORGANIZATION_MEMBER"), depRole("dep-a1", r)}
		},
		astroapi.ScopeDAG: func(r string) []astroapi.Role {
			return []astroapi.Role{orgRole("ORGANIZATION_MEMBER"), depRole("dep-a1", "DEPLOYMENT_ADMIN"), dagRole("etl", r, "dep-a1")}
		},
	}
	st := subjectState()
	st.Roles = append(st.Roles, CustomRole{ID: "role-oa", Name: "ORGANIZATION_AUDITOR", ScopeType: astroapi.ScopeOrganization})
	_, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	for role, level := range roles {
		for _, at := range astroapi.RoleScopes() {
			t.Run(role+" as "+at, func(t *testing.T) {
				resp, raw := fetch(t, http.MethodPost, o+"/users/usr-dan/roles", bearer, userBody[at](role))
				checkFit(t, "user", resp, raw, level == at, userField[at])
				if at == astroapi.ScopeOrganization && level != at {
					// An organization token's organization role is its
					// own: it must keep one, so a list without it is
					// refused for that first.
					return
				}
				trs := tokenRoles[at](role)
				resp, raw = fetch(t, http.MethodPost, o+"/tokens/tok-org/roles", bearer, rolesBody(trs...))
				checkFit(t, "token", resp, raw, level == at, fmt.Sprintf("roles[%d].role", len(trs)-1))
			})
		}
	}
}

func checkFit(t *testing.T, who string, resp *http.Response, raw []byte, fits bool, field string) {
	t.Helper()
	if fits {
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", who, resp.StatusCode, raw)
		}
		return
	}
	body := wantError(t, resp, raw, http.StatusBadRequest)
	if diff := cmp.Diff([]string{field + " role_entity"}, fieldsOf(body.FieldErrors)); diff != "" {
		t.Errorf("%s: field errors (-want +got):\n%s\n%s", who, diff, raw)
	}
}

// TestPostTokenDagRoles400: the DAG and DAG_TAG entries of a token's roles
// are checked like the others: a role of the DAG level, a known deployment,
// a custom role allowed in the deployment's workspace, and a workspace
// token's DAG roles on deployments of its own workspace only. Nothing is
// written.
func TestPostTokenDagRoles400(t *testing.T) {
	ws := wsRole("ws-a", "WORKSPACE_MEMBER")
	tests := []struct {
		name, token string
		roles       []astroapi.Role
		wantFields  []string
	}{
		{"deployment role on a DAG", "tok-ws-a", []astroapi.Role{ws, dagRole("etl", "DEPLOYMENT_ADMIN", "dep-a1")}, []string{"roles[1].role role_entity"}},
		{"custom deployment role on a DAG tag", "tok-ws-a", []astroapi.Role{ws, {EntityType: astroapi.EntityDAGTag, EntityID: "t", Role: "DAG_DEPLOYER", DeploymentID: "dep-a1"}}, []string{"roles[1].role role_entity"}},
		{"custom DAG role on a deployment", "tok-ws-a", []astroapi.Role{ws, depRole("dep-a1", "DAG_RUNNER")}, []string{"roles[1].role role_entity"}},
		{"DAG role on a deployment", "tok-ws-a", []astroapi.Role{ws, depRole("dep-a1", "DAG_VIEWER")}, []string{"roles[1].role role_entity"}},
		{"unknown DAG role", "tok-ws-a", []astroapi.Role{ws, dagRole("etl", "DAG_READER", "dep-a1")}, []string{"roles[1].role not_found"}},
		{"custom DAG role restricted to another workspace", "tok-org", []astroapi.Role{orgRole("ORGANIZATION_MEMBER"), dagRole("etl", "DAG_RUNNER", "dep-b1")}, []string{"roles[1].role restricted"}},
		{"DAG on an unknown deployment", "tok-ws-a", []astroapi.Role{ws, dagRole("etl", "DAG_VIEWER", "dep-x")}, []string{"roles[1].deploymentId not_found"}},
		{"DAG tag without deployment", "tok-ws-a", []astroapi.Role{ws, {EntityType: astroapi.EntityDAGTag, EntityID: "t", Role: "DAG_VIEWER"}}, []string{"roles[1].deploymentId required"}},
		{"workspace token's DAG role in another workspace", "tok-ws-a", []astroapi.Role{ws, dagRole("etl", "DAG_VIEWER", "dep-b1")}, []string{"roles[1] scope"}},
		{"deployment token's DAG role on another deployment", "tok-dep", []astroapi.Role{depRole("dep-a2", "DEPLOYMENT_ADMIN"), dagRole("etl", "DAG_VIEWER", "dep-a1")}, []string{"roles[1] scope"}},
		{"the same DAG twice", "tok-ws-a", []astroapi.Role{ws, dagRole("etl", "DAG_VIEWER", "dep-a1"), dagRole("etl", "DAG_AUTHOR", "dep-a1")}, []string{"roles[2] duplicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
			resp, raw := fetch(t, http.MethodPost, base+"/organizations/"+org+"/tokens/"+tt.token+"/roles", bearer, rolesBody(tt.roles...))
			body := wantError(t, resp, raw, http.StatusBadRequest)
			if diff := cmp.Diff(tt.wantFields, fieldsOf(body.FieldErrors)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s\n%s", diff, raw)
			}
			if diff := cmp.Diff(testState().normalized(), srv.State().normalized()); diff != "" {
				t.Errorf("state changed by a refused POST (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGetRoleWithPermissions: GET /roles/{roleId} answers a custom role,
// by its own id or the one derived from its name, with its permissions
// ([] when it has none); an unknown id is a 404 Error, a built-in role
// name is unknown (built-in roles have no id), and a query parameter is a
// 400.
func TestGetRoleWithPermissions(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org + "/roles"
	runner := get[astroapi.RoleWithPermission](t, o+"/role-dr")
	want := astroapi.RoleWithPermission{
		ID: "role-dr", Name: "DAG_RUNNER", ScopeType: astroapi.ScopeDAG,
		Permissions: []string{"deployment.dags.get", "deployment.dagRuns.create"}, RestrictedWorkspaceIDs: []string{"ws-a"},
	}
	ignore := cmpopts.IgnoreFields(astroapi.RoleWithPermission{}, "CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy")
	if diff := cmp.Diff(want, runner, ignore); diff != "" {
		t.Errorf("role (-want +got):\n%s", diff)
	}
	if runner.CreatedAt.IsZero() || runner.CreatedBy == nil {
		t.Errorf("role %+v: want createdAt and createdBy", runner)
	}

	// A role without an id of its own, found by the id the list gives it.
	list := get[struct{ Roles []astroapi.CustomRole }](t, o+"?scopeTypes=DEPLOYMENT")
	var viewerID string
	for _, r := range list.Roles {
		if r.Name == "DEPLOYMENT_VIEWER" {
			viewerID = r.ID
		}
	}
	resp, raw := fetch(t, http.MethodGet, o+"/"+viewerID, bearer, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"permissions":[]`) {
		t.Errorf("GET the derived id %q: %d %s, want 200 with permissions []", viewerID, resp.StatusCode, raw)
	}

	for _, id := range []string{"role-nope", "DEPLOYMENT_ADMIN"} {
		resp, raw := fetch(t, http.MethodGet, o+"/"+id, bearer, "")
		body := wantError(t, resp, raw, http.StatusNotFound)
		if !strings.Contains(body.Message, id) {
			t.Errorf("404 message %q does not name %q", body.Message, id)
		}
	}
	resp, raw = fetch(t, http.MethodGet, o+"/role-dr?includeDefaultRoles=true", bearer, "")
	wantError(t, resp, raw, http.StatusBadRequest)
	resp, raw = fetch(t, http.MethodPost, o+"/role-dr", bearer, "{}")
	wantError(t, resp, raw, http.StatusMethodNotAllowed)
}

// TestDefaultRolesHavePermissions: with includeDefaultRoles=true every
// built-in role comes with its scope type and permissions, DAG ones
// included; the list's custom roles carry no permissions.
func TestDefaultRolesHavePermissions(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	got := get[map[string]json.RawMessage](t, base+"/organizations/"+org+"/roles?includeDefaultRoles=true&limit=100")
	var defaults []astroapi.DefaultRole
	if err := json.Unmarshal(got["defaultRoles"], &defaults); err != nil {
		t.Fatal(err)
	}
	levels := map[string]string{}
	for _, d := range defaults {
		levels[d.Name] = d.ScopeType
		if len(d.Permissions) == 0 || d.Description == "" {
			t.Errorf("default role %s: want a description and permissions: %+v", d.Name, d)
		}
		if astroapi.BuiltinRoleScope(d.Name) != d.ScopeType {
			t.Errorf("default role %s has scopeType %s, the vocabulary says %s", d.Name, d.ScopeType, astroapi.BuiltinRoleScope(d.Name))
		}
	}
	for _, name := range []string{astroapi.RoleDeploymentAccessor, astroapi.RoleDAGViewer, astroapi.RoleDAGAuthor} {
		if levels[name] == "" {
			t.Errorf("default roles %v lack %s", levels, name)
		}
	}
	if strings.Contains(string(got["roles"]), "permissions") {
		t.Errorf("custom roles of the list carry permissions: %s", got["roles"])
	}
}

// lifecycleState is testState with the lifecycle fields on its tokens.
func lifecycleState() *State {
	st := testState()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return v
	}
	st.Tokens[0].CreatedAt = at("2025-01-01T00:00:00Z")
	st.Tokens[0].LastUsedAt = at("2025-02-01T08:00:00Z")
	st.Tokens[0].LastRotatedAt = at("2025-01-15T00:00:00Z")
	st.Tokens[0].EndAt = at("2025-07-01T00:00:00Z")
	st.Tokens[0].ExpiryPeriodInDays = 181
	st.Tokens[1].StartAt = at("2025-03-01T00:00:00Z")
	st.Tokens[1].ExpiryPeriodInDays = 30
	st.Tokens[2].Kind = astroapi.TokenDirectAccess
	return st
}

// TestTokenLifecycleFieldsServed: GET and list serve the lifecycle fields
// of the state under the API's names; endAt, lastUsedAt and lastRotatedAt
// are left out when the state has none; startAt defaults to createdAt,
// endAt to startAt plus expiryPeriodInDays, kind to STANDARD.
func TestTokenLifecycleFieldsServed(t *testing.T) {
	_, base := NewTestServer(t, lifecycleState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	var raw map[string]any
	resp, body := fetch(t, http.MethodGet, o+"/tokens/tok-ws-a", bearer, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"kind": "STANDARD", "startAt": "2025-01-01T00:00:00Z", "endAt": "2025-07-01T00:00:00Z", "expiryPeriodInDays": 181.0,
		"lastUsedAt": "2025-02-01T08:00:00Z", "lastRotatedAt": "2025-01-15T00:00:00Z", "createdAt": "2025-01-01T00:00:00Z",
	}
	for k, v := range want {
		if raw[k] != v {
			t.Errorf("%s = %v, want %v", k, raw[k], v)
		}
	}

	list := get[tokenPage](t, o+"/tokens?limit=100")
	byID := map[string]astroapi.Token{}
	for _, tok := range list.Tokens {
		byID[tok.ID] = tok
	}
	b := byID["tok-ws-b"]
	if b.StartAt == nil || !b.StartAt.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) ||
		b.EndAt == nil || !b.EndAt.Equal(time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)) || b.ExpiryPeriodInDays != 30 {
		t.Errorf("tok-ws-b %+v: want startAt 2025-03-01, endAt 30 days later", b)
	}
	if b.LastUsedAt != nil || b.LastRotatedAt != nil || b.Kind != astroapi.TokenStandard {
		t.Errorf("tok-ws-b %+v: want no lastUsedAt, no lastRotatedAt, kind STANDARD", b)
	}
	if c := byID["tok-org"]; c.Kind != astroapi.TokenDirectAccess || c.EndAt != nil || c.StartAt == nil || !c.StartAt.Equal(c.CreatedAt) {
		t.Errorf("tok-org %+v: want DIRECT_ACCESS, no endAt (never expires), startAt = createdAt", c)
	}
	resp, body = fetch(t, http.MethodGet, o+"/tokens/tok-dep", bearer, "")
	for _, k := range []string{"endAt", "lastUsedAt", "lastRotatedAt", "expiryPeriodInDays"} {
		if strings.Contains(string(body), `"`+k+`"`) {
			t.Errorf("tok-dep answers %s although the state has none: %d %s", k, resp.StatusCode, body)
		}
	}
}

// TestLevelsStateRoundTrips: a state with grants on every level, custom
// roles of every scope with permissions, token lifecycle fields, every user
// status and an IdP-managed team loads, is served as the API serves it,
// and GET /_emulator/state answers it back in the same shape.
func TestLevelsStateRoundTrips(t *testing.T) {
	want, err := LoadState("testdata/levels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, base := NewTestServer(t, want, Options{RateLimits: NoRateLimit})
	raw := wantRoundTrip(t, base, want)
	for _, k := range []string{`"lastUsedAt"`, `"lastRotatedAt"`, `"endAt"`, `"expiryPeriodInDays"`, `"startAt"`, `"kind"`, `"permissions"`, `"isIdpManaged"`, `"dagRoles"`, `"DAG_TAG"`} {
		if !strings.Contains(string(raw), k) {
			t.Errorf("the state answers no %s", k)
		}
	}

	o := base + "/organizations/" + want.Organization.ID
	ci := get[astroapi.Token](t, o+"/tokens/tok-ci")
	if ci.EndAt == nil || !ci.EndAt.Equal(time.Date(2025, 4, 10, 9, 0, 0, 0, time.UTC)) || ci.LastUsedAt == nil {
		t.Errorf("tok-ci %+v: want endAt 90 days after startAt and lastUsedAt", ci)
	}
	runner := get[astroapi.RoleWithPermission](t, o+"/roles/role-runner")
	if runner.ScopeType != astroapi.ScopeDAG || len(runner.Permissions) != 2 {
		t.Errorf("role-runner %+v: want DAG scope and two permissions", runner)
	}
	statuses := map[string]string{}
	for _, u := range get[userPage](t, o+"/users").Users {
		statuses[u.ID] = u.Status
	}
	wantStatuses := map[string]string{"usr-alice": "ACTIVE", "usr-carol": "INACTIVE", "usr-dan": "BANNED", "usr-erin": "PENDING"}
	if diff := cmp.Diff(wantStatuses, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if team := get[astroapi.Team](t, o+"/teams/team-analysts"); !team.IsIdpManaged || len(team.DagRoles) != 1 {
		t.Errorf("team %+v: want IdP-managed with its DAG role", team)
	}
}

// TestParseStateLevelsAndLifecycleErrors: the state file refuses what the
// API could not hold, every error at once with its position.
func TestParseStateLevelsAndLifecycleErrors(t *testing.T) {
	const yaml = `organization: {id: o, name: O}
workspaces: [{id: w, name: a}]
deployments: [{id: d, name: x, workspaceId: w}]
roles:
  - {name: R, scopeType: DAG, permissions: [a.get, a.get, ""]}
  - {name: DAG_VIEWER, scopeType: DAG}
tokens:
  - id: t
    name: t
    scope: WORKSPACE
    kind: LEGACY
    createdAt: 2025-01-01T00:00:00Z
    startAt: 2025-02-01T00:00:00Z
    endAt: 2025-01-15T00:00:00Z
    expiryPeriodInDays: -1
    lastUsedAt: 2024-12-01T00:00:00Z
    roles:
      - {entityType: WORKSPACE, entityId: w, role: WORKSPACE_MEMBER}
      - {entityType: DAG, entityId: etl, deploymentId: d, role: DEPLOYMENT_ADMIN}
  - {id: u, name: u, scope: WORKSPACE, expiryPeriodInDays: soon, roles: [{entityType: WORKSPACE, entityId: w, role: WORKSPACE_MEMBER}]}
users:
  - id: u1
    username: ann@example.com
    status: ACTIVE
    dagRoles: [{deploymentId: d, dagId: etl, role: dag_viewer}]
teams:
  - id: t1
    name: x
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: w, role: WORKSPACE_MEMBER}]
    deploymentRoles: [{deploymentId: d, role: R}]
    dagRoles: [{deploymentId: d, dagTag: a, role: R}, {deploymentId: d, dagTag: b, role: DAG_AUTHOR}]
`
	_, err := ParseState("s.yaml", []byte(yaml))
	if err == nil {
		t.Fatal("ParseState accepted a state with errors")
	}
	want := []string{
		`s.yaml:5:52: custom role "R": permission "a.get" is listed twice`,
		`s.yaml:5:59: custom role "R": a permission must not be empty`,
		`s.yaml:6:12: custom role "DAG_VIEWER": the name of a built-in role`,
		`s.yaml:11:11: token "t": kind "LEGACY" is not one of STANDARD, DIRECT_ACCESS`,
		`s.yaml:14:12: token "t": endAt must be after startAt (or createdAt)`,
		`s.yaml:15:25: token "t": expiryPeriodInDays must not be negative`,
		`s.yaml:16:17: token "t": lastUsedAt is before createdAt`,
		`s.yaml:19:65: token "t": role "DEPLOYMENT_ADMIN" is a DEPLOYMENT role and does not fit a DAG entity`,
		`s.yaml:20:60: token expiryPeriodInDays: want an integer, found "soon"`,
		`s.yaml:22:5: user "u1": dagRoles requires also specifying an organizationRole`,
		`s.yaml:25:16: user "u1": the user holds a DAG role on deployment "d" but no deployment role there: Astro adds {deploymentId: d, role: DEPLOYMENT_ACCESSOR} on its own, so the state must list it`,
		`s.yaml:25:52: user "u1": built-in role "dag_viewer" must be written "DAG_VIEWER", as the API stores it`,
		`s.yaml:31:47: team "t1": custom role "R" has scopeType DAG and does not fit a DEPLOYMENT entity`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestUserDagFiltersInferred: GET /users?dagId=D returns the users holding
// a role on DAG D, ?dagTags=T (repeated) those holding a role on one of the
// tags, on the deployment of deploymentId when given; a DAG id and a tag
// never match each other (inferred from the filter names of ListUsers).
func TestUserDagFiltersInferred(t *testing.T) {
	srv, base := NewTestServer(t, subjectState(), Options{RateLimits: NoRateLimit})
	if err := srv.SetUserRoles("usr-bob", astroapi.UpdateUserRolesRequest{
		OrganizationRole: "ORGANIZATION_MEMBER",
		DagRoles: []astroapi.DagRole{
			{DeploymentID: "dep-b1", DagTag: "finance", Role: "DAG_VIEWER"},
			{DeploymentID: "dep-a1", DagID: "etl", Role: "DAG_AUTHOR"},
		},
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"?dagId=etl", []string{"usr-ann", "usr-bob"}},
		{"?dagId=etl&deploymentId=dep-a1", []string{"usr-bob"}},
		{"?dagTags=finance", []string{"usr-bob"}},
		{"?dagTags=ops&dagTags=finance", []string{"usr-bob"}},
		{"?dagTags=finance&deploymentId=dep-a1", []string{}},
		{"?dagTags=etl", []string{}},
		{"?dagId=etl&dagTags=finance", []string{}}, // one role is never both
		{"?workspaceId=ws-a&dagId=etl", []string{"usr-ann", "usr-bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[userPage](t, base+"/organizations/"+org+"/users"+tt.query)
			if diff := cmp.Diff(tt.want, userIDs(got.Users)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}
