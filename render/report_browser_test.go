package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromium finds a Chromium to run headless, or skips the test.
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
	t.Skip("no chromium on PATH")
	return ""
}

// dumpDOM loads page (a file) with fragment in headless Chromium, offline,
// and returns the DOM after its script ran.
func dumpDOM(t *testing.T, browser, page, fragment string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+page+fragment)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}

var (
	rowRE = regexp.MustCompile(`(?s)<tr data-kind="([^"]*)"([^>]*)>(.*?)</tr>`)
	idRE  = regexp.MustCompile(`<span class="muted">([^<]*)</span></td><td>[^<]*</td><td>`)
)

// shownRows are the rows of the access table the page shows, as "kind
// principal-id" of each.
func shownRows(dom string) (shown []string, total int) {
	for _, m := range rowRE.FindAllStringSubmatch(dom, -1) {
		total++
		if strings.Contains(m[2], " hidden") {
			continue
		}
		if id := idRE.FindStringSubmatch(m[3]); id != nil {
			shown = append(shown, m[1]+" "+id[1])
		} else {
			shown = append(shown, m[1])
		}
	}
	return shown, total
}

// TestReportHTMLFiltersInBrowser: in a real browser, the page's search
// and filters (read from the address's fragment) hide every row that does
// not match, and say how many are shown.
func TestReportHTMLFiltersInBrowser(t *testing.T) {
	browser := chromium(t)
	page := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(page, renderReport(t, "html", reports()["report-full"]), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		fragment string
		want     []string
	}{
		{"#q=bob", []string{"user usr-2", "user usr-2"}},
		{"#q=BOB%40EXAMPLE", []string{"user usr-2", "user usr-2"}},
		{"#kind=team", []string{"team team-1", "team team-1"}},
		{"#source=organization", []string{"organizationToken tok-tf", "organizationToken tok-tf", "organizationToken tok-tf"}},
		{"#q=prod&kind=deploymentToken&unmanaged=1", []string{"deploymentToken tok-key"}},
		{"#q=nobody-has-this-name", nil},
	} {
		t.Run(tt.fragment, func(t *testing.T) {
			dom := dumpDOM(t, browser, page, tt.fragment)
			shown, total := shownRows(dom)
			if total != 12 {
				t.Fatalf("%d rows in the page, want 12:\n%s", total, dom)
			}
			if strings.Join(shown, ",") != strings.Join(tt.want, ",") {
				t.Errorf("rows shown %q, want %q", shown, tt.want)
			}
			count := regexp.MustCompile(`<span id="count"[^>]*>([^<]*)</span>`).FindStringSubmatch(dom)
			if want := strconv.Itoa(len(tt.want)) + " of 12"; count == nil || count[1] != want {
				t.Errorf("count %q, want %q", count, want)
			}
		})
	}
	// Without a filter every row shows.
	if shown, _ := shownRows(dumpDOM(t, browser, page, "")); len(shown) != 12 {
		t.Errorf("unfiltered: %d rows shown, want 12", len(shown))
	}
}
