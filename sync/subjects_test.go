package sync

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// ownership is an organization where every kind of subject holds a role
// on deployment alpha (dep-a), none of them in the spec's entries but
// ci-deployer.
func ownership() (*Observed, *fakeStore) {
	ci := token("t-ci", "ci-deployer", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-a", "DEPLOYMENT_ADMIN"))
	stray := token("t-stray", "stray", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-a", "DAG_DEPLOYER"))
	obsv := token("t-obs", "observer", "ORGANIZATION", orgRole("ORGANIZATION_MEMBER"), depRole("dep-a", "DEPLOYMENT_ADMIN"))
	al := withDeps(alice, deploymentRole("dep-a", "DEPLOYMENT_ADMIN"))
	al.WorkspaceRoles = []astroapi.WorkspaceRole{workspaceRole("ws-1", "WORKSPACE_MEMBER")}
	de := withTeamDeps(dataEng, deploymentRole("dep-a", "DAG_DEPLOYER"))
	de.DagRoles = []astroapi.DagRole{{DeploymentID: "dep-a", DagID: "etl", Role: "DAG_AUTHOR"}}
	obs := &Observed{
		Organization: org,
		Workspaces:   []astroapi.Workspace{{ID: "ws-1", Name: "one"}},
		Deployments:  []astroapi.Deployment{depA},
		CustomRoles:  []astroapi.CustomRole{{ID: "r1", Name: "DAG_DEPLOYER", ScopeType: "DEPLOYMENT"}},
		Subjects:     subjects([]astroapi.Token{ci, stray, obsv}, []astroapi.User{al}, []astroapi.Team{de}),
	}
	return obs, newFakeStore(ci, stray, obsv).withUsers(al).withTeams(de)
}

// TestPruneOwnsOnlyListedKinds: prune (on the deployment or --prune)
// removes unlisted assignments only of the kinds whose key the
// deployment's entry contains, an empty list included. A tokens-only file
// with prune: true never removes a user or team, so upgrading tokensync
// to a version that manages users and teams does not widen what an
// existing file prunes; apply does not even read them.
func TestPruneOwnsOnlyListedKinds(t *testing.T) {
	const tokensOnly = `version: 1
deployments:
  - id: dep-a
    prune: true
    allowEmpty: true
    workspaceTokens:
      - name: ci-deployer
        role: DEPLOYMENT_ADMIN
    organizationTokens: []
`
	tests := []struct {
		name     string
		yaml     string
		prune    bool // --prune
		removed  []string
		notOwned []string // left alone: the deployment does not list their kind
	}{
		{
			name: "a tokens-only file", yaml: tokensOnly,
			removed: []string{"t-obs", "t-stray"}, notOwned: []string{"team-de", "usr-alice"},
		},
		{
			name: "a tokens-only file with --prune and no prune key", prune: true,
			yaml:    "version: 1\ndeployments:\n  - id: dep-a\n    allowEmpty: true\n    workspaceTokens:\n      - name: ci-deployer\n        role: DEPLOYMENT_ADMIN\n    organizationTokens: []\n",
			removed: []string{"t-obs", "t-stray"}, notOwned: []string{"team-de", "usr-alice"},
		},
		{
			name:    "workspace tokens only: organization tokens are not owned either",
			yaml:    "version: 1\ndeployments:\n  - id: dep-a\n    prune: true\n    workspaceTokens:\n      - name: ci-deployer\n        role: DEPLOYMENT_ADMIN\n",
			removed: []string{"t-stray"}, notOwned: []string{"t-obs", "team-de", "usr-alice"},
		},
		{
			name:    "an empty users list counts",
			yaml:    "version: 1\ndeployments:\n  - id: dep-a\n    prune: true\n    workspaceTokens:\n      - name: ci-deployer\n        role: DEPLOYMENT_ADMIN\n    users: []\n",
			removed: []string{"t-stray", "usr-alice"}, notOwned: []string{"t-obs", "team-de"},
		},
		{
			name:    "teams listed",
			yaml:    "version: 1\ndeployments:\n  - id: dep-a\n    prune: true\n    teams:\n      - name: data-engineering\n        state: absent\n    workspaceTokens:\n      - name: ci-deployer\n        role: DEPLOYMENT_ADMIN\n",
			removed: []string{"t-stray", "team-de"}, notOwned: []string{"t-obs", "usr-alice"},
		},
		{
			name:     "no kind listed: prune removes nothing",
			yaml:     "version: 1\ndeployments:\n  - id: dep-a\n    prune: true\n    allowEmpty: true\n",
			notOwned: []string{"t-ci", "t-obs", "t-stray", "team-de", "usr-alice"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := spec.Parse("tokens.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			obs, s := ownership()
			d, err := Resolve(sp, obs)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			p := Compute(d, obs, Options{Prune: tt.prune, MaxRemovals: -1})
			var removed, notOwned []string
			for _, c := range p.Changes {
				// A removal of a role Astro keeps an accessor for (the
				// team's DAG role) is an update to the accessor.
				if c.Action == Remove || c.Reason == ReasonKeepsAccessor {
					removed = append(removed, c.Subject.ID)
				}
			}
			for _, c := range p.Unmanaged {
				if c.Reason == ReasonNotListedKind {
					notOwned = append(notOwned, c.Subject.ID)
				}
			}
			slices.Sort(removed)
			slices.Sort(notOwned)
			if diff := cmp.Diff(tt.removed, removed); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.notOwned, notOwned); diff != "" {
				t.Errorf("left alone as not owned (-want +got):\n%s", diff)
			}

			before := s.snapshot()
			res := Apply(context.Background(), s.adapters(), p, ApplyOptions{})
			if !res.Complete() {
				t.Fatalf("Apply: %+v", res)
			}
			after := s.snapshot()
			gets, _ := s.calls()
			for i, b := range before {
				if !slices.Contains(tt.notOwned, b.ID) {
					continue
				}
				if diff := cmp.Diff(b, after[i], cmp.AllowUnexported(Subject{})); diff != "" {
					t.Errorf("%s changed (-before +after):\n%s", b.ID, diff)
				}
				if gets[b.ID] != 0 {
					t.Errorf("%s was read %d times, want never", b.ID, gets[b.ID])
				}
			}
		})
	}
}

func userEntry(line int, username, role string) spec.UserEntry {
	return spec.UserEntry{Pos: at(line), Username: username, Role: role, State: spec.Present}
}

func teamEntry(line int, name, role string) spec.TeamEntry {
	return spec.TeamEntry{Pos: at(line), Name: name, Role: role, State: spec.Present}
}

// TestResolveUsersAndTeams: users resolve by username (case-insensitively)
// or id, teams by name or id; the errors name the entry and say why.
func TestResolveUsersAndTeams(t *testing.T) {
	prodWith := func(users []spec.UserEntry, teams []spec.TeamEntry) spec.Spec {
		return spec.Spec{Deployments: []spec.Deployment{{Pos: at(10), ID: "dep-prod", Users: users, Teams: teams}}}
	}
	tests := []struct {
		name      string
		spec      spec.Spec
		want      []SubjectRef // the assignments of dep-prod
		wantErrs  []string
		wantNotes []string
	}{
		{
			name: "username matched case-insensitively, by id, team by name and id",
			spec: prodWith(
				[]spec.UserEntry{userEntry(11, "ALICE@example.COM", "DEPLOYMENT_ADMIN"), {Pos: at(12), ID: "usr-bob", Role: "DAG_DEPLOYER", State: spec.Present}},
				[]spec.TeamEntry{teamEntry(13, "data-engineering", "DEPLOYMENT_ADMIN"), {Pos: at(14), ID: "team-ops1", Role: "DEPLOYMENT_ADMIN", State: spec.Present}},
			),
			want: []SubjectRef{
				{Kind: KindUser, ID: "usr-alice", Name: "Alice@Example.com"},
				{Kind: KindUser, ID: "usr-bob", Name: "bob@example.com"},
				{Kind: KindTeam, ID: "team-de", Name: "data-engineering"},
				{Kind: KindTeam, ID: "team-ops1", Name: "ops"},
			},
		},
		{
			name: "a PENDING user may be given a role; INACTIVE and BANNED users may be absent",
			spec: prodWith([]spec.UserEntry{
				userEntry(11, "pen@example.com", "DEPLOYMENT_ADMIN"),
				{Pos: at(12), Username: "ina@example.com", State: spec.Absent},
				{Pos: at(13), ID: "usr-ban", State: spec.Absent},
			}, nil),
			want: []SubjectRef{
				{Kind: KindUser, ID: "usr-pen", Name: "pen@example.com"},
				{Kind: KindUser, ID: "usr-ina", Name: "ina@example.com"},
				{Kind: KindUser, ID: "usr-ban", Name: "ban@example.com"},
			},
		},
		{
			name: "unknown username and team name, with did you mean",
			spec: prodWith(
				[]spec.UserEntry{userEntry(11, "alice@exmaple.com", "DEPLOYMENT_ADMIN"), userEntry(12, "nobody@example.org", "DEPLOYMENT_ADMIN")},
				[]spec.TeamEntry{teamEntry(13, "data-enginering", "DEPLOYMENT_ADMIN"), teamEntry(14, "finance", "DEPLOYMENT_ADMIN")},
			),
			wantErrs: []string{
				`tokens.yaml:11:7: user "alice@exmaple.com" not found among the users (did you mean "Alice@Example.com"?)`,
				`tokens.yaml:12:7: user "nobody@example.org" not found among the users`,
				`tokens.yaml:13:7: team "data-enginering" not found among the teams (did you mean "data-engineering"?)`,
				`tokens.yaml:14:7: team "finance" not found among the teams`,
			},
		},
		{
			name: "unknown ids",
			spec: prodWith(
				[]spec.UserEntry{{Pos: at(11), ID: "usr-nope", Role: "DEPLOYMENT_ADMIN", State: spec.Present}, {Pos: at(12), ID: "team-de", Role: "DEPLOYMENT_ADMIN", State: spec.Present}},
				[]spec.TeamEntry{{Pos: at(13), ID: "usr-alice", Role: "DEPLOYMENT_ADMIN", State: spec.Present}},
			),
			wantErrs: []string{
				`tokens.yaml:11:7: user "usr-nope" not found`,
				`tokens.yaml:12:7: user "team-de" not found`,
				`tokens.yaml:13:7: team "usr-alice" not found`,
			},
		},
		{
			name:     "ambiguous team name lists the ids",
			spec:     prodWith(nil, []spec.TeamEntry{teamEntry(11, "ops", "DEPLOYMENT_ADMIN")}),
			wantErrs: []string{`tokens.yaml:11:7: team name "ops" is ambiguous: team-ops1, team-ops2 (use id)`},
		},
		{
			name: "a user without an organization role may be absent, not given a role",
			spec: prodWith([]spec.UserEntry{
				userEntry(11, "norole@example.com", "DEPLOYMENT_ADMIN"),
				{Pos: at(12), ID: "usr-norole", State: spec.Absent},
			}, nil),
			wantErrs: []string{
				`tokens.yaml:11:7: user "norole@example.com" has no organization role: Astro gives a deployment role only to a member of the organization`,
			},
		},
		{
			name: "INACTIVE and BANNED users, by username and by id",
			spec: prodWith([]spec.UserEntry{
				userEntry(11, "ina@example.com", "DEPLOYMENT_ADMIN"),
				{Pos: at(12), ID: "usr-ban", Role: "DEPLOYMENT_ADMIN", State: spec.Present},
			}, nil),
			wantErrs: []string{
				`tokens.yaml:11:7: user "ina@example.com" is INACTIVE: an inactive user cannot be given a role`,
				`tokens.yaml:12:7: user "usr-ban" is BANNED: a banned user cannot be given a role`,
			},
		},
		{
			name: "roles that are not deployment roles",
			spec: prodWith(
				[]spec.UserEntry{userEntry(11, "bob@example.com", "WORKSPACE_OWNER"), userEntry(12, "alice@example.com", "WS_VIEWER")},
				[]spec.TeamEntry{teamEntry(13, "data-engineering", "ORGANIZATION_OWNER"), teamEntry(14, "data-engineering", "DEPLOYMENT_ADMN")},
			),
			wantErrs: []string{
				`tokens.yaml:11:7: user "bob@example.com": role "WORKSPACE_OWNER" is a workspace role, not a deployment role`,
				`tokens.yaml:12:7: user "alice@example.com": role "WS_VIEWER" is a workspace role, not a deployment role`,
				`tokens.yaml:13:7: team "data-engineering": role "ORGANIZATION_OWNER" is an organization role, not a deployment role`,
				`tokens.yaml:14:7: team "data-engineering": unknown role "DEPLOYMENT_ADMN" (did you mean "DEPLOYMENT_ADMIN"?)`,
			},
		},
		{
			name: "custom role restricted to another workspace",
			spec: prodWith([]spec.UserEntry{userEntry(11, "bob@example.com", "ML_Operator")}, []spec.TeamEntry{teamEntry(12, "data-engineering", "ML_Operator")}),
			wantErrs: []string{
				`tokens.yaml:11:7: user "bob@example.com": role "ML_Operator" is not allowed in workspace "data-platform" of deployment "analytics-prod"`,
				`tokens.yaml:12:7: team "data-engineering": role "ML_Operator" is not allowed in workspace "data-platform" of deployment "analytics-prod"`,
			},
		},
		{
			name: "the same user by username in two cases and by id",
			spec: prodWith([]spec.UserEntry{userEntry(11, "alice@example.com", "DEPLOYMENT_ADMIN"), {Pos: at(12), ID: "usr-alice", State: spec.Absent}}, nil),
			wantErrs: []string{
				`tokens.yaml:12:7: user "Alice@Example.com" (usr-alice) is listed twice for deployment "analytics-prod" (also at tokens.yaml:11:7)`,
			},
		},
		{
			name: "ignored user and team listed",
			spec: spec.Spec{
				IgnoreUsers: []spec.Pattern{{Glob: "*@Example.com", Pos: at(2)}},
				IgnoreTeams: []spec.Pattern{{Glob: "team-d?", Pos: at(3)}},
				Deployments: []spec.Deployment{{Pos: at(10), ID: "dep-prod",
					Users: []spec.UserEntry{userEntry(11, "alice@example.com", "DEPLOYMENT_ADMIN")},
					Teams: []spec.TeamEntry{teamEntry(12, "data-engineering", "DEPLOYMENT_ADMIN")}}},
			},
			wantErrs: []string{
				`tokens.yaml:11:7: user "alice@example.com" matches ignoreUsers "*@Example.com": remove it from the spec or from ignoreUsers`,
				`tokens.yaml:12:7: team "data-engineering" matches ignoreTeams "team-d?": remove it from the spec or from ignoreTeams`,
			},
		},
		{
			name: "state: absent of a user or team that does not exist",
			spec: prodWith(
				[]spec.UserEntry{{Pos: at(11), Username: "gone@example.com", State: spec.Absent}},
				[]spec.TeamEntry{{Pos: at(12), ID: "team-gone", State: spec.Absent}},
			),
			want: []SubjectRef{},
			wantNotes: []string{
				`tokens.yaml:11:7: user "gone@example.com" not found among the users: state: absent is satisfied`,
				`tokens.yaml:12:7: team "team-gone" not found: state: absent is satisfied`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Resolve(&tt.spec, fixture())
			var errs []string
			var list spec.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					errs = append(errs, e.Error())
				}
			} else if err != nil {
				t.Fatalf("Resolve error = %v (%T), want a spec.ErrorList", err, err)
			}
			if diff := cmp.Diff(tt.wantErrs, errs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if tt.wantErrs != nil {
				if diff := cmp.Diff(Desired{}, d); diff != "" {
					t.Errorf("Desired on error (-want +got):\n%s", diff)
				}
				return
			}
			got := []SubjectRef{}
			for _, a := range d.Scopes[0].Assignments {
				got = append(got, a.Subject)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("assignments (-want +got):\n%s", diff)
			}
			var notes []string
			for _, n := range d.Notes {
				notes = append(notes, n.String())
			}
			if diff := cmp.Diff(tt.wantNotes, notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGlobsIgnoreCase: an ignore or --protect glob matches in any case
// (spec.Glob), for every kind: a user the file says is never touched is
// not pruned because Astro spells its address with capitals, and a team
// named "Ops" is ignored by "ops" as a token or a user would be.
func TestGlobsIgnoreCase(t *testing.T) {
	dana := withDeps(user("usr-dana", "Dana@Contractor.Example", astroapi.UserActive, "ORGANIZATION_MEMBER"), deploymentRole("dep-a", "DEPLOYMENT_ADMIN"))
	al := withDeps(user("usr-alice", "Alice@Example.com", astroapi.UserActive, "ORGANIZATION_MEMBER"), deploymentRole("dep-a", "DEPLOYMENT_ADMIN"))
	ops := withTeamDeps(team("team-ops", "Ops", "ORGANIZATION_MEMBER"), deploymentRole("dep-a", "DEPLOYMENT_ADMIN"))
	obs := &Observed{
		Organization: org,
		Deployments:  []astroapi.Deployment{depA},
		Subjects:     subjects([]astroapi.Token{anchor}, []astroapi.User{dana, al}, []astroapi.Team{ops}),
	}
	md := alpha(true)
	md.Lists = append(md.Lists, KindUser, KindTeam)
	md.AllowEmpty = true
	d := Desired{
		Scopes: []ManagedScope{md},
		Ignore: map[Kind][]string{KindUser: {"*@contractor.example"}, KindTeam: {"ops"}},
	}
	p := Compute(d, obs, Options{MaxRemovals: -1, Protect: []string{"alice@example.com"}})
	var removed, ignored []string
	for _, c := range p.Changes {
		if c.Action == Remove {
			removed = append(removed, c.Subject.Name)
		}
	}
	for _, c := range p.Unmanaged {
		ignored = append(ignored, c.Subject.Name+": "+c.Reason)
	}
	if diff := cmp.Diff([]string{"Alice@Example.com"}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`Dana@Contractor.Example: ignored (ignoreUsers "*@contractor.example")`, `Ops: ignored (ignoreTeams "ops")`}, ignored); diff != "" {
		t.Errorf("ignored (-want +got):\n%s", diff)
	}
	wantProtect := Guard{Name: GuardProtect, Message: `protected user "Alice@Example.com" would lose its role DEPLOYMENT_ADMIN on deployment "alpha"`}
	if diff := cmp.Diff(wantProtect, p.Guards[2]); diff != "" {
		t.Errorf("protect (-want +got):\n%s", diff)
	}

	// Resolve refuses a listed user that an ignoreUsers glob matches in
	// another case.
	sp := spec.Spec{
		IgnoreUsers: []spec.Pattern{{Glob: "*@EXAMPLE.COM", Pos: at(2)}},
		Deployments: []spec.Deployment{{Pos: at(10), ID: "dep-prod", Users: []spec.UserEntry{userEntry(11, "bob@example.com", "DEPLOYMENT_ADMIN")}}},
	}
	_, err := Resolve(&sp, fixture())
	want := `tokens.yaml:11:7: user "bob@example.com" matches ignoreUsers "*@EXAMPLE.COM": remove it from the spec or from ignoreUsers`
	if err == nil || err.Error() != want {
		t.Errorf("Resolve error = %v, want %s", err, want)
	}
}
