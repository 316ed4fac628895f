package policy

import (
	"fmt"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// crowdedWorld is world with n more organization tokens holding
// DEPLOYMENT_ADMIN on analytics-staging: the one crowded scope (users
// would crowd the workspace too, with the WORKSPACE_ACCESSOR Astro adds
// for their deployment role).
func crowdedWorld(n int) World {
	w := world()
	for i := range n {
		w.Subjects = append(w.Subjects, sync.Subject{
			SubjectRef: sync.SubjectRef{Kind: sync.KindOrganizationToken, ID: fmt.Sprintf("u-%d", i), Name: fmt.Sprintf("user%d", i)},
			Grants:     []sync.Grant{{Scope: sync.Scope{Level: sync.LevelDeployment, ID: "d-as"}, Role: astroapi.RoleDeploymentAdmin}},
		})
	}
	return w
}

// TestScopeCostBound: a scope rule runs without cost tracking only on
// scopes where its estimated cost stays within MaxCost; a nested loop
// over a large scope still stops at the limit, and a single pass is
// decided.
func TestScopeCostBound(t *testing.T) {
	a := Build(crowdedWorld(3000))
	nested := compileOne(t, spec.ConditionScope, "grants.exists(x, grants.exists(y, x.subject.id == 'nobody' && y.subject.id == x.subject.id))")
	r := nested.Rules[0]
	if r.untracked == nil || r.maxUntracked < 1 || r.maxUntracked >= 3000 {
		t.Errorf("nested loop: untracked on up to %d grants (program %v), want some but fewer than 3000", r.maxUntracked, r.untracked != nil)
	}
	got := fired(nested.Check(a, now))
	want := []string{"@deployment:analytics-staging error: operation cancelled: actual cost limit exceeded"}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("nested loop (-want +got):\n%s", diff)
	}

	// distinct() is quadratic: on 3,004 grants it reaches the limit too.
	single := compileOne(t, spec.ConditionScope, "grants.filter(g, g.role.access == 'admin').map(g, g.subject.id).distinct().size() > 1000")
	if r := single.Rules[0]; r.untracked == nil || r.maxUntracked < 1504 || r.maxUntracked >= 3004 {
		t.Errorf("single pass: untracked on up to %d grants, want 1504 to 3003", r.maxUntracked)
	}
	for _, tt := range []struct {
		users int
		want  []string
	}{
		{1500, []string{"@deployment:analytics-staging"}},
		{3000, []string{"@deployment:analytics-staging error: operation cancelled: actual cost limit exceeded"}},
	} {
		a := Build(crowdedWorld(tt.users))
		got := single.Check(a, now)
		if diff := gocmp.Diff(tt.want, fired(got)); diff != "" {
			t.Errorf("single pass, %d users (-want +got):\n%s", tt.users, diff)
		}
		if diff := gocmp.Diff(single.checkSlow(a, now), got, gocmp.AllowUnexported(Scope{})); diff != "" {
			t.Errorf("single pass, %d users: fast (-slow +fast):\n%s", tt.users, diff)
		}
	}
	if diff := gocmp.Diff(nested.checkSlow(a, now), nested.Check(a, now), gocmp.AllowUnexported(Scope{})); diff != "" {
		t.Errorf("nested loop: fast (-slow +fast):\n%s", diff)
	}
}

// TestScopeCostUnbounded: a rule whose cost the estimate cannot bound
// even without grants is always tracked.
func TestScopeCostUnbounded(t *testing.T) {
	set := compileOne(t, spec.ConditionScope, "scope.name.split('').all(a, scope.name.split('').all(b, grants.size() > 0))")
	if r := set.Rules[0]; r.untracked != nil {
		t.Errorf("untracked on up to %d grants, want none", r.maxUntracked)
	}
}
