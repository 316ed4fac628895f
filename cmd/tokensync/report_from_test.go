package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// TestReportFrom: a saved JSON report is written in every format without
// a credential or a request; -o json gives back the very file; the
// changes since a previous report it holds stay.
func TestReportFrom(t *testing.T) {
	c := newCLI(t, testState)
	prev := filepath.Join(c.dir, "before.json")
	wantCode(t, c.run("report", "-o", "json", "--out", prev), exitOK)
	if err := c.srv.SetTokenRoles("tok-old", []astroapi.Role{{EntityType: "WORKSPACE", EntityID: "ws-a", Role: "WORKSPACE_MEMBER"}}); err != nil {
		t.Fatal(err) // old-bot keeps only its workspace role: changed on a-prod and a-staging
	}
	saved := filepath.Join(c.dir, "now.json")
	wantCode(t, c.run("report", "-o", "json", "--since", prev, "--out", saved), exitOK)
	c.srv.ResetStats()

	offline := &cli{t: t, dir: c.dir, env: map[string]string{}} // no credential, no API
	want, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	r := offline.runRaw("report", "--from", saved, "-o", "json")
	wantCode(t, r, exitOK)
	if diff := cmp.Diff(string(want), r.stdout); diff != "" {
		t.Errorf("--from -o json is not the saved report (-want +got):\n%s", diff)
	}
	for format, holds := range map[string]string{
		"text":     "Since ",
		"markdown": "lost",
		"csv":      ",changed,DEPLOYMENT_ADMIN (deployment); WORKSPACE_MEMBER (workspace)",
		"html":     `<section id="since"`,
	} {
		r := offline.runRaw("report", "--from", saved, "-o", format)
		wantCode(t, r, exitOK)
		if !strings.Contains(r.stdout, holds) {
			t.Errorf("--from -o %s does not hold %q:\n%.2000s", format, holds, r.stdout)
		}
	}
	if n := len(c.srv.Stats().Requests); n != 0 {
		t.Errorf("--from made %d kinds of request", n)
	}
}

// TestReportFromNarrows: filters and --production apply to a saved
// report; a saved report already narrowed is not narrowed again, and -f
// or --expand-teams, which need the API, are usage errors.
func TestReportFromNarrows(t *testing.T) {
	c := newCLI(t, testState)
	saved := filepath.Join(c.dir, "all.json")
	wantCode(t, c.run("report", "-o", "json", "--out", saved), exitOK)
	narrowed := filepath.Join(c.dir, "narrow.json")
	wantCode(t, c.run("report", "-o", "json", "--workspace", "ws-a", "--out", narrowed), exitOK)
	offline := &cli{t: t, dir: c.dir, env: map[string]string{}}

	r := offline.runRaw("report", "--from", saved, "--workspace", "ws-a", "--production", "a-stag*")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Narrowed by --workspace ws-a.") || !strings.Contains(r.stdout, "(dep-a2), production") || strings.Contains(r.stdout, "(dep-a1), production") || strings.Contains(r.stdout, "dep-b1") {
		t.Errorf("--from narrowed:\n%s", r.stdout)
	}
	for _, tt := range []struct {
		name string
		args []string
		says string
	}{
		{"narrowed twice", []string{"--from", narrowed, "--min-role", "admin"}, "was made with --workspace ws-a: filter the report it came from instead"},
		{"with a spec", []string{"--from", saved, "-f", c.write("t.yaml", "version: 1\ndeployments: []\n")}, "--from renders a saved report"},
		{"expanding teams", []string{"--from", saved, "--expand-teams"}, "--from renders a saved report"},
		{"not a report", []string{"--from", c.write("x.json", `{"format_version":"3"}`)}, `--from`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := offline.runRaw(append([]string{"report"}, tt.args...)...)
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, tt.says) {
				t.Errorf("stderr %q, want %q", r.stderr, tt.says)
			}
		})
	}
}

// TestReadmeWeeklyAudit runs docs/report.md's weekly audit script, as written,
// twice with the built binary against the example organization, a token
// losing a role in between: the second run's page and markdown say who
// lost access since the first.
func TestReadmeWeeklyAudit(t *testing.T) {
	readme, err := os.ReadFile("../../docs/report.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "The weekly audit, as a scheduled job")
	_, block, ok2 := strings.Cut(after, "```sh\n")
	script, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/report.md has no weekly audit script")
	}
	srv, baseURL, work := exampleOrg(t)
	if err := os.Mkdir(filepath.Join(work, "audit"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := binDir(t)
	vars := map[string]string{"ASTRO_API_URL": baseURL, "ASTRO_API_TOKEN": secret}
	runScript := func() {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir, cmd.Env = work, processEnv(bin, vars)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the weekly audit script: %v\n%s", err, out)
		}
	}
	runScript()
	// ci-deployer of data-platform keeps only its workspace role.
	if err := srv.SetTokenRoles("clxtk7a2m000008jv3dci0001", []astroapi.Role{{EntityType: "WORKSPACE", EntityID: "clvdw0ks1000008mh4dpl0001", Role: "WORKSPACE_MEMBER"}}); err != nil {
		t.Fatal(err)
	}
	runScript()
	files, err := filepath.Glob(filepath.Join(work, "audit", "*"))
	if err != nil || len(files) != 3 {
		t.Fatalf("audit/ holds %v, want one day's .json, .html and .md", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if want := "0 gained, 0 lost, 2 changed"; filepath.Ext(f) == ".md" && !strings.Contains(string(data), "**"+want+"**") {
			t.Errorf("%s does not say %q:\n%.1500s", f, want, data)
		}
		if filepath.Ext(f) == ".html" && !strings.Contains(string(data), `<span class="changed">2 changed</span>`) {
			t.Errorf("%s does not show the 2 changes", f)
		}
	}
}

// TestReportFromNarrowedSince: a saved report made with a filter, written
// again --since an unfiltered one, compares within that filter: what the
// filter left out is not "lost".
func TestReportFromNarrowedSince(t *testing.T) {
	c := newCLI(t, testState)
	all := filepath.Join(c.dir, "all.json")
	wantCode(t, c.run("report", "-o", "json", "--out", all), exitOK)
	narrowed := filepath.Join(c.dir, "narrow.json")
	wantCode(t, c.run("report", "-o", "json", "--workspace", "ws-a", "--out", narrowed), exitOK)
	offline := &cli{t: t, dir: c.dir, env: map[string]string{}}
	r := offline.runRaw("report", "--from", narrowed, "--since", all)
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "0 gained, 0 lost, 0 changed.") {
		t.Errorf("--from a narrowed report --since the whole one:\n%s", r.stdout)
	}
}
