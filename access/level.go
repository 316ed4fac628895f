package access

import (
	"fmt"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
)

// Level is how much a grant lets its holder do on a deployment, after
// Astronomer's user-permissions reference ("Workspace Owner > Workspace
// Operator > Workspace Author > Workspace Member > Workspace Accessor";
// "Organization Owners inherit Workspace Owner permissions for all
// Workspaces"):
//
//	admin    DEPLOYMENT_ADMIN, WORKSPACE_OWNER, ORGANIZATION_OWNER: everything, users and tokens included
//	operate  WORKSPACE_OPERATOR: change the deployment's settings, variables and API tokens
//	author   WORKSPACE_AUTHOR: deploy code, run and manage DAGs
//	view     WORKSPACE_MEMBER: read the deployment and its Airflow UI
//	dag      a DAG role (DAG_VIEWER, DAG_AUTHOR or a custom role of scope
//	         DAG), held on one DAG or DAG tag: it reaches those DAGs of the
//	         deployment only, never the deployment itself
//	custom   a custom deployment role not rated: neither from its
//	         permissions (RatePermissions) nor by --role-level, so its
//	         level is unknown
//
// A custom role is never hidden by --min-role: an audit that asks who can
// do at least X must not drop a grant that may. It sorts just below
// admin.
type Level string

// The levels, lowest first.
const (
	LevelDAG     Level = "dag"
	LevelView    Level = "view"
	LevelAuthor  Level = "author"
	LevelOperate Level = "operate"
	LevelCustom  Level = "custom"
	LevelAdmin   Level = "admin"
)

// Rank orders levels: higher is more; 0 for an unknown level.
func (l Level) Rank() int {
	switch l {
	case LevelDAG:
		return 1
	case LevelView:
		return 2
	case LevelAuthor:
		return 3
	case LevelOperate:
		return 4
	case LevelCustom:
		return 5
	case LevelAdmin:
		return 6
	}
	return 0
}

// roleLevels are the levels of the built-in roles that reach a
// deployment.
var roleLevels = map[string]Level{
	astroapi.RoleDeploymentAdmin:   LevelAdmin,
	astroapi.RoleOrganizationOwner: LevelAdmin,
	astroapi.RoleWorkspaceOwner:    LevelAdmin,
	astroapi.RoleWorkspaceOperator: LevelOperate,
	astroapi.RoleWorkspaceAuthor:   LevelAuthor,
	astroapi.RoleWorkspaceMember:   LevelView,
}

// otherLevels rate the built-in roles that reach no deployment, for
// policies, which see every level: the DAG roles, the accessor roles Astro
// adds, and the organization's roles other than ORGANIZATION_OWNER. The
// report never rates them (a DAG grant is the dag level; the others give no
// cell).
var otherLevels = map[string]Level{
	astroapi.RoleDAGViewer:                 LevelView,
	astroapi.RoleDAGAuthor:                 LevelAuthor,
	astroapi.RoleWorkspaceAccessor:         LevelView,
	astroapi.RoleDeploymentAccessor:        LevelView,
	astroapi.RoleOrganizationMember:        LevelView,
	astroapi.RoleOrganizationObserveMember: LevelView,
	astroapi.RoleOrganizationObserveAdmin:  LevelAdmin,
	astroapi.RoleOrganizationBillingAdmin:  LevelAdmin,
}

// OfAny is the level of any role, on any level: Of, and for the built-in
// roles that reach no deployment their fixed level (otherLevels).
func (m RoleLevels) OfAny(role string) Level {
	if l, ok := otherLevels[role]; ok {
		return l
	}
	return m.Of(role)
}

// RoleLevel is the level of a role that reaches a deployment: a built-in
// one's, or custom.
func RoleLevel(role string) Level { return RoleLevels(nil).Of(role) }

// RoleLevels are the levels of custom deployment roles: rated from their
// permissions, or given by a user (--role-level DAG_DEPLOYER=author).
type RoleLevels map[string]Level

// Of is the level of role: a built-in role's, the one given for a custom
// role, or custom.
func (m RoleLevels) Of(role string) Level {
	if l, ok := roleLevels[role]; ok {
		return l
	}
	if l, ok := m[role]; ok {
		return l
	}
	return LevelCustom
}

// level is the level of grant g: dag for a DAG role, whatever the role;
// otherwise its role's (Of).
func (m RoleLevels) level(g Grant) Level {
	if g.OnDAG() {
		return LevelDAG
	}
	return m.Of(g.Role)
}

// ParseRoleLevel reads one --role-level: CUSTOM_ROLE=LEVEL, where LEVEL is
// view, author, operate or admin, and the role is not a built-in one.
func ParseRoleLevel(s string) (role string, l Level, err error) {
	role, level, ok := strings.Cut(s, "=")
	switch {
	case !ok || role == "":
		return "", "", fmt.Errorf("%q: want CUSTOM_ROLE=LEVEL, e.g. DAG_DEPLOYER=author", s)
	case astroapi.BuiltinRoleScope(role) != "":
		return "", "", fmt.Errorf("%q: %s is a built-in role, whose level is fixed", s, role)
	}
	l = Level(strings.ToLower(level))
	if !rateable(l) {
		return "", "", fmt.Errorf("%q: the level must be view, author, operate or admin", s)
	}
	return role, l, nil
}

// rateable says a custom deployment role may be given level l: view,
// author, operate or admin.
func rateable(l Level) bool { return l != LevelCustom && l != LevelDAG && l.Rank() > 0 }

// ParseLevel reads --min-role: a level (dag, view, author, operate, admin) or a
// built-in role that reaches deployments (WORKSPACE_MEMBER, …,
// DEPLOYMENT_ADMIN), in any case.
func ParseLevel(s string) (Level, error) {
	if l := Level(strings.ToLower(s)); l != LevelCustom && l.Rank() > 0 {
		return l, nil
	}
	if l, ok := roleLevels[strings.ToUpper(s)]; ok {
		return l, nil
	}
	return "", fmt.Errorf("%q is not a level (dag, view, author, operate, admin) nor a built-in role that reaches deployments (WORKSPACE_MEMBER, WORKSPACE_AUTHOR, WORKSPACE_OPERATOR, WORKSPACE_OWNER, DEPLOYMENT_ADMIN, ORGANIZATION_OWNER)", s)
}

// atLeast says a grant of level l passes a floor of min: custom roles
// always pass.
func (l Level) atLeast(min Level) bool {
	return l == LevelCustom || l.Rank() >= min.Rank()
}

// highest is the highest level of gs ("" for none).
func highest(gs []Grant) Level {
	var top Level
	for _, g := range gs {
		if g.Level.Rank() > top.Rank() {
			top = g.Level
		}
	}
	return top
}
