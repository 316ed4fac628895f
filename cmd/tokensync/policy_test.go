package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// policyState: two workspaces; a production and a staging deployment in
// alpha; a user with admin on production directly, another through a
// team; a token with no expiry.
const policyState = `organization: {id: org1, name: Org One}
workspaces:
  - {id: ws-a, name: alpha}
  - {id: ws-b, name: beta}
deployments:
  - {id: dep-prod, name: a-prod, workspaceId: ws-a}
  - {id: dep-stg, name: a-staging, workspaceId: ws-a}
  - {id: dep-b, name: b-prod, workspaceId: ws-b}
tokens:
  - id: tok-ci
    name: ci
    scope: WORKSPACE
    endAt: 2030-01-01T00:00:00Z
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-stg, role: DEPLOYMENT_ADMIN}
users:
  - {id: usr-owner, username: owner@example.com, status: ACTIVE, organizationRole: ORGANIZATION_OWNER}
  - id: usr-ann
    username: ann@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_ACCESSOR}
    deploymentRoles:
      - {deploymentId: dep-prod, role: DEPLOYMENT_ADMIN}
  - {id: usr-ben, username: ben@example.com, status: ACTIVE, organizationRole: ORGANIZATION_MEMBER}
teams:
  - id: team-ops
    name: ops
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_ACCESSOR}
    deploymentRoles:
      - {deploymentId: dep-prod, role: DEPLOYMENT_ADMIN}
    memberIds: [usr-ben]
`

const directAdminRule = `version: 1
policies:
  - name: no-direct-production-admin
    description: admin on production only through a team
    grant: subject.kind == 'user' && via.kind == 'direct' && scope.production && role.access == 'admin'
`

// TestPolicyGrantRule: a grant rule refuses the plan whose access would
// break it (exit 4, nothing written), naming the rule, the principal, the
// scope and the spec entry that grants it; the same plan without the
// offending entry passes. Access the plan leaves alone counts too.
func TestPolicyGrantRule(t *testing.T) {
	c := newCLI(t, policyState)
	pol := c.write("policies.yaml", directAdminRule)
	f := c.write("tokens.yaml", `version: 1
deployments:
  - id: dep-prod
    users:
      - {username: ann@example.com, role: DEPLOYMENT_ADMIN}
      - {username: ben@example.com, role: DEPLOYMENT_ADMIN}
`)
	r := c.run("apply", "-f", f, "--policy", pol, "--yes", "--no-color")
	wantCode(t, r, exitRefused)
	if c.posts() != 0 {
		t.Errorf("a refused plan made %d writes", c.posts())
	}
	for _, want := range []string{
		"Policy violations (2):",
		"no-direct-production-admin: user ann@example.com [usr-ann] holds DEPLOYMENT_ADMIN on deployment a-prod (" + f + ":5:9)",
		"no-direct-production-admin: user ben@example.com [usr-ben] holds DEPLOYMENT_ADMIN on deployment a-prod (" + f + ":6:9)",
		"admin on production only through a team",
		"Refused by guard policy: 2 violation(s)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// ann's admin is left alone (not listed, prune off): still a violation.
	g := c.write("other.yaml", "version: 1\ndeployments:\n  - id: dep-stg\n    workspaceTokens: [{name: ci, role: DEPLOYMENT_ADMIN}]\n")
	r = c.run("plan", "-f", g, "--policy", pol, "--no-color")
	wantCode(t, r, exitRefused)
	if !strings.Contains(r.stdout, "user ann@example.com [usr-ann] holds DEPLOYMENT_ADMIN on deployment a-prod\n") {
		t.Errorf("an unmanaged grant that breaks a rule is not listed:\n%s", r.stdout)
	}
	// Fixed: ann through the team only.
	h := c.write("fixed.yaml", "version: 1\ndeployments:\n  - id: dep-prod\n    users:\n      - {username: ann@example.com, state: absent}\n")
	wantCode(t, c.run("apply", "-f", h, "--policy", pol, "--yes"), exitOK)
	wantCode(t, c.run("plan", "-f", g, "--policy", pol), exitOK)
}

// TestPolicyScopeRuleAndJSON: a scope rule over grants, in the spec itself,
// with the violations in the JSON plan.
func TestPolicyScopeRuleAndJSON(t *testing.T) {
	c := newCLI(t, policyState)
	f := c.write("tokens.yaml", `version: 1
production: ["*-prod"]
policies:
  - name: one-admin-at-least
    description: every production deployment has an admin
    scope: >-
      scope.level == 'deployment' && scope.production &&
      grants.filter(g, g.role.access == 'admin' && g.via.kind == 'direct').size() == 0
deployments:
  - id: dep-stg
    workspaceTokens: []
`)
	r := c.run("plan", "-f", f, "-o", "json")
	wantCode(t, r, exitRefused)
	validatePlanJSON(t, []byte(r.stdout))
	var doc struct {
		Violations []struct {
			Rule    string
			Scope   struct{ Level, ID string }
			Subject *struct{ ID string }
		}
		Guards []struct {
			Name string
			OK   bool
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Violations) != 1 || doc.Violations[0].Rule != "one-admin-at-least" || doc.Violations[0].Scope.ID != "dep-b" || doc.Violations[0].Subject != nil {
		t.Errorf("violations %+v, want one on b-prod", doc.Violations)
	}
	if g := doc.Guards[len(doc.Guards)-1]; g.Name != "policy" || g.OK {
		t.Errorf("last guard %+v, want policy refusing", g)
	}
	// The text plan and the report say why the scope rule holds there.
	why := `grants.filter(g, g.role.access == "admin" && g.via.kind == "direct").size() = 0`
	r = c.run("plan", "-f", f, "--no-color")
	if want := "one-admin-at-least: deployment b-prod: " + why; !strings.Contains(r.stdout, want) {
		t.Errorf("plan lacks %q:\n%s", want, r.stdout)
	}
	r = c.run("report", "-f", f, "--no-color")
	if want := "every production deployment has an admin (" + why + ")"; !strings.Contains(squeeze(r.stdout), want) {
		t.Errorf("report lacks %q:\n%s%s", want, r.stdout, r.stderr)
	}
}

// TestPolicyFilesDelegation: a rule with files: covers only the grants
// written by matching spec files.
func TestPolicyFilesDelegation(t *testing.T) {
	c := newCLI(t, policyState)
	pol := c.write("policies.yaml", `version: 1
policies:
  - name: alpha-team-stays-in-alpha
    description: files under teams/alpha/ grant roles in workspace alpha only
    files: ["*/teams/alpha/*"]
    grant: scope.workspace != 'alpha'
`)
	if err := os.MkdirAll(filepath.Join(c.dir, "teams", "alpha"), 0o755); err != nil {
		t.Fatal(err)
	}
	alphaOK := c.write(filepath.Join("teams", "alpha", "ok.yaml"), "version: 1\ndeployments:\n  - id: dep-stg\n    users: [{username: ben@example.com, role: DEPLOYMENT_ADMIN}]\n")
	wantCode(t, c.run("plan", "-f", alphaOK, "--policy", pol), exitOK)
	alphaBad := c.write(filepath.Join("teams", "alpha", "bad.yaml"), "version: 1\ndeployments:\n  - id: dep-b\n    users: [{username: ben@example.com, role: DEPLOYMENT_ADMIN}]\n")
	r := c.run("plan", "-f", alphaBad, "--policy", pol, "--no-color")
	wantCode(t, r, exitRefused)
	if !strings.Contains(r.stdout, "alpha-team-stays-in-alpha: user ben@example.com [usr-ben] holds DEPLOYMENT_ADMIN on deployment b-prod") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	// However -f spells the file's path, the rule covers it.
	for _, spelt := range []string{
		filepath.Join(c.dir, "teams") + "//alpha/bad.yaml",
		filepath.Join(c.dir, "teams") + "/./alpha/bad.yaml",
		filepath.Join(c.dir, "teams") + "/alpha/../alpha/bad.yaml",
	} {
		if r := c.run("plan", "-f", spelt, "--policy", pol); r.code != exitRefused {
			t.Errorf("plan -f %s: exit %d, want %d:\n%s%s", spelt, r.code, exitRefused, r.stdout, r.stderr)
		}
	}
	// Relative to where tokensync runs, too.
	for dir, spelt := range map[string]string{"alpha": "bad.yaml", "beta": "../alpha/bad.yaml"} {
		if err := os.MkdirAll(filepath.Join(c.dir, "teams", dir), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Chdir(filepath.Join(c.dir, "teams", dir))
		if r := c.run("plan", "-f", spelt, "--policy", pol); r.code != exitRefused {
			t.Errorf("plan -f %s in teams/%s: exit %d, want %d:\n%s%s", spelt, dir, r.code, exitRefused, r.stdout, r.stderr)
		}
	}
	// The same grant from a file elsewhere is not the rule's business.
	elsewhere := c.write("platform.yaml", "version: 1\ndeployments:\n  - id: dep-b\n    users: [{username: ben@example.com, role: DEPLOYMENT_ADMIN}]\n")
	wantCode(t, c.run("plan", "-f", elsewhere, "--policy", pol), exitOK)
	// validate says so: the rule's files match none of the files read.
	r = c.run("validate", "--offline", "-f", elsewhere, "--policy", pol)
	wantCode(t, r, exitOK)
	if want := `warning: policy "alpha-team-stays-in-alpha": files "*/teams/alpha/*" match none of the 1 spec file(s) read`; !strings.Contains(r.stderr, want) {
		t.Errorf("validate's stderr lacks %q:\n%s", want, r.stderr)
	}
}

// TestPolicyWarnMode: --policy-mode warn lists the violations and lets the
// plan through.
func TestPolicyWarnMode(t *testing.T) {
	c := newCLI(t, policyState)
	pol := c.write("policies.yaml", directAdminRule)
	f := c.write("tokens.yaml", "version: 1\ndeployments:\n  - id: dep-stg\n    workspaceTokens: [{name: ci, role: DEPLOYMENT_ADMIN}]\n")
	r := c.run("apply", "-f", f, "--policy", pol, "--policy-mode", "warn", "--yes", "--no-color")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Policy violations (1):") || strings.Contains(r.stdout, "Refused") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

// TestPolicyThatDoesNotCompile: a rule that does not compile is a spec
// error (exit 3) with its position, found before any request, and
// reported with the other errors of the files at once.
func TestPolicyThatDoesNotCompile(t *testing.T) {
	c := newCLI(t, policyState)
	pol := c.write("policies.yaml", "version: 1\npolicies:\n  - name: typo\n    description: d\n    grant: subject.nmae == 'x'\n")
	f := c.write("tokens.yaml", "version: 1\ndeployments:\n  - id: dep-stg\n    workspaceTokens: []\n    userz: []\n")
	c.srv.ResetStats()
	for _, cmd := range []string{"plan", "validate", "report"} {
		r := c.run(cmd, "-f", f, "--policy", pol)
		wantCode(t, r, exitInvalid)
		if !strings.Contains(r.stderr, pol+":5:") || !strings.Contains(r.stderr, "nmae") {
			t.Errorf("%s: stderr lacks the rule's position:\n%s", cmd, r.stderr)
		}
		if !strings.Contains(r.stderr, f+":5:5: unknown key \"userz\"") {
			t.Errorf("%s: stderr lacks the spec's own error:\n%s", cmd, r.stderr)
		}
	}
	if n := c.requests(); n != 0 {
		t.Errorf("%d requests before the rule was compiled", n)
	}
}

// TestReportFailOnViolations: through the built binary, report --policy
// lists the violations of today's access as findings and --fail-on
// violations exits 8; without a violation it exits 0.
func TestReportFailOnViolations(t *testing.T) {
	st, err := astroapitest.ParseState("state.yaml", []byte(policyState))
	if err != nil {
		t.Fatal(err)
	}
	_, url := astroapitest.NewTestServer(t, st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
	dir := t.TempDir()
	c := &cli{t: t, dir: dir}
	pol := c.write("policies.yaml", directAdminRule)
	bin := binDir(t)
	env := processEnv(bin, map[string]string{"ASTRO_API_TOKEN": secret, "ASTRO_API_URL": url, "ASTRO_ORGANIZATION_ID": "org1"})
	run := func(args ...string) (string, int) {
		cmd := exec.Command(filepath.Join(bin, "tokensync"), args...)
		cmd.Env, cmd.Dir = env, dir
		out, err := cmd.Output()
		return string(out), exitCode(t, err)
	}
	out, code := run("report", "--policy", pol, "--fail-on", "violations")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d:\n%s", code, exitFindings, out)
	}
	if !strings.Contains(out, "policy-violation") || !strings.Contains(out, "ann@example.com") || !strings.Contains(out, "no-direct-production-admin") {
		t.Errorf("report lacks the violation:\n%s", out)
	}
	clean := c.write("clean.yaml", strings.Replace(directAdminRule, "scope.production", "scope.production && scope.name == 'none'", 1))
	if out, code := run("report", "--policy", clean, "--fail-on", "violations"); code != exitOK {
		t.Errorf("exit %d with no violation:\n%s", code, out)
	}
}

// TestPolicyFileAlsoGivenWithF: a --policy file is checked as a policy
// file whatever else names it: given also with -f (the same path, or in a
// -f directory), a spec file is refused (exit 3, before any request) with
// the errors a copy of it at another path gets, in plan, validate and
// report. A policy file given with both is taken.
func TestPolicyFileAlsoGivenWithF(t *testing.T) {
	c := newCLI(t, policyState)
	body := "version: 1\ndeployments:\n  - id: dep-stg\n    workspaceTokens: []\n"
	f := c.write("tokens.yaml", body)
	dir := filepath.Join(c.dir, "specs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	inDir := filepath.Join(dir, "tokens.yaml")
	writeTestFile(t, inDir, body)
	errorsOf := func(stderr, path string) string { return strings.ReplaceAll(stderr, path, "FILE") }

	copied := c.run("validate", "--offline", "-f", f, "--policy", c.write("copy.yaml", body))
	wantCode(t, copied, exitInvalid)
	want := errorsOf(copied.stderr, filepath.Join(c.dir, "copy.yaml"))
	if !strings.Contains(want, `unknown key "deployments" in policy file`) {
		t.Fatalf("a copy given with --policy:\n%s", copied.stderr)
	}
	for _, cmd := range [][]string{{"plan"}, {"validate", "--offline"}, {"report"}} {
		for _, tc := range []struct{ name, f, policy string }{
			{"the same path", f, f},
			{"the same path, spelled otherwise", f, filepath.Join(c.dir, ".", "tokens.yaml")},
			{"a file of a -f directory", dir, inDir},
		} {
			t.Run(cmd[0]+"/"+tc.name, func(t *testing.T) {
				c.srv.ResetStats()
				r := c.run(append(cmd, "-f", tc.f, "--policy", tc.policy)...)
				wantCode(t, r, exitInvalid)
				if got := errorsOf(r.stderr, filepath.Clean(tc.policy)); got != want {
					t.Errorf("stderr:\n%s\nwant (FILE the path):\n%s", got, want)
				}
				if n := c.requests(); n != 0 {
					t.Errorf("%d requests", n)
				}
			})
		}
	}
	pol := c.write("policies.yaml", directAdminRule)
	wantCode(t, c.run("validate", "--offline", "-f", f, "-f", pol, "--policy", pol), exitOK)
}

// TestReportPolicyWithoutSpec: report --policy FILE without -f checks the
// rules but has no spec: nothing is marked unmanaged or "not in the spec",
// and the JSON says spec false, as without --policy.
func TestReportPolicyWithoutSpec(t *testing.T) {
	c := newCLI(t, policyState)
	pol := c.write("policies.yaml", directAdminRule)
	r := c.run("report", "--policy", pol, "-o", "json")
	wantCode(t, r, exitOK)
	var doc struct {
		Spec  bool `json:"spec"`
		Cells []struct {
			Unmanaged bool `json:"unmanaged"`
		} `json:"grants"`
		Deployments []struct {
			InSpec bool `json:"in_spec"`
		} `json:"deployments"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Spec || len(doc.Cells) == 0 {
		t.Fatalf("spec %v with %d cells, want false and cells", doc.Spec, len(doc.Cells))
	}
	for i, cell := range doc.Cells {
		if cell.Unmanaged {
			t.Errorf("cell %d unmanaged without a spec", i)
		}
	}
	if !strings.Contains(r.stdout, "no-direct-production-admin") {
		t.Errorf("the rule was not checked:\n%s", r.stdout)
	}
	text := c.run("report", "--policy", pol, "--no-color")
	wantCode(t, text, exitOK)
	if strings.Contains(text.stdout, "not in the spec") || strings.Contains(text.stdout, "unmanaged") {
		t.Errorf("the text report speaks of a spec it was not given:\n%s", text.stdout)
	}
}

// TestPolicyRatesCustomRolesAsTheReport: role.access of a custom role is
// its rating from its permissions, as the report gives it, in plan (for a
// role the plan adds) and in report (for one held): a custom role that may
// manage API tokens is admin.
func TestPolicyRatesCustomRolesAsTheReport(t *testing.T) {
	state := policyState + `roles:
  - {id: role-keys, name: KEYS_ADMIN, scopeType: DEPLOYMENT, permissions: [deployment.get, deployment.apiTokens.update]}
  - {id: role-look, name: LOOKER, scopeType: DEPLOYMENT, permissions: [deployment.get]}
`
	c := newCLI(t, state)
	pol := c.write("policies.yaml", `version: 1
policies:
  - name: no-custom-admin
    description: no custom role that rates admin
    grant: role.name in ['KEYS_ADMIN', 'LOOKER'] && role.access == 'admin'
`)
	f := c.write("tokens.yaml", `version: 1
deployments:
  - id: dep-stg
    users:
      - {username: ben@example.com, role: KEYS_ADMIN}
      - {username: owner@example.com, role: LOOKER}
`)
	r := c.run("plan", "-f", f, "--policy", pol, "--no-color")
	wantCode(t, r, exitRefused)
	if !strings.Contains(r.stdout, "no-custom-admin: user ben@example.com [usr-ben] holds KEYS_ADMIN on deployment a-staging") || strings.Contains(r.stdout, "LOOKER on") {
		t.Errorf("want ben's KEYS_ADMIN alone as admin:\n%s", r.stdout)
	}
	wantCode(t, c.run("apply", "-f", f, "--policy", pol, "--policy-mode", "warn", "--yes"), exitOK)
	r = c.run("report", "--policy", pol, "-o", "json")
	wantCode(t, r, exitOK)
	if n := strings.Count(r.stdout, `"rule":"no-custom-admin"`); n != 1 {
		t.Errorf("the report has %d violation(s) of the rule, want ben's alone:\n%s", n, r.stdout)
	}
}

// TestPolicyReadsCustomRolesOnlyWhenRated: plan reads a custom role's
// permissions only when a rule may read a role's access (it reads role or
// grants); a role that cannot be read then fails the plan (exit 1, nothing
// written) rather than passing rules on a role rated "custom".
func TestPolicyReadsCustomRolesOnlyWhenRated(t *testing.T) {
	state := policyState + `roles:
  - {id: role-keys, name: KEYS_ADMIN, scopeType: DEPLOYMENT, permissions: [deployment.get, deployment.apiTokens.update]}
`
	c := newCLI(t, state)
	f := c.write("tokens.yaml", "version: 1\ndeployments:\n  - id: dep-stg\n    users:\n      - {username: ben@example.com, role: KEYS_ADMIN}\n")
	byName := c.write("by-name.yaml", "version: 1\npolicies:\n  - name: no-zzz\n    description: no subject zzz\n    grant: subject.name == 'zzz'\n")
	byAccess := c.write("by-access.yaml", "version: 1\npolicies:\n  - name: no-admin\n    description: no admin\n    grant: role.access == 'admin' && subject.kind == 'user' && scope.name == 'a-staging'\n")
	roleReads := func() int { return c.srv.Stats().Requests["GET /organizations/{organizationId}/roles/{roleId}"] }

	c.srv.ResetStats()
	wantCode(t, c.run("plan", "-f", f, "--policy", byName), exitOK)
	if n := roleReads(); n != 0 {
		t.Errorf("%d custom role reads for a rule that reads no role", n)
	}
	c.srv.ResetStats()
	wantCode(t, c.run("plan", "-f", f, "--policy", byAccess), exitRefused)
	if n := roleReads(); n != 1 {
		t.Errorf("%d custom role reads for a rule on role.access, want 1", n)
	}

	// The same through a proxy that refuses the role's read.
	target, err := url.Parse(c.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	apiPath := target.Path
	target.Path = "" // the proxy passes the path on as asked
	proxy := httputil.NewSingleHostReverseProxy(target)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/roles/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"forbidden","statusCode":403}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer hs.Close()
	r := c.runRaw("apply", "--api-url", hs.URL+apiPath, "--organization", "org1", "-f", f, "--policy", byAccess, "--yes")
	wantCode(t, r, exitError)
	if !strings.Contains(r.stderr, "read custom role KEYS_ADMIN") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if c.posts() != 0 {
		t.Errorf("%d writes", c.posts())
	}
}

// TestPolicyProductionOwner: a --policy file may pin production, and then
// the rules read it; a spec file that sets production too, or a spec file
// that a rule's files match (a delegated file), is a spec error (exit 3)
// at its production key, before any request.
func TestPolicyProductionOwner(t *testing.T) {
	c := newCLI(t, policyState)
	if err := os.MkdirAll(filepath.Join(c.dir, "teams", "alpha"), 0o755); err != nil {
		t.Fatal(err)
	}
	const delegation = `  - name: alpha-team-stays-in-alpha
    description: files under teams/alpha/ grant roles in workspace alpha only
    files: ["teams/alpha/*"]
    grant: scope.workspace != 'alpha'
`
	// ann holds admin on a-prod directly: a violation while a-prod is
	// production.
	f := c.write("tokens.yaml", "version: 1\ndeployments:\n  - id: dep-stg\n    workspaceTokens: [{name: ci, role: DEPLOYMENT_ADMIN}]\n")
	wantCode(t, c.run("plan", "-f", f, "--policy", c.write("default.yaml", directAdminRule)), exitRefused)
	pinned := c.write("pinned.yaml", directAdminRule+delegation+"production: [a-staging]\n")
	wantCode(t, c.run("plan", "-f", f, "--policy", pinned), exitOK)
	wantCode(t, c.run("plan", "-f", f, "--policy", c.write("pin-only.yaml", "production: [a-staging]\n"), "--policy", c.write("rules.yaml", directAdminRule)), exitOK)

	for _, tc := range []struct {
		name, file, body, policy, want string
	}{
		{"a spec file when a policy file pins it", "unpin.yaml", "version: 1\nproduction: [no-such-deployment]\n", pinned,
			":2:1: production is already set at " + pinned + ":10:1, in a policy file (--policy); a spec file may not set it too"},
		{"a delegated file", filepath.Join("teams", "alpha", "unpin.yaml"), "version: 1\nproduction: [no-such-deployment]\ndeployments:\n  - id: dep-stg\n    workspaceTokens: [{name: ci, role: DEPLOYMENT_ADMIN}]\n",
			c.write("delegation.yaml", directAdminRule+delegation),
			`:2:1: production may not be set in a file that policy "alpha-team-stays-in-alpha" covers (files "teams/alpha/*" at ` + filepath.Join(c.dir, "delegation.yaml") + `:8:13): the rules' owner sets it, in a policy file (--policy) or a spec file no policy's files match`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := c.write(tc.file, tc.body)
			c.srv.ResetStats()
			for _, cmd := range [][]string{{"plan"}, {"validate", "--offline"}, {"report"}} {
				r := c.run(append(cmd, "-f", spec, "--policy", tc.policy)...)
				wantCode(t, r, exitInvalid)
				if !strings.Contains(r.stderr, spec+tc.want) {
					t.Errorf("%s: stderr lacks %q:\n%s", cmd[0], spec+tc.want, r.stderr)
				}
			}
			if n := c.requests(); n != 0 {
				t.Errorf("%d requests", n)
			}
		})
	}
}
