package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hostileBillionLaughs is the classic alias bomb: 9^9 "lol"s if expanded.
const hostileBillionLaughs = `version: 1
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

// hostileSpecCase is one bad spec given to `tokensync plan`. files maps a
// name in the case's directory to its content; args are the -f values
// ("{dir}/" stands for that directory), by default every file in name
// order. want are the exact lines expected on stderr before the summary
// line, with "{dir}" for the directory; total is the number of errors the
// summary counts, when the list is capped (else one a line of want).
type hostileSpecCase struct {
	name  string
	files map[string]string
	args  []string
	want  []string
	total int
}

// one is a case of a single file, t.yaml.
func one(name, content string, want ...string) hostileSpecCase {
	return hostileSpecCase{name: name, files: map[string]string{"t.yaml": content}, want: want}
}

func hostileSpecCases() []hostileSpecCase {
	const bom = "\ufeff"
	manyDeployments := func(n int) string {
		var b strings.Builder
		b.WriteString("version: 1\ndeployments:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - id: dep-%d\n", i)
		}
		return b.String()
	}
	manyRoleless := func(n int) (string, []string) {
		var b strings.Builder
		b.WriteString("version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n")
		var want []string
		for i := range n {
			fmt.Fprintf(&b, "      - name: tok-%d\n", i)
			if i < 1000 {
				want = append(want, fmt.Sprintf(`{dir}/t.yaml:%d:9: token "tok-%d": missing key "role" (required unless "state" is "absent")`, i+5, i))
			}
		}
		want = append(want, fmt.Sprintf("{dir}/t.yaml:1004:9: too many errors; %d more not shown", n-1000))
		return b.String(), want
	}
	roleless, rolelessWant := manyRoleless(1500)
	deep := func(open string) string { return strings.Repeat(open, 100000) }

	return []hostileSpecCase{
		one("syntax/unclosed flow sequence", "version: 1\ndeployments: [\n  {id: dep-1}\n",
			"{dir}/t.yaml:2:1: invalid YAML: did not find expected ',' or ']'"),
		one("syntax/unclosed quote", "version: 1\norganization: \"org-1\ndeployments: []\n",
			"{dir}/t.yaml:2:1: invalid YAML: found unexpected end of stream"),
		one("syntax/mapping in plain scalar", "version: 1\norganization: a: b\n",
			"{dir}/t.yaml:2:1: invalid YAML: mapping values are not allowed in this context"),
		one("syntax/bad indentation", "version: 1\ndeployments:\n  - id: dep-1\n   prune: true\n",
			"{dir}/t.yaml:3:1: invalid YAML: did not find expected '-' indicator"),
		one("syntax/stray bracket", "]\n",
			"{dir}/t.yaml:1:1: invalid YAML: did not find expected node content"),
		one("tab/indentation", "version: 1\ndeployments:\n\t- id: dep-1\n",
			"{dir}/t.yaml:3:1: invalid YAML: found a tab character in indentation; indent with spaces"),
		one("tab/after spaces", "version: 1\ndeployments:\n  - id: dep-1\n  \tprune: true\n",
			"{dir}/t.yaml:4:3: invalid YAML: found a tab character that violates indentation"),
		one("key/unknown top level", "version: 1\ndeploymnets: []\n",
			`{dir}/t.yaml:2:1: unknown key "deploymnets" at top level (did you mean "deployments"?)`),
		one("key/unknown in deployment", "version: 1\ndeployments:\n  - id: dep-1\n    prunee: true\n",
			`{dir}/t.yaml:4:5: unknown key "prunee" in deployment (did you mean "prune"?)`),
		one("key/unknown in token", "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {name: bot, roles: DEPLOYMENT_ADMIN}\n",
			`{dir}/t.yaml:5:21: unknown key "roles" in token entry (did you mean "role"?)`),
		one("key/duplicate", "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - name: bot\n        role: DEPLOYMENT_ADMIN\n        role: DEPLOYMENT_ADMIN\n",
			`{dir}/t.yaml:7:9: duplicate key "role" (first at line 6)`),
		one("key/merge", "version: 1\nx: &x {id: dep-1}\ndeployments:\n  - <<: *x\n",
			`{dir}/t.yaml:2:1: unknown key "x" at top level`,
			"{dir}/t.yaml:2:4: anchors and aliases are not supported (1 more in this file)",
			`{dir}/t.yaml:4:5: deployment needs "id" or "name"`),
		one("type/prune string", "version: 1\ndeployments:\n  - id: dep-1\n    prune: \"yes\"\n",
			`{dir}/t.yaml:4:12: "prune" must be a boolean, got string "yes"`),
		one("type/version string", "version: \"1\"\n",
			`{dir}/t.yaml:1:10: "version" must be an integer, got string "1"`),
		one("type/deployments mapping", "version: 1\ndeployments: {id: dep-1}\n",
			`{dir}/t.yaml:2:14: "deployments" must be a list, got mapping`),
		one("type/tokens null", "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n",
			`{dir}/t.yaml:4:21: "workspaceTokens" must be a list, got null`),
		one("type/top level scalar", "tokens\n",
			`{dir}/t.yaml:1:1: the top level must be a mapping, got string "tokens"`),
		one("empty/no bytes", "", "{dir}/t.yaml:1:1: file is empty"),
		one("empty/only comments", "# tokens.yaml\n\n# TODO\n", "{dir}/t.yaml:1:1: file is empty"),
		one("empty/document marker", "---\n", "{dir}/t.yaml:1:1: file is empty"),
		one("bom/and an error", bom+"versio: 1\n",
			`{dir}/t.yaml:1:1: unknown key "versio" at top level (did you mean "version"?)`),
		one("crlf/and an error", "version: 1\r\ndeployments:\r\n  - id: dep-1\r\n    prune: yes\r\n",
			`{dir}/t.yaml:4:12: "prune" must be a boolean, got string "yes"`),
		one("encoding/latin-1", "version: 1\norganization: caf\xe9\n",
			"{dir}/t.yaml:2:18: invalid UTF-8 (byte 0xe9); the file must be UTF-8 encoded"),
		one("encoding/utf-16", "\xff\xfev\x00e\x00r\x00",
			"{dir}/t.yaml:1:1: invalid UTF-8 (byte 0xff); the file must be UTF-8 encoded"),
		one("encoding/NUL", "version: 1\x00\n",
			"{dir}/t.yaml:1:11: control character U+0000 is not allowed"),
		one("encoding/terminal escape", "version: 1\ndeployments:\n  - id: \"dep\x1b[31m\"\n",
			"{dir}/t.yaml:3:13: control character U+001B is not allowed"),
		one("size/10 MB", "version: 1\n#"+strings.Repeat("x", 10<<20-13)+"\n",
			"{dir}/t.yaml:1:1: file is 10485760 bytes; the limit is 4194304"),
		one("nesting/100k flow sequences", deep("["),
			"{dir}/t.yaml:1:1: invalid YAML: exceeded max depth of 10000"),
		one("nesting/100k flow mappings", "version: 1\ndeployments: "+deep("{a: "),
			"{dir}/t.yaml:2:1: invalid YAML: exceeded max depth of 10000"),
		one("nesting/100k block sequences", "version: 1\ndeployments:\n"+deep("- ")+"x\n",
			"{dir}/t.yaml:2:1: invalid YAML: exceeded max depth of 10000"),
		one("alias/billion laughs", hostileBillionLaughs,
			`{dir}/t.yaml:2:1: unknown key "a" at top level`,
			"{dir}/t.yaml:2:4: anchors and aliases are not supported (80 more in this file)",
			`{dir}/t.yaml:3:1: unknown key "b" at top level`,
			`{dir}/t.yaml:4:1: unknown key "c" at top level`,
			`{dir}/t.yaml:5:1: unknown key "d" at top level`,
			`{dir}/t.yaml:6:1: unknown key "e" at top level`,
			`{dir}/t.yaml:7:1: unknown key "f" at top level`,
			`{dir}/t.yaml:8:1: unknown key "g" at top level`,
			`{dir}/t.yaml:9:1: unknown key "h" at top level`,
			`{dir}/t.yaml:10:1: unknown key "i" at top level`),
		one("documents/two", "version: 1\n---\nversion: 1\n",
			"{dir}/t.yaml:2:1: multiple YAML documents are not supported; use one file per document"),
		one("limit/50,000 deployments", manyDeployments(50000),
			"{dir}/t.yaml:10003:5: too many deployments: the limit is 10000 over all files"),
		func() hostileSpecCase {
			c := one("limit/1,500 errors", roleless, rolelessWant...)
			c.total = 1500
			return c
		}(),
		one("deployment/id and name", "version: 1\ndeployments:\n  - id: dep-1\n    name: analytics-prod\n    workspace: data-platform\n",
			`{dir}/t.yaml:4:5: deployment has both "id" and "name"; use one`),
		one("deployment/twice in a file", "version: 1\ndeployments:\n  - id: dep-1\n  - id: dep-2\n  - id: dep-1\n",
			`{dir}/t.yaml:5:5: deployment "dep-1" is already declared at {dir}/t.yaml:3:5`),
		one("token/workspace role", "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {name: bot, role: WORKSPACE_OWNER}\n",
			`{dir}/t.yaml:5:27: token "bot": role "WORKSPACE_OWNER" is a workspace role, not a deployment role`),
		one("token/same id across lists", "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {id: tok-bot, role: DEPLOYMENT_ADMIN}\n    organizationTokens:\n      - {id: tok-bot, state: absent}\n",
			`{dir}/t.yaml:7:9: token "tok-bot" is listed twice for deployment "dep-1" (first at line 5)`),
		one("glob/bad", "version: 1\nignoreTokens: [\"break-glass-[\"]\n",
			`{dir}/t.yaml:2:16: invalid glob "break-glass-[": a character class ([...]) is not closed`),
		one("version/2", "version: 2\n", "{dir}/t.yaml:1:10: unsupported version 2; this build reads version 1"),
		one("version/missing", "deployments: []\n", `{dir}/t.yaml:1:1: missing key "version" (the format version, 1)`),
		{
			name: "files/a deployment declared in two files",
			files: map[string]string{
				"a.yaml": "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens: []\n",
				"b.yaml": "version: 1\ndeployments:\n  - id: dep-2\n  - id: dep-1\n",
			},
			want: []string{`{dir}/b.yaml:4:5: deployment "dep-1" is already declared at {dir}/a.yaml:3:5`},
		},
		{
			name: "files/two organizations, through a directory",
			files: map[string]string{
				"a.yaml": "version: 1\norganization: org1\ndeployments:\n  - id: dep-1\n",
				"b.yml":  "version: 1\norganization: org2\ndeployments:\n  - id: dep-2\n",
			},
			args: []string{"{dir}"},
			want: []string{`{dir}/b.yml:2:15: organization "org2" conflicts with "org1" at {dir}/a.yaml:2:15`},
		},
		{
			name: "files/errors in every file are all reported",
			files: map[string]string{
				"a.yaml": "version: 1\ndeployments:\n  - id: dep-1\n    prunee: true\n",
				"b.yaml": "version: 1\ndeployments:\n\t- id: dep-2\n",
			},
			want: []string{
				`{dir}/a.yaml:4:5: unknown key "prunee" in deployment (did you mean "prune"?)`,
				"{dir}/b.yaml:3:1: invalid YAML: found a tab character in indentation; indent with spaces",
			},
		},
	}
}

// TestHostileSpecAtTheCLI gives `tokensync plan` each bad spec: exit 3,
// exactly the expected positioned messages and the summary on stderr,
// nothing on stdout, and not one request to the API.
func TestHostileSpecAtTheCLI(t *testing.T) {
	cases := hostileSpecCases()
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	c := newCLI(t, testState)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var names []string
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				names = append(names, name)
			}
			slices.Sort(names)
			args := []string{"plan"}
			if tc.args == nil {
				for _, n := range names {
					args = append(args, "-f", filepath.Join(dir, n))
				}
			} else {
				for _, a := range tc.args {
					args = append(args, "-f", strings.ReplaceAll(a, "{dir}", dir))
				}
			}
			var r result
			size := 0
			for _, content := range tc.files {
				size += len(content)
			}
			// A bound on the bytes allocated, not on time: it holds on a
			// busy machine and under the race detector alike.
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r = c.run(args...)
			runtime.ReadMemStats(&after)
			if n, budget := after.TotalAlloc-before.TotalAlloc, 64<<20+300*uint64(size); n > budget {
				t.Errorf("allocated %d bytes for %d bytes of spec (budget %d)", n, size, budget)
			}
			wantCode(t, r, exitInvalid)
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ReplaceAll(w, "{dir}", dir))
			}
			total := len(want)
			if tc.total > 0 {
				total = tc.total
			}
			want = append(want, fmt.Sprintf("tokensync: %d error(s) in the spec; nothing was contacted or written.", total), "")
			if diff := cmp.Diff(want, strings.Split(r.stderr, "\n")); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if r.stdout != "" {
				t.Errorf("stdout:\n%s", r.stdout)
			}
			if n := c.requests(); n != 0 {
				t.Fatalf("a bad spec drew %d API requests", n)
			}
		})
	}
	t.Logf("figures: %d hostile spec inputs rejected with exit 3 and 0 API requests", len(cases))
}
