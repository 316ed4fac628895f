package spec

import "strings"

// DeploymentAdmin is the only built-in deployment role.
const DeploymentAdmin = "DEPLOYMENT_ADMIN"

// builtinRoles maps the names of Astro's built-in roles to their scope, as
// a message fragment.
var builtinRoles = map[string]string{
	DeploymentAdmin:               "a deployment",
	"ORGANIZATION_OWNER":          "an organization",
	"ORGANIZATION_BILLING_ADMIN":  "an organization",
	"ORGANIZATION_MEMBER":         "an organization",
	"ORGANIZATION_OBSERVE_ADMIN":  "an organization",
	"ORGANIZATION_OBSERVE_MEMBER": "an organization",
	"WORKSPACE_OWNER":             "a workspace",
	"WORKSPACE_OPERATOR":          "a workspace",
	"WORKSPACE_AUTHOR":            "a workspace",
	"WORKSPACE_MEMBER":            "a workspace",
	"WORKSPACE_ACCESSOR":          "a workspace",
}

// NormalizeRole returns role in upper case when it names a built-in Astro
// role of any scope, compared case-insensitively (the API treats them so),
// and role unchanged otherwise: a custom role keeps its spelling.
func NormalizeRole(role string) string {
	if up := strings.ToUpper(role); builtinRoles[up] != "" {
		return up
	}
	return role
}

// normalizeRole is NormalizeRole that also returns, for a built-in role of
// another scope than a deployment, that scope ("a workspace").
func normalizeRole(role string) (normalized, otherScope string) {
	up := strings.ToUpper(role)
	switch scope := builtinRoles[up]; scope {
	case "":
		return role, ""
	case "a deployment":
		return up, ""
	default:
		return up, scope
	}
}
