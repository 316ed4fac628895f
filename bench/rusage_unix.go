//go:build unix

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxRSS is the peak resident set of a finished process, in bytes.
func maxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) // bytes there
	}
	return int64(ru.Maxrss) * 1024 // KiB elsewhere
}

// cpuTime is the CPU time this process has used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gnuTime is GNU time, when this is Linux and it is installed.
var gnuTime = func() string {
	if runtime.GOOS != "linux" {
		return ""
	}
	p, err := exec.LookPath("/usr/bin/time")
	if err != nil || exec.Command(p, "-f", "%M", "-o", os.DevNull, "true").Run() != nil {
		return ""
	}
	return p
}()

// measuredCommand is the command that runs name with args and, after it
// has run, peakRSS, its peak resident set in bytes. The rusage of a child
// of this process counts this process's resident set too, which the
// child shares until it execs (Go starts a child with vfork), and the
// bench holds a whole organization in its emulator. So where GNU time is
// installed, it runs the command and reports the child's own peak, and the
// command runs in a process group of its own, which the context ends
// whole; elsewhere peakRSS is the rusage's.
func measuredCommand(ctx context.Context, dir, name string, args ...string) (cmd *exec.Cmd, peakRSS func() int64) {
	if gnuTime == "" {
		cmd = exec.CommandContext(ctx, name, args...)
		return cmd, func() int64 {
			if cmd.ProcessState == nil {
				return 0
			}
			return maxRSS(cmd.ProcessState)
		}
	}
	out := filepath.Join(dir, fmt.Sprintf(".rss-%d", rand.Int64()))
	cmd = exec.CommandContext(ctx, gnuTime, append([]string{"-o", out, "-f", "%M", name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd, func() int64 {
		data, err := os.ReadFile(out)
		os.Remove(out)
		if err != nil {
			return 0
		}
		// The last line; GNU time may write the child's exit status first.
		lines := strings.Fields(strings.TrimSpace(string(data)))
		if len(lines) == 0 {
			return 0
		}
		kib, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
		if err != nil {
			return 0
		}
		return kib << 10
	}
}
