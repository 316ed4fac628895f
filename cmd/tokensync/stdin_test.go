package main

import (
	"strings"
	"testing"
)

// TestSpecFromStdin: -f - reads the spec from stdin, named <stdin> in
// errors; apply -f - needs --yes, since stdin cannot also answer.
func TestSpecFromStdin(t *testing.T) {
	c := newCLI(t, testState)
	c.stdin = mainSpec
	r := c.run("plan", "-f", "-", "--no-color")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Plan: 2 to add, 1 to change, 1 to remove.") {
		t.Errorf("plan -f - :\n%s", r.stdout)
	}

	c.stdin = "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - {name: ci, role: NOPE_ROLE, color: red}\n"
	r = c.run("validate", "-f", "-", "--offline")
	wantCode(t, r, exitInvalid)
	if !strings.Contains(r.stderr, "<stdin>:5:") {
		t.Errorf("validate -f - error not positioned in <stdin>:\n%s", r.stderr)
	}

	c.stdin = mainSpec
	c.tty = true
	c.srv.ResetStats()
	r = c.run("apply", "-f", "-")
	wantCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "apply -f - needs --yes") || c.requests() != 0 {
		t.Errorf("%d requests; stderr:\n%s", c.requests(), r.stderr)
	}
	c.tty = false
	wantCode(t, c.run("apply", "-f", "-", "--yes"), exitOK)
	c.stdin = mainSpec
	wantCode(t, c.run("plan", "-f", "-", "--detailed-exitcode"), exitOK)
}
