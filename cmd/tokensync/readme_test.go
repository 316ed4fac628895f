package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadmeFirstCommand runs the newcomer's command of the README and
// checks the output the README shows is what it prints.
func TestReadmeFirstCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const command = "go run ./cmd/tokensync plan -f examples/tokens.yaml --emulate examples/org.yaml"
	text := string(readme)
	if !strings.Contains(text, command) {
		t.Fatalf("the README no longer shows %q", command)
	}
	_, after, ok := strings.Cut(text, "It prints (plain here; coloured on a terminal):\n\n```\n")
	if !ok {
		t.Fatal("the README shows no output of the first command")
	}
	shown, _, _ := strings.Cut(after, "```\n")

	t.Chdir("../..")
	c := &cli{t: t, env: map[string]string{}}
	r := c.runRaw(strings.Fields(command)[3:]...)
	wantCode(t, r, exitOK)
	if diff := cmp.Diff(shown, r.stdout); diff != "" {
		t.Errorf("README output (-want +got):\n%s", diff)
	}
}
