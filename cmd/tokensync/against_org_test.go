package main

import (
	"strings"
	"testing"
)

// TestErrorsAgainstOrganizationSummary: errors found against the
// organization that are not about references (one deployment declared in
// two files, under its id and its name) are not summarised as references
// that do not resolve.
func TestErrorsAgainstOrganizationSummary(t *testing.T) {
	c := newCLI(t, testState)
	a := c.write("a.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens: []\n")
	b := c.write("b.yaml", "version: 1\ndeployments:\n  - name: a-prod\n    workspace: alpha\n    workspaceTokens: []\n")
	for _, cmd := range []string{"validate", "plan"} {
		r := c.run(cmd, "-f", a, "-f", b)
		wantCode(t, r, exitInvalid)
		want := "tokensync: 1 error(s) in the spec against organization org1; nothing was written.\n"
		if !strings.HasSuffix(r.stderr, want) || strings.Contains(r.stderr, "reference") {
			t.Errorf("%s: stderr does not end with %q (and says nothing of references):\n%s", cmd, want, r.stderr)
		}
	}
}
