package render

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// exampleReport is the report of a small organization for the
// screenshot: three workspaces, eight deployments (two production), about
// twenty principals of every kind and source, a spec, and changes since a
// previous report.
func exampleReport() access.Report {
	obs := &sync.Observed{
		Organization: "clx0org0000000000000000",
		Workspaces:   []astroapi.Workspace{{ID: "ws-dp", Name: "data-platform"}, {ID: "ws-ml", Name: "ml-platform"}, {ID: "ws-fin", Name: "finance"}},
		Deployments: []astroapi.Deployment{
			{ID: "dep-ap", Name: "analytics-prod", WorkspaceID: "ws-dp"}, {ID: "dep-as", Name: "analytics-staging", WorkspaceID: "ws-dp"},
			{ID: "dep-id", Name: "ingestion-dev", WorkspaceID: "ws-dp"}, {ID: "dep-sb", Name: "sandbox", WorkspaceID: "ws-dp"},
			{ID: "dep-tp", Name: "training-prod", WorkspaceID: "ws-ml"}, {ID: "dep-te", Name: "experiments", WorkspaceID: "ws-ml"},
			{ID: "dep-fr", Name: "reporting", WorkspaceID: "ws-fin"}, {ID: "dep-fa", Name: "archive", WorkspaceID: "ws-fin"},
		},
	}
	tok := func(id, name, scope string, roles ...astroapi.Role) sync.Subject {
		return sync.TokenSubject(astroapi.Token{ID: id, Name: name, Scope: scope, Roles: roles})
	}
	depRole := func(dep, role string) astroapi.Role {
		return astroapi.Role{EntityType: "DEPLOYMENT", EntityID: dep, Role: role}
	}
	wsRole := func(ws, role string) astroapi.Role {
		return astroapi.Role{EntityType: "WORKSPACE", EntityID: ws, Role: role}
	}
	user := func(id, name, status string, ws []astroapi.WorkspaceRole, deps ...astroapi.DeploymentRole) sync.Subject {
		return sync.UserSubject(astroapi.User{ID: id, Username: name, Status: status, OrganizationRole: "ORGANIZATION_MEMBER", WorkspaceRoles: ws, DeploymentRoles: deps})
	}
	obs.Subjects = []sync.Subject{
		tok("tok-ci", "ci-deployer", "WORKSPACE", wsRole("ws-dp", "WORKSPACE_ACCESSOR"), depRole("dep-ap", "DEPLOYMENT_ADMIN"), depRole("dep-as", "DEPLOYMENT_ADMIN")),
		tok("tok-tf", "terraform", "ORGANIZATION", astroapi.Role{EntityType: "ORGANIZATION", EntityID: "clx0org0000000000000000", Role: "ORGANIZATION_OWNER"}),
		tok("tok-key", "analytics-prod-deploy-key", "DEPLOYMENT", depRole("dep-ap", "DEPLOYMENT_ADMIN")),
		tok("tok-dq", "data-quality-monitor", "WORKSPACE", wsRole("ws-dp", "WORKSPACE_MEMBER")),
		tok("tok-mm", "model-monitor", "WORKSPACE", wsRole("ws-ml", "WORKSPACE_AUTHOR")),
		tok("tok-fin", "finops-billing", "ORGANIZATION", wsRole("ws-fin", "WORKSPACE_OPERATOR")),
		tok("tok-tr", "training-trigger", "DEPLOYMENT", depRole("dep-tp", "DAG_TRIGGERER")),
		user("usr-erin", "erin@example.com", "ACTIVE", nil),
		user("usr-alice", "alice@example.com", "ACTIVE", []astroapi.WorkspaceRole{{WorkspaceID: "ws-dp", Role: "WORKSPACE_OWNER"}}),
		user("usr-bob", "bob@example.com", "ACTIVE", []astroapi.WorkspaceRole{{WorkspaceID: "ws-dp", Role: "WORKSPACE_AUTHOR"}}, astroapi.DeploymentRole{DeploymentID: "dep-ap", Role: "DEPLOYMENT_ADMIN"}),
		user("usr-carol", "carol@example.com", "ACTIVE", []astroapi.WorkspaceRole{{WorkspaceID: "ws-ml", Role: "WORKSPACE_OPERATOR"}}),
		user("usr-dan", "dan@example.com", "INACTIVE", nil, astroapi.DeploymentRole{DeploymentID: "dep-tp", Role: "DEPLOYMENT_ADMIN"}),
		user("usr-frank", "frank@example.com", "ACTIVE", []astroapi.WorkspaceRole{{WorkspaceID: "ws-fin", Role: "WORKSPACE_MEMBER"}}),
		user("usr-grace", "grace@example.com", "PENDING", nil, astroapi.DeploymentRole{DeploymentID: "dep-sb", Role: "DAG_AUTHOR"}),
		user("usr-heidi", "heidi@example.com", "ACTIVE", []astroapi.WorkspaceRole{{WorkspaceID: "ws-ml", Role: "WORKSPACE_MEMBER"}}, astroapi.DeploymentRole{DeploymentID: "dep-te", Role: "DEPLOYMENT_ADMIN"}),
		user("usr-ivan", "ivan@example.com", "ACTIVE", nil, astroapi.DeploymentRole{DeploymentID: "dep-id", Role: "DEPLOYMENT_ADMIN"}),
		sync.TeamSubject(astroapi.Team{ID: "team-de", Name: "data-eng", OrganizationRole: "ORGANIZATION_MEMBER", WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: "ws-dp", Role: "WORKSPACE_AUTHOR"}}}),
		sync.TeamSubject(astroapi.Team{ID: "team-ml", Name: "ml-research", OrganizationRole: "ORGANIZATION_MEMBER", WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: "ws-ml", Role: "WORKSPACE_MEMBER"}},
			DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep-tp", Role: "DEPLOYMENT_ADMIN"}}}),
		sync.TeamSubject(astroapi.Team{ID: "team-fin", Name: "finance-analysts", OrganizationRole: "ORGANIZATION_MEMBER", WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: "ws-fin", Role: "WORKSPACE_MEMBER"}}}),
	}
	obs.Subjects[7] = sync.UserSubject(astroapi.User{ID: "usr-erin", Username: "erin@example.com", Status: "ACTIVE", OrganizationRole: "ORGANIZATION_OWNER"})
	members := map[string][]astroapi.TeamMember{
		"team-de":  {{UserID: "usr-judy", Username: "judy@example.com"}, {UserID: "usr-bob", Username: "bob@example.com"}},
		"team-ml":  {{UserID: "usr-ken", Username: "ken@example.com"}, {UserID: "usr-carol", Username: "carol@example.com"}},
		"team-fin": {{UserID: "usr-liam", Username: "liam@example.com"}},
	}
	desired := &sync.Desired{Scopes: []sync.ManagedScope{
		{
			ScopeRef: sync.ScopeRef{Level: sync.LevelDeployment, ID: "dep-ap", Name: "analytics-prod"},
			Assignments: []sync.DesiredAssignment{
				{Subject: sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-ci"}, Role: "DEPLOYMENT_ADMIN"},
				{Subject: sync.SubjectRef{Kind: sync.KindUser, ID: "usr-bob"}, Role: "DEPLOYMENT_ADMIN"}},
		},
		{
			ScopeRef: sync.ScopeRef{Level: sync.LevelDeployment, ID: "dep-tp", Name: "training-prod"},
			Assignments: []sync.DesiredAssignment{
				{Subject: sync.SubjectRef{Kind: sync.KindTeam, ID: "team-ml"}, Role: "DEPLOYMENT_ADMIN"},
				{Subject: sync.SubjectRef{Kind: sync.KindDeploymentToken, ID: "tok-tr"}, Role: "DAG_TRIGGERER"}},
		},
	}}
	prod := []spec.Glob{"*prod*"}
	// A week before, the deploy key and ivan were not there yet, and
	// mallory still administered analytics-prod.
	var then []sync.Subject
	for _, s := range obs.Subjects {
		if s.ID != "tok-key" && s.ID != "usr-ivan" {
			then = append(then, s)
		}
	}
	then = append(then, user("usr-mallory", "mallory@example.com", "ACTIVE", nil, astroapi.DeploymentRole{DeploymentID: "dep-ap", Role: "DEPLOYMENT_ADMIN"}))
	before := access.Compute(access.Input{Observed: &sync.Observed{Organization: obs.Organization, Workspaces: obs.Workspaces, Deployments: obs.Deployments, Subjects: then}, Members: members, Production: prod})
	before.GeneratedAt = "2026-01-25T06:00:00Z"
	r := access.Compute(access.Input{Observed: obs, Desired: desired, Members: members, Production: prod})
	r.TokensyncVersion, r.GeneratedAt = "test", "2026-02-01T06:00:00Z"
	r.TeamsExpanded = true
	r.Since = access.Diff(before, r)
	return r
}

// pageData is the JSON the page embeds for its script.
func pageData(t *testing.T, page []byte) map[string]json.RawMessage {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no data element in the page")
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(m[1], &data); err != nil {
		t.Fatalf("the page's data is not JSON: %v", err)
	}
	return data
}

// TestReportHTMLData: the page embeds the report compactly: deployments
// grouped by workspace, principals once, one small array per cell, and
// hostile names as JSON escapes that cannot end the script element.
func TestReportHTMLData(t *testing.T) {
	data := pageData(t, renderReport(t, "html", reports()["report-full"]))
	var deps, principals [][]any
	var cells [][][]int
	for k, v := range map[string]any{"d": &deps, "p": &principals, "c": &cells} {
		if err := json.Unmarshal(data[k], v); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	want := [][]any{{"dep-dev", "dev", 0.0, 0.0, 0.0}, {"dep-prod", "prod", 0.0, 1.0, 1.0}, {"dep-ml", "train", 1.0, 0.0, 0.0}}
	if diff := cmp.Diff(want, deps); diff != "" {
		t.Errorf("deployments (-want +got):\n%s", diff)
	}
	n := 0
	for _, cs := range cells {
		n += len(cs)
	}
	if len(principals) != 8 || len(cells) != 8 || n != 14 {
		t.Errorf("%d principals, %d lists of cells, %d cells; want 8, 8, 14", len(principals), len(cells), n)
	}

	page := renderReport(t, "html", hostileReport())
	pageData(t, page) // still JSON
	if i := bytes.Index(page, []byte(`id="report-data">`)); i < 0 || bytes.Contains(page[i:bytes.Index(page[i:], []byte("</script>"))+i], []byte("<")) {
		t.Error("a < in the data element")
	}
	if !strings.Contains(string(page), `\u003cscript\u003ealert(1)\u003c/script\u003e`) {
		t.Error("the hostile team's name is not in the data, escaped")
	}
}

// TestReportHTMLSinceCapped: a page holds the first changes since the
// previous report as HTML, and the others as data the page shows on
// demand.
func TestReportHTMLSinceCapped(t *testing.T) {
	r := largeReport(t)
	r.Since = access.Diff(access.Report{}, r)
	page := renderReport(t, "html", r)
	if got := bytes.Count(page, []byte(`<tr class="gained">`)); got != sinceShown {
		t.Errorf("%d changes as HTML, want %d", got, sinceShown)
	}
	var more [][]string
	if err := json.Unmarshal(pageData(t, page)["s"], &more); err != nil {
		t.Fatal(err)
	}
	if want := len(r.Since.Changes) - sinceShown; len(more) != want {
		t.Errorf("%d changes as data, want %d", len(more), want)
	}
}
