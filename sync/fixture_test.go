package sync

import (
	"slices"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

const org = "clx0org0000000000000000"

func at(line int) spec.Pos { return spec.Pos{File: "tokens.yaml", Line: line, Col: 7} }

func ptr[T any](v T) *T { return &v }

func wsRole(ws, role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityWorkspace, EntityID: ws, Role: role}
}

func orgRole(role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityOrganization, EntityID: org, Role: role}
}

func depRole(dep, role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: role}
}

func dagRole(dep, dag, role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: dag, Role: role, DeploymentID: dep}
}

func token(id, name, scope string, roles ...astroapi.Role) astroapi.Token {
	return astroapi.Token{ID: id, Name: name, Scope: scope, Roles: roles}
}

// ref names a token as a plan does.
func ref(t astroapi.Token) SubjectRef { return TokenSubject(t).SubjectRef }

// tokenKinds are both kinds of token a spec lists.
var tokenKindsListed = []Kind{KindWorkspaceToken, KindOrganizationToken}

// subjects converts tokens, users and teams to subjects, in that order.
func subjects(tokens []astroapi.Token, users []astroapi.User, teams []astroapi.Team) []Subject {
	return slices.Concat(convert(tokens, TokenSubject), convert(users, UserSubject), convert(teams, TeamSubject))
}

func user(id, username, status, orgRole string) astroapi.User {
	return astroapi.User{ID: id, Username: username, Status: status, OrganizationRole: orgRole}
}

func team(id, name, orgRole string) astroapi.Team {
	return astroapi.Team{ID: id, Name: name, OrganizationRole: orgRole}
}

func deploymentRole(dep, role string) astroapi.DeploymentRole {
	return astroapi.DeploymentRole{DeploymentID: dep, Role: role}
}

func workspaceRole(ws, role string) astroapi.WorkspaceRole {
	return astroapi.WorkspaceRole{WorkspaceID: ws, Role: role}
}

// fixture is a small organization with the traps Resolve must catch.
func fixture() *Observed {
	return &Observed{
		Organization: org,
		Workspaces: []astroapi.Workspace{
			{ID: "ws-data", Name: "data-platform"},
			{ID: "ws-ml", Name: "ml"},
			{ID: "ws-dup1", Name: "dup"},
			{ID: "ws-dup2", Name: "dup"},
		},
		Deployments: []astroapi.Deployment{
			{ID: "dep-prod", Name: "analytics-prod", WorkspaceID: "ws-data"},
			{ID: "dep-stg", Name: "analytics-staging", WorkspaceID: "ws-data"},
			{ID: "dep-ml", Name: "training", WorkspaceID: "ws-ml"},
			{ID: "dep-twin1", Name: "twin", WorkspaceID: "ws-data"},
			{ID: "dep-twin2", Name: "twin", WorkspaceID: "ws-data"},
		},
		CustomRoles: []astroapi.CustomRole{
			{ID: "r1", Name: "DAG_DEPLOYER", ScopeType: "DEPLOYMENT"},
			{ID: "r2", Name: "ML_Operator", ScopeType: "DEPLOYMENT", RestrictedWorkspaceIDs: []string{"ws-ml"}},
			{ID: "r3", Name: "WS_VIEWER", ScopeType: "WORKSPACE"},
		},
		Subjects: subjects([]astroapi.Token{
			token("tok-ci", "ci-deployer", "WORKSPACE", wsRole("ws-data", "WORKSPACE_MEMBER"), depRole("dep-prod", "DEPLOYMENT_ADMIN")),
			token("clxtok2", "dup-bot", "WORKSPACE", wsRole("ws-data", "WORKSPACE_MEMBER")),
			token("clxtok1", "dup-bot", "WORKSPACE", wsRole("ws-data", "WORKSPACE_MEMBER")),
			token("tok-ml", "ml-bot", "WORKSPACE", wsRole("ws-ml", "WORKSPACE_MEMBER")),
			token("tok-org", "org-observer", "ORGANIZATION", orgRole("ORGANIZATION_MEMBER")),
			token("tok-dep", "deploy-bot", "DEPLOYMENT", depRole("dep-prod", "DEPLOYMENT_ADMIN")),
			token("tok-bg", "break-glass-1", "ORGANIZATION", orgRole("ORGANIZATION_OWNER")),
		}, []astroapi.User{
			user("usr-alice", "Alice@Example.com", astroapi.UserActive, "ORGANIZATION_MEMBER"),
			user("usr-bob", "bob@example.com", astroapi.UserActive, "ORGANIZATION_MEMBER"),
			user("usr-ina", "ina@example.com", astroapi.UserInactive, "ORGANIZATION_MEMBER"),
			user("usr-ban", "ban@example.com", astroapi.UserBanned, "ORGANIZATION_MEMBER"),
			user("usr-pen", "pen@example.com", astroapi.UserPending, "ORGANIZATION_MEMBER"),
			user("usr-norole", "norole@example.com", astroapi.UserActive, ""),
		}, []astroapi.Team{
			team("team-de", "data-engineering", "ORGANIZATION_MEMBER"),
			team("team-ops2", "ops", "ORGANIZATION_MEMBER"),
			team("team-ops1", "ops", "ORGANIZATION_MEMBER"),
		}),
	}
}
