package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// forgedName is a file name that, printed raw on stderr under GitHub
// Actions, writes workflow commands of its own: a forged warning, and
// stop-commands, after which the runner ignores tokensync's annotations.
const forgedName = "x\n::warning title=forged::All good\n::stop-commands::abc\nend"

// hostileFileNames are file names (without extension) that must reach
// stderr escaped: line feeds, a carriage return, ESC with an OSC 8 link
// and colour, and the bidirectional override U+202E.
var hostileFileNames = []string{
	forgedName,
	"cr\r::warning::carriage",
	"esc\x1b]8;;evil.example\x07link\x1b[31mred",
	"bidi\u202elmy",
}

// ownAnnotation is the one shape of line that tokensync writes starting
// with "::": an error or warning annotation whose file property has its
// ':' and ',' escaped.
var ownAnnotation = regexp.MustCompile(`^::(error|warning) file=[^:,]*,line=\d+,col=\d+::`)

// checkStderr fails the test when stderr holds a raw character that
// render.Safe escapes, or a line starting with "::" (after white space, as
// the runner reads it) that is not one of tokensync's own annotations, or
// "##[" (the runner's old form of a command) anywhere.
func checkStderr(t *testing.T, what, stderr string) {
	t.Helper()
	inert(t, what, stderr)
	for _, l := range strings.Split(stderr, "\n") {
		if trimmed := strings.TrimLeft(l, " \t\r"); strings.HasPrefix(trimmed, "::") && !ownAnnotation.MatchString(trimmed) || strings.Contains(l, "##[") {
			t.Errorf("%s writes a workflow command of its own: %q\nstderr:\n%s", what, l, stderr)
		}
	}
}

// TestNoWorkflowCommandFromTheSpec: under GitHub Actions, a spec file
// named like a workflow command and given bare (-f . from its directory,
// as the Action's working-directory does), a token name and a policy's
// name and description that hold one, reach stdout and stderr as no
// command: tokensync's own annotations stay the only ones.
func TestNoWorkflowCommandFromTheSpec(t *testing.T) {
	c, dir := actionsCLI(t)
	spec := "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - {name: '##[stop-commands]x', role: DEPLOYMENT_ADMIN}\n"
	if err := os.WriteFile(filepath.Join(dir, "::stop-commands::zz.yaml"), []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	r := c.run("plan", "-f", ".")
	wantCode(t, r, exitInvalid)
	checkStderr(t, "plan -f .", r.stderr)
	if !strings.Contains(r.stderr, `\x3a:stop-commands::zz.yaml:5:9: token "#\x23[stop-commands]x" not found`) {
		t.Errorf("stderr does not name the file and token escaped:\n%s", r.stderr)
	}
	// The annotation is a command of tokensync's own: it names the file
	// as it is, for GitHub to find it.
	if !strings.Contains(r.stderr, "::error file=%3A%3Astop-commands%3A%3Azz.yaml,line=5,col=9::") {
		t.Errorf("stderr lacks the annotation at the file:\n%s", r.stderr)
	}

	policies := filepath.Join(c.dir, "policies.yaml")
	if err := os.WriteFile(policies, []byte("version: 1\npolicies:\n  - {name: '::warning::rule', description: '::warning title=Approved::LGTM ##[add-mask]DEPLOYMENT_ADMIN', grant: 'true'}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := filepath.Join(c.dir, "ok.yaml")
	if err := os.WriteFile(ok, []byte(mainSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	r = c.run("plan", "-f", ok, "--policy", policies, "--policy-mode", "warn")
	wantCode(t, r, exitOK)
	checkStderr(t, "plan --policy", r.stdout+r.stderr)
	if !strings.Contains(r.stdout, `\x3a:warning::rule`) {
		t.Errorf("stdout does not name the rule, escaped:\n%s", r.stdout)
	}

	// The API's words in the -v log: the emulator's 404 quotes the
	// organization id.
	r = c.run("plan", "-f", ok, "--organization", "##[add-mask]x", "-v")
	wantCode(t, r, exitInvalid)
	checkStderr(t, "plan -v", r.stderr)
	if !strings.Contains(r.stderr, "astro api request") {
		t.Errorf("no request log:\n%s", r.stderr)
	}
}

// TestHostileSpecFileNames: the name of a spec file is text from outside.
// Under GITHUB_ACTIONS=true, the file:line:col lines, the annotations and
// the markdown of a failed plan write it escaped with the rule of names
// from the API, so that it cannot forge a workflow command or reach a
// terminal raw; the file is still named.
func TestHostileSpecFileNames(t *testing.T) {
	c, dir := actionsCLI(t)
	for _, name := range hostileFileNames {
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte("tokens\n"), 0o600); err != nil {
			t.Fatalf("write %q: %v", name, err)
		}
	}
	for _, args := range [][]string{
		{"validate", "--offline", "-f", dir},
		{"plan", "-f", dir},
		{"plan", "-f", dir, "-o", "markdown"},
		{"plan", "-f", filepath.Join(dir, forgedName+".yaml")},
	} {
		r := c.run(args...)
		wantCode(t, r, exitInvalid)
		checkStderr(t, strings.Join(args, " "), r.stderr)
		inert(t, strings.Join(args, " ")+" stdout", strings.ReplaceAll(r.stdout, "\n", ""))
		if !strings.Contains(r.stderr, `x\n::warning title=forged::All good\n::stop-commands::abc\nend.yaml:1:1: the top level must be a mapping`) {
			t.Errorf("%v does not name the file, escaped:\n%s", args, r.stderr)
		}
	}
}

// TestHostileOutputFileNames: the names given to --out, --audit-log,
// apply PLAN.json, --token-file, --emulate, report --from and emulator
// --state are printed escaped too: in "Saved the plan to ...", and in the
// errors of files that cannot be read or written.
func TestHostileOutputFileNames(t *testing.T) {
	c := newCLI(t, testState)
	c.env["GITHUB_ACTIONS"] = "true"
	f := c.write("tokens.yaml", mainSpec)
	missing := filepath.Join(c.dir, "no such dir "+forgedName)
	for _, name := range hostileFileNames {
		out := filepath.Join(c.dir, name+".json")
		r := c.run("plan", "-f", f, "--out", out)
		wantCode(t, r, exitOK)
		checkStderr(t, "plan --out", r.stderr)
		if !strings.Contains(r.stderr, "Saved the plan to ") {
			t.Errorf("plan --out does not say where it saved the plan:\n%s", r.stderr)
		}
		r = c.run("apply", out, "--yes", "--audit-log", filepath.Join(missing, "audit.log"))
		wantCode(t, r, exitUsage)
		checkStderr(t, "apply --audit-log", r.stderr)
	}
	for _, tt := range []struct {
		what string
		args []string
		code int
	}{
		{"plan --out", []string{"plan", "-f", f, "--out", filepath.Join(missing, "plan.json")}, exitUsage},
		{"apply PLAN.json", []string{"apply", filepath.Join(missing, "plan.json"), "--yes"}, exitUsage},
		{"--token-file", []string{"plan", "-f", f, "--token-file", filepath.Join(missing, "token")}, exitUsage},
		{"--emulate", []string{"plan", "-f", f, "--emulate", filepath.Join(missing, "state.yaml")}, exitUsage},
		{"report --from", []string{"report", "--from", filepath.Join(missing, "report.json")}, exitUsage},
		{"report --out", []string{"report", "-o", "html", "--out", filepath.Join(missing, "report.html")}, exitUsage},
		{"validate -f", []string{"validate", "--offline", "-f", filepath.Join(missing, "tokens.yaml")}, exitInvalid},
	} {
		r := c.run(tt.args...)
		wantCode(t, r, tt.code)
		checkStderr(t, tt.what, r.stderr)
	}
	r := c.runRaw("emulator", "--state", filepath.Join(missing, "state.yaml"))
	wantCode(t, r, exitUsage)
	checkStderr(t, "emulator --state", r.stderr)

	// A state file that is there but not a state: its errors name it.
	state := filepath.Join(c.dir, forgedName+".state.yaml")
	if err := os.WriteFile(state, []byte("organization: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = c.runRaw("plan", "-f", f, "--emulate", state)
	wantCode(t, r, exitInvalid)
	checkStderr(t, "plan --emulate", r.stderr)
}

// TestLinkOutOfSpecDirectory: in a directory given to -f, a link to a
// file outside it (the credential, /etc/passwd) is an error naming the
// link; what it leads to is never read, so it reaches neither stderr nor
// the markdown of the pull request comment.
func TestLinkOutOfSpecDirectory(t *testing.T) {
	c := newCLI(t, testState)
	credential := c.write("credential", secret+"\n")
	passwd := c.write("passwd", "root:x:0:0:root:/root:/bin/bash\n")
	dir := filepath.Join(c.dir, "tokens")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.yaml"), []byte(mainSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"leak.yaml": credential, "passwd.yaml": passwd} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
	}
	for _, args := range [][]string{
		{"plan", "-f", dir, "-o", "markdown"},
		{"plan", "-f", dir, "-o", "markdown", "--token-file", credential},
		{"validate", "--offline", "-f", dir},
	} {
		r := c.run(args...) // runRaw fails the test if the credential shows
		wantCode(t, r, exitInvalid)
		for _, name := range []string{"leak.yaml", "passwd.yaml"} {
			want := filepath.Join(dir, name) + `: symbolic link to "`
			if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "leads out of its directory; not read") {
				t.Errorf("%v does not name the link %s:\n%s", args, name, r.stderr)
			}
		}
		if strings.Contains(r.stdout+r.stderr, "root:") {
			t.Errorf("%v shows the content of a file outside the directory:\nstdout:\n%s\nstderr:\n%s", args, r.stdout, r.stderr)
		}
		if args[len(args)-1] == "markdown" && !strings.Contains(r.stdout, "leads out of its directory") {
			t.Errorf("the markdown does not say why the plan failed:\n%s", r.stdout)
		}
	}
}

// TestSpecErrorsRedactCredential: a spec file that holds the credential
// (pasted as a token name, or the credential file given to -f by mistake)
// has its errors redacted, on stderr, in the annotations and in the
// markdown, whether the credential comes from ASTRO_API_TOKEN or
// --token-file, and also when the error quotes only its start.
func TestSpecErrorsRedactCredential(t *testing.T) {
	long := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + strings.Repeat("s3cr3t", 12)
	for _, tt := range []struct {
		name, credential string
		tokenFile        bool
	}{
		{"environment", secret, false},
		{"token file", secret, true},
		{"long, cut in the message", long, false},
		{"long, from a token file", long, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, testState)
			c.env["GITHUB_ACTIONS"] = "true"
			c.env["ASTRO_API_TOKEN"] = tt.credential
			var extra []string
			if tt.tokenFile {
				c.env["ASTRO_API_TOKEN"] = ""
				extra = []string{"--token-file", c.write("token", tt.credential+"\n")}
			}
			credFile := c.write("credential.yaml", tt.credential+"\n")
			named := c.write("named.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n"+
				"      - name: "+tt.credential+"\n        role: WORKSPACE_OWNER\n"+
				"      - name: x\n        role: DEPLOYMENT_ADMIN\n        state: "+tt.credential+"\n")
			for _, args := range [][]string{
				{"plan", "-f", credFile, "-o", "markdown"},
				{"plan", "-f", named, "-o", "markdown"},
				{"validate", "--offline", "-f", named},
			} {
				r := c.run(append(args, extra...)...)
				wantCode(t, r, exitInvalid)
				if !strings.Contains(r.stderr, "[REDACTED]") {
					t.Errorf("%v redacts nothing:\n%s", args, r.stderr)
				}
				for _, shown := range []string{tt.credential, tt.credential[:minRedacted]} {
					if strings.Contains(r.stdout+r.stderr, shown) {
						t.Errorf("%v shows the credential (%q):\nstdout:\n%s\nstderr:\n%s", args, shown, r.stdout, r.stderr)
					}
				}
			}
		})
	}
}

// minRedacted is the start of the credential that must never show: it is
// the shortest start of it that astroapi.Redact takes for a cut copy.
const minRedacted = 8

// actionsCLI is a CLI run as under GitHub Actions, and a new directory
// "tokens" in its working directory for the spec files.
func actionsCLI(t *testing.T) (*cli, string) {
	t.Helper()
	c := newCLI(t, testState)
	c.env["GITHUB_ACTIONS"] = "true"
	dir := filepath.Join(c.dir, "tokens")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return c, dir
}
