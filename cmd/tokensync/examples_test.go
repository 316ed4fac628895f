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
			Name string `yaml:"name"`
			Run  string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestGitHubWorkflowCommands runs the shell of every workflow step that
// calls tokensync, exactly as written, against the emulator.
func TestGitHubWorkflowCommands(t *testing.T) {
	data, err := os.ReadFile("../../examples/ci/github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	step := func(job, name string) string {
		for _, s := range wf.Jobs[job].Steps {
			if s.Name == name {
				if !strings.Contains(s.Run, "tokensync ") {
					t.Fatalf("step %s/%s runs no tokensync command", job, name)
				}
				return s.Run
			}
		}
		t.Fatalf("no step %q in job %q", name, job)
		return ""
	}
	_, baseURL, work := exampleOrg(t)
	bin := binDir(t)
	summary := filepath.Join(work, "summary.md")
	output := filepath.Join(work, "output.txt")
	runStep := func(script string) (int, string) {
		t.Helper()
		for _, f := range []string{summary, output} {
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("bash", "-e", "-c", script)
		cmd.Dir = work
		cmd.Env = processEnv(bin, map[string]string{
			"ASTRO_API_URL":         baseURL,
			"ASTRO_API_TOKEN":       secret,
			"ASTRO_ORGANIZATION_ID": "clx0org0000000000000000",
			"GITHUB_STEP_SUMMARY":   summary,
			"GITHUB_OUTPUT":         output,
			"GITHUB_ACTIONS":        "true",
		})
		out, err := cmd.CombinedOutput()
		if strings.Contains(string(out), secret) {
			t.Errorf("the step printed the credential:\n%s", out)
		}
		return exitCode(t, err), string(out)
	}
	readFile := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	if code, out := runStep(step("plan", "Plan")); code != 0 {
		t.Fatalf("plan step exited %d:\n%s", code, out)
	}
	if got := readFile(output); got != "exitcode=2\n" {
		t.Errorf("plan step output %q, want exitcode=2", got)
	}
	if !strings.HasPrefix(readFile(summary), "<!-- tokensync-plan -->\n### tokensync plan: 3 to add, 2 to change, 2 to remove") {
		t.Errorf("plan summary:\n%s", readFile(summary))
	}
	if !strings.HasPrefix(readFile(filepath.Join(work, "plan.md")), "<!-- tokensync-plan -->") {
		t.Errorf("plan.md lacks the marker the comment step looks for")
	}
	if code, out := runStep(step("drift", "Detect drift")); code != 2 {
		t.Fatalf("drift step exited %d before apply, want 2:\n%s", code, out)
	}
	if code, out := runStep(step("apply", "Apply")); code != 0 {
		t.Fatalf("apply step exited %d:\n%s", code, out)
	}
	if !strings.Contains(readFile(summary), "no changes") {
		t.Errorf("apply summary:\n%s", readFile(summary))
	}
	if code, out := runStep(step("drift", "Detect drift")); code != 0 {
		t.Fatalf("drift step exited %d after apply, want 0:\n%s", code, out)
	}
	if code, _ := runStep(step("plan", "Plan")); code != 0 || readFile(output) != "exitcode=0\n" {
		t.Errorf("plan after apply: exit %d, output %q", code, readFile(output))
	}
}

// TestCronJobCommand runs the CronJob's container command with its
// environment, the Secret's value and the ConfigMap mounted at its path.
func TestCronJobCommand(t *testing.T) {
	data, err := os.ReadFile("../../examples/ci/cronjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cj struct {
		Spec struct {
			JobTemplate struct {
				Spec struct {
					Template struct {
						Spec struct {
							Containers []struct {
								Command      []string `yaml:"command"`
								Args         []string `yaml:"args"`
								Env          []struct{ Name, Value string }
								VolumeMounts []struct {
									MountPath string `yaml:"mountPath"`
								} `yaml:"volumeMounts"`
							} `yaml:"containers"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &cj); err != nil {
		t.Fatal(err)
	}
	containers := cj.Spec.JobTemplate.Spec.Template.Spec.Containers
	if len(containers) != 1 || len(containers[0].VolumeMounts) != 1 {
		t.Fatalf("want one container with one mount, got %+v", containers)
	}
	c := containers[0]
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
