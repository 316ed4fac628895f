package main

import (
	"context"
	"fmt"
	"io"
)

// announceInterrupt waits until ctx ends. If a signal ended it, it says on
// w what tokensync does now, and calls stop so that the signal's default
// comes back: a second interrupt ends the process at once, even while a
// write is in flight. If stop ended ctx (the normal end), it says nothing.
func announceInterrupt(ctx context.Context, stop context.CancelFunc, w io.Writer) {
	<-ctx.Done()
	cause := context.Cause(ctx)
	if cause == context.Canceled {
		return
	}
	stop()
	fmt.Fprintf(w, "\ntokensync: %v: stopping: requests in flight finish, no new write starts; interrupt again to stop at once\n", cause)
}
