package sync

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/spec"
)

// heldFixture is fixture where subjects hold roles on analytics-prod that
// no write could give them today: an INACTIVE and a BANNED user, a user
// without an organization role (as the API may answer), a token holding a
// custom role since deleted and a team holding a custom role since
// restricted to another workspace.
func heldFixture() *Observed {
	obs := fixture()
	held := map[string]string{
		"usr-ina":    "DEPLOYMENT_ADMIN",
		"usr-ban":    "DAG_DEPLOYER",
		"usr-norole": "DEPLOYMENT_ADMIN",
		"tok-ci":     "OLD_ROLE",
		"team-de":    "ML_Operator",
	}
	for i, s := range obs.Subjects {
		if role, ok := held[s.ID]; ok {
			grants := slices.DeleteFunc(slices.Clone(s.Grants), func(g Grant) bool { return g.Scope.Level == LevelDeployment })
			obs.Subjects[i].Grants = append(grants, Grant{Scope: depScope("dep-prod"), Role: role})
		}
	}
	return obs
}

// TestResolveKeepsWhatIsHeld: an entry that asks for exactly the role its
// subject holds writes nothing, so it is not refused for the user's
// status, a missing organization role or a role the organization no
// longer offers (a note says so), and a plan with prune is empty. This is
// what makes every export plan empty. Asking for any other role is still
// refused.
func TestResolveKeepsWhatIsHeld(t *testing.T) {
	deployment := func(users []spec.UserEntry, tokens []spec.TokenEntry, teams []spec.TeamEntry) *spec.Spec {
		return &spec.Spec{Deployments: []spec.Deployment{{
			Pos: at(10), ID: "dep-prod", Prune: true, AllowEmpty: true,
			Lists:           []Kind{KindWorkspaceToken, KindOrganizationToken, KindUser, KindTeam},
			Users:           users,
			WorkspaceTokens: tokens,
			Teams:           teams,
		}}}
	}
	t.Run("as held", func(t *testing.T) {
		sp := deployment(
			[]spec.UserEntry{userEntry(11, "ina@example.com", "DEPLOYMENT_ADMIN"), {Pos: at(12), ID: "usr-ban", Role: "DAG_DEPLOYER", State: spec.Present}, userEntry(13, "norole@example.com", "DEPLOYMENT_ADMIN")},
			[]spec.TokenEntry{{Pos: at(14), Name: "ci-deployer", Role: "OLD_ROLE", State: spec.Present}},
			[]spec.TeamEntry{teamEntry(15, "data-engineering", "ML_Operator")},
		)
		obs := heldFixture()
		d, err := Resolve(sp, obs)
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		var notes []string
		for _, n := range d.Notes {
			notes = append(notes, n.String())
		}
		want := []string{
			`tokens.yaml:14:7: token "ci-deployer": unknown role "OLD_ROLE": kept as held`,
			`tokens.yaml:15:7: team "data-engineering": role "ML_Operator" is not allowed in workspace "data-platform" of deployment "analytics-prod": kept as held`,
		}
		if diff := cmp.Diff(want, notes); diff != "" {
			t.Errorf("notes (-want +got):\n%s", diff)
		}
		p := Compute(d, obs, Options{Prune: true, MaxRemovals: -1})
		if len(p.Changes) != 0 {
			t.Errorf("plan of what is held has changes %+v, want none", p.Changes)
		}
	})
	t.Run("another role", func(t *testing.T) {
		sp := deployment(
			[]spec.UserEntry{userEntry(11, "ina@example.com", "DAG_DEPLOYER"), {Pos: at(12), ID: "usr-ban", Role: "DEPLOYMENT_ADMIN", State: spec.Present}, userEntry(13, "norole@example.com", "DAG_DEPLOYER")},
			[]spec.TokenEntry{{Pos: at(14), Name: "ci-deployer", Role: "old_role", State: spec.Present}},
			nil,
		)
		_, err := Resolve(sp, heldFixture())
		var list spec.ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("Resolve error = %v, want a spec.ErrorList", err)
		}
		var got []string
		for _, e := range list {
			got = append(got, e.Error())
		}
		want := []string{
			`tokens.yaml:11:7: user "ina@example.com" is INACTIVE: an inactive user cannot be given a role`,
			`tokens.yaml:12:7: user "usr-ban" is BANNED: a banned user cannot be given a role`,
			`tokens.yaml:13:7: user "norole@example.com" has no organization role: Astro gives a deployment role only to a member of the organization`,
			`tokens.yaml:14:7: token "ci-deployer": unknown role "old_role"`,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
	})
}
