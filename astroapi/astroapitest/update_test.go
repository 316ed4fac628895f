package astroapitest

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
)

// TestUpdateTokenAndTeamNames: POST /tokens/{id} and /teams/{id} set a new
// name, and a description when one is sent; they answer the token or team
// and leave its roles alone. Bodies are strict, and writes follow the
// credential rules of role writes.
func TestUpdateTokenAndTeamNames(t *testing.T) {
	st := subjectState()
	st.Credentials = []Credential{{Secret: "full"}, {Secret: "ro", ReadOnly: true}, {Secret: "ws-b-only", WorkspaceIDs: []string{"ws-b"}}}
	srv, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org

	resp, raw := fetch(t, http.MethodPost, o+"/tokens/tok-ws-a", "Bearer full", `{"name":"ci-renamed"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST token: %d %s", resp.StatusCode, raw)
	}
	tok := decode[astroapi.Token](t, raw)
	if tok.Name != "ci-renamed" || tok.Description != "deploys alpha" || !tok.UpdatedAt.After(tok.CreatedAt) || len(tok.Roles) != 2 {
		t.Errorf("token %+v: want the new name, the description kept, a later updatedAt, its roles", tok)
	}
	resp, raw = fetch(t, http.MethodPost, o+"/teams/team-de", "Bearer full", `{"name":"de","description":""}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST team: %d %s", resp.StatusCode, raw)
	}
	team := decode[astroapi.Team](t, raw)
	if team.Name != "de" || team.Description != "" || team.RolesCount != 5 {
		t.Errorf("team %+v: want the new name, the description emptied, its roles", team)
	}
	if got := srv.State().Teams[0]; got.Name != "de" || len(got.DeploymentRoles) != 2 {
		t.Errorf("stored team %+v", got)
	}
	if st := srv.Stats(); len(st.RoleWrites)+len(st.TeamRoleWrites) != 0 {
		t.Errorf("a name update counted as a role write: %+v", st)
	}

	tests := []struct {
		name, auth, path, body string
		status                 int
		fields                 []string
	}{
		{"no name", "Bearer full", "/tokens/tok-ws-b", `{"description":"x"}`, 400, []string{"name required"}},
		{"empty name", "Bearer full", "/teams/team-de2", `{"name":" "}`, 400, []string{"name required"}},
		{"unknown field", "Bearer full", "/tokens/tok-ws-b", `{"name":"x","roles":[]}`, 400, []string{"body invalid_json"}},
		{"name of the wrong type", "Bearer full", "/teams/team-de2", `{"name":1}`, 400, []string{"name type"}},
		{"unknown token", "Bearer full", "/tokens/tok-nope", `{"name":"x"}`, 404, nil},
		{"unknown team", "Bearer full", "/teams/team-nope", `{"name":"x"}`, 404, nil},
		{"read-only", "Bearer ro", "/tokens/tok-ws-b", `{"name":"x"}`, 403, nil},
		{"confined: a token of another workspace", "Bearer ws-b-only", "/tokens/tok-ws-a", `{"name":"x"}`, 403, nil},
		{"confined: a team", "Bearer ws-b-only", "/teams/team-de2", `{"name":"x"}`, 403, nil},
		{"confined: a token of its workspace", "Bearer ws-b-only", "/tokens/tok-ws-b", `{"name":"ci-b"}`, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw := fetch(t, http.MethodPost, o+tt.path, tt.auth, tt.body)
			if tt.status == http.StatusOK {
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d, want 200: %s", resp.StatusCode, raw)
				}
				return
			}
			body := wantError(t, resp, raw, tt.status)
			if diff := cmp.Diff(tt.fields, fieldsOf(body.FieldErrors)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}
