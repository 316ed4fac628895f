package main

import (
	"bufio"
	"encoding/json"
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
			bin := binDir(t)
			cmd := exec.Command(bin+"/tokensync", "emulator", "--state", "../../examples/org.yaml", "--listen", "127.0.0.1:0")
			cmd.Env = processEnv(bin, nil)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("read the base URL: %v", err)
			}
			base := strings.TrimSpace(line)
			if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/v1") {
				t.Fatalf("base URL %q", base)
			}
			req, _ := http.NewRequest("GET", base+"/organizations/clx0org0000000000000000/tokens?limit=2", nil)
			req.Header.Set("Authorization", "Bearer x")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Tokens     []map[string]any `json:"tokens"`
				TotalCount int              `json:"totalCount"`
				Offset     int              `json:"offset"`
				Limit      int              `json:"limit"`
			}
			err = json.NewDecoder(resp.Body).Decode(&env)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || len(env.Tokens) != 2 || env.TotalCount != 22 || env.Limit != 2 {
				t.Errorf("status %d, err %v, envelope %+v", resp.StatusCode, err, env)
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
