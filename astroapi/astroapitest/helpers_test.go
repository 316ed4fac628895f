package astroapitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
)

const (
	org    = "clx0org0000000000000000"
	bearer = "Bearer test-secret"
)

// testState is a small organization used by most tests:
//
//	ws-a (alpha): dep-a1, dep-a2      ws-b (beta): dep-b1
//	tok-ws-a  WORKSPACE ws-a   WORKSPACE_MEMBER; DEPLOYMENT_ADMIN on dep-a1
//	tok-ws-b  WORKSPACE ws-b   WORKSPACE_MEMBER; DEPLOYMENT_VIEWER on dep-b1
//	tok-org   ORGANIZATION     ORGANIZATION_MEMBER; DEPLOYMENT_ADMIN on dep-a1; WORKSPACE_AUTHOR on ws-b
//	tok-dep   DEPLOYMENT dep-a2 DEPLOYMENT_ADMIN
//	tok-dag   WORKSPACE ws-a   WORKSPACE_MEMBER; DAG etl on dep-a2
//
// Custom roles: DAG_DEPLOYER (DEPLOYMENT, ws-a only), DEPLOYMENT_VIEWER
// (DEPLOYMENT), WORKSPACE_AUDITOR (WORKSPACE), DAG_RUNNER (DAG, ws-a only).
func testState() *State {
	return &State{
		Organization: Organization{ID: org, Name: "Test Org"},
		Workspaces: []Workspace{
			{ID: "ws-a", Name: "alpha", Description: "first"},
			{ID: "ws-b", Name: "beta"},
		},
		Deployments: []Deployment{
			{ID: "dep-a1", Name: "prod", WorkspaceID: "ws-a"},
			{ID: "dep-a2", Name: "staging", WorkspaceID: "ws-a"},
			{ID: "dep-b1", Name: "prod", WorkspaceID: "ws-b"},
		},
		Roles: []CustomRole{
			{ID: "role-dd", Name: "DAG_DEPLOYER", ScopeType: astroapi.ScopeDeployment, RestrictedWorkspaceIDs: []string{"ws-a"}},
			{Name: "DEPLOYMENT_VIEWER", ScopeType: astroapi.ScopeDeployment},
			{ID: "role-wa", Name: "WORKSPACE_AUDITOR", ScopeType: astroapi.ScopeWorkspace},
			{ID: "role-dr", Name: "DAG_RUNNER", ScopeType: astroapi.ScopeDAG, RestrictedWorkspaceIDs: []string{"ws-a"},
				Permissions: []string{"deployment.dags.get", "deployment.dagRuns.create"}},
		},
		Tokens: []Token{
			{ID: "tok-ws-a", Name: "ci-deployer", Description: "deploys alpha", Scope: astroapi.ScopeWorkspace, Roles: []astroapi.Role{
				wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "DEPLOYMENT_ADMIN")}},
			{ID: "tok-ws-b", Name: "ci-deployer", Scope: astroapi.ScopeWorkspace, Roles: []astroapi.Role{
				wsRole("ws-b", "WORKSPACE_MEMBER"), depRole("dep-b1", "DEPLOYMENT_VIEWER")}},
			{ID: "tok-org", Name: "org-bot", Scope: astroapi.ScopeOrganization, Roles: []astroapi.Role{
				orgRole("ORGANIZATION_MEMBER"), depRole("dep-a1", "DEPLOYMENT_ADMIN"), wsRole("ws-b", "WORKSPACE_AUTHOR")}},
			{ID: "tok-dep", Name: "deploy-key", Scope: astroapi.ScopeDeployment, Roles: []astroapi.Role{
				depRole("dep-a2", "DEPLOYMENT_ADMIN")}},
			{ID: "tok-dag", Name: "dag-bot", Scope: astroapi.ScopeWorkspace, Roles: []astroapi.Role{
				wsRole("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_VIEWER", "dep-a2")}},
		},
	}
}

func orgRole(role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityOrganization, EntityID: org, Role: role}
}

func wsRole(ws, role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityWorkspace, EntityID: ws, Role: role}
}

func depRole(dep, role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: role}
}

func dagRole(dag, role, dep string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: dag, Role: role, DeploymentID: dep}
}

// fetch sends one raw request; auth is the whole Authorization header ("" for none).
func fetch(t testing.TB, method, url, auth, body string) (*http.Response, []byte) {
	t.Helper()
	return fetchWith(t, http.DefaultClient, method, url, auth, body)
}

func fetchWith(t testing.TB, hc *http.Client, method, url, auth, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp, raw
}

// get fetches url with the test bearer, wants 200 and decodes the body strictly.
func get[T any](t testing.TB, url string) T {
	t.Helper()
	resp, raw := fetch(t, http.MethodGet, url, bearer, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200: %s", url, resp.StatusCode, raw)
	}
	return decode[T](t, raw)
}

func decode[T any](t testing.TB, raw []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, raw)
	}
	return v
}

// wantError checks that resp is an Error answer with status and returns its body.
func wantError(t testing.TB, resp *http.Response, raw []byte, status int) astroapi.ErrorBody {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body astroapi.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("error body: %v: %s", err, raw)
	}
	if body.StatusCode != status || body.Message == "" || body.RequestID == "" {
		t.Errorf("error body %+v: want statusCode %d, a message and a requestId", body, status)
	}
	return body
}

func tokenIDs(ts []astroapi.Token) []string {
	ids := []string{}
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

func fieldsOf(fe []astroapi.FieldError) []string {
	var out []string
	for _, e := range fe {
		out = append(out, e.Field+" "+e.Code)
	}
	return out
}

type tokenPage struct {
	Tokens     []astroapi.Token `json:"tokens"`
	TotalCount int              `json:"totalCount"`
	Offset     int              `json:"offset"`
	Limit      int              `json:"limit"`
}

func rolesBody(roles ...astroapi.Role) string {
	b, err := json.Marshal(map[string]any{"roles": roles})
	if err != nil {
		panic(err)
	}
	return string(b)
}
