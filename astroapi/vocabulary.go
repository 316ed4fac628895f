package astroapi

import "strings"

// This file is the one home of the API's vocabulary: the scopes of tokens
// and roles, the entity types of a token's role entries, and the built-in
// role names. Every other package asks it rather than keep a list.

// Scopes, as the API spells them in ApiToken.scope and Role.scopeType.
// A scope names the same thing as the entity type of equal spelling.
const (
	ScopeOrganization = "ORGANIZATION"
	ScopeWorkspace    = "WORKSPACE"
	ScopeDeployment   = "DEPLOYMENT"
)

// Entity types of an ApiTokenRole.
const (
	EntityOrganization = "ORGANIZATION"
	EntityWorkspace    = "WORKSPACE"
	EntityDeployment   = "DEPLOYMENT"
	EntityDAG          = "DAG"
	EntityDAGTag       = "DAG_TAG"
)

// Built-in organization roles.
const (
	RoleOrganizationOwner         = "ORGANIZATION_OWNER"
	RoleOrganizationBillingAdmin  = "ORGANIZATION_BILLING_ADMIN"
	RoleOrganizationMember        = "ORGANIZATION_MEMBER"
	RoleOrganizationObserveAdmin  = "ORGANIZATION_OBSERVE_ADMIN"
	RoleOrganizationObserveMember = "ORGANIZATION_OBSERVE_MEMBER"
)

// Built-in workspace roles. RoleWorkspaceAccessor is the one Astro adds on
// its own to a user or team that gains a deployment role in a workspace
// where it has no workspace role.
const (
	RoleWorkspaceOwner    = "WORKSPACE_OWNER"
	RoleWorkspaceOperator = "WORKSPACE_OPERATOR"
	RoleWorkspaceAuthor   = "WORKSPACE_AUTHOR"
	RoleWorkspaceMember   = "WORKSPACE_MEMBER"
	RoleWorkspaceAccessor = "WORKSPACE_ACCESSOR"
)

// RoleDeploymentAdmin is the only built-in deployment role.
const RoleDeploymentAdmin = "DEPLOYMENT_ADMIN"

// Built-in DAG roles, held in the dagRoles of users and teams. They are
// not among the roles of BuiltinRoleScope: GET /roles does not list them
// and a token's role entries do not use them.
const (
	RoleDAGViewer = "DAG_VIEWER"
	RoleDAGAuthor = "DAG_AUTHOR"
)

// builtinRoles maps every built-in organization, workspace and deployment
// role to its scope.
var builtinRoles = map[string]string{
	RoleOrganizationOwner:         ScopeOrganization,
	RoleOrganizationBillingAdmin:  ScopeOrganization,
	RoleOrganizationMember:        ScopeOrganization,
	RoleOrganizationObserveAdmin:  ScopeOrganization,
	RoleOrganizationObserveMember: ScopeOrganization,
	RoleWorkspaceOwner:            ScopeWorkspace,
	RoleWorkspaceOperator:         ScopeWorkspace,
	RoleWorkspaceAuthor:           ScopeWorkspace,
	RoleWorkspaceMember:           ScopeWorkspace,
	RoleWorkspaceAccessor:         ScopeWorkspace,
	RoleDeploymentAdmin:           ScopeDeployment,
}

// Scopes returns the scopes of tokens and custom roles, broadest first.
func Scopes() []string {
	return []string{ScopeOrganization, ScopeWorkspace, ScopeDeployment}
}

// EntityTypes returns the entity types of a token's role entries, broadest
// first.
func EntityTypes() []string {
	return []string{EntityOrganization, EntityWorkspace, EntityDeployment, EntityDAG, EntityDAGTag}
}

// DAGRoles returns the built-in DAG roles.
func DAGRoles() []string {
	return []string{RoleDAGViewer, RoleDAGAuthor}
}

// BuiltinRoleScope returns the scope (ScopeOrganization, ScopeWorkspace or
// ScopeDeployment) of the built-in role name, compared case-insensitively
// as the API does, or "" when name is not a built-in organization,
// workspace or deployment role.
func BuiltinRoleScope(name string) string {
	return builtinRoles[strings.ToUpper(name)]
}

// IsBuiltinRole reports whether name is a built-in organization, workspace
// or deployment role, in any case.
func IsBuiltinRole(name string) bool {
	return BuiltinRoleScope(name) != ""
}

// BuiltinDeploymentRole reports whether name is a built-in deployment role
// (DEPLOYMENT_ADMIN), in any case.
func BuiltinDeploymentRole(name string) bool {
	return BuiltinRoleScope(name) == ScopeDeployment
}

// IsDAGRole reports whether name is a built-in DAG role, in any case.
func IsDAGRole(name string) bool {
	up := strings.ToUpper(name)
	return up == RoleDAGViewer || up == RoleDAGAuthor
}

// CanonicalRole returns name as the API stores it: upper case when it is a
// built-in organization, workspace or deployment role in any case (the API
// compares those case-insensitively; Terraform provider issue 195), and
// unchanged otherwise, since a custom role keeps its spelling.
func CanonicalRole(name string) string {
	if up := strings.ToUpper(name); builtinRoles[up] != "" {
		return up
	}
	return name
}

// TokenDeploymentRoles returns the DEPLOYMENT entries of a token's role
// list, in order, as deployment assignments: the part of a token's roles
// that tokensync manages. Roles are kept as read.
func TokenDeploymentRoles(roles []Role) []DeploymentRole {
	var out []DeploymentRole
	for _, r := range roles {
		if r.EntityType == EntityDeployment {
			out = append(out, DeploymentRole{DeploymentID: r.EntityID, Role: r.Role})
		}
	}
	return out
}
