package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/render"
)

// applyOutcome is what a test reads from an apply result document that
// wrote nothing.
type applyOutcome struct {
	Complete, Refused bool
	NotStarted, Stale []string // subject ids
}

// unwrittenOutcome checks that stdout is one result document of apply -o
// json, valid against render/apply.schema.json, of an apply in org1 that
// wrote and verified nothing, and returns what it says.
func unwrittenOutcome(t *testing.T, r result) applyOutcome {
	t.Helper()
	validateSchema(t, "apply.schema.json", render.ApplySchema(), []byte(r.stdout))
	var d render.ApplyDocument
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("stdout is not the result document: %v\n%s", err, r.stdout)
	}
	if d.Organization != "org1" || d.Verification != nil || len(d.Writes) != 0 || len(d.Failed) != 0 {
		t.Errorf("not the document of an apply that wrote nothing in org1:\n%s", r.stdout)
	}
	ids := func(list []planfile.SubjectJSON) []string {
		out := []string{}
		for _, s := range list {
			out = append(out, s.ID)
		}
		return out
	}
	return applyOutcome{Complete: d.Complete, Refused: d.Refused, NotStarted: ids(d.NotStarted), Stale: ids(d.Stale)}
}

// TestApplyJSONWhenNothingIsWritten: apply -o json writes its result
// document on stdout also when it writes nothing (nothing to change, a
// guard refuses, a saved plan is stale or refused, a dry run, a declined
// prompt), with the exit code of that outcome unchanged; nothing written
// is nothing verified (verification null), and the subjects of the plan
// are not started (or stale).
func TestApplyJSONWhenNothingIsWritten(t *testing.T) {
	// The plan of mainSpec writes deployer, old-bot and ci (tok-ci-b);
	// sorted by name, then id.
	planned := []string{"tok-ci-b", "tok-deployer", "tok-old"}
	for _, tc := range []struct {
		name string
		run  func(c *cli) result
		code int
		want applyOutcome
	}{
		{
			name: "nothing to change",
			run: func(c *cli) result {
				wantCode(t, c.run("apply", "-f", c.write("tokens.yaml", mainSpec), "--yes"), exitOK)
				c.srv.ResetStats()
				return c.run("apply", "-f", c.write("tokens.yaml", mainSpec), "--yes", "-o", "json")
			},
			code: exitOK,
			want: applyOutcome{Complete: true, NotStarted: []string{}, Stale: []string{}},
		},
		{
			name: "a guard refuses",
			run: func(c *cli) result {
				return c.run("apply", "-f", c.write("tokens.yaml", mainSpec), "--yes", "-o", "json", "--max-removals", "0")
			},
			code: exitRefused,
			want: applyOutcome{Refused: true, NotStarted: planned, Stale: []string{}},
		},
		{
			name: "a stale saved plan",
			run: func(c *cli) result {
				planFile := filepath.Join(c.dir, "plan.json")
				wantCode(t, c.run("plan", "-f", c.write("tokens.yaml", mainSpec), "--out", planFile), exitOK)
				dropOldBotRoles(t, c.baseURL)
				c.srv.ResetStats()
				return c.run("apply", planFile, "--yes", "-o", "json")
			},
			code: exitStale,
			want: applyOutcome{NotStarted: []string{"tok-ci-b", "tok-deployer"}, Stale: []string{"tok-old"}},
		},
		{
			name: "a dry run",
			run: func(c *cli) result {
				return c.run("apply", "-f", c.write("tokens.yaml", mainSpec), "--dry-run", "-o", "json")
			},
			code: exitOK,
			want: applyOutcome{NotStarted: planned, Stale: []string{}},
		},
		{
			name: "a dry run of a saved plan",
			run: func(c *cli) result {
				planFile := filepath.Join(c.dir, "plan.json")
				wantCode(t, c.run("plan", "-f", c.write("tokens.yaml", mainSpec), "--out", planFile), exitOK)
				return c.run("apply", planFile, "--dry-run", "-o", "json")
			},
			code: exitOK,
			want: applyOutcome{NotStarted: planned, Stale: []string{}},
		},
		{
			name: "the prompt declined",
			run: func(c *cli) result {
				c.tty, c.stdin = true, "no\n"
				audit := filepath.Join(c.dir, "audit.jsonl")
				r := c.run("apply", "-f", c.write("tokens.yaml", mainSpec), "-o", "json", "--audit-log", audit)
				if _, err := os.Stat(audit); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a declined apply left an audit log behind: %v", err)
				}
				return r
			},
			code: exitError,
			want: applyOutcome{NotStarted: planned, Stale: []string{}},
		},
		{
			name: "a saved plan of other spec files",
			run: func(c *cli) result {
				planFile := filepath.Join(c.dir, "plan.json")
				wantCode(t, c.run("plan", "-f", c.write("tokens.yaml", mainSpec), "--out", planFile), exitOK)
				return c.run("apply", planFile, "-f", c.write("other.yaml", "version: 1\n"), "--yes", "-o", "json")
			},
			code: exitStale,
			want: applyOutcome{NotStarted: planned, Stale: []string{}},
		},
		{
			name: "a saved plan of another organization",
			run: func(c *cli) result {
				planFile := filepath.Join(c.dir, "plan.json")
				wantCode(t, c.run("plan", "-f", c.write("tokens.yaml", mainSpec), "--out", planFile), exitOK)
				return c.runRaw("apply", "--api-url", c.baseURL, "--organization", "org2", planFile, "--yes", "-o", "json")
			},
			code: exitStale,
			want: applyOutcome{NotStarted: planned, Stale: []string{}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, testState)
			r := tc.run(c)
			wantCode(t, r, tc.code)
			if diff := cmp.Diff(tc.want, unwrittenOutcome(t, r)); diff != "" {
				t.Errorf("result document (-want +got):\n%s\n%s", diff, r.stdout)
			}
			if n := c.posts(); n != 0 {
				t.Errorf("%d role writes", n)
			}
		})
	}
}
