package astroapitest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokensync/tokensync/astroapi"
	"golang.org/x/time/rate"
)

// Options tune the emulator. The zero value is a fault-free emulator with
// Astro's rate limits and no added latency.
type Options struct {
	// Latency is added to every API request.
	Latency time.Duration
	// LatencyJitter adds a uniform extra 0..LatencyJitter, drawn from a
	// source seeded with FaultSeed.
	LatencyJitter time.Duration
	// RateLimits are the requests per second allowed per credential and
	// method. The zero value is Astro's (AstroLimits); NoRateLimit disables.
	RateLimits Limits
	// FaultRate (0..1) is the fraction of API requests answered with a random
	// fault: 500, 502, 503, 429 (without Retry-After) or a dropped connection.
	// Half the dropped POSTs are dropped after the write was applied: the
	// change is made but its response is lost.
	FaultRate float64
	// FaultSeed seeds the fault and jitter draws: sequential requests see
	// the same fault sequence for the same seed.
	FaultSeed int64
	// MaxPageSize caps the items of a page below the limit asked (0: no cap),
	// so that lists have short pages in the middle.
	MaxPageSize int
	// BeforeRoleWrite, when set, is called with the token id before a valid
	// POST /tokens/{id}/roles is applied, without any lock held: it may block
	// or change the state (the request is validated again afterwards).
	BeforeRoleWrite func(tokenID string)
	// AfterRoleWrite, when set, is called with the token id and the role
	// list stored (built-in role names upper-cased) after every applied
	// POST /tokens/{id}/roles, whether or not its response is then
	// delivered, without any lock held: a test's write log.
	AfterRoleWrite func(tokenID string, roles []astroapi.Role)
}

// Limits are requests per second per credential, by method (HEAD counts as
// GET; methods other than GET and DELETE count as POST). A field of 0 takes
// Astro's value for that method; a negative field means no limit.
type Limits struct{ GET, POST, DELETE float64 }

// AstroLimits are Astro's documented rate limits.
var AstroLimits = Limits{GET: 25, POST: 10, DELETE: 5}

// NoRateLimit disables rate limiting.
var NoRateLimit = Limits{GET: -1, POST: -1, DELETE: -1}

// Stats counts the API requests the emulator answered. Admin endpoints are
// not counted.
type Stats struct {
	// Requests counts requests by "METHOD /organizations/{organizationId}/..."
	// route template, or by "METHOD /raw/path" for unknown routes.
	Requests map[string]int `json:"requests"`
	// Statuses counts responses by status code; 0 counts dropped connections.
	Statuses map[int]int `json:"statuses"`
	// RoleWrites counts the applied POST /tokens/{id}/roles, by token id,
	// whether or not the role list changed.
	RoleWrites map[string]int `json:"roleWrites"`
	// UserRoleWrites and TeamRoleWrites count the applied POST
	// /users/{id}/roles and /teams/{id}/roles, by user or team id.
	UserRoleWrites map[string]int `json:"userRoleWrites"`
	TeamRoleWrites map[string]int `json:"teamRoleWrites"`
}

func newStats() Stats {
	return Stats{Requests: map[string]int{}, Statuses: map[int]int{}, RoleWrites: map[string]int{},
		UserRoleWrites: map[string]int{}, TeamRoleWrites: map[string]int{}}
}

// Server is the in-memory Astro API v1. It is an http.Handler serving
// "/v1/organizations/{organizationId}/..." and the admin endpoints under
// "/_emulator/". It is safe for concurrent use.
type Server struct {
	opts            Options
	limits          Limits
	requestIDPrefix string
	requests        atomic.Uint64

	mu          sync.Mutex
	st          *State
	idx         *index
	credentials map[string]*Credential // copies, by secret; nil: any bearer
	tokenMeta   map[string]*tokenMeta
	created     map[string]time.Time // workspaces, deployments, custom roles (by name), by key
	stats       Stats
	limiters    map[string]*rate.Limiter
	faults      *rand.Rand
	jitter      *rand.Rand

	// subjectUpdatedBy is updatedBy of users and teams, by "user/ID" or "team/ID".
	subjectUpdatedBy map[string]*astroapi.Subject
}

// tokenMeta is what the emulator keeps about a token beyond its State.
type tokenMeta struct {
	createdAt time.Time
	updatedBy *astroapi.Subject
}

// epoch is the base of the default timestamps of a state's objects.
var epoch = time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)

// NewServer returns an emulator serving a deep copy of st. It panics if st
// is nil or invalid (see State.Validate) or if opts are out of range.
func NewServer(st *State, opts Options) *Server {
	if st == nil {
		panic("astroapitest.NewServer: nil state")
	}
	if err := st.Validate(); err != nil {
		panic(fmt.Sprintf("astroapitest.NewServer: invalid state:\n%v", err))
	}
	if opts.FaultRate < 0 || opts.FaultRate > 1 || math.IsNaN(opts.FaultRate) {
		panic(fmt.Sprintf("astroapitest.NewServer: FaultRate %v is not in 0..1", opts.FaultRate))
	}
	if opts.MaxPageSize < 0 || opts.Latency < 0 || opts.LatencyJitter < 0 {
		panic("astroapitest.NewServer: negative MaxPageSize, Latency or LatencyJitter")
	}
	s := &Server{
		opts:            opts,
		limits:          opts.RateLimits,
		requestIDPrefix: fmt.Sprintf("req-%08x-", rand.Uint32()),
		st:              st.Clone(),
		tokenMeta:       map[string]*tokenMeta{},
		created:         map[string]time.Time{},
		stats:           newStats(),
		limiters:        map[string]*rate.Limiter{},
		faults:          rand.New(rand.NewPCG(uint64(opts.FaultSeed), 0x9e3779b97f4a7c15)),
		jitter:          rand.New(rand.NewPCG(uint64(opts.FaultSeed), 0x3c6ef372fe94f82b)),
	}
	if s.limits.GET == 0 {
		s.limits.GET = AstroLimits.GET
	}
	if s.limits.POST == 0 {
		s.limits.POST = AstroLimits.POST
	}
	if s.limits.DELETE == 0 {
		s.limits.DELETE = AstroLimits.DELETE
	}
	s.idx = newIndex(s.st)
	for i, w := range s.st.Workspaces {
		s.created["workspace/"+w.ID] = epoch.Add(time.Duration(i) * time.Hour)
	}
	for i, d := range s.st.Deployments {
		s.created["deployment/"+d.ID] = epoch.Add(7*24*time.Hour + time.Duration(i)*time.Hour)
	}
	for i, r := range s.st.Roles {
		s.created["role/"+r.Name] = epoch.Add(14*24*time.Hour + time.Duration(i)*time.Hour)
	}
	for i, t := range s.st.Tokens {
		c := t.CreatedAt
		if c.IsZero() {
			c = epoch.Add(30*24*time.Hour + time.Duration(i)*time.Hour)
		}
		s.tokenMeta[t.ID] = &tokenMeta{createdAt: c}
	}
	if len(s.st.Credentials) > 0 {
		s.indexCredentials()
	}
	return s
}

// indexCredentials rebuilds the credentials map from the state, with
// copies, so that requests in flight keep theirs. s.mu must be held once
// the server serves.
func (s *Server) indexCredentials() {
	s.credentials = map[string]*Credential{}
	for _, c := range s.st.Credentials {
		c.WorkspaceIDs = slices.Clone(c.WorkspaceIDs)
		s.credentials[c.Secret] = &c
	}
}

// TB is the part of testing.TB that NewTestServer uses; *testing.T,
// *testing.B and *testing.F satisfy it. The package takes this interface
// rather than testing.TB so that the binaries that serve the emulator
// (tokensync emulator) do not link the testing package.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// NewTestServer starts an emulator for st on a loopback port, stopped at
// t's cleanup (which waits for the requests in flight to end), and returns
// it with its base URL (ending in "/v1"). It fails the test if st is
// invalid or no port can be had.
func NewTestServer(t TB, st *State, opts Options) (*Server, string) {
	t.Helper()
	if st == nil {
		t.Fatalf("astroapitest.NewTestServer: nil state")
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("astroapitest.NewTestServer: invalid state:\n%v", err)
	}
	s := NewServer(st, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("astroapitest.NewTestServer: listen: %v", err)
	}
	h := &tracked{h: s}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // ErrServerClosed, once the cleanup closes it
	}()
	t.Cleanup(func() {
		srv.Close()
		<-served
		h.wait()
	})
	return s, "http://" + ln.Addr().String() + "/v1"
}

// tracked is a handler that counts its requests in flight, so that a
// test server's cleanup can wait for them as httptest.Server.Close does.
type tracked struct {
	h      http.Handler
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (t *tracked) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		panic(http.ErrAbortHandler)
	}
	t.wg.Add(1)
	t.mu.Unlock()
	defer t.wg.Done()
	t.h.ServeHTTP(w, r)
}

// wait refuses new requests and waits for those in flight to end.
func (t *tracked) wait() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
}

// ListenAndServe serves the emulator on addr (e.g. "127.0.0.1:0"), calls
// ready with the base URL ("http://HOST:PORT/v1") once it accepts
// connections, and shuts down gracefully when ctx ends, returning nil then.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(baseURL string)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("emulator: listen: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready("http://" + ln.Addr().String() + "/v1")
	}
	select {
	case err := <-served:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator: serve: %w", err)
	}
	return nil
}

// Stats returns a snapshot of the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := newStats()
	for k, v := range s.stats.Requests {
		c.Requests[k] = v
	}
	for k, v := range s.stats.Statuses {
		c.Statuses[k] = v
	}
	for k, v := range s.stats.RoleWrites {
		c.RoleWrites[k] = v
	}
	maps.Copy(c.UserRoleWrites, s.stats.UserRoleWrites)
	maps.Copy(c.TeamRoleWrites, s.stats.TeamRoleWrites)
	return c
}

// ResetStats zeroes the request counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = newStats()
}

// State returns a deep copy of the current state.
func (s *Server) State() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Clone()
}

// SetTokenRoles replaces a token's roles as POST /tokens/{id}/roles would,
// under the same rules, but without HTTP, hook, faults or stats: a test's
// way to make a concurrent change.
func (s *Server) SetTokenRoles(tokenID string, roles []astroapi.Role) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.token(tokenID)
	if t == nil {
		return fmt.Errorf("set roles of token %q: token not found", tokenID)
	}
	roles = slices.Clone(roles)
	if fe := s.checkTokenRoles(t, roles); len(fe) > 0 {
		errs := make([]error, len(fe))
		for i, e := range fe {
			errs[i] = fmt.Errorf("%s: %s", e.Field, e.Message)
		}
		return fmt.Errorf("set roles of token %q: %w", tokenID, errors.Join(errs...))
	}
	s.applyRoles(t, roles, nil)
	return nil
}

// call is one API request in flight.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	id     string
	status int
	cred   *Credential // nil when credentials are not configured
	secret string
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{s: s, w: w, r: r, id: s.requestIDPrefix + strconv.FormatUint(s.requests.Add(1), 10)}
	if r.URL.Path == "/_emulator" || strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.serveAdmin(c)
		return
	}
	rt, org, tokenID := match(r.URL.EscapedPath())
	key := r.Method + " " + r.URL.Path
	if rt != nil {
		key = r.Method + " " + rt.template
	}
	s.mu.Lock()
	s.stats.Requests[key]++
	s.mu.Unlock()

	if d := s.latency(); d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			return
		}
	}
	status, drop, after := s.drawFault()
	switch {
	case drop && after && r.Method == http.MethodPost:
		c.w = discard{}
		s.serveAPI(c, rt, org, tokenID)
		s.drop(w)
		return
	case drop:
		s.drop(w)
		return
	case status != 0:
		c.fail(status, faultMessage(status), nil)
	default:
		s.serveAPI(c, rt, org, tokenID)
	}
	if c.status != 0 {
		s.mu.Lock()
		s.stats.Statuses[c.status]++
		s.mu.Unlock()
	}
}

func (s *Server) serveAPI(c *call, rt *route, org, tokenID string) {
	if !c.authenticate() || !c.allowRate() {
		return
	}
	if rt == nil {
		c.fail(http.StatusNotFound, fmt.Sprintf("no route for %s %s", c.r.Method, c.r.URL.Path), nil)
		return
	}
	h := rt.methods[c.r.Method]
	if h == nil {
		allowed := make([]string, 0, len(rt.methods))
		for m := range rt.methods {
			allowed = append(allowed, m)
		}
		slices.Sort(allowed)
		c.w.Header().Set("Allow", strings.Join(allowed, ", "))
		c.fail(http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s", c.r.Method, rt.template), nil)
		return
	}
	if org != s.st.Organization.ID { // immutable after NewServer
		c.fail(http.StatusNotFound, fmt.Sprintf("organization %q not found", org), nil)
		return
	}
	h(c, tokenID)
}

func (s *Server) latency() time.Duration {
	d := s.opts.Latency
	if s.opts.LatencyJitter > 0 {
		s.mu.Lock()
		d += time.Duration(s.jitter.Int64N(int64(s.opts.LatencyJitter) + 1))
		s.mu.Unlock()
	}
	return d
}

// drawFault draws the fault of one request: a status, or a dropped
// connection, dropped after the write when after is set. Every request
// consumes the same draws, so the sequence does not depend on methods.
func (s *Server) drawFault() (status int, drop, after bool) {
	if s.opts.FaultRate <= 0 {
		return 0, false, false
	}
	s.mu.Lock()
	p, kind, when := s.faults.Float64(), s.faults.IntN(5), s.faults.IntN(2)
	s.mu.Unlock()
	if p >= s.opts.FaultRate {
		return 0, false, false
	}
	switch kind {
	case 0:
		return http.StatusInternalServerError, false, false
	case 1:
		return http.StatusBadGateway, false, false
	case 2:
		return http.StatusServiceUnavailable, false, false
	case 3:
		return http.StatusTooManyRequests, false, false
	}
	return 0, true, when == 1
}

func faultMessage(status int) string {
	return "injected fault: " + strings.ToLower(http.StatusText(status))
}

// discard is a ResponseWriter that keeps nothing: it takes the answer of
// a write whose connection is dropped after the write is applied.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// drop closes the connection without a response.
func (s *Server) drop(w http.ResponseWriter) {
	s.mu.Lock()
	s.stats.Statuses[0]++
	s.mu.Unlock()
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// authenticate checks the bearer credential; it answers 401 when it fails.
func (c *call) authenticate() bool {
	h := c.r.Header.Values("Authorization")
	scheme, secret, ok := "", "", false
	if len(h) == 1 {
		scheme, secret, ok = strings.Cut(h[0], " ")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" || strings.ContainsAny(secret, " \t") {
		c.fail(http.StatusUnauthorized, `missing or malformed Authorization header: want "Bearer <API token>"`, nil)
		return false
	}
	c.secret = secret
	c.s.mu.Lock()
	anyBearer := c.s.credentials == nil
	c.s.mu.Unlock()
	if anyBearer {
		return true
	}
	c.s.mu.Lock()
	cred := c.s.credentials[secret]
	c.s.mu.Unlock()
	if cred == nil {
		c.fail(http.StatusUnauthorized, "invalid API token", nil)
		return false
	}
	c.cred = cred
	return true
}

// allowRate applies the credential's token bucket for the request's method;
// it answers 429 with Retry-After when the bucket is empty.
func (c *call) allowRate() bool {
	class, limit := "POST", c.s.limits.POST
	switch c.r.Method {
	case http.MethodGet, http.MethodHead:
		class, limit = "GET", c.s.limits.GET
	case http.MethodDelete:
		class, limit = "DELETE", c.s.limits.DELETE
	}
	if limit < 0 {
		return true
	}
	key := c.secret + "\x00" + class
	c.s.mu.Lock()
	lim := c.s.limiters[key]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(limit), max(1, int(math.Ceil(limit))))
		c.s.limiters[key] = lim
	}
	c.s.mu.Unlock()
	res := lim.Reserve()
	d := res.Delay()
	if d == 0 {
		return true
	}
	res.Cancel()
	c.w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
	c.fail(http.StatusTooManyRequests, fmt.Sprintf("rate limit exceeded: %g %s requests per second per API token", limit, class), nil)
	return false
}

// readOnly answers 403 when the credential may not write.
func (c *call) readOnly() bool {
	if c.cred != nil && c.cred.ReadOnly {
		c.fail(http.StatusForbidden, "this API token is read-only", nil)
		return true
	}
	return false
}

// restricted reports whether the credential is confined to some workspaces.
func (c *call) restricted() bool {
	return c.cred != nil && len(c.cred.WorkspaceIDs) > 0
}

// mayAccess reports whether the credential may see workspace ws.
func (c *call) mayAccess(ws string) bool {
	return !c.restricted() || slices.Contains(c.cred.WorkspaceIDs, ws)
}

func (c *call) forbidden(format string, args ...any) {
	c.fail(http.StatusForbidden, fmt.Sprintf(format, args...), nil)
}

// fail answers an Error body.
func (c *call) fail(status int, msg string, fe []astroapi.FieldError) {
	c.reply(status, astroapi.ErrorBody{Message: msg, RequestID: c.id, StatusCode: status, FieldErrors: fe})
}

// reply answers status with v as JSON (no body for 204).
func (c *call) reply(status int, v any) {
	c.status = status
	if status == http.StatusNoContent {
		c.w.WriteHeader(status)
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("astroapitest: encode response: %v", err))
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	c.w.WriteHeader(status)
	c.w.Write(append(body, '\n'))
}

// adminState is the state that GET /_emulator/state answers: the
// credentials' secrets are left out, so the endpoint, which needs no
// credential, never gives one away.
func (s *Server) adminState() *State {
	st := s.State().normalized()
	for i := range st.Credentials {
		st.Credentials[i].Secret = ""
	}
	return st
}

// adminStats is what GET /_emulator/stats answers: Stats, with any
// credential secret that a request put in an unknown route's path
// redacted.
func (s *Server) adminStats() Stats {
	stats := s.Stats()
	s.mu.Lock()
	secrets := make([]string, 0, len(s.credentials))
	for secret := range s.credentials {
		secrets = append(secrets, secret)
	}
	s.mu.Unlock()
	for route, n := range stats.Requests {
		clean := route
		for _, secret := range secrets {
			clean = strings.ReplaceAll(clean, secret, "[REDACTED]")
		}
		if clean != route {
			delete(stats.Requests, route)
			stats.Requests[clean] += n
		}
	}
	return stats
}

// serveAdmin answers the admin endpoints: no auth, limits, faults or stats.
func (s *Server) serveAdmin(c *call) {
	var v any
	switch c.r.URL.Path {
	case "/_emulator/stats":
		v = s.adminStats()
	case "/_emulator/state":
		v = s.adminState()
	default:
		c.fail(http.StatusNotFound, fmt.Sprintf("no route for %s %s", c.r.Method, c.r.URL.Path), nil)
		return
	}
	if c.r.Method != http.MethodGet {
		c.w.Header().Set("Allow", http.MethodGet)
		c.fail(http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s", c.r.Method, c.r.URL.Path), nil)
		return
	}
	c.reply(http.StatusOK, v)
}
