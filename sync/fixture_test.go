package sync

import (
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

func ref(t astroapi.Token) TokenRef { return TokenRef{ID: t.ID, Name: t.Name, Scope: t.Scope} }

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
		Tokens: []astroapi.Token{
			token("tok-ci", "ci-deployer", "WORKSPACE", wsRole("ws-data", "WORKSPACE_MEMBER"), depRole("dep-prod", "DEPLOYMENT_ADMIN")),
			token("clxtok2", "dup-bot", "WORKSPACE", wsRole("ws-data", "WORKSPACE_MEMBER")),
			token("clxtok1", "dup-bot", "WORKSPACE", wsRole("ws-data", "WORKSPACE_MEMBER")),
			token("tok-ml", "ml-bot", "WORKSPACE", wsRole("ws-ml", "WORKSPACE_MEMBER")),
			token("tok-org", "org-observer", "ORGANIZATION", orgRole("ORGANIZATION_MEMBER")),
			token("tok-dep", "deploy-bot", "DEPLOYMENT", depRole("dep-prod", "DEPLOYMENT_ADMIN")),
			token("tok-bg", "break-glass-1", "ORGANIZATION", orgRole("ORGANIZATION_OWNER")),
		},
	}
}
