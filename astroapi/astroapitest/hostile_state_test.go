package astroapitest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// aliasBomb is a state holding one anchored token with roles roles,
// followed by aliases aliases of it: parsed by following the aliases, it
// stands for roles×aliases role entries.
func aliasBomb(roles, aliases int) []byte {
	var b strings.Builder
	b.WriteString("organization: {id: org1, name: O}\nworkspaces: [{id: ws-a, name: a}]\n")
	b.WriteString("deployments: [{id: dep-a1, name: d, workspaceId: ws-a}]\ntokens:\n")
	b.WriteString("  - &t\n    id: tok-1\n    name: t\n    scope: WORKSPACE\n    roles:\n")
	for range roles {
		b.WriteString("      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}\n")
	}
	for range aliases {
		b.WriteString("  - *t\n")
	}
	return []byte(b.String())
}

// TestParseStateRefusesAnchors: anchors and aliases are refused, at the
// first of them, before any alias is followed, as in spec files.
func TestParseStateRefusesAnchors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml []byte
		want string
	}{
		{"alias bomb", aliasBomb(200, 2000), "s.yaml:5:5: anchors and aliases are not supported (2000 more in this file)"},
		{"one anchor", []byte("organization: &o {id: org1, name: O}\n"), "s.yaml:1:15: anchors and aliases are not supported"},
		{"merge key", []byte("organization: &o {id: org1, name: O}\nworkspaces:\n  - <<: *o\n"), "s.yaml:1:15: anchors and aliases are not supported (1 more in this file)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := ParseState("s.yaml", tc.yaml)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("ParseState = %v, %v; want %q", st != nil, err, tc.want)
			}
		})
	}
}

// TestLoadStateRefusesSpecialAndLargeFiles: a state that is not a regular
// file, or is over MaxStateSize, is refused without being read (a named
// pipe nobody writes to would block the open, /dev/zero would be read
// until memory runs out).
func TestLoadStateRefusesSpecialAndLargeFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxStateSize+1); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/zero": "not a regular file (a device)",
		fifo:        "not a regular file (a named pipe)",
		big:         fmt.Sprintf("%d bytes, larger than the 64 MiB cap", MaxStateSize+1),
	} {
		_, err := LoadState(path)
		if err == nil || err.Error() != "load emulator state "+path+": "+want {
			t.Errorf("LoadState(%s) = %v, want %q", path, err, want)
		}
	}
}
