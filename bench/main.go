// Command bench measures tokensync at scale against the Astro API emulator
// and compares it with the Astro CLI's one-assignment-at-a-time pattern.
//
// Usage, from the repository root:
//
//	go run ./bench [--sizes S,M,L] [--rate-scale 10] [--latency 20ms]
//	               [--baseline=true] [--parallelism N] [--timeout 30m] [--keep]
//	               [--binary PATH]
//
// For every size it generates a synthetic organization from a fixed seed
// (S: 3 workspaces, 10 deployments, 30 tokens, 100 assignments; M: 10,
// 100, 300, 1,500; L: 50, 1,000, 3,000, 30,000; and, opt-in with --sizes
// P, an organization of people: 20 workspaces, 200 deployments, 1,500
// tokens with 3,000 assignments, 5,000 users of whom 2,000 hold 3,000
// deployment roles, 300 teams of which 250 hold 600; and R, opt-in too,
// the access report's organization: P's tokens and people on 300
// deployments in 30 workspaces; and X, opt-in too, an organization on
// every level: 200 workspaces, 2,000 deployments, 20,000 tokens, 50,000
// users and 2,000 teams, each with an organization role and roles on one
// or two workspaces, and 20,000 DAG roles, of which only the plans run),
// a tokens.yaml of its
// full assignment set, and a drifted copy of the organization in which 10%
// of the assignments are removed, changed or joined by an extra one (for
// X also X-every-level.yaml, a spec of every level in design.md's format,
// which --keep keeps for the spec's own measurements). It serves
// each starting state with the emulator on 127.0.0.1 in this process, at
// Astro's rate limits (GET 25/s, POST 10/s, DELETE 5/s) times --rate-scale
// and with --latency added to every request, and runs tokensync, built once
// with `go build` (or the binary --binary names), as a child process (`--rate-scale` passed on, so client
// and emulator share the scaled limits):
//
//	plan                 plan of the spec against the organization without deployment roles
//	plan (drift)         plan --max-removals -1 of the spec against the drifted organization
//	apply                apply --yes from no deployment roles to the full spec
//	apply (drift)        apply --yes --max-removals -1 of the drifted organization
//	report (html)        report -f SPEC -o html --out FILE of the fully applied organization
//	report (json)        report -f SPEC -o json --out FILE, the same
//	report (…, expand-teams)  both again with --expand-teams, where the organization has teams
//
// With --baseline (the default) it also replays the Astro CLI's call
// pattern, one command per assignment, one at a time and without retries
// (see baseline.go), for both applies of S and M and the drift of P. The
// others are counted, not run: L's apply is about 90,000 sequential
// requests, P's about 165,000 (`astro deployment user add` lists every
// user of the organization, 100 a page, for each assignment).
//
// It prints a markdown table on stdout (requests and 429s from the
// emulator's counters; wall time; the child's CPU time and peak RSS from
// rusage and its peak Go heap, which tokensync reports at exit when
// TOKENSYNC_BENCH_MEMSTATS names a file; the floor max(POSTs / POST limit,
// GETs / GET limit) at the scaled limits, and wall / floor), the ratios of
// the baseline to tokensync on M, and the targets met or missed; progress
// goes to stderr. Every run checks its outcome: the plan's counts, and after
// every apply and report the emulator's state against the spec, and that
// every role tokensync does not manage (a token's own role, a user's or
// team's organization, workspace and DAG roles) is still there; a report's
// file must be an HTML page naming every deployment, or a JSON report of
// every deployment with exactly the principals the generator gave access
// to it (by a deployment role or a workspace role; with --expand-teams,
// the members of its teams too). The targets count requests by route: a
// plan and a report make list requests only, a report with --expand-teams
// one paged list of members per team besides them, an apply one GET and
// one POST per changed subject besides them; where there are people, a
// report's HTML is held to 1 s of CPU for the whole command. Nothing
// leaves the loopback interface; every run has a timeout.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		sizeList = fs.String("sizes", defaultSizes, "organization sizes to run, comma-separated: S, M, L, P (users and teams), R (P's people on 300 deployments), X (every level: 50,000 users, 20,000 tokens; plans only)")
		c        = config{}
		base     = fs.Bool("baseline", true, "also replay the Astro CLI's call pattern (the applies of S and M, the drift of P)")
		keep     = fs.Bool("keep", false, "keep the scratch directory (specs, plans, binary) and print its path")
		binary   = fs.String("binary", "", "run this tokensync binary instead of building the module's (e.g. one built from another commit)")
	)
	fs.Float64Var(&c.rateScale, "rate-scale", 10, "multiply Astro's rate limits (GET 25/s, POST 10/s) for the emulator, tokensync and the floor")
	fs.DurationVar(&c.latency, "latency", 20*time.Millisecond, "latency the emulator adds to every request")
	fs.IntVar(&c.parallelism, "parallelism", 0, "passed to tokensync --parallelism (0: tokensync's default)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "time limit of each run")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./bench [flags]\n\nMeasures tokensync (plan, apply, apply of a 10%% drift, report) on synthetic organizations\nagainst the in-process Astro API emulator, and the Astro CLI's call pattern for comparison.\nPrints a markdown table on stdout.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.rateScale <= 0 || c.latency < 0 || c.parallelism < 0 || c.timeout <= 0 {
		return fmt.Errorf("--rate-scale and --timeout must be above 0, --latency and --parallelism at least 0")
	}
	var todo []Size
	for _, name := range strings.Split(*sizeList, ",") {
		i := slices.IndexFunc(sizes, func(z Size) bool { return strings.EqualFold(z.Name, strings.TrimSpace(name)) })
		if i < 0 {
			return fmt.Errorf("unknown size %q: want S, M, L, P, R or X", name)
		}
		todo = append(todo, sizes[i])
	}

	dir, err := os.MkdirTemp("", "tokensync-bench-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(stderr, "scratch directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	c.dir = dir
	if *binary != "" {
		if c.binary, err = filepath.Abs(*binary); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "running %s\n", c.binary)
	} else {
		root, err := moduleRoot(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "building tokensync from %s\n", root)
		if c.binary, err = build(ctx, root, dir); err != nil {
			return err
		}
	}

	var (
		results []Result
		orgs    []*Org
		load    = loadAverage()
	)
	for _, z := range todo {
		o, err := Generate(z, seed)
		if err != nil {
			return err
		}
		orgs = append(orgs, o)
		rs, err := c.size(ctx, o, *base, stderr)
		results = append(results, rs...)
		if err != nil {
			return err
		}
	}
	report(stdout, &c, orgs, results, *base)
	if load != "" {
		fmt.Fprintf(stdout, "\nLoad average (1, 5, 15 min) at the start: %s; at the end: %s.\n", load, loadAverage())
	}
	return nil
}

// loadAverage returns the system's load averages where /proc has them.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

// size runs every workload on one organization.
func (c *config) size(ctx context.Context, o *Org, withBaseline bool, log io.Writer) ([]Result, error) {
	z := o.Size
	specPath := filepath.Join(c.dir, z.Name+"-tokens.yaml")
	if err := os.WriteFile(specPath, o.SpecYAML(), 0o644); err != nil {
		return nil, err
	}
	bare, full, drifted := o.State(nil), o.Want, o.Drifted()
	da, dc, dr := o.DriftCounts()
	na, nc := o.FromNothingCounts()
	type workload struct {
		name  string
		start *astroapitest.State
		run   childRun
		check []Assignment // the assignments the emulator must hold after, if any
		ops   []Op         // the baseline's commands, nil when not applicable
	}
	workloads := []workload{
		{name: wlPlan, start: bare, run: childRun{
			args:     []string{"plan", "-f", specPath},
			wantPlan: fmt.Sprintf("Plan: %d to add, %d to change, 0 to remove.", na, nc),
		}},
		{name: wlPlanDrift, start: o.State(drifted), run: childRun{
			args:     []string{"plan", "-f", specPath, "--max-removals", "-1"},
			wantPlan: fmt.Sprintf("Plan: %d to add, %d to change, %d to remove.", da, dc, dr),
		}},
		{name: wlApply, start: bare, check: full, ops: o.FromNothingOps(), run: childRun{
			args: []string{"apply", "-f", specPath, "--yes"},
		}},
		{name: wlApplyDrift, start: o.State(drifted), check: full, ops: o.DriftOps(), run: childRun{
			args: []string{"apply", "-f", specPath, "--yes", "--max-removals", "-1"},
		}},
	}
	levelsDir := filepath.Join(c.dir, z.Name+"-every-level")
	if z.DAGGrants > 0 {
		workloads = append(workloads,
			workload{name: wlExportLevels, start: o.State(full), run: childRun{
				args: []string{"export", "--out", levelsDir},
			}},
			workload{name: wlPlanLevels, start: o.State(full), run: childRun{
				args:     []string{"plan", "-f", levelsDir, "--prune"},
				wantPlan: "No changes",
			}},
		)
	}
	for _, rw := range reportWorkloads(o) {
		workloads = append(workloads, workload{name: rw.name, start: o.State(full), check: full, run: rw.childRun(o, c.dir, specPath)})
	}
	if z.Workloads != nil {
		workloads = slices.DeleteFunc(workloads, func(w workload) bool { return !slices.Contains(z.Workloads, w.name) })
	}
	if levels := o.EveryLevelSpecYAML(); levels != nil {
		// For the spec's own benchmarks; no workload reads it yet.
		if err := os.WriteFile(filepath.Join(c.dir, z.Name+"-every-level.yaml"), levels, 0o644); err != nil {
			return nil, err
		}
	}
	var out []Result
	for _, w := range workloads {
		w.run.name = z.Name + "-" + strings.NewReplacer(" ", "", "(", "-", ")", "").Replace(w.name)
		fmt.Fprintf(log, "%s %s: tokensync\n", z.Name, w.name)
		r, err := c.measure(ctx, o, w.start, w.check, false, func(url string) (Result, error) {
			return c.runTokensync(ctx, url, o.ID, w.run)
		})
		r.Size, r.Workload, r.Tool = z.Name, w.name, "tokensync"
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	if !withBaseline {
		return out, nil
	}
	for _, w := range workloads {
		if w.ops == nil || !slices.Contains(z.Baseline, w.name) {
			continue
		}
		fmt.Fprintf(log, "%s %s: baseline (%d commands, one at a time)\n", z.Name, w.name, len(w.ops))
		r, err := c.measure(ctx, o, w.start, w.check, true, func(url string) (Result, error) {
			bctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			start := time.Now()
			failed, err := baseline(bctx, url, o, w.ops)
			r := Result{Wall: time.Since(start)}
			if failed > 0 {
				return r, fmt.Errorf("baseline: %d of %d commands failed; first: %w", failed, len(w.ops), err)
			}
			return r, nil
		})
		r.Size, r.Workload, r.Tool = z.Name, w.name, "Astro CLI pattern"
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// measure serves start, runs do against it, counts the requests and checks
// the final state holds exactly the assignments check (when not nil).
// Lost DAG roles are an error unless dropsDAG (the Astro CLI's pattern
// drops them): then they are counted.
func (c *config) measure(ctx context.Context, o *Org, start *astroapitest.State, check []Assignment, dropsDAG bool, do func(url string) (Result, error)) (Result, error) {
	srv, url, conns, stop, err := c.emulator(start)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	r, err := do(url)
	count(&r, srv.Stats())
	r.Conns = int(conns.Load())
	r.Floor = c.floor(r.GETs, r.POSTs)
	if err != nil {
		return r, err
	}
	if check != nil {
		lost, err := o.Check(srv.State(), check)
		if err == nil && lost > 0 && !dropsDAG {
			err = fmt.Errorf("%d users and teams: %w", lost, errLostDAG)
		}
		if err != nil {
			return r, fmt.Errorf("after the run: %w", err)
		}
		r.LostDAG = lost
	}
	return r, ctx.Err()
}

// Check reports the first difference between the deployment roles of st
// and the assignments want, and whether any subject lost a role tokensync
// does not manage: a token its own role, a user or team its organization
// role or workspace role. It counts the users and teams whose DAG roles
// are not as generated: the Astro CLI drops them on every write.
func (o *Org) Check(st *astroapitest.State, want []Assignment) (lostDAG int, err error) {
	exp := make(map[place]string, len(want))
	for _, a := range want {
		exp[a.place()] = a.Role
	}
	if len(st.Tokens) != len(o.Tokens) {
		return 0, fmt.Errorf("the organization has %d tokens, want %d", len(st.Tokens), len(o.Tokens))
	}
	n := 0
	for i, t := range st.Tokens {
		if len(t.Roles) == 0 || t.Roles[0] != o.ownRole(o.Tokens[i]) {
			return 0, fmt.Errorf("token %s lost its own role", t.Name)
		}
		others := o.tokenLevelRoles(i)
		for _, r := range others {
			if !slices.Contains(t.Roles, r) {
				return 0, fmt.Errorf("token %s lost its role %s on %s %s", t.Name, r.Role, r.EntityType, r.EntityID)
			}
		}
		for _, r := range t.Roles[1:] {
			if r.EntityType != astroapi.EntityDeployment && slices.Contains(others, r) {
				continue
			}
			d := o.depIndex(r.EntityID)
			if r.EntityType != astroapi.EntityDeployment || exp[place{KindToken, i, d}] != r.Role {
				return 0, fmt.Errorf("token %s holds %s on %s %s, want %q", t.Name, r.Role, r.EntityType, r.EntityID, exp[place{KindToken, i, d}])
			}
			n++
		}
	}
	people, lostDAG, err := o.checkPeople(st, exp)
	if err != nil {
		return 0, err
	}
	if n += people; n != len(want) {
		return lostDAG, fmt.Errorf("the organization holds %d deployment roles, want %d", n, len(want))
	}
	return lostDAG, nil
}
