package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		glob, name string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything/at all", true},
		{"break-glass-*", "break-glass-01", true},
		{"break-glass-*", "Break-Glass-01", true},
		{"BREAK-GLASS-*", "break-glass-01", true},
		{"break-glass-*", "x-break-glass-01", false},
		{"*prod*", "eu/Production/1", true},
		{"team/*", "team/a/b", true},
		{"a*b", "a/x/b", true},
		{"*@contractor.example", "Bob@Contractor.Example", true},
		{"*@contractor.example", "bob@contractor.example.com", false},
		{"?", "é", true},
		{"?", "", false},
		{"??", "東京", true},
		{"a?c", "a/c", true},
		{`\*`, "*", true},
		{`\*`, "x", false},
		{`a\?`, "a?", true},
		{`a\?`, "ab", false},
		{`\[infra\] *`, "[INFRA] team", true},
		{"[infra] *", "[infra] team", false},
		{"[ab", "[ab", false}, // refused by ParseGlob: matches nothing
		{`back\\slash`, `back\slash`, true},
		{"zürich", "ZÜRICH", true},
		{"straße", "STRASSE", false}, // simple folding: ß is one character
		{"kelvin", "\u212aELVIN", true},
		{"tok-[0-9]*", "tok-7x", true},
		{"tok-[0-9]*", "tok-x7", false},
		{"[a-c]x", "Bx", true},
		{"[^a-c]x", "Bx", false},
		{"[^a-c]x", "dx", true},
		{"[^a]", "/", true},
		{`[\]\-]`, "]", true},
		{`[\]\-]`, "-", true},
		{`[\]\-]`, "x", false},
		{"[k]elvin", "Kelvin", true},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*a*a*a*a*a*a*b", strings.Repeat("a", 5000), false}, // one backtracking point: not exponential
		{"*prod*", "staging", false},
		{"a?c", "ac", false},
		{"*a*b*c*", "xxaxxcxxbxx", false},
		{"exact", "exact ", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := Glob(tt.glob).Match(tt.name); got != tt.want {
			t.Errorf("Glob(%q).Match(%q) = %v, want %v", tt.glob, tt.name, got, tt.want)
		}
	}
}

func TestParseGlob(t *testing.T) {
	unclosed := "a character class ([...]) is not closed"
	tests := []struct{ glob, err string }{
		{"break-glass-*", ""},
		{"tok-[0-9]*", ""},
		{"[^a-z]?", ""},
		{`[\]\-\\]`, ""},
		{`\[x\]`, ""},
		{"a]", ""},
		{`a\\`, ""},
		{"", "an empty pattern matches nothing; * matches everything"},
		{"[ab", unclosed},
		{"x[", unclosed},
		{"[^", unclosed},
		{`[a\`, unclosed},
		{"[a-", unclosed},
		{"[]a]", `']' is not a character of a class: write \] (a class is never empty)`},
		{"[-a]", `'-' is not a character of a class: write \- (a class is never empty)`},
		{"[a-]", `']' is not a character of a class: write \] (a class is never empty)`},
		{"[z-a]", "the character range z-a is backwards"},
		{`a\`, `the pattern ends with a lone \; write \\ for a backslash`},
	}
	for _, tt := range tests {
		g, err := ParseGlob(tt.glob)
		got := ""
		if err != nil {
			got = err.Error()
		} else if string(g) != tt.glob {
			t.Errorf("ParseGlob(%q) = %q", tt.glob, g)
		}
		if got != tt.err {
			t.Errorf("ParseGlob(%q): error %q, want %q", tt.glob, got, tt.err)
		}
	}
}

// FuzzGlobMatch: Match agrees with the regular expression the dialect
// describes: * is (?s:.*), ? is (?s:.), \c is c, a class is the same
// class, and case is folded.
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{{"*prod*", "eu/PROD"}, {`a\*?`, "a*b"}, {"*a*b", "aab"}, {"K*", "\u212a"}, {"?", "\xff"}, {"tok-[0-9]*", "TOK-5a"}, {"[^a-c]?", "B/"}, {`[\]\-]`, "-"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, glob, name string) {
		if _, err := ParseGlob(glob); err != nil || !utf8.ValidString(glob) || !utf8.ValidString(name) {
			return
		}
		var re strings.Builder
		re.WriteString(`(?is)\A`)
		for i := 0; i < len(glob); {
			r, n := utf8.DecodeRuneInString(glob[i:])
			switch r {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			case '\\':
				r, m := utf8.DecodeRuneInString(glob[i+1:])
				re.WriteString(regexp.QuoteMeta(string(r)))
				n += m
			case '[':
				n = classRegexp(&re, glob[i:])
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
			i += n
		}
		re.WriteString(`\z`)
		want := regexp.MustCompile(re.String()).MatchString(name)
		if got := Glob(glob).Match(name); got != want {
			t.Errorf("Glob(%q).Match(%q) = %v, the regular expression %s says %v", glob, name, got, re.String(), want)
		}
	})
}

// classRegexp writes the class glob starts with as a regular expression's
// class, and returns its length in glob.
func classRegexp(re *strings.Builder, glob string) int {
	re.WriteByte('[')
	i := 1
	if glob[i] == '^' {
		re.WriteByte('^')
		i++
	}
	for first := true; glob[i] != ']' || first; first = false {
		for _, bound := range []bool{false, true} {
			if bound {
				if glob[i] != '-' {
					break
				}
				re.WriteByte('-')
				i++
			}
			if glob[i] == '\\' {
				i++
			}
			r, n := utf8.DecodeRuneInString(glob[i:])
			fmt.Fprintf(re, `\x{%x}`, r)
			i += n
		}
	}
	re.WriteByte(']')
	return i + 1
}

// TestMatchFile: a policy's files globs match a spec file's absolute
// path, cleaned, with / between its parts, or any trailing part of it
// after a '/': however -f spells the path, from whichever directory.
func TestMatchFile(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"cfg/teams/analytics", "cfg/teams/marketing"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	analytics := []Glob{"teams/analytics/*"}
	tests := []struct {
		globs     []Glob
		cwd, name string // cwd under root
		want      bool
	}{
		{analytics, "", "teams/analytics/a.yaml", true},
		{analytics, "", "S/cfg/teams/analytics/a.yaml", true},
		{analytics, "", "/abs/cfg/teams/analytics/a.yaml", true},
		{analytics, "", "S/cfg/teams//analytics/a.yaml", true},
		{analytics, "", "S/cfg/teams/./analytics/a.yaml", true},
		{analytics, "", "S/cfg/teams/other/../analytics/a.yaml", true},
		{analytics, "", "../../teams/analytics/a.yaml", true},
		{analytics, "", "teams/analytics/../../platform.yaml", false},
		{analytics, "", "S/cfg/myteams/analytics/a.yaml", false},
		{[]Glob{"platform.yaml", "teams/analytics/*"}, "", "cfg/./teams/analytics/a.yaml", true},
		{[]Glob{"a.yaml"}, "", "./a.yaml", true},
		// Relative to the working directory: the names it leaves out
		// count.
		{analytics, "cfg/teams/analytics", "a.yaml", true},
		{analytics, "cfg/teams/analytics", "./a.yaml", true},
		{analytics, "cfg/teams/marketing", "../analytics/a.yaml", true},
		{analytics, "cfg/teams/marketing", "a.yaml", false},
		{analytics, "cfg/teams/analytics", "../marketing/a.yaml", false},
		{[]Glob{"cfg/*"}, "cfg/teams", "analytics/a.yaml", true},
		// Standard input is matched as named.
		{[]Glob{"*"}, "", Stdin, true},
		{analytics, "cfg/teams/analytics", Stdin, false},
		{[]Glob{"*"}, "", "", false},
		{nil, "", "a.yaml", false},
	}
	for _, tt := range tests {
		t.Run(tt.cwd+":"+tt.name, func(t *testing.T) {
			t.Chdir(filepath.Join(root, tt.cwd))
			if got := MatchFile(tt.globs, tt.name); got != tt.want {
				t.Errorf("in %s: MatchFile(%q, %q) = %v, want %v", tt.cwd, tt.globs, tt.name, got, tt.want)
			}
		})
	}
}
