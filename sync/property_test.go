package sync

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// world is a random organization and a valid spec for it.
type world struct {
	obs   *Observed
	spec  spec.Spec
	prune bool // --prune
}

func genWorld(t *rapid.T) world {
	obs := &Observed{
		Organization: org,
		CustomRoles: []astroapi.CustomRole{
			{ID: "r1", Name: "DAG_DEPLOYER", ScopeType: "DEPLOYMENT"},
			{ID: "r2", Name: "OBSERVER", ScopeType: "DEPLOYMENT", RestrictedWorkspaceIDs: []string{"ws0"}},
			{ID: "r3", Name: "WS_VIEWER", ScopeType: "WORKSPACE"},
		},
	}
	for i := range rapid.IntRange(1, 3).Draw(t, "workspaces") {
		obs.Workspaces = append(obs.Workspaces, astroapi.Workspace{ID: fmt.Sprintf("ws%d", i), Name: fmt.Sprintf("w%d", i)})
	}
	for i := range rapid.IntRange(1, 5).Draw(t, "deployments") {
		ws := rapid.IntRange(0, len(obs.Workspaces)-1).Draw(t, "deployment workspace")
		obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: fmt.Sprintf("dep%d", i), Name: fmt.Sprintf("d%d", i), WorkspaceID: obs.Workspaces[ws].ID})
	}
	observedRole := rapid.SampledFrom([]string{"DEPLOYMENT_ADMIN", "deployment_admin", "DAG_DEPLOYER", "OBSERVER"})
	maybeDAG := func(roles []astroapi.Role, dep string) []astroapi.Role {
		switch rapid.IntRange(0, 3).Draw(t, "dag") {
		case 1:
			roles = append(roles, dagRole(dep, "dag-"+dep, "DAG_AUTHOR"))
		case 2:
			roles = append(roles, astroapi.Role{EntityType: astroapi.EntityDAGTag, EntityID: "tag", Role: "DAG_VIEWER", DeploymentID: dep})
		}
		return roles
	}
	for i := range rapid.IntRange(0, 8).Draw(t, "tokens") {
		tok := astroapi.Token{
			ID:    fmt.Sprintf("tok%d", i),
			Name:  rapid.SampledFrom([]string{"t0", "t1", "t2", "t3", "break-glass"}).Draw(t, "token name"),
			Scope: rapid.SampledFrom([]string{"ORGANIZATION", "WORKSPACE", "DEPLOYMENT"}).Draw(t, "scope"),
		}
		switch tok.Scope {
		case "ORGANIZATION":
			tok.Roles = append(tok.Roles, orgRole("ORGANIZATION_MEMBER"))
			for _, dep := range obs.Deployments {
				if rapid.Bool().Draw(t, "has role") {
					tok.Roles = append(tok.Roles, depRole(dep.ID, observedRole.Draw(t, "role")))
				}
				tok.Roles = maybeDAG(tok.Roles, dep.ID)
			}
		case "WORKSPACE":
			ws := obs.Workspaces[rapid.IntRange(0, len(obs.Workspaces)-1).Draw(t, "token workspace")].ID
			tok.Roles = append(tok.Roles, wsRole(ws, "WORKSPACE_MEMBER"))
			for _, dep := range obs.Deployments {
				if dep.WorkspaceID != ws {
					continue
				}
				if rapid.Bool().Draw(t, "has role") {
					tok.Roles = append(tok.Roles, depRole(dep.ID, observedRole.Draw(t, "role")))
				}
				tok.Roles = maybeDAG(tok.Roles, dep.ID)
			}
		case "DEPLOYMENT":
			dep := obs.Deployments[rapid.IntRange(0, len(obs.Deployments)-1).Draw(t, "token deployment")].ID
			tok.Roles = maybeDAG([]astroapi.Role{depRole(dep, "DEPLOYMENT_ADMIN")}, dep)
		}
		tok.Roles = rapid.Permutation(tok.Roles).Draw(t, "role order")
		obs.Tokens = append(obs.Tokens, tok)
	}

	w := world{obs: obs, prune: rapid.Bool().Draw(t, "--prune")}
	line := 1
	next := func() spec.Pos { line++; return at(line) }
	for _, g := range rapid.SampledFrom([][]string{nil, {"break-glass*"}, {"tok1", "t3"}}).Draw(t, "ignoreTokens") {
		w.spec.IgnoreTokens = append(w.spec.IgnoreTokens, spec.Pattern{Glob: g, Pos: next()})
	}
	names := map[string]int{}
	for _, tok := range obs.Tokens {
		names[tok.Name]++
	}
	for _, dep := range rapid.Permutation(obs.Deployments).Draw(t, "deployment order") {
		if !rapid.Bool().Draw(t, "managed") {
			continue
		}
		sd := spec.Deployment{Pos: next(), Prune: rapid.Bool().Draw(t, "prune"), AllowEmpty: rapid.Bool().Draw(t, "allowEmpty")}
		if rapid.Bool().Draw(t, "by name") {
			sd.Name = dep.Name
			sd.Workspace = rapid.SampledFrom([]string{dep.WorkspaceID, "w" + strings.TrimPrefix(dep.WorkspaceID, "ws")}).Draw(t, "workspace ref")
		} else {
			sd.ID = dep.ID
		}
		roles := []string{"DEPLOYMENT_ADMIN", "deployment_admin", "DAG_DEPLOYER", "dag_deployer"}
		if dep.WorkspaceID == "ws0" {
			roles = append(roles, "OBSERVER")
		}
		for _, tok := range rapid.Permutation(obs.Tokens).Draw(t, "token order") {
			if !manageable(tok, w.spec.IgnoreTokens) {
				continue
			}
			if ws, _ := tokenWorkspace(&tok); tok.Scope == "WORKSPACE" && ws != dep.WorkspaceID {
				continue
			}
			e := spec.TokenEntry{Pos: next(), ID: tok.ID, State: spec.Present}
			if names[tok.Name] == 1 && rapid.Bool().Draw(t, "token by name") {
				e.ID, e.Name = "", tok.Name
			}
			switch rapid.IntRange(0, 2).Draw(t, "entry") {
			case 0:
				continue
			case 1:
				e.Role = rapid.SampledFrom(roles).Draw(t, "desired role")
			case 2:
				e.State = spec.Absent
			}
			if tok.Scope == "ORGANIZATION" {
				sd.OrganizationTokens = append(sd.OrganizationTokens, e)
			} else {
				sd.WorkspaceTokens = append(sd.WorkspaceTokens, e)
			}
		}
		w.spec.Deployments = append(w.spec.Deployments, sd)
	}
	return w
}

// manageable reports whether tokensync may change tok's assignments.
func manageable(tok astroapi.Token, ignore []spec.Pattern) bool {
	if tok.Scope == "DEPLOYMENT" {
		return false
	}
	for _, p := range ignore {
		if ok, _ := path.Match(p.Glob, tok.Name); ok {
			return false
		}
		if ok, _ := path.Match(p.Glob, tok.ID); ok {
			return false
		}
	}
	return true
}

func deploymentEntries(roles []astroapi.Role, dep string) []astroapi.Role {
	var out []astroapi.Role
	for _, r := range roles {
		if r.EntityType == astroapi.EntityDeployment && r.EntityID == dep {
			out = append(out, r)
		}
	}
	return out
}

// TestPropertyApply: for random organizations and specs, applying the plan
// yields exactly the spec's assignments on managed deployments and leaves
// every other role entry of every token as it was.
func TestPropertyApply(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t)
		d, err := Resolve(&w.spec, w.obs)
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		p := Compute(d, w.obs, Options{Prune: w.prune, MaxRemovals: -1})
		s := newFakeStore(w.obs.Tokens...)
		before := s.snapshot()
		res := Apply(context.Background(), s, p, ApplyOptions{Parallelism: rapid.IntRange(1, 4).Draw(t, "parallelism")})
		after := s.snapshot()

		if p.Refused() {
			for _, g := range p.Guards {
				if !g.OK && g.Name != GuardAllowEmpty {
					t.Fatalf("unexpected guard refusal: %+v", g)
				}
			}
			if !res.Refused {
				t.Fatal("Apply did not refuse a refused plan")
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Fatalf("a refused plan wrote (-before +after):\n%s", diff)
			}
			return
		}
		if len(res.Failed)+len(res.NotStarted)+len(res.Stale) != 0 {
			t.Fatalf("Apply did not write everything: %+v", res)
		}
		gets, sets := s.calls()
		for id, n := range gets {
			if n != 1 || sets[id] > 1 {
				t.Fatalf("token %s: %d GETs, %d POSTs, want one read-modify-write", id, n, sets[id])
			}
		}

		// The model: what each managed deployment must hold.
		type entry struct {
			role   string
			absent bool
		}
		prune := map[string]bool{}
		listed := map[Key]entry{}
		for _, md := range d.Deployments {
			prune[md.ID] = w.prune || md.Prune
			for _, a := range md.Assignments {
				listed[Key{md.ID, a.Token.ID}] = entry{a.Role, a.Absent}
			}
		}
		for i, b := range before {
			a := after[i]
			mine := manageable(b, w.spec.IgnoreTokens)
			isManaged := func(r astroapi.Role) bool {
				_, managed := prune[r.EntityID]
				return mine && managed && r.EntityType == astroapi.EntityDeployment
			}
			others := func(roles []astroapi.Role) []astroapi.Role {
				return slices.DeleteFunc(slices.Clone(roles), isManaged)
			}
			if diff := cmp.Diff(others(b.Roles), others(a.Roles)); diff != "" {
				t.Fatalf("token %s: an unmanaged entry changed (-before +after):\n%s", b.ID, diff)
			}
			for dep := range prune {
				was, now := deploymentEntries(b.Roles, dep), deploymentEntries(a.Roles, dep)
				e, ok := listed[Key{dep, b.ID}]
				switch {
				case !mine || (!ok && !prune[dep]):
					if diff := cmp.Diff(was, now); diff != "" {
						t.Fatalf("token %s on %s: a left-alone assignment changed (-before +after):\n%s", b.ID, dep, diff)
					}
				case !ok || e.absent:
					if len(now) != 0 {
						t.Fatalf("token %s on %s: holds %v, want no role", b.ID, dep, now)
					}
				default:
					if len(now) != 1 || !strings.EqualFold(now[0].Role, e.role) {
						t.Fatalf("token %s on %s: holds %v, want exactly %s", b.ID, dep, now, e.role)
					}
				}
			}
		}

		again := Compute(d, &Observed{Organization: org, Deployments: w.obs.Deployments, CustomRoles: w.obs.CustomRoles, Tokens: after},
			Options{Prune: w.prune, MaxRemovals: -1})
		if len(again.Changes) != 0 {
			t.Fatalf("plan after apply is not empty: %+v", again.Changes)
		}
		if v := Verify(p, res, after); !v.Converged || len(v.ChangedByOthers) != 0 {
			t.Fatalf("Verify = %+v", v)
		}
	})
}
