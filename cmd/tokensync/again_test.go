package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/sync"
)

// TestApplyExitAdviceOfASavedPlan: an apply that stopped after some writes
// tells a saved plan's user to plan again, as applying the same file again
// is refused as stale; an apply planned now is told to run apply again.
func TestApplyExitAdviceOfASavedPlan(t *testing.T) {
	interrupted, cancel := context.WithCancel(context.Background())
	cancel()
	one := []sync.SubjectResult{{Subject: sync.SubjectRef{ID: "tok-1"}}}
	tests := []struct {
		name string
		ctx  context.Context
		o    sync.Outcome
	}{
		{"interrupted", interrupted, sync.Outcome{Result: sync.Result{Written: one, NotStarted: one}}},
		{"partly failed", context.Background(), sync.Outcome{Result: sync.Result{Written: one, Failed: []sync.SubjectResult{{Sent: true, Err: context.DeadlineExceeded}}}}},
		{"not converged", context.Background(), sync.Outcome{Result: sync.Result{Written: one}, Verification: &sync.Verification{Remaining: []sync.Change{{}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := applyExit(tt.ctx, tt.o, false); err == nil || !strings.Contains(err.Error(), "run apply again") {
				t.Errorf("planned now: %v, want run apply again", err)
			}
			if err := applyExit(tt.ctx, tt.o, true); err == nil || !strings.Contains(err.Error(), "the saved plan is stale now: run plan --out again, then apply the new plan") || strings.Contains(err.Error(), "run apply again") {
				t.Errorf("saved plan: %v, want run plan --out again", err)
			}
		})
	}
}
