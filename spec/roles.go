package spec

import "github.com/tokensync/tokensync/astroapi"

// scopePhrase names the scope of a built-in role in a message.
var scopePhrase = map[string]string{
	astroapi.ScopeOrganization: "an organization",
	astroapi.ScopeWorkspace:    "a workspace",
	astroapi.ScopeDAG:          "a DAG",
}

// normalizeRole returns role as the API stores it (astroapi.CanonicalRole)
// and, for a built-in role of another scope than a deployment, that scope
// as a message fragment ("a workspace").
func normalizeRole(role string) (normalized, otherScope string) {
	return astroapi.CanonicalRole(role), scopePhrase[astroapi.BuiltinRoleScope(role)]
}
