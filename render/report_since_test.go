package render

import (
	"encoding/csv"
	"fmt"
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

// TestReportMarkdownCapped: a large organization's markdown report stays
// under the comment limit, keeps its summary of every deployment, and says
// what it left out; so does a long list of changes.
func TestReportMarkdownCapped(t *testing.T) {
	var r access.Report
	r.Organization = "o"
	r.Since = &access.Since{}
	for d := range 400 {
		dep := access.Deployment{ID: fmt.Sprintf("dep-%03d", d), Name: fmt.Sprintf("deployment-%03d", d), Workspace: "ws"}
		for p := range 30 {
			e := access.Entry{Principal: access.Ref{Kind: "user", ID: fmt.Sprintf("u-%d", p), Name: fmt.Sprintf("user-%d@example.com", p)},
				Level: access.LevelAdmin, Grants: []access.Grant{{Role: "DEPLOYMENT_ADMIN", Level: access.LevelAdmin, Source: access.FromDeployment}}}
			dep.Access = append(dep.Access, e)
			r.Since.Changes = append(r.Since.Changes, access.Change{Change: access.Gained, Deployment: access.DeploymentRef{ID: dep.ID, Name: dep.Name, Workspace: "ws"},
				Principal: e.Principal, Before: []access.Grant{}, After: e.Grants})
		}
		r.Deployments = append(r.Deployments, dep)
	}
	out := string(renderReport(t, "md", r))
	if len(out) > DefaultMarkdownLimit {
		t.Errorf("%d characters, want at most %d", len(out), DefaultMarkdownLimit)
	}
	for _, want := range []string{
		"| ws/deployment-399 | 30 | 30 |\n",                         // the summary names every deployment
		"change(s) left out: `-o csv` or `-o json` lists them all.", // the changes are cut
		"more deployment section(s) left out to keep this under 60000 characters. Run `tokensync report` for the whole report",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the markdown does not hold %q", want)
		}
	}
	small := string(renderReport(t, "md", reports()["report-full"]))
	if strings.Contains(small, "left out") {
		t.Errorf("a small report is cut:\n%s", small)
	}
}

// TestReportCSVFindingRowStatus: a finding on a user who has no cell is a
// row of its own that carries the user's status, as a cell's row does.
func TestReportCSVFindingRowStatus(t *testing.T) {
	r := access.Report{Organization: "o", Findings: []access.Finding{{
		Kind: access.FindingUserStatus, Category: access.CategoryUser, Severity: access.SeverityMedium,
		Principal: access.Ref{Kind: "user", ID: "u-f", Name: "frank@example.com"}, Status: "PENDING", Message: "PENDING user holds 1 role(s)",
	}}}
	rows, err := csv.NewReader(strings.NewReader(string(renderReport(t, "csv", r)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][6] != "u-f" || rows[1][7] != "PENDING" {
		t.Errorf("rows %q, want the finding's row with status PENDING", rows)
	}
}

// TestReportOpensWithSince: with --since, text and markdown say what
// changed first, then the findings, then the deployments' tables.
func TestReportOpensWithSince(t *testing.T) {
	r := reports()["report-full"]
	for format, marks := range map[string][]string{
		"txt": {"\nSince ", "\nFindings: ", "\ndeployment "},
		"md":  {"\nSince ", "**Findings: ", "\n| Deployment "},
	} {
		out := string(renderReport(t, format, r))
		at := -1
		for _, m := range marks {
			i := strings.Index(out, m)
			if i < 0 || i < at {
				t.Errorf("%s: %q is not after %q (at %d, after %d):\n%s", format, m, marks, i, at, out)
				break
			}
			at = i
		}
	}
}
