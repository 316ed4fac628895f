package astroapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	gosync "sync"
	"time"
)

// do sends one API call and decodes its answer into out (when out is not
// nil). It is the only place that talks HTTP: it authenticates, waits on the
// rate limiter, bounds each attempt in time and every body in size, turns
// failures into *Error, retries what may be retried, logs and counts.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	body, err := encodeBody(method, path, in)
	if err != nil {
		return err
	}
	target := c.base.String() + path
	logPath := path
	if len(q) > 0 {
		enc := q.Encode()
		target += "?" + enc
		logPath += "?" + enc
	}
	retryable := isIdempotent(method, path)

	reserved := c.reservedSlot(ctx, method) // a slot taken by ReserveWrite
	for attempt := 0; ; attempt++ {
		if attempt > 0 || !reserved {
			if err := c.waitLimiter(ctx, method); err != nil {
				return fmt.Errorf("%s %s: wait for rate limiter: %w", method, path, err)
			}
		}
		resp, took, sendErr, err := c.try(ctx, method, path, target, body, out, attempt)
		if err == nil {
			c.logAttempt(method, logPath, attempt, resp, took, nil, -1)
			return nil
		}
		if cause := context.Cause(ctx); cause != nil {
			c.logAttempt(method, logPath, attempt, resp, took, err, -1)
			if errors.Is(err, ctx.Err()) || errors.Is(err, cause) {
				return err
			}
			return fmt.Errorf("%w (stopped: %w)", err, cause)
		}
		var apiErr *Error
		if sendErr == nil && !errors.As(err, &apiErr) {
			// A success status with a body that does not decode: not transient.
			c.logAttempt(method, logPath, attempt, resp, took, err, -1)
			return err
		}
		delay, again := retryDelay(attempt, resp.status, resp.header, sendErr, c.now(), c.backoff.base, c.backoff.max, c.jitter)
		if !again || !retryable {
			c.logAttempt(method, logPath, attempt, resp, took, err, -1)
			return err
		}
		if attempt >= c.maxRetries {
			c.logAttempt(method, logPath, attempt, resp, took, err, -1)
			if attempt == 0 {
				return err
			}
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt+1)
		}
		c.logAttempt(method, logPath, attempt, resp, took, err, delay)
		if sleep(ctx, delay) != nil {
			return fmt.Errorf("%w (retry %d interrupted: %w)", err, attempt+1, context.Cause(ctx))
		}
	}
}

// encodeBody is the JSON body of a request, nil without one.
func encodeBody(method, path string, in any) ([]byte, error) {
	if in == nil {
		return nil, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("%s %s: encode request: %w", method, path, err)
	}
	return b, nil
}

// try makes one attempt of a request and counts it: the response, how
// long it took, the transport error, and the error of the attempt (either,
// or the API's, scrubbed of the credential).
func (c *Client) try(ctx context.Context, method, path, target string, body []byte, out any, attempt int) (resp response, took time.Duration, sendErr, err error) {
	start := time.Now()
	c.countAttempt(attempt > 0)
	resp, sendErr = c.send(ctx, method, target, body)
	took = time.Since(start)
	if resp.status != 0 {
		c.countStatus(resp.status)
	}
	if sendErr != nil {
		err = fmt.Errorf("%s %s: %w", method, path, unwrapURLError(sendErr))
	} else {
		err = decodeResponse(method, path, resp.status, resp.header, resp.body, out, c.credential)
	}
	// Nothing decoded from the body refers to it (strings and raw messages
	// are copies), so its buffer serves the next response.
	if isSuccess(resp.status) {
		putBodyBuffer(resp.body)
	}
	resp.body = nil
	return resp, took, sendErr, c.scrub(err)
}

// response is what one attempt received.
type response struct {
	status int // 0 when no response arrived
	header http.Header
	body   []byte
}

// send makes one attempt. A non-nil error means no usable response arrived:
// a transport failure, a timeout, a refused redirect, a success body too
// large to accept, or a success body cut short (status is set in the last
// two cases). An error status is not an error here.
func (c *Client) send(ctx context.Context, method, target string, body []byte) (response, error) {
	actx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, target, rd)
	if err != nil {
		return response{}, err
	}
	if c.credential != "" {
		req.Header.Set("Authorization", "Bearer "+c.credential)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	timedOut := func(err error) error {
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			return &timeoutError{d: c.timeout}
		}
		return err
	}
	hresp, err := c.hc.Do(req)
	if err != nil {
		return response{}, timedOut(err)
	}
	defer hresp.Body.Close()
	r := response{status: hresp.StatusCode, header: hresp.Header}
	if isSuccess(hresp.StatusCode) {
		r.body, err = readBounded(hresp.Body, c.maxSuccessBody, hresp.ContentLength)
		if err != nil {
			var tooLarge *bodyTooLargeError
			if errors.As(err, &tooLarge) {
				return r, err
			}
			r.body = nil
			return r, timedOut(fmt.Errorf("read response body: %w", err))
		}
		return r, nil
	}
	// An error body only feeds a message: keep what arrived, cut to size.
	r.body, _ = io.ReadAll(io.LimitReader(hresp.Body, maxErrorBody))
	return r, nil
}

func isSuccess(status int) bool { return status == http.StatusOK || status == http.StatusNoContent }

// readBounded reads all of r, or fails with *bodyTooLargeError when r holds
// more than limit bytes. size is the length the response announces (-1 when
// unknown): a buffer of that size, within maxBodyHint, is taken at once (from
// the pool of earlier bodies when one is large enough) instead of growing
// while the body arrives. The caller gives the buffer back with
// putBodyBuffer once nothing refers to it.
func readBounded(r io.Reader, limit, size int64) ([]byte, error) {
	b := getBodyBuffer(min(size, limit, maxBodyHint) + 1) // +1: room to read the end
	r = io.LimitReader(r, limit+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			putBodyBuffer(b)
			return nil, err
		}
	}
	if int64(len(b)) > limit {
		putBodyBuffer(b)
		return nil, &bodyTooLargeError{limit: limit}
	}
	return b, nil
}

// Bounds of the body buffers: an announced length above maxBodyHint is not
// trusted for the first allocation (the body still grows up to the
// client's limit), and a buffer above maxPooledBody is left to the garbage
// collector rather than kept.
const (
	maxBodyHint   = 16 << 20
	maxPooledBody = 4 << 20
	minBodyBuffer = 512
)

// bodyBuffers holds the buffers of success bodies already decoded.
var bodyBuffers gosync.Pool

// getBodyBuffer returns an empty buffer with room for at least size bytes.
func getBodyBuffer(size int64) []byte {
	size = max(size, minBodyBuffer)
	if p, ok := bodyBuffers.Get().(*[]byte); ok {
		if int64(cap(*p)) >= size {
			return (*p)[:0]
		}
		bodyBuffers.Put(p)
	}
	return make([]byte, 0, size)
}

// putBodyBuffer gives b back for another body; b must no longer be used.
func putBodyBuffer(b []byte) {
	if b == nil || cap(b) > maxPooledBody {
		return
	}
	b = b[:0]
	bodyBuffers.Put(&b)
}

// bodyTooLargeError reports a success body over the size limit.
type bodyTooLargeError struct{ limit int64 }

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("response body larger than the %s limit", byteSize(e.limit))
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// timeoutError reports that one attempt outlasted the per-attempt timeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("no complete answer within %s", e.d) }

// Timeout marks the error as a timeout, like net.Error.
func (e *timeoutError) Timeout() bool { return true }

// unwrapURLError drops the *url.Error wrapper, whose text repeats the method
// and the full URL that do already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// decodeResponse turns one response into a value or an error: 200 decodes
// the JSON body into out (when out is not nil), 204 leaves out alone, any
// other status is an *Error built from the API's error body or, when the
// body is not one, from the status text and a sanitized snippet.
//
// What decodes into out is the body byte for byte. Only text that goes into
// an error message is redacted: secret is replaced in each piece of server
// text before the piece is cut to size, so that no part of it survives a
// cut; do redacts the final message again.
func decodeResponse(method, path string, status int, header http.Header, body []byte, out any, secret string) error {
	switch status {
	case http.StatusNoContent:
		return nil
	case http.StatusOK:
		if out == nil {
			return nil
		}
		ct := header.Get("Content-Type")
		if !isJSON(ct) {
			msg := fmt.Sprintf("%s %s: 200 OK with content type %q, want application/json", method, path, sanitize(redactString(ct, secret), 100))
			if s := snippet(redactBytes(body, secret)); s != "" {
				msg += ": " + strconv.Quote(s)
			}
			return errors.New(msg)
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return fmt.Errorf("%s %s: 200 OK with an empty body", method, path)
		}
		var err error
		if d, ok := out.(bodyDecoder); ok {
			err = d.decodeBody(body)
		} else {
			err = json.Unmarshal(body, out)
		}
		if err != nil {
			return fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
		return nil
	}
	e := &Error{Method: method, Path: path, StatusCode: status}
	var eb ErrorBody
	if isJSON(header.Get("Content-Type")) || looksLikeJSON(body) {
		if json.Unmarshal(body, &eb) == nil && (eb.Message != "" || eb.RequestID != "" || len(eb.FieldErrors) > 0) {
			text := func(s string) string { return sanitize(redactString(s, secret), maxMessageLen) }
			e.Message = text(eb.Message)
			e.RequestID = text(eb.RequestID)
			for _, fe := range eb.FieldErrors {
				e.FieldErrors = append(e.FieldErrors, FieldError{
					Field:   text(fe.Field),
					Code:    text(fe.Code),
					Message: text(fe.Message),
				})
			}
			return e
		}
	}
	e.Message = snippet(redactBytes(body, secret))
	return e
}

// bodyDecoder is an out of do that decodes a success body itself, as
// json.Unmarshal would into it: an error from decodeBody is one that
// json.Unmarshal would have given. body is only lent for the call.
type bodyDecoder interface {
	decodeBody(body []byte) error
}

func looksLikeJSON(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '{'
}

// isJSON reports whether a Content-Type header names JSON.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// isIdempotent reports whether a call may be sent again after a failure.
// GET, HEAD, PUT and DELETE are; a POST only on a role list, which the API
// documents as idempotent (it replaces the whole list). Create POSTs are not.
func isIdempotent(method, path string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	case http.MethodPost:
		return strings.HasSuffix(path, "/roles")
	}
	return false
}

// retryDelay decides whether an attempt that failed may be retried and how
// long to wait first. attempt counts from 0 (the first attempt). status is
// the response status (0 when err is a transport error). A delay comes from
// Retry-After (delta seconds or an HTTP date, relative to now) when present,
// else from exponential backoff base*2^attempt with full jitter; either is
// capped at max. It retries 429, 502, 503, 504 and transport errors, except
// a caller's cancellation or deadline, a certificate the client does not
// trust, a refused redirect and an oversized body.
func retryDelay(attempt int, status int, header http.Header, err error, now time.Time, base, max time.Duration, jitter func(time.Duration) time.Duration) (time.Duration, bool) {
	if err != nil {
		if !retryableTransport(err) {
			return 0, false
		}
	} else {
		switch status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return 0, false
		}
		if d, ok := retryAfter(header.Get("Retry-After"), now); ok {
			return min(d, max), true
		}
	}
	return jitter(backoff(attempt, base, max)), true
}

// backoff returns base*2^attempt, capped at max, without overflowing.
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for range attempt {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return min(d, max)
}

// retryAfter parses a Retry-After header: delta seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// retryableTransport reports whether a failure without a response is worth
// another attempt.
func retryableTransport(err error) bool {
	var (
		redirect  *redirectError
		tooLarge  *bodyTooLargeError
		certErr   *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false // the caller's context ended; a per-attempt timeout is a *timeoutError
	case errors.As(err, &redirect), errors.As(err, &tooLarge):
		return false
	case errors.As(err, &certErr), errors.As(err, &authority), errors.As(err, &hostname), errors.As(err, &invalid):
		return false
	}
	return true
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitLimiter waits until the rate limiter of method allows one more
// request, or ctx ends.
func (c *Client) waitLimiter(ctx context.Context, method string) error {
	lim := c.limiters[method]
	if lim == nil {
		return ctx.Err()
	}
	if err := lim.Wait(ctx); err != nil {
		if cerr := context.Cause(ctx); cerr != nil {
			return cerr
		}
		// The limiter refuses to wait past the context's deadline.
		return fmt.Errorf("%w: the next slot is after the deadline", context.DeadlineExceeded)
	}
	return nil
}

// scrub removes the credential from an error's text. An *Error is redacted
// field by field; any other error whose text would show the credential is
// replaced by a *redactedError that shows a redacted copy of the text and
// still matches what the original matched through errors.Is and errors.As.
func (c *Client) scrub(err error) error {
	if err == nil || c.credential == "" {
		return err
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		apiErr.redact(c.credential)
	}
	if msg := err.Error(); strings.Contains(msg, c.credential) {
		return &redactedError{msg: redactString(msg, c.credential), err: err}
	}
	return err
}

// logAttempt logs one attempt. retryIn < 0 means no retry follows.
func (c *Client) logAttempt(method, path string, attempt int, r response, took time.Duration, err error, retryIn time.Duration) {
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("path", redactString(path, c.credential)),
		slog.Int("status", r.status),
		slog.Duration("duration", took),
		slog.Int("attempt", attempt+1),
	}
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", apiErr.RequestID))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", redactString(err.Error(), c.credential)))
	}
	if retryIn >= 0 {
		attrs = append(attrs, slog.Duration("retry_in", retryIn))
	}
	c.logger.LogAttrs(context.Background(), slog.LevelInfo, "astro api request", attrs...)
}
