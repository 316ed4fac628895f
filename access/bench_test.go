package access

import (
	"fmt"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/sync"
)

// BenchmarkCompute: an organization of 1,500 deployments in 50
// workspaces, 5,000 users (two deployment roles and a workspace role
// each), 300 teams of 20 members and 1,500 tokens, teams expanded.
func BenchmarkCompute(b *testing.B) {
	obs := &sync.Observed{Organization: "o"}
	for w := range 50 {
		obs.Workspaces = append(obs.Workspaces, astroapi.Workspace{ID: fmt.Sprintf("ws-%d", w), Name: fmt.Sprintf("w%d", w)})
	}
	for d := range 1500 {
		obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: fmt.Sprintf("d-%d", d), Name: fmt.Sprintf("d%d", d), WorkspaceID: fmt.Sprintf("ws-%d", d%50)})
	}
	for u := range 5000 {
		obs.Subjects = append(obs.Subjects, sync.UserSubject(astroapi.User{ID: fmt.Sprintf("u-%d", u), Username: fmt.Sprintf("user%d", u), OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:  []astroapi.WorkspaceRole{{WorkspaceID: fmt.Sprintf("ws-%d", u%50), Role: "WORKSPACE_MEMBER"}},
			DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: fmt.Sprintf("d-%d", u%1500), Role: "DEPLOYMENT_ADMIN"}, {DeploymentID: fmt.Sprintf("d-%d", (u+7)%1500), Role: "VIEWER"}}}))
	}
	members := map[string][]astroapi.TeamMember{}
	for g := range 300 {
		id := fmt.Sprintf("g-%d", g)
		obs.Subjects = append(obs.Subjects, sync.TeamSubject(astroapi.Team{ID: id, Name: id, OrganizationRole: "ORGANIZATION_MEMBER",
			DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: fmt.Sprintf("d-%d", g*5), Role: "DEPLOYMENT_ADMIN"}}}))
		for m := range 20 {
			members[id] = append(members[id], astroapi.TeamMember{UserID: fmt.Sprintf("u-%d", (g*20+m)%5000)})
		}
	}
	for t := range 1500 {
		obs.Subjects = append(obs.Subjects, sync.TokenSubject(astroapi.Token{ID: fmt.Sprintf("t-%d", t), Name: fmt.Sprintf("t%d", t), Scope: "WORKSPACE", Roles: []astroapi.Role{
			{EntityType: "WORKSPACE", EntityID: fmt.Sprintf("ws-%d", t%50), Role: "WORKSPACE_ACCESSOR"},
			{EntityType: "DEPLOYMENT", EntityID: fmt.Sprintf("d-%d", t), Role: "DEPLOYMENT_ADMIN"}}}))
	}
	b.ReportAllocs()
	for b.Loop() {
		r := Compute(Input{Observed: obs, Members: members})
		if len(r.Deployments) != 1500 {
			b.Fatal(len(r.Deployments))
		}
	}
}
