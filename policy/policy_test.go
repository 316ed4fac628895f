package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// world is a small organization: two workspaces, three deployments (two
// production), a team with two members, and tokens.
func world() World {
	ws := func(id string) sync.Scope { return sync.Scope{Level: sync.LevelWorkspace, ID: id} }
	dep := func(id string) sync.Scope { return sync.Scope{Level: sync.LevelDeployment, ID: id} }
	expires := now.Add(30 * 24 * time.Hour)
	return World{
		Organization: "org-1",
		Workspaces:   []astroapi.Workspace{{ID: "ws-a", Name: "analytics"}, {ID: "ws-m", Name: "marketing"}},
		Deployments: []astroapi.Deployment{
			{ID: "d-ap", Name: "analytics-prod", WorkspaceID: "ws-a"},
			{ID: "d-as", Name: "analytics-staging", WorkspaceID: "ws-a"},
			{ID: "d-mp", Name: "campaigns-PROD", WorkspaceID: "ws-m"},
		},
		Subjects: []sync.Subject{
			{SubjectRef: sync.SubjectRef{Kind: sync.KindUser, ID: "u-alice", Name: "alice@example.com"}, Status: "ACTIVE",
				Grants:  []sync.Grant{{Scope: sync.Organization, Role: "ORGANIZATION_MEMBER"}, {Scope: dep("d-ap"), Role: "DEPLOYMENT_ADMIN"}},
				Hygiene: sync.Hygiene{CreatedAt: now.Add(-time.Hour)}},
			{SubjectRef: sync.SubjectRef{Kind: sync.KindUser, ID: "u-bob", Name: "bob@example.com"}, Status: "INACTIVE",
				Grants: []sync.Grant{{Scope: sync.Organization, Role: "ORGANIZATION_OWNER"}}},
			{SubjectRef: sync.SubjectRef{Kind: sync.KindTeam, ID: "t-data", Name: "data"},
				Grants:  []sync.Grant{{Scope: sync.Organization, Role: "ORGANIZATION_MEMBER"}, {Scope: ws("ws-a"), Role: "WORKSPACE_AUTHOR"}},
				Hygiene: sync.Hygiene{IdpManaged: true}},
			{SubjectRef: sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tk-ci", Name: "ci"}, Workspace: "ws-a",
				Grants:  []sync.Grant{{Scope: ws("ws-a"), Role: "WORKSPACE_MEMBER"}, {Scope: dep("d-as"), Role: "DEPLOYMENT_ADMIN"}},
				Hygiene: sync.Hygiene{ExpiresAt: expires, LastUsedAt: now.Add(-48 * time.Hour), LastRotatedAt: now.Add(-72 * time.Hour)}},
			{SubjectRef: sync.SubjectRef{Kind: sync.KindOrganizationToken, ID: "tk-org", Name: "org-bot"},
				Grants: []sync.Grant{{Scope: sync.Organization, Role: "ORGANIZATION_MEMBER"},
					{Scope: sync.Scope{Level: sync.LevelDAG, ID: "daily", Deployment: "d-mp"}, Role: "DAG_AUTHOR"},
					{Scope: sync.Scope{Level: sync.LevelDAGTag, ID: "finance", Deployment: "d-ap"}, Role: "DAG_VIEWER"}}},
			{SubjectRef: sync.SubjectRef{Kind: sync.KindDeploymentToken, ID: "tk-dep", Name: "dep-bot"},
				Grants: []sync.Grant{{Scope: dep("d-mp"), Role: "DAG_DEPLOYER"}}},
		},
		Members:    map[string][]string{"t-data": {"u-alice", "u-carol"}},
		Production: []spec.Glob{spec.DefaultProduction},
		Sources: map[sync.Key]spec.Pos{
			{Scope: dep("d-ap"), Subject: "u-alice"}: {File: "teams/analytics/a.yaml", Line: 7, Col: 9},
			{Scope: ws("ws-a"), Subject: "t-data"}:   {File: "teams/analytics/a.yaml", Line: 12, Col: 9},
			{Scope: dep("d-as"), Subject: "tk-ci"}:   {File: "tokens.yaml", Line: 4, Col: 7},
		},
	}
}

// compileOne compiles one rule on expr.
func compileOne(t *testing.T, on spec.Condition, expr string, files ...string) *Set {
	t.Helper()
	p := spec.Policy{Name: "r", Description: "d", On: on, Expr: spec.Expr{Text: expr}}
	for _, f := range files {
		p.Files = append(p.Files, spec.Pattern{Glob: f})
	}
	set, err := Compile([]spec.Policy{p})
	if err != nil {
		t.Fatalf("compile %q: %v", expr, err)
	}
	return set
}

// fired lists each violation as "subject@scope(via)" or "@scope" for
// scope rules.
func fired(vs []Violation) []string {
	out := []string{}
	for _, v := range vs {
		s := "@" + v.Scope.Level + ":" + v.Scope.Name
		if v.Subject != nil {
			s = v.Subject.Name + s
		}
		if v.Via.Kind != "" {
			s += "(" + v.Via.Kind
			if v.Via.Team != "" {
				s += " " + v.Via.Team
			}
			s += ")"
		}
		if v.Err != "" {
			s += " error: " + v.Err
		}
		out = append(out, s)
	}
	return out
}

func TestVariables(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{"subject.kind == 'team' && scope.level == 'workspace'", []string{"data@workspace:analytics(direct)"}},
		{"subject.kind == 'deploymentToken'", []string{"dep-bot@deployment:campaigns-PROD(direct)"}},
		{"subject.id == 'u-carol'", []string{"u-carol@organization:org-1(team data)", "u-carol@workspace:analytics(team data)", "u-carol@deployment:analytics-prod(workspace data)", "u-carol@deployment:analytics-staging(workspace data)"}},
		{"subject.name == 'ci' && scope.level == 'workspace'", []string{"ci@workspace:analytics(direct)"}},
		{"subject.status == 'INACTIVE' && scope.level == 'organization'", []string{"bob@example.com@organization:org-1(direct)"}},
		{"has(subject.expiresAt) && subject.expiresAt < now + duration('721h') && scope.level == 'workspace'", []string{"ci@workspace:analytics(direct)"}},
		{"has(subject.lastUsedAt) && now - subject.lastUsedAt > duration('24h') && scope.level == 'workspace'", []string{"ci@workspace:analytics(direct)"}},
		{"has(subject.lastRotatedAt) && subject.lastRotatedAt < now - duration('48h') && scope.level == 'workspace'", []string{"ci@workspace:analytics(direct)"}},
		{"has(subject.createdAt) && scope.level == 'deployment' && via.kind == 'direct'", []string{"alice@example.com@deployment:analytics-prod(direct)"}},
		{"subject.idpManaged && via.kind == 'direct' && scope.level == 'workspace'", []string{"data@workspace:analytics(direct)"}},
		{"scope.level == 'dag'", []string{"org-bot@dag:finance(direct)", "org-bot@dag:daily(direct)"}},
		{"scope.level == 'dag' && scope.deployment == 'campaigns-PROD' && scope.workspace == 'marketing' && scope.production", []string{"org-bot@dag:daily(direct)"}},
		{"scope.id == 'd-as' && via.kind == 'direct'", []string{"ci@deployment:analytics-staging(direct)"}},
		{"scope.name == 'marketing'", []string{"bob@example.com@workspace:marketing(organization)"}},
		{"scope.production && subject.kind == 'user' && via.kind == 'direct'", []string{"alice@example.com@deployment:analytics-prod(direct)"}},
		{"role.name == 'DAG_DEPLOYER'", []string{"dep-bot@deployment:campaigns-PROD(direct)"}},
		{"role.access == 'custom'", []string{"dep-bot@deployment:campaigns-PROD(direct)"}},
		{"role.access == 'author' && scope.level == 'dag'", []string{"org-bot@dag:daily(direct)"}},
		{"via.kind == 'organization' && scope.level == 'workspace'", []string{"bob@example.com@workspace:analytics(organization)", "bob@example.com@workspace:marketing(organization)"}},
		{"via.team == 'data' && scope.level == 'deployment' && subject.id == 'u-alice'", []string{"alice@example.com@deployment:analytics-prod(workspace data)", "alice@example.com@deployment:analytics-staging(workspace data)"}},
		{"now > timestamp('2027-01-01T00:00:00Z')", []string{}},
	}
	a := Build(world())
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got := fired(compileOne(t, spec.ConditionGrant, tt.expr).Check(a, now))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHasAbsentTimestamps(t *testing.T) {
	a := Build(world())
	for _, field := range []string{"expiresAt", "lastUsedAt", "lastRotatedAt", "createdAt"} {
		t.Run(field, func(t *testing.T) {
			got := fired(compileOne(t, spec.ConditionGrant, "subject.name == 'org-bot' && scope.level == 'organization' && !has(subject."+field+")").Check(a, now))
			if diff := cmp.Diff([]string{"org-bot@organization:org-1(direct)"}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestScopeRules(t *testing.T) {
	a := Build(world())
	tests := []struct {
		expr  string
		files []string
		want  []string
	}{
		{"scope.level == 'workspace' && !grants.exists(g, g.via.kind == 'direct')", nil, []string{"@workspace:marketing"}},
		{"scope.production && !grants.exists(g, g.role.access == 'admin' && g.via.kind == 'direct')", nil, []string{"@deployment:campaigns-PROD", "@dag:finance", "@dag:daily"}},
		{"scope.level == 'deployment' && scope.production && grants.filter(g, g.role.access == 'admin').size() > 1", nil, []string{"@deployment:analytics-prod"}},
		{"scope.level == 'workspace' && grants.exists(g, g.subject.kind == 'team' && g.subject.idpManaged)", nil, []string{"@workspace:analytics"}},
		{"grants.filter(g, g.via.team == 'data').size() >= 2", nil, []string{"@organization:org-1", "@workspace:analytics", "@deployment:analytics-prod", "@deployment:analytics-staging"}},
		// With files, a scope rule sees the grants those files write and
		// only the scopes that have one.
		{"true", []string{"tokens.yaml"}, []string{"@deployment:analytics-staging"}},
		{"grants.all(g, g.subject.kind == 'user' || g.subject.kind == 'team')", []string{"teams/analytics/*"}, []string{"@workspace:analytics", "@deployment:analytics-prod", "@deployment:analytics-staging"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got := fired(compileOne(t, spec.ConditionScope, tt.expr, tt.files...).Check(a, now))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilesDelegation(t *testing.T) {
	a := Build(world())
	set := compileOne(t, spec.ConditionGrant, "scope.workspace != 'marketing'", "teams/analytics/*")
	got := set.Check(a, now)
	var where []string
	for _, v := range got {
		where = append(where, v.Subject.Name+"@"+v.Scope.Name+" "+v.Source.String())
	}
	want := []string{
		"data@analytics teams/analytics/a.yaml:12:9",
		"alice@example.com@analytics teams/analytics/a.yaml:12:9",
		"u-carol@analytics teams/analytics/a.yaml:12:9",
		"data@analytics-prod teams/analytics/a.yaml:12:9",
		"alice@example.com@analytics-prod teams/analytics/a.yaml:7:9",
		"alice@example.com@analytics-prod teams/analytics/a.yaml:12:9",
		"u-carol@analytics-prod teams/analytics/a.yaml:12:9",
		"data@analytics-staging teams/analytics/a.yaml:12:9",
		"alice@example.com@analytics-staging teams/analytics/a.yaml:12:9",
		"u-carol@analytics-staging teams/analytics/a.yaml:12:9",
	}
	if diff := cmp.Diff(want, where); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	// The delegation rule fires on a grant outside the workspace only.
	set = compileOne(t, spec.ConditionGrant, "scope.workspace != 'analytics'", "teams/analytics/*")
	if got := set.Check(a, now); len(got) != 0 {
		t.Errorf("violations: %v", fired(got))
	}
}

func TestBuildExpansion(t *testing.T) {
	a := Build(world())
	var got []string
	for _, g := range a.Grants {
		if g.Subject.ID == "u-carol" || g.Subject.ID == "u-bob" {
			got = append(got, g.Subject.ID+" "+g.Role.Name+"/"+g.Role.Access+" "+g.Scope.Level+":"+g.Scope.Name+" "+g.Via.Kind+" "+g.Via.Team)
		}
	}
	want := []string{
		"u-bob ORGANIZATION_OWNER/admin organization:org-1 direct ",
		"u-bob ORGANIZATION_OWNER/admin workspace:analytics organization ",
		"u-bob ORGANIZATION_OWNER/admin workspace:marketing organization ",
		"u-bob ORGANIZATION_OWNER/admin deployment:analytics-prod organization ",
		"u-bob ORGANIZATION_OWNER/admin deployment:analytics-staging organization ",
		"u-bob ORGANIZATION_OWNER/admin deployment:campaigns-PROD organization ",
		"u-carol ORGANIZATION_MEMBER/view organization:org-1 team data",
		"u-carol WORKSPACE_AUTHOR/author workspace:analytics team data",
		"u-carol WORKSPACE_AUTHOR/author deployment:analytics-prod workspace data",
		"u-carol WORKSPACE_AUTHOR/author deployment:analytics-staging workspace data",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	var scopes []string
	for _, s := range a.Scopes {
		scopes = append(scopes, s.Level+":"+s.Name+":"+s.Deployment)
	}
	wantScopes := []string{"organization:org-1:", "workspace:analytics:", "workspace:marketing:", "deployment:analytics-prod:",
		"deployment:analytics-staging:", "deployment:campaigns-PROD:", "dag:daily:campaigns-PROD", "dag:finance:analytics-prod"}
	if diff := cmp.Diff(wantScopes, scopes); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
}

func TestCompileErrors(t *testing.T) {
	data := "version: 1\npolicies:\n" +
		"  - name: typo\n    description: d\n    grant: subject.nmae == 'x'\n" +
		"  - name: scope-var\n    description: d\n    scope: |\n      scope.production &&\n        subject.kind == 'user'\n" +
		"  - name: not-bool\n    description: d\n    grant: \"role.name\"\n" +
		"  - name: syntax\n    description: d\n    grant: scope.level == \n" +
		"  - name: grants-scope\n    description: d\n    scope: grants.exists(g, g.scope.level == 'dag')\n" +
		"  - name: folded\n    description: d\n    grant: >-\n      scope.production &&\n      scope.prod\n"
	s, err := spec.Parse("p.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(s.Policies)
	want := strings.Join([]string{
		`p.yaml:5:19: policy "typo": grant: undefined field 'nmae'`,
		`p.yaml:10:9: policy "scope-var": scope: undeclared reference to 'subject'`,
		`p.yaml:13:12: policy "not-bool": grant: must be a boolean (true is a violation), got string`,
		`p.yaml:16:26: policy "syntax": grant: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`,
		`p.yaml:19:30: policy "grants-scope": scope: undefined field 'scope'`,
		`p.yaml:24:12: policy "folded": grant: undefined field 'prod'`,
	}, "\n")
	if err == nil {
		t.Fatal("no error")
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if _, ok := err.(spec.ErrorList); !ok {
		t.Errorf("error is %T, want spec.ErrorList", err)
	}
}

func TestExamples(t *testing.T) {
	data, err := os.ReadFile("../examples/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.ParsePolicies("policies.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Compile(s.Policies)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) != 4 {
		t.Fatalf("%d rules, want 4", len(set.Rules))
	}
	t.Log(fired(set.Check(Build(world()), now)))
}

func TestDeterministic(t *testing.T) {
	data, _ := os.ReadFile("../examples/policies.yaml")
	s, _ := spec.ParsePolicies("policies.yaml", data)
	set, err := Compile(s.Policies)
	if err != nil {
		t.Fatal(err)
	}
	first := set.Check(Build(world()), now)
	for range 5 {
		w := world()
		for i, j := 0, len(w.Subjects)-1; i < j; i, j = i+1, j-1 {
			w.Subjects[i], w.Subjects[j] = w.Subjects[j], w.Subjects[i]
		}
		if diff := cmp.Diff(first, set.Check(Build(w), now), cmp.AllowUnexported(Scope{})); diff != "" {
			t.Fatalf("(-first +again):\n%s", diff)
		}
	}
}

// TestLoadReportsEveryError: the files' own errors and the expressions
// that do not compile come in one list, sorted by position, so a user
// fixes them in one round; a spec file given with --policy too is read as
// a policy file.
func TestLoadReportsEveryError(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rules := write("rules.yaml", "version: 1\npolicies:\n"+
		"  - name: typo\n    description: d\n    grant: subject.kindd == 'user'\n"+
		"  - name: syntax\n    grant: \"subject.kind == \"\n"+
		"  - name: both\n    description: d\n    grant: 'true'\n    scope: 'true'\n"+
		"  - name: typo\n    description: d\n    grant: 'true'\n")
	specFile := write("spec.yaml", "version: 1\ndeployments: []\n")
	_, _, err := Load(context.Background(), []string{specFile}, []string{rules, specFile}, nil)
	var got []string
	for _, e := range err.(spec.ErrorList) {
		got = append(got, strings.ReplaceAll(e.Error(), dir+string(filepath.Separator), ""))
	}
	want := []string{
		`rules.yaml:5:19: policy "typo": grant: undefined field 'kindd'`,
		`rules.yaml:6:5: policy "syntax": missing key "description" (what a violation reports)`,
		`rules.yaml:7:29: policy "syntax": grant: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`,
		`rules.yaml:11:5: policy "both" has both "grant" and "scope"; use one`,
		`rules.yaml:12:5: policy "typo" is already declared at rules.yaml:3:5; policy names are unique over all files`,
		`spec.yaml:1:1: missing key "policies" (a policy file holds the rules under "policies")`,
		`spec.yaml:2:1: unknown key "deployments" in policy file (a file given with --policy holds only policies, production and version; give this file with -f)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}

	sp, set, err := Load(context.Background(), []string{specFile}, nil, nil)
	if err != nil || sp == nil || set == nil || len(set.Rules) != 0 {
		t.Errorf("a spec without policies: %v, %v, %v", sp, set, err)
	}
}

// TestAbsentTimestampIsAnError: a timestamp the API does not give is
// absent: has() is false, and reading it is an error, so that a rule that
// compares it counts as violated and says the field is absent (never the
// zero time, which made "expires within 90 days" pass for a token that
// never expires and "expired" flag it). Guarded by has(), a rule decides.
func TestAbsentTimestampIsAnError(t *testing.T) {
	a := Build(world())
	const orgBot = "subject.name == 'org-bot' && scope.level == 'organization' && "
	for _, field := range []string{"expiresAt", "lastUsedAt", "lastRotatedAt", "createdAt"} {
		x := "subject." + field
		errText := " error: " + field + " is absent (the API gives none): test it with has()"
		for _, tt := range []struct {
			on   spec.Condition
			expr string
			want []string
		}{
			{spec.ConditionGrant, orgBot + x + " > now + duration('2160h')", []string{"org-bot@organization:org-1(direct)" + errText}},
			{spec.ConditionGrant, orgBot + x + " < now", []string{"org-bot@organization:org-1(direct)" + errText}},
			{spec.ConditionGrant, orgBot + "dyn(subject)." + field + " < now", []string{"org-bot@organization:org-1(direct)" + errText}},
			{spec.ConditionGrant, orgBot + "(!has(" + x + ") || " + x + " > now + duration('2160h'))", []string{"org-bot@organization:org-1(direct)"}},
			{spec.ConditionGrant, orgBot + "has(" + x + ") && " + x + " < now", []string{}},
			{spec.ConditionScope, "scope.level == 'organization' && grants.exists(g, g.subject.name == 'org-bot' && g.subject." + field + " < now)", []string{"@organization:org-1" + errText}},
			{spec.ConditionScope, "scope.level == 'organization' && grants.exists(g, g.subject.name == 'org-bot' && has(g.subject." + field + ") && g.subject." + field + " < now)", []string{}},
		} {
			t.Run(tt.expr, func(t *testing.T) {
				got := fired(compileOne(t, tt.on, tt.expr).Check(a, now))
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("violations (-want +got):\n%s", diff)
				}
			})
		}
	}
}
