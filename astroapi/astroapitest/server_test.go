package astroapitest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokensync/tokensync/astroapi"
)

// burst sends n sequential requests and returns the statuses seen.
func burst(t *testing.T, n int, method, url, auth, body string) map[int]int {
	t.Helper()
	statuses := map[int]int{}
	for range n {
		resp, raw := fetch(t, method, url, auth, body)
		statuses[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			wantError(t, resp, raw, 429)
			ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || ra < 1 {
				t.Fatalf("Retry-After %q, want an integer of seconds >= 1", resp.Header.Get("Retry-After"))
			}
		}
	}
	return statuses
}

func TestRateLimitBurstAnswers429WithRetryAfter(t *testing.T) {
	srv, base := NewTestServer(t, testState(), Options{})
	statuses := burst(t, 200, http.MethodGet, base+"/organizations/"+org+"/tokens", bearer, "")
	// Burst 25 plus the refills (25/s) during the burst.
	if statuses[200] < 25 || statuses[200] > 100 || statuses[429] < 100 || statuses[200]+statuses[429] != 200 {
		t.Errorf("statuses %v: want about 25 200s, and 429s for the rest", statuses)
	}
	if got := srv.Stats().Statuses; !cmp.Equal(got, statuses) {
		t.Errorf("Stats().Statuses %v, want %v", got, statuses)
	}
}

func TestRateLimitPerMethod(t *testing.T) {
	tests := []struct {
		method, path, body string
		limit              int
	}{
		{http.MethodPost, "/tokens/tok-ws-a/roles", rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER")), 10},
		{http.MethodDelete, "/tokens/nope", "", 5},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			_, base := NewTestServer(t, testState(), Options{})
			statuses := burst(t, 60, tt.method, base+"/organizations/"+org+tt.path, bearer, tt.body)
			ok := 60 - statuses[429]
			if ok < tt.limit || ok > 3*tt.limit || statuses[429] == 0 {
				t.Errorf("statuses %v: want about %d answers before 429s", statuses, tt.limit)
			}
			// GETs have their own bucket.
			resp, raw := fetch(t, http.MethodGet, base+"/organizations/"+org+"/tokens", bearer, "")
			if resp.StatusCode != 200 {
				t.Errorf("GET after a %s burst: %d %s", tt.method, resp.StatusCode, raw)
			}
		})
	}
}

func TestNoRateLimitNever429(t *testing.T) {
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	statuses := burst(t, 200, http.MethodGet, base+"/organizations/"+org+"/tokens", bearer, "")
	if !cmp.Equal(statuses, map[int]int{200: 200}) {
		t.Errorf("statuses %v, want 200 200s", statuses)
	}
}

func TestRateLimitBucketsPerCredential(t *testing.T) {
	st := testState()
	st.Credentials = []Credential{{Secret: "one"}, {Secret: "two"}}
	_, base := NewTestServer(t, st, Options{RateLimits: Limits{GET: 5}})
	url := base + "/organizations/" + org + "/tokens"
	if s := burst(t, 30, http.MethodGet, url, "Bearer one", ""); s[429] == 0 {
		t.Fatalf("statuses %v: credential one was never limited", s)
	}
	s := burst(t, 5, http.MethodGet, url, "Bearer two", "")
	if !cmp.Equal(s, map[int]int{200: 5}) {
		t.Errorf("credential two: statuses %v, want its own full bucket", s)
	}
}

func TestLatencyAndJitter(t *testing.T) {
	const latency, jitter = 30 * time.Millisecond, 20 * time.Millisecond
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit, Latency: latency, LatencyJitter: jitter, FaultSeed: 7})
	for range 3 {
		start := time.Now()
		resp, _ := fetch(t, http.MethodGet, base+"/organizations/"+org+"/workspaces", bearer, "")
		elapsed := time.Since(start)
		if resp.StatusCode != 200 || elapsed < latency {
			t.Errorf("status %d after %v, want 200 after at least %v", resp.StatusCode, elapsed, latency)
		}
	}
	// The jitter sequence is seeded.
	a := NewServer(testState(), Options{Latency: latency, LatencyJitter: jitter, FaultSeed: 7})
	b := NewServer(testState(), Options{Latency: latency, LatencyJitter: jitter, FaultSeed: 7})
	for range 20 {
		da, db := a.latency(), b.latency()
		if da != db || da < latency || da > latency+jitter {
			t.Fatalf("latencies %v and %v: want equal, in [%v, %v]", da, db, latency, latency+jitter)
		}
	}
}

// outcomes sends n sequential requests on fresh connections (so that Go's
// transport does not retry dropped ones) and describes each answer.
func outcomes(t *testing.T, n int, method, url, body string) []string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var out []string
	for range n {
		var rd *strings.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, url, nil)
		if rd != nil {
			req, err = http.NewRequest(method, url, rd)
		}
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", bearer)
		resp, err := hc.Do(req)
		if err != nil {
			out = append(out, "drop")
			continue
		}
		resp.Body.Close()
		out = append(out, strconv.Itoa(resp.StatusCode))
	}
	return out
}

func TestFaultsSameSeedSameSequence(t *testing.T) {
	run := func(seed int64) ([]string, Stats) {
		srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit, FaultRate: 0.5, FaultSeed: seed})
		return outcomes(t, 80, http.MethodGet, base+"/organizations/"+org+"/tokens", ""), srv.Stats()
	}
	first, stats := run(42)
	second, _ := run(42)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("seed 42 twice (-first +second):\n%s", diff)
	}
	other, _ := run(43)
	if cmp.Equal(first, other) {
		t.Errorf("seeds 42 and 43 gave the same sequence")
	}
	kinds := map[string]int{}
	for _, o := range first {
		kinds[o]++
	}
	for _, k := range []string{"200", "500", "502", "503", "429", "drop"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in %v", k, kinds)
		}
	}
	if stats.Statuses[0] != kinds["drop"] || stats.Requests["GET /organizations/{organizationId}/tokens"] != 80 {
		t.Errorf("stats %+v: want %d drops under status 0 and 80 requests", stats, kinds["drop"])
	}
}

func TestFaultDropsSomePOSTsAfterApplyingTheWrite(t *testing.T) {
	srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit, FaultRate: 1, FaultSeed: 1})
	got := outcomes(t, 100, http.MethodPost, base+"/organizations/"+org+"/tokens/tok-ws-a/roles",
		rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a2", "DEPLOYMENT_ADMIN")))
	drops := 0
	for _, o := range got {
		if o == "200" {
			t.Fatalf("a 200 with FaultRate 1: %v", got)
		}
		if o == "drop" {
			drops++
		}
	}
	applied := srv.Stats().RoleWrites["tok-ws-a"]
	if applied == 0 || applied >= drops {
		t.Errorf("%d drops, %d applied: want some, not all, drops after the write", drops, applied)
	}
	want := []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a2", "DEPLOYMENT_ADMIN")}
	if diff := cmp.Diff(want, srv.State().Tokens[0].Roles); diff != "" {
		t.Errorf("the lost responses' write was not applied (-want +got):\n%s", diff)
	}
}

func TestAdminEndpointsBypassAuthLimitsFaultsAndStats(t *testing.T) {
	st := testState()
	st.Credentials = []Credential{{Secret: "only"}}
	srv, base := NewTestServer(t, st, Options{RateLimits: Limits{GET: 1}, FaultRate: 1, Latency: time.Hour})
	root := strings.TrimSuffix(base, "/v1")
	for range 30 {
		for _, path := range []string{"/_emulator/stats", "/_emulator/state"} {
			resp, raw := fetch(t, http.MethodGet, root+path, "", "")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
			}
		}
	}
	if got := srv.Stats(); len(got.Requests)+len(got.Statuses)+len(got.RoleWrites) != 0 {
		t.Errorf("admin requests counted: %+v", got)
	}
}

func TestStatsJSONAndReset(t *testing.T) {
	srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	fetch(t, http.MethodGet, o+"/tokens", bearer, "")
	fetch(t, http.MethodGet, o+"/tokens", bearer, "")
	fetch(t, http.MethodGet, o+"/tokens/nope", bearer, "")
	fetch(t, http.MethodPost, o+"/tokens/tok-ws-a/roles", bearer, rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER")))
	fetch(t, http.MethodPost, o+"/tokens/tok-ws-a/roles", bearer, `{"roles": []}`)
	fetch(t, http.MethodGet, o+"/nowhere", bearer, "")
	fetch(t, http.MethodGet, o+"/deployments", "", "")

	_, raw := fetch(t, http.MethodGet, strings.TrimSuffix(base, "/v1")+"/_emulator/stats", "", "")
	var got map[string]map[string]int
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	want := map[string]map[string]int{
		"requests": {
			"GET /organizations/{organizationId}/tokens":                  2,
			"GET /organizations/{organizationId}/tokens/{tokenId}":        1,
			"POST /organizations/{organizationId}/tokens/{tokenId}/roles": 2,
			"GET /organizations/{organizationId}/deployments":             1,
			"GET /v1/organizations/" + org + "/nowhere":                   1,
		},
		"statuses":       {"200": 3, "400": 1, "401": 1, "404": 2},
		"roleWrites":     {"tok-ws-a": 1},
		"userRoleWrites": {},
		"teamRoleWrites": {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	srv.ResetStats()
	want0 := Stats{Requests: map[string]int{}, Statuses: map[int]int{}, RoleWrites: map[string]int{}, UserRoleWrites: map[string]int{}, TeamRoleWrites: map[string]int{}}
	if diff := cmp.Diff(want0, srv.Stats()); diff != "" {
		t.Errorf("after ResetStats (-want +got):\n%s", diff)
	}
}

func TestConcurrentRequests(t *testing.T) {
	srv, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit, MaxPageSize: 2})
	o := base + "/organizations/" + org
	bodies := []string{
		rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", "DEPLOYMENT_ADMIN")),
		rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a2", "DAG_DEPLOYER")),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				var method, url, body string
				switch i % 5 {
				case 0:
					method, url, body = http.MethodPost, o+"/tokens/tok-ws-a/roles", bodies[(g+i)%2]
				case 1:
					method, url = http.MethodGet, o+"/tokens/tok-ws-a"
				case 2:
					method, url = http.MethodGet, o+"/tokens?deploymentId=dep-a1&sorts=updatedAt:desc"
				case 3:
					method, url = http.MethodGet, strings.TrimSuffix(base, "/v1")+"/_emulator/state"
				default:
					_ = srv.Stats()
					method, url = http.MethodGet, o+"/roles?includeDefaultRoles=true"
				}
				resp, raw := fetch(t, method, url, bearer, body)
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, raw)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := srv.Stats().RoleWrites["tok-ws-a"]; got != 8*5 {
		t.Errorf("RoleWrites %d, want 40", got)
	}
}

func TestListenAndServe(t *testing.T) {
	srv := NewServer(testState(), Options{RateLimits: NoRateLimit})
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, "127.0.0.1:0", func(u string) { urls <- u }) }()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("ListenAndServe: %v", err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/v1") {
		t.Errorf("base URL %q", base)
	}
	get[tokenPage](t, base+"/organizations/"+org+"/tokens")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe after cancel = %v, want nil", err)
	}
	if _, err := http.Get(base + "/organizations/" + org + "/tokens"); err == nil {
		t.Errorf("the server still answers after shutdown")
	}
	if err := srv.ListenAndServe(context.Background(), "256.0.0.1:0", nil); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("ListenAndServe on a bad address = %v, want an error", err)
	}
}
