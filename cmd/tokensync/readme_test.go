package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// shownAfter returns the fenced block that follows the first occurrence
// of each of the markers in turn, in text.
func shownAfter(t *testing.T, text string, markers ...string) string {
	t.Helper()
	var block string
	for _, m := range markers {
		_, after, ok := strings.Cut(text, m)
		_, after, ok2 := strings.Cut(after, "```\n")
		if !ok || !ok2 {
			t.Fatalf("the README shows no block after %q", m)
		}
		block, text, _ = strings.Cut(after, "```\n")
	}
	return block
}

// runReadme checks that the README shows the `go run` command and runs it
// from the repository's root; it returns the README and the result.
func runReadme(t *testing.T, command string) (string, result) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), command) {
		t.Fatalf("the README no longer shows %q", command)
	}
	t.Chdir("../..")
	c := &cli{t: t, env: map[string]string{}}
	r := c.runRaw(strings.Fields(command)[3:]...)
	wantCode(t, r, exitOK)
	return string(readme), r
}

const readmePlanShown = "It prints (plain here; coloured on a terminal):"

// TestReadmeFirstCommand runs the newcomer's command of the README and
// checks the output the README shows is what it prints.
func TestReadmeFirstCommand(t *testing.T) {
	text, r := runReadme(t, "go run ./cmd/tokensync plan -f examples/tokens.yaml --emulate examples/org.yaml")
	if diff := cmp.Diff(shownAfter(t, text, readmePlanShown), r.stdout); diff != "" {
		t.Errorf("README output (-want +got):\n%s", diff)
	}
}

// TestReadmeEveryLevel runs the README's plan of a spec on every level
// and checks the output the README shows is what it prints.
func TestReadmeEveryLevel(t *testing.T) {
	text, r := runReadme(t, "go run ./cmd/tokensync plan -f examples/levels.yaml --emulate examples/org.yaml")
	if diff := cmp.Diff(shownAfter(t, text, "## Every level in one file", "It plans every level at once"), r.stdout); diff != "" {
		t.Errorf("README output (-want +got):\n%s", diff)
	}
}

// TestReadmePolicies runs the README's policy example: the example spec
// breaks the example policies and is refused, with the violations the
// README shows; the fixed spec plans with none.
func TestReadmePolicies(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const refused = "go run ./cmd/tokensync plan -f examples/tokens.yaml --policy examples/policies.yaml --emulate examples/org.yaml"
	const fixed = "go run ./cmd/tokensync plan -f examples/tokens-compliant.yaml --policy examples/policies.yaml --emulate examples/org.yaml"
	for _, cmd := range []string{refused, fixed} {
		if !strings.Contains(string(readme), cmd) {
			t.Fatalf("the README no longer shows %q", cmd)
		}
	}
	t.Chdir("../..")
	c := &cli{t: t, env: map[string]string{}}
	r := c.runRaw(strings.Fields(refused)[3:]...)
	wantCode(t, r, exitRefused)
	shown := shownAfter(t, string(readme), "## Policies: what access is allowed", "then what breaks the rules")
	if !strings.HasSuffix(r.stdout, shown) {
		t.Errorf("the README shows:\n%s\nthe plan ends:\n%s", shown, r.stdout[max(0, len(r.stdout)-len(shown)-200):])
	}
	r = c.runRaw(strings.Fields(fixed)[3:]...)
	wantCode(t, r, exitOK)
	if strings.Contains(r.stdout, "Policy violations") {
		t.Errorf("the fixed spec still breaks a rule:\n%s", r.stdout)
	}
}

// TestReadmeApply runs the README's apply against the emulator and checks
// that stdout is what the README shows, with one line of progress.
func TestReadmeApply(t *testing.T) {
	text, r := runReadme(t, "go run ./cmd/tokensync apply -f examples/tokens.yaml --emulate examples/org.yaml --yes")
	shown := shownAfter(t, text, readmePlanShown) + shownAfter(t, text, "It prints the same plan, then the outcome")
	if diff := cmp.Diff(shown, r.stdout); diff != "" {
		t.Errorf("README output (-want +got):\n%s", diff)
	}
	if strings.Count(r.stderr, "Applying: ") != 1 || !strings.Contains(r.stderr, "Verified: converged.") {
		t.Errorf("the README says one progress line and Verified: converged.; stderr:\n%s", r.stderr)
	}
}

// TestReadmeDayOne runs the README's day-one flow as written, with the
// built binary against the example organization: the export plans empty;
// after a change by hand in Astro (drift), the terminal steps plan, apply
// the saved plan and find no drift left.
func TestReadmeDayOne(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "## The day-one flow\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for rest := section; ok; {
		var block string
		if _, rest, ok = strings.Cut(rest, "```sh\n"); ok {
			block, rest, _ = strings.Cut(rest, "```")
			blocks = append(blocks, block)
		}
	}
	if len(blocks) != 2 || !strings.Contains(blocks[0], "tokensync export") || !strings.Contains(blocks[1], "tokensync apply plan.json") {
		t.Fatalf("want the day-one flow's two shell blocks, export and the terminal steps; got %q", blocks)
	}
	srv, baseURL, _ := exampleOrg(t)
	work := t.TempDir()
	bin := binDir(t)
	// The token where the README reads it from: a file in the home directory.
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".astro-api-token"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runBlock := func(block string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
		cmd.Dir, cmd.Env = work, processEnv(bin, map[string]string{"ASTRO_API_URL": baseURL, "HOME": home})
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", block, err, out)
		}
		// A placeholder taken for the credential draws this warning.
		if strings.Contains(string(out), "warning: the credential is only") {
			t.Errorf("%s: the README's credential is a placeholder:\n%s", block, out)
		}
		return string(out)
	}
	runBlock(blocks[0])
	// Drift: ci-deployer of data-platform loses its deployment roles by hand.
	if err := srv.SetTokenRoles("clxtk7a2m000008jv3dci0001", []astroapi.Role{{EntityType: "WORKSPACE", EntityID: "clvdw0ks1000008mh4dpl0001", Role: "WORKSPACE_MEMBER"}}); err != nil {
		t.Fatal(err)
	}
	// The same shell: the variables block 1 exported hold.
	var exports []string
	for _, l := range strings.Split(blocks[0], "\n") {
		if strings.HasPrefix(l, "export ") {
			exports = append(exports, l)
		}
	}
	out := runBlock(strings.Join(exports, "\n") + "\n" + blocks[1])
	for _, want := range []string{"Plan: 2 to add, 0 to change, 0 to remove.", "Apply complete: 2 added, 0 changed, 0 removed.", "No changes"} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal steps do not say %q:\n%s", want, out)
		}
	}
}

// TestDocCommandsRun runs every tokensync command shown in a shell block
// of README.md and docs/, and every example of the CLI's help (which
// docs/commands.md shows), against a fresh emulated example organization:
// each must exit 0 (or 2, changes pending). Skipped: the emulator itself
// and what runs against a served one (tested in emulator_test.go), scripts
// with variables (the weekly audit has its own test), and apply without
// --yes, which needs a terminal.
func TestDocCommandsRun(t *testing.T) {
	var lines []string
	for _, page := range docPages {
		for _, block := range fencedBlocks(t, page, "sh") {
			for _, l := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
				lines = append(lines, strings.TrimSpace(l))
			}
		}
	}
	for _, cmd := range []string{"plan", "apply", "validate", "export", "report", "emulator", "schema", "version", "completion", "help"} {
		help := (&cli{t: t, env: map[string]string{}}).runRaw(cmd, "--help").stdout
		_, examples, _ := strings.Cut(help, "\nExamples:\n")
		examples, _, _ = strings.Cut(examples, "\nFlags:")
		for _, l := range strings.Split(examples, "\n") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	bin := binDir(t)
	ran := map[string]bool{}
	for _, l := range lines {
		words := strings.Fields(l)
		if len(words) < 2 || words[0] != "tokensync" || ran[l] ||
			words[1] == "emulator" || strings.Contains(l, "127.0.0.1:") || strings.Contains(l, "$") ||
			words[1] == "apply" && !strings.Contains(l, "--yes") && !strings.Contains(l, "--dry-run") {
			continue
		}
		ran[l] = true
		_, baseURL, work := exampleOrg(t)
		setup := "cp tokens/tokens.yaml tokens.yaml && ln -s " + filepath.Join(mustAbs(t, repoRoot), "examples") + " examples"
		if strings.Contains(l, "plan.json") && !strings.Contains(l, "--out plan.json") {
			setup += " && tokensync plan -f tokens.yaml --out plan.json >/dev/null"
		}
		if strings.Contains(l, "--since today.json") {
			setup += " && tokensync report -o json --out today.json"
		}
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", setup+"\n"+l)
		cmd.Dir = work
		cmd.Env = processEnv(bin, map[string]string{"ASTRO_API_URL": baseURL, "ASTRO_API_TOKEN": secret, "ASTRO_ORGANIZATION_ID": "clx0org0000000000000000", "HOME": work})
		out, err := cmd.CombinedOutput()
		if code := exitCode(t, err); code != 0 && code != 2 {
			t.Errorf("%s: exit %d\n%s", l, code, out)
		}
	}
	if len(ran) < 20 {
		t.Errorf("ran only %d commands of the docs and the help: %v", len(ran), ran)
	}
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestReportAdminExample: docs/report.md's "who can administer it"
// example, run against the example organization, lists admin grants only:
// the custom roles it holds are rated, so --min-role keeps none unrated.
func TestReportAdminExample(t *testing.T) {
	var example string
	for _, block := range fencedBlocks(t, "docs/report.md", "sh") {
		for _, l := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
			if strings.Contains(l, "--min-role admin") {
				example, _, _ = strings.Cut(l, "#")
			}
		}
	}
	words := strings.Fields(example)
	if len(words) < 2 || words[0] != "tokensync" {
		t.Fatalf("docs/report.md has no report example with --min-role admin: %q", example)
	}
	t.Chdir("../..")
	c := &cli{t: t, env: map[string]string{}}
	r := c.runRaw(append(words[1:], "-f", "examples/tokens.yaml", "--emulate", "examples/org.yaml")...)
	wantCode(t, r, exitOK)
	for _, role := range []string{"DAG_DEPLOYER", "DEPLOYMENT_VIEWER", "WORKSPACE_MEMBER", "WORKSPACE_AUTHOR"} {
		if strings.Contains(r.stdout+r.stderr, role) {
			t.Errorf("%s: lists %s, which is not admin:\n%s\n%s", example, role, r.stdout, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "DEPLOYMENT_ADMIN (deployment)") {
		t.Errorf("%s: lists no admin:\n%s", example, r.stdout)
	}
}
