package astroapi

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	gosync "sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of a Client; each has an Option to change it.
const (
	DefaultUserAgent      = "tokensync/dev"
	DefaultMaxRetries     = 5
	DefaultBackoffBase    = 250 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultPageSize       = 1000 // the API's maximum
	// Astro's published rate limits per API token, in requests per second.
	DefaultGetRate    = 25
	DefaultPostRate   = 10
	DefaultDeleteRate = 5
)

// Body size limits: an error body is cut at maxErrorBody bytes (it only feeds
// a message); a success body larger than maxSuccessBody is an error.
const (
	maxErrorBody   = 64 << 10
	maxSuccessBody = 64 << 20
)

// List limits: a list longer than maxListItems items, or read in more than
// maxListPages pages, is refused. Together with the refusal of a page that
// brings nothing new they bound what a list that never ends can cost.
const (
	maxListItems = 100_000
	maxListPages = 200
)

// Client talks to the Astro API v1. It is safe for concurrent use. Build one
// with New.
type Client struct {
	base       *url.URL
	hc         *http.Client
	credential string
	userAgent  string
	maxRetries int
	backoff    struct{ base, max time.Duration }
	timeout    time.Duration
	limiters   map[string]*rate.Limiter // by HTTP method; nil or missing = unlimited
	logger     *slog.Logger
	pageSize   int

	// Seams for tests in this package.
	jitter         func(time.Duration) time.Duration
	now            func() time.Time
	maxSuccessBody int64
	maxPages       int
	maxItems       int

	optErr error // the first invalid option

	mu    gosync.Mutex
	stats Stats
}

// Option configures a Client in New.
type Option func(*Client)

// Stats counts what a Client did since New.
type Stats struct {
	Requests    int         // attempts sent, retries included
	Retries     int         // attempts that were retries of an earlier one
	ByStatus    map[int]int // responses received, by HTTP status
	RateLimited int         // 429 responses received
}

// WithCredential sets the bearer token sent in the Authorization header. The
// credential never appears in an error, a log line or the Client's String.
func WithCredential(secret string) Option {
	return func(c *Client) { c.credential = secret }
}

// WithHTTPClient sets the HTTP client used to send requests. The Client uses
// a copy of hc whose CheckRedirect refuses every redirect.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc == nil {
			c.setErr(errors.New("http client is nil"))
			return
		}
		cp := *hc
		c.hc = &cp
	}
}

// WithUserAgent sets the User-Agent header (default "tokensync/dev").
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithMaxRetries sets how many times a failed idempotent request is retried
// (default 5; 0 means no retries).
func WithMaxRetries(n int) Option {
	return func(c *Client) {
		if n < 0 {
			c.setErr(fmt.Errorf("max retries %d is negative", n))
			return
		}
		c.maxRetries = n
	}
}

// WithBackoff sets the base and the cap of the exponential backoff between
// retries (default 250ms and 30s). The cap also bounds a server's
// Retry-After.
func WithBackoff(base, max time.Duration) Option {
	return func(c *Client) {
		if base <= 0 || max < base {
			c.setErr(fmt.Errorf("backoff base %s and max %s: want 0 < base <= max", base, max))
			return
		}
		c.backoff.base, c.backoff.max = base, max
	}
}

// WithRequestTimeout sets the time one attempt may take, from sending the
// request to reading the whole response (default 30s; d <= 0 disables it,
// leaving only the caller's context).
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// WithRateLimits sets the client-side rate limits, in requests per second,
// for GET, POST and DELETE (default 25, 10 and 5, Astro's published limits
// per API token). A rate <= 0 disables the limit for that method.
func WithRateLimits(get, post, del float64) Option {
	return func(c *Client) {
		c.limiters = map[string]*rate.Limiter{
			http.MethodGet:    newLimiter(get),
			http.MethodPost:   newLimiter(post),
			http.MethodDelete: newLimiter(del),
		}
	}
}

// WithLogger makes the Client log one line per attempt at level Info: method,
// path and query, status, duration, request id, and retry information. The
// credential is never logged. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		c.logger = l
	}
}

// WithPageSize sets the limit asked for on each page of a list (default and
// maximum 1000).
func WithPageSize(n int) Option {
	return func(c *Client) {
		if n < 1 || n > DefaultPageSize {
			c.setErr(fmt.Errorf("page size %d out of range 1..%d", n, DefaultPageSize))
			return
		}
		c.pageSize = n
	}
}

func (c *Client) setErr(err error) {
	if c.optErr == nil {
		c.optErr = err
	}
}

func newLimiter(perSecond float64) *rate.Limiter {
	if perSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}

// New returns a Client for the API at baseURL, e.g.
// "https://api.astronomer.io/v1". The URL must use https, except on a
// loopback host (localhost, 127.0.0.0/8, ::1) where http is allowed. New
// contacts nothing.
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:           base,
		hc:             &http.Client{Transport: defaultTransport()},
		userAgent:      DefaultUserAgent,
		maxRetries:     DefaultMaxRetries,
		timeout:        DefaultRequestTimeout,
		logger:         slog.New(slog.DiscardHandler),
		pageSize:       DefaultPageSize,
		jitter:         fullJitter,
		now:            time.Now,
		maxSuccessBody: maxSuccessBody,
		maxPages:       maxListPages,
		maxItems:       maxListItems,
	}
	c.backoff.base, c.backoff.max = DefaultBackoffBase, DefaultBackoffMax
	WithRateLimits(DefaultGetRate, DefaultPostRate, DefaultDeleteRate)(c)
	for _, o := range opts {
		o(c)
	}
	if c.optErr != nil {
		return nil, fmt.Errorf("astro api client: %w", c.optErr)
	}
	if BadCredential(c.credential) {
		return nil, errors.New("astro api client: credential contains white space or control characters")
	}
	c.hc.CheckRedirect = refuseRedirect
	return c, nil
}

// maxIdlePerHost keeps a connection per request in flight open between
// requests: tokensync talks to one host, many requests at a time, and
// net/http's default of 2 would make it dial (and handshake) again and again.
const maxIdlePerHost = 64

// defaultTransport is net/http's default transport, keeping more idle
// connections to the one API host.
func defaultTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = maxIdlePerHost
	return t
}

// parseBaseURL checks that raw is an absolute https URL (or http on a
// loopback host) without credentials, query or fragment.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("astro api base url: %w", err)
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("astro api base url %q: want an absolute URL like https://api.astronomer.io/v1", raw)
	}
	if u.User != nil {
		return nil, errors.New("astro api base url: must not contain user information")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("astro api base url %q: must not have a query or fragment", u.Redacted())
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("astro api base url %q: http is allowed only on loopback hosts; use https", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("astro api base url %q: scheme must be https", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectError is what the HTTP client returns when a server redirects.
type redirectError struct{ to string }

func (e *redirectError) Error() string { return "redirect to " + e.to + " refused" }

// refuseRedirect refuses every redirect, so the bearer token is never sent
// anywhere but the configured base URL.
func refuseRedirect(req *http.Request, _ []*http.Request) error {
	to := *req.URL
	to.RawQuery = ""
	to.Fragment = ""
	return &redirectError{to: to.Redacted()}
}

// fullJitter returns a uniformly random duration in [0, d].
func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// Stats returns a copy of the Client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.ByStatus = make(map[int]int, len(c.stats.ByStatus))
	for k, v := range c.stats.ByStatus {
		s.ByStatus[k] = v
	}
	return s
}

func (c *Client) countAttempt(retry bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Requests++
	if retry {
		c.stats.Retries++
	}
}

func (c *Client) countStatus(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stats.ByStatus == nil {
		c.stats.ByStatus = make(map[int]int)
	}
	c.stats.ByStatus[status]++
	if status == http.StatusTooManyRequests {
		c.stats.RateLimited++
	}
}

// BadCredential reports whether secret holds white space or control
// characters, which no Astro API token does and an HTTP header cannot
// carry: New refuses such a credential.
func BadCredential(secret string) bool {
	return strings.ContainsFunc(secret, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// Redact is Redact with the client's credential: s as the client's own
// messages would show it. A caller that compares text of an error with
// what it asked for (an id in a path) redacts its side the same way.
func (c *Client) Redact(s string) string { return Redact(s, c.credential) }

// String describes the Client by its base URL; it never shows the credential.
func (c *Client) String() string {
	return "astroapi.Client(" + c.base.String() + ")"
}

// GoString is String, so that %#v does not print the credential either.
func (c *Client) GoString() string { return c.String() }
