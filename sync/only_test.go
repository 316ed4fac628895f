package sync

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
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
		{name: "a name without its workspace", targets: []string{"alpha"}, want: []DeploymentRef{alphaRef}},
		{name: "a name misspelt", targets: []string{"one/alpah"}, wantErr: `--target "one/alpah" (did you mean "one/alpha"?): not a scope`},
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

// TestOnlyTargetsExactlyOneScope: a target names one scope or fails. An id
// is taken before a name, "organization" is the organization level
// whatever a workspace is called, and a name that fits several workspaces
// or deployments is an error that lists their ids.
func TestOnlyTargetsExactlyOneScope(t *testing.T) {
	dep := func(id, name, ws string) ManagedScope {
		return ManagedScope{ScopeRef: ScopeRef{Level: LevelDeployment, ID: id, Name: name}, WorkspaceID: ws}
	}
	d := Desired{Scopes: []ManagedScope{
		{ScopeRef: ScopeRef{Level: LevelOrganization, ID: "org"}},
		{ScopeRef: ScopeRef{Level: LevelWorkspace, ID: "ws1", Name: "organization"}},
		dep("d1", "prod", "ws1"),
		dep("d2", "other", "ws2"),
		dep("d3", "prod", "ws3"),
		dep("d4", "prod", "ws4"),
		dep("d5", "twin", "ws4"),
		dep("d6", "twin", "ws4"),
	}}
	workspaces := []astroapi.Workspace{{ID: "ws1", Name: "organization"}, {ID: "ws2", Name: "d1"}, {ID: "ws3", Name: "data"}, {ID: "ws4", Name: "data"}}
	for _, tt := range []struct {
		target  string
		want    []string
		wantErr string
	}{
		{target: "organization", want: []string{"organization:org"}},
		{target: "ws1", want: []string{"workspace:ws1", "deployment:d1"}},
		{target: "d1", want: []string{"deployment:d1"}},
		{target: "ws2/other", want: []string{"deployment:d2"}},
		{target: "data", wantErr: `--target "data" is ambiguous: workspace ws3, workspace ws4 (use an id)`},
		{target: "data/prod", wantErr: `--target "data/prod" is ambiguous: deployment d3, deployment d4 (use an id)`},
		{target: "ws4/twin", wantErr: `--target "ws4/twin" is ambiguous: deployment d5, deployment d6 (use an id)`},
		{target: "ws3", want: []string{"deployment:d3"}},
	} {
		t.Run(tt.target, func(t *testing.T) {
			got, _, err := Only(d, workspaces, []string{tt.target})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, scopeKeys(got)); diff != "" {
				t.Errorf("scopes (-want +got):\n%s", diff)
			}
		})
	}
}

// scopeKeys are d's scopes as "level:id", in d's order.
func scopeKeys(d Desired) []string {
	var out []string
	for _, m := range d.Scopes {
		out = append(out, string(m.Level)+":"+m.ID)
	}
	return out
}

// TestOnlyTargetsTheSpecListsNothingOf: a target that names the
// organization or a workspace of the organization, where the spec lists
// nothing, says that, not that it is no scope.
func TestOnlyTargetsTheSpecListsNothingOf(t *testing.T) {
	d := Desired{Scopes: []ManagedScope{alpha(false)}}
	ws := append(observed().Workspaces, astroapi.Workspace{ID: "ws-9", Name: "nine"})
	for target, want := range map[string]string{
		"organization": `--target "organization": the spec has no organizationRoles`,
		"nine":         `--target "nine": the spec lists neither workspace nine nor any deployment of it`,
	} {
		if _, _, err := Only(d, ws, []string{target}); err == nil || err.Error() != want {
			t.Errorf("Only(%q): %v, want %q", target, err, want)
		}
	}
}

// TestOnlyNamesAmongTheSpecsScopes: a name is looked for among the scopes
// of the spec: a workspace of the organization that shares a managed
// deployment's name, and that the spec lists nothing of, makes it no less
// clear.
func TestOnlyNamesAmongTheSpecsScopes(t *testing.T) {
	d := Desired{Scopes: []ManagedScope{alpha(false)}}
	ws := append(observed().Workspaces, astroapi.Workspace{ID: "ws-9", Name: "alpha"})
	_, refs, err := Only(d, ws, []string{"alpha"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]ScopeRef{DeploymentScope(alphaRef)}, refs); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
}

// TestOnlyBoundsItsSuggestions: of many targets not in the spec, the first
// maxSuggestions get a did-you-mean, from one pass over the spec's scopes
// each; the rest are named without one.
func TestOnlyBoundsItsSuggestions(t *testing.T) {
	d := Desired{Scopes: []ManagedScope{alpha(false), beta(false)}}
	var targets []string // one letter off "one/alpha", each
	for i := 0; len(targets) < maxSuggestions+5; i++ {
		b := []byte("one/alpha")
		b[4+i%5] = byte('0' + i/5)
		targets = append(targets, string(b))
	}
	_, _, err := Only(d, observed().Workspaces, targets)
	if err == nil {
		t.Fatal("Only accepted targets not in the spec")
	}
	msg := err.Error()
	if got := strings.Count(msg, "did you mean"); got != maxSuggestions {
		t.Errorf("%d targets with a did-you-mean, want %d", got, maxSuggestions)
	}
	last := strconv.Quote(targets[len(targets)-1])
	if !strings.Contains(msg, last+":") {
		t.Errorf("the last target is not named, bare, in %q", msg)
	}
}
