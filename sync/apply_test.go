package sync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tokensync/tokensync/astroapi"
)

// examplePlan is the plan of example(), with a store holding its tokens,
// which it returns too: the anchor, then exampleTokens().
func examplePlan(t *testing.T) (Plan, *fakeStore, []astroapi.Token) {
	t.Helper()
	d, obs := example()
	p := Compute(d, obs, Options{MaxRemovals: -1})
	if p.Refused() {
		t.Fatalf("example plan refused: %+v", p.Guards)
	}
	toks := append([]astroapi.Token{anchor}, exampleTokens()...)
	return p, newFakeStore(toks...), toks
}

// resultOpts compare SubjectResults but for their durations.
var resultOpts = cmp.Options{cmpopts.IgnoreFields(SubjectResult{}, "Duration"), cmpopts.EquateEmpty()}

// changesOf returns the plan's changes of one token.
func changesOf(p Plan, id string) []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Subject.ID == id {
			out = append(out, c)
		}
	}
	return out
}

func ids2(rs []SubjectResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Subject.ID)
	}
	return out
}

// exampleAfter are the role lists of example()'s changed tokens after apply.
var exampleAfter = map[string][]astroapi.Role{
	"t-ci": {
		wsRole("ws-1", "WORKSPACE_MEMBER"),
		depRole("dep-a", "DEPLOYMENT_ADMIN"), // updated in place
		dagRole("dep-a", "dag-1", "DAG_AUTHOR"),
		depRole("dep-x", "DEPLOYMENT_ADMIN"),
		depRole("dep-b", "DEPLOYMENT_ADMIN"), // added
	},
	"t-obs":   {orgRole("ORGANIZATION_MEMBER"), depRole("dep-a", "DAG_DEPLOYER")},
	"t-old":   {wsRole("ws-1", "WORKSPACE_MEMBER")},
	"t-stray": {wsRole("ws-1", "WORKSPACE_MEMBER")},
}

func TestApply(t *testing.T) {
	p, s, toks := examplePlan(t)
	var progressed []string
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{
		Progress: func(r SubjectResult) { progressed = append(progressed, r.Subject.ID) },
	})

	var want Result
	for _, tok := range toks[1:5] { // ci-deployer, observer, old-bot, stray
		want.Written = append(want.Written, SubjectResult{
			Subject: ref(tok), Changes: changesOf(p, tok.ID),
			Before: grantsOf(tok.Roles), After: grantsOf(exampleAfter[tok.ID]),
			Wrote: true, Sent: true, Fingerprint: Fingerprint(exampleAfter[tok.ID]),
		})
	}
	if diff := cmp.Diff(want, res, resultOpts); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
	gets, sets := s.calls()
	wantCalls := map[string]int{"t-ci": 1, "t-obs": 1, "t-old": 1, "t-stray": 1}
	if diff := cmp.Diff(wantCalls, gets); diff != "" {
		t.Errorf("GETs per token (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantCalls, sets); diff != "" {
		t.Errorf("POSTs per token (-want +got):\n%s", diff)
	}
	for _, tok := range toks {
		wantRoles, changed := exampleAfter[tok.ID]
		if !changed {
			wantRoles = tok.Roles // untouched
		}
		if diff := cmp.Diff(wantRoles, s.role(tok.ID)); diff != "" {
			t.Errorf("roles of %s (-want +got):\n%s", tok.ID, diff)
		}
	}
	slices.Sort(progressed)
	if diff := cmp.Diff([]string{"t-ci", "t-obs", "t-old", "t-stray"}, progressed); diff != "" {
		t.Errorf("Progress calls (-want +got):\n%s", diff)
	}
	if add, change, remove := res.Summary(); add != 2 || change != 1 || remove != 4 {
		t.Errorf("Result.Summary() = %d, %d, %d, want 2, 1, 4", add, change, remove)
	}
	// A second plan against the new state is empty.
	d, _ := example()
	if again := Compute(d, &Observed{Organization: org, Deployments: observed().Deployments, Subjects: s.snapshot()}, Options{MaxRemovals: -1}); len(again.Changes) != 0 {
		t.Errorf("plan after apply has changes: %+v", again.Changes)
	}
}

func TestApplyChangedSincePlan(t *testing.T) {
	p, s, _ := examplePlan(t)
	// Another writer gives ci-deployer a DAG role and a role on dep-b
	// between plan and apply; old-bot already lost its roles; stray
	// already holds the planned list.
	s.modify("t-ci", func(tok *astroapi.Token) {
		tok.Roles = append(tok.Roles, dagRole("dep-b", "dag-9", "DAG_VIEWER"), depRole("dep-b", "DAG_DEPLOYER"))
	})
	s.modify("t-old", func(tok *astroapi.Token) { tok.Roles = []astroapi.Role{wsRole("ws-1", "WORKSPACE_MEMBER")} })
	s.modify("t-stray", func(tok *astroapi.Token) { tok.Roles = tok.Roles[:1] })

	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{Parallelism: 2})
	if len(res.Failed)+len(res.NotStarted)+len(res.Stale) != 0 {
		t.Fatalf("unexpected result: %+v", res)
	}
	changed := map[string]bool{}
	for _, r := range res.Written {
		changed[r.Subject.ID] = r.ChangedSincePlan
	}
	if diff := cmp.Diff(map[string]bool{"t-ci": true, "t-obs": false, "t-old": true, "t-stray": true}, changed); diff != "" {
		t.Errorf("ChangedSincePlan (-want +got):\n%s", diff)
	}
	wantCI := []astroapi.Role{
		wsRole("ws-1", "WORKSPACE_MEMBER"),
		depRole("dep-a", "DEPLOYMENT_ADMIN"),
		dagRole("dep-a", "dag-1", "DAG_AUTHOR"),
		depRole("dep-x", "DEPLOYMENT_ADMIN"),
		dagRole("dep-b", "dag-9", "DAG_VIEWER"),
		depRole("dep-b", "DEPLOYMENT_ADMIN"), // the other writer's role, replaced in place
	}
	if diff := cmp.Diff(wantCI, s.role("t-ci")); diff != "" {
		t.Errorf("roles of t-ci (-want +got):\n%s", diff)
	}
	_, sets := s.calls()
	if diff := cmp.Diff(map[string]int{"t-ci": 1, "t-obs": 1}, sets); diff != "" {
		t.Errorf("POSTs (already as planned: none) (-want +got):\n%s", diff)
	}
}

func TestApplyFailures(t *testing.T) {
	p, s, _ := examplePlan(t)
	s.setErr["t-obs"] = errors.New("500 Internal Server Error (request r-1)")
	s.getErr["t-old"] = errors.New("503 Service Unavailable (request r-2)")
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{Parallelism: 1})

	if diff := cmp.Diff([]string{"t-ci", "t-stray"}, ids2(res.Written)); diff != "" {
		t.Errorf("Written (-want +got):\n%s", diff)
	}
	var errs []string
	for _, r := range res.Failed {
		errs = append(errs, r.Err.Error())
	}
	wantErrs := []string{
		`set roles of token "observer" (t-obs): 500 Internal Server Error (request r-1)`,
		`read token "old-bot" (t-old): 503 Service Unavailable (request r-2)`,
	}
	if diff := cmp.Diff(wantErrs, errs); diff != "" {
		t.Errorf("Failed (-want +got):\n%s", diff)
	}
	if !errors.Is(res.Failed[0].Err, s.setErr["t-obs"]) {
		t.Error("the store's error is not wrapped")
	}
	if f := res.Failed[0]; len(f.Before) == 0 || !slices.Equal(f.After, f.Before) {
		t.Errorf("a failed write's After is %v, want its role set as read, %v", f.After, f.Before)
	}
	if diff := cmp.Diff(exampleAfter["t-stray"], s.role("t-stray")); diff != "" {
		t.Errorf("a failed token stopped the others (-want +got):\n%s", diff)
	}
	_, sets := s.calls()
	if diff := cmp.Diff(map[string]int{"t-ci": 1, "t-obs": 1, "t-stray": 1}, sets); diff != "" {
		t.Errorf("POSTs (-want +got):\n%s", diff)
	}
}

func TestApplyEmptyRoleList(t *testing.T) {
	lone := token("t-lone", "lone", "WORKSPACE", depRole("dep-a", "DEPLOYMENT_ADMIN"))
	d := Desired{Scopes: []ManagedScope{alpha(false, absent(lone, 12))}}
	p := Compute(d, observed(lone), Options{MaxRemovals: -1})
	s := newFakeStore(lone)
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{})
	if len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, errEmptyRoles) {
		t.Fatalf("Failed = %+v, want the empty-list error", res.Failed)
	}
	if _, sets := s.calls(); len(sets) != 0 {
		t.Errorf("POSTs = %v, want none", sets)
	}
}

func TestApplyPhases(t *testing.T) {
	for range 20 {
		p, s, _ := examplePlan(t)
		res := Apply(context.Background(), s.adapters(), p, ApplyOptions{Parallelism: 4})
		if len(res.Written) != 4 {
			t.Fatalf("Written = %v", ids2(res.Written))
		}
		ev := s.events()
		lastUpsert, firstRemoval := -1, len(ev)
		for i, e := range ev {
			id := e[strings.Index(e, " ")+1:]
			switch id {
			case "t-ci", "t-obs": // an add or an update
				lastUpsert = max(lastUpsert, i)
			case "t-old", "t-stray": // removals only
				firstRemoval = min(firstRemoval, i)
			}
		}
		if lastUpsert > firstRemoval {
			t.Fatalf("a removal-only token started before the adds and updates finished: %v", ev)
		}
	}
}

func TestApplyRequireFingerprints(t *testing.T) {
	t.Run("stale", func(t *testing.T) {
		p, s, _ := examplePlan(t)
		s.modify("t-obs", func(tok *astroapi.Token) { tok.Roles = append(tok.Roles, depRole("dep-x", "DEPLOYMENT_ADMIN")) })
		res := Apply(context.Background(), s.adapters(), p, ApplyOptions{RequireFingerprints: true})
		want := Result{
			Stale: []SubjectResult{{Subject: SubjectRef{Kind: KindOrganizationToken, ID: "t-obs", Name: "observer"}, Changes: changesOf(p, "t-obs"), ChangedSincePlan: true}},
		}
		for _, id := range []string{"t-ci", "t-old", "t-stray"} {
			want.NotStarted = append(want.NotStarted, SubjectResult{Subject: changesOf(p, id)[0].Subject, Changes: changesOf(p, id)})
		}
		if diff := cmp.Diff(want, res, resultOpts); diff != "" {
			t.Errorf("Result (-want +got):\n%s", diff)
		}
		gets, sets := s.calls()
		if len(sets) != 0 {
			t.Errorf("POSTs = %v, want none", sets)
		}
		if diff := cmp.Diff(map[string]int{"t-ci": 1, "t-obs": 1, "t-old": 1, "t-stray": 1}, gets); diff != "" {
			t.Errorf("GETs (every token read first) (-want +got):\n%s", diff)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		p, s, _ := examplePlan(t)
		s.getErr["t-old"] = errors.New("403 Forbidden")
		res := Apply(context.Background(), s.adapters(), p, ApplyOptions{RequireFingerprints: true})
		if diff := cmp.Diff([]string{"t-old"}, ids2(res.Failed)); diff != "" {
			t.Errorf("Failed (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"t-ci", "t-obs", "t-stray"}, ids2(res.NotStarted)); diff != "" {
			t.Errorf("NotStarted (-want +got):\n%s", diff)
		}
		if _, sets := s.calls(); len(sets) != 0 {
			t.Errorf("POSTs = %v, want none", sets)
		}
	})
	t.Run("deleted since", func(t *testing.T) {
		// A subject the plan read is gone: the plan is stale, not failed.
		p, s, _ := examplePlan(t)
		s.getErr["t-old"] = &astroapi.Error{StatusCode: http.StatusNotFound, Message: "token not found"}
		res := Apply(context.Background(), s.adapters(), p, ApplyOptions{RequireFingerprints: true})
		if diff := cmp.Diff([]string{"t-old"}, ids2(res.Stale)); diff != "" || len(res.Failed) != 0 || !res.Stale[0].ChangedSincePlan {
			t.Errorf("Stale (-want +got):\n%s\nFailed: %v", diff, ids2(res.Failed))
		}
		if _, sets := s.calls(); len(sets) != 0 {
			t.Errorf("POSTs = %v, want none", sets)
		}
	})
	t.Run("fresh", func(t *testing.T) {
		p, s, _ := examplePlan(t)
		res := Apply(context.Background(), s.adapters(), p, ApplyOptions{RequireFingerprints: true})
		if diff := cmp.Diff([]string{"t-ci", "t-obs", "t-old", "t-stray"}, ids2(res.Written)); diff != "" {
			t.Errorf("Written (-want +got):\n%s", diff)
		}
		gets, sets := s.calls()
		if diff := cmp.Diff(map[string]int{"t-ci": 2, "t-obs": 2, "t-old": 2, "t-stray": 2}, gets); diff != "" {
			t.Errorf("GETs (check, then read-modify-write) (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"t-ci": 1, "t-obs": 1, "t-old": 1, "t-stray": 1}, sets); diff != "" {
			t.Errorf("POSTs (-want +got):\n%s", diff)
		}
	})
}

// TestApplyCancel cancels while tokens are in flight: they finish their
// read and write, and no other token starts.
func TestApplyCancel(t *testing.T) {
	tests := []struct {
		name        string
		parallelism int
		inFlight    []string // blocked in their GET when ctx is cancelled
		wantWritten []string
	}{
		{name: "one at a time", parallelism: 1, inFlight: []string{"t-ci"}, wantWritten: []string{"t-ci"}},
		{name: "two in flight", parallelism: 4, inFlight: []string{"t-ci", "t-obs"}, wantWritten: []string{"t-ci", "t-obs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s, _ := examplePlan(t)
			started := make(chan string)
			proceed := make(chan struct{})
			s.beforeGet = func(_ context.Context, id string) {
				if slices.Contains(tt.inFlight, id) {
					started <- id
					<-proceed
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan Result)
			go func() { done <- Apply(ctx, s.adapters(), p, ApplyOptions{Parallelism: tt.parallelism}) }()
			for range tt.inFlight {
				<-started
			}
			cancel()
			close(proceed)
			res := <-done

			if diff := cmp.Diff(tt.wantWritten, ids2(res.Written)); diff != "" {
				t.Errorf("Written (-want +got):\n%s", diff)
			}
			var notStarted []string
			for _, id := range []string{"t-ci", "t-obs", "t-old", "t-stray"} {
				if !slices.Contains(tt.wantWritten, id) {
					notStarted = append(notStarted, id)
				}
			}
			if diff := cmp.Diff(notStarted, ids2(res.NotStarted)); diff != "" {
				t.Errorf("NotStarted (-want +got):\n%s", diff)
			}
			if len(res.Failed) != 0 {
				t.Errorf("Failed = %+v", res.Failed)
			}
			want := map[string]int{}
			for _, id := range tt.wantWritten {
				want[id] = 1
			}
			gets, sets := s.calls()
			if diff := cmp.Diff(want, gets); diff != "" {
				t.Errorf("GETs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, sets); diff != "" {
				t.Errorf("POSTs (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("cancelled before", func(t *testing.T) {
		p, s, _ := examplePlan(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res := Apply(ctx, s.adapters(), p, ApplyOptions{RequireFingerprints: true})
		if diff := cmp.Diff([]string{"t-ci", "t-obs", "t-old", "t-stray"}, ids2(res.NotStarted)); diff != "" {
			t.Errorf("NotStarted (-want +got):\n%s", diff)
		}
		if gets, sets := s.calls(); len(gets)+len(sets) != 0 {
			t.Errorf("calls: GET %v, POST %v, want none", gets, sets)
		}
	})
}

func TestApplyRefused(t *testing.T) {
	d, obs := example()
	p := Compute(d, obs, Options{MaxRemovals: 0})
	if !p.Refused() {
		t.Fatal("plan not refused")
	}
	s := newFakeStore(append([]astroapi.Token{anchor}, exampleTokens()...)...)
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{})
	if !res.Refused {
		t.Error("Result.Refused = false")
	}
	if diff := cmp.Diff([]string{"t-ci", "t-obs", "t-old", "t-stray"}, ids2(res.NotStarted)); diff != "" {
		t.Errorf("NotStarted (-want +got):\n%s", diff)
	}
	if gets, sets := s.calls(); len(gets)+len(sets) != 0 {
		t.Errorf("calls: GET %v, POST %v, want none", gets, sets)
	}
}

// TestApplyProgressSerialised relies on the race detector: the callback
// touches its state without a lock.
func TestApplyProgressSerialised(t *testing.T) {
	p, s, _ := examplePlan(t)
	var got []string
	Apply(context.Background(), s.adapters(), p, ApplyOptions{Parallelism: 8, Progress: func(r SubjectResult) {
		got = append(got, r.Subject.ID)
	}})
	slices.Sort(got)
	if diff := cmp.Diff([]string{"t-ci", "t-obs", "t-old", "t-stray"}, got); diff != "" {
		t.Errorf("Progress calls (-want +got):\n%s", diff)
	}
}

// TestNewRoles: a token's new role list, for a plan without a Target,
// is the list read with the changes applied to its DEPLOYMENT entries
// (changedDeployments) and written back into it (tokenRoles).
func TestNewRoles(t *testing.T) {
	add := func(dep, role string) Change {
		return Change{Action: Add, Scope: DeploymentScope(DeploymentRef{ID: dep}), After: role}
	}
	upd := func(dep, role string) Change {
		return Change{Action: Update, Scope: DeploymentScope(DeploymentRef{ID: dep}), After: role}
	}
	rm := func(dep string) Change { return Change{Action: Remove, Scope: DeploymentScope(DeploymentRef{ID: dep})} }
	ws := wsRole("ws-1", "WORKSPACE_MEMBER")
	dag := dagRole("dep-a", "dag-1", "DAG_AUTHOR")
	tag := astroapi.Role{EntityType: "DAG_TAG", EntityID: "tag", Role: "DAG_VIEWER", DeploymentID: "dep-a"}
	tests := []struct {
		name    string
		read    []astroapi.Role
		changes []Change
		want    []astroapi.Role
	}{
		{
			name: "update in place, DAG entries on the same deployment kept",
			read: []astroapi.Role{dag, depRole("dep-a", "X"), ws, tag}, changes: []Change{upd("dep-a", "Y")},
			want: []astroapi.Role{dag, depRole("dep-a", "Y"), ws, tag},
		},
		{
			name: "add appends, remove drops, other deployments kept",
			read: []astroapi.Role{ws, depRole("dep-b", "X"), depRole("dep-c", "Z")}, changes: []Change{add("dep-a", "Y"), rm("dep-b")},
			want: []astroapi.Role{ws, depRole("dep-c", "Z"), depRole("dep-a", "Y")},
		},
		{
			name: "duplicates of a managed entry collapse",
			read: []astroapi.Role{depRole("dep-a", "X"), ws, depRole("dep-a", "X")}, changes: []Change{upd("dep-a", "Y")},
			want: []astroapi.Role{depRole("dep-a", "Y"), ws},
		},
		{
			name: "an entry holding the role in another case gets the role named, in place",
			read: []astroapi.Role{ws, depRole("dep-a", "deployment_admin")}, changes: []Change{add("dep-a", "DEPLOYMENT_ADMIN")},
			want: []astroapi.Role{ws, depRole("dep-a", "DEPLOYMENT_ADMIN")},
		},
		{
			name: "a custom role is written exactly as named, never one that differs in case",
			read: []astroapi.Role{ws, depRole("dep-a", "READER")}, changes: []Change{add("dep-a", "Reader")},
			want: []astroapi.Role{ws, depRole("dep-a", "Reader")},
		},
		{
			name: "remove of an entry already gone",
			read: []astroapi.Role{ws, dag}, changes: []Change{rm("dep-a")},
			want: []astroapi.Role{ws, dag},
		},
		{
			name: "a workspace entry with a deployment's id is not managed",
			read: []astroapi.Role{wsRole("dep-a", "WORKSPACE_MEMBER")}, changes: []Change{rm("dep-a")},
			want: []astroapi.Role{wsRole("dep-a", "WORKSPACE_MEMBER")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := slices.Clone(tt.read)
			got := rolesOf(applyChanges(grantsOf(read), tt.changes, nil))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("new roles (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.read, read); diff != "" {
				t.Errorf("new roles modified the input (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	p, s, _ := examplePlan(t)
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{})

	v := Verify(p, res, s.snapshot())
	if diff := cmp.Diff(Verification{Converged: true}, v); diff != "" {
		t.Errorf("Verify after a clean apply (-want +got):\n%s", diff)
	}

	// Someone else writes afterwards: observer gets a DAG role (the plan
	// still holds), ci-deployer loses its role on beta (it does not).
	s.modify("t-obs", func(tok *astroapi.Token) { tok.Roles = append(tok.Roles, dagRole("dep-a", "dag-2", "DAG_VIEWER")) })
	s.modify("t-ci", func(tok *astroapi.Token) { tok.Roles = tok.Roles[:4] })
	s.modify("t-old", func(tok *astroapi.Token) { tok.Roles = append(tok.Roles, depRole("dep-a", "DAG_DEPLOYER")) })
	v = Verify(p, res, s.snapshot())
	want := Verification{
		Remaining: []Change{
			{Action: Remove, Scope: DeploymentScope(alphaRef), Subject: SubjectRef{Kind: KindWorkspaceToken, ID: "t-old", Name: "old-bot"}, Before: "DAG_DEPLOYER", Reason: "state: absent", Source: ptr(at(15))},
			{Action: Add, Scope: DeploymentScope(betaRef), Subject: SubjectRef{Kind: KindWorkspaceToken, ID: "t-ci", Name: "ci-deployer"}, After: "DEPLOYMENT_ADMIN", Source: ptr(at(21))},
		},
		ChangedByOthers: []SubjectRef{
			{Kind: KindWorkspaceToken, ID: "t-ci", Name: "ci-deployer"},
			{Kind: KindOrganizationToken, ID: "t-obs", Name: "observer"},
			{Kind: KindWorkspaceToken, ID: "t-old", Name: "old-bot"},
		},
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("Verify after others wrote (-want +got):\n%s", diff)
	}
}

// TestApplySpecWinsOnWrittenTokens: another writer changes a token between
// plan and apply, on deployments other than the one the plan writes it
// for. Apply sets every managed assignment of the token as the spec says,
// from its fresh read, keeps unlisted assignments where prune is off and
// every unmanaged entry as read; verification then converges and the next
// plan is empty.
func TestApplySpecWinsOnWrittenTokens(t *testing.T) {
	ws := wsRole("ws-1", "WORKSPACE_MEMBER")
	dag := dagRole("dep-a", "dag-1", "DAG_AUTHOR")
	multi := token("t-multi", "multi", "WORKSPACE", ws, depRole("dep-a", "DEPLOYMENT_ADMIN"), dag, depRole("dep-x", "VIEWER"))
	managed := func(id, name string, prune bool, as ...DesiredAssignment) ManagedScope {
		return ManagedScope{ScopeRef: ScopeRef{Level: LevelDeployment, ID: id, Name: name}, WorkspaceID: "ws-1", Prune: prune, Source: at(30), Lists: tokenKindsListed, Assignments: as}
	}
	d := Desired{Scopes: []ManagedScope{
		alpha(false, present(multi, "DEPLOYMENT_ADMIN", 12)),          // held: no change
		managed("dep-b", "beta", false, present(multi, "VIEWER", 31)), // the plan's one change: add
		managed("dep-g", "gamma", false),                              // not listed, prune off
		managed("dep-d", "delta", false, absent(multi, 33)),           // absent, not held
		managed("dep-e", "epsilon", true),                             // not listed, prune on
	}}
	tests := []struct {
		name  string
		other func(*astroapi.Token)
		want  []astroapi.Role
	}{
		{
			name:  "no other writer",
			other: func(*astroapi.Token) {},
			want:  []astroapi.Role{ws, depRole("dep-a", "DEPLOYMENT_ADMIN"), dag, depRole("dep-x", "VIEWER"), depRole("dep-b", "VIEWER")},
		},
		{
			name:  "a listed role changed",
			other: func(tok *astroapi.Token) { tok.Roles[1] = depRole("dep-a", "DAG_DEPLOYER") },
			want:  []astroapi.Role{ws, depRole("dep-a", "DEPLOYMENT_ADMIN"), dag, depRole("dep-x", "VIEWER"), depRole("dep-b", "VIEWER")},
		},
		{
			name:  "a listed role removed",
			other: func(tok *astroapi.Token) { tok.Roles = slices.Delete(tok.Roles, 1, 2) },
			want:  []astroapi.Role{ws, dag, depRole("dep-x", "VIEWER"), depRole("dep-a", "DEPLOYMENT_ADMIN"), depRole("dep-b", "VIEWER")},
		},
		{
			name:  "a role granted where the spec says absent",
			other: func(tok *astroapi.Token) { tok.Roles = append(tok.Roles, depRole("dep-d", "DEPLOYMENT_ADMIN")) },
			want:  []astroapi.Role{ws, depRole("dep-a", "DEPLOYMENT_ADMIN"), dag, depRole("dep-x", "VIEWER"), depRole("dep-b", "VIEWER")},
		},
		{
			name:  "a role granted on a pruned deployment",
			other: func(tok *astroapi.Token) { tok.Roles = append(tok.Roles, depRole("dep-e", "VIEWER")) },
			want:  []astroapi.Role{ws, depRole("dep-a", "DEPLOYMENT_ADMIN"), dag, depRole("dep-x", "VIEWER"), depRole("dep-b", "VIEWER")},
		},
		{
			name:  "a listed role duplicated",
			other: func(tok *astroapi.Token) { tok.Roles = append(tok.Roles, depRole("dep-a", "VIEWER")) },
			want:  []astroapi.Role{ws, depRole("dep-a", "DEPLOYMENT_ADMIN"), dag, depRole("dep-x", "VIEWER"), depRole("dep-b", "VIEWER")},
		},
		{
			name: "unlisted with prune off, other deployments, DAG roles: kept as read",
			other: func(tok *astroapi.Token) {
				tok.Roles = append(tok.Roles, depRole("dep-g", "VIEWER"), dagRole("dep-e", "dag-2", "DAG_VIEWER"))
				tok.Roles[3] = depRole("dep-x", "DEPLOYMENT_ADMIN")
			},
			want: []astroapi.Role{ws, depRole("dep-a", "DEPLOYMENT_ADMIN"), dag, depRole("dep-x", "DEPLOYMENT_ADMIN"),
				depRole("dep-g", "VIEWER"), dagRole("dep-e", "dag-2", "DAG_VIEWER"), depRole("dep-b", "VIEWER")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := observed(multi)
			obs.Deployments = append(obs.Deployments,
				astroapi.Deployment{ID: "dep-g", Name: "gamma", WorkspaceID: "ws-1"},
				astroapi.Deployment{ID: "dep-d", Name: "delta", WorkspaceID: "ws-1"},
				astroapi.Deployment{ID: "dep-e", Name: "epsilon", WorkspaceID: "ws-1"})
			p := Compute(d, obs, Options{MaxRemovals: -1})
			if diff := cmp.Diff([]string{"t-multi"}, slices.Compact(ids2(groupResults(p)))); diff != "" {
				t.Fatalf("tokens the plan writes (-want +got):\n%s", diff)
			}
			s := newFakeStore(anchor, multi)
			s.modify("t-multi", tt.other) // between plan and apply
			res := Apply(context.Background(), s.adapters(), p, ApplyOptions{MaxRemovals: -1})
			if diff := cmp.Diff([]string{"t-multi"}, ids2(res.Written)); diff != "" {
				t.Fatalf("Written (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, s.role("t-multi")); diff != "" {
				t.Errorf("roles of t-multi (-want +got):\n%s", diff)
			}
			if v := Verify(p, res, s.snapshot()); !v.Converged || len(v.Remaining)+len(v.ChangedByOthers) != 0 {
				t.Errorf("Verify = %+v, want converged", v)
			}
			obs.Subjects = s.snapshot()
			if again := Compute(d, obs, Options{MaxRemovals: -1}); len(again.Changes) != 0 {
				t.Errorf("plan after apply has changes: %+v", again.Changes)
			}
		})
	}
}

// TestApplyHoldsMaxRemovalsOnAChangedSubject: another writer grants a
// token a role on a pruned deployment between plan and apply. Writing the
// spec from the fresh read takes that role away too, which the plan does
// not show: within --max-removals it is written, and the result counts
// the removal it made; past it the token is not written (ErrNotPlanned).
func TestApplyHoldsMaxRemovalsOnAChangedSubject(t *testing.T) {
	multi := token("t-multi", "multi", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-a", "DEPLOYMENT_ADMIN"))
	d := Desired{Scopes: []ManagedScope{
		alpha(true), // prune: the plan removes DEPLOYMENT_ADMIN
		{ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-e", Name: "epsilon"}, WorkspaceID: "ws-1", Prune: true, Source: at(30), Lists: tokenKindsListed},
	}}
	for _, tt := range []struct {
		limit   int
		written bool
	}{{-1, true}, {2, true}, {1, false}, {0, false}} {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			obs := observed(multi)
			obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: "dep-e", Name: "epsilon", WorkspaceID: "ws-1"})
			p := Compute(d, obs, Options{MaxRemovals: -1})
			s := newFakeStore(anchor, multi)
			s.modify("t-multi", func(tok *astroapi.Token) { tok.Roles = append(tok.Roles, depRole("dep-e", "VIEWER")) })
			res := Apply(context.Background(), s.adapters(), p, ApplyOptions{MaxRemovals: tt.limit})
			if !tt.written {
				if len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, ErrNotPlanned) || !strings.Contains(res.Failed[0].Err.Error(), "past --max-removals") {
					t.Fatalf("Failed = %+v, want t-multi refused past --max-removals", res.Failed)
				}
				if _, sets := s.calls(); sets["t-multi"] != 0 {
					t.Errorf("t-multi written %d times", sets["t-multi"])
				}
				return
			}
			if _, _, removed := res.Summary(); removed != 2 {
				t.Errorf("Summary removed %d, want 2 (the plan's and the changed token's)", removed)
			}
			if diff := cmp.Diff([]astroapi.Role{wsRole("ws-1", "WORKSPACE_MEMBER")}, s.role("t-multi")); diff != "" {
				t.Errorf("roles of t-multi (-want +got):\n%s", diff)
			}
		})
	}
}

// groupResults lists the subjects a plan writes, as Apply groups them.
func groupResults(p Plan) []SubjectResult {
	var out []SubjectResult
	for _, j := range groupBySubject(p) {
		out = append(out, j.res)
	}
	return out
}

// TestVerifyEveryManagedAssignment: an assignment the plan did not change,
// of a token apply did not write, that another writer changed during the
// run is found by verification.
func TestVerifyEveryManagedAssignment(t *testing.T) {
	p, s, _ := examplePlan(t)
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{})
	s.modify("t-anchor", func(tok *astroapi.Token) { tok.Roles[1] = depRole("dep-a", "DAG_DEPLOYER") })
	v := Verify(p, res, s.snapshot())
	want := Verification{Remaining: []Change{{
		Action: Update, Scope: DeploymentScope(alphaRef), Subject: SubjectRef{Kind: KindWorkspaceToken, ID: "t-anchor", Name: "anchor"},
		Before: "DAG_DEPLOYER", After: "DEPLOYMENT_ADMIN", Source: ptr(at(11)),
	}}}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("Verify (-want +got):\n%s", diff)
	}
}

// grantsOf is a token's role list as grants.
func grantsOf(roles []astroapi.Role) []Grant {
	out := make([]Grant, len(roles))
	for i, r := range roles {
		out[i] = grantOfToken(r)
	}
	return out
}

// rolesOf is grants as a token's role list, in organization "org1".
func rolesOf(grants []Grant) []astroapi.Role {
	out := make([]astroapi.Role, len(grants))
	for i, g := range grants {
		out[i] = tokenRole(g, "org1")
	}
	return out
}

// TestApplyHoldsGuardsOnAChangedSubject: the spec wins over another
// writer's change to a subject apply writes (TestApplySpecWinsOnWrittenTokens),
// but not past a guard. A protected subject whose role another writer
// changed since the plan is not written (the plan showed only an add), nor
// is a user whose owner role the spec would now take away.
func TestApplyHoldsGuardsOnAChangedSubject(t *testing.T) {
	ws := wsRole("ws-1", "WORKSPACE_MEMBER")
	multi := token("t-multi", "multi", "WORKSPACE", ws, depRole("dep-a", "DEPLOYMENT_ADMIN"))
	d := Desired{Scopes: []ManagedScope{
		alpha(false, present(multi, "DEPLOYMENT_ADMIN", 12)),
		{ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-b", Name: "beta"}, WorkspaceID: "ws-1", Source: at(30), Lists: tokenKindsListed,
			Assignments: []DesiredAssignment{present(multi, "VIEWER", 31)}}, // the plan's one change: add
	}}
	obs := observed(multi)
	p := Compute(d, obs, Options{MaxRemovals: -1})
	for _, tt := range []struct {
		name    string
		protect []string
		wrote   bool
	}{
		{name: "not protected: the spec wins", wrote: true},
		{name: "protected", protect: []string{"multi"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeStore(anchor, multi)
			s.modify("t-multi", func(tok *astroapi.Token) { tok.Roles = append(tok.Roles, depRole("dep-b", "DEPLOYMENT_ADMIN")) })
			res := Apply(context.Background(), s.adapters(), p, ApplyOptions{Protect: tt.protect})
			if tt.wrote {
				if len(res.Written) != 1 || s.role("t-multi")[2] != depRole("dep-b", "VIEWER") {
					t.Fatalf("want t-multi written with VIEWER on beta: %+v, roles %v", res, s.role("t-multi"))
				}
				return
			}
			if len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, ErrNotPlanned) || !res.Failed[0].ChangedSincePlan {
				t.Fatalf("want t-multi failed with ErrNotPlanned, got %+v", res)
			}
			want := `token "multi" (t-multi): changed since the plan: writing the spec to it now would change DEPLOYMENT_ADMIN on deployment "beta" to VIEWER, which the plan does not show and it is protected (--protect); not written, run plan again`
			if got := res.Failed[0].Err.Error(); got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
			if got := s.role("t-multi")[2]; got != depRole("dep-b", "DEPLOYMENT_ADMIN") {
				t.Errorf("beta role = %v, want DEPLOYMENT_ADMIN as the other writer left it", got)
			}
		})
	}
}

// TestApplyKeepsAnOwnerRoleGivenSinceThePlan: an organization token the
// spec lists as ORGANIZATION_MEMBER, made owner by another writer between
// plan and apply, keeps the owner role: the spec would take it, which the
// plan did not show and the lockout guard never counted.
func TestApplyKeepsAnOwnerRoleGivenSinceThePlan(t *testing.T) {
	bot := token("t-bot", "bot", "ORGANIZATION", orgRole("ORGANIZATION_MEMBER"))
	org := ManagedScope{ScopeRef: ScopeRef{Level: LevelOrganization, Name: "org"}, Source: at(2), Lists: tokenKindsListed,
		Assignments: []DesiredAssignment{present(bot, "ORGANIZATION_MEMBER", 3)}}
	d := Desired{Scopes: []ManagedScope{org, alpha(false, present(bot, "DEPLOYMENT_ADMIN", 12))}} // the plan's one change: add on alpha
	p := Compute(d, observed(bot), Options{MaxRemovals: -1})
	if len(p.Changes) != 1 {
		t.Fatalf("plan: %+v, want one add", p.Changes)
	}
	s := newFakeStore(anchor, bot)
	s.modify("t-bot", func(tok *astroapi.Token) { tok.Roles[0] = orgRole("ORGANIZATION_OWNER") })
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{})
	if len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, ErrNotPlanned) {
		t.Fatalf("want t-bot failed with ErrNotPlanned, got %+v", res)
	}
	if !strings.Contains(res.Failed[0].Err.Error(), "takes an owner role (lockout guard)") {
		t.Errorf("error %q does not say why", res.Failed[0].Err)
	}
	if got := s.role("t-bot")[0]; got != orgRole("ORGANIZATION_OWNER") {
		t.Errorf("organization role = %v, want ORGANIZATION_OWNER as the other writer left it", got)
	}
}

// TestApplyDeletedSinceThePlan: a subject deleted since the plan, from
// which the plan only takes roles, holds nothing now, as the plan wants:
// it is done, with no change made and no write. One the plan gives a role
// fails, as there is nothing to give it to.
func TestApplyDeletedSinceThePlan(t *testing.T) {
	p, s, _ := examplePlan(t)
	var removes, adds string
	for _, c := range p.Changes {
		id := c.Subject.ID
		switch {
		case onlyRemoves(changesOf(p, id)) && removes == "":
			removes = id
		case c.Action == Add && adds == "":
			adds = id
		}
	}
	if removes == "" || adds == "" || removes == adds {
		t.Fatalf("the example plan has no subject that only loses roles (%q) or none that gains one (%q)", removes, adds)
	}
	for _, id := range []string{removes, adds} {
		s.getErr[id] = fmt.Errorf("GET %s: 404 Not Found: %w", id, astroapi.ErrNotFound)
	}
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{Parallelism: 1})
	var done *SubjectResult
	for i := range res.Written {
		if res.Written[i].Subject.ID == removes {
			done = &res.Written[i]
		}
	}
	if done == nil || done.Wrote || done.Sent || len(done.Changes) != 0 || !done.ChangedSincePlan || !done.Deleted {
		t.Errorf("%s: %+v, want done without a write or a change, changed since the plan", removes, done)
	}
	if diff := cmp.Diff([]string{adds}, ids2(res.Failed)); diff != "" {
		t.Errorf("Failed (-want +got):\n%s", diff)
	}
	if _, sets := s.calls(); sets[removes]+sets[adds] != 0 {
		t.Errorf("POSTs to deleted subjects: %v", sets)
	}
	// The verification does not name it again as changed by another.
	now := slices.DeleteFunc(s.snapshot(), func(x Subject) bool { return x.ID == removes })
	if v := Verify(p, res, now); slices.ContainsFunc(v.ChangedByOthers, func(r SubjectRef) bool { return r.ID == removes }) {
		t.Errorf("verification names %s as changed by another: %v", removes, v.ChangedByOthers)
	}
}
