package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestEmulatorCommand serves examples/org.yaml from a real process, reads
// the base URL it prints, lists two tokens as curl would, and stops it with
// SIGINT and SIGTERM.
func TestEmulatorCommand(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, base := startEmulatorProcess(t)
			if status, env := listTokens(t, base, 2); status != 200 || len(env.Tokens) != 2 || env.TotalCount != 22 || env.Limit != 2 {
				t.Errorf("status %d, envelope %+v", status, env)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("the emulator did not exit cleanly on %v: %v", sig, err)
			}
		})
	}
}

// TestEmulatorMaxPageSize: --max-page-size caps a page below the limit a
// request asks for, so that paging can be tried; a negative one is a usage
// error.
func TestEmulatorMaxPageSize(t *testing.T) {
	cmd, base := startEmulatorProcess(t, "--max-page-size", "3")
	if status, env := listTokens(t, base, 10); status != 200 || len(env.Tokens) != 3 || env.TotalCount != 22 {
		t.Errorf("status %d, %d tokens of %d, want 3 of 22", status, len(env.Tokens), env.TotalCount)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	c := newCLI(t, testState)
	wantCode(t, c.runRaw("emulator", "--state", "../../examples/org.yaml", "--max-page-size", "-1"), exitUsage)
}

// startEmulatorProcess runs tokensync emulator on examples/org.yaml with args, on
// a free loopback port, and returns it and the base URL it prints; the
// test's end kills it.
func startEmulatorProcess(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	bin := binDir(t)
	cmd := exec.Command(bin+"/tokensync", append([]string{"emulator", "--state", "../../examples/org.yaml", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = processEnv(bin, nil)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("read the base URL: %v", err)
	}
	base := strings.TrimSpace(line)
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/v1") {
		t.Fatalf("base URL %q", base)
	}
	return cmd, base
}

// tokenPage is a page of the tokens list.
type tokenPage struct {
	Tokens     []map[string]any `json:"tokens"`
	TotalCount int              `json:"totalCount"`
	Offset     int              `json:"offset"`
	Limit      int              `json:"limit"`
}

// listTokens reads the first page of the tokens of examples/org.yaml, as
// curl would.
func listTokens(t *testing.T, base string, limit int) (int, tokenPage) {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/organizations/clx0org0000000000000000/tokens?limit=%d", base, limit), nil)
	req.Header.Set("Authorization", "Bearer x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page tokenPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, page
}
