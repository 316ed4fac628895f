package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPathsAsGiven: every file name a message or an annotation shows is the
// name the user gave (relative stays relative), for -f, --policy and
// --emulate alike: kong's path types would make --policy and --emulate
// absolute.
func TestPathsAsGiven(t *testing.T) {
	c := newCLI(t, testState)
	c.env["GITHUB_ACTIONS"] = "true"
	t.Chdir(c.dir)
	c.write("spec.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens: []\n")
	c.write("badpol.yaml", "version: 1\npolicies:\n  - name: x\n    description: d\n    grant: \"nonsense +\"\n")
	c.write("badstate.yaml", "organization: {id: o, name: x}\nbogus: 1\n")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"policy", []string{"validate", "--offline", "-f", "spec.yaml", "--policy", "badpol.yaml"}, exitInvalid,
			[]string{"\nbadpol.yaml:5:", "::error file=badpol.yaml,line=5,"}},
		{"policy of plan", []string{"plan", "-f", "spec.yaml", "--emulate", "badstate.yaml", "--policy", "./badpol.yaml"}, exitInvalid,
			[]string{"\n./badpol.yaml:5:", "::error file=./badpol.yaml,line=5,"}},
		{"emulate state", []string{"plan", "-f", "spec.yaml", "--emulate", "badstate.yaml"}, exitInvalid,
			[]string{"--emulate: badstate.yaml:2:1: "}},
		{"emulate missing", []string{"plan", "-f", "spec.yaml", "--emulate", "nope.yaml"}, exitUsage,
			[]string{"stat nope.yaml: "}},
		{"emulate directory", []string{"plan", "-f", "spec.yaml", "--emulate", "."}, exitUsage,
			[]string{`"." exists but is a directory`}},
		{"saved plan", []string{"apply", "missing-plan.json", "--emulate", "badstate.yaml", "--yes"}, exitUsage,
			[]string{"missing-plan.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.runRaw(tt.args...)
			wantCode(t, r, tt.code)
			stderr := "\n" + r.stderr
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, c.dir) {
				t.Errorf("stderr names the absolute directory %s:\n%s", c.dir, r.stderr)
			}
		})
	}
}

// TestExpandHomeIsHOME: ~/ is $HOME, as a shell expands it, not the
// account's home from the password database.
func TestExpandHomeIsHOME(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if got, want := expandHome("~/org.yaml"), filepath.Join(home, "org.yaml"); got != want {
		t.Errorf("expandHome(~/org.yaml) = %q, want %q", got, want)
	}
	if got := expandHome("x/~/org.yaml"); got != "x/~/org.yaml" {
		t.Errorf("a ~ inside the path is expanded: %q", got)
	}
}

// TestFileExpandsHome: -f expands a leading ~/ as the other file flags
// do, which matters where the shell does not (--file=~/x), in every command
// that takes it; messages name the file as expanded, never made absolute
// otherwise.
func TestFileExpandsHome(t *testing.T) {
	c := newCLI(t, testState)
	t.Setenv("HOME", c.dir)
	c.write("spec.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens: []\n")
	c.write("bad.yaml", "version: 1\nbogus: 1\n")
	for _, args := range [][]string{
		{"validate", "--offline"},
		{"plan"},
		{"apply", "--dry-run"},
		{"report"},
	} {
		t.Run(args[0], func(t *testing.T) {
			r := c.run(append(args, "--file=~/spec.yaml")...)
			wantCode(t, r, exitOK)
			r = c.run(append(args, "-f", "~/bad.yaml")...)
			wantCode(t, r, exitInvalid)
			if want := filepath.Join(c.dir, "bad.yaml") + ":2:1: "; !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		})
	}
}
