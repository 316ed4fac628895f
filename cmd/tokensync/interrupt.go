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
// notice says what happens now; an empty notice prints nothing (see
// interruptNotice).
func announceInterrupt(ctx context.Context, stop context.CancelFunc, w io.Writer, notice string) {
	<-ctx.Done()
	cause := context.Cause(ctx)
	if cause == context.Canceled {
		return
	}
	stop()
	if notice != "" {
		fmt.Fprintf(w, "\ntokensync: %v: %s\n", cause, notice)
	}
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
