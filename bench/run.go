package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// Result is what one run of a tool on one workload cost.
type Result struct {
	Size, Workload, Tool string
	GETs, POSTs, TooMany int
	// Routes counts the requests by "METHOD /organizations/{organizationId}/…"
	// route template, as the emulator's Stats does.
	Routes map[string]int
	Conns  int // TCP connections the emulator accepted
	// LostDAG counts the users and teams whose DAG roles a run dropped
	// (the Astro CLI's pattern does).
	LostDAG int
	Wall    time.Duration
	// CPU, RSS and Heap are known for tokensync only (a child process).
	CPU     time.Duration
	RSS     int64 // peak resident set, bytes
	Heap    int64 // peak Go heap (runtime.MemStats.HeapSys at exit), bytes
	Floor   time.Duration
	Skipped string // why the run was not made, when it was not
}

// Requests is GETs plus POSTs.
func (r Result) Requests() int { return r.GETs + r.POSTs }

// config is what every run shares.
type config struct {
	rateScale   float64
	latency     time.Duration
	parallelism int
	dir         string // scratch directory
	binary      string // the tokensync binary
	timeout     time.Duration
}

// limits are Astro's rate limits scaled by rateScale: the emulator's and the
// client's.
func (c *config) limits() astroapitest.Limits {
	return astroapitest.Limits{
		GET:    astroapitest.AstroLimits.GET * c.rateScale,
		POST:   astroapitest.AstroLimits.POST * c.rateScale,
		DELETE: astroapitest.AstroLimits.DELETE * c.rateScale,
	}
}

// floor is the least time the requests take at the scaled limits:
// max(POSTs / POST limit, GETs / GET limit).
func (c *config) floor(gets, posts int) time.Duration {
	l := c.limits()
	s := math.Max(float64(posts)/l.POST, float64(gets)/l.GET)
	return time.Duration(s * float64(time.Second))
}

// emulator serves st on a loopback port with the configured latency and
// scaled limits until stop is called; conns counts the TCP connections
// accepted.
func (c *config) emulator(st *astroapitest.State) (srv *astroapitest.Server, url string, conns *atomic.Int64, stop func(), err error) {
	srv = astroapitest.NewServer(st, astroapitest.Options{Latency: c.latency, RateLimits: c.limits()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, nil, fmt.Errorf("start emulator: %w", err)
	}
	conns = new(atomic.Int64)
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		},
	}
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(ln) }()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if hs.Shutdown(ctx) != nil {
			hs.Close()
		}
		<-done
	}
	return srv, "http://" + ln.Addr().String() + "/v1", conns, stop, nil
}

// count fills the request counts of r from the emulator's stats.
func count(r *Result, s astroapitest.Stats) {
	r.Routes = s.Requests
	for route, n := range s.Requests {
		switch {
		case strings.HasPrefix(route, "GET "):
			r.GETs += n
		case strings.HasPrefix(route, "POST "):
			r.POSTs += n
		}
	}
	r.TooMany = s.Statuses[429]
}

// build compiles ./cmd/tokensync of the module in root into dir.
func build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "tokensync")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tokensync")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/tokensync: %w\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run from the tokensync repository")
	}
	return filepath.Dir(gomod), nil
}

// childRun is one tokensync invocation.
type childRun struct {
	name     string   // for file names: "M-apply"
	args     []string // the command's name, then its own flags (the API flags go between)
	wantExit int
	// wantPlan, when set, is the plan line stdout must contain.
	wantPlan string
	// out, when set, is the file the run writes (--out), which checkOut
	// checks.
	out      string
	checkOut func([]byte) error
}

// runTokensync runs the tokensync binary as a child process against the
// emulator at url and measures it.
func (c *config) runTokensync(ctx context.Context, url, org string, run childRun) (Result, error) {
	var r Result
	memPath := filepath.Join(c.dir, run.name+".memstats.json")
	outPath := filepath.Join(c.dir, run.name+".stdout")
	stdout, err := os.Create(outPath)
	if err != nil {
		return r, err
	}
	defer stdout.Close()
	var stderr bytes.Buffer
	// The API flags belong to each command: they follow its name.
	args := []string{run.args[0], "--api-url", url, "--organization", org, "--rate-scale", fmt.Sprint(c.rateScale), "--no-color"}
	if c.parallelism > 0 && (run.args[0] == "apply" || run.args[0] == "report") { // the commands that take it
		args = append(args, "--parallelism", fmt.Sprint(c.parallelism))
	}
	args = append(args, run.args[1:]...)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cmd, peakRSS := measuredCommand(ctx, c.dir, c.binary, args...)
	cmd.Dir = c.dir
	cmd.Env = append(childEnv(), "ASTRO_API_TOKEN=bench-credential", "TOKENSYNC_BENCH_MEMSTATS="+memPath, "NO_COLOR=1")
	cmd.Stdout = stdout
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 1 << 20}
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	r.Wall = time.Since(start)
	if cmd.ProcessState == nil {
		return r, fmt.Errorf("%s: %w", run.name, err)
	}
	if code := cmd.ProcessState.ExitCode(); code != run.wantExit {
		return r, fmt.Errorf("%s: tokensync %s exited %d, want %d (%v); stderr:\n%s", run.name, strings.Join(args, " "), code, run.wantExit, err, tail(stderr.String(), 2000))
	}
	r.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	r.RSS = peakRSS()
	if data, err := os.ReadFile(memPath); err == nil {
		var m struct {
			HeapSys int64 `json:"heapSys"`
		}
		if json.Unmarshal(data, &m) == nil {
			r.Heap = m.HeapSys
		}
	}
	if run.wantPlan != "" {
		out, err := os.ReadFile(outPath)
		if err != nil {
			return r, err
		}
		if !bytes.Contains(out, []byte(run.wantPlan)) {
			return r, fmt.Errorf("%s: stdout has no %q; it ends:\n%s", run.name, run.wantPlan, tail(string(out), 1000))
		}
	}
	if run.out != "" {
		data, err := os.ReadFile(run.out)
		if err == nil && len(data) == 0 {
			err = errors.New("the file is empty")
		}
		if err == nil {
			err = run.checkOut(data)
		}
		if err != nil {
			return r, fmt.Errorf("%s: %s: %w", run.name, filepath.Base(run.out), err)
		}
	}
	return r, nil
}

// childEnv is the bench's environment without the variables that would
// steer tokensync.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TOKENSYNC_") || strings.HasPrefix(kv, "ASTRO_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
