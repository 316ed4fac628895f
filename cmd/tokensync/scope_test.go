package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scopeState has a token called reader in two workspaces and in the
// organization, as Astro allows, and two tokens called twin in one
// workspace.
const scopeState = `
organization: {id: org1, name: Test Org}
workspaces:
  - {id: ws-a, name: alpha}
  - {id: ws-b, name: beta}
deployments:
  - {id: dep-a1, name: prod, workspaceId: ws-a}
  - {id: dep-b1, name: prod, workspaceId: ws-b}
  - {id: dep-b2, name: staging, workspaceId: ws-b}
tokens:
  - id: tok-rd-a
    name: reader
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
  - id: tok-rd-b
    name: reader
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-b, role: WORKSPACE_MEMBER}
  - id: tok-rd-org
    name: reader
    scope: ORGANIZATION
    roles:
      - {entityType: ORGANIZATION, entityId: org1, role: ORGANIZATION_MEMBER}
  - id: tok-twin-1
    name: twin
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-b, role: WORKSPACE_MEMBER}
  - id: tok-twin-2
    name: twin
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-b, role: WORKSPACE_MEMBER}
`

// TestNamesResolveInTheirScope: a name under workspaceTokens is looked up
// in the deployment's workspace, under organizationTokens among
// organization tokens, a deployment name in its workspace; a state: absent
// entry for a token that no longer exists is a warning, not an error.
func TestNamesResolveInTheirScope(t *testing.T) {
	c := newCLI(t, scopeState)
	f := c.write("tokens.yaml", `version: 1
deployments:
  - name: prod
    workspace: alpha
    workspaceTokens:
      - {name: reader, role: DEPLOYMENT_ADMIN}
      - {name: retired-bot, state: absent}
  - name: prod
    workspace: beta
    workspaceTokens:
      - {name: reader, role: DEPLOYMENT_ADMIN}
  - id: dep-b2
    organizationTokens:
      - {name: reader, role: DEPLOYMENT_ADMIN}
`)
	r := c.run("plan", "-f", f, "--detailed-exitcode", "--no-color")
	wantCode(t, r, exitChanges)
	wantNote := f + `:7:9: warning: token "retired-bot" not found among the workspace tokens of workspace "alpha": state: absent is satisfied`
	if !strings.Contains(r.stderr, wantNote) {
		t.Errorf("plan stderr lacks the note %q:\n%s", wantNote, r.stderr)
	}
	r = c.run("apply", "-f", f, "--yes")
	wantCode(t, r, exitOK)
	r = c.run("plan", "-f", f, "--detailed-exitcode")
	wantCode(t, r, exitOK)
	want := []string{
		"tok-rd-a dep-a1=DEPLOYMENT_ADMIN",
		"tok-rd-b dep-b1=DEPLOYMENT_ADMIN",
		"tok-rd-org dep-b2=DEPLOYMENT_ADMIN",
	}
	if diff := cmp.Diff(sorted(want), sorted(c.deploymentRoles())); diff != "" {
		t.Errorf("deployment roles after apply (-want +got):\n%s", diff)
	}

	t.Run("ambiguous within the workspace", func(t *testing.T) {
		f := c.write("twin.yaml", "version: 1\ndeployments:\n  - id: dep-b1\n    workspaceTokens:\n      - {name: twin, role: DEPLOYMENT_ADMIN}\n")
		r := c.run("plan", "-f", f)
		wantCode(t, r, exitInvalid)
		if want := `token name "twin" is ambiguous: tok-twin-1, tok-twin-2 (use id)`; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	})
	t.Run("did you mean, from the same scope", func(t *testing.T) {
		f := c.write("typo.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - {name: raeder, role: DEPLOYMENT_ADMIN}\n")
		r := c.run("plan", "-f", f)
		wantCode(t, r, exitInvalid)
		if want := `token "raeder" not found among the workspace tokens of workspace "alpha" (did you mean "reader"?)`; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	})
}
