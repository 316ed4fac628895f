package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	gosync "sync"
	"testing"
	"time"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// BenchmarkPipelineX measures what `plan -f DIR --prune` does on X with
// the directory `export --out DIR` writes of it (every level, 201 files).
// plan runs the command itself as a child process against the list pages
// of X, recorded once from the emulator and served by this process: its
// CPU time and peak RSS, as the bench's "plan (every level)" row measures
// them without the emulator's cost. The others run in process: all of the
// stages one after the other (pipeline, with its peak heap), then each
// alone: spec.LoadContext of the directory (load), sync's reading of the
// organization from the recorded pages (observe: the client's decoding and
// sync's conversions), sync.Resolve and sync.Compute (resolve+compute),
// and render.Text of the plan (render). cpu-ns/op is the process's CPU
// time, garbage collection included. The setup builds tokensync and runs
// its export against the emulator; with TOKENSYNC_BENCH_XDIR set, the
// export is kept in that directory and read from there by the next run:
//
//	TOKENSYNC_BENCH_XDIR=/tmp/x go test ./bench -run '^$' -bench PipelineX -benchtime 3x -cpuprofile cpu.out
func BenchmarkPipelineX(b *testing.B) {
	org, dir, bin, rec := setupX(b)
	b.Run("plan", func(b *testing.B) {
		// The command itself, as a child process reading the recorded
		// pages from a server in this one (see measuredCommand).
		hs := httptest.NewServer(rec)
		defer hs.Close()
		scratch := b.TempDir()
		var cpu time.Duration
		var rss int64
		for b.Loop() {
			cmd, peakRSS := measuredCommand(b.Context(), scratch, bin, "plan", "--api-url", hs.URL+"/v1", "--organization", org, "--rate-scale", "1000", "--no-color", "-f", dir, "--prune")
			cmd.Env = append(childEnv(), "ASTRO_API_TOKEN=bench-credential", "NO_COLOR=1")
			out, err := cmd.CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("No changes")) {
				b.Fatalf("tokensync plan: %v\n%s", err, tail(string(out), 2000))
			}
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			rss = max(rss, peakRSS())
		}
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		if rss > 0 {
			b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MB")
		}
	})
	b.Run("pipeline", pipelineX(org, dir, rec))
	load, observe, plan := stagesX(org, dir, rec)
	sp, obs := load(b), observe(b)
	p := plan(b, sp, obs)
	b.Run("load", func(b *testing.B) {
		defer measure(b)()
		for b.Loop() {
			load(b)
		}
	})
	b.Run("observe", func(b *testing.B) {
		defer measure(b)()
		for b.Loop() {
			observe(b)
		}
	})
	b.Run("resolve+compute", func(b *testing.B) {
		defer measure(b)()
		for b.Loop() {
			plan(b, sp, obs)
		}
	})
	b.Run("render", func(b *testing.B) {
		defer measure(b)()
		for b.Loop() {
			if err := render.Text(io.Discard, p, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// stagesX are the stages of a plan of X: load the export in dir, observe
// from the recorded pages, resolve and compute.
func stagesX(org, dir string, rec *recorder) (load func(*testing.B) *spec.Spec, observe func(*testing.B) *sync.Observed, plan func(*testing.B, *spec.Spec, *sync.Observed) sync.Plan) {
	c, err := astroapi.New("http://127.0.0.1/v1", astroapi.WithCredential("bench-credential"), astroapi.WithRateLimits(0, 0, 0),
		astroapi.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		panic(err)
	}
	observe = func(b *testing.B) *sync.Observed {
		obs, err := sync.NewEngine(c, org).Observe(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		return obs
	}
	plan = func(b *testing.B, sp *spec.Spec, obs *sync.Observed) sync.Plan {
		d, err := sync.Resolve(sp, obs)
		if err != nil {
			b.Fatal(err)
		}
		p := sync.Compute(d, obs, sync.Options{Prune: true, MaxRemovals: 20})
		if len(p.Changes) != 0 {
			b.Fatalf("plan of the export has %d changes, want none", len(p.Changes))
		}
		return p
	}
	load = func(b *testing.B) *spec.Spec {
		sp, err := spec.LoadContext(b.Context(), []string{dir}, nil)
		if err != nil {
			b.Fatal(err)
		}
		return sp
	}
	return load, observe, plan
}

// pipelineX runs every stage of a plan of X and renders it, with nothing
// of earlier runs in the heap, so that its peak heap is a plan's.
func pipelineX(org, dir string, rec *recorder) func(*testing.B) {
	return func(b *testing.B) {
		load, observe, plan := stagesX(org, dir, rec)
		defer measure(b)()
		defer peakHeap(b)()
		for b.Loop() {
			sp := load(b)
			obs := observe(b)
			if err := render.Text(io.Discard, plan(b, sp, obs), false); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// measure reports allocations and, when it is known, the CPU time of an
// operation (cpu-ns/op: the process's user and system time, garbage
// collection included, which wall time on a loaded machine is not).
func measure(b *testing.B) (stop func()) {
	b.ReportAllocs()
	runtime.GC()
	start := cpuTime()
	return func() {
		if used := cpuTime() - start; used > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// peakHeap reports the most heap the operations held at once above what
// the setup holds (peak-heap-MB: heap objects, sampled every 2 ms).
func peakHeap(b *testing.B) (stop func()) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base, peak := read(), uint64(0)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				peak = max(peak, read())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		if peak > base {
			b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-MB")
		}
	}
}

// setupX generates X, serves it with the emulator, writes its export (see
// exportX) and records the list pages of one reading of it, which the
// recorder then replays: the generator and the emulator are gone when it
// returns, so that the heap the benchmarks measure against is the
// pages' only, as in a run of tokensync.
func setupX(b *testing.B) (org, dir, bin string, rec *recorder) {
	o, err := Generate(sizes[slices.IndexFunc(sizes, func(z Size) bool { return z.Name == "X" })], seed)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(astroapitest.NewServer(o.State(o.Want), astroapitest.Options{}))
	defer hs.Close()
	dir, bin = exportX(b, hs.URL+"/v1", o.ID)
	rec = &recorder{next: http.DefaultTransport, pages: map[string][]byte{}}
	c, err := astroapi.New(hs.URL+"/v1", astroapi.WithCredential("bench-credential"), astroapi.WithRateLimits(0, 0, 0),
		astroapi.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sync.NewEngine(c, o.ID).Observe(b.Context()); err != nil {
		b.Fatal(err)
	}
	rec.next = nil // from here on, replay only
	return o.ID, dir, bin, rec
}

// exportX writes `tokensync export --out DIR` of the organization org at
// url into a new directory, or into $TOKENSYNC_BENCH_XDIR when it is set,
// unless that already holds one.
func exportX(b *testing.B, url, org string) (dir, bin string) {
	root, err := moduleRoot(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	bin, err = build(b.Context(), root, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	dir = os.Getenv("TOKENSYNC_BENCH_XDIR")
	if dir != "" {
		if files, _ := filepath.Glob(filepath.Join(dir, "*.yaml")); len(files) > 0 {
			return dir, bin
		}
	} else {
		dir = filepath.Join(b.TempDir(), "export")
	}
	cmd := exec.CommandContext(b.Context(), bin, "export", "--api-url", url, "--organization", org, "--rate-scale", "1000", "--out", dir)
	cmd.Env = append(childEnv(), "ASTRO_API_TOKEN=bench-credential", "NO_COLOR=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("tokensync export: %v\n%s", err, tail(string(out), 2000))
	}
	return dir, bin
}

// recorder is a transport that keeps the body of every GET it passes on,
// by URL, and once next is nil, answers from what it kept.
type recorder struct {
	mu    gosync.Mutex
	next  http.RoundTripper
	pages map[string][]byte // by method and URL without scheme and host
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + req.URL.RequestURI()
	r.mu.Lock()
	next := r.next
	body, ok := r.pages[key]
	r.mu.Unlock()
	if next == nil {
		if !ok {
			return nil, &url404{key}
		}
		return &http.Response{
			StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {"application/json"}},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)), Request: req,
		}, nil
	}
	resp, err := next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.pages[key] = data
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

// ServeHTTP answers a GET from the recorded pages.
func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	body, ok := r.pages[req.Method+" "+req.URL.RequestURI()]
	r.mu.Unlock()
	if !ok {
		http.Error(w, `{"message":"not recorded"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

type url404 struct{ key string }

func (e *url404) Error() string { return "not recorded: " + e.key }
