package spec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeFiles creates files (name → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"specs/b.yml":           "version: 1\ndeployments:\n  - id: dep-b\n",
		"specs/a.yaml":          "version: 1\norganization: org-1\ndeployments:\n  - id: dep-a\n",
		"specs/notes.txt":       "not a spec",
		"specs/tokens.yaml.bak": "not a spec",
		"specs/sub/c.yaml":      "version: 1\ndeployments:\n  - id: dep-c\n", // not read: not directly in specs
		"specs/dir.yaml/d.yaml": "version: 1\ndeployments:\n  - id: dep-d\n", // a directory named *.yaml is skipped
		"extra.yaml":            "version: 1\norganization: org-1\nignoreTokens: [ci-*]\ndeployments:\n  - id: dep-e\n",
	})
	// A link to a file inside the directory, in a subdirectory (as a
	// Kubernetes ConfigMap mounts its files) is read under the link's name.
	if err := os.Symlink(filepath.Join("sub", "c.yaml"), filepath.Join(dir, "specs", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	specs := filepath.Join(dir, "specs")
	extra := filepath.Join(dir, "extra.yaml")

	tests := []struct {
		name        string
		paths       []string
		files       []string
		deployments []string
	}{
		{
			name:        "directory",
			paths:       []string{specs},
			files:       []string{"specs/a.yaml", "specs/b.yml", "specs/link.yaml"},
			deployments: []string{"dep-a", "dep-b", "dep-c"},
		},
		{
			name:        "files in the order given",
			paths:       []string{extra, filepath.Join(specs, "b.yml")},
			files:       []string{"extra.yaml", "specs/b.yml"},
			deployments: []string{"dep-e", "dep-b"},
		},
		{
			name:        "a file given twice is read once",
			paths:       []string{filepath.Join(specs, "a.yaml"), specs, filepath.Join(specs, ".", "a.yaml")},
			files:       []string{"specs/a.yaml", "specs/b.yml", "specs/link.yaml"},
			deployments: []string{"dep-a", "dep-b", "dep-c"},
		},
		{
			name:  "a file named explicitly is read whatever its extension",
			paths: []string{filepath.Join(specs, "sub", "c.yaml"), filepath.Join(specs, "notes.txt")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.paths)
			if tt.files == nil {
				// notes.txt is read, and is not a spec.
				if err == nil || !strings.Contains(err.Error(), "notes.txt:1:1: the top level must be a mapping") {
					t.Fatalf("Load(%v) error = %v", tt.paths, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var files, deps []string
			for _, f := range s.Files {
				rel, _ := filepath.Rel(dir, f)
				files = append(files, filepath.ToSlash(rel))
			}
			for _, d := range s.Deployments {
				deps = append(deps, d.Ref())
			}
			if diff := cmp.Diff(tt.files, files); diff != "" {
				t.Errorf("Files (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.deployments, deps); diff != "" {
				t.Errorf("Deployments (-want +got):\n%s", diff)
			}
			if s.Organization != "org-1" {
				t.Errorf("Organization = %q, want org-1", s.Organization)
			}
		})
	}
}

// TestLoadSameFileSpeltOtherwise: a file is read once however its paths
// spell it (relative, absolute, with "//", "." or ".."), and a policy file
// also read as a spec file is known as one.
func TestLoadSameFileSpeltOtherwise(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"specs/a.yaml": "version: 1\ndeployments:\n  - id: dep-a\n",
		"specs/p.yaml": "version: 1\npolicies:\n  - {name: p, description: d, grant: x}\n",
	})
	t.Chdir(filepath.Join(dir, "specs"))
	tests := []struct {
		name         string
		paths, pols  []string
		files, rules int
	}{
		{"relative and absolute", []string{"a.yaml", dir + "/specs/a.yaml"}, nil, 1, 0},
		{"// and /./", []string{dir + "/specs//a.yaml", dir + "/./specs/a.yaml", "./a.yaml"}, nil, 1, 0},
		{"..", []string{"a.yaml", "../specs/a.yaml", "../../" + filepath.Base(dir) + "/specs/a.yaml"}, nil, 1, 0},
		{"a policy file in a -f directory", []string{"."}, []string{dir + "/specs/p.yaml"}, 2, 1},
		{"a policy file given with -f", []string{dir + "//specs/p.yaml"}, []string{"p.yaml"}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadAll(context.Background(), tt.paths, tt.pols, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Files) != tt.files || len(s.Policies) != tt.rules {
				t.Errorf("files %q, %d policies; want %d files, %d policies", s.Files, len(s.Policies), tt.files, tt.rules)
			}
		})
	}
}

func TestLoadNoPaths(t *testing.T) {
	_, err := Load(nil)
	var list ErrorList
	if err == nil || errors.As(err, &list) {
		t.Fatalf("Load(nil) = %v, want a plain error", err)
	}
}

// TestLoadHostile checks Load's errors across files and on the file
// system: each with its exact messages, relative to a temporary directory.
func TestLoadHostile(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		paths []string // relative to the temporary directory
		want  []string
	}{
		{
			name: "deployment declared in two files",
			files: map[string]string{
				"team-a.yaml": "version: 1\ndeployments:\n  - id: dep-1\n  - name: analytics-prod\n    workspace: data-platform\n",
				"team-b.yaml": "version: 1\ndeployments:\n  - name: analytics-prod\n    workspace: data-platform\n  - name: analytics-prod\n    workspace: other\n  - id: dep-1\n",
			},
			paths: []string{"team-a.yaml", "team-b.yaml"},
			want: []string{
				`team-b.yaml:3:5: deployment "analytics-prod" in workspace "data-platform" is already declared at team-a.yaml:4:5`,
				`team-b.yaml:7:5: deployment "dep-1" is already declared at team-a.yaml:3:5`,
			},
		},
		{
			name: "different organizations",
			files: map[string]string{
				"a.yaml": "version: 1\norganization: org-1\n",
				"b.yaml": "version: 1\n",
				"c.yaml": "version: 1\norganization: org-2\n",
			},
			paths: []string{"."},
			want:  []string{`c.yaml:2:15: organization "org-2" conflicts with "org-1" at a.yaml:2:15`},
		},
		{
			name: "errors sorted by file",
			files: map[string]string{
				"a.yaml": "version: 2\n",
				"b.yaml": "versio: 1\n",
			},
			paths: []string{"b.yaml", "a.yaml"},
			want: []string{
				"a.yaml:1:10: unsupported version 2; this build reads version 1",
				`b.yaml:1:1: unknown key "versio" at top level (did you mean "version"?)`,
			},
		},
		{
			name: "deployments over the limit across files",
			files: map[string]string{
				"a.yaml": manyDeployments(6000),
				"b.yaml": strings.ReplaceAll(manyDeployments(6000), "dep-", "other-"),
			},
			paths: []string{"a.yaml", "b.yaml"},
			want:  []string{"b.yaml:4003:5: too many deployments: the limit is 10000 over all files"},
		},
		{
			name:  "missing file",
			paths: []string{"missing.yaml"},
			want:  []string{"missing.yaml: cannot read: no such file or directory"},
		},
		{
			name:  "directory without spec files",
			files: map[string]string{"specs/README.md": "hello"},
			paths: []string{"specs"},
			want:  []string{"specs: directory has no *.yaml or *.yml files"},
		},
		{
			name: "10 MB file is not read",
			files: map[string]string{
				"big.yaml": "version: 1\n#" + strings.Repeat("x", 10<<20-13) + "\n",
				"ok.yaml":  "version: 1\n",
			},
			paths: []string{"big.yaml", "ok.yaml", "empty.yaml"},
			want: []string{
				"big.yaml:1:1: file is 10485760 bytes; the limit is 4194304",
				"empty.yaml: cannot read: no such file or directory",
			},
		},
		{
			name: "an emulator state file: one error, not one per key",
			files: map[string]string{
				"org.yaml": "organization: {id: org-1, name: Example}\nworkspaces: []\ndeployments: [{id: dep-1, name: prod, workspaceId: ws-1}]\ntokens: []\n",
			},
			paths: []string{"org.yaml"},
			want:  []string{"org.yaml:1:1: this looks like an emulator state file, not a spec; use --emulate org.yaml"},
		},
		{
			name: "a state file's keys in a spec with a version are the spec's errors",
			files: map[string]string{
				"t.yaml": "version: 1\ntokens: []\n",
			},
			paths: []string{"t.yaml"},
			want:  []string{`t.yaml:2:1: unknown key "tokens" at top level`},
		},
		{
			name:  "empty file",
			files: map[string]string{"empty.yaml": ""},
			paths: []string{"empty.yaml"},
			want:  []string{"empty.yaml:1:1: file is empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			t.Chdir(dir)
			var err error
			size := 0
			for _, content := range tt.files {
				size += len(content)
			}
			if n := allocated(func() { _, err = Load(tt.paths) }); n > parseBudget(size) {
				t.Errorf("Load allocated %d bytes for %d bytes of files (budget %d)", n, size, parseBudget(size))
			}
			if diff := cmp.Diff(tt.want, errorLines(t, err)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrorUnwraps(t *testing.T) {
	_, err := Load([]string{filepath.Join(t.TempDir(), "missing.yaml")})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false, want true", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Pos.Line != 0 {
		t.Errorf("errors.As(%v, *Error) gave %+v, want an Error at Line 0", err, e)
	}
}

// TestDigest pins the digest's definition and checks that it depends on
// exactly the names and contents of the files, not on how their paths are
// spelled nor on the order they are given in.
func TestDigest(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	a, b := "version: 1\ndeployments:\n  - id: dep-a\n", "version: 1\ndeployments:\n  - id: dep-b\n"
	writeFiles(t, dir, map[string]string{"a.yaml": a, "b.yaml": b, "copy/a.yaml": a, "c.yaml": a})
	digest := func(paths ...string) string {
		t.Helper()
		s, err := Load(paths)
		if err != nil {
			t.Fatal(err)
		}
		return s.Digest
	}

	fileDigest := func(name, content string) []byte {
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%d\x00%s", name, len(content), content)
		return h.Sum(nil)
	}
	da, db := fileDigest("a.yaml", a), fileDigest("b.yaml", b)
	if bytes.Compare(da, db) > 0 {
		da, db = db, da
	}
	h := sha256.New()
	h.Write(da)
	h.Write(db)
	want := hex.EncodeToString(h.Sum(nil))
	if got := digest("a.yaml", "b.yaml"); got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
	for _, paths := range [][]string{
		{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")},
		{"./a.yaml", "b.yaml"},
		{"copy/a.yaml", "b.yaml"},
		{"b.yaml", "a.yaml"},
	} {
		if got := digest(paths...); got != want {
			t.Errorf("digest of %v = %s, want that of the same files %s", paths, got, want)
		}
	}
	if got, again := digest("a.yaml", "b.yaml"), digest("a.yaml", "b.yaml"); got != again {
		t.Errorf("digest not stable: %s, then %s", got, again)
	}
	s, err := Parse("a.yaml", []byte(a))
	if err != nil {
		t.Fatal(err)
	}
	if got := digest("a.yaml"); got != s.Digest {
		t.Errorf("Load digest %s != Parse digest %s for the same file", got, s.Digest)
	}
	others := map[string]string{
		"name":   digest("c.yaml", "b.yaml"),
		"subset": digest("a.yaml"),
	}
	writeFiles(t, dir, map[string]string{"b.yaml": b + "# changed\n"})
	others["content"] = digest("a.yaml", "b.yaml")
	for name, other := range others {
		if other == want {
			t.Errorf("digest unchanged by a different %s", name)
		}
	}
}

// TestLoadDirectoryEntriesThatCannotBeRead: in a -f directory, a broken or
// looping symbolic link and a file that cannot be read are errors naming
// the entry, not files silently left out of the spec; the readable files
// are still checked.
func TestLoadDirectoryEntriesThatCannotBeRead(t *testing.T) {
	tests := []struct {
		name    string
		make    func(t *testing.T, dir string)
		wantErr []string
	}{
		{"broken link", func(t *testing.T, dir string) {
			symlink(t, "gone.yaml", filepath.Join(dir, "broken.yaml"))
		}, []string{`broken.yaml: cannot read: symbolic link to "gone.yaml": no such file or directory`}},
		{"looping links", func(t *testing.T, dir string) {
			symlink(t, "loop-b.yaml", filepath.Join(dir, "loop-a.yaml"))
			symlink(t, "loop-a.yaml", filepath.Join(dir, "loop-b.yaml"))
		}, []string{
			`loop-a.yaml: cannot read: symbolic link to "loop-b.yaml": too many levels of symbolic links`,
			`loop-b.yaml: cannot read: symbolic link to "loop-a.yaml": too many levels of symbolic links`,
		}},
		{"unreadable file", func(t *testing.T, dir string) {
			if os.Geteuid() == 0 {
				t.Skip("root reads any file")
			}
			writeFiles(t, dir, map[string]string{"locked.yaml": "version: 1\n"})
			if err := os.Chmod(filepath.Join(dir, "locked.yaml"), 0); err != nil {
				t.Fatal(err)
			}
		}, []string{`locked.yaml: cannot read: permission denied`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"good.yaml": "version: 1\ndeployments:\n  - id: dep-a\n"})
			tt.make(t, dir)
			_, err := Load([]string{dir})
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Load = %v, want errors", err)
			}
			var got []string
			for _, e := range list {
				got = append(got, strings.TrimPrefix(e.Error(), dir+string(filepath.Separator)))
			}
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadDirectorySkipsHiddenFiles: a -f directory leaves out files whose
// names begin with a dot, as a shell's * does: an editor's lock (emacs's
// .#name, a link to nowhere) or backup copy does not break the plan. A
// hidden file named explicitly is read.
func TestLoadDirectorySkipsHiddenFiles(t *testing.T) {
	dir := t.TempDir()
	const spec = "version: 1\ndeployments:\n  - id: dep-a\n"
	writeFiles(t, dir, map[string]string{"tokens.yaml": spec, ".tokens.yaml": spec})
	symlink(t, "someone@host.4242:1700000000", filepath.Join(dir, ".#tokens.yaml"))
	s, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Join(dir, "tokens.yaml")}, s.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	hidden := filepath.Join(dir, ".tokens.yaml")
	if s, err = Load([]string{hidden}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{hidden}, s.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
}

func TestLoadWithReadsStdinOnce(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte("version: 1\ndeployments:\n  - id: dep-b\n    workspaceTokens: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdin := strings.NewReader("version: 1\ndeployments:\n  - id: dep-a\n    workspaceTokens: []\n")
	sp, err := LoadWith([]string{"-", other, "-"}, stdin)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{Stdin, other}, sp.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if len(sp.Deployments) != 2 || sp.Deployments[0].Pos.File != Stdin {
		t.Errorf("deployments %+v, want dep-a from %s first", sp.Deployments, Stdin)
	}

	_, err = LoadWith([]string{"-"}, strings.NewReader("version: 1\ndeployments:\n  - id: dep-a\n    bogus: 1\n"))
	if err == nil || !strings.HasPrefix(err.Error(), Stdin+":4:") {
		t.Errorf("error %v, want one positioned in %s", err, Stdin)
	}
	_, err = LoadWith([]string{"-"}, io.MultiReader(strings.NewReader("version: 1\n#"), strings.NewReader(strings.Repeat("x", MaxFileSize))))
	if err == nil || !strings.Contains(err.Error(), "the limit is") {
		t.Errorf("error %v, want the size limit", err)
	}
}
