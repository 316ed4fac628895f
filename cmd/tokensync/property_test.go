package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// TestPropertyApplyConvergesThroughTheAPI generates random organizations and
// specs, applies through the CLI against the emulator over HTTP, and checks
// that the managed deployments hold exactly what the spec says while every
// other role entry of every token is unchanged, and that a second plan is
// empty.
func TestPropertyApplyConvergesThroughTheAPI(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		st, spec, want := genCase(rt)
		srv, url := astroapitest.NewTestServer(t, st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
		c := &cli{t: t, srv: srv, baseURL: url, dir: t.TempDir(), env: map[string]string{"ASTRO_API_TOKEN": secret}}
		f := c.write("tokens.yaml", spec)

		r := c.run("apply", "-f", f, "--yes", "--max-removals", "-1", "--rate-scale", "1000")
		if r.code != exitOK {
			rt.Fatalf("apply exited %d\nspec:\n%s\nstdout:\n%s\nstderr:\n%s", r.code, spec, r.stdout, r.stderr)
		}
		got := map[string][]string{}
		for _, tok := range srv.State().Tokens {
			got[tok.ID] = roleSet(tok.Roles)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			rt.Fatalf("roles after apply (-want +got):\n%s\nspec:\n%s\nplan:\n%s", diff, spec, r.stdout)
		}
		if r := c.run("plan", "-f", f, "--detailed-exitcode", "--max-removals", "-1", "--rate-scale", "1000"); r.code != exitOK {
			rt.Fatalf("plan after apply exited %d:\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

// roleSet is a token's role list as sorted strings, for comparison.
func roleSet(roles []astroapi.Role) []string {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		out = append(out, fmt.Sprintf("%s %s %s %s", r.EntityType, r.EntityID, r.Role, r.DeploymentID))
	}
	slices.Sort(out)
	return out
}

// genCase draws a valid organization, a valid spec over it, and the role
// lists every token must hold after applying that spec.
func genCase(rt *rapid.T) (*astroapitest.State, string, map[string][]string) {
	st := &astroapitest.State{Organization: astroapitest.Organization{ID: "org1", Name: "Org"}}
	nws := rapid.IntRange(1, 3).Draw(rt, "workspaces")
	for i := range nws {
		st.Workspaces = append(st.Workspaces, astroapitest.Workspace{ID: fmt.Sprintf("ws%d", i), Name: fmt.Sprintf("w%d", i)})
	}
	ndep := rapid.IntRange(1, 6).Draw(rt, "deployments")
	depWS := map[string]string{}
	for i := range ndep {
		id := fmt.Sprintf("dep%d", i)
		ws := fmt.Sprintf("ws%d", rapid.IntRange(0, nws-1).Draw(rt, "deploymentWorkspace"))
		depWS[id] = ws
		st.Deployments = append(st.Deployments, astroapitest.Deployment{ID: id, Name: "d" + id, WorkspaceID: ws})
	}
	st.Roles = []astroapitest.CustomRole{
		{Name: "CR_ANY", ScopeType: "DEPLOYMENT", RestrictedWorkspaceIDs: []string{}},
		{Name: "CR_WS0", ScopeType: "DEPLOYMENT", RestrictedWorkspaceIDs: []string{"ws0"}},
	}
	roleFor := func(dep, label string) string {
		choices := []string{"DEPLOYMENT_ADMIN", "CR_ANY"}
		if depWS[dep] == "ws0" {
			choices = append(choices, "CR_WS0")
		}
		return rapid.SampledFrom(choices).Draw(rt, label)
	}
	// eligible[i] lists the deployments token i may hold a role on.
	type tok struct {
		id, scope, ws string
	}
	var toks []tok
	ntok := rapid.IntRange(1, 8).Draw(rt, "tokens")
	for i := range ntok {
		tk := tok{id: fmt.Sprintf("tok%d", i), scope: rapid.SampledFrom([]string{"WORKSPACE", "WORKSPACE", "ORGANIZATION", "DEPLOYMENT"}).Draw(rt, "scope")}
		var roles []astroapi.Role
		var mayHold []string
		switch tk.scope {
		case "WORKSPACE":
			tk.ws = fmt.Sprintf("ws%d", rapid.IntRange(0, nws-1).Draw(rt, "tokenWorkspace"))
			roles = append(roles, astroapi.Role{EntityType: "WORKSPACE", EntityID: tk.ws, Role: "WORKSPACE_MEMBER"})
			for _, d := range st.Deployments {
				if d.WorkspaceID == tk.ws {
					mayHold = append(mayHold, d.ID)
				}
			}
		case "ORGANIZATION":
			roles = append(roles, astroapi.Role{EntityType: "ORGANIZATION", EntityID: "org1", Role: "ORGANIZATION_MEMBER"})
			for _, d := range st.Deployments {
				mayHold = append(mayHold, d.ID)
			}
		case "DEPLOYMENT":
			dep := fmt.Sprintf("dep%d", rapid.IntRange(0, ndep-1).Draw(rt, "tokenDeployment"))
			roles = append(roles, astroapi.Role{EntityType: "DEPLOYMENT", EntityID: dep, Role: "DEPLOYMENT_ADMIN"})
		}
		for _, dep := range mayHold {
			if rapid.Bool().Draw(rt, "holds") {
				roles = append(roles, astroapi.Role{EntityType: "DEPLOYMENT", EntityID: dep, Role: roleFor(dep, "heldRole")})
			}
			if rapid.IntRange(0, 4).Draw(rt, "dag") == 0 {
				roles = append(roles, astroapi.Role{EntityType: "DAG", EntityID: "etl", DeploymentID: dep, Role: "DAG_AUTHOR"})
			}
		}
		toks = append(toks, tk)
		st.Tokens = append(st.Tokens, astroapitest.Token{ID: tk.id, Name: "name-" + tk.id, Scope: tk.scope, Roles: roles})
	}

	// The spec, and the expected role lists.
	want := map[string][]astroapi.Role{}
	for _, t := range st.Tokens {
		want[t.ID] = slices.Clone(t.Roles)
	}
	setDeploymentRole := func(id, dep, role string) {
		roles := slices.DeleteFunc(want[id], func(r astroapi.Role) bool { return r.EntityType == "DEPLOYMENT" && r.EntityID == dep })
		if role != "" {
			roles = append(roles, astroapi.Role{EntityType: "DEPLOYMENT", EntityID: dep, Role: role})
		}
		want[id] = roles
	}
	var b strings.Builder
	b.WriteString("version: 1\ndeployments:\n")
	for _, d := range st.Deployments {
		if !rapid.Bool().Draw(rt, "managed") {
			continue
		}
		prune := rapid.Bool().Draw(rt, "prune")
		fmt.Fprintf(&b, "  - id: %s\n    prune: %v\n    allowEmpty: true\n", d.ID, prune)
		listed := map[string]bool{}
		var wsEntries, orgEntries []string
		for _, tk := range toks {
			eligible := tk.scope == "ORGANIZATION" || (tk.scope == "WORKSPACE" && tk.ws == d.WorkspaceID)
			if !eligible || !rapid.Bool().Draw(rt, "listed") {
				continue
			}
			listed[tk.id] = true
			var entry string
			if rapid.IntRange(0, 3).Draw(rt, "absent") == 0 {
				entry = fmt.Sprintf("      - {id: %s, state: absent}\n", tk.id)
				setDeploymentRole(tk.id, d.ID, "")
			} else {
				role := roleFor(d.ID, "specRole")
				entry = fmt.Sprintf("      - {id: %s, role: %s}\n", tk.id, role)
				setDeploymentRole(tk.id, d.ID, role)
			}
			if tk.scope == "ORGANIZATION" {
				orgEntries = append(orgEntries, entry)
			} else {
				wsEntries = append(wsEntries, entry)
			}
		}
		for _, list := range []struct {
			key     string
			entries []string
		}{{"workspaceTokens", wsEntries}, {"organizationTokens", orgEntries}} {
			if len(list.entries) == 0 {
				fmt.Fprintf(&b, "    %s: []\n", list.key)
			} else {
				fmt.Fprintf(&b, "    %s:\n%s", list.key, strings.Join(list.entries, ""))
			}
		}
		if prune {
			for _, tk := range toks {
				if !listed[tk.id] && tk.scope != "DEPLOYMENT" {
					setDeploymentRole(tk.id, d.ID, "")
				}
			}
		}
	}
	if !strings.Contains(b.String(), "- id:") {
		b.Reset()
		b.WriteString("version: 1\ndeployments: []\n")
	}
	sets := map[string][]string{}
	for id, roles := range want {
		sets[id] = roleSet(roles)
	}
	return st, b.String(), sets
}
