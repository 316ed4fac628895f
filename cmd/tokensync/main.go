// Command tokensync manages which API tokens, users and teams hold which
// role on which Astro Deployment, from a reviewed YAML file.
package main

import (
	"context"
	"os"
	"syscall"

	"github.com/mattn/go-isatty"
)

func main() {
	tuneGC(os.Getenv, os.Args[1:])
	ctx, stderr, stop := notifyInterrupt(context.Background(), os.Stderr, interruptNotice(os.Args[1:]), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], Streams{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    stderr,
		InTTY:  isTerminal(os.Stdin),
		OutTTY: isTerminal(os.Stdout),
		ErrTTY: isTerminal(os.Stderr),
		Getenv: os.Getenv,
	})
	stop()
	writeBenchMemStats(os.Getenv)
	os.Exit(code)
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
