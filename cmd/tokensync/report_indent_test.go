package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/access"
)

// TestReportJSONIndent: -o json is one line by default and indented with
// --indent; both read back (--from, --since) as the same report.
func TestReportJSONIndent(t *testing.T) {
	dir := t.TempDir()
	var reports []access.Report
	for _, tt := range []struct {
		args   []string
		starts string
	}{
		{[]string{"-o", "json"}, `{"format_version":"2","tokensync_version":`},
		{[]string{"-o", "json", "--indent"}, "{\n  \"format_version\": \"2\",\n  \"tokensync_version\": "},
	} {
		out := filepath.Join(dir, strings.Join(tt.args, "")+".json")
		r, _ := exampleReport(t, append(tt.args, "--out", out)...)
		wantCode(t, r, exitOK)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), tt.starts) || strings.Count(string(data), "\n") == 1 == strings.Contains(tt.starts, "\n") {
			t.Errorf("%v: the document starts %.80q, want %q", tt.args, data, tt.starts)
		}
		rep, err := access.Read(data)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		reports = append(reports, rep)
	}
	if n := len(access.Diff(reports[0], reports[1]).Changes); n != 0 || len(reports[0].Deployments) == 0 {
		t.Errorf("the compact and the indented report differ in %d cells", n)
	}
}
