package astroapitest

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
)

const validYAML = `organization: {id: clx0org0000000000000000, name: Test Org}
workspaces:
  - {id: ws-a, name: alpha, description: first}
deployments:
  - {id: dep-a1, name: prod, workspaceId: ws-a}
roles:
  - {name: DAG_DEPLOYER, scopeType: DEPLOYMENT, restrictedWorkspaceIds: [ws-a]}
  - {name: DAG_RUNNER, scopeType: DAG, permissions: [deployment.dags.get, deployment.dagRuns.create]}
tokens:
  - id: tok-1
    name: ci-deployer
    scope: WORKSPACE
    createdAt: 2024-05-01T12:00:00Z
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DAG_DEPLOYER}
      - {entityType: DAG, entityId: etl, role: DAG_RUNNER, deploymentId: dep-a1}
credentials:
  - {secret: s3cret, tokenId: tok-1, workspaceIds: [ws-a], readOnly: true}
`

func TestParseStateValid(t *testing.T) {
	got, err := ParseState("state.yaml", []byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := &State{
		Organization: Organization{ID: org, Name: "Test Org"},
		Workspaces:   []Workspace{{ID: "ws-a", Name: "alpha", Description: "first"}},
		Deployments:  []Deployment{{ID: "dep-a1", Name: "prod", WorkspaceID: "ws-a"}},
		Roles: []CustomRole{
			{Name: "DAG_DEPLOYER", ScopeType: "DEPLOYMENT", RestrictedWorkspaceIDs: []string{"ws-a"}, Permissions: []string{}},
			{Name: "DAG_RUNNER", ScopeType: "DAG", RestrictedWorkspaceIDs: []string{}, Permissions: []string{"deployment.dags.get", "deployment.dagRuns.create"}},
		},
		Tokens: []Token{{
			ID: "tok-1", Name: "ci-deployer", Scope: "WORKSPACE",
			CreatedAt: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
			Roles: []astroapi.Role{
				wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "DAG_DEPLOYER"), dagRole("etl", "DAG_RUNNER", "dep-a1"),
			},
		}},
		Users:       []User{},
		Teams:       []Team{},
		Credentials: []Credential{{Secret: "s3cret", TokenID: "tok-1", WorkspaceIDs: []string{"ws-a"}, ReadOnly: true}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseState (-want +got):\n%s", diff)
	}
}

// TestParseStateErrors checks that every kind of problem is reported, with
// its position, and all of them at once.
func TestParseStateErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "syntax",
			yaml: "organization: {id: x\n",
			want: []string{
				`s.yaml:1:1: did not find expected ',' or '}'`,
			},
		},
		{
			name: "a YAML 1.2 directive",
			yaml: "%YAML 1.2\n---\norganization: {id: x}\n",
			want: []string{
				`s.yaml:1:1: a %YAML directive other than %YAML 1.1 is not supported; remove the line (a state needs no directive)`,
			},
		},
		{
			name: "empty",
			yaml: "",
			want: []string{
				`s.yaml:1:1: empty state: want a mapping with organization, workspaces, deployments, roles, tokens`,
			},
		},
		{
			name: "a spec",
			yaml: "version: 1\norganization: o\ndeployments:\n  - id: d\n    workspaceTokens: []\n",
			want: []string{
				`s.yaml:1:1: this looks like a tokensync spec (it has a version key), not an emulator state; give it with -f s.yaml`,
			},
		},
		{
			name: "unknown and duplicate keys",
			yaml: `organization: {id: o, name: O, region: eu}
workspaces: []
workspaces: []
tokenz: []
`,
			want: []string{
				`s.yaml:1:32: organization: unknown key "region" (want one of id, name)`,
				`s.yaml:3:1: state: duplicate key "workspaces" (first at line 2)`,
				`s.yaml:4:1: state: unknown key "tokenz" (want one of credentials, deployments, organization, roles, teams, tokens, users, workspaces)`,
			},
		},
		{
			name: "wrong kinds",
			yaml: `organization: [o]
workspaces: {id: w}
credentials: [{secret: s, readOnly: "yes"}]
tokens: [{id: t, name: n, scope: ORGANIZATION, createdAt: yesterday, roles: []}]
`,
			want: []string{
				`s.yaml:1:15: organization: want a mapping, found a list`,
				`s.yaml:2:13: workspaces: want a list, found a mapping`,
				`s.yaml:3:37: credential readOnly: want true or false, found "yes"`,
				`s.yaml:4:59: token createdAt: want an RFC 3339 time such as 2024-05-01T12:00:00Z, found "yesterday"`,
				`s.yaml:4:77: token "t": roles must have at least 1 item`,
			},
		},
		{
			name: "duplicate ids and dangling references",
			yaml: `organization: {id: o, name: O}
workspaces:
  - {id: w, name: a}
  - {id: w, name: b}
deployments:
  - {id: d, name: x, workspaceId: w}
  - {id: d, name: y, workspaceId: nowhere}
roles:
  - {name: R, scopeType: DEPLOYMENT, restrictedWorkspaceIds: [w, gone]}
  - {name: R, scopeType: CLUSTER}
  - {name: workspace_owner, scopeType: WORKSPACE}
tokens:
  - {id: t, name: a, scope: ORGANIZATION, roles: [{entityType: ORGANIZATION, entityId: o, role: ORGANIZATION_MEMBER}]}
  - {id: t, name: b, scope: ORGANIZATION, roles: [{entityType: ORGANIZATION, entityId: o, role: ORGANIZATION_MEMBER}]}
credentials:
  - {secret: s, tokenId: nobody, workspaceIds: [w, lost]}
  - {secret: s}
`,
			want: []string{
				`s.yaml:4:10: duplicate workspace id "w"`,
				`s.yaml:7:10: duplicate deployment id "d"`,
				`s.yaml:7:35: deployment "d": unknown workspace "nowhere"`,
				`s.yaml:9:66: custom role "R": unknown workspace "gone"`,
				`s.yaml:10:12: duplicate custom role name "R"`,
				`s.yaml:10:26: custom role "R": scopeType "CLUSTER" is not one of ORGANIZATION, WORKSPACE, DEPLOYMENT, DAG`,
				`s.yaml:11:12: custom role "workspace_owner": the name of a built-in role`,
				`s.yaml:14:10: duplicate token id "t"`,
				`s.yaml:16:26: credential: unknown token "nobody"`,
				`s.yaml:16:52: credential: unknown workspace "lost"`,
				`s.yaml:17:14: duplicate credential secret`,
			},
		},
		{
			name: "bad scope, entity type and own-scope roles",
			yaml: `organization: {id: o, name: O}
workspaces: [{id: w, name: a}, {id: v, name: b}]
deployments: [{id: d, name: x, workspaceId: w}]
tokens:
  - {id: t1, name: a, scope: TEAM, roles: []}
  - id: t2
    name: b
    scope: WORKSPACE
    roles: [{entityType: CLUSTER, entityId: w, role: WORKSPACE_MEMBER}, {entityType: WORKSPACE, entityId: w, role: WORKSPACE_MEMBER}]
  - id: t3
    name: c
    scope: WORKSPACE
    roles: [{entityType: DEPLOYMENT, entityId: d, role: DEPLOYMENT_ADMIN}]
  - id: t4
    name: d
    scope: WORKSPACE
    roles: [{entityType: WORKSPACE, entityId: w, role: WORKSPACE_MEMBER}, {entityType: WORKSPACE, entityId: v, role: WORKSPACE_MEMBER}]
  - id: t5
    name: e
    scope: ORGANIZATION
    roles: [{entityType: WORKSPACE, entityId: w, role: WORKSPACE_OWNER}]
  - id: t6
    name: f
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: w, role: workspace_member}
      - {entityType: DEPLOYMENT, entityId: d, role: WORKSPACE_OWNER}
      - {entityType: DEPLOYMENT, entityId: gone, role: DEPLOYMENT_ADMIN}
`,
			want: []string{
				`s.yaml:5:30: token "t1": scope "TEAM" is not one of ORGANIZATION, WORKSPACE, DEPLOYMENT`,
				`s.yaml:9:26: token "t2": entityType "CLUSTER" is not one of ORGANIZATION, WORKSPACE, DEPLOYMENT, DAG, DAG_TAG`,
				`s.yaml:13:12: token "t3": a WORKSPACE token must hold exactly one WORKSPACE role (on its own workspace), found 0`,
				`s.yaml:17:12: token "t4": a WORKSPACE token must hold exactly one WORKSPACE role (on its own workspace), found 2`,
				`s.yaml:21:12: token "t5": an ORGANIZATION token must keep exactly one ORGANIZATION role on its own organization "o"`,
				`s.yaml:26:52: token "t6": built-in role "workspace_member" must be written "WORKSPACE_MEMBER", as the API stores it`,
				`s.yaml:27:53: token "t6": role "WORKSPACE_OWNER" is a WORKSPACE role and does not fit a DEPLOYMENT entity`,
				`s.yaml:28:44: token "t6": unknown deployment "gone"`,
			},
		},
		{
			name: "scope violations",
			yaml: `organization: {id: o, name: O}
workspaces: [{id: w, name: a}, {id: v, name: b}]
deployments: [{id: d, name: x, workspaceId: w}, {id: e, name: y, workspaceId: v}]
roles: [{name: R, scopeType: DEPLOYMENT, restrictedWorkspaceIds: [v]}]
tokens:
  - id: t1
    name: a
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: w, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: e, role: DEPLOYMENT_ADMIN}
      - {entityType: DEPLOYMENT, entityId: d, role: R}
  - id: t2
    name: b
    scope: DEPLOYMENT
    roles:
      - {entityType: DEPLOYMENT, entityId: d, role: DEPLOYMENT_ADMIN}
      - {entityType: WORKSPACE, entityId: w, role: WORKSPACE_MEMBER}
`,
			want: []string{
				`s.yaml:11:9: token "t1": a WORKSPACE token can hold roles only on deployments of its own workspace "w"; deployment "e" is in workspace "v"`,
				`s.yaml:12:53: token "t1": custom role "R" is restricted to workspaces v and cannot be granted in workspace "w"`,
				`s.yaml:18:9: token "t2": a DEPLOYMENT token can hold roles only on its own deployment "d"`,
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

func TestLoadStateMissingFile(t *testing.T) {
	_, err := LoadState(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("LoadState = %v, want an error naming the file", err)
	}
}

func TestValidateReportsPaths(t *testing.T) {
	st := testState()
	st.Workspaces[1].Name = ""
	st.Tokens[0].Roles[1].EntityID = "dep-zz"
	st.Tokens[1].Roles = nil
	err := st.Validate()
	want := `workspaces[1].name: workspace "ws-b": name is required
tokens[0].roles[1].entityId: token "tok-ws-a": unknown deployment "dep-zz"
tokens[1].roles: token "tok-ws-b": a WORKSPACE token must hold exactly one WORKSPACE role (on its own workspace), found 0`
	if err == nil || err.Error() != want {
		t.Errorf("Validate =\n%v\nwant\n%s", err, want)
	}
}

func TestNewServerPanicsOnInvalidState(t *testing.T) {
	st := testState()
	st.Tokens[0].Scope = "TEAM"
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `scope "TEAM"`) {
			t.Errorf("recover() = %v, want a panic naming the problem", r)
		}
	}()
	NewServer(st, Options{})
}

func TestNewServerCopiesState(t *testing.T) {
	st := testState()
	srv := NewServer(st, Options{})
	st.Tokens[0].Roles[0].Role = "CHANGED"
	got := srv.State()
	if got.Tokens[0].Roles[0].Role != "WORKSPACE_MEMBER" {
		t.Errorf("the server shares the caller's state")
	}
	got.Tokens[0].Name = "changed"
	if srv.State().Tokens[0].Name != "ci-deployer" {
		t.Errorf("State() shares the server's state")
	}
}

// TestStateRoundTripThroughAdminEndpoint loads a YAML state, fetches
// /_emulator/state and decodes that JSON back: the states are equal, but
// for the credentials' secrets, which the endpoint never answers.
func TestStateRoundTripThroughAdminEndpoint(t *testing.T) {
	for _, path := range []string{"../../examples/org.yaml", writeTemp(t, validYAML)} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := LoadState(path)
			if err != nil {
				t.Fatal(err)
			}
			_, base := NewTestServer(t, want, Options{RateLimits: NoRateLimit})
			resp, raw := fetch(t, http.MethodGet, strings.TrimSuffix(base, "/v1")+"/_emulator/state", "", "")
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("GET /_emulator/state: %d %s", resp.StatusCode, raw)
			}
			if len(want.Credentials) == 0 {
				if _, err := ParseState("state.json", raw); err != nil {
					t.Errorf("the answer does not parse as a state: %v", err)
				}
			}
			var got State
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			want = want.normalized()
			for i := range want.Credentials {
				if strings.Contains(string(raw), want.Credentials[i].Secret) {
					t.Errorf("GET /_emulator/state answers the secret %q", want.Credentials[i].Secret)
				}
				want.Credentials[i].Secret = ""
			}
			if diff := cmp.Diff(want, got.normalized()); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExampleOrgState checks that examples/org.yaml loads and has what the
// project's tests and docs rely on.
func TestExampleOrgState(t *testing.T) {
	st, err := LoadState("../../examples/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if st.Organization.ID != "clx0org0000000000000000" {
		t.Errorf("organization id %q", st.Organization.ID)
	}
	if len(st.Credentials) != 0 {
		t.Errorf("the example has credentials: it must accept any bearer")
	}
	count := map[string]int{}
	wsOf := map[string]string{}
	for _, d := range st.Deployments {
		wsOf[d.ID] = d.WorkspaceID
	}
	names := map[string][]string{} // workspace token name → workspaces
	for _, tok := range st.Tokens {
		count[tok.Scope]++
		if tok.Name == "break-glass-admin" {
			count["break-glass-admin"]++
		}
		deps := map[string]bool{}
		for _, r := range tok.Roles {
			switch r.EntityType {
			case astroapi.EntityDeployment:
				deps[r.EntityID] = true
			case astroapi.EntityDAG, astroapi.EntityDAGTag:
				count["dag roles"]++
			case astroapi.EntityWorkspace:
				if tok.Scope == astroapi.ScopeWorkspace {
					names[tok.Name] = append(names[tok.Name], r.EntityID)
				}
			}
		}
		if len(deps) >= 2 {
			count["tokens on several deployments"]++
		}
	}
	for _, wss := range names {
		if len(wss) >= 2 && wss[0] != wss[1] {
			count["shared workspace token names"]++
		}
	}
	restricted, unrestricted := 0, 0
	for _, r := range st.Roles {
		if r.ScopeType != astroapi.ScopeDeployment {
			continue
		}
		if len(r.RestrictedWorkspaceIDs) == 1 && r.Name == "DAG_DEPLOYER" {
			restricted++
		}
		if len(r.RestrictedWorkspaceIDs) == 0 {
			unrestricted++
		}
	}
	checks := []struct {
		what     string
		got, min int
	}{
		{"workspaces", len(st.Workspaces), 3},
		{"deployments", len(st.Deployments), 10},
		{"tokens", len(st.Tokens), 20},
		{"WORKSPACE tokens", count[astroapi.ScopeWorkspace], 5},
		{"ORGANIZATION tokens", count[astroapi.ScopeOrganization], 3},
		{"DEPLOYMENT tokens", count[astroapi.ScopeDeployment], 1},
		{"workspace token names shared across workspaces", count["shared workspace token names"], 1},
		{"DAG_DEPLOYER restricted to one workspace", restricted, 1},
		{"unrestricted custom deployment roles", unrestricted, 1},
		{"tokens on several deployments", count["tokens on several deployments"], 2},
		{"DAG and DAG_TAG roles", count["dag roles"], 2},
		{"break-glass-admin tokens", count["break-glass-admin"], 1},
	}
	for _, c := range checks {
		if c.got < c.min {
			t.Errorf("%s: %d, want at least %d", c.what, c.got, c.min)
		}
	}
}
