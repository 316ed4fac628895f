package spec

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePolicies(t *testing.T) {
	const head = "version: 1\n"
	tests := []struct {
		name string
		in   string
		errs string
	}{
		{"ok", head + "policies:\n  - name: a\n    description: d\n    grant: subject.kind == 'user'\n    files: [teams/*]\n", ""},
		{"typo", head + "policies:\n  - name: a\n    descripton: d\n    grnt: x\n",
			`p.yaml:4:5: unknown key "descripton" in policy (did you mean "description"?)` + "\n" +
				`p.yaml:5:5: unknown key "grnt" in policy (did you mean "grant"?)`},
		{"both", head + "policies:\n  - name: a\n    description: d\n    grant: x\n    scope: y\n",
			`p.yaml:6:5: policy "a" has both "grant" and "scope"; use one`},
		{"neither", head + "policies:\n  - name: a\n    description: d\n",
			`p.yaml:3:5: policy "a" needs "grant" (an expression over each grant) or "scope" (over each scope and its grants)`},
		{"missing", head + "policies:\n  - grant: x\n",
			`p.yaml:3:5: policy needs "name"` + "\n" + `p.yaml:3:5: missing key "description" (what a violation reports)`},
		{"duplicate", head + "policies:\n  - {name: a, description: d, grant: x}\n  - {name: a, description: d, scope: y}\n",
			`p.yaml:4:5: policy "a" is already declared at p.yaml:3:5; policy names are unique over all files`},
		{"empty expression", head + "policies:\n  - {name: a, description: d, grant: ''}\n",
			`p.yaml:3:38: "grant" must not be empty`},
		{"bad glob", head + "policies:\n  - {name: a, description: d, grant: x, files: ['[']}\n",
			`p.yaml:3:49: invalid glob "[": a character class ([...]) is not closed`},
		{"files not clean", head + "policies:\n  - {name: a, description: d, grant: x, files: ['./teams/*', 'teams//a/*', 'teams/a/', 'teams/../b.yaml', 'teams/a/*']}\n",
			`p.yaml:3:49: files glob "./teams/*" is not a clean path, and would match no file: write "teams/*" (a glob is matched against the spec file's absolute path, cleaned, with / between its parts)` + "\n" +
				`p.yaml:3:62: files glob "teams//a/*" is not a clean path, and would match no file: write "teams/a/*" (a glob is matched against the spec file's absolute path, cleaned, with / between its parts)` + "\n" +
				`p.yaml:3:76: files glob "teams/a/" is not a clean path, and would match no file: write "teams/a/*" (a glob is matched against the spec file's absolute path, cleaned, with / between its parts)` + "\n" +
				`p.yaml:3:88: files glob "teams/../b.yaml" is not a clean path, and would match no file: write "b.yaml" (a glob is matched against the spec file's absolute path, cleaned, with / between its parts)`},
		{"policy typo", head + "policy: []\n", `p.yaml:2:1: unknown key "policy" at top level (did you mean "policies"?)`},
		{"production", head + "production: ['*-prd', '*prod*']\n", ""},
		{"production not a list", head + "production: '*prd*'\n", `p.yaml:2:13: "production" must be a list, got string "*prd*"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.in))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.errs, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyValue(t *testing.T) {
	s, err := Parse("p.yaml", []byte("version: 1\nproduction: ['*-prd']\npolicies:\n  - name: a\n    description: d\n    scope: grants.size() > 3\n    files: [teams/*]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Policy{{
		Pos: Pos{"p.yaml", 4, 5}, Name: "a", Description: "d", On: ConditionScope,
		Expr:  Expr{Text: "grants.size() > 3", Pos: Pos{"p.yaml", 6, 12}, layout: layoutLine, start: 12},
		Files: []Pattern{{Glob: "teams/*", Pos: Pos{"p.yaml", 7, 13}}},
	}}
	if diff := cmp.Diff(want, s.Policies, cmp.AllowUnexported(Expr{})); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Glob{"*-prd"}, s.ProductionGlobs()); diff != "" {
		t.Errorf("production (-want +got):\n%s", diff)
	}
	s, _ = Parse("q.yaml", []byte("version: 1\n"))
	if diff := cmp.Diff([]Glob{DefaultProduction}, s.ProductionGlobs()); diff != "" {
		t.Errorf("default production (-want +got):\n%s", diff)
	}
}

func TestExprAt(t *testing.T) {
	tests := []struct {
		name      string
		value     string
		line, col int
		want      Pos
	}{
		{"plain", "grant: a == b", 1, 3, Pos{"p.yaml", 5, 14}},
		{"single quoted", "grant: 'a == \"b\"'", 1, 3, Pos{"p.yaml", 5, 15}},
		{"double quoted", `grant: "a == 'b'"`, 1, 3, Pos{"p.yaml", 5, 15}},
		{"escapes", `grant: "a == \"b\""`, 1, 8, Pos{"p.yaml", 5, 12}},
		{"literal", "grant: |\n      a &&\n        b\n", 2, 3, Pos{"p.yaml", 7, 9}},
		{"folded, a line more indented", "grant: >\n      a &&\n        b\n", 1, 3, Pos{"p.yaml", 6, 9}},
		{"folded, its more indented line", "grant: >\n      a &&\n        b\n", 2, 3, Pos{"p.yaml", 7, 9}},
		{"folded and stripped", "grant: >-\n      a &&\n      bb == c\n", 1, 6, Pos{"p.yaml", 7, 7}},
		{"folded with a blank line", "grant: >-\n      a &&\n\n      bb == c\n", 2, 1, Pos{"p.yaml", 8, 7}},
		{"plain on two lines", "grant: a &&\n      bb == c", 1, 6, Pos{"p.yaml", 6, 7}},
		{"plain, then a comment", "grant: a &&\n      bb # note", 1, 7, Pos{"p.yaml", 6, 8}},
		{"quoted on two lines", "grant: 'a &&\n      bb'", 1, 6, Pos{"p.yaml", 6, 7}},
		{"quoted on two lines, with escapes", "grant: 'a == ''x'' &&\n      bb'", 1, 14, Pos{"p.yaml", 5, 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("p.yaml", []byte("version: 1\npolicies:\n  - name: a\n    description: d\n    "+tt.value+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, s.Policies[0].Expr.At(tt.line, tt.col)); diff != "" {
				t.Errorf("At (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadAllPolicyFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"spec.yaml":  "version: 1\nproduction: ['*-prd']\npolicies:\n  - {name: a, description: d, grant: x}\n",
		"more.yaml":  "policies:\n  - {name: b, description: d, scope: y}\n",
		"dup.yaml":   "version: 1\npolicies:\n  - {name: a, description: d, grant: x}\n",
		"wrong.yaml": "version: 1\ndeployments: []\npolicies: []\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	s, err := LoadAll(context.Background(), []string{p("spec.yaml")}, []string{p("more.yaml")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pol := range s.Policies {
		names = append(names, pol.Name)
	}
	if diff := cmp.Diff([]string{"a", "b"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{p("spec.yaml")}, s.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{p("more.yaml")}, s.PolicyFiles); diff != "" {
		t.Errorf("policy files (-want +got):\n%s", diff)
	}
	// The digest names the spec alone: the same spec with other policies
	// has the same digest, which a saved plan's apply -f checks.
	only, err := LoadAll(context.Background(), []string{p("spec.yaml")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if only.Digest != s.Digest {
		t.Errorf("digest with --policy %s, without %s", s.Digest, only.Digest)
	}
	_, err = LoadAll(context.Background(), []string{p("spec.yaml")}, []string{p("dup.yaml"), p("wrong.yaml")}, nil)
	// The spec file that takes the name of a rule of a policy file is
	// the one to change.
	want := p("spec.yaml") + `:4:5: policy "a" is also declared at ` + p("dup.yaml") + `:3:5, in a policy file (--policy); policy names are unique over all files` + "\n" +
		p("wrong.yaml") + `:2:1: unknown key "deployments" in policy file (a file given with --policy holds only policies, production and version; give this file with -f)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want\n%s", err, want)
	}
	if _, err := LoadAll(context.Background(), nil, []string{p("more.yaml")}, nil); err != nil {
		t.Errorf("policy files only: %v", err)
	}
}

func TestProductionInOneFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml": "version: 1\nproduction: ['*-prd']\n",
		"b.yaml": "version: 1\nproduction: ['live-*']\n",
	})
	_, err := Load([]string{dir})
	want := filepath.Join(dir, "b.yaml") + ":2:1: production is already set at " + filepath.Join(dir, "a.yaml") + ":2:1; production deployments are set in one file only"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestProductionOwner: production is set in one file at most, and only
// by the policies' owner: a policy file (--policy) may set it, and then a
// spec file that sets it too is an error at its key, naming the policy
// file; a spec file that a policy's files match (a delegated file) may
// not set it, however -f spells its path.
func TestProductionOwner(t *testing.T) {
	const (
		rule     = "policies:\n  - {name: analytics, description: d, files: ['teams/analytics/*'], grant: x}\n"
		ownRule  = "version: 1\n" + rule
		sets     = "version: 1\nproduction: ['no-such-deployment']\n"
		pins     = "production: ['*-prd']\n"
		pinsRule = pins + rule
	)
	files := map[string]string{
		"pol/rule.yaml":                     ownRule,
		"pol/pins.yaml":                     pins,
		"pol/pins-rule.yaml":                pinsRule,
		"pol/pins-too.yaml":                 "version: 1\nproduction: ['live-*']\npolicies: []\n",
		"cfg/base.yaml":                     sets,
		"cfg/rules.yaml":                    ownRule,
		"cfg/plain.yaml":                    "version: 1\n",
		"cfg/teams/analytics/a.yaml":        sets,
		"cfg/own/teams/analytics/rule.yaml": "version: 1\nproduction: ['*-prd']\n" + rule,
		"cfg/teams/marketing/a.yaml":        sets,
	}
	const (
		pinned    = "pol/pins.yaml:1:1"
		delegated = `production may not be set in a file that policy "analytics" covers (files "teams/analytics/*" at `
		delegMsg  = `): the rules' owner sets it, in a policy file (--policy) or a spec file no policy's files match`
	)
	tests := []struct {
		name        string
		paths, pols []string
		want        []Glob // the globs in force, when there is no error
		wantAt      string // where the key in force is
		errs        string
	}{
		{name: "a policy file pins it", paths: []string{"cfg/plain.yaml"}, pols: []string{"pol/pins.yaml"}, want: []Glob{"*-prd"}, wantAt: pinned},
		{name: "a policy file pins it, with rules", paths: []string{"cfg/plain.yaml"}, pols: []string{"pol/pins-rule.yaml"}, want: []Glob{"*-prd"}, wantAt: "pol/pins-rule.yaml:1:1"},
		{name: "a policy file alone", pols: []string{"pol/pins.yaml"}, want: []Glob{"*-prd"}, wantAt: pinned},
		{name: "two spec files", paths: []string{"cfg/base.yaml", "cfg/teams/marketing/../analytics/../marketing/a.yaml"}, pols: []string{"pol/rule.yaml"},
			errs: "cfg/teams/marketing/../analytics/../marketing/a.yaml:2:1: production is already set at cfg/base.yaml:2:1; production deployments are set in one file only"},
		{name: "the policies' own spec file", paths: []string{"cfg/base.yaml"}, pols: []string{"pol/rule.yaml"}, want: []Glob{"no-such-deployment"}, wantAt: "cfg/base.yaml:2:1"},
		{name: "a spec file too", paths: []string{"cfg/base.yaml"}, pols: []string{"pol/pins.yaml"},
			errs: "cfg/base.yaml:2:1: production is already set at pol/pins.yaml:1:1, in a policy file (--policy); a spec file may not set it too"},
		{name: "a spec file too, in a -f directory", paths: []string{"cfg/teams/marketing"}, pols: []string{"pol/pins-rule.yaml"},
			errs: "cfg/teams/marketing/a.yaml:2:1: production is already set at pol/pins-rule.yaml:1:1, in a policy file (--policy); a spec file may not set it too"},
		{name: "two policy files", pols: []string{"pol/pins.yaml", "pol/pins-too.yaml"},
			errs: "pol/pins-too.yaml:2:1: production is already set at pol/pins.yaml:1:1; production deployments are set in one file only"},
		{name: "a delegated file", paths: []string{"cfg/teams/analytics/a.yaml"}, pols: []string{"pol/rule.yaml"},
			errs: "cfg/teams/analytics/a.yaml:2:1: " + delegated + "pol/rule.yaml:3:47" + delegMsg},
		{name: "a delegated file in a -f directory", paths: []string{"cfg/teams/analytics"}, pols: []string{"pol/rule.yaml"},
			errs: "cfg/teams/analytics/a.yaml:2:1: " + delegated + "pol/rule.yaml:3:47" + delegMsg},
		{name: "a delegated file spelt with //", paths: []string{"cfg/teams//analytics/a.yaml"}, pols: []string{"pol/rule.yaml"},
			errs: "cfg/teams//analytics/a.yaml:2:1: " + delegated + "pol/rule.yaml:3:47" + delegMsg},
		{name: "a delegated file spelt with /./", paths: []string{"cfg/teams/./analytics/a.yaml"}, pols: []string{"pol/rule.yaml"},
			errs: "cfg/teams/./analytics/a.yaml:2:1: " + delegated + "pol/rule.yaml:3:47" + delegMsg},
		{name: "a delegated file, the rule in a spec file", paths: []string{"cfg/plain.yaml", "cfg/rules.yaml", "cfg/teams/marketing/../analytics/a.yaml"},
			errs: "cfg/teams/marketing/../analytics/a.yaml:2:1: " + delegated + "cfg/rules.yaml:3:47" + delegMsg},
		{name: "a delegated file, its own rule", paths: []string{"cfg/own/teams/analytics/rule.yaml"},
			errs: "cfg/own/teams/analytics/rule.yaml:2:1: " + delegated + "cfg/own/teams/analytics/rule.yaml:4:47" + delegMsg},
		{name: "a delegated file and a policy file", paths: []string{"cfg/teams/analytics/a.yaml"}, pols: []string{"pol/pins-rule.yaml"},
			errs: "cfg/teams/analytics/a.yaml:2:1: production is already set at pol/pins-rule.yaml:1:1, in a policy file (--policy); a spec file may not set it too"},
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	abs := func(names []string) []string {
		var out []string
		for _, n := range names {
			out = append(out, dir+"/"+n)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadAll(context.Background(), abs(tt.paths), abs(tt.pols), nil)
			got := ""
			if err != nil {
				got = strings.ReplaceAll(err.Error(), dir+"/", "")
			}
			if diff := cmp.Diff(tt.errs, got); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, s.ProductionGlobs()); diff != "" {
				t.Errorf("production (-want +got):\n%s", diff)
			}
			if at := strings.ReplaceAll(s.ProductionPos.String(), dir+"/", ""); at != tt.wantAt {
				t.Errorf("production at %s, want %s", at, tt.wantAt)
			}
		})
	}
}

// TestFoldedRuleComment: a // comment in a folded rule (>, or plain or
// quoted over several lines) comments out the lines folding joined to its line: an
// error at the comment, so that a rule never silently loses its end. A
// comment on a literal block's line, on the last line, or // in a string
// is fine.
func TestFoldedRuleComment(t *testing.T) {
	const (
		msg       = "this // comment runs to the end of the rule's line, which folding made of the lines after it too"
		quotedMsg = "this quoted rule has a // comment, which runs to the end of the rule's line"
	)
	for _, tt := range []struct {
		name, value string
		want        string // the error's position, "" for none
	}{
		{"folded", "grant: >-\n      subject.kind == 'user' // users\n      && role.access == 'admin'\n", "p.yaml:6:30"},
		{"plain on two lines", "grant: subject.kind == 'user' // users\n      || role.access == 'admin'\n", "p.yaml:5:35"},
		{"folded, on its last line", "grant: >-\n      subject.kind == 'user' &&\n      role.access == 'admin' // admins\n", ""},
		{"folded, in a string", "grant: >-\n      subject.name == 'http://x' &&\n      role.access == 'admin'\n", ""},
		{"literal", "grant: |\n      subject.kind == 'user' // users\n      && role.access == 'admin'\n", ""},
		{"literal, after a raw string", "grant: |\n      subject.name.startsWith(r'C:\\') // windows\n      || role.access == 'admin'\n", ""},
		// A backslash escapes nothing in a raw string: the comment is one.
		{"folded, after a raw string", "grant: >-\n      subject.name.startsWith(r'C:\\') // windows-named legacy tokens\n      || (scope.production && role.access == 'admin')\n", "p.yaml:6:39"},
		{"folded, after a raw string in double quotes", "grant: >-\n      subject.name.startsWith(R\"C:\\\") // windows\n      || role.access == 'admin'\n", "p.yaml:6:39"},
		{"folded, after a raw triple-quoted string", "grant: >-\n      subject.name == r'''C:\\''' // windows\n      || role.access == 'admin'\n", "p.yaml:6:34"},
		{"folded, after bytes", "grant: >-\n      bytes(subject.name) == br'C:\\' // windows\n      || role.access == 'admin'\n", "p.yaml:6:38"},
		// A lone quote in a triple-quoted string ends nothing.
		{"folded, after a triple-quoted string", "grant: >-\n      subject.name == '''it's''' // apostrophes\n      && role.access == 'admin'\n", "p.yaml:6:34"},
		{"folded, after a triple-double-quoted string", "grant: >-\n      subject.name == \"\"\"say \"hi\" \"\"\" // quotes\n      && role.access == 'admin'\n", "p.yaml:6:39"},
		{"folded, // in a triple-quoted string", "grant: >-\n      subject.name.contains('''it's //''') &&\n      role.access == 'admin'\n", ""},
		{"folded, // in a raw string", "grant: >-\n      subject.name.startsWith(r'\\\\server//share') &&\n      role.access == 'admin'\n", ""},
		{"folded, // in a quoted identifier", "grant: >-\n      has(subject.`a//b`) &&\n      role.access == 'admin'\n", ""},
		{"folded, a URL in a string", "grant: >-\n      subject.name.startsWith('https://x') &&\n      role.access == 'admin'\n", ""},
		// Columns count characters, not bytes.
		{"folded, after non-ASCII", "grant: >-\n      subject.name == 'Zoë' // the one\n      || role.access == 'admin'\n", "p.yaml:6:29"},
		{"folded, after non-ASCII on an earlier line", "grant: >-\n      subject.name in ['Zoë', 'Åsa'] ||\n      subject.name == 'Jörg' // the one\n      || role.access == 'admin'\n", "p.yaml:7:30"},
		{"plain, after non-ASCII", "grant: subject.name == '名前' // the one\n      || role.access == 'admin'\n", "p.yaml:5:33"},
		{"folded, on its last line after a raw string", "grant: >-\n      role.access == 'admin' &&\n      subject.name.startsWith(r'C:\\') // windows\n", ""},
		// What CEL cannot read is the compiler's to report; past it, a
		// comment is read as the compiler reads it.
		{"folded, an unterminated string", "grant: >-\n      subject.name == \"it // open\n      && role.access == 'admin'\n", ""},
		{"folded, after a character CEL cannot read", "grant: >-\n      subject.name == 'x' # // hash\n      && role.access == 'admin'\n", "p.yaml:6:29"},
		// YAML folds the lines of a quoted value too.
		{"double-quoted on two lines", "grant: \"subject.kind == 'nothing' // placeholder\n      || subject.kind == 'user'\"\n", "p.yaml:5:39"},
		{"double-quoted on two lines, no comment", "grant: \"subject.kind == 'nothing'\n      || subject.kind == 'user'\"\n", ""},
		{"double-quoted on one line", "grant: \"subject.kind == 'user' // users\"\n", ""},
		// With escapes, where the lines fold is not known: any comment is
		// an error, at the value.
		{"single-quoted on two lines, with escapes", "grant: 'subject.kind == ''nothing'' // placeholder\n      || subject.kind == ''user'''\n", "p.yaml:5:12"},
		{"double-quoted on one line, with escapes", "grant: \"subject.name == \\\"x\\\" // the one\"\n", "p.yaml:5:12"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte("version: 1\npolicies:\n  - name: a\n    description: d\n    "+tt.value))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want+": "+msg) && !strings.Contains(err.Error(), tt.want+": "+quotedMsg)):
				t.Errorf("error %v, want one at %s", err, tt.want)
			}
		})
	}
}

// TestFoldedRuleLexError: what CEL's lexer cannot read in a folded rule
// is the compiler's to report: reading comments prints nothing.
func TestFoldedRuleLexError(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	_, err = Parse("p.yaml", []byte("version: 1\npolicies:\n  - name: a\n    description: d\n    grant: >-\n      subject.name == \"open # ` \\\n      && role.access == 'admin'\n"))
	os.Stderr = stderr
	w.Close()
	printed, _ := io.ReadAll(r)
	if err != nil {
		t.Errorf("error: %v", err)
	}
	if len(printed) > 0 {
		t.Errorf("printed %q", printed)
	}
}
