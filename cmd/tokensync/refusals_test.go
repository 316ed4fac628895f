package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// TestApplyForbiddenStopsAtFirstRefusal: with a credential that may read
// but not write, apply stops at the first 403 on a role write, starts no
// other token, says which permission is missing, and exits 1 (nothing was
// written), not 6.
func TestApplyForbiddenStopsAtFirstRefusal(t *testing.T) {
	c := newCLI(t, testState+"credentials: [{secret: "+secret+", readOnly: true}]\n")
	f := c.write("tokens.yaml", mainSpec)
	r := c.run("apply", "-f", f, "--yes", "--parallelism=1", "--no-color")
	wantCode(t, r, exitError)
	if n := c.posts(); n != 1 {
		t.Errorf("%d role writes tried, want 1: apply went on after the first 403", n)
	}
	want := "tokensync: the credential may not update role assignments: it needs Organization Owner (or Workspace Owner for workspace tokens); nothing was written\n"
	if !strings.HasSuffix(r.stderr, want) {
		t.Errorf("stderr does not end with %q:\n%s", want, r.stderr)
	}
	if !strings.Contains(r.stderr, "not started:") {
		t.Errorf("the tokens not started are not listed:\n%s", r.stderr)
	}
}

// TestDryRunOfSavedPlanChecksStaleness: `apply PLAN.json --dry-run`
// refuses a stale plan like apply does (exit 5), and passes a current one;
// it writes nothing either way.
func TestDryRunOfSavedPlanChecksStaleness(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)

	r := c.run("apply", planFile, "--dry-run")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stderr, "Dry run: the plan is current; nothing was written.") {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	dropOldBotRoles(t, c.baseURL)
	c.srv.ResetStats()
	r = c.run("apply", planFile, "--dry-run")
	wantCode(t, r, exitStale)
	for _, want := range []string{"  changed since the plan: workspace token old-bot [tok-old]\n", "the plan is stale: 1 principal(s) changed since it was made; nothing was written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if c.posts() != 0 {
		t.Errorf("a dry run made %d POSTs", c.posts())
	}
}

// TestRefusedPlanIsNotSaved: a plan a guard refuses exits 4, says so on
// stderr with the guards' names, and --out does not save it, so it cannot
// be applied later by mistake.
func TestRefusedPlanIsNotSaved(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    prune: true\n    allowEmpty: true\n    workspaceTokens: []\n")
	planFile := filepath.Join(c.dir, "plan.json")
	r := c.run("plan", "-f", f, "--max-removals", "0", "--out", planFile)
	wantCode(t, r, exitRefused)
	if _, err := os.Stat(planFile); !os.IsNotExist(err) {
		t.Errorf("the refused plan was saved (stat: %v)", err)
	}
	if !strings.Contains(r.stderr, "tokensync: a guard refused the plan (max-removals); not saved to "+planFile+"\n") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	// With the plan on stdout as a document, stderr says it too.
	r = c.run("plan", "-f", f, "--max-removals", "0", "-o", "json")
	wantCode(t, r, exitRefused)
	if r.stderr != "tokensync: a guard refused the plan (max-removals); apply would write nothing\n" {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestSavedPlanFileErrors: a missing or unreadable plan file is a usage
// error (64), a file that is not a tokensync plan is invalid input (3);
// neither is called stale (5), and nothing is contacted.
func TestSavedPlanFileErrors(t *testing.T) {
	c := newCLI(t, testState)
	tests := []struct {
		name string
		path string
		code int
		want string
	}{
		{"missing", filepath.Join(c.dir, "nope.json"), exitUsage, "nope.json"},
		{"directory", c.dir, exitUsage, c.dir},
		{"not JSON", c.write("garbage.json", "this is not json"), exitInvalid, "garbage.json is not a tokensync plan"},
		{"empty", c.write("empty.json", ""), exitInvalid, "empty.json is not a tokensync plan"},
		{"other JSON", c.write("other.json", `{"hello": "world"}`), exitInvalid, "other.json is not a tokensync plan"},
		{"spec instead of plan", c.write("tokens.yaml", mainSpec), exitInvalid, "tokens.yaml is not a tokensync plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.srv.ResetStats()
			r := c.run("apply", tt.path, "--yes")
			wantCode(t, r, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if n := c.requests(); n != 0 {
				t.Errorf("%d API requests", n)
			}
		})
	}
}

// TestFlagValuesChecked: out-of-range flag values (from flags or
// TOKENSYNC_* variables) are usage errors, exit 64, naming the flag;
// never a panic, a hang or a request.
func TestFlagValuesChecked(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	state := c.write("state.yaml", testState)
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"apply", "-f", f, "--yes", "--parallelism=0"}, want: "--parallelism must be at least 1, not 0"},
		{args: []string{"apply", "-f", f, "--yes", "--parallelism=-2"}, want: "--parallelism must be at least 1, not -2"},
		{args: []string{"apply", "-f", f, "--yes"}, env: map[string]string{"TOKENSYNC_PARALLELISM": "0"}, want: "--parallelism must be at least 1"},
		{args: []string{"report", "--parallelism=0"}, want: "--parallelism must be at least 1, not 0"},
		{args: []string{"plan", "-f", f, "--timeout=0s"}, want: "--timeout must be above 0, not 0s"},
		{args: []string{"plan", "-f", f, "--timeout=-5s"}, want: "--timeout must be above 0, not -5s"},
		{args: []string{"plan", "-f", f, "--max-removals", "-2"}, want: "--max-removals must be -1 (no limit) or more, not -2"},
		{args: []string{"apply", "-f", f, "--yes", "--max-removals", "-100"}, want: "--max-removals must be -1 (no limit) or more, not -100"},
		{args: []string{"emulator", "--state", state, "--listen", "127.0.0.1:0", "--fault-rate", "NaN"}, want: "--fault-rate must be between 0 and 1, not NaN"},
		{args: []string{"emulator", "--state", state, "--listen", "127.0.0.1:0", "--fault-rate", "1.5"}, want: "--fault-rate must be between 0 and 1, not 1.5"},
		{args: []string{"emulator", "--state", state, "--listen", "127.0.0.1:0", "--fault-rate", "-0.1"}, want: "--fault-rate must be between 0 and 1, not -0.1"},
		{args: []string{"emulator", "--state", state, "--listen", "127.0.0.1:0", "--latency", "-1ms"}, want: "--latency must be 0 or more, not -1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c.srv.ResetStats()
			done := make(chan result, 1)
			go func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("panic: %v", p)
						done <- result{code: -1}
					}
				}()
				if tt.args[0] == "emulator" {
					done <- c.runRaw(tt.args...)
				} else {
					done <- c.run(tt.args...)
				}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("tokensync did not return within 30s")
			}
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if n := c.requests(); n != 0 {
				t.Errorf("%d API requests", n)
			}
		})
	}
}

// TestApplyWithoutTerminalContactsNothing: apply without --yes and without
// a terminal refuses before any request reaches the API.
func TestApplyWithoutTerminalContactsNothing(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", f, "--out", planFile), exitOK)
	for _, args := range [][]string{{"apply", "-f", f}, {"apply", planFile}} {
		c.srv.ResetStats()
		r := c.run(args...)
		wantCode(t, r, exitUsage)
		if !strings.Contains(r.stderr, "apply needs --yes when not run from a terminal") {
			t.Errorf("%v: stderr:\n%s", args, r.stderr)
		}
		if diff := cmp.Diff(map[string]int{}, c.srv.Stats().Requests); diff != "" {
			t.Errorf("%v: requests (-want +got):\n%s", args, diff)
		}
	}
}

// promptWatcher is a stderr that tells when the apply prompt was written.
type promptWatcher struct {
	mu     gosync.Mutex
	buf    bytes.Buffer
	prompt chan struct{}
	once   gosync.Once
}

func (w *promptWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), "Only 'yes' will be accepted") {
		w.once.Do(func() { close(w.prompt) })
	}
	return n, err
}

func (w *promptWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestInterruptAtPromptCancels: Ctrl-C while apply waits for the answer on
// a terminal cancels at once (the terminal never answers here), writes
// nothing, and exits 130.
func TestInterruptAtPromptCancels(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	stdin, never := io.Pipe()
	defer never.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stderr := &promptWatcher{prompt: make(chan struct{})}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"apply", "-f", f, "--api-url", c.baseURL, "--organization", "org1"}, Streams{
			In: stdin, Out: io.Discard, Err: stderr, InTTY: true,
			Getenv: func(k string) string { return c.env[k] },
		})
	}()
	select {
	case <-stderr.prompt:
	case code := <-done:
		t.Fatalf("exit %d before the prompt:\n%s", code, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("no prompt within 30s:\n%s", stderr)
	}
	cancel(interrupted{syscall.SIGINT})
	select {
	case code := <-done:
		if code != 130 {
			t.Errorf("exit %d, want 130:\n%s", code, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still waiting for an answer 10s after the interrupt:\n%s", stderr)
	}
	if !strings.HasSuffix(stderr.String(), "tokensync: apply cancelled; nothing was written\n") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if c.posts() != 0 {
		t.Errorf("%d POSTs", c.posts())
	}
}

// dropOldBotRoles changes tok-old (old-bot) of testState as another writer
// would, leaving it only its workspace role.
func dropOldBotRoles(t *testing.T, baseURL string) {
	t.Helper()
	client, err := astroapi.New(baseURL, astroapi.WithCredential("other"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.SetTokenRoles(context.Background(), "org1", "tok-old", []astroapi.Role{
		{EntityType: "WORKSPACE", EntityID: "ws-a", Role: "WORKSPACE_MEMBER"},
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSavedPlanRefusesPlanShapingFlags: a saved plan is applied as it was
// made, so the flags that shape a plan as it is made, given on the command
// line or in the environment, are a usage error with it (exit 64) before
// the API is contacted, not silently ignored: --policy-mode, and --prune
// with a plan made without it. --prune with a plan made with it (as the
// Action passes it), and --prune=false, change nothing and are taken.
func TestSavedPlanRefusesPlanShapingFlags(t *testing.T) {
	c := newCLI(t, testState)
	planFile := filepath.Join(c.dir, "plan.json")
	wantCode(t, c.run("plan", "-f", c.write("tokens.yaml", mainSpec), "--out", planFile), exitOK)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"--prune", []string{"--prune"}, nil, "tokensync: --prune cannot widen a saved plan: " + planFile + " was planned without --prune; run plan --prune again; nothing was written\n"},
		{"TOKENSYNC_PRUNE", nil, map[string]string{"TOKENSYNC_PRUNE": "true"}, "--prune cannot widen a saved plan"},
		{"--policy-mode", []string{"--policy-mode", "warn"}, nil, "tokensync: --policy-mode decides on a plan's policies as it is made, and a saved plan records the verdict: give --policy-mode to the plan that made it; nothing was written\n"},
		{"TOKENSYNC_POLICY_MODE", nil, map[string]string{"TOKENSYNC_POLICY_MODE": "enforce"}, "--policy-mode decides"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v) // kong reads the flags' variables
				c.env[k] = v   // and tokensync whether one was given
			}
			defer func() {
				for k := range tc.env {
					delete(c.env, k)
				}
			}()
			c.srv.ResetStats()
			r := c.run(append([]string{"apply", planFile, "--yes"}, tc.args...)...)
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if n := c.requests(); n != 0 {
				t.Errorf("%d requests before the refusal", n)
			}
		})
	}
	wantCode(t, c.run("apply", planFile, "--yes", "--prune=false"), exitOK)

	pruned := filepath.Join(c.dir, "pruned.json")
	wantCode(t, c.run("plan", "-f", c.write("tokens.yaml", mainSpec), "--prune", "--out", pruned), exitOK)
	wantCode(t, c.run("apply", pruned, "--yes", "--prune"), exitOK)
}

// TestSpecFileGivenWithoutF: a spec file given where a flag's -f was
// forgotten gets a hint to give it with -f: as plan's argument, and as
// apply's saved plan (which it is not).
func TestSpecFileGivenWithoutF(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	r := c.run("plan", f)
	wantCode(t, r, exitUsage)
	if want := "hint: give a spec file with -f: -f " + f + "\n"; !strings.Contains(r.stderr, want) {
		t.Errorf("plan FILE: stderr lacks %q:\n%s", want, r.stderr)
	}
	r = c.run("apply", f, "--yes")
	wantCode(t, r, exitInvalid)
	if want := "(a spec file is given with -f: tokensync apply -f " + f + ")\n"; !strings.HasSuffix(r.stderr, want) {
		t.Errorf("apply FILE: stderr does not end with %q:\n%s", want, r.stderr)
	}
	if c.requests() != 0 {
		t.Errorf("%d requests", c.requests())
	}
}
