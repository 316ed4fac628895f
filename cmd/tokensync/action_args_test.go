package main

// The Action's args input: each flag docs/ci.md lists reaches the
// commands it means something to, through the Action's own scripts.

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docActionArgs are the flags docs/ci.md says the Action's args may
// carry, in its order.
func docActionArgs(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "`args` may carry ")
	if !ok {
		t.Fatal("docs/ci.md no longer says which flags the Action's args may carry")
	}
	sentence, _, _ := strings.Cut(after, ". ")
	var flags []string
	for _, m := range regexp.MustCompile("`(-[a-z-]+)`").FindAllStringSubmatch(sentence, -1) {
		flags = append(flags, m[1])
	}
	return flags
}

// wrapTokensync returns a script that records each command line it is run
// with in the file $ARGV_LOG (one line a run, words separated by \x1f) and
// then runs bin.
func wrapTokensync(t *testing.T, bin string) string {
	t.Helper()
	wrapper := filepath.Join(t.TempDir(), "tokensync")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\037' \"$a\"; done >> \"$ARGV_LOG\"\necho >> \"$ARGV_LOG\"\nexec '" + bin + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return wrapper
}

// invocations reads $ARGV_LOG: the command lines tokensync ran with, by
// their command (plan, apply).
func invocations(t *testing.T, file string) map[string][][]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	runs := map[string][][]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		words := strings.Split(strings.TrimSuffix(line, "\x1f"), "\x1f")
		if len(words) > 0 && words[0] != "" {
			runs[words[0]] = append(runs[words[0]], words)
		}
	}
	return runs
}

// hasRun reports whether words occur in argv, one after the other.
func hasRun(argv, words []string) bool {
	for i := 0; i+len(words) <= len(argv); i++ {
		if slices.Equal(argv[i:i+len(words)], words) {
			return true
		}
	}
	return false
}

// TestActionArgs: each flag docs/ci.md says args may carry, used with
// command plan and with command apply. The plan gets every flag that
// shapes it; apply PLAN.json gets only those it accepts with a saved plan
// (--target there is exit 64: the saved plan carries the targets), and
// --audit-log goes to apply alone. Every run succeeds.
func TestActionArgs(t *testing.T) {
	const tag = "v0.0.9"
	rel := newFakeRelease(t, tag, wrapTokensync(t, buildTokensync(t, tag)))
	state, err := filepath.Abs(filepath.Join(repoRoot, "examples", "org.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type flagCase struct {
		args    string
		plan    []string // words the plan gets, nil: none of the flag
		apply   []string // words apply PLAN.json gets, nil: none of the flag
		summary string   // in the summary after apply
		setup   func(t *testing.T, s actionSetup) string
		check   func(t *testing.T, s actionSetup, command string)
	}
	both := func(args string, words ...string) flagCase {
		return flagCase{args: args, plan: words, apply: words, summary: "Apply complete: 3 added, 2 changed, 2 removed."}
	}
	cases := map[string]flagCase{
		"--target": {args: "--target data-platform/sandbox", plan: []string{"--target", "data-platform/sandbox"},
			summary: "Apply complete: 0 added, 0 changed, 1 removed."},
		"--policy": {setup: func(t *testing.T, s actionSetup) string {
			rule := "version: 1\npolicies:\n  - name: quiet\n    description: never fires\n    grant: scope.name == 'no such deployment'\n"
			if err := os.WriteFile(filepath.Join(s.work, "policies.yaml"), []byte(rule), 0o600); err != nil {
				t.Fatal(err)
			}
			return "--policy policies.yaml"
		}, plan: []string{"--policy", "policies.yaml"}, summary: "Apply complete: 3 added, 2 changed, 2 removed."},
		"--policy-mode": {args: "--policy-mode warn", plan: []string{"--policy-mode", "warn"},
			summary: "Apply complete: 3 added, 2 changed, 2 removed."},
		"--prune": {args: "--prune", plan: []string{"--prune"}, apply: []string{"--prune"},
			summary: "Apply complete: 3 added, 2 changed, 4 removed."},
		"--max-removals": both("--max-removals 2", "--max-removals", "2"),
		"--protect":      both("--protect break-glass-*", "--protect", "break-glass-*"),
		"--audit-log": {args: "--audit-log audit.jsonl", apply: []string{"--audit-log", "audit.jsonl"},
			summary: "Apply complete: 3 added, 2 changed, 2 removed.",
			check: func(t *testing.T, s actionSetup, command string) {
				data, err := os.ReadFile(filepath.Join(s.work, "audit.jsonl"))
				switch {
				case command == "plan" && !os.IsNotExist(err):
					t.Errorf("plan wrote an audit log (err %v)", err)
				case command == "apply" && (err != nil || !strings.HasPrefix(string(data), `{"audit_version":`)):
					t.Errorf("apply's audit log: %v\n%s", err, data)
				}
			}},
		"--api-url": {setup: func(t *testing.T, s actionSetup) string {
			u := s.run.env["ASTRO_API_URL"]
			delete(s.run.env, "ASTRO_API_URL")
			return "--api-url " + u
		}, summary: "Apply complete: 3 added, 2 changed, 2 removed."},
		"--organization": {setup: func(t *testing.T, s actionSetup) string {
			delete(s.run.env, "ASTRO_ORGANIZATION_ID")
			return "--organization clx0org0000000000000000"
		}, plan: []string{"--organization", "clx0org0000000000000000"}, apply: []string{"--organization", "clx0org0000000000000000"},
			summary: "Apply complete: 3 added, 2 changed, 2 removed."},
		"--token-file": {setup: func(t *testing.T, s actionSetup) string {
			file := filepath.Join(t.TempDir(), "astro-token")
			if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			delete(s.run.env, "ASTRO_API_TOKEN")
			return "--token-file " + file
		}, summary: "Apply complete: 3 added, 2 changed, 2 removed."},
		"--emulate": {setup: func(t *testing.T, s actionSetup) string {
			delete(s.run.env, "ASTRO_API_URL") // no API: the emulator is in the process
			return "--emulate " + state
		}, summary: "Apply complete: 3 added, 2 changed, 2 removed."},
		"--parallelism": both("--parallelism 2", "--parallelism", "2"),
		"--max-retries": both("--max-retries=1", "--max-retries=1"),
		"--timeout":     both("--timeout 1m", "--timeout", "1m"),
		"--no-color":    both("--no-color", "--no-color"),
		"-v":            both("-v", "-v"),
	}
	listed := docActionArgs(t)
	if diff := cmp.Diff(slices.Sorted(maps.Keys(cases)), slices.Sorted(slices.Values(listed))); diff != "" {
		t.Errorf("the flags tested here and those docs/ci.md lists for args differ (-tested +docs/ci.md):\n%s", diff)
	}

	for flag, tt := range cases {
		t.Run(flag, func(t *testing.T) {
			t.Parallel()
			s := newActionWorld(t, rel)
			s.run.event = "push"
			argvLog := filepath.Join(t.TempDir(), "argv")
			s.run.env["ARGV_LOG"] = argvLog
			args := tt.args
			if tt.setup != nil {
				args = tt.setup(t, s)
				if tt.plan == nil && tt.apply == nil {
					tt.plan, tt.apply = strings.Fields(args), strings.Fields(args)
				}
			}
			for _, command := range []string{"plan", "apply"} {
				if err := os.Remove(argvLog); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				s.run.resetSummary()
				got := s.run.use(s.with("files", "tokens/", "command", command, "args", args))
				summary := s.run.readSummary()
				if got.code != 0 {
					t.Fatalf("command %s, args %q: step exited %d:\n%s", command, args, got.code, got.log)
				}
				applyOnly := tt.plan == nil && tt.apply != nil
				if warned := strings.Contains(got.log, "::warning::tokensync: args: "); warned != (command == "plan" && applyOnly) {
					t.Errorf("command %s, args %q: warned %v that a flag is for apply alone:\n%s", command, args, warned, got.log)
				}
				runs := invocations(t, argvLog)
				if len(runs["plan"]) != 1 {
					t.Fatalf("command %s: tokensync plan ran %d times, want once: %q", command, len(runs["plan"]), runs)
				}
				wantApply := map[string]int{"plan": 0, "apply": 1}[command]
				if len(runs["apply"]) != wantApply {
					t.Fatalf("command %s: tokensync apply ran %d times, want %d: %q", command, len(runs["apply"]), wantApply, runs)
				}
				gets := map[string][]string{"plan": tt.plan, "apply": tt.apply}
				for _, c := range []string{"plan", "apply"} {
					for _, argv := range runs[c] {
						name, _, _ := strings.Cut(strings.Fields(args)[0], "=")
						if gets[c] == nil && slices.ContainsFunc(argv, func(w string) bool { return w == name || strings.HasPrefix(w, name+"=") }) {
							t.Errorf("command %s: tokensync %s got %s: %q", command, c, name, argv)
						}
						if gets[c] != nil && !hasRun(argv, gets[c]) {
							t.Errorf("command %s: tokensync %s did not get %q: %q", command, c, gets[c], argv)
						}
					}
				}
				if command == "apply" && (!strings.Contains(summary, "**Applied.**") || !strings.Contains(summary, tt.summary)) {
					t.Errorf("command apply, args %q: the summary lacks %q or **Applied.**:\n%s", args, tt.summary, summary)
				}
				if tt.check != nil {
					tt.check(t, s, command)
				}
			}
		})
	}
}

// TestActionArgsRefused: the flags the Action sets itself, and flags it
// does not know, fail the step before tokensync runs, with a message.
func TestActionArgsRefused(t *testing.T) {
	const tag = "v0.0.9"
	s := newActionWorld(t, newFakeRelease(t, tag, buildTokensync(t, tag)))
	s.run.event = "push"
	for args, want := range map[string]string{
		"-o json":                       "the Action sets -o itself",
		"--yes":                         "the Action sets --yes itself",
		"--dry-run":                     "the Action sets --dry-run itself",
		"--out=x.json":                  "the Action sets --out itself",
		"-f other.yaml":                 "the Action sets -f itself",
		"--prune --bogus":               "--bogus is not a flag the Action passes",
		"--max-removals":                "--max-removals needs a value",
		"--target; rm -rf /":            "--target; is not a flag the Action passes",
		`--target "Data Platform/prod"`: `words are split on spaces and quotes are kept ("Data): name a workspace or deployment whose name has spaces by its id`,
		"--target 'x'":                  `words are split on spaces and quotes are kept ('x'): name`,
	} {
		s.run.resetSummary()
		got := s.run.use(s.with("files", "tokens/", "command", "apply", "args", args))
		if got.code != 1 || !strings.Contains(got.log, "::error::tokensync: args: "+want) {
			t.Errorf("args %q: step exit %d, want 1 and %q:\n%s", args, got.code, want, got.log)
		}
		if strings.Contains(got.log, "Apply complete") || got.outputs["exit-code"] != "" {
			t.Errorf("args %q: tokensync ran:\n%s", args, got.log)
		}
	}
}
