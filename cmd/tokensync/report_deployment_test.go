package main

import (
	"strings"
	"testing"
)

// TestReportDeploymentForms: report --deployment takes the forms export
// --deployment takes (an id, workspace/name with the workspace's id or
// name, or a name alone), and a name that fits several deployments is a
// usage error listing their ids, as in export, not a report of all of
// them.
func TestReportDeploymentForms(t *testing.T) {
	c := newCLI(t, testState)
	for _, tt := range []struct {
		ref, want, not string
	}{
		{"alpha/shared-name", "(dep-a3)", "(dep-b2)"},
		{"ws-b/shared-name", "(dep-b2)", "(dep-a3)"},
		{"dep-a3", "(dep-a3)", "(dep-b2)"},
		{"a-prod", "(dep-a1)", "(dep-a2)"},
	} {
		r := c.run("report", "--deployment", tt.ref)
		wantCode(t, r, exitOK)
		if !strings.Contains(r.stdout, tt.want) || strings.Contains(r.stdout, tt.not) {
			t.Errorf("report --deployment %s: want %s and not %s:\n%s", tt.ref, tt.want, tt.not, r.stdout)
		}
	}

	r := c.run("report", "--deployment", "shared-name", "--deployment", "nosuch")
	wantCode(t, r, exitUsage)
	want := "tokensync: --deployment \"shared-name\": 2 deployments have this name: dep-a3 (workspace alpha), dep-b2 (workspace beta); give its id or workspace/name\n" +
		"--deployment \"nosuch\": no such deployment in organization org1 (give its id, name or workspace/name)\n"
	if r.stderr != want || r.stdout != "" {
		t.Errorf("report --deployment shared-name: stdout %q, stderr:\n%s\nwant:\n%s", r.stdout, r.stderr, want)
	}
}
