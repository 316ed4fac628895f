package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestErrorCountPastCap: a spec with more errors than are shown says the
// true number of them, on stderr and in the markdown of a failed plan.
func TestErrorCountPastCap(t *testing.T) {
	const n = 3000
	var b strings.Builder
	b.WriteString("version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - name: tok-%d\n", i)
	}
	c := newCLI(t, testState)
	path := c.write("many.yaml", b.String())

	r := c.run("validate", "--offline", "-f", path)
	wantCode(t, r, exitInvalid)
	for _, w := range []string{"too many errors; 2000 more not shown\n", fmt.Sprintf("tokensync: %d error(s) in the spec;", n)} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("validate: stderr lacks %q:\n%s", w, r.stderr[max(0, len(r.stderr)-500):])
		}
	}

	r = c.run("plan", "-f", path, "-o", "markdown")
	wantCode(t, r, exitInvalid)
	shown := strings.Count(r.stdout, "\n- "+path)
	if want := fmt.Sprintf("- ... and %d more\n", n-shown); !strings.Contains(r.stdout, want) {
		t.Errorf("markdown shows %d errors and lacks %q:\n%s", shown, want, r.stdout[max(0, len(r.stdout)-500):])
	}
	if strings.Contains(r.stdout, "too many errors") {
		t.Errorf("markdown lists the cap's note as an error:\n%s", r.stdout)
	}
}
