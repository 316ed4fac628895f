package sync

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// readerRoles adds two custom deployment roles that differ only in case,
// which Astro keeps apart.
func readerRoles(obs *Observed) *Observed {
	obs.CustomRoles = append(obs.CustomRoles,
		astroapi.CustomRole{ID: "r-mixed", Name: "Reader", ScopeType: "DEPLOYMENT"},
		astroapi.CustomRole{ID: "r-upper", Name: "READER", ScopeType: "DEPLOYMENT"})
	return obs
}

// TestResolveRoleNameCase: a built-in role matches in any case and
// resolves upper case; a custom role matches only its exact name; a name
// that matches custom roles only when case is ignored is an error listing
// every candidate.
func TestResolveRoleNameCase(t *testing.T) {
	tests := []struct {
		role, want, wantErr string
	}{
		{role: "Reader", want: "Reader"},
		{role: "READER", want: "READER"},
		{role: "DAG_DEPLOYER", want: "DAG_DEPLOYER"},
		{role: "deployment_admin", want: astroapi.RoleDeploymentAdmin},
		{role: "Deployment_Admin", want: astroapi.RoleDeploymentAdmin},
		{role: "reader", wantErr: `tokens.yaml:11:7: token "ci-deployer": role "reader" matches custom roles only when case is ignored: "READER", "Reader" (custom role names are case-sensitive)`},
		{role: "rEADER", wantErr: `tokens.yaml:11:7: token "ci-deployer": role "rEADER" matches custom roles only when case is ignored: "READER", "Reader" (custom role names are case-sensitive)`},
		{role: "dag_deployer", wantErr: `tokens.yaml:11:7: token "ci-deployer": role "dag_deployer" matches custom roles only when case is ignored: "DAG_DEPLOYER" (custom role names are case-sensitive)`},
		{role: "ml_operator", wantErr: `tokens.yaml:11:7: token "ci-deployer": role "ml_operator" matches custom roles only when case is ignored: "ML_Operator" (custom role names are case-sensitive)`},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			sp := spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "ci-deployer", tt.role))}}
			d, err := Resolve(&sp, readerRoles(fixture()))
			var list spec.ErrorList
			switch {
			case tt.wantErr != "":
				if !errors.As(err, &list) || len(list) != 1 || list[0].Error() != tt.wantErr {
					t.Fatalf("Resolve error = %v, want %s", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("Resolve: %v", err)
			default:
				if got := d.Scopes[0].Assignments[0].Role; got != tt.want {
					t.Errorf("role %q resolves to %q, want %q", tt.role, got, tt.want)
				}
			}
		})
	}
}

// TestCustomRoleCaseNeverConfused: from the plan to the verification,
// "Reader" and "READER" are two roles: a token holding one where the spec
// names the other is planned as an update, apply writes exactly the role
// named, verification does not call the other role converged, and the
// plan after apply is empty.
func TestCustomRoleCaseNeverConfused(t *testing.T) {
	for _, tt := range []struct{ held, named string }{{"Reader", "READER"}, {"READER", "Reader"}} {
		t.Run(tt.held+"→"+tt.named, func(t *testing.T) {
			ws := wsRole("ws-1", "WORKSPACE_MEMBER")
			tok := token("t-r", "reader-bot", "WORKSPACE", ws, depRole("dep-a", tt.held))
			ref := ref(tok)
			obs := &Observed{Organization: org, Deployments: []astroapi.Deployment{{ID: "dep-a", Name: "alpha", WorkspaceID: "ws-1"}},
				Subjects: subjects([]astroapi.Token{tok}, nil, nil)}
			d := Desired{Scopes: []ManagedScope{{
				ScopeRef:    ScopeRef{Level: LevelDeployment, ID: "dep-a", Name: "alpha"},
				WorkspaceID: "ws-1",
				Assignments: []DesiredAssignment{{Subject: ref, Role: tt.named, Source: at(12)}},
			}}}

			p := Compute(d, obs, Options{MaxRemovals: -1})
			want := []Change{{Action: Update, Scope: DeploymentScope(alphaRef), Subject: ref, Before: tt.held, After: tt.named, Source: ptr(at(12))}}
			if diff := cmp.Diff(want, p.Changes); diff != "" {
				t.Fatalf("plan (-want +got):\n%s", diff)
			}

			// Verification of a plan read back without its Target, before
			// and after apply.
			saved := p
			saved.Target = nil
			s := newFakeStore(tok)
			if v := Verify(saved, Result{}, s.snapshot()); v.Converged {
				t.Errorf("Verify before apply: converged, with %q held and %q planned", tt.held, tt.named)
			}
			if v := Verify(p, Result{}, s.snapshot()); v.Converged {
				t.Errorf("Verify (with Target) before apply: converged, with %q held and %q planned", tt.held, tt.named)
			}

			res := Apply(context.Background(), s.adapters(), p, ApplyOptions{})
			if diff := cmp.Diff([]astroapi.Role{ws, depRole("dep-a", tt.named)}, s.role("t-r")); diff != "" {
				t.Errorf("roles written (-want +got):\n%s", diff)
			}
			if v := Verify(p, res, s.snapshot()); !v.Converged {
				t.Errorf("Verify after apply: %+v, want converged", v)
			}
			if v := Verify(saved, res, s.snapshot()); !v.Converged {
				t.Errorf("Verify (saved plan) after apply: %+v, want converged", v)
			}
			again := Compute(d, &Observed{Organization: org, Deployments: obs.Deployments, Subjects: s.snapshot()}, Options{MaxRemovals: -1})
			if len(again.Changes) != 0 {
				t.Errorf("plan after apply: %+v, want none", again.Changes)
			}
			if p.Fingerprints["t-r"] == again.Fingerprints["t-r"] && again.Fingerprints["t-r"] != "" {
				t.Errorf("fingerprint unchanged after %q became %q", tt.held, tt.named)
			}
		})
	}
}

// TestFingerprintTellsRoleCaseApart: a role set holding "Reader" and one
// holding "READER" are different role sets, so a saved plan is stale when
// another writer swaps one for the other.
func TestFingerprintTellsRoleCaseApart(t *testing.T) {
	a := Fingerprint([]astroapi.Role{depRole("dep-a", "Reader")})
	b := Fingerprint([]astroapi.Role{depRole("dep-a", "READER")})
	if a == b {
		t.Errorf("token fingerprints of Reader and READER are equal")
	}
	u := func(role string) string {
		return roleSet{OrganizationRole: "ORGANIZATION_MEMBER", DeploymentRoles: []astroapi.DeploymentRole{deploymentRole("dep-a", role)}}.fingerprint()
	}
	if u("Reader") == u("READER") {
		t.Errorf("role-set fingerprints of Reader and READER are equal")
	}
}
