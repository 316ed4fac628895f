package sync

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func beta(prune bool, as ...DesiredAssignment) ManagedScope {
	return ManagedScope{ScopeRef: ScopeRef{Level: LevelDeployment, ID: depB.ID, Name: depB.Name}, WorkspaceID: depB.WorkspaceID, Prune: prune, Source: at(20), Lists: tokenKindsListed, Assignments: as}
}

func TestOnlyNamesDeploymentsByIDOrWorkspaceAndName(t *testing.T) {
	d := Desired{Scopes: []ManagedScope{alpha(false), beta(false)}}
	ws := observed().Workspaces
	tests := []struct {
		name    string
		targets []string
		want    []DeploymentRef
		wantErr string
	}{
		{name: "id", targets: []string{"dep-b"}, want: []DeploymentRef{betaRef}},
		{name: "workspace name and name", targets: []string{"one/alpha"}, want: []DeploymentRef{alphaRef}},
		{name: "workspace id and name", targets: []string{"ws-1/beta"}, want: []DeploymentRef{betaRef}},
		{name: "both, in the spec's order", targets: []string{"dep-b", "one/alpha"}, want: []DeploymentRef{alphaRef, betaRef}},
		{name: "the same twice", targets: []string{"dep-a", "one/alpha"}, want: []DeploymentRef{alphaRef}},
		{name: "a deployment not in the spec", targets: []string{"dep-x"}, wantErr: `--target "dep-x" (did you mean "dep-a"?): not a scope of the spec`},
		{name: "a name without its workspace", targets: []string{"alpha", "one/alpah"}, wantErr: `--target "alpha", "one/alpah" (did you mean "one/alpha"?): not a scope`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refs, err := Only(d, ws, tt.targets)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []ScopeRef
			for _, r := range tt.want {
				want = append(want, DeploymentScope(r))
			}
			if diff := cmp.Diff(want, refs); diff != "" {
				t.Errorf("deployments (-want +got):\n%s", diff)
			}
			if len(got.Scopes) != len(tt.want) {
				t.Errorf("kept %d deployments, want %d", len(got.Scopes), len(tt.want))
			}
		})
	}
}

// TestOnlyPrunesAndGuardsWithinTheTarget: a plan limited to alpha neither
// prunes beta nor counts beta's removals against --max-removals.
func TestOnlyPrunesAndGuardsWithinTheTarget(t *testing.T) {
	onA := token("t-1", "stray-a", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-a", "DEPLOYMENT_ADMIN"))
	onB := token("t-2", "stray-b", "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"), depRole("dep-b", "DEPLOYMENT_ADMIN"))
	obs := observed(onA, onB)
	d := Desired{Scopes: []ManagedScope{alpha(true), beta(true, present(anchor, "DEPLOYMENT_ADMIN", 21))}}

	whole := Compute(d, obs, Options{MaxRemovals: 1})
	if !whole.Refused() {
		t.Fatalf("the whole plan removes two assignments and should be refused by max-removals 1: %+v", whole.Changes)
	}

	only, _, err := Only(d, obs.Workspaces, []string{"dep-a"})
	if err != nil {
		t.Fatal(err)
	}
	p := Compute(only, obs, Options{MaxRemovals: 1})
	if p.Refused() {
		t.Errorf("the plan of alpha alone was refused: %+v", p.Guards)
	}
	var got []string
	for _, c := range p.Changes {
		got = append(got, string(c.Action)+" "+c.Subject.Name+" on "+c.Scope.Name)
	}
	if diff := cmp.Diff([]string{"remove stray-a on alpha"}, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, md := range p.Target.Desired.Scopes {
		if md.ID != "dep-a" {
			t.Errorf("the plan's target holds %s: apply and verify would reach beyond --target", md.ID)
		}
	}
}
