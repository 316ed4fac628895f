package main

import (
	"strings"
	"testing"
)

// TestExportIgnore: --ignore leaves matching principals (name or id, any
// kind) out of the export and writes the globs to its ignore lists, so
// that plan --prune on the export is still empty.
func TestExportIgnore(t *testing.T) {
	c := newCLI(t, testState)
	r := c.run("export", "--ignore", "old-*", "--ignore", "tok-ci-?", "--deployment", "dep-a1", "--deployment", "dep-a2", "--deployment", "dep-b1")
	wantCode(t, r, exitOK)
	for _, gone := range []string{"old-bot", "tok-old", "tok-ci-a", "tok-ci-b"} {
		if strings.Contains(r.stdout, gone) {
			t.Errorf("export --ignore kept %s:\n%s", gone, r.stdout)
		}
	}
	for _, want := range []string{"deployer", "org-observer", "ignoreTokens:\n  - \"old-*\"\n  - \"tok-ci-?\"", "ignoreUsers:", "ignoreTeams:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("export lacks %q:\n%s", want, r.stdout)
		}
	}
	f := c.write("exported.yaml", r.stdout)
	wantCode(t, c.run("plan", "-f", f, "--prune", "--detailed-exitcode"), exitOK)

	r = c.run("export", "--ignore", "[")
	wantCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, `--ignore "["`) {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
