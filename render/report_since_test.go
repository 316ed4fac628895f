package render

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/sync"
)

// TestReportCSVSince: with --since, the CSV says gained or changed on a
// cell's row (before: the access then), and a lost cell is a row of its
// own after its deployment's cells; a cell lost on a deployment that is
// gone comes last.
func TestReportCSVSince(t *testing.T) {
	before := access.Compute(access.Input{Observed: reportObserved(sync.TokenSubject(astroapi.Token{ID: "tok-old", Name: "old-bot", Scope: "WORKSPACE",
		Roles: []astroapi.Role{{EntityType: "DEPLOYMENT", EntityID: "dep-dev", Role: "DEPLOYMENT_ADMIN"}}}))})
	before.Deployments = append(before.Deployments, access.Deployment{ID: "dep-gone", Name: "gone", Workspace: "data",
		Access: []access.Entry{{Principal: access.Ref{Kind: "user", ID: "usr-9", Name: "zed"}, Grants: []access.Grant{{Role: "DEPLOYMENT_ADMIN", Source: access.FromDeployment}}}}})
	now := access.Compute(access.Input{Observed: reportObserved(sync.UserSubject(astroapi.User{ID: "usr-1", Username: "alice@example.com", Status: "ACTIVE",
		OrganizationRole: "ORGANIZATION_MEMBER", DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep-ml", Role: "DEPLOYMENT_ADMIN"}}}))})
	now.Since = access.Diff(before, now)

	rows, err := csv.NewReader(strings.NewReader(string(renderReport(t, "csv", now)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range rows[1:] {
		if since := row[12]; since != "" {
			got = append(got, strings.Join([]string{row[1], row[5], row[9], since, row[13]}, " | "))
		}
	}
	want := []string{
		"dev | old-bot |  | lost | DEPLOYMENT_ADMIN (deployment)",
		"train | alice@example.com | DEPLOYMENT_ADMIN (deployment) | gained | ",
		"gone | zed |  | lost | DEPLOYMENT_ADMIN (deployment)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("since rows (-want +got):\n%s", diff)
	}
}

// TestReportSaysItsFilter: text and markdown say what narrowed the report.
func TestReportSaysItsFilter(t *testing.T) {
	r := reports()["report-plain"]
	f := access.Filter{Workspaces: []string{"data"}, MinLevel: access.LevelAdmin}
	r = f.Apply(r)
	r.Filters = &f
	for format, want := range map[string]string{
		"txt": "Narrowed by --workspace data --min-role admin.\n",
		"md":  "Narrowed by `--workspace data --min-role admin`.\n",
	} {
		if out := string(renderReport(t, format, r)); !strings.Contains(out, want) {
			t.Errorf("%s does not say %q:\n%s", format, want, out)
		}
	}
}
