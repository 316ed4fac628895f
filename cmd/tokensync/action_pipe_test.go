package main

// The shell scripts and the credential: no pipeline whose writer can die
// of SIGPIPE, and the GitHub token never on a command line or in a file.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// shellScripts are the repository's shell scripts: the Action's, CI's, and
// the shell in the examples.
func shellScripts(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"action/*.sh", ".ci/*", "examples/ci/*"} {
		m, err := filepath.Glob(filepath.Join(repoRoot, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 5 {
		t.Fatalf("found only %d scripts: %v", len(files), files)
	}
	return files
}

// brokenPipeRe matches a pipeline stage that may exit before it reads all
// its input, so that under `set -o pipefail` the stage before it can die
// of SIGPIPE and fail the step at random: curl (which reads stdin only
// for --config - or @-), grep -q, head and the like.
var brokenPipeRe = regexp.MustCompile(`(^|[^|])\|[ \t]*(\\\n)?\s*(curl\b|grep\s+-[A-Za-z]*[qml]|head\b|sed\s+-n\s*['"]?\d*q|awk\s+[^|\n]*\bexit\b)`)

// TestScriptsHaveNoBreakablePipe: printf piped into curl failed
// TestGitHubWorkflowCommands 1 run in 4 on a loaded machine: when curl
// does not read its stdin, printf can die of SIGPIPE, and pipefail fails
// the step. No script pipes into a reader that may stop early.
func TestScriptsHaveNoBreakablePipe(t *testing.T) {
	for _, file := range shellScripts(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var code strings.Builder
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				code.WriteString("\n")
				continue
			}
			code.WriteString(line)
		}
		for _, m := range brokenPipeRe.FindAllStringIndex(code.String(), -1) {
			lineNo := strings.Count(code.String()[:m[0]], "\n") + 1
			t.Errorf("%s:%d: a pipe into a reader that may stop early: %q", file, lineNo, strings.TrimSpace(code.String()[m[0]:m[1]]))
		}
	}
}

// TestBrokenPipeRe: the scan finds the pipelines that broke, and passes
// the ones that read all their input.
func TestBrokenPipeRe(t *testing.T) {
	for src, want := range map[string]bool{
		"printf 'header = %s' \"$T\" |\n\t\tcurl -fsS --config - \"$u\"": true,
		"printf x | curl -o f \"$u\"":                                    true,
		"head -n 1 \"$md\" | grep -qF \"$marker\"":                       true,
		"go list -deps | grep -Ex 'testing' || true":                     false,
		"sha256sum \"$f\" | awk '{ print $1 }'":                          false,
		"printf '%*s' 3 '' | tr ' ' '`'":                                 false,
		"curl -o f \"$u\" || die x":                                      false,
		"curl --config - \"$u\" <<<\"header = x\"":                       false,
		"seq 10 | head -n 1":                                             true,
	} {
		if got := brokenPipeRe.MatchString(src); got != want {
			t.Errorf("%q: matched %v, want %v", src, got, want)
		}
	}
}

// TestActionCredentialNotOnCommandLine: every curl the Action runs is
// recorded; the GitHub token reaches the fake GitHub API (which refuses
// requests without it) but is on no command line, and no file in
// RUNNER_TEMP holds it after the run.
func TestActionCredentialNotOnCommandLine(t *testing.T) {
	realCurl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal(err)
	}
	s := newActionSetup(t)
	s.gh.latest = s.release.Tag
	wrap := t.TempDir()
	argv := filepath.Join(t.TempDir(), "curl-argv")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + argv + "'\nexec '" + realCurl + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(wrap, "curl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s.run.path = []string{wrap}
	got := s.run.use(s.with("files", "tokens/", "version", "latest"))
	if got.code != 0 {
		t.Fatalf("step exited %d:\n%s", got.code, got.log)
	}
	if n := len(s.gh.marked()); n != 1 {
		t.Fatalf("%d marked comments, want 1: the token did not reach the API", n)
	}
	calls, err := os.ReadFile(argv)
	if err != nil {
		t.Fatal(err)
	}
	var api int
	for _, c := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
		if strings.Contains(c, ghToken) {
			t.Errorf("the token is on curl's command line: %s", c)
		}
		if strings.Contains(c, s.gh.URL) {
			api++
			if !strings.Contains(c, "--config -") {
				t.Errorf("a call to the API without --config -: %s", c)
			}
		}
	}
	if api < 3 { // the latest release, the comments, the new comment
		t.Errorf("%d calls to the API, want 3 or more:\n%s", api, calls)
	}
	err = filepath.WalkDir(s.run.temp, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(data), ghToken) {
			t.Errorf("%s holds the token after the run", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
