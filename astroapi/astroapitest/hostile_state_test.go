package astroapitest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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

// TestParseStateManyErrorsLinear: a state written with a misspelt key in
// every token role (a structural error each, and a semantic one each as
// the role then lacks its deployment) is refused with every error in
// memory linear in its size. Matching each semantic problem against every
// structural error took 39 s for a 5 MB state of 30,000 such roles.
func TestParseStateManyErrorsLinear(t *testing.T) {
	const n = 4000
	var b strings.Builder
	b.WriteString("organization: {id: org1, name: O}\nworkspaces: [{id: ws-a, name: a}]\n")
	b.WriteString("deployments: [{id: dep-a1, name: d, workspaceId: ws-a}]\ntokens:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: tok-%d, name: t%d, scope: WORKSPACE, roles: [{entityType: DAG, deploymentid: dep-a1, entityId: d, role: DAG_VIEWER}]}\n", i, i)
	}
	data := []byte(b.String())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ParseState("s.yaml", data)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("ParseState accepted roles with a misspelt key")
	}
	msgs := strings.Split(err.Error(), "\n")
	if len(msgs) < n || !strings.Contains(msgs[0], `unknown key "deploymentid"`) {
		t.Errorf("got %d errors, the first %q; want at least %d, each of the misspelt key", len(msgs), msgs[0], n)
	}
	if got, budget := after.TotalAlloc-before.TotalAlloc, 64<<20+300*uint64(len(data)); got > budget {
		t.Errorf("allocated %d bytes for %d bytes of state (budget %d)", got, len(data), budget)
	}
}

// TestParseStateRestrictedRoleMessageIsShort: a grant of a custom role
// outside the workspaces it is restricted to names ten of them and counts
// the rest. Every id in every message made 8,000 such grants 641 MB of
// errors.
func TestParseStateRestrictedRoleMessageIsShort(t *testing.T) {
	const n = 25
	var b strings.Builder
	b.WriteString("organization: {id: org1, name: O}\nworkspaces:\n  - {id: ws-a, name: a}\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: ws-%02d, name: w%02d}\n", i, i)
	}
	b.WriteString("deployments: [{id: dep-a1, name: d, workspaceId: ws-a}]\nroles:\n  - {id: r1, name: R, scopeType: DEPLOYMENT, restrictedWorkspaceIds: [")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "ws-%02d", i)
	}
	b.WriteString("]}\ntokens:\n  - {id: t1, name: t, scope: WORKSPACE, roles: [{entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}, {entityType: DEPLOYMENT, entityId: dep-a1, role: R}]}\n")
	_, err := ParseState("s.yaml", []byte(b.String()))
	want := `custom role "R" is restricted to workspaces ws-00, ws-01, ws-02, ws-03, ws-04, ws-05, ws-06, ws-07, ws-08, ws-09 and 15 more and cannot be granted in workspace "ws-a"`
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("ParseState: %v, want an error ending %q", err, want)
	}
}
