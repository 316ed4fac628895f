package astroapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	gosync "sync"
	"testing"
	"time"
)

// testSecret is the credential of every test client; no error or log line
// may contain it.
const testSecret = "tsk_live_9f8e7d6c5b4a-SECRET"

// request is what a test server saw of one request.
type request struct {
	Method string
	Path   string // escaped path
	Query  url.Values
	Header http.Header
	Body   string
}

// recorder serves with a handler and records every request it sees.
type recorder struct {
	mu   gosync.Mutex
	reqs []request
}

func (r *recorder) add(req *http.Request) (request, int) {
	b, _ := io.ReadAll(req.Body)
	rec := request{Method: req.Method, Path: req.URL.EscapedPath(), Query: req.URL.Query(), Header: req.Header.Clone(), Body: string(b)}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, rec)
	return rec, len(r.reqs) - 1
}

func (r *recorder) all() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// serve starts an httptest server whose handler gets the recorded request
// and the attempt number (from 0).
func serve(t *testing.T, h func(w http.ResponseWriter, r *http.Request, rec request, n int)) (*httptest.Server, *recorder) {
	t.Helper()
	rc := &recorder{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, n := rc.add(r)
		h(w, r, rec, n)
	}))
	t.Cleanup(ts.Close)
	return ts, rc
}

// newTestClient builds a client for ts with fast retries and no rate limit;
// opts come after the defaults, so they win.
func newTestClient(t *testing.T, ts *httptest.Server, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithCredential(testSecret),
		WithHTTPClient(ts.Client()),
		WithBackoff(time.Millisecond, 5*time.Millisecond),
		WithRateLimits(0, 0, 0),
		WithRequestTimeout(5 * time.Second),
	}
	c, err := New(ts.URL+"/v1", append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeRaw(w http.ResponseWriter, status int, contentType, body string) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// hijack takes the connection from the server and hands it to f, then
// closes it.
func hijack(t *testing.T, w http.ResponseWriter, f func(conn net.Conn)) {
	t.Helper()
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("response writer cannot hijack")
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	_ = buf.Flush()
	f(conn)
}

// logCapture is a slog handler that records every record as text and as
// attribute maps.
type logCapture struct {
	mu      gosync.Mutex
	buf     bytes.Buffer
	records []map[string]any
}

func (l *logCapture) logger() *slog.Logger {
	return slog.New(&captureHandler{l: l, text: slog.NewTextHandler(&lockedWriter{l: l}, &slog.HandlerOptions{Level: slog.LevelDebug})})
}

func (l *logCapture) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logCapture) attrs() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]map[string]any(nil), l.records...)
}

type lockedWriter struct{ l *logCapture }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.buf.Write(p)
}

type captureHandler struct {
	l    *logCapture
	text slog.Handler
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(ctx context.Context, r slog.Record) error {
	m := map[string]any{"msg": r.Message, "level": r.Level.String()}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.Any()
		return true
	})
	h.l.mu.Lock()
	h.l.records = append(h.l.records, m)
	h.l.mu.Unlock()
	return h.text.Handle(ctx, r)
}

func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

// recordFunc is a slog handler that calls itself for every record.
type recordFunc func(slog.Record)

func (f recordFunc) Enabled(context.Context, slog.Level) bool { return true }
func (f recordFunc) Handle(_ context.Context, r slog.Record) error {
	f(r)
	return nil
}
func (f recordFunc) WithAttrs([]slog.Attr) slog.Handler { return f }
func (f recordFunc) WithGroup(string) slog.Handler      { return f }
