package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// readerState has two custom deployment roles that differ only in case,
// which Astro (and the emulator) keeps apart, and principals holding each.
const readerState = `
organization: {id: org1, name: Test Org}
workspaces:
  - {id: ws-a, name: alpha}
deployments:
  - {id: dep-a1, name: a-prod, workspaceId: ws-a}
roles:
  - {id: role-r1, name: Reader, scopeType: DEPLOYMENT}
  - {id: role-r2, name: READER, scopeType: DEPLOYMENT}
tokens:
  - id: tok-mixed
    name: holds-mixed
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: Reader}
  - id: tok-upper
    name: holds-upper
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: READER}
users:
  - id: usr-rita
    username: rita@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_MEMBER}
    deploymentRoles:
      - {deploymentId: dep-a1, role: READER}
`

// readerSpec names, for each principal, the role that differs in case
// from the one it holds.
const readerSpec = `version: 1
deployments:
  - id: dep-a1
    workspaceTokens:
      - {name: holds-mixed, role: READER}
      - {name: holds-upper, role: Reader}
    users:
      - {username: rita@example.com, role: Reader}
`

// TestCustomRoleNamesAreExactEndToEnd: with custom roles Reader and
// READER, a principal holding one where the spec names the other is
// planned as an update, apply writes exactly the role named and converges,
// and the next plan is empty. A saved plan is stale when another writer
// swaps one for the other. A spec naming "reader", which matches both
// only when case is ignored, is refused with exit 3 at its position,
// listing both.
func TestCustomRoleNamesAreExactEndToEnd(t *testing.T) {
	c := newCLI(t, readerState)
	f := c.write("tokens.yaml", readerSpec)

	r := c.run("plan", "-f", f, "--detailed-exitcode", "--no-color")
	wantCode(t, r, exitChanges)
	wantPlanLines(t, "plan lacks", r.stdout,
		"~ workspace token holds-mixed [tok-mixed] Reader -> READER",
		"~ workspace token holds-upper [tok-upper] READER -> Reader",
		"~ user rita@example.com [usr-rita] READER -> Reader",
		"Plan: 0 to add, 3 to change, 0 to remove.",
	)

	// A saved plan does not take a swap of Reader for READER as no change.
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	if err := c.srv.SetTokenRoles("tok-mixed", []astroapi.Role{
		{EntityType: astroapi.EntityWorkspace, EntityID: "ws-a", Role: "WORKSPACE_MEMBER"},
		{EntityType: astroapi.EntityDeployment, EntityID: "dep-a1", Role: "READER"},
	}); err != nil {
		t.Fatal(err)
	}
	r = c.run("apply", planFile, "--yes", "--no-color")
	wantCode(t, r, exitStale)
	if !strings.Contains(r.stderr, "changed since the plan: workspace token holds-mixed [tok-mixed]") {
		t.Errorf("stale apply stderr:\n%s", r.stderr)
	}
	if n := c.posts(); n != 0 {
		t.Fatalf("a stale plan made %d POSTs", n)
	}
	if err := c.srv.SetTokenRoles("tok-mixed", []astroapi.Role{
		{EntityType: astroapi.EntityWorkspace, EntityID: "ws-a", Role: "WORKSPACE_MEMBER"},
		{EntityType: astroapi.EntityDeployment, EntityID: "dep-a1", Role: "Reader"},
	}); err != nil {
		t.Fatal(err)
	}

	r = c.run("apply", "-f", f, "--yes", "--no-color")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Apply complete: 0 added, 3 changed, 0 removed.") || !strings.Contains(r.stderr, "Verified: converged.") {
		t.Errorf("apply stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	got := c.deploymentRoles()
	if rita := c.subjectRoles()["usr-rita"]; len(rita.DeploymentRoles) == 1 {
		got = append(got, "usr-rita "+rita.DeploymentRoles[0].DeploymentID+"="+rita.DeploymentRoles[0].Role)
	}
	slices.Sort(got)
	want := []string{"tok-mixed dep-a1=READER", "tok-upper dep-a1=Reader", "usr-rita dep-a1=Reader"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("roles after apply (-want +got):\n%s", diff)
	}
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)

	// A name that matches custom roles only when case is ignored.
	bad := c.write("bad.yaml", `version: 1
deployments:
  - id: dep-a1
    workspaceTokens:
      - {name: holds-mixed, role: reader}
`)
	c.srv.ResetStats()
	r = c.run("plan", "-f", bad, "--no-color")
	wantCode(t, r, exitInvalid)
	wantMsg := bad + `:5:35: token "holds-mixed": role "reader" matches custom roles only when case is ignored: "READER", "Reader" (custom role names are case-sensitive)`
	if !strings.Contains(r.stderr, wantMsg) {
		t.Errorf("stderr lacks %q:\n%s", wantMsg, r.stderr)
	}
	if n := c.posts(); n != 0 {
		t.Errorf("a refused spec made %d POSTs", n)
	}
}
