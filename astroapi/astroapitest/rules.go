package astroapitest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
)

// checkRoles applies the role-list rules of POST /tokens/{id}/roles to the
// role list of a token with the given scope and own scope entity, and
// returns every violation. With fromAPI, built-in role names are accepted
// in any case and upper-cased in place (inferred, Terraform provider issue
// 195); without it (a state), they must already be upper case.
func checkRoles(x *index, scope, own string, roles []astroapi.Role, fromAPI bool) []astroapi.FieldError {
	var errs []astroapi.FieldError
	add := func(field, code, format string, args ...any) {
		errs = append(errs, astroapi.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	if len(roles) == 0 {
		add("roles", "min", "roles must have at least 1 item")
		return errs
	}
	ownType := scopeEntity(scope)
	ownCount := 0
	seen := map[string]int{}
	for i := range roles {
		r := &roles[i]
		f := fmt.Sprintf("roles[%d]", i)
		if !roleShape(r, f, add) {
			continue
		}
		key := r.EntityType + "\x00" + r.EntityID + "\x00" + r.DeploymentID
		if j, dup := seen[key]; dup {
			add(f, "duplicate", "a second role on %s %q (first at roles[%d])", r.EntityType, r.EntityID, j)
			continue
		}
		seen[key] = i
		workspace, ok := locate(x, r, f, add)
		if !ok {
			continue
		}

		// Scope rules (Terraform provider checks, enforced by the API: inferred).
		if !scopeAllows(scope, own, r, workspace, func(format string, args ...any) {
			add(f, "scope", format, args...)
		}) {
			continue
		}
		if r.EntityType == ownType && r.EntityID == own {
			ownCount++
		}

		// The role must fit its entity.
		stored, code, msg := fitRole(x, r.Role, r.EntityType, workspace, fromAPI)
		if code != "" {
			add(f+".role", code, "%s", msg)
			continue
		}
		r.Role = stored
	}
	if ownCount == 0 {
		add("roles", "own_scope_role", "%s %s token must keep exactly one %s role on its own %s %q", article(scope), scope, ownType, strings.ToLower(ownType), own)
	}
	return errs
}

// roleShape reports whether role entry r (at field f) has a known entity
// type, an entity id and a role, adding a violation when not.
func roleShape(r *astroapi.Role, f string, add func(field, code, format string, args ...any)) bool {
	switch {
	case !slices.Contains(astroapi.EntityTypes(), r.EntityType):
		add(f+".entityType", "oneof", "entityType %q is not one of %s", r.EntityType, strings.Join(astroapi.EntityTypes(), ", "))
	case r.EntityID == "":
		add(f+".entityId", "required", "entityId is required")
	case r.Role == "":
		add(f+".role", "required", "role is required")
	default:
		return true
	}
	return false
}

// locate checks that the entity of role entry r (at field f) exists and
// that only DAG and DAG_TAG entries carry a deploymentId, and returns the
// workspace the entity lies in ("" for the organization); it adds a
// violation and reports false when not.
func locate(x *index, r *astroapi.Role, f string, add func(field, code, format string, args ...any)) (workspace string, ok bool) {
	switch r.EntityType {
	case astroapi.EntityOrganization:
		if r.EntityID != x.org {
			add(f+".entityId", "not_found", "unknown organization %q", r.EntityID)
			return "", false
		}
	case astroapi.EntityWorkspace:
		if x.workspaces[r.EntityID] == nil {
			add(f+".entityId", "not_found", "unknown workspace %q", r.EntityID)
			return "", false
		}
		workspace = r.EntityID
	case astroapi.EntityDeployment:
		d := x.deployments[r.EntityID]
		if d == nil {
			add(f+".entityId", "not_found", "unknown deployment %q", r.EntityID)
			return "", false
		}
		workspace = d.WorkspaceID
	case astroapi.EntityDAG, astroapi.EntityDAGTag:
		if r.DeploymentID == "" {
			add(f+".deploymentId", "required", "deploymentId is required on a %s role", r.EntityType)
			return "", false
		}
		d := x.deployments[r.DeploymentID]
		if d == nil {
			add(f+".deploymentId", "not_found", "unknown deployment %q", r.DeploymentID)
			return "", false
		}
		workspace = d.WorkspaceID
	}
	if r.DeploymentID != "" && r.EntityType != astroapi.EntityDAG && r.EntityType != astroapi.EntityDAGTag {
		add(f+".deploymentId", "forbidden", "deploymentId is allowed only on DAG and DAG_TAG roles")
		return "", false
	}
	return workspace, true
}

// fitRole checks that role fits an entity of entityType (ORGANIZATION,
// WORKSPACE, DEPLOYMENT, DAG or DAG_TAG) lying in workspace ("" for the
// organization): a built-in role of that level or, on a deployment or a
// DAG, a custom role of that scopeType (DAG for DAG and DAG_TAG entities)
// not restricted to other workspaces: organization and workspace roles are
// built-in only, though GET /roles lists custom roles of their scopeTypes. It returns the name to store, or a
// field error code and message. With fromAPI, built-in role names are
// accepted in any case and stored upper case (inferred, Terraform provider
// issue 195); without it (a state), they must already be upper case.
func fitRole(x *index, role, entityType, workspace string, fromAPI bool) (stored, code, msg string) {
	level := astroapi.EntityScope(entityType)
	if et := astroapi.BuiltinRoleScope(role); et != "" {
		upper := strings.ToUpper(role)
		if role != upper {
			if !fromAPI {
				return "", "upper_case", fmt.Sprintf("built-in role %q must be written %q, as the API stores it", role, upper)
			}
			role = upper
		}
		if et != level {
			return "", "role_entity", fmt.Sprintf("role %q is %s %s role and does not fit %s %s entity", role, article(et), et, article(entityType), entityType)
		}
		return role, "", ""
	}
	cr := x.customRoles[role]
	if cr == nil {
		return "", "not_found", fmt.Sprintf("unknown role %q for %s %s entity", role, article(entityType), entityType)
	}
	if cr.ScopeType != level {
		return "", "role_entity", fmt.Sprintf("custom role %q has scopeType %s and does not fit %s %s entity", role, cr.ScopeType, article(entityType), entityType)
	}
	if level == astroapi.ScopeOrganization || level == astroapi.ScopeWorkspace {
		return "", "role_entity", fmt.Sprintf("custom role %q cannot be granted: %s roles are built-in only", role, strings.ToLower(level))
	}
	if len(cr.RestrictedWorkspaceIDs) > 0 && workspace != "" && !slices.Contains(cr.RestrictedWorkspaceIDs, workspace) {
		return "", "restricted", fmt.Sprintf("custom role %q is restricted to workspaces %s and cannot be granted in workspace %q",
			role, enumerate(cr.RestrictedWorkspaceIDs), workspace)
	}
	return role, "", ""
}

// scopeAllows reports whether a token of the given scope and own entity
// may hold role r, whose entity lies in workspace; it reports why not.
func scopeAllows(scope, own string, r *astroapi.Role, workspace string, deny func(string, ...any)) bool {
	switch scope {
	case astroapi.ScopeWorkspace:
		switch r.EntityType {
		case astroapi.EntityOrganization:
			deny("a WORKSPACE token cannot hold an ORGANIZATION role")
			return false
		case astroapi.EntityWorkspace:
			if r.EntityID != own {
				deny("a WORKSPACE token can hold a WORKSPACE role only on its own workspace %q, not on %q", own, r.EntityID)
				return false
			}
		default:
			if workspace != own {
				deny("a WORKSPACE token can hold roles only on deployments of its own workspace %q; deployment %q is in workspace %q",
					own, deploymentOf(r), workspace)
				return false
			}
		}
	case astroapi.ScopeDeployment:
		if deploymentOf(r) != own {
			deny("a DEPLOYMENT token can hold roles only on its own deployment %q", own)
			return false
		}
	}
	return true
}

// deploymentOf is the deployment a DEPLOYMENT, DAG or DAG_TAG role is on.
func deploymentOf(r *astroapi.Role) string {
	switch r.EntityType {
	case astroapi.EntityDeployment:
		return r.EntityID
	case astroapi.EntityDAG, astroapi.EntityDAGTag:
		return r.DeploymentID
	}
	return ""
}

// maxListed is how many workspaces a message lists.
const maxListed = 10

// enumerate joins the first maxListed of s with ", " and says how many
// more there are: a role restricted to thousands of workspaces, refused
// for thousands of grants, makes one short message each.
func enumerate(s []string) string {
	if len(s) > maxListed {
		return fmt.Sprintf("%s and %d more", strings.Join(s[:maxListed], ", "), len(s)-maxListed)
	}
	return strings.Join(s, ", ")
}
