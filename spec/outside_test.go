package spec

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// outsideSecret is what a file outside the spec directory holds: a
// credential, say. No error may quote it.
const outsideSecret = "eyJhbGciOiJSUzI1NiJ9.outside-the-spec-directory.c2VjcmV0"

// TestLoadLinkOutOfDirectory: inside a directory given to -f, a symbolic
// link that resolves outside the directory is an error naming the link,
// and what it leads to is never read (its content, which is not a spec,
// would otherwise be quoted in the error). The directory's other files are
// still checked. The same link given to -f itself is read.
func TestLoadLinkOutOfDirectory(t *testing.T) {
	tests := []struct {
		name   string
		target func(outside string) string // the link's target, given the outside directory
	}{
		{"absolute", func(outside string) string { return filepath.Join(outside, "credential") }},
		{"relative", func(string) string { return filepath.Join("..", "outside", "credential") }},
		{"through a linked directory", func(string) string { return filepath.Join("out", "credential") }},
		{"to a directory", func(outside string) string { return outside }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			outside := filepath.Join(root, "outside")
			tokens := filepath.Join(root, "tokens")
			writeFiles(t, root, map[string]string{
				"outside/credential": outsideSecret + "\n",
				"tokens/good.yaml":   "version: 1\ndeployments:\n  - id: dep-a\n",
			})
			symlink(t, outside, filepath.Join(tokens, "out"))
			target := tt.target(outside)
			link := filepath.Join(tokens, "leak.yaml")
			symlink(t, target, link)

			_, err := Load([]string{tokens})
			want := []string{link + `: symbolic link to "` + target + `" leads out of its directory; not read (name the file with -f to read it)`}
			if diff := cmp.Diff(want, errorLines(t, err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if err != nil && strings.Contains(err.Error(), "outside-the-spec") {
				t.Errorf("the error quotes the file the link leads to:\n%v", err)
			}
			var e *Error
			if errors.As(err, &e) && e.Pos.Line != 0 {
				t.Errorf("the error is at %v, want the link as a whole (line 0)", e.Pos)
			}
			if tt.name == "to a directory" {
				return
			}
			// Named with -f, the file is the user's explicit choice: read,
			// and quoted no further than an excerpt.
			_, err = Load([]string{link})
			lines := errorLines(t, err)
			if len(lines) != 1 || !strings.Contains(lines[0], "the top level must be a mapping") {
				t.Fatalf("Load(link) = %q, want the file read", lines)
			}
			if strings.Contains(lines[0], outsideSecret) {
				t.Errorf("the error quotes the whole file: %s", lines[0])
			}
		})
	}
}

// TestLoadConfigMapDirectory: a Kubernetes ConfigMap mounted as a
// directory holds its files behind two links inside the directory
// (tokens.yaml -> ..data/tokens.yaml, ..data -> ..2026_12_01_...): it is
// read, under the names of the links, also when the directory is reached
// through a link of its own.
func TestLoadConfigMapDirectory(t *testing.T) {
	root := t.TempDir()
	mount := filepath.Join(root, "etc", "tokensync", "tokens")
	const stamp = "..2026_12_01_08_00_00.123456789"
	writeFiles(t, mount, map[string]string{
		stamp + "/tokens.yaml": "version: 1\norganization: org-1\ndeployments:\n  - id: dep-a\n",
		stamp + "/team-b.yml":  "version: 1\ndeployments:\n  - id: dep-b\n",
	})
	symlink(t, stamp, filepath.Join(mount, "..data"))
	symlink(t, filepath.Join("..data", "tokens.yaml"), filepath.Join(mount, "tokens.yaml"))
	symlink(t, filepath.Join("..data", "team-b.yml"), filepath.Join(mount, "team-b.yml"))
	via := filepath.Join(root, "spec")
	symlink(t, mount, via)

	for _, dir := range []string{mount, via} {
		s, err := Load([]string{dir})
		if err != nil {
			t.Fatalf("Load(%s): %v", dir, err)
		}
		want := []string{filepath.Join(dir, "team-b.yml"), filepath.Join(dir, "tokens.yaml")}
		if diff := cmp.Diff(want, s.Files); diff != "" {
			t.Errorf("Load(%s) files (-want +got):\n%s", dir, diff)
		}
		if len(s.Deployments) != 2 {
			t.Errorf("Load(%s) = %d deployments, want 2", dir, len(s.Deployments))
		}
	}
}

// TestErrorFileNameEscaped: a file name is text from outside. Printed in
// an error, a line feed in it cannot start a line of its own (a GitHub
// workflow command, say), and ESC or U+202E cannot reach a terminal raw.
func TestErrorFileNameEscaped(t *testing.T) {
	for _, name := range []string{
		"x\n::warning title=forged::All good\n::stop-commands::abc\nend.yaml",
		"x\r::warning::cr.yaml",
		"\x1b]8;;https://evil.example\x07click\x1b[31m.yaml",
		"bidi\u202elmy.yaml",
		"zero\u200bwidth\u2028line.yaml",
		"bad\xffutf8.yaml",
	} {
		_, err := Parse(name, []byte("tokens\n"))
		lines := errorLines(t, err)
		if len(lines) != 1 {
			t.Fatalf("Parse(%q) = %q, want one error", name, lines)
		}
		got := lines[0]
		if !strings.HasPrefix(got, Inert(name)+":1:1: ") {
			t.Errorf("Parse(%q) = %q, want it to start with the escaped name %q", name, got, Inert(name))
		}
		if i := strings.IndexFunc(got, Hidden); i >= 0 || !utf8.ValidString(got) {
			t.Errorf("Parse(%q) = %q: a raw hidden character or invalid UTF-8", name, got)
		}
		// In a message about another file too.
		first := Pos{File: name, Line: 4, Col: 5}
		if s := first.String(); strings.IndexFunc(s, Hidden) >= 0 {
			t.Errorf("Pos{%q}.String() = %q, not escaped", name, s)
		}
	}
}

// TestErrorsQuoteShortExcerpts: an error quotes at most a short, escaped
// excerpt of what a file holds, wherever it quotes a key, a value or a
// name: a file that is not a spec (a credential, a private key) is never
// printed whole.
func TestErrorsQuoteShortExcerpts(t *testing.T) {
	// long, double-quoted in YAML: a file may not hold ESC raw, but a
	// quoted scalar may hold it escaped.
	long := "SECRET" + strings.Repeat("0123456789", 10) + `\u202e\e[2J` + "END"
	q := `"` + long + `"`
	tests := map[string]string{
		"top level string":    q + "\n",
		"top level plain":     long[:40] + strings.Repeat("z", 80) + "\n",
		"unknown key":         "version: 1\n" + q + ": 1\n",
		"duplicate key":       "version: 1\ndeployments:\n  - id: d\n    " + q + ": 1\n    " + q + ": 2\n",
		"invalid glob":        "version: 1\nignoreTokens: [\"[" + long + "\"]\n",
		"deployment name":     "version: 1\ndeployments:\n  - name: " + q + "\n",
		"deployment id":       "version: 1\ndeployments:\n  - id: " + q + "\n    workspace: w\n",
		"declared twice":      "version: 1\ndeployments:\n  - id: " + q + "\n  - id: " + q + "\n",
		"token listed twice":  "version: 1\ndeployments:\n  - id: d\n    workspaceTokens:\n      - {name: " + q + ", role: DEPLOYMENT_ADMIN}\n      - {name: " + q + ", role: DEPLOYMENT_ADMIN}\n",
		"token state":         "version: 1\ndeployments:\n  - id: d\n    workspaceTokens:\n      - {name: t, role: DEPLOYMENT_ADMIN, state: " + q + "}\n",
		"token with bad role": "version: 1\ndeployments:\n  - id: d\n    workspaceTokens:\n      - {name: " + q + ", role: WORKSPACE_OWNER}\n",
		"username":            "version: 1\ndeployments:\n  - id: d\n    users:\n      - {username: " + q + ", role: DEPLOYMENT_ADMIN}\n",
		"prune":               "version: 1\ndeployments:\n  - id: d\n    prune: " + q + "\n",
		"version":             "version: " + q + "\n",
		"mapping key":         "version: 1\n? [" + q + "]\n: 1\n",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(content))
			lines := errorLines(t, err)
			if len(lines) == 0 {
				t.Fatalf("no error")
			}
			for _, l := range lines {
				if strings.Contains(l, "0123456789012345678901234567890123456789") || strings.Contains(l, "END") {
					t.Errorf("the error quotes more than an excerpt: %s", l)
				}
				if strings.IndexFunc(l, Hidden) >= 0 {
					t.Errorf("the error holds a raw hidden character: %q", l)
				}
			}
		})
	}
}
