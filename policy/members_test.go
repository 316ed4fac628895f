package policy

import (
	"testing"

	"github.com/tokensync/tokensync/spec"
)

// TestSeesMembers: a rule needs the teams' members read exactly when it
// reads subject, via or grants as the variable, not as a word in a string
// nor as a name a comprehension binds.
func TestSeesMembers(t *testing.T) {
	for _, tt := range []struct {
		on   spec.Condition
		expr string
		want bool
	}{
		{spec.ConditionGrant, `role.name == "DEPLOYMENT_ADMIN"`, false},
		{spec.ConditionGrant, `scope.production && role.access == "admin"`, false},
		{spec.ConditionGrant, `role.name == "subject" || scope.name == "via grants"`, false},
		{spec.ConditionGrant, `subject.kind == "user"`, true},
		{spec.ConditionGrant, `has(subject.expiresAt)`, true},
		{spec.ConditionGrant, `via.kind == "team"`, true},
		{spec.ConditionGrant, `[1, 2].exists(subject, subject > 1) && role.name == "X"`, false},
		{spec.ConditionGrant, `[1].all(via, [via].exists(x, x > 0)) || scope.production`, false},
		{spec.ConditionGrant, `[1].exists(subject, subject > 0) && subject.kind == "user"`, true},
		{spec.ConditionGrant, `[1].map(x, x).exists(y, via.kind == "team")`, true},
		{spec.ConditionScope, `scope.production`, false},
		{spec.ConditionScope, `grants.size() > 3`, true},
		{spec.ConditionScope, `[scope].exists(grants, grants.production)`, false},
	} {
		set := compileOne(t, tt.on, tt.expr)
		if got := set.SeesMembers(); got != tt.want {
			t.Errorf("%s rule %s: SeesMembers() = %v, want %v", tt.on, tt.expr, got, tt.want)
		}
	}
	a, b := compileOne(t, spec.ConditionGrant, `role.name == "X"`), compileOne(t, spec.ConditionGrant, `via.kind == "team"`)
	both := &Set{Rules: append(a.Rules, b.Rules...)}
	if a.SeesMembers() || !both.SeesMembers() || (&Set{}).SeesMembers() {
		t.Errorf("a set sees members when one of its rules does: %v, %v, empty %v", a.SeesMembers(), both.SeesMembers(), (&Set{}).SeesMembers())
	}
}
