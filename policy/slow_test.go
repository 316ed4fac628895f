package policy

import (
	"slices"
	"time"

	"cel.dev/cel-go/common/types"

	"github.com/tokensync/tokensync/spec"
)

// checkSlow is Check as first written: every rule evaluated whole on
// every grant, the violations sorted at the end. The fast path must give
// the same.
func (s *Set) checkSlow(a Access, now time.Time) []Violation {
	if s == nil || len(s.Rules) == 0 {
		return nil
	}
	vars := &activation{now: types.Timestamp{Time: now}}
	var out []Violation
	var grantRules, scopeRules []*Rule
	for _, r := range s.Rules {
		if r.On == spec.ConditionScope {
			scopeRules = append(scopeRules, r)
		} else {
			grantRules = append(grantRules, r)
		}
	}
	for i := range a.Grants {
		g := &a.Grants[i]
		vars.grant = g
		for _, r := range grantRules {
			if !r.covers(g) {
				continue
			}
			if ok, err := r.eval(vars); ok || err != "" {
				out = append(out, grantViolation(r, g, err))
			}
		}
	}
	if len(scopeRules) > 0 {
		out = append(out, checkScopesSlow(scopeRules, a, vars)...)
	}
	slices.SortFunc(out, compareViolation)
	return out
}

func checkScopesSlow(rules []*Rule, a Access, vars *activation) []Violation {
	byScope := make(map[*Scope][]Grant, len(a.Scopes))
	for _, g := range a.Grants {
		byScope[g.Scope] = append(byScope[g.Scope], g)
	}
	var out []Violation
	vars.grant = nil
	for _, sc := range a.Scopes {
		all := byScope[sc]
		vars.scope = sc
		for _, r := range rules {
			grants := all
			if len(r.files) > 0 {
				grants = slices.DeleteFunc(slices.Clone(all), func(g Grant) bool { return !r.covers(&g) })
				if len(grants) == 0 {
					continue
				}
			}
			vars.grants = grants
			if ok, err := r.eval(vars); ok || err != "" {
				v := Violation{Rule: r.Name, Description: r.Description, RulePos: r.Pos, On: r.On, Scope: sc, Err: err}
				if err == "" {
					v.Why = r.why(vars)
				}
				out = append(out, v)
			}
		}
	}
	return out
}
