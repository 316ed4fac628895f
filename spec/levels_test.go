package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseLevelsErrors: each error of the organization, workspace and
// DAG levels, with its message and position, every one at once.
func TestParseLevelsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "organizationRoles: unknown key, workspaceTokens, not a mapping",
			in:   "version: 1\norganizationRoles:\n  prunee: true\n  workspaceTokens: []\n  user: []\n",
			want: []string{
				`t.yaml:3:3: unknown key "prunee" in organizationRoles (did you mean "prune"?)`,
				`t.yaml:4:3: unknown key "workspaceTokens" in organizationRoles (a workspace token has no organization role; its role on its own workspace goes under workspaces)`,
				`t.yaml:5:3: unknown key "user" in organizationRoles (did you mean "users"?)`,
			},
		},
		{
			name: "organizationRoles: types",
			in:   "version: 1\norganizationRoles: [users]\n",
			want: []string{`t.yaml:2:20: "organizationRoles" must be a mapping, got list`},
		},
		{
			name: "organizationRoles: prune and lists types",
			in:   "version: 1\norganizationRoles:\n  prune: \"yes\"\n  users: {username: a@example.com}\n  teams: null\n",
			want: []string{
				`t.yaml:3:10: "prune" must be a boolean, got string "yes"`,
				`t.yaml:4:10: "users" must be a list, got mapping`,
				`t.yaml:5:10: "teams" must be a list, got null`,
			},
		},
		{
			name: "organizationRoles: state absent is refused",
			in:   "version: 1\norganizationRoles:\n  users:\n    - {username: a@example.com, state: absent}\n  organizationTokens:\n    - {name: billing-bot, role: ORGANIZATION_MEMBER, state: absent}\n  teams:\n    - {name: ops, state: present}\n",
			want: []string{
				`t.yaml:4:40: user "a@example.com": "state: absent" is not allowed in organizationRoles: nobody is removed from the organization; leave the entry out (with prune, an unlisted user or team is demoted to ORGANIZATION_MEMBER)`,
				`t.yaml:6:61: token "billing-bot": "state: absent" is not allowed in organizationRoles: nobody is removed from the organization; leave the entry out (with prune, an unlisted user or team is demoted to ORGANIZATION_MEMBER)`,
				`t.yaml:8:7: team "ops": missing key "role" (required unless "state" is "absent")`,
			},
		},
		{
			name: "organizationRoles: roles of other levels, misspelt, unknown",
			in: "version: 1\norganizationRoles:\n  users:\n" +
				"    - {username: a@example.com, role: WORKSPACE_OWNER}\n" +
				"    - {username: b@example.com, role: deployment_admin}\n" +
				"    - {username: c@example.com, role: DAG_VIEWER}\n" +
				"    - {username: d@example.com, role: organisation_owner}\n" +
				"    - {username: e@example.com, role: Reader}\n",
			want: []string{
				`t.yaml:4:39: user "a@example.com": role "WORKSPACE_OWNER" is a workspace role, not an organization role`,
				`t.yaml:5:39: user "b@example.com": role "deployment_admin" is a deployment role, not an organization role`,
				`t.yaml:6:39: user "c@example.com": role "DAG_VIEWER" is a DAG role, not an organization role`,
				`t.yaml:7:39: user "d@example.com": unknown role "organisation_owner" (did you mean "ORGANIZATION_OWNER"?)`,
				`t.yaml:8:39: user "e@example.com": unknown role "Reader"; an organization role is one of ORGANIZATION_OWNER, ORGANIZATION_BILLING_ADMIN, ORGANIZATION_OBSERVE_ADMIN, ORGANIZATION_OBSERVE_MEMBER, ORGANIZATION_MEMBER`,
			},
		},
		{
			name: "organizationRoles: the same subject twice",
			in: "version: 1\norganizationRoles:\n" +
				"  users:\n    - {username: a@example.com, role: ORGANIZATION_OWNER}\n    - {username: A@Example.COM, role: ORGANIZATION_MEMBER}\n    - {id: u1, role: ORGANIZATION_MEMBER}\n    - {id: u1, role: ORGANIZATION_OWNER}\n" +
				"  teams:\n    - {name: ops, role: ORGANIZATION_MEMBER}\n    - {name: ops, role: ORGANIZATION_MEMBER}\n" +
				"  organizationTokens:\n    - {name: ops, role: ORGANIZATION_MEMBER}\n    - {id: t1, role: ORGANIZATION_MEMBER}\n    - {id: t1, role: ORGANIZATION_OWNER}\n",
			want: []string{
				`t.yaml:5:7: user "A@Example.COM" is listed twice for the organization (first at line 4 as "a@example.com")`,
				`t.yaml:7:7: user "u1" is listed twice for the organization (first at line 6)`,
				`t.yaml:10:7: team "ops" is listed twice for the organization (first at line 9)`,
				`t.yaml:14:7: token "t1" is listed twice for the organization (first at line 13)`,
			},
		},
		{
			name: "workspaces: identity",
			in: "version: 1\nworkspaces:\n" +
				"  - {id: ws-1, name: data}\n" +
				"  - {prune: true}\n" +
				"  - {name: \"\"}\n" +
				"  - {id: 12}\n" +
				"  - {workspace: data}\n" +
				"  - data\n" +
				"  - {name: x, allowEmpty: true, dags: []}\n",
			want: []string{
				`t.yaml:3:16: workspace has both "id" and "name"; use one`,
				`t.yaml:4:5: workspace needs "id" or "name"`,
				`t.yaml:5:12: "name" must not be empty`,
				`t.yaml:6:10: "id" must be a string, got integer 12`,
				`t.yaml:7:6: unknown key "workspace" in workspace (did you mean "name"?)`,
				`t.yaml:8:5: "workspaces" entry must be a mapping, got string "data"`,
				`t.yaml:9:15: unknown key "allowEmpty" in workspace`,
				`t.yaml:9:33: unknown key "dags" in workspace (DAG roles go under the dags of a deployment)`,
			},
		},
		{
			name: "workspaces: not a list",
			in:   "version: 1\nworkspaces: {name: data}\n",
			want: []string{`t.yaml:2:13: "workspaces" must be a list, got mapping`},
		},
		{
			name: "workspaces: declared twice, by id and by name",
			in: "version: 1\nworkspaces:\n" +
				"  - {name: data}\n  - {id: ws-1}\n  - {name: data, prune: true}\n  - {id: ws-1}\n  - {name: ws-1}\n  - {id: data}\n",
			want: []string{
				`t.yaml:5:5: workspace "data" is already declared at t.yaml:3:5`,
				`t.yaml:6:5: workspace "ws-1" is already declared at t.yaml:4:5`,
			},
		},
		{
			name: "workspaces: roles of other levels, unknown roles, state absent",
			in: "version: 1\nworkspaces:\n  - name: data\n" +
				"    users:\n      - {username: a@example.com, role: DEPLOYMENT_ADMIN}\n      - {username: b@example.com, state: absent}\n      - {username: c@example.com, role: workspace_ownr}\n" +
				"    teams:\n      - {name: ops, role: ORGANIZATION_OWNER}\n      - {name: devs, role: DAG_AUTHOR}\n" +
				"    workspaceTokens:\n      - {name: ci, role: Custom}\n" +
				"    organizationTokens:\n      - {name: obs, role: deployment_accessor}\n      - {name: gone}\n",
			want: []string{
				`t.yaml:5:41: user "a@example.com": role "DEPLOYMENT_ADMIN" is a deployment role, not a workspace role`,
				`t.yaml:7:41: user "c@example.com": unknown role "workspace_ownr" (did you mean "WORKSPACE_OWNER"?)`,
				`t.yaml:9:27: team "ops": role "ORGANIZATION_OWNER" is an organization role, not a workspace role`,
				`t.yaml:10:28: team "devs": role "DAG_AUTHOR" is a DAG role, not a workspace role`,
				`t.yaml:12:26: token "ci": unknown role "Custom"; a workspace role is one of WORKSPACE_OWNER, WORKSPACE_OPERATOR, WORKSPACE_AUTHOR, WORKSPACE_MEMBER, WORKSPACE_ACCESSOR`,
				`t.yaml:14:27: token "obs": role "deployment_accessor" is a deployment role, not a workspace role`,
				`t.yaml:15:9: token "gone": missing key "role" (required unless "state" is "absent")`,
			},
		},
		{
			name: "workspaces: the same subject twice",
			in: "version: 1\nworkspaces:\n  - name: data\n" +
				"    workspaceTokens:\n      - {id: t1, role: WORKSPACE_MEMBER}\n      - {name: ci, role: WORKSPACE_MEMBER}\n" +
				"    organizationTokens:\n      - {id: t1, state: absent}\n      - {name: ci, role: WORKSPACE_MEMBER}\n" +
				"    users:\n      - {username: a@example.com, role: WORKSPACE_MEMBER}\n      - {username: A@example.com, state: absent}\n" +
				"  - {prune: true, teams: [{name: ops, role: WORKSPACE_MEMBER}, {name: ops, role: WORKSPACE_OWNER}]}\n",
			want: []string{
				`t.yaml:8:9: token "t1" is listed twice for workspace "data" (first at line 5)`,
				`t.yaml:12:9: user "A@example.com" is listed twice for workspace "data" (first at line 11 as "a@example.com")`,
				`t.yaml:13:5: workspace needs "id" or "name"`,
				`t.yaml:13:64: team "ops" is listed twice for this workspace (first at line 13)`,
			},
		},
		{
			name: "dags: identity",
			in: "version: 1\ndeployments:\n  - id: dep-1\n    dags:\n" +
				"      - {dagId: a, dagTag: b}\n" +
				"      - {prune: true}\n" +
				"      - {id: a}\n" +
				"      - {dagId: \"\"}\n" +
				"      - {dagTag: [x]}\n" +
				"      - daily\n" +
				"      - {dagId: c, state: absent}\n",
			want: []string{
				`t.yaml:5:20: DAG entry has both "dagId" and "dagTag"; use one`,
				`t.yaml:6:9: DAG entry needs "dagId" or "dagTag"`,
				`t.yaml:7:10: unknown key "id" in DAG entry (did you mean "dagId"?)`,
				`t.yaml:8:17: "dagId" must not be empty`,
				`t.yaml:9:18: "dagTag" must be a string, got list`,
				`t.yaml:10:9: "dags" entry must be a mapping, got string "daily"`,
				`t.yaml:11:20: unknown key "state" in DAG entry`,
			},
		},
		{
			name: "dags: not a list, misspelt key",
			in:   "version: 1\ndeployments:\n  - {id: dep-1, dags: {dagId: a}}\n  - {id: dep-2, dag: []}\n",
			want: []string{
				`t.yaml:3:23: "dags" must be a list, got mapping`,
				`t.yaml:4:17: unknown key "dag" in deployment (did you mean "dags"?)`,
			},
		},
		{
			name: "dags: the same DAG id or tag twice under one deployment",
			in: "version: 1\ndeployments:\n  - id: dep-1\n    dags:\n" +
				"      - {dagId: daily}\n      - {dagTag: daily}\n      - {dagId: daily, prune: true}\n      - {dagTag: daily}\n" +
				"  - id: dep-2\n    dags: [{dagId: daily}]\n" +
				"  - {prune: true, dags: [{dagTag: x}, {dagTag: x}]}\n",
			want: []string{
				`t.yaml:7:9: DAG "daily" is listed twice for deployment "dep-1" (first at line 5)`,
				`t.yaml:8:9: DAG tag "daily" is listed twice for deployment "dep-1" (first at line 6)`,
				`t.yaml:11:5: deployment needs "id" or "name"`,
				`t.yaml:11:39: DAG tag "x" is listed twice for this deployment (first at line 11)`,
			},
		},
		{
			name: "dags: roles of other levels, the same subject twice",
			in: "version: 1\ndeployments:\n  - id: dep-1\n    dags:\n      - dagId: daily\n" +
				"        users:\n          - {username: a@example.com, role: WORKSPACE_OWNER}\n          - {username: a@example.com, state: absent}\n" +
				"        teams:\n          - {name: ops, role: DEPLOYMENT_ACCESSOR}\n" +
				"        workspaceTokens:\n          - {id: t1, role: organization_member}\n" +
				"        organizationTokens:\n          - {id: t1, role: DAG_VIEWER}\n          - {name: obs, role: DAG Operator}\n" +
				"      - {dagTag: [x], teams: [{name: a, role: DAG_VIEWER}, {name: a, role: DAG_VIEWER}]}\n",
			want: []string{
				`t.yaml:7:45: user "a@example.com": role "WORKSPACE_OWNER" is a workspace role, not a DAG role`,
				`t.yaml:8:13: user "a@example.com" is listed twice for DAG "daily" of deployment "dep-1" (first at line 7)`,
				`t.yaml:10:31: team "ops": role "DEPLOYMENT_ACCESSOR" is a deployment role, not a DAG role`,
				`t.yaml:12:28: token "t1": role "organization_member" is an organization role, not a DAG role`,
				`t.yaml:14:13: token "t1" is listed twice for DAG "daily" of deployment "dep-1" (first at line 12)`,
				`t.yaml:16:18: "dagTag" must be a string, got list`,
				`t.yaml:16:60: team "a" is listed twice for this DAG entry (first at line 16)`,
			},
		},
		{
			name: "deployments: a DAG role is not a deployment role",
			in:   "version: 1\ndeployments:\n  - {id: dep-1, users: [{username: a@example.com, role: dag_author}]}\n",
			want: []string{`t.yaml:3:57: user "a@example.com": role "dag_author" is a DAG role, not a deployment role`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(tt.in))
			if s != nil {
				t.Errorf("Parse returned a Spec")
			}
			if diff := cmp.Diff(tt.want, errorLines(t, err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadLevelsTwice: organizationRoles in a second file, and a workspace
// declared again in another file, are errors at the second, naming the
// first.
func TestLoadLevelsTwice(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml": "version: 1\norganizationRoles: {}\nworkspaces: [{name: data}, {id: ws-1}]\n",
		"b.yaml": "version: 1\nworkspaces:\n  - {id: ws-1}\n  - {name: data}\norganizationRoles:\n  users: []\n",
	})
	_, err := Load([]string{dir})
	want := []string{
		dir + `/b.yaml:3:5: workspace "ws-1" is already declared at ` + dir + `/a.yaml:3:28`,
		dir + `/b.yaml:4:5: workspace "data" is already declared at ` + dir + `/a.yaml:3:14`,
		dir + `/b.yaml:5:1: organizationRoles is already declared at ` + dir + `/a.yaml:2:1; the organization level is declared in one file only`,
	}
	if diff := cmp.Diff(want, errorLines(t, err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestParseLevels: every valid shape of the new levels, and what Parse
// makes of it.
func TestParseLevels(t *testing.T) {
	in := `version: 1
organizationRoles:
  prune: true
  users:
    - {username: alice@example.com, role: organization_owner}
    - {id: usr-2, role: ORGANIZATION_MEMBER, state: present}
  organizationTokens: []
workspaces:
  - name: data
    workspaceTokens: [{name: ci, role: Workspace_Member}]
    teams: [{id: team-1, state: absent}]
  - id: ws-2
    prune: false
deployments:
  - id: dep-1
    dags:
      - dagId: daily
        prune: true
        users: [{username: bob@example.com, role: dag_viewer}]
        organizationTokens: [{name: obs, role: DAG Operator}, {name: gone, state: absent}]
      - dagTag: finance
      - dagTag: daily
        teams: []
`
	s, err := Parse("t.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	p := func(line, col int) Pos { return Pos{File: "t.yaml", Line: line, Col: col} }
	wantOrg := &OrganizationRoles{
		Pos: p(2, 1), Prune: true, Lists: []Kind{KindOrganizationToken, KindUser},
		Users: []UserEntry{
			{Pos: p(5, 7), Username: "alice@example.com", Role: "ORGANIZATION_OWNER", State: Present, RolePos: p(5, 43)},
			{Pos: p(6, 7), ID: "usr-2", Role: "ORGANIZATION_MEMBER", State: Present, RolePos: p(6, 25)},
		},
	}
	if diff := cmp.Diff(wantOrg, s.OrganizationRoles); diff != "" {
		t.Errorf("OrganizationRoles (-want +got):\n%s", diff)
	}
	wantWs := []Workspace{
		{
			Pos: p(9, 5), Name: "data", Lists: []Kind{KindWorkspaceToken, KindTeam},
			WorkspaceTokens: []TokenEntry{{Pos: p(10, 23), Name: "ci", Role: "WORKSPACE_MEMBER", State: Present, RolePos: p(10, 40)}},
			Teams:           []TeamEntry{{Pos: p(11, 13), ID: "team-1", State: Absent}},
		},
		{Pos: p(12, 5), ID: "ws-2"},
	}
	if diff := cmp.Diff(wantWs, s.Workspaces); diff != "" {
		t.Errorf("Workspaces (-want +got):\n%s", diff)
	}
	wantDags := []Dag{
		{
			Pos: p(17, 9), DagID: "daily", Prune: true, Lists: []Kind{KindOrganizationToken, KindUser},
			Users: []UserEntry{{Pos: p(19, 17), Username: "bob@example.com", Role: "DAG_VIEWER", State: Present, RolePos: p(19, 51)}},
			OrganizationTokens: []TokenEntry{
				{Pos: p(20, 30), Name: "obs", Role: "DAG Operator", State: Present, RolePos: p(20, 48)},
				{Pos: p(20, 63), Name: "gone", State: Absent},
			},
		},
		{Pos: p(21, 9), DagTag: "finance"},
		{Pos: p(22, 9), DagTag: "daily", Lists: []Kind{KindTeam}},
	}
	if diff := cmp.Diff(wantDags, s.Deployments[0].Dags); diff != "" {
		t.Errorf("Dags (-want +got):\n%s", diff)
	}
	if s.Deployments[0].Lists != nil {
		t.Errorf("deployment Lists = %v: dags is not a kind", s.Deployments[0].Lists)
	}
}

// TestParseWithoutLevels: a file without the new keys has none of them,
// as before they existed.
func TestParseWithoutLevels(t *testing.T) {
	s, err := Parse("t.yaml", []byte("version: 1\ndeployments: [{id: d, users: []}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.OrganizationRoles != nil || s.Workspaces != nil || s.Deployments[0].Dags != nil {
		t.Errorf("got levels: %+v %+v %+v", s.OrganizationRoles, s.Workspaces, s.Deployments[0].Dags)
	}
}

// TestLevelsListed: Listed of each level says what its Lists, or its
// entries, say.
func TestLevelsListed(t *testing.T) {
	in := "version: 1\norganizationRoles: {teams: []}\nworkspaces: [{name: w, users: [], workspaceTokens: [{name: t, role: WORKSPACE_MEMBER}]}]\n" +
		"deployments: [{id: d, dags: [{dagTag: x, organizationTokens: []}]}]\n"
	s, err := Parse("t.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]Kind{}
	for _, k := range Kinds() {
		if s.OrganizationRoles.Listed(k) {
			got["organization"] = append(got["organization"], k)
		}
		if s.Workspaces[0].Listed(k) {
			got["workspace"] = append(got["workspace"], k)
		}
		if s.Deployments[0].Dags[0].Listed(k) {
			got["dag"] = append(got["dag"], k)
		}
	}
	want := map[string][]Kind{
		"organization": {KindTeam},
		"workspace":    {KindWorkspaceToken, KindUser},
		"dag":          {KindOrganizationToken},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Listed (-want +got):\n%s", diff)
	}
	inCode := Workspace{Teams: []TeamEntry{{Name: "ops"}}}
	if !inCode.Listed(KindTeam) || inCode.Listed(KindUser) {
		t.Error("a Workspace built in code lists the kinds it has entries of")
	}
	if g := (Dag{DagTag: "x"}); g.Ref() != "tag x" {
		t.Errorf("Dag.Ref() = %q", g.Ref())
	}
}

// TestLevelRoles: every built-in role at every level, in any case: a role
// of the level is upper-cased, another level's is an error naming it; a
// custom role is kept exact where custom roles exist.
func TestLevelRoles(t *testing.T) {
	for _, lv := range levels() {
		for _, other := range levels() {
			for _, role := range other.builtin {
				for _, spelled := range []string{role, strings.ToLower(role)} {
					got, problem := lv.check(spelled)
					if got != role {
						t.Errorf("%s level: %q normalised to %q", lv.scope, spelled, got)
					}
					if (problem == "") != (lv == other) {
						t.Errorf("%s level: %q: problem %q", lv.scope, spelled, problem)
					}
					if lv != other && !strings.Contains(problem, "is "+other.phrase()+" role, not "+lv.phrase()+" role") {
						t.Errorf("%s level: %q: problem %q does not name the levels", lv.scope, spelled, problem)
					}
				}
			}
		}
		got, problem := lv.check("Reader")
		if got != "Reader" || (problem == "") != lv.custom {
			t.Errorf("%s level: custom role: %q, %q", lv.scope, got, problem)
		}
	}
}

// TestDocLevelsExample: the example of every level in docs/spec.md parses
// (with the version its fragment leaves out) and sets every level.
func TestDocLevelsExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "spec.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, block := range strings.Split(string(data), "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if !strings.HasPrefix(block, "organizationRoles:") {
			continue
		}
		n++
		s, err := Parse("docs/spec.md", []byte("version: 1\n"+block))
		if err != nil {
			t.Fatalf("the example does not parse: %v\n%s", err, block)
		}
		if s.OrganizationRoles == nil || len(s.Workspaces) == 0 || len(s.Deployments) == 0 || len(s.Deployments[0].Dags) == 0 {
			t.Errorf("the example leaves a level out:\n%s", block)
		}
	}
	if n != 1 {
		t.Errorf("docs/spec.md has %d examples starting with organizationRoles:, want 1", n)
	}
}
