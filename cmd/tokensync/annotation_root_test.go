package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnnotationsFromRepositoryRoot: under GitHub Actions, run from a
// subdirectory of GITHUB_WORKSPACE (the Action's working-directory), an
// annotation names the file from the repository's root, so that GitHub
// attaches it to the pull request's file; the human-readable line keeps
// the name as given.
func TestAnnotationsFromRepositoryRoot(t *testing.T) {
	c := newCLI(t, testState)
	root := c.dir
	sub := filepath.Join(root, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "typo.yaml"), []byte("version: 1\ndeployments:\n  - id: x\n    bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "other.yaml"), []byte("version: 1\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	c.env["GITHUB_ACTIONS"] = "true"
	tests := []struct {
		name, workspace, file string
		want                  []string
	}{
		{"subdirectory", root, "typo.yaml", []string{"typo.yaml:4:5: ", "::error file=sub/typo.yaml,line=4,col=5::"}},
		{"trailing slash", root + "/", "./typo.yaml", []string{"./typo.yaml:4:5: ", "::error file=sub/typo.yaml,line=4,col=5::"}},
		{"at the root", sub, "typo.yaml", []string{"::error file=typo.yaml,line=4,"}},
		{"no workspace", "", "typo.yaml", []string{"::error file=typo.yaml,line=4,"}},
		{"outside the workspace", root, filepath.Join(outside, "other.yaml"), []string{"::error file=" + annotationProperty(filepath.Join(outside, "other.yaml")) + ",line=2,"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.env["GITHUB_WORKSPACE"] = tt.workspace
			r := c.runRaw("validate", "--offline", "-f", tt.file)
			wantCode(t, r, exitInvalid)
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "\n"+"sub/typo.yaml:") || strings.HasPrefix(r.stderr, "sub/") {
				t.Errorf("the human-readable line changed:\n%s", r.stderr)
			}
		})
	}
}
