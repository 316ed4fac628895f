package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutFileRefusedBeforeContact: a file to write (plan --out, report
// --out, apply --audit-log) in a directory that does not exist, under a
// file, or that is a directory, is refused (exit 64) naming the path given,
// before the API is contacted; nothing is written.
func TestOutFileRefusedBeforeContact(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	file := c.write("file", "")
	for _, tc := range []struct {
		name string
		cmd  []string
		flag string
	}{
		{"plan --out", []string{"plan", "-f", f}, "--out"},
		{"report --out", []string{"report"}, "--out"},
		{"apply --audit-log", []string{"apply", "-f", f, "--yes"}, "--audit-log"},
	} {
		for _, path := range []struct{ name, path, want string }{
			{"no directory", filepath.Join(c.dir, "no", "such", "out.json"), "the directory " + filepath.Join(c.dir, "no", "such") + " does not exist"},
			{"under a file", filepath.Join(file, "out.json"), file + " is not a directory"},
			{"a directory", c.dir, "a directory, not a file"},
		} {
			t.Run(tc.name+"/"+path.name, func(t *testing.T) {
				c.srv.ResetStats()
				r := c.run(append(tc.cmd, tc.flag, path.path)...)
				wantCode(t, r, exitUsage)
				want := "tokensync: " + tc.flag + " " + path.path + ": " + path.want + "; nothing was done\n"
				if r.stderr != want {
					t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
				}
				if n := c.requests(); n != 0 {
					t.Errorf("%d requests before the refusal", n)
				}
			})
		}
	}
	if _, err := os.Stat(filepath.Join(c.dir, "no")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a directory was made: %v", err)
	}
}

// TestSaveErrorNamesThePath: an error writing a file atomically (the plan,
// the report) names the file given, not the temporary file beside it.
func TestSaveErrorNamesThePath(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	if err := os.MkdirAll(filepath.Join(full, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "gone", "p.json"), full} {
		for name, err := range map[string]error{
			"writeFileAtomic": writeFileAtomic(path, []byte("{}")),
			"writeReportFile": writeReportFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "r"); return err }),
		} {
			if err == nil {
				t.Fatalf("%s %s: no error", name, path)
			}
			if msg := err.Error(); !strings.Contains(msg, " "+path+": ") || strings.Contains(msg, "."+filepath.Base(path)+".") {
				t.Errorf("%s %s: %q does not name the path alone", name, path, msg)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}
