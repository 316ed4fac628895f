package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEmulatorRefusesNonLoopbackListen checks that the emulator refuses to
// listen on an address other machines may reach unless --allow-remote is
// given, and warns when it is. No test listens beyond loopback: the names
// under .invalid never resolve.
func TestEmulatorRefusesNonLoopbackListen(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"every interface", []string{"--listen", "0.0.0.0:0"}, exitUsage,
			`--listen "0.0.0.0:0" is not a loopback address: the emulator has no real authentication and serves its state to anyone; add --allow-remote to listen there anyway`},
		{"empty host", []string{"--listen", ":0"}, exitUsage, "is not a loopback address"},
		{"a host name", []string{"--listen", "emulator.invalid:0"}, exitUsage, "is not a loopback address"},
		{"IPv6 every interface", []string{"--listen", "[::]:0"}, exitUsage, "is not a loopback address"},
		{"no port", []string{"--listen", "127.0.0.1"}, exitUsage, `--listen "127.0.0.1": address 127.0.0.1: missing port in address`},
		{"allowed, with a warning", []string{"--listen", "emulator.invalid:0", "--allow-remote"}, 1,
			"warning: the emulator listens on emulator.invalid:0, beyond this machine: anyone who reaches it can read and change the emulated state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cli{t: t, env: map[string]string{}}
			r := c.runRaw(append([]string{"emulator", "--state", "../../examples/org.yaml"}, tt.args...)...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and stderr containing %q", r.code, r.stderr, tt.wantCode, tt.wantStderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing (no base URL: nothing listens)", r.stdout)
			}
		})
	}
}

func TestNonLoopback(t *testing.T) {
	got := map[string]bool{}
	for _, addr := range []string{"127.0.0.1:8080", "127.3.4.5:1", "[::1]:0", "localhost:0", "LocalHost:0", "0.0.0.0:0", ":8080", "[::]:0", "10.0.0.1:80", "emulator.invalid:0"} {
		remote, err := nonLoopback(addr)
		if err != nil {
			t.Fatalf("nonLoopback(%q): %v", addr, err)
		}
		got[addr] = remote
	}
	want := map[string]bool{
		"127.0.0.1:8080": false, "127.3.4.5:1": false, "[::1]:0": false, "localhost:0": false, "LocalHost:0": false,
		"0.0.0.0:0": true, ":8080": true, "[::]:0": true, "10.0.0.1:80": true, "emulator.invalid:0": true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("nonLoopback (-want +got):\n%s", diff)
	}
}
