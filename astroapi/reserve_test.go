package astroapi

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReserveWrite runs sequences of reservations and POSTs against a
// client whose POST limiter allows one request every 250ms, and checks
// which steps had to wait for the limiter.
func TestReserveWrite(t *testing.T) {
	const (
		interval = 250 * time.Millisecond
		fast     = interval / 2      // a step that did not wait took less
		slow     = interval * 7 / 10 // a step that waited took more
	)
	type step struct {
		do   string // "post", "post reserved", "reserve", "release"
		wait bool   // whether the step must wait for the limiter
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a write after ReserveWrite does not wait again", []step{
			{"post", false}, {"reserve", true}, {"post reserved", false},
		}},
		{"a reserved slot serves one write only", []step{
			{"reserve", false}, {"post reserved", false}, {"post reserved", true},
		}},
		{"an unused reservation is given back", []step{
			{"post", false}, {"reserve", true}, {"release", false}, {"post", false},
		}},
		{"a reservation released after it was used gives nothing back", []step{
			{"reserve", false}, {"post reserved", false}, {"release", false}, {"post", true},
		}},
		{"a reservation released after a later slot was taken gives nothing back", []step{
			{"reserve", false}, {"post", true}, {"release", false}, {"post", true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
				writeJSON(w, 200, SubjectRoles{})
			})
			c := newTestClient(t, ts, WithRateLimits(0, float64(time.Second/interval), 0))
			ctx := context.Background()
			rctx, release := ctx, func() {}
			post := func(ctx context.Context) {
				if _, err := c.SetTokenRoles(ctx, "o", "t", []Role{{EntityID: "d", EntityType: EntityDeployment, Role: "DEPLOYMENT_ADMIN"}}); err != nil {
					t.Fatalf("SetTokenRoles: %v", err)
				}
			}
			var want, got []string
			for _, s := range tt.steps {
				start := time.Now()
				switch s.do {
				case "post":
					post(ctx)
				case "post reserved":
					post(rctx)
				case "reserve":
					var err error
					if rctx, release, err = c.ReserveWrite(ctx); err != nil {
						t.Fatalf("ReserveWrite: %v", err)
					}
				case "release":
					release()
				}
				took := time.Since(start)
				label := func(wait bool) string {
					if wait {
						return s.do + " waits"
					}
					return s.do + " does not wait"
				}
				want = append(want, label(s.wait))
				switch {
				case took >= slow:
					got = append(got, label(true))
				case took < fast:
					got = append(got, label(false))
				default:
					got = append(got, s.do+" took "+took.String())
				}
			}
			release()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReserveWriteStopsWithContext checks that a reservation waiting for
// its slot stops when the context ends, and gives the slot back.
func TestReserveWriteStopsWithContext(t *testing.T) {
	ts, _ := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
		writeJSON(w, 200, SubjectRoles{})
	})
	c := newTestClient(t, ts, WithRateLimits(0, 0.5, 0)) // one POST every 2s
	if _, err := c.SetTokenRoles(context.Background(), "o", "t", []Role{{EntityID: "d", EntityType: EntityDeployment, Role: "DEPLOYMENT_ADMIN"}}); err != nil {
		t.Fatalf("SetTokenRoles: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, release, err := c.ReserveWrite(ctx)
	release()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReserveWrite error = %v, want one matching context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("ReserveWrite took %s after its context ended", took)
	}
	// The slot was given back: the limiter's next slot is the one after the
	// first POST, not one more interval later.
	if tokens := c.limiters[http.MethodPost].Tokens(); tokens < -0.1 {
		t.Errorf("POST limiter holds %.2f tokens after a cancelled reservation, want about 0", tokens)
	}
}
