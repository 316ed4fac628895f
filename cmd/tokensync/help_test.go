package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestHelpShowsOnlyTheFlagsACommandUses: the API flags show in the help of
// the commands that talk to the API, and nowhere else.
func TestHelpShowsOnlyTheFlagsACommandUses(t *testing.T) {
	apiFlags := []string{"--api-url", "--organization", "--token-file", "--emulate", "--parallelism", "--max-retries", "--timeout", "--verbose"}
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
	common := []string{"--api-url", c.baseURL, "--organization", "org1", "--parallelism", "2", "--max-retries", "1", "--timeout", "5s", "--no-color", "-v"}
	for _, args := range [][]string{
		append([]string{"plan", "-f", f}, common...),
		append([]string{"validate", "-f", f}, common...),
		append([]string{"export"}, common...),
	} {
		wantCode(t, c.runRaw(args...), exitOK)
	}
	// apply's progress and -v's log share stderr: a buffer safe for both.
	wantCode(t, c.runLocked("apply", "-f", f, "--yes", "--parallelism", "2", "--max-retries", "1", "--timeout", "5s", "--no-color", "-v"), exitOK)
	r := c.runRaw("plan", "-f", f, "--api-url", c.baseURL, "--organization", "org1", "--parallelism", "0")
	wantCode(t, r, exitUsage)
	r = c.runRaw("export", "--api-url", c.baseURL, "--organization", "org1", "--timeout", "0s")
	wantCode(t, r, exitUsage)
	// The emulator does not take them.
	wantCode(t, c.runRaw("emulator", "--state", "x.yaml", "--api-url", c.baseURL), exitUsage)
}
