package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
)

// everyLevelState is an organization with roles on every level.
const everyLevelState = `organization: {id: org1, name: Org One}
workspaces:
  - {id: ws-a, name: alpha}
  - {id: ws-b, name: beta}
deployments:
  - {id: dep-a1, name: a-prod, workspaceId: ws-a}
  - {id: dep-b1, name: b-prod, workspaceId: ws-b}
roles:
  - {id: role-run, name: DAG_RUNNER, scopeType: DAG}
tokens:
  - id: tok-ci
    name: ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
  - id: tok-bill
    name: billing
    scope: ORGANIZATION
    roles:
      - {entityType: ORGANIZATION, entityId: org1, role: ORGANIZATION_MEMBER}
users:
  - id: usr-owner
    username: owner@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_OWNER
  - id: usr-bob
    username: bob@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_AUTHOR}
    deploymentRoles:
      - {deploymentId: dep-a1, role: DEPLOYMENT_ADMIN}
    dagRoles:
      - {deploymentId: dep-a1, dagId: rollup, role: DAG_AUTHOR}
  - id: usr-carol
    username: carol@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_BILLING_ADMIN
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_OWNER}
teams:
  - id: team-de
    name: data-engineering
    organizationRole: ORGANIZATION_MEMBER
    memberIds: [usr-bob]
`

// userRoles is a user's role set in the emulator, one "scope=role" a
// level, sorted.
func (c *cli) userRoles(id string) []string {
	for _, u := range c.srv.State().Users {
		if u.ID != id {
			continue
		}
		out := []string{"organization=" + u.OrganizationRole}
		for _, w := range u.WorkspaceRoles {
			out = append(out, "workspace:"+w.WorkspaceID+"="+w.Role)
		}
		for _, d := range u.DeploymentRoles {
			out = append(out, "deployment:"+d.DeploymentID+"="+d.Role)
		}
		for _, d := range u.DagRoles {
			out = append(out, "dag:"+d.DeploymentID+"/"+d.DagID+d.DagTag+"="+d.Role)
		}
		slices.Sort(out)
		return out
	}
	return nil
}

// TestEveryLevelEndToEnd: through the built command line and the
// emulator, a spec on every level is planned, applied in one write per
// subject, and planned again as empty.
func TestEveryLevelEndToEnd(t *testing.T) {
	c := newCLI(t, everyLevelState)
	f := c.write("levels.yaml", `version: 1
organizationRoles:
  users:
    - {username: bob@example.com, role: ORGANIZATION_OBSERVE_ADMIN}
  organizationTokens:
    - {name: billing, role: ORGANIZATION_BILLING_ADMIN}
workspaces:
  - name: alpha
    users:
      - {username: bob@example.com, role: WORKSPACE_OPERATOR}
    teams:
      - {name: data-engineering, role: WORKSPACE_MEMBER}
deployments:
  - id: dep-a1
    dags:
      - dagId: rollup
        users:
          - {username: bob@example.com, role: DAG_RUNNER}
      - dagTag: finance
        teams:
          - {name: data-engineering, role: DAG_VIEWER}
`)
	r := c.run("plan", "-f", f, "--no-color")
	wantCode(t, r, exitOK)
	out := squeeze(r.stdout)
	for _, want := range []string{
		"~ user bob@example.com [usr-bob] ORGANIZATION_MEMBER -> ORGANIZATION_OBSERVE_ADMIN",
		"~ organization token billing [tok-bill] ORGANIZATION_MEMBER -> ORGANIZATION_BILLING_ADMIN",
		"workspace alpha (ws-a)",
		"~ user bob@example.com [usr-bob] WORKSPACE_AUTHOR -> WORKSPACE_OPERATOR",
		"+ team data-engineering [team-de] WORKSPACE_MEMBER",
		"DAG rollup of deployment a-prod (dep-a1)",
		"~ user bob@example.com [usr-bob] DAG_AUTHOR -> DAG_RUNNER",
		"DAG tag finance of deployment a-prod (dep-a1)",
		"+ team data-engineering [team-de] DAG_VIEWER",
		"Plan: 2 to add, 4 to change, 0 to remove.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}

	c.srv.ResetStats()
	r = c.run("apply", "-f", f, "--yes", "--no-color")
	wantCode(t, r, exitOK)
	// bob changes on three levels: one write; the team and the token one
	// each.
	if got := c.posts(); got != 3 {
		t.Errorf("%d role writes, want 3 (one per subject): %v", got, c.srv.Stats().Requests)
	}
	if strings.Contains(r.stderr, "changed by someone else") {
		t.Errorf("the accessor Astro adds is taken for another writer:\n%s", r.stderr)
	}
	want := []string{
		"dag:dep-a1/rollup=DAG_RUNNER",
		"deployment:dep-a1=DEPLOYMENT_ADMIN",
		"organization=ORGANIZATION_OBSERVE_ADMIN",
		"workspace:ws-a=WORKSPACE_OPERATOR",
	}
	if diff := cmp.Diff(want, c.userRoles("usr-bob")); diff != "" {
		t.Errorf("bob's roles (-want +got):\n%s", diff)
	}
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
}

// TestEveryLevelPruneAndAccessors: prune removes workspace and DAG roles
// of the listed kinds, demotes at the organization level, and keeps the
// accessors Astro needs for the roles that remain.
func TestEveryLevelPruneAndAccessors(t *testing.T) {
	c := newCLI(t, everyLevelState)
	f := c.write("levels.yaml", `version: 1
organizationRoles:
  prune: true
  users:
    - {username: owner@example.com, role: ORGANIZATION_OWNER}
workspaces:
  - name: alpha
    prune: true
    users:
      - {username: carol@example.com, role: WORKSPACE_OWNER}
deployments:
  - id: dep-a1
    dags:
      - dagId: rollup
        prune: true
        users: []
`)
	r := c.run("plan", "-f", f, "--no-color")
	wantCode(t, r, exitOK)
	out := squeeze(r.stdout)
	for _, want := range []string{
		// Demoted, never removed.
		"~ user carol@example.com [usr-carol] ORGANIZATION_BILLING_ADMIN -> ORGANIZATION_MEMBER # not in spec (prune): demoted to ORGANIZATION_MEMBER",
		// bob keeps a deployment role in alpha: Astro keeps
		// WORKSPACE_ACCESSOR for it, so the removal is that update.
		"~ user bob@example.com [usr-bob] WORKSPACE_AUTHOR -> WORKSPACE_ACCESSOR # not in spec (prune): its roles in this workspace keep WORKSPACE_ACCESSOR",
		"- user bob@example.com [usr-bob] DAG_AUTHOR # not in spec (prune)",
		// A workspace token's own role and an organization token's role
		// are never removed.
		"? workspace token ci [tok-ci] WORKSPACE_MEMBER # a workspace token's role on its own workspace is updated, never removed",
		"? organization token billing [tok-bill] ORGANIZATION_MEMBER # an organization token's organization role is updated, never removed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	wantCode(t, c.run("apply", "-f", f, "--yes"), exitOK)
	want := []string{
		"deployment:dep-a1=DEPLOYMENT_ADMIN",
		"organization=ORGANIZATION_MEMBER",
		"workspace:ws-a=WORKSPACE_ACCESSOR",
	}
	if diff := cmp.Diff(want, c.userRoles("usr-bob")); diff != "" {
		t.Errorf("bob's roles (-want +got):\n%s", diff)
	}
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
}

// TestLockoutGuardRefuses: a plan that leaves the organization without an
// ORGANIZATION_OWNER, or a listed workspace without a WORKSPACE_OWNER, is
// refused with exit 4 and writes nothing.
func TestLockoutGuardRefuses(t *testing.T) {
	c := newCLI(t, everyLevelState)
	for _, tt := range []struct{ name, spec, want string }{
		{"organization", "organizationRoles:\n  prune: true\n  users: []\n", `the organization without any ORGANIZATION_OWNER`},
		{"workspace", "workspaces:\n  - name: alpha\n    prune: true\n    users: []\n", `workspace "alpha" without any WORKSPACE_OWNER`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := c.write(tt.name+".yaml", "version: 1\n"+tt.spec)
			c.srv.ResetStats()
			r := c.run("apply", "-f", f, "--yes", "--no-color")
			wantCode(t, r, exitRefused)
			if !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("output lacks %q:\n%s%s", tt.want, r.stdout, r.stderr)
			}
			if c.posts() != 0 {
				t.Errorf("a refused plan made %d writes", c.posts())
			}
		})
	}
}

// TestSavedPlanStaleOnWorkspaceRole: a saved plan whose subject's
// workspace role changed since is refused as stale, and writes nothing.
func TestSavedPlanStaleOnWorkspaceRole(t *testing.T) {
	c := newCLI(t, everyLevelState)
	f := c.write("levels.yaml", "version: 1\nworkspaces:\n  - name: alpha\n    users:\n      - {username: bob@example.com, role: WORKSPACE_OPERATOR}\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)

	client, err := astroapi.New(c.baseURL, astroapi.WithCredential("other"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.SetUserRoles(context.Background(), "org1", "usr-bob", astroapi.UpdateUserRolesRequest{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_MEMBER"}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}},
		DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-a1", DagID: "rollup", Role: "DAG_AUTHOR"}},
	}); err != nil {
		t.Fatal(err)
	}
	c.srv.ResetStats()
	r := c.run("apply", planFile, "--yes")
	wantCode(t, r, exitStale)
	if c.posts() != 0 {
		t.Errorf("a stale plan made %d writes", c.posts())
	}
	if !strings.Contains(r.stderr, "usr-bob") {
		t.Errorf("stderr does not name the changed user:\n%s", r.stderr)
	}
}

// TestTargetOrganization: --target organization plans and applies the
// organization level only.
func TestTargetOrganization(t *testing.T) {
	c := newCLI(t, everyLevelState)
	f := c.write("levels.yaml", `version: 1
organizationRoles:
  users:
    - {username: bob@example.com, role: ORGANIZATION_OBSERVE_ADMIN}
workspaces:
  - name: alpha
    users:
      - {username: bob@example.com, role: WORKSPACE_OPERATOR}
`)
	r := c.run("plan", "-f", f, "--target", "organization", "--no-color")
	wantCode(t, r, exitOK)
	out := squeeze(r.stdout)
	if !strings.Contains(out, "ORGANIZATION_MEMBER -> ORGANIZATION_OBSERVE_ADMIN") || strings.Contains(out, "WORKSPACE_OPERATOR") {
		t.Errorf("plan --target organization:\n%s", r.stdout)
	}
	if !strings.Contains(out, "Partial plan: only organization") {
		t.Errorf("plan does not say it is partial:\n%s", r.stdout)
	}
	wantCode(t, c.run("apply", "-f", f, "--target", "organization", "--yes"), exitOK)
	want := []string{
		"dag:dep-a1/rollup=DAG_AUTHOR",
		"deployment:dep-a1=DEPLOYMENT_ADMIN",
		"organization=ORGANIZATION_OBSERVE_ADMIN",
		"workspace:ws-a=WORKSPACE_AUTHOR",
	}
	if diff := cmp.Diff(want, c.userRoles("usr-bob")); diff != "" {
		t.Errorf("bob's roles (-want +got):\n%s", diff)
	}
}

// TestSavedPlanKeepsItsRemovalLimit: apply of a saved plan holds it to the
// --max-removals it was planned with, unless apply is given one itself.
func TestSavedPlanKeepsItsRemovalLimit(t *testing.T) {
	var state strings.Builder
	state.WriteString("organization: {id: org1, name: Org One}\nworkspaces: [{id: ws-a, name: alpha}]\ndeployments: [{id: dep-a1, name: a-prod, workspaceId: ws-a}]\ntokens:\n")
	for i := range 25 {
		fmt.Fprintf(&state, "  - id: tok-%02d\n    name: bot-%02d\n    scope: WORKSPACE\n    roles:\n      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}\n      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}\n", i, i)
	}
	c := newCLI(t, state.String())
	f := c.write("prune.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    prune: true\n    allowEmpty: true\n    workspaceTokens: []\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitRefused)
	wantCode(t, c.run("plan", "-f", f, "--max-removals", "30", "--out", planFile), exitOK)

	r := c.run("apply", planFile, "--yes", "--max-removals", "10")
	wantCode(t, r, exitRefused)
	if c.posts() != 0 {
		t.Errorf("a refused plan made %d writes", c.posts())
	}
	wantCode(t, c.run("apply", planFile, "--yes"), exitOK)
	if got := c.posts(); got != 25 {
		t.Errorf("%d writes, want 25", got)
	}
}

// TestSavedPlanRechecksLockoutNow: a saved plan that demotes one of two
// organization owners is refused (exit 4, nothing written) when the other
// owner lost the role after the plan was made; the plan is not stale, as
// that owner is not in it.
func TestSavedPlanRechecksLockoutNow(t *testing.T) {
	state := strings.Replace(everyLevelState, "organizationRole: ORGANIZATION_BILLING_ADMIN", "organizationRole: ORGANIZATION_OWNER", 1)
	c := newCLI(t, state)
	f := c.write("org.yaml", "version: 1\norganizationRoles:\n  users:\n    - {username: owner@example.com, role: ORGANIZATION_MEMBER}\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)

	client, err := astroapi.New(c.baseURL, astroapi.WithCredential("other"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.SetUserRoles(context.Background(), "org1", "usr-carol", astroapi.UpdateUserRolesRequest{
		OrganizationRole: "ORGANIZATION_BILLING_ADMIN",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_OWNER"}},
	}); err != nil {
		t.Fatal(err)
	}
	c.srv.ResetStats()
	r := c.run("apply", planFile, "--yes", "--no-color")
	wantCode(t, r, exitRefused)
	if c.posts() != 0 {
		t.Errorf("a refused plan made %d writes", c.posts())
	}
	if want := "Refused by guard lockout: on the organization as it is now (not as the plan shows it), the plan would leave the organization without any ORGANIZATION_OWNER"; !strings.Contains(squeeze(r.stdout), want) {
		t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
	}
	if got := c.userRoles("usr-owner"); !slices.Contains(got, "organization=ORGANIZATION_OWNER") {
		t.Errorf("the owner's roles: %v", got)
	}
}

// ownerTeamState is everyLevelState with a team "admins" that holds
// ORGANIZATION_OWNER and has one member, member (usr-gone is INACTIVE,
// usr-bob ACTIVE), and, with other, a second active owner, usr-other.
func ownerTeamState(member string, other bool) string {
	users := "  - {id: usr-gone, username: gone@example.com, status: INACTIVE, organizationRole: ORGANIZATION_MEMBER}\n"
	if other {
		users += "  - {id: usr-other, username: other@example.com, status: ACTIVE, organizationRole: ORGANIZATION_OWNER}\n"
	}
	state := strings.Replace(everyLevelState, "teams:\n", users+"teams:\n", 1)
	return state + "  - {id: team-admins, name: admins, organizationRole: ORGANIZATION_OWNER, memberIds: [" + member + "]}\n"
}

// teamMemberReads is the number of team member lists the emulator served.
func (c *cli) teamMemberReads() int {
	n := 0
	for route, count := range c.srv.Stats().Requests {
		if strings.HasPrefix(route, "GET ") && strings.HasSuffix(route, "/members") {
			n += count
		}
	}
	return n
}

// TestLockoutGuardReadsOwnerTeams: demoting the last active user that owns
// the organization is refused (exit 4, nothing written) when the only
// other owner is a team without an active member, and applied when the
// team has one. The plan reads that team's members (and apply again
// right before writing), and none where an active user keeps the role.
func TestLockoutGuardReadsOwnerTeams(t *testing.T) {
	const demote = "version: 1\norganizationRoles:\n  users:\n    - {username: owner@example.com, role: ORGANIZATION_MEMBER}\n"
	for _, tt := range []struct {
		name, member string
		other        bool
		code, reads  int
	}{
		{"inactive member", "usr-gone", false, exitRefused, 1},
		{"active member", "usr-bob", false, exitOK, 2}, // the plan's and the recheck's right before writing
		{"another active owner", "usr-gone", true, exitOK, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, ownerTeamState(tt.member, tt.other))
			f := c.write("org.yaml", demote)
			r := c.run("apply", "-f", f, "--yes", "--no-color")
			wantCode(t, r, tt.code)
			if reads := c.teamMemberReads(); reads != tt.reads {
				t.Errorf("%d reads of team members, want %d", reads, tt.reads)
			}
			owner := slices.Contains(c.userRoles("usr-owner"), "organization=ORGANIZATION_OWNER")
			if refused := tt.code == exitRefused; owner != refused {
				t.Errorf("the owner keeps the role: %v, want %v", owner, refused)
			}
			if tt.code == exitRefused && !strings.Contains(squeeze(r.stdout), "the plan would leave the organization without any ORGANIZATION_OWNER") {
				t.Errorf("stdout:\n%s", r.stdout)
			}
		})
	}
}

// TestLockoutGuardTeamOwners: the guard counts a team by its members on
// both sides of the plan. A workspace whose only owner is a team of no
// active member has no owner the guard counts, so demoting that team
// passes; and a member the workspace credential's lists do not show is
// read, so an inactive one keeps nobody from being locked out.
func TestLockoutGuardTeamOwners(t *testing.T) {
	const state = `organization: {id: org1, name: Org One}
workspaces:
  - {id: ws1, name: alpha}
  - {id: ws2, name: beta}
users:
  - {id: u-alice, username: alice@example.com, status: ACTIVE, organizationRole: ORGANIZATION_OWNER, workspaceRoles: [{workspaceId: ws1, role: WORKSPACE_OWNER}]}
  - {id: u-bob, username: bob@example.com, status: INACTIVE, organizationRole: ORGANIZATION_MEMBER, workspaceRoles: [{workspaceId: ws2, role: WORKSPACE_MEMBER}]}
teams:
  - {id: t-ghost, name: ghosts, organizationRole: ORGANIZATION_MEMBER, workspaceRoles: [{workspaceId: ws1, role: WORKSPACE_OWNER}], memberIds: [u-bob]}
credentials:
  - {secret: org-credential-0123456789}
  - {secret: ws-credential-0123456789, workspaceIds: [ws1]}
`
	c := newCLI(t, state)
	demoteTeam := c.write("team.yaml", "version: 1\nworkspaces:\n  - name: alpha\n    users:\n      - {username: alice@example.com, role: WORKSPACE_OWNER}\n    teams:\n      - {name: ghosts, role: WORKSPACE_MEMBER}\n")
	demoteAlice := c.write("alice.yaml", "version: 1\nworkspaces:\n  - name: alpha\n    users:\n      - {username: alice@example.com, role: WORKSPACE_MEMBER}\n")
	for _, tt := range []struct {
		credential, spec string
		code             int
	}{
		{"org-credential-0123456789", demoteAlice, exitRefused},
		{"ws-credential-0123456789", demoteAlice, exitRefused}, // bob is read: INACTIVE
		{"org-credential-0123456789", demoteTeam, exitOK},      // alice keeps it; the team never counted
	} {
		c.env["ASTRO_API_TOKEN"] = tt.credential
		r := c.run("plan", "-f", tt.spec, "--no-color")
		if r.code != tt.code {
			t.Errorf("%s with %s: exit %d, want %d\n%s%s", filepath.Base(tt.spec), tt.credential[:3], r.code, tt.code, r.stdout, r.stderr)
		}
	}

	// The team is the only owner, and has no active member: the workspace
	// has no counted owner before the plan, so demoting the team passes.
	c2 := newCLI(t, strings.Replace(state, "workspaceRoles: [{workspaceId: ws1, role: WORKSPACE_OWNER}]}\n  - {id: u-bob", "workspaceRoles: [{workspaceId: ws1, role: WORKSPACE_MEMBER}]}\n  - {id: u-bob", 1))
	c2.env["ASTRO_API_TOKEN"] = "org-credential-0123456789"
	onlyTeam := c2.write("team.yaml", "version: 1\nworkspaces:\n  - name: alpha\n    teams:\n      - {name: ghosts, role: WORKSPACE_MEMBER}\n")
	if r := c2.run("plan", "-f", onlyTeam, "--no-color"); r.code != exitOK {
		t.Errorf("demoting the only owner, a team of no active member: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestSavedPlanRechecksOwnerTeams: a saved plan demotes one of two active
// user owners of the organization; the other loses the role before apply.
// Apply reads the owner team's members on that read, finds no active one,
// and refuses (exit 4) with nothing written.
func TestSavedPlanRechecksOwnerTeams(t *testing.T) {
	c := newCLI(t, ownerTeamState("usr-gone", true))
	f := c.write("org.yaml", "version: 1\norganizationRoles:\n  users:\n    - {username: owner@example.com, role: ORGANIZATION_MEMBER}\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	if err := c.srv.SetUserRoles("usr-other", astroapi.UpdateUserRolesRequest{OrganizationRole: "ORGANIZATION_MEMBER"}); err != nil {
		t.Fatal(err)
	}
	c.srv.ResetStats()
	r := c.run("apply", planFile, "--yes", "--no-color")
	wantCode(t, r, exitRefused)
	if c.posts() != 0 {
		t.Errorf("a refused plan made %d writes", c.posts())
	}
	if want := "on the organization as it is now (not as the plan shows it), the plan would leave the organization without any ORGANIZATION_OWNER"; !strings.Contains(squeeze(r.stdout), want) {
		t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
	}
}

// editPlan rewrites the saved plan at path with edit made to its JSON.
func editPlan(t *testing.T, path string, edit func(doc map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSavedPlanThatDoesNotHoldTogether: apply PLAN.json writes what the
// plan's target makes of a fresh read, while the output, the guards and the
// audit log go by its changes. A file whose target was edited to make bob
// an organization owner, while its changes still show billing admin, is
// refused before any write (exit 5), naming bob.
func TestSavedPlanThatDoesNotHoldTogether(t *testing.T) {
	c := newCLI(t, everyLevelState)
	f := c.write("org.yaml", "version: 1\norganizationRoles:\n  users:\n    - {username: bob@example.com, role: ORGANIZATION_BILLING_ADMIN}\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	editPlan(t, planFile, func(doc map[string]any) {
		edited := 0
		for _, sc := range doc["target"].(map[string]any)["scopes"].([]any) {
			for _, a := range sc.(map[string]any)["assignments"].([]any) {
				if a := a.(map[string]any); a["role"] == "ORGANIZATION_BILLING_ADMIN" {
					a["role"] = "ORGANIZATION_OWNER"
					edited++
				}
			}
		}
		if edited != 1 {
			t.Fatalf("edited %d assignments of the target, want 1", edited)
		}
	})

	c.srv.ResetStats()
	r := c.run("apply", planFile, "--yes", "--no-color")
	wantCode(t, r, exitStale)
	if c.posts() != 0 {
		t.Errorf("a plan that does not hold together made %d writes", c.posts())
	}
	for _, want := range []string{
		`user "bob@example.com" (usr-bob): its target would change ORGANIZATION_MEMBER on the organization to ORGANIZATION_OWNER, which its changes do not show`,
		"does not hold together",
	} {
		if !strings.Contains(squeeze(r.stderr), want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if got := c.userRoles("usr-bob"); !slices.Contains(got, "organization=ORGANIZATION_MEMBER") {
		t.Errorf("bob's roles: %v", got)
	}
}

// TestSavedPlanWithEditedNames: --protect, the output and the audit log
// go by the names a saved plan's changes give: a plan whose change names
// its subject, or its deployment, otherwise than the organization does is
// refused before any write (exit 5), also past --protect.
func TestSavedPlanWithEditedNames(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		edit       func(change map[string]any)
	}{
		{"subject", `its changes name it user "carl@example.com", but it is user "bob@example.com"`,
			func(c map[string]any) { c["subject"].(map[string]any)["name"] = "carl@example.com" }},
		{"kind", `its changes name it team "bob@example.com", but it is user "bob@example.com"`,
			func(c map[string]any) { c["subject"].(map[string]any)["kind"] = "team" }},
		{"deployment", `its changes name deployment (dep-a1) "b-prod", but it is "a-prod"`,
			func(c map[string]any) { c["scope"].(map[string]any)["name"] = "b-prod" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, everyLevelState)
			f := c.write("dep.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    users:\n      - {username: bob@example.com, state: absent}\n")
			planFile := filepath.Join(c.dir, "plan.json")
			wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
			editPlan(t, planFile, func(doc map[string]any) {
				changes := doc["changes"].([]any)
				if len(changes) != 1 {
					t.Fatalf("changes: %v", changes)
				}
				tt.edit(changes[0].(map[string]any))
			})
			c.srv.ResetStats()
			r := c.run("apply", planFile, "--yes", "--protect", "bob@example.com")
			wantCode(t, r, exitStale)
			if c.posts() != 0 {
				t.Errorf("%d writes", c.posts())
			}
			if !strings.Contains(squeeze(r.stderr), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
		})
	}
}

// TestSavedPlanWithASubjectCut: a saved plan whose changes of one subject
// were all cut from the file still writes that subject as its target says:
// it is refused (exit 5), by --dry-run too, before any write.
func TestSavedPlanWithASubjectCut(t *testing.T) {
	c := newCLI(t, everyLevelState)
	f := c.write("dep.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    users:\n      - {username: bob@example.com, state: absent}\n      - {username: owner@example.com, role: DEPLOYMENT_ADMIN}\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	editPlan(t, planFile, func(doc map[string]any) {
		var kept []any
		for _, ch := range doc["changes"].([]any) {
			if ch.(map[string]any)["subject"].(map[string]any)["name"] != "bob@example.com" {
				kept = append(kept, ch)
			}
		}
		if len(kept) != 1 {
			t.Fatalf("want one change left of: %v", doc["changes"])
		}
		doc["changes"] = kept
		// The summary and fingerprints made to agree, as a careful
		// editor would: the target still gives it away.
		doc["summary"].(map[string]any)["change"] = 0.0
		for id := range doc["fingerprints"].(map[string]any) {
			if id == "usr-bob" {
				delete(doc["fingerprints"].(map[string]any), id)
			}
		}
	})
	c.srv.ResetStats()
	for _, args := range [][]string{{"--dry-run"}, {"--yes"}} {
		r := c.run(append([]string{"apply", planFile}, args...)...)
		wantCode(t, r, exitStale)
		if want := "which its changes do not show"; !strings.Contains(squeeze(r.stderr), want) {
			t.Errorf("apply %v: stderr lacks %q:\n%s", args, want, r.stderr)
		}
	}
	if c.posts() != 0 {
		t.Errorf("%d writes", c.posts())
	}
}

// TestApplyRechecksLockoutBeforeWriting: a live apply demotes one of two
// organization owners; the plan passes the lockout guard. Another writer
// takes the other owner's role between the plan's read and the first
// write. apply reads the organization again right before writing, refuses
// (exit 4) and writes nothing, so the organization keeps its owner.
func TestApplyRechecksLockoutBeforeWriting(t *testing.T) {
	state := strings.Replace(everyLevelState, "organizationRole: ORGANIZATION_BILLING_ADMIN", "organizationRole: ORGANIZATION_OWNER", 1)
	c := newCLI(t, state)
	other, err := astroapi.New(c.baseURL, astroapi.WithCredential("other"))
	if err != nil {
		t.Fatal(err)
	}
	c.beforeSecondRead(t, func(ctx context.Context) error {
		_, err := other.SetUserRoles(ctx, "org1", "usr-carol", astroapi.UpdateUserRolesRequest{
			OrganizationRole: "ORGANIZATION_BILLING_ADMIN",
			WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_OWNER"}},
		})
		return err
	})
	f := c.write("org.yaml", "version: 1\norganizationRoles:\n  users:\n    - {username: owner@example.com, role: ORGANIZATION_MEMBER}\n")

	c.srv.ResetStats()
	r := c.run("apply", "-f", f, "--yes", "--no-color")
	wantCode(t, r, exitRefused)
	if n := c.posts(); n != 1 { // the other writer's
		t.Errorf("%d writes, want only the other writer's", n)
	}
	if want := "Refused by guard lockout: on the organization as it is now (not as the plan shows it), the plan would leave the organization without any ORGANIZATION_OWNER"; !strings.Contains(squeeze(r.stderr), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if got := c.userRoles("usr-owner"); !slices.Contains(got, "organization=ORGANIZATION_OWNER") {
		t.Errorf("the owner's roles: %v", got)
	}
}

// beforeSecondRead sends c's requests through a front that calls write
// when the organization's users are listed the second time: another
// writer, between a plan's read and apply's read right before writing.
func (c *cli) beforeSecondRead(t *testing.T, write func(context.Context) error) {
	c.beforeRead(t, "/organizations/org1/users", 2, write)
}

// beforeRead sends c's requests through a front that calls write before
// the nth GET of a path ending in path is served: another writer, at that
// point of a run.
func (c *cli) beforeRead(t *testing.T, path string, nth int32, write func(context.Context) error) {
	var reads atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, path) && reads.Add(1) == nth {
			if err := write(r.Context()); err != nil {
				t.Error(err)
			}
		}
		c.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c.baseURL = front.URL + "/v1"
}

// TestApplyRechecksOwnerTeamsBeforeWriting: a live apply demotes one of
// two active user owners; another writer demotes the other between the
// plan's read and the first write. On its read right before writing,
// apply reads the owner team's members, finds no active one, and refuses
// (exit 4) with nothing written.
func TestApplyRechecksOwnerTeamsBeforeWriting(t *testing.T) {
	c := newCLI(t, ownerTeamState("usr-gone", true))
	c.beforeSecondRead(t, func(context.Context) error {
		return c.srv.SetUserRoles("usr-other", astroapi.UpdateUserRolesRequest{OrganizationRole: "ORGANIZATION_MEMBER"})
	})
	f := c.write("org.yaml", "version: 1\norganizationRoles:\n  users:\n    - {username: owner@example.com, role: ORGANIZATION_MEMBER}\n")

	c.srv.ResetStats()
	r := c.run("apply", "-f", f, "--yes", "--no-color")
	wantCode(t, r, exitRefused)
	if n := c.posts(); n != 0 {
		t.Errorf("%d writes, want none", n)
	}
	if want := "Refused by guard lockout: on the organization as it is now (not as the plan shows it), the plan would leave the organization without any ORGANIZATION_OWNER"; !strings.Contains(squeeze(r.stderr), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
}

// TestApplyHoldsMaxRemovalsOnAChangedToken: another writer grants a token
// a role on a second pruned deployment after the plan. apply writes the
// spec from its read right before the write, which takes that role away
// too: past --max-removals the token is not written (exit 1, nothing
// written: run plan again); within it, both removals are made and the
// result counts both.
func TestApplyHoldsMaxRemovalsOnAChangedToken(t *testing.T) {
	const state = `organization: {id: org1, name: Org One}
workspaces: [{id: ws-a, name: alpha}]
deployments:
  - {id: dep-a1, name: a-prod, workspaceId: ws-a}
  - {id: dep-a2, name: a-dev, workspaceId: ws-a}
tokens:
  - id: tok-old
    name: old-bot
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
`
	const spec = "version: 1\ndeployments:\n  - {id: dep-a1, prune: true, allowEmpty: true, workspaceTokens: []}\n  - {id: dep-a2, prune: true, allowEmpty: true, workspaceTokens: []}\n"
	for _, tt := range []struct {
		limit, code int
		want        string
	}{
		{1, exitError, "past --max-removals 1; not written, run plan again"},
		{2, exitOK, "Apply complete: 0 added, 0 changed, 2 removed."},
	} {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			c := newCLI(t, state)
			c.beforeRead(t, "/tokens/tok-old", 1, func(context.Context) error {
				return c.srv.SetTokenRoles("tok-old", []astroapi.Role{
					{EntityType: "WORKSPACE", EntityID: "ws-a", Role: "WORKSPACE_MEMBER"},
					{EntityType: "DEPLOYMENT", EntityID: "dep-a1", Role: "DEPLOYMENT_ADMIN"},
					{EntityType: "DEPLOYMENT", EntityID: "dep-a2", Role: "DEPLOYMENT_ADMIN"},
				})
			})
			f := c.write("prune.yaml", spec)
			r := c.run("apply", "-f", f, "--yes", "--no-color", "--max-removals", fmt.Sprint(tt.limit))
			wantCode(t, r, tt.code)
			if !strings.Contains(squeeze(r.stdout+r.stderr), tt.want) {
				t.Errorf("output lacks %q:\n%s%s", tt.want, r.stdout, r.stderr)
			}
			roles := len(c.srv.State().Tokens[0].Roles)
			if want := map[int]int{exitError: 3, exitOK: 1}[tt.code]; roles != want {
				t.Errorf("old-bot holds %d roles, want %d", roles, want)
			}
		})
	}
}

// TestSavedPlanBoundToItsFiles: a saved plan edited in its target and its
// changes alike holds together; given with -f, apply checks that its
// target is what those files make of the organization, and refuses it
// (exit 5) before any write. The unedited plan with -f applies.
func TestSavedPlanBoundToItsFiles(t *testing.T) {
	c := newCLI(t, everyLevelState)
	f := c.write("org.yaml", "version: 1\norganizationRoles:\n  users:\n    - {username: bob@example.com, role: ORGANIZATION_BILLING_ADMIN}\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	edited := c.write("edited.json", strings.ReplaceAll(string(data), `"ORGANIZATION_BILLING_ADMIN"`, `"ORGANIZATION_OWNER"`))
	c.srv.ResetStats()
	r := c.run("apply", edited, "-f", f, "--yes")
	wantCode(t, r, exitStale)
	if c.posts() != 0 {
		t.Errorf("%d writes", c.posts())
	}
	if want := "is not what " + f + " make of the organization now (the organization has other assignments)"; !strings.Contains(squeeze(r.stderr), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	wantCode(t, c.run("apply", planFile, "-f", f, "--yes"), exitOK)
	if got := c.userRoles("usr-bob"); !slices.Contains(got, "organization=ORGANIZATION_BILLING_ADMIN") {
		t.Errorf("bob's roles: %v", got)
	}
}

// TestSavedPlanWithItsChangesCut: a saved plan whose changes were cut,
// the summary and fingerprints left as they were, or a fingerprint of a
// subject no change names, does not hold together: exit 5, nothing
// written, by --dry-run too. (With no changes it used to say the managed
// scopes match the spec.)
func TestSavedPlanWithItsChangesCut(t *testing.T) {
	c := newCLI(t, everyLevelState)
	f := c.write("dep.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    users:\n      - {username: bob@example.com, state: absent}\n      - {username: owner@example.com, role: DEPLOYMENT_ADMIN}\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	for _, tt := range []struct {
		name string
		edit func(doc map[string]any)
		want string
	}{
		{"every change cut", func(doc map[string]any) { doc["changes"] = []any{} },
			"does not hold together: the summary (1 to add, 1 to change, 0 to remove, 1 unmanaged) does not count the changes (0, 0, 0, 1)"},
		{"changes and summary cut", func(doc map[string]any) {
			doc["changes"] = []any{}
			doc["summary"] = map[string]any{"add": 0.0, "change": 0.0, "remove": 0.0, "unmanaged": 1.0}
		}, "does not hold together: a fingerprint of subject usr-bob, which no change names"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			edited := filepath.Join(c.dir, "edited.json")
			data, err := os.ReadFile(planFile)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(edited, data, 0o600); err != nil {
				t.Fatal(err)
			}
			editPlan(t, edited, tt.edit)
			c.srv.ResetStats()
			for _, args := range [][]string{{"--dry-run"}, {"--yes"}, {"--yes", "-o", "json"}} {
				r := c.run(append([]string{"apply", edited}, args...)...)
				wantCode(t, r, exitStale)
				if !strings.Contains(squeeze(r.stderr), tt.want) {
					t.Errorf("apply %v: stderr lacks %q:\n%s", args, tt.want, r.stderr)
				}
				if slices.Contains(args, "json") && !json.Valid([]byte(r.stdout)) {
					t.Errorf("apply %v: stdout is not one result document:\n%s", args, r.stdout)
				}
			}
			if c.posts() != 0 {
				t.Errorf("%d writes", c.posts())
			}
		})
	}
}

// TestSavedPlanWithoutChanges: applying a saved plan without changes
// writes nothing and says so, without claiming that the organization
// matches the spec now: it may have changed since the plan.
func TestSavedPlanWithoutChanges(t *testing.T) {
	c := newCLI(t, everyLevelState)
	f := c.write("dep.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n")
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	r := c.run("apply", planFile, "--yes")
	wantCode(t, r, exitOK)
	if want := "No changes in the saved plan: nothing to apply (run plan to compare the organization with the spec now)."; !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "match the spec") {
		t.Errorf("stdout: want %q alone:\n%s", want, r.stdout)
	}
}
