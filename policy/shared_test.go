package policy

import (
	"slices"
	"testing"

	"cel.dev/cel-go/cel"
	gocmp "github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/spec"
)

func TestSharedParts(t *testing.T) {
	e, err := newEnvs()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		expr string
		want []string
	}{
		{"scope.production && grants.filter(g, g.role.access == 'admin').size() in [1, 2]", []string{
			`grants.filter(g, g.role.access == "admin")`,
			`grants.filter(g, g.role.access == "admin").size()`,
			`grants.filter(g, g.role.access == "admin").size() in [1, 2]`,
		}},
		// Reads scope, or a variable of a comprehension around it: not
		// shared.
		{"grants.exists(g, g.subject.name == scope.name)", nil},
		{"[1, 2].exists(n, grants.filter(g, size(g.via.team) > n).size() > 0)", nil},
		{"grants.size() > 2", nil},
		{"grants.all(g, g.subject.expiresAt < now)", nil}, // the whole rule
		{"scope.production && grants.all(g, g.subject.expiresAt < now)", []string{"grants.all(g, g.subject.expiresAt < now)"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			checked, iss := e.scope.Compile(tt.expr)
			if iss.Err() != nil {
				t.Fatal(iss.Err())
			}
			var got []string
			for _, text := range sharedParts(checked) {
				got = append(got, text)
			}
			slices.Sort(got)
			if diff := gocmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSharedPartsCheck: rules sharing parts decide as each alone does,
// over lists that differ by the rules' files, on errors, and where
// grants is a comprehension's own variable.
func TestSharedPartsCheck(t *testing.T) {
	a := Build(world())
	rule := func(name, expr string, files ...string) spec.Policy {
		p := spec.Policy{Name: name, Description: "d", On: spec.ConditionScope, Expr: spec.Expr{Text: expr}}
		for _, f := range files {
			p.Files = append(p.Files, spec.Pattern{Glob: f})
		}
		return p
	}
	admins := "grants.filter(g, g.role.access == 'admin').map(g, g.subject.id).distinct().size()"
	teams := "grants.map(g, 10 / size(g.via.team)).size()"
	inner := "[grants.filter(g, g.via.kind != 'direct')].exists(grants, grants.exists(g, g.via.kind == 'direct'))"
	tests := [][]spec.Policy{
		{rule("a", "scope.level != 'dag' && "+admins+" == 1"), rule("b", "scope.level != 'dag' && "+admins+" > 1"),
			rule("c", "scope.level != 'dag' && "+admins+" == 1", "teams/**"), rule("d", admins+" in [0]", "tokens.yaml")},
		{rule("a", "scope.production && "+teams+" > 0"), rule("b", "!scope.production && "+teams+" > 1"), rule("c", teams+" > 0", "teams/**")},
		{rule("a", "scope.production && "+inner), rule("b", "scope.level == 'workspace' && !"+inner),
			rule("c", "scope.production && grants.exists(g, g.via.kind == 'direct')")},
	}
	for _, ps := range tests {
		t.Run(ps[0].Expr.Text, func(t *testing.T) {
			set, err := Compile(ps)
			if err != nil {
				t.Fatal(err)
			}
			shared := 0
			for _, r := range set.Rules {
				if r.untracked == nil {
					t.Fatalf("rule %s runs tracked", r.Name)
				}
				shared += len(sharedParts(mustCompile(t, r, ps)))
			}
			if shared == 0 {
				t.Fatal("no shared parts")
			}
			got := set.Check(a, now)
			if len(got) == 0 {
				t.Error("no violations")
			}
			want := set.checkSlow(a, now)
			if diff := gocmp.Diff(want, got, gocmp.AllowUnexported(Scope{})); diff != "" {
				t.Errorf("shared (-alone +shared):\n%s", diff)
			}
		})
	}
}

// mustCompile is the checked expression of r, one of ps.
func mustCompile(t *testing.T, r *Rule, ps []spec.Policy) *cel.Ast {
	t.Helper()
	e, err := newEnvs()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == r.Name {
			checked, iss := e.scope.Compile(p.Expr.Text)
			if iss.Err() != nil {
				t.Fatal(iss.Err())
			}
			return checked
		}
	}
	t.Fatalf("no rule %s", r.Name)
	return nil
}

// TestSharedLeaves: grant rules with a leaf of the same text share its
// results, errors included, and decide as each alone does.
func TestSharedLeaves(t *testing.T) {
	a := Build(world())
	ps := []spec.Policy{
		{Name: "a", Description: "d", Expr: spec.Expr{Text: "{'ci': 1}[subject.name] > 0 && scope.production"}},
		{Name: "b", Description: "d", Expr: spec.Expr{Text: "{'ci': 1}[subject.name] > 0 && via.kind == 'direct'"}},
		{Name: "c", Description: "d", Expr: spec.Expr{Text: "{'ci': 1}[subject.name] > 0"}},
		{Name: "d", Description: "d", Expr: spec.Expr{Text: "subject.kind == 'user' && role.access == 'admin'"}},
		{Name: "e", Description: "d", Expr: spec.Expr{Text: "subject.kind == 'user' || scope.production"}},
	}
	for i := range ps {
		ps[i].On = spec.ConditionGrant
	}
	set, err := Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, r := range set.Rules {
		for _, l := range r.leaves {
			keys[l.key]++
		}
	}
	for _, k := range []string{"4 {\"ci\": 1}[subject.name] > 0", "4 subject.kind == \"user\""} {
		if keys[k] != 2 {
			t.Errorf("leaf %q in %d rules, want 2 (keys %v)", k, keys[k], keys)
		}
	}
	got := set.Check(a, now)
	errs := 0
	for _, v := range got {
		if v.Err != "" {
			errs++
		}
	}
	if errs == 0 {
		t.Error("no errors")
	}
	if diff := gocmp.Diff(set.checkSlow(a, now), got, gocmp.AllowUnexported(Scope{})); diff != "" {
		t.Errorf("shared (-alone +shared):\n%s", diff)
	}
}

func TestHits(t *testing.T) {
	var hs hits
	const n = 2*hitsChunk + 5
	for i := range n {
		hs.add(hit{rule: int32(i % 7), at: int32(i), err: int32(i % 3)})
	}
	if hs.len() != n || len(hs.chunks) != 3 {
		t.Fatalf("%d hits in %d chunks, want %d in 3", hs.len(), len(hs.chunks), n)
	}
	next := 0
	for i, h := range hs.all() {
		if i != next || h != (hit{rule: int32(i % 7), at: int32(i), err: int32(i % 3)}) {
			t.Fatalf("hit %d (want %d): %+v", i, next, h)
		}
		next++
		if i == n-2 {
			break
		}
	}
	if next != n-1 {
		t.Errorf("stopped after %d hits, want %d", next, n-1)
	}
}
