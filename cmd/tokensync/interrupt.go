package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupted is the cause of a context ended by a signal. Its message is
// the one requests cancelled by it end with ("interrupt signal received").
type interrupted struct{ sig os.Signal }

func (e interrupted) Error() string { return e.sig.String() + " signal received" }

// exitCode is the shell's convention for a process ended by the signal,
// 128 plus its number: 130 for SIGINT (Ctrl-C), 143 for SIGTERM. A second
// signal ends the process by the signal itself, which a shell reports with
// the same code.
func (e interrupted) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

// interruptCause returns the signal that ended ctx, if one did.
func interruptCause(ctx context.Context) (interrupted, bool) {
	var in interrupted
	ok := errors.As(context.Cause(ctx), &in)
	return in, ok
}

// notifyInterrupt returns a context that the first of sigs ends, with an
// interrupted cause, and the writer to use in place of w. On that signal it
// restores the signal's default, so that a second one ends the process at
// once even while a write is in flight; then, holding out's lock, it ends
// the context and says notice on w (nothing when it is empty; see
// interruptNotice). The context ends before the notice can be read, so no
// write starts after the notice ("no new write starts" holds for whoever
// reads it), and nothing written to out after the context ends can come
// before the notice.
//
// stop ends the context (if no signal did) and returns once the announcement
// is written, so that the process never exits before saying it was
// interrupted.
func notifyInterrupt(parent context.Context, w io.Writer, notice string, sigs ...os.Signal) (ctx context.Context, out io.Writer, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	lw := &lockedWriter{w: w}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case sig := <-ch:
			signal.Stop(ch)
			lw.mu.Lock()
			defer lw.mu.Unlock()
			cancel(interrupted{sig})
			if notice != "" {
				fmt.Fprintf(w, "\ntokensync: %v: %s\n", interrupted{sig}, notice)
			}
		case <-ctx.Done():
		}
	}()
	return ctx, lw, func() {
		cancel(context.Canceled)
		<-done
		signal.Stop(ch)
	}
}

// lockedWriter serialises the writes to w, so that the interrupt notice
// and what the context's end makes the command write keep their order.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// interruptNotice is what the first interrupt announces for a command
// line: nothing for `tokensync emulator`, which announces its own stop
// (emulatorStopNotice), else the notice of the commands that talk to the
// API.
func interruptNotice(args []string) string {
	if len(args) > 0 && args[0] == "emulator" {
		return ""
	}
	return "stopping: requests in flight finish, no new write starts; interrupt again to stop at once"
}

// untilDone runs f, which takes no context (decoding a large file already
// read, say), and returns its result, or the context's cause as soon as
// ctx ends first: f then runs on unseen until the process exits, so that
// an interrupt ends a command within a second whatever it was doing.
func untilDone[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}
