package astroapi

import (
	"context"
	"fmt"
	"net/http"
	gosync "sync"
	"time"

	"golang.org/x/time/rate"
)

// ReserveWrite takes a slot of the POST rate limiter now, waiting for it if
// needed, and returns a context that carries the slot. The first POST this
// Client sends with that context (or one derived from it) uses the slot
// instead of waiting on the limiter again; its retries, and any later POST,
// wait as usual. release gives an unused slot back to the limiter, as if it
// had never been taken, when no later slot was taken since; it does nothing
// once the slot is used, and may be called more than once. Always call it,
// typically deferred.
//
// A caller that reads a token and then writes its role list reserves the
// write before the read, so the write follows the read by one round trip
// rather than by one round trip plus a wait for the limiter.
func (c *Client) ReserveWrite(ctx context.Context) (context.Context, func(), error) {
	lim := c.limiters[http.MethodPost]
	if lim == nil {
		return ctx, func() {}, ctx.Err()
	}
	now := time.Now()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return ctx, func() {}, fmt.Errorf("reserve a write: rate limiter refused a slot")
	}
	at := now.Add(r.DelayFrom(now))
	if err := sleep(ctx, at.Sub(time.Now())); err != nil {
		r.CancelAt(at) // the slot is still in the future: give it back
		return ctx, func() {}, fmt.Errorf("reserve a write: wait for rate limiter: %w", context.Cause(ctx))
	}
	s := &writeSlot{client: c, r: r, at: at}
	return context.WithValue(ctx, writeSlotKey{}, s), s.release, nil
}

// writeSlotKey is the context key of a *writeSlot.
type writeSlotKey struct{}

// writeSlot is a POST limiter slot taken by ReserveWrite.
type writeSlot struct {
	client *Client
	r      *rate.Reservation
	at     time.Time // when the slot is due

	mu   gosync.Mutex
	done bool // used or released
}

// take marks the slot used and reports whether it was free.
func (s *writeSlot) take() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return false
	}
	s.done = true
	return true
}

// release gives an unused slot back. It cancels the reservation as of the
// slot's own time: the limiter then holds the token again unless a later
// slot has been taken since, in which case nothing is given back.
func (s *writeSlot) release() {
	if s.take() {
		s.r.CancelAt(s.at)
	}
}

// reservedSlot reports whether ctx carries an unused POST slot that this
// Client reserved, and takes it.
func (c *Client) reservedSlot(ctx context.Context, method string) bool {
	if method != http.MethodPost {
		return false
	}
	s, ok := ctx.Value(writeSlotKey{}).(*writeSlot)
	return ok && s.client == c && s.take()
}
