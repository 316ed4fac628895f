package sync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// levelsOrg is an organization with roles on every level: two workspaces,
// a deployment in each, users and teams with organization, workspace,
// deployment and DAG roles, and tokens of both scopes.
func levelsOrg() (*Observed, *fakeStore) {
	owner := user("usr-owner", "owner@example.com", "ACTIVE", "ORGANIZATION_OWNER")
	bob := user("usr-bob", "bob@example.com", "ACTIVE", "ORGANIZATION_MEMBER")
	bob.WorkspaceRoles = []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_AUTHOR")}
	bob.DeploymentRoles = []astroapi.DeploymentRole{deploymentRole("dep-a", "DEPLOYMENT_ADMIN")}
	bob.DagRoles = []astroapi.DagRole{{DeploymentID: "dep-a", DagID: "rollup", Role: "DAG_AUTHOR"}}
	carol := user("usr-carol", "carol@example.com", "ACTIVE", "ORGANIZATION_BILLING_ADMIN")
	carol.WorkspaceRoles = []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_OWNER")}
	de := team("team-de", "data-engineering", "ORGANIZATION_MEMBER")
	de.WorkspaceRoles = []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_ACCESSOR")}
	de.DeploymentRoles = []astroapi.DeploymentRole{deploymentRole("dep-a", "DEPLOYMENT_ACCESSOR")}
	de.DagRoles = []astroapi.DagRole{{DeploymentID: "dep-a", DagTag: "finance", Role: "DAG_VIEWER"}}
	ci := token("tok-ci", "ci", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-a", "DEPLOYMENT_ADMIN"))
	other := token("tok-other", "other-ci", "WORKSPACE", wsRole("ws-2", "WORKSPACE_MEMBER"))
	bill := token("tok-bill", "billing", "ORGANIZATION", orgRole("ORGANIZATION_MEMBER"))
	obs := &Observed{
		Organization: org,
		Workspaces:   []astroapi.Workspace{{ID: "ws-1", Name: "one"}, {ID: "ws-2", Name: "two"}},
		Deployments:  []astroapi.Deployment{{ID: "dep-a", Name: "alpha", WorkspaceID: "ws-1"}, {ID: "dep-b", Name: "beta", WorkspaceID: "ws-2"}},
		CustomRoles: []astroapi.CustomRole{
			{ID: "r1", Name: "DAG_DEPLOYER", ScopeType: "DEPLOYMENT"},
			{ID: "r2", Name: "DAG_RUNNER", ScopeType: "DAG"},
		},
		Subjects: subjects([]astroapi.Token{ci, other, bill}, []astroapi.User{owner, bob, carol}, []astroapi.Team{de}),
	}
	return obs, newFakeStore(ci, other, bill).withUsers(owner, bob, carol).withTeams(de)
}

// planOf parses yaml, resolves it against obs and computes its plan.
func planOf(t *testing.T, yaml string, obs *Observed, opts Options) Plan {
	t.Helper()
	sp, err := spec.Parse("tokens.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	d, err := Resolve(sp, obs)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if opts.MaxRemovals == 0 {
		opts.MaxRemovals = -1
	}
	return Compute(d, obs, opts)
}

// lines are a plan's changes as "action level:id subject before->after".
func lines(cs []Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s:%s %s %s->%s", c.Action, c.Scope.Level, c.Scope.ID, c.Subject.ID, c.Before, c.After))
	}
	return out
}

const levelsHeader = "version: 1\norganization: " + org + "\n"

// TestEveryLevelPlan: add, update and remove on the organization, a
// workspace and a DAG, each one key (scope, subject).
func TestEveryLevelPlan(t *testing.T) {
	obs, _ := levelsOrg()
	p := planOf(t, levelsHeader+`
organizationRoles:
  users:
    - {username: bob@example.com, role: organization_observe_admin}
  organizationTokens:
    - {name: billing, role: ORGANIZATION_BILLING_ADMIN}
workspaces:
  - name: one
    users:
      - {username: bob@example.com, role: WORKSPACE_OPERATOR}
      - {username: carol@example.com, state: absent}
    teams:
      - {name: data-engineering, role: WORKSPACE_MEMBER}
deployments:
  - id: dep-a
    dags:
      - dagId: rollup
        users:
          - {username: bob@example.com, state: absent}
          - {username: owner@example.com, role: DAG_RUNNER}
      - dagTag: finance
        teams:
          - {name: data-engineering, role: DAG_AUTHOR}
`, obs, Options{})
	want := []string{
		"update organization:" + org + " tok-bill ORGANIZATION_MEMBER->ORGANIZATION_BILLING_ADMIN",
		"update organization:" + org + " usr-bob ORGANIZATION_MEMBER->ORGANIZATION_OBSERVE_ADMIN",
		"update workspace:ws-1 usr-bob WORKSPACE_AUTHOR->WORKSPACE_OPERATOR",
		"remove workspace:ws-1 usr-carol WORKSPACE_OWNER->",
		"update workspace:ws-1 team-de WORKSPACE_ACCESSOR->WORKSPACE_MEMBER",
		"remove dag:rollup usr-bob DAG_AUTHOR->",
		"add dag:rollup usr-owner ->DAG_RUNNER",
		"update dagTag:finance team-de DAG_VIEWER->DAG_AUTHOR",
	}
	slices.Sort(want)
	got := lines(p.Changes)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// The plan lists the organization first, then workspaces, then each
	// deployment's DAGs.
	var levels []Level
	for _, c := range p.Changes {
		if len(levels) == 0 || levels[len(levels)-1] != c.Scope.Level {
			levels = append(levels, c.Scope.Level)
		}
	}
	if diff := cmp.Diff([]Level{LevelOrganization, LevelWorkspace, LevelDAG, LevelDAGTag}, levels); diff != "" {
		t.Errorf("order of levels (-want +got):\n%s", diff)
	}
}

// TestOrganizationPruneDemotes: prune at the organization level demotes
// unlisted users and teams of the listed kinds to ORGANIZATION_MEMBER and
// never removes anyone; an organization token's role is never removed.
func TestOrganizationPruneDemotes(t *testing.T) {
	obs, _ := levelsOrg()
	p := planOf(t, levelsHeader+`
organizationRoles:
  prune: true
  users:
    - {username: owner@example.com, role: ORGANIZATION_OWNER}
  organizationTokens: []
`, obs, Options{})
	want := []string{"update organization:" + org + " usr-carol ORGANIZATION_BILLING_ADMIN->ORGANIZATION_MEMBER"}
	if diff := cmp.Diff(want, lines(p.Changes)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	reasons := map[string]string{}
	for _, c := range p.Unmanaged {
		reasons[c.Subject.ID] = c.Reason
	}
	if reasons["tok-bill"] != ReasonOwnOrganization {
		t.Errorf("the organization token: %q, want %q", reasons["tok-bill"], ReasonOwnOrganization)
	}
	if reasons["team-de"] != ReasonNotListedKind {
		t.Errorf("the team (teams not listed): %q, want %q", reasons["team-de"], ReasonNotListedKind)
	}
	if p.Changes[0].Reason != ReasonDemote {
		t.Errorf("reason %q, want %q", p.Changes[0].Reason, ReasonDemote)
	}
}

// TestImpliedAccessors: prune never removes an accessor that a remaining
// child role needs, and a removal of another role there is shown as the
// update to the accessor that Astro makes of it.
func TestImpliedAccessors(t *testing.T) {
	obs, _ := levelsOrg()
	p := planOf(t, levelsHeader+`
workspaces:
  - name: one
    prune: true
    users: []
    teams: []
deployments:
  - id: dep-a
    prune: true
    users: []
    teams: []
`, obs, Options{})
	want := []string{
		// bob's deployment role keeps WORKSPACE_ACCESSOR, his DAG role
		// DEPLOYMENT_ACCESSOR; carol holds nothing below the workspace.
		"update workspace:ws-1 usr-bob WORKSPACE_AUTHOR->WORKSPACE_ACCESSOR",
		"remove workspace:ws-1 usr-carol WORKSPACE_OWNER->",
		"update deployment:dep-a usr-bob DEPLOYMENT_ADMIN->DEPLOYMENT_ACCESSOR",
	}
	slices.Sort(want)
	got := lines(p.Changes)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	implied := map[string]string{}
	for _, c := range p.Unmanaged {
		implied[string(c.Scope.Level)+" "+c.Subject.ID] = c.Reason
	}
	if got := implied["workspace team-de"]; got != ReasonImpliedWsAccess {
		t.Errorf("the team's WORKSPACE_ACCESSOR: %q, want %q", got, ReasonImpliedWsAccess)
	}
	if got := implied["deployment team-de"]; got != ReasonImpliedAccessor {
		t.Errorf("the team's DEPLOYMENT_ACCESSOR: %q, want %q", got, ReasonImpliedAccessor)
	}
	if got := implied["workspace tok-ci"]; got != ReasonOwnWorkspace {
		t.Errorf("the workspace token's own role: %q, want %q", got, ReasonOwnWorkspace)
	}
	// The lockout guard: carol is the workspace's only WORKSPACE_OWNER.
	if !p.Refused() || p.Guards[3].Name != GuardLockout || p.Guards[3].OK {
		t.Fatalf("guards %+v, want lockout refused", p.Guards)
	}
	if !strings.Contains(p.Guards[3].Message, `workspace "one" without any WORKSPACE_OWNER`) {
		t.Errorf("lockout message %q", p.Guards[3].Message)
	}
}

// TestLockoutGuard: the organization keeps an ORGANIZATION_OWNER; tokens
// do not count.
func TestLockoutGuard(t *testing.T) {
	obs, _ := levelsOrg()
	for _, tt := range []struct {
		name, yaml string
		refused    bool
	}{
		{"the last owner demoted", `
organizationRoles:
  prune: true
  users: []
`, true},
		{"the owner changes, another is named", `
organizationRoles:
  users:
    - {username: owner@example.com, role: ORGANIZATION_MEMBER}
    - {username: bob@example.com, role: ORGANIZATION_OWNER}
`, false},
		{"an owner token does not count", `
organizationRoles:
  users:
    - {username: owner@example.com, role: ORGANIZATION_MEMBER}
  organizationTokens:
    - {name: billing, role: ORGANIZATION_OWNER}
`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := planOf(t, levelsHeader+tt.yaml, obs, Options{})
			g := p.Guards[3]
			if g.Name != GuardLockout || g.OK == tt.refused {
				t.Errorf("lockout %+v, want refused %v", g, tt.refused)
			}
			if tt.refused && (!strings.Contains(g.Message, "the organization without any ORGANIZATION_OWNER") ||
				!strings.HasSuffix(g.Message, "owners are active users and teams with an active member, not tokens)")) {
				t.Errorf("message %q", g.Message)
			}
		})
	}
}

// TestLockoutGuardLeavesTokenOwners: the guard is about people. A
// workspace whose only owner is a token has no owner the guard counts, so
// a plan that demotes the token leaves it no worse and passes; and a
// token's owner role keeps no workspace from losing its last person.
func TestLockoutGuardLeavesTokenOwners(t *testing.T) {
	obs, _ := levelsOrg()
	for i := range obs.Subjects {
		s := &obs.Subjects[i]
		for j := range s.Grants {
			if g := &s.Grants[j]; g.Scope.Level == LevelWorkspace && (s.ID == "usr-carol" || s.ID == "tok-ci") {
				g.Role = map[string]string{"usr-carol": "WORKSPACE_MEMBER", "tok-ci": "WORKSPACE_OWNER"}[s.ID]
			}
		}
	}
	p := planOf(t, levelsHeader+`
workspaces:
  - name: one
    workspaceTokens:
      - {name: ci, role: WORKSPACE_MEMBER}
`, obs, Options{})
	if g := p.Guards[3]; !g.OK {
		t.Errorf("demoting the only owner, a token: %+v, want passed", g)
	}

	obs, _ = levelsOrg()
	p = planOf(t, levelsHeader+`
workspaces:
  - name: one
    users:
      - {username: carol@example.com, role: WORKSPACE_MEMBER}
    workspaceTokens:
      - {name: ci, role: WORKSPACE_OWNER}
`, obs, Options{})
	if g := p.Guards[3]; g.OK || !strings.Contains(g.Message, `workspace "one" without any WORKSPACE_OWNER (user "carol@example.com" would lose it)`) {
		t.Errorf("demoting the last person, a token made owner: %+v, want refused", g)
	}
}

// TestLockoutGuardCountsActiveUsersOnly: an owner nobody can sign in as
// (inactive, pending or banned) keeps nobody out; demoting the last active
// owner is refused although such a user still holds ORGANIZATION_OWNER or
// WORKSPACE_OWNER.
func TestLockoutGuardCountsActiveUsersOnly(t *testing.T) {
	for _, status := range []string{"INACTIVE", "PENDING", "BANNED", "ACTIVE"} {
		t.Run(status, func(t *testing.T) {
			obs, _ := levelsOrg()
			gone := user("usr-gone", "gone@example.com", status, "ORGANIZATION_OWNER")
			gone.WorkspaceRoles = []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_OWNER")}
			obs.Subjects = append(obs.Subjects, subjects(nil, []astroapi.User{gone}, nil)...)
			p := planOf(t, levelsHeader+`
organizationRoles:
  users:
    - {username: owner@example.com, role: ORGANIZATION_MEMBER}
workspaces:
  - name: one
    users:
      - {username: carol@example.com, role: WORKSPACE_MEMBER}
`, obs, Options{})
			g := p.Guards[3]
			if refused := status != "ACTIVE"; g.Name != GuardLockout || g.OK == refused {
				t.Fatalf("lockout %+v, want refused %v", g, refused)
			}
			if status != "ACTIVE" && (!strings.Contains(g.Message, "the organization without any ORGANIZATION_OWNER") ||
				!strings.Contains(g.Message, `workspace "one" without any WORKSPACE_OWNER`)) {
				t.Errorf("message %q", g.Message)
			}
		})
	}
}

// TestLockoutGuardTeamNeedsAnActiveMember: where a plan takes the last
// active user's owner role, a team holding it keeps the organization or
// the workspace from being locked out only with an active member.
// LockoutTeams names the teams whose members decide it, and only there:
// not where an active user keeps the role, nor once they were read.
func TestLockoutGuardTeamNeedsAnActiveMember(t *testing.T) {
	const demote = `
organizationRoles:
  users:
    - {username: owner@example.com, role: ORGANIZATION_MEMBER}
workspaces:
  - name: one
    users:
      - {username: carol@example.com, role: WORKSPACE_MEMBER}
`
	admins := team("team-admins", "admins", "ORGANIZATION_OWNER")
	admins.WorkspaceRoles = []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_OWNER")}
	for _, tt := range []struct {
		name    string
		active  map[string]bool // Observed.TeamActive
		refused bool
	}{
		{"members not read", nil, false},
		{"no active member", map[string]bool{"team-admins": false}, true},
		{"an active member", map[string]bool{"team-admins": true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obs, _ := levelsOrg()
			obs.Subjects = append(obs.Subjects, subjects(nil, nil, []astroapi.Team{admins})...)
			obs.TeamActive = tt.active
			p := planOf(t, levelsHeader+demote, obs, Options{})
			if g := p.Guards[3]; g.Name != GuardLockout || g.OK == tt.refused {
				t.Fatalf("lockout %+v, want refused %v", g, tt.refused)
			}
			var want []string
			if tt.active == nil {
				want = []string{"team-admins"}
			}
			if diff := cmp.Diff(want, LockoutTeams(p, obs)); diff != "" {
				t.Errorf("LockoutTeams (-want +got):\n%s", diff)
			}
			if tt.refused {
				if got := RecheckSaved(p, obs); len(got) != 1 || got[0].Name != GuardLockout {
					t.Errorf("RecheckSaved: %+v, want the lockout guard", got)
				}
			}
		})
	}
	t.Run("an active user keeps the role", func(t *testing.T) {
		obs, _ := levelsOrg()
		other := user("usr-other", "other@example.com", "ACTIVE", "ORGANIZATION_OWNER")
		other.WorkspaceRoles = []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_OWNER")}
		obs.Subjects = append(obs.Subjects, subjects(nil, []astroapi.User{other}, []astroapi.Team{admins})...)
		p := planOf(t, levelsHeader+demote, obs, Options{})
		if got := LockoutTeams(p, obs); len(got) != 0 {
			t.Errorf("LockoutTeams = %v, want none: an active user keeps each owner role", got)
		}
	})
}

// resolveErrors parses yaml and resolves it against obs, which must fail
// with n errors: those.
func resolveErrors(t *testing.T, yaml string, obs *Observed, n int) spec.ErrorList {
	t.Helper()
	sp, err := spec.Parse("tokens.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = Resolve(sp, obs)
	list, ok := err.(spec.ErrorList)
	if !ok || len(list) != n {
		t.Fatalf("Resolve: %d errors (%v), want %d", len(list), err, n)
	}
	return list
}

// suggested counts the errors with a did-you-mean.
func suggested(list spec.ErrorList) int {
	n := 0
	for _, e := range list {
		if strings.Contains(e.Error(), "did you mean") {
			n++
		}
	}
	return n
}

// TestDidYouMeanIsBounded: a principal not found gets a did-you-mean, the
// closest name of its kind; past maxSuggestions of them no more are
// looked for (each is a pass over every name of the organization).
func TestDidYouMeanIsBounded(t *testing.T) {
	obs, _ := levelsOrg()
	var users []astroapi.User
	var yaml strings.Builder
	yaml.WriteString(levelsHeader + "organizationRoles:\n  users:\n")
	for i := range maxSuggestions + 20 {
		users = append(users, user(fmt.Sprintf("usr-%d", i), fmt.Sprintf("person-%03d@example.com", i), "ACTIVE", "ORGANIZATION_MEMBER"))
		fmt.Fprintf(&yaml, "    - {username: person-%03d@example.co, role: ORGANIZATION_MEMBER}\n", i)
	}
	obs.Subjects = append(obs.Subjects, subjects(nil, users, nil)...)
	list := resolveErrors(t, yaml.String(), obs, maxSuggestions+20)
	if want := `did you mean "person-000@example.com"?`; !strings.Contains(list[0].Error(), want) {
		t.Errorf("the first error %q lacks %q", list[0], want)
	}
	if got := suggested(list); got != maxSuggestions {
		t.Errorf("%d errors with a did-you-mean, want %d", got, maxSuggestions)
	}
}

// TestDidYouMeanIsBoundedOnEveryKind: workspaces, deployments and roles
// not found share the bound of principals: past maxSuggestions names not
// found, of every kind together, no more are looked for (each is a pass
// over every name of its kind, so thousands of wrong names took seconds).
func TestDidYouMeanIsBoundedOnEveryKind(t *testing.T) {
	const n = maxSuggestions + 20
	obs, _ := levelsOrg()
	var yaml strings.Builder
	yaml.WriteString(levelsHeader)
	add := func(kind string) {
		switch kind {
		case "workspaces":
			yaml.WriteString("workspaces:\n")
			for i := range n {
				obs.Workspaces = append(obs.Workspaces, astroapi.Workspace{ID: fmt.Sprintf("ws-x%d", i), Name: fmt.Sprintf("space-%03d", i)})
				fmt.Fprintf(&yaml, "  - {name: spacx-%03d, users: []}\n", i)
			}
		case "deployments":
			yaml.WriteString("deployments:\n")
			for i := range n {
				obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: fmt.Sprintf("dep-x%d", i), Name: fmt.Sprintf("deploy-%03d", i), WorkspaceID: "ws-1"})
				fmt.Fprintf(&yaml, "  - {name: deplox-%03d, workspace: one, users: []}\n", i)
			}
		case "roles":
			yaml.WriteString("  - id: dep-a\n    dags:\n")
			for i := range n {
				obs.CustomRoles = append(obs.CustomRoles, astroapi.CustomRole{ID: fmt.Sprintf("role-x%d", i), Name: fmt.Sprintf("CUSTOM_ROLE_%03d", i), ScopeType: "DAG"})
				fmt.Fprintf(&yaml, "      - {dagId: dag-%03d, users: [{username: bob@example.com, role: CUSTOM_ROLX_%03d}]}\n", i, i)
			}
		}
	}
	add("workspaces")
	add("deployments")
	add("roles")
	list := resolveErrors(t, yaml.String(), obs, 3*n)
	for i, want := range map[int]string{
		0:     `workspace "spacx-000" not found (did you mean "space-000"?)`,
		n - 1: `workspace "spacx-119" not found`,
		n:     `deployment "deplox-000" not found in workspace "one"`,
	} {
		if !strings.HasSuffix(list[i].Error(), want) {
			t.Errorf("error %d is %q, want it to end %q", i, list[i], want)
		}
	}
	if got := suggested(list); got != maxSuggestions {
		t.Errorf("%d errors with a did-you-mean, want %d", got, maxSuggestions)
	}
}

// TestDidYouMeanFollowsTheOrderShown: the names not found that get a
// did-you-mean are the first maxSuggestions in the order the errors are
// shown, by file and line, whatever order the levels are resolved in
// (organization, workspaces, then deployments): a deployment misspelt
// above a hundred workspaces misspelt keeps its suggestion, the last
// workspace does not get one.
func TestDidYouMeanFollowsTheOrderShown(t *testing.T) {
	obs, _ := levelsOrg()
	var yaml strings.Builder
	yaml.WriteString(levelsHeader + "deployments:\n  - {name: alpah, workspace: one, users: []}\nworkspaces:\n")
	for i := range maxSuggestions {
		obs.Workspaces = append(obs.Workspaces, astroapi.Workspace{ID: fmt.Sprintf("ws-x%d", i), Name: fmt.Sprintf("space-%03d", i)})
		fmt.Fprintf(&yaml, "  - {name: spacx-%03d, users: []}\n", i)
	}
	list := resolveErrors(t, yaml.String(), obs, maxSuggestions+1)
	for i, want := range map[int]string{
		0:              `tokens.yaml:4:5: deployment "alpah" not found in workspace "one" (did you mean "alpha"?)`,
		1:              `tokens.yaml:6:5: workspace "spacx-000" not found (did you mean "space-000"?)`,
		maxSuggestions: `tokens.yaml:105:5: workspace "spacx-099" not found`,
	} {
		if got := list[i].Error(); got != want {
			t.Errorf("error %d is %q, want %q", i, got, want)
		}
	}
}

// TestDidYouMeanNotSpentOnNotesNotShown: names not found of state: absent
// entries are notes, not shown when the spec has errors, so they do not
// take the suggestions of the errors.
func TestDidYouMeanNotSpentOnNotesNotShown(t *testing.T) {
	obs, _ := levelsOrg()
	var yaml strings.Builder
	yaml.WriteString(levelsHeader + "deployments:\n  - id: dep-a\n    users:\n")
	for i := range maxSuggestions {
		fmt.Fprintf(&yaml, "      - {username: gone-%03d@example.com, state: absent}\n", i)
	}
	yaml.WriteString("  - {name: alpah, workspace: one, users: []}\n")
	sp, err := spec.Parse("tokens.yaml", []byte(yaml.String()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = Resolve(sp, obs)
	want := `deployment "alpah" not found in workspace "one" (did you mean "alpha"?)`
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("Resolve: %v, want an error ending %q", err, want)
	}
}

// TestAmbiguousListsAFewIDs: a name thousands of subjects share is one
// error per entry that lists maxListed of their ids and counts the rest,
// rather than every id in every error.
func TestAmbiguousListsAFewIDs(t *testing.T) {
	obs, _ := levelsOrg()
	var teams []astroapi.Team
	for i := range maxListed + 5 {
		teams = append(teams, team(fmt.Sprintf("team-t%02d", i), "twins", "ORGANIZATION_MEMBER"))
	}
	obs.Subjects = append(obs.Subjects, subjects(nil, nil, teams)...)
	sp, err := spec.Parse("tokens.yaml", []byte(levelsHeader+"organizationRoles:\n  teams:\n    - {name: twins, role: ORGANIZATION_MEMBER}\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = Resolve(sp, obs)
	want := `team name "twins" is ambiguous: team-t00, team-t01, team-t02, team-t03, team-t04, team-t05, team-t06, team-t07, team-t08, team-t09 and 5 more (use id)`
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("Resolve: %v, want an error ending %q", err, want)
	}
}

// TestResolveLevels: the online checks of the other levels, every error at
// once.
func TestResolveLevels(t *testing.T) {
	obs, _ := levelsOrg()
	sp, err := spec.Parse("tokens.yaml", []byte(levelsHeader+`
workspaces:
  - name: one
    workspaceTokens:
      - {name: other-ci, role: WORKSPACE_MEMBER}
      - {name: ci, state: absent}
  - name: onee
  - id: ws-1
deployments:
  - id: dep-a
    users:
      - {username: bob@example.com, role: DAG_RUNNER}
    dags:
      - dagId: rollup
        users:
          - {username: bob@example.com, role: DAG_DEPLOYER}
        workspaceTokens:
          - {name: other-ci, role: DAG_VIEWER}
organizationRoles:
  organizationTokens:
    - {name: ci, role: ORGANIZATION_MEMBER}
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = Resolve(sp, obs)
	var got []string
	for _, e := range err.(spec.ErrorList) {
		got = append(got, e.Error())
	}
	want := []string{
		`tokens.yaml:7:9: token "other-ci" belongs to workspace "two" and cannot have a role on workspace "one": a workspace token holds roles in its own workspace only`,
		`tokens.yaml:8:9: token "ci": state: absent cannot remove a workspace token's role on its own workspace (it is updated, never removed)`,
		`tokens.yaml:9:5: workspace "onee" not found (did you mean "one"?)`,
		`tokens.yaml:10:5: workspace "one" (ws-1) is already listed at tokens.yaml:5:5`,
		`tokens.yaml:14:43: user "bob@example.com": role "DAG_RUNNER" is a DAG role, not a deployment role`,
		`tokens.yaml:18:47: user "bob@example.com": role "DAG_DEPLOYER" is a deployment role, not a DAG role`,
		`tokens.yaml:20:13: token "other-ci" belongs to workspace "two" and cannot have a role on DAG "rollup" of deployment "alpha" of workspace "one"`,
		`tokens.yaml:23:7: token "ci" is a workspace token: a workspace token holds no organization role`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestNoOrganizationRoleMakesNoMember: a user without an organization
// role is not a member, and the organization level does not make it one
// (a plan of that would make an outsider an owner).
func TestNoOrganizationRoleMakesNoMember(t *testing.T) {
	obs, _ := levelsOrg()
	out := user("usr-out", "out@example.com", "ACTIVE", "")
	obs.Subjects = append(obs.Subjects, subjects(nil, []astroapi.User{out}, nil)...)
	sp, err := spec.Parse("tokens.yaml", []byte(levelsHeader+`
organizationRoles:
  users:
    - {username: out@example.com, role: ORGANIZATION_OWNER}
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = Resolve(sp, obs)
	var got []string
	errs, _ := err.(spec.ErrorList)
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		`tokens.yaml:6:7: user "out@example.com" has no organization role: it is not a member of the organization, and tokensync adds no members (invite it first)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestApplyOneWriteOnThreeLevels: a subject that changes on the
// organization, a workspace and a DAG is read once and written once, and
// everything else it holds is written back as read.
func TestApplyOneWriteOnThreeLevels(t *testing.T) {
	obs, s := levelsOrg()
	p := planOf(t, levelsHeader+`
organizationRoles:
  users:
    - {username: bob@example.com, role: ORGANIZATION_OBSERVE_ADMIN}
workspaces:
  - name: one
    users:
      - {username: bob@example.com, role: WORKSPACE_OPERATOR}
deployments:
  - id: dep-a
    dags:
      - dagId: rollup
        users:
          - {username: bob@example.com, role: DAG_VIEWER}
`, obs, Options{})
	if len(p.Changes) != 3 {
		t.Fatalf("changes %v, want 3", lines(p.Changes))
	}
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{})
	if !res.Complete() || len(res.Written) != 1 {
		t.Fatalf("Apply: %+v", res)
	}
	gets, sets := s.calls()
	if diff := cmp.Diff(map[string]int{"usr-bob": 1}, sets); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"usr-bob": 1}, gets); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
	bob := s.user("usr-bob")
	want := astroapi.User{
		ID: "usr-bob", Username: "bob@example.com", Status: "ACTIVE", OrganizationRole: "ORGANIZATION_OBSERVE_ADMIN",
		WorkspaceRoles:  []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_OPERATOR")},
		DeploymentRoles: []astroapi.DeploymentRole{deploymentRole("dep-a", "DEPLOYMENT_ADMIN")},
		DagRoles:        []astroapi.DagRole{{DeploymentID: "dep-a", DagID: "rollup", Role: "DAG_VIEWER"}},
	}
	if diff := cmp.Diff(want, bob); diff != "" {
		t.Errorf("bob (-want +got):\n%s", diff)
	}
	if v := Verify(p, res, s.snapshot()); !v.Converged {
		t.Errorf("Verify: %+v", v)
	}
}

// TestOnlyLevels: --target names the organization, a workspace (its level
// and its deployments with their DAGs) or a deployment (with its DAGs).
func TestOnlyLevels(t *testing.T) {
	obs, _ := levelsOrg()
	sp, err := spec.Parse("tokens.yaml", []byte(levelsHeader+`
organizationRoles:
  users: []
workspaces:
  - {name: one, users: []}
  - {name: two, users: []}
deployments:
  - id: dep-a
    dags:
      - {dagId: rollup, users: []}
  - id: dep-b
`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Resolve(sp, obs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		target string
		want   []string
	}{
		{"organization", []string{"organization:" + org}},
		{"one", []string{"workspace:ws-1", "deployment:dep-a", "dag:rollup"}},
		{"ws-2", []string{"workspace:ws-2", "deployment:dep-b"}},
		{"one/alpha", []string{"deployment:dep-a", "dag:rollup"}},
	} {
		t.Run(tt.target, func(t *testing.T) {
			got, _, err := Only(d, obs.Workspaces, []string{tt.target})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, scopeKeys(got)); diff != "" {
				t.Errorf("scopes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPruneGuardsCountWhatPruneTakes: a role that prune takes away counts
// for the guards even where Astro leaves an accessor or the organization's
// floor in its place: max-removals counts demotions and downgrades, and a
// deployment left with only the accessor DAG roles imply is empty.
func TestPruneGuardsCountWhatPruneTakes(t *testing.T) {
	obs, _ := levelsOrg()
	pruned := levelsHeader + `
deployments:
  - id: dep-a
    prune: true
    workspaceTokens: []
    users: []
    teams: []
`
	p := planOf(t, pruned, obs, Options{MaxRemovals: 1})
	want := []string{"update deployment:dep-a usr-bob DEPLOYMENT_ADMIN->DEPLOYMENT_ACCESSOR", "remove deployment:dep-a tok-ci DEPLOYMENT_ADMIN->"}
	if diff := cmp.Diff(want, lines(p.Changes)); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
	if r := p.Changes[0].Reason; r != ReasonPruneKeepsAccessor {
		t.Errorf("bob's downgrade: reason %q, want %q", r, ReasonPruneKeepsAccessor)
	}
	wantGuards := []Guard{
		{Name: GuardMaxRemovals, Message: "2 removals (1 of them to ORGANIZATION_MEMBER or an accessor role) exceed the limit of 1 (raise --max-removals, or -1 for no limit)"},
		{Name: GuardAllowEmpty, Message: `prune would leave deployment "alpha" without any token, user or team (set allowEmpty: true on the deployment to allow it)`},
	}
	if diff := cmp.Diff(wantGuards, p.Guards[:2]); diff != "" {
		t.Errorf("guards (-want +got):\n%s", diff)
	}
	if p := planOf(t, strings.Replace(pruned, "prune: true", "prune: true\n    allowEmpty: true", 1), obs, Options{MaxRemovals: 2}); p.Refused() {
		t.Errorf("allowEmpty and a limit of 2: refused: %+v", p.Guards)
	}

	demote := planOf(t, levelsHeader+"organizationRoles:\n  prune: true\n  users:\n    - {username: owner@example.com, role: ORGANIZATION_OWNER}\n", obs, Options{})
	if got, want := demote.Guards[0].Message, "1 removal (1 of them to ORGANIZATION_MEMBER or an accessor role) (no limit)"; got != want {
		t.Errorf("a demotion by prune: max-removals says %q, want %q", got, want)
	}
}

// TestRecheckSaved: the guards that count everyone are checked again on
// the organization as it is when a saved plan is applied: another writer
// may have taken the roles that let the plan pass.
func TestRecheckSaved(t *testing.T) {
	obs, _ := levelsOrg()
	p := planOf(t, levelsHeader+`
deployments:
  - id: dep-a
    prune: true
    workspaceTokens: []
`, obs, Options{})
	if p.Refused() || len(p.Changes) != 1 {
		t.Fatalf("the plan: %v, guards %+v", lines(p.Changes), p.Guards)
	}
	if got := RecheckSaved(p, obs); len(got) != 0 {
		t.Errorf("nothing changed since: %+v", got)
	}
	// bob, who kept the deployment, has lost his roles on it since.
	now := *obs
	now.Subjects = slices.Clone(obs.Subjects)
	for i, s := range now.Subjects {
		if s.ID == "usr-bob" {
			now.Subjects[i].Grants = slices.DeleteFunc(slices.Clone(s.Grants), func(g Grant) bool { return g.Scope.Level != LevelOrganization })
		}
	}
	want := []Guard{{Name: GuardAllowEmpty, Message: `on the organization as it is now (not as the plan shows it), prune would leave deployment "alpha" without any token, user or team (set allowEmpty: true on the deployment to allow it)`}}
	if diff := cmp.Diff(want, RecheckSaved(p, &now)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAllowEmptyDoesNotCountIgnored: a deployment pruned down to a subject
// of an ignore list (a break-glass token) and the accessor DAG roles imply
// is empty: the ignored token does not keep the guard from catching a
// truncated file. A saved plan's guards (Guards) agree.
func TestAllowEmptyDoesNotCountIgnored(t *testing.T) {
	obs, _ := levelsOrg()
	pruned := levelsHeader + `
ignoreTokens: [ci]
deployments:
  - id: dep-a
    prune: true
    workspaceTokens: []
    users: []
    teams: []
`
	p := planOf(t, pruned, obs, Options{})
	want := Guard{Name: GuardAllowEmpty, Message: `prune would leave deployment "alpha" without any token, user or team (set allowEmpty: true on the deployment to allow it)`}
	if diff := cmp.Diff(want, p.Guards[1]); diff != "" {
		t.Errorf("allow-empty (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, Guards(p, Options{MaxRemovals: -1})[1]); diff != "" {
		t.Errorf("allow-empty of the plan as saved (-want +got):\n%s", diff)
	}
	if slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Subject.ID == "tok-ci" }) {
		t.Errorf("the ignored token is changed: %+v", p.Changes)
	}
}

// TestInconsistentPlans: a plan as computed holds together; one whose
// changes are edited (a duplicate, the organization's, a DAG's or a
// deployment's name, a subject's name, a subject's changes all cut) does
// not, nor does one whose record of a deployment's workspace differs from
// what the API says of the deployment.
func TestInconsistentPlans(t *testing.T) {
	obs, _ := levelsOrg()
	p := planOf(t, levelsHeader+`
organizationRoles:
  users:
    - {username: bob@example.com, role: organization_observe_admin}
workspaces:
  - name: one
    prune: true
    users:
      - {username: bob@example.com, role: WORKSPACE_AUTHOR}
      - {username: carol@example.com, role: WORKSPACE_OWNER}
    teams: []
deployments:
  - id: dep-a
    dags:
      - dagId: rollup
        users:
          - {username: owner@example.com, role: DAG_RUNNER}
`, obs, Options{})
	if bad := Inconsistent(p, obs); len(bad) != 0 {
		t.Fatalf("the plan as computed: %v", bad)
	}
	at := func(level Level) int {
		i := slices.IndexFunc(p.Changes, func(c Change) bool { return c.Scope.Level == level })
		if i < 0 {
			t.Fatalf("no %s change in %v", level, lines(p.Changes))
		}
		return i
	}
	for _, tt := range []struct {
		name string
		edit func(p *Plan)
		want string
	}{
		{"a duplicate", func(p *Plan) { p.Changes = append(p.Changes, p.Changes[0]) }, "its changes show twice"},
		{"the organization's name", func(p *Plan) { p.Changes[at(LevelOrganization)].Scope.Name = "Other Org" }, `its changes name the organization "Other Org"`},
		{"a DAG's name", func(p *Plan) { p.Changes[at(LevelDAG)].Scope.Name = "prod_critical" }, `its changes name dag "rollup" "prod_critical"`},
		{"a deployment's name", func(p *Plan) { p.Changes[at(LevelDAG)].Scope.Deployment.Name = "beta" }, `its changes name the deployment of dag "rollup" (dep-a) "beta", but it is "alpha"`},
		{"a subject's name", func(p *Plan) { p.Changes[at(LevelOrganization)].Subject.Name = "carl@example.com" }, `its changes name it user "carl@example.com"`},
		{"a deployment's workspace", func(p *Plan) {
			// data-engineering's roles on dep-a keep its WORKSPACE_ACCESSOR
			// on ws-1, and a write keeps the accessor of the workspace the
			// target records: a record moving dep-a to ws-2 would make
			// apply write what the plan never showed.
			p.Target.Desired.Workspaces = map[string]string{"dep-a": "ws-2", "dep-b": "ws-2"}
		}, `deployment "alpha" (dep-a): its target records it in workspace ws-2, but it is in ws-1`},
		{"a deployment's workspace left out", func(p *Plan) {
			p.Target.Desired.Workspaces = map[string]string{"dep-b": "ws-2"}
		}, `deployment "alpha" (dep-a): its target has no record of its workspace`},
		{"no record of workspaces", func(p *Plan) { p.Target.Desired.Workspaces = nil }, `deployment "alpha" (dep-a): its target has no record of its workspace`},
		{"a subject's changes cut", func(p *Plan) {
			p.Changes = slices.DeleteFunc(p.Changes, func(c Change) bool { return c.Subject.Name == "bob@example.com" })
		}, "which its changes do not show"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := p
			q.Changes = slices.Clone(p.Changes)
			target := *p.Target
			q.Target = &target
			tt.edit(&q)
			bad := Inconsistent(q, obs)
			if len(bad) != 1 || !strings.Contains(bad[0], tt.want) {
				t.Errorf("Inconsistent = %v, want one with %q", bad, tt.want)
			}
		})
	}

	// A plan edited to give bob his organization role afresh, on an
	// organization where he has none, and one that adds a DAG role of the
	// owner, who is inactive now: a spec cannot do that, so neither can a
	// saved plan.
	for _, tt := range []struct {
		name, id string
		user     func(s *Subject)
		want     string
	}{
		{"no member", "usr-bob", func(s *Subject) { s.NoOrganizationRole = true }, "its changes give it a role, but it has no organization role"},
		{"inactive", "usr-owner", func(s *Subject) { s.Status = astroapi.UserInactive }, "its changes give it a role, but it is INACTIVE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := *obs
			now.Subjects = slices.Clone(obs.Subjects)
			for i := range now.Subjects {
				if s := &now.Subjects[i]; s.ID == tt.id {
					tt.user(s)
					if s.NoOrganizationRole {
						s.Grants = slices.DeleteFunc(slices.Clone(s.Grants), func(g Grant) bool { return g.Scope.Level == LevelOrganization })
					}
				}
			}
			q := p
			q.Changes = slices.Clone(p.Changes)
			if tt.name == "no member" {
				c := &q.Changes[at(LevelOrganization)]
				c.Action, c.Before = Add, ""
			}
			bad := Inconsistent(q, &now)
			if len(bad) != 1 || !strings.Contains(bad[0], tt.want) {
				t.Errorf("Inconsistent = %v, want one with %q", bad, tt.want)
			}
		})
	}
}

// TestInconsistentLetsPruneDemoteTheInactive: prune demotes an inactive
// user on the organization, an update: a saved plan of that holds
// together, as a plan that adds it a role would not.
func TestInconsistentLetsPruneDemoteTheInactive(t *testing.T) {
	obs, _ := levelsOrg()
	for i := range obs.Subjects {
		if s := &obs.Subjects[i]; s.ID == "usr-carol" {
			s.Status = astroapi.UserInactive
		}
	}
	p := planOf(t, levelsHeader+`
organizationRoles:
  prune: true
  users:
    - {username: owner@example.com, role: ORGANIZATION_OWNER}
`, obs, Options{Prune: true})
	if got := lines(p.Changes); !slices.Contains(got, "update organization:"+org+" usr-carol ORGANIZATION_BILLING_ADMIN->ORGANIZATION_MEMBER") {
		t.Fatalf("changes %v: want carol demoted", got)
	}
	if bad := Inconsistent(p, obs); len(bad) != 0 {
		t.Errorf("Inconsistent = %v, want none", bad)
	}
}
