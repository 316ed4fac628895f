package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// The atoms random rules are made of, by what they read. Some fail on
// some values (a division by zero, a number that is not one), so that
// errors meet && and || on both sides.
var (
	grantAtoms = []string{
		"subject.kind == 'user'", "subject.kind.endsWith('Token')", "subject.name == 'u1'", "has(subject.expiresAt)",
		"subject.expiresAt < now + duration('720h')", "subject.status == 'ACTIVE'", "subject.idpManaged",
		"int(subject.id.split('-')[1]) > 1", "10 / (size(subject.name) % 3) > 2",
		"scope.production", "scope.level == 'deployment'", "scope.workspace == 'w1'", "scope.name.startsWith('d')",
		"10 / (size(scope.name) % 4) > 3",
		"role.access == 'admin'", "role.name == 'WORKSPACE_AUTHOR'", "10 / size(role.access) > 2",
		"via.kind == 'direct'", "via.team == 't0'", "10 / size(via.team) > 4",
		"subject.name == via.team", "scope.workspace == subject.name", "size(via.team) / size(subject.status) > 0",
		"via.kind == 'team' ? role.access == 'view' : scope.production",
		"true", "false", "now > timestamp('2026-01-01T00:00:00Z')", "1 / 0 > 1",
		"{'u1': 1}[subject.name] > 0", "[1, 2, 3, 4][size(scope.name)] > 1", "{'view': 1}[role.access] > 0",
		"{'direct': 1}[via.kind] > 0", "{'u1direct': 1}[subject.name + via.kind] > 0",
	}
	elemAtoms = []string{
		"g.role.access == 'admin'", "g.subject.kind != 'team'", "g.via.kind == 'direct'", "10 / size(g.via.team) > 4", "{'view': 1}[g.role.access] > 0",
	}
	scopeAtoms = []string{
		"scope.production", "scope.level == 'deployment'", "scope.name == 'w0'", "grants.size() > 2",
		"grants.map(g, g.subject.id).distinct().size() in [1, 2]", "10 / grants.size() > 3", "[1, 2][size(scope.name)] > 0",
	}
)

// genExpr is a random expression over atoms, depth at most d.
func genExpr(t *rapid.T, atoms []string, d int, label string) string {
	if d == 0 || rapid.IntRange(0, 2).Draw(t, label+"leaf") == 0 {
		return rapid.SampledFrom(atoms).Draw(t, label+"atom")
	}
	switch rapid.IntRange(0, 3).Draw(t, label+"op") {
	case 0:
		return "!(" + genExpr(t, atoms, d-1, label) + ")"
	case 1:
		return "(" + genExpr(t, atoms, d-1, label) + " || " + genExpr(t, atoms, d-1, label) + ")"
	}
	return "(" + genExpr(t, atoms, d-1, label) + " && " + genExpr(t, atoms, d-1, label) + ")"
}

// genWorld is a random small world.
func genWorld(t *rapid.T) World {
	w := World{Organization: "org", Members: map[string][]string{}, Production: []spec.Glob{spec.DefaultProduction}, Sources: map[sync.Key]spec.Pos{}}
	for i := range rapid.IntRange(1, 3).Draw(t, "workspaces") {
		w.Workspaces = append(w.Workspaces, astroapi.Workspace{ID: fmt.Sprintf("ws%d", i), Name: fmt.Sprintf("w%d", i)})
	}
	for i := range rapid.IntRange(0, 5).Draw(t, "deployments") {
		name := rapid.SampledFrom([]string{"d", "dev", "prod", "d-prod", "stage"}).Draw(t, "depname") + fmt.Sprint(i)
		w.Deployments = append(w.Deployments, astroapi.Deployment{ID: fmt.Sprintf("dp%d", i), Name: name, WorkspaceID: fmt.Sprintf("ws%d", rapid.IntRange(0, len(w.Workspaces)-1).Draw(t, "depws"))})
	}
	var scopes []sync.Scope
	scopes = append(scopes, sync.Organization)
	for _, ws := range w.Workspaces {
		scopes = append(scopes, sync.Scope{Level: sync.LevelWorkspace, ID: ws.ID})
	}
	for _, d := range w.Deployments {
		scopes = append(scopes, sync.Scope{Level: sync.LevelDeployment, ID: d.ID}, sync.Scope{Level: sync.LevelDAG, ID: "dag", Deployment: d.ID})
	}
	roles := []string{astroapi.RoleOrganizationMember, astroapi.RoleOrganizationOwner, astroapi.RoleWorkspaceAuthor, astroapi.RoleWorkspaceMember,
		astroapi.RoleDeploymentAdmin, astroapi.RoleDAGViewer, "CUSTOM"}
	kinds := []sync.Kind{sync.KindUser, sync.KindTeam, sync.KindWorkspaceToken, sync.KindOrganizationToken, sync.KindDeploymentToken}
	files := []string{"a.yaml", "teams/t0.yaml", "teams/t1.yaml"}
	exp := now.Add(time.Duration(rapid.IntRange(-100, 2000).Draw(t, "expires")) * time.Hour)
	for i := range rapid.IntRange(1, 8).Draw(t, "subjects") {
		kind := rapid.SampledFrom(kinds).Draw(t, "kind")
		s := sync.Subject{SubjectRef: sync.SubjectRef{Kind: kind, ID: fmt.Sprintf("%s-%d", kind, i), Name: rapid.SampledFrom([]string{"u1", "t0", "bob", "w1"}).Draw(t, "name")},
			Status: rapid.SampledFrom([]string{"", "ACTIVE", "INACTIVE"}).Draw(t, "status")}
		if rapid.Bool().Draw(t, "expiry") {
			s.Hygiene.ExpiresAt = exp
		}
		s.Hygiene.IdpManaged = rapid.Bool().Draw(t, "idp")
		for range rapid.IntRange(0, 3).Draw(t, "grants") {
			g := sync.Grant{Scope: rapid.SampledFrom(scopes).Draw(t, "scope"), Role: rapid.SampledFrom(roles).Draw(t, "role")}
			s.Grants = append(s.Grants, g)
			if f := rapid.IntRange(-1, len(files)-1).Draw(t, "file"); f >= 0 {
				w.Sources[sync.Key{Scope: g.Scope, Subject: s.ID}] = spec.Pos{File: files[f], Line: rapid.IntRange(1, 3).Draw(t, "line"), Col: 1}
			}
		}
		if kind == sync.KindTeam {
			for range rapid.IntRange(0, 3).Draw(t, "members") {
				w.Members[s.ID] = append(w.Members[s.ID], fmt.Sprintf("user-%d", rapid.IntRange(0, 4).Draw(t, "member")))
			}
		}
		w.Subjects = append(w.Subjects, s)
	}
	return w
}

// sortAll orders violations fully, for comparing lists whose rules share
// a name (their order among equals is not given).
func sortAll(vs []Violation) {
	slices.SortStableFunc(vs, func(a, b Violation) int {
		return cmp.Or(compareViolation(a, b), a.RulePos.Line-b.RulePos.Line, strings.Compare(a.Err, b.Err))
	})
}

func TestCheckFastIsSlow(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t)
		var ps []spec.Policy
		names := map[string]bool{}
		unique := true
		for i := range rapid.IntRange(1, 6).Draw(t, "rules") {
			p := spec.Policy{Name: rapid.SampledFrom([]string{"a", "b", "c", "d", "e", "f"}).Draw(t, "rulename"), Description: fmt.Sprint(i), Pos: spec.Pos{Line: i}}
			unique = unique && !names[p.Name]
			names[p.Name] = true
			if rapid.IntRange(0, 3).Draw(t, "on") == 0 {
				p.On = spec.ConditionScope
				p.Expr.Text = genExpr(t, scopeAtoms, 2, "s")
				if rapid.Bool().Draw(t, "exists") {
					p.Expr.Text += " && grants.exists(g, " + genExpr(t, elemAtoms, 2, "g") + ")"
				}
			} else {
				p.On = spec.ConditionGrant
				p.Expr.Text = genExpr(t, grantAtoms, 3, "e")
			}
			if rapid.IntRange(0, 3).Draw(t, "hasfiles") == 0 {
				p.Files = []spec.Pattern{{Glob: rapid.SampledFrom([]string{"teams/*", "a.yaml", "*.yaml"}).Draw(t, "glob")}}
			}
			ps = append(ps, p)
		}
		set, err := Compile(ps)
		if err != nil {
			t.Fatal(err)
		}
		a := Build(w)
		switch rapid.IntRange(0, 3).Draw(t, "access") {
		case 1: // made by hand: no index
			a = Access{Grants: a.Grants, Scopes: a.Scopes}
		case 2: // changed after Build: the index is stale
			if len(a.Grants) > 1 {
				a.Grants = slices.Clone(a.Grants[1:])
				a.Grants[0].Role = Role{Name: "X", Access: "admin"}
			}
		}
		want := set.checkSlow(a, now)
		got := set.Check(a, now)
		if !slices.IsSortedFunc(got, compareViolation) {
			t.Fatalf("not sorted: %v", fired(got))
		}
		if !unique {
			sortAll(want)
			sortAll(got)
		}
		if diff := gocmp.Diff(want, got, gocmp.AllowUnexported(Scope{})); diff != "" {
			t.Fatalf("fast (-slow +fast):\n%s", diff)
		}
	})
}

// TestErrorsUnderAndOr: && is false when one side is, whatever the other
// gives; an error otherwise is a violation carrying it, as is a rule that
// fails whole.
func TestErrorsUnderAndOr(t *testing.T) {
	a := Build(world())
	tests := []struct {
		expr string
		want []string
	}{
		{"1 / 0 > 1 && subject.kind == 'nobody'", []string{}},
		{"subject.kind == 'nobody' && {'x': 1}[via.kind] > 0", []string{}},
		{"subject.kind == 'deploymentToken' && {'x': 1}[via.kind] > 0", []string{"dep-bot@deployment:campaigns-PROD(direct) error: no such key: direct"}},
		{"{'x': 1}[subject.name] > 0 && 1 / 0 > 1 && subject.kind == 'deploymentToken'", []string{"dep-bot@deployment:campaigns-PROD(direct) error: no such key: dep-bot"}},
		{"scope.level == 'dag' && (subject.kind == 'user' || {'x': 1}[role.name] > 0)", []string{"org-bot@dag:finance(direct) error: no such key: DAG_VIEWER", "org-bot@dag:daily(direct) error: no such key: DAG_AUTHOR"}},
		{"scope.level == 'dag' && !({'x': 1}[role.name] > 0 || subject.kind == 'organizationToken')", []string{}},
		{"scope.level == 'dag' && [1][size(scope.name)] > 0", []string{"org-bot@dag:finance(direct) error: index out of bounds: 7", "org-bot@dag:daily(direct) error: index out of bounds: 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			set := compileOne(t, spec.ConditionGrant, tt.expr)
			got := set.Check(a, now)
			if diff := gocmp.Diff(tt.want, fired(got)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
			if diff := gocmp.Diff(set.checkSlow(a, now), got, gocmp.AllowUnexported(Scope{})); diff != "" {
				t.Errorf("fast (-slow +fast):\n%s", diff)
			}
		})
	}
}
