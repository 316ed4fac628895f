package astroapi

import "strings"

// This file is the one home of the API's vocabulary: the scopes of tokens
// and roles, the entity types of a token's role entries, and the built-in
// role names. Every other package asks it rather than keep a list.

// Scopes, as the API spells them in ApiToken.scope and Role.scopeType.
// A scope names the same thing as the entity type of equal spelling.
// ScopeDAG is a level of roles only (a custom role's scopeType, the scope
// of DAG_VIEWER and DAG_AUTHOR): no token has it, and it covers both the
// DAG and the DAG_TAG entity types.
const (
	ScopeOrganization = "ORGANIZATION"
	ScopeWorkspace    = "WORKSPACE"
	ScopeDeployment   = "DEPLOYMENT"
	ScopeDAG          = "DAG"
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

// Built-in deployment roles. RoleDeploymentAccessor is the one Astro adds
// on its own to a subject that gains a DAG role on a deployment where it
// has no deployment role.
const (
	RoleDeploymentAdmin    = "DEPLOYMENT_ADMIN"
	RoleDeploymentAccessor = "DEPLOYMENT_ACCESSOR"
)

// Built-in DAG roles, held in the dagRoles of users and teams and in the
// DAG and DAG_TAG entries of a token's roles.
const (
	RoleDAGViewer = "DAG_VIEWER"
	RoleDAGAuthor = "DAG_AUTHOR"
)

// builtinRoles maps every built-in role to its scope.
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
	RoleDeploymentAccessor:        ScopeDeployment,
	RoleDAGViewer:                 ScopeDAG,
	RoleDAGAuthor:                 ScopeDAG,
}

// Scopes returns the scopes of tokens, broadest first.
func Scopes() []string {
	return []string{ScopeOrganization, ScopeWorkspace, ScopeDeployment}
}

// RoleScopes returns the scope types of roles (Role.scopeType, the
// scopeTypes filter of GET /roles), broadest first: the scopes of tokens
// and ScopeDAG.
func RoleScopes() []string {
	return []string{ScopeOrganization, ScopeWorkspace, ScopeDeployment, ScopeDAG}
}

// EntityScope returns the scope of the roles that fit a token role entry
// of entityType: ScopeDAG for EntityDAG and EntityDAGTag, the scope of
// equal spelling otherwise, "" for an unknown entity type.
func EntityScope(entityType string) string {
	switch entityType {
	case EntityOrganization, EntityWorkspace, EntityDeployment:
		return entityType
	case EntityDAG, EntityDAGTag:
		return ScopeDAG
	}
	return ""
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

// BuiltinRoleScope returns the scope (ScopeOrganization, ScopeWorkspace,
// ScopeDeployment or ScopeDAG) of the built-in role name, compared
// case-insensitively as the API does, or "" when name is not a built-in
// role.
func BuiltinRoleScope(name string) string {
	return builtinRoles[strings.ToUpper(name)]
}

// BuiltinRoles returns every built-in role, broadest level first.
func BuiltinRoles() []string {
	return []string{
		RoleOrganizationOwner, RoleOrganizationBillingAdmin, RoleOrganizationObserveAdmin,
		RoleOrganizationObserveMember, RoleOrganizationMember,
		RoleWorkspaceOwner, RoleWorkspaceOperator, RoleWorkspaceAuthor, RoleWorkspaceMember, RoleWorkspaceAccessor,
		RoleDeploymentAdmin, RoleDeploymentAccessor,
		RoleDAGViewer, RoleDAGAuthor,
	}
}

// IsBuiltinRole reports whether name is a built-in role of any level, in
// any case.
func IsBuiltinRole(name string) bool {
	return BuiltinRoleScope(name) != ""
}

// BuiltinDeploymentRole reports whether name is a built-in deployment role
// (DEPLOYMENT_ADMIN, DEPLOYMENT_ACCESSOR), in any case.
func BuiltinDeploymentRole(name string) bool {
	return BuiltinRoleScope(name) == ScopeDeployment
}

// IsDAGRole reports whether name is a built-in DAG role, in any case.
func IsDAGRole(name string) bool {
	return BuiltinRoleScope(name) == ScopeDAG
}

// CanonicalRole returns name as the API stores it: upper case when it is a
// built-in role in any case (the API compares those case-insensitively;
// Terraform provider issue 195), and unchanged otherwise, since a custom
// role keeps its spelling.
//
// A built-in role comes back as this package's constant: every equal
// role is then one string, which compares at once.
func CanonicalRole(name string) string {
	if c, ok := canonicalRoles[strings.ToUpper(name)]; ok {
		return c
	}
	return name
}

// canonicalRoles maps every built-in role to itself: the one string of
// each role that CanonicalRole returns.
var canonicalRoles = func() map[string]string {
	m := make(map[string]string, len(builtinRoles))
	for _, name := range BuiltinRoles() {
		m[name] = name
	}
	return m
}()
