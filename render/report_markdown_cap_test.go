package render

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/access"
)

// cappedReport is a report of deps deployments with perDep users each.
func cappedReport(deps, perDep int) access.Report {
	r := access.Report{Organization: "o", Spec: true}
	for d := range deps {
		dep := access.Deployment{ID: fmt.Sprintf("dep-%04d", d), Name: fmt.Sprintf("deployment-%04d", d), Workspace: "ws"}
		for p := range perDep {
			dep.Access = append(dep.Access, access.Entry{Principal: access.Ref{Kind: "user", ID: fmt.Sprintf("u-%d", p), Name: fmt.Sprintf("user-%d@example.com", p)},
				Level: access.LevelAdmin, Grants: []access.Grant{{Role: "DEPLOYMENT_ADMIN", Level: access.LevelAdmin, Source: access.FromDeployment}}})
		}
		r.Deployments = append(r.Deployments, dep)
	}
	return r
}

var (
	sectionsLeftOut = regexp.MustCompile("(\\d+) more deployment section\\(s\\) left out to keep this under 60000 characters. Run `tokensync report` for the whole report")
	rowsLeftOut     = regexp.MustCompile("(\\d+) more deployment\\(s\\) left out of this summary, and every deployment's section, to keep this under 60000 characters. Run `tokensync report` for the whole report")
)

// TestReportMarkdownCap: the markdown report stays under GitHub's comment
// limit however large the organization: it keeps the summary of every
// deployment and the sections that fit, saying how many it left out; a
// summary too long by itself keeps its first rows and says how many
// deployments it left out; a header of thousands of filter names is cut.
func TestReportMarkdownCap(t *testing.T) {
	t.Run("sections", func(t *testing.T) {
		r := cappedReport(300, 20)
		out := string(renderReport(t, "md", r))
		if len(out) > DefaultMarkdownLimit {
			t.Errorf("%d characters, want at most %d", len(out), DefaultMarkdownLimit)
		}
		for _, d := range r.Deployments {
			if !strings.Contains(out, "| ws/"+mdText(d.Name)+" | 20 | 20 | 0 |\n") {
				t.Fatalf("the summary has no row of %s", d.Name)
			}
		}
		m := sectionsLeftOut.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("the markdown does not say what it left out:\n%s", out[len(out)-500:])
		}
		left, _ := strconv.Atoi(m[1])
		if shown := strings.Count(out, "\n### "); shown == 0 || shown+left != len(r.Deployments) {
			t.Errorf("%d sections shown and %d said left out, want %d in all", shown, left, len(r.Deployments))
		}
	})
	t.Run("summary", func(t *testing.T) {
		r := cappedReport(3000, 1)
		out := string(renderReport(t, "md", r))
		if len(out) > DefaultMarkdownLimit {
			t.Errorf("%d characters, want at most %d", len(out), DefaultMarkdownLimit)
		}
		if !strings.HasPrefix(out, "## Access report of organization `o`\n") || !strings.Contains(out, "| ws/deployment-0000 | 1 | 1 | 0 |\n") {
			t.Errorf("the title or the summary's first row is missing:\n%.500s", out)
		}
		m := rowsLeftOut.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("the markdown does not say what it left out:\n%s", out[len(out)-500:])
		}
		left, _ := strconv.Atoi(m[1])
		if rows := strings.Count(out, "| ws/deployment-"); rows+left != len(r.Deployments) || strings.Contains(out, "\n### ") {
			t.Errorf("%d rows shown and %d said left out, want %d in all and no section", rows, left, len(r.Deployments))
		}
	})
	t.Run("head", func(t *testing.T) {
		r := cappedReport(3, 1)
		r.Filters = &access.Filter{}
		for i := range 5000 {
			r.Filters.Deployments = append(r.Filters.Deployments, fmt.Sprintf("deployment-%04d", i))
		}
		out := string(renderReport(t, "md", r))
		if len(out) > DefaultMarkdownLimit || !strings.Contains(out, "The rest of this header is left out.") {
			t.Errorf("%d characters, want at most %d and the header cut", len(out), DefaultMarkdownLimit)
		}
	})
}

// TestCapReportMarkdownLimit: whatever the sizes of the head, summary and
// sections, the document stays under the limit.
func TestCapReportMarkdownLimit(t *testing.T) {
	const limit = 2000
	line := func(n int, s string) string { return strings.Repeat(s+"\n", n) }
	for _, head := range []string{"## t\n\n", line(50, "head line"), strings.Repeat("é", 3000)} {
		for _, rows := range []int{0, 10, 500} {
			summary := "| D | N |\n|---|--:|\n" + line(rows, "| ws/deployment | 1 |") + "\n"
			for _, sections := range [][]string{nil, {line(5, "section")}, strings.Split(line(300, "### section\n\n| a |"), "\n")} {
				out := capReportMarkdown(head, summary, sections, limit)
				if len(out) > limit {
					t.Errorf("head %d, %d rows, %d sections: %d characters, want at most %d", len(head), rows, len(sections), len(out), limit)
				}
			}
		}
	}
}

// TestReportMarkdownRowCaps: thousands of findings, and thousands of
// changes since the previous report, keep their first rows and say how
// many they left out, so that the document stays under the limit.
func TestReportMarkdownRowCaps(t *testing.T) {
	r := cappedReport(2, 1)
	r.Since = &access.Since{GeneratedAt: "2026-01-02T03:04:05Z"}
	for i := range 3000 {
		p := access.Ref{Kind: "user", ID: fmt.Sprintf("u-%d", i), Name: fmt.Sprintf("user-%d@example.com", i)}
		r.Findings = append(r.Findings, access.Finding{Kind: access.FindingUnused, Category: "token", Severity: "low", Principal: p})
		r.Since.Changes = append(r.Since.Changes, access.Change{Change: access.Gained, Deployment: access.DeploymentRef{ID: "dep-0000", Name: "deployment-0000", Workspace: "ws"}, Principal: p})
	}
	out := string(renderReport(t, "md", r))
	if len(out) > DefaultMarkdownLimit {
		t.Errorf("%d characters, want at most %d", len(out), DefaultMarkdownLimit)
	}
	for _, c := range []struct{ noun, row string }{
		{"finding", "| low | token-unused | user-"},
		{"change", "| + | ws/deployment-0000 | user-"},
	} {
		m := regexp.MustCompile(`\n(\d+) more ` + c.noun + "\\(s\\) left out: `-o csv` or `-o json` lists them all.\n").FindStringSubmatch(out)
		if m == nil {
			t.Errorf("the markdown does not say how many %ss it left out:\n%s", c.noun, out[len(out)-3000:])
			continue
		}
		left, _ := strconv.Atoi(m[1])
		if rows := strings.Count(out, c.row); rows == 0 || rows+left != 3000 {
			t.Errorf("%d %s rows shown and %d said left out, want 3000 in all", rows, c.noun, left)
		}
	}
}
