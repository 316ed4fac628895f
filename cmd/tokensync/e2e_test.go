package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/planfile"
)

// secret is the credential every test uses; no output may contain it.
const secret = "tsk-test-credential-5f3c9a"

// result is what one run of the CLI did.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs tokensync in-process against an emulator.
type cli struct {
	t       *testing.T
	srv     *astroapitest.Server
	baseURL string
	dir     string
	env     map[string]string
	stdin   string
	tty     bool
	// unpaced says the emulator keeps no rate limits: run then lifts the
	// client's own (Astro's GET 25/s, one request at a time), which would
	// make the tests wait, unless a test gives --rate-scale itself.
	unpaced bool
}

// testState is a small organization with every case the CLI tests need.
const testState = `
organization: {id: org1, name: Test Org}
workspaces:
  - {id: ws-a, name: alpha}
  - {id: ws-b, name: beta}
deployments:
  - {id: dep-a1, name: a-prod, workspaceId: ws-a}
  - {id: dep-a2, name: a-staging, workspaceId: ws-a}
  - {id: dep-b1, name: b-prod, workspaceId: ws-b}
  - {id: dep-b2, name: shared-name, workspaceId: ws-b}
  - {id: dep-a3, name: shared-name, workspaceId: ws-a}
roles:
  - {id: role-dd, name: DAG_DEPLOYER, scopeType: DEPLOYMENT, restrictedWorkspaceIds: [ws-a]}
  - {id: role-v, name: VIEWER, scopeType: DEPLOYMENT, restrictedWorkspaceIds: []}
tokens:
  - id: tok-ci-a
    name: ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
      - {entityType: DAG, entityId: etl_daily, deploymentId: dep-a1, role: DAG_AUTHOR}
  - id: tok-ci-b
    name: ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-b, role: WORKSPACE_MEMBER}
  - id: tok-deployer
    name: deployer
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_OPERATOR}
      - {entityType: DEPLOYMENT, entityId: dep-a2, role: VIEWER}
  - id: tok-old
    name: old-bot
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
      - {entityType: DEPLOYMENT, entityId: dep-a2, role: DEPLOYMENT_ADMIN}
  - id: tok-glass
    name: break-glass-admin
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_OWNER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
  - id: tok-org
    name: org-observer
    scope: ORGANIZATION
    roles:
      - {entityType: ORGANIZATION, entityId: org1, role: ORGANIZATION_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-b1, role: DEPLOYMENT_ADMIN}
  - id: tok-dep
    name: dep-only
    scope: DEPLOYMENT
    roles:
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
`

// newCLI starts an emulator seeded with state and returns a CLI bound to it.
func newCLI(t *testing.T, state string) *cli {
	t.Helper()
	st, err := astroapitest.ParseState("state.yaml", []byte(state))
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	srv, url := astroapitest.NewTestServer(t, st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
	return &cli{t: t, srv: srv, baseURL: url, dir: t.TempDir(), env: map[string]string{"ASTRO_API_TOKEN": secret}, unpaced: true}
}

// write stores a file in the test's directory and returns its path.
func (c *cli) write(name, content string) string {
	c.t.Helper()
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// run runs tokensync with the emulator's URL and organization.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	full := append(c.apiFlags(args[0], "org1", args[1:]...), args[1:]...)
	return c.runRaw(full...)
}

// apiFlags are command and the flags run gives it: the emulator's URL
// (unless args --emulate one of their own), organization org, and for an
// unpaced emulator the client's rate limits lifted, unless args set them.
func (c *cli) apiFlags(command, org string, args ...string) []string {
	flags := []string{command, "--api-url", c.baseURL, "--organization", org}
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--emulate") }) {
		flags = []string{command, "--organization", org}
	}
	if c.unpaced && !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--rate-scale") }) {
		flags = append(flags, "--rate-scale=1000")
	}
	return flags
}

// runRaw runs tokensync with exactly args.
func (c *cli) runRaw(args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, Streams{
		In:     strings.NewReader(c.stdin),
		Out:    &out,
		Err:    &errb,
		InTTY:  c.tty,
		Getenv: func(k string) string { return c.env[k] },
	})
	r := result{code: code, stdout: out.String(), stderr: errb.String()}
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, secret) {
			c.t.Errorf("tokensync %v printed the credential:\n%s", args, s)
		}
	}
	return r
}

// posts is the number of role writes the emulator received.
func (c *cli) posts() int {
	n := 0
	for route, count := range c.srv.Stats().Requests {
		if strings.HasPrefix(route, "POST ") {
			n += count
		}
	}
	return n
}

// requests is the number of API requests the emulator received.
func (c *cli) requests() int {
	n := 0
	for _, count := range c.srv.Stats().Requests {
		n += count
	}
	return n
}

// deploymentRoles is every DEPLOYMENT entry in the emulator, as
// "token deployment=role".
func (c *cli) deploymentRoles() []string {
	var out []string
	for _, tok := range c.srv.State().Tokens {
		for _, r := range tok.Roles {
			if r.EntityType == astroapi.EntityDeployment {
				out = append(out, tok.ID+" "+r.EntityID+"="+r.Role)
			}
		}
	}
	return out
}

func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

const mainSpec = `version: 1
ignoreTokens: ["break-glass-*"]
deployments:
  - id: dep-a1
    workspaceTokens:
      - id: tok-ci-a
        role: DEPLOYMENT_ADMIN
      - name: deployer
        role: DAG_DEPLOYER
      - name: old-bot
        state: absent
  - name: a-staging
    workspace: alpha
    workspaceTokens:
      - name: deployer
        role: deployment_admin
  - id: dep-b1
    workspaceTokens:
      - id: tok-ci-b
        role: VIEWER
    organizationTokens:
      - name: org-observer
        role: DEPLOYMENT_ADMIN
`

func TestPlanApplyPlan(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)

	r := c.run("plan", "-f", f, "--detailed-exitcode", "--no-color")
	wantCode(t, r, exitChanges)
	for _, want := range []string{
		"+ workspace token deployer [tok-deployer] DAG_DEPLOYER",
		"- workspace token old-bot [tok-old] DEPLOYMENT_ADMIN # state: absent",
		"~ workspace token deployer [tok-deployer] VIEWER -> DEPLOYMENT_ADMIN",
		"+ workspace token ci [tok-ci-b] VIEWER",
		"? deployment token dep-only [tok-dep]",
		"? workspace token break-glass-admin [tok-glass]",
		"Plan: 2 to add, 1 to change, 1 to remove.",
	} {
		if !strings.Contains(squeeze(r.stdout), want) {
			t.Errorf("plan output lacks %q:\n%s", want, r.stdout)
		}
	}
	if c.posts() != 0 {
		t.Fatalf("plan made %d POSTs", c.posts())
	}

	c.srv.ResetStats()
	r = c.run("apply", "-f", f, "--yes")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Apply complete: 2 added, 1 changed, 1 removed.") {
		t.Errorf("apply output:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "Verified: converged.") {
		t.Errorf("apply stderr lacks verification:\n%s", r.stderr)
	}
	// tok-deployer (add + update), tok-old (remove), tok-ci-b (add): one GET and one POST each.
	stats := c.srv.Stats()
	if got := stats.Requests["POST /organizations/{organizationId}/tokens/{tokenId}/roles"]; got != 3 {
		t.Errorf("apply made %d role POSTs, want 3 (one per changed token)", got)
	}
	if got := stats.Requests["GET /organizations/{organizationId}/tokens/{tokenId}"]; got != 3 {
		t.Errorf("apply made %d token GETs, want 3 (one per changed token)", got)
	}

	r = c.run("plan", "-f", f, "--detailed-exitcode")
	wantCode(t, r, exitOK)

	got := c.deploymentRoles()
	want := []string{
		"tok-ci-a dep-a1=DEPLOYMENT_ADMIN",
		"tok-ci-b dep-b1=VIEWER",
		"tok-deployer dep-a2=DEPLOYMENT_ADMIN",
		"tok-deployer dep-a1=DAG_DEPLOYER",
		"tok-old dep-a2=DEPLOYMENT_ADMIN",
		"tok-glass dep-a1=DEPLOYMENT_ADMIN",
		"tok-org dep-b1=DEPLOYMENT_ADMIN",
		"tok-dep dep-a1=DEPLOYMENT_ADMIN",
	}
	if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
		t.Errorf("deployment roles after apply (-want +got):\n%s", diff)
	}
	// The DAG role and workspace roles were kept exactly.
	for _, tok := range c.srv.State().Tokens {
		if tok.ID == "tok-ci-a" && len(tok.Roles) != 3 {
			t.Errorf("tok-ci-a roles = %+v, want its 3 roles kept", tok.Roles)
		}
	}
}

// squeeze collapses runs of spaces, so tests need not know column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestDryRunAndPlanWriteNothing(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	wantCode(t, c.run("apply", "-f", f, "--dry-run"), exitOK)
	wantCode(t, c.run("plan", "-f", f, "--prune"), exitOK)
	if c.posts() != 0 {
		t.Fatalf("dry-run and plan made %d POSTs", c.posts())
	}
}

func TestApplyWithoutTerminalRefusesWithoutYes(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	r := c.run("apply", "-f", f)
	wantCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "apply needs --yes when not run from a terminal; nothing was written") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if c.posts() != 0 {
		t.Fatalf("apply without --yes made %d POSTs", c.posts())
	}
}

func TestApplyAsksOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		answer string
		code   int
		posts  bool
	}{
		{"yes\n", exitOK, true},
		{"no\n", exitError, false},
		{"", exitError, false},
	} {
		t.Run(strings.TrimSpace(tc.answer), func(t *testing.T) {
			c := newCLI(t, testState)
			c.tty, c.stdin = true, tc.answer
			f := c.write("tokens.yaml", mainSpec)
			r := c.run("apply", "-f", f)
			wantCode(t, r, tc.code)
			if !strings.Contains(r.stderr, "Only 'yes' will be accepted") {
				t.Errorf("no prompt on stderr:\n%s", r.stderr)
			}
			if (c.posts() > 0) != tc.posts {
				t.Errorf("posts = %d, want writes: %v", c.posts(), tc.posts)
			}
		})
	}
}

func TestInvalidSpecContactsNothing(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("bad.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - name: ci\n        role: WORKSPACE_OWNER\n        colour: blue\n")
	for _, cmd := range []string{"plan", "apply", "validate"} {
		r := c.run(cmd, "-f", f, "--yes")
		if cmd != "apply" {
			r = c.run(cmd, "-f", f)
		}
		wantCode(t, r, exitInvalid)
		if !strings.Contains(r.stderr, "bad.yaml:6:15: ") || !strings.Contains(r.stderr, "bad.yaml:7:9: ") {
			t.Errorf("%s: stderr lacks positioned errors:\n%s", cmd, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%s: stdout not empty:\n%s", cmd, r.stdout)
		}
	}
	if n := c.requests(); n != 0 {
		t.Fatalf("an invalid spec drew %d API requests", n)
	}
}

func TestGitHubAnnotations(t *testing.T) {
	c := newCLI(t, testState)
	c.env["GITHUB_ACTIONS"] = "true"
	f := c.write("bad.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    prunee: true\n")
	r := c.run("validate", "--offline", "-f", f)
	wantCode(t, r, exitInvalid)
	if !strings.Contains(r.stderr, "::error file="+f+",line=4,col=5::") {
		t.Errorf("no annotation:\n%s", r.stderr)
	}
}

func TestResolutionErrors(t *testing.T) {
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"token name of another workspace", "version: 1\ndeployments:\n  - id: dep-b1\n    workspaceTokens:\n      - {name: deployer, role: DEPLOYMENT_ADMIN}\n", `belongs to workspace "alpha"`},
		{"workspace token on another workspace", "version: 1\ndeployments:\n  - id: dep-b1\n    workspaceTokens:\n      - {id: tok-ci-a, role: DEPLOYMENT_ADMIN}\n", "tok-ci-a"},
		{"org token under workspaceTokens", "version: 1\ndeployments:\n  - id: dep-b1\n    workspaceTokens:\n      - {name: org-observer, role: DEPLOYMENT_ADMIN}\n", "organizationTokens"},
		{"unknown custom role", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - {id: tok-ci-a, role: DEPLOYMENT_ADMN}\n", `did you mean "DEPLOYMENT_ADMIN"?`},
		{"restricted custom role", "version: 1\ndeployments:\n  - id: dep-b1\n    workspaceTokens:\n      - {id: tok-ci-b, role: DAG_DEPLOYER}\n", "DAG_DEPLOYER"},
		{"unknown deployment", "version: 1\ndeployments:\n  - id: dep-zz\n    workspaceTokens: []\n", "dep-zz"},
		{"ambiguous deployment workspace", "version: 1\ndeployments:\n  - name: shared-name\n    workspace: gamma\n    workspaceTokens: []\n", "gamma"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, testState)
			f := c.write("tokens.yaml", tc.spec)
			r := c.run("plan", "-f", f)
			wantCode(t, r, exitInvalid)
			if !strings.Contains(r.stderr, f+":") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q at a position:\n%s", tc.want, r.stderr)
			}
			if c.posts() != 0 {
				t.Errorf("%d POSTs", c.posts())
			}
		})
	}
}

func TestPruneIgnoreAndProtect(t *testing.T) {
	spec := "version: 1\nignoreTokens: [break-glass-*]\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - {id: tok-ci-a, role: DEPLOYMENT_ADMIN}\n"
	t.Run("prune removes unlisted, keeps ignored and deployment tokens", func(t *testing.T) {
		c := newCLI(t, testState)
		f := c.write("tokens.yaml", spec)
		r := c.run("apply", "-f", f, "--prune", "--yes", "--no-color")
		wantCode(t, r, exitOK)
		if !strings.Contains(squeeze(r.stdout), "- workspace token old-bot [tok-old] DEPLOYMENT_ADMIN # not in spec (prune)") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		roles := strings.Join(c.deploymentRoles(), "\n")
		for _, want := range []string{"tok-glass dep-a1=DEPLOYMENT_ADMIN", "tok-dep dep-a1=DEPLOYMENT_ADMIN", "tok-old dep-a2=DEPLOYMENT_ADMIN"} {
			if !strings.Contains(roles, want) {
				t.Errorf("prune removed %s:\n%s", want, roles)
			}
		}
		if strings.Contains(roles, "tok-old dep-a1") {
			t.Errorf("prune kept tok-old on dep-a1")
		}
	})
	t.Run("protect refuses", func(t *testing.T) {
		c := newCLI(t, testState)
		f := c.write("tokens.yaml", spec)
		r := c.run("apply", "-f", f, "--prune", "--yes", "--protect", "old-*")
		wantCode(t, r, exitRefused)
		if c.posts() != 0 {
			t.Errorf("%d POSTs", c.posts())
		}
	})
	t.Run("max-removals refuses", func(t *testing.T) {
		c := newCLI(t, testState)
		f := c.write("tokens.yaml", spec)
		r := c.run("plan", "-f", f, "--prune", "--max-removals", "0")
		wantCode(t, r, exitRefused)
		if !strings.Contains(r.stdout, "max-removals") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
	})
	t.Run("prune may not empty a deployment", func(t *testing.T) {
		c := newCLI(t, testState)
		f := c.write("tokens.yaml", "version: 1\ndeployments:\n  - id: dep-a2\n    prune: true\n    workspaceTokens: []\n")
		wantCode(t, c.run("apply", "-f", f, "--yes"), exitRefused)
		if c.posts() != 0 {
			t.Errorf("%d POSTs", c.posts())
		}
		f = c.write("tokens.yaml", "version: 1\ndeployments:\n  - id: dep-a2\n    prune: true\n    allowEmpty: true\n    workspaceTokens: []\n")
		wantCode(t, c.run("apply", "-f", f, "--yes"), exitOK)
	})
}

func TestExportThenPlanIsEmpty(t *testing.T) {
	c := newCLI(t, testState)
	r := c.run("export")
	wantCode(t, r, exitOK)
	if strings.Contains(r.stdout, "tok-dep") || strings.Contains(r.stdout, "dep-only") {
		t.Errorf("export lists a deployment token:\n%s", r.stdout)
	}
	f := c.write("exported.yaml", r.stdout)
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode", "--prune"), exitOK)
}

func TestPlanJSONIsPureOnStdout(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	for _, args := range [][]string{
		{"plan", "-f", f, "-o", "json"},
		{"plan", "-f", f, "-o", "json", "--detailed-exitcode"},
		{"plan", "-f", f, "-o", "json", "--prune", "--max-removals", "0"},
	} {
		r := c.run(args...)
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Errorf("%v: stdout is not one JSON document: %v\n%s", args, err, r.stdout)
		}
		validatePlanJSON(t, []byte(r.stdout))
	}
}

func TestSavedPlan(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)

	// Someone changes a token of the plan: the saved plan is stale.
	stale := newCLI(t, testState)
	stalePlan := filepath.Join(stale.dir, "plan.json")
	wantCode(t, stale.run("plan", "-f", stale.write("tokens.yaml", mainSpec), "--out", stalePlan), exitOK)
	dropOldBotRoles(t, stale.baseURL)
	stale.srv.ResetStats()
	r := stale.run("apply", stalePlan, "--yes")
	wantCode(t, r, exitStale)
	if stale.posts() != 0 {
		t.Errorf("a stale plan made %d POSTs", stale.posts())
	}

	// The fresh one applies exactly its changes.
	c.srv.ResetStats()
	r = c.run("apply", planFile, "--yes")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Apply complete: 2 added, 1 changed, 1 removed.") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)

	// A plan of another organization is refused.
	r = c.runRaw("apply", planFile, "--yes", "--api-url", c.baseURL, "--organization", "org2")
	wantCode(t, r, exitStale)
}

func TestUsageErrors(t *testing.T) {
	c := newCLI(t, testState)
	for _, args := range [][]string{
		{"plan", "--no-such-flag"},
		{"plan", "-o", "yaml", "-f", "x.yaml"},
		{"frobnicate"},
	} {
		r := c.runRaw(args...)
		wantCode(t, r, exitUsage)
	}
}

func TestValidateOfflineNeedsNoCredential(t *testing.T) {
	c := newCLI(t, testState)
	c.env = map[string]string{}
	f := c.write("tokens.yaml", mainSpec)
	r := c.runRaw("validate", "--offline", "-f", f, "--api-url", "https://api.example.invalid/v1")
	wantCode(t, r, exitOK)
}

func TestEmulateExamples(t *testing.T) {
	c := newCLI(t, testState)
	r := c.runRaw("plan", "-f", "../../examples/tokens.yaml", "--emulate", "../../examples/org.yaml", "--no-color")
	wantCode(t, r, exitOK)
	for _, want := range []string{"+ ", "~ ", "- ", "? ", "# state: absent"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the example plan shows no %q:\n%s", want, r.stdout)
		}
	}
}

func TestPlanCostIsPagesOnly(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	wantCode(t, c.run("plan", "-f", f), exitOK)
	// 7 tokens, 5 deployments, 2 workspaces, no users or teams: one page
	// each, plus one of roles.
	got := c.srv.Stats().Requests
	want := map[string]int{
		"GET /organizations/{organizationId}/tokens":      1,
		"GET /organizations/{organizationId}/users":       1,
		"GET /organizations/{organizationId}/teams":       1,
		"GET /organizations/{organizationId}/deployments": 1,
		"GET /organizations/{organizationId}/workspaces":  1,
		"GET /organizations/{organizationId}/roles":       1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan requests (-want +got):\n%s", diff)
	}
}

func TestConfinedCredentialFallsBackPerWorkspace(t *testing.T) {
	c := newCLI(t, testState+"credentials:\n  - {secret: "+secret+", workspaceIds: [ws-a]}\n")
	f := c.write("tokens.yaml", "version: 1\ndeployments:\n  - id: dep-a2\n    workspaceTokens:\n      - {id: tok-ci-a, role: DEPLOYMENT_ADMIN}\n")
	r := c.run("plan", "-f", f, "-v", "--no-color")
	wantCode(t, r, exitOK)
	if !strings.Contains(squeeze(r.stdout), "+ workspace token ci [tok-ci-a] DEPLOYMENT_ADMIN") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "listed per workspace instead") {
		t.Errorf("-v does not say it fell back:\n%s", r.stderr)
	}
	if got := c.srv.Stats().Statuses[403]; got == 0 {
		t.Errorf("the org-wide lists were not refused; the test proves nothing")
	}
}

func TestSavedPlanAppliesExactlyItsChanges(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile, "-o", "json"), exitOK)
	saved, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	validatePlanJSON(t, saved)

	// The spec moves on after the plan was saved: the saved plan must not.
	c.write("tokens.yaml", mainSpec+"  - id: dep-a3\n    workspaceTokens:\n      - {id: tok-ci-a, role: DEPLOYMENT_ADMIN}\n")
	r := c.run("apply", planFile, "--yes")
	wantCode(t, r, exitOK)
	if strings.Contains(strings.Join(c.deploymentRoles(), "\n"), "dep-a3") {
		t.Errorf("apply PLAN.json applied a change that is not in the plan")
	}
	r = c.run("plan", "-f", f, "--no-color")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Plan: 1 to add, 0 to change, 0 to remove.") {
		t.Errorf("after the saved plan, the new spec entry should be the only change:\n%s", r.stdout)
	}

	// With -f, a saved plan made from another version of the spec is refused.
	r = c.run("apply", planFile, "-f", f, "--yes")
	wantCode(t, r, exitStale)
}

// TestSavedPlanFilesInAnyOrder: apply PLAN.json -f FILES takes the files
// the plan was made from in whatever order -f gives them; the spec is the
// same spec.
func TestSavedPlanFilesInAnyOrder(t *testing.T) {
	c := newCLI(t, testState)
	a := c.write("a.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - {id: tok-ci-a, role: DEPLOYMENT_ADMIN}\n")
	b := c.write("b.yaml", "version: 1\ndeployments:\n  - id: dep-a3\n    workspaceTokens:\n      - {id: tok-ci-a, role: DEPLOYMENT_ADMIN}\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", a, "-f", b, "--out", planFile), exitOK)
	r := c.run("apply", planFile, "-f", b, "-f", a, "--yes")
	wantCode(t, r, exitOK)
	if roles := strings.Join(c.deploymentRoles(), "\n"); !strings.Contains(roles, "dep-a3") {
		t.Errorf("the saved plan was not applied:\n%s\n%s", roles, r.stderr)
	}
}

// validatePlanJSON checks a plan document against planfile/plan.schema.json.
func validatePlanJSON(t *testing.T, data []byte) {
	t.Helper()
	validateSchema(t, "plan.schema.json", planfile.Schema(), data)
}

// validateSchema checks a JSON document against the JSON Schema schema,
// called name.
func validateSchema(t *testing.T, name string, schema, data []byte) {
	t.Helper()
	sd, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	comp := jsonschema.NewCompiler()
	if err := comp.AddResource(name, sd); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("the document does not match %s: %v", name, err)
	}
}

func TestApplyProgress(t *testing.T) {
	t.Run("counts without a terminal, no line per token", func(t *testing.T) {
		c := newCLI(t, testState)
		r := c.run("apply", "-f", c.write("tokens.yaml", mainSpec), "--yes")
		wantCode(t, r, exitOK)
		if !strings.Contains(r.stderr, "Applying: 3/3 (100%)") || strings.Count(r.stderr, "Applying: ") != 1 {
			t.Errorf("want one progress line, the last count:\n%s", r.stderr)
		}
		if strings.Contains(r.stderr, "wrote old-bot") {
			t.Errorf("a line per token:\n%s", r.stderr)
		}
	})
	t.Run("a live counter on a terminal", func(t *testing.T) {
		c := newCLI(t, testState)
		var out, errb bytes.Buffer
		f := c.write("tokens.yaml", mainSpec)
		code := run(context.Background(), []string{"apply", "--api-url", c.baseURL, "--organization", "org1", "-f", f, "--yes"},
			Streams{In: strings.NewReader(""), Out: &out, Err: &errb, ErrTTY: true, Getenv: func(k string) string { return c.env[k] }})
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if !regexp.MustCompile(`\rApplying: 3/3 \(100%\), [0-9.]+/s\x1b\[K\n`).MatchString(errb.String()) || strings.Contains(errb.String(), "Applying: 3/3 (100%)\n") {
			t.Errorf("stderr:\n%q", errb.String())
		}
	})
	// TERM=dumb takes no carriage return or escape sequence: the lines of
	// a log, as for colour. NO_COLOR is about colour: the counter stays.
	onTerminal := func(t *testing.T, env map[string]string) string {
		t.Helper()
		c := newCLI(t, testState)
		for k, v := range env {
			c.env[k] = v
		}
		var out, errb bytes.Buffer
		f := c.write("tokens.yaml", mainSpec)
		code := run(context.Background(), []string{"apply", "--api-url", c.baseURL, "--organization", "org1", "-f", f, "--yes"},
			Streams{In: strings.NewReader(""), Out: &out, Err: &errb, OutTTY: true, ErrTTY: true, Getenv: func(k string) string { return c.env[k] }})
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		return errb.String()
	}
	t.Run("plain lines on a terminal with TERM=dumb", func(t *testing.T) {
		stderr := onTerminal(t, map[string]string{"TERM": "dumb", "FORCE_COLOR": "1"})
		if strings.ContainsAny(stderr, "\r\x1b") || !regexp.MustCompile(`(?m)^Applying: 3/3 \(100%\), [0-9.]+/s$`).MatchString(stderr) {
			t.Errorf("stderr:\n%q", stderr)
		}
	})
	t.Run("a live counter on a terminal with NO_COLOR", func(t *testing.T) {
		stderr := onTerminal(t, map[string]string{"NO_COLOR": "1", "TERM": "xterm"})
		if !regexp.MustCompile(`\rApplying: 3/3 \(100%\), [0-9.]+/s\x1b\[K\n`).MatchString(stderr) || strings.Contains(stderr, "\x1b[1") || strings.Contains(stderr, "\x1b[3") {
			t.Errorf("stderr:\n%q", stderr)
		}
	})
}

func TestCompletionScripts(t *testing.T) {
	c := newCLI(t, testState)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := c.runRaw("completion", shell)
		wantCode(t, r, exitOK)
		for _, want := range []string{"plan", "apply", "detailed-exitcode", "prune"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s completion lacks %q", shell, want)
			}
		}
	}
	r := c.runRaw("completion", "bash")
	cmd := exec.Command("bash", "-n")
	cmd.Stdin = strings.NewReader(r.stdout)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("bash -n: %v\n%s", err, out)
	}
}

func TestColourOnlyOnTerminals(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	runOut := func(tty bool, env map[string]string, args ...string) string {
		var out bytes.Buffer
		full := append([]string{"plan", "--api-url", c.baseURL, "--organization", "org1", "-f", f}, args...)
		run(context.Background(), full, Streams{In: strings.NewReader(""), Out: &out, Err: io.Discard, OutTTY: tty,
			Getenv: func(k string) string {
				if v, ok := env[k]; ok {
					return v
				}
				return c.env[k]
			}})
		return out.String()
	}
	if !strings.Contains(runOut(true, nil), "\x1b[") {
		t.Errorf("no colour on a terminal")
	}
	for name, out := range map[string]string{
		"pipe":       runOut(false, nil),
		"NO_COLOR":   runOut(true, map[string]string{"NO_COLOR": "1"}),
		"--no-color": runOut(true, nil, "--no-color"),
	} {
		if strings.Contains(out, "\x1b[") {
			t.Errorf("%s: colour escape codes in output", name)
		}
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens: []\n")
	t.Setenv("TOKENSYNC_PRUNE", "true")
	t.Setenv("TOKENSYNC_MAX_REMOVALS", "0")
	r := c.run("plan", "-f", f)
	wantCode(t, r, exitRefused)
	if !strings.Contains(r.stdout, "max-removals") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	t.Setenv("TOKENSYNC_MAX_REMOVALS", "-1")
	t.Setenv("TOKENSYNC_PROTECT", "ci,old-*")
	wantCode(t, c.run("plan", "-f", f), exitRefused)
	t.Setenv("TOKENSYNC_PROTECT", "")
	t.Setenv("ASTRO_API_URL", c.baseURL)
	t.Setenv("ASTRO_ORGANIZATION_ID", "org1")
	t.Setenv("TOKENSYNC_PRUNE", "false")
	wantCode(t, c.runRaw("plan", "-f", f), exitOK)
}

func TestExportFilters(t *testing.T) {
	c := newCLI(t, testState)
	r := c.run("export", "--workspace", "beta")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "dep-b1") || strings.Contains(r.stdout, "dep-a1") {
		t.Errorf("export --workspace beta:\n%s", r.stdout)
	}
	r = c.run("export", "--deployment", "a-staging")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "id: dep-a2") || strings.Contains(r.stdout, "dep-b1") {
		t.Errorf("export --deployment a-staging:\n%s", r.stdout)
	}
	// Two workspaces each have a token named ci: the spec looks a name up
	// among the workspace tokens of the deployment's workspace, so each
	// is exported by its name, and plan on the export is empty.
	r = c.run("export", "--deployment", "dep-a1")
	if !strings.Contains(r.stdout, "- name: ci\n") || strings.Contains(r.stdout, "tok-ci-a") {
		t.Errorf("the token named ci (one per workspace) must be exported by name:\n%s", r.stdout)
	}
	f := filepath.Join(t.TempDir(), "export.yaml")
	writeTestFile(t, f, r.stdout)
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
	wantCode(t, c.run("export", "--workspace", "nope"), exitUsage) // a flag value naming nothing, as in report
}

// TestSavedPlanForAnotherEmulatedOrganization: with --emulate, the
// organization is the state file's; a saved plan of another one is stale
// (exit 5), said before any request, not a 404 of its organization.
func TestSavedPlanForAnotherEmulatedOrganization(t *testing.T) {
	c := newCLI(t, testState)
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.runRaw("plan", "-f", "../../examples/tokens.yaml", "--emulate", "../../examples/org.yaml", "--out", planFile), exitOK)
	org, err := os.ReadFile("../../examples/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	other := c.write("other.yaml", strings.ReplaceAll(string(org), "clx0org0000000000000000", "clx0orgB000000000000000"))
	r := c.runRaw("apply", planFile, "--emulate", other, "--yes")
	wantCode(t, r, exitStale)
	if want := "belongs to organization clx0org0000000000000000, not clx0orgB000000000000000 (the organization of the --emulate state)"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	wantCode(t, c.runRaw("apply", planFile, "--emulate", "../../examples/org.yaml", "--yes", "--dry-run"), exitOK)
}
