package main

import (
	"context"
	"io"
	"strings"
	gosync "sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// promptReader answers apply's confirmation prompt with "yes", after
// another writer's change: a change made while the user reads the plan.
type promptReader struct {
	once  gosync.Once
	other func()
	r     io.Reader
}

func (p *promptReader) Read(b []byte) (int, error) {
	p.once.Do(p.other)
	return p.r.Read(b)
}

// applyAtPrompt runs apply on a terminal and answers yes, after other ran.
func (e *concurrentEmulator) applyAtPrompt(spec string, other func()) result {
	e.t.Helper()
	var out, errb lockedBuffer
	code := run(context.Background(), []string{"apply", "--api-url", e.baseURL, "--organization", e.org(), "-f", spec, "--no-color"}, Streams{
		In:     &promptReader{other: other, r: strings.NewReader("yes\n")},
		InTTY:  true,
		Out:    &out,
		Err:    &errb,
		Getenv: func(k string) string { return e.env[k] },
	})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// specWinsSpec lists z on both managed deployments (the plan adds its role
// on managed-2) and a on managed-1, where it holds its role already.
const specWinsSpec = `version: 1
deployments:
  - id: dep-m1
    workspaceTokens:
      - {id: tok-z, role: DEPLOYMENT_ADMIN}
      - {id: tok-a, role: VIEWER}
  - id: dep-m2
    workspaceTokens:
      - {id: tok-z, role: VIEWER}
`

// TestSpecWinsAfterAnotherWriter: another writer changes a managed
// assignment while apply waits at its prompt. On a token apply writes (for
// another deployment), the spec wins: apply converges and the next plan is
// empty. On a token apply does not write, verification finds it and apply
// exits 7; the next apply fixes it.
func TestSpecWinsAfterAnotherWriter(t *testing.T) {
	t.Run("on a token apply writes", func(t *testing.T) {
		e := newConcurrentEmulator(t)
		f := e.write("tokens.yaml", specWinsSpec)
		r := e.applyAtPrompt(f, func() { e.set("tok-z", wsMember(), onDep("dep-m1", "VIEWER"), onDep("dep-u", "VIEWER")) })
		wantCode(t, r, exitOK)
		if !strings.Contains(r.stderr, "Verified: converged.") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
		want := []astroapi.Role{wsMember(), onDep("dep-m1", "DEPLOYMENT_ADMIN"), onDep("dep-u", "VIEWER"), onDep("dep-m2", "VIEWER")}
		if diff := cmp.Diff(want, e.roles("tok-z")); diff != "" {
			t.Errorf("tok-z roles (-want +got):\n%s", diff)
		}
		wantCode(t, e.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
	})
	t.Run("on a token apply does not write", func(t *testing.T) {
		e := newConcurrentEmulator(t)
		f := e.write("tokens.yaml", specWinsSpec)
		r := e.applyAtPrompt(f, func() { e.set("tok-a", wsMember(), onDep("dep-m1", "DEPLOYMENT_ADMIN")) })
		wantCode(t, r, exitDrift)
		for _, want := range []string{
			"Verification: 1 managed assignment(s) are not as the spec says:\n",
			`  workspace token a-first [tok-a] on deployment managed-1: want "VIEWER", have "DEPLOYMENT_ADMIN"` + "\n",
			"tokensync: applied, but 1 managed assignment(s) are not as the spec says (changed by another writer?); run apply again\n",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "converged") {
			t.Errorf("stderr says converged:\n%s", r.stderr)
		}
		wantCode(t, e.run("plan", "-f", f, "--detailed-exitcode"), exitChanges)
		wantCode(t, e.run("apply", "-f", f, "--yes"), exitOK)
		wantCode(t, e.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
	})
}
