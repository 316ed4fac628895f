package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestHelpShowsOnlyTheFlagsACommandUses: the API flags show in the help of
// the commands that talk to the API, and nowhere else.
func TestHelpShowsOnlyTheFlagsACommandUses(t *testing.T) {
	apiFlags := []string{"--api-url", "--organization", "--token-file", "--emulate", "--max-retries", "--timeout", "--verbose"}
	c := &cli{t: t, env: map[string]string{}}
	for _, tt := range []struct {
		args []string
		api  bool
	}{
		{[]string{"--help"}, false},
		{[]string{"emulator", "--help"}, false},
		{[]string{"schema", "--help"}, false},
		{[]string{"version", "--help"}, false},
		{[]string{"completion", "--help"}, false},
		{[]string{"plan", "--help"}, true},
		{[]string{"apply", "--help"}, true},
		{[]string{"validate", "--help"}, true},
		{[]string{"export", "--help"}, true},
		{[]string{"report", "--help"}, true},
	} {
		r := c.runRaw(tt.args...)
		wantCode(t, r, exitOK)
		for _, f := range apiFlags {
			listed := regexp.MustCompile(`(?m)^\s*(-\w, )?` + f + `\b`)
			if got := listed.MatchString(r.stdout); got != tt.api {
				t.Errorf("tokensync %s: shows %s: %v, want %v", strings.Join(tt.args, " "), f, got, tt.api)
			}
		}
	}
}

// TestAPIFlagsStillWork: every API flag name and its variable still work
// for the commands that talk to the API.
func TestAPIFlagsStillWork(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	common := []string{"--api-url", c.baseURL, "--organization", "org1", "--max-retries", "1", "--timeout", "5s", "--no-color", "-v"}
	for _, args := range [][]string{
		append([]string{"plan", "-f", f}, common...),
		append([]string{"validate", "-f", f}, common...),
		append([]string{"export"}, common...),
	} {
		wantCode(t, c.runRaw(args...), exitOK)
	}
	// apply's progress and -v's log share stderr: a buffer safe for both.
	wantCode(t, c.runLocked("apply", "-f", f, "--yes", "--parallelism", "2", "--max-retries", "1", "--timeout", "5s", "--no-color", "-v"), exitOK)
	r := c.runRaw("apply", "-f", f, "--yes", "--api-url", c.baseURL, "--organization", "org1", "--parallelism", "0")
	wantCode(t, r, exitUsage)
	r = c.runRaw("export", "--api-url", c.baseURL, "--organization", "org1", "--timeout", "0s")
	wantCode(t, r, exitUsage)
	// The emulator does not take them.
	wantCode(t, c.runRaw("emulator", "--state", "x.yaml", "--api-url", c.baseURL), exitUsage)
}

// TestParallelismIsGlobal: --parallelism is a flag of every command that
// talks to the API, as design.md has it, with one help (what it paces:
// apply's writes and the team member reads), and below 1 it is refused.
func TestParallelismIsGlobal(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	for _, cmd := range []string{"plan", "apply", "validate", "export", "report"} {
		r := c.runRaw(cmd, "--help")
		wantCode(t, r, exitOK)
		if want := "Tokens, users and teams handled at once: apply's writes, and the team member lists"; !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), want) {
			t.Errorf("tokensync %s --help lacks %q:\n%s", cmd, want, r.stdout)
		}
		r = c.runRaw(cmd, "--parallelism", "0")
		wantCode(t, r, exitUsage)
		if want := "--parallelism must be at least 1, not 0"; !strings.Contains(r.stderr, want) {
			t.Errorf("tokensync %s --parallelism 0: stderr lacks %q:\n%s", cmd, want, r.stderr)
		}
	}
}

// TestBareCommandShowsHelp: `tokensync` alone, `tokensync help` and
// `tokensync --help` print the same help and exit 0, as kubectl and gh do.
func TestBareCommandShowsHelp(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	want := c.runRaw("--help")
	wantCode(t, want, exitOK)
	for _, args := range [][]string{nil, {"help"}} {
		r := c.runRaw(args...)
		wantCode(t, r, exitOK)
		if r.stdout != want.stdout || r.stderr != "" {
			t.Errorf("tokensync %v: stdout %q, stderr %q; want the help of --help", args, r.stdout, r.stderr)
		}
	}
}

// TestHelpCommand: `tokensync help COMMAND` is `tokensync COMMAND --help`;
// an unknown command is a usage error.
func TestHelpCommand(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	for _, cmd := range []string{"plan", "apply", "validate", "export", "report", "emulator", "schema", "version", "completion", "help"} {
		want := c.runRaw(cmd, "--help")
		got := c.runRaw("help", cmd)
		wantCode(t, got, exitOK)
		if got.stdout != want.stdout {
			t.Errorf("tokensync help %s differs from tokensync %s --help:\n%s\n---\n%s", cmd, cmd, got.stdout, want.stdout)
		}
	}
	const commands = "; the commands are plan, apply, validate, export, report, emulator, schema, version, completion, help\n"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "nope"}, `tokensync: help: unknown command "nope"` + commands},
		{[]string{"help", "aply"}, `tokensync: help: unknown command "aply" (did you mean "apply"?)` + commands},
		{[]string{"help", "plan", "apply"}, "tokensync: help: give one command, not 2 (plan apply)\n"},
		{[]string{"nope"}, `tokensync: unknown command "nope"` + commands},
		{[]string{"plam"}, `tokensync: unknown command "plam" (did you mean "plan"?)` + commands},
		{[]string{"--no-color", "plam"}, `tokensync: unknown command "plam" (did you mean "plan"?)` + commands},
		{[]string{"--parallelism", "3", "-v", "plam", "-f", "x.yaml"}, `tokensync: unknown command "plam" (did you mean "plan"?)` + commands},
		{[]string{"--no-color", "tokens.yaml"}, "tokensync: unexpected argument tokens.yaml\nhint: give a spec file with -f: -f tokens.yaml\n"},
		{[]string{"-v", "--", "plam"}, "tokensync: -v is a flag of the commands that talk to the API"},
	} {
		r := c.runRaw(tt.args...)
		wantCode(t, r, exitUsage)
		if !strings.HasPrefix(r.stderr, tt.want) {
			t.Errorf("tokensync %v: stderr\n%s\nwant it to start with\n%s", tt.args, r.stderr, tt.want)
		}
	}
}

// TestVersionFlag: `tokensync --version` prints what `tokensync version`
// prints.
func TestVersionFlag(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	want := c.runRaw("version")
	got := c.runRaw("--version")
	wantCode(t, got, exitOK)
	if got.stdout != want.stdout || !strings.HasPrefix(got.stdout, "tokensync ") {
		t.Errorf("--version printed %q, version %q", got.stdout, want.stdout)
	}
}

// TestHelpHasExamples: every command's help has an Examples section whose
// commands are tokensync's (or a shell's around it).
func TestHelpHasExamples(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	for _, cmd := range []string{"plan", "apply", "validate", "export", "report", "emulator", "schema", "version", "completion", "help"} {
		r := c.runRaw(cmd, "--help")
		_, examples, ok := strings.Cut(r.stdout, "\nExamples:\n")
		if !ok || !strings.Contains(examples, "tokensync "+cmd) {
			t.Errorf("tokensync %s --help has no example of it:\n%s", cmd, r.stdout)
		}
	}
}

// TestRootHelpListsExitCodes: the root help lists every exit code, each
// with its meaning.
func TestRootHelpListsExitCodes(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	r := c.runRaw("--help")
	for _, code := range []int{exitOK, exitError, exitChanges, exitInvalid, exitRefused, exitStale, exitPartial, exitDrift, exitUsage, 130} {
		if !regexp.MustCompile(`(?m)^\s+` + strconv.Itoa(code) + `\s+\w`).MatchString(r.stdout) {
			t.Errorf("the root help does not list exit code %d:\n%s", code, r.stdout)
		}
	}
}

// TestHelpNamesEveryLevel: the help speaks of every level a spec manages
// (organization, workspaces, deployments, DAGs), not of deployments alone,
// as it did before the other levels.
func TestHelpNamesEveryLevel(t *testing.T) {
	c := &cli{t: t, env: map[string]string{"COLUMNS": "1000"}}
	t.Setenv("COLUMNS", "1000") // one line per flag
	for _, tt := range []struct {
		args        []string
		line, stale string
	}{
		{[]string{"--help"}, "Deployment access as code", "on which Deployment"},
		{[]string{"plan", "--help"}, "--prune", "on managed deployments"},
		{[]string{"apply", "--help"}, "--prune", "on managed deployments"},
	} {
		r := c.runRaw(tt.args...)
		wantCode(t, r, exitOK)
		var line string
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), tt.line) {
				line = l
				break
			}
		}
		if strings.Contains(line, tt.stale) {
			t.Errorf("tokensync %v: %q", tt.args, line)
		}
		for _, level := range []string{"organization", "workspaces", "deployments", "DAGs"} {
			if !strings.Contains(line, level) {
				t.Errorf("tokensync %v: %q does not name %s", tt.args, line, level)
			}
		}
	}
}
