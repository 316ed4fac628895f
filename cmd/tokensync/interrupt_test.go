package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// interruptState has six workspace tokens; interruptSpec gives each a role
// on dep-a1, so apply writes six tokens, in the order of their names.
const interruptState = `
organization: {id: org1, name: Test Org}
workspaces: [{id: ws-a, name: alpha}]
deployments: [{id: dep-a1, name: a-prod, workspaceId: ws-a}, {id: dep-a2, name: a-staging, workspaceId: ws-a}]
tokens:
  - {id: tok-1, name: bot-1, scope: WORKSPACE, roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}, {entityType: DEPLOYMENT, entityId: dep-a2, role: DEPLOYMENT_ADMIN}]}
  - {id: tok-2, name: bot-2, scope: WORKSPACE, roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
  - {id: tok-3, name: bot-3, scope: WORKSPACE, roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
  - {id: tok-4, name: bot-4, scope: WORKSPACE, roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
  - {id: tok-5, name: bot-5, scope: WORKSPACE, roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
  - {id: tok-6, name: bot-6, scope: WORKSPACE, roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}]}
`

const interruptSpec = `version: 1
deployments:
  - id: dep-a1
    workspaceTokens:
      - {id: tok-1, role: DEPLOYMENT_ADMIN}
      - {id: tok-2, role: DEPLOYMENT_ADMIN}
      - {id: tok-3, role: DEPLOYMENT_ADMIN}
      - {id: tok-4, role: DEPLOYMENT_ADMIN}
      - {id: tok-5, role: DEPLOYMENT_ADMIN}
      - {id: tok-6, role: DEPLOYMENT_ADMIN}
`

// gate blocks the first n requests it is asked about until released, and
// reports each as it arrives.
type gate struct {
	mu      gosync.Mutex
	n       int
	arrived chan string   // the token id of each blocked request
	release chan struct{} // closed by open, to let them all go
	once    gosync.Once
}

// open lets every blocked request go, once.
func (g *gate) open() {
	if g != nil {
		g.once.Do(func() { close(g.release) })
	}
}

func newGate(n int) *gate {
	return &gate{n: n, arrived: make(chan string, n), release: make(chan struct{})}
}

// wait blocks the caller if it is one of the first n.
func (g *gate) wait(id string) {
	g.mu.Lock()
	block := g.n > 0
	g.n--
	g.mu.Unlock()
	if block {
		g.arrived <- id
		<-g.release
	}
}

// process is a tokensync process whose stderr is read line by line.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     gosync.Mutex
	stderr strings.Builder
	stdout strings.Builder
	lines  chan string // every stderr line, as it comes
	done   chan struct{}
}

// startProcess starts `tokensync args…` as a real process (this test
// binary, run as tokensync) against baseURL.
func startProcess(t *testing.T, baseURL string, args ...string) *process {
	t.Helper()
	return startProcessIn(t, nil, baseURL, args...)
}

// startProcessIn is startProcess with stdin as the process's standard
// input (nil for none).
func startProcessIn(t *testing.T, stdin io.Reader, baseURL string, args ...string) *process {
	t.Helper()
	bin := binDir(t)
	full := append([]string{args[0], "--api-url", baseURL, "--organization", "org1"}, args[1:]...)
	cmd := exec.Command(filepath.Join(bin, "tokensync"), full...)
	cmd.Env = processEnv(bin, map[string]string{"ASTRO_API_TOKEN": secret})
	cmd.Stdin = stdin
	p := &process{t: t, cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	var wg gosync.WaitGroup
	wg.Go(func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			p.lines <- sc.Text()
		}
	})
	wg.Go(func() {
		b, _ := io.ReadAll(outPipe)
		p.mu.Lock()
		p.stdout.Write(b)
		p.mu.Unlock()
	})
	go func() {
		wg.Wait()
		close(p.lines)
		close(p.done)
	}()
	return p
}

// waitLine waits for a stderr line containing s.
func (p *process) waitLine(s string) {
	p.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("the process ended without printing %q:\n%s", s, p.errText())
			}
			if strings.Contains(l, s) {
				return
			}
		case <-deadline:
			p.t.Fatalf("no line %q within 30s:\n%s", s, p.errText())
		}
	}
}

func (p *process) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// wait waits for the process to end and returns its result.
func (p *process) wait() (result, *exec.ExitError) {
	p.t.Helper()
	go func() {
		for range p.lines {
		}
	}()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("the process did not end:\n%s", p.errText())
	}
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if err != nil {
		var ok bool
		if ee, ok = err.(*exec.ExitError); !ok {
			p.t.Fatal(err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := result{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: p.stderr.String()}
	if strings.Contains(r.stdout+r.stderr, secret) {
		p.t.Errorf("the process printed the credential")
	}
	return r, ee
}

// receive waits for n values from ch.
func receive(t *testing.T, ch <-chan string, n int) []string {
	t.Helper()
	var got []string
	for range n {
		select {
		case id := <-ch:
			got = append(got, id)
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d requests reached the emulator within 30s", len(got), n)
		}
	}
	slices.Sort(got)
	return got
}

// interruptEmulator serves interruptState; role writes and token reads go
// through the gates when set.
func interruptEmulator(t *testing.T, writes, reads *gate) (*astroapitest.Server, *writeLog, string) {
	t.Helper()
	st, err := astroapitest.ParseState("state.yaml", []byte(interruptState))
	if err != nil {
		t.Fatal(err)
	}
	log := &writeLog{}
	opts := astroapitest.Options{RateLimits: astroapitest.NoRateLimit, AfterRoleWrite: log.record}
	if writes != nil {
		opts.BeforeRoleWrite = writes.wait
	}
	srv := astroapitest.NewServer(st, opts)
	tokenRead := regexp.MustCompile(`^/v1/organizations/org1/tokens/([^/]+)$`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := tokenRead.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodGet && reads != nil {
			reads.wait(m[1])
		}
		srv.ServeHTTP(w, r)
	})
	ts := httptestServer(t, h)
	t.Cleanup(func() { writes.open(); reads.open() }) // before the server closes, even on failure
	return srv, log, ts + "/v1"
}

// converges re-runs apply in-process and checks that the plan is then
// empty.
func converges(t *testing.T, baseURL, spec string) {
	t.Helper()
	c := &cli{t: t, baseURL: baseURL, dir: t.TempDir(), env: map[string]string{"ASTRO_API_TOKEN": secret}}
	f := c.write("tokens.yaml", spec)
	wantCode(t, c.run("apply", "-f", f, "--yes", "--rate-scale=100"), exitOK)
	wantCode(t, c.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
}

const interruptedLine = "stopping: requests in flight finish, no new write starts; interrupt again to stop at once"

// TestInterruptDuringApply sends SIGINT, SIGTERM or SIGHUP (a closed
// terminal or SSH session) to a real tokensync process while two role writes are in flight (held by the emulator until
// the process says it was interrupted): both writes finish and succeed (the
// requests are not cancelled), no other token is read or written, the
// output names what was written and what was not started, and the exit
// code is 6. A re-run converges.
func TestInterruptDuringApply(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			writes := newGate(2)
			srv, log, baseURL := interruptEmulator(t, writes, nil)
			dir := t.TempDir()
			f := filepath.Join(dir, "tokens.yaml")
			writeTestFile(t, f, interruptSpec)
			p := startProcess(t, baseURL, "apply", "-f", f, "--yes", "--parallelism=2", "--no-color")
			if got := receive(t, writes.arrived, 2); !cmp.Equal(got, []string{"tok-1", "tok-2"}) {
				t.Fatalf("writes in flight: %v", got)
			}
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			p.waitLine(interruptedLine)
			writes.open()
			r, _ := p.wait()

			wantCode(t, r, exitPartial)
			for _, want := range []string{
				"Applying: 2/6 (33%)", // the last count; a plan of 6 has no line per principal
				"  not started: workspace token bot-3 [tok-3]\n  not started: workspace token bot-4 [tok-4]\n  not started: workspace token bot-5 [tok-5]\n  not started: workspace token bot-6 [tok-6]\n",
				"tokensync: interrupted: 2 principal(s) written, 4 not started; run apply again to finish\n",
			} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "failed") {
				t.Errorf("an interrupted write failed:\n%s", r.stderr)
			}
			if !strings.Contains(r.stdout, "Apply incomplete: 2 added, 0 changed, 0 removed; 0 principal(s) failed, 4 not started.") {
				t.Errorf("stdout:\n%s", r.stdout)
			}
			st := srv.Stats()
			if diff := cmp.Diff(map[string]int{"tok-1": 1, "tok-2": 1}, st.RoleWrites); diff != "" {
				t.Errorf("role writes (-want +got):\n%s", diff)
			}
			if n := st.Requests["GET /organizations/{organizationId}/tokens/{tokenId}"]; n != 2 {
				t.Errorf("%d token reads, want 2: a token started after the signal", n)
			}
			if n := len(log.snapshot()); n != 2 {
				t.Errorf("%d tokens written", n)
			}
			converges(t, baseURL, interruptSpec)
		})
	}
}

// TestInterruptDuringTokenRead interrupts while apply reads the first token
// to write: the token is still read and written (a started token is never
// cut between its read and its write), nothing else starts.
func TestInterruptDuringTokenRead(t *testing.T) {
	reads := newGate(1)
	srv, _, baseURL := interruptEmulator(t, nil, reads)
	f := filepath.Join(t.TempDir(), "tokens.yaml")
	writeTestFile(t, f, interruptSpec)
	p := startProcess(t, baseURL, "apply", "-f", f, "--yes", "--parallelism=1", "--no-color")
	receive(t, reads.arrived, 1)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.waitLine(interruptedLine)
	reads.open()
	r, _ := p.wait()
	wantCode(t, r, exitPartial)
	if !strings.Contains(r.stderr, "Applying: 1/6 (16%)") || strings.Contains(r.stderr, "Applying: 2/6") ||
		!strings.Contains(r.stderr, "tokensync: interrupted: 1 principal(s) written, 5 not started; run apply again to finish\n") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if diff := cmp.Diff(map[string]int{"tok-1": 1}, srv.Stats().RoleWrites); diff != "" {
		t.Errorf("role writes (-want +got):\n%s", diff)
	}
	converges(t, baseURL, interruptSpec)
}

// TestInterruptBeforeApply interrupts while the plan's reads are in flight:
// they are cancelled, nothing is written, exit 130 (128 + SIGINT).
func TestInterruptBeforeApply(t *testing.T) {
	st, err := astroapitest.ParseState("state.yaml", []byte(interruptState))
	if err != nil {
		t.Fatal(err)
	}
	srv := astroapitest.NewServer(st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
	lists := newGate(1)
	ts := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/organizations/org1/tokens" {
			lists.wait("list")
			if r.Context().Err() != nil {
				return // the client went away, as it should
			}
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(lists.open)
	f := filepath.Join(t.TempDir(), "tokens.yaml")
	writeTestFile(t, f, interruptSpec)
	p := startProcess(t, ts+"/v1", "apply", "-f", f, "--yes")
	receive(t, lists.arrived, 1)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.waitLine(interruptedLine)
	r, _ := p.wait() // the list request is cancelled: no need to release it
	lists.open()
	wantCode(t, r, 130)
	if !strings.Contains(r.stderr, "tokensync: read organization org1: GET /organizations/org1/tokens: interrupt signal received\n") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if n := len(srv.Stats().RoleWrites); n != 0 {
		t.Errorf("%d tokens written", n)
	}
}

// TestInterruptDuringVerification interrupts apply while it reads the
// organization to verify, after every write: the read is cancelled, the
// writes stand, and the exit code is 130 (128 + SIGINT), not 0: the result
// was not verified.
func TestInterruptDuringVerification(t *testing.T) {
	st, err := astroapitest.ParseState("state.yaml", []byte(interruptState))
	if err != nil {
		t.Fatal(err)
	}
	srv := astroapitest.NewServer(st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
	verification := newGate(1)
	var mu gosync.Mutex
	lists := 0
	ts := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/organizations/org1/tokens" {
			mu.Lock()
			lists++
			n := lists
			mu.Unlock()
			if n > 1 { // the plan lists once; the next list is the verification's
				verification.wait("list")
				if r.Context().Err() != nil {
					return
				}
			}
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(verification.open)
	f := filepath.Join(t.TempDir(), "tokens.yaml")
	writeTestFile(t, f, interruptSpec)
	p := startProcess(t, ts+"/v1", "apply", "-f", f, "--yes", "--no-color")
	receive(t, verification.arrived, 1)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.waitLine(interruptedLine)
	r, _ := p.wait()
	verification.open()
	wantCode(t, r, 130)
	if !strings.Contains(r.stdout, "Apply complete: 6 added, 0 changed, 0 removed.") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.HasSuffix(r.stderr, "tokensync: interrupted: every write was done, but the result was not verified; run plan to check\n") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "Verified: converged.") {
		t.Errorf("an unverified apply says it converged:\n%s", r.stderr)
	}
	if n := len(srv.Stats().RoleWrites); n != 6 {
		t.Errorf("%d tokens written, want 6", n)
	}
}

// TestSecondInterruptStopsAtOnce: a second signal while a write is held
// ends the process at once; the held write still lands (the server has
// it), and a re-run converges.
func TestSecondInterruptStopsAtOnce(t *testing.T) {
	writes := newGate(1)
	_, log, baseURL := interruptEmulator(t, writes, nil)
	f := filepath.Join(t.TempDir(), "tokens.yaml")
	writeTestFile(t, f, interruptSpec)
	p := startProcess(t, baseURL, "apply", "-f", f, "--yes", "--parallelism=1")
	receive(t, writes.arrived, 1)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.waitLine(interruptedLine)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r, ee := p.wait()
	if ee == nil || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Fatalf("the process was not ended by the second SIGINT: exit %d\n%s", r.code, r.stderr)
	}
	writes.open()
	landed(t, log, "tok-1")
	converges(t, baseURL, interruptSpec)
}

// TestKilledDuringApply: SIGKILL while a write is held leaves no state
// behind but the API's; the held write lands, and a re-run converges
// without writing that token again.
func TestKilledDuringApply(t *testing.T) {
	writes := newGate(1)
	srv, log, baseURL := interruptEmulator(t, writes, nil)
	f := filepath.Join(t.TempDir(), "tokens.yaml")
	writeTestFile(t, f, interruptSpec)
	p := startProcess(t, baseURL, "apply", "-f", f, "--yes", "--parallelism=1")
	receive(t, writes.arrived, 1)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, ee := p.wait()
	if ee == nil || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("not killed: %v", ee)
	}
	writes.open()
	landed(t, log, "tok-1")
	srv.ResetStats()
	converges(t, baseURL, interruptSpec)
	// The re-run did not write tok-1 again: the killed run's write held.
	if diff := cmp.Diff(map[string]int{"tok-2": 1, "tok-3": 1, "tok-4": 1, "tok-5": 1, "tok-6": 1}, srv.Stats().RoleWrites); diff != "" {
		t.Errorf("writes of the re-run (-want +got):\n%s", diff)
	}
}

// httptestServer serves h on loopback until the test ends and returns its
// URL.
func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// landed waits until the write log holds a write of id.
func landed(t *testing.T, log *writeLog, id string) {
	t.Helper()
	select {
	case <-log.wrote(id):
	case <-time.After(30 * time.Second):
		t.Fatalf("the held write of %s did not land", id)
	}
}
