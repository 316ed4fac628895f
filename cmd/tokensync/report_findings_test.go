package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/render"
)

// findingsNow is the report's "now" in these tests (TOKENSYNC_NOW).
const findingsNow = "2026-06-01T00:00:00Z"

// findingsState has a token at each boundary of --expiring 30d and
// --unused 90d (and just past them), users in every status, a deployment
// role a workspace role makes redundant, and custom roles whose
// permissions rate them.
const findingsState = `
organization: {id: org1, name: Test Org}
workspaces:
  - {id: ws-a, name: alpha}
deployments:
  - {id: dep-a1, name: a-prod, workspaceId: ws-a}
  - {id: dep-a2, name: a-dev, workspaceId: ws-a}
roles:
  - {id: role-v, name: VIEWER, scopeType: DEPLOYMENT, permissions: [deployment.get, deployment.dags.get]}
  - {id: role-d, name: DEPLOYER, scopeType: DEPLOYMENT, permissions: [deployment.get, deployment.deploy, deployment.dags.update]}
  - {id: role-x, name: UNUSED_ROLE, scopeType: DEPLOYMENT, permissions: [deployment.delete]}
tokens:
  # ends exactly at now+30d: expiring
  - {id: tok-edge, name: edge, scope: WORKSPACE, createdAt: "2026-01-01T00:00:00Z", endAt: "2026-07-01T00:00:00Z",
     lastUsedAt: "2026-05-31T00:00:00Z", lastRotatedAt: "2026-05-01T00:00:00Z",
     roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
  # ends a second after now+30d, used exactly at now-90d: no finding
  - {id: tok-fine, name: fine, scope: WORKSPACE, createdAt: "2026-01-01T00:00:00Z", endAt: "2026-07-01T00:00:01Z",
     lastUsedAt: "2026-03-03T00:00:00Z", lastRotatedAt: "2026-05-01T00:00:00Z",
     roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
  # used a second before now-90d: unused
  - {id: tok-idle, name: idle, scope: WORKSPACE, createdAt: "2026-01-01T00:00:00Z", endAt: "2027-01-01T00:00:00Z",
     lastUsedAt: "2026-03-02T23:59:59Z", lastRotatedAt: "2026-05-01T00:00:00Z",
     roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
  # ends exactly now: expired
  - {id: tok-gone, name: gone, scope: WORKSPACE, createdAt: "2026-01-01T00:00:00Z", endAt: "2026-06-01T00:00:00Z",
     lastUsedAt: "2026-05-31T00:00:00Z", lastRotatedAt: "2026-05-01T00:00:00Z",
     roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
  # no end, never used, never rotated, created long ago
  - {id: tok-old, name: old, scope: ORGANIZATION, createdAt: "2025-01-01T00:00:00Z",
     roles: [{entityType: ORGANIZATION, entityId: org1, role: ORGANIZATION_MEMBER}]}
users:
  - {id: usr-owner, username: owner@example.com, status: ACTIVE, organizationRole: ORGANIZATION_MEMBER,
     workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_OWNER}], deploymentRoles: [{deploymentId: dep-a1, role: DEPLOYMENT_ADMIN}]}
  - {id: usr-viewer, username: viewer@example.com, status: ACTIVE, organizationRole: ORGANIZATION_MEMBER,
     workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_MEMBER}], deploymentRoles: [{deploymentId: dep-a2, role: VIEWER}]}
  - {id: usr-pending, username: pending@example.com, status: PENDING, organizationRole: ORGANIZATION_MEMBER,
     workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_MEMBER}], deploymentRoles: [{deploymentId: dep-a1, role: DEPLOYER}]}
  - {id: usr-inactive, username: inactive@example.com, status: INACTIVE, organizationRole: ORGANIZATION_MEMBER}
  - {id: usr-banned, username: banned@example.com, status: BANNED, organizationRole: ORGANIZATION_MEMBER,
     workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_MEMBER}]}
`

// findingsCLI is a CLI on findingsState whose report's now is
// findingsNow.
func findingsCLI(t *testing.T) *cli {
	c := newCLI(t, findingsState)
	c.env[nowEnv] = findingsNow
	return c
}

// findingKeys are a report's findings as "kind principal-id[ deployment-id][ role]".
func findingKeys(r access.Report) []string {
	var out []string
	for _, f := range r.Findings {
		k := f.Kind + " " + f.Principal.ID
		if f.Deployment != nil {
			k += " " + f.Deployment.ID
		}
		if f.Role != "" {
			k += " " + f.Role
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func readFindingsReport(t *testing.T, doc string) access.Report {
	t.Helper()
	validateSchema(t, "report.schema.json", render.ReportSchema(), []byte(doc))
	r, err := access.Read([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportFindings: through the binary, each token finding at its
// boundary (ending exactly at now+30d is expiring, a second later is not;
// ending exactly now is expired; used exactly at now-90d is not unused, a
// second earlier is), users INACTIVE, BANNED and PENDING holding roles,
// redundant deployment roles (a custom one rated from its permissions),
// and one GET /roles/{id} per custom role in use, none for the others.
func TestReportFindings(t *testing.T) {
	c := findingsCLI(t)
	res := c.run("report", "-o", "json")
	wantCode(t, res, exitOK)
	r := readFindingsReport(t, res.stdout)
	want := []string{
		"redundant-grant usr-owner dep-a1 DEPLOYMENT_ADMIN", // WORKSPACE_OWNER already gives admin
		"redundant-grant usr-viewer dep-a2 VIEWER",          // VIEWER rates view: WORKSPACE_MEMBER gives as much
		"token-expired tok-gone",
		"token-expiring tok-edge",
		"token-never-rotated tok-old",
		"token-never-used tok-old",
		"token-no-expiry tok-old",
		"token-unused tok-idle",
		"user-status usr-banned",
		"user-status usr-inactive",
		"user-status usr-pending",
	}
	if diff := cmp.Diff(want, findingKeys(r)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if r.GeneratedAt != findingsNow || r.Review == nil || r.Review.Now.Format("2006-01-02T15:04:05Z07:00") != findingsNow ||
		r.Review.Expiring.String() != "30d" || r.Review.Unused.String() != "90d" || r.Review.Rotated.String() != "180d" {
		t.Errorf("generated_at %q, review %+v", r.GeneratedAt, r.Review)
	}
	if diff := cmp.Diff(access.RoleLevels{"VIEWER": access.LevelView, "DEPLOYER": access.LevelAuthor}, r.RoleLevels); diff != "" {
		t.Errorf("custom roles rated from their permissions (-want +got):\n%s", diff)
	}
	stats := c.srv.Stats().Requests
	if n := stats["GET /organizations/{organizationId}/roles/{roleId}"]; n != 2 {
		t.Errorf("read %d custom roles, want the 2 in use", n)
	}

	// --role-level rates a role instead of its permissions, and it is
	// not read.
	before := c.srv.Stats().Requests["GET /organizations/{organizationId}/roles/{roleId}"]
	res = c.run("report", "-o", "json", "--role-level", "VIEWER=admin")
	wantCode(t, res, exitOK)
	r = readFindingsReport(t, res.stdout)
	if r.RoleLevels["VIEWER"] != access.LevelAdmin || slices.Contains(findingKeys(r), "redundant-grant usr-viewer dep-a2 VIEWER") {
		t.Errorf("--role-level VIEWER=admin: levels %v, findings %v", r.RoleLevels, findingKeys(r))
	}
	if n := c.srv.Stats().Requests["GET /organizations/{organizationId}/roles/{roleId}"] - before; n != 1 {
		t.Errorf("with --role-level VIEWER=admin, read %d custom roles, want 1 (DEPLOYER)", n)
	}

	// Other windows: --expiring 31d reaches fine, --unused 36h makes
	// the tokens used two days ago unused, and the boundaries move with them.
	res = c.run("report", "-o", "json", "--expiring", "31d", "--unused", "36h", "--rotated", "200d")
	wantCode(t, res, exitOK)
	got := findingKeys(readFindingsReport(t, res.stdout))
	for _, k := range []string{"token-expiring tok-fine", "token-unused tok-fine"} {
		if !slices.Contains(got, k) {
			t.Errorf("--expiring 31d --unused 36h: no %q in %v", k, got)
		}
	}
	if slices.Contains(got, "token-unused tok-edge") { // used 24h ago
		t.Errorf("--unused 36h: a token used a day ago is unused: %v", got)
	}

	// Every format lists the findings.
	for format, want := range map[string]string{
		"text":     "medium  token-expiring",
		"markdown": "**Findings: 11: 6 token, 3 user, 2 grant.**",
		"csv":      "low token-not-rotated",
		"html":     `<h2 id="findings-h">Findings: 11: 6 token, 3 user, 2 grant</h2>`,
	} {
		res := c.run("report", "-o", format)
		wantCode(t, res, exitOK)
		if format == "csv" {
			want = "low redundant-grant: DEPLOYMENT_ADMIN (admin) has no effect"
		}
		if !strings.Contains(res.stdout, want) {
			t.Errorf("-o %s lacks %q:\n%s", format, want, res.stdout)
		}
	}
}

// TestReportFindingsFlags: bad durations and TOKENSYNC_NOW are usage
// errors, and --from refuses the thresholds of a report already made.
func TestReportFindingsFlags(t *testing.T) {
	c := findingsCLI(t)
	for _, args := range [][]string{
		{"report", "--expiring", "soon"},
		{"report", "--unused", "-3d"},
		{"report", "--rotated", "1y"},
		{"report", "--fail-on", "everything"},
	} {
		if r := c.run(args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, r.code, exitUsage, r.stderr)
		}
	}
	c.env[nowEnv] = "yesterday"
	if r := c.run("report"); r.code != exitUsage || !strings.Contains(r.stderr, nowEnv) {
		t.Errorf("%s=yesterday: exit %d\n%s", nowEnv, r.code, r.stderr)
	}
	c.env[nowEnv] = findingsNow
	saved := filepath.Join(c.dir, "saved.json")
	wantCode(t, c.run("report", "-o", "json", "--out", saved), exitOK)
	if r := c.runRaw("report", "--from", saved, "--unused", "30d"); r.code != exitUsage {
		t.Errorf("--from with --unused: exit %d\n%s", r.code, r.stderr)
	}
	// Policies are checked as a report is made: a saved report keeps its
	// verdict, and --from does not take one that it would ignore.
	pol := c.write("policies.yaml", "version: 1\npolicies:\n  - name: any\n    description: d\n    grant: 'true'\n")
	if r := c.runRaw("report", "--from", saved, "--policy", pol, "--fail-on", "violations"); r.code != exitUsage || !strings.Contains(r.stderr, "-f, --policy and --expand-teams apply when the report is made") {
		t.Errorf("--from with --policy: exit %d\n%s", r.code, r.stderr)
	}
}

// TestReportFailOn: --fail-on findings exits 8 after writing the whole
// report when there is a finding, and 0 when there is none; --fail-on
// violations exits 0 without policy violations; a saved report fails the
// same way with --from.
func TestReportFailOn(t *testing.T) {
	c := findingsCLI(t)
	out := filepath.Join(c.dir, "r.json")
	r := c.run("report", "--fail-on", "findings", "-o", "json", "--out", out)
	wantCode(t, r, exitFindings)
	if !strings.Contains(r.stderr, "--fail-on findings: the report has 11 finding(s)") {
		t.Errorf("stderr %q", r.stderr)
	}
	if data, err := os.ReadFile(out); err != nil || len(readFindingsReport(t, string(data)).Findings) != 11 {
		t.Errorf("the report was not written before exit 8: %v", err)
	}
	wantCode(t, c.run("report", "--fail-on", "violations"), exitOK)
	wantCode(t, c.runRaw("report", "--from", out, "--fail-on", "findings"), exitFindings)

	// Narrowed to a principal without findings: nothing to fail on.
	wantCode(t, c.run("report", "--fail-on", "findings", "--principal", "fine"), exitOK)

	clean := newCLI(t, `
organization: {id: org1, name: Test Org}
workspaces: [{id: ws-a, name: alpha}]
deployments: [{id: dep-a1, name: a-prod, workspaceId: ws-a}]
tokens:
  - {id: tok-ok, name: ok, scope: WORKSPACE, createdAt: "2026-05-01T00:00:00Z", endAt: "2026-12-01T00:00:00Z",
     lastUsedAt: "2026-05-31T00:00:00Z", roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
`)
	clean.env[nowEnv] = findingsNow
	r = clean.run("report", "--fail-on", "findings")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Findings: none.") {
		t.Errorf("a clean organization:\n%s", r.stdout)
	}
}

// TestReportFindingsSince: --since marks the findings the earlier report
// did not have as new (by kind, principal, deployment and role), in JSON
// and in text.
func TestReportFindingsSince(t *testing.T) {
	c := findingsCLI(t)
	earlier := filepath.Join(c.dir, "earlier.json")
	c.env[nowEnv] = "2026-05-01T00:00:00Z" // a month earlier: tok-gone is not yet expired, only expiring
	wantCode(t, c.run("report", "-o", "json", "--out", earlier), exitOK)
	c.env[nowEnv] = findingsNow
	res := c.run("report", "-o", "json", "--since", earlier)
	wantCode(t, res, exitOK)
	r := readFindingsReport(t, res.stdout)
	fresh := newFindings(r)
	// A month earlier: tok-edge ended in 61 days (not expiring), tok-idle
	// was used 60 days before (not unused), tok-gone ended in 31 days.
	want := []string{"token-expired tok-gone", "token-expiring tok-edge", "token-unused tok-idle"}
	if diff := cmp.Diff(want, fresh); diff != "" {
		t.Errorf("new findings (-want +got):\n%s", diff)
	}
	res = c.run("report", "--since", earlier)
	wantCode(t, res, exitOK)
	if !strings.Contains(res.stdout, "Findings: 11 (3 new since 2026-05-01T00:00:00Z)") || !strings.Contains(res.stdout, "new high    token-expired") {
		t.Errorf("text with --since:\n%s", res.stdout)
	}
}

// newFindings are the findings of r marked new, as "kind principal-id",
// sorted.
func newFindings(r access.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.New {
			out = append(out, f.Kind+" "+f.Principal.ID)
		}
	}
	slices.Sort(out)
	return out
}
