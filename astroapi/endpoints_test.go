package astroapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	t0 = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

func TestEndpoints(t *testing.T) {
	token := Token{
		ID: "tok1", Name: "ci-deployer", ShortToken: "abc", Scope: ScopeWorkspace, Kind: "STANDARD",
		StartAt: &t0, CreatedAt: t0, UpdatedAt: t1,
		CreatedBy: &Subject{ID: "u1", SubjectType: "USER", Username: "ann"},
		Roles: []Role{
			{EntityID: "ws1", EntityType: EntityWorkspace, Role: "WORKSPACE_MEMBER"},
			{EntityID: "dep1", EntityType: EntityDeployment, Role: RoleDeploymentAdmin},
			{EntityID: "dag1", EntityType: EntityDAG, Role: "DAG_VIEWER", DeploymentID: "dep1"},
		},
	}
	dep := Deployment{ID: "dep1", Name: "prod", WorkspaceID: "ws1", WorkspaceName: "data", OrganizationID: "o", Namespace: "ns", Status: "HEALTHY", CreatedAt: t0, UpdatedAt: t1}
	ws := Workspace{ID: "ws1", Name: "data", Description: "d", OrganizationID: "o", CreatedAt: t0, UpdatedAt: t1}
	custom := CustomRole{ID: "r1", Name: "DAG_DEPLOYER", ScopeType: "DEPLOYMENT", RestrictedWorkspaceIDs: []string{"ws1"}, CreatedAt: t0, UpdatedAt: t1}
	def := DefaultRole{Name: RoleDeploymentAdmin, Description: "admin", Permissions: []string{"deployment.get"}, ScopeType: "DEPLOYMENT"}
	subjectRoles := SubjectRoles{OrganizationRole: "ORGANIZATION_MEMBER", WorkspaceRoles: []WorkspaceRole{{WorkspaceID: "ws1", Role: "WORKSPACE_MEMBER"}}, DeploymentRoles: []DeploymentRole{{DeploymentID: "dep1", Role: RoleDeploymentAdmin}}}
	page := func(key string, items any) map[string]any {
		return map[string]any{key: items, "totalCount": 1, "offset": 0, "limit": 1000}
	}
	firstPage := url.Values{"offset": {"0"}, "limit": {"1000"}}
	with := func(v url.Values) url.Values {
		out := url.Values{"offset": {"0"}, "limit": {"1000"}}
		for k, vs := range v {
			out[k] = vs
		}
		return out
	}

	tests := []struct {
		name      string
		call      func(ctx context.Context, c *Client) (any, error)
		answer    any
		wantPath  string
		wantQuery url.Values
		wantBody  string // JSON, compared semantically; "" means no body
		method    string
		want      any
	}{
		{
			name:      "Tokens without filter",
			call:      func(ctx context.Context, c *Client) (any, error) { return c.Tokens(ctx, "o", TokenFilter{}) },
			answer:    page("tokens", []Token{token}),
			method:    "GET",
			wantPath:  "/v1/organizations/o/tokens",
			wantQuery: firstPage,
			want:      []Token{token},
		},
		{
			name: "Tokens with every filter",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Tokens(ctx, "o", TokenFilter{WorkspaceID: "ws1", DeploymentID: "dep1", IncludeOnlyOrganizationTokens: true, Sorts: []string{"name:asc", "createdAt:desc"}})
			},
			answer:   page("tokens", []Token{token}),
			method:   "GET",
			wantPath: "/v1/organizations/o/tokens",
			wantQuery: with(url.Values{
				"workspaceId": {"ws1"}, "deploymentId": {"dep1"}, "includeOnlyOrganizationTokens": {"true"},
				"sorts": {"name:asc", "createdAt:desc"},
			}),
			want: []Token{token},
		},
		{
			name:      "Token",
			call:      func(ctx context.Context, c *Client) (any, error) { return c.Token(ctx, "o", "tok1") },
			answer:    token,
			method:    "GET",
			wantPath:  "/v1/organizations/o/tokens/tok1",
			wantQuery: url.Values{},
			want:      token,
		},
		{
			name:      "Token with ids that need escaping",
			call:      func(ctx context.Context, c *Client) (any, error) { return c.Token(ctx, "o rg", "a/b?c") },
			answer:    Token{ID: "a/b?c", Roles: token.Roles},
			method:    "GET",
			wantPath:  "/v1/organizations/o%20rg/tokens/a%2Fb%3Fc",
			wantQuery: url.Values{},
			want:      Token{ID: "a/b?c", Roles: token.Roles},
		},
		{
			name: "SetTokenRoles",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SetTokenRoles(ctx, "o", "tok1", token.Roles)
			},
			answer:    subjectRoles,
			method:    "POST",
			wantPath:  "/v1/organizations/o/tokens/tok1/roles",
			wantQuery: url.Values{},
			wantBody: `{"roles":[
				{"entityId":"ws1","entityType":"WORKSPACE","role":"WORKSPACE_MEMBER"},
				{"entityId":"dep1","entityType":"DEPLOYMENT","role":"DEPLOYMENT_ADMIN"},
				{"entityId":"dag1","entityType":"DAG","role":"DAG_VIEWER","deploymentId":"dep1"}]}`,
			want: subjectRoles,
		},
		{
			name:      "Deployments without filter",
			call:      func(ctx context.Context, c *Client) (any, error) { return c.Deployments(ctx, "o", DeploymentFilter{}) },
			answer:    page("deployments", []Deployment{dep}),
			method:    "GET",
			wantPath:  "/v1/organizations/o/deployments",
			wantQuery: firstPage,
			want:      []Deployment{dep},
		},
		{
			name: "Deployments with every filter",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Deployments(ctx, "o", DeploymentFilter{DeploymentIDs: []string{"d1", "d2"}, WorkspaceIDs: []string{"w1", "w2"}, Names: []string{"a b", "c"}})
			},
			answer:    page("deployments", []Deployment{dep}),
			method:    "GET",
			wantPath:  "/v1/organizations/o/deployments",
			wantQuery: with(url.Values{"deploymentIds": {"d1", "d2"}, "workspaceIds": {"w1", "w2"}, "names": {"a b", "c"}}),
			want:      []Deployment{dep},
		},
		{
			name: "Workspaces with every filter",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Workspaces(ctx, "o", WorkspaceFilter{WorkspaceIDs: []string{"w1", "w2"}, Names: []string{"data", "ml"}})
			},
			answer:    page("workspaces", []Workspace{ws}),
			method:    "GET",
			wantPath:  "/v1/organizations/o/workspaces",
			wantQuery: with(url.Values{"workspaceIds": {"w1", "w2"}, "names": {"data", "ml"}}),
			want:      []Workspace{ws},
		},
		{
			name:      "Workspaces without filter",
			call:      func(ctx context.Context, c *Client) (any, error) { return c.Workspaces(ctx, "o", WorkspaceFilter{}) },
			answer:    page("workspaces", []Workspace{ws}),
			method:    "GET",
			wantPath:  "/v1/organizations/o/workspaces",
			wantQuery: firstPage,
			want:      []Workspace{ws},
		},
		{
			name: "Roles with default roles",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Roles(ctx, "o", RoleFilter{ScopeTypes: []string{"DEPLOYMENT", "WORKSPACE"}, IncludeDefaultRoles: true})
			},
			answer:    map[string]any{"roles": []CustomRole{custom}, "defaultRoles": []DefaultRole{def}, "totalCount": 1, "offset": 0, "limit": 1000},
			method:    "GET",
			wantPath:  "/v1/organizations/o/roles",
			wantQuery: with(url.Values{"scopeTypes": {"DEPLOYMENT", "WORKSPACE"}, "includeDefaultRoles": {"true"}}),
			want:      Roles{Custom: []CustomRole{custom}, Default: []DefaultRole{def}},
		},
		{
			name:      "Roles without filter",
			call:      func(ctx context.Context, c *Client) (any, error) { return c.Roles(ctx, "o", RoleFilter{}) },
			answer:    map[string]any{"roles": []CustomRole{custom}, "totalCount": 1, "offset": 0, "limit": 1000},
			method:    "GET",
			wantPath:  "/v1/organizations/o/roles",
			wantQuery: firstPage,
			want:      Roles{Custom: []CustomRole{custom}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
				writeJSON(w, http.StatusOK, tt.answer)
			})
			c := newTestClient(t, ts)
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			reqs := rec.all()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.wantPath {
				t.Errorf("request %s %s, want %s %s", r.Method, r.Path, tt.method, tt.wantPath)
			}
			if diff := cmp.Diff(tt.wantQuery, r.Query); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			if tt.wantBody == "" {
				if r.Body != "" {
					t.Errorf("body %q, want none", r.Body)
				}
				return
			}
			var want, gotBody any
			if err := json.Unmarshal([]byte(tt.wantBody), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(r.Body), &gotBody); err != nil {
				t.Fatalf("request body %q: %v", r.Body, err)
			}
			if diff := cmp.Diff(want, gotBody); diff != "" {
				t.Errorf("request body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		post      bool
		wantAuth  string
		wantUA    string
		wantCType string
	}{
		{name: "GET with defaults", wantAuth: "Bearer " + testSecret, wantUA: "tokensync/dev"},
		{name: "POST carries a JSON content type", post: true, wantAuth: "Bearer " + testSecret, wantUA: "tokensync/dev", wantCType: "application/json"},
		{name: "custom user agent", opts: []Option{WithUserAgent("tokensync/1.2.3")}, wantAuth: "Bearer " + testSecret, wantUA: "tokensync/1.2.3"},
		{name: "no credential sends no Authorization", opts: []Option{WithCredential("")}, wantUA: "tokensync/dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
				if r.Method == http.MethodPost {
					writeJSON(w, http.StatusOK, SubjectRoles{})
					return
				}
				writeJSON(w, http.StatusOK, Token{ID: "t"})
			})
			c := newTestClient(t, ts, tt.opts...)
			var err error
			if tt.post {
				_, err = c.SetTokenRoles(t.Context(), "o", "t", []Role{{EntityID: "w", EntityType: EntityWorkspace, Role: "WORKSPACE_MEMBER"}})
			} else {
				_, err = c.Token(t.Context(), "o", "t")
			}
			if err != nil {
				t.Fatal(err)
			}
			h := rec.all()[0].Header
			got := map[string]string{
				"Authorization": h.Get("Authorization"),
				"User-Agent":    h.Get("User-Agent"),
				"Accept":        h.Get("Accept"),
				"Content-Type":  h.Get("Content-Type"),
			}
			want := map[string]string{
				"Authorization": tt.wantAuth,
				"User-Agent":    tt.wantUA,
				"Accept":        "application/json",
				"Content-Type":  tt.wantCType,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

// listServer serves a list of n tokens under key "tokens", at most pageMax
// per page whatever the limit asked (a server may return short pages), with
// or without totalCount.
func listServer(n, pageMax int, withTotal bool) func(w http.ResponseWriter, r *http.Request, rec request, _ int) {
	return func(w http.ResponseWriter, r *http.Request, rec request, _ int) {
		offset, _ := strconv.Atoi(rec.Query.Get("offset"))
		limit, _ := strconv.Atoi(rec.Query.Get("limit"))
		end := min(offset+min(limit, pageMax), n)
		items := []Token{}
		for i := offset; i < end; i++ {
			items = append(items, Token{ID: fmt.Sprintf("tok%d", i)})
		}
		body := map[string]any{"tokens": items, "offset": offset, "limit": limit}
		if withTotal {
			body["totalCount"] = n
		}
		writeJSON(w, http.StatusOK, body)
	}
}

func TestPagination(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		pageMax     int
		pageSize    int
		withTotal   bool
		wantOffsets []string
	}{
		{name: "pages of one item", n: 3, pageMax: 1, pageSize: 1, withTotal: true, wantOffsets: []string{"0", "1", "2"}},
		{name: "short pages mid-list", n: 5, pageMax: 2, pageSize: 4, withTotal: true, wantOffsets: []string{"0", "2", "4"}},
		{name: "exact last page stops at totalCount", n: 4, pageMax: 1000, pageSize: 2, withTotal: true, wantOffsets: []string{"0", "2"}},
		{name: "one page holds all", n: 3, pageMax: 1000, pageSize: 1000, withTotal: true, wantOffsets: []string{"0"}},
		{name: "empty list", n: 0, pageMax: 1000, pageSize: 1000, withTotal: true, wantOffsets: []string{"0"}},
		{name: "without totalCount until an empty page", n: 3, pageMax: 2, pageSize: 1000, withTotal: false, wantOffsets: []string{"0", "2", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, rec := serve(t, listServer(tt.n, tt.pageMax, tt.withTotal))
			c := newTestClient(t, ts, WithPageSize(tt.pageSize))
			got, err := c.Tokens(t.Context(), "o", TokenFilter{Sorts: []string{"name:asc"}})
			if err != nil {
				t.Fatal(err)
			}
			var want []Token
			for i := range tt.n {
				want = append(want, Token{ID: fmt.Sprintf("tok%d", i)})
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
			var offsets []string
			for _, r := range rec.all() {
				offsets = append(offsets, r.Query.Get("offset"))
				if r.Query.Get("limit") != strconv.Itoa(tt.pageSize) {
					t.Errorf("limit = %q, want %d", r.Query.Get("limit"), tt.pageSize)
				}
				if diff := cmp.Diff([]string{"name:asc"}, r.Query["sorts"]); diff != "" {
					t.Errorf("sorts on every page (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tt.wantOffsets, offsets); diff != "" {
				t.Errorf("offsets asked (-want +got):\n%s", diff)
			}
			var paged []Token
			pages := 0
			err = c.TokenPages(t.Context(), "o", TokenFilter{Sorts: []string{"name:asc"}}, func(page []Token) error {
				pages++
				paged = append(paged, page...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, paged, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("TokenPages (-want +got):\n%s", diff)
			}
			if pages != len(tt.wantOffsets) {
				t.Errorf("TokenPages handed over %d pages, want %d", pages, len(tt.wantOffsets))
			}
		})
	}
}

// TestPagesStopOnError checks that an error of each ends the list: no
// page is asked for after it, and the error comes back as it is.
func TestPagesStopOnError(t *testing.T) {
	stop := errors.New("enough")
	ts, rec := serve(t, listServer(5, 1, true))
	c := newTestClient(t, ts, WithPageSize(1))
	var seen []string
	err := c.TokenPages(t.Context(), "o", TokenFilter{}, func(page []Token) error {
		for _, tok := range page {
			seen = append(seen, tok.ID)
		}
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("TokenPages = %v, want the error of each", err)
	}
	if n := rec.count(); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
}

func TestRolesPagination(t *testing.T) {
	def := []DefaultRole{{Name: RoleDeploymentAdmin, ScopeType: "DEPLOYMENT"}}
	ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, rec request, _ int) {
		offset, _ := strconv.Atoi(rec.Query.Get("offset"))
		var roles []CustomRole
		if offset < 3 {
			roles = []CustomRole{{ID: fmt.Sprintf("r%d", offset), Name: fmt.Sprintf("ROLE_%d", offset)}}
		}
		// Every page repeats the default roles; only the first page counts.
		writeJSON(w, http.StatusOK, map[string]any{"roles": roles, "defaultRoles": def, "totalCount": 3, "offset": offset, "limit": 1})
	})
	c := newTestClient(t, ts, WithPageSize(1))
	got, err := c.Roles(t.Context(), "o", RoleFilter{IncludeDefaultRoles: true})
	if err != nil {
		t.Fatal(err)
	}
	want := Roles{
		Custom:  []CustomRole{{ID: "r0", Name: "ROLE_0"}, {ID: "r1", Name: "ROLE_1"}, {ID: "r2", Name: "ROLE_2"}},
		Default: def,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if n := rec.count(); n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
}

func TestPaginationFailures(t *testing.T) {
	tests := []struct {
		name     string
		handler  func(w http.ResponseWriter, r *http.Request, rec request, n int)
		maxPages int
		wantErr  string
		wantIs   error
	}{
		{
			name: "envelope without the item key",
			handler: func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
				writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
			},
			wantErr: `GET /organizations/o/tokens: response has no "tokens" field`,
		},
		{
			name: "items of the wrong type",
			handler: func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
				writeRaw(w, http.StatusOK, "application/json", `{"tokens":{"id":"x"},"totalCount":1}`)
			},
			wantErr: `GET /organizations/o/tokens: decode "tokens" at offset 0: json: cannot unmarshal`,
		},
		{
			name: "totalCount of the wrong type",
			handler: func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
				writeRaw(w, http.StatusOK, "application/json", `{"tokens":[],"totalCount":"many"}`)
			},
			wantErr: `GET /organizations/o/tokens: decode "totalCount" at offset 0`,
		},
		{
			name: "a list that never ends is cut",
			handler: func(w http.ResponseWriter, _ *http.Request, _ request, n int) {
				writeJSON(w, http.StatusOK, map[string]any{"tokens": []Token{{ID: fmt.Sprintf("t%d", n)}}})
			},
			maxPages: 3,
			wantErr:  "GET /organizations/o/tokens: list did not end after 3 pages (3 items)",
		},
		{
			name: "an error on a later page",
			handler: func(w http.ResponseWriter, _ *http.Request, _ request, n int) {
				if n == 0 {
					writeJSON(w, http.StatusOK, map[string]any{"tokens": []Token{{ID: "a"}}, "totalCount": 2})
					return
				}
				writeJSON(w, http.StatusForbidden, ErrorBody{Message: "no", RequestID: "req-2", StatusCode: 403})
			},
			wantErr: "GET /organizations/o/tokens: 403 Forbidden: no (request req-2)",
			wantIs:  ErrForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := serve(t, tt.handler)
			c := newTestClient(t, ts, WithPageSize(1))
			if tt.maxPages > 0 {
				c.maxPages = tt.maxPages
			}
			got, err := c.Tokens(t.Context(), "o", TokenFilter{})
			if err == nil {
				t.Fatalf("Tokens = %v, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if got != nil {
				t.Errorf("partial result %v returned with the error", got)
			}
		})
	}
}

func TestInvalidArgumentsSendNothing(t *testing.T) {
	tests := []struct {
		name    string
		call    func(ctx context.Context, c *Client) error
		wantErr string
	}{
		{name: "empty organization", call: func(ctx context.Context, c *Client) error {
			_, err := c.Tokens(ctx, "", TokenFilter{})
			return err
		}, wantErr: "organization id is empty"},
		{name: "empty token id", call: func(ctx context.Context, c *Client) error {
			_, err := c.Token(ctx, "o", "")
			return err
		}, wantErr: "token id is empty"},
		{name: "dot-dot token id", call: func(ctx context.Context, c *Client) error {
			_, err := c.Token(ctx, "o", "..")
			return err
		}, wantErr: `token id ".." is not valid`},
		{name: "roles of an empty token id", call: func(ctx context.Context, c *Client) error {
			_, err := c.SetTokenRoles(ctx, "o", "", []Role{{EntityID: "w", EntityType: EntityWorkspace, Role: "WORKSPACE_MEMBER"}})
			return err
		}, wantErr: "token id is empty"},
		{name: "empty role list", call: func(ctx context.Context, c *Client) error {
			_, err := c.SetTokenRoles(ctx, "o", "t", nil)
			return err
		}, wantErr: "POST /organizations/o/tokens/t/roles: a token needs at least one role"},
		{name: "empty organization of deployments", call: func(ctx context.Context, c *Client) error {
			_, err := c.Deployments(ctx, "", DeploymentFilter{})
			return err
		}, wantErr: "organization id is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
				writeJSON(w, http.StatusOK, map[string]any{})
			})
			c := newTestClient(t, ts)
			err := tt.call(t.Context(), c)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
			if n := rec.count(); n != 0 {
				t.Errorf("server saw %d requests, want 0", n)
			}
		})
	}
}
