package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
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

// TestOutReplacesOnlyARegularFile: plan --out and report --out put their
// file in place with a rename, which would put a regular file in place of
// a named pipe or a device (/dev/null, for root). Such a path is refused
// (exit 64) before the API is contacted and left as it was; a symbolic link
// to a regular file stays a link, and the file it leads to is written.
func TestOutReplacesOnlyARegularFile(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	fifo := filepath.Join(c.dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	dangling := filepath.Join(c.dir, "dangling")
	mustSymlink(t, filepath.Join(c.dir, "gone"), dangling)
	toPipe := filepath.Join(c.dir, "to-pipe")
	mustSymlink(t, fifo, toPipe)
	for _, cmd := range [][]string{{"plan", "-f", f}, {"report"}} {
		for _, path := range []struct{ name, path, want string }{
			{"a named pipe", fifo, "not a regular file"},
			{"a link to a named pipe", toPipe, "not a regular file"},
			{"a link to nothing", dangling, "a symbolic link to a file that does not exist"},
		} {
			t.Run(cmd[0]+"/"+path.name, func(t *testing.T) {
				c.srv.ResetStats()
				r := c.run(append(cmd, "--out", path.path)...)
				wantCode(t, r, exitUsage)
				if want := "tokensync: --out " + path.path + ": " + path.want; !strings.HasPrefix(r.stderr, want) {
					t.Errorf("stderr:\n%s\nwant it to start with:\n%s", r.stderr, want)
				}
				if n := c.requests(); n != 0 {
					t.Errorf("%d requests before the refusal", n)
				}
			})
		}
		t.Run(cmd[0]+"/a link to a file", func(t *testing.T) {
			target := c.write(cmd[0]+"-saved.out", "old")
			link := filepath.Join(c.dir, cmd[0]+"-link")
			mustSymlink(t, target, link)
			wantCode(t, c.run(append(cmd, "--out", link)...), exitOK)
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("%s is no longer a link: %v %v", link, fi.Mode(), err)
			}
			if data, err := os.ReadFile(target); err != nil || string(data) == "old" {
				t.Errorf("the file the link leads to was not written: %q %v", data, err)
			}
		})
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe was replaced: %v %v", fi.Mode(), err)
	}
	if _, err := os.Lstat(filepath.Join(c.dir, "gone")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was made where the link leads: %v", err)
	}
	// The writers check again, for a path that became a pipe after the
	// check.
	for name, err := range map[string]error{
		"writeFileAtomic": writeFileAtomic(fifo, []byte("{}")),
		"writeReportFile": writeReportFile(fifo, func(w io.Writer) error { _, err := io.WriteString(w, "r"); return err }),
	} {
		if err == nil || !strings.Contains(err.Error(), fifo+": not a regular file") {
			t.Errorf("%s over a named pipe: %v", name, err)
		}
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe was replaced by a writer: %v %v", fi.Mode(), err)
	}
}

func mustSymlink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := os.Symlink(oldname, newname); err != nil {
		t.Fatal(err)
	}
}

// TestOutputFlagsReadNoVariable: -o and --out mean other things to plan,
// apply, export and report (a plan file, a report file, a directory; their
// formats), so no TOKENSYNC_* variable sets them: one set for plans must
// not make report overwrite the saved plan, nor export write a directory
// while its output is redirected. Nor does --version read one:
// TOKENSYNC_VERSION, the natural name for pinning a release (the Action's
// installer reads it), made every command print the version and exit 0.
func TestOutputFlagsReadNoVariable(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	saved := c.write("saved-plan.json", "the saved plan")
	t.Setenv("TOKENSYNC_OUT", saved) // kong reads the process's variables
	t.Setenv("TOKENSYNC_OUTPUT", "html")
	t.Setenv("TOKENSYNC_VERSION", "v0.1.0")
	for _, args := range [][]string{{"report"}, {"export"}, {"plan", "-f", f}, {"apply", "-f", f, "--dry-run"}} {
		r := c.run(args...)
		wantCode(t, r, exitOK)
		if r.stdout == "" || strings.Contains(r.stdout, "<html") || strings.HasPrefix(r.stdout, "tokensync ") {
			t.Errorf("%v: stdout is not its default output:\n%s", args, r.stdout)
		}
	}
	if data, err := os.ReadFile(saved); err != nil || string(data) != "the saved plan" {
		t.Errorf("the file TOKENSYNC_OUT names was written: %q %v", data, err)
	}
}

// TestOutKeepsModeAndInputs: --out keeps the mode of the file it replaces
// (a report made private stays private), refuses a file this user may not
// write, and refuses a file the command reads: a -f file, a spec file of a
// -f directory, the --emulate state (exit 64, before contact, unchanged).
func TestOutKeepsModeAndInputs(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	private := c.write("private.json", "old")
	if err := os.Chmod(private, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"plan", "-f", f, "--out", private}, {"report", "-o", "json", "--out", private}} {
		wantCode(t, c.run(cmd...), exitOK)
		if fi, err := os.Stat(private); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%v: mode %v, want 0600 (%v)", cmd[0], fi.Mode().Perm(), err)
		}
	}

	dir := filepath.Join(c.dir, "specs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	inDir := filepath.Join(dir, "team.yaml")
	writeTestFile(t, inDir, mainSpec)
	state := c.write("state.yaml", testState)
	// A spec file of a directory that is a link to a file whose own name
	// the directory skips (hidden), and a ConfigMap's mount.
	linked := filepath.Join(c.dir, "linked")
	if err := os.Mkdir(linked, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(linked, ".real.yaml"), mainSpec)
	mustSymlink(t, ".real.yaml", filepath.Join(linked, "tokens.yaml"))
	configMap := filepath.Join(c.dir, "configmap")
	if err := os.MkdirAll(filepath.Join(configMap, "..2026_12_01"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(configMap, "..2026_12_01", "tokens.yaml"), mainSpec)
	mustSymlink(t, "..2026_12_01", filepath.Join(configMap, "..data"))
	mustSymlink(t, filepath.Join("..data", "tokens.yaml"), filepath.Join(configMap, "tokens.yaml"))
	for _, tc := range []struct {
		name string
		args []string
		out  string
		in   string
	}{
		{"plan over its -f file", []string{"plan", "-f", f}, f, f},
		{"plan over a spec file of its -f directory", []string{"plan", "-f", dir}, inDir, dir},
		{"plan over the hidden file a link of its -f directory leads to", []string{"plan", "-f", linked}, filepath.Join(linked, ".real.yaml"), linked},
		{"report over the file of a ConfigMap's -f directory", []string{"report", "-f", configMap}, filepath.Join(configMap, "..data", "tokens.yaml"), configMap},
		{"report over its -f file", []string{"report", "-f", f}, f, f},
		{"report over its --emulate state", []string{"report", "--emulate", state}, state, state},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.out)
			c.srv.ResetStats()
			r := c.run(append(slices.Clone(tc.args), "--out", tc.out)...)
			wantCode(t, r, exitUsage)
			if want := "tokensync: --out " + tc.out + ": the command also reads it (" + tc.in + ")"; !strings.HasPrefix(r.stderr, want) {
				t.Errorf("stderr:\n%s\nwant it to start with:\n%s", r.stderr, want)
			}
			if after, _ := os.ReadFile(tc.out); !bytes.Equal(before, after) {
				t.Errorf("%s was written", tc.out)
			}
			if n := c.requests(); n != 0 {
				t.Errorf("%d requests before the refusal", n)
			}
		})
	}

	t.Run("apply's audit log on the hidden file a link of its -f directory leads to", func(t *testing.T) {
		real := filepath.Join(linked, ".real.yaml")
		r := c.run("apply", "-f", linked, "--yes", "--audit-log", real)
		wantCode(t, r, exitUsage)
		if want := "tokensync: --audit-log " + real + ": the command also reads it (" + linked + ")"; !strings.HasPrefix(r.stderr, want) {
			t.Errorf("stderr:\n%s\nwant it to start with:\n%s", r.stderr, want)
		}
		if data, _ := os.ReadFile(real); string(data) != mainSpec {
			t.Errorf("the spec was written:\n%s", data)
		}
	})

	t.Run("a hidden file of its -f directory, which it does not read", func(t *testing.T) {
		hidden := filepath.Join(dir, ".plan.yaml")
		wantCode(t, c.run("plan", "-f", dir, "--out", hidden), exitOK)
		if _, err := os.Stat(hidden); err != nil {
			t.Errorf("the plan was not saved: %v", err)
		}
		if err := os.Remove(hidden); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("no temporary file left beside", func(t *testing.T) {
		for _, cmd := range [][]string{{"plan", "-f", f}, {"report"}} {
			out := filepath.Join(c.dir, "fresh-"+cmd[0]+".out")
			wantCode(t, c.run(append(cmd, "--out", out)...), exitOK)
			if left, _ := filepath.Glob(filepath.Join(c.dir, ".fresh-*")); len(left) != 0 {
				t.Errorf("%v: left behind %v", cmd[0], left)
			}
		}
	})

	t.Run("a directory this user may not write", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root may write any directory")
		}
		ro := filepath.Join(c.dir, "read-only")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		c.srv.ResetStats()
		r := c.run("plan", "-f", f, "--out", filepath.Join(ro, "p.json"))
		wantCode(t, r, exitUsage)
		if n := c.requests(); n != 0 {
			t.Errorf("%d requests before the refusal", n)
		}
	})

	t.Run("a file this user may not write", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root may write any file")
		}
		ro := c.write("read-only.json", "old")
		if err := os.Chmod(ro, 0o444); err != nil {
			t.Fatal(err)
		}
		r := c.run("plan", "-f", f, "--out", ro)
		wantCode(t, r, exitUsage)
		if !strings.Contains(r.stderr, "this user may not write it") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
}

// TestOutputsAreNotInputs: what a command reads is not written: --out
// over the file standard input reads the spec from (-f -), and apply's
// --audit-log (appended to) over the spec, the saved plan or the emulated
// state, are refused (exit 64) before contact, the file unchanged.
func TestOutputsAreNotInputs(t *testing.T) {
	c := newCLI(t, testState)
	spec := c.write("tokens.yaml", mainSpec)
	in, err := os.Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"plan", "--api-url", c.baseURL, "--organization", "org1", "-f", "-", "--out", spec},
		Streams{In: in, Out: &out, Err: &errb, Getenv: func(k string) string { return c.env[k] }})
	if code != exitUsage || !strings.Contains(errb.String(), "the command also reads it (standard input)") {
		t.Errorf("plan -f - --out SPEC < SPEC: exit %d\n%s", code, errb.String())
	}

	// A saved JSON report may be replaced by a JSON report, not by HTML.
	saved := filepath.Join(c.dir, "report.json")
	wantCode(t, c.run("report", "-o", "json", "--out", saved), exitOK)
	wantCode(t, c.run("report", "--from", saved, "-o", "json", "--out", saved), exitOK)
	if r := c.run("report", "--from", saved, "-o", "html", "--out", saved); r.code != exitUsage || !strings.Contains(r.stderr, "the command also reads it") {
		t.Errorf("report --from R -o html --out R: exit %d\n%s", r.code, r.stderr)
	}

	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", spec, "--out", planFile), exitOK)
	state := c.write("state.yaml", testState)
	for _, tc := range []struct {
		name string
		args []string
		log  string
	}{
		{"the spec", []string{"apply", "-f", spec, "--yes"}, spec},
		{"the saved plan", []string{"apply", planFile, "--yes"}, planFile},
		{"the emulated state", []string{"apply", "-f", spec, "--yes", "--emulate", state}, state},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.log)
			c.srv.ResetStats()
			r := c.run(append(tc.args, "--audit-log", tc.log)...)
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, "--audit-log "+tc.log+": the command also reads it") {
				t.Errorf("stderr:\n%s", r.stderr)
			}
			if after, _ := os.ReadFile(tc.log); !bytes.Equal(before, after) {
				t.Errorf("%s was written", tc.log)
			}
			if n := c.requests(); n != 0 {
				t.Errorf("%d requests", n)
			}
		})
	}
}

// TestUsageErrorsNameTheirVariable: a usage error about a flag that took
// its value from a TOKENSYNC_* variable, not from the command line, says
// so: a variable set for plan refuses report --from or a saved plan, and
// the message alone names only the flag.
func TestUsageErrorsNameTheirVariable(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	saved := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", saved), exitOK)
	from := filepath.Join(c.dir, "report.json")
	wantCode(t, c.run("report", "-o", "json", "--out", from), exitOK)
	for _, tc := range []struct {
		env, value string
		args       []string
		hint       string
	}{
		{"TOKENSYNC_FILE", f, []string{"report", "--from", from}, "hint: -f/--file was set by the environment variable TOKENSYNC_FILE, not on the command line"},
		{"TOKENSYNC_TARGET", "dep-a1", []string{"apply", saved, "--yes"}, "hint: --target was set by the environment variable TOKENSYNC_TARGET, not on the command line"},
		{"TOKENSYNC_PARALLELISM", "0", []string{"apply", "-f", f, "--yes"}, "hint: --parallelism was set by the environment variable TOKENSYNC_PARALLELISM, not on the command line"},
		{"TOKENSYNC_PARALLELISM", "0", []string{"apply", "-f", f, "--yes", "--parallelism", "0"}, ""},
		{"ASTRO_API_URL", "http://api.example.invalid/v1", []string{"plan", "-f", f}, "hint: --api-url was set by the environment variable ASTRO_API_URL, not on the command line"},
		// A flag a did-you-mean names was not given at all.
		{"TOKENSYNC_MAX_REMOVALS", "5", []string{"plan", "-f", f, "--max-removal", "3"}, ""},
		{"TOKENSYNC_MAX_RETRIES", "-1", []string{"plan", "-f", f}, "hint: --max-retries was set by the environment variable TOKENSYNC_MAX_RETRIES, not on the command line"},
	} {
		t.Setenv(tc.env, tc.value) // kong reads the process's variables
		var r result
		if tc.env == "ASTRO_API_URL" { // not given on the command line
			r = c.runRaw(append([]string{tc.args[0], "--organization", "org1"}, tc.args[1:]...)...)
		} else {
			r = c.run(tc.args...)
		}
		os.Unsetenv(tc.env)
		wantCode(t, r, exitUsage)
		if got := strings.Count(r.stderr, "hint: "); tc.hint == "" && got != 0 || tc.hint != "" && !strings.Contains(r.stderr, tc.hint) {
			t.Errorf("%v: want hint %q:\n%s", tc.args, tc.hint, r.stderr)
		}
	}
}

// TestUsageErrorsNameTheirCause: a bad --max-retries or credential is a
// usage error about it, not about --api-url, and never quotes the
// credential.
func TestUsageErrorsNameTheirCause(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	spaced := c.write("token", "a secret")
	if err := os.Chmod(spaced, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"plan", "-f", f, "--max-retries", "-1"}, "tokensync: plan: --max-retries must be 0 or more, not -1\n"},
		{map[string]string{"ASTRO_API_TOKEN": "a secret"}, []string{"plan", "-f", f}, "tokensync: ASTRO_API_TOKEN: the credential contains white space or control characters"},
		{nil, []string{"plan", "-f", f, "--token-file", spaced}, "tokensync: --token-file " + spaced + ": the credential contains white space or control characters"},
	} {
		for k, v := range tc.env {
			c.env[k] = v
		}
		r := c.run(tc.args...)
		c.env["ASTRO_API_TOKEN"] = secret
		wantCode(t, r, exitUsage)
		if !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "--api-url") || strings.Contains(r.stderr, "secret") {
			t.Errorf("%v: stderr lacks %q, or names --api-url or the credential:\n%s", tc.args, tc.want, r.stderr)
		}
	}
}

// TestEmulateWithAPIURLRefused: --emulate and an API URL given together
// (on the command line or by their variables) are refused, as the
// emulator would win without a word: a leftover TOKENSYNC_EMULATE made
// apply against a real API a silent no-op that said "Apply complete".
// TOKENSYNC_EMULATE alone works, with a warning.
func TestEmulateWithAPIURLRefused(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	state := c.write("state.yaml", testState)
	const refusal = "--emulate runs against an in-process emulator, and --api-url names an API: give one of them"
	for _, tc := range []struct {
		name      string
		env, val  string
		args      []string
		code      int
		wantInErr string
	}{
		{"both flags", "", "", []string{"apply", "-f", f, "--yes", "--emulate", state, "--api-url", c.baseURL}, exitUsage, refusal},
		{"TOKENSYNC_EMULATE and --api-url", "TOKENSYNC_EMULATE", state, []string{"apply", "-f", f, "--yes", "--api-url", c.baseURL}, exitUsage, "hint: --emulate was set by the environment variable TOKENSYNC_EMULATE"},
		{"ASTRO_API_URL and --emulate", "ASTRO_API_URL", c.baseURL, []string{"plan", "-f", f, "--emulate", state}, exitUsage, "hint: --api-url was set by the environment variable ASTRO_API_URL"},
		{"TOKENSYNC_EMULATE alone", "TOKENSYNC_EMULATE", state, []string{"plan", "-f", f}, exitOK, "warning: TOKENSYNC_EMULATE is set: this runs against an in-process emulator seeded from " + state + ", not the Astro API"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(tc.env, tc.val) // kong reads the process's variables
			}
			c.srv.ResetStats()
			r := c.runRaw(tc.args...)
			wantCode(t, r, tc.code)
			if !strings.Contains(r.stderr, tc.wantInErr) || tc.code == exitUsage && !strings.Contains(r.stderr, refusal) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantInErr, r.stderr)
			}
			if n := c.posts(); n != 0 {
				t.Errorf("%d writes", n)
			}
		})
	}
}

// TestProtectFlagAddsToItsVariable: --protect on the command line adds to
// TOKENSYNC_PROTECT, which kong alone would drop: a protection a CI job
// sets holds however a run names others.
func TestProtectFlagAddsToItsVariable(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	args := []string{"plan", "-f", "../../examples/tokens.yaml", "--emulate", "../../examples/org.yaml", "--no-color"}
	for _, tt := range []struct {
		env  string
		args []string
		code int
	}{
		{"", nil, exitOK},
		{"old-bot", nil, exitRefused},
		{"old-bot", []string{"--protect", "nothing-here"}, exitRefused},
		{"nothing-here", []string{"--protect", "old-bot"}, exitRefused},
		{"[", []string{"--protect", "nothing-here"}, exitUsage},
		{"nothing-here, old-bot", nil, exitRefused},
		{"", []string{"--protect", "nothing-here, old-bot "}, exitRefused},
		{"", []string{"--protect", " "}, exitUsage},
		{"nothing-here, ", []string{"--protect", "nothing-here"}, exitUsage},
		// A trailing comma adds no glob, as kong splits a list, whichever way.
		{"old-bot,", nil, exitRefused},
		{"old-bot,", []string{"--protect", "nothing-here"}, exitRefused},
		{",old-bot", nil, exitUsage},
		{",old-bot", []string{"--protect", "nothing-here"}, exitUsage},
	} {
		t.Setenv("TOKENSYNC_PROTECT", tt.env) // kong reads the process's variables
		c.env["TOKENSYNC_PROTECT"] = tt.env
		r := c.runRaw(append(slices.Clone(args), tt.args...)...)
		if r.code != tt.code {
			t.Errorf("TOKENSYNC_PROTECT=%q %v: exit %d, want %d\n%s", tt.env, tt.args, r.code, tt.code, r.stderr)
		}
	}
}
