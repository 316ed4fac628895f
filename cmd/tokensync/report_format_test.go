package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/render"
)

// v1Report is a report of findingsState at 2026-05-01, as tokensync wrote
// it before format_version 2 (-o json --indent, format_version 1).
const v1Report = "testdata/report-findings-2026-05-01.v1.json"

// v1Earlier is the time of v1Report.
const v1Earlier = "2026-05-01T00:00:00Z"

func readV1Report(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(v1Report)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile("../../render/report.v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	validateSchema(t, "report.v1.schema.json", schema, data)
	return data
}

// TestReportFormat2RoundTrip: a format 2 report matches its schema, and
// --from gives it back byte for byte as JSON, and as the same text the
// report itself gives.
func TestReportFormat2RoundTrip(t *testing.T) {
	c := findingsCLI(t)
	saved := filepath.Join(c.dir, "today.json")
	wantCode(t, c.run("report", "-o", "json", "--out", saved), exitOK)
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	validateSchema(t, "report.schema.json", render.ReportSchema(), data)
	offline := &cli{t: t, dir: c.dir, env: map[string]string{}}
	for _, format := range []string{"json", "text", "csv", "markdown"} {
		res := offline.runRaw("report", "--from", saved, "-o", format)
		wantCode(t, res, exitOK)
		want := string(data)
		if format != "json" {
			live := c.run("report", "-o", format)
			wantCode(t, live, exitOK)
			want = live.stdout
		}
		if diff := cmp.Diff(want, res.stdout); diff != "" {
			t.Errorf("--from -o %s (-want +got):\n%s", format, diff)
		}
	}
}

// TestReportFromFormat1: --from reads a report tokensync saved before
// format_version 2 and writes what the report made then writes now: the
// same document in format 2, the same text.
func TestReportFromFormat1(t *testing.T) {
	c := findingsCLI(t)
	c.env[nowEnv] = v1Earlier
	path, err := filepath.Abs(v1Report)
	if err != nil {
		t.Fatal(err)
	}
	readV1Report(t)
	offline := &cli{t: t, dir: c.dir, env: map[string]string{}}
	for _, format := range []string{"json", "text", "csv"} {
		live := c.run("report", "-o", format)
		wantCode(t, live, exitOK)
		res := offline.runRaw("report", "--from", path, "-o", format)
		wantCode(t, res, exitOK)
		if diff := cmp.Diff(live.stdout, res.stdout); diff != "" {
			t.Errorf("--from a format 1 report, -o %s (-want +got):\n%s", format, diff)
		}
		if format == "json" {
			validateSchema(t, "report.schema.json", render.ReportSchema(), []byte(res.stdout))
		}
	}
}

// TestReportSinceFormat1And2: --since a format 1 report and --since the
// same report in format 2 give the same document: the same changes (none:
// the organization is the same) and the same findings marked new.
func TestReportSinceFormat1And2(t *testing.T) {
	c := findingsCLI(t)
	readV1Report(t)
	v1, err := filepath.Abs(v1Report)
	if err != nil {
		t.Fatal(err)
	}
	v2 := filepath.Join(c.dir, "earlier.json")
	c.env[nowEnv] = v1Earlier
	wantCode(t, c.run("report", "-o", "json", "--out", v2), exitOK)
	c.env[nowEnv] = findingsNow
	got := map[string]string{}
	for name, earlier := range map[string]string{"format 1": v1, "format 2": v2} {
		res := c.run("report", "-o", "json", "--since", earlier)
		wantCode(t, res, exitOK)
		validateSchema(t, "report.schema.json", render.ReportSchema(), []byte(res.stdout))
		r, err := access.Read([]byte(res.stdout))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"token-expired tok-gone", "token-expiring tok-edge", "token-unused tok-idle"}
		if diff := cmp.Diff(want, newFindings(r)); diff != "" {
			t.Errorf("--since %s: new findings (-want +got):\n%s", name, diff)
		}
		if r.Since == nil || len(r.Since.Changes) != 0 || r.Since.GeneratedAt != v1Earlier {
			t.Errorf("--since %s: since %+v, want no change since %s", name, r.Since, v1Earlier)
		}
		got[name] = res.stdout
	}
	if diff := cmp.Diff(got["format 1"], got["format 2"]); diff != "" {
		t.Errorf("--since a format 1 and a format 2 report differ (-format 1 +format 2):\n%s", diff)
	}
}
