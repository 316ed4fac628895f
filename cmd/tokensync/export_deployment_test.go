package main

import (
	"strings"
	"testing"
)

// TestExportDeploymentForms: export --deployment takes the forms --target
// and report take (an id, workspace/name with the workspace's id or name,
// or a name alone), and a name that fits several deployments (or
// workspaces, for --workspace) is a usage error listing their ids, not an
// export of all of them.
func TestExportDeploymentForms(t *testing.T) {
	c := newCLI(t, testState)
	for _, tt := range []struct {
		ref, want, not string
	}{
		{"alpha/shared-name", "id: dep-a3", "dep-b2"},
		{"ws-b/shared-name", "id: dep-b2", "dep-a3"},
		{"dep-a3", "id: dep-a3", "dep-b2"},
		{"a-prod", "id: dep-a1", "dep-a2"},
		{"alpha/a-staging", "id: dep-a2", "dep-a1"},
	} {
		r := c.run("export", "--deployment", tt.ref)
		wantCode(t, r, exitOK)
		if !strings.Contains(r.stdout, tt.want) || strings.Contains(r.stdout, tt.not) {
			t.Errorf("export --deployment %s: want %s and not %s:\n%s", tt.ref, tt.want, tt.not, r.stdout)
		}
	}

	r := c.run("export", "--deployment", "shared-name")
	wantCode(t, r, exitUsage)
	want := "tokensync: --deployment \"shared-name\": 2 deployments have this name: dep-a3 (workspace alpha), dep-b2 (workspace beta); give its id or workspace/name\n"
	if r.stderr != want || r.stdout != "" {
		t.Errorf("export --deployment shared-name: stdout %q, stderr:\n%s\nwant:\n%s", r.stdout, r.stderr, want)
	}

	twins := newCLI(t, "organization: {id: org1, name: Test Org}\nworkspaces:\n  - {id: ws-1, name: twin}\n  - {id: ws-2, name: twin}\n")
	r = twins.run("export", "--workspace", "twin")
	wantCode(t, r, exitUsage)
	if want := "tokensync: --workspace \"twin\": 2 workspaces have this name (ws-1, ws-2): give its id\n"; r.stderr != want {
		t.Errorf("export --workspace twin: stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
	r = twins.run("export", "--workspace", "ws-2")
	wantCode(t, r, exitOK)
}
