package sync

import (
	"cmp"
	"fmt"

	"github.com/tokensync/tokensync/astroapi"
)

// Level is the level of a scope: where in Astro's hierarchy a role is held.
// Its value is the name the JSON plan gives it.
type Level string

// The levels, broadest first. A DAG tag is a level of its own because its
// roles are held per tag, not per DAG.
const (
	LevelOrganization Level = "organization"
	LevelWorkspace    Level = "workspace"
	LevelDeployment   Level = "deployment"
	LevelDAG          Level = "dag"
	LevelDAGTag       Level = "dagTag"
)

// rank orders levels broadest first; an unknown level sorts last.
func (l Level) rank() int {
	switch l {
	case LevelOrganization:
		return 0
	case LevelWorkspace:
		return 1
	case LevelDeployment:
		return 2
	case LevelDAG:
		return 3
	case LevelDAGTag:
		return 4
	}
	return 5
}

// roleScope is the scope of the roles that may be held at l, as the API
// names it in Role.scopeType (ScopeDAG for both DAG levels).
func (l Level) roleScope() string {
	switch l {
	case LevelOrganization:
		return astroapi.ScopeOrganization
	case LevelWorkspace:
		return astroapi.ScopeWorkspace
	case LevelDeployment:
		return astroapi.ScopeDeployment
	case LevelDAG, LevelDAGTag:
		return astroapi.ScopeDAG
	}
	return ""
}

// Scope is where a role is held: the organization (ID ""; there is one), a
// workspace, a deployment, a DAG or a DAG tag. ID is the workspace or
// deployment id, the DAG id or the tag; Deployment is the deployment of a
// DAG or DAG tag. It is comparable: the planner's key is (Scope, subject).
type Scope struct {
	Level      Level
	ID         string
	Deployment string
}

// Organization is the scope of organization roles.
var Organization = Scope{Level: LevelOrganization}

// Parent is the scope whose accessor role Astro adds for a role at s: a
// DAG role's deployment; "" level for a deployment role (its workspace is
// found through the deployment) and for broader scopes.
func (s Scope) Parent() Scope {
	if s.Level == LevelDAG || s.Level == LevelDAGTag {
		return Scope{Level: LevelDeployment, ID: s.Deployment}
	}
	return Scope{}
}

// Grant is one role held at one scope.
type Grant struct {
	Scope Scope
	Role  string
}

// ScopeRef names a scope in a plan: its level, id and name, and for a DAG
// or DAG tag the deployment it belongs to. The organization's ID is the
// organization's id; a DAG's or tag's name is its id or tag.
type ScopeRef struct {
	Level      Level
	ID         string
	Name       string
	Deployment DeploymentRef // of a DAG or DAG tag; zero otherwise
}

// Key is the scope s names.
func (s ScopeRef) Key() Scope {
	if s.Level == LevelOrganization {
		return Organization
	}
	return Scope{Level: s.Level, ID: s.ID, Deployment: s.Deployment.ID}
}

// String names the scope in messages: `deployment "prod"`, `workspace
// "data"`, `the organization`, `DAG "rollup" of deployment "prod"`.
func (s ScopeRef) String() string {
	name := cmp.Or(s.Name, s.ID)
	switch s.Level {
	case LevelOrganization:
		return "the organization"
	case LevelDAG:
		return fmt.Sprintf("DAG %q of deployment %q", name, cmp.Or(s.Deployment.Name, s.Deployment.ID))
	case LevelDAGTag:
		return fmt.Sprintf("DAG tag %q of deployment %q", name, cmp.Or(s.Deployment.Name, s.Deployment.ID))
	}
	return fmt.Sprintf("%s %q", s.Level, name)
}

// CompareScope orders scopes as plans list them: the organization, then
// workspaces by name, then deployments by name, each followed by its DAGs
// and DAG tags.
func CompareScope(a, b ScopeRef) int {
	group := func(s ScopeRef) int { return min(s.Level.rank(), LevelDeployment.rank()) }
	dep := func(s ScopeRef) DeploymentRef {
		if s.Level == LevelDAG || s.Level == LevelDAGTag {
			return s.Deployment
		}
		return DeploymentRef{ID: s.ID, Name: s.Name}
	}
	if g := cmp.Compare(group(a), group(b)); g != 0 || group(a) < LevelDeployment.rank() {
		return cmp.Or(g, cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	}
	da, db := dep(a), dep(b)
	return cmp.Or(
		cmp.Compare(da.Name, db.Name),
		cmp.Compare(da.ID, db.ID),
		cmp.Compare(a.Level.rank(), b.Level.rank()),
		cmp.Compare(a.ID, b.ID),
	)
}

// DeploymentScope is the scope of deployment dep.
func DeploymentScope(dep DeploymentRef) ScopeRef {
	return ScopeRef{Level: LevelDeployment, ID: dep.ID, Name: dep.Name}
}

// grantOfToken is a token's role entry as a grant. An entry of an entity
// type tokensync does not know keeps its type in the level, so that it is
// written back exactly as read.
func grantOfToken(r astroapi.Role) Grant {
	switch r.EntityType {
	case astroapi.EntityOrganization:
		return Grant{Scope: Organization, Role: r.Role}
	case astroapi.EntityWorkspace:
		return Grant{Scope: Scope{Level: LevelWorkspace, ID: r.EntityID}, Role: r.Role}
	case astroapi.EntityDeployment:
		return Grant{Scope: Scope{Level: LevelDeployment, ID: r.EntityID}, Role: r.Role}
	case astroapi.EntityDAG:
		return Grant{Scope: Scope{Level: LevelDAG, ID: r.EntityID, Deployment: r.DeploymentID}, Role: r.Role}
	case astroapi.EntityDAGTag:
		return Grant{Scope: Scope{Level: LevelDAGTag, ID: r.EntityID, Deployment: r.DeploymentID}, Role: r.Role}
	}
	return Grant{Scope: Scope{Level: Level("entity:" + r.EntityType), ID: r.EntityID, Deployment: r.DeploymentID}, Role: r.Role}
}

// tokenRole is g as a token's role entry; org is the organization id, the
// entity of an organization role.
func tokenRole(g Grant, org string) astroapi.Role {
	r := astroapi.Role{EntityID: g.Scope.ID, Role: g.Role}
	switch g.Scope.Level {
	case LevelOrganization:
		r.EntityType, r.EntityID = astroapi.EntityOrganization, org
	case LevelWorkspace:
		r.EntityType = astroapi.EntityWorkspace
	case LevelDeployment:
		r.EntityType = astroapi.EntityDeployment
	case LevelDAG:
		r.EntityType, r.DeploymentID = astroapi.EntityDAG, g.Scope.Deployment
	case LevelDAGTag:
		r.EntityType, r.DeploymentID = astroapi.EntityDAGTag, g.Scope.Deployment
	default:
		r.EntityType, r.DeploymentID = string(g.Scope.Level[len("entity:"):]), g.Scope.Deployment
	}
	return r
}
