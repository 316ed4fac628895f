package astroapi_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// shortCredentialState is an organization whose ids, names and DAG tags
// contain the credentials of TestShortCredentialDataIsByteExact.
func shortCredentialState() *astroapitest.State {
	const (
		org = "clx0org0000"
		ws  = "clx0ws00001"
		dep = "clx0dep0001"
	)
	return &astroapitest.State{
		Organization: astroapitest.Organization{ID: org, Name: "x0 org"},
		Workspaces:   []astroapitest.Workspace{{ID: ws, Name: "x-team", Description: "clx0dep0 owners"}},
		Deployments:  []astroapitest.Deployment{{ID: dep, Name: "x-prod", WorkspaceID: ws}},
		Roles: []astroapitest.CustomRole{
			{ID: "clx0role001", Name: "X_VIEWER_x", Description: "x", ScopeType: astroapi.ScopeDeployment},
		},
		Tokens: []astroapitest.Token{
			{ID: "clx0tok0001", Name: "x-runs", Description: "clx0dep0001 runner", Scope: astroapi.ScopeWorkspace, Roles: []astroapi.Role{
				role(astroapi.EntityWorkspace, ws, "WORKSPACE_MEMBER"),
				role(astroapi.EntityDeployment, dep, "X_VIEWER_x"),
				dagRole(astroapi.EntityDAGTag, "x-runs", "DAG_VIEWER", dep),
				dagRole(astroapi.EntityDAG, "clx0dep0_dag", "DAG_AUTHOR", dep),
			}},
		},
	}
}

// TestShortCredentialDataIsByteExact reads and writes with credentials of
// 1, 2 and 8 characters that occur inside ids, names, descriptions and DAG
// tags: every value the client returns is the API's, byte for byte, and a
// role list read and written back leaves the state unchanged.
func TestShortCredentialDataIsByteExact(t *testing.T) {
	for _, secret := range []string{"x", "x0", "clx0dep0"} {
		t.Run(secret, func(t *testing.T) {
			st := shortCredentialState()
			org, tok := st.Organization.ID, st.Tokens[0].ID
			srv, base := astroapitest.NewTestServer(t, st, unlimited)
			c, err := astroapi.New(base, astroapi.WithCredential(secret), astroapi.WithRateLimits(0, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			want := srv.State()

			tokens, err := c.Tokens(ctx, org, astroapi.TokenFilter{})
			if err != nil {
				t.Fatal(err)
			}
			got := project(tokens, func(t astroapi.Token) string { return t.ID + " " + t.Name + " " + t.Description })
			if diff := cmp.Diff([]string{tok + " x-runs clx0dep0001 runner"}, got); diff != "" {
				t.Errorf("Tokens (-want +got):\n%s", diff)
			}
			one, err := c.Token(ctx, org, tok)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.Tokens[0].Roles, one.Roles); diff != "" {
				t.Errorf("Token roles (-want +got):\n%s", diff)
			}
			deps, err := c.Deployments(ctx, org, astroapi.DeploymentFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"clx0dep0001 x-prod clx0ws00001"}, project(deps, func(d astroapi.Deployment) string { return d.ID + " " + d.Name + " " + d.WorkspaceID })); diff != "" {
				t.Errorf("Deployments (-want +got):\n%s", diff)
			}
			wss, err := c.Workspaces(ctx, org, astroapi.WorkspaceFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"clx0ws00001 x-team clx0dep0 owners"}, project(wss, func(w astroapi.Workspace) string { return w.ID + " " + w.Name + " " + w.Description })); diff != "" {
				t.Errorf("Workspaces (-want +got):\n%s", diff)
			}
			roles, err := c.Roles(ctx, org, astroapi.RoleFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"clx0role001 X_VIEWER_x"}, project(roles.Custom, func(r astroapi.CustomRole) string { return r.ID + " " + r.Name })); diff != "" {
				t.Errorf("Roles (-want +got):\n%s", diff)
			}

			// Writing back what was read changes nothing.
			if _, err := c.SetTokenRoles(ctx, org, tok, one.Roles); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.Tokens[0].Roles, srv.State().Tokens[0].Roles); diff != "" {
				t.Errorf("state after writing back (-want +got):\n%s", diff)
			}
		})
	}
}

// TestShortCredentialErrorsAreRedactedAndTyped checks that an error whose
// text would contain a short credential (in the path of an id, in the
// API's message) is redacted and still matches its sentinel.
func TestShortCredentialErrorsAreRedactedAndTyped(t *testing.T) {
	for _, secret := range []string{"x", "x0", "clx0dep0"} {
		t.Run(secret, func(t *testing.T) {
			st := shortCredentialState()
			_, base := astroapitest.NewTestServer(t, st, unlimited)
			c, err := astroapi.New(base, astroapi.WithCredential(secret), astroapi.WithRateLimits(0, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Token(context.Background(), st.Organization.ID, "clx0dep0-missing")
			if !errors.Is(err, astroapi.ErrNotFound) {
				t.Fatalf("Token of a missing id: error %v, want one matching ErrNotFound", err)
			}
			var apiErr *astroapi.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
				t.Errorf("Token of a missing id: error %#v, want an *astroapi.Error with status 404", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the credential %q: %v", secret, err)
			}
		})
	}
}

// TestRedact: the credential is redacted whole, escaped as strconv.Quote
// escapes it, and cut as messages cut long text; text that only shares a
// few characters with it is left alone.
func TestRedact(t *testing.T) {
	const secret = "eyJhbGciOi.JSUzI1NiJ9-payload_signature"
	tests := []struct{ in, want string }{
		{"", ""},
		{"no credential here", "no credential here"},
		{`token "` + secret + `": unknown role`, `token "[REDACTED]": unknown role`},
		{`got string "` + secret[:40-4] + `..."`, `got string "[REDACTED]..."`},
		{`got string "x: ` + secret[:20] + `..."`, `got string "x: [REDACTED]..."`},
		{`name "eyJhbGci..." and "eyJ..."`, `name "[REDACTED]..." and "eyJ..."`},
		{`"eyJhbGc..."`, `"eyJhbGc..."`}, // 7 characters: too few to be the credential
		{secret + secret, "[REDACTED][REDACTED]"},
	}
	// A credential with characters a URL escapes, in an id of a path.
	const slashed = "c2VjcmV0/dG9rZW4+Zm9yL3Rlc3Q= ?#%"
	for _, in := range []string{url.PathEscape(slashed), url.QueryEscape(slashed), strings.Trim(strconv.Quote(slashed), `"`)} {
		if got := astroapi.Redact("GET /organizations/"+in+"/tokens", slashed); got != "GET /organizations/[REDACTED]/tokens" {
			t.Errorf("Redact of %q = %q", in, got)
		}
	}
	// Cut after it is Go-quoted, as a spec error quotes a value.
	const credential = `k9Qz7Lm2\Xv8Rt4Np6Ws1Yd3Hb5Gf0Jc7Ke9Ua2Tq4Zx6"`
	if got := astroapi.Redact(`deployment "`+strings.Trim(strconv.Quote(credential), `"`)[:39]+`..." not found`, credential); got != `deployment "[REDACTED]..." not found` {
		t.Errorf("Redact of a cut Go-quoted copy = %q", got)
	}
	for _, tt := range tests {
		if got := astroapi.Redact(tt.in, secret); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	quoted := `a"b\c` + "\x1b" + "-long-enough"
	if got := astroapi.Redact(strconv.Quote(quoted), quoted); got != `"[REDACTED]"` {
		t.Errorf("Redact(%s) = %s, want the escaped credential redacted", strconv.Quote(quoted), got)
	}
	if got := astroapi.Redact("short x", ""); got != "short x" {
		t.Errorf("Redact with no credential = %q", got)
	}
}
