package astroapi

import (
	"context"
	"errors"
	"net/http"
	gosync "sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// limitedServer is the address of a test server and a client for it.
type limitedServer struct {
	url string
	hc  *http.Client
}

// conformingServer enforces Astro's limits as the emulator does: a token
// bucket per method with rate = limit and burst = limit, answering 429 when
// it is empty.
func conformingServer(t *testing.T) (*limitedServer, func() int) {
	t.Helper()
	buckets := map[string]*rate.Limiter{
		http.MethodGet:    rate.NewLimiter(DefaultGetRate, DefaultGetRate),
		http.MethodPost:   rate.NewLimiter(DefaultPostRate, DefaultPostRate),
		http.MethodDelete: rate.NewLimiter(DefaultDeleteRate, DefaultDeleteRate),
	}
	var mu gosync.Mutex
	limited := 0
	ts, _ := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
		if !buckets[r.Method].Allow() {
			mu.Lock()
			limited++
			mu.Unlock()
			writeJSON(w, http.StatusTooManyRequests, ErrorBody{Message: "rate limit exceeded", StatusCode: 429})
			return
		}
		if r.Method == http.MethodPost {
			writeJSON(w, 200, SubjectRoles{})
			return
		}
		writeJSON(w, 200, Token{ID: "t"})
	})
	return &limitedServer{ts.URL, ts.Client()}, func() int {
		mu.Lock()
		defer mu.Unlock()
		return limited
	}
}

// hammer sends n calls from 8 goroutines and returns the errors.
func hammer(c *Client, n int, post bool) []error {
	var (
		wg   gosync.WaitGroup
		mu   gosync.Mutex
		errs []error
	)
	jobs := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for range jobs {
				var err error
				if post {
					_, err = c.SetTokenRoles(context.Background(), "o", "t", []Role{{EntityID: "w", EntityType: EntityWorkspace, Role: "WORKSPACE_MEMBER"}})
				} else {
					_, err = c.Token(context.Background(), "o", "t")
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	return errs
}

func TestDefaultRateLimitsAvoid429(t *testing.T) {
	tests := []struct {
		name string
		post bool
		n    int // more than the server's burst, so the bucket must refill
	}{
		{name: "GET", n: DefaultGetRate + 15},
		{name: "POST", post: true, n: DefaultPostRate + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, limited := conformingServer(t)
			// Defaults, except no retries: a single 429 must show as an error.
			c, err := New(srv.url+"/v1", WithCredential(testSecret), WithHTTPClient(srv.hc), WithMaxRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			if errs := hammer(c, tt.n, tt.post); len(errs) > 0 {
				t.Errorf("%d calls failed, first: %v", len(errs), errs[0])
			}
			if got := limited(); got != 0 {
				t.Errorf("the server answered 429 %d times", got)
			}
			if s := c.Stats(); s.RateLimited != 0 || s.Requests != tt.n {
				t.Errorf("stats = %+v, want %d requests and no 429", s, tt.n)
			}
		})
	}
}

// TestConformingServerLimits shows that the server above does answer 429
// to a client without a limiter, so TestDefaultRateLimitsAvoid429 can fail.
func TestConformingServerLimits(t *testing.T) {
	srv, limited := conformingServer(t)
	c, err := New(srv.url+"/v1", WithCredential(testSecret), WithHTTPClient(srv.hc), WithMaxRetries(0), WithRateLimits(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	errs := hammer(c, 100, false)
	if limited() == 0 || len(errs) == 0 {
		t.Fatalf("an unlimited client got no 429 (%d errors)", len(errs))
	}
	if s := c.Stats(); s.RateLimited != limited() || s.ByStatus[429] != limited() {
		t.Errorf("stats = %+v, want %d rate-limited answers", s, limited())
	}
}

func TestRateLimiterSpacesAttempts(t *testing.T) {
	ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, n int) {
		if n%4 != 3 {
			writeJSON(w, 503, ErrorBody{Message: "busy"})
			return
		}
		writeJSON(w, 200, Token{ID: "t"})
	})
	c := newTestClient(t, ts, WithRateLimits(40, 0, 0))
	start := time.Now()
	for range 2 {
		if _, err := c.Token(t.Context(), "o", "t"); err != nil {
			t.Fatal(err)
		}
	}
	// 8 attempts, retries included, at 40/s: at least 7 gaps of 25ms.
	if took, min := time.Since(start), 7*25*time.Millisecond; took < min {
		t.Errorf("8 attempts took %v, want at least %v", took, min)
	}
	if n := rec.count(); n != 8 {
		t.Errorf("server saw %d requests, want 8", n)
	}
}

func TestRateLimiterPerMethodAndContext(t *testing.T) {
	ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
		if r.Method == http.MethodPost {
			writeJSON(w, 200, SubjectRoles{})
			return
		}
		writeJSON(w, 200, Token{ID: "t"})
	})
	c := newTestClient(t, ts, WithRateLimits(0, 0.001, 0)) // one POST, then one per 1000s
	roles := []Role{{EntityID: "w", EntityType: EntityWorkspace, Role: "WORKSPACE_MEMBER"}}
	if _, err := c.SetTokenRoles(t.Context(), "o", "t", roles); err != nil {
		t.Fatal(err)
	}
	for range 5 { // GET is not limited by the POST limiter
		if _, err := c.Token(t.Context(), "o", "t"); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := c.SetTokenRoles(ctx, "o", "t", roles)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
		}
	})
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.SetTokenRoles(ctx, "o", "t", roles)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(%v, context.Canceled) = false", err)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		stop := time.AfterFunc(20*time.Millisecond, cancel)
		defer stop.Stop()
		_, err := c.SetTokenRoles(ctx, "o", "t", roles)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(%v, context.Canceled) = false", err)
		}
	})
	if n := rec.count(); n != 6 {
		t.Errorf("server saw %d requests, want 6", n)
	}
}
