package astroapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRoleWithPermissions pins GET /roles/{roleId}: the path (escaped),
// no query, the permissions decoded, 404 as ErrNotFound and an answer
// about another role refused.
func TestRoleWithPermissions(t *testing.T) {
	role := RoleWithPermission{
		ID: "r/1", Name: "DAG_DEPLOYER", Description: "deploys", ScopeType: ScopeDeployment,
		Permissions:            []string{"deployment.get", "deployment.deploy"},
		RestrictedWorkspaceIDs: []string{"ws1"},
		CreatedAt:              t0, UpdatedAt: t1, CreatedBy: &Subject{ID: "u0"},
	}
	tests := []struct {
		name    string
		status  int
		answer  any
		want    RoleWithPermission
		wantErr string
	}{
		{name: "found", status: http.StatusOK, answer: role, want: role},
		{name: "unknown", status: http.StatusNotFound, answer: ErrorBody{Message: "role not found", RequestID: "req-1", StatusCode: 404}, wantErr: "404"},
		{name: "another role", status: http.StatusOK, answer: RoleWithPermission{ID: "r2"}, wantErr: `the answer is about role "r2", not "r/1"`},
		{name: "null", status: http.StatusOK, answer: nil, wantErr: `the answer is about role "", not "r/1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
				writeJSON(w, tt.status, tt.answer)
			})
			c := newTestClient(t, ts)
			got, err := c.Role(t.Context(), "o", "r/1")
			reqs := rec.all()
			if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/v1/organizations/o/roles/r%2F1" || len(reqs[0].Query) != 0 {
				t.Fatalf("requests %+v, want one GET /v1/organizations/o/roles/r%%2F1 without query", reqs)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if tt.status == http.StatusNotFound && !errors.Is(err, ErrNotFound) {
					t.Errorf("error %v does not match ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("role (-want +got):\n%s", diff)
			}
		})
	}
	c, err := New("http://127.0.0.1:1", WithCredential("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Role(t.Context(), "o", ".."); err == nil {
		t.Error("Role(..) sent a request that changes the path")
	}
}

// TestTokenHygieneFieldsDecode: the hygiene fields of ApiToken decode
// under the API's names, and a field the API leaves out stays nil.
func TestTokenHygieneFieldsDecode(t *testing.T) {
	raw := `{"tokens":[
		{"id":"a","name":"a","description":"","scope":"WORKSPACE","kind":"DIRECT_ACCESS",
		 "startAt":"2024-01-01T00:00:00Z","endAt":"2024-04-01T00:00:00Z","expiryPeriodInDays":91,
		 "lastUsedAt":"2024-02-01T10:00:00Z","lastRotatedAt":"2024-01-15T00:00:00Z",
		 "createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-02T00:00:00Z","roles":[]},
		{"id":"b","name":"b","description":"","scope":"ORGANIZATION","kind":"STANDARD",
		 "createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-01T00:00:00Z","roles":[]}],
		"totalCount":2,"offset":0,"limit":1000}`
	ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeRaw(w, http.StatusOK, "application/json", raw)
	})
	c := newTestClient(t, ts, WithPageSize(1000))
	got, err := c.Tokens(t.Context(), "o", TokenFilter{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	created := *at("2024-01-01T00:00:00Z")
	want := []Token{
		{ID: "a", Name: "a", Scope: ScopeWorkspace, Kind: TokenDirectAccess,
			StartAt: at("2024-01-01T00:00:00Z"), EndAt: at("2024-04-01T00:00:00Z"), ExpiryPeriodInDays: 91,
			LastUsedAt: at("2024-02-01T10:00:00Z"), LastRotatedAt: at("2024-01-15T00:00:00Z"),
			CreatedAt: created, UpdatedAt: *at("2024-01-02T00:00:00Z"), Roles: []Role{}},
		{ID: "b", Name: "b", Scope: ScopeOrganization, Kind: TokenStandard, CreatedAt: created, UpdatedAt: created, Roles: []Role{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
}
