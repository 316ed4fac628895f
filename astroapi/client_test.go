package astroapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewBaseURL(t *testing.T) {
	tests := []struct {
		base    string
		wantErr string // "" means accepted
	}{
		{base: "https://api.astronomer.io/v1"},
		{base: "https://api.astronomer.io/v1/"},
		{base: "http://127.0.0.1:1234/v1"},
		{base: "http://127.10.0.3/v1"},
		{base: "http://localhost:8080/v1"},
		{base: "http://LOCALHOST/v1"},
		{base: "http://[::1]:9/v1"},
		{base: "http://api.example.invalid/v1", wantErr: "http is allowed only on loopback hosts"},
		{base: "http://10.0.0.1/v1", wantErr: "http is allowed only on loopback hosts"},
		{base: "http://localhost.example.com/v1", wantErr: "http is allowed only on loopback hosts"},
		{base: "http://[::2]/v1", wantErr: "http is allowed only on loopback hosts"},
		{base: "ftp://api.astronomer.io/v1", wantErr: "scheme must be https"},
		{base: "api.astronomer.io/v1", wantErr: "want an absolute URL"},
		{base: "", wantErr: "want an absolute URL"},
		{base: "https://user:pw@api.astronomer.io/v1", wantErr: "must not contain user information"},
		{base: "https://api.astronomer.io/v1?x=1", wantErr: "must not have a query or fragment"},
		{base: "https://api.astronomer.io/v1#frag", wantErr: "must not have a query or fragment"},
		{base: "https://api.astro nomer.io/v1", wantErr: "astro api base url"},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			c, err := New(tt.base)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New(%q): %v", tt.base, err)
				}
				if strings.HasSuffix(c.base.Path, "/") {
					t.Errorf("base path %q keeps a trailing slash", c.base.Path)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New(%q) error = %v, want one containing %q", tt.base, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("error %q shows the URL's password", err)
			}
		})
	}
}

func TestNewRefusesPlainHTTPBeforeDialing(t *testing.T) {
	dialed := false
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		dialed = true
		return nil, errors.New("dialed")
	})}
	if _, err := New("http://api.example.invalid/v1", WithHTTPClient(hc)); err == nil {
		t.Fatal("New accepted a plain-http, non-loopback base URL")
	}
	if dialed {
		t.Error("New contacted the server")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		wantErr string
		check   func(t *testing.T, c *Client)
	}{
		{name: "defaults", check: func(t *testing.T, c *Client) {
			got := fmt.Sprintln(c.userAgent, c.maxRetries, c.backoff.base, c.backoff.max, c.timeout, c.pageSize,
				c.limiters["GET"].Limit(), c.limiters["POST"].Limit(), c.limiters["DELETE"].Limit(),
				c.limiters["GET"].Burst(), c.limiters["POST"].Burst(), c.limiters["DELETE"].Burst())
			const want = "tokensync/dev 5 250ms 30s 30s 1000 25 10 5 1 1 1"
			if strings.TrimSpace(got) != want {
				t.Errorf("defaults = %q, want %q", got, want)
			}
		}},
		{name: "options apply", opts: []Option{WithUserAgent("ua"), WithMaxRetries(0), WithBackoff(time.Second, time.Minute), WithRequestTimeout(time.Second), WithPageSize(7), WithRateLimits(1, 2, 0)},
			check: func(t *testing.T, c *Client) {
				got := fmt.Sprintln(c.userAgent, c.maxRetries, c.backoff.base, c.backoff.max, c.timeout, c.pageSize,
					c.limiters["GET"].Limit(), c.limiters["POST"].Limit(), c.limiters["DELETE"] == nil)
				const want = "ua 0 1s 1m0s 1s 7 1 2 true"
				if strings.TrimSpace(got) != want {
					t.Errorf("options = %q, want %q", got, want)
				}
			}},
		{name: "negative retries", opts: []Option{WithMaxRetries(-1)}, wantErr: "max retries -1 is negative"},
		{name: "zero backoff base", opts: []Option{WithBackoff(0, time.Second)}, wantErr: "backoff base 0s and max 1s"},
		{name: "backoff max below base", opts: []Option{WithBackoff(time.Second, time.Millisecond)}, wantErr: "want 0 < base <= max"},
		{name: "page size zero", opts: []Option{WithPageSize(0)}, wantErr: "page size 0 out of range 1..1000"},
		{name: "page size over the API maximum", opts: []Option{WithPageSize(1001)}, wantErr: "page size 1001 out of range 1..1000"},
		{name: "nil http client", opts: []Option{WithHTTPClient(nil)}, wantErr: "http client is nil"},
		{name: "credential with a newline", opts: []Option{WithCredential("abc\r\nX-Evil: 1")}, wantErr: "credential contains white space or control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New("https://api.astronomer.io/v1", tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "X-Evil") {
					t.Errorf("error %q shows the credential", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestWithHTTPClientDoesNotChangeCallersClient(t *testing.T) {
	hc := &http.Client{Timeout: time.Minute}
	c, err := New("https://api.astronomer.io/v1", WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil {
		t.Error("New set CheckRedirect on the caller's http.Client")
	}
	if c.hc == hc || c.hc.CheckRedirect == nil || c.hc.Timeout != time.Minute {
		t.Error("the client does not use a redirect-refusing copy of the given http.Client")
	}
}

func TestRedirectsAreRefused(t *testing.T) {
	other, otherRec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeJSON(w, 200, Token{ID: "stolen"})
	})
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
				http.Redirect(w, r, other.URL+"/v1/organizations/o/tokens/t?x=1", status)
			})
			c := newTestClient(t, ts)
			_, err := c.Token(t.Context(), "o", "t")
			want := "GET /organizations/o/tokens/t: redirect to " + other.URL + "/v1/organizations/o/tokens/t refused"
			if err == nil || err.Error() != want {
				t.Errorf("error = %v, want %q", err, want)
			}
			if n := rec.count(); n != 1 {
				t.Errorf("redirecting server saw %d requests, want 1 (not retried)", n)
			}
		})
	}
	if n := otherRec.count(); n != 0 {
		t.Errorf("the redirect target saw %d requests, want 0", n)
	}
}

func TestUntrustedCertificateFails(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, Token{ID: "t"})
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	ts.StartTLS()
	t.Cleanup(ts.Close)

	t.Run("default client verifies", func(t *testing.T) {
		c, err := New(ts.URL+"/v1", WithCredential(testSecret), WithBackoff(time.Millisecond, 5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Token(t.Context(), "o", "t")
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("error = %v, want a certificate error", err)
		}
		if s := c.Stats(); s.Requests != 1 {
			t.Errorf("sent %d attempts, want 1 (certificate errors are not retried)", s.Requests)
		}
	})
	t.Run("a client that trusts the certificate works", func(t *testing.T) {
		c, err := New(ts.URL+"/v1", WithCredential(testSecret), WithHTTPClient(ts.Client()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Token(t.Context(), "o", "t"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStringHidesCredential(t *testing.T) {
	c, err := New("https://api.astronomer.io/v1", WithCredential(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(format, c)
		if strings.Contains(got, testSecret) {
			t.Errorf("Sprintf(%q) = %q shows the credential", format, got)
		}
		if !strings.Contains(got, "https://api.astronomer.io/v1") {
			t.Errorf("Sprintf(%q) = %q does not name the base URL", format, got)
		}
	}
}

func TestStatsIsACopy(t *testing.T) {
	ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeJSON(w, 200, Token{ID: "t"})
	})
	c := newTestClient(t, ts)
	if _, err := c.Token(t.Context(), "o", "t"); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	s.ByStatus[200] = 99
	if got := c.Stats().ByStatus[200]; got != 1 {
		t.Errorf("ByStatus[200] = %d after changing a copy, want 1", got)
	}
}

func TestRequestLog(t *testing.T) {
	ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, n int) {
		if n == 0 {
			writeJSON(w, 503, ErrorBody{Message: "busy", RequestID: "req-1"})
			return
		}
		writeJSON(w, 200, map[string]any{"tokens": []Token{}, "totalCount": 0})
	})
	var logs logCapture
	c := newTestClient(t, ts, WithLogger(logs.logger()))
	c.jitter = func(d time.Duration) time.Duration { return d }
	if _, err := c.Tokens(t.Context(), "o", TokenFilter{WorkspaceID: "w1"}); err != nil {
		t.Fatal(err)
	}
	recs := logs.attrs()
	for _, r := range recs {
		if _, ok := r["duration"].(time.Duration); !ok {
			t.Errorf("record %v has no duration", r)
		}
		delete(r, "duration")
	}
	const path = "/organizations/o/tokens?limit=1000&offset=0&workspaceId=w1"
	want := []map[string]any{
		{"msg": "astro api request", "level": "INFO", "method": "GET", "path": path, "status": int64(503), "attempt": int64(1),
			"request_id": "req-1", "error": "GET /organizations/o/tokens: 503 Service Unavailable: busy (request req-1)", "retry_in": time.Millisecond},
		{"msg": "astro api request", "level": "INFO", "method": "GET", "path": path, "status": int64(200), "attempt": int64(2)},
	}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
	if n := strings.Count(logs.text(), "\n"); n != 2 {
		t.Errorf("%d log lines, want one per attempt:\n%s", n, logs.text())
	}
}

func TestDefaultTransportReusesConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"t1","name":"n","scope":"WORKSPACE","roles":[]}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := New(srv.URL+"/v1", WithCredential("conn-test-credential"), WithRateLimits(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				if _, err := c.Token(context.Background(), "o", "t1"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// With net/http's default of 2 idle connections per host, 8 concurrent
	// workers dial again and again; with one idle connection per worker
	// kept, about one dial per worker happens (a few more when a dial
	// started for a waiting request finishes after another freed up).
	if n := conns.Load(); n > 2*workers {
		t.Errorf("%d connections for %d concurrent workers", n, workers)
	}
}
