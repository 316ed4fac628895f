package main

import (
	"context"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestInterruptAnnouncedBeforeContextEnds: nothing written after the
// context ends comes before the announcement of an interrupt, so a command
// that reports as soon as its context ends reports after it (the race
// behind TestInterruptBeforeApply's flakes). The context ends before the
// announcement can be read, so nothing new starts once it is read (the race
// behind TestInterruptDuringApply's flakes: writes started between the
// announcement and the context's end). The cause carries the signal and
// its exit code, 128 + its number. SIGWINCH stands for SIGINT: its default
// is to be ignored, so the test process survives a stray one.
func TestInterruptAnnouncedBeforeContextEnds(t *testing.T) {
	for range 20 {
		var w lockedBuffer
		ctx, out, stop := notifyInterrupt(context.Background(), &w, interruptNotice(nil), syscall.SIGWINCH)
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGWINCH); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
			t.Fatal("the signal did not end the context within 30s")
		}
		if _, err := io.WriteString(out, "after\n"); err != nil { // what a command writes once its context ends
			t.Fatal(err)
		}
		got := w.String() // read before stop: it must be there already
		stop()
		want := "\ntokensync: window changed signal received: stopping: requests in flight finish, no new write starts; interrupt again to stop at once\nafter\n"
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
	ctx, _, stop := notifyInterrupt(context.Background(), &w, interruptNotice(nil), syscall.SIGWINCH)
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

// doneProbe records, for each write, whether its context had ended then.
type doneProbe struct {
	mu     sync.Mutex
	ctx    context.Context
	writes []bool
}

func (p *doneProbe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes = append(p.writes, p.ctx != nil && p.ctx.Err() != nil)
	return len(b), nil
}

// TestInterruptEndsContextBeforeAnnouncing: when the announcement ("no new
// write starts") is written, the context has already ended, so a reader of
// it (a person, or a test that then lets in-flight writes finish) never
// sees a write start after it.
func TestInterruptEndsContextBeforeAnnouncing(t *testing.T) {
	for range 20 {
		p := &doneProbe{}
		ctx, _, stop := notifyInterrupt(context.Background(), p, interruptNotice(nil), syscall.SIGWINCH)
		p.mu.Lock()
		p.ctx = ctx
		p.mu.Unlock()
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGWINCH); err != nil {
			t.Fatal(err)
		}
		<-ctx.Done()
		stop()
		p.mu.Lock()
		writes := p.writes
		p.mu.Unlock()
		if len(writes) != 1 || !writes[0] {
			t.Fatalf("announcement written with the context ended: %v, want [true]", writes)
		}
	}
}
