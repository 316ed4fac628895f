package astroapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRetryDelay(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const base, max = 100 * time.Millisecond, 10 * time.Second
	identity := func(d time.Duration) time.Duration { return d }
	half := func(d time.Duration) time.Duration { return d / 2 }
	hdr := func(retryAfter string) http.Header { return http.Header{"Retry-After": {retryAfter}} }
	tests := []struct {
		name      string
		attempt   int
		status    int
		header    http.Header
		err       error
		jitter    func(time.Duration) time.Duration
		wantDelay time.Duration
		wantRetry bool
	}{
		{name: "429 without Retry-After backs off from base", status: 429, wantDelay: base, wantRetry: true},
		{name: "502 retried", status: 502, wantDelay: base, wantRetry: true},
		{name: "503 retried", status: 503, wantDelay: base, wantRetry: true},
		{name: "504 retried", status: 504, wantDelay: base, wantRetry: true},
		{name: "backoff doubles per attempt", attempt: 3, status: 503, wantDelay: 800 * time.Millisecond, wantRetry: true},
		{name: "backoff is capped", attempt: 7, status: 503, wantDelay: max, wantRetry: true},
		{name: "huge attempt does not overflow", attempt: 10000, status: 503, wantDelay: max, wantRetry: true},
		{name: "full jitter is applied to the backoff", attempt: 1, status: 429, jitter: half, wantDelay: 100 * time.Millisecond, wantRetry: true},
		{name: "Retry-After seconds", status: 429, header: hdr("3"), wantDelay: 3 * time.Second, wantRetry: true},
		{name: "Retry-After seconds with spaces", status: 429, header: hdr(" 2 "), wantDelay: 2 * time.Second, wantRetry: true},
		{name: "Retry-After zero", attempt: 4, status: 429, header: hdr("0"), wantDelay: 0, wantRetry: true},
		{name: "Retry-After is not jittered", status: 429, header: hdr("4"), jitter: half, wantDelay: 4 * time.Second, wantRetry: true},
		{name: "Retry-After on 503", status: 503, header: hdr("1"), wantDelay: time.Second, wantRetry: true},
		{name: "Retry-After over the cap is capped", status: 429, header: hdr("120"), wantDelay: max, wantRetry: true},
		{name: "Retry-After absurdly large is capped", status: 429, header: hdr("99999999999999999"), wantDelay: max, wantRetry: true},
		{name: "Retry-After HTTP date", status: 429, header: hdr(now.Add(5 * time.Second).Format(http.TimeFormat)), wantDelay: 5 * time.Second, wantRetry: true},
		{name: "Retry-After HTTP date over the cap", status: 429, header: hdr(now.Add(time.Hour).Format(http.TimeFormat)), wantDelay: max, wantRetry: true},
		{name: "Retry-After HTTP date in the past", status: 503, header: hdr(now.Add(-time.Minute).Format(http.TimeFormat)), wantDelay: 0, wantRetry: true},
		{name: "Retry-After RFC 850 date", status: 429, header: hdr(now.Add(2 * time.Second).Format(time.RFC850)), wantDelay: 2 * time.Second, wantRetry: true},
		{name: "Retry-After garbage falls back to backoff", attempt: 1, status: 429, header: hdr("soon"), wantDelay: 200 * time.Millisecond, wantRetry: true},
		{name: "Retry-After negative falls back to backoff", status: 429, header: hdr("-5"), wantDelay: base, wantRetry: true},
		{name: "200 not retried", status: 200},
		{name: "201 not retried", status: 201},
		{name: "400 not retried", status: 400},
		{name: "401 not retried", status: 401},
		{name: "403 not retried", status: 403},
		{name: "404 not retried", status: 404},
		{name: "409 not retried", status: 409},
		{name: "500 not retried", status: 500, header: hdr("1")},
		{name: "501 not retried", status: 501},
		{name: "transport error retried", err: errors.New("read: connection reset by peer"), wantDelay: base, wantRetry: true},
		{name: "transport error backs off", attempt: 2, err: net.ErrClosed, wantDelay: 400 * time.Millisecond, wantRetry: true},
		{name: "transport error ignores Retry-After", err: errors.New("EOF"), header: hdr("7"), wantDelay: base, wantRetry: true},
		{name: "per-attempt timeout retried", err: fmt.Errorf("GET /x: %w", &timeoutError{d: time.Second}), wantDelay: base, wantRetry: true},
		{name: "context canceled not retried", err: context.Canceled},
		{name: "context deadline not retried", err: context.DeadlineExceeded},
		{name: "wrapped cancellation not retried", err: &url.Error{Op: "Get", URL: "https://x", Err: context.Canceled}},
		{name: "refused redirect not retried", err: &url.Error{Op: "Get", URL: "https://x", Err: &redirectError{to: "https://y"}}},
		{name: "oversized body not retried", err: &bodyTooLargeError{limit: 10}},
		{name: "unknown certificate authority not retried", err: &url.Error{Op: "Get", URL: "https://x", Err: x509.UnknownAuthorityError{}}},
		{name: "certificate verification not retried", err: &tls.CertificateVerificationError{Err: errors.New("bad")}},
		{name: "certificate hostname not retried", err: x509.HostnameError{Host: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jitter := tt.jitter
			if jitter == nil {
				jitter = identity
			}
			header := tt.header
			if header == nil {
				header = http.Header{}
			}
			d, ok := retryDelay(tt.attempt, tt.status, header, tt.err, now, base, max, jitter)
			if d != tt.wantDelay || ok != tt.wantRetry {
				t.Errorf("retryDelay = (%v, %v), want (%v, %v)", d, ok, tt.wantDelay, tt.wantRetry)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	for _, attempt := range []int{0, 1, 2, 30, 62, 63, 64, 1000} {
		d := backoff(attempt, time.Nanosecond, math.MaxInt64)
		if d <= 0 {
			t.Errorf("backoff(%d) = %v, want positive", attempt, d)
		}
	}
}

func TestFullJitter(t *testing.T) {
	if got := fullJitter(0); got != 0 {
		t.Errorf("fullJitter(0) = %v, want 0", got)
	}
	const d = 10 * time.Millisecond
	seen := map[bool]bool{}
	for range 1000 {
		got := fullJitter(d)
		if got < 0 || got > d {
			t.Fatalf("fullJitter(%v) = %v, outside [0, %v]", d, got, d)
		}
		seen[got < d/2] = true
	}
	if !seen[true] || !seen[false] {
		t.Errorf("fullJitter never spread over both halves of [0, %v]", d)
	}
}

func TestIsIdempotent(t *testing.T) {
	tests := []struct {
		method, path string
		want         bool
	}{
		{"GET", "/organizations/o/tokens", true},
		{"DELETE", "/organizations/o/tokens/t", true},
		{"POST", "/organizations/o/tokens/t/roles", true},
		{"POST", "/organizations/o/tokens", false},
		{"POST", "/organizations/o/tokens/t/rotate", false},
		{"PATCH", "/organizations/o/tokens/t", false},
	}
	for _, tt := range tests {
		if got := isIdempotent(tt.method, tt.path); got != tt.want {
			t.Errorf("isIdempotent(%s, %s) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}

// TestRetries drives do through real HTTP: which answers are retried, how
// often, what the caller sees, and what Stats counts.
func TestRetries(t *testing.T) {
	apiErr := func(w http.ResponseWriter, status int) {
		writeJSON(w, status, ErrorBody{Message: "try later", RequestID: fmt.Sprintf("req-%d", status), StatusCode: status})
	}
	ok := func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, Token{ID: "t"}) }
	dropConn := func(t *testing.T, w http.ResponseWriter) { hijack(t, w, func(net.Conn) {}) }
	tests := []struct {
		name       string
		maxRetries int
		answer     func(t *testing.T, w http.ResponseWriter, n int)
		wantErr    string // "" means success
		wantIs     error
		wantStats  Stats
	}{
		{
			name: "503 then success", maxRetries: 5,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				if n < 2 {
					apiErr(w, 503)
					return
				}
				ok(w)
			},
			wantStats: Stats{Requests: 3, Retries: 2, ByStatus: map[int]int{503: 2, 200: 1}},
		},
		{
			name: "429, 502, 504 then success", maxRetries: 5,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				switch n {
				case 0:
					apiErr(w, 429)
				case 1:
					apiErr(w, 502)
				case 2:
					apiErr(w, 504)
				default:
					ok(w)
				}
			},
			wantStats: Stats{Requests: 4, Retries: 3, RateLimited: 1, ByStatus: map[int]int{429: 1, 502: 1, 504: 1, 200: 1}},
		},
		{
			name: "dropped connection then success", maxRetries: 5,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				if n == 0 {
					dropConn(t, w)
					return
				}
				ok(w)
			},
			wantStats: Stats{Requests: 2, Retries: 1, ByStatus: map[int]int{200: 1}},
		},
		{
			name: "truncated success body then success", maxRetries: 5,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				if n == 0 {
					hijack(t, w, func(conn net.Conn) {
						fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":\"t")
					})
					return
				}
				ok(w)
			},
			wantStats: Stats{Requests: 2, Retries: 1, ByStatus: map[int]int{200: 2}},
		},
		{
			name: "cap reached returns the last error", maxRetries: 2,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				apiErr(w, 503)
			},
			wantErr:   "GET /organizations/o/tokens/t: 503 Service Unavailable: try later (request req-503) (gave up after 3 attempts)",
			wantStats: Stats{Requests: 3, Retries: 2, ByStatus: map[int]int{503: 3}},
		},
		{
			name: "cap reached on 429", maxRetries: 1,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				apiErr(w, 429)
			},
			wantErr:   "GET /organizations/o/tokens/t: 429 Too Many Requests: try later (request req-429) (gave up after 2 attempts)",
			wantStats: Stats{Requests: 2, Retries: 1, RateLimited: 2, ByStatus: map[int]int{429: 2}},
		},
		{
			name: "no retries configured", maxRetries: 0,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				apiErr(w, 503)
			},
			wantErr:   "GET /organizations/o/tokens/t: 503 Service Unavailable: try later (request req-503)",
			wantStats: Stats{Requests: 1, ByStatus: map[int]int{503: 1}},
		},
		{
			name: "500 is not retried", maxRetries: 5,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				apiErr(w, 500)
			},
			wantErr:   "GET /organizations/o/tokens/t: 500 Internal Server Error: try later (request req-500)",
			wantStats: Stats{Requests: 1, ByStatus: map[int]int{500: 1}},
		},
		{
			name: "404 is not retried", maxRetries: 5,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				apiErr(w, 404)
			},
			wantErr:   "GET /organizations/o/tokens/t: 404 Not Found: try later (request req-404)",
			wantIs:    ErrNotFound,
			wantStats: Stats{Requests: 1, ByStatus: map[int]int{404: 1}},
		},
		{
			name: "a retry that meets a 404 stops there", maxRetries: 5,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				if n == 0 {
					apiErr(w, 502)
					return
				}
				apiErr(w, 404)
			},
			wantErr:   "GET /organizations/o/tokens/t: 404 Not Found: try later (request req-404)",
			wantIs:    ErrNotFound,
			wantStats: Stats{Requests: 2, Retries: 1, ByStatus: map[int]int{502: 1, 404: 1}},
		},
		{
			name: "undecodable success is not retried", maxRetries: 5,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				writeRaw(w, 200, "application/json", `{"id":`)
			},
			wantErr:   "GET /organizations/o/tokens/t: decode response: unexpected end of JSON input",
			wantStats: Stats{Requests: 1, ByStatus: map[int]int{200: 1}},
		},
		{
			name: "dropped connections until the cap", maxRetries: 2,
			answer: func(t *testing.T, w http.ResponseWriter, n int) {
				dropConn(t, w)
			},
			wantErr:   "(gave up after 3 attempts)",
			wantStats: Stats{Requests: 3, Retries: 2, ByStatus: map[int]int{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, n int) {
				tt.answer(t, w, n)
			})
			c := newTestClient(t, ts, WithMaxRetries(tt.maxRetries))
			got, err := c.Token(t.Context(), "o", "t")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Token: %v", err)
			case tt.wantErr == "":
				if diff := cmp.Diff(Token{ID: "t"}, got); diff != "" {
					t.Errorf("token (-want +got):\n%s", diff)
				}
			case err == nil:
				t.Fatalf("Token = %v, want error %q", got, tt.wantErr)
			case !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if diff := cmp.Diff(tt.wantStats, c.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryKeepsAPIError(t *testing.T) {
	ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeJSON(w, 503, ErrorBody{Message: "down", RequestID: "r9", StatusCode: 503})
	})
	c := newTestClient(t, ts, WithMaxRetries(1))
	_, err := c.Token(t.Context(), "o", "t")
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("errors.As(%v, *Error) = false", err)
	}
	want := &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 503, Message: "down", RequestID: "r9"}
	if diff := cmp.Diff(want, apiErr); diff != "" {
		t.Errorf("*Error (-want +got):\n%s", diff)
	}
}

func TestRetryResendsBody(t *testing.T) {
	ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, n int) {
		if n < 2 {
			writeJSON(w, 503, ErrorBody{Message: "busy"})
			return
		}
		writeJSON(w, 200, SubjectRoles{OrganizationRole: "ORGANIZATION_MEMBER"})
	})
	c := newTestClient(t, ts)
	roles := []Role{{EntityID: "w", EntityType: EntityWorkspace, Role: "WORKSPACE_MEMBER"}}
	if _, err := c.SetTokenRoles(t.Context(), "o", "t", roles); err != nil {
		t.Fatal(err)
	}
	const want = `{"roles":[{"entityId":"w","entityType":"WORKSPACE","role":"WORKSPACE_MEMBER"}]}`
	reqs := rec.all()
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.Body != want {
			t.Errorf("attempt %d body = %q, want %q", i+1, r.Body, want)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("attempt %d Content-Type = %q", i+1, got)
		}
	}
}

func TestNonIdempotentPostIsNotRetried(t *testing.T) {
	ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeJSON(w, 503, ErrorBody{Message: "busy"})
	})
	c := newTestClient(t, ts)
	err := c.do(t.Context(), http.MethodPost, "/organizations/o/tokens", nil, map[string]string{"name": "x"}, &Token{})
	if err == nil {
		t.Fatal("do succeeded, want a 503 error")
	}
	if n := rec.count(); n != 1 {
		t.Errorf("server saw %d requests, want 1 (a create POST is not idempotent)", n)
	}
}

// TestRetryAfterHonoured checks through the request log that the wait
// before a retry comes from Retry-After when the server sends one.
func TestRetryAfterHonoured(t *testing.T) {
	serverNow := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		now        time.Time // the client's clock
		base, max  time.Duration
		want       time.Duration
	}{
		{name: "delta seconds", retryAfter: "0", now: serverNow, base: 50 * time.Millisecond, max: time.Second, want: 0},
		{name: "HTTP date", retryAfter: serverNow.Format(http.TimeFormat), now: serverNow.Add(-3 * time.Millisecond), base: 50 * time.Millisecond, max: time.Second, want: 3 * time.Millisecond},
		{name: "capped by max", retryAfter: "30", now: serverNow, base: time.Millisecond, max: 4 * time.Millisecond, want: 4 * time.Millisecond},
		{name: "absent uses backoff", retryAfter: "", now: serverNow, base: 2 * time.Millisecond, max: time.Second, want: 2 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, n int) {
				if n == 0 {
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
					writeJSON(w, 429, ErrorBody{Message: "slow down"})
					return
				}
				writeJSON(w, 200, Token{ID: "t"})
			})
			var logs logCapture
			c := newTestClient(t, ts, WithBackoff(tt.base, tt.max), WithLogger(logs.logger()))
			c.now = func() time.Time { return tt.now }
			c.jitter = func(d time.Duration) time.Duration { return d }
			if _, err := c.Token(t.Context(), "o", "t"); err != nil {
				t.Fatal(err)
			}
			recs := logs.attrs()
			if len(recs) != 2 {
				t.Fatalf("%d log records, want 2: %v", len(recs), recs)
			}
			if got := recs[0]["retry_in"]; got != tt.want {
				t.Errorf("retry_in = %v, want %v", got, tt.want)
			}
			if _, ok := recs[1]["retry_in"]; ok {
				t.Errorf("the successful attempt logged a retry: %v", recs[1])
			}
		})
	}
}

func TestContextCancelledDuringBackoff(t *testing.T) {
	ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeJSON(w, 503, ErrorBody{Message: "busy", RequestID: "r1"})
	})
	ctx, cancel := context.WithCancel(t.Context())
	// Cancel when the client logs that it is about to wait an hour.
	c := newTestClient(t, ts, WithBackoff(time.Hour, time.Hour), WithLogger(slog.New(recordFunc(func(r slog.Record) {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "retry_in" {
				cancel()
			}
			return true
		})
	}))))
	c.jitter = func(d time.Duration) time.Duration { return d }
	start := time.Now()
	_, err := c.Token(ctx, "o", "t")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Token returned after %v, want at once after cancel", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false", err)
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Errorf("error %v does not carry the last *Error", err)
	}
	const want = "GET /organizations/o/tokens/t: 503 Service Unavailable: busy (request r1) (retry 1 interrupted: context canceled)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if n := rec.count(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestContextCancelledBeforeAnyAttempt(t *testing.T) {
	ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeJSON(w, 200, Token{ID: "t"})
	})
	for _, opts := range [][]Option{{WithRateLimits(0, 0, 0)}, {WithRateLimits(25, 10, 5)}} {
		c := newTestClient(t, ts, opts...)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := c.Token(ctx, "o", "t"); !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(%v, context.Canceled) = false", err)
		}
	}
	if n := rec.count(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestContextCancelledDuringAttempt(t *testing.T) {
	arrived := make(chan struct{})
	ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
		close(arrived)
		<-r.Context().Done()
	})
	c := newTestClient(t, ts)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.Token(ctx, "o", "t")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "GET /organizations/o/tokens/t: ") {
		t.Errorf("error %q does not name the call", err)
	}
	if n := rec.count(); n != 1 {
		t.Errorf("server saw %d requests, want 1 (no retry after cancel)", n)
	}
}

func TestAttemptTimeout(t *testing.T) {
	done := make(chan struct{})
	ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
		select { // never answers
		case <-r.Context().Done():
		case <-done:
		}
	})
	t.Cleanup(func() { close(done) })
	c := newTestClient(t, ts, WithRequestTimeout(20*time.Millisecond), WithMaxRetries(2))
	_, err := c.Token(t.Context(), "o", "t")
	const want = "GET /organizations/o/tokens/t: no complete answer within 20ms (gave up after 3 attempts)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	var te interface{ Timeout() bool }
	if !errors.As(err, &te) || !te.Timeout() {
		t.Errorf("error %v is not a timeout", err)
	}
	if n := rec.count(); n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
}

func TestAttemptTimeoutCoversBody(t *testing.T) {
	done := make(chan struct{})
	ts, _ := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"id":`))
		w.(http.Flusher).Flush()
		select { // the rest of the body never comes
		case <-r.Context().Done():
		case <-done:
		}
	})
	t.Cleanup(func() { close(done) })
	c := newTestClient(t, ts, WithRequestTimeout(20*time.Millisecond), WithMaxRetries(0))
	_, err := c.Token(t.Context(), "o", "t")
	const want = "GET /organizations/o/tokens/t: no complete answer within 20ms"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestCallerDeadlineIsNotRetried(t *testing.T) {
	done := make(chan struct{})
	ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	t.Cleanup(func() { close(done) })
	c := newTestClient(t, ts)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	_, err := c.Token(ctx, "o", "t")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
	}
	if n := rec.count(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}
