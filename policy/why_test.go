package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/spec"
)

// TestScopeRuleSaysWhy: a scope rule's violation says why it holds: the
// values of the parts of its expression that read grants (a count, not
// the comparison of it), as evaluated there; a grant rule's says nothing.
func TestScopeRuleSaysWhy(t *testing.T) {
	a := Build(world())
	tests := []struct {
		on   spec.Condition
		expr string
		want []string
	}{
		{spec.ConditionScope, "scope.level == 'deployment' && scope.production &&\n  !(grants.filter(g, g.via.kind == 'direct' && g.role.access == 'admin').map(g, g.subject.id).distinct().size() in [1, 2, 3])",
			[]string{`@deployment:campaigns-PROD: grants.filter(g, g.via.kind == "direct" && g.role.access == "admin").map(g, g.subject.id).distinct().size() = 0`}},
		{spec.ConditionScope, "scope.level == 'workspace' && !grants.exists(g, g.via.kind == 'direct')",
			[]string{`@workspace:marketing: grants.exists(g, g.via.kind == "direct") = false`}},
		{spec.ConditionScope, "scope.level == 'deployment' && scope.name == 'analytics-prod' && grants.filter(g, g.role.access == 'admin').map(g, g.subject.kind).distinct() != []",
			[]string{`@deployment:analytics-prod: grants.filter(g, g.role.access == "admin").map(g, g.subject.kind).distinct() = ["user"]`}},
		{spec.ConditionScope, "scope.level == 'workspace' && scope.name == 'marketing'", []string{"@workspace:marketing: "}},
		{spec.ConditionGrant, "subject.id == 'u-carol' && scope.name == 'analytics'", []string{"u-carol@workspace:analytics(team data): "}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			var got []string
			for i, v := range compileOne(t, tt.on, tt.expr).Check(a, now) {
				if v.Err != "" {
					t.Fatalf("violation %d: %s", i, v.Err)
				}
				got = append(got, fired([]Violation{v})[0]+": "+v.Why)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
