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

// TestCompletionInstallSteps runs docs/commands.md's steps that install
// completion for every new shell, in a new home: bash's file, sourced by a
// new bash, completes commands; zsh's .zshrc and fish's completions file
// load tokensync's own scripts.
func TestCompletionInstallSteps(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash here")
	}
	data, err := os.ReadFile("../../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		cells := strings.Split(l, " | ")
		if len(cells) < 3 || !strings.HasPrefix(cells[0], "| ") {
			continue
		}
		shell := strings.Fields(strings.TrimPrefix(cells[0], "| "))[0]
		steps[shell] = strings.Trim(cells[1], "`")
	}
	bin := binDir(t)
	home := t.TempDir()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if steps[shell] == "" {
			t.Fatalf("docs/commands.md has no install step for %s", shell)
		}
		cmd := exec.Command(bash, "--norc", "--noprofile", "-euc", steps[shell])
		cmd.Dir, cmd.Env = home, processEnv(bin, map[string]string{"HOME": home})
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s's step %q: %v\n%s", shell, steps[shell], err, out)
		}
	}
	script := `source ~/.local/share/bash-completion/completions/tokensync
COMP_WORDS=(tokensync p); COMP_CWORD=1; _tokensync; printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
	cmd.Dir, cmd.Env = home, processEnv(bin, map[string]string{"HOME": home})
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != "plan\n" {
		t.Errorf("bash with the installed file completes %q (%v), want plan", out, err)
	}
	for file, want := range map[string]string{
		".zshrc": "source <(tokensync completion zsh)\n",
		".config/fish/completions/tokensync.fish": (&cli{t: t, env: map[string]string{}}).runRaw("completion", "fish").stdout,
	} {
		got, err := os.ReadFile(filepath.Join(home, file))
		if err != nil || string(got) != want {
			t.Errorf("~/%s holds %q (%v), want %q", file, got, err, want)
		}
	}
}
