package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// globUses are the places tokensync takes a glob. Each says whether
// pattern matched name, in an organization (globState) whose deployment,
// workspace token and team are all called name. ignoreUsers is left out:
// a username is an e-mail address (sync.TestGlobsIgnoreCase covers it).
var globUses = []struct {
	name    string
	matched func(t *testing.T, c *cli, pattern, name string) bool
}{
	{"ignoreTokens", func(t *testing.T, c *cli, pattern, _ string) bool {
		return ignored(t, c, "ignoreTokens", "workspaceTokens", pattern)
	}},
	{"ignoreTeams", func(t *testing.T, c *cli, pattern, _ string) bool {
		return ignored(t, c, "ignoreTeams", "teams", pattern)
	}},
	{"--protect", func(t *testing.T, c *cli, pattern, _ string) bool {
		f := c.write("tokens.yaml", "version: 1\ndeployments:\n  - {id: d-1, prune: true, allowEmpty: true, workspaceTokens: []}\n")
		p := globPlan(t, c.run("plan", "-f", f, "-o", "json", "--max-removals=-1", "--protect", pattern))
		return !slices.ContainsFunc(p.Guards, func(g planfile.GuardJSON) bool { return g.Name == sync.GuardProtect && g.OK })
	}},
	{"export --ignore", func(t *testing.T, c *cli, pattern, _ string) bool {
		r := c.run("export", "--ignore", pattern)
		wantCode(t, r, exitOK)
		sp, err := spec.Parse("export.yaml", []byte(r.stdout))
		if err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		d := sp.Deployments[0]
		if len(d.WorkspaceTokens) != len(d.Teams) {
			t.Errorf("the token and the team of one name are not both kept or both left out:\n%s", r.stdout)
		}
		return len(d.WorkspaceTokens) == 0
	}},
	{"report --principal", func(t *testing.T, c *cli, pattern, name string) bool {
		rep := globReport(t, c.run("report", "-o", "json", "--principal", pattern))
		for _, d := range rep.Deployments {
			if slices.ContainsFunc(d.Access, func(e access.Entry) bool { return e.Principal.Name == name }) {
				return true
			}
		}
		return false
	}},
	{"report --production", func(t *testing.T, c *cli, pattern, _ string) bool {
		rep := globReport(t, c.run("report", "-o", "json", "--production", pattern))
		return rep.Deployments[0].Production
	}},
}

// ignored says the spec's ignore list key (with pattern) keeps plan --prune
// from removing the role of the subject of the one kind list it manages.
func ignored(t *testing.T, c *cli, key, list, pattern string) bool {
	f := c.write("tokens.yaml", fmt.Sprintf("version: 1\n%s: [%q]\ndeployments:\n  - {id: d-1, prune: true, allowEmpty: true, %s: []}\n", key, pattern, list))
	p := globPlan(t, c.run("plan", "-f", f, "-o", "json", "--max-removals=-1"))
	return len(p.Changes) == 0
}

func globPlan(t *testing.T, r result) planfile.Document {
	t.Helper()
	var d planfile.Document
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("plan -o json (exit %d): %v\n%s", r.code, err, r.stderr)
	}
	return d
}

func globReport(t *testing.T, r result) access.Report {
	t.Helper()
	wantCode(t, r, exitOK)
	rep, err := access.Read([]byte(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// globState is an organization with one deployment, and one workspace
// token and one team holding a role on it, all three called name.
func globState(name string) *astroapitest.State {
	return &astroapitest.State{
		Organization: astroapitest.Organization{ID: "org1", Name: "Org"},
		Workspaces:   []astroapitest.Workspace{{ID: "ws-g", Name: "data"}},
		Deployments:  []astroapitest.Deployment{{ID: "d-1", Name: name, WorkspaceID: "ws-g"}},
		Tokens: []astroapitest.Token{{ID: "t-1", Name: name, Scope: astroapi.ScopeWorkspace, Roles: []astroapi.Role{
			{EntityType: astroapi.EntityWorkspace, EntityID: "ws-g", Role: "WORKSPACE_MEMBER"},
			{EntityType: astroapi.EntityDeployment, EntityID: "d-1", Role: astroapi.RoleDeploymentAdmin},
		}}},
		Teams: []astroapitest.Team{{ID: "g-1", Name: name, RoleSet: astroapitest.RoleSet{OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles:  []astroapi.WorkspaceRole{{WorkspaceID: "ws-g", Role: "WORKSPACE_ACCESSOR"}},
			DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "d-1", Role: astroapi.RoleDeploymentAdmin}}, DagRoles: []astroapi.DagRole{}},
			MemberIDs: []string{}}},
	}
}

// TestOneGlobDialect: a pattern means the same in ignoreTokens,
// ignoreTeams, --protect, export --ignore, report --principal and report --production:
// in any case, * and ? crossing '/', classes, escapes.
func TestOneGlobDialect(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"ci-*", "CI-Deployer", true},
		{"CI-DEPLOYER", "ci-deployer", true},
		{"team/*", "Team/eu/prod", true},
		{"*/prod", "eu/west/PROD", true},
		{"a?c", "a/c", true},
		{"tok-[0-9]*", "TOK-7x", true},
		{"tok-[^0-9]*", "tok-7x", false},
		{`\[x\] *`, "[X] bot", true},
		{"ci-*", "xci-deployer", false},
		{"exact", "exact-not", false},
	}
	for _, tt := range tests {
		c := newCLIWith(t, globState(tt.name), astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
		for _, use := range globUses {
			t.Run(tt.pattern+" "+tt.name+" "+use.name, func(t *testing.T) {
				if got := use.matched(t, c, tt.pattern, tt.name); got != tt.want {
					t.Errorf("%s: %q matches %q: %v, want %v", use.name, tt.pattern, tt.name, got, tt.want)
				}
			})
		}
	}
}

// TestBadGlobRefused: a glob the dialect refuses is a spec error with its
// position (exit 3) in the spec, a usage error naming the flag (exit 64)
// in a flag, before any request.
func TestBadGlobRefused(t *testing.T) {
	c := newCLIWith(t, globState("ci"), astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
	good := c.write("good.yaml", "version: 1\ndeployments:\n  - {id: d-1}\n")
	bad := c.write("bad.yaml", "version: 1\nignoreTokens: [\"ci-[\"]\ndeployments:\n  - {id: d-1}\n")
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"validate", "--offline", "-f", bad}, exitInvalid, `bad.yaml:2:16: invalid glob "ci-[": a character class ([...]) is not closed`},
		{[]string{"plan", "-f", good, "--protect", "[z-a]"}, exitUsage, `--protect "[z-a]": the character range z-a is backwards`},
		{[]string{"apply", "-f", good, "--protect", `ci\`}, exitUsage, `--protect "ci\\": the pattern ends with a lone \`},
		{[]string{"export", "--ignore", "ci-["}, exitUsage, `--ignore "ci-[": a character class ([...]) is not closed`},
		{[]string{"report", "--principal", "[]"}, exitUsage, `--principal "[]": ']' is not a character of a class`},
		{[]string{"report", "--production", "[-]"}, exitUsage, `--production "[-]": '-' is not a character of a class`},
	} {
		before := len(c.srv.Stats().Requests)
		var r result
		if tt.args[0] == "validate" {
			r = c.runRaw(tt.args...)
		} else {
			r = c.run(tt.args...)
		}
		wantCode(t, r, tt.code)
		if !strings.Contains(r.stderr, tt.err) {
			t.Errorf("%v: stderr %q, want it to say %q", tt.args, r.stderr, tt.err)
		}
		if n := len(c.srv.Stats().Requests); n != before {
			t.Errorf("%v: %d requests before the refusal", tt.args, n-before)
		}
	}
}
