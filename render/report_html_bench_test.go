package render

import (
	"fmt"
	"io"
	gosync "sync"
	"testing"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// The large report: 300 deployments in 30 workspaces (two of every ten
// named *prod*), 1,500 tokens, 4,200 users and 300 teams: about 57,000
// cells, some from workspace and organization roles that reach many
// deployments at once.
const (
	largeWorkspaces  = 30
	largeDeployments = 300
	largeTokens      = 1500
	largeUsers       = 4200
	largeTeams       = 300
	largePrincipals  = largeTokens + largeUsers + largeTeams
	// largeLast is the principal that sorts last by name.
	largeLast = "usr-last"
)

var largeOnce = gosync.OnceValue(func() access.Report {
	obs := &sync.Observed{Organization: "org-large"}
	ws := func(i int) string { return fmt.Sprintf("ws-%02d", i%largeWorkspaces) }
	dep := func(i int) string { return fmt.Sprintf("dep-%03d", i%largeDeployments) }
	for w := range largeWorkspaces {
		obs.Workspaces = append(obs.Workspaces, astroapi.Workspace{ID: ws(w), Name: fmt.Sprintf("team-%02d-workspace", w)})
	}
	for d := range largeDeployments {
		name := fmt.Sprintf("pipeline-%03d", d)
		if d%10 < 2 {
			name = fmt.Sprintf("prod-%03d", d)
		}
		// Deployment d is in workspace d/10: ten per workspace.
		obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: dep(d), Name: name, WorkspaceID: ws(d / 10)})
	}
	for t := range largeTokens {
		tok := astroapi.Token{ID: fmt.Sprintf("tok-%04d", t), Name: fmt.Sprintf("token-%04d", t), Scope: "DEPLOYMENT", Roles: []astroapi.Role{
			{EntityType: "DEPLOYMENT", EntityID: dep(t), Role: "DEPLOYMENT_ADMIN"},
			{EntityType: "DEPLOYMENT", EntityID: dep(t + 101), Role: "DEPLOYMENT_ADMIN"},
			{EntityType: "DEPLOYMENT", EntityID: dep(t + 203), Role: "DAG_VIEWER"}}}
		switch {
		case t < 3:
			tok.Scope, tok.Roles = "ORGANIZATION", []astroapi.Role{{EntityType: "ORGANIZATION", EntityID: "org-large", Role: "ORGANIZATION_OWNER"}}
		case t%50 == 0:
			tok.Scope, tok.Roles = "WORKSPACE", []astroapi.Role{{EntityType: "WORKSPACE", EntityID: ws(t), Role: "WORKSPACE_OPERATOR"}}
		}
		obs.Subjects = append(obs.Subjects, sync.TokenSubject(tok))
	}
	wsRoles := []string{"WORKSPACE_MEMBER", "WORKSPACE_AUTHOR", "WORKSPACE_MEMBER", "WORKSPACE_OPERATOR"}
	for u := range largeUsers {
		user := astroapi.User{ID: fmt.Sprintf("usr-%04d", u), Username: fmt.Sprintf("user-%04d@example.com", u), Status: "ACTIVE", OrganizationRole: "ORGANIZATION_MEMBER",
			DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: dep(u * 7), Role: "DEPLOYMENT_ADMIN"}, {DeploymentID: dep(u*7 + 1), Role: "DAG_AUTHOR"}, {DeploymentID: dep(u*7 + 150), Role: "DEPLOYMENT_ADMIN"}}}
		if u%2 == 0 {
			user.WorkspaceRoles = append(user.WorkspaceRoles, astroapi.WorkspaceRole{WorkspaceID: ws(u / 2), Role: wsRoles[u%4]})
		}
		if u%5 == 0 {
			user.WorkspaceRoles = append(user.WorkspaceRoles, astroapi.WorkspaceRole{WorkspaceID: ws(u/5 + 7), Role: "WORKSPACE_MEMBER"})
		}
		switch {
		case u < 2:
			user.OrganizationRole = "ORGANIZATION_OWNER"
		case u%97 == 0:
			user.Status = "INACTIVE"
		case u == largeUsers-1:
			user.ID, user.Username = largeLast, "zzzz-last@example.com"
		}
		obs.Subjects = append(obs.Subjects, sync.UserSubject(user))
	}
	for g := range largeTeams {
		obs.Subjects = append(obs.Subjects, sync.TeamSubject(astroapi.Team{ID: fmt.Sprintf("team-%03d", g), Name: fmt.Sprintf("group-%03d", g), OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:  []astroapi.WorkspaceRole{{WorkspaceID: ws(g), Role: wsRoles[g%4]}, {WorkspaceID: ws(g + 11), Role: "WORKSPACE_MEMBER"}},
			DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: dep(g * 3), Role: "DEPLOYMENT_ADMIN"}}}))
	}
	r := access.Compute(access.Input{Observed: obs, Production: []spec.Glob{"*prod*"}})
	r.TokensyncVersion, r.GeneratedAt = "test", "2026-02-01T10:00:00Z"
	return r
})

func largeReport(tb testing.TB) access.Report {
	tb.Helper()
	r := largeOnce()
	cells, principals := 0, map[string]bool{}
	for _, d := range r.Deployments {
		cells += len(d.Access)
		for _, e := range d.Access {
			principals[e.Principal.Kind+" "+e.Principal.ID] = true
		}
	}
	if len(r.Deployments) != largeDeployments || len(principals) != largePrincipals || cells < 50000 {
		tb.Fatalf("the large report has %d deployments, %d principals, %d cells; want %d, %d, 50,000 or more", len(r.Deployments), len(principals), cells, largeDeployments, largePrincipals)
	}
	return r
}

// BenchmarkReportHTML: the page of the large report (300 deployments,
// 6,000 principals, about 57,000 cells). It must take well under a second.
func BenchmarkReportHTML(b *testing.B) {
	r := largeReport(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := ReportHTML(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
