package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

// report prints the organizations, the results table, the baseline ratios
// and the targets.
func report(w io.Writer, c *config, orgs []*Org, rs []Result, withBaseline bool) {
	l := c.limits()
	fmt.Fprintf(w, "Rate limits ×%g: GET %g/s, POST %g/s; latency %s per request; tokensync parallelism %s.\n\n",
		c.rateScale, l.GET, l.POST, c.latency, parallelismText(c.parallelism))
	reportOrgs(w, orgs)
	reportResults(w, rs)
	if withBaseline {
		reportBaselineSkipped(w, c, orgs)
	}
	reportRatios(w, orgs, rs)
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
	fmt.Fprintln(w, "| size | workspaces | deployments | tokens (org) | users (with roles) | teams (with roles) | assignments: tokens / users / teams | drift: removed / changed / added | subjects written: apply / drift |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, o := range orgs {
		orgTokens := 0
		for _, t := range o.Tokens {
			if t.Workspace < 0 {
				orgTokens++
			}
		}
		var per, with [3]int
		seen := map[place]bool{}
		for _, a := range o.Want {
			per[a.Kind]++
			if p := (place{a.Kind, a.Subject, 0}); !seen[p] {
				seen[p] = true
				with[a.Kind]++
			}
		}
		da, dc, dr := o.DriftCounts()
		fmt.Fprintf(w, "| %s | %s | %s | %s (%d) | %s (%s) | %s (%s) | %s / %s / %s | %d / %d / %d | %s / %s |\n", o.Size.Name,
			thousands(len(o.Workspaces)), thousands(len(o.Deployments)), thousands(len(o.Tokens)), orgTokens,
			thousands(len(o.Users)), thousands(with[KindUser]), thousands(len(o.Teams)), thousands(with[KindTeam]),
			thousands(per[KindToken]), thousands(per[KindUser]), thousands(per[KindTeam]), da, dc, dr,
			thousands(o.ChangedSubjects(nil, o.Want)), thousands(o.ChangedSubjects(o.Drifted(), o.Want)))
	}
	fmt.Fprintln(w)
}

// reportResults prints the table of the results.
func reportResults(w io.Writer, rs []Result) {
	fmt.Fprintln(w, "| size | workload | tool | GETs (list pages) | POSTs | 429s | TCP conns | wall | CPU | peak RSS | peak heap | floor | wall / floor |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		cpu, rss, heap := "—", "—", "—"
		if r.Tool == "tokensync" {
			cpu, rss, heap = duration(r.CPU), megabytes(r.RSS), megabytes(r.Heap)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s (%s) | %s | %d | %s | %s | %s | %s | %s | %s | %.2f |\n",
			r.Size, r.Workload, r.Tool, thousands(r.GETs), thousands(listPages(r.Routes)), thousands(r.POSTs), r.TooMany, thousands(r.Conns),
			duration(r.Wall), cpu, rss, heap, duration(r.Floor), ratio(r.Wall, r.Floor))
	}
	for _, r := range rs {
		if r.LostDAG > 0 {
			fmt.Fprintf(w, "\n%s %s, %s: %s users and teams lost their DAG roles (the Astro CLI leaves dagRoles out of its writes).\n",
				r.Size, r.Workload, r.Tool, thousands(r.LostDAG))
		}
	}
}

// reportBaselineSkipped says which baseline runs were counted, not run.
func reportBaselineSkipped(w io.Writer, c *config, orgs []*Org) {
	for _, o := range orgs {
		for _, wl := range applyWorkloads(o) {
			if slices.Contains(o.Size.Baseline, wl.name) {
				continue
			}
			reqs := o.baselineRequests(wl.from, wl.ops)
			fmt.Fprintf(w, "\nThe baseline is not run on %s %s: %s requests one after another, about %s at %s each.\n",
				o.Size.Name, wl.name, thousands(reqs), (time.Duration(reqs) * c.latency).Round(time.Minute), c.latency)
		}
	}
}

// reportRatios prints the baseline's requests and wall time over
// tokensync's, where both ran.
func reportRatios(w io.Writer, orgs []*Org, rs []Result) {
	ratios := false
	for _, o := range orgs {
		for _, wl := range []string{wlApply, wlApplyDrift} {
			ts, okT := find(rs, o.Size.Name, wl, "tokensync")
			bl, okB := find(rs, o.Size.Name, wl, "Astro CLI pattern")
			if !okT || !okB {
				continue
			}
			if !ratios {
				fmt.Fprintln(w, "\n| size | workload | baseline requests / tokensync | baseline wall / tokensync |")
				fmt.Fprintln(w, "|---|---|--:|--:|")
				ratios = true
			}
			fmt.Fprintf(w, "| %s | %s | %.1f× (%s / %s) | %.1f× (%s / %s) |\n", o.Size.Name, wl,
				float64(bl.Requests())/float64(ts.Requests()), thousands(bl.Requests()), thousands(ts.Requests()),
				bl.Wall.Seconds()/ts.Wall.Seconds(), duration(bl.Wall), duration(ts.Wall))
		}
	}
}

// floorTargets are the most wall / floor an apply may take, by size: the
// fixed cost of a run (start, plan, verification) is a large part of S's
// small floor, so S has none.
var floorTargets = map[string]float64{"M": 1.25, "L": 1.25, "P": 1.10}

// reportTargets checks the targets of organization o: the requests of a
// plan, the requests, 429s and wall time of an apply, the CPU and heap of
// a plan of L.
func reportTargets(w io.Writer, o *Org, rs []Result) {
	z := o.Size
	lists := o.listPages()
	for _, wl := range []string{wlPlan, wlPlanDrift} {
		if r, ok := find(rs, z.Name, wl, "tokensync"); ok {
			got, ok := getRoutes(r.Routes), true
			if ok = maps.Equal(got, lists) && r.POSTs == 0; !ok {
				defer fmt.Fprintf(w, "  want exactly one paged list of each: %s\n", routeText(lists))
			}
			target(w, ok, "%s %s: %d GETs, list pages only (%s), %d POSTs", z.Name, wl, r.GETs, routeText(got), r.POSTs)
		}
	}
	for _, wl := range applyWorkloads(o) {
		r, ok := find(rs, z.Name, wl.name, "tokensync")
		if !ok {
			continue
		}
		changed := o.Changed(wl.from, o.Want)
		target(w, perSubject(r.Routes) == changed && listPages(r.Routes)+2*(changed[0]+changed[1]+changed[2]) == r.Requests(),
			"%s %s: one GET and one POST per changed subject, besides list pages: %s (GET / POST / changed)", z.Name, wl.name, perSubjectText(r.Routes, changed))
		target(w, r.TooMany == 0, "%s %s: %d 429s", z.Name, wl.name, r.TooMany)
		if most, ok := floorTargets[z.Name]; ok {
			target(w, float64(r.Wall) <= most*float64(r.Floor), "%s %s: wall %s ≤ %.2f × floor %s (%.2f)", z.Name, wl.name, duration(r.Wall), most, duration(r.Floor), ratio(r.Wall, r.Floor))
		}
	}
	reportAccessTargets(w, o, rs)
	if r, ok := find(rs, z.Name, wlPlan, "tokensync"); ok && z.Name == "L" {
		target(w, r.CPU < time.Second, "L plan: CPU %s < 1 s", duration(r.CPU))
		target(w, r.Heap > 0 && r.Heap < 256<<20, "L plan: peak heap %s < 256 MB", megabytes(r.Heap))
	}
}

// reportAccessTargets checks the targets of the access reports of o: list
// pages only, one paged list of each family as a plan makes, and with
// --expand-teams one paged list of members per team; nothing else, no
// 429. Where o has people, the whole command's CPU, an upper bound of the
// HTML's generation, is held to the HTML's bar of 1 s.
func reportAccessTargets(w io.Writer, o *Org, rs []Result) {
	z := o.Size
	for _, rw := range reportWorkloads(o) {
		r, ok := find(rs, z.Name, rw.name, "tokensync")
		if !ok {
			continue
		}
		want, members := o.listPages(), ""
		// The report rates each custom role in use from its permissions:
		// one read of each.
		if n := o.customRolesInUse(); n > 0 {
			want[routeRole] = n
		}
		if rw.expandTeams {
			want[routeTeamMembers] = o.memberPages()
			members = fmt.Sprintf(" and %d of members for %d teams", want[routeTeamMembers], len(o.Teams))
		}
		if !maps.Equal(r.Routes, want) {
			defer fmt.Fprintf(w, "  want exactly: %s\n", routeText(want))
		}
		target(w, maps.Equal(r.Routes, want), "%s %s: %d GETs, list pages only (%s)%s, %d POSTs, %d 429s",
			z.Name, rw.name, r.GETs, routeText(r.Routes), members, r.POSTs, r.TooMany)
		if rw.format == "html" && len(o.Users) > 0 {
			target(w, r.CPU < time.Second, "%s %s: CPU %s < 1 s (the whole command: reading, spec, report and HTML)", z.Name, rw.name, duration(r.CPU))
		}
	}
}

// applyWorkload is an apply workload, the assignments it starts from and
// the baseline's commands.
type applyWorkload struct {
	name string
	from []Assignment
	ops  []Op
}

// applyWorkloads are the apply workloads of o: from nothing, and from
// its drifted state.
func applyWorkloads(o *Org) []applyWorkload {
	return []applyWorkload{{wlApply, nil, o.FromNothingOps()}, {wlApplyDrift, o.Drifted(), o.DriftOps()}}
}

// reportBaselineTargets checks that tokensync beats the baseline on o
// (M) by 5× in requests and wall time.
func reportBaselineTargets(w io.Writer, o *Org, rs []Result) {
	for _, wl := range applyWorkloads(o) {
		ts, okT := find(rs, o.Size.Name, wl.name, "tokensync")
		bl, okB := find(rs, o.Size.Name, wl.name, "Astro CLI pattern")
		if okT && okB {
			rq, wa := float64(bl.Requests())/float64(ts.Requests()), bl.Wall.Seconds()/ts.Wall.Seconds()
			bound := float64(bl.Requests()) / float64(2*o.ChangedSubjects(wl.from, o.Want))
			target(w, rq >= 5 && wa >= 5, "%s %s: baseline / tokensync %.1f× requests, %.1f× wall (≥ 5× each; one GET and one POST per written subject, and no list at all, would give at most %.1f× requests)", o.Size.Name, wl.name, rq, wa, bound)
		}
	}
}

// baselineRequests counts the requests the Astro CLI pattern makes for ops
// on the organization holding from: per token command, the pages of its
// workspace's tokens up to its own (in the generated order); per user
// add, every page of the organization's users; per user update or
// remove, every page of the deployment's users (as from holds them); a
// GET and a POST per command.
func (o *Org) baselineRequests(from []Assignment, ops []Op) int {
	pos := make([]int, len(o.Tokens)) // index in its workspace's (or the org tokens') list
	seen := map[int]int{}
	for i, t := range o.Tokens {
		pos[i] = seen[t.Workspace]
		seen[t.Workspace]++
	}
	usersOn := map[int]int{}
	for _, a := range from {
		if a.Kind == KindUser {
			usersOn[a.Deployment]++
		}
	}
	n := 0
	for _, op := range ops {
		switch {
		case op.Kind == KindToken:
			n += pos[op.Subject]/baselinePageSize + 1
		case op.Kind == KindUser && op.Command == "add":
			n += max(1, ceilDiv(len(o.Users), baselinePageSize))
		case op.Kind == KindUser:
			n += max(1, ceilDiv(usersOn[op.Deployment], baselinePageSize))
		}
		n += 2
	}
	return n
}

// listRoutes are the list routes of the families tokensync reads, by the
// emulator's route template.
var listRoutes = []string{"tokens", "users", "teams", "deployments", "workspaces", "roles"}

func route(method, path string) string {
	return method + " /organizations/{organizationId}/" + path
}

// listPages are the list requests a plan of o makes: one paged list of each
// family, astroapi.DefaultPageSize items a page (the custom roles fit one).
func (o *Org) listPages() map[string]int {
	n := []int{len(o.Tokens), len(o.Users), len(o.Teams), len(o.Deployments), len(o.Workspaces), len(o.Roles)}
	out := map[string]int{}
	for i, r := range listRoutes {
		out[route("GET", r)] = max(1, ceilDiv(n[i], astroapi.DefaultPageSize))
	}
	return out
}

// routeTeamMembers is the route of a team's members, which --expand-teams
// lists.
var routeTeamMembers = route("GET", "teams/{teamId}/members")

// routeRole is the read of one custom role with its permissions.
var routeRole = route("GET", "roles/{roleId}")

// customRolesInUse counts the custom roles that some subject holds when
// the organization is as the spec wants it.
func (o *Org) customRolesInUse() int {
	custom := map[string]bool{}
	for _, r := range o.Roles {
		custom[r.Name] = true
	}
	used := map[string]bool{}
	for _, a := range o.Want {
		if custom[a.Role] {
			used[a.Role] = true
		}
	}
	return len(used)
}

// memberPages are the list requests of every team's members,
// astroapi.DefaultPageSize a page.
func (o *Org) memberPages() int {
	n := 0
	for _, t := range o.Teams {
		n += max(1, ceilDiv(len(t.Members), astroapi.DefaultPageSize))
	}
	return n
}

// getRoutes are the GET routes of routes and their counts.
func getRoutes(routes map[string]int) map[string]int {
	out := map[string]int{}
	for r, n := range routes {
		if strings.HasPrefix(r, "GET ") {
			out[r] = n
		}
	}
	return out
}

// listPages counts the list requests of routes, teams' members included.
func listPages(routes map[string]int) int {
	n := routes[routeTeamMembers]
	for _, r := range listRoutes {
		n += routes[route("GET", r)]
	}
	return n
}

// subjectRoutes are the routes of one subject, by kind: its GET and its
// role write.
var subjectRoutes = [3][2]string{
	{route("GET", "tokens/{tokenId}"), route("POST", "tokens/{tokenId}/roles")},
	{route("GET", "users/{userId}"), route("POST", "users/{userId}/roles")},
	{route("GET", "teams/{teamId}"), route("POST", "teams/{teamId}/roles")},
}

// perSubject returns, by kind, the requests of routes on one subject when
// its GETs and POSTs are as many, and -1 when not.
func perSubject(routes map[string]int) [3]int {
	var n [3]int
	for _, k := range kinds {
		get, post := routes[subjectRoutes[k][0]], routes[subjectRoutes[k][1]]
		n[k] = get
		if get != post {
			n[k] = -1
		}
	}
	return n
}

func perSubjectText(routes map[string]int, changed [3]int) string {
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%ss %s / %s / %s", k, thousands(routes[subjectRoutes[k][0]]), thousands(routes[subjectRoutes[k][1]]), thousands(changed[k])))
	}
	return strings.Join(parts, ", ")
}

// routeText lists the counts of routes by the last part of their path.
func routeText(routes map[string]int) string {
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(routes)) {
		parts = append(parts, fmt.Sprintf("%s %d", strings.TrimPrefix(strings.TrimPrefix(r, "GET "), "/organizations/{organizationId}/"), routes[r]))
	}
	return strings.Join(parts, ", ")
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
