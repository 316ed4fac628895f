package main

import (
	"strings"
	"testing"
)

// TestUsageErrorPointsAtCommandHelp: a usage error in a command's flags or
// arguments points at that command's help, not the root's.
func TestUsageErrorPointsAtCommandHelp(t *testing.T) {
	c := newCLI(t, testState)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--prun"}, "Run 'tokensync plan --help' for usage.\n"},
		{[]string{"report", "-o", "pdf"}, "Run 'tokensync report --help' for usage.\n"},
		{[]string{"apply", "a.json", "b.json"}, "Run 'tokensync apply --help' for usage.\n"},
		{[]string{"completion", "tcsh"}, "Run 'tokensync completion --help' for usage.\n"},
		{[]string{"--bogus"}, "Run 'tokensync --help' for usage.\n"},
		{[]string{"plna"}, "Run 'tokensync --help' for usage.\n"},
	} {
		r := c.runRaw(tt.args...)
		wantCode(t, r, exitUsage)
		if !strings.HasSuffix(r.stderr, tt.want) {
			t.Errorf("%v: stderr does not end with %q:\n%s", tt.args, tt.want, r.stderr)
		}
	}
}
