package access

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr(t time.Time) *time.Time { return &t }

// kinds are the kinds of a token's findings.
func kinds(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind)
	}
	return out
}

// TestTokenFindingsBoundaries: each threshold at, just inside and just
// outside its boundary. Expiring is inclusive (endAt == now+window is
// expiring), expired is endAt <= now; unused and not rotated are strict
// (used exactly at now-threshold is not unused).
func TestTokenFindingsBoundaries(t *testing.T) {
	rv := DefaultReview(now)
	window, unused, rotated := time.Duration(rv.Expiring), time.Duration(rv.Unused), time.Duration(rv.Rotated)
	fresh := func(t astroapi.Token) astroapi.Token {
		if t.LastUsedAt == nil {
			t.LastUsedAt = ptr(now)
		}
		if t.LastRotatedAt == nil {
			t.LastRotatedAt = ptr(now)
		}
		if t.EndAt == nil {
			t.EndAt = ptr(now.AddDate(1, 0, 0))
		}
		t.CreatedAt = now.AddDate(-2, 0, 0)
		return t
	}
	for _, tt := range []struct {
		name  string
		token astroapi.Token
		want  []string
	}{
		{"nothing to say", fresh(astroapi.Token{}), nil},
		{"expires exactly at now+window", fresh(astroapi.Token{EndAt: ptr(now.Add(window))}), []string{FindingExpiring}},
		{"expires a second after the window", fresh(astroapi.Token{EndAt: ptr(now.Add(window + time.Second))}), nil},
		{"expires a second from now", fresh(astroapi.Token{EndAt: ptr(now.Add(time.Second))}), []string{FindingExpiring}},
		{"ends exactly now", fresh(astroapi.Token{EndAt: ptr(now)}), []string{FindingExpired}},
		{"ended yesterday", fresh(astroapi.Token{EndAt: ptr(now.AddDate(0, 0, -1))}), []string{FindingExpired}},
		{"used exactly at now-unused", fresh(astroapi.Token{LastUsedAt: ptr(now.Add(-unused))}), nil},
		{"used a second before now-unused", fresh(astroapi.Token{LastUsedAt: ptr(now.Add(-unused - time.Second))}), []string{FindingUnused}},
		{"rotated exactly at now-rotated", fresh(astroapi.Token{LastRotatedAt: ptr(now.Add(-rotated))}), nil},
		{"rotated a second before now-rotated", fresh(astroapi.Token{LastRotatedAt: ptr(now.Add(-rotated - time.Second))}), []string{FindingNotRotated}},
		{"never expires, used, rotated; old", astroapi.Token{CreatedAt: now.AddDate(-1, 0, 0)}, []string{FindingNoExpiry, FindingNeverUsed, FindingNeverRotate}},
		{"never rotated, created exactly at now-rotated", astroapi.Token{EndAt: ptr(now.AddDate(0, 6, 0)), LastUsedAt: ptr(now), CreatedAt: now.Add(-rotated)}, nil},
		{"never rotated, created before now-rotated", astroapi.Token{EndAt: ptr(now.AddDate(0, 6, 0)), LastUsedAt: ptr(now), CreatedAt: now.Add(-rotated - time.Second)}, []string{FindingNeverRotate}},
		{"never rotated, creation unknown", astroapi.Token{EndAt: ptr(now.AddDate(0, 6, 0)), LastUsedAt: ptr(now)}, []string{FindingNeverRotate}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := kinds(tokenFindings(rv, Ref{Kind: "workspaceToken", ID: "t"}, sync.TokenSubject(tt.token).Hygiene))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * day, "0d": 0, "36h": 36 * time.Hour, "90m": 90 * time.Minute, "1d12h": -1} {
		got, err := ParseDuration(in)
		if want < 0 {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
			}
			continue
		}
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "-3h", "x", "3 d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) is not an error", bad)
		}
	}
	if s := Duration(30 * day).String(); s != "30d" {
		t.Errorf("30 days print as %q", s)
	}
	if s := Duration(36 * time.Hour).String(); s != "36h0m0s" {
		t.Errorf("36h prints as %q", s)
	}
}

func TestRatePermissions(t *testing.T) {
	for _, tt := range []struct {
		perms []string
		want  Level
	}{
		{nil, LevelCustom},
		{[]string{"deployment.get"}, LevelView},
		{[]string{"deployment.get", "deployment.dags.get", "deployment.dagRuns.get"}, LevelView},
		{[]string{"deployment.dags.get", "deployment.dagRuns.create", "deployment.dags.update"}, LevelAuthor},
		{[]string{"deployment.get", "deployment.deploy"}, LevelAuthor},
		{[]string{"deployment.get", "deployment.update"}, LevelOperate},
		{[]string{"workspace.get", "workspace.deployments.create", "workspace.deployments.update"}, LevelOperate},
		{[]string{"deployment.get", "deployment.update", "deployment.deploy", "deployment.apiTokens.update"}, LevelAdmin},
		{[]string{"deployment.delete"}, LevelAdmin},
		{[]string{"deployment.dags.delete"}, LevelAuthor},
		{[]string{"deployment.get", "deployment.frobnicate"}, LevelCustom}, // unknown: not guessed
		{[]string{"nonsense"}, LevelCustom},
	} {
		if got := RatePermissions(tt.perms); got != tt.want {
			t.Errorf("RatePermissions(%q) = %s, want %s", tt.perms, got, tt.want)
		}
	}
}

// findingsObserved: a user in every status, a deployment role that a
// workspace role makes redundant, one that is stronger than it, a custom
// role rated or not.
func findingsObserved() *sync.Observed {
	user := func(id, status string, ws []astroapi.WorkspaceRole, deps []astroapi.DeploymentRole) sync.Subject {
		return sync.UserSubject(astroapi.User{ID: id, Username: id + "@example.com", Status: status, OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles: ws, DeploymentRoles: deps})
	}
	member := []astroapi.WorkspaceRole{{WorkspaceID: "ws", Role: "WORKSPACE_MEMBER"}}
	owner := []astroapi.WorkspaceRole{{WorkspaceID: "ws", Role: "WORKSPACE_OWNER"}}
	return &sync.Observed{
		Organization: "org",
		Workspaces:   []astroapi.Workspace{{ID: "ws", Name: "w"}},
		Deployments:  []astroapi.Deployment{{ID: "dep", Name: "d", WorkspaceID: "ws"}},
		Subjects: []sync.Subject{
			user("active", "ACTIVE", owner, []astroapi.DeploymentRole{{DeploymentID: "dep", Role: "DEPLOYMENT_ADMIN"}}), // admin ≤ admin: redundant
			user("inactive", "INACTIVE", member, nil),
			user("banned", "BANNED", nil, nil), // its organization role is a role
			user("pending", "PENDING", member, []astroapi.DeploymentRole{{DeploymentID: "dep", Role: "DEPLOYMENT_ADMIN"}}), // admin > view: not redundant
			user("rated", "ACTIVE", member, []astroapi.DeploymentRole{{DeploymentID: "dep", Role: "VIEWER"}}),              // view ≤ view: redundant
			user("unrated", "ACTIVE", member, []astroapi.DeploymentRole{{DeploymentID: "dep", Role: "MYSTERY"}}),           // unknown: never compared
			sync.UserSubject(astroapi.User{ID: "gone", Username: "gone@example.com", Status: "INACTIVE"}),                  // no role at all
		},
	}
}

func TestUserAndRedundantFindings(t *testing.T) {
	rv := DefaultReview(now)
	r := Compute(Input{Observed: findingsObserved(), Review: &rv, RolePermissions: map[string][]string{"VIEWER": {"deployment.get"}, "MYSTERY": {}}})
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Kind+" "+f.Principal.ID+" "+f.Role+": "+f.Message)
	}
	want := []string{
		"user-status banned : BANNED user holds 1 role(s): ORGANIZATION_MEMBER (organization)",
		"user-status inactive : INACTIVE user holds 2 role(s): ORGANIZATION_MEMBER (organization), WORKSPACE_MEMBER (workspace)",
		"user-status pending : PENDING user holds 3 role(s): ORGANIZATION_MEMBER (organization), WORKSPACE_MEMBER (workspace), DEPLOYMENT_ADMIN (deployment)",
		"redundant-grant active DEPLOYMENT_ADMIN: DEPLOYMENT_ADMIN (admin) has no effect: WORKSPACE_OWNER (workspace) already gives admin",
		"redundant-grant rated VIEWER: VIEWER (view) has no effect: WORKSPACE_MEMBER (workspace) already gives view",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if r.RoleLevels["VIEWER"] != LevelView || r.RoleLevels["MYSTERY"] != "" {
		t.Errorf("role levels %v: VIEWER rated view, MYSTERY unrated", r.RoleLevels)
	}
	// --role-level wins over the permissions, and the redundant grants
	// follow the levels.
	r.Relevel(RoleLevels{"VIEWER": LevelAdmin, "MYSTERY": LevelView})
	got = nil
	for _, f := range r.Findings {
		if f.Kind == FindingRedundant {
			got = append(got, f.Principal.ID+" "+f.Role)
		}
	}
	if diff := cmp.Diff([]string{"active DEPLOYMENT_ADMIN", "unrated MYSTERY"}, got); diff != "" {
		t.Errorf("redundant grants after Relevel (-want +got):\n%s", diff)
	}
}

// TestRedundantViaTeam: a user's direct deployment role is redundant when
// a team of theirs gives as much (teams expanded).
func TestRedundantViaTeam(t *testing.T) {
	obs := &sync.Observed{
		Organization: "org",
		Workspaces:   []astroapi.Workspace{{ID: "ws", Name: "w"}},
		Deployments:  []astroapi.Deployment{{ID: "dep", Name: "d", WorkspaceID: "ws"}},
		Subjects: []sync.Subject{
			sync.UserSubject(astroapi.User{ID: "u", Username: "u", Status: "ACTIVE", DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep", Role: "DEPLOYMENT_ADMIN"}}}),
			sync.TeamSubject(astroapi.Team{ID: "t", Name: "admins", DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep", Role: "DEPLOYMENT_ADMIN"}}}),
		},
	}
	rv := DefaultReview(now)
	without := Compute(Input{Observed: obs, Review: &rv})
	if len(without.Findings) != 0 {
		t.Errorf("teams not expanded: %v", without.Findings)
	}
	with := Compute(Input{Observed: obs, Review: &rv, Members: map[string][]astroapi.TeamMember{"t": {{UserID: "u", Username: "u"}}}})
	if len(with.Findings) != 1 || with.Findings[0].Message != "DEPLOYMENT_ADMIN (admin) has no effect: DEPLOYMENT_ADMIN (deployment, via team admins) already gives admin" {
		t.Errorf("teams expanded: %+v", with.Findings)
	}
}

func TestFindingsFilterAndDiff(t *testing.T) {
	rv := DefaultReview(now)
	r := Compute(Input{Observed: findingsObserved(), Review: &rv})
	r.AddFindings(Finding{Kind: FindingPolicy, Category: CategoryPolicy, Severity: SeverityHigh, Principal: Ref{Kind: "user", ID: "active", Name: "active@example.com"},
		Deployment: &DeploymentRef{ID: "dep", Name: "d", Workspace: "w"}, Message: "no admins", Rule: "no-admin", Source: "a.yaml:3"})
	if r.Findings[0].Kind != FindingPolicy {
		t.Errorf("a high policy violation is not first: %v", kinds(r.Findings))
	}
	narrowed := Filter{Principals: []spec.Glob{"pend*"}}.Apply(r)
	if diff := cmp.Diff([]string{FindingUserStatus}, kinds(narrowed.Findings)); diff != "" {
		t.Errorf("--principal pend*: (-want +got):\n%s", diff)
	}
	// banned reaches no deployment: narrowed by workspace, its finding goes.
	byWS := Filter{Workspaces: []string{"w"}}.Apply(r)
	for _, f := range byWS.Findings {
		if f.Principal.ID == "banned" {
			t.Errorf("--workspace w keeps a finding of a user who reaches none of it: %v", f)
		}
	}
	// --min-role admin drops the view grant, and its redundant finding.
	var redundant []string
	for _, f := range (Filter{MinLevel: LevelAdmin}).Apply(Compute(Input{Observed: findingsObserved(), Review: &rv,
		RolePermissions: map[string][]string{"VIEWER": {"deployment.get"}}})).Findings {
		if f.Kind == FindingRedundant {
			redundant = append(redundant, f.Principal.ID+" "+f.Role)
		}
	}
	if diff := cmp.Diff([]string{"active DEPLOYMENT_ADMIN"}, redundant); diff != "" {
		t.Errorf("--min-role admin: redundant grants (-want +got):\n%s", diff)
	}
	before := Compute(Input{Observed: findingsObserved(), Review: &rv})
	if n := DiffFindings(&before, &r); n != 1 || !r.Findings[0].New {
		t.Errorf("%d new, first new %v; want the policy violation only", n, r.Findings[0].New)
	}
}

// TestUserStatusThroughTeams: with the members known (--expand-teams), a
// banned user with no role of its own, an owner through a team, is a
// finding, and an inactive one's finding counts its team's roles too.
// Without them, only its own roles count.
func TestUserStatusThroughTeams(t *testing.T) {
	obs := findingsObserved()
	obs.Subjects = append(obs.Subjects, sync.TeamSubject(astroapi.Team{ID: "t-admins", Name: "admins", OrganizationRole: "ORGANIZATION_OWNER",
		WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: "ws", Role: "WORKSPACE_OWNER"}}}))
	members := map[string][]astroapi.TeamMember{"t-admins": {{UserID: "gone", Username: "gone@example.com"}, {UserID: "inactive", Username: "inactive@example.com"}}}
	rv := DefaultReview(now)
	statuses := func(in Input) []string {
		var got []string
		for _, f := range Compute(in).Findings {
			if f.Kind == FindingUserStatus {
				got = append(got, f.Principal.ID+": "+f.Message)
			}
		}
		return got
	}
	want := []string{
		"banned: BANNED user holds 1 role(s): ORGANIZATION_MEMBER (organization)",
		"gone: INACTIVE user holds 2 role(s): ORGANIZATION_OWNER (organization, via team admins), WORKSPACE_OWNER (workspace, via team admins)",
		"inactive: INACTIVE user holds 4 role(s): ORGANIZATION_MEMBER (organization), WORKSPACE_MEMBER (workspace), ORGANIZATION_OWNER (organization, via team admins), WORKSPACE_OWNER (workspace, via team admins)",
		"pending: PENDING user holds 3 role(s): ORGANIZATION_MEMBER (organization), WORKSPACE_MEMBER (workspace), DEPLOYMENT_ADMIN (deployment)",
	}
	if diff := cmp.Diff(want, statuses(Input{Observed: obs, Review: &rv, Members: members})); diff != "" {
		t.Errorf("with members (-want +got):\n%s", diff)
	}
	if got := statuses(Input{Observed: obs, Review: &rv}); len(got) != 3 {
		t.Errorf("without members: %v, want the 3 users with roles of their own", got)
	}
}
