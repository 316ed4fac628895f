package main

import (
	"fmt"
	"io"
	"math"
	"time"
)

// report prints the organizations, the results table, the baseline ratios
// on M and the targets.
func report(w io.Writer, c *config, orgs []*Org, rs []Result, withBaseline bool) {
	l := c.limits()
	fmt.Fprintf(w, "Rate limits ×%g: GET %g/s, POST %g/s; latency %s per request; tokensync parallelism %s.\n\n",
		c.rateScale, l.GET, l.POST, c.latency, parallelismText(c.parallelism))
	reportOrgs(w, orgs)
	reportResults(w, rs)
	if withBaseline {
		reportBaselineSkipped(w, c, orgs)
	}
	reportRatios(w, rs)
	fmt.Fprintln(w, "\nTargets:")
	for _, o := range orgs {
		reportTargets(w, o, rs)
	}
	for _, o := range orgs {
		if o.Size.Name == "M" {
			reportBaselineTargets(w, o, rs)
		}
	}
}

// reportOrgs prints the table of the organizations.
func reportOrgs(w io.Writer, orgs []*Org) {
	fmt.Fprintln(w, "| size | workspaces | deployments | tokens (org) | assignments | drift: removed / changed / added | tokens written: apply / drift |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for _, o := range orgs {
		orgTokens := 0
		for _, t := range o.Tokens {
			if t.Workspace < 0 {
				orgTokens++
			}
		}
		da, dc, dr := o.DriftCounts()
		fmt.Fprintf(w, "| %s | %s | %s | %s (%d) | %s | %d / %d / %d | %s / %s |\n", o.Size.Name,
			thousands(len(o.Workspaces)), thousands(len(o.Deployments)), thousands(len(o.Tokens)), orgTokens,
			thousands(len(o.Want)), da, dc, dr,
			thousands(o.ChangedTokens(nil, o.Want)), thousands(o.ChangedTokens(o.Drifted(), o.Want)))
	}
	fmt.Fprintln(w)
}

// reportResults prints the table of the results.
func reportResults(w io.Writer, rs []Result) {
	fmt.Fprintln(w, "| size | workload | tool | GETs | POSTs | 429s | TCP conns | wall | CPU | peak RSS | peak heap | floor | wall / floor |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		cpu, rss, heap := "—", "—", "—"
		if r.Tool == "tokensync" {
			cpu, rss, heap = duration(r.CPU), megabytes(r.RSS), megabytes(r.Heap)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %.2f |\n",
			r.Size, r.Workload, r.Tool, thousands(r.GETs), thousands(r.POSTs), r.TooMany, thousands(r.Conns),
			duration(r.Wall), cpu, rss, heap, duration(r.Floor), ratio(r.Wall, r.Floor))
	}
}

// reportBaselineSkipped says why the baseline is not run on L.
func reportBaselineSkipped(w io.Writer, c *config, orgs []*Org) {
	for _, o := range orgs {
		if o.Size.Name == "L" {
			reqs := o.baselineRequests(o.FromNothingOps())
			fmt.Fprintf(w, "\nThe baseline is not run on L: its apply alone is %s requests one after another, about %s at %s each.\n",
				thousands(reqs), (time.Duration(reqs) * c.latency).Round(time.Minute), c.latency)
		}
	}
}

// reportRatios prints the baseline's requests and wall time over
// tokensync's on M.
func reportRatios(w io.Writer, rs []Result) {
	ratios := false
	for _, wl := range []string{"apply", "apply (drift)"} {
		ts, okT := find(rs, "M", wl, "tokensync")
		bl, okB := find(rs, "M", wl, "Astro CLI pattern")
		if !okT || !okB {
			continue
		}
		if !ratios {
			fmt.Fprintln(w, "\n| M | baseline requests / tokensync | baseline wall / tokensync |")
			fmt.Fprintln(w, "|---|--:|--:|")
			ratios = true
		}
		fmt.Fprintf(w, "| %s | %.1f× (%s / %s) | %.1f× (%s / %s) |\n", wl,
			float64(bl.Requests())/float64(ts.Requests()), thousands(bl.Requests()), thousands(ts.Requests()),
			bl.Wall.Seconds()/ts.Wall.Seconds(), duration(bl.Wall), duration(ts.Wall))
	}
}

// reportTargets checks the targets of organization o: the GETs of a plan,
// the POSTs, 429s and wall time of an apply, the CPU and heap of a plan
// of L.
func reportTargets(w io.Writer, o *Org, rs []Result) {
	z := o.Size
	for _, wl := range []string{"plan", "plan (drift)"} {
		if r, ok := find(rs, z.Name, wl, "tokensync"); ok {
			most := ceilDiv(z.Tokens, 1000) + ceilDiv(z.Deployments, 1000) + ceilDiv(z.Workspaces, 1000) + 2
			target(w, r.GETs <= most && r.POSTs == 0, "%s %s: %d GETs, %d POSTs (at most %d GETs, no POST)", z.Name, wl, r.GETs, r.POSTs, most)
		}
	}
	for _, wl := range applyWorkloads(o) {
		r, ok := find(rs, z.Name, wl.name, "tokensync")
		if !ok {
			continue
		}
		changed := o.ChangedTokens(wl.from, o.Want)
		target(w, r.POSTs == changed, "%s %s: %d POSTs for %d tokens that change", z.Name, wl.name, r.POSTs, changed)
		target(w, r.TooMany == 0, "%s %s: %d 429s", z.Name, wl.name, r.TooMany)
		if z.Name != "S" {
			target(w, float64(r.Wall) <= 1.25*float64(r.Floor), "%s %s: wall %s ≤ 1.25 × floor %s (%.2f)", z.Name, wl.name, duration(r.Wall), duration(r.Floor), ratio(r.Wall, r.Floor))
		}
	}
	if r, ok := find(rs, z.Name, "plan", "tokensync"); ok && z.Name == "L" {
		target(w, r.CPU < time.Second, "L plan: CPU %s < 1 s", duration(r.CPU))
		target(w, r.Heap > 0 && r.Heap < 256<<20, "L plan: peak heap %s < 256 MB", megabytes(r.Heap))
	}
}

// applyWorkload is an apply workload and the assignments it starts from.
type applyWorkload struct {
	name string
	from []Assignment
}

// applyWorkloads are the apply workloads of o: from nothing, and from
// its drifted state.
func applyWorkloads(o *Org) []applyWorkload {
	return []applyWorkload{{"apply", nil}, {"apply (drift)", o.Drifted()}}
}

// reportBaselineTargets checks that tokensync beats the baseline on o
// (M) by 5× in requests and wall time.
func reportBaselineTargets(w io.Writer, o *Org, rs []Result) {
	for _, wl := range applyWorkloads(o) {
		ts, okT := find(rs, "M", wl.name, "tokensync")
		bl, okB := find(rs, "M", wl.name, "Astro CLI pattern")
		if okT && okB {
			rq, wa := float64(bl.Requests())/float64(ts.Requests()), bl.Wall.Seconds()/ts.Wall.Seconds()
			bound := float64(bl.Requests()) / float64(2*o.ChangedTokens(wl.from, o.Want))
			target(w, rq >= 5 && wa >= 5, "M %s: baseline / tokensync %.1f× requests, %.1f× wall (≥ 5× each; one GET and one POST per written token, and no list at all, would give at most %.1f× requests)", wl.name, rq, wa, bound)
		}
	}
}

// baselineRequests counts the requests the Astro CLI pattern makes for ops
// on the organization's initial list order: the pages up to the token's,
// a GET and a POST per command.
func (o *Org) baselineRequests(ops []Op) int {
	pos := make([]int, len(o.Tokens)) // index in its workspace's (or the org tokens') list
	seen := map[int]int{}
	for i, t := range o.Tokens {
		pos[i] = seen[t.Workspace]
		seen[t.Workspace]++
	}
	n := 0
	for _, op := range ops {
		n += pos[op.Token]/baselinePageSize + 1 + 2
	}
	return n
}

func find(rs []Result, size, workload, tool string) (Result, bool) {
	for _, r := range rs {
		if r.Size == size && r.Workload == workload && r.Tool == tool {
			return r, true
		}
	}
	return Result{}, false
}

func target(w io.Writer, ok bool, format string, args ...any) {
	mark := "met   "
	if !ok {
		mark = "MISSED"
	}
	fmt.Fprintf(w, "- %s %s\n", mark, fmt.Sprintf(format, args...))
}

func parallelismText(p int) string {
	if p == 0 {
		return "default"
	}
	return fmt.Sprint(p)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return math.Inf(1)
	}
	return float64(a) / float64(b)
}

// duration formats d as "850 ms" below a second, "3.21 s" above.
func duration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func megabytes(n int64) string {
	if n <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}

// thousands formats n with commas: 30,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
