package policy

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/tokensync/tokensync/spec"
)

// Violation is one rule found true on a grant or a scope.
type Violation struct {
	Rule        string
	Description string
	// RulePos is the position of the rule's entry.
	RulePos spec.Pos
	On      spec.Condition
	Scope   *Scope
	// Subject, Role and Via are the grant's; nil and zero for a scope
	// rule.
	Subject *Subject
	Role    Role
	Via     Via
	// Source is the spec entry that writes the grant; zero when no spec
	// file does, and for a scope rule.
	Source spec.Pos
	// Err says the rule could not be evaluated here (an error, or its cost
	// limit reached); "" when it was, and was true.
	Err string
}

// Check evaluates every rule of s over a at time now and returns the
// violations, sorted by rule name, scope, subject, via and role: the same
// inputs give the same list.
func (s *Set) Check(a Access, now time.Time) []Violation {
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
	if len(grantRules) > 0 {
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
	}
	if len(scopeRules) > 0 {
		out = append(out, checkScopes(scopeRules, a, vars)...)
	}
	slices.SortFunc(out, compareViolation)
	return out
}

// checkScopes evaluates the scope rules over each scope of a.
func checkScopes(rules []*Rule, a Access, vars *activation) []Violation {
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
				out = append(out, Violation{Rule: r.Name, Description: r.Description, RulePos: r.Pos, On: r.On, Scope: sc, Err: err})
			}
		}
	}
	return out
}

// covers says the rule applies to g: it has no files, or g is written by
// a file matching one.
func (r *Rule) covers(g *Grant) bool {
	if len(r.files) == 0 {
		return true
	}
	if g.Source.File == "" {
		return false
	}
	name := filepath.ToSlash(g.Source.File)
	return slices.ContainsFunc(r.files, func(f spec.Glob) bool { return f.Match(name) })
}

// eval evaluates r with vars: true, or the error that kept it from being
// decided.
func (r *Rule) eval(vars *activation) (bool, string) {
	out, _, err := r.prg.Eval(vars)
	if err != nil {
		return false, err.Error()
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, "the expression gave " + out.Type().TypeName() + ", not a boolean"
	}
	return bool(b), ""
}

func grantViolation(r *Rule, g *Grant, err string) Violation {
	return Violation{Rule: r.Name, Description: r.Description, RulePos: r.Pos, On: r.On, Scope: g.Scope,
		Subject: g.Subject, Role: g.Role, Via: g.Via, Source: g.Source, Err: err}
}

func compareViolation(a, b Violation) int {
	return cmp.Or(
		strings.Compare(a.Rule, b.Rule),
		compareScope(a.Scope, b.Scope),
		compareSubject(a.Subject, b.Subject),
		strings.Compare(a.Via.Kind, b.Via.Kind),
		strings.Compare(a.Via.Team, b.Via.Team),
		strings.Compare(a.Role.Name, b.Role.Name),
		strings.Compare(a.Source.File, b.Source.File),
		cmp.Compare(a.Source.Line, b.Source.Line),
	)
}

// activation resolves the variables of a grant rule (grant set) or of a
// scope rule (scope and grants set).
type activation struct {
	now    ref.Val
	grant  *Grant
	scope  *Scope
	grants []Grant
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "now":
		return a.now, true
	case "grants":
		return a.grants, a.grant == nil
	}
	if a.grant == nil {
		if name == "scope" {
			return a.scope, true
		}
		return nil, false
	}
	switch name {
	case "scope":
		return a.grant.Scope, true
	case "subject":
		return a.grant.Subject, true
	case "role":
		return &a.grant.Role, true
	case "via":
		return &a.grant.Via, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

func compareSubject(a, b *Subject) int {
	switch {
	case a == nil || b == nil:
		return cmp.Compare(boolRank(a != nil), boolRank(b != nil))
	}
	return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
