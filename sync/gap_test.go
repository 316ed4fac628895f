package sync

import (
	"context"
	"fmt"
	"slices"
	gosync "sync"
	"testing"
	"time"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// clientStore is the token API as the token adapter needs it, through a
// real Client. It records, per token, when the answer to its read arrived.
type clientStore struct {
	c    *astroapi.Client
	mu   gosync.Mutex
	read map[string]time.Time
}

func (s *clientStore) Tokens(ctx context.Context, o string, f astroapi.TokenFilter) ([]astroapi.Token, error) {
	return s.c.Tokens(ctx, o, f)
}

func (s *clientStore) Token(ctx context.Context, o, id string) (astroapi.Token, error) {
	t, err := s.c.Token(ctx, o, id)
	s.mu.Lock()
	s.read[id] = time.Now()
	s.mu.Unlock()
	return t, err
}

func (s *clientStore) SetTokenRoles(ctx context.Context, o, id string, roles []astroapi.Role) (astroapi.SubjectRoles, error) {
	return s.c.SetTokenRoles(ctx, o, id, roles)
}

// reservingStore is a clientStore that takes a write's slot before the
// read, as *astroapi.Client does.
type reservingStore struct{ *clientStore }

func (s reservingStore) ReserveWrite(ctx context.Context) (context.Context, func(), error) {
	return s.c.ReserveWrite(ctx)
}

// readToWriteGaps applies a plan that writes n tokens through a Client with
// Astro's default rate limits, against an emulator with Astro's limits,
// and returns per token the time from its read's answer to its write
// reaching the API, sorted.
func readToWriteGaps(t *testing.T, n, parallelism int, reserve bool) []time.Duration {
	st := &astroapitest.State{
		Organization: astroapitest.Organization{ID: org, Name: "Gap Org"},
		Workspaces:   []astroapitest.Workspace{{ID: "ws-1", Name: "one"}},
		Deployments:  []astroapitest.Deployment{{ID: "dep-a", Name: "alpha", WorkspaceID: "ws-1"}},
	}
	md := ManagedScope{ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-a", Name: "alpha"}, WorkspaceID: "ws-1", Lists: tokenKindsListed}
	obs := &Observed{Organization: org, Deployments: []astroapi.Deployment{{ID: "dep-a", Name: "alpha", WorkspaceID: "ws-1"}}}
	for i := range n {
		tok := token(fmt.Sprintf("t-%03d", i), fmt.Sprintf("bot-%03d", i), "WORKSPACE", wsRole("ws-1", "WORKSPACE_MEMBER"))
		st.Tokens = append(st.Tokens, astroapitest.Token{ID: tok.ID, Name: tok.Name, Scope: tok.Scope, Roles: slices.Clone(tok.Roles)})
		obs.Subjects = append(obs.Subjects, TokenSubject(tok))
		md.Assignments = append(md.Assignments, present(tok, "DEPLOYMENT_ADMIN", 10+i))
	}
	var (
		mu   gosync.Mutex
		sent = map[string]time.Time{}
	)
	_, url := astroapitest.NewTestServer(t, st, astroapitest.Options{ // Astro's rate limits
		BeforeRoleWrite: func(id string) {
			mu.Lock()
			defer mu.Unlock()
			if _, again := sent[id]; !again {
				sent[id] = time.Now()
			}
		},
	})
	c, err := astroapi.New(url, astroapi.WithCredential("gap-test-credential")) // Astro's rate limits
	if err != nil {
		t.Fatal(err)
	}
	p := Compute(Desired{Scopes: []ManagedScope{md}}, obs, Options{MaxRemovals: -1})
	cs := &clientStore{c: c, read: map[string]time.Time{}}
	var api TokenAPI = cs
	if reserve {
		api = reservingStore{cs}
	}
	res := Apply(context.Background(), Adapters{TokenAdapter(api, org)}, p, ApplyOptions{Parallelism: parallelism})
	if len(res.Written) != n {
		t.Fatalf("wrote %d tokens, want %d: failed %+v", len(res.Written), n, res.Failed)
	}
	gaps := make([]time.Duration, 0, n)
	for id, at := range sent {
		gaps = append(gaps, at.Sub(cs.read[id]))
	}
	slices.Sort(gaps)
	return gaps
}

// TestApplyReadToWriteGap measures the window in which another writer's
// change to a token is lost: from the answer to apply's read of the token
// to its write reaching the API, when the POST rate limit (10/s) is the
// bottleneck. The write's slot is taken before the read, so the write does
// not wait for the limiter after it. docs/reliability.md quotes the figures
// (go test -v -run TestApplyReadToWriteGap ./sync).
func TestApplyReadToWriteGap(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds at Astro's rate limits")
	}
	const n, parallelism = 40, 8 // the CLI's default --parallelism
	gaps := readToWriteGaps(t, n, parallelism, true)
	median, p95 := gaps[len(gaps)/2], gaps[len(gaps)*95/100]
	t.Logf("read-to-write gap over %d tokens, parallelism %d, Astro's rate limits: median %v, p95 %v, max %v",
		n, parallelism, median, p95, gaps[len(gaps)-1])
	if median > 50*time.Millisecond || p95 > 100*time.Millisecond {
		t.Errorf("read-to-write gap: median %v (want <= 50ms), p95 %v (want <= 100ms)", median, p95)
	}
	if testing.Verbose() {
		gaps := readToWriteGaps(t, n, parallelism, false)
		t.Logf("without reserving the write's slot: median %v, p95 %v", gaps[len(gaps)/2], gaps[len(gaps)*95/100])
	}
}
