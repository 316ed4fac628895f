package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExportOutMakesParents: export --out DIR makes the directories above
// DIR that do not exist, as mkdir -p does, instead of failing with a raw
// error (exit 1).
func TestExportOutMakesParents(t *testing.T) {
	c := newCLI(t, testState)
	out := filepath.Join(c.dir, "no", "such", "dir")
	r := c.run("export", "--out", out)
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stderr, "Wrote 3 spec files to "+out) {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if got, want := dirNames(t, out), []string{"organization.yaml", "workspace-alpha.yaml", "workspace-beta.yaml"}; !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	if got := dirNames(t, filepath.Join(c.dir, "no", "such")); !slices.Equal(got, []string{"dir"}) {
		t.Errorf("beside the export: %q", got)
	}
}

// TestMkdirParentsLeavesNothingOnFailure: when a directory above --out
// cannot be made, those made before it are removed again; removeMade
// removes what it made.
func TestMkdirParentsLeavesNothingOnFailure(t *testing.T) {
	base := t.TempDir()
	tooLong := filepath.Join(base, "a", "b", strings.Repeat("x", 300), "c")
	if made, err := mkdirParents(tooLong); err == nil {
		t.Fatalf("made %q", made)
	}
	if got := dirNames(t, base); len(got) != 0 {
		t.Errorf("left behind: %q", got)
	}

	made, err := mkdirParents(filepath.Join(base, "p", "q"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(base, "p", "q"), filepath.Join(base, "p")}; !slices.Equal(made, want) {
		t.Errorf("made %q, want %q", made, want)
	}
	if again, err := mkdirParents(filepath.Join(base, "p", "q")); err != nil || len(again) != 0 {
		t.Errorf("made %q again (%v)", again, err)
	}
	removeMade(made)
	if _, err := os.Stat(filepath.Join(base, "p")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("not removed: %v", err)
	}
}

// TestExportFilterNamingNothing: a --workspace or --deployment that names
// nothing in the organization is a usage error (exit 64), as in report,
// with every such value listed, and nothing is printed on stdout.
func TestExportFilterNamingNothing(t *testing.T) {
	c := newCLI(t, testState)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--deployment", "nosuch"}, "tokensync: --deployment \"nosuch\": no such deployment in organization org1 (give its id, name or workspace/name)\n"},
		{[]string{"--workspace", "nosuch"}, "tokensync: --workspace \"nosuch\": no such workspace in organization org1\n"},
		{[]string{"--workspace", "alpha", "--workspace", "gamma", "--deployment", "a-prod", "--deployment", "c-prod"},
			"tokensync: --workspace \"gamma\": no such workspace in organization org1\n--deployment \"c-prod\": no such deployment in organization org1 (give its id, name or workspace/name)\n"},
	} {
		r := c.run(append([]string{"export"}, tc.args...)...)
		wantCode(t, r, exitUsage)
		if r.stderr != tc.want || r.stdout != "" {
			t.Errorf("export %q: stdout %q, stderr:\n%s\nwant:\n%s", tc.args, r.stdout, r.stderr, tc.want)
		}
	}
}

// TestExportOutKeepsAnEmptyDir: export --out into an empty directory that
// exists writes into it: the directory keeps its inode and mode, a
// symbolic link to it stays a link, and nothing else is left in it.
func TestExportOutKeepsAnEmptyDir(t *testing.T) {
	c := newCLI(t, testState)
	want := []string{"organization.yaml", "workspace-alpha.yaml", "workspace-beta.yaml"}
	dir := filepath.Join(c.dir, "private")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.run("export", "--out", dir), exitOK)
	after, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || after.Mode().Perm() != 0o700 {
		t.Errorf("the directory was replaced: same %v, mode %v", os.SameFile(before, after), after.Mode().Perm())
	}
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	wantCode(t, c.run("plan", "-f", dir, "--prune", "--detailed-exitcode"), exitOK)

	target := filepath.Join(c.dir, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(c.dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.run("export", "--out", link), exitOK)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link: %v, %v", fi, err)
	}
	if got := dirNames(t, target); !slices.Equal(got, want) {
		t.Errorf("files behind the link %q, want %q", got, want)
	}
}
