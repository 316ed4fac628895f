package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/render"
)

// exampleReport runs report against examples/org.yaml (served read-only)
// with examples/tokens.yaml and args, and returns the result and the
// emulator.
func exampleReport(t *testing.T, args ...string) (result, *astroapitest.Server) {
	t.Helper()
	st, err := astroapitest.LoadState("../../examples/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st.Credentials = []astroapitest.Credential{{Secret: secret, ReadOnly: true}}
	srv, baseURL := astroapitest.NewTestServer(t, st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
	c := &cli{t: t, env: map[string]string{"ASTRO_API_TOKEN": secret}}
	full := append([]string{"report", "--api-url", baseURL, "-f", "../../examples/tokens.yaml"}, args...)
	return c.runRaw(full...), srv
}

// cellsOf flattens a report to "workspace/deployment kind:name" → its
// grants, "!" marking an unmanaged cell.
func cellsOf(r access.Report) map[string]string {
	out := map[string]string{}
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			var gs []string
			for _, g := range e.Grants {
				gs = append(gs, g.String())
			}
			mark := ""
			if e.Unmanaged {
				mark = " !"
			}
			out[d.Workspace+"/"+d.Name+" "+e.Principal.Kind+":"+e.Principal.Name] = strings.Join(gs, "; ") + mark
		}
	}
	return out
}

// TestReportExampleOrg: the report of the example organization, read
// with a read-only credential, says who can touch which deployment and
// how, marks what the example spec does not list, expands teams, and is
// a document that matches report.schema.json. It writes nothing.
func TestReportExampleOrg(t *testing.T) {
	r, srv := exampleReport(t, "-o", "json", "--expand-teams")
	wantCode(t, r, exitOK)
	for route := range srv.Stats().Requests {
		if !strings.HasPrefix(route, "GET ") {
			t.Errorf("report sent %s", route)
		}
	}
	validateSchema(t, "report.schema.json", render.ReportSchema(), []byte(r.stdout))
	rep, err := access.Read([]byte(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Spec || !rep.TeamsExpanded || rep.Organization != "clx0org0000000000000000" || len(rep.Deployments) != 12 {
		t.Fatalf("report: spec %v, teams expanded %v, organization %q, %d deployments", rep.Spec, rep.TeamsExpanded, rep.Organization, len(rep.Deployments))
	}
	cells := cellsOf(rep)
	for key, want := range map[string]string{
		// a deployment role the spec lists, beside a workspace role on a
		// workspace it does not manage: the cell is unmanaged
		"data-platform/analytics-prod workspaceToken:ci-deployer": "DEPLOYMENT_ADMIN (deployment); WORKSPACE_MEMBER (workspace) !",
		// a deployment role it does not list, and ignores
		"data-platform/analytics-prod organizationToken:break-glass-admin": "DEPLOYMENT_ADMIN (deployment); ORGANIZATION_OWNER (organization) !",
		// deployment tokens are never managed
		"data-platform/analytics-prod deploymentToken:analytics-prod-deploy-key": "DEPLOYMENT_ADMIN (deployment) !",
		// workspace roles reach every deployment of their workspace
		"marketing/attribution-prod workspaceToken:segment-export":       "WORKSPACE_OWNER (workspace) !",
		"ml-platform/sandbox organizationToken:terraform-automation":     "WORKSPACE_OWNER (workspace); ORGANIZATION_OWNER (organization) !",
		"ml-platform/feature-store-prod workspaceToken:feature-pipeline": "DEPLOYMENT_ADMIN (deployment); WORKSPACE_OPERATOR (workspace) !",
		// a user whose own role and team role the spec lists; its team's
		// workspace role is on a workspace the spec does not manage
		"data-platform/analytics-prod user:alice@example.com": "DEPLOYMENT_ADMIN (deployment); DAG_DEPLOYER (deployment, via team data-engineering); WORKSPACE_MEMBER (workspace, via team data-engineering) !",
		// an inactive user keeps its roles, and gets more through a team,
		// DAG roles included
		"ml-platform/training-staging user:carol@example.com": "DEPLOYMENT_ADMIN (deployment, via team ml-research); DAG_VIEWER (dag tag · experiments, via team ml-research); WORKSPACE_MEMBER (workspace) !",
		// organization owners, directly and through a team, everywhere
		"marketing/campaigns-staging user:erin@example.com": "ORGANIZATION_OWNER (organization); ORGANIZATION_OWNER (organization, via team idp-platform-admins) !",
	} {
		if got, ok := cells[key]; !ok || got != want {
			t.Errorf("%s:\n got %q\nwant %q", key, got, want)
		}
	}
	// WORKSPACE_ACCESSOR grants nothing by itself, an organization role
	// other than owner nothing either.
	for _, key := range []string{
		"data-platform/ingestion-dev workspaceToken:data-quality-monitor",
		"data-platform/sandbox organizationToken:finops-billing",
		"data-platform/sandbox user:frank@example.com",
		"data-platform/sandbox team:ml-research",
	} {
		if got, ok := cells[key]; ok {
			t.Errorf("%s has access: %s", key, got)
		}
	}
	n := 0
	for key := range cells {
		if strings.HasSuffix(key, " user:erin@example.com") {
			n++
		}
	}
	if n != 12 {
		t.Errorf("the organization owner reaches %d deployments, want all 12", n)
	}
}

// TestReportFormats: every output format, on stdout and with --out (then
// stdout stays empty and the file holds the same report).
func TestReportFormats(t *testing.T) {
	for _, tt := range []struct {
		format, starts, holds string
	}{
		{"text", "Access report of organization clx0org0000000000000000", "deployment data-platform/analytics-prod (clvduhrvd000008l842ohcpvb)"},
		{"markdown", "## Access report of organization `clx0org0000000000000000`", "| ci-deployer <sub>clxtk7a2m000008jv3dci0001</sub> | workspace token | DEPLOYMENT\\_ADMIN (deployment); WORKSPACE\\_MEMBER (workspace) | **unmanaged** |"},
		{"csv", "workspace,deployment,deployment_id,production,kind,principal,principal_id,status,level,access,sources,unmanaged,since,before,findings\n", "data-platform,analytics-prod,clvduhrvd000008l842ohcpvb,true,deploymentToken,analytics-prod-deploy-key,clxtkf2n6000008hs8apd0021,,admin,DEPLOYMENT_ADMIN (deployment),deployment,true,,,"},
		{"json", `{"format_version":"2",`, `"source":"organization"`},
		{"html", "<!DOCTYPE html>", `"analytics-prod"`},
	} {
		t.Run(tt.format, func(t *testing.T) {
			r, _ := exampleReport(t, "-o", tt.format)
			wantCode(t, r, exitOK)
			if !strings.HasPrefix(r.stdout, tt.starts) || !strings.Contains(r.stdout, tt.holds) {
				t.Errorf("-o %s does not start with %q and hold %q:\n%s", tt.format, tt.starts, tt.holds, r.stdout)
			}
			out := filepath.Join(t.TempDir(), "report."+tt.format)
			r, _ = exampleReport(t, "-o", tt.format, "--out", out)
			wantCode(t, r, exitOK)
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if r.stdout != "" || !strings.HasPrefix(string(data), tt.starts) || !strings.Contains(r.stderr, "Wrote the access report to "+out) {
				t.Errorf("--out: stdout %q, stderr %q, file starts %.40q", r.stdout, r.stderr, data)
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			if len(entries) != 1 {
				t.Errorf("--out left %d files beside the report", len(entries)-1)
			}
		})
	}
}

// TestReportSince: a report --since a previous JSON report says who
// gained or lost access, and whose access changed, in between.
func TestReportSince(t *testing.T) {
	c := newCLI(t, testState)
	prev := filepath.Join(c.dir, "before.json")
	wantCode(t, c.run("report", "-o", "json", "--out", prev), exitOK)
	f := c.write("tokens.yaml", `version: 1
deployments:
  - id: dep-a1
    prune: true
    workspaceTokens:
      - id: tok-ci-a
        role: VIEWER
    organizationTokens: []
  - id: dep-b1
    workspaceTokens:
      - id: tok-ci-b
        role: DEPLOYMENT_ADMIN
`)
	wantCode(t, c.run("apply", "-f", f, "--yes", "--max-removals", "-1"), exitOK)

	r := c.run("report", "-o", "json", "--since", prev)
	wantCode(t, r, exitOK)
	rep, err := access.Read([]byte(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range rep.Since.Changes {
		got = append(got, ch.Change+" "+ch.Deployment.Name+" "+ch.Principal.ID)
	}
	want := []string{
		"changed a-prod tok-glass", // pruned: its workspace role stays
		"changed a-prod tok-ci-a",  // DEPLOYMENT_ADMIN -> VIEWER, with its workspace role
		"changed a-prod tok-old",   // lost its deployment role; its workspace role stays
		"changed b-prod tok-ci-b",  // gained a deployment role beside its workspace role
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("since (-want +got):\n%s\n%s", diff, r.stdout)
	}
	text := c.run("report", "--since", prev)
	wantCode(t, text, exitOK)
	if !strings.Contains(text.stdout, "Since ") || !strings.Contains(text.stdout, "0 gained, 0 lost, 4 changed.") {
		t.Errorf("text report --since:\n%s", text.stdout)
	}
}

// TestReportSinceGainedAndLost: a token new since, and one deleted since.
func TestReportSinceGainedAndLost(t *testing.T) {
	c := newCLI(t, testState)
	prev := filepath.Join(c.dir, "before.json")
	wantCode(t, c.run("report", "-o", "json", "--out", prev), exitOK)
	data, err := os.ReadFile(prev)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	// The previous report knew a deployment that is gone and missed one
	// that is new: as if access to one was lost, to the other gained.
	deps := doc["deployments"].([]any)
	d0 := deps[0].(map[string]any)
	d0["id"], d0["name"] = "dep-gone", "gone"
	edited, _ := json.Marshal(doc)
	edit := c.write("edited.json", string(edited))
	r := c.run("report", "-o", "json", "--since", edit)
	wantCode(t, r, exitOK)
	rep, err := access.Read([]byte(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, ch := range rep.Since.Changes {
		kinds[ch.Change]++
	}
	n := len(rep.Deployments[0].Access)
	if kinds[access.Gained] != n || kinds[access.Lost] != n || kinds[access.Changed] != 0 {
		t.Errorf("changes %v, want %d gained and %d lost", kinds, n, n)
	}
}

// TestReportRefusals: a bad --since is a usage error, a bad spec exit 3;
// neither writes --out.
func TestReportRefusals(t *testing.T) {
	c := newCLI(t, testState)
	out := filepath.Join(c.dir, "report.html")
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"since is not a report", []string{"--since", c.write("x.json", `{"format_version":"9"}`)}, exitUsage},
		{"since is not JSON", []string{"--since", c.write("y.json", `plan: yes`)}, exitUsage},
		{"since does not exist", []string{"--since", filepath.Join(c.dir, "none.json")}, exitUsage},
		{"format", []string{"-o", "pdf"}, exitUsage},
		{"invalid spec", []string{"-f", c.write("bad.yaml", "version: 1\ndeployments: [{}]\n")}, exitInvalid},
		{"unresolved spec", []string{"-f", c.write("unres.yaml", "version: 1\ndeployments:\n  - id: dep-nope\n    workspaceTokens: []\n")}, exitInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run(append([]string{"report", "-o", "html", "--out", out}, tt.args...)...)
			wantCode(t, r, tt.code)
			if _, err := os.Stat(out); err == nil {
				t.Error("--out was written")
			}
		})
	}
}

// TestReportHostileNamesEndToEnd: names from the API reach no output
// raw, through the whole command.
func TestReportHostileNamesEndToEnd(t *testing.T) {
	c := newCLI(t, testState+`
teams:
  - id: team-x
    name: "<script>alert(1)</script>\e[31m\u202e"
    organizationRole: ORGANIZATION_OWNER
`)
	for _, format := range []string{"text", "markdown", "csv", "json", "html"} {
		r := c.run("report", "-o", format)
		wantCode(t, r, exitOK)
		for _, bad := range []string{"<script>alert", "\x1b", "\u202e"} {
			plain := format == "text" || format == "csv" // markup is only text there
			if strings.Contains(r.stdout, bad) && !(plain && bad == "<script>alert") {
				t.Errorf("-o %s: output holds %q", format, bad)
			}
		}
		if !slices.ContainsFunc(strings.Split(r.stdout, "\n"), func(l string) bool { return strings.Contains(l, "alert(1)") }) {
			t.Errorf("-o %s: the team is not shown", format)
		}
	}
}
