package render

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/sync"
)

func TestSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ci-deployer", "ci-deployer"},
		{"My workspace token", "My workspace token"},
		{"Zürich 東京 🚀 ✏️", "Zürich 東京 🚀 ✏️"},
		{`back\slash "quoted" 'it's' #hash: colon`, `back\slash "quoted" 'it's' #hash: colon`},
		{"line\nfake line", `line\nfake line`},
		{"cr\r\nlf", `cr\r\nlf`},
		{"tab\there", `tab\there`},
		{"\x1b[2J\x1b[31mred\x1b[0m", `\x1b[2J\x1b[31mred\x1b[0m`},
		{"\x1b]0;owned\x07", `\x1b]0;owned\a`},
		{"\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\", `\x1b]8;;http://evil.example\x1b\link\x1b]8;;\x1b\`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"admin\u202e\u2066txt.exe\u2069", `admin\u202e\u2066txt.exe\u2069`},
		{"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", `\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069`},
		{"rlm\u200fzw\u200bsp\u2028nb\u00a0bom\ufeff", `rlm\u200fzw\u200bsp\u2028nb\u00a0bom\ufeff`},
		{"bad\xffbyte", "bad\ufffdbyte"},
		{"", ""},
	}
	for _, tt := range tests {
		got := Safe(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Safe(%q) (-want +got):\n%s", tt.in, diff)
		}
		if again := Safe(got); again != got {
			t.Errorf("Safe is not idempotent on %q: %q", got, again)
		}
		if i := strings.IndexFunc(got, Escapes); i >= 0 {
			t.Errorf("Safe(%q) = %q keeps %U", tt.in, got, []rune(got[i:])[0])
		}
	}
}

func TestSafeLines(t *testing.T) {
	got := SafeLines("a.yaml:1:1: bad\nb.yaml:2:2: worse \x1b[2J\u202e\r\n")
	if want := "a.yaml:1:1: bad\nb.yaml:2:2: worse \\x1b[2J\\u202e\\r\n"; got != want {
		t.Errorf("SafeLines = %q, want %q", got, want)
	}
}

// hostile are strings an API could return as names, ids, roles or messages.
var hostile = []string{
	"evil\x1b[2J\x1b]0;owned\x07",
	"prod\r\nfake line",
	"admin\u202e\u2066gnp.exe\u2069",
	"iso\u2067late\u2069\u202a\u202b\u202c\u202d",
	"c1\u009b31m\u0085next\u2028line",
	"pipe|back`tick*_[x](y)<b>&amp;",
}

// sgr matches the colour escapes of the coloured text.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// inert fails the test when out holds a character that Safe escapes, other
// than the line feeds that end its lines.
func inert(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		if r != '\n' && Escapes(r) {
			t.Errorf("%s passes %U through at byte %d:\n%q", what, r, i, out)
			return
		}
	}
	if strings.Contains(out, "\nfake line") {
		t.Errorf("%s lets a name start a line of its own:\n%s", what, out)
	}
}

// TestPlanOutputsEscapeAPIText: every string of a plan that comes from the
// API (deployment and token names and ids, roles, reasons, guard messages
// built from them) is escaped in the text and markdown plans, bidirectional
// overrides included, and stays visible as an escape.
func TestPlanOutputsEscapeAPIText(t *testing.T) {
	for _, h := range hostile {
		t.Run(strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) {
				return r
			}
			return -1
		}, h), func(t *testing.T) {
			dep := sync.DeploymentRef{ID: "dep-" + h, Name: h}
			tok := sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-" + h, Name: h}
			p := sync.Plan{
				Organization: "org1",
				Changes: []sync.Change{
					{Action: sync.Update, Scope: sync.DeploymentScope(dep), Subject: tok, Before: h, After: "DEPLOYMENT_ADMIN", Source: at(3)},
					{Action: sync.Remove, Scope: sync.DeploymentScope(dep), Subject: tok, Before: h, Reason: "reason " + h},
				},
				Unmanaged: []sync.Change{{Action: sync.Unmanaged, Scope: sync.DeploymentScope(dep), Subject: tok, Before: h, After: h, Reason: "ignored " + h}},
				Guards: []sync.Guard{
					{Name: sync.GuardMaxRemovals, OK: true},
					{Name: sync.GuardProtect, Message: "protected token " + h + " would lose its role " + h},
				},
			}
			var text, colour, md bytes.Buffer
			if err := Text(&text, p, false); err != nil {
				t.Fatal(err)
			}
			if err := Text(&colour, p, true); err != nil {
				t.Fatal(err)
			}
			if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
				t.Fatal(err)
			}
			inert(t, "text", text.String())
			inert(t, "markdown", md.String())
			// Colour adds its own escapes around the same text.
			if diff := cmp.Diff(text.String(), sgr.ReplaceAllString(colour.String(), "")); diff != "" {
				t.Errorf("coloured text without its colours differs from the text (-want +got):\n%s", diff)
			}
			if want := Safe(h); !strings.Contains(text.String(), "deployment "+want) || !strings.Contains(text.String(), "protected token "+want) {
				t.Errorf("text does not show %q escaped as %q:\n%s", h, want, text.String())
			}
		})
	}
}

// TestMarkdownCellText: text in a table cell shows as it is: what markdown
// would act on (emphasis, links, HTML, entities, escapes) is escaped, and a
// pipe never ends the cell.
func TestMarkdownCellText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ci-deployer", "ci-deployer"},
		{"dbt_runner|prod", `dbt\_runner\|prod`},
		{`a\|b`, `a\\\|b`},
		{"&amp; <b>x</b>", "&amp;amp; &lt;b&gt;x&lt;/b&gt;"},
		{"*[link](http://x)*", `\*\[link\](http://x)\*`},
		{"line\nfake\u202e", `line\\nfake\\u202e`},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, mdText(tt.in)); diff != "" {
			t.Errorf("mdText(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestMarkdownBackticks: a backtick in a name shows as a backtick, and
// cannot open a code span, in a cell and in a role's code span, so that
// names that differ by one stay apart.
func TestMarkdownBackticks(t *testing.T) {
	tests := []struct{ in, text, code string }{
		{"big-token-`tick`", "big-token-\\`tick\\`", "`` big-token-`tick` ``"},
		{"big-token-'tick'", "big-token-'tick'", "`big-token-'tick'`"},
		{"a``b", "a\\`\\`b", "```a``b```"},
		{"`", "\\`", "`` ` ``"},
		{" x ", " x ", "`  x  `"},
		{"p|q", `p\|q`, "`p\\|q`"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.text, mdText(tt.in)); diff != "" {
			t.Errorf("mdText(%q) (-want +got):\n%s", tt.in, diff)
		}
		if diff := cmp.Diff(tt.code, mdCode(tt.in)); diff != "" {
			t.Errorf("mdCode(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestJSONEscapesInvisibleCharacters: the JSON plan writes the characters
// Safe escapes as \u escapes and reads back with the same strings.
func TestJSONEscapesInvisibleCharacters(t *testing.T) {
	var changes []sync.Change
	for i, h := range append(slices.Clone(hostile), "tag\U000E0041\U000E007F", "emoji 🚀 東京") {
		changes = append(changes, sync.Change{Action: sync.Add, Scope: sync.DeploymentScope(sync.DeploymentRef{ID: h, Name: h}),
			Subject: sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: fmt.Sprint("tok-", i), Name: h}, After: h, Source: at(i + 1)})
	}
	p := sync.Plan{Organization: "org1", Changes: changes, Guards: okGuards(), Fingerprints: map[string]string{}}
	for _, c := range changes {
		p.Fingerprints[c.Subject.ID] = strings.Repeat("a", 64)
	}
	p = withTarget(p)
	var b bytes.Buffer
	if err := JSON(&b, p, planfile.Meta{}); err != nil {
		t.Fatal(err)
	}
	inert(t, "json", b.String())
	if !strings.Contains(b.String(), `\u202e`) || !strings.Contains(b.String(), `\udb40\udc41`) || !strings.Contains(b.String(), "emoji 🚀 東京") {
		t.Errorf("json:\n%s", b.String())
	}
	doc, err := planfile.Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(planfile.New(p, planfile.Meta{}), doc); diff != "" {
		t.Errorf("the plan read back (-want +got):\n%s", diff)
	}
}
