package main

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// TestInterruptAnnouncedBeforeContextEnds: the announcement of an interrupt
// is written before the context ends, so a command that returns as soon as
// its context ends cannot let the process exit unannounced (the race behind
// TestInterruptBeforeApply's flakes: the announcer ran after the context
// ended, and main did not wait for it). The cause carries the signal and
// its exit code, 128 + its number. SIGWINCH stands for SIGINT: its default
// is to be ignored, so the test process survives a stray one.
func TestInterruptAnnouncedBeforeContextEnds(t *testing.T) {
	for range 20 {
		var w lockedBuffer
		ctx, stop := notifyInterrupt(context.Background(), &w, interruptNotice(nil), syscall.SIGWINCH)
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGWINCH); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
			t.Fatal("the signal did not end the context within 30s")
		}
		got := w.String() // read before stop: it must be there already
		stop()
		want := "\ntokensync: window changed signal received: stopping: requests in flight finish, no new write starts; interrupt again to stop at once\n"
		if got != want {
			t.Fatalf("written when the context ended: %q, want %q", got, want)
		}
		in, ok := interruptCause(ctx)
		if !ok || in.exitCode() != 128+int(syscall.SIGWINCH) {
			t.Fatalf("cause %v: exit code %d", context.Cause(ctx), in.exitCode())
		}
	}
}

// TestStopWithoutInterrupt: stop ends the context quietly when no signal
// came, and returns.
func TestStopWithoutInterrupt(t *testing.T) {
	var w lockedBuffer
	ctx, stop := notifyInterrupt(context.Background(), &w, interruptNotice(nil), syscall.SIGWINCH)
	stop()
	if ctx.Err() == nil {
		t.Error("the context did not end")
	}
	if _, ok := interruptCause(ctx); ok {
		t.Error("an interrupt without a signal")
	}
	if w.String() != "" {
		t.Errorf("announced %q", w.String())
	}
}
