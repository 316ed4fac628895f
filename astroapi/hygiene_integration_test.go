package astroapi_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// TestRoleAndHygieneFieldsAgainstEmulator: Client.Role reads a custom
// role's permissions from the emulator (an unknown id matches
// ErrNotFound), and Tokens reads the lifecycle fields under the API's
// names, nil where the state has none.
func TestRoleAndHygieneFieldsAgainstEmulator(t *testing.T) {
	st := smallState()
	st.Roles[1].Permissions = []string{"deployment.get", "deployment.deploy"}
	st.Roles = append(st.Roles, astroapitest.CustomRole{ID: "role-runner", Name: "DAG_RUNNER", ScopeType: astroapi.ScopeDAG, Permissions: []string{"deployment.dagRuns.create"}})
	used, rotated, end := day("2025-02-01"), day("2025-01-15"), day("2025-06-01")
	st.Tokens[0].LastUsedAt, st.Tokens[0].LastRotatedAt, st.Tokens[0].EndAt = used, rotated, end
	st.Tokens[0].Kind = astroapi.TokenDirectAccess
	_, base := astroapitest.NewTestServer(t, st, unlimited)
	c := newClient(t, base)
	ctx := t.Context()

	r, err := c.Role(ctx, orgID, "role-deployer")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != roleDeployer || r.ScopeType != astroapi.ScopeDeployment || !cmp.Equal(r.Permissions, []string{"deployment.get", "deployment.deploy"}) ||
		!cmp.Equal(r.RestrictedWorkspaceIDs, []string{wsAlpha}) {
		t.Errorf("role %+v: want %s with its permissions and restriction", r, roleDeployer)
	}
	if r, err := c.Role(ctx, orgID, "role-runner"); err != nil || r.ScopeType != astroapi.ScopeDAG {
		t.Errorf("DAG role %+v, %v", r, err)
	}
	if _, err := c.Role(ctx, orgID, "role-nope"); !errors.Is(err, astroapi.ErrNotFound) {
		t.Errorf("unknown role: %v, want ErrNotFound", err)
	}
	roles, err := c.Roles(ctx, orgID, astroapi.RoleFilter{ScopeTypes: []string{astroapi.ScopeDAG}, IncludeDefaultRoles: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles.Custom) != 1 || roles.Custom[0].Name != "DAG_RUNNER" || len(roles.Default) != 2 {
		t.Errorf("DAG roles %+v: want DAG_RUNNER and the two built-in DAG roles", roles)
	}

	tok, err := c.Token(ctx, orgID, tokCI)
	if err != nil {
		t.Fatal(err)
	}
	same := func(p *time.Time, want time.Time) bool { return p != nil && p.Equal(want) }
	if !same(tok.LastUsedAt, used) || !same(tok.LastRotatedAt, rotated) || !same(tok.EndAt, end) || tok.Kind != astroapi.TokenDirectAccess {
		t.Errorf("token %+v: want the state's lifecycle fields", tok)
	}
	bot, err := c.Token(ctx, orgID, tokBot)
	if err != nil {
		t.Fatal(err)
	}
	if bot.LastUsedAt != nil || bot.LastRotatedAt != nil || bot.EndAt != nil || bot.Kind != astroapi.TokenStandard || !same(bot.StartAt, bot.CreatedAt) {
		t.Errorf("token %+v: want no lastUsedAt, lastRotatedAt, endAt; STANDARD; startAt = createdAt", bot)
	}
}
