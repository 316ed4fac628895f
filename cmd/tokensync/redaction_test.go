package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// shortSecretState is an organization whose ids, names and DAG tags contain
// the short credentials of TestShortCredentialRoundTrips.
const shortSecretState = `
organization: {id: clx0org0000000000000000, name: x0 org}
workspaces:
  - {id: clx0ws00000000000000001, name: x-team}
deployments:
  - {id: clx0dep0000000000000001, name: x-prod, workspaceId: clx0ws00000000000000001}
tokens:
  - id: clx0tok0000000000000001
    name: x-ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: clx0ws00000000000000001, role: WORKSPACE_MEMBER}
      - {entityType: DAG_TAG, entityId: x-runs, deploymentId: clx0dep0000000000000001, role: DAG_VIEWER}
  - id: clx0tok0000000000000002
    name: x0-reader
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: clx0ws00000000000000001, role: WORKSPACE_MEMBER}
`

// TestShortCredentialRoundTrips runs plan, export and apply with
// credentials of 1, 2 and 8 characters that occur inside the
// organization's ids, names and DAG tags: the plan names the right tokens,
// apply changes the managed roles while the DAG_TAG entry "x-runs" it does
// not manage stays byte-exact, and export writes the ids exactly, so that
// its output plans back empty. A credential under 8 characters draws a
// warning that messages may read oddly.
func TestShortCredentialRoundTrips(t *testing.T) {
	const (
		org = "clx0org0000000000000000"
		dep = "clx0dep0000000000000001"
	)
	spec := "version: 1\norganization: " + org + "\ndeployments:\n  - id: " + dep + "\n    workspaceTokens:\n" +
		"      - name: x-ci\n        role: DEPLOYMENT_ADMIN\n" +
		"      - name: x0-reader\n        role: DEPLOYMENT_ADMIN\n"
	for _, short := range []string{"x", "x0", "clx0dep0"} {
		t.Run(short, func(t *testing.T) {
			c := newCLI(t, shortSecretState)
			c.env["ASTRO_API_TOKEN"] = short
			f := c.write("tokens.yaml", spec)
			run := func(args ...string) result {
				t.Helper()
				return c.runRaw(append([]string{args[0], "--api-url", c.baseURL}, args[1:]...)...)
			}

			r := run("plan", "-f", f, "--detailed-exitcode", "--no-color")
			wantCode(t, r, exitChanges)
			for _, want := range []string{
				"+ workspace token x-ci [clx0tok0000000000000001] DEPLOYMENT_ADMIN",
				"+ workspace token x0-reader [clx0tok0000000000000002] DEPLOYMENT_ADMIN",
			} {
				if !strings.Contains(squeeze(r.stdout), want) {
					t.Errorf("plan lacks %q:\n%s", want, r.stdout)
				}
			}
			if strings.Contains(r.stdout+r.stderr, "REDACTED") {
				t.Errorf("plan shows redacted data:\n%s\n%s", r.stdout, r.stderr)
			}
			warning := fmt.Sprintf("warning: the credential is only %d character(s) long", len(short))
			if got := strings.Contains(r.stderr, warning); got != (len(short) < 8) {
				t.Errorf("a credential of %d characters: warned %v, want %v:\n%s", len(short), got, len(short) < 8, r.stderr)
			}

			r = run("apply", "-f", f, "--yes")
			wantCode(t, r, exitOK)
			var got []string
			for _, tok := range c.srv.State().Tokens {
				for _, ro := range tok.Roles {
					got = append(got, tok.ID+" "+tok.Name+" "+ro.EntityType+" "+ro.EntityID+" "+ro.DeploymentID+" "+ro.Role)
				}
			}
			want := []string{
				"clx0tok0000000000000001 x-ci WORKSPACE clx0ws00000000000000001  WORKSPACE_MEMBER",
				"clx0tok0000000000000001 x-ci DEPLOYMENT " + dep + "  DEPLOYMENT_ADMIN",
				"clx0tok0000000000000001 x-ci " + astroapi.EntityDAGTag + " x-runs " + dep + " DAG_VIEWER",
				"clx0tok0000000000000002 x0-reader WORKSPACE clx0ws00000000000000001  WORKSPACE_MEMBER",
				"clx0tok0000000000000002 x0-reader DEPLOYMENT " + dep + "  DEPLOYMENT_ADMIN",
			}
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("state after apply (-want +got):\n%s", diff)
			}
			r = run("export", "--organization", org)
			wantCode(t, r, exitOK)
			for _, want := range []string{"id: " + dep, "name: x-ci", "name: x0-reader"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("export lacks %q:\n%s", want, r.stdout)
				}
			}
			if strings.Contains(r.stdout, "REDACTED") {
				t.Errorf("export wrote redacted data:\n%s", r.stdout)
			}

			exported := c.write("exported.yaml", r.stdout)
			wantCode(t, run("plan", "-f", exported, "--detailed-exitcode", "--prune"), exitOK)
			wantCode(t, run("plan", "-f", f, "--detailed-exitcode"), exitOK)
		})
	}
}

// TestShortCredentialWarnsWhereItGarbles: a short credential hidden in a
// message that comes before any contact (a spec error, validate --offline)
// draws the warning too, once, before that message; a long one, or a
// message it does not occur in, none.
func TestShortCredentialWarnsWhereItGarbles(t *testing.T) {
	const warning = "warning: the credential is only 1 character(s) long"
	c := newCLI(t, testState)
	bad := c.write("bad.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    users:\n      - {username: bob@example.com, role: WORKSPACE_OWNER}\n")
	for _, tc := range []struct {
		secret, file string
		warned       bool
	}{
		{"e", bad, true},
		{"q", bad, false},
		{"eeeeeeeeeeee", bad, false},
	} {
		c.env["ASTRO_API_TOKEN"] = tc.secret
		r := c.runRaw("validate", "--offline", "-f", tc.file)
		wantCode(t, r, exitInvalid)
		if n := strings.Count(r.stderr, "warning: the credential is only"); n != map[bool]int{true: 1}[tc.warned] {
			t.Errorf("credential %q: %d warnings, want warned %v:\n%s", tc.secret, n, tc.warned, r.stderr)
		}
		if tc.warned && !strings.HasPrefix(r.stderr, warning) {
			t.Errorf("credential %q: the warning does not come first:\n%s", tc.secret, r.stderr)
		}
	}
}
