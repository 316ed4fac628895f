package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// TestFilesMatchHoweverSpelt: a rule's files glob matches the path of a
// spec file as given with -f, or any trailing part of it that starts
// after a '/', once cleaned: `-f teams/analytics/` from cfg, `-f
// cfg/teams/analytics/`, an absolute path and one with "//" or "/./" all
// give a rule on teams/analytics/* the same grants; a name that only ends
// like the glob does not, nor one whose ".." leads elsewhere.
func TestFilesMatchHoweverSpelt(t *testing.T) {
	r := compileOne(t, spec.ConditionGrant, "true", "teams/analytics/*").Rules[0]
	for file, want := range map[string]bool{
		"teams/analytics/a.yaml":                true,
		"cfg/teams/analytics/a.yaml":            true,
		"./teams/analytics/a.yaml":              true,
		"../cfg/teams/analytics/a.yaml":         true,
		"/home/me/cfg/teams/analytics/a.yaml":   true,
		"/home/me/cfg/teams/analytics/b/a.yaml": true, // * crosses '/'
		// The path is cleaned first: "//", "/./" and "x/.." spell the
		// same file, and ".." can lead out of teams/analytics.
		"cfg/teams//analytics/a.yaml":            true,
		"cfg/teams/./analytics/a.yaml":           true,
		"cfg//teams/analytics//a.yaml":           true,
		"cfg/teams/x/../analytics/a.yaml":        true,
		"teams/analytics/../../marketing/a.yaml": false,
		"teams/analytics/../analytics2/a.yaml":   false,
		"cfg/myteams/analytics/a.yaml":           false,
		"cfg/teams/analytics.yaml":               false,
		"teams/marketing/a.yaml":                 false,
		"":                                       false,
	} {
		if got := r.coversFile(file); got != want {
			t.Errorf("teams/analytics/* covers %q = %v, want %v", file, got, want)
		}
	}

	// Check gives the same violations however the files are spelt.
	a := Build(world())
	want := fired(compileOne(t, spec.ConditionGrant, "scope.workspace != 'marketing'", "teams/analytics/*").Check(a, now))
	if len(want) == 0 {
		t.Fatal("no violations to compare")
	}
	for _, prefix := range []string{"cfg/", "/home/me/cfg/"} {
		w := world()
		moved := make(map[sync.Key]spec.Pos, len(w.Sources))
		for k, pos := range w.Sources {
			pos.File = prefix + pos.File
			moved[k] = pos
		}
		w.Sources = moved
		got := fired(compileOne(t, spec.ConditionGrant, "scope.workspace != 'marketing'", "teams/analytics/*").Check(Build(w), now))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("files under %s: violations (-want +got):\n%s", prefix, diff)
		}
	}
}

// TestLoadNotesFilesMatchingNothing: a rule whose files match none of the
// spec files read checks no grant; Load says so at the rule, naming the
// files as given, rather than let it pass in silence.
func TestLoadNotesFilesMatchingNothing(t *testing.T) {
	dir := t.TempDir()
	write := writeIn(t, dir)
	write("cfg/teams/analytics/a.yaml", "version: 1\ndeployments: []\n")
	write("cfg/base.yaml", "version: 1\ndeployments: []\n")
	rules := write("rules.yaml", "version: 1\npolicies:\n"+
		"  - name: analytics\n    description: d\n    files: [\"teams/analytics/*\"]\n    grant: 'true'\n"+
		"  - name: misspelt\n    description: d\n    files: [\"team/analytics/*\", \"other.yaml\"]\n    grant: 'true'\n"+
		"  - name: everywhere\n    description: d\n    grant: 'true'\n")
	_, set, err := Load(context.Background(), []string{filepath.Join(dir, "cfg"), filepath.Join(dir, "cfg", "teams", "analytics")}, []string{rules}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range set.Notes {
		got = append(got, strings.ReplaceAll(n.String(), dir+string(filepath.Separator), ""))
	}
	want := []string{
		`rules.yaml:7:5: policy "misspelt": files "team/analytics/*", "other.yaml" match none of the 2 spec file(s) read (cfg/base.yaml, cfg/teams/analytics/a.yaml): the rule checks no grant`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

// TestLoadReportsADuplicateRuleWithItsOtherErrors: a delegated spec file
// that takes the name of a rule of the policy file is blamed for it, and
// the other errors of either declaration come with that one: the rule's
// expression, and production set in a file the rule covers.
func TestLoadReportsADuplicateRuleWithItsOtherErrors(t *testing.T) {
	dir := t.TempDir()
	write := writeIn(t, dir)
	delegated := write("cfg/teams/analytics/a.yaml", "version: 1\nproduction: [nothing]\n"+
		"policies:\n  - {name: analytics, description: d, grant: 'true'}\n")
	rules := write("rules.yaml", "version: 1\npolicies:\n"+
		"  - {name: analytics, description: d, files: [\"teams/analytics/*\"], grant: subject.nope}\n")
	_, _, err := Load(context.Background(), []string{delegated}, []string{rules}, nil)
	var got []string
	if errs, ok := err.(spec.ErrorList); ok {
		for _, e := range errs {
			got = append(got, strings.ReplaceAll(e.Error(), dir+string(filepath.Separator), ""))
		}
	} else {
		t.Fatalf("err = %v, want a spec.ErrorList", err)
	}
	want := []string{
		`cfg/teams/analytics/a.yaml:2:1: production may not be set in a file that policy "analytics" covers (files "teams/analytics/*" at rules.yaml:3:47): the rules' owner sets it, in a policy file (--policy) or a spec file no policy's files match`,
		`cfg/teams/analytics/a.yaml:4:5: policy "analytics" is also declared at rules.yaml:3:5, in a policy file (--policy); policy names are unique over all files`,
		`rules.yaml:3:83: policy "analytics": grant: undefined field 'nope'`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// writeIn returns a function that writes a file under dir, its
// directories made, and returns its path.
func writeIn(t *testing.T, dir string) func(name, data string) string {
	return func(name, data string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
}
