package astroapi_test

// Integration tests: the client against the emulator over real HTTP on
// loopback. The unit tests next to this file pin wire details with
// hand-written httptest servers; these prove behaviour against the ground
// truth of tokensync's tests, astroapitest.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// The small organization most tests run against.
const (
	orgID = "org-int"

	wsAlpha = "ws-alpha"
	wsBeta  = "ws-beta"

	depAlphaProd = "dep-alpha-prod" // "prod" in ws-alpha
	depAlphaStg  = "dep-alpha-stg"  // "staging" in ws-alpha
	depBetaProd  = "dep-beta-prod"  // "prod" in ws-beta: names are not unique

	tokAdmin = "tok-admin" // ORGANIZATION, with a WORKSPACE role on ws-beta and a DEPLOYMENT role on dep-alpha-prod
	tokBot   = "tok-bot"   // WORKSPACE ws-beta
	tokCI    = "tok-ci"    // WORKSPACE ws-alpha
	tokKey   = "tok-key"   // DEPLOYMENT dep-alpha-prod, same name as tok-ci
	tokDAG   = "tok-dag"   // WORKSPACE ws-alpha, a DAG_TAG role on dep-alpha-stg
	tokObs   = "tok-obs"   // ORGANIZATION, organization role only

	roleViewer   = "DEPLOYMENT_VIEWER" // custom DEPLOYMENT role, unrestricted
	roleDeployer = "ALPHA_DEPLOYER"    // custom DEPLOYMENT role, restricted to ws-alpha
	roleAuditor  = "WS_AUDITOR"        // custom WORKSPACE role

	// testCredential is the bearer of every client that does not test
	// credentials; no error may contain any credential.
	testCredential = "tsk_int_7c1d-SECRET"

	routeTokens      = "GET /organizations/{organizationId}/tokens"
	routeToken       = "GET /organizations/{organizationId}/tokens/{tokenId}"
	routeTokenRoles  = "POST /organizations/{organizationId}/tokens/{tokenId}/roles"
	routeDeployments = "GET /organizations/{organizationId}/deployments"
	routeWorkspaces  = "GET /organizations/{organizationId}/workspaces"
	routeRoles       = "GET /organizations/{organizationId}/roles"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func role(entityType, entityID, name string) astroapi.Role {
	return astroapi.Role{EntityType: entityType, EntityID: entityID, Role: name}
}

func dagRole(entityType, entityID, name, deploymentID string) astroapi.Role {
	return astroapi.Role{EntityType: entityType, EntityID: entityID, Role: name, DeploymentID: deploymentID}
}

// smallState is a small organization. Tokens are created out of file
// order, so that the default list order (createdAt, then id) is not the
// file order.
func smallState() *astroapitest.State {
	return &astroapitest.State{
		Organization: astroapitest.Organization{ID: orgID, Name: "Integration Org"},
		Workspaces: []astroapitest.Workspace{
			{ID: wsAlpha, Name: "alpha", Description: "The alpha team"},
			{ID: wsBeta, Name: "beta"},
		},
		Deployments: []astroapitest.Deployment{
			{ID: depAlphaProd, Name: "prod", WorkspaceID: wsAlpha},
			{ID: depAlphaStg, Name: "staging", WorkspaceID: wsAlpha},
			{ID: depBetaProd, Name: "prod", WorkspaceID: wsBeta},
		},
		Roles: []astroapitest.CustomRole{
			{ID: "role-viewer", Name: roleViewer, Description: "Reads deployments", ScopeType: astroapi.ScopeDeployment},
			{ID: "role-deployer", Name: roleDeployer, Description: "Deploys in alpha", ScopeType: astroapi.ScopeDeployment, RestrictedWorkspaceIDs: []string{wsAlpha}},
			{ID: "role-auditor", Name: roleAuditor, ScopeType: astroapi.ScopeWorkspace},
		},
		Tokens: []astroapitest.Token{
			{ID: tokCI, Name: "ci-deployer", Description: "CI of the alpha repo", Scope: astroapi.ScopeWorkspace, CreatedAt: day("2024-05-02"), Roles: []astroapi.Role{
				role(astroapi.EntityWorkspace, wsAlpha, "WORKSPACE_MEMBER"),
				role(astroapi.EntityDeployment, depAlphaProd, astroapi.RoleDeploymentAdmin),
				role(astroapi.EntityDeployment, depAlphaStg, roleViewer),
			}},
			{ID: tokBot, Name: "beta-bot", Scope: astroapi.ScopeWorkspace, CreatedAt: day("2024-04-01"), Roles: []astroapi.Role{
				role(astroapi.EntityWorkspace, wsBeta, "WORKSPACE_AUTHOR"),
				role(astroapi.EntityDeployment, depBetaProd, roleViewer),
			}},
			{ID: tokAdmin, Name: "root-admin", Description: "break glass", Scope: astroapi.ScopeOrganization, CreatedAt: day("2024-03-01"), Roles: []astroapi.Role{
				role(astroapi.EntityOrganization, orgID, "ORGANIZATION_OWNER"),
				role(astroapi.EntityWorkspace, wsBeta, "WORKSPACE_OWNER"),
				role(astroapi.EntityDeployment, depAlphaProd, astroapi.RoleDeploymentAdmin),
			}},
			{ID: tokKey, Name: "ci-deployer", Scope: astroapi.ScopeDeployment, CreatedAt: day("2024-06-01"), Roles: []astroapi.Role{
				role(astroapi.EntityDeployment, depAlphaProd, astroapi.RoleDeploymentAdmin),
				dagRole(astroapi.EntityDAG, "nightly", "DAG_AUTHOR", depAlphaProd),
			}},
			{ID: tokDAG, Name: "dag-bot", Scope: astroapi.ScopeWorkspace, CreatedAt: day("2024-07-01"), Roles: []astroapi.Role{
				role(astroapi.EntityWorkspace, wsAlpha, "WORKSPACE_MEMBER"),
				dagRole(astroapi.EntityDAGTag, "finance", "DAG_VIEWER", depAlphaStg),
			}},
			{ID: tokObs, Name: "Observer", Scope: astroapi.ScopeOrganization, CreatedAt: day("2024-08-01"), Roles: []astroapi.Role{
				role(astroapi.EntityOrganization, orgID, "ORGANIZATION_MEMBER"),
			}},
		},
	}
}

// unlimited is an emulator without rate limits, for tests that are not
// about them.
var unlimited = astroapitest.Options{RateLimits: astroapitest.NoRateLimit}

// newClient returns a client of the emulator at base with testCredential
// and opts. Unless opts say otherwise it has no client-side rate limit, so
// that tests not about limits run at full speed.
func newClient(t *testing.T, base string, opts ...astroapi.Option) *astroapi.Client {
	t.Helper()
	all := append([]astroapi.Option{astroapi.WithCredential(testCredential), astroapi.WithRateLimits(0, 0, 0)}, opts...)
	c, err := astroapi.New(base, all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// project maps items through f, e.g. to their ids.
func project[T, U any](items []T, f func(T) U) []U {
	out := make([]U, len(items))
	for i, v := range items {
		out[i] = f(v)
	}
	return out
}

func tokenIDs(ts []astroapi.Token) []string {
	return project(ts, func(t astroapi.Token) string { return t.ID })
}

// stateRoles returns the role list of token id in the emulator's state.
func stateRoles(t *testing.T, srv *astroapitest.Server, id string) []astroapi.Role {
	t.Helper()
	return rolesIn(t, srv.State(), id)
}

// rolesIn returns the role list of token id in st.
func rolesIn(t *testing.T, st *astroapitest.State, id string) []astroapi.Role {
	t.Helper()
	for _, tok := range st.Tokens {
		if tok.ID == id {
			return tok.Roles
		}
	}
	t.Fatalf("token %q is not in the state", id)
	return nil
}

func TestTokensEveryFilterAgainstEmulator(t *testing.T) {
	_, base := astroapitest.NewTestServer(t, smallState(), unlimited)
	c := newClient(t, base)
	tests := []struct {
		name   string
		filter astroapi.TokenFilter
		want   []string
	}{
		{name: "no filter: createdAt order", want: []string{tokAdmin, tokBot, tokCI, tokKey, tokDAG, tokObs}},
		{name: "workspaceId: holders of a WORKSPACE role on it", filter: astroapi.TokenFilter{WorkspaceID: wsAlpha}, want: []string{tokCI, tokDAG}},
		{name: "workspaceId: holders whatever their scope", filter: astroapi.TokenFilter{WorkspaceID: wsBeta}, want: []string{tokAdmin, tokBot}},
		{name: "deploymentId: DEPLOYMENT and DAG roles, every scope", filter: astroapi.TokenFilter{DeploymentID: depAlphaProd}, want: []string{tokAdmin, tokCI, tokKey}},
		{name: "deploymentId: custom role and DAG_TAG role", filter: astroapi.TokenFilter{DeploymentID: depAlphaStg}, want: []string{tokCI, tokDAG}},
		{name: "deploymentId: unknown matches nothing", filter: astroapi.TokenFilter{DeploymentID: "dep-nope"}, want: []string{}},
		{name: "includeOnlyOrganizationTokens", filter: astroapi.TokenFilter{IncludeOnlyOrganizationTokens: true}, want: []string{tokAdmin, tokObs}},
		{name: "includeOnlyOrganizationTokens and deploymentId", filter: astroapi.TokenFilter{IncludeOnlyOrganizationTokens: true, DeploymentID: depAlphaProd}, want: []string{tokAdmin}},
		{name: "sorts name:asc is case-insensitive, ties by createdAt", filter: astroapi.TokenFilter{Sorts: []string{"name:asc"}}, want: []string{tokBot, tokCI, tokKey, tokDAG, tokObs, tokAdmin}},
		{name: "sorts name:desc then createdAt:desc", filter: astroapi.TokenFilter{Sorts: []string{"name:desc", "createdAt:desc"}}, want: []string{tokAdmin, tokObs, tokDAG, tokKey, tokCI, tokBot}},
		{name: "sorts createdAt:desc", filter: astroapi.TokenFilter{Sorts: []string{"createdAt:desc"}}, want: []string{tokObs, tokDAG, tokKey, tokCI, tokBot, tokAdmin}},
		{name: "workspaceId and sorts", filter: astroapi.TokenFilter{WorkspaceID: wsBeta, Sorts: []string{"name:asc"}}, want: []string{tokBot, tokAdmin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Tokens(context.Background(), orgID, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tokenIDs(got)); diff != "" {
				t.Errorf("token ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenMatchesStateAndList(t *testing.T) {
	srv, base := astroapitest.NewTestServer(t, smallState(), unlimited)
	c := newClient(t, base)
	ctx := context.Background()

	got, err := c.Token(ctx, orgID, tokCI)
	if err != nil {
		t.Fatal(err)
	}
	created := day("2024-05-02")
	want := astroapi.Token{
		ID:          tokCI,
		Name:        "ci-deployer",
		Description: "CI of the alpha repo",
		Scope:       astroapi.ScopeWorkspace,
		Kind:        "STANDARD",
		CreatedAt:   created,
		UpdatedAt:   created, // never updated
		Roles:       stateRoles(t, srv, tokCI),
	}
	opts := cmpopts.IgnoreFields(astroapi.Token{}, "ShortToken", "StartAt", "CreatedBy", "UpdatedBy")
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("Token (-want +got):\n%s", diff)
	}
	if got.ShortToken == "" || got.CreatedBy == nil || got.UpdatedBy == nil {
		t.Errorf("Token = %+v, want shortToken, createdBy and updatedBy set", got)
	}

	// Every token of the list is what a GET of it answers, and its roles
	// are the state's.
	list, err := c.Tokens(ctx, orgID, astroapi.TokenFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range list {
		one, err := c.Token(ctx, orgID, lt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(lt, one); diff != "" {
			t.Errorf("token %s: list and GET differ (-list +get):\n%s", lt.ID, diff)
		}
		if diff := cmp.Diff(stateRoles(t, srv, lt.ID), one.Roles); diff != "" {
			t.Errorf("token %s: roles (-state +got):\n%s", lt.ID, diff)
		}
	}
}

func TestSetTokenRolesReplacesTheWholeList(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		send      []astroapi.Role
		wantRoles []astroapi.Role // nil: the roles sent
		want      astroapi.SubjectRoles
	}{
		{
			name:  "workspace token: old deployment roles dropped, new ones and a DAG role kept in order",
			token: tokCI,
			send: []astroapi.Role{
				role(astroapi.EntityWorkspace, wsAlpha, "WORKSPACE_OPERATOR"),
				role(astroapi.EntityDeployment, depAlphaProd, roleDeployer),
				role(astroapi.EntityDeployment, depAlphaStg, astroapi.RoleDeploymentAdmin),
				dagRole(astroapi.EntityDAG, "etl", "DAG_AUTHOR", depAlphaStg),
			},
			want: astroapi.SubjectRoles{
				WorkspaceRoles:  []astroapi.WorkspaceRole{{WorkspaceID: wsAlpha, Role: "WORKSPACE_OPERATOR"}},
				DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: depAlphaProd, Role: roleDeployer}, {DeploymentID: depAlphaStg, Role: astroapi.RoleDeploymentAdmin}},
			},
		},
		{
			name:  "workspace token shrinks to its own workspace role",
			token: tokCI,
			send:  []astroapi.Role{role(astroapi.EntityWorkspace, wsAlpha, "WORKSPACE_MEMBER")},
			want:  astroapi.SubjectRoles{WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: wsAlpha, Role: "WORKSPACE_MEMBER"}}},
		},
		{
			name:  "organization token: organization role and a deployment in another workspace",
			token: tokAdmin,
			send: []astroapi.Role{
				role(astroapi.EntityOrganization, orgID, "ORGANIZATION_MEMBER"),
				role(astroapi.EntityDeployment, depBetaProd, roleViewer),
			},
			want: astroapi.SubjectRoles{
				OrganizationRole: "ORGANIZATION_MEMBER",
				DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: depBetaProd, Role: roleViewer}},
			},
		},
		{
			name:  "built-in role names are stored upper case (inferred, Terraform provider issue 195)",
			token: tokBot,
			send: []astroapi.Role{
				role(astroapi.EntityWorkspace, wsBeta, "workspace_owner"),
				role(astroapi.EntityDeployment, depBetaProd, "Deployment_Admin"),
			},
			wantRoles: []astroapi.Role{
				role(astroapi.EntityWorkspace, wsBeta, "WORKSPACE_OWNER"),
				role(astroapi.EntityDeployment, depBetaProd, astroapi.RoleDeploymentAdmin),
			},
			want: astroapi.SubjectRoles{
				WorkspaceRoles:  []astroapi.WorkspaceRole{{WorkspaceID: wsBeta, Role: "WORKSPACE_OWNER"}},
				DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: depBetaProd, Role: astroapi.RoleDeploymentAdmin}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, base := astroapitest.NewTestServer(t, smallState(), unlimited)
			c := newClient(t, base)
			ctx := context.Background()
			before, err := c.Token(ctx, orgID, tt.token)
			if err != nil {
				t.Fatal(err)
			}

			got, err := c.SetTokenRoles(ctx, orgID, tt.token, tt.send)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("SubjectRoles (-want +got):\n%s", diff)
			}

			wantRoles := tt.wantRoles
			if wantRoles == nil {
				wantRoles = tt.send
			}
			after, err := c.Token(ctx, orgID, tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantRoles, after.Roles); diff != "" {
				t.Errorf("roles re-read with Token (-want +got):\n%s", diff)
			}
			if !after.UpdatedAt.After(before.UpdatedAt) {
				t.Errorf("updatedAt %v after the write, want later than %v", after.UpdatedAt, before.UpdatedAt)
			}
			list, err := c.Tokens(ctx, orgID, astroapi.TokenFilter{})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(list, func(x astroapi.Token) bool { return x.ID == tt.token })
			if i < 0 {
				t.Fatalf("token %s missing from the list after the write", tt.token)
			}
			if diff := cmp.Diff(wantRoles, list[i].Roles); diff != "" {
				t.Errorf("roles re-read with Tokens (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]int{tt.token: 1}, srv.Stats().RoleWrites); diff != "" {
				t.Errorf("emulator role writes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetTokenRolesRejectedIsA400Error(t *testing.T) {
	type fieldCode struct{ Field, Code string }
	tests := []struct {
		name  string
		token string
		send  []astroapi.Role
		want  []fieldCode
	}{
		{
			name:  "workspace token on a deployment of another workspace",
			token: tokCI,
			send:  []astroapi.Role{role(astroapi.EntityWorkspace, wsAlpha, "WORKSPACE_MEMBER"), role(astroapi.EntityDeployment, depBetaProd, astroapi.RoleDeploymentAdmin)},
			want:  []fieldCode{{"roles[1]", "scope"}},
		},
		{
			name:  "role that does not fit its entity",
			token: tokCI,
			send:  []astroapi.Role{role(astroapi.EntityWorkspace, wsAlpha, "WORKSPACE_MEMBER"), role(astroapi.EntityDeployment, depAlphaProd, "WORKSPACE_OWNER")},
			want:  []fieldCode{{"roles[1].role", "role_entity"}},
		},
		{
			name:  "unknown deployment and unknown custom role, reported together",
			token: tokCI,
			send: []astroapi.Role{
				role(astroapi.EntityWorkspace, wsAlpha, "WORKSPACE_MEMBER"),
				role(astroapi.EntityDeployment, "dep-nope", astroapi.RoleDeploymentAdmin),
				role(astroapi.EntityDeployment, depAlphaStg, "NO_SUCH_ROLE"),
			},
			want: []fieldCode{{"roles[1].entityId", "not_found"}, {"roles[2].role", "not_found"}},
		},
		{
			name:  "custom role restricted to another workspace",
			token: tokBot,
			send:  []astroapi.Role{role(astroapi.EntityWorkspace, wsBeta, "WORKSPACE_AUTHOR"), role(astroapi.EntityDeployment, depBetaProd, roleDeployer)},
			want:  []fieldCode{{"roles[1].role", "restricted"}},
		},
		{
			name:  "own workspace role left out",
			token: tokCI,
			send:  []astroapi.Role{role(astroapi.EntityDeployment, depAlphaProd, astroapi.RoleDeploymentAdmin)},
			want:  []fieldCode{{"roles", "own_scope_role"}},
		},
	}
	srv, base := astroapitest.NewTestServer(t, smallState(), unlimited)
	c := newClient(t, base)
	ctx := context.Background()
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SetTokenRoles(ctx, orgID, tt.token, tt.send)
			var apiErr *astroapi.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want an *astroapi.Error", err, err)
			}
			if apiErr.StatusCode != http.StatusBadRequest || apiErr.Method != http.MethodPost ||
				apiErr.Path != "/organizations/"+orgID+"/tokens/"+tt.token+"/roles" {
				t.Errorf("error = %q, want a 400 of POST /organizations/%s/tokens/%s/roles", err, orgID, tt.token)
			}
			got := project(apiErr.FieldErrors, func(fe astroapi.FieldError) fieldCode { return fieldCode{fe.Field, fe.Code} })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("field errors (-want +got):\n%s", diff)
			}
			for _, fe := range apiErr.FieldErrors {
				if fe.Message == "" {
					t.Errorf("field error %+v has no message", fe)
				}
			}
			// The API's message, as the emulator builds it from its first field error.
			if want := fmt.Sprintf("invalid roles for token %q: %s", tt.token, apiErr.FieldErrors[0].Message); apiErr.Message != want {
				t.Errorf("message = %q, want %q", apiErr.Message, want)
			}
			if !strings.HasPrefix(apiErr.RequestID, "req-") || seen[apiErr.RequestID] {
				t.Errorf("request id %q: want a fresh emulator request id", apiErr.RequestID)
			}
			seen[apiErr.RequestID] = true
			if msg := err.Error(); !strings.HasPrefix(msg, "POST /organizations/"+orgID+"/tokens/"+tt.token+"/roles: 400 Bad Request: "+apiErr.Message) ||
				!strings.HasSuffix(msg, "(request "+apiErr.RequestID+")") {
				t.Errorf("error text = %q, want method, path, status, message, field errors and request id", msg)
			}
			if errors.Is(err, astroapi.ErrNotFound) || errors.Is(err, astroapi.ErrForbidden) || errors.Is(err, astroapi.ErrUnauthorized) {
				t.Errorf("a 400 matches a sentinel: %v", err)
			}
			after, err := c.Token(ctx, orgID, tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rolesIn(t, smallState(), tt.token), after.Roles); diff != "" {
				t.Errorf("roles changed by a rejected write (-before +after):\n%s", diff)
			}
		})
	}
	st := srv.Stats()
	if len(st.RoleWrites) != 0 {
		t.Errorf("emulator applied role writes: %v", st.RoleWrites)
	}
	if got := st.Requests[routeTokenRoles]; got != len(tests) {
		t.Errorf("emulator saw %d role POSTs, want %d: a 400 is never retried", got, len(tests))
	}
}

func TestDeploymentsEveryFilterAgainstEmulator(t *testing.T) {
	_, base := astroapitest.NewTestServer(t, smallState(), unlimited)
	c := newClient(t, base)
	dep := func(id, name, ws, wsName string) astroapi.Deployment {
		return astroapi.Deployment{ID: id, Name: name, WorkspaceID: ws, WorkspaceName: wsName, OrganizationID: orgID}
	}
	alphaProd := dep(depAlphaProd, "prod", wsAlpha, "alpha")
	alphaStg := dep(depAlphaStg, "staging", wsAlpha, "alpha")
	betaProd := dep(depBetaProd, "prod", wsBeta, "beta")
	tests := []struct {
		name   string
		filter astroapi.DeploymentFilter
		want   []astroapi.Deployment
	}{
		{name: "no filter", want: []astroapi.Deployment{alphaProd, alphaStg, betaProd}},
		{name: "deploymentIds, any order asked", filter: astroapi.DeploymentFilter{DeploymentIDs: []string{depBetaProd, depAlphaProd}}, want: []astroapi.Deployment{alphaProd, betaProd}},
		{name: "workspaceIds", filter: astroapi.DeploymentFilter{WorkspaceIDs: []string{wsAlpha}}, want: []astroapi.Deployment{alphaProd, alphaStg}},
		{name: "workspaceIds, several", filter: astroapi.DeploymentFilter{WorkspaceIDs: []string{wsBeta, wsAlpha}}, want: []astroapi.Deployment{alphaProd, alphaStg, betaProd}},
		{name: "names: one name in two workspaces", filter: astroapi.DeploymentFilter{Names: []string{"prod"}}, want: []astroapi.Deployment{alphaProd, betaProd}},
		{name: "names and workspaceIds", filter: astroapi.DeploymentFilter{Names: []string{"prod"}, WorkspaceIDs: []string{wsBeta}}, want: []astroapi.Deployment{betaProd}},
		{name: "unknown id matches nothing", filter: astroapi.DeploymentFilter{DeploymentIDs: []string{"dep-nope"}}, want: []astroapi.Deployment{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Deployments(context.Background(), orgID, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			opts := cmpopts.IgnoreFields(astroapi.Deployment{}, "Namespace", "Status", "CreatedAt", "UpdatedAt")
			if diff := cmp.Diff(tt.want, got, opts); diff != "" {
				t.Errorf("Deployments (-want +got):\n%s", diff)
			}
			for _, d := range got {
				if d.Namespace == "" || d.Status == "" || d.CreatedAt.IsZero() {
					t.Errorf("deployment %s lacks namespace, status or createdAt: %+v", d.ID, d)
				}
			}
		})
	}
}

func TestWorkspacesEveryFilterAgainstEmulator(t *testing.T) {
	_, base := astroapitest.NewTestServer(t, smallState(), unlimited)
	c := newClient(t, base)
	alpha := astroapi.Workspace{ID: wsAlpha, Name: "alpha", Description: "The alpha team", OrganizationID: orgID}
	beta := astroapi.Workspace{ID: wsBeta, Name: "beta", OrganizationID: orgID}
	tests := []struct {
		name   string
		filter astroapi.WorkspaceFilter
		want   []astroapi.Workspace
	}{
		{name: "no filter", want: []astroapi.Workspace{alpha, beta}},
		{name: "workspaceIds", filter: astroapi.WorkspaceFilter{WorkspaceIDs: []string{wsBeta}}, want: []astroapi.Workspace{beta}},
		{name: "names", filter: astroapi.WorkspaceFilter{Names: []string{"alpha"}}, want: []astroapi.Workspace{alpha}},
		{name: "workspaceIds and names disjoint", filter: astroapi.WorkspaceFilter{WorkspaceIDs: []string{wsBeta}, Names: []string{"alpha"}}, want: []astroapi.Workspace{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Workspaces(context.Background(), orgID, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(astroapi.Workspace{}, "CreatedAt", "UpdatedAt")); diff != "" {
				t.Errorf("Workspaces (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRolesCustomAndDefaultAgainstEmulator(t *testing.T) {
	_, base := astroapitest.NewTestServer(t, smallState(), unlimited)
	c := newClient(t, base)
	viewer := astroapi.CustomRole{ID: "role-viewer", Name: roleViewer, Description: "Reads deployments", ScopeType: astroapi.ScopeDeployment}
	deployer := astroapi.CustomRole{ID: "role-deployer", Name: roleDeployer, Description: "Deploys in alpha", ScopeType: astroapi.ScopeDeployment, RestrictedWorkspaceIDs: []string{wsAlpha}}
	auditor := astroapi.CustomRole{ID: "role-auditor", Name: roleAuditor, ScopeType: astroapi.ScopeWorkspace}
	workspaceDefaults := []string{"WORKSPACE_OWNER", "WORKSPACE_OPERATOR", "WORKSPACE_AUTHOR", "WORKSPACE_MEMBER", "WORKSPACE_ACCESSOR"}
	orgDefaults := []string{"ORGANIZATION_OWNER", "ORGANIZATION_BILLING_ADMIN", "ORGANIZATION_MEMBER", "ORGANIZATION_OBSERVE_ADMIN", "ORGANIZATION_OBSERVE_MEMBER"}
	tests := []struct {
		name         string
		filter       astroapi.RoleFilter
		wantCustom   []astroapi.CustomRole
		wantDefaults []string // names, in the API's order; nil: none asked
	}{
		{name: "no filter: custom roles only", wantCustom: []astroapi.CustomRole{viewer, deployer, auditor}},
		{name: "scopeTypes DEPLOYMENT", filter: astroapi.RoleFilter{ScopeTypes: []string{astroapi.ScopeDeployment}}, wantCustom: []astroapi.CustomRole{viewer, deployer}},
		{
			name:       "scopeTypes DEPLOYMENT with default roles",
			filter:     astroapi.RoleFilter{ScopeTypes: []string{astroapi.ScopeDeployment}, IncludeDefaultRoles: true},
			wantCustom: []astroapi.CustomRole{viewer, deployer}, wantDefaults: []string{astroapi.RoleDeploymentAdmin, astroapi.RoleDeploymentAccessor},
		},
		{
			name:       "scopeTypes WORKSPACE with default roles",
			filter:     astroapi.RoleFilter{ScopeTypes: []string{astroapi.ScopeWorkspace}, IncludeDefaultRoles: true},
			wantCustom: []astroapi.CustomRole{auditor}, wantDefaults: workspaceDefaults,
		},
		{
			name:       "scopeTypes ORGANIZATION: no custom role, the built-in ones",
			filter:     astroapi.RoleFilter{ScopeTypes: []string{astroapi.ScopeOrganization}, IncludeDefaultRoles: true},
			wantCustom: []astroapi.CustomRole{}, wantDefaults: orgDefaults,
		},
		{
			name:         "every scope with default roles",
			filter:       astroapi.RoleFilter{IncludeDefaultRoles: true},
			wantCustom:   []astroapi.CustomRole{viewer, deployer, auditor},
			wantDefaults: slices.Concat(orgDefaults, workspaceDefaults, []string{astroapi.RoleDeploymentAdmin, astroapi.RoleDeploymentAccessor, astroapi.RoleDAGViewer, astroapi.RoleDAGAuthor}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Roles(context.Background(), orgID, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			opts := []cmp.Option{cmpopts.IgnoreFields(astroapi.CustomRole{}, "CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy"), cmpopts.EquateEmpty()}
			if diff := cmp.Diff(tt.wantCustom, got.Custom, opts...); diff != "" {
				t.Errorf("custom roles (-want +got):\n%s", diff)
			}
			if tt.wantDefaults == nil {
				if got.Default != nil {
					t.Errorf("default roles = %v, want none without includeDefaultRoles", got.Default)
				}
				return
			}
			names := project(got.Default, func(r astroapi.DefaultRole) string { return r.Name })
			if diff := cmp.Diff(tt.wantDefaults, names); diff != "" {
				t.Errorf("default role names (-want +got):\n%s", diff)
			}
			for _, d := range got.Default {
				if d.ScopeType == "" || len(d.Permissions) == 0 {
					t.Errorf("default role %s lacks scopeType or permissions: %+v", d.Name, d)
				}
			}
		})
	}
}

// TestExampleOrgListsMatchState runs every list of the client against the
// emulator seeded with examples/org.yaml and checks them against the state
// file, so that the example never rots.
func TestExampleOrgListsMatchState(t *testing.T) {
	st, err := astroapitest.LoadState("../examples/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, base := astroapitest.NewTestServer(t, st, unlimited)
	c := newClient(t, base, astroapi.WithPageSize(7))
	ctx := context.Background()
	org := st.Organization.ID

	// Tokens: createdAt order (every token of the file has one), then id.
	type tokenView struct {
		ID, Name, Description, Scope string
		Roles                        []astroapi.Role
	}
	wantTokens := slices.Clone(st.Tokens)
	slices.SortStableFunc(wantTokens, func(a, b astroapitest.Token) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	want := project(wantTokens, func(t astroapitest.Token) tokenView {
		return tokenView{t.ID, t.Name, t.Description, t.Scope, t.Roles}
	})
	gotTokens, err := c.Tokens(ctx, org, astroapi.TokenFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := project(gotTokens, func(t astroapi.Token) tokenView { return tokenView{t.ID, t.Name, t.Description, t.Scope, t.Roles} })
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("tokens (-state +client):\n%s", diff)
	}

	orgTokens, err := c.Tokens(ctx, org, astroapi.TokenFilter{IncludeOnlyOrganizationTokens: true})
	if err != nil {
		t.Fatal(err)
	}
	var wantOrg []string
	for _, tv := range want {
		if tv.Scope == astroapi.ScopeOrganization {
			wantOrg = append(wantOrg, tv.ID)
		}
	}
	if diff := cmp.Diff(wantOrg, tokenIDs(orgTokens)); diff != "" {
		t.Errorf("organization tokens (-state +client):\n%s", diff)
	}

	deps, err := c.Deployments(ctx, org, astroapi.DeploymentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	wantDeps := project(st.Deployments, func(d astroapitest.Deployment) [3]string { return [3]string{d.ID, d.Name, d.WorkspaceID} })
	gotDeps := project(deps, func(d astroapi.Deployment) [3]string { return [3]string{d.ID, d.Name, d.WorkspaceID} })
	if diff := cmp.Diff(wantDeps, gotDeps); diff != "" {
		t.Errorf("deployments (-state +client):\n%s", diff)
	}

	wss, err := c.Workspaces(ctx, org, astroapi.WorkspaceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	wantWS := project(st.Workspaces, func(w astroapitest.Workspace) [3]string { return [3]string{w.ID, w.Name, w.Description} })
	gotWS := project(wss, func(w astroapi.Workspace) [3]string { return [3]string{w.ID, w.Name, w.Description} })
	if diff := cmp.Diff(wantWS, gotWS); diff != "" {
		t.Errorf("workspaces (-state +client):\n%s", diff)
	}

	roles, err := c.Roles(ctx, org, astroapi.RoleFilter{ScopeTypes: []string{astroapi.ScopeDeployment}, IncludeDefaultRoles: true})
	if err != nil {
		t.Fatal(err)
	}
	wantRoles := project(st.Roles, func(r astroapitest.CustomRole) astroapi.CustomRole {
		return astroapi.CustomRole{ID: r.ID, Name: r.Name, Description: r.Description, ScopeType: r.ScopeType, RestrictedWorkspaceIDs: r.RestrictedWorkspaceIDs}
	})
	opts := []cmp.Option{cmpopts.IgnoreFields(astroapi.CustomRole{}, "CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy"), cmpopts.EquateEmpty()}
	if diff := cmp.Diff(wantRoles, roles.Custom, opts...); diff != "" {
		t.Errorf("custom roles (-state +client):\n%s", diff)
	}
	if diff := cmp.Diff([]string{astroapi.RoleDeploymentAdmin, astroapi.RoleDeploymentAccessor}, project(roles.Default, func(r astroapi.DefaultRole) string { return r.Name })); diff != "" {
		t.Errorf("default deployment roles (-want +got):\n%s", diff)
	}
}

// pagedState is an organization large enough for several pages: token
// names are not in createdAt order, so a sorted list pages differently.
func pagedState() *astroapitest.State {
	st := &astroapitest.State{Organization: astroapitest.Organization{ID: orgID, Name: "Paged Org"}}
	for i := range 3 {
		st.Workspaces = append(st.Workspaces, astroapitest.Workspace{ID: fmt.Sprintf("ws-%d", i), Name: fmt.Sprintf("workspace-%d", i)})
	}
	for i := range 10 {
		st.Deployments = append(st.Deployments, astroapitest.Deployment{ID: fmt.Sprintf("dep-%02d", i), Name: fmt.Sprintf("deployment-%02d", i), WorkspaceID: fmt.Sprintf("ws-%d", i%3)})
	}
	for i := range 7 {
		st.Roles = append(st.Roles, astroapitest.CustomRole{ID: fmt.Sprintf("role-%d", i), Name: fmt.Sprintf("CUSTOM_%d", i), ScopeType: astroapi.ScopeDeployment})
	}
	for i := range 13 {
		ws := fmt.Sprintf("ws-%d", i%3)
		st.Tokens = append(st.Tokens, astroapitest.Token{
			ID: fmt.Sprintf("tok-%02d", i), Name: fmt.Sprintf("token-%02d", (i*5)%13), Scope: astroapi.ScopeWorkspace,
			Roles: []astroapi.Role{role(astroapi.EntityWorkspace, ws, "WORKSPACE_MEMBER")},
		})
	}
	return st
}

// drainAll lists everything the pagination test looks at.
type drained struct {
	Tokens, TokensByName []astroapi.Token
	Deployments          []astroapi.Deployment
	Workspaces           []astroapi.Workspace
	Roles                astroapi.Roles
}

func drainAll(t *testing.T, c *astroapi.Client) drained {
	t.Helper()
	ctx := context.Background()
	var d drained
	var err error
	if d.Tokens, err = c.Tokens(ctx, orgID, astroapi.TokenFilter{}); err != nil {
		t.Fatal(err)
	}
	if d.TokensByName, err = c.Tokens(ctx, orgID, astroapi.TokenFilter{Sorts: []string{"name:desc"}}); err != nil {
		t.Fatal(err)
	}
	if d.Deployments, err = c.Deployments(ctx, orgID, astroapi.DeploymentFilter{}); err != nil {
		t.Fatal(err)
	}
	if d.Workspaces, err = c.Workspaces(ctx, orgID, astroapi.WorkspaceFilter{}); err != nil {
		t.Fatal(err)
	}
	if d.Roles, err = c.Roles(ctx, orgID, astroapi.RoleFilter{IncludeDefaultRoles: true}); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPaginationDrainsShortPagesInOrder(t *testing.T) {
	st := pagedState()
	nTokens, nDeps, nWS, nRoles := len(st.Tokens), len(st.Deployments), len(st.Workspaces), len(st.Roles)

	// What a single page of 1000 answers, and its order checked against the state.
	_, refBase := astroapitest.NewTestServer(t, st, unlimited)
	ref := drainAll(t, newClient(t, refBase))
	wantIDs := func(n int, format string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(format, i)
		}
		return out
	}
	if diff := cmp.Diff(wantIDs(nTokens, "tok-%02d"), tokenIDs(ref.Tokens)); diff != "" {
		t.Fatalf("reference token order (-want +got):\n%s", diff)
	}
	byName := slices.Clone(ref.Tokens)
	slices.SortFunc(byName, func(a, b astroapi.Token) int { return strings.Compare(b.Name, a.Name) })
	if diff := cmp.Diff(tokenIDs(byName), tokenIDs(ref.TokensByName)); diff != "" {
		t.Fatalf("reference name:desc order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantIDs(nDeps, "dep-%02d"), project(ref.Deployments, func(d astroapi.Deployment) string { return d.ID })); diff != "" {
		t.Fatalf("reference deployment order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantIDs(nWS, "ws-%d"), project(ref.Workspaces, func(w astroapi.Workspace) string { return w.ID })); diff != "" {
		t.Fatalf("reference workspace order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantIDs(nRoles, "role-%d"), project(ref.Roles.Custom, func(r astroapi.CustomRole) string { return r.ID })); diff != "" {
		t.Fatalf("reference role order (-want +got):\n%s", diff)
	}

	pages := func(n, per int) int { return max(1, (n+per-1)/per) }
	tests := []struct {
		maxPage  int // the emulator's cap (0: none)
		pageSize int // the client's limit
	}{
		{maxPage: 1, pageSize: 1000},
		{maxPage: 3, pageSize: 1000},
		{maxPage: 3, pageSize: 5},
		{maxPage: 3, pageSize: 2},
		{maxPage: 1, pageSize: 4},
		{maxPage: 0, pageSize: 2},
		{maxPage: 0, pageSize: 5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("MaxPageSize=%d/WithPageSize=%d", tt.maxPage, tt.pageSize), func(t *testing.T) {
			srv, base := astroapitest.NewTestServer(t, st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit, MaxPageSize: tt.maxPage})
			c := newClient(t, base, astroapi.WithPageSize(tt.pageSize))
			got := drainAll(t, c)
			if diff := cmp.Diff(ref, got); diff != "" {
				t.Errorf("drained lists differ from one big page (-want +got):\n%s", diff)
			}
			per := tt.pageSize
			if tt.maxPage > 0 {
				per = min(per, tt.maxPage)
			}
			want := map[string]int{
				routeTokens:      2 * pages(nTokens, per),
				routeDeployments: pages(nDeps, per),
				routeWorkspaces:  pages(nWS, per),
				routeRoles:       pages(nRoles, per),
			}
			if diff := cmp.Diff(want, srv.Stats().Requests); diff != "" {
				t.Errorf("GETs per route (-want +got):\n%s", diff)
			}
			total := 0
			for _, n := range want {
				total += n
			}
			if s := c.Stats(); s.Requests != total || s.Retries != 0 {
				t.Errorf("client stats = %+v, want %d requests and no retry", s, total)
			}
		})
	}
}

// TestTypedErrorsFromEmulator checks that 404, 401 and 403 answers of the
// emulator come back as *astroapi.Error matching the sentinels, with a
// request id, and never contain a credential.
func TestTypedErrorsFromEmulator(t *testing.T) {
	const (
		orgSecret      = "tsk_org_1f2e-SECRET"
		confinedSecret = "tsk_alpha_3d4c-SECRET"
		readOnlySecret = "tsk_ro_5b6a-SECRET"
		wrongSecret    = "tsk_wrong_7988-SECRET"
	)
	st := smallState()
	st.Credentials = []astroapitest.Credential{
		{Secret: orgSecret},
		{Secret: confinedSecret, WorkspaceIDs: []string{wsAlpha}},
		{Secret: readOnlySecret, ReadOnly: true},
	}
	_, base := astroapitest.NewTestServer(t, st, unlimited)
	clients := map[string]*astroapi.Client{}
	for _, s := range []string{orgSecret, confinedSecret, readOnlySecret, wrongSecret, ""} {
		c, err := astroapi.New(base, astroapi.WithCredential(s), astroapi.WithRateLimits(0, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		clients[s] = c
	}
	ctx := context.Background()
	keep := []astroapi.Role{role(astroapi.EntityWorkspace, wsBeta, "WORKSPACE_AUTHOR")}
	tests := []struct {
		name   string
		secret string
		call   func(c *astroapi.Client) error
		want   error
		status int
	}{
		{"unknown organization: Tokens", orgSecret, func(c *astroapi.Client) error {
			_, err := c.Tokens(ctx, "org-nope", astroapi.TokenFilter{})
			return err
		}, astroapi.ErrNotFound, 404},
		{"unknown organization: Deployments", orgSecret, func(c *astroapi.Client) error {
			_, err := c.Deployments(ctx, "org-nope", astroapi.DeploymentFilter{})
			return err
		}, astroapi.ErrNotFound, 404},
		{"unknown token: Token", orgSecret, func(c *astroapi.Client) error {
			_, err := c.Token(ctx, orgID, "tok-nope")
			return err
		}, astroapi.ErrNotFound, 404},
		{"unknown token: SetTokenRoles", orgSecret, func(c *astroapi.Client) error {
			_, err := c.SetTokenRoles(ctx, orgID, "tok-nope", keep)
			return err
		}, astroapi.ErrNotFound, 404},
		{"wrong bearer: Token", wrongSecret, func(c *astroapi.Client) error {
			_, err := c.Token(ctx, orgID, tokCI)
			return err
		}, astroapi.ErrUnauthorized, 401},
		{"wrong bearer: Tokens", wrongSecret, func(c *astroapi.Client) error {
			_, err := c.Tokens(ctx, orgID, astroapi.TokenFilter{})
			return err
		}, astroapi.ErrUnauthorized, 401},
		{"wrong bearer: SetTokenRoles", wrongSecret, func(c *astroapi.Client) error {
			_, err := c.SetTokenRoles(ctx, orgID, tokBot, keep)
			return err
		}, astroapi.ErrUnauthorized, 401},
		{"no credential", "", func(c *astroapi.Client) error {
			_, err := c.Workspaces(ctx, orgID, astroapi.WorkspaceFilter{})
			return err
		}, astroapi.ErrUnauthorized, 401},
		{"confined credential lists tokens org-wide", confinedSecret, func(c *astroapi.Client) error {
			_, err := c.Tokens(ctx, orgID, astroapi.TokenFilter{})
			return err
		}, astroapi.ErrForbidden, 403},
		{"confined credential lists deployments org-wide", confinedSecret, func(c *astroapi.Client) error {
			_, err := c.Deployments(ctx, orgID, astroapi.DeploymentFilter{})
			return err
		}, astroapi.ErrForbidden, 403},
		{"confined credential lists tokens of another workspace", confinedSecret, func(c *astroapi.Client) error {
			_, err := c.Tokens(ctx, orgID, astroapi.TokenFilter{WorkspaceID: wsBeta})
			return err
		}, astroapi.ErrForbidden, 403},
		{"confined credential reads a token of another workspace", confinedSecret, func(c *astroapi.Client) error {
			_, err := c.Token(ctx, orgID, tokBot)
			return err
		}, astroapi.ErrForbidden, 403},
		{"confined credential writes a token of another workspace", confinedSecret, func(c *astroapi.Client) error {
			_, err := c.SetTokenRoles(ctx, orgID, tokBot, keep)
			return err
		}, astroapi.ErrForbidden, 403},
		{"read-only credential writes", readOnlySecret, func(c *astroapi.Client) error {
			_, err := c.SetTokenRoles(ctx, orgID, tokBot, keep)
			return err
		}, astroapi.ErrForbidden, 403},
	}
	sentinels := []error{astroapi.ErrNotFound, astroapi.ErrUnauthorized, astroapi.ErrForbidden}
	secrets := []string{orgSecret, confinedSecret, readOnlySecret, wrongSecret}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(clients[tt.secret])
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %t, want %t", err, s, got, s == tt.want)
				}
			}
			var apiErr *astroapi.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want an *astroapi.Error", err, err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Message == "" || !strings.HasPrefix(apiErr.RequestID, "req-") {
				t.Errorf("error = %+v, want status %d with the API's message and request id", apiErr, tt.status)
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("error text contains credential %q: %s", s, text)
					}
				}
			}
		})
	}

	// The confined credential works within its workspace: its 403s above
	// come from the scope, not from a broken credential.
	t.Run("confined credential within its workspace", func(t *testing.T) {
		c := clients[confinedSecret]
		toks, err := c.Tokens(ctx, orgID, astroapi.TokenFilter{WorkspaceID: wsAlpha})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{tokCI, tokDAG}, tokenIDs(toks)); diff != "" {
			t.Errorf("tokens (-want +got):\n%s", diff)
		}
		wss, err := c.Workspaces(ctx, orgID, astroapi.WorkspaceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{wsAlpha}, project(wss, func(w astroapi.Workspace) string { return w.ID })); diff != "" {
			t.Errorf("workspaces (-want +got):\n%s", diff)
		}
	})
}

// TestFaultsAreRetriedExcept500 sends 100 GETs through the client at an
// emulator that injects a fault into 30% of requests (500, 502, 503, 429
// without Retry-After, dropped connection), keep-alives on. By the
// client's contract (doc.go, docs/style.md) 429, 502, 503 and transport
// errors are retried and 500 is not: every call either succeeds or fails
// with exactly one of the emulator's injected 500s.
func TestFaultsAreRetriedExcept500(t *testing.T) {
	const n = 100
	srv, base := astroapitest.NewTestServer(t, smallState(), astroapitest.Options{
		RateLimits: astroapitest.NoRateLimit, FaultRate: 0.3, FaultSeed: 20260128,
	})
	c := newClient(t, base, astroapi.WithMaxRetries(8), astroapi.WithBackoff(time.Millisecond, 10*time.Millisecond))
	tokens := []string{tokAdmin, tokBot, tokCI, tokKey, tokDAG, tokObs}
	ok, failed500 := 0, 0
	for i := range n {
		id := tokens[i%len(tokens)]
		got, err := c.Token(context.Background(), orgID, id)
		if err != nil {
			var apiErr *astroapi.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusInternalServerError ||
				!strings.HasPrefix(apiErr.Message, "injected fault") {
				t.Errorf("GET %d of token %s: %v; want success or an injected 500", i, id, err)
				continue
			}
			failed500++
			continue
		}
		if got.ID != id {
			t.Errorf("GET %d: token %q, want %q", i, got.ID, id)
		}
		ok++
	}

	es, cs := srv.Stats(), c.Stats()
	retryable := es.Statuses[429] + es.Statuses[502] + es.Statuses[503] + es.Statuses[0]
	t.Logf("%d GETs: %d succeeded, %d failed with a 500; emulator statuses %v; client %d attempts, %d retries",
		n, ok, failed500, es.Statuses, cs.Requests, cs.Retries)
	if retryable == 0 {
		t.Fatalf("the emulator injected no retryable fault (statuses %v): the seed tests nothing", es.Statuses)
	}
	if cs.Retries == 0 {
		t.Errorf("client stats %+v: no retry despite %d retryable faults", cs, retryable)
	}
	if es.Statuses[200] != ok {
		t.Errorf("emulator answered 200 %d times for %d successful calls", es.Statuses[200], ok)
	}
	if es.Statuses[500] != failed500 {
		t.Errorf("emulator answered 500 %d times, %d calls failed with it: a 500 was retried or lost", es.Statuses[500], failed500)
	}
	// Every retry follows a retryable answer or a transport error; Go's
	// transport may also resend a GET whose reused connection dropped, so
	// the emulator may count more drops than the client saw.
	seen := cs.ByStatus[429] + cs.ByStatus[502] + cs.ByStatus[503]
	if cs.Retries < seen || cs.Retries > seen+es.Statuses[0] {
		t.Errorf("client retried %d times after %d retryable statuses and at most %d drops", cs.Retries, seen, es.Statuses[0])
	}
	if cs.Requests != n+cs.Retries {
		t.Errorf("client sent %d attempts for %d calls and %d retries", cs.Requests, n, cs.Retries)
	}
}

// TestBurst200GETsRawDraws429sClientNone is the acceptance test:
// a burst of 200 GETs from one credential at the emulator's default
// limits (Astro's, GET 25/s) draws 429s when sent raw, and none when sent
// through a Client with default settings, which then takes about 200/25 s.
func TestBurst200GETsRawDraws429sClientNone(t *testing.T) {
	t.Parallel()
	const (
		n         = 200
		workers   = 20
		tolerance = 50 * time.Millisecond
	)
	path := "/organizations/" + orgID + "/tokens/" + tokCI

	// (a) Raw: net/http from 20 goroutines, nothing spacing the requests.
	rawSrv, rawBase := astroapitest.NewTestServer(t, smallState(), astroapitest.Options{})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	var raw200, raw429, noRetryAfter atomic.Int64
	runWorkers(n, workers, func(int) {
		req, err := http.NewRequest(http.MethodGet, rawBase+path, nil)
		if err != nil {
			t.Error(err)
			return
		}
		req.Header.Set("Authorization", "Bearer "+testCredential)
		resp, err := hc.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			raw200.Add(1)
		case http.StatusTooManyRequests:
			raw429.Add(1)
			if resp.Header.Get("Retry-After") == "" {
				noRetryAfter.Add(1)
			}
		default:
			t.Errorf("raw GET: status %d", resp.StatusCode)
		}
	})
	rawStats := rawSrv.Stats()
	if raw429.Load() == 0 {
		t.Errorf("raw burst: no 429 in %d GETs (emulator statuses %v)", n, rawStats.Statuses)
	}
	if raw200.Load() < int64(astroapitest.AstroLimits.GET) {
		t.Errorf("raw burst: %d answered 200, want at least the burst of %g", raw200.Load(), astroapitest.AstroLimits.GET)
	}
	if got := int64(rawStats.Statuses[429]); got != raw429.Load() {
		t.Errorf("emulator counted %d 429s, the raw client received %d", got, raw429.Load())
	}
	if noRetryAfter.Load() > 0 {
		t.Errorf("%d 429s without Retry-After", noRetryAfter.Load())
	}

	// (b) Through one Client with default settings, at a fresh emulator.
	srv, base := astroapitest.NewTestServer(t, smallState(), astroapitest.Options{})
	c, err := astroapi.New(base, astroapi.WithCredential(testCredential))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	runWorkers(n, workers/2, func(int) {
		if _, err := c.Token(context.Background(), orgID, tokCI); err != nil {
			t.Error(err)
		}
	})
	elapsed := time.Since(start)
	es, cs := srv.Stats(), c.Stats()
	t.Logf("raw: %d GETs from %d goroutines drew %d 429s (%d answered 200)", n, workers, raw429.Load(), raw200.Load())
	t.Logf("client: %d GETs from %d goroutines took %v (floor %v), emulator 429s %d, client retries %d",
		n, workers/2, elapsed.Round(time.Millisecond), clientFloor(n, astroapi.DefaultGetRate), es.Statuses[429], cs.Retries)
	if es.Statuses[429] != 0 || cs.RateLimited != 0 {
		t.Errorf("through the client: emulator answered 429 %d times, client saw %d", es.Statuses[429], cs.RateLimited)
	}
	if es.Statuses[http.StatusOK] != n || cs.Requests != n || cs.Retries != 0 {
		t.Errorf("through the client: emulator statuses %v, client stats %+v; want %d answers of 200 and no retry", es.Statuses, cs, n)
	}
	if floor := clientFloor(n, astroapi.DefaultGetRate) - tolerance; elapsed < floor {
		t.Errorf("through the client: %d GETs took %v, want at least %v at %d/s", n, elapsed, floor, astroapi.DefaultGetRate)
	}
}

// TestDefaultLimiterSpacesPOSTsAt10PerSecond writes roles 30 times through
// a Client with default settings at an emulator with Astro's limits (POST
// 10/s): none draws a 429.
func TestDefaultLimiterSpacesPOSTsAt10PerSecond(t *testing.T) {
	t.Parallel()
	const (
		n         = 30
		tolerance = 50 * time.Millisecond
	)
	st := smallState()
	srv, base := astroapitest.NewTestServer(t, st, astroapitest.Options{})
	c, err := astroapi.New(base, astroapi.WithCredential(testCredential))
	if err != nil {
		t.Fatal(err)
	}
	// Each call re-sends a token's current list: a valid, idempotent write.
	start := time.Now()
	runWorkers(n, len(st.Tokens), func(i int) {
		tok := st.Tokens[i%len(st.Tokens)]
		if _, err := c.SetTokenRoles(context.Background(), orgID, tok.ID, tok.Roles); err != nil {
			t.Error(err)
		}
	})
	elapsed := time.Since(start)
	es, cs := srv.Stats(), c.Stats()
	t.Logf("client: %d POSTs took %v (floor %v), emulator 429s %d, client retries %d",
		n, elapsed.Round(time.Millisecond), clientFloor(n, astroapi.DefaultPostRate), es.Statuses[429], cs.Retries)
	if es.Statuses[429] != 0 || cs.RateLimited != 0 {
		t.Errorf("emulator answered 429 %d times, client saw %d", es.Statuses[429], cs.RateLimited)
	}
	writes := 0
	for _, w := range es.RoleWrites {
		writes += w
	}
	if writes != n || cs.Retries != 0 {
		t.Errorf("emulator applied %d role writes, client retried %d times; want %d and none", writes, cs.Retries, n)
	}
	if floor := clientFloor(n, astroapi.DefaultPostRate) - tolerance; elapsed < floor {
		t.Errorf("%d POSTs took %v, want at least %v at %d/s", n, elapsed, floor, astroapi.DefaultPostRate)
	}
}

// clientFloor is the least time n requests take through a limiter of
// perSecond with a burst of 1: the first goes at once, each next one
// 1/perSecond later.
func clientFloor(n, perSecond int) time.Duration {
	return time.Duration(math.Round(float64(n-1) / float64(perSecond) * float64(time.Second)))
}

// runWorkers calls f(0..n-1) from workers goroutines and waits for all.
func runWorkers(n, workers int, f func(i int)) {
	jobs := make(chan int)
	var wg gosync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				f(i)
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}
