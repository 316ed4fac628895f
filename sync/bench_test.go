package sync

import (
	"fmt"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
)

// largeOrg is a synthetic, deterministic L-size organization: 20
// workspaces of 50 deployments, 3,000 tokens (2,700 workspace tokens, 300
// organization tokens) with 10 deployment roles each (30,000 assignments)
// plus DAG entries, and a spec managing every deployment that keeps most
// assignments, updates every 10th, omits every 20th (pruned on half the
// deployments) and adds one per 30 tokens.
func largeOrg() (Desired, *Observed) {
	const (
		nWS       = 20
		depsPerWS = 50
		nTokens   = 3000
		perToken  = 10
	)
	obs := &Observed{Organization: org}
	for w := range nWS {
		obs.Workspaces = append(obs.Workspaces, astroapi.Workspace{ID: fmt.Sprintf("ws%02d", w), Name: fmt.Sprintf("workspace-%02d", w)})
	}
	d := Desired{Ignore: ignoreTokens("break-glass-*")}
	mdIndex := make(map[string]int)
	for i := range nWS * depsPerWS {
		dep := astroapi.Deployment{ID: fmt.Sprintf("dep%04d", i), Name: fmt.Sprintf("deployment-%04d", i), WorkspaceID: obs.Workspaces[i/depsPerWS].ID}
		obs.Deployments = append(obs.Deployments, dep)
		mdIndex[dep.ID] = len(d.Scopes)
		d.Scopes = append(d.Scopes, ManagedScope{ScopeRef: ScopeRef{Level: LevelDeployment, ID: dep.ID, Name: dep.Name}, WorkspaceID: dep.WorkspaceID, Prune: i%2 == 0, AllowEmpty: true, Lists: tokenKindsListed})
	}
	roles := []string{"DEPLOYMENT_ADMIN", "DAG_DEPLOYER"}
	n := 0
	for i := range nTokens {
		tok := astroapi.Token{ID: fmt.Sprintf("tok%05d", i), Name: fmt.Sprintf("token-%05d", i%2500)}
		ws := i % nWS
		first := ws * depsPerWS
		if i%10 == 9 {
			tok.Scope = astroapi.ScopeOrganization
			tok.Roles = append(tok.Roles, orgRole("ORGANIZATION_MEMBER"))
			first = (i * 37) % (nWS*depsPerWS - depsPerWS)
		} else {
			tok.Scope = astroapi.ScopeWorkspace
			tok.Roles = append(tok.Roles, wsRole(obs.Workspaces[ws].ID, "WORKSPACE_MEMBER"))
		}
		for k := range perToken {
			dep := obs.Deployments[first+(i/nWS+k*5)%depsPerWS]
			role := roles[(i+k)%2]
			tok.Roles = append(tok.Roles, depRole(dep.ID, role))
			if k == 0 {
				tok.Roles = append(tok.Roles, dagRole(dep.ID, "dag-"+dep.ID, "DAG_AUTHOR"))
			}
			md := &d.Scopes[mdIndex[dep.ID]]
			ref := ref(tok)
			switch {
			case n%20 == 0: // omitted
			case n%10 == 0:
				md.Assignments = append(md.Assignments, DesiredAssignment{Subject: ref, Role: roles[(i+k+1)%2]})
			default:
				md.Assignments = append(md.Assignments, DesiredAssignment{Subject: ref, Role: role})
			}
			n++
		}
		if i%30 == 0 {
			dep := obs.Deployments[first+(i/nWS+perToken*5+1)%depsPerWS]
			md := &d.Scopes[mdIndex[dep.ID]]
			if TokenSubject(tok).Role(dep.ID) == "" {
				md.Assignments = append(md.Assignments, DesiredAssignment{Subject: ref(tok), Role: "DEPLOYMENT_ADMIN"})
			}
		}
		obs.Subjects = append(obs.Subjects, TokenSubject(tok))
	}
	return d, obs
}

func BenchmarkCompute(b *testing.B) {
	d, obs := largeOrg()
	assignments := 0
	for _, s := range obs.Subjects {
		assignments += len(s.Deployments())
	}
	p := Compute(d, obs, Options{MaxRemovals: -1})
	add, change, remove := p.Summary()
	b.Logf("%d deployments, %d tokens, %d assignments: %d to add, %d to change, %d to remove, %d unmanaged",
		len(obs.Deployments), len(obs.Subjects), assignments, add, change, remove, len(p.Unmanaged))
	b.ReportAllocs()
	for b.Loop() {
		Compute(d, obs, Options{MaxRemovals: -1})
	}
}
