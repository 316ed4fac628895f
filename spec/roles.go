package spec

import (
	"fmt"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
)

// scopePhrase names the scope of a built-in role in a message.
var scopePhrase = map[string]string{
	astroapi.ScopeOrganization: "an organization",
	astroapi.ScopeWorkspace:    "a workspace",
	astroapi.ScopeDeployment:   "a deployment",
	astroapi.ScopeDAG:          "a DAG",
}

// level is one level of access a spec grants roles on, as the parser
// checks its roles.
type level struct {
	scope string // the astroapi scope of its built-in roles
	// custom says whether a role that is not built-in is taken as the
	// name of a custom role of this scope (checked online); otherwise it
	// is an error.
	custom bool
	// builtin are the built-in roles of the level, in the order of the
	// documentation, for suggestions and messages.
	builtin []string
}

// The levels of a spec: organizationRoles, workspaces, deployments and
// their dags.
var (
	organizationLevel = &level{scope: astroapi.ScopeOrganization, builtin: []string{
		astroapi.RoleOrganizationOwner, astroapi.RoleOrganizationBillingAdmin, astroapi.RoleOrganizationObserveAdmin,
		astroapi.RoleOrganizationObserveMember, astroapi.RoleOrganizationMember,
	}}
	workspaceLevel = &level{scope: astroapi.ScopeWorkspace, builtin: []string{
		astroapi.RoleWorkspaceOwner, astroapi.RoleWorkspaceOperator, astroapi.RoleWorkspaceAuthor,
		astroapi.RoleWorkspaceMember, astroapi.RoleWorkspaceAccessor,
	}}
	deploymentLevel = &level{scope: astroapi.ScopeDeployment, custom: true, builtin: []string{
		astroapi.RoleDeploymentAdmin, astroapi.RoleDeploymentAccessor,
	}}
	dagLevel = &level{scope: astroapi.ScopeDAG, custom: true, builtin: astroapi.DAGRoles()}
)

// levels returns every level, broadest first.
func levels() []*level {
	return []*level{organizationLevel, workspaceLevel, deploymentLevel, dagLevel}
}

// phrase names the level's roles in a message: "a workspace".
func (lv *level) phrase() string { return scopePhrase[lv.scope] }

// normalize returns role as the API stores it (astroapi.CanonicalRole)
// and, for a built-in role of another level than lv, that level as a
// message fragment ("a workspace").
func (lv *level) normalize(role string) (normalized, otherScope string) {
	scope := astroapi.BuiltinRoleScope(role)
	if scope == lv.scope {
		scope = ""
	}
	return astroapi.CanonicalRole(role), scopePhrase[scope]
}

// check returns role as the API stores it, and why it is not a role of
// lv, or "": a built-in role of another level; at a level without custom
// roles, a name that is no built-in role of it, with a suggestion.
func (lv *level) check(role string) (normalized, problem string) {
	r, other := lv.normalize(role)
	switch {
	case other != "":
		return r, fmt.Sprintf("role %s is %s role, not %s role", excerpt(role), other, lv.phrase())
	case lv.custom || astroapi.IsBuiltinRole(r):
		return r, ""
	}
	if s := Suggest(role, lv.builtin); s != "" {
		return r, fmt.Sprintf("unknown role %s (did you mean %q?)", excerpt(role), s)
	}
	return r, fmt.Sprintf("unknown role %s; %s role is one of %s", excerpt(role), lv.phrase(), strings.Join(lv.builtin, ", "))
}
