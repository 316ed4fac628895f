package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/spec"
)

// TestSpecDirectoryEntryThatCannotBeRead: a broken or looping symbolic
// link in a -f directory fails plan with exit 3, naming it, before any
// request; it is not silently left out of the spec.
func TestSpecDirectoryEntryThatCannotBeRead(t *testing.T) {
	for _, tt := range []struct {
		name  string
		links map[string]string // link name → target
		want  string
	}{
		{"broken link", map[string]string{"prod.yaml": "gone.yaml"}, `prod.yaml: cannot read: symbolic link to "gone.yaml": no such file or directory`},
		{"looping link", map[string]string{"prod.yaml": "prod.yaml"}, `prod.yaml: cannot read: symbolic link to "prod.yaml": too many levels of symbolic links`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, testState)
			dir := filepath.Join(c.dir, "specs")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, filepath.Join(dir, "base.yaml"), "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens: []\n")
			for name, target := range tt.links {
				if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
					t.Skipf("no symbolic links here: %v", err)
				}
			}
			r := c.run("plan", "-f", dir)
			wantCode(t, r, exitInvalid)
			if !strings.Contains(r.stderr, filepath.Join(dir, tt.want)) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if n := c.requests(); n != 0 {
				t.Errorf("%d API requests", n)
			}
		})
	}
}

// TestResolutionErrorsCapped: 10,000 deployments that do not resolve print
// spec.MaxErrors errors, one "... and N more" line and the summary, not
// 10,001 lines; under GitHub Actions, spec.MaxErrors annotations and a last
// one that says how many more there are.
func TestResolutionErrorsCapped(t *testing.T) {
	c := newCLI(t, testState)
	const n = 10000
	var b strings.Builder
	b.WriteString("version: 1\ndeployments:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: dep-missing-%05d, workspaceTokens: []}\n", i)
	}
	f := c.write("tokens.yaml", b.String())
	r := c.run("plan", "-f", f)
	wantCode(t, r, exitInvalid)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != spec.MaxErrors+2 {
		t.Errorf("%d lines on stderr, want %d", len(lines), spec.MaxErrors+2)
	}
	tail := strings.Join(lines[max(0, len(lines)-2):], "\n")
	want := fmt.Sprintf("... and %d more\ntokensync: %d error(s) in the spec against organization org1; nothing was written.", n-spec.MaxErrors, n)
	if tail != want {
		t.Errorf("stderr ends with:\n%s\nwant:\n%s", tail, want)
	}

	c.env["GITHUB_ACTIONS"] = "true"
	r = c.run("plan", "-f", f)
	wantCode(t, r, exitInvalid)
	var annotations []string
	for line := range strings.Lines(r.stderr) {
		if strings.HasPrefix(line, "::error ") {
			annotations = append(annotations, line)
		}
	}
	if len(annotations) != spec.MaxErrors+1 {
		t.Fatalf("%d annotations, want %d", len(annotations), spec.MaxErrors+1)
	}
	if last, want := annotations[len(annotations)-1], fmt.Sprintf("::... and %d more\n", n-spec.MaxErrors); !strings.HasSuffix(last, want) {
		t.Errorf("last annotation %q, want it to end with %q", last, want)
	}
}

// TestValidateOfflineWarnsOnNearMisses: offline, a role spelled almost like
// a built-in deployment or DAG role may still be a custom role, so validate
// warns, at the role, with a suggestion and passes (exit 0); a real custom
// role and the built-in role in any case draw no warning.
func TestValidateOfflineWarnsOnNearMisses(t *testing.T) {
	c := newCLI(t, testState)
	c.env = map[string]string{}
	f := c.write("tokens.yaml", `version: 1
deployments:
  - id: dep-a1
    workspaceTokens:
      - {name: ci, role: DEPLOYMENT_ADMN}
      - {name: deployer, role: DAG_DEPLOYER}
      - {name: old-bot, role: deployment_admin}
    organizationTokens:
      - {name: org-observer, role: Deployment-Admin}
    dags:
      - dagId: rollup
        workspaceTokens:
          - name: ci
            role: DAG_VEIWER
`)
	r := c.runRaw("validate", "--offline", "-f", f)
	wantCode(t, r, exitOK)
	want := f + `:5:26: warning: role "DEPLOYMENT_ADMN" is not built in, so it must be a custom role of that name (did you mean "DEPLOYMENT_ADMIN"?)
` + f + `:9:36: warning: role "Deployment-Admin" is not built in, so it must be a custom role of that name (did you mean "DEPLOYMENT_ADMIN"?)
` + f + `:14:19: warning: role "DAG_VEIWER" is not built in, so it must be a custom role of that name (did you mean "DAG_VIEWER"?)
Valid (offline): 1 deployment(s), 1 DAG or DAG tag scope(s), 5 token entries in 1 file(s).
`
	if r.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
}

// TestStateFileGivenAsSpec: the emulator's state file given to -f is one
// line saying so and what to use, exit 3, not an error per key.
func TestStateFileGivenAsSpec(t *testing.T) {
	t.Chdir("../..")
	c := &cli{t: t, env: map[string]string{}}
	want := "examples/org.yaml:7:1: this looks like an emulator state file, not a spec; use --emulate examples/org.yaml\n" +
		"tokensync: 1 error(s) in the spec; nothing was contacted or written.\n"
	for _, args := range [][]string{
		{"plan", "-f", "examples/org.yaml", "--emulate", "examples/org.yaml"},
		{"validate", "--offline", "-f", "examples/org.yaml"},
	} {
		r := c.runRaw(args...)
		wantCode(t, r, exitInvalid)
		if r.stderr != want {
			t.Errorf("tokensync %s: stderr\n%s\nwant\n%s", strings.Join(args, " "), r.stderr, want)
		}
	}
}

// TestValidateOfflineCountsEveryLevel: validate's summary counts the
// scopes and entries of every level, not only the deployments'.
func TestValidateOfflineCountsEveryLevel(t *testing.T) {
	c := newCLI(t, testState)
	r := c.runRaw("validate", "--offline", "-f", filepath.Join("..", "..", "examples", "levels.yaml"))
	wantCode(t, r, exitOK)
	if want := "Valid (offline): the organization, 1 workspace(s), 1 deployment(s), 1 DAG or DAG tag scope(s), 2 token entries, 5 user entries, 2 team entries in 1 file(s).\n"; r.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
}
