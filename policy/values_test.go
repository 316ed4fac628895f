package policy

import (
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/spec"
)

// TestObjectsReadAsNative: reading subject, role, via and the elements
// of grants through objects gives what ext.NativeTypes gives on the Go
// values (checkSlow over a rule compiled without objects): every
// documented field with its CEL type, has(), equality, type(), dyn() and
// the error of a missing field.
func TestObjectsReadAsNative(t *testing.T) {
	grantExprs := []string{
		"type(subject) == policy.Subject && type(role) == policy.Role && type(via) == policy.Via",
		"type(subject.kind) == string && type(subject.id) == string && type(subject.name) == string && type(subject.status) == string",
		"type(subject.expiresAt) == google.protobuf.Timestamp && type(subject.lastUsedAt) == google.protobuf.Timestamp",
		"type(subject.lastRotatedAt) == google.protobuf.Timestamp && type(subject.createdAt) == google.protobuf.Timestamp",
		"type(subject.idpManaged) == bool && type(role.name) == string && type(role.access) == string && type(via.kind) == string && type(via.team) == string",
		"subject.kind + subject.id + subject.name + subject.status == 'userbob' || subject.idpManaged",
		"subject.expiresAt == timestamp(0) && subject.lastUsedAt == timestamp(0)",
		"subject.lastRotatedAt > timestamp(0) || subject.createdAt > timestamp(0)",
		"has(subject.kind) && has(subject.status) && !has(subject.expiresAt)",
		"has(subject.lastUsedAt) || has(subject.lastRotatedAt) || has(subject.createdAt) || has(subject.idpManaged)",
		"has(role.name) && has(via.kind) && !has(via.team)",
		"role.name + role.access + via.kind + via.team == 'WORKSPACE_AUTHORauthorteamdata'",
		"subject == subject && role == role && via != policy.Via{kind: 'direct'}",
		"via == policy.Via{kind: 'team', team: 'data'} || role == policy.Role{name: 'DAG_VIEWER', access: 'view'}",
		"[subject, subject].distinct().size() == 1 && [via].exists(v, v.kind == 'team')",
		"dyn(subject).name == 'ci' || dyn(role).access == 'custom' || has(dyn(via).team)",
		"dyn(subject).nope == 'x'",
		"has(dyn(role).nope)",
		"dyn(via)['kind'] == 'team'",
	}
	scopeExprs := []string{
		"grants.exists(g, type(g) == policy.Grant && type(g.subject) == policy.Subject && type(g.role) == policy.Role && type(g.via) == policy.Via)",
		"grants.exists(g, g.subject.kind == 'team' && g.subject.idpManaged && g.role.access == 'author')",
		"grants.exists(g, has(g.subject.expiresAt) && g.subject.lastUsedAt > timestamp(0))",
		"grants.all(g, has(g.subject) && has(g.role) && has(g.via))",
		"grants.exists(g, g.subject.createdAt == timestamp(0))",
		"grants.exists(g, g.via == policy.Via{kind: 'workspace', team: 'data'})",
		// A Grant made in CEL has no scope or source: equal to none.
		"grants.exists(g, g != policy.Grant{subject: g.subject, role: g.role, via: g.via})",
		"grants.map(g, g.subject).distinct().size() > 2 && grants.map(g, g.role).distinct().size() > 1",
		"grants.exists(g, g.subject == grants[0].subject && g != grants[0])",
		"grants.exists(g, dyn(g).subject.name == 'ci' || has(dyn(g).via.team))",
		"grants.exists(g, dyn(g).scope == 'x')",
		"grants.exists(g, dyn(g.subject).nope == 'x')",
		"grants.map(g, g.via.team).exists(t, t == 'data')",
	}
	a := Build(world())
	var nonEmpty []string
	check := func(on spec.Condition, expr string) {
		t.Run(expr, func(t *testing.T) {
			set := compileOne(t, on, expr)
			got := set.Check(a, now)
			if diff := gocmp.Diff(compileNative(t, on, expr).checkSlow(a, now), got, gocmp.AllowUnexported(Scope{})); diff != "" {
				t.Errorf("objects (-native +objects):\n%s", diff)
			}
			if len(got) > 0 {
				nonEmpty = append(nonEmpty, expr+": "+strings.Join(fired(got[:1]), ""))
			}
		})
	}
	for _, e := range grantExprs {
		check(spec.ConditionGrant, e)
	}
	for _, e := range scopeExprs {
		check(spec.ConditionScope, e)
	}
	// Each expression fires somewhere, so that none compares two empty
	// lists.
	if len(nonEmpty) != len(grantExprs)+len(scopeExprs) {
		t.Errorf("%d of %d expressions fire:\n%s", len(nonEmpty), len(grantExprs)+len(scopeExprs), strings.Join(nonEmpty, "\n"))
	}
	for _, want := range []string{
		"dyn(subject).nope == 'x': org-bot@organization:org-1(direct) error: no such field: nope",
		"grants.exists(g, dyn(g).scope == 'x'): @organization:org-1 error: no such field: scope",
	} {
		if !slices.Contains(nonEmpty, want) {
			t.Errorf("missing %q in:\n%s", want, strings.Join(nonEmpty, "\n"))
		}
	}
}

// compileNative compiles one rule on expr as compileOne does, in
// environments without objects.
func compileNative(t *testing.T, on spec.Condition, expr string) *Set {
	t.Helper()
	e, err := makeEnvs(false)
	if err != nil {
		t.Fatal(err)
	}
	r, errs := compile(e, spec.Policy{Name: "r", Description: "d", On: on, Expr: spec.Expr{Text: expr}})
	if len(errs) > 0 {
		t.Fatalf("compile %q: %v", expr, errs)
	}
	return &Set{Rules: []*Rule{r}}
}

// TestCheckIsNative: for random worlds and rules, Check gives what
// checkSlow gives on rules compiled without objects, reading the Go
// values through ext.NativeTypes as before objects.
func TestCheckIsNative(t *testing.T) {
	e, err := makeEnvs(false)
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t)
		p := spec.Policy{Name: "r", Description: "d", On: spec.ConditionGrant}
		if rapid.Bool().Draw(t, "scope") {
			p.On = spec.ConditionScope
			p.Expr.Text = genExpr(t, scopeAtoms, 2, "s") + " && grants.exists(g, " + genExpr(t, elemAtoms, 2, "g") + ")"
		} else {
			p.Expr.Text = genExpr(t, grantAtoms, 3, "e")
		}
		set, err := Compile([]spec.Policy{p})
		if err != nil {
			t.Fatal(err)
		}
		r, errs := compile(e, p)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		a := Build(w)
		if diff := gocmp.Diff((&Set{Rules: []*Rule{r}}).checkSlow(a, now), set.Check(a, now), gocmp.AllowUnexported(Scope{})); diff != "" {
			t.Fatalf("objects (-native +objects):\n%s", diff)
		}
	})
}

// TestObjectsNilSubject: a grant made by hand with no subject reads as
// before objects.
func TestObjectsNilSubject(t *testing.T) {
	b := Build(world())
	a := Access{Grants: slices.Clone(b.Grants), Scopes: b.Scopes}
	a.Grants[0].Subject = nil
	for _, tt := range []struct {
		on   spec.Condition
		expr string
	}{
		{spec.ConditionGrant, "subject.kind == 'user'"},
		{spec.ConditionGrant, "has(subject.kind) || role.name == 'x'"},
		{spec.ConditionGrant, "subject == subject"},
		{spec.ConditionScope, "grants.exists(g, g.subject.kind == 'user')"},
		{spec.ConditionScope, "grants.exists(g, !has(g.subject))"},
		{spec.ConditionScope, "grants.exists(g, has(g.subject.name))"},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			got := compileOne(t, tt.on, tt.expr).Check(a, now)
			if diff := gocmp.Diff(compileNative(t, tt.on, tt.expr).checkSlow(a, now), got, gocmp.AllowUnexported(Scope{})); diff != "" {
				t.Errorf("objects (-native +objects):\n%s", diff)
			}
		})
	}
}
