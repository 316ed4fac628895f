package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTargetLimitsPlanAndApply: --target plans and applies the named
// deployments of the spec only, prune and guards included, and says so.
func TestTargetLimitsPlanAndApply(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)

	// The whole plan removes old-bot from a-prod (state: absent): refused.
	wantCode(t, c.run("plan", "-f", f, "--max-removals", "0"), exitRefused)
	r := c.run("plan", "-f", f, "--target", "alpha/a-staging", "--max-removals", "0", "--no-color")
	wantCode(t, r, exitOK) // the removal is outside the target
	out := squeeze(r.stdout)
	for _, want := range []string{
		"~ workspace token deployer [tok-deployer] VIEWER -> DEPLOYMENT_ADMIN",
		"Partial plan: only deployment a-staging (dep-a2) (--target)",
		"Plan: 0 to add, 1 to change, 0 to remove.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(out, "a-prod") || strings.Contains(out, "state: absent") {
		t.Errorf("the plan reaches beyond --target:\n%s", r.stdout)
	}

	r = c.run("plan", "-f", f, "--target", "dep-a1", "--target", "beta/b-prod", "-o", "json")
	wantCode(t, r, exitOK)
	validatePlanJSON(t, []byte(r.stdout))
	var doc struct {
		Targets []struct{ Level, ID, Name string } `json:"targets"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]struct{ Level, ID, Name string }{{"deployment", "dep-a1", "a-prod"}, {"deployment", "dep-b1", "b-prod"}}, doc.Targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	r = c.run("plan", "-f", f, "-o", "markdown", "--target", "dep-b1")
	if !strings.Contains(r.stdout, "Partial plan: only deployment b-prod (dep-b1) (`--target`)") {
		t.Errorf("markdown lacks the partial note:\n%s", r.stdout)
	}

	// A saved partial plan stays partial; apply writes its deployments only.
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--target", "dep-b1", "--out", planFile), exitOK)
	r = c.run("apply", planFile, "--yes", "--no-color")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "Partial plan: only deployment b-prod (dep-b1) (--target)") {
		t.Errorf("apply of a saved partial plan does not say it is partial:\n%s", r.stdout)
	}
	roles := strings.Join(c.deploymentRoles(), "\n")
	for _, want := range []string{"tok-ci-b dep-b1=VIEWER", "tok-old dep-a1=DEPLOYMENT_ADMIN", "tok-deployer dep-a2=VIEWER"} {
		if !strings.Contains(roles, want) {
			t.Errorf("after apply --target dep-b1, roles lack %s:\n%s", want, roles)
		}
	}
	r = c.run("plan", "-f", f, "--target", "dep-b1", "--detailed-exitcode")
	wantCode(t, r, exitOK)
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitChanges)
}

func TestTargetRefusals(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"not in the spec", []string{"plan", "-f", f, "--target", "dep-b2"}, exitInvalid, `--target "dep-b2"`},
		{"unknown", []string{"apply", "-f", f, "--yes", "--target", "alpha/a-stagin"}, exitInvalid, `(did you mean "alpha/a-staging"?): not a scope of the spec`},
		{"with a saved plan", []string{"apply", filepath.Join(c.dir, "plan.json"), "--yes", "--target", "dep-a1"}, exitUsage, "--target cannot narrow a saved plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run(tt.args...)
			wantCode(t, r, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if c.posts() != 0 {
				t.Errorf("%d POSTs", c.posts())
			}
		})
	}
}
