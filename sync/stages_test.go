package sync

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// The planner's stages, each on its own: normalise, the rows of the
// decision table, the guards and the fingerprints.

var (
	alice    = user("usr-alice", "alice@example.com", astroapi.UserActive, "ORGANIZATION_MEMBER")
	dataEng  = team("team-de", "data-engineering", "ORGANIZATION_MEMBER")
	aliceRef = SubjectRef{Kind: KindUser, ID: "usr-alice", Name: "alice@example.com"}
	teamRef  = SubjectRef{Kind: KindTeam, ID: "team-de", Name: "data-engineering"}
	ciRef    = SubjectRef{Kind: KindWorkspaceToken, ID: "t-ci", Name: "ci"}
	depRef   = SubjectRef{Kind: KindDeploymentToken, ID: "t-dep", Name: "deploy-bot"}
)

func withDeps(u astroapi.User, roles ...astroapi.DeploymentRole) astroapi.User {
	u.DeploymentRoles = roles
	return u
}

func TestNormalise(t *testing.T) {
	ci := token("t-ci", "ci", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-a", "DAG_DEPLOYER"), depRole("dep-a", "DEPLOYMENT_ADMIN"), depRole("dep-x", "DEPLOYMENT_ADMIN"))
	a := withDeps(alice, deploymentRole("dep-b", "DEPLOYMENT_ADMIN"), deploymentRole("dep-x", "DAG_DEPLOYER"))
	obs := &Observed{
		Deployments: []astroapi.Deployment{depA, depB, depX},
		// The second copy of a subject is ignored.
		Subjects: subjects([]astroapi.Token{ci, token("t-ci", "ci-copy", "WORKSPACE", depRole("dep-b", "DEPLOYMENT_ADMIN"))}, []astroapi.User{a}, []astroapi.Team{withTeamDeps(dataEng, deploymentRole("dep-b", "VIEWER"))}),
	}
	d := Desired{Scopes: []ManagedScope{
		{
			ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-a", Name: "alpha"},
			Assignments: []DesiredAssignment{
				{Subject: ciRef, Role: "DEPLOYMENT_ADMIN", Source: at(11)},
				{Subject: ciRef, Role: "VIEWER", Source: at(12)}, // the first entry of a key counts
				{Subject: teamRef, Absent: true, Source: at(13)},
			},
		},
		{ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-b"}, Assignments: []DesiredAssignment{{Subject: aliceRef, Role: "DAG_DEPLOYER", Source: at(21)}}},
		{ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-a", Name: "again"}, Assignments: []DesiredAssignment{{Subject: aliceRef, Role: "X", Source: at(31)}}}, // the first listing counts
	}}
	pl := newPlanner(d, false, obs)

	dep := func(id string) Scope { return Scope{Level: LevelDeployment, ID: id} }
	wantListed := map[string][]listedEntry{
		"t-ci":      {{scope: dep("dep-a"), entry: &DesiredAssignment{Subject: ciRef, Role: "DEPLOYMENT_ADMIN", Source: at(11)}}},
		"team-de":   {{scope: dep("dep-a"), entry: &DesiredAssignment{Subject: teamRef, Absent: true, Source: at(13)}}},
		"usr-alice": {{scope: dep("dep-b"), entry: &DesiredAssignment{Subject: aliceRef, Role: "DAG_DEPLOYER", Source: at(21)}}},
	}
	gotListed := make(map[string][]listedEntry)
	for _, id := range pl.subjects {
		gotListed[id] = pl.entries(id)
	}
	if diff := cmp.Diff(wantListed, gotListed, cmp.AllowUnexported(listedEntry{})); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
	if got := pl.managed[dep("dep-a")].Name; got != "alpha" {
		t.Errorf("managed[dep-a] = %q, want the first listing (alpha)", got)
	}
	// Only managed deployments, the first role of a subject on each; the
	// first copy of a subject counts.
	p := Compute(d, obs, Options{MaxRemovals: -1})
	var got []string
	for _, c := range slices.Concat(p.Changes, p.Unmanaged) {
		got = append(got, fmt.Sprintf("%s %s %s %s->%s", c.Action, c.Scope.ID, c.Subject.Name, c.Before, c.After))
	}
	want := []string{
		"update dep-a ci DAG_DEPLOYER->DEPLOYMENT_ADMIN",
		"update dep-b alice@example.com DEPLOYMENT_ADMIN->DAG_DEPLOYER",
		"unmanaged dep-b data-engineering VIEWER->VIEWER",
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// TestDecisionRows tests each row function of the decision table on its
// own: whether it applies, and the change it gives.
func TestDecisionRows(t *testing.T) {
	src := at(12)
	entry := func(role string) *DesiredAssignment {
		return &DesiredAssignment{Subject: aliceRef, Role: role, Source: src}
	}
	gone := &DesiredAssignment{Subject: aliceRef, Absent: true, Source: src}
	sit := func(subject SubjectRef, e *DesiredAssignment, before string) situation {
		return situation{scope: DeploymentScope(alphaRef), subject: subject, entry: e, before: before, has: before != ""}
	}
	with := func(s situation, f func(*situation)) situation { f(&s); return s }
	unmanaged := func(s SubjectRef, role, reason string) Change {
		return Change{Action: Unmanaged, Scope: DeploymentScope(alphaRef), Subject: s, Before: role, After: role, Reason: reason}
	}
	tests := []struct {
		name    string
		row     func(situation) (Change, bool)
		in      situation
		want    Change
		applies bool
	}{
		{"unmanagedKind: deployment token held", unmanagedKind, sit(depRef, nil, "DEPLOYMENT_ADMIN"),
			unmanaged(depRef, "DEPLOYMENT_ADMIN", ReasonDeploymentToken), true},
		{"unmanagedKind: deployment token listed, none held", unmanagedKind, sit(depRef, entry("DEPLOYMENT_ADMIN"), ""), Change{}, true},
		{"unmanagedKind: a kind tokensync does not know", unmanagedKind, sit(SubjectRef{Kind: "token:AGENT", ID: "t-x"}, nil, "VIEWER"),
			unmanaged(SubjectRef{Kind: "token:AGENT", ID: "t-x"}, "VIEWER", "not managed"), true},
		{"unmanagedKind: a user does not apply", unmanagedKind, sit(aliceRef, nil, "X"), Change{}, false},

		{"ignored: held", ignored, with(sit(aliceRef, entry("DEPLOYMENT_ADMIN"), "X"), func(s *situation) { s.ignoredBy = "*@example.com" }),
			unmanaged(aliceRef, "X", `ignored (ignoreUsers "*@example.com")`), true},
		{"ignored: team", ignored, with(sit(teamRef, nil, "X"), func(s *situation) { s.ignoredBy = "data-*" }),
			unmanaged(teamRef, "X", `ignored (ignoreTeams "data-*")`), true},
		{"ignored: none held", ignored, with(sit(aliceRef, nil, ""), func(s *situation) { s.ignoredBy = "*" }), Change{}, true},
		{"ignored: not ignored does not apply", ignored, sit(aliceRef, nil, "X"), Change{}, false},

		{"listedWithRole: add", listedWithRole, sit(aliceRef, entry("DEPLOYMENT_ADMIN"), ""),
			Change{Action: Add, Scope: DeploymentScope(alphaRef), Subject: aliceRef, After: "DEPLOYMENT_ADMIN", Source: &src}, true},
		{"listedWithRole: update", listedWithRole, sit(aliceRef, entry("DEPLOYMENT_ADMIN"), "DAG_DEPLOYER"),
			Change{Action: Update, Scope: DeploymentScope(alphaRef), Subject: aliceRef, Before: "DAG_DEPLOYER", After: "DEPLOYMENT_ADMIN", Source: &src}, true},
		{"listedWithRole: a role read in another case is another role", listedWithRole, sit(aliceRef, entry("DEPLOYMENT_ADMIN"), "deployment_admin"),
			Change{Action: Update, Scope: DeploymentScope(alphaRef), Subject: aliceRef, Before: "deployment_admin", After: "DEPLOYMENT_ADMIN", Source: &src}, true},
		{"listedWithRole: absent does not apply", listedWithRole, sit(aliceRef, gone, "X"), Change{}, false},
		{"listedWithRole: not listed does not apply", listedWithRole, sit(aliceRef, nil, "X"), Change{}, false},

		{"listedAbsent: remove", listedAbsent, sit(aliceRef, gone, "X"),
			Change{Action: Remove, Scope: DeploymentScope(alphaRef), Subject: aliceRef, Before: "X", Reason: ReasonAbsent, Source: &src}, true},
		{"listedAbsent: none held", listedAbsent, sit(aliceRef, gone, ""), Change{}, true},
		{"listedAbsent: not listed does not apply", listedAbsent, sit(aliceRef, nil, "X"), Change{}, false},

		{"notListed: prune on, kind listed", notListed, with(sit(aliceRef, nil, "X"), func(s *situation) { s.prune, s.listsKind = true, true }),
			Change{Action: Remove, Scope: DeploymentScope(alphaRef), Subject: aliceRef, Before: "X", Reason: ReasonPrune}, true},
		{"notListed: prune on, kind not listed", notListed, with(sit(aliceRef, nil, "X"), func(s *situation) { s.prune = true }),
			unmanaged(aliceRef, "X", ReasonNotListedKind), true},
		{"notListed: prune off, kind listed", notListed, with(sit(aliceRef, nil, "X"), func(s *situation) { s.listsKind = true }),
			unmanaged(aliceRef, "X", ReasonNotInSpec), true},
		{"notListed: none held", notListed, with(sit(aliceRef, nil, ""), func(s *situation) { s.prune, s.listsKind = true, true }), Change{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, applies := tt.row(tt.in)
			if applies != tt.applies {
				t.Errorf("applies = %v, want %v", applies, tt.applies)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecideFirstRowWins: the rows are tried in order; the first that
// applies decides, even when it gives no change.
func TestDecideFirstRowWins(t *testing.T) {
	listedIgnored := situation{scope: DeploymentScope(alphaRef), subject: aliceRef, entry: &DesiredAssignment{Subject: aliceRef, Role: "DEPLOYMENT_ADMIN"}, ignoredBy: "*", prune: true, listsKind: true}
	if c, ok := decide(listedIgnored); ok {
		t.Errorf("decide(listed but ignored, none held) = %+v, want no change", c)
	}
	listedIgnored.before, listedIgnored.has = "X", true
	if c, ok := decide(listedIgnored); !ok || c.Action != Unmanaged {
		t.Errorf("decide(listed but ignored, held) = %+v, %v, want unmanaged", c, ok)
	}
	dt := situation{scope: DeploymentScope(alphaRef), subject: depRef, entry: &DesiredAssignment{Subject: depRef, Absent: true}, before: "X", has: true, prune: true, listsKind: true}
	if c, ok := decide(dt); !ok || c.Action != Unmanaged || c.Reason != ReasonDeploymentToken {
		t.Errorf("decide(deployment token listed absent) = %+v, %v, want unmanaged", c, ok)
	}
}

func TestGuardStages(t *testing.T) {
	rm := func(dep, name, reason string, s SubjectRef) Change {
		return Change{Action: Remove, Scope: DeploymentScope(DeploymentRef{ID: dep, Name: name}), Subject: s, Before: "DEPLOYMENT_ADMIN", Reason: reason}
	}
	changes := []Change{
		{Action: Add, Scope: DeploymentScope(alphaRef), Subject: ciRef, After: "DEPLOYMENT_ADMIN"},
		rm("dep-a", "alpha", ReasonPrune, aliceRef),
		rm("dep-b", "beta", ReasonPrune, teamRef),
		rm("dep-c", "gamma", ReasonAbsent, aliceRef),
		{Action: Update, Scope: DeploymentScope(betaRef), Subject: aliceRef, Before: "DAG_DEPLOYER", After: "DEPLOYMENT_ADMIN"},
	}
	t.Run("max-removals", func(t *testing.T) {
		for limit, want := range map[int]Guard{
			-1: {Name: GuardMaxRemovals, OK: true, Message: "3 removals (no limit)"},
			3:  {Name: GuardMaxRemovals, OK: true, Message: "3 removals (limit 3)"},
			2:  {Name: GuardMaxRemovals, Message: "3 removals exceed the limit of 2 (raise --max-removals, or -1 for no limit)"},
		} {
			if diff := cmp.Diff(want, maxRemovalsGuard(changes, limit)); diff != "" {
				t.Errorf("limit %d (-want +got):\n%s", limit, diff)
			}
		}
	})
	t.Run("max-removals counts demotions", func(t *testing.T) {
		changes := append(slices.Clone(changes),
			Change{Action: Update, Scope: ScopeRef{Level: LevelOrganization}, Subject: aliceRef, Before: "ORGANIZATION_OWNER", After: "ORGANIZATION_MEMBER", Reason: ReasonDemote},
			Change{Action: Update, Scope: DeploymentScope(betaRef), Subject: teamRef, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ACCESSOR", Reason: ReasonKeepsAccessor},
			Change{Action: Update, Scope: DeploymentScope(alphaRef), Subject: teamRef, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ACCESSOR", Reason: "listed"},
		)
		want := Guard{Name: GuardMaxRemovals, Message: "5 removals (2 of them to ORGANIZATION_MEMBER or an accessor role) exceed the limit of 4 (raise --max-removals, or -1 for no limit)"}
		if diff := cmp.Diff(want, maxRemovalsGuard(changes, 4)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("allow-empty", func(t *testing.T) {
		// alpha keeps a subject; beta is emptied by prune; gamma by
		// state: absent (fine); delta is emptied but allows it; epsilon
		// keeps only the accessor its DAG roles imply; zeta is downgraded
		// to an accessor by state: absent (fine).
		changes := append(slices.Clone(changes), rm("dep-d", "delta", ReasonPrune, ciRef),
			Change{Action: Update, Scope: DeploymentScope(DeploymentRef{ID: "dep-e", Name: "epsilon"}), Subject: teamRef, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ACCESSOR", Reason: ReasonPruneKeepsAccessor},
			Change{Action: Update, Scope: DeploymentScope(DeploymentRef{ID: "dep-z", Name: "zeta"}), Subject: teamRef, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ACCESSOR", Reason: ReasonKeepsAccessor})
		got := allowEmptyGuard(changes, map[Scope]int{depScope("dep-a"): 1}, map[Scope]bool{depScope("dep-d"): true})
		want := Guard{Name: GuardAllowEmpty, Message: `prune would leave deployment "beta" without any token, user or team; ` +
			`prune would leave deployment "epsilon" without any token, user or team (set allowEmpty: true on the deployment to allow it)`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if got := allowEmptyGuard(changes, map[Scope]int{depScope("dep-a"): 1, depScope("dep-b"): 1, depScope("dep-e"): 1}, map[Scope]bool{depScope("dep-d"): true}); !got.OK {
			t.Errorf("with a subject left on beta and epsilon: %+v", got)
		}
	})
	t.Run("protect", func(t *testing.T) {
		if diff := cmp.Diff(Guard{Name: GuardProtect, OK: true, Message: "no protected subjects"}, protectGuard(changes, nil)); diff != "" {
			t.Errorf("no globs (-want +got):\n%s", diff)
		}
		got := protectGuard(changes, []string{"*@example.com", "team-de", "ci"})
		want := Guard{Name: GuardProtect, Message: `protected user "alice@example.com" would lose its role DEPLOYMENT_ADMIN on deployment "alpha"; ` +
			`protected team "data-engineering" would lose its role DEPLOYMENT_ADMIN on deployment "beta"; ` +
			`protected user "alice@example.com" would lose its role DEPLOYMENT_ADMIN on deployment "gamma"; ` +
			`protected user "alice@example.com" would change its role on deployment "beta" from DAG_DEPLOYER to DEPLOYMENT_ADMIN`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("remaining", func(t *testing.T) {
		obs := &Observed{Subjects: subjects(
			[]astroapi.Token{token("t-dep", "deploy-bot", "DEPLOYMENT", depRole("dep-a", "DEPLOYMENT_ADMIN"))},
			[]astroapi.User{withDeps(alice, deploymentRole("dep-a", "X"), deploymentRole("dep-b", "X"))},
			[]astroapi.Team{withTeamDeps(dataEng, deploymentRole("dep-b", "X"))},
		)}
		d := Desired{Scopes: []ManagedScope{{ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-a"}}, {ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-b"}}}}
		pl := newPlanner(d, false, obs)
		g := newGuardState(pl, &Observed{})
		for _, s := range obs.Subjects {
			var changes []Change
			if s.ID == aliceRef.ID {
				changes = []Change{rm("dep-a", "alpha", ReasonPrune, aliceRef)}
			}
			var roles held
			pl.held(&s, &roles, nil)
			g.count(s.SubjectRef, &s, &roles, changes)
		}
		g.count(ciRef, nil, new(held), []Change{{Action: Add, Scope: DeploymentScope(DeploymentRef{ID: "dep-b"}), Subject: ciRef}})
		// On alpha only the deployment token is left, and it does not count.
		if diff := cmp.Diff(map[Scope]int{depScope("dep-b"): 3}, g.remaining); diff != "" {
			t.Errorf("remaining (-want +got):\n%s", diff)
		}
	})
}

func withTeamDeps(t astroapi.Team, roles ...astroapi.DeploymentRole) astroapi.Team {
	t.DeploymentRoles = roles
	return t
}

func TestFingerprintStage(t *testing.T) {
	ci := token("t-ci", "ci", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-a", "X"))
	a := withDeps(alice, deploymentRole("dep-a", "X"))
	obs := &Observed{Subjects: subjects([]astroapi.Token{ci}, []astroapi.User{a}, nil)}
	if got := fingerprints(nil, obs.Subjects); got != nil {
		t.Errorf("fingerprints of no change = %v, want nil", got)
	}
	got := fingerprints([]Change{
		{Subject: ciRef}, {Subject: ciRef}, {Subject: aliceRef}, {Subject: teamRef}, // the team is not observed
	}, obs.Subjects)
	want := map[string]string{
		"t-ci":      Fingerprint(ci.Roles),
		"usr-alice": UserSubject(a).Fingerprint,
		"team-de":   Fingerprint(nil),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fingerprints (-want +got):\n%s", diff)
	}
}

// TestRoleSetFingerprint: the fingerprint of a user's or team's role set
// does not depend on order, sees every part (organization role, workspace
// roles, deployment roles, DAG roles), and leaves out the
// WORKSPACE_ACCESSOR roles Astro adds on its own.
func TestRoleSetFingerprint(t *testing.T) {
	base := roleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_MEMBER"), workspaceRole("ws-2", "WORKSPACE_OWNER")},
		DeploymentRoles:  []astroapi.DeploymentRole{deploymentRole("dep-a", "X"), deploymentRole("dep-b", "Y")},
		DagRoles:         []astroapi.DagRole{{DeploymentID: "dep-a", DagID: "d1", Role: "DAG_VIEWER"}, {DeploymentID: "dep-a", DagTag: "etl", Role: "DAG_AUTHOR"}},
	}
	fp := base.fingerprint()
	same := map[string]func(r *roleSet){
		"reordered": func(r *roleSet) {
			r.WorkspaceRoles = []astroapi.WorkspaceRole{r.WorkspaceRoles[1], r.WorkspaceRoles[0]}
			r.DeploymentRoles = []astroapi.DeploymentRole{r.DeploymentRoles[1], r.DeploymentRoles[0]}
			r.DagRoles = []astroapi.DagRole{r.DagRoles[1], r.DagRoles[0]}
		},
		"a WORKSPACE_ACCESSOR added": func(r *roleSet) {
			r.WorkspaceRoles = append(r.WorkspaceRoles, workspaceRole("ws-3", astroapi.RoleWorkspaceAccessor))
		},
	}
	differs := map[string]func(r *roleSet){
		"organization role":      func(r *roleSet) { r.OrganizationRole = "ORGANIZATION_OWNER" },
		"workspace role":         func(r *roleSet) { r.WorkspaceRoles[0].Role = "WORKSPACE_OWNER" },
		"workspace role dropped": func(r *roleSet) { r.WorkspaceRoles = r.WorkspaceRoles[:1] },
		"deployment role":        func(r *roleSet) { r.DeploymentRoles[1].Role = "X" },
		"deployment role added":  func(r *roleSet) { r.DeploymentRoles = append(r.DeploymentRoles, deploymentRole("dep-c", "X")) },
		"DAG role":               func(r *roleSet) { r.DagRoles[0].Role = "DAG_AUTHOR" },
		"DAG role by tag vs id":  func(r *roleSet) { r.DagRoles[1].DagID, r.DagRoles[1].DagTag = "etl", "" },
		"DAG roles dropped":      func(r *roleSet) { r.DagRoles = nil },
		"field boundaries":       func(r *roleSet) { r.DeploymentRoles[0] = deploymentRole("dep-a X", "") },
	}
	clone := func() roleSet {
		r := base
		r.WorkspaceRoles = append([]astroapi.WorkspaceRole(nil), base.WorkspaceRoles...)
		r.DeploymentRoles = append([]astroapi.DeploymentRole(nil), base.DeploymentRoles...)
		r.DagRoles = append([]astroapi.DagRole(nil), base.DagRoles...)
		return r
	}
	for name, f := range same {
		r := clone()
		f(&r)
		if r.fingerprint() != fp {
			t.Errorf("%s: fingerprint changed", name)
		}
	}
	for name, f := range differs {
		r := clone()
		f(&r)
		if r.fingerprint() == fp {
			t.Errorf("%s: fingerprint does not see the difference", name)
		}
	}
	if (roleSet{}).fingerprint() != (roleSet{WorkspaceRoles: []astroapi.WorkspaceRole{}, DagRoles: []astroapi.DagRole{}}).fingerprint() {
		t.Error("nil and empty lists differ")
	}
	if UserSubject(astroapi.User{ID: "u"}).Fingerprint == TeamSubject(astroapi.Team{ID: "u", OrganizationRole: "ORGANIZATION_MEMBER"}).Fingerprint {
		t.Error("the organization role is not in the fingerprint")
	}
}

func depScope(id string) Scope { return Scope{Level: LevelDeployment, ID: id} }
