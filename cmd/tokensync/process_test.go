package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// beMain makes the test binary act as tokensync, so tests can run it as a
// real process (signals, shell command lines) without building it.
const beMain = "TOKENSYNC_TEST_BE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(beMain) == "1" {
		main()
		return
	}
	code := m.Run()
	removeBuilds()
	os.Exit(code)
}

// binDir returns a directory holding a `tokensync` executable that runs this
// test binary as tokensync; put it first on PATH.
func binDir(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := "#!/bin/sh\n" + beMain + "=1 exec '" + self + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "tokensync"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// processEnv is a clean environment for a tokensync process: PATH with the
// test's tokensync first, and the given variables.
func processEnv(bin string, vars map[string]string) []string {
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// exitCode returns the exit code of a finished command.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("run: %v", err)
	return -1
}
