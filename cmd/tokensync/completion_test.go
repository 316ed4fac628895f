package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// complete runs bash's completion function of `tokensync completion bash`
// for the words typed so far (the last one being completed) in dir, with
// the test's tokensync first on PATH, and returns the candidates.
func complete(t *testing.T, bash, bin, dir string, words ...string) []string {
	t.Helper()
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	script := `source <(tokensync completion bash) || exit 1
COMP_WORDS=(` + strings.Join(quoted, " ") + `); COMP_CWORD=` + strconv.Itoa(len(words)-1) + `
_tokensync
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
	cmd.Dir = dir
	cmd.Env = processEnv(bin, nil)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("completing %q: %v\n%s", words, err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			got = append(got, l)
		}
	}
	return got
}

// TestBashCompletionCompletes drives the bash completion function: commands,
// flags long and short, files for -f and the saved plan, the values of -o
// and --rate-limit (also after "="), the shells of completion.
func TestBashCompletionCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash here")
	}
	bin := binDir(t)
	dir := t.TempDir()
	for _, name := range []string{"tokens.yaml", "team.yaml", "plan.json"} {
		writeTestFile(t, filepath.Join(dir, name), "")
	}
	if err := os.Mkdir(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		words []string
		want  []string
	}{
		{[]string{"tokensync", "p"}, []string{"plan"}},
		{[]string{"tokensync", "e"}, []string{"emulator", "export"}},
		{[]string{"tokensync", "plan", "-f", "t"}, []string{"team.yaml", "tokens.yaml"}},
		{[]string{"tokensync", "plan", "--file", "s"}, []string{"specs"}},
		{[]string{"tokensync", "plan", "--file", "=", "to"}, []string{"tokens.yaml"}},
		{[]string{"tokensync", "plan", "-o", ""}, []string{"text", "json", "markdown"}},
		{[]string{"tokensync", "apply", "-o", "j"}, []string{"json"}},
		{[]string{"tokensync", "plan", "--output", "=", "m"}, []string{"markdown"}},
		{[]string{"tokensync", "plan", "--output", "="}, []string{"text", "json", "markdown"}},
		{[]string{"tokensync", "emulator", "--rate-limit", ""}, []string{"astro", "off"}},
		{[]string{"tokensync", "completion", ""}, []string{"bash", "zsh", "fish"}},
		{[]string{"tokensync", "apply", "p"}, []string{"plan.json"}},
		{[]string{"tokensync", "apply", "-"}, nil}, // checked below: every flag
		{[]string{"tokensync", "plan", "--api-url", ""}, nil},
		{[]string{"tokensync", "version", "--"}, []string{"--help"}},
	}
	for _, tt := range tests {
		got := complete(t, bash, bin, dir, tt.words...)
		if tt.words[len(tt.words)-1] == "-" {
			for _, want := range []string{"-f", "-o", "-y", "-v", "-h", "--yes", "--audit-log", "--target", "--dry-run"} {
				if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+want+" ") {
					t.Errorf("%q: candidates lack %s: %q", tt.words, want, got)
				}
			}
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.words, diff)
		}
	}
}
