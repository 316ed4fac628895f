package astroapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCanonicalRole(t *testing.T) {
	for in, want := range map[string]string{
		"DEPLOYMENT_ADMIN":    "DEPLOYMENT_ADMIN",
		"deployment_admin":    "DEPLOYMENT_ADMIN",
		"Deployment_Admin":    "DEPLOYMENT_ADMIN",
		"workspace_owner":     "WORKSPACE_OWNER",
		"workspace_accessor":  "WORKSPACE_ACCESSOR",
		"DAG_DEPLOYER":        "DAG_DEPLOYER",
		"dag_deployer":        "dag_deployer",
		"dag_viewer":          "DAG_VIEWER",
		"Dag_Author":          "DAG_AUTHOR",
		"deployment_accessor": "DEPLOYMENT_ACCESSOR",
		"DEPLOYMENT_ADMIN ":   "DEPLOYMENT_ADMIN ",
		"Deployment Admin":    "Deployment Admin",
		"organization_owner":  "ORGANIZATION_OWNER",
	} {
		if got := CanonicalRole(in); got != want {
			t.Errorf("CanonicalRole(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuiltinRoles(t *testing.T) {
	type answer struct {
		Scope                        string
		Builtin, Deployment, DAGRole bool
	}
	for _, tc := range []struct {
		name string
		want answer
	}{
		{"DEPLOYMENT_ADMIN", answer{ScopeDeployment, true, true, false}},
		{"deployment_admin", answer{ScopeDeployment, true, true, false}},
		{"ORGANIZATION_OBSERVE_MEMBER", answer{ScopeOrganization, true, false, false}},
		{"Workspace_Accessor", answer{ScopeWorkspace, true, false, false}},
		{"WORKSPACE_OPERATOR", answer{ScopeWorkspace, true, false, false}},
		{"deployment_accessor", answer{ScopeDeployment, true, true, false}},
		{"dag_author", answer{ScopeDAG, true, false, true}},
		{"DAG_VIEWER", answer{ScopeDAG, true, false, true}},
		{"DAG_DEPLOYER", answer{"", false, false, false}},
		{"", answer{"", false, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := answer{BuiltinRoleScope(tc.name), IsBuiltinRole(tc.name), BuiltinDeploymentRole(tc.name), IsDAGRole(tc.name)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEntityScope(t *testing.T) {
	for in, want := range map[string]string{
		EntityOrganization: ScopeOrganization,
		EntityWorkspace:    ScopeWorkspace,
		EntityDeployment:   ScopeDeployment,
		EntityDAG:          ScopeDAG,
		EntityDAGTag:       ScopeDAG,
		"dag":              "",
		"":                 "",
	} {
		if got := EntityScope(in); got != want {
			t.Errorf("EntityScope(%q) = %q, want %q", in, got, want)
		}
	}
	if diff := cmp.Diff([]string{ScopeOrganization, ScopeWorkspace, ScopeDeployment, ScopeDAG}, RoleScopes()); diff != "" {
		t.Errorf("RoleScopes (-want +got):\n%s", diff)
	}
}
