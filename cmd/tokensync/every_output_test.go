package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// output is one way tokensync writes what it read from the API: a command
// with its format, and the files it writes besides stdout and stderr.
type output struct {
	name   string // "command format", e.g. "plan json"
	args   []string
	files  []string // written by the command, relative to the test's directory
	failOK bool     // the API refuses a write, so the command fails
}

// everyOutput is every output format of every command that presents
// what the API holds. TestEveryOutputIsInTheTable fails when a command
// gains a format (its -o enum) that is not here, so that a new output is
// checked by TestEveryOutputEscapesHostileNames.
func everyOutput(spec string) []output {
	return []output{
		{name: "plan text", args: []string{"plan", "-f", spec}},
		{name: "plan markdown", args: []string{"plan", "-f", spec, "-o", "markdown"}},
		{name: "plan json", args: []string{"plan", "-f", spec, "-o", "json"}},
		{name: "plan --out", args: []string{"plan", "-f", spec, "--out", "saved.json"}, files: []string{"saved.json"}},
		{name: "apply text", args: []string{"apply", "-f", spec, "--yes", "--rate-scale=1000", "--audit-log", "audit-text.jsonl"},
			files: []string{"audit-text.jsonl"}, failOK: true},
		{name: "apply json", args: []string{"apply", "-f", spec, "--yes", "--rate-scale=1000", "-o", "json", "--audit-log", "audit-json.jsonl"},
			files: []string{"audit-json.jsonl"}, failOK: true},
		{name: "report text", args: []string{"report", "-f", spec, "--since", "before.json"}},
		{name: "report markdown", args: []string{"report", "-f", spec, "-o", "markdown", "--since", "before.json"}},
		{name: "report csv", args: []string{"report", "-f", spec, "-o", "csv", "--since", "before.json"}},
		{name: "report json", args: []string{"report", "-f", spec, "-o", "json", "--since", "before.json"}},
		{name: "report html", args: []string{"report", "-f", spec, "-o", "html", "--since", "before.json", "--out", "report.html"},
			files: []string{"report.html"}},
		{name: "report --principal", args: []string{"report", "--principal", "*", "--production", "*", "-o", "json", "--expand-teams"}},
		{name: "export yaml", args: []string{"export"}},
		{name: "schema json", args: []string{"schema"}},
	}
}

// TestEveryOutputEscapesHostileNames: against an organization whose every
// name is hostile (control characters, ESC sequences, U+202E and the other
// bidirectional controls, U+200B, U+2028, the BOM...), and an API that
// refuses a write with a hostile message, no output of any command, on
// stdout, stderr or in a file it writes (the saved plan, the audit log,
// the HTML page), holds a raw control, bidi or invisible character.
func TestEveryOutputEscapesHostileNames(t *testing.T) {
	h := newHostileApply(t, "tok-09")
	spec := h.write("tokens.yaml", hostileSpec())
	before := h.run("report", "-o", "json")
	wantCode(t, before, exitOK)
	h.write("before.json", before.stdout)
	for _, o := range everyOutput(spec) {
		t.Run(o.name, func(t *testing.T) {
			args := append([]string{}, o.args...)
			for i, a := range args {
				if strings.HasSuffix(a, ".json") || strings.HasSuffix(a, ".jsonl") || strings.HasSuffix(a, ".html") {
					args[i] = filepath.Join(h.dir, a)
				}
			}
			var r result
			if args[0] == "schema" {
				r = h.runRaw(args...)
			} else {
				r = h.run(args...)
			}
			if r.code != exitOK && !o.failOK {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
			}
			inert(t, o.name+" stdout", r.stdout)
			inert(t, o.name+" stderr", r.stderr)
			for _, f := range o.files {
				data, err := os.ReadFile(filepath.Join(h.dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if len(data) == 0 {
					t.Errorf("%s is empty", f)
				}
				inert(t, o.name+" "+f, string(data))
			}
		})
	}
}

// TestEveryOutputIsInTheTable: every value of the -o flag of plan, apply
// and report has a row in everyOutput.
func TestEveryOutputIsInTheTable(t *testing.T) {
	rows := map[string]bool{}
	for _, o := range everyOutput("tokens.yaml") {
		rows[o.name] = true
	}
	for name, cmd := range map[string]any{"plan": PlanCmd{}, "apply": ApplyCmd{}, "report": ReportCmd{}} {
		f, ok := reflect.TypeOf(cmd).FieldByName("Output")
		if !ok {
			t.Fatalf("%s has no Output flag", name)
		}
		for _, format := range strings.Split(f.Tag.Get("enum"), ",") {
			if !rows[name+" "+format] {
				t.Errorf("%s -o %s has no row in everyOutput (every_output_test.go): add one", name, format)
			}
		}
	}
}
