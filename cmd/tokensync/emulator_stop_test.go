package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestEmulatorStopMessageIsItsOwn stops a real emulator process with
// SIGINT and checks that it announces its own stop, not apply's.
func TestEmulatorStopMessageIsItsOwn(t *testing.T) {
	bin := binDir(t)
	cmd := exec.Command(bin+"/tokensync", "emulator", "--state", "../../examples/org.yaml", "--listen", "127.0.0.1:0")
	cmd.Env = processEnv(bin, nil)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatalf("read the base URL: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the emulator did not exit cleanly: %v\n%s", err, stderr.String())
	}
	got := stderr.String()
	if want := "tokensync: interrupt signal received: " + emulatorStopNotice + "\n"; !strings.Contains(got, want) {
		t.Errorf("stderr lacks %q:\n%s", want, got)
	}
	if strings.Contains(got, "write") {
		t.Errorf("the emulator's stop speaks of writes, as apply's does:\n%s", got)
	}
	if !strings.HasSuffix(got, "emulator stopped\n") {
		t.Errorf("stderr does not end with the emulator's stop:\n%s", got)
	}
}
