package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/access"
)

// readReport parses a JSON report from stdout.
func readReport(t *testing.T, r result) access.Report {
	t.Helper()
	rep, err := access.Read([]byte(r.stdout))
	if err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return rep
}

// TestReportFilters: each filter flag narrows the example organization's
// report end to end, and the report records it.
func TestReportFilters(t *testing.T) {
	for _, tt := range []struct {
		name  string
		args  []string
		check func(t *testing.T, rep access.Report)
	}{
		{"workspace by name keeps its deployments", []string{"--workspace", "marketing"}, func(t *testing.T, rep access.Report) {
			if got := deploymentNames(rep); !cmp.Equal(got, []string{"marketing/attribution-prod", "marketing/campaigns-prod", "marketing/campaigns-staging"}) {
				t.Errorf("deployments %v", got)
			}
		}},
		{"deployment by workspace/name and by id", []string{"--deployment", "ml-platform/sandbox", "--deployment", "clvduhrvd000008l842ohcpvb"}, func(t *testing.T, rep access.Report) {
			if got := deploymentNames(rep); !cmp.Equal(got, []string{"data-platform/analytics-prod", "ml-platform/sandbox"}) {
				t.Errorf("deployments %v", got)
			}
		}},
		{"principal pattern keeps only where it reaches", []string{"--principal", "*terraform*"}, func(t *testing.T, rep access.Report) {
			for _, d := range rep.Deployments {
				if len(d.Access) != 1 || d.Access[0].Principal.Name != "terraform-automation" {
					t.Errorf("%s/%s: %+v", d.Workspace, d.Name, d.Access)
				}
			}
			if len(rep.Deployments) != 12 {
				t.Errorf("an organization owner reaches %d deployments, want 12", len(rep.Deployments))
			}
		}},
		{"min-role admin keeps admin grants and custom roles", []string{"--min-role", "DEPLOYMENT_ADMIN"}, func(t *testing.T, rep access.Report) {
			cells := cellsOf(rep)
			// The cell stays unmanaged: its WORKSPACE_MEMBER, dropped from
			// view, is on a workspace the spec does not manage.
			if got := cells["data-platform/analytics-prod workspaceToken:ci-deployer"]; got != "DEPLOYMENT_ADMIN (deployment) !" {
				t.Errorf("ci-deployer: %q, want only its admin grant (WORKSPACE_MEMBER dropped)", got)
			}
			if got := cells["data-platform/analytics-prod workspaceToken:dbt-cloud-runner"]; got != "DAG_DEPLOYER (deployment) !" {
				t.Errorf("dbt-cloud-runner: %q, want its custom role kept", got)
			}
			for _, d := range rep.Deployments {
				for _, e := range d.Access {
					for _, g := range e.Grants {
						if g.Level != access.LevelAdmin && g.Level != access.LevelCustom {
							t.Errorf("%s %s: a %s grant %s", d.Name, e.Principal.Name, g.Level, g.Role)
						}
					}
				}
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := exampleReport(t, append([]string{"-o", "json"}, tt.args...)...)
			wantCode(t, r, exitOK)
			rep := readReport(t, r)
			if rep.Filters == nil {
				t.Error("the report does not record its filter")
			}
			tt.check(t, rep)
		})
	}
}

func deploymentNames(rep access.Report) []string {
	var out []string
	for _, d := range rep.Deployments {
		out = append(out, d.Workspace+"/"+d.Name)
	}
	slices.Sort(out)
	return out
}

// TestReportProduction: deployments named *prod* are production by
// default, in JSON and text; --production replaces the pattern.
func TestReportProduction(t *testing.T) {
	r, _ := exampleReport(t, "-o", "json")
	wantCode(t, r, exitOK)
	var prod []string
	for _, d := range readReport(t, r).Deployments {
		if d.Production {
			prod = append(prod, d.Workspace+"/"+d.Name)
		}
	}
	want := []string{"data-platform/analytics-prod", "data-platform/ingestion-prod", "marketing/attribution-prod", "marketing/campaigns-prod",
		"ml-platform/feature-store-prod", "ml-platform/training-prod"}
	slices.Sort(prod)
	if !cmp.Equal(prod, want) {
		t.Errorf("production %v, want %v", prod, want)
	}
	r, _ = exampleReport(t, "--production", "*-staging", "--workspace", "marketing")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "deployment marketing/campaigns-staging (clvdw9pl4000108ab2g9n4tyk), production, not in the spec\n") ||
		strings.Contains(r.stdout, "campaigns-prod (clvdw9pl4000008ab7e1k5rxj), production") {
		t.Errorf("--production *-staging:\n%s", r.stdout)
	}
}

// TestReportFilterRefusals: a bad filter value is a usage error before
// any request; a deployment or workspace that names nothing is one after
// the read, naming it; neither writes --out.
func TestReportFilterRefusals(t *testing.T) {
	for _, tt := range []struct {
		name      string
		args      []string
		requests  bool
		wantInErr string
	}{
		{"unknown level", []string{"--min-role", "superuser"}, false, `--min-role: "superuser" is not a level`},
		{"accessor grants nothing", []string{"--min-role", "WORKSPACE_ACCESSOR"}, false, "--min-role"},
		{"empty pattern", []string{"--principal", ""}, false, `--principal "": an empty pattern`},
		{"principal class not closed", []string{"--principal", "ci-["}, false, `--principal "ci-[": a character class ([...]) is not closed`},
		{"production range backwards", []string{"--production", "[z-a]*"}, false, `--production "[z-a]*": the character range z-a is backwards`},
		{"empty deployment", []string{"--deployment", ""}, false, "--deployment and --workspace need"},
		{"unknown deployment", []string{"--deployment", "analytics-prd"}, true, `--deployment "analytics-prd": no such deployment in organization clx0org0000000000000000 (give its id, name or workspace/name)`},
		{"unknown workspace", []string{"--workspace", "finance"}, true, `--workspace "finance": no workspace`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.html")
			r, srv := exampleReport(t, append([]string{"-o", "html", "--out", out}, tt.args...)...)
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, tt.wantInErr) {
				t.Errorf("stderr %q, want it to say %q", r.stderr, tt.wantInErr)
			}
			if n := len(srv.Stats().Requests); (n > 0) != tt.requests {
				t.Errorf("%d routes requested; want requests: %v", n, tt.requests)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("--out was written")
			}
		})
	}
}

// TestReportSinceNarrowed: --since with a filter compares the previous
// report narrowed the same way, so what the filter leaves out is not
// "lost", and says so when the previous report was made otherwise.
func TestReportSinceNarrowed(t *testing.T) {
	dir := t.TempDir()
	prev := filepath.Join(dir, "all.json")
	r, _ := exampleReport(t, "-o", "json", "--out", prev)
	wantCode(t, r, exitOK)
	r, _ = exampleReport(t, "-o", "json", "--since", prev, "--workspace", "marketing", "--min-role", "admin")
	wantCode(t, r, exitOK)
	if rep := readReport(t, r); len(rep.Since.Changes) != 0 {
		t.Errorf("nothing changed, yet since says %+v", rep.Since.Changes)
	}
	if !strings.Contains(r.stderr, "warning: --since "+prev+" was made with no filter; comparing it narrowed by --workspace marketing --min-role admin") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestReportSinceTeamsExpanded: --since a report made with --expand-teams
// by one without it (or the reverse) says that team members' access shows
// as changed where only the flag did; the same flag both times says
// nothing.
func TestReportSinceTeamsExpanded(t *testing.T) {
	dir := t.TempDir()
	expanded := filepath.Join(dir, "expanded.json")
	r, _ := exampleReport(t, "-o", "json", "--expand-teams", "--out", expanded)
	wantCode(t, r, exitOK)
	r, _ = exampleReport(t, "-o", "json", "--since", expanded)
	wantCode(t, r, exitOK)
	if want := "warning: --since " + expanded + " was made with --expand-teams and this report without"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	r, _ = exampleReport(t, "-o", "json", "--expand-teams", "--since", expanded)
	wantCode(t, r, exitOK)
	if strings.Contains(r.stderr, "--expand-teams") {
		t.Errorf("a warning where the flag is the same: %q", r.stderr)
	}
}

// TestReportRoleLevel: --role-level rates a custom role, so --min-role
// filters it; the report records the levels and --from applies new ones;
// the custom roles still unrated are named on stderr; bad values exit 64.
func TestReportRoleLevel(t *testing.T) {
	r, _ := exampleReport(t, "-o", "json", "--min-role", "operate", "--role-level", "DEPLOYMENT_VIEWER=view", "--role-level", "DAG_DEPLOYER=author")
	wantCode(t, r, exitOK)
	rep := readReport(t, r)
	if !cmp.Equal(rep.RoleLevels, access.RoleLevels{"DEPLOYMENT_VIEWER": access.LevelView, "DAG_DEPLOYER": access.LevelAuthor}) {
		t.Errorf("role levels recorded %v", rep.RoleLevels)
	}
	cells := cellsOf(rep)
	for _, gone := range []string{"data-platform/analytics-prod organizationToken:org-observer", "data-platform/analytics-prod workspaceToken:dbt-cloud-runner"} {
		if got, ok := cells[gone]; ok {
			t.Errorf("%s kept: %s", gone, got)
		}
	}
	if got := cells["ml-platform/training-prod workspaceToken:feature-pipeline"]; got != "AIRFLOW_OPERATOR (deployment); WORKSPACE_OPERATOR (workspace) !" { // ! unmanaged
		t.Errorf("feature-pipeline: %q, want its unrated custom role kept beside its operator role", got)
	}
	if want := "note: --min-role keeps the custom role(s) AIRFLOW_OPERATOR: their permissions are unknown; --role-level AIRFLOW_OPERATOR=LEVEL gives one a level\n"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}

	saved := filepath.Join(t.TempDir(), "all.json")
	r, _ = exampleReport(t, "-o", "json", "--out", saved)
	wantCode(t, r, exitOK)
	offline := &cli{t: t, env: map[string]string{}}
	r = offline.runRaw("report", "--from", saved, "--role-level", "AIRFLOW_OPERATOR=admin", "--deployment", "ml-platform/training-prod")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "AIRFLOW_OPERATOR (deployment, custom role: admin)") {
		t.Errorf("--from --role-level:\n%s", r.stdout)
	}

	for _, bad := range []string{"DEPLOYMENT_ADMIN=view", "DAG_DEPLOYER", "DAG_DEPLOYER=root"} {
		r, srv := exampleReport(t, "--role-level", bad)
		wantCode(t, r, exitUsage)
		if !strings.Contains(r.stderr, "--role-level ") || len(srv.Stats().Requests) != 0 {
			t.Errorf("--role-level %s: stderr %q, %d routes requested", bad, r.stderr, len(srv.Stats().Requests))
		}
	}
}
