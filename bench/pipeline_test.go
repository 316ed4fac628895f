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

// BenchmarkPipelineX measures, in process, what `plan -f DIR --prune`
// does on X with the directory `export --out DIR` writes of it (every
// level, 201 files): spec.LoadContext of the directory (load), sync's
// reading of the organization from recorded list pages (observe: the
// client's decoding and sync's conversions, without the emulator's cost
// of serving them), sync.Resolve and sync.Compute (resolve+compute),
// render.Text of the plan (render), and all of them one after the other
// (pipeline). Its setup builds tokensync and runs its export against the
// emulator (a minute or so); with TOKENSYNC_BENCH_XDIR set, the export is
// kept in that directory and read from there by the next run:
//
//	TOKENSYNC_BENCH_XDIR=/tmp/x go test ./bench -run '^$' -bench PipelineX -benchtime 3x -cpuprofile cpu.out
func BenchmarkPipelineX(b *testing.B) {
	org, dir, rec := setupX(b)
	c, err := astroapi.New("http://127.0.0.1/v1", astroapi.WithCredential("bench-credential"), astroapi.WithRateLimits(0, 0, 0),
		astroapi.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		b.Fatal(err)
	}
	observe := func(b *testing.B) *sync.Observed {
		obs, err := sync.NewEngine(c, org).Observe(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		return obs
	}
	obs := observe(b)
	paths := []string{dir}
	plan := func(b *testing.B, sp *spec.Spec, obs *sync.Observed) sync.Plan {
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
	load := func(b *testing.B) *spec.Spec {
		sp, err := spec.LoadContext(b.Context(), paths, nil)
		if err != nil {
			b.Fatal(err)
		}
		return sp
	}
	sp := load(b)
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
	b.Run("pipeline", func(b *testing.B) {
		defer measure(b)()
		defer peakHeap(b)()
		for b.Loop() {
			sp := load(b)
			obs := observe(b)
			if err := render.Text(io.Discard, plan(b, sp, obs), false); err != nil {
				b.Fatal(err)
			}
		}
	})
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
func setupX(b *testing.B) (org, dir string, rec *recorder) {
	o, err := Generate(sizes[slices.IndexFunc(sizes, func(z Size) bool { return z.Name == "X" })], seed)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(astroapitest.NewServer(o.State(o.Want), astroapitest.Options{}))
	defer hs.Close()
	dir = exportX(b, hs.URL+"/v1", o.ID)
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
	return o.ID, dir, rec
}

// exportX writes `tokensync export --out DIR` of the organization org at
// url into a new directory, or into $TOKENSYNC_BENCH_XDIR when it is set,
// unless that already holds one.
func exportX(b *testing.B, url, org string) string {
	dir := os.Getenv("TOKENSYNC_BENCH_XDIR")
	if dir != "" {
		if files, _ := filepath.Glob(filepath.Join(dir, "*.yaml")); len(files) > 0 {
			return dir
		}
	} else {
		dir = filepath.Join(b.TempDir(), "export")
	}
	root, err := moduleRoot(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	bin, err := build(b.Context(), root, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.CommandContext(b.Context(), bin, "export", "--api-url", url, "--organization", org, "--rate-scale", "1000", "--out", dir)
	cmd.Env = append(childEnv(), "ASTRO_API_TOKEN=bench-credential", "NO_COLOR=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("tokensync export: %v\n%s", err, tail(string(out), 2000))
	}
	return dir
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

type url404 struct{ key string }

func (e *url404) Error() string { return "not recorded: " + e.key }
