package access

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// filterOrg is org with a token of every level and a custom role, and a
// user who reaches a whole workspace.
func filterOrg() Report {
	return Compute(Input{Observed: filterObserved(), Production: []spec.Glob{"*1"}})
}

func filterObserved() *sync.Observed {
	return org(
		tok("ci", "WORKSPACE", ws("ws-a", "WORKSPACE_AUTHOR"), dep("d-a1", "DEPLOYMENT_ADMIN")),
		tok("viewer", "WORKSPACE", ws("ws-b", "WORKSPACE_MEMBER"), dep("d-b1", "DAG_VIEWER_CUSTOM")),
		tok("ops", "ORGANIZATION", orgRole("ORGANIZATION_MEMBER"), ws("ws-b", "WORKSPACE_OPERATOR")),
		alice,
	)
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name string
		f    Filter
		want map[string][]string
	}{
		{"by deployment id", Filter{Deployments: []string{"d-a2"}}, map[string][]string{
			"d-a2 workspaceToken:ci": {"WORKSPACE_AUTHOR (workspace)"}}},
		{"by workspace/name and by name", Filter{Deployments: []string{"alpha/a2", "b1"}}, map[string][]string{
			"d-a2 workspaceToken:ci":     {"WORKSPACE_AUTHOR (workspace)"},
			"d-b1 workspaceToken:viewer": {"DAG_VIEWER_CUSTOM (deployment)", "WORKSPACE_MEMBER (workspace)"},
			"d-b1 organizationToken:ops": {"WORKSPACE_OPERATOR (workspace)"},
		}},
		{"by workspace name", Filter{Workspaces: []string{"beta"}}, map[string][]string{
			"d-b1 workspaceToken:viewer": {"DAG_VIEWER_CUSTOM (deployment)", "WORKSPACE_MEMBER (workspace)"},
			"d-b1 organizationToken:ops": {"WORKSPACE_OPERATOR (workspace)"},
		}},
		{"by principal pattern, name or id, any case", Filter{Principals: []spec.Glob{"A*", "u-?"}}, map[string][]string{
			"d-a1 user:alice": {"DEPLOYMENT_ADMIN (deployment)"}}},
		{"min level drops lower grants, keeps custom roles", Filter{MinLevel: LevelOperate}, map[string][]string{
			"d-a1 workspaceToken:ci":     {"DEPLOYMENT_ADMIN (deployment)"},
			"d-a1 user:alice":            {"DEPLOYMENT_ADMIN (deployment)"},
			"d-b1 workspaceToken:viewer": {"DAG_VIEWER_CUSTOM (deployment)"},
			"d-b1 organizationToken:ops": {"WORKSPACE_OPERATOR (workspace)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.f.Apply(filterOrg())
			if diff := cmp.Diff(tt.want, cells(got)); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFilterKeepsDeploymentsOnlyWhenAsked: a deployment filter keeps a
// deployment nobody can touch (it was asked for); a principal or level
// filter leaves out the deployments it empties.
func TestFilterKeepsDeploymentsOnlyWhenAsked(t *testing.T) {
	r := Compute(Input{Observed: org(alice)})
	names := func(r Report) (out []string) {
		for _, d := range r.Deployments {
			out = append(out, d.ID)
		}
		return out
	}
	if got := names(Filter{Workspaces: []string{"ws-a"}}.Apply(r)); !cmp.Equal(got, []string{"d-a1", "d-a2"}) {
		t.Errorf("workspace filter kept %v, want both of its deployments", got)
	}
	if got := names(Filter{Principals: []spec.Glob{"alice"}}.Apply(r)); !cmp.Equal(got, []string{"d-a1"}) {
		t.Errorf("principal filter kept %v, want only where alice reaches", got)
	}
	if got := names(Filter{}.Apply(r)); len(got) != 3 {
		t.Errorf("no filter kept %v, want all 3", got)
	}
}

func TestFilterLevelOfCellFollowsKeptGrants(t *testing.T) {
	r := Compute(Input{Observed: org(tok("t", "WORKSPACE", ws("ws-a", "WORKSPACE_OWNER"), dep("d-a1", "MY_ROLE")))})
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			if d.ID == "d-a1" && e.Level != LevelAdmin {
				t.Errorf("cell level %q, want admin (WORKSPACE_OWNER is the highest grant)", e.Level)
			}
		}
	}
	got := Filter{MinLevel: LevelAdmin}.Apply(r)
	if e := got.Deployments[0].Access[0]; e.Level != LevelAdmin || len(e.Grants) != 2 {
		t.Errorf("admin floor: %+v, want both grants (custom kept) and level admin", e)
	}
}

func TestUnmatched(t *testing.T) {
	r := filterOrg()
	got := Filter{Deployments: []string{"d-a1", "alpha/b1", "nope"}, Workspaces: []string{"beta", "ws-zzz"}}.Unmatched(r)
	want := []string{
		`--deployment "alpha/b1": no deployment has this id, name or workspace/name`,
		`--deployment "nope": no deployment has this id, name or workspace/name`,
		`--workspace "ws-zzz": no workspace with a deployment has this id or name`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unmatched (-want +got):\n%s", diff)
	}
}

func TestProduction(t *testing.T) {
	r := filterOrg()
	var prod []string
	for _, d := range r.Deployments {
		if d.Production {
			prod = append(prod, d.ID)
		}
	}
	if !cmp.Equal(prod, []string{"d-a1", "d-b1"}) {
		t.Errorf("production %v, want the deployments named *1", prod)
	}
	if !cmp.Equal(r.Production, []spec.Glob{"*1"}) {
		t.Errorf("report records %v, want the patterns", r.Production)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{
		"view": LevelView, "ADMIN": LevelAdmin, "operate": LevelOperate, "author": LevelAuthor,
		"workspace_member": LevelView, "WORKSPACE_AUTHOR": LevelAuthor, "WORKSPACE_OPERATOR": LevelOperate,
		"WORKSPACE_OWNER": LevelAdmin, "DEPLOYMENT_ADMIN": LevelAdmin, "ORGANIZATION_OWNER": LevelAdmin,
	} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "custom", "WORKSPACE_ACCESSOR", "DAG_DEPLOYER", "root"} {
		if _, err := ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) accepted", bad)
		}
	}
}

// TestRoleLevels: Astronomer's hierarchy, and custom roles unknown.
func TestRoleLevels(t *testing.T) {
	for role, want := range map[string]Level{
		astroapi.RoleDeploymentAdmin: LevelAdmin, astroapi.RoleOrganizationOwner: LevelAdmin, astroapi.RoleWorkspaceOwner: LevelAdmin,
		astroapi.RoleWorkspaceOperator: LevelOperate, astroapi.RoleWorkspaceAuthor: LevelAuthor, astroapi.RoleWorkspaceMember: LevelView,
		"DAG_DEPLOYER": LevelCustom,
	} {
		if got := RoleLevel(role); got != want {
			t.Errorf("RoleLevel(%s) = %s, want %s", role, got, want)
		}
	}
	order := []Level{LevelView, LevelAuthor, LevelOperate, LevelCustom, LevelAdmin}
	for i := 1; i < len(order); i++ {
		if order[i].Rank() <= order[i-1].Rank() {
			t.Errorf("%s does not rank above %s", order[i], order[i-1])
		}
	}
}

// TestEveryBuiltinRoleHasALevel: policies rate roles on every level, so
// no built-in role may fall to custom, and a custom role keeps the level
// --role-level gives it.
func TestEveryBuiltinRoleHasALevel(t *testing.T) {
	m := RoleLevels{"DAG_DEPLOYER": LevelOperate}
	for _, role := range astroapi.BuiltinRoles() {
		if l := m.OfAny(role); l == LevelCustom || l.Rank() == 0 {
			t.Errorf("OfAny(%s) = %q, want a fixed level", role, l)
		}
	}
	if l := m.OfAny("DAG_DEPLOYER"); l != LevelOperate {
		t.Errorf("OfAny(DAG_DEPLOYER) = %q, want operate as given", l)
	}
	if l := m.OfAny("MYSTERY"); l != LevelCustom {
		t.Errorf("OfAny(MYSTERY) = %q, want custom", l)
	}
}

// TestReadDerivesLevels: a report without levels (an older one, or edited
// by hand) gets them from its roles, so --min-role narrows it like a new
// one.
func TestReadDerivesLevels(t *testing.T) {
	old := `{"format_version":"1","organization":"o","deployments":[{"id":"d","name":"d","access":[
		{"principal":{"kind":"user","id":"u","name":"u"},"grants":[{"role":"WORKSPACE_MEMBER","source":"workspace"},{"role":"DEPLOYMENT_ADMIN","source":"deployment"}]}]}]}`
	r, err := Read([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	e := r.Deployments[0].Access[0]
	if e.Level != LevelAdmin || e.Grants[0].Level != LevelView || e.Grants[1].Level != LevelAdmin {
		t.Errorf("levels not derived: %+v", e)
	}
	if got := (Filter{MinLevel: LevelAdmin}).Apply(r); len(got.Deployments) != 1 || len(got.Deployments[0].Access[0].Grants) != 1 {
		t.Errorf("min level on a read report: %+v", got.Deployments)
	}
}

// TestRoleLevelsRateCustomRoles: a level given to a custom role replaces
// "custom", so --min-role filters it like a built-in one; a saved report
// keeps the levels it was given.
func TestRoleLevelsRateCustomRoles(t *testing.T) {
	in := Input{Observed: filterObserved(), RoleLevels: RoleLevels{"DAG_VIEWER_CUSTOM": LevelView}}
	r := Compute(in)
	got := Filter{MinLevel: LevelOperate}.Apply(r)
	want := map[string][]string{
		"d-a1 workspaceToken:ci":     {"DEPLOYMENT_ADMIN (deployment)"},
		"d-a1 user:alice":            {"DEPLOYMENT_ADMIN (deployment)"},
		"d-b1 organizationToken:ops": {"WORKSPACE_OPERATOR (workspace)"},
	}
	if diff := cmp.Diff(want, cells(got)); diff != "" {
		t.Errorf("a rated custom role is filtered by its level (-want +got):\n%s", diff)
	}
	doc, err := json.Marshal(r.Document())
	if err != nil {
		t.Fatal(err)
	}
	read, err := Read(doc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cells(got), cells(Filter{MinLevel: LevelOperate}.Apply(read))); diff != "" {
		t.Errorf("the saved report forgot its role levels (-want +got):\n%s", diff)
	}
	read.Relevel(nil)
	if _, kept := cells(Filter{MinLevel: LevelOperate}.Apply(read))["d-b1 workspaceToken:viewer"]; !kept {
		t.Error("after Relevel(nil) the custom role is unknown again, so --min-role keeps it; it was dropped")
	}
	if _, err := Read([]byte(`{"format_version":"1","role_levels":{"X":"root"}}`)); err == nil || !strings.Contains(err.Error(), `"root" is not a level for X`) {
		t.Errorf("a bad saved role level: %v", err)
	}
}

func TestParseRoleLevel(t *testing.T) {
	if role, l, err := ParseRoleLevel("DAG_DEPLOYER=Author"); err != nil || role != "DAG_DEPLOYER" || l != LevelAuthor {
		t.Errorf("ParseRoleLevel = %q, %q, %v", role, l, err)
	}
	for in, says := range map[string]string{
		"DAG_DEPLOYER":              "want CUSTOM_ROLE=LEVEL",
		"=view":                     "want CUSTOM_ROLE=LEVEL",
		"DEPLOYMENT_ADMIN=view":     "is a built-in role",
		"workspace_owner=view":      "is a built-in role",
		"WORKSPACE_ACCESSOR=view":   "is a built-in role",
		"dag_viewer=admin":          "is a built-in role",
		"DEPLOYMENT_ACCESSOR=view":  "is a built-in role",
		"ORGANIZATION_MEMBER=admin": "is a built-in role",
		"DAG_DEPLOYER=custom":       "the level must be",
		"DAG_DEPLOYER=superuser":    "the level must be",
	} {
		if _, _, err := ParseRoleLevel(in); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseRoleLevel(%q) = %v, want it to say %q", in, err, says)
		}
	}
}
