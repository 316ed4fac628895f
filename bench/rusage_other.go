//go:build !unix

package main

import (
	"context"
	"os"
	"os/exec"
	"time"
)

// maxRSS is not known off Unix.
func maxRSS(*os.ProcessState) int64 { return 0 }

// cpuTime is not known off Unix.
func cpuTime() time.Duration { return 0 }

// measuredCommand is the command that runs name with args and, after it
// has run, peakRSS: not known off Unix.
func measuredCommand(ctx context.Context, _, name string, args ...string) (cmd *exec.Cmd, peakRSS func() int64) {
	return exec.CommandContext(ctx, name, args...), func() int64 { return 0 }
}
