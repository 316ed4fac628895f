package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/internal/inputfile"
	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/spec"
)

// TestFileFlagsRefuseDevicesPipesAndOversizedFiles: every flag that names
// a file refuses a device (/dev/zero, which would otherwise be read until
// memory runs out), a named pipe nobody writes to (which would otherwise
// block the process) and a sparse file one byte over its cap, without
// reading them, with an error that names the flag, the file and the cap.
func TestFileFlagsRefuseDevicesPipesAndOversizedFiles(t *testing.T) {
	c := newCLI(t, testState)
	specFile := c.write("tokens.yaml", mainSpec)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flag string
		cap  int64
		code int
		args func(path string) []string
	}{
		{"--from", maxReportSize, exitUsage, func(p string) []string { return []string{"report", "--from", p} }},
		{"--since", maxReportSize, exitUsage, func(p string) []string { return []string{"report", "--since", p} }},
		{"--token-file", maxTokenFile, exitUsage, func(p string) []string { return []string{"plan", "-f", specFile, "--token-file", p} }},
		{"--emulate", astroapitest.MaxStateSize, exitUsage, func(p string) []string { return []string{"plan", "-f", specFile, "--emulate", p} }},
		{"--state", astroapitest.MaxStateSize, exitUsage, func(p string) []string {
			return []string{"emulator", "--state", p, "--listen", "127.0.0.1:0"}
		}},
		{"read plan", planfile.MaxSize, exitUsage, func(p string) []string { return []string{"apply", p, "--yes"} }},
		{"-f", spec.MaxFileSize, exitInvalid, func(p string) []string { return []string{"validate", "--offline", "-f", p} }},
	} {
		sparse := filepath.Join(dir, "sparse"+strings.ReplaceAll(tc.flag, " ", "-"))
		writeTestFile(t, sparse, "")
		if err := os.Truncate(sparse, tc.cap+1); err != nil {
			t.Fatal(err)
		}
		for _, file := range []struct{ path, want string }{
			{"/dev/zero", "not a regular file (a device)"},
			{fifo, "not a regular file (a named pipe)"},
			{sparse, fmt.Sprintf("%d bytes, larger than the %s cap", tc.cap+1, inputfile.Bytes(tc.cap))},
		} {
			t.Run(tc.flag+"/"+filepath.Base(file.path), func(t *testing.T) {
				want := tc.flag + " " + file.path + ": " + file.want
				if tc.flag == "-f" {
					want = file.path + ": cannot read: " + file.want + "; use - for standard input"
					if file.path == sparse {
						want = fmt.Sprintf("%s:1:1: file is %d bytes; the limit is %d", sparse, tc.cap+1, tc.cap)
					}
				}
				var r result
				if tc.flag == "--from" || tc.flag == "--state" || tc.flag == "--emulate" {
					r = c.runRaw(tc.args(file.path)...)
				} else {
					r = c.run(tc.args(file.path)...)
				}
				wantCode(t, r, tc.code)
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			})
		}
	}
}

// TestTokenFileCapKeepsTheCredentialOut: a token file over its cap is
// refused without its content showing anywhere.
func TestTokenFileCapKeepsTheCredentialOut(t *testing.T) {
	c := newCLI(t, testState)
	specFile := c.write("tokens.yaml", mainSpec)
	big := c.write("token", secret+strings.Repeat("\n", maxTokenFile))
	r := c.run("plan", "-f", specFile, "--token-file", big) // runRaw fails the test if the credential shows
	wantCode(t, r, exitUsage)
	if want := fmt.Sprintf("tokensync: --token-file %s: %d bytes, larger than the 64 KiB cap\n", big, len(secret)+maxTokenFile); r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	if c.requests() != 0 {
		t.Errorf("%d requests", c.requests())
	}
}

// TestStateFileAliasBombRefused: --emulate and emulator --state refuse a
// state file of one anchored token with 2,000 roles and then 20,000
// aliases of it, with the position of the anchor and the flag. (The
// issue's file, with 200,000 aliases, took plan past 4 GB; it is a tenth
// of its size here to keep the test quick under -race.)
func TestStateFileAliasBombRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("organization: {id: org1, name: O}\nworkspaces: [{id: ws-a, name: a}]\n")
	b.WriteString("deployments: [{id: dep-a1, name: d, workspaceId: ws-a}]\ntokens:\n")
	b.WriteString("  - &t\n    id: tok-1\n    name: t\n    scope: DEPLOYMENT\n    roles:\n")
	for range 2000 {
		b.WriteString("      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}\n")
	}
	b.WriteString(strings.Repeat("  - *t\n", 20000))
	c := newCLI(t, testState)
	bomb := c.write("bomb.yaml", b.String())
	specFile := c.write("tokens.yaml", "version: 1\ndeployments: []\n")
	for flag, args := range map[string][]string{
		"--emulate": {"plan", "-f", specFile, "--emulate", bomb},
		"--state":   {"emulator", "--state", bomb, "--listen", "127.0.0.1:0"},
	} {
		r := c.runRaw(args...)
		wantCode(t, r, exitInvalid)
		want := fmt.Sprintf("tokensync: %s: %s:5:5: anchors and aliases are not supported (20000 more in this file)\n", flag, bomb)
		if r.stderr != want {
			t.Errorf("%s: stderr = %q, want %q", flag, r.stderr, want)
		}
	}
}

// TestInterruptWhileReadingStdin: a signal while tokensync waits on a
// standard input nobody writes to (a pipe held open) ends the process with
// the signal's code, 130 or 143, without anything else written to the
// pipe. The test knows the process is reading, and so has its signal
// handler, when its write of more than a pipe holds returns.
func TestInterruptWhileReadingStdin(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			p := startProcessIn(t, r, "http://127.0.0.1:1/v1", "validate", "--offline", "-f", "-")
			r.Close()
			// A comment line of 64 KiB, four times: more than the pipe holds,
			// so the write returns only once the process has read from it.
			line := "#" + strings.Repeat("x", 64<<10-2) + "\n"
			if _, err := w.WriteString("version: 1\n" + strings.Repeat(line, 4)); err != nil {
				t.Fatalf("write to the process's stdin: %v\n%s", err, p.errText())
			}
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			p.waitLine(interruptedLine)
			res, _ := p.wait()
			wantCode(t, res, 128+int(sig))
			if want := "<stdin>: cannot read: " + sig.String() + " signal received\n"; !strings.Contains(res.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
			}
		})
	}
}

// TestUntilDoneReturnsWhenTheContextEnds: work that takes no context (the
// decoding of a large saved report, plan or state) does not hold up an
// interrupt: untilDone returns the cause while the work still runs.
func TestUntilDoneReturnsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	cause := interrupted{syscall.SIGTERM}
	go func() {
		<-started
		cancel(cause)
	}()
	_, err := untilDone(ctx, func() (int, error) {
		close(started)
		<-release // decoding, for as long as the test lasts
		return 1, nil
	})
	if err != cause {
		t.Fatalf("untilDone = %v, want %v", err, cause)
	}
	if v, err := untilDone(context.Background(), func() (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Fatalf("untilDone = %d, %v", v, err)
	}
}

// TestAuditLogNamedPipe: an --audit-log that is a named pipe no process
// reads is refused before anything is written (the open blocked forever,
// where no interrupt could end it); one that a process reads gets the
// lines.
func TestAuditLogNamedPipe(t *testing.T) {
	c := newCLI(t, testState)
	specFile := c.write("tokens.yaml", mainSpec)
	fifo := filepath.Join(t.TempDir(), "audit")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.run("apply", "-f", specFile, "--yes", "--audit-log", fifo)
	wantCode(t, r, exitUsage)
	if want := "tokensync: open the audit log " + fifo + ": a named pipe that no process reads; nothing was written\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	if c.posts() != 0 {
		t.Fatalf("%d role writes", c.posts())
	}

	reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	wantCode(t, c.run("apply", "-f", specFile, "--yes", "--audit-log", fifo), exitOK)
	lines, err := io.ReadAll(reader)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(lines), "\n"); n == 0 || c.posts() != n {
		t.Errorf("%d audit lines for %d role writes:\n%s", n, c.posts(), lines)
	}
}
