package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/internal/inputfile"
	"github.com/tokensync/tokensync/render"
)

// emulatorStopNotice is what the first interrupt of `tokensync emulator`
// announces.
const emulatorStopNotice = "stopping the emulator: requests in flight get up to 5s to finish; interrupt again to stop at once"

// EmulatorCmd is `tokensync emulator`.
type EmulatorCmd struct {
	State       string        `required:"" type:"existingfile" help:"State file (organization, workspaces, deployments, roles, tokens, users, teams)." placeholder:"STATE.yaml"`
	Listen      string        `default:"127.0.0.1:8080" help:"Address to listen on; a non-loopback one needs --allow-remote." placeholder:"ADDR"`
	AllowRemote bool          `help:"Allow --listen on a non-loopback address: anyone who reaches it can read and change the emulated state."`
	Latency     time.Duration `help:"Latency added to every API request."`
	RateLimit   string        `enum:"astro,off" default:"astro" help:"Rate limits per credential: astro (GET 25/s, POST 10/s, DELETE 5/s) or off."`
	FaultRate   float64       `help:"Fraction of API requests answered with a fault (500, 502, 503, 429, dropped connection)." placeholder:"F"`
	FaultSeed   int64         `default:"1" help:"Seed of the fault sequence."`
	MaxPageSize int           `help:"Most items a list page holds, below the limit a request asks for (0: no cap), to test paging." placeholder:"N"`
}

// Run serves the emulator until SIGINT or SIGTERM.
func (c *EmulatorCmd) Run(ctx context.Context, st *Streams) error {
	if c.FaultRate < 0 || c.FaultRate > 1 {
		return exitWith(exitUsage, "--fault-rate must be between 0 and 1")
	}
	if c.MaxPageSize < 0 {
		return exitWith(exitUsage, "--max-page-size must be 0 (no cap) or more")
	}
	remote, err := nonLoopback(c.Listen)
	if err != nil {
		return exitWith(exitUsage, "--listen %q: %v", c.Listen, err)
	}
	if remote && !c.AllowRemote {
		return exitWith(exitUsage, "--listen %q is not a loopback address: the emulator has no real authentication and serves its state to anyone; add --allow-remote to listen there anyway", c.Listen)
	}
	if remote {
		fmt.Fprintf(st.Err, "warning: the emulator listens on %s, beyond this machine: anyone who reaches it can read and change the emulated state\n", c.Listen)
	}
	state, err := loadState(ctx, "--state", c.State)
	if err != nil {
		return err
	}
	opts := astroapitest.Options{Latency: c.Latency, FaultRate: c.FaultRate, FaultSeed: c.FaultSeed, MaxPageSize: c.MaxPageSize}
	if c.RateLimit == "off" {
		opts.RateLimits = astroapitest.NoRateLimit
	}
	srv := astroapitest.NewServer(state, opts)
	// The server runs on its own context so that the stop is announced
	// here, in order, before the shutdown: main announces nothing for the
	// emulator (interruptNotice).
	serveCtx, shutdown := context.WithCancel(context.WithoutCancel(ctx))
	defer shutdown()
	served := make(chan error, 1)
	go func() {
		served <- srv.ListenAndServe(serveCtx, c.Listen, func(baseURL string) {
			fmt.Fprintln(st.Out, baseURL)
			fmt.Fprintf(st.Err, "Astro API emulator for organization %s serving at %s (Ctrl-C to stop)\n", render.Safe(state.Organization.ID), baseURL)
		})
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	if cause := context.Cause(ctx); cause != context.Canceled {
		fmt.Fprintf(st.Err, "\ntokensync: %v: %s\n", cause, emulatorStopNotice)
	}
	shutdown()
	if err := <-served; err != nil {
		return err
	}
	fmt.Fprintln(st.Err, "emulator stopped")
	return nil
}

// nonLoopback reports whether the listen address addr (HOST:PORT) may
// accept connections from other machines: any host but localhost or a
// loopback IP address, an empty host (every interface) included. Host
// names are not resolved.
func nonLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if strings.EqualFold(host, "localhost") {
		return false, nil
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback(), nil
}

// loadState reads and parses the emulator state file that flag names
// (--emulate, --state): one that cannot be read, is not a regular file or
// is over astroapitest.MaxStateSize is a usage error; one that does not
// parse is invalid (exit 3).
func loadState(ctx context.Context, flag, path string) (*astroapitest.State, error) {
	data, err := inputfile.Read(ctx, path, astroapitest.MaxStateSize)
	if err != nil {
		return nil, exitWith(exitUsage, "%s %s: %w", flag, render.Safe(path), err)
	}
	state, err := untilDone(ctx, func() (*astroapitest.State, error) { return astroapitest.ParseState(path, data) })
	if err != nil {
		return nil, &codeError{code: exitInvalid, err: fmt.Errorf("%s: %w", flag, &namedFile{path, err})}
	}
	return state, nil
}
