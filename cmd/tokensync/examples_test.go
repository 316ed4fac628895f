package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// exampleOrg starts an emulator seeded with examples/org.yaml and lays out
// a working directory with the example spec under tokens/, as the CI
// examples expect.
func exampleOrg(t *testing.T) (srv *astroapitest.Server, baseURL, work string) {
	t.Helper()
	st, err := astroapitest.LoadState("../../examples/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, baseURL = astroapitest.NewTestServer(t, st, astroapitest.Options{})
	work = t.TempDir()
	spec, err := os.ReadFile("../../examples/tokens.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(work, "tokens"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "tokens", "tokens.yaml"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, baseURL, work
}

type workflow struct {
	Jobs map[string]struct {
		Steps []struct {
			Name string            `yaml:"name"`
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
			Run  string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func readWorkflow(t *testing.T) workflow {
	t.Helper()
	data, err := os.ReadFile("../../examples/ci/github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	return wf
}

// TestGitHubWorkflowCommands runs every workflow step that uses the
// tokensync Action, with its inputs exactly as written, through the
// Action's own steps (action_test.go's runner): the Action installs the
// release the step names from a fake release server, and runs against the
// emulator, with a fake GitHub API for the pull-request comment.
func TestGitHubWorkflowCommands(t *testing.T) {
	wf := readWorkflow(t)
	type step struct {
		ref  string
		with map[string]string
	}
	find := func(job, name string) step {
		for _, s := range wf.Jobs[job].Steps {
			if s.Name == name {
				action, ref, ok := strings.Cut(s.Uses, "@")
				if !ok || action != "tokensync/tokensync" {
					t.Fatalf("step %s/%s does not use the tokensync Action: uses %q", job, name, s.Uses)
				}
				return step{ref, s.With}
			}
		}
		t.Fatalf("no step %q in job %q", name, job)
		return step{}
	}
	plan, apply, drift := find("plan", "Plan"), find("apply", "Apply"), find("drift", "Detect drift")
	if plan.ref != apply.ref || plan.ref != drift.ref {
		t.Fatalf("the jobs use different versions of the Action: %s, %s, %s", plan.ref, apply.ref, drift.ref)
	}
	_, baseURL, work := exampleOrg(t)
	rel := newFakeRelease(t, plan.ref, buildTokensync(t, plan.ref))
	gh := newFakeGitHub(t)
	r := newRunner(t, work)
	r.actionRef = plan.ref
	r.ghAPI = gh.URL
	r.env["ASTRO_API_URL"] = baseURL
	r.env["ASTRO_API_TOKEN"] = secret
	r.env["ASTRO_ORGANIZATION_ID"] = "clx0org0000000000000000"
	runStep := func(event string, s step) actionRun {
		t.Helper()
		r.resetSummary()
		r.event = event
		with := map[string]string{"download-url": rel.URL} // the only input the workflow does not give
		for k, v := range s.with {
			with[k] = v
		}
		return r.use(with)
	}

	got := runStep("pull_request", plan)
	if got.code != 0 {
		t.Fatalf("plan step exited %d:\n%s", got.code, got.log)
	}
	if got.outputs["exit-code"] != "2" || got.outputs["has-changes"] != "true" {
		t.Errorf("plan step outputs %v, want exit-code 2 and has-changes true", got.outputs)
	}
	summary := r.readSummary()
	if !strings.HasPrefix(summary, planMarker+"\n### tokensync plan: 3 to add, 2 to change, 2 to remove") {
		t.Errorf("plan summary:\n%s", summary)
	}
	if c := gh.marked(); len(c) != 1 || c[0].Body != summary {
		t.Errorf("want one pull-request comment with the marker and the plan, got %+v\n%s", c, got.log)
	}
	if got := runStep("schedule", drift); got.code != 2 {
		t.Fatalf("drift step exited %d before apply, want 2:\n%s", got.code, got.log)
	}
	if got := runStep("push", apply); got.code != 0 || got.outputs["exit-code"] != "0" {
		t.Fatalf("apply step exited %d, outputs %v:\n%s", got.code, got.outputs, got.log)
	}
	for _, want := range []string{"Apply complete: 3 added, 2 changed, 2 removed.", "Verified: converged."} {
		if !strings.Contains(r.readSummary(), want) {
			t.Errorf("apply summary lacks %q:\n%s", want, r.readSummary())
		}
	}
	if got := runStep("schedule", drift); got.code != 0 {
		t.Fatalf("drift step exited %d after apply, want 0:\n%s", got.code, got.log)
	}
	if got := runStep("pull_request", plan); got.code != 0 || got.outputs["exit-code"] != "0" || got.outputs["has-changes"] != "false" {
		t.Errorf("plan after apply: exit %d, outputs %v", got.code, got.outputs)
	}
	if c := gh.marked(); len(c) != 1 || !strings.Contains(c[0].Body, "no changes") {
		t.Errorf("after the second plan, want the one comment updated to no changes, got %+v", c)
	}
}

// TestCronJobCommand runs the CronJob's container command with its
// environment, the Secret's value and the ConfigMap mounted at its path.
func TestCronJobCommand(t *testing.T) {
	c, _ := cronJob(t)
	if len(c.VolumeMounts) != 1 {
		t.Fatalf("want one container with one mount, got %+v", c)
	}
	srv, baseURL, work := exampleOrg(t)
	mount := c.VolumeMounts[0].MountPath
	argv := append(append([]string{}, c.Command...), c.Args...)
	for i, a := range argv {
		argv[i] = strings.ReplaceAll(a, mount, filepath.Join(work, "tokens"))
	}
	vars := map[string]string{"ASTRO_API_URL": baseURL, "ASTRO_API_TOKEN": secret}
	for _, e := range c.Env {
		if e.Value != "" {
			vars[e.Name] = e.Value
		}
	}
	bin := binDir(t)
	for run := range 2 {
		cmd := exec.Command(filepath.Join(bin, argv[0]), argv[1:]...)
		cmd.Env = processEnv(bin, vars)
		out, err := cmd.CombinedOutput()
		if code := exitCode(t, err); code != 0 {
			t.Fatalf("run %d: %v exited %d:\n%s", run, argv, code, out)
		}
		if run == 1 && !strings.Contains(string(out), "No changes") {
			t.Errorf("second run changed something:\n%s", out)
		}
	}
	writes := srv.Stats().RoleWrites
	if len(writes) != 5 {
		t.Errorf("role writes per token = %v, want 5 tokens written", writes)
	}
	for id, n := range writes {
		if n != 1 {
			t.Errorf("token %s written %d times, want once", id, n)
		}
	}
}
