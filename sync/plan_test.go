package sync

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

func present(t astroapi.Token, role string, line int) DesiredAssignment {
	return DesiredAssignment{Subject: ref(t), Role: role, Source: at(line)}
}

func absent(t astroapi.Token, line int) DesiredAssignment {
	return DesiredAssignment{Subject: ref(t), Absent: true, Source: at(line)}
}

var (
	depA = astroapi.Deployment{ID: "dep-a", Name: "alpha", WorkspaceID: "ws-1"}
	depB = astroapi.Deployment{ID: "dep-b", Name: "beta", WorkspaceID: "ws-1"}
	depX = astroapi.Deployment{ID: "dep-x", Name: "elsewhere", WorkspaceID: "ws-1"}
	// anchor keeps a workspace token on alpha, so that allow-empty stays
	// out of the way of the decision table.
	anchor = token("t-anchor", "anchor", "WORKSPACE", wsRole("ws-1", "WORKSPACE_OWNER"), depRole("dep-a", "DEPLOYMENT_ADMIN"))
)

func alpha(prune bool, as ...DesiredAssignment) ManagedScope {
	return ManagedScope{
		ScopeRef:    ScopeRef{Level: LevelDeployment, ID: depA.ID, Name: depA.Name},
		WorkspaceID: depA.WorkspaceID,
		Prune:       prune,
		Source:      at(10),
		Lists:       tokenKindsListed,
		Assignments: append([]DesiredAssignment{present(anchor, "DEPLOYMENT_ADMIN", 11)}, as...),
	}
}

func observed(tokens ...astroapi.Token) *Observed {
	return &Observed{
		Organization: org,
		Workspaces:   []astroapi.Workspace{{ID: "ws-1", Name: "one"}},
		Deployments:  []astroapi.Deployment{depA, depB, depX},
		Subjects:     convert(append([]astroapi.Token{anchor}, tokens...), TokenSubject),
	}
}

var (
	alphaRef = DeploymentRef{ID: "dep-a", Name: "alpha"}
	betaRef  = DeploymentRef{ID: "dep-b", Name: "beta"}
)

// TestComputeDecisionTable has one test per row of the table in doc.go.
func TestComputeDecisionTable(t *testing.T) {
	ws := func(roles ...astroapi.Role) astroapi.Token {
		return token("t-1", "bot", "WORKSPACE", append([]astroapi.Role{wsRole("ws-1", "WORKSPACE_MEMBER")}, roles...)...)
	}
	dt := token("t-1", "deploy-bot", "DEPLOYMENT", depRole("dep-a", "DEPLOYMENT_ADMIN"))
	bg := token("t-1", "break-glass-1", "ORGANIZATION", orgRole("ORGANIZATION_OWNER"), depRole("dep-a", "DEPLOYMENT_ADMIN"))
	bgRef := ref(bg)
	bot := SubjectRef{Kind: KindWorkspaceToken, ID: "t-1", Name: "bot"}
	tests := []struct {
		name          string
		tok           astroapi.Token
		entry         *DesiredAssignment
		prune         bool // on the deployment
		optPrune      bool // --prune
		ignore        []string
		wantChanges   []Change
		wantUnmanaged []Change
	}{
		{
			name: "deployment token observed: unmanaged", tok: dt, optPrune: true,
			wantUnmanaged: []Change{{Action: Unmanaged, Scope: DeploymentScope(alphaRef), Subject: ref(dt), Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: "deployment API token: not managed"}},
		},
		{
			name: "deployment token listed anyway: left alone", tok: dt, entry: ptr(absent(dt, 12)),
			wantUnmanaged: []Change{{Action: Unmanaged, Scope: DeploymentScope(alphaRef), Subject: ref(dt), Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: "deployment API token: not managed"}},
		},
		{
			name: "deployment token on another deployment: nothing",
			tok:  token("t-1", "deploy-bot", "DEPLOYMENT", depRole("dep-x", "DEPLOYMENT_ADMIN")), optPrune: true,
		},
		{
			name: "ignored token observed, prune on: unmanaged", tok: bg, prune: true, ignore: []string{"break-glass-*"},
			wantUnmanaged: []Change{{Action: Unmanaged, Scope: DeploymentScope(alphaRef), Subject: bgRef, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: `ignored (ignoreTokens "break-glass-*")`}},
		},
		{
			name: "ignored by id", tok: bg, optPrune: true, ignore: []string{"nomatch", "t-?"},
			wantUnmanaged: []Change{{Action: Unmanaged, Scope: DeploymentScope(alphaRef), Subject: bgRef, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: `ignored (ignoreTokens "t-?")`}},
		},
		{
			name: "ignored token listed anyway: left alone", tok: bg, entry: ptr(present(bg, "DAG_DEPLOYER", 12)), ignore: []string{"break-glass-*"},
			wantUnmanaged: []Change{{Action: Unmanaged, Scope: DeploymentScope(alphaRef), Subject: bgRef, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: `ignored (ignoreTokens "break-glass-*")`}},
		},
		{
			name: "ignored token not observed: nothing", tok: token("t-1", "break-glass-1", "ORGANIZATION", orgRole("ORGANIZATION_OWNER")),
			optPrune: true, ignore: []string{"break-glass-*"},
		},
		{
			name: "listed, none observed: add", tok: ws(), entry: ptr(present(ws(), "DEPLOYMENT_ADMIN", 12)),
			wantChanges: []Change{{Action: Add, Scope: DeploymentScope(alphaRef), Subject: bot, After: "DEPLOYMENT_ADMIN", Source: ptr(at(12))}},
		},
		{
			name: "listed, another role observed: update", tok: ws(depRole("dep-a", "DAG_DEPLOYER")), entry: ptr(present(ws(), "DEPLOYMENT_ADMIN", 12)),
			wantChanges: []Change{{Action: Update, Scope: DeploymentScope(alphaRef), Subject: bot, Before: "DAG_DEPLOYER", After: "DEPLOYMENT_ADMIN", Source: ptr(at(12))}},
		},
		{
			name: "listed, same role observed: nothing", tok: ws(depRole("dep-a", "DEPLOYMENT_ADMIN")), entry: ptr(present(ws(), "DEPLOYMENT_ADMIN", 12)), optPrune: true,
		},
		{
			// The API answers built-in names upper case: a role read in
			// another case is a custom role of that name, not the built-in.
			name: "built-in name read in another case is another role: update", tok: ws(depRole("dep-a", "deployment_admin")), entry: ptr(present(ws(), "DEPLOYMENT_ADMIN", 12)),
			wantChanges: []Change{{Action: Update, Scope: DeploymentScope(alphaRef), Subject: bot, Before: "deployment_admin", After: "DEPLOYMENT_ADMIN", Source: ptr(at(12))}},
		},
		{
			name: "custom roles that differ only in case are two roles: update", tok: ws(depRole("dep-a", "Reader")), entry: ptr(present(ws(), "READER", 12)),
			wantChanges: []Change{{Action: Update, Scope: DeploymentScope(alphaRef), Subject: bot, Before: "Reader", After: "READER", Source: ptr(at(12))}},
		},
		{
			name: "custom role held exactly: nothing", tok: ws(depRole("dep-a", "Reader")), entry: ptr(present(ws(), "Reader", 12)), optPrune: true,
		},
		{
			name: "state absent, observed: remove", tok: ws(depRole("dep-a", "DAG_DEPLOYER")), entry: ptr(absent(ws(), 12)),
			wantChanges: []Change{{Action: Remove, Scope: DeploymentScope(alphaRef), Subject: bot, Before: "DAG_DEPLOYER", Reason: "state: absent", Source: ptr(at(12))}},
		},
		{
			name: "state absent, none observed: nothing", tok: ws(), entry: ptr(absent(ws(), 12)),
		},
		{
			name: "not listed, prune on the deployment: remove", tok: ws(depRole("dep-a", "DAG_DEPLOYER")), prune: true,
			wantChanges: []Change{{Action: Remove, Scope: DeploymentScope(alphaRef), Subject: bot, Before: "DAG_DEPLOYER", Reason: "not in spec (prune)"}},
		},
		{
			name: "not listed, --prune: remove", tok: ws(depRole("dep-a", "DAG_DEPLOYER")), optPrune: true,
			wantChanges: []Change{{Action: Remove, Scope: DeploymentScope(alphaRef), Subject: bot, Before: "DAG_DEPLOYER", Reason: "not in spec (prune)"}},
		},
		{
			name: "not listed, prune on, DEPLOYMENT_ACCESSOR of DAG roles there: unmanaged", optPrune: true,
			tok:           ws(depRole("dep-a", "DEPLOYMENT_ACCESSOR"), dagRole("dep-a", "dag-1", "DAG_AUTHOR")),
			wantUnmanaged: []Change{{Action: Unmanaged, Scope: DeploymentScope(alphaRef), Subject: bot, Before: "DEPLOYMENT_ACCESSOR", After: "DEPLOYMENT_ACCESSOR", Reason: ReasonImpliedAccessor}},
		},
		{
			name: "not listed, prune on, DEPLOYMENT_ACCESSOR without DAG roles there: remove", optPrune: true,
			tok:         ws(depRole("dep-a", "DEPLOYMENT_ACCESSOR"), dagRole("dep-b", "dag-1", "DAG_AUTHOR")),
			wantChanges: []Change{{Action: Remove, Scope: DeploymentScope(alphaRef), Subject: bot, Before: "DEPLOYMENT_ACCESSOR", Reason: "not in spec (prune)"}},
		},
		{
			name: "not listed, prune off: unmanaged", tok: ws(depRole("dep-a", "DAG_DEPLOYER")),
			wantUnmanaged: []Change{{Action: Unmanaged, Scope: DeploymentScope(alphaRef), Subject: bot, Before: "DAG_DEPLOYER", After: "DAG_DEPLOYER", Reason: "not in spec; prune is off"}},
		},
		{
			name: "DAG and DAG_TAG entries are not assignments", optPrune: true,
			tok: ws(dagRole("dep-a", "dag-1", "DAG_AUTHOR"), astroapi.Role{EntityType: "DAG_TAG", EntityID: "tag-1", Role: "DAG_VIEWER", DeploymentID: "dep-a"}),
		},
		{
			name: "roles on unmanaged deployments are not looked at", optPrune: true,
			tok: ws(depRole("dep-x", "DEPLOYMENT_ADMIN"), depRole("dep-b", "DEPLOYMENT_ADMIN")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := alpha(tt.prune)
			if tt.entry != nil {
				md.Assignments = append(md.Assignments, *tt.entry)
			}
			d := Desired{Scopes: []ManagedScope{md}, Ignore: ignoreTokens(tt.ignore...)}
			p := Compute(d, observed(tt.tok), Options{Prune: tt.optPrune, MaxRemovals: -1})
			if diff := cmp.Diff(tt.wantChanges, p.Changes); diff != "" {
				t.Errorf("Changes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantUnmanaged, p.Unmanaged); diff != "" {
				t.Errorf("Unmanaged (-want +got):\n%s", diff)
			}
			if p.Refused() {
				t.Errorf("plan refused: %+v", p.Guards)
			}
		})
	}
}

// exampleTokens are the tokens of example() besides the anchor:
// ci-deployer, observer, old-bot, stray, deploy-bot, break-glass-1.
func exampleTokens() []astroapi.Token {
	return []astroapi.Token{
		token("t-ci", "ci-deployer", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-a", "DAG_DEPLOYER"), dagRole("dep-a", "dag-1", "DAG_AUTHOR"), depRole("dep-x", "DEPLOYMENT_ADMIN")),
		token("t-obs", "observer", "ORGANIZATION", orgRole("ORGANIZATION_MEMBER"), depRole("dep-b", "DEPLOYMENT_ADMIN")),
		token("t-old", "old-bot", "WORKSPACE", depRole("dep-a", "DEPLOYMENT_ADMIN"), wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-b", "DEPLOYMENT_ADMIN")),
		token("t-stray", "stray", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-b", "DAG_DEPLOYER")),
		token("t-dep", "deploy-bot", "DEPLOYMENT", depRole("dep-b", "DEPLOYMENT_ADMIN")),
		token("t-bg", "break-glass-1", "ORGANIZATION", orgRole("ORGANIZATION_OWNER"), depRole("dep-b", "DEPLOYMENT_ADMIN")),
	}
}

// exampleDesired is the spec of example().
func exampleDesired() Desired {
	toks := exampleTokens()
	ci, obsv, old := toks[0], toks[1], toks[2]
	return Desired{
		Ignore: ignoreTokens("break-glass-*"),
		Scopes: []ManagedScope{
			{
				ScopeRef:    ScopeRef{Level: LevelDeployment, ID: "dep-b", Name: "beta"},
				WorkspaceID: "ws-1",
				Prune:       true,
				Source:      at(20),
				Lists:       tokenKindsListed,
				Assignments: []DesiredAssignment{present(ci, "DEPLOYMENT_ADMIN", 21)},
			},
			alpha(false,
				present(ci, "DEPLOYMENT_ADMIN", 13),
				present(obsv, "DAG_DEPLOYER", 14),
				absent(old, 15),
			),
		},
	}
}

// example is an organization with two managed deployments and every kind
// of token.
func example() (Desired, *Observed) {
	return exampleDesired(), observed(exampleTokens()...)
}

// ignoreTokens are globs as Resolve files ignoreTokens: for every kind of
// token.
func ignoreTokens(globs ...string) map[Kind][]string {
	if globs == nil {
		return nil
	}
	return map[Kind][]string{KindWorkspaceToken: globs, KindOrganizationToken: globs, KindDeploymentToken: globs}
}

func TestComputeExample(t *testing.T) {
	d, obs := example()
	toks := exampleTokens()
	ci, obsv, old, stray := ref(toks[0]), ref(toks[1]), ref(toks[2]), ref(toks[3])
	want := Plan{
		Organization: org,
		Changes: []Change{
			{Action: Update, Scope: DeploymentScope(alphaRef), Subject: ci, Before: "DAG_DEPLOYER", After: "DEPLOYMENT_ADMIN", Source: ptr(at(13))},
			{Action: Add, Scope: DeploymentScope(alphaRef), Subject: obsv, After: "DAG_DEPLOYER", Source: ptr(at(14))},
			{Action: Remove, Scope: DeploymentScope(alphaRef), Subject: old, Before: "DEPLOYMENT_ADMIN", Reason: "state: absent", Source: ptr(at(15))},
			{Action: Add, Scope: DeploymentScope(betaRef), Subject: ci, After: "DEPLOYMENT_ADMIN", Source: ptr(at(21))},
			{Action: Remove, Scope: DeploymentScope(betaRef), Subject: obsv, Before: "DEPLOYMENT_ADMIN", Reason: "not in spec (prune)"},
			{Action: Remove, Scope: DeploymentScope(betaRef), Subject: old, Before: "DEPLOYMENT_ADMIN", Reason: "not in spec (prune)"},
			{Action: Remove, Scope: DeploymentScope(betaRef), Subject: stray, Before: "DAG_DEPLOYER", Reason: "not in spec (prune)"},
		},
		Unmanaged: []Change{
			{Action: Unmanaged, Scope: DeploymentScope(betaRef), Subject: SubjectRef{Kind: KindOrganizationToken, ID: "t-bg", Name: "break-glass-1"}, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: `ignored (ignoreTokens "break-glass-*")`},
			{Action: Unmanaged, Scope: DeploymentScope(betaRef), Subject: SubjectRef{Kind: KindDeploymentToken, ID: "t-dep", Name: "deploy-bot"}, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: "deployment API token: not managed"},
		},
		Guards: []Guard{
			{Name: "max-removals", OK: true, Message: "4 removals (limit 20)"},
			{Name: "allow-empty", OK: true, Message: "prune empties no deployment"},
			{Name: "protect", OK: true, Message: "no protected subject loses or changes a role"},
			{Name: "lockout", OK: true, Message: "no managed organization or workspace loses its last owner"},
		},
		Fingerprints: map[string]string{
			"t-ci":    Fingerprint(toks[0].Roles),
			"t-obs":   Fingerprint(toks[1].Roles),
			"t-old":   Fingerprint(toks[2].Roles),
			"t-stray": Fingerprint(toks[3].Roles),
		},
		// The spec, deployments by name, assignments by token id.
		Target: &Target{Desired: Desired{
			Ignore: ignoreTokens("break-glass-*"),
			Scopes: []ManagedScope{
				alpha(false,
					present(toks[0], "DEPLOYMENT_ADMIN", 13),
					present(toks[1], "DAG_DEPLOYER", 14),
					absent(toks[2], 15),
				),
				{
					ScopeRef:    ScopeRef{Level: LevelDeployment, ID: "dep-b", Name: "beta"},
					WorkspaceID: "ws-1",
					Prune:       true,
					Source:      at(20),
					Lists:       tokenKindsListed,
					Assignments: []DesiredAssignment{present(toks[0], "DEPLOYMENT_ADMIN", 21)},
				},
			},
		}},
	}
	got := Compute(d, obs, Options{MaxRemovals: 20, Protect: []string{"anchor"}})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compute (-want +got):\n%s", diff)
	}
	add, change, remove := got.Summary()
	if add != 2 || change != 1 || remove != 4 {
		t.Errorf("Summary() = %d, %d, %d, want 2, 1, 4", add, change, remove)
	}
}

func TestComputeDeterministic(t *testing.T) {
	d, obs := example()
	wantD, wantObs := example()
	want := Compute(d, obs, Options{Prune: true, MaxRemovals: -1})
	if diff := cmp.Diff(wantD, d); diff != "" {
		t.Errorf("Compute modified Desired (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantObs, obs, cmp.AllowUnexported(Subject{})); diff != "" {
		t.Errorf("Compute modified Observed (-want +got):\n%s", diff)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	shuffle := func(n int, swap func(i, j int)) { rng.Shuffle(n, swap) }
	for i := range 50 {
		d := exampleDesired()
		toks := exampleTokens()
		for _, t := range toks {
			shuffle(len(t.Roles), func(i, j int) { t.Roles[i], t.Roles[j] = t.Roles[j], t.Roles[i] })
		}
		obs := observed(toks...)
		shuffle(len(d.Scopes), func(i, j int) { d.Scopes[i], d.Scopes[j] = d.Scopes[j], d.Scopes[i] })
		for _, md := range d.Scopes {
			shuffle(len(md.Assignments), func(i, j int) { md.Assignments[i], md.Assignments[j] = md.Assignments[j], md.Assignments[i] })
		}
		shuffle(len(obs.Subjects), func(i, j int) { obs.Subjects[i], obs.Subjects[j] = obs.Subjects[j], obs.Subjects[i] })
		shuffle(len(obs.Deployments), func(i, j int) { obs.Deployments[i], obs.Deployments[j] = obs.Deployments[j], obs.Deployments[i] })
		got := Compute(d, obs, Options{Prune: true, MaxRemovals: -1})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("shuffle %d: Compute differs (-want +got):\n%s", i, diff)
		}
	}
}

func TestGuards(t *testing.T) {
	a1 := token("t-a1", "alice", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-b", "DEPLOYMENT_ADMIN"))
	a2 := token("t-a2", "admin-bot", "ORGANIZATION", orgRole("ORGANIZATION_OWNER"), depRole("dep-b", "DAG_DEPLOYER"))
	dt := token("t-dep", "deploy-bot", "DEPLOYMENT", depRole("dep-b", "DEPLOYMENT_ADMIN"))
	bg := token("t-bg", "break-glass-1", "ORGANIZATION", orgRole("ORGANIZATION_OWNER"), depRole("dep-b", "DEPLOYMENT_ADMIN"))
	nb := token("t-new", "newbie", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"))
	beta := func(prune, allowEmpty bool, as ...DesiredAssignment) ManagedScope {
		return ManagedScope{ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-b", Name: "beta"}, WorkspaceID: "ws-1", Prune: prune, AllowEmpty: allowEmpty, Source: at(20), Lists: tokenKindsListed, Assignments: as}
	}
	tests := []struct {
		name   string
		d      Desired
		tokens []astroapi.Token
		opts   Options
		want   []Guard
	}{
		{
			name: "all pass", d: Desired{Scopes: []ManagedScope{beta(true, false, present(a1, "DEPLOYMENT_ADMIN", 21))}},
			tokens: []astroapi.Token{a1, a2, dt}, opts: Options{MaxRemovals: 1},
			want: []Guard{
				{Name: "max-removals", OK: true, Message: "1 removal (limit 1)"},
				{Name: "allow-empty", OK: true, Message: "prune empties no deployment"},
				{Name: "protect", OK: true, Message: "no protected subjects"},
			},
		},
		{
			name: "too many removals; no limit", d: Desired{Scopes: []ManagedScope{beta(false, false, absent(a1, 21), absent(a2, 22))}},
			tokens: []astroapi.Token{a1, a2}, opts: Options{MaxRemovals: 1},
			want: []Guard{
				{Name: "max-removals", Message: "2 removals exceed the limit of 1 (raise --max-removals, or -1 for no limit)"},
				{Name: "allow-empty", OK: true, Message: "prune empties no deployment"},
				{Name: "protect", OK: true, Message: "no protected subjects"},
			},
		},
		{
			name: "no limit", d: Desired{Scopes: []ManagedScope{beta(false, false, absent(a1, 21), absent(a2, 22))}},
			tokens: []astroapi.Token{a1, a2}, opts: Options{MaxRemovals: -1},
			want: []Guard{
				{Name: "max-removals", OK: true, Message: "2 removals (no limit)"},
				{Name: "allow-empty", OK: true, Message: "prune empties no deployment"},
				{Name: "protect", OK: true, Message: "no protected subjects"},
			},
		},
		{
			name: "prune empties a deployment; a deployment token does not count", d: Desired{Scopes: []ManagedScope{beta(false, false)}},
			tokens: []astroapi.Token{a1, a2, dt}, opts: Options{Prune: true, MaxRemovals: -1},
			want: []Guard{
				{Name: "max-removals", OK: true, Message: "2 removals (no limit)"},
				{Name: "allow-empty", Message: `prune would leave deployment "beta" without any token, user or team (set allowEmpty: true on the deployment to allow it)`},
				{Name: "protect", OK: true, Message: "no protected subjects"},
			},
		},
		{
			name: "prune empties a deployment that allows it", d: Desired{Scopes: []ManagedScope{beta(true, true)}},
			tokens: []astroapi.Token{a1, a2}, opts: Options{MaxRemovals: -1},
			want: []Guard{
				{Name: "max-removals", OK: true, Message: "2 removals (no limit)"},
				{Name: "allow-empty", OK: true, Message: "prune empties no deployment"},
				{Name: "protect", OK: true, Message: "no protected subjects"},
			},
		},
		{
			// A break-glass token on every deployment must not keep the
			// guard from catching a truncated file.
			name: "an ignored token that remains leaves the deployment empty", d: Desired{Scopes: []ManagedScope{beta(true, false)}, Ignore: ignoreTokens("break-glass-*")},
			tokens: []astroapi.Token{a1, bg}, opts: Options{MaxRemovals: -1},
			want: []Guard{
				{Name: "max-removals", OK: true, Message: "1 removal (no limit)"},
				{Name: "allow-empty", Message: `prune would leave deployment "beta" without any token, user or team (set allowEmpty: true on the deployment to allow it)`},
				{Name: "protect", OK: true, Message: "no protected subjects"},
			},
		},
		{
			name:   "a listed ignored token that holds no role does not count",
			d:      Desired{Scopes: []ManagedScope{beta(true, false, present(nb, "DEPLOYMENT_ADMIN", 21))}, Ignore: ignoreTokens("newbie")},
			tokens: []astroapi.Token{a1, nb}, opts: Options{MaxRemovals: -1},
			want: []Guard{
				{Name: "max-removals", OK: true, Message: "1 removal (no limit)"},
				{Name: "allow-empty", Message: `prune would leave deployment "beta" without any token, user or team (set allowEmpty: true on the deployment to allow it)`},
				{Name: "protect", OK: true, Message: "no protected subjects"},
			},
		},
		{
			name: "an added token remains", d: Desired{Scopes: []ManagedScope{beta(true, false, present(nb, "DEPLOYMENT_ADMIN", 21))}},
			tokens: []astroapi.Token{a1, nb}, opts: Options{MaxRemovals: -1},
			want: []Guard{
				{Name: "max-removals", OK: true, Message: "1 removal (no limit)"},
				{Name: "allow-empty", OK: true, Message: "prune empties no deployment"},
				{Name: "protect", OK: true, Message: "no protected subjects"},
			},
		},
		{
			name: "state absent may empty a deployment", d: Desired{Scopes: []ManagedScope{beta(false, false, absent(a1, 21))}},
			tokens: []astroapi.Token{a1}, opts: Options{MaxRemovals: -1},
			want: []Guard{
				{Name: "max-removals", OK: true, Message: "1 removal (no limit)"},
				{Name: "allow-empty", OK: true, Message: "prune empties no deployment"},
				{Name: "protect", OK: true, Message: "no protected subjects"},
			},
		},
		{
			name: "protected tokens lose and change roles; adds are fine",
			d: Desired{Scopes: []ManagedScope{beta(false, false,
				absent(a1, 21), present(a2, "DEPLOYMENT_ADMIN", 22), present(nb, "DEPLOYMENT_ADMIN", 23))}},
			tokens: []astroapi.Token{a1, a2, nb}, opts: Options{MaxRemovals: -1, Protect: []string{"admin-*", "t-a1", "newbie"}},
			want: []Guard{
				{Name: "max-removals", OK: true, Message: "1 removal (no limit)"},
				{Name: "allow-empty", OK: true, Message: "prune empties no deployment"},
				{Name: "protect", Message: `protected token "admin-bot" would change its role on deployment "beta" from DAG_DEPLOYER to DEPLOYMENT_ADMIN; protected token "alice" would lose its role DEPLOYMENT_ADMIN on deployment "beta"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := observed(tt.tokens...)
			p := Compute(tt.d, obs, tt.opts)
			// No organization or workspace is managed: no lockout.
			tt.want = append(tt.want, Guard{Name: GuardLockout, OK: true, Message: "no managed organization or workspace loses its last owner"})
			if diff := cmp.Diff(tt.want, p.Guards); diff != "" {
				t.Errorf("Guards (-want +got):\n%s", diff)
			}
			refused := slices.ContainsFunc(tt.want, func(g Guard) bool { return !g.OK })
			if p.Refused() != refused {
				t.Errorf("Refused() = %v, want %v", p.Refused(), refused)
			}
		})
	}
}

// TestCheckSavedSaysEachRefusalOnce: apply's own limits on a saved plan
// refuse it where the plan's own guards let it pass, and a refusal the
// plan's guards already hold is not said twice.
func TestCheckSavedSaysEachRefusalOnce(t *testing.T) {
	a1 := token("t-a1", "alice", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-b", "DEPLOYMENT_ADMIN"))
	a2 := token("t-a2", "bob", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-b", "DEPLOYMENT_ADMIN"))
	d := Desired{Scopes: []ManagedScope{{ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-b", Name: "beta"}, WorkspaceID: "ws-1", Lists: tokenKindsListed,
		Assignments: []DesiredAssignment{absent(a1, 21), absent(a2, 22)}}}}
	refusal := Guard{Name: GuardMaxRemovals, Message: "2 removals exceed the limit of 1 (raise --max-removals, or -1 for no limit)"}
	protectAlice := Guard{Name: GuardProtect, Message: `protected token "alice" would lose its role DEPLOYMENT_ADMIN on deployment "beta"`}
	for _, tt := range []struct {
		name    string
		planned Options // what the plan was made with
		now     Options // what apply gives
		want    []Guard
	}{
		{"the plan passed, apply's limit refuses", Options{MaxRemovals: 5}, Options{MaxRemovals: 1}, []Guard{refusal}},
		{"both limits refuse alike", Options{MaxRemovals: 1}, Options{MaxRemovals: 1}, nil},
		{"apply protects what the plan did not", Options{MaxRemovals: -1}, Options{MaxRemovals: -1, Protect: []string{"alice"}}, []Guard{protectAlice}},
		{"both protect alike", Options{MaxRemovals: -1, Protect: []string{"alice"}}, Options{MaxRemovals: -1, Protect: []string{"alice"}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := Compute(d, observed(a1, a2), tt.planned)
			if diff := cmp.Diff(tt.want, CheckSaved(p, tt.now)); diff != "" {
				t.Errorf("CheckSaved (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	a := []astroapi.Role{wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-a", "DEPLOYMENT_ADMIN"), dagRole("dep-a", "d", "DAG_AUTHOR")}
	b := []astroapi.Role{a[2], a[0], a[1]}
	if Fingerprint(a) != Fingerprint(b) {
		t.Error("Fingerprint depends on order")
	}
	if Fingerprint(nil) != Fingerprint([]astroapi.Role{}) {
		t.Error("Fingerprint(nil) != Fingerprint(empty)")
	}
	for i, c := range [][]astroapi.Role{
		a[:2],
		{a[0], a[1], dagRole("dep-b", "d", "DAG_AUTHOR")},
		{a[0], depRole("dep-a", "deployment_admin"), a[2]},
		{a[0], a[1], a[2], a[2]},
	} {
		if Fingerprint(c) == Fingerprint(a) {
			t.Errorf("case %d: Fingerprint does not see the difference", i)
		}
	}
	if got := len(Fingerprint(a)); got != 64 {
		t.Errorf("len(Fingerprint) = %d, want 64 (sha256 hex)", got)
	}
}

// TestComputeSourcePointers checks that a plan does not alias its input.
func TestComputeSourcePointers(t *testing.T) {
	d, obs := example()
	p := Compute(d, obs, Options{MaxRemovals: -1})
	for _, c := range p.Changes {
		if c.Source != nil {
			*c.Source = spec.Pos{}
		}
	}
	wantD, _ := example()
	if diff := cmp.Diff(wantD, d); diff != "" {
		t.Errorf("Desired changed through Change.Source (-want +got):\n%s", diff)
	}
}
