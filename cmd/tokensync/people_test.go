package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// peopleState is testState with users and teams: every part of their role
// sets that tokensync must keep (organization role, workspace roles, roles
// on deployments the spec does not name, DAG roles), each status, and two
// teams that share a name.
const peopleState = testState + `
users:
  - id: usr-alice
    username: alice@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_AUTHOR}
      - {workspaceId: ws-b, role: WORKSPACE_ACCESSOR}
    deploymentRoles:
      - {deploymentId: dep-a1, role: VIEWER}
      - {deploymentId: dep-b1, role: VIEWER}
    dagRoles:
      - {deploymentId: dep-a1, dagId: etl_daily, role: DAG_AUTHOR}
  - id: usr-bob
    username: bob@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
  - id: usr-carol
    username: carol@example.com
    status: INACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_MEMBER}
    deploymentRoles:
      - {deploymentId: dep-a1, role: VIEWER}
      - {deploymentId: dep-a2, role: DEPLOYMENT_ADMIN}
  - id: usr-dan
    username: dan@example.com
    status: BANNED
    organizationRole: ORGANIZATION_MEMBER
  - id: usr-frank
    username: frank@example.com
    status: PENDING
    organizationRole: ORGANIZATION_MEMBER
  - id: usr-olga
    username: olga@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_OWNER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_ACCESSOR}
    deploymentRoles:
      - {deploymentId: dep-a1, role: DEPLOYMENT_ADMIN}
      - {deploymentId: dep-a2, role: VIEWER}
teams:
  - id: team-de
    name: data-engineering
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_MEMBER}
      - {workspaceId: ws-b, role: WORKSPACE_OPERATOR}
    deploymentRoles:
      - {deploymentId: dep-a1, role: DAG_DEPLOYER}
      - {deploymentId: dep-b1, role: DEPLOYMENT_ADMIN}
    dagRoles: # on a deployment whose role it keeps: pruning that role would bring DEPLOYMENT_ACCESSOR back
      - {deploymentId: dep-b1, dagTag: finance, role: DAG_VIEWER}
    memberIds: [usr-alice]
  - id: team-ml
    name: ml-research
    organizationRole: ORGANIZATION_BILLING_ADMIN
  - id: team-p1
    name: platform
    organizationRole: ORGANIZATION_MEMBER
  - id: team-p2
    name: platform
    organizationRole: ORGANIZATION_MEMBER
`

// A user who is INACTIVE or BANNED cannot be given a role, but prune
// still removes its unlisted roles on a deployment that lists users: a
// file with prune says who holds a role there, and a user reactivated
// later must not get back access nobody reviewed.
func TestPeoplePruneRemovesInactiveUsersRoles(t *testing.T) {
	c := newCLI(t, peopleState)
	f := c.write("people.yaml", `version: 1
deployments:
  - id: dep-a1
    prune: true
    users:
      - {username: alice@example.com, role: VIEWER}
  - id: dep-a2
    users:
      - {username: carol@example.com, state: absent}
`)
	r := c.run("plan", "-f", f, "--no-color")
	wantCode(t, r, exitOK)
	wantPlanLines(t, "plan lacks", r.stdout,
		"- user carol@example.com [usr-carol] VIEWER # not in spec (prune)",
		"- user olga@example.com [usr-olga] DEPLOYMENT_ADMIN # not in spec (prune)",
		"- user carol@example.com [usr-carol] DEPLOYMENT_ADMIN # state: absent",
		"Plan: 0 to add, 0 to change, 3 to remove.",
	)
	r = c.run("apply", "-f", f, "--yes", "--no-color")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stderr, "Verified: converged.") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	carol := c.subjectRoles()["usr-carol"]
	if len(carol.DeploymentRoles) != 0 || len(carol.WorkspaceRoles) != 1 || carol.OrganizationRole != "ORGANIZATION_MEMBER" {
		t.Errorf("carol's roles = %+v, want her deployment roles gone and the rest kept", carol)
	}
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
}

// peopleSpec manages users and teams on dep-a1 (and nothing else): an
// update (alice, by username in another case), an add of a user without a
// workspace role (bob: Astro adds WORKSPACE_ACCESSOR), an add of a PENDING
// user, a removal (olga), a team update by name and a team add by id.
const peopleSpec = `version: 1
deployments:
  - id: dep-a1
    users:
      - username: Alice@Example.COM
        role: DEPLOYMENT_ADMIN
      - username: bob@example.com
        role: DAG_DEPLOYER
      - id: usr-frank
        role: VIEWER
      - username: olga@example.com
        state: absent
    teams:
      - name: data-engineering
        role: DEPLOYMENT_ADMIN
      - id: team-ml
        role: VIEWER
`

// subjectRoles is the whole role set of every user and team in the
// emulator, by id.
func (c *cli) subjectRoles() map[string]astroapitest.RoleSet {
	st := c.srv.State()
	out := map[string]astroapitest.RoleSet{}
	for _, u := range st.Users {
		out[u.ID] = u.RoleSet
	}
	for _, tm := range st.Teams {
		out[tm.ID] = tm.RoleSet
	}
	return out
}

// postsTo is the number of POSTs the emulator received on routes that
// contain part ("/users/", "/teams/").
func (c *cli) postsTo(part string) int {
	n := 0
	for route, count := range c.srv.Stats().Requests {
		if strings.HasPrefix(route, "POST ") && strings.Contains(route, part) {
			n += count
		}
	}
	return n
}

func TestPeoplePlanApplyPlan(t *testing.T) {
	c := newCLI(t, peopleState)
	f := c.write("people.yaml", peopleSpec)
	before := c.subjectRoles()

	r := c.run("plan", "-f", f, "--detailed-exitcode", "--no-color")
	wantCode(t, r, exitChanges)
	wantPlanLines(t, "plan output lacks", r.stdout,
		"~ user alice@example.com [usr-alice] VIEWER -> DEPLOYMENT_ADMIN",
		"+ user bob@example.com [usr-bob] DAG_DEPLOYER",
		"+ user frank@example.com [usr-frank] VIEWER",
		"- user olga@example.com [usr-olga] DEPLOYMENT_ADMIN # state: absent",
		"~ team data-engineering [team-de] DAG_DEPLOYER -> DEPLOYMENT_ADMIN",
		"+ team ml-research [team-ml] VIEWER",
		"Plan: 3 to add, 2 to change, 1 to remove.",
	)
	if c.posts() != 0 {
		t.Fatalf("plan made %d POSTs", c.posts())
	}

	r = c.run("apply", "-f", f, "--yes", "--no-color")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Apply complete: 3 added, 2 changed, 1 removed.") {
		t.Errorf("apply output:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "Verified: converged.") {
		t.Errorf("apply stderr lacks verification (WORKSPACE_ACCESSOR is not drift):\n%s", r.stderr)
	}
	// One write per changed subject: alice, bob, frank, olga; two teams.
	if got, want := c.postsTo("/users/"), 4; got != want {
		t.Errorf("apply made %d user POSTs, want %d", got, want)
	}
	if got, want := c.postsTo("/teams/"), 2; got != want {
		t.Errorf("apply made %d team POSTs, want %d", got, want)
	}

	r = c.run("plan", "-f", f, "--detailed-exitcode", "--no-color")
	wantCode(t, r, exitOK)

	// Everything but the managed deployment roles on dep-a1 is as before;
	// bob gained WORKSPACE_ACCESSOR on ws-a from the emulator, as Astro does.
	want := before
	set := func(id string, change func(*astroapitest.RoleSet)) {
		rs := want[id]
		rs.WorkspaceRoles = append([]astroapi.WorkspaceRole(nil), rs.WorkspaceRoles...)
		rs.DeploymentRoles = append([]astroapi.DeploymentRole(nil), rs.DeploymentRoles...)
		change(&rs)
		want[id] = rs
	}
	set("usr-alice", func(rs *astroapitest.RoleSet) {
		rs.DeploymentRoles = []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}, {DeploymentID: "dep-b1", Role: "VIEWER"}}
	})
	set("usr-bob", func(rs *astroapitest.RoleSet) {
		rs.WorkspaceRoles = []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_ACCESSOR"}}
		rs.DeploymentRoles = []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "DAG_DEPLOYER"}}
	})
	set("usr-frank", func(rs *astroapitest.RoleSet) {
		rs.WorkspaceRoles = []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_ACCESSOR"}}
		rs.DeploymentRoles = []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "VIEWER"}}
	})
	set("usr-olga", func(rs *astroapitest.RoleSet) {
		rs.DeploymentRoles = []astroapi.DeploymentRole{{DeploymentID: "dep-a2", Role: "VIEWER"}}
	})
	set("team-de", func(rs *astroapitest.RoleSet) {
		rs.DeploymentRoles = []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}, {DeploymentID: "dep-b1", Role: "DEPLOYMENT_ADMIN"}}
	})
	set("team-ml", func(rs *astroapitest.RoleSet) {
		rs.WorkspaceRoles = []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_ACCESSOR"}}
		rs.DeploymentRoles = []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "VIEWER"}}
	})
	if diff := cmp.Diff(want, c.subjectRoles(), sortRoleSets); diff != "" {
		t.Errorf("role sets after apply (-want +got):\n%s", diff)
	}
}

// wantPlanLines fails t for each of want (with runs of spaces squeezed)
// that out lacks.
func wantPlanLines(t *testing.T, what, out string, want ...string) {
	t.Helper()
	wantIn(t, what, squeeze(out), want...)
}

// wantIn fails t for each of want that out lacks.
func wantIn(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s %q:\n%s", what, w, out)
		}
	}
}

// sortRoleSets compares role sets whatever the order of their lists.
var sortRoleSets = cmp.Transformer("sorted", func(rs astroapitest.RoleSet) astroapitest.RoleSet {
	key := func(v any) string { return fmt.Sprint(v) }
	rs.WorkspaceRoles = slices.SortedFunc(slices.Values(rs.WorkspaceRoles), func(a, b astroapi.WorkspaceRole) int { return strings.Compare(key(a), key(b)) })
	rs.DeploymentRoles = slices.SortedFunc(slices.Values(rs.DeploymentRoles), func(a, b astroapi.DeploymentRole) int { return strings.Compare(key(a), key(b)) })
	rs.DagRoles = slices.SortedFunc(slices.Values(rs.DagRoles), func(a, b astroapi.DagRole) int { return strings.Compare(key(a), key(b)) })
	return rs
})

// A deployment's accessor role added by Astro stays when the last
// deployment role goes, and neither is drift.
func TestPeopleWorkspaceAccessorIsNotDrift(t *testing.T) {
	c := newCLI(t, peopleState)
	f := c.write("people.yaml", "version: 1\ndeployments:\n  - id: dep-a2\n    users:\n      - {username: bob@example.com, role: DEPLOYMENT_ADMIN}\n    teams:\n      - {name: ml-research, role: VIEWER}\n")
	r := c.run("apply", "-f", f, "--yes")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stderr, "Verified: converged.") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	roles := c.subjectRoles()
	for _, id := range []string{"usr-bob", "team-ml"} {
		if diff := cmp.Diff([]astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_ACCESSOR"}}, roles[id].WorkspaceRoles); diff != "" {
			t.Errorf("%s workspace roles (-want +got):\n%s", id, diff)
		}
	}
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)

	// Removing the role again leaves the accessor role, and plans empty.
	f = c.write("people.yaml", "version: 1\ndeployments:\n  - id: dep-a2\n    users:\n      - {username: bob@example.com, state: absent}\n    teams:\n      - {name: ml-research, state: absent}\n")
	r = c.run("apply", "-f", f, "--yes")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stderr, "Verified: converged.") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
	roles = c.subjectRoles()
	for _, id := range []string{"usr-bob", "team-ml"} {
		if len(roles[id].DeploymentRoles) != 0 || len(roles[id].WorkspaceRoles) != 1 {
			t.Errorf("%s roles = %+v, want no deployment role and WORKSPACE_ACCESSOR kept", id, roles[id])
		}
	}
}

// An existing file that lists only tokens, with prune: true, must never
// remove a user or a team: upgrading tokensync to a version that manages
// users and teams does not widen what a file prunes.
func TestPeopleUpgradeNeverWidensPrune(t *testing.T) {
	c := newCLI(t, peopleState)
	before := c.subjectRoles()
	f := c.write("tokens.yaml", "version: 1\nignoreTokens: [break-glass-*]\ndeployments:\n  - id: dep-a1\n    prune: true\n    workspaceTokens:\n      - {id: tok-ci-a, role: DEPLOYMENT_ADMIN}\n    organizationTokens: []\n")
	for _, args := range [][]string{
		{"apply", "-f", f, "--yes", "--no-color"},
		{"apply", "-f", f, "--yes", "--no-color", "--prune"},
	} {
		r := c.run(args...)
		wantCode(t, r, exitOK)
		if strings.Contains(r.stdout, "- user") || strings.Contains(r.stdout, "- team") {
			t.Errorf("%v removes a user or team:\n%s", args, r.stdout)
		}
	}
	if got := c.postsTo("/users/") + c.postsTo("/teams/"); got != 0 {
		t.Errorf("a tokens-only file wrote %d users or teams", got)
	}
	if diff := cmp.Diff(before, c.subjectRoles()); diff != "" {
		t.Errorf("users and teams changed (-want +got):\n%s", diff)
	}
	// The token prune did happen: the test proves something.
	if strings.Contains(strings.Join(c.deploymentRoles(), "\n"), "tok-old dep-a1") {
		t.Errorf("prune kept tok-old on dep-a1")
	}
	r := c.run("plan", "-f", f, "--no-color")
	wantCode(t, r, exitOK)
	wantPlanLines(t, "plan lacks", r.stdout,
		"? user olga@example.com [usr-olga] DEPLOYMENT_ADMIN # not in spec; the scope does not list its kind",
		"? team data-engineering [team-de] DAG_DEPLOYER # not in spec; the scope does not list its kind",
	)
}

// With users: and teams: listed, prune removes the unlisted ones of those
// kinds, keeps ignoreUsers and ignoreTeams, and counts toward the guards.
func TestPeoplePruneGuardsAndProtect(t *testing.T) {
	spec := "version: 1\nignoreTokens: [break-glass-*]\ndeployments:\n  - id: dep-a1\n    prune: true\n    users:\n      - {username: alice@example.com, role: VIEWER}\n    teams: []\n"
	t.Run("prune removes unlisted users and teams", func(t *testing.T) {
		c := newCLI(t, peopleState)
		r := c.run("plan", "-f", c.write("people.yaml", spec), "--no-color")
		wantCode(t, r, exitOK)
		wantPlanLines(t, "plan lacks", r.stdout,
			"- user olga@example.com [usr-olga] DEPLOYMENT_ADMIN # not in spec (prune)",
			"- team data-engineering [team-de] DAG_DEPLOYER # not in spec (prune)",
			"- user carol@example.com [usr-carol] VIEWER # not in spec (prune)",
			"Plan: 0 to add, 0 to change, 3 to remove.",
		)
	})
	t.Run("ignoreUsers and ignoreTeams", func(t *testing.T) {
		c := newCLI(t, peopleState)
		ignoring := strings.Replace(spec, "deployments:", "ignoreUsers: [\"OLGA@*\", \"carol@*\"]\nignoreTeams: [data-*]\ndeployments:", 1)
		r := c.run("apply", "-f", c.write("people.yaml", ignoring), "--yes", "--no-color")
		wantCode(t, r, exitOK)
		if c.posts() != 0 {
			t.Errorf("ignored users and teams were written (%d POSTs):\n%s", c.posts(), r.stdout)
		}
	})
	t.Run("protect refuses a removal of alice", func(t *testing.T) {
		c := newCLI(t, peopleState)
		f := c.write("people.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    users:\n      - {username: alice@example.com, state: absent}\n")
		r := c.run("apply", "-f", f, "--yes", "--protect", "alice@example.com")
		wantCode(t, r, exitRefused)
		if !strings.Contains(r.stdout+r.stderr, "alice@example.com") {
			t.Errorf("the refusal does not name alice:\n%s\n%s", r.stdout, r.stderr)
		}
		if c.posts() != 0 {
			t.Errorf("%d POSTs", c.posts())
		}
		// A team by its name, a user in another case.
		wantCode(t, c.run("apply", "-f", c.write("p.yaml", spec), "--yes", "--protect", "data-engineering"), exitRefused)
		wantCode(t, c.run("apply", "-f", c.write("p.yaml", spec), "--yes", "--protect", "OLGA@example.com"), exitRefused)
		if c.posts() != 0 {
			t.Errorf("%d POSTs", c.posts())
		}
	})
	t.Run("max-removals counts user and team removals", func(t *testing.T) {
		c := newCLI(t, peopleState)
		f := c.write("people.yaml", spec)
		r := c.run("plan", "-f", f, "--max-removals", "2")
		wantCode(t, r, exitRefused)
		if !strings.Contains(r.stdout, "max-removals") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		wantCode(t, c.run("apply", "-f", f, "--yes", "--max-removals", "2"), exitRefused)
		if c.posts() != 0 {
			t.Errorf("%d POSTs", c.posts())
		}
		wantCode(t, c.run("apply", "-f", f, "--yes", "--max-removals", "3"), exitOK)
	})
}

func TestPeopleSavedPlanIsStaleWhenAUserChanged(t *testing.T) {
	c := newCLI(t, peopleState)
	f := c.write("people.yaml", peopleSpec)
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)

	// Someone gives alice a DAG role: her role set is not what was planned.
	if err := c.srv.SetUserRoles("usr-alice", astroapi.UpdateUserRolesRequest{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_AUTHOR"}, {WorkspaceID: "ws-b", Role: "WORKSPACE_ACCESSOR"}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "VIEWER"}, {DeploymentID: "dep-b1", Role: "VIEWER"}},
		DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-a1", DagID: "etl_daily", Role: "DAG_VIEWER"}},
	}); err != nil {
		t.Fatal(err)
	}
	c.srv.ResetStats()
	r := c.run("apply", planFile, "--yes")
	wantCode(t, r, exitStale)
	if !strings.Contains(r.stderr, "alice@example.com") && !strings.Contains(r.stderr, "usr-alice") {
		t.Errorf("the refusal does not name alice:\n%s", r.stderr)
	}
	if c.posts() != 0 {
		t.Errorf("a stale plan made %d POSTs", c.posts())
	}

	// A fresh saved plan applies.
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	r = c.run("apply", planFile, "--yes")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Apply complete: 3 added, 2 changed, 1 removed.") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if got := c.subjectRoles()["usr-alice"].DagRoles; len(got) != 1 || got[0].Role != "DAG_VIEWER" {
		t.Errorf("alice's DAG roles = %+v, want the one set since the first plan", got)
	}
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
}

func TestPeopleExportThenPlanIsEmpty(t *testing.T) {
	c := newCLI(t, peopleState)
	r := c.run("export")
	wantCode(t, r, exitOK)
	wantIn(t, "export lacks", r.stdout,
		"    workspaceTokens:", "    organizationTokens:", "    users:", "    teams:",
		"username: alice@example.com", "username: olga@example.com", "name: data-engineering",
	)
	// Every exported workspace and deployment has all four keys.
	for _, key := range []string{"workspaceTokens:", "organizationTokens:", "users:", "teams:"} {
		if got, want := strings.Count(r.stdout, "\n    "+key), strings.Count(r.stdout, "  - id: dep-")+strings.Count(r.stdout, "  - id: ws-"); got != want {
			t.Errorf("%d workspaces and deployments have %s, want all %d:\n%s", got, key, want, r.stdout)
		}
	}
	// carol is INACTIVE: no role can be given to her, but the export keeps
	// the roles she holds, with her status in a comment, so that prune
	// does not remove them unreviewed.
	wantIn(t, "export lacks", r.stdout, "- username: carol@example.com # INACTIVE\n")
	f := c.write("exported.yaml", r.stdout)
	wantCode(t, c.run("validate", "--offline", "-f", f), exitOK)
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode", "--no-color"), exitOK)
	r = c.run("plan", "-f", f, "--prune", "--detailed-exitcode", "--no-color")
	wantCode(t, r, exitOK)
	if strings.Contains(r.stdout, "carol") {
		t.Errorf("plan --prune of the export names the inactive user:\n%s", r.stdout)
	}
}

func TestPeopleBadInputWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name, entries string
		want          []string
	}{
		{
			name:    "unknown username",
			entries: "    users:\n      - {username: alcie@example.com, role: DEPLOYMENT_ADMIN}\n",
			want:    []string{":6:9: ", "alcie@example.com", `did you mean "alice@example.com"?`},
		},
		{
			name:    "unknown team name",
			entries: "    teams:\n      - {name: data-engineerin, role: DEPLOYMENT_ADMIN}\n",
			want:    []string{":6:9: ", `did you mean "data-engineering"?`},
		},
		{
			name:    "ambiguous team name",
			entries: "    teams:\n      - {name: platform, role: DEPLOYMENT_ADMIN}\n",
			want:    []string{":6:9: ", "team-p1", "team-p2"},
		},
		{
			name:    "inactive user",
			entries: "    users:\n      - {username: carol@example.com, role: DEPLOYMENT_ADMIN}\n",
			want:    []string{":6:9: ", "INACTIVE"},
		},
		{
			name:    "banned user",
			entries: "    users:\n      - {id: usr-dan, role: DEPLOYMENT_ADMIN}\n",
			want:    []string{":6:9: ", "BANNED"},
		},
		{
			name:    "not a deployment role",
			entries: "    users:\n      - {username: alice@example.com, role: WORKSPACE_OWNER}\n",
			want:    []string{":6:", "WORKSPACE_OWNER"},
		},
		{
			name:    "custom role restricted to another workspace",
			entries: "    teams:\n      - {id: team-de, role: DAG_DEPLOYER}\n",
			want:    []string{":6:", "DAG_DEPLOYER"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, peopleState)
			// dep-b1 is in workspace beta; DAG_DEPLOYER is restricted to alpha.
			// The first entry is fine, so the run would write without the error.
			f := c.write("people.yaml", "version: 1\ndeployments:\n  - id: dep-b1\n    workspaceTokens: [{id: tok-ci-b, role: VIEWER}]\n"+tc.entries)
			for _, args := range [][]string{{"plan", "-f", f}, {"apply", "-f", f, "--yes"}, {"validate", "-f", f}} {
				r := c.run(args...)
				wantCode(t, r, exitInvalid)
				for _, want := range append([]string{f + ":"}, tc.want...) {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("%s: stderr lacks %q:\n%s", args[0], want, r.stderr)
					}
				}
			}
			if c.posts() != 0 {
				t.Errorf("bad input drew %d POSTs", c.posts())
			}
		})
	}
}

func TestPeopleOfflineValidateRejectsUsernameThatIsNotAnEmail(t *testing.T) {
	c := newCLI(t, peopleState)
	c.env = map[string]string{}
	f := c.write("people.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    users:\n      - username: alice\n        role: DEPLOYMENT_ADMIN\n")
	r := c.runRaw("validate", "--offline", "-f", f)
	wantCode(t, r, exitInvalid)
	if !strings.Contains(r.stderr, f+":5:19: ") || !strings.Contains(r.stderr, `"alice"`) {
		t.Errorf("stderr lacks the positioned error:\n%s", r.stderr)
	}
	if c.requests() != 0 {
		t.Errorf("offline validation drew %d requests", c.requests())
	}
}

func TestPeopleEmulateExamples(t *testing.T) {
	c := newCLI(t, testState)
	args := []string{"-f", "../../examples/tokens.yaml", "--emulate", "../../examples/org.yaml", "--no-color"}
	r := c.runRaw(append([]string{"plan"}, args...)...)
	wantCode(t, r, exitOK)
	wantPlanLines(t, "the example plan lacks", r.stdout,
		"+ user bob@example.com [clusr0000000000000000000002] DEPLOYMENT_VIEWER",
		"~ team data-engineering [clteam000000000000000000001] DAG_DEPLOYER -> DEPLOYMENT_ADMIN",
	)
	if strings.Contains(r.stdout, "dave@contractor.example") {
		t.Errorf("an ignored user is shown:\n%s", r.stdout)
	}
	r = c.runRaw(append([]string{"apply", "--yes"}, args...)...)
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stderr, "Verified: converged.") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestPeoplePlanJSONAndMarkdown(t *testing.T) {
	c := newCLI(t, peopleState)
	f := c.write("people.yaml", peopleSpec+"    workspaceTokens:\n      - {id: tok-ci-a, role: VIEWER}\n    organizationTokens:\n      - {name: org-observer, role: VIEWER}\n")
	r := c.run("plan", "-f", f, "-o", "json")
	wantCode(t, r, exitOK)
	validatePlanJSON(t, []byte(r.stdout))
	var doc struct {
		FormatVersion string `json:"format_version"`
		Changes       []struct {
			Subject struct{ Kind, ID, Name string } `json:"subject"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != "3" {
		t.Errorf("format_version = %q, want 3", doc.FormatVersion)
	}
	got := map[string]string{}
	for _, ch := range doc.Changes {
		got[ch.Subject.ID] = ch.Subject.Kind + " " + ch.Subject.Name
	}
	want := map[string]string{
		"usr-alice": "user alice@example.com", // the API's spelling
		"usr-bob":   "user bob@example.com",
		"usr-frank": "user frank@example.com",
		"usr-olga":  "user olga@example.com",
		"team-de":   "team data-engineering",
		"team-ml":   "team ml-research",
		"tok-ci-a":  "workspaceToken ci",
		"tok-org":   "organizationToken org-observer",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subjects of the JSON plan (-want +got):\n%s", diff)
	}

	r = c.run("plan", "-f", f, "-o", "markdown")
	wantCode(t, r, exitOK)
	wantIn(t, "markdown lacks", r.stdout, "user alice@example.com", "user olga@example.com", "team data-engineering", "team ml-research")

	// The saved plan is the same document.
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	saved, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	validatePlanJSON(t, saved)
}

// validate counts the entries of every kind, and warns offline about a
// user's or team's role spelled almost like DEPLOYMENT_ADMIN as it does
// for a token's.
func TestPeopleValidateCountsAndWarnsForEveryKind(t *testing.T) {
	c := newCLI(t, peopleState)
	f := c.write("people.yaml", `version: 1
deployments:
  - id: dep-a1
    workspaceTokens:
      - {id: tok-ci-a, role: DEPLOYMENT_ADMIN}
    users:
      - {username: alice@example.com, role: DEPLOYMENT_ADMN}
      - {username: bob@example.com, state: absent}
    teams:
      - {name: data-engineering, role: Deployment-Admin}
`)
	r := c.run("validate", "--offline", "-f", f)
	wantCode(t, r, exitOK)
	want := f + `:7:45: warning: role "DEPLOYMENT_ADMN" is not built in, so it must be a custom role of that name (did you mean "DEPLOYMENT_ADMIN"?)
` + f + `:10:40: warning: role "Deployment-Admin" is not built in, so it must be a custom role of that name (did you mean "DEPLOYMENT_ADMIN"?)
Valid (offline): 1 deployment(s), 1 token entries, 2 user entries, 1 team entries in 1 file(s).
`
	if diff := cmp.Diff(want, r.stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}

	f = c.write("people.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    users:\n      - {username: alice@example.com, role: DEPLOYMENT_ADMIN}\n    teams: []\n")
	r = c.run("validate", "-f", f)
	wantCode(t, r, exitOK)
	if want := "Valid: 1 deployment(s), 0 token entries, 1 user entries, 0 team entries in 1 file(s); every reference resolves in organization org1.\n"; r.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
}
