package render

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tokensync/tokensync/access"
)

// TestReportHTMLFindings: the findings panel lists every finding above the
// matrix, as text; selecting one narrows the matrix to its principal and,
// when it has one, its deployment, writes the fragment (so a link opens the
// page on it), and selecting it again or Clear shows everyone.
func TestReportHTMLFindings(t *testing.T) {
	r := reports()["report-findings"]
	p := openReport(t, r, "", 1400, 900)
	type item struct {
		Kind, Text, Pressed string
		New                 bool
	}
	var items []item
	p.eval(t, `[...document.querySelectorAll("#findings-list button")].map(b => ({
	  kind: b.querySelector(".fk").textContent, text: b.querySelector(".ft").textContent,
	  pressed: b.getAttribute("aria-pressed"), new: !!b.querySelector(".fnew")}))`, &items)
	if len(items) != len(r.Findings) {
		t.Fatalf("the panel lists %d findings, want %d: %v", len(items), len(r.Findings), items)
	}
	for i, f := range r.Findings {
		if items[i].Kind != f.Kind || items[i].Text != findingText(f) || items[i].New != f.New || items[i].Pressed != "false" {
			t.Errorf("finding %d: %+v, want kind %q text %q new %v", i, items[i], f.Kind, findingText(f), f.New)
		}
	}
	var above bool
	p.eval(t, `!!(document.getElementById("findings").compareDocumentPosition(document.getElementById("grid")) & Node.DOCUMENT_POSITION_FOLLOWING)`, &above)
	if !above {
		t.Error("the findings panel is not above the matrix")
	}

	index := func(kind, pid string) int {
		for i, f := range r.Findings {
			if f.Kind == kind && f.Principal.ID == pid {
				return i
			}
		}
		t.Fatalf("no %s finding of %s", kind, pid)
		return -1
	}
	click := func(i int) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(`#findings-list button[data-f="` + itoa(i) + `"]`))
	}
	all := []string{"usr-1", "usr-2", "usr-3", "tok-ci", "team-1", "usr-4", "tok-new", "tok-key", "tok-tf"} // by name
	for _, tt := range []struct {
		name, kind, pid string
		rows            []string
		counts          map[string]string
		hash            string
	}{
		// A redundant grant is on one cell: dave on dev.
		{"redundant grant", "redundant-grant", "usr-4", []string{"usr-4"}, map[string]string{"dep-dev": "1"}, "#pid=usr-4&dep=dep-dev"},
		// A token's finding is about the token: every deployment it reaches.
		{"token", "token-no-expiry", "tok-tf", []string{"tok-tf"}, map[string]string{"dep-dev": "1", "dep-prod": "1", "dep-ml": "1"}, "#pid=tok-tf"},
		// A policy violation on a deployment.
		{"policy violation", "policy-violation", "tok-ci", []string{"tok-ci"}, map[string]string{"dep-prod": "1"}, "#pid=tok-ci&dep=dep-prod"},
		// A violation of a rule over a scope names no principal: everyone
		// on its deployment.
		{"scope policy violation", "policy-violation", "", []string{"usr-1", "usr-2", "usr-3", "tok-ci", "team-1", "usr-4", "tok-key", "tok-tf"}, map[string]string{"dep-prod": "8"}, "#dep=dep-prod"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p.navigate(t, "")
			i := index(tt.kind, tt.pid)
			p.run(t, click(i))
			s := p.shown(t)
			if diff := cmp.Diff(tt.rows, s.Rows, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.counts, s.Counts); diff != "" {
				t.Errorf("deployments (-want +got):\n%s", diff)
			}
			if s.Hash != tt.hash {
				t.Errorf("fragment %q, want %q", s.Hash, tt.hash)
			}
			if !strings.Contains(s.Count, "(filtered) · finding: "+tt.pid) {
				t.Errorf("count %q does not say the finding narrows it", s.Count)
			}
			var title string
			p.eval(t, `document.querySelector('#findings-list button[data-f="`+itoa(i)+`"]').title`, &title)
			if f := r.Findings[i]; tt.pid == "" && title != "on "+f.Deployment.Workspace+"/"+f.Deployment.Name+": "+findingText(f) {
				t.Errorf("the title of a finding with no principal is %q", title)
			}
			var pressed string
			p.eval(t, `document.querySelector('#findings-list button[data-f="`+itoa(i)+`"]').getAttribute("aria-pressed")`, &pressed)
			if pressed != "true" {
				t.Errorf("the selected finding is aria-pressed %q", pressed)
			}
			// The fragment alone opens the page on the finding.
			p.navigate(t, tt.hash)
			if s := p.shown(t); !cmp.Equal(s.Rows, tt.rows) {
				t.Errorf("opened with %s: rows %q", tt.hash, s.Rows)
			}
			// Selecting it again shows everyone.
			p.run(t, click(i))
			if s := p.shown(t); !cmp.Equal(s.Rows, all) || s.Hash != "" {
				t.Errorf("selected again: rows %q, fragment %q", s.Rows, s.Hash)
			}
			p.run(t, click(i), chromedp.Click(chromedp.CSS("#reset")))
			if s := p.shown(t); !cmp.Equal(s.Rows, all) || s.Hash != "" {
				t.Errorf("after Clear: rows %q, fragment %q", s.Rows, s.Hash)
			}
		})
	}
}

// TestReportHTMLNoFindings: a report computed without findings has no
// panel, and one with none says so.
func TestReportHTMLNoFindings(t *testing.T) {
	plain := string(renderReport(t, "html", reports()["report-plain"]))
	if strings.Contains(plain, `id="findings"`) {
		t.Error("a report without findings computed has a findings panel")
	}
	r := reports()["report-plain"]
	r.Review = &access.Review{}
	none := string(renderReport(t, "html", r))
	if !strings.Contains(none, `<h2 id="findings-h">Findings: none</h2>`) || strings.Contains(none, `id="findings-list"`) {
		t.Error("a report with no findings does not say so")
	}
}
