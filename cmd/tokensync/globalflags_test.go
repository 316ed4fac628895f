package main

import (
	"strings"
	"testing"
)

// TestGlobalFlagsBeforeCommand: the API flags, which design.md calls
// global, are taken before the command as after it; before a command that
// does not take them, or before no command, they are a usage error that
// says which commands take them, not "unknown flag".
func TestGlobalFlagsBeforeCommand(t *testing.T) {
	c := newCLI(t, testState)
	spec := c.write("tokens.yaml", mainSpec)
	state := c.write("state.yaml", testState)
	after := c.runRaw("plan", "-f", spec, "--emulate", state, "--no-color", "-o", "json")
	wantCode(t, after, exitOK)

	for _, args := range [][]string{
		{"--no-color", "plan", "-f", spec, "--emulate", state, "-o", "json"},
		{"--emulate", state, "-v", "--no-color", "plan", "-f", spec, "-o", "json"},
		{"--emulate=" + state, "--timeout", "10s", "plan", "-f", spec, "-o", "json"},
		{"--parallelism", "4", "plan", "-f", spec, "--emulate", state, "-o", "json"},
		{"plan", "--parallelism=4", "-f", spec, "--emulate", state, "-o", "json"},
	} {
		r := c.runRaw(args...)
		wantCode(t, r, exitOK)
		if r.stdout != after.stdout {
			t.Errorf("%v: the plan differs from the flags given after the command:\n%s", args, r.stdout)
		}
	}
	if r := c.runRaw("-v", "--emulate", state, "validate", "-f", spec); r.code != exitOK || !strings.Contains(r.stderr, "level=INFO") {
		t.Errorf("-v before validate did not log requests (exit %d):\n%s", r.code, r.stderr)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-v", "version"}, "tokensync: -v is a flag of the commands that talk to the API (plan, apply, validate, export, report); version does not take it\nRun 'tokensync version --help' for usage.\n"},
		{[]string{"--no-color", "emulator", "--state", state}, "tokensync: --no-color is a flag of the commands that talk to the API (plan, apply, validate, export, report); emulator does not take it\nRun 'tokensync emulator --help' for usage.\n"},
		{[]string{"--no-color"}, "tokensync: --no-color is a flag of the commands that talk to the API (plan, apply, validate, export, report); give it with one of them, as in: tokensync plan --no-color\nRun 'tokensync --help' for usage.\n"},
	} {
		r := c.runRaw(tt.args...)
		wantCode(t, r, exitUsage)
		if r.stderr != tt.want {
			t.Errorf("%v: stderr\n%s\nwant\n%s", tt.args, r.stderr, tt.want)
		}
	}
}
