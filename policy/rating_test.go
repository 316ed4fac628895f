package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// TestCustomRoleRatedAsTheReport: role.access of a custom role is the
// level the access report gives it, from its permissions as the API lists
// them (World.RolePermissions), with a level given (World.RoleLevels,
// --role-level) over it; a role neither rated nor given one is custom.
func TestCustomRoleRatedAsTheReport(t *testing.T) {
	dep := sync.Scope{Level: sync.LevelDeployment, ID: "d-ap"}
	roles := []string{"DAG_DEPLOYER", "DEPLOYMENT_VIEWER", "TOKEN_MINTER", "ODD_ONE", "GIVEN"}
	var subjects []sync.Subject
	for _, r := range roles {
		subjects = append(subjects, sync.Subject{SubjectRef: sync.SubjectRef{Kind: sync.KindOrganizationToken, ID: "tk-" + r, Name: r},
			Grants: []sync.Grant{{Scope: dep, Role: r}}})
	}
	perms := map[string][]string{
		"DAG_DEPLOYER":      {"deployment.get", "deployment.deploy"},
		"DEPLOYMENT_VIEWER": {"deployment.get", "deployment.dags.list"},
		"TOKEN_MINTER":      {"deployment.apiTokens.update"},
		"ODD_ONE":           {"deployment.frobnicate"},
		"GIVEN":             {"deployment.get"},
	}
	given := access.RoleLevels{"GIVEN": access.LevelOperate}
	deps := []astroapi.Deployment{{ID: "d-ap", Name: "analytics-prod", WorkspaceID: "ws-a"}}

	report := access.Compute(access.Input{Observed: &sync.Observed{Organization: "org-1", Deployments: deps, Subjects: subjects},
		RolePermissions: perms, RoleLevels: given})
	want := map[string]string{}
	for _, r := range roles {
		want[r] = string(report.RoleLevels.Of(r))
	}
	if want["DAG_DEPLOYER"] != "author" || want["ODD_ONE"] != "custom" || want["GIVEN"] != "operate" {
		t.Fatalf("the report rates %v", want)
	}

	a := Build(World{Organization: "org-1", Deployments: deps, Subjects: subjects, RolePermissions: perms, RoleLevels: given})
	got := map[string]string{}
	for _, v := range compileOne(t, spec.ConditionGrant, "true").Check(a, now) {
		got[v.Role.Name] = v.Role.Access
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("role.access (-report +policy):\n%s", diff)
	}
}
