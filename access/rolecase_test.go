package access

import (
	"testing"

	"github.com/tokensync/tokensync/astroapi"
)

// TestRoleLevelNamesAreExact: a role is rated as it is read. The API
// answers built-in names upper case, so a role read in another case is a
// custom role of that name ("deployment_admin" is not DEPLOYMENT_ADMIN),
// and a level given to one custom role is not given to another that
// differs only in case.
func TestRoleLevelNamesAreExact(t *testing.T) {
	levels := RoleLevels{"Reader": LevelView, "READER": LevelAdmin}
	tests := []struct {
		role string
		want Level
	}{
		{astroapi.RoleDeploymentAdmin, LevelAdmin},
		{astroapi.RoleWorkspaceMember, LevelView},
		{"deployment_admin", LevelCustom},
		{"Workspace_Owner", LevelCustom},
		{"Reader", LevelView},
		{"READER", LevelAdmin},
		{"reader", LevelCustom},
	}
	for _, tt := range tests {
		if got := levels.Of(tt.role); got != tt.want {
			t.Errorf("level of %q = %q, want %q", tt.role, got, tt.want)
		}
	}
	if got := RoleLevel("deployment_admin"); got != LevelCustom {
		t.Errorf("RoleLevel(deployment_admin) = %q, want %q", got, LevelCustom)
	}
	for _, arg := range []string{"Reader=view", "READER=admin"} {
		role, _, err := ParseRoleLevel(arg)
		if err != nil || role != arg[:6] {
			t.Errorf("ParseRoleLevel(%q) = %q, %v: want the role as written", arg, role, err)
		}
	}
}
