package render

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// The report page in a real browser: headless Chromium, driven over the
// DevTools protocol, opens the page from a file: URL.

var screenshot = flag.Bool("screenshot", false, "write docs/report.png, a screenshot of the example report page")

// chromium finds a Chromium to run headless. Without one the test is
// skipped, except in CI (CI=true), which installs it: there it fails.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH, and CI=true: the browser tests must run")
	}
	t.Skip("no chromium on PATH")
	return ""
}

// browserStartDeadline is how long one start of the browser may take. A
// loaded machine (both CPUs busy, other test binaries starting their own
// processes) can need tens of seconds to load Chromium; a start that has
// not answered by then is stopped and tried once more.
const browserStartDeadline = 60 * time.Second

// theBrowser is the one headless Chromium of this test binary, started on
// first use and stopped by TestMain; each page opens in a new tab of it.
var theBrowser struct {
	once   gosync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if theBrowser.cancel != nil {
		theBrowser.cancel()
	}
	os.Exit(code)
}

// sharedBrowser returns the context of the test binary's browser, starting
// it on first use.
func sharedBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	theBrowser.once.Do(func() {
		theBrowser.ctx, theBrowser.cancel, theBrowser.err = startBrowser(path, browserStartDeadline)
	})
	if theBrowser.err != nil {
		t.Fatal(theBrowser.err)
	}
	return theBrowser.ctx
}

// startBrowser starts Chromium at path, and once more if that start fails
// or does not answer within deadline.
func startBrowser(path string, deadline time.Duration) (context.Context, context.CancelFunc, error) {
	var errs []error
	for attempt := 1; attempt <= 2; attempt++ {
		ctx, cancel, err := startBrowserOnce(path, deadline)
		if err == nil {
			return ctx, cancel, nil
		}
		errs = append(errs, fmt.Errorf("start %d of chromium: %w", attempt, err))
	}
	return nil, nil, errors.Join(errs...)
}

// startBrowserOnce starts Chromium and waits, up to deadline, for its first
// answer. The browser lives until cancel.
func startBrowserOnce(path string, deadline time.Duration) (context.Context, context.CancelFunc, error) {
	dir, err := os.MkdirTemp("", "tokensync-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.UserDataDir(dir), chromedp.WindowSize(1400, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	cancel := func() {
		cancelCtx()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }() // the first Do starts the browser, for ctx's lifetime
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			cancel()
			return nil, nil, err
		}
		return ctx, cancel, nil
	case <-timer.C:
		cancel()
		<-started
		return nil, nil, fmt.Errorf("no answer within %v", deadline)
	}
}

// TestBrowserStart: a start of the browser that fails, or that does not
// answer within its deadline, is tried once more, and only once.
func TestBrowserStart(t *testing.T) {
	path := chromium(t)
	for _, tt := range []struct {
		name     string
		script   string // the browser; COUNT is a file with a line per start
		deadline time.Duration
		ok       bool
		want     string
	}{
		{"the first start crashes", `echo start >> COUNT; [ "$(wc -l < COUNT)" -gt 1 ] || { echo crashed >&2; exit 1; }; exec '` + path + `' "$@"`, time.Minute, true, ""},
		{"every start crashes", `echo start >> COUNT; echo crashed >&2; exit 1`, time.Minute, false, "chrome failed to start:\ncrashed"},
		{"no start answers", `echo start >> COUNT; exec tail -f /dev/null`, time.Second, false, "no answer within 1s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			count := filepath.Join(dir, "count")
			browser := filepath.Join(dir, "chromium")
			if err := os.WriteFile(browser, []byte("#!/bin/sh\n"+strings.ReplaceAll(tt.script, "COUNT", "'"+count+"'")+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			ctx, cancel, err := startBrowser(browser, tt.deadline)
			if err == nil {
				defer cancel()
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[float64]("1 + 1")); err != nil {
					t.Errorf("the started browser does not answer: %v", err)
				}
			}
			if (err == nil) != tt.ok || (err != nil && (!strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "start 2 of chromium"))) {
				t.Errorf("startBrowser: %v; want ok %v, or both starts and %q", err, tt.ok, tt.want)
			}
			if data, _ := os.ReadFile(count); strings.Count(string(data), "start") != 2 {
				t.Errorf("the browser was started %d times, want 2", strings.Count(string(data), "start"))
			}
		})
	}
}

// page is a report page open in a tab of the headless browser, with every
// request the page made.
type page struct {
	ctx  context.Context
	url  string
	mu   gosync.Mutex
	reqs []string
	n    int // loads, to make each one a new document
}

// openReport writes r as HTML, opens it with fragment in a new tab of the
// test binary's browser with a viewport of width×height pixels, and waits
// until its script drew the matrix. The tab closes when the test ends; a
// test that hangs fails at its deadline.
func openReport(t *testing.T, r access.Report, fragment string, width, height int) *page {
	t.Helper()
	browser := sharedBrowser(t)
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, renderReport(t, "html", r), 0o644); err != nil {
		t.Fatal(err)
	}
	parent := browser
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		parent, cancel = context.WithDeadline(browser, d.Add(-30*time.Second))
		t.Cleanup(cancel)
	}
	ctx, cancelTab := chromedp.NewContext(parent)
	t.Cleanup(cancelTab)
	p := &page{ctx: ctx, url: "file://" + filepath.ToSlash(file)}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			p.mu.Lock()
			p.reqs = append(p.reqs, e.Request.URL)
			p.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	p.run(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{})
		return err
	}), chromedp.EmulateViewport(int64(width), int64(height)))
	p.navigate(t, fragment)
	return p
}

func (p *page) run(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// navigate loads the page afresh with fragment and waits until it is
// drawn. Each load has its own query, so that a new fragment is a new
// document, not a jump within the page.
func (p *page) navigate(t *testing.T, fragment string) {
	t.Helper()
	p.n++
	load := "?load=" + itoa(p.n)
	p.run(t, chromedp.Navigate(p.url+load+fragment), poll(`location.search === "`+load+`" && window.__reportReady !== undefined`))
}

// poll waits until the expression is true, for as long as the test may
// run: a loaded machine draws slowly, and a fixed wait would fail it.
func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(0))(ctx, t)
		return err
	})
}

// js runs a script expression for its effects.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any]("(() => {"+expr+"; return true; })()")(ctx, t)
		return err
	})
}

// eval evaluates a script expression and decodes its value into out.
func (p *page) eval(t *testing.T, expr string, out any) {
	t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

// shown is what the matrix shows: principals' ids in order, deployments'
// ids with their counts, and the cells by "principal deployment".
type shown struct {
	Rows   []string          `json:"rows"`
	Counts map[string]string `json:"counts"`
	Cells  map[string]string `json:"cells"`
	Count  string            `json:"count"`
	Hash   string            `json:"hash"`
}

const shownJS = `(() => {
  const s = {rows: [], counts: {}, cells: {}, count: document.getElementById("count").textContent, hash: location.hash};
  for (const h of document.querySelectorAll("#dep-row .dh")) s.counts[h.dataset.dep] = h.querySelector(".cnt").textContent;
  for (const r of document.querySelectorAll("#rows .row")) {
    s.rows.push(r.dataset.pid);
    for (const c of r.querySelectorAll(".c")) s.cells[r.dataset.pid + " " + c.dataset.dep] = c.textContent + " [" + c.className + "]";
  }
  return s;
})()`

func (p *page) shown(t *testing.T) shown {
	t.Helper()
	var s shown
	p.eval(t, shownJS, &s)
	return s
}

// TestReportHTMLMatrix: the page of the full fixture draws every cell with
// its role, source and level, marks admin on a production deployment, and
// counts principals per deployment and deployments per principal.
func TestReportHTMLMatrix(t *testing.T) {
	p := openReport(t, reports()["report-full"], "", 1400, 900)
	got := p.shown(t)
	want := shown{
		Rows:   []string{"usr-1", "usr-2", "usr-3", "tok-ci", "team-1", "tok-new", "tok-key", "tok-tf"},
		Counts: map[string]string{"dep-dev": "5", "dep-prod": "7", "dep-ml": "2"},
		Cells: map[string]string{
			"usr-1 dep-dev":    "member · via data-eng [c lv2 um]",
			"usr-1 dep-prod":   "DAG_DEPLOYER · dep +1 [c lv5 um]",
			"usr-2 dep-dev":    "member · via data-eng [c lv2 um]",
			"usr-2 dep-prod":   "member · via data-eng [c lv2 um]", // the workspace is not managed
			"usr-3 dep-dev":    "viewer · tag finance [c lv1 um]",  // a DAG tag the spec does not manage
			"usr-3 dep-prod":   "author · dag rollup [c lv1]",      // a DAG the spec lists carol on
			"tok-ci dep-prod":  "admin · dep [c lv6 ap]",
			"team-1 dep-dev":   "member · ws [c lv2 um]",
			"team-1 dep-prod":  "member · ws [c lv2 um]",
			"tok-new dep-ml":   "author · ws [c lv3 um]",
			"tok-key dep-prod": "admin · dep [c lv6 ap um]",
			"tok-tf dep-dev":   "owner · org [c lv6]", // the organization lists it
			"tok-tf dep-prod":  "owner · org [c lv6 ap]",
			"tok-tf dep-ml":    "owner · org [c lv6]",
		},
		Count: "8 of 8 principals · 3 of 3 deployments",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matrix (-want +got):\n%s", diff)
	}
	var facts struct {
		Summary, Title, DAGTitle, Reach, Workspaces string
		Prod                                        []string
	}
	p.eval(t, `({
	  summary: document.getElementById("summary").textContent,
	  title: document.querySelector('#rows .row[data-pid="usr-1"] .c[data-dep="dep-prod"]').title,
	  dagTitle: document.querySelector('#rows .row[data-pid="usr-3"] .c[data-dep="dep-prod"]').title,
	  reach: document.querySelector('#rows .row[data-pid="tok-tf"] .rc').textContent,
	  workspaces: [...document.querySelectorAll("#ws-row .wsh")].map(w => w.textContent + ":" + w.getAttribute("aria-colspan")).join(" "),
	  prod: [...document.querySelectorAll("#dep-row .dh.prod")].map(h => h.dataset.dep),
	})`, &facts)
	if !strings.HasPrefix(facts.Summary, "3 principals hold admin on production deployments.") {
		t.Errorf("summary %q", facts.Summary)
	}
	if want := "alice@example.com on data/prod: custom\nDAG_DEPLOYER (deployment, custom role)\nWORKSPACE_MEMBER (workspace, via team data-eng)\nunmanaged: the spec does not list it"; facts.Title != want {
		t.Errorf("title of a cell %q, want %q", facts.Title, want)
	}
	if want := "carol@example.com on data/prod: dag\nDAG_AUTHOR (dag · rollup)\nmanaged"; facts.DAGTitle != want {
		t.Errorf("title of a DAG cell %q, want %q", facts.DAGTitle, want)
	}
	if facts.Reach != "3" || facts.Workspaces != "data:2 ml:1" || !cmp.Equal(facts.Prod, []string{"dep-prod"}) {
		t.Errorf("reach of terraform %q (want 3), workspace headers %q (want data:2 ml:1), production columns %q (want dep-prod)", facts.Reach, facts.Workspaces, facts.Prod)
	}
}

// TestReportHTMLFilters: each filter and the search narrow the rows, the
// columns and the counts, whether set with the page's controls or read
// from the address's fragment; the controls write the fragment.
func TestReportHTMLFilters(t *testing.T) {
	all := []string{"usr-1", "usr-2", "usr-3", "tok-ci", "team-1", "tok-new", "tok-key", "tok-tf"}
	for _, tt := range []struct {
		name     string
		fragment string
		ui       []chromedp.Action[chromedp.Void]
		rows     []string
		counts   map[string]string
	}{
		{"workspace", "#ws=ws-ml", []chromedp.Action[chromedp.Void]{setValue("#ws", "ws-ml")},
			[]string{"tok-new", "tok-tf"}, map[string]string{"dep-ml": "2"}},
		{"role", "#role=role%3ADEPLOYMENT_ADMIN", []chromedp.Action[chromedp.Void]{setValue("#role", "role:DEPLOYMENT_ADMIN")},
			[]string{"tok-ci", "tok-key"}, map[string]string{"dep-dev": "0", "dep-prod": "2", "dep-ml": "0"}},
		{"level", "#role=level%3Aadmin", []chromedp.Action[chromedp.Void]{setValue("#role", "level:admin")},
			// alice's custom role on prod is kept, as --min-role keeps it
			[]string{"usr-1", "tok-ci", "tok-key", "tok-tf"}, map[string]string{"dep-dev": "1", "dep-prod": "4", "dep-ml": "1"}},
		{"level view", "#role=level%3Aview", []chromedp.Action[chromedp.Void]{setValue("#role", "level:view")},
			// carol holds DAG roles only: below view
			[]string{"usr-1", "usr-2", "tok-ci", "team-1", "tok-new", "tok-key", "tok-tf"}, map[string]string{"dep-dev": "4", "dep-prod": "6", "dep-ml": "2"}},
		{"dag", "#role=level%3Adag", []chromedp.Action[chromedp.Void]{setValue("#role", "level:dag")},
			[]string{"usr-3"}, map[string]string{"dep-dev": "1", "dep-prod": "1", "dep-ml": "0"}},
		{"kind", "#kind=user", []chromedp.Action[chromedp.Void]{setValue("#kind", "user")},
			[]string{"usr-1", "usr-2", "usr-3"}, map[string]string{"dep-dev": "3", "dep-prod": "3", "dep-ml": "0"}},
		{"unmanaged", "#managed=unmanaged", []chromedp.Action[chromedp.Void]{setValue("#managed", "unmanaged")},
			[]string{"usr-1", "usr-2", "usr-3", "team-1", "tok-new", "tok-key"}, map[string]string{"dep-dev": "4", "dep-prod": "4", "dep-ml": "1"}},
		{"managed", "#managed=managed", []chromedp.Action[chromedp.Void]{setValue("#managed", "managed")},
			[]string{"usr-3", "tok-ci", "tok-tf"}, map[string]string{"dep-dev": "1", "dep-prod": "3", "dep-ml": "1"}},
		{"production only", "#prod=1", []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("#prod"))},
			[]string{"usr-1", "usr-2", "usr-3", "tok-ci", "team-1", "tok-key", "tok-tf"}, map[string]string{"dep-prod": "7"}},
		{"search name", "#q=BOB%40EXAMPLE", []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#q"), "BOB@EXAMPLE")},
			[]string{"usr-2"}, map[string]string{"dep-dev": "1", "dep-prod": "1", "dep-ml": "0"}},
		{"search id", "#q=tok-", []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#q"), "tok-")},
			[]string{"tok-ci", "tok-new", "tok-key", "tok-tf"}, map[string]string{"dep-dev": "1", "dep-prod": "3", "dep-ml": "2"}},
		{"search status", "#q=active", []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#q"), "active")},
			[]string{"usr-1", "usr-3"}, map[string]string{"dep-dev": "2", "dep-prod": "2", "dep-ml": "0"}},
		{"combined", "#q=prod&kind=deploymentToken&managed=unmanaged", []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS("#q"), "prod"), setValue("#kind", "deploymentToken"), setValue("#managed", "unmanaged")},
			[]string{"tok-key"}, map[string]string{"dep-dev": "0", "dep-prod": "1", "dep-ml": "0"}},
		{"nothing", "#q=nobody-has-this-name", []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#q"), "nobody-has-this-name")},
			nil, map[string]string{"dep-dev": "0", "dep-prod": "0", "dep-ml": "0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := openReport(t, reports()["report-full"], tt.fragment, 1400, 900)
			check := func(how string, s shown) {
				t.Helper()
				if diff := cmp.Diff(tt.rows, s.Rows, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: rows (-want +got):\n%s", how, diff)
				}
				if diff := cmp.Diff(tt.counts, s.Counts); diff != "" {
					t.Errorf("%s: deployments and their counts (-want +got):\n%s", how, diff)
				}
				if !strings.HasPrefix(s.Count, strings.Join([]string{itoa(len(tt.rows)), " of 8 principals · ", itoa(len(tt.counts)), " of 3 deployments"}, "")) {
					t.Errorf("%s: count %q", how, s.Count)
				}
			}
			check("fragment", p.shown(t))

			p.navigate(t, "")
			if s := p.shown(t); !cmp.Equal(s.Rows, all) {
				t.Fatalf("unfiltered rows %q", s.Rows)
			}
			p.run(t, tt.ui...)
			s := p.shown(t)
			check("controls", s)
			if s.Hash != tt.fragment {
				t.Errorf("the controls wrote the fragment %q, want %q", s.Hash, tt.fragment)
			}
			p.run(t, chromedp.Click(chromedp.CSS("#reset")))
			if s := p.shown(t); !cmp.Equal(s.Rows, all) || s.Hash != "" {
				t.Errorf("after Clear: rows %q, fragment %q", s.Rows, s.Hash)
			}
		})
	}
}

// setValue sets a select's value as a user would, with its events.
func setValue(sel, value string) chromedp.Action[chromedp.Void] {
	v, _ := json.Marshal(value)
	q, _ := json.Marshal(sel)
	return js(`const e = document.querySelector(` + string(q) + `); e.value = ` + string(v) + `;
	  if (e.value !== ` + string(v) + `) throw new Error("no option " + ` + string(v) + `);
	  e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true}))`)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestReportHTMLSort: a deployment's header sorts the rows by their level
// there, highest first, then lowest first; the principal's headers sort by
// reach and name. The sort is in the fragment and marked with aria-sort.
func TestReportHTMLSort(t *testing.T) {
	p := openReport(t, reports()["report-full"], "", 1400, 900)
	for _, tt := range []struct {
		click, fragment, ariaSort string
		rows                      []string
	}{
		{`#dep-row .dh[data-dep="dep-prod"] button`, "#sort=dep%3Adep-prod", "descending",
			[]string{"tok-ci", "tok-key", "tok-tf", "usr-1", "usr-2", "team-1", "usr-3", "tok-new"}}, // a DAG role ranks lowest
		{`#dep-row .dh[data-dep="dep-prod"] button`, "#sort=dep%3Adep-prod&dir=asc", "ascending",
			[]string{"tok-new", "usr-3", "usr-2", "team-1", "usr-1", "tok-ci", "tok-key", "tok-tf"}},
		{`#dep-row button[data-sort="reach"]`, "#sort=reach", "",
			[]string{"tok-tf", "usr-1", "usr-2", "usr-3", "team-1", "tok-ci", "tok-new", "tok-key"}},
		{`#dep-row button[data-sort="kind"]`, "#sort=kind", "",
			[]string{"tok-key", "tok-tf", "team-1", "usr-1", "usr-2", "usr-3", "tok-ci", "tok-new"}},
		{`#dep-row button[data-sort="name"]`, "", "",
			[]string{"usr-1", "usr-2", "usr-3", "tok-ci", "team-1", "tok-new", "tok-key", "tok-tf"}},
	} {
		p.run(t, chromedp.Click(chromedp.CSS(tt.click)))
		s := p.shown(t)
		if diff := cmp.Diff(tt.rows, s.Rows); diff != "" {
			t.Errorf("after a click on %s: rows (-want +got):\n%s", tt.click, diff)
		}
		if s.Hash != tt.fragment {
			t.Errorf("after a click on %s: fragment %q, want %q", tt.click, s.Hash, tt.fragment)
		}
		var aria string
		p.eval(t, `document.querySelector('#dep-row .dh[data-dep="dep-prod"]').getAttribute("aria-sort") || ""`, &aria)
		if aria != tt.ariaSort {
			t.Errorf("after a click on %s: aria-sort of prod %q, want %q", tt.click, aria, tt.ariaSort)
		}
	}
	// The sort in a link.
	p.navigate(t, "#sort=dep%3Adep-prod&kind=user")
	if s := p.shown(t); !cmp.Equal(s.Rows, []string{"usr-1", "usr-2", "usr-3"}) {
		t.Errorf("from the fragment: rows %q", s.Rows)
	}
}

// TestReportHTMLNoRequest: the page fetches nothing but itself, even with
// names made of markup that would load an image, and its
// Content-Security-Policy forbids every request; hostile names are shown
// as text.
func TestReportHTMLNoRequest(t *testing.T) {
	for name, r := range map[string]access.Report{"full": reports()["report-full"], "hostile": hostileReport()} {
		t.Run(name, func(t *testing.T) {
			p := openReport(t, r, "", 1400, 900)
			p.run(t, chromedp.SendKeys(chromedp.CSS("#q"), "e"), setValue("#role", "level:admin"),
				chromedp.Click(chromedp.CSS(`#dep-row button[data-sort="reach"]`)))
			var facts struct {
				CSP       string
				Resources int
				Markup    int
				Names     []string
			}
			p.eval(t, `({
			  csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]').content,
			  resources: performance.getEntriesByType("resource").length,
			  markup: document.querySelectorAll("#grid img, #grid b, #grid i, #grid script, #since img, #since b").length,
			  names: [...document.querySelectorAll("#rows .pn")].map(n => n.textContent),
			})`, &facts)
			if !strings.HasPrefix(facts.CSP, "default-src 'none';") {
				t.Errorf("Content-Security-Policy %q", facts.CSP)
			}
			if facts.Resources != 0 || facts.Markup != 0 {
				t.Errorf("%d resources loaded, %d elements from names", facts.Resources, facts.Markup)
			}
			if name == "hostile" && !strings.Contains(strings.Join(facts.Names, "\n"), hostileTeam) {
				t.Errorf("the hostile team is not shown as text: %q", facts.Names)
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.reqs) == 0 {
				t.Fatal("no request seen: the listener does not work")
			}
			for _, u := range p.reqs {
				if !strings.HasPrefix(u, p.url) && u != "about:blank" {
					t.Errorf("the page requested %s", u)
				}
			}
		})
	}
}

// perfBudgets says whether the tests check wall-clock budgets: only with
// TOKENSYNC_PERF=1, which .ci/run sets in a step of its own. A budget in
// milliseconds does not hold on a machine whose CPUs are busy (the page of
// TestReportHTMLLarge took 3.4 s there instead of 0.6 s), and the README's
// test command must pass on such a machine; without it the figures are
// logged.
var perfBudgets = os.Getenv("TOKENSYNC_PERF") == "1"

// TestReportHTMLLarge: 300 deployments × 6,000 principals (about 54,000
// cells) are interactive within 2 s of navigation start and a search
// answers within 200 ms (with TOKENSYNC_PERF=1), only the rows and columns
// in view are in the DOM, and scrolling to the end draws the last principal
// and the last deployment.
func TestReportHTMLLarge(t *testing.T) {
	r := largeReport(t)
	html := renderReport(t, "html", r)
	p := openReport(t, r, "", 1400, 900)
	var m struct {
		Ready, Nav     float64
		Timings        map[string]float64
		Rows, Cells    int
		Heads, AllRows int
	}
	p.eval(t, `({
	  ready: window.__reportReady,
	  timings: window.__reportTimings,
	  nav: performance.getEntriesByType("navigation")[0].responseEnd,
	  rows: document.querySelectorAll("#rows .row").length,
	  cells: document.querySelectorAll("#rows .c").length,
	  heads: document.querySelectorAll("#dep-row .dh").length,
	  allRows: Number(document.getElementById("grid").getAttribute("aria-rowcount")) - 2,
	})`, &m)
	t.Logf("HTML: %d bytes; interactive %.0f ms after navigation start (document received at %.0f ms); DOM: %d rows, %d cells, %d deployment headers of %d principals × %d deployments",
		len(html), m.Ready, m.Nav, m.Rows, m.Cells, m.Heads, m.AllRows, largeDeployments)
	t.Logf("the script started at %.0f ms, parsed the data by %.0f ms, indexed it by %.0f ms, drew by %.0f ms", m.Timings["start"], m.Timings["parsed"], m.Timings["indexed"], m.Timings["ready"])
	if perfBudgets && m.Ready > 2000 {
		t.Errorf("interactive %.0f ms after navigation start, want 2,000 at most", m.Ready)
	}
	if m.AllRows != largePrincipals || m.Rows == 0 || m.Rows > 200 || m.Cells > 5000 || m.Heads > 60 {
		t.Errorf("%d of %d principals, %d rows, %d cells and %d headers in the DOM: not virtualised", m.AllRows, largePrincipals, m.Rows, m.Cells, m.Heads)
	}

	// A search, typed: the page records how long each took to filter and draw.
	var search struct {
		Ms, Wall float64
		Rows     int
	}
	p.run(t, js(`window.__t0 = performance.now()`),
		chromedp.SendKeys(chromedp.CSS("#q"), "user-12"),
		poll(`window.__reportLastApply.q === "user-12"`))
	p.eval(t, `({ms: window.__reportLastApply.ms, wall: window.__reportLastApply.at - window.__t0, rows: window.__reportLastApply.rows})`, &search)
	t.Logf("search %q: %d principals; the last keystroke filtered and drew in %.1f ms; typing 7 keys took %.0f ms in the page", "user-12", search.Rows, search.Ms, search.Wall)
	if search.Rows != 100 { // user-1200@example.com … user-1299@example.com
		t.Errorf("search user-12: %d principals, want 100", search.Rows)
	}
	if perfBudgets && search.Ms > 200 {
		t.Errorf("a search took %.0f ms, want 200 at most", search.Ms)
	}
	var one float64
	p.eval(t, `(() => { const q = document.getElementById("q"), t0 = performance.now(); q.value = "group-0"; q.dispatchEvent(new Event("input")); return performance.now() - t0; })()`, &one)
	t.Logf("search %q set at once: %.1f ms to filter and draw", "group-0", one)

	// Scrolling to the end draws the last principal and deployment.
	var end struct {
		Last, LastDep string
		Rows          int
	}
	p.run(t, chromedp.Click(chromedp.CSS("#reset")),
		js(`const g = document.getElementById("grid"); g.scrollTop = g.scrollHeight; g.scrollLeft = g.scrollWidth`),
		poll(`(() => { const r = document.querySelectorAll("#rows .row"); return r.length > 0 && r[r.length-1].dataset.pid === "`+largeLast+`"; })()`))
	p.eval(t, `(() => { const r = document.querySelectorAll("#rows .row"), h = document.querySelectorAll("#dep-row .dh");
	  return {last: r[r.length-1].dataset.pid, lastDep: h[h.length-1].dataset.dep, rows: r.length}; })()`, &end)
	// The headers stuck to the top and the principals to the left.
	var stuck struct{ HeadTop, CornerLeft, RowHeadLeft float64 }
	p.eval(t, `(() => { const g = document.getElementById("grid").getBoundingClientRect(), r = document.querySelectorAll("#rows .row .ph");
	  return {headTop: document.querySelector("#grid .head").getBoundingClientRect().top - g.top,
	    cornerLeft: document.querySelector("#dep-row .corner").getBoundingClientRect().left - g.left,
	    rowHeadLeft: r[r.length-1].getBoundingClientRect().left - g.left}; })()`, &stuck)
	if stuck.HeadTop > 1 || stuck.CornerLeft > 1 || stuck.RowHeadLeft > 1 {
		t.Errorf("scrolled to the end, the headers are %.0f px from the grid's top, the principal's header %.0f px and %.0f px from its left; want them stuck (≤ 1 px, the border)", stuck.HeadTop, stuck.CornerLeft, stuck.RowHeadLeft)
	}
	if end.Last != largeLast || end.LastDep != r.Deployments[len(r.Deployments)-1].ID || end.Rows > 200 {
		t.Errorf("scrolled to the end: last row %q (want %q), last deployment %q (want %q), %d rows in the DOM", end.Last, largeLast, end.LastDep, r.Deployments[len(r.Deployments)-1].ID, end.Rows)
	}
}

// TestReportHTMLPrint: before printing, the page writes the filtered rows
// as a table, capped with a note when there are too many, and clears it
// after.
func TestReportHTMLPrint(t *testing.T) {
	for _, tt := range []struct {
		name     string
		r        access.Report
		fragment string
		rows     int
		note     string
	}{
		{"full", reports()["report-full"], "#kind=user", 3, "3 of 8 principals · 3 of 3 deployments (filtered)"},
		{"large", largeReport(t), "", 200, "6000 of 6000 principals · 300 of 300 deployments · printed the first 200 principals; filter to print the others"},
		{"large, one workspace", largeReport(t), "#ws=ws-03", 577, "577 of 6000 principals · 10 of 300 deployments (filtered)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := openReport(t, tt.r, tt.fragment, 1400, 900)
			var got struct {
				Rows, After int
				Note        string
			}
			p.run(t, js(`window.dispatchEvent(new Event("beforeprint"))`))
			p.eval(t, `({rows: document.querySelectorAll("#print tbody tr").length, note: document.querySelector("#print p").textContent})`, &got)
			p.run(t, js(`window.dispatchEvent(new Event("afterprint"))`))
			p.eval(t, `({rows: `+itoa(got.Rows)+`, note: `+string(mustJSON(got.Note))+`, after: document.getElementById("print").childElementCount})`, &got)
			if got.Rows != tt.rows || got.Note != tt.note || got.After != 0 {
				t.Errorf("printed %d rows with the note %q, and %d elements left after; want %d rows, the note %q, none", got.Rows, got.Note, got.After, tt.rows, tt.note)
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestReportHTMLScreenshot writes docs/report.png with -screenshot: the
// page of the example report.
func TestReportHTMLScreenshot(t *testing.T) {
	if !*screenshot {
		t.Skip("run with -screenshot to write docs/report.png")
	}
	p := openReport(t, exampleReport(), "", 1400, 900)
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "report.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("docs/report.png: %d bytes", len(png))
}

// TestReportHTMLSameNamedDeployments: two deployments with one name in two
// workspaces are told apart on screen (each header says its workspace), on
// hover (the header's title is workspace/name and id) and in print
// (workspace/name).
func TestReportHTMLSameNamedDeployments(t *testing.T) {
	obs := &sync.Observed{
		Organization: "org1",
		Workspaces:   []astroapi.Workspace{{ID: "ws-a", Name: "data-platform"}, {ID: "ws-b", Name: "ml-platform"}},
		Deployments: []astroapi.Deployment{
			{ID: "dep-a", Name: "analytics-production-eu-west", WorkspaceID: "ws-a"},
			{ID: "dep-b", Name: "analytics-production-eu-west", WorkspaceID: "ws-b"},
		},
		Subjects: []sync.Subject{sync.TokenSubject(astroapi.Token{ID: "tok-1", Name: "bot", Scope: "ORGANIZATION", Roles: []astroapi.Role{
			{EntityType: "DEPLOYMENT", EntityID: "dep-a", Role: "DEPLOYMENT_ADMIN"}, {EntityType: "DEPLOYMENT", EntityID: "dep-b", Role: "DEPLOYMENT_ADMIN"}}})},
	}
	r := access.Compute(access.Input{Observed: obs, Production: []spec.Glob{"*prod*"}})
	p := openReport(t, r, "", 1200, 700)
	var got struct {
		Workspaces []string `json:"workspaces"`
		Titles     []string `json:"titles"`
		Printed    []string `json:"printed"`
	}
	p.run(t, js(`window.dispatchEvent(new Event("beforeprint"))`))
	p.eval(t, `({
	  workspaces: [...document.querySelectorAll("#dep-row .dh .w")].map(e => e.textContent),
	  titles: [...document.querySelectorAll("#dep-row .dh")].map(e => e.title),
	  printed: [...document.querySelectorAll("#print thead tr:nth-child(2) th")].slice(1).map(e => e.textContent),
	})`, &got)
	want := []string{"data-platform", "ml-platform"}
	if diff := cmp.Diff(want, got.Workspaces); diff != "" {
		t.Errorf("the headers' workspaces (-want +got):\n%s", diff)
	}
	for i, ws := range want {
		full := ws + "/analytics-production-eu-west"
		if i >= len(got.Titles) || !strings.HasPrefix(got.Titles[i], full+" (dep-") {
			t.Errorf("header %d's title %q, want it to start with %q", i, got.Titles, full)
		}
		if i >= len(got.Printed) || !strings.HasPrefix(got.Printed[i], full+" (prod)") {
			t.Errorf("printed header %d %q, want it to start with %q", i, got.Printed, full)
		}
	}
}
