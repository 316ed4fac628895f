package astroapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUserAndTeamEndpoints pins the wire details of the users and teams
// calls: method, path, query, body and decoding.
func TestUserAndTeamEndpoints(t *testing.T) {
	user := User{
		ID: "u1", Username: "ann@example.com", FullName: "Ann", AvatarURL: "https://a/x.png", Status: UserActive,
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []WorkspaceRole{{WorkspaceID: "ws1", Role: RoleWorkspaceAccessor}},
		DeploymentRoles:  []DeploymentRole{{DeploymentID: "dep1", Role: RoleDeploymentAdmin}},
		DagRoles:         []DagRole{{DeploymentID: "dep1", DagID: "etl", Role: "DAG_VIEWER"}},
		CreatedAt:        t0, UpdatedAt: t1,
	}
	team := Team{
		ID: "t1", Name: "data-engineering", Description: "ETL", IsIdpManaged: true, OrganizationID: "o",
		OrganizationRole: "ORGANIZATION_MEMBER",
		DeploymentRoles:  []DeploymentRole{{DeploymentID: "dep1", Role: "DAG_DEPLOYER"}},
		DagRoles:         []DagRole{{DeploymentID: "dep1", DagTag: "finance", Role: "DAG_AUTHOR"}},
		RolesCount:       3, CreatedAt: t0, UpdatedAt: t1, CreatedBy: &Subject{ID: "u0"},
	}
	member := TeamMember{UserID: "u1", Username: "ann@example.com", FullName: "Ann", CreatedAt: &t0}
	answer := SubjectRoles{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []WorkspaceRole{{WorkspaceID: "ws1", Role: RoleWorkspaceAccessor}},
		DeploymentRoles:  []DeploymentRole{{DeploymentID: "dep1", Role: RoleDeploymentAdmin}},
		DagRoles:         []DagRole{{DeploymentID: "dep1", DagID: "etl", Role: "DAG_VIEWER"}},
	}
	page := func(key string, items any) map[string]any {
		return map[string]any{key: items, "totalCount": 1, "offset": 0, "limit": 1000}
	}
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
		method    string
		wantPath  string
		wantQuery url.Values
		wantBody  string // JSON, compared semantically; "" means no body
		want      any
	}{
		{
			name:   "Users without filter",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Users(ctx, "o", UserFilter{}) },
			answer: page("users", []User{user}), method: "GET",
			wantPath: "/v1/organizations/o/users", wantQuery: with(nil),
			want: []User{user},
		},
		{
			name: "Users with every filter",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Users(ctx, "o", UserFilter{WorkspaceID: "ws1", DeploymentID: "dep1"})
			},
			answer: page("users", []User{user}), method: "GET",
			wantPath: "/v1/organizations/o/users", wantQuery: with(url.Values{"workspaceId": {"ws1"}, "deploymentId": {"dep1"}}),
			want: []User{user},
		},
		{
			name: "Users by DAG and tags, tags repeated",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Users(ctx, "o", UserFilter{DeploymentID: "dep1", DagID: "etl", DagTags: []string{"a b", "c"}})
			},
			answer: page("users", []User{user}), method: "GET",
			wantPath:  "/v1/organizations/o/users",
			wantQuery: with(url.Values{"deploymentId": {"dep1"}, "dagId": {"etl"}, "dagTags": {"a b", "c"}}),
			want:      []User{user},
		},
		{
			name:   "User",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.User(ctx, "o", "u1") },
			answer: user, method: "GET",
			wantPath: "/v1/organizations/o/users/u1", wantQuery: url.Values{},
			want: user,
		},
		{
			name: "SetUserRoles sends every list, empty as []",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SetUserRoles(ctx, "o", "u1", UpdateUserRolesRequest{OrganizationRole: "ORGANIZATION_MEMBER"})
			},
			answer: answer, method: "POST",
			wantPath: "/v1/organizations/o/users/u1/roles", wantQuery: url.Values{},
			wantBody: `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[],"deploymentRoles":[],"dagRoles":[]}`,
			want:     answer,
		},
		{
			name: "SetUserRoles with every part",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SetUserRoles(ctx, "o", "u1", UpdateUserRolesRequest{
					OrganizationRole: "ORGANIZATION_MEMBER", WorkspaceRoles: user.WorkspaceRoles,
					DeploymentRoles: user.DeploymentRoles, DagRoles: user.DagRoles,
				})
			},
			answer: answer, method: "POST",
			wantPath: "/v1/organizations/o/users/u1/roles", wantQuery: url.Values{},
			wantBody: `{"organizationRole":"ORGANIZATION_MEMBER",
				"workspaceRoles":[{"workspaceId":"ws1","role":"WORKSPACE_ACCESSOR"}],
				"deploymentRoles":[{"deploymentId":"dep1","role":"DEPLOYMENT_ADMIN"}],
				"dagRoles":[{"deploymentId":"dep1","dagId":"etl","role":"DAG_VIEWER"}]}`,
			want: answer,
		},
		{
			name: "SetUserRoles with no role at all",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SetUserRoles(ctx, "o", "u1", UpdateUserRolesRequest{})
			},
			answer: SubjectRoles{}, method: "POST",
			wantPath: "/v1/organizations/o/users/u1/roles", wantQuery: url.Values{},
			wantBody: `{"workspaceRoles":[],"deploymentRoles":[],"dagRoles":[]}`,
			want:     SubjectRoles{},
		},
		{
			name:   "Teams without filter",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Teams(ctx, "o", TeamFilter{}) },
			answer: page("teams", []Team{team}), method: "GET",
			wantPath: "/v1/organizations/o/teams", wantQuery: with(nil),
			want: []Team{team},
		},
		{
			name: "Teams with every filter, names repeated",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Teams(ctx, "o", TeamFilter{Names: []string{"a b", "c"}, WorkspaceID: "ws1", DeploymentID: "dep1"})
			},
			answer: page("teams", []Team{team}), method: "GET",
			wantPath:  "/v1/organizations/o/teams",
			wantQuery: with(url.Values{"names": {"a b", "c"}, "workspaceId": {"ws1"}, "deploymentId": {"dep1"}}),
			want:      []Team{team},
		},
		{
			name:   "Team with an id that needs escaping",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Team(ctx, "o", "t/1") },
			answer: Team{ID: "t/1", OrganizationRole: "ORGANIZATION_MEMBER"}, method: "GET",
			wantPath: "/v1/organizations/o/teams/t%2F1", wantQuery: url.Values{},
			want: Team{ID: "t/1", OrganizationRole: "ORGANIZATION_MEMBER"},
		},
		{
			name: "SetTeamRoles",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SetTeamRoles(ctx, "o", "t1", UpdateTeamRolesRequest{OrganizationRole: "ORGANIZATION_MEMBER", DagRoles: team.DagRoles})
			},
			answer: answer, method: "POST",
			wantPath: "/v1/organizations/o/teams/t1/roles", wantQuery: url.Values{},
			wantBody: `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[],"deploymentRoles":[],
				"dagRoles":[{"deploymentId":"dep1","dagTag":"finance","role":"DAG_AUTHOR"}]}`,
			want: answer,
		},
		{
			name:   "TeamMembers",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.TeamMembers(ctx, "o", "t1") },
			answer: page("teamMembers", []TeamMember{member}), method: "GET",
			wantPath: "/v1/organizations/o/teams/t1/members", wantQuery: with(nil),
			want: []TeamMember{member},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
				writeJSON(w, http.StatusOK, tt.answer)
			})
			c := newTestClient(t, ts, WithPageSize(1000))
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatal(err)
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
				t.Fatalf("body %q: %v", r.Body, err)
			}
			if diff := cmp.Diff(want, gotBody); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserAndTeamInvalidArgumentsSendNothing(t *testing.T) {
	tests := []struct {
		name    string
		call    func(ctx context.Context, c *Client) error
		wantErr string
	}{
		{"empty user id", func(ctx context.Context, c *Client) error { _, err := c.User(ctx, "o", ""); return err }, "user id is empty"},
		{"dot-dot team id", func(ctx context.Context, c *Client) error { _, err := c.Team(ctx, "o", ".."); return err }, `team id ".." is not valid`},
		{"empty organization of users", func(ctx context.Context, c *Client) error { _, err := c.Users(ctx, "", UserFilter{}); return err }, "organization id is empty"},
		{"empty team id of members", func(ctx context.Context, c *Client) error { _, err := c.TeamMembers(ctx, "o", ""); return err }, "team id is empty"},
		{"team without organization role", func(ctx context.Context, c *Client) error {
			_, err := c.SetTeamRoles(ctx, "o", "t1", UpdateTeamRolesRequest{DeploymentRoles: []DeploymentRole{{DeploymentID: "d", Role: RoleDeploymentAdmin}}})
			return err
		}, "POST /organizations/o/teams/t1/roles: a team needs an organization role"},
		{"user deployment roles without organization role", func(ctx context.Context, c *Client) error {
			_, err := c.SetUserRoles(ctx, "o", "u1", UpdateUserRolesRequest{DeploymentRoles: []DeploymentRole{{DeploymentID: "d", Role: RoleDeploymentAdmin}}})
			return err
		}, "POST /organizations/o/users/u1/roles: workspace, deployment and DAG roles require an organization role"},
		{"user workspace roles without organization role", func(ctx context.Context, c *Client) error {
			_, err := c.SetUserRoles(ctx, "o", "u1", UpdateUserRolesRequest{WorkspaceRoles: []WorkspaceRole{{WorkspaceID: "w", Role: "WORKSPACE_MEMBER"}}})
			return err
		}, "POST /organizations/o/users/u1/roles: workspace, deployment and DAG roles require an organization role"},
		{"user DAG roles without organization role", func(ctx context.Context, c *Client) error {
			_, err := c.SetUserRoles(ctx, "o", "u1", UpdateUserRolesRequest{DagRoles: []DagRole{{DeploymentID: "d", DagID: "etl", Role: RoleDAGViewer}}})
			return err
		}, "POST /organizations/o/users/u1/roles: workspace, deployment and DAG roles require an organization role"},
		{"roles of an empty user id", func(ctx context.Context, c *Client) error {
			_, err := c.SetUserRoles(ctx, "o", "", UpdateUserRolesRequest{OrganizationRole: "ORGANIZATION_MEMBER"})
			return err
		}, "user id is empty"},
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

// TestUserAndTeamAnswerAboutAnotherIsAnError: a role set is rewritten from
// the GET, so an answer about another subject (or none) is refused.
func TestUserAndTeamAnswerAboutAnotherIsAnError(t *testing.T) {
	for _, body := range []string{`{"id":"other"}`, `{}`, `null`} {
		ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
			writeRaw(w, http.StatusOK, "application/json", body)
		})
		c := newTestClient(t, ts)
		if _, err := c.User(t.Context(), "o", "u1"); err == nil {
			t.Errorf("User with answer %s: no error", body)
		}
		if _, err := c.Team(t.Context(), "o", "t1"); err == nil {
			t.Errorf("Team with answer %s: no error", body)
		}
	}
}

// TestSetUserAndTeamRolesAreRetried: the role-set POSTs replace the whole
// set, so they are idempotent and retried like token role POSTs.
func TestSetUserAndTeamRolesAreRetried(t *testing.T) {
	calls := []struct {
		name string
		call func(ctx context.Context, c *Client) error
	}{
		{"user", func(ctx context.Context, c *Client) error {
			_, err := c.SetUserRoles(ctx, "o", "u1", UpdateUserRolesRequest{OrganizationRole: "ORGANIZATION_MEMBER"})
			return err
		}},
		{"team", func(ctx context.Context, c *Client) error {
			_, err := c.SetTeamRoles(ctx, "o", "t1", UpdateTeamRolesRequest{OrganizationRole: "ORGANIZATION_MEMBER"})
			return err
		}},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, n int) {
				if n < 2 {
					writeJSON(w, http.StatusServiceUnavailable, ErrorBody{Message: "busy", RequestID: "r", StatusCode: 503})
					return
				}
				writeJSON(w, http.StatusOK, SubjectRoles{OrganizationRole: "ORGANIZATION_MEMBER"})
			})
			c := newTestClient(t, ts)
			if err := tt.call(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			reqs := rec.all()
			if len(reqs) != 3 || reqs[0].Body != reqs[2].Body {
				t.Errorf("server saw %d requests, want 3 with the same body", len(reqs))
			}
		})
	}
	// A 404 is not retried and matches ErrNotFound.
	ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeJSON(w, http.StatusNotFound, ErrorBody{Message: "user not found", RequestID: "r", StatusCode: 404})
	})
	c := newTestClient(t, ts)
	_, err := c.SetUserRoles(t.Context(), "o", "u1", UpdateUserRolesRequest{OrganizationRole: "ORGANIZATION_MEMBER"})
	if !errors.Is(err, ErrNotFound) || rec.count() != 1 {
		t.Errorf("error %v after %d requests, want ErrNotFound after 1", err, rec.count())
	}
}
