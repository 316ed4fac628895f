package astroapitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
)

func TestUnknownRoutesAnswer404And405WithErrorBody(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	root := strings.TrimSuffix(base, "/v1")
	o := base + "/organizations/" + org
	tests := []struct {
		name, method, url, body string
		status                  int
		allow                   string
	}{
		{"unknown organization", "GET", base + "/organizations/clx0other/tokens", "", 404, ""},
		{"unknown token", "GET", o + "/tokens/tok-nope", "", 404, ""},
		{"unknown token roles", "POST", o + "/tokens/tok-nope/roles", rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER")), 404, ""},
		{"unknown token delete", "DELETE", o + "/tokens/tok-nope", "", 404, ""},
		{"unknown collection", "GET", o + "/clusters", "", 404, ""},
		{"other version", "GET", root + "/v1beta1/organizations/" + org + "/tokens", "", 404, ""},
		{"trailing slash", "GET", o + "/tokens/", "", 404, ""},
		{"too deep", "GET", o + "/tokens/tok-ws-a/roles/x", "", 404, ""},
		{"root", "GET", root + "/", "", 404, ""},
		{"PUT tokens", "PUT", o + "/tokens", "", 405, "GET"},
		{"POST create token (not emulated)", "POST", o + "/tokens", `{"name":"x"}`, 405, "GET"},
		{"PUT token", "PUT", o + "/tokens/tok-ws-a", `{"name":"x"}`, 405, "DELETE, GET, POST"},
		{"POST rotate token (not emulated)", "POST", o + "/tokens/tok-ws-a/rotate", "", 404, ""},
		{"unknown token update", "POST", o + "/tokens/tok-nope", `{"name":"x"}`, 404, ""},
		{"GET roles of token", "GET", o + "/tokens/tok-ws-a/roles", "", 405, "POST"},
		{"DELETE deployments", "DELETE", o + "/deployments", "", 405, "GET"},
		{"POST admin state", "POST", root + "/_emulator/state", "{}", 405, "GET"},
		{"unknown admin endpoint", "GET", root + "/_emulator/reset", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw := fetch(t, tt.method, tt.url, bearer, tt.body)
			wantError(t, resp, raw, tt.status)
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	seen := map[string]bool{}
	for i := range 30 {
		url := fmt.Sprintf("%s/organizations/%s/tokens/nope-%d", base, org, i)
		auth := bearer
		if i%3 == 0 {
			auth = ""
		}
		resp, raw := fetch(t, http.MethodGet, url, auth, "")
		body := wantError(t, resp, raw, map[bool]int{true: 401, false: 404}[auth == ""])
		if seen[body.RequestID] {
			t.Fatalf("requestId %q answered twice", body.RequestID)
		}
		seen[body.RequestID] = true
	}
}

func TestAuthAnswers401(t *testing.T) {
	anyBearer := testState()
	withCreds := testState()
	withCreds.Credentials = []Credential{{Secret: "good"}, {Secret: "bots", TokenID: "tok-ws-b"}}
	tests := []struct {
		name   string
		st     *State
		auth   string
		status int
	}{
		{"no header", anyBearer, "", 401},
		{"empty bearer", anyBearer, "Bearer ", 401},
		{"bare scheme", anyBearer, "Bearer", 401},
		{"basic", anyBearer, "Basic dXNlcjpwYXNz", 401},
		{"token scheme", anyBearer, "Token abc", 401},
		{"bearer with spaces", anyBearer, "Bearer a b", 401},
		{"any bearer", anyBearer, "Bearer whatever", 200},
		{"scheme case-insensitive", anyBearer, "bearer whatever", 200},
		{"unknown secret", withCreds, "Bearer bad", 401},
		{"known secret", withCreds, "Bearer good", 200},
		{"no header with credentials", withCreds, "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, base := NewTestServer(t, tt.st, Options{RateLimits: NoRateLimit})
			resp, raw := fetch(t, http.MethodGet, base+"/organizations/"+org+"/tokens", tt.auth, "")
			if tt.status != 200 {
				body := wantError(t, resp, raw, tt.status)
				if strings.Contains(body.Message, "bad") || strings.Contains(body.Message, "whatever") {
					t.Errorf("the error message %q repeats the credential", body.Message)
				}
			} else if resp.StatusCode != 200 {
				t.Errorf("status %d, want 200: %s", resp.StatusCode, raw)
			}
		})
	}
	t.Run("credential of a deleted token", func(t *testing.T) {
		srv, base := NewTestServer(t, withCreds, Options{RateLimits: NoRateLimit})
		url := base + "/organizations/" + org + "/tokens/tok-ws-b"
		if resp, raw := fetch(t, http.MethodGet, url, "Bearer bots", ""); resp.StatusCode != 200 {
			t.Fatalf("GET: %d %s", resp.StatusCode, raw)
		}
		if resp, raw := fetch(t, http.MethodDelete, url, "Bearer good", ""); resp.StatusCode != 204 {
			t.Fatalf("DELETE: %d %s", resp.StatusCode, raw)
		}
		resp, raw := fetch(t, http.MethodGet, base+"/organizations/"+org+"/roles", "Bearer bots", "")
		wantError(t, resp, raw, 401)
		// The token's credential went with it: the state is still valid.
		st := srv.State()
		if err := st.Validate(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]Credential{{Secret: "good"}}, st.Credentials); diff != "" {
			t.Errorf("credentials (-want +got):\n%s", diff)
		}
	})
}

func TestCredentialConfinedToWorkspacesAnswers403(t *testing.T) {
	st := testState()
	st.Credentials = []Credential{{Secret: "alpha", WorkspaceIDs: []string{"ws-a"}}}
	_, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"org-wide tokens", "GET", "/tokens", "", 403},
		{"tokens of its workspace", "GET", "/tokens?workspaceId=ws-a", "", 200},
		{"tokens of another workspace", "GET", "/tokens?workspaceId=ws-b", "", 403},
		{"tokens of its deployment", "GET", "/tokens?deploymentId=dep-a1", "", 200},
		{"tokens of another deployment", "GET", "/tokens?deploymentId=dep-b1", "", 403},
		{"organization tokens", "GET", "/tokens?includeOnlyOrganizationTokens=true", "", 403},
		{"org-wide deployments", "GET", "/deployments", "", 403},
		{"deployments by id only", "GET", "/deployments?deploymentIds=dep-a1", "", 403},
		{"deployments of its workspace", "GET", "/deployments?workspaceIds=ws-a", "", 200},
		{"deployments of two workspaces", "GET", "/deployments?workspaceIds=ws-a&workspaceIds=ws-b", "", 403},
		{"org-wide workspaces answer its own (inferred)", "GET", "/workspaces", "", 200},
		{"its workspace", "GET", "/workspaces?workspaceIds=ws-a", "", 200},
		{"roles", "GET", "/roles?includeDefaultRoles=true", "", 200},
		{"token of its workspace", "GET", "/tokens/tok-ws-a", "", 200},
		{"organization token with a role in its workspace", "GET", "/tokens/tok-org", "", 200},
		{"token of another workspace", "GET", "/tokens/tok-ws-b", "", 403},
		{"write a token of its workspace", "POST", "/tokens/tok-ws-a/roles", rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER")), 200},
		{"write a token of another workspace", "POST", "/tokens/tok-ws-b/roles", rolesBody(wsRole("ws-b", "WORKSPACE_MEMBER")), 403},
		{"write an organization token", "POST", "/tokens/tok-org/roles", rolesBody(orgRole("ORGANIZATION_MEMBER")), 403},
		{"delete a token of another workspace", "DELETE", "/tokens/tok-ws-b", "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw := fetch(t, tt.method, o+tt.path, "Bearer alpha", tt.body)
			if tt.status != 200 {
				wantError(t, resp, raw, tt.status)
			} else if resp.StatusCode != 200 {
				t.Errorf("status %d, want 200: %s", resp.StatusCode, raw)
			}
		})
	}
}

func TestConfinedCredentialListsOnlyItsWorkspacesInferred(t *testing.T) {
	st := testState()
	st.Credentials = []Credential{{Secret: "alpha", WorkspaceIDs: []string{"ws-a"}}}
	_, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	resp, raw := fetch(t, "GET", base+"/organizations/"+org+"/workspaces", "Bearer alpha", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	var got struct {
		Workspaces []astroapi.Workspace `json:"workspaces"`
		TotalCount int                  `json:"totalCount"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Workspaces) != 1 || got.Workspaces[0].ID != "ws-a" || got.TotalCount != 1 {
		t.Errorf("a credential confined to ws-a listed %+v (total %d)", got.Workspaces, got.TotalCount)
	}
}

func TestReadOnlyCredentialAnswers403OnWrites(t *testing.T) {
	st := testState()
	st.Credentials = []Credential{{Secret: "viewer", ReadOnly: true}}
	srv, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"list", "GET", "/tokens", "", 200},
		{"get", "GET", "/tokens/tok-ws-a", "", 200},
		{"set roles", "POST", "/tokens/tok-ws-a/roles", rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER")), 403},
		{"delete", "DELETE", "/tokens/tok-ws-a", "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw := fetch(t, tt.method, o+tt.path, "Bearer viewer", tt.body)
			if tt.status != 200 {
				wantError(t, resp, raw, tt.status)
			} else if resp.StatusCode != 200 {
				t.Errorf("status %d, want 200: %s", resp.StatusCode, raw)
			}
		})
	}
	if diff := cmp.Diff(st, srv.State()); diff != "" {
		t.Errorf("state changed (-want +got):\n%s", diff)
	}
}

// manyTokens is testState plus n organization tokens "tok-NN"; tok-00 and
// tok-01 share a createdAt, so id breaks the tie.
func manyTokens(n int) *State {
	st := testState()
	st.Tokens = nil
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		created := base.Add(time.Duration(n-i) * time.Minute) // reverse of id order
		if i <= 1 {
			created = base.Add(time.Hour)
		}
		st.Tokens = append(st.Tokens, Token{
			ID: fmt.Sprintf("tok-%02d", i), Name: fmt.Sprintf("bot-%02d", i%7), Scope: astroapi.ScopeOrganization,
			Description: fmt.Sprintf("d%02d", (i*5)%n), CreatedAt: created,
			Roles: []astroapi.Role{orgRole("ORGANIZATION_MEMBER")},
		})
	}
	return st
}

func TestPagination(t *testing.T) {
	_, base := NewTestServer(t, manyTokens(25), Options{RateLimits: NoRateLimit})
	url := base + "/organizations/" + org + "/tokens"
	// Default order: createdAt (tok-24 oldest ... tok-02), then tok-00, tok-01 (same createdAt, by id).
	var order []string
	for i := 24; i >= 2; i-- {
		order = append(order, fmt.Sprintf("tok-%02d", i))
	}
	order = append(order, "tok-00", "tok-01")
	tests := []struct {
		query              string
		ids                []string
		offset, limit, tot int
	}{
		{"", order[:20], 0, 20, 25},
		{"?offset=20", order[20:], 20, 20, 25},
		{"?offset=3&limit=4", order[3:7], 3, 4, 25},
		{"?offset=25", []string{}, 25, 20, 25},
		{"?offset=99", []string{}, 99, 20, 25},
		{"?limit=1000", order, 0, 1000, 25},
		{"?limit=1", order[:1], 0, 1, 25},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[tokenPage](t, url+tt.query)
			want := tokenPage{TotalCount: tt.tot, Offset: tt.offset, Limit: tt.limit}
			if diff := cmp.Diff(tt.ids, tokenIDs(got.Tokens)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			got.Tokens = nil
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("envelope (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("drain", func(t *testing.T) {
		var ids []string
		for offset := 0; ; {
			page := get[tokenPage](t, fmt.Sprintf("%s?offset=%d&limit=7", url, offset))
			if len(page.Tokens) == 0 {
				break
			}
			ids = append(ids, tokenIDs(page.Tokens)...)
			offset += len(page.Tokens)
			if offset >= page.TotalCount {
				break
			}
		}
		if diff := cmp.Diff(order, ids); diff != "" {
			t.Errorf("drained ids (-want +got):\n%s", diff)
		}
	})
}

func TestPaginationInvalidParamsAnswer400NotClamp(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	tests := []struct {
		path   string
		fields []string
	}{
		{"/tokens?limit=0", []string{"limit min"}},
		{"/tokens?limit=-5", []string{"limit min"}},
		{"/tokens?limit=1001", []string{"limit max"}},
		{"/tokens?limit=ten", []string{"limit integer"}},
		{"/tokens?limit=%2B5", []string{"limit integer"}},
		{"/tokens?limit=", []string{"limit required"}},
		{"/tokens?offset=-1", []string{"offset min"}},
		{"/tokens?offset=1.5", []string{"offset integer"}},
		{"/tokens?offset=-1&limit=2000", []string{"offset min", "limit max"}},
		{"/tokens?limit=10&limit=20", []string{"limit single"}},
		{"/deployments?limit=1001", []string{"limit max"}},
		{"/workspaces?offset=x", []string{"offset integer"}},
		{"/roles?limit=0", []string{"limit min"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, raw := fetch(t, http.MethodGet, o+tt.path, bearer, "")
			body := wantError(t, resp, raw, 400)
			if diff := cmp.Diff(tt.fields, fieldsOf(body.FieldErrors)); diff != "" {
				t.Errorf("fieldErrors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaxPageSizeGivesShortPagesMidList(t *testing.T) {
	_, base := NewTestServer(t, manyTokens(10), Options{RateLimits: NoRateLimit, MaxPageSize: 3})
	url := base + "/organizations/" + org + "/tokens?limit=5"
	page := get[tokenPage](t, url)
	if len(page.Tokens) != 3 || page.Limit != 5 || page.TotalCount != 10 {
		t.Fatalf("page: %d tokens, limit %d, totalCount %d; want 3, 5, 10", len(page.Tokens), page.Limit, page.TotalCount)
	}
	seen := map[string]bool{}
	for offset := 0; offset < 10; {
		page := get[tokenPage](t, fmt.Sprintf("%s&offset=%d", url, offset))
		if len(page.Tokens) == 0 {
			t.Fatalf("empty page at offset %d", offset)
		}
		for _, tok := range page.Tokens {
			seen[tok.ID] = true
		}
		offset += len(page.Tokens)
	}
	if len(seen) != 10 {
		t.Errorf("drained %d distinct tokens, want 10", len(seen))
	}
}

func TestSorts(t *testing.T) {
	srv, base := NewTestServer(t, manyTokens(6), Options{RateLimits: NoRateLimit})
	// tok-03 is written last, so it is the most recently updated.
	if err := srv.SetTokenRoles("tok-03", []astroapi.Role{orgRole("ORGANIZATION_OWNER")}); err != nil {
		t.Fatal(err)
	}
	o := base + "/organizations/" + org
	// names: bot-00..bot-05; descriptions d00 d05 d04 d03 d02 d01 (i*5 mod 6).
	tests := []struct {
		query string
		want  []string
	}{
		{"sorts=name:asc", []string{"tok-00", "tok-01", "tok-02", "tok-03", "tok-04", "tok-05"}},
		{"sorts=name:desc", []string{"tok-05", "tok-04", "tok-03", "tok-02", "tok-01", "tok-00"}},
		{"sorts=description:asc", []string{"tok-00", "tok-05", "tok-04", "tok-03", "tok-02", "tok-01"}},
		{"sorts=createdAt:asc", []string{"tok-05", "tok-04", "tok-03", "tok-02", "tok-00", "tok-01"}},
		{"sorts=createdAt:desc", []string{"tok-00", "tok-01", "tok-02", "tok-03", "tok-04", "tok-05"}},
		{"sorts=updatedAt:desc&sorts=name:asc", []string{"tok-03", "tok-00", "tok-01", "tok-02", "tok-04", "tok-05"}},
		{"sorts=tokenStartAt:asc", []string{"tok-05", "tok-04", "tok-03", "tok-02", "tok-00", "tok-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[tokenPage](t, o+"/tokens?"+tt.query)
			if diff := cmp.Diff(tt.want, tokenIDs(got.Tokens)); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("deployments by name desc", func(t *testing.T) {
		got := get[struct{ Deployments []astroapi.Deployment }](t, o+"/deployments?sorts=name:desc")
		var ids []string
		for _, d := range got.Deployments {
			ids = append(ids, d.ID)
		}
		// staging, then the two "prod" by createdAt (file order).
		if diff := cmp.Diff([]string{"dep-a2", "dep-a1", "dep-b1"}, ids); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
	})
}

func TestUnknownSortFieldAnswers400(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	for _, path := range []string{
		"/tokens?sorts=color:asc",
		"/tokens?sorts=name:up",
		"/tokens?sorts=name",
		"/tokens?sorts=name:ASC",
		"/tokens?sorts=name:asc&sorts=scope:asc",
		"/deployments?sorts=description:asc",
		"/workspaces?sorts=tokenStartAt:asc",
	} {
		t.Run(path, func(t *testing.T) {
			resp, raw := fetch(t, http.MethodGet, o+path, bearer, "")
			body := wantError(t, resp, raw, 400)
			if diff := cmp.Diff([]string{"sorts oneof"}, fieldsOf(body.FieldErrors)); diff != "" {
				t.Errorf("fieldErrors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnknownOrMalformedQueryParameterAnswers400(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	tests := []struct {
		path   string
		fields []string
	}{
		{"/tokens?workspaceID=ws-a", []string{"workspaceID unknown"}},
		{"/tokens?workspaceId=ws-a&workspaceId=ws-b", []string{"workspaceId single"}},
		{"/tokens?deploymentId=", []string{"deploymentId required"}},
		{"/tokens?includeOnlyOrganizationTokens=yes", []string{"includeOnlyOrganizationTokens boolean"}},
		{"/tokens?q=%zz", []string{"query invalid"}},
		{"/tokens/tok-ws-a?verbose=true", []string{"verbose unknown"}},
		{"/deployments?workspaceId=ws-a", []string{"workspaceId unknown"}},
		{"/deployments?names=", []string{"names required"}},
		{"/workspaces?deploymentIds=dep-a1", []string{"deploymentIds unknown"}},
		{"/roles?scopeTypes=CLUSTER", []string{"scopeTypes oneof"}},
		{"/roles?includeDefaultRoles=1", []string{"includeDefaultRoles boolean"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, raw := fetch(t, http.MethodGet, o+tt.path, bearer, "")
			body := wantError(t, resp, raw, 400)
			if diff := cmp.Diff(tt.fields, fieldsOf(body.FieldErrors)); diff != "" {
				t.Errorf("fieldErrors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTokenFilterHoldersWhateverScopeInferred: deploymentId and workspaceId
// return every token holding a role on that entity, whatever its scope
// (inferred from the Astro CLI, which filters by scope on its side); a
// DAG or DAG_TAG role on a deployment counts as holding a role on it.
func TestTokenFilterHoldersWhateverScopeInferred(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	url := base + "/organizations/" + org + "/tokens?"
	tests := []struct {
		query string
		want  []string
	}{
		{"deploymentId=dep-a1", []string{"tok-ws-a", "tok-org"}},
		{"deploymentId=dep-a2", []string{"tok-dep", "tok-dag"}},
		{"deploymentId=dep-b1", []string{"tok-ws-b"}},
		{"workspaceId=ws-a", []string{"tok-ws-a", "tok-dag"}},
		{"workspaceId=ws-b", []string{"tok-ws-b", "tok-org"}},
		{"workspaceId=ws-b&includeOnlyOrganizationTokens=true", []string{"tok-org"}},
		{"workspaceId=ws-a&deploymentId=dep-a1", []string{"tok-ws-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[tokenPage](t, url+tt.query)
			if diff := cmp.Diff(tt.want, tokenIDs(got.Tokens)); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
			if got.TotalCount != len(tt.want) {
				t.Errorf("totalCount %d, want %d", got.TotalCount, len(tt.want))
			}
		})
	}
}

func TestIncludeOnlyOrganizationTokens(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	url := base + "/organizations/" + org + "/tokens"
	tests := []struct {
		query string
		want  []string
	}{
		{"?includeOnlyOrganizationTokens=true", []string{"tok-org"}},
		{"?includeOnlyOrganizationTokens=false", []string{"tok-ws-a", "tok-ws-b", "tok-org", "tok-dep", "tok-dag"}},
		{"", []string{"tok-ws-a", "tok-ws-b", "tok-org", "tok-dep", "tok-dag"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[tokenPage](t, url+tt.query)
			if diff := cmp.Diff(tt.want, tokenIDs(got.Tokens)); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFilterUnknownIDMatchesNothingInferred: a filter on an id that does
// not exist answers an empty list, not an error (inferred).
func TestFilterUnknownIDMatchesNothingInferred(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	for _, path := range []string{"/tokens?workspaceId=ws-zz", "/tokens?deploymentId=dep-zz", "/deployments?deploymentIds=dep-zz", "/workspaces?workspaceIds=ws-zz"} {
		t.Run(path, func(t *testing.T) {
			got := get[map[string]json.RawMessage](t, o+path)
			if string(got["totalCount"]) != "0" {
				t.Errorf("totalCount %s, want 0", got["totalCount"])
			}
		})
	}
}

func TestDeploymentFilters(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	url := base + "/organizations/" + org + "/deployments"
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"dep-a1", "dep-a2", "dep-b1"}},
		{"?workspaceIds=ws-a", []string{"dep-a1", "dep-a2"}},
		{"?workspaceIds=ws-a&workspaceIds=ws-b", []string{"dep-a1", "dep-a2", "dep-b1"}},
		{"?names=prod", []string{"dep-a1", "dep-b1"}},
		{"?names=prod&workspaceIds=ws-b", []string{"dep-b1"}},
		{"?deploymentIds=dep-a2&deploymentIds=dep-b1", []string{"dep-a2", "dep-b1"}},
		{"?deploymentIds=dep-a2&names=prod", []string{}},
		{"?names=Prod", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[struct {
				Deployments []astroapi.Deployment `json:"deployments"`
				TotalCount  int                   `json:"totalCount"`
			}](t, url+tt.query)
			ids := []string{}
			for _, d := range got.Deployments {
				ids = append(ids, d.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("deployments (-want +got):\n%s", diff)
			}
			if got.TotalCount != len(tt.want) {
				t.Errorf("totalCount %d, want %d", got.TotalCount, len(tt.want))
			}
		})
	}
}

func TestWorkspaceFilters(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	url := base + "/organizations/" + org + "/workspaces"
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"ws-a", "ws-b"}},
		{"?workspaceIds=ws-b", []string{"ws-b"}},
		{"?names=alpha&names=beta", []string{"ws-a", "ws-b"}},
		{"?names=alpha&workspaceIds=ws-b", []string{}},
		{"?limit=1&offset=1", []string{"ws-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[struct {
				Workspaces []astroapi.Workspace `json:"workspaces"`
			}](t, url+tt.query)
			ids := []string{}
			for _, w := range got.Workspaces {
				ids = append(ids, w.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("workspaces (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRolesEndpoint(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	url := base + "/organizations/" + org + "/roles"
	allDefaults := []string{
		"ORGANIZATION_OWNER", "ORGANIZATION_BILLING_ADMIN", "ORGANIZATION_MEMBER", "ORGANIZATION_OBSERVE_ADMIN", "ORGANIZATION_OBSERVE_MEMBER",
		"WORKSPACE_OWNER", "WORKSPACE_OPERATOR", "WORKSPACE_AUTHOR", "WORKSPACE_MEMBER", "WORKSPACE_ACCESSOR",
		"DEPLOYMENT_ADMIN", "DEPLOYMENT_ACCESSOR", "DAG_VIEWER", "DAG_AUTHOR",
	}
	tests := []struct {
		query        string
		custom       []string
		defaults     []string // nil: no defaultRoles key
		total, limit int
	}{
		{"", []string{"DAG_DEPLOYER", "DEPLOYMENT_VIEWER", "WORKSPACE_AUDITOR", "DAG_RUNNER"}, nil, 4, 20},
		{"?includeDefaultRoles=true", []string{"DAG_DEPLOYER", "DEPLOYMENT_VIEWER", "WORKSPACE_AUDITOR", "DAG_RUNNER"}, allDefaults, 4, 20},
		{"?scopeTypes=DEPLOYMENT&includeDefaultRoles=true", []string{"DAG_DEPLOYER", "DEPLOYMENT_VIEWER"}, []string{"DEPLOYMENT_ADMIN", "DEPLOYMENT_ACCESSOR"}, 2, 20},
		{"?scopeTypes=DAG&includeDefaultRoles=true", []string{"DAG_RUNNER"}, []string{"DAG_VIEWER", "DAG_AUTHOR"}, 1, 20},
		{"?scopeTypes=DAG&scopeTypes=DEPLOYMENT", []string{"DAG_DEPLOYER", "DEPLOYMENT_VIEWER", "DAG_RUNNER"}, nil, 3, 20},
		{"?scopeTypes=WORKSPACE&scopeTypes=ORGANIZATION", []string{"WORKSPACE_AUDITOR"}, nil, 1, 20},
		{"?limit=1&offset=1&includeDefaultRoles=true&scopeTypes=DEPLOYMENT", []string{"DEPLOYMENT_VIEWER"}, []string{"DEPLOYMENT_ADMIN", "DEPLOYMENT_ACCESSOR"}, 2, 1},
		{"?scopeTypes=ORGANIZATION&includeDefaultRoles=true", []string{}, allDefaults[:5], 0, 20},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get[map[string]json.RawMessage](t, url+tt.query)
			var custom []astroapi.CustomRole
			if err := json.Unmarshal(got["roles"], &custom); err != nil {
				t.Fatal(err)
			}
			names := []string{}
			for _, r := range custom {
				names = append(names, r.Name)
				if r.ID == "" || r.RestrictedWorkspaceIDs == nil || r.CreatedAt.IsZero() {
					t.Errorf("custom role %+v: want an id, restrictedWorkspaceIds and createdAt", r)
				}
			}
			if diff := cmp.Diff(tt.custom, names); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
			raw, ok := got["defaultRoles"]
			if tt.defaults == nil {
				if ok {
					t.Errorf("defaultRoles present without includeDefaultRoles=true: %s", raw)
				}
			} else {
				var defaults []astroapi.DefaultRole
				if err := json.Unmarshal(raw, &defaults); err != nil {
					t.Fatal(err)
				}
				names := []string{}
				for _, d := range defaults {
					names = append(names, d.Name)
				}
				if diff := cmp.Diff(tt.defaults, names); diff != "" {
					t.Errorf("defaultRoles (-want +got):\n%s", diff)
				}
			}
			if want := fmt.Sprint(tt.total); string(got["totalCount"]) != want {
				t.Errorf("totalCount %s, want %s (custom roles only)", got["totalCount"], want)
			}
			if want := fmt.Sprint(tt.limit); string(got["limit"]) != want {
				t.Errorf("limit %s, want %s", got["limit"], want)
			}
		})
	}
}

// keys returns the sorted keys of a raw JSON object.
func keys(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestTokenJSONShapeHasNoSecret(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	wantKeys := []string{"createdAt", "createdBy", "description", "id", "kind", "name", "roles", "scope", "shortToken", "startAt", "updatedAt", "updatedBy"}

	resp, raw := fetch(t, http.MethodGet, o+"/tokens/tok-ws-b", bearer, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET token: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	if diff := cmp.Diff(wantKeys, keys(t, raw)); diff != "" {
		t.Errorf("GET token keys (-want +got):\n%s", diff)
	}
	tok := decode[astroapi.Token](t, raw)
	if tok.Description != "" || !strings.Contains(string(raw), `"description":""`) {
		t.Errorf("description: want \"\" when unset: %s", raw)
	}
	if tok.Kind != "STANDARD" || tok.Scope != "WORKSPACE" || tok.ShortToken == "" || tok.StartAt == nil ||
		tok.CreatedBy == nil || tok.UpdatedBy == nil || tok.CreatedAt.IsZero() || tok.UpdatedAt.Before(tok.CreatedAt) {
		t.Errorf("token %+v: want kind STANDARD, scope, shortToken, startAt, createdBy, updatedBy, times", tok)
	}

	_, raw = fetch(t, http.MethodGet, o+"/tokens", bearer, "")
	var list struct{ Tokens []json.RawMessage }
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	for _, item := range list.Tokens {
		if diff := cmp.Diff(wantKeys, keys(t, item)); diff != "" {
			t.Errorf("list item keys (-want +got):\n%s", diff)
		}
	}
	if strings.Contains(string(raw), `"token"`) {
		t.Errorf("the list has a token field: %s", raw)
	}
}

func TestDeploymentAndWorkspaceJSONShape(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	deps := get[struct{ Deployments []astroapi.Deployment }](t, o+"/deployments?deploymentIds=dep-b1")
	d := deps.Deployments[0]
	if d.WorkspaceID != "ws-b" || d.WorkspaceName != "beta" || d.OrganizationID != org || d.Namespace == "" || d.Status == "" || d.CreatedAt.IsZero() {
		t.Errorf("deployment %+v lacks fields", d)
	}
	wss := get[struct{ Workspaces []astroapi.Workspace }](t, o+"/workspaces?workspaceIds=ws-a")
	w := wss.Workspaces[0]
	if w.Name != "alpha" || w.Description != "first" || w.OrganizationID != org || w.CreatedAt.IsZero() {
		t.Errorf("workspace %+v lacks fields", w)
	}
}

func TestPostRolesReplacesWholeList(t *testing.T) {
	srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	url := base + "/organizations/" + org + "/tokens/tok-ws-a"
	before := get[astroapi.Token](t, url)

	newRoles := []astroapi.Role{
		wsRole("ws-a", "WORKSPACE_AUTHOR"),
		depRole("dep-a2", "DAG_DEPLOYER"),
		dagRole("etl", "DAG_RUNNER", "dep-a1"),
		{EntityType: astroapi.EntityDAGTag, EntityID: "finance", Role: "DAG_VIEWER", DeploymentID: "dep-a2"},
	}
	// The DAG role on dep-a1, where the token holds no deployment role,
	// brings no DEPLOYMENT_ACCESSOR (inferred).
	stored := newRoles
	resp, raw := fetch(t, http.MethodPost, url+"/roles", bearer, rolesBody(newRoles...))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("POST roles: %d %s", resp.StatusCode, raw)
	}
	wantSubject := astroapi.SubjectRoles{
		WorkspaceRoles:  []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_AUTHOR"}},
		DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep-a2", Role: "DAG_DEPLOYER"}},
	}
	if diff := cmp.Diff(wantSubject, decode[astroapi.SubjectRoles](t, raw)); diff != "" {
		t.Errorf("SubjectRoles (-want +got):\n%s", diff)
	}
	after := get[astroapi.Token](t, url)
	if diff := cmp.Diff(stored, after.Roles); diff != "" {
		t.Errorf("roles after POST (-want +got):\n%s", diff)
	}
	if !after.UpdatedAt.After(before.UpdatedAt) || !after.CreatedAt.Equal(before.CreatedAt) {
		t.Errorf("updatedAt %v -> %v, createdAt %v -> %v: want updatedAt later, createdAt kept", before.UpdatedAt, after.UpdatedAt, before.CreatedAt, after.CreatedAt)
	}
	if after.UpdatedBy == nil || after.UpdatedBy.SubjectType != "SERVICEKEY" {
		t.Errorf("updatedBy %+v, want the API token that wrote", after.UpdatedBy)
	}

	// The same list again is applied too, and counted.
	resp, raw = fetch(t, http.MethodPost, url+"/roles", bearer, rolesBody(newRoles...))
	if resp.StatusCode != 200 {
		t.Fatalf("second POST: %d %s", resp.StatusCode, raw)
	}
	again := get[astroapi.Token](t, url)
	if !again.UpdatedAt.After(after.UpdatedAt) {
		t.Errorf("updatedAt not bumped by an unchanged write")
	}
	if got := srv.Stats().RoleWrites; !cmp.Equal(got, map[string]int{"tok-ws-a": 2}) {
		t.Errorf("RoleWrites %v, want tok-ws-a: 2", got)
	}
	// Other tokens are untouched.
	want := testState().Tokens[1:]
	if diff := cmp.Diff(want, srv.State().Tokens[1:]); diff != "" {
		t.Errorf("other tokens changed (-want +got):\n%s", diff)
	}
}

// TestPostRoles400 checks every rejection of POST /tokens/{id}/roles; the
// scope rules are the Terraform provider's, enforced by the API
// (inferred), including: a WORKSPACE token may hold DEPLOYMENT roles only
// in its own workspace (inferred) and two entries for one entity are
// rejected (inferred).
func TestPostRoles400(t *testing.T) {
	ws := func(ws, role string) astroapi.Role { return wsRole(ws, role) }
	tests := []struct {
		name   string
		token  string
		body   string
		fields []string
	}{
		{"malformed JSON", "tok-ws-a", `{"roles": [`, []string{"body invalid_json"}},
		{"empty body", "tok-ws-a", ``, []string{"body required"}},
		{"not an object", "tok-ws-a", `[]`, []string{"body type"}},
		{"null", "tok-ws-a", `null`, []string{"body type"}},
		// encoding/json would take these for roles and role: the API's
		// field names are exact.
		{"a field name in another case", "tok-ws-a", `{"Roles": [{"entityType":"WORKSPACE","entityId":"ws-a","role":"WORKSPACE_MEMBER"}]}`, []string{"Roles unknown"}},
		{"a role field name in another case", "tok-ws-a", `{"roles": [{"entityType":"WORKSPACE","entityId":"ws-a","role":"WORKSPACE_MEMBER","ROLE":"WORKSPACE_OWNER"}]}`, []string{"ROLE unknown"}},
		{"trailing data", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER")) + `{}`, []string{"body invalid_json"}},
		{"unknown field", "tok-ws-a", `{"roles": [], "replace": true}`, []string{"body invalid_json"}},
		{"unknown role field", "tok-ws-a", `{"roles": [{"entityType":"WORKSPACE","entityId":"ws-a","role":"WORKSPACE_MEMBER","scope":"x"}]}`, []string{"body invalid_json"}},
		{"roles of the wrong type", "tok-ws-a", `{"roles": "WORKSPACE_MEMBER"}`, []string{"roles type"}},
		{"missing roles", "tok-ws-a", `{}`, []string{"roles required"}},
		{"null roles", "tok-ws-a", `{"roles": null}`, []string{"roles required"}},
		{"empty list", "tok-ws-a", `{"roles": []}`, []string{"roles min"}},
		{"missing own WORKSPACE role", "tok-ws-a", rolesBody(depRole("dep-a1", "DEPLOYMENT_ADMIN")),
			[]string{"roles own_scope_role"}},
		{"second own WORKSPACE role", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), ws("ws-a", "WORKSPACE_OWNER")),
			[]string{"roles[1] duplicate"}},
		{"own WORKSPACE role moved to another workspace", "tok-ws-a", rolesBody(ws("ws-b", "WORKSPACE_MEMBER")),
			[]string{"roles[0] scope", "roles own_scope_role"}},
		{"ORGANIZATION role on a WORKSPACE token", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), orgRole("ORGANIZATION_MEMBER")),
			[]string{"roles[1] scope"}},
		{"role on another workspace for a WORKSPACE token", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), ws("ws-b", "WORKSPACE_MEMBER")),
			[]string{"roles[1] scope"}},
		{"DEPLOYMENT role of a WORKSPACE token in another workspace (inferred)", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), depRole("dep-b1", "DEPLOYMENT_ADMIN")),
			[]string{"roles[1] scope"}},
		{"DAG role of a WORKSPACE token in another workspace (inferred)", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_VIEWER", "dep-b1")),
			[]string{"roles[1] scope"}},
		{"missing own ORGANIZATION role", "tok-org", rolesBody(depRole("dep-a1", "DEPLOYMENT_ADMIN")),
			[]string{"roles own_scope_role"}},
		{"second ORGANIZATION role", "tok-org", rolesBody(orgRole("ORGANIZATION_MEMBER"), orgRole("ORGANIZATION_OWNER")),
			[]string{"roles[1] duplicate"}},
		{"ORGANIZATION role on another organization", "tok-org", rolesBody(orgRole("ORGANIZATION_MEMBER"), astroapi.Role{EntityType: "ORGANIZATION", EntityID: "clx0other", Role: "ORGANIZATION_MEMBER"}),
			[]string{"roles[1].entityId not_found"}},
		{"DEPLOYMENT token role on another deployment", "tok-dep", rolesBody(depRole("dep-a2", "DEPLOYMENT_ADMIN"), depRole("dep-a1", "DEPLOYMENT_ADMIN")),
			[]string{"roles[1] scope"}},
		{"DEPLOYMENT token role on its workspace", "tok-dep", rolesBody(depRole("dep-a2", "DEPLOYMENT_ADMIN"), ws("ws-a", "WORKSPACE_MEMBER")),
			[]string{"roles[1] scope"}},
		{"DEPLOYMENT token without its own role", "tok-dep", rolesBody(dagRole("etl", "DAG_VIEWER", "dep-a2")),
			[]string{"roles own_scope_role"}},
		{"role that does not fit its entity", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "WORKSPACE_OWNER")),
			[]string{"roles[1].role role_entity"}},
		{"deployment role on a workspace", "tok-org", rolesBody(orgRole("ORGANIZATION_MEMBER"), ws("ws-a", "DEPLOYMENT_ADMIN")),
			[]string{"roles[1].role role_entity"}},
		{"unknown deployment", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), depRole("dep-zz", "DEPLOYMENT_ADMIN")),
			[]string{"roles[1].entityId not_found"}},
		{"unknown workspace", "tok-org", rolesBody(orgRole("ORGANIZATION_MEMBER"), ws("ws-zz", "WORKSPACE_MEMBER")),
			[]string{"roles[1].entityId not_found"}},
		{"unknown role name", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "DEPLOYMENT_ADMN")),
			[]string{"roles[1].role not_found"}},
		{"custom role name in the wrong case", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "dag_deployer")),
			[]string{"roles[1].role not_found"}},
		{"custom WORKSPACE role on a deployment", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "WORKSPACE_AUDITOR")),
			[]string{"roles[1].role role_entity"}},
		{"custom role restricted to other workspaces", "tok-org", rolesBody(orgRole("ORGANIZATION_MEMBER"), depRole("dep-b1", "DAG_DEPLOYER")),
			[]string{"roles[1].role restricted"}},
		{"two entries for one deployment (inferred)", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "DEPLOYMENT_ADMIN"), depRole("dep-a1", "DEPLOYMENT_VIEWER")),
			[]string{"roles[2] duplicate"}},
		{"unknown entity type", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), astroapi.Role{EntityType: "CLUSTER", EntityID: "c", Role: "x"}),
			[]string{"roles[1].entityType oneof"}},
		{"lower-case entity type", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), astroapi.Role{EntityType: "deployment", EntityID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}),
			[]string{"roles[1].entityType oneof"}},
		{"missing entity id", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), depRole("", "DEPLOYMENT_ADMIN")),
			[]string{"roles[1].entityId required"}},
		{"missing role", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "")),
			[]string{"roles[1].role required"}},
		{"DAG role without deploymentId", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_VIEWER", "")),
			[]string{"roles[1].deploymentId required"}},
		{"DAG role on an unknown deployment", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), dagRole("etl", "DAG_VIEWER", "dep-zz")),
			[]string{"roles[1].deploymentId not_found"}},
		{"deploymentId on a DEPLOYMENT role", "tok-ws-a", rolesBody(ws("ws-a", "WORKSPACE_MEMBER"), astroapi.Role{EntityType: "DEPLOYMENT", EntityID: "dep-a1", Role: "DEPLOYMENT_ADMIN", DeploymentID: "dep-a1"}),
			[]string{"roles[1].deploymentId forbidden"}},
		{"every error at once", "tok-ws-a", rolesBody(depRole("dep-zz", "DEPLOYMENT_ADMIN"), depRole("dep-a1", "WORKSPACE_OWNER"), orgRole("ORGANIZATION_MEMBER")),
			[]string{"roles[0].entityId not_found", "roles[1].role role_entity", "roles[2] scope", "roles own_scope_role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
			resp, raw := fetch(t, http.MethodPost, base+"/organizations/"+org+"/tokens/"+tt.token+"/roles", bearer, tt.body)
			body := wantError(t, resp, raw, 400)
			if diff := cmp.Diff(tt.fields, fieldsOf(body.FieldErrors)); diff != "" {
				t.Errorf("fieldErrors (-want +got):\n%s\n%s", diff, raw)
			}
			if diff := cmp.Diff(testState(), srv.State()); diff != "" {
				t.Errorf("state changed (-want +got):\n%s", diff)
			}
			if w := srv.Stats().RoleWrites; len(w) != 0 {
				t.Errorf("RoleWrites %v, want none", w)
			}
		})
	}
}

// TestBuiltinRoleCaseInsensitiveInferredTerraformIssue195: built-in role
// names are accepted in any case and stored upper case, as users of the
// Terraform provider report (issue 195). Custom role names are exact.
func TestBuiltinRoleCaseInsensitiveInferredTerraformIssue195(t *testing.T) {
	srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	url := base + "/organizations/" + org + "/tokens/tok-ws-a"
	resp, raw := fetch(t, http.MethodPost, url+"/roles", bearer,
		rolesBody(wsRole("ws-a", "workspace_member"), depRole("dep-a1", "Deployment_Admin"), dagRole("etl", "dag_viewer", "dep-a1")))
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %d %s", resp.StatusCode, raw)
	}
	wantSubject := astroapi.SubjectRoles{
		WorkspaceRoles:  []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: "WORKSPACE_MEMBER"}},
		DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: "DEPLOYMENT_ADMIN"}},
	}
	if diff := cmp.Diff(wantSubject, decode[astroapi.SubjectRoles](t, raw)); diff != "" {
		t.Errorf("SubjectRoles (-want +got):\n%s", diff)
	}
	want := []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "DEPLOYMENT_ADMIN"), dagRole("etl", "DAG_VIEWER", "dep-a1")}
	if diff := cmp.Diff(want, get[astroapi.Token](t, url).Roles); diff != "" {
		t.Errorf("stored roles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, srv.State().Tokens[0].Roles); diff != "" {
		t.Errorf("state roles (-want +got):\n%s", diff)
	}
}

func TestDeleteTokenAnswers204Then404(t *testing.T) {
	srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	url := base + "/organizations/" + org + "/tokens/tok-dep"
	resp, raw := fetch(t, http.MethodDelete, url, bearer, "")
	if resp.StatusCode != 204 || len(raw) != 0 {
		t.Fatalf("DELETE: %d %q, want 204 without a body", resp.StatusCode, raw)
	}
	resp, raw = fetch(t, http.MethodGet, url, bearer, "")
	wantError(t, resp, raw, 404)
	resp, raw = fetch(t, http.MethodDelete, url, bearer, "")
	wantError(t, resp, raw, 404)
	resp, raw = fetch(t, http.MethodPost, url+"/roles", bearer, rolesBody(depRole("dep-a2", "DEPLOYMENT_ADMIN")))
	wantError(t, resp, raw, 404)
	list := get[tokenPage](t, base+"/organizations/"+org+"/tokens")
	if slices.Contains(tokenIDs(list.Tokens), "tok-dep") || list.TotalCount != 4 {
		t.Errorf("tokens after delete: %v (totalCount %d)", tokenIDs(list.Tokens), list.TotalCount)
	}
	if len(srv.State().Tokens) != 4 {
		t.Errorf("state still has %d tokens", len(srv.State().Tokens))
	}
}

// TestConcurrentWriteLastWriterWinsInferred: there is no ETag or version;
// a change made while a write is in flight is overwritten (inferred).
func TestConcurrentWriteLastWriterWinsInferred(t *testing.T) {
	var srv *Server
	concurrent := []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a2", "DEPLOYMENT_ADMIN")}
	var calls atomic.Int32
	srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit, BeforeRoleWrite: func(id string) {
		calls.Add(1)
		if err := srv.SetTokenRoles(id, concurrent); err != nil {
			t.Error(err)
		}
	}})
	url := base + "/organizations/" + org + "/tokens/tok-ws-a"
	mine := []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "DEPLOYMENT_VIEWER")}
	resp, raw := fetch(t, http.MethodPost, url+"/roles", bearer, rolesBody(mine...))
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %d %s", resp.StatusCode, raw)
	}
	if diff := cmp.Diff(mine, get[astroapi.Token](t, url).Roles); diff != "" {
		t.Errorf("roles (-want +got): the last writer must win:\n%s", diff)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("BeforeRoleWrite called %d times, want 1", n)
	}
	// The hook is not called for a request that fails validation.
	resp, raw = fetch(t, http.MethodPost, url+"/roles", bearer, `{"roles": []}`)
	wantError(t, resp, raw, 400)
	if calls.Load() != 1 {
		t.Errorf("BeforeRoleWrite called for an invalid request")
	}
}

// TestBeforeRoleWriteRevalidates: the hook runs without a lock, so the
// API keeps answering, and a change it makes is seen by the write.
func TestBeforeRoleWriteRevalidates(t *testing.T) {
	var srv *Server
	var base string
	srv, base = NewTestServer(t, testState(), Options{RateLimits: NoRateLimit, BeforeRoleWrite: func(id string) {
		// Reads work while the write waits; then the token disappears.
		get[astroapi.Token](t, base+"/organizations/"+org+"/tokens/"+id)
		resp, raw := fetch(t, http.MethodDelete, base+"/organizations/"+org+"/tokens/"+id, bearer, "")
		if resp.StatusCode != 204 {
			t.Errorf("DELETE in hook: %d %s", resp.StatusCode, raw)
		}
	}})
	resp, raw := fetch(t, http.MethodPost, base+"/organizations/"+org+"/tokens/tok-ws-a/roles", bearer, rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER")))
	wantError(t, resp, raw, 404)
	if w := srv.Stats().RoleWrites; len(w) != 0 {
		t.Errorf("RoleWrites %v, want none", w)
	}
}

func TestSetTokenRolesValidates(t *testing.T) {
	srv := NewServer(testState(), Options{})
	err := srv.SetTokenRoles("tok-ws-a", []astroapi.Role{depRole("dep-b1", "DEPLOYMENT_ADMIN")})
	if err == nil || !strings.Contains(err.Error(), "own workspace") {
		t.Errorf("SetTokenRoles = %v, want a scope error", err)
	}
	if err := srv.SetTokenRoles("nope", []astroapi.Role{orgRole("ORGANIZATION_MEMBER")}); err == nil {
		t.Errorf("SetTokenRoles on an unknown token succeeded")
	}
}
