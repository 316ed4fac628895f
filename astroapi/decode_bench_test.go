package astroapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// BenchmarkListDecode measures what reading one full page of a list costs
// the client, from the response body to the items: the bounded read, the
// decode of the envelope and of its 1,000 items, and listAll's checks. The
// page comes from an in-memory transport, so no network is timed. The
// items are shaped like those of an organization that uses every level:
// users with an organization role, one or two workspace roles, deployment
// and DAG roles; tokens with their own role, deployment and DAG roles and
// who created and updated them.
func BenchmarkListDecode(b *testing.B) {
	b.Run("users", func(b *testing.B) {
		body := benchPage(b, "users", benchUsers(DefaultPageSize))
		benchList(b, body, func(ctx context.Context, c *Client) (int, error) {
			us, err := c.Users(ctx, "o", UserFilter{})
			return len(us), err
		})
	})
	b.Run("tokens", func(b *testing.B) {
		body := benchPage(b, "tokens", benchTokens(DefaultPageSize))
		benchList(b, body, func(ctx context.Context, c *Client) (int, error) {
			ts, err := c.Tokens(ctx, "o", TokenFilter{})
			return len(ts), err
		})
	})
}

// benchList runs list against a client whose every answer is body.
func benchList(b *testing.B, body []byte, list func(context.Context, *Client) (int, error)) {
	c, err := New("https://astro.invalid/v1",
		WithCredential(testSecret),
		WithRateLimits(0, 0, 0),
		WithHTTPClient(&http.Client{Transport: pageTransport(body)}),
	)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n, err := list(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if n != DefaultPageSize {
			b.Fatalf("%d items, want %d", n, DefaultPageSize)
		}
	}
}

// pageTransport answers every request with body, as a JSON 200 with its
// Content-Length, as net/http's client gives it.
type pageTransport []byte

func (p pageTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    http.StatusOK,
		Status:        "200 OK",
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(p)),
		ContentLength: int64(len(p)),
		Request:       req,
	}, nil
}

// benchPage is the one page of a list of items under key.
func benchPage(b *testing.B, key string, items any) []byte {
	body, err := json.Marshal(map[string]any{key: items, "totalCount": DefaultPageSize, "offset": 0, "limit": DefaultPageSize})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

var benchTime = time.Date(2026, 1, 28, 9, 30, 0, 0, time.UTC)

func benchUsers(n int) []User {
	us := make([]User, n)
	for i := range us {
		u := User{
			ID:               fmt.Sprintf("clbenchus%016d", i),
			Username:         fmt.Sprintf("grace.hopper.%05d@example.com", i),
			FullName:         "Grace Hopper",
			Status:           UserActive,
			OrganizationRole: RoleOrganizationMember,
			WorkspaceRoles:   []WorkspaceRole{{WorkspaceID: benchID("ws", i%200), Role: RoleWorkspaceMember}},
			CreatedAt:        benchTime,
			UpdatedAt:        benchTime,
		}
		if i%3 == 0 {
			u.WorkspaceRoles = append(u.WorkspaceRoles, WorkspaceRole{WorkspaceID: benchID("ws", (i+7)%200), Role: RoleWorkspaceAuthor})
		}
		if i%2 == 0 {
			u.DeploymentRoles = []DeploymentRole{{DeploymentID: benchID("dp", i%2000), Role: RoleDeploymentAdmin}}
		}
		if i%5 == 0 {
			u.DagRoles = []DagRole{{DeploymentID: benchID("dp", i%2000), DagID: "etl_daily_" + strconv.Itoa(i%50), Role: RoleDAGViewer}}
		}
		us[i] = u
	}
	return us
}

func benchTokens(n int) []Token {
	ts := make([]Token, n)
	by := &Subject{ID: benchID("us", 1), SubjectType: "USER", Username: "ada.lovelace@example.com", FullName: "Ada Lovelace"}
	for i := range ts {
		t := Token{
			ID:          benchID("tk", i),
			Name:        fmt.Sprintf("data-platform-ci-deployer-%05d", i),
			Description: "deploys from CI",
			ShortToken:  "tsk_" + strconv.Itoa(i),
			Scope:       ScopeWorkspace,
			Kind:        TokenStandard,
			StartAt:     &benchTime,
			LastUsedAt:  &benchTime,
			CreatedAt:   benchTime,
			UpdatedAt:   benchTime,
			CreatedBy:   by,
			UpdatedBy:   by,
			Roles: []Role{
				{EntityType: EntityWorkspace, EntityID: benchID("ws", i%200), Role: RoleWorkspaceMember},
				{EntityType: EntityDeployment, EntityID: benchID("dp", i%2000), Role: RoleDeploymentAdmin},
				{EntityType: EntityDeployment, EntityID: benchID("dp", (i+1)%2000), Role: "DAG_DEPLOYER"},
			},
		}
		if i%4 == 0 {
			t.Roles = append(t.Roles, Role{EntityType: EntityDAG, EntityID: "etl_daily", DeploymentID: benchID("dp", i%2000), Role: RoleDAGViewer})
		}
		ts[i] = t
	}
	return ts
}

func benchID(kind string, i int) string { return fmt.Sprintf("clbench%s%016d", kind, i) }
