package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// tiny is a small organization with people, for the tests.
var tiny = Size{Name: "T", Workspaces: 3, Deployments: 10, Tokens: 30, Assignments: 100, People: People{
	Users: 60, UsersWithRoles: 20, UserAssignments: 30,
	Teams: 6, TeamsWithRoles: 4, TeamAssignments: 6,
}}

// TestWorkloads builds tokensync and runs every workload of a small
// organization with people, as `go run ./bench` does: each must exit as
// expected, pass its outcome check (the reports' files against the
// organization) and meet its request targets.
func TestWorkloads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tokensync")
	}
	ctx := context.Background()
	root, err := moduleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &config{rateScale: 100, timeout: 2 * time.Minute, dir: t.TempDir()}
	if c.binary, err = build(ctx, root, c.dir); err != nil {
		t.Fatal(err)
	}
	o, err := Generate(tiny, seed)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.size(ctx, o, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Workload)
	}
	want := []string{wlPlan, wlPlanDrift, wlApply, wlApplyDrift, wlReportHTML, wlReportJSON, wlReportHTMLTeams, wlReportJSONTeams}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	var out bytes.Buffer
	reportTargets(&out, o, rs)
	if strings.Contains(out.String(), "MISSED") && !onlyCPUMissed(out.String()) {
		t.Errorf("targets missed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "teams/{teamId}/members 6") {
		t.Errorf("the expanded reports' targets do not count one members list per team:\n%s", out.String())
	}
}

// onlyCPUMissed says the only targets missed are of CPU, which a busy
// machine may miss.
func onlyCPUMissed(targets string) bool {
	return !slices.ContainsFunc(strings.Split(targets, "\n"), func(l string) bool {
		return strings.Contains(l, "MISSED") && !strings.Contains(l, ": CPU ")
	})
}

// TestReportCellsCountsEveryPath checks ReportCells against a hand count
// of one deployment of the small organization.
func TestReportCellsCountsEveryPath(t *testing.T) {
	o, err := Generate(tiny, seed)
	if err != nil {
		t.Fatal(err)
	}
	const d = 0
	ws := o.depWS[d]
	tokens, users, teams := map[int]bool{}, map[int]bool{}, map[int]bool{}
	for i, tok := range o.Tokens {
		if tok.Workspace == ws {
			tokens[i] = true
		}
	}
	for i, u := range o.Users {
		if u.Workspace == ws {
			users[i] = true
		}
	}
	for i, tm := range o.Teams {
		if tm.Workspace == ws {
			teams[i] = true
		}
	}
	for _, a := range o.Want {
		if a.Deployment == d {
			map[Kind]map[int]bool{KindToken: tokens, KindUser: users, KindTeam: teams}[a.Kind][a.Subject] = true
		}
	}
	plain := len(tokens) + len(users) + len(teams)
	for tm := range teams {
		for _, m := range o.Teams[tm].Members {
			users[m] = true
		}
	}
	expanded := len(tokens) + len(users) + len(teams)
	id := o.Deployments[d].ID
	if got := []int{o.ReportCells(false)[id], o.ReportCells(true)[id]}; !slices.Equal(got, []int{plain, expanded}) || plain == expanded {
		t.Errorf("cells of deployment 0 without and with teams expanded: got %v, want [%d %d] (and different)", got, plain, expanded)
	}
}

// BenchmarkReport measures, in process, what `tokensync report -o html`
// does with the organization of size R served by the emulator without
// limits or latency: all of it (spec, lists, resolve, report, HTML; the
// emulator's serving included), and the report and each renderer alone. Profile with
// go test ./bench -run '^$' -bench Report -cpuprofile cpu.out.
func BenchmarkReport(b *testing.B) {
	o, err := Generate(sizes[slices.IndexFunc(sizes, func(z Size) bool { return z.Name == "R" })], seed)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(astroapitest.NewServer(o.State(o.Want), astroapitest.Options{}))
	defer hs.Close()
	specData := o.SpecYAML()
	read := func(b *testing.B) access.Input {
		sp, err := spec.Parse("tokens.yaml", specData)
		if err != nil {
			b.Fatal(err)
		}
		c, err := astroapi.New(hs.URL+"/v1", astroapi.WithCredential("bench-credential"))
		if err != nil {
			b.Fatal(err)
		}
		obs, err := sync.NewEngine(c, o.ID).Observe(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		d, err := sync.Resolve(sp, obs)
		if err != nil {
			b.Fatal(err)
		}
		return access.Input{Observed: obs, Desired: &d}
	}
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			var buf bytes.Buffer
			if err := render.ReportHTML(&buf, access.Compute(read(b))); err != nil {
				b.Fatal(err)
			}
		}
	})
	in := read(b)
	b.Run("compute", func(b *testing.B) {
		for b.Loop() {
			access.Compute(in)
		}
	})
	r := access.Compute(in)
	for _, f := range []struct {
		name   string
		render func(io.Writer, access.Report) error
	}{{"html", render.ReportHTML}, {"json", render.ReportJSON}} {
		b.Run(f.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := f.render(&buf, r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len())/1e6, "MB")
		})
	}
}
