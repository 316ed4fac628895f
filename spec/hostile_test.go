package spec

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// billionLaughs is the classic alias bomb: 9^9 "lol"s if expanded.
const billionLaughs = `version: 1
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

// manyDeployments returns a spec declaring n deployments by id.
func manyDeployments(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\ndeployments:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: dep-%d\n", i)
	}
	return b.String()
}

// manyBadTokens returns a deployment with n token entries lacking a role.
func manyBadTokens(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - name: tok-%d\n", i)
	}
	return b.String()
}

// manyBadTokensErrors returns what Parse reports for manyBadTokens(n).
func manyBadTokensErrors(n int) []string {
	var want []string
	for i := range min(n, MaxErrors) {
		want = append(want, fmt.Sprintf(`t.yaml:%d:9: token "tok-%d": missing key "role" (required unless "state" is "absent")`, i+5, i))
	}
	if n > MaxErrors {
		want = append(want, fmt.Sprintf("t.yaml:%d:9: too many errors; %d more not shown", MaxErrors+4, n-MaxErrors))
	}
	return want
}

// errorLines returns the messages of err, one per entry, checking that it is
// an ErrorList.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	list, ok := err.(ErrorList)
	if !ok {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	var lines []string
	for _, e := range list {
		lines = append(lines, e.Error())
	}
	return lines
}

func TestParseHostile(t *testing.T) {
	const bomStr = "\ufeff"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "valid", in: "version: 1\ndeployments:\n  - id: dep-1\n"},
		{name: "syntax/unclosed flow sequence", in: "version: 1\ndeployments: [\n  {id: dep-1}\n", want: []string{
			"t.yaml:2:1: invalid YAML: did not find expected ',' or ']'",
		}},
		{name: "syntax/unclosed quote", in: "version: 1\norganization: \"org-1\ndeployments: []\n", want: []string{
			"t.yaml:2:1: invalid YAML: found unexpected end of stream",
		}},
		{name: "syntax/mapping in plain scalar", in: "version: 1\norganization: a: b\n", want: []string{
			"t.yaml:2:1: invalid YAML: mapping values are not allowed in this context",
		}},
		{name: "syntax/bad indentation", in: "version: 1\ndeployments:\n  - id: dep-1\n   prune: true\n", want: []string{
			"t.yaml:3:1: invalid YAML: did not find expected '-' indicator",
		}},
		{name: "syntax/stray bracket on line 1", in: "]\n", want: []string{
			"t.yaml:1:1: invalid YAML: did not find expected node content",
		}},
		{name: "syntax/YAML 1.2 directive", in: "%YAML 1.2\n---\nversion: 1\n", want: []string{
			"t.yaml:1:1: invalid YAML: a %YAML directive other than %YAML 1.1 is not supported; remove the line (the spec needs no directive)",
		}},
		{name: "syntax/YAML 1.1 directive", in: "%YAML 1.1\n---\nversion: 1\n"},
		{name: "tab/indentation", in: "version: 1\ndeployments:\n\t- id: dep-1\n", want: []string{
			"t.yaml:3:1: invalid YAML: found a tab character in indentation; indent with spaces",
		}},
		{name: "tab/after spaces", in: "version: 1\ndeployments:\n  - id: dep-1\n  \tprune: true\n", want: []string{
			"t.yaml:4:3: invalid YAML: found a tab character that violates indentation",
		}},
		{name: "tab/separator is fine", in: "version:\t1\n"},
		{name: "key/unknown top level", in: "version: 1\ndeploymnets: []\n", want: []string{
			"t.yaml:2:1: unknown key \"deploymnets\" at top level (did you mean \"deployments\"?)",
		}},
		{name: "key/unknown in deployment", in: "version: 1\ndeployments:\n  - id: dep-1\n    prunee: true\n", want: []string{
			"t.yaml:4:5: unknown key \"prunee\" in deployment (did you mean \"prune\"?)",
		}},
		{name: "key/unknown in token", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {name: bot, roles: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:21: unknown key \"roles\" in token entry (did you mean \"role\"?)",
		}},
		{name: "key/duplicate", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - name: bot\n        role: DEPLOYMENT_ADMIN\n        role: DEPLOYMENT_ADMIN\n", want: []string{
			"t.yaml:7:9: duplicate key \"role\" (first at line 6)",
		}},
		{name: "key/not a string", in: "version: 1\n[a]: b\n", want: []string{
			"t.yaml:2:1: keys must be strings, got list",
		}},
		{name: "key/merge", in: "version: 1\nx: &x {id: dep-1}\ndeployments:\n  - <<: *x\n", want: []string{
			"t.yaml:2:1: unknown key \"x\" at top level",
			"t.yaml:2:4: anchors and aliases are not supported (1 more in this file)",
			"t.yaml:4:5: deployment needs \"id\" or \"name\"",
		}},
		{name: "type/prune string", in: "version: 1\ndeployments:\n  - id: dep-1\n    prune: \"yes\"\n", want: []string{
			"t.yaml:4:12: \"prune\" must be a boolean, got string \"yes\"",
		}},
		{name: "type/version string", in: "version: \"1\"\n", want: []string{
			"t.yaml:1:10: \"version\" must be an integer, got string \"1\"",
		}},
		{name: "type/deployments mapping", in: "version: 1\ndeployments: {id: dep-1}\n", want: []string{
			"t.yaml:2:14: \"deployments\" must be a list, got mapping",
		}},
		{name: "type/tokens null", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n", want: []string{
			"t.yaml:4:21: \"workspaceTokens\" must be a list, got null",
		}},
		{name: "type/top level scalar", in: "tokens\n", want: []string{
			"t.yaml:1:1: the top level must be a mapping, got string \"tokens\"",
		}},
		{name: "type/long value is cut", in: "version: 1\norganization: [" + strings.Repeat("x", 100) + "]\ndeployments: " + strings.Repeat("y", 100) + "\n", want: []string{
			"t.yaml:2:15: \"organization\" must be a string, got list",
			"t.yaml:3:14: \"deployments\" must be a list, got string \"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...\"",
		}},
		{name: "empty/no bytes", in: "", want: []string{
			"t.yaml:1:1: file is empty",
		}},
		{name: "empty/only comments", in: "# tokens.yaml\n\n# TODO\n", want: []string{
			"t.yaml:1:1: file is empty",
		}},
		{name: "empty/whitespace", in: "  \n\n   \n", want: []string{
			"t.yaml:1:1: file is empty",
		}},
		{name: "empty/document marker", in: "---\n", want: []string{
			"t.yaml:1:1: file is empty",
		}},
		{name: "empty/explicit null", in: "~\n", want: []string{
			"t.yaml:1:1: the top level must be a mapping, got null",
		}},
		{name: "bom/valid", in: bomStr + "version: 1\ndeployments:\n  - id: dep-1\n"},
		{name: "bom/positions unchanged", in: bomStr + "versio: 1\n", want: []string{
			"t.yaml:1:1: unknown key \"versio\" at top level (did you mean \"version\"?)",
		}},
		{name: "bom/only", in: bomStr, want: []string{
			"t.yaml:1:1: file is empty",
		}},
		{name: "crlf/valid", in: "version: 1\r\ndeployments:\r\n  - id: dep-1\r\n    workspaceTokens:\r\n      - {name: bot, role: deployment_admin}\r\n"},
		{name: "crlf/positions", in: "version: 1\r\ndeployments:\r\n  - id: dep-1\r\n    prune: yes\r\n", want: []string{
			"t.yaml:4:12: \"prune\" must be a boolean, got string \"yes\"",
		}},
		{name: "encoding/latin-1", in: "version: 1\norganization: caf\xe9\n", want: []string{
			"t.yaml:2:18: invalid UTF-8 (byte 0xe9); the file must be UTF-8 encoded",
		}},
		{name: "encoding/bad byte after multibyte", in: "version: 1\norganization: \"h\u00e9llo\xff\"\n", want: []string{
			"t.yaml:2:21: invalid UTF-8 (byte 0xff); the file must be UTF-8 encoded",
		}},
		{name: "encoding/utf-16", in: "\xff\xfev\x00e\x00r\x00", want: []string{
			"t.yaml:1:1: invalid UTF-8 (byte 0xff); the file must be UTF-8 encoded",
		}},
		{name: "encoding/NUL", in: "version: 1\x00\n", want: []string{
			"t.yaml:1:11: control character U+0000 is not allowed",
		}},
		{name: "encoding/control character", in: "version: 1\ndeployments:\n  - id: \"dep\x1b[31m\"\n", want: []string{
			"t.yaml:3:13: control character U+001B is not allowed",
		}},
		{name: "size/10 MB", in: "version: 1\n#" + strings.Repeat("x", 10<<20-13) + "\n", want: []string{
			"t.yaml:1:1: file is 10485760 bytes; the limit is 4194304",
		}},
		{name: "size/just under the limit", in: "version: 1\n#" + strings.Repeat("x", MaxFileSize-13) + "\n"},
		{name: "nesting/100k flow sequences", in: strings.Repeat("[", 100000), want: []string{
			"t.yaml:1:1: invalid YAML: exceeded max depth of 10000",
		}},
		{name: "nesting/100k flow mappings", in: "version: 1\ndeployments: " + strings.Repeat("{a: ", 100000), want: []string{
			"t.yaml:2:1: invalid YAML: exceeded max depth of 10000",
		}},
		{name: "nesting/100k block sequences", in: "version: 1\ndeployments:\n" + strings.Repeat("- ", 100000) + "x\n", want: []string{
			"t.yaml:2:1: invalid YAML: exceeded max depth of 10000",
		}},
		{name: "nesting/deep but within the limit", in: "version: 1\ndeployments: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n", want: []string{
			"t.yaml:2:15: \"deployments\" entry must be a mapping, got list",
		}},
		{name: "alias/billion laughs", in: billionLaughs, want: []string{
			"t.yaml:2:1: unknown key \"a\" at top level",
			"t.yaml:2:4: anchors and aliases are not supported (80 more in this file)",
			"t.yaml:3:1: unknown key \"b\" at top level",
			"t.yaml:4:1: unknown key \"c\" at top level",
			"t.yaml:5:1: unknown key \"d\" at top level",
			"t.yaml:6:1: unknown key \"e\" at top level",
			"t.yaml:7:1: unknown key \"f\" at top level",
			"t.yaml:8:1: unknown key \"g\" at top level",
			"t.yaml:9:1: unknown key \"h\" at top level",
			"t.yaml:10:1: unknown key \"i\" at top level",
		}},
		{name: "alias/unknown anchor", in: "version: 1\ndeployments:\n  - id: *dep\n", want: []string{
			"t.yaml:3:9: anchors and aliases are not supported",
		}},
		{name: "alias/anchor only", in: "version: 1\ndeployments: &d []\n", want: []string{
			"t.yaml:2:14: anchors and aliases are not supported",
		}},
		{name: "documents/two", in: "version: 1\n---\nversion: 1\n", want: []string{
			"t.yaml:2:1: multiple YAML documents are not supported; use one file per document",
		}},
		{name: "documents/second is bad", in: "version: 1\n---\n]\n", want: []string{
			"t.yaml:3:1: invalid YAML: did not find expected node content",
		}},
		{name: "limit/50,000 deployments", in: manyDeployments(50000), want: []string{
			"t.yaml:10003:5: too many deployments: the limit is 10000 over all files",
		}},
		{name: "limit/10,000 deployments", in: manyDeployments(MaxDeployments)},
		{name: "limit/errors", in: manyBadTokens(MaxErrors + 500), want: manyBadTokensErrors(MaxErrors + 500)},
		{name: "deployment/id and name", in: "version: 1\ndeployments:\n  - id: dep-1\n    name: analytics-prod\n    workspace: data-platform\n", want: []string{
			"t.yaml:4:5: deployment has both \"id\" and \"name\"; use one",
		}},
		{name: "deployment/neither id nor name", in: "version: 1\ndeployments:\n  - workspace: data-platform\n    prune: true\n", want: []string{
			"t.yaml:3:5: deployment needs \"id\" or \"name\"",
		}},
		{name: "deployment/name without workspace", in: "version: 1\ndeployments:\n  - name: analytics-prod\n", want: []string{
			"t.yaml:3:5: deployment \"analytics-prod\": missing key \"workspace\" (required with \"name\")",
		}},
		{name: "deployment/id with workspace", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspace: data-platform\n", want: []string{
			"t.yaml:4:5: deployment \"dep-1\": \"workspace\" is not allowed with \"id\"",
		}},
		{name: "deployment/twice", in: "version: 1\ndeployments:\n  - id: dep-1\n  - id: dep-2\n  - id: dep-1\n", want: []string{
			"t.yaml:5:5: deployment \"dep-1\" is already declared at t.yaml:3:5",
		}},
		{name: "deployment/empty id", in: "version: 1\ndeployments:\n  - id: \"\"\n", want: []string{
			"t.yaml:3:9: \"id\" must not be empty",
		}},
		{name: "token/id and name", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {id: tok-1, name: bot, role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:21: token entry has both \"id\" and \"name\"; use one",
		}},
		{name: "token/bad state", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {name: bot, state: removed}\n", want: []string{
			"t.yaml:5:28: token \"bot\": \"state\" must be \"present\" or \"absent\", got \"removed\"",
		}},
		{name: "token/role missing", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - name: bot\n", want: []string{
			"t.yaml:5:9: token \"bot\": missing key \"role\" (required unless \"state\" is \"absent\")",
		}},
		{name: "token/role missing but absent", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {name: bot, state: absent}\n"},
		{name: "token/workspace role", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {name: bot, role: WORKSPACE_OWNER}\n", want: []string{
			"t.yaml:5:27: token \"bot\": role \"WORKSPACE_OWNER\" is a workspace role, not a deployment role",
		}},
		{name: "token/organization role in lower case", in: "version: 1\ndeployments:\n  - id: dep-1\n    organizationTokens:\n      - {id: tok-1, role: organization_billing_admin}\n", want: []string{
			"t.yaml:5:27: token \"tok-1\": role \"organization_billing_admin\" is an organization role, not a deployment role",
		}},
		{name: "token/same name in both lists is two tokens", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {name: bot, role: DEPLOYMENT_ADMIN}\n    organizationTokens:\n      - {name: bot, state: absent}\n"},
		{name: "token/same id across lists", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {id: tok-bot, role: DEPLOYMENT_ADMIN}\n    organizationTokens:\n      - {id: tok-bot, state: absent}\n", want: []string{
			`t.yaml:7:9: token "tok-bot" is listed twice for deployment "dep-1" (first at line 5)`,
		}},
		{name: "token/empty role", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n      - {name: bot, role: \"\"}\n", want: []string{
			"t.yaml:5:27: \"role\" must not be empty",
		}},
		{name: "user/valid", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {username: alice@example.com, role: deployment_admin}\n      - {id: clusr1, state: absent}\n"},
		{name: "user/id and username", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {id: clusr1, username: alice@example.com, role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:22: user entry has both \"id\" and \"username\"; use one",
		}},
		{name: "user/neither", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:9: user entry needs \"id\" or \"username\"",
		}},
		{name: "user/role missing", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - username: alice@example.com\n", want: []string{
			"t.yaml:5:9: user \"alice@example.com\": missing key \"role\" (required unless \"state\" is \"absent\")",
		}},
		{name: "user/workspace owner", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {username: alice@example.com, role: WORKSPACE_OWNER}\n", want: []string{
			"t.yaml:5:45: user \"alice@example.com\": role \"WORKSPACE_OWNER\" is a workspace role, not a deployment role",
		}},
		{name: "user/organization owner in lower case", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {id: clusr1, role: organization_owner}\n", want: []string{
			"t.yaml:5:28: user \"clusr1\": role \"organization_owner\" is an organization role, not a deployment role",
		}},
		{name: "user/twice, in another case", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {username: alice@example.com, role: DEPLOYMENT_ADMIN}\n      - {username: Alice@EXAMPLE.com, state: absent}\n", want: []string{
			"t.yaml:6:9: user \"Alice@EXAMPLE.com\" is listed twice for deployment \"dep-1\" (first at line 5 as \"alice@example.com\")",
		}},
		{name: "user/twice by id", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {id: clusr1, role: DEPLOYMENT_ADMIN}\n      - {id: clusr1, role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:6:9: user \"clusr1\" is listed twice for deployment \"dep-1\" (first at line 5)",
		}},
		{name: "user/ids are exact", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {id: clusr1, role: DEPLOYMENT_ADMIN}\n      - {id: CLUSR1, role: DEPLOYMENT_ADMIN}\n"},
		{name: "user/same name as a token and a team", in: "version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens: [{name: x@example.com, role: DEPLOYMENT_ADMIN}]\n    users: [{username: x@example.com, role: DEPLOYMENT_ADMIN}]\n    teams: [{name: x@example.com, role: DEPLOYMENT_ADMIN}]\n"},
		{name: "user/in two deployments", in: "version: 1\ndeployments:\n  - id: dep-1\n    users: [{username: alice@example.com, role: DEPLOYMENT_ADMIN}]\n  - id: dep-2\n    users: [{username: alice@example.com, role: DEPLOYMENT_ADMIN}]\n"},
		{name: "user/name key", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {name: alice@example.com, role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:10: unknown key \"name\" in user entry (did you mean \"username\"?)",
		}},
		{name: "user/E-Mail key", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {E-Mail: alice@example.com, role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:10: unknown key \"E-Mail\" in user entry (did you mean \"username\"?)",
		}},
		{name: "user/key in deployment", in: "version: 1\ndeployments:\n  - id: dep-1\n    user: []\n", want: []string{
			"t.yaml:4:5: unknown key \"user\" in deployment (did you mean \"users\"?)",
		}},
		{name: "user/not an e-mail", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {username: alice, role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:20: \"username\" must be an e-mail address, got \"alice\" (no \"@\")",
		}},
		{name: "user/escaped control character", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {username: \"alice\\e[2J@example.com\", role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:20: \"username\" must be an e-mail address, got \"alice\\x1b[2J@example.com\" (it contains control character U+001B)",
		}},
		{name: "user/right-to-left override", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {username: \"moc.elpmaxe@\u202eecila\", role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:20: \"username\" must be an e-mail address, got \"moc.elpmaxe@\\u202eecila\" (it contains invisible character U+202E)",
		}},
		{name: "user/long username is cut", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n      - {username: " + strings.Repeat("a", 5000) + ", role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:20: \"username\" must be an e-mail address, got \"" + strings.Repeat("a", 40) + "...\" (no \"@\")",
		}},
		{name: "user/users null", in: "version: 1\ndeployments:\n  - id: dep-1\n    users:\n", want: []string{
			"t.yaml:4:11: \"users\" must be a list, got null",
		}},
		{name: "user/entry a string", in: "version: 1\ndeployments:\n  - id: dep-1\n    users: [alice@example.com]\n", want: []string{
			"t.yaml:4:13: \"users\" entry must be a mapping, got string \"alice@example.com\"",
		}},
		{name: "user/alias", in: "version: 1\ndeployments:\n  - id: dep-1\n    users: [&a {id: u, role: DEPLOYMENT_ADMIN}, *a]\n", want: []string{
			"t.yaml:4:13: anchors and aliases are not supported (1 more in this file)",
		}},
		{name: "team/valid", in: "version: 1\ndeployments:\n  - id: dep-1\n    teams:\n      - {name: data-engineering, role: DEPLOYMENT_ADMIN}\n      - {id: clteam1, state: absent}\n"},
		{name: "team/id and name", in: "version: 1\ndeployments:\n  - id: dep-1\n    teams:\n      - {id: clteam1, name: ml, role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:23: team entry has both \"id\" and \"name\"; use one",
		}},
		{name: "team/bad state", in: "version: 1\ndeployments:\n  - id: dep-1\n    teams:\n      - {name: ml, state: gone}\n", want: []string{
			"t.yaml:5:27: team \"ml\": \"state\" must be \"present\" or \"absent\", got \"gone\"",
		}},
		{name: "team/twice", in: "version: 1\ndeployments:\n  - id: dep-1\n    teams:\n      - {name: ml, role: DEPLOYMENT_ADMIN}\n      - {name: ml, state: absent}\n", want: []string{
			"t.yaml:6:9: team \"ml\" is listed twice for deployment \"dep-1\" (first at line 5)",
		}},
		{name: "team/names are exact", in: "version: 1\ndeployments:\n  - id: dep-1\n    teams:\n      - {name: ml, role: DEPLOYMENT_ADMIN}\n      - {name: ML, state: absent}\n"},
		{name: "team/key in deployment", in: "version: 1\ndeployments:\n  - id: dep-1\n    team: []\n", want: []string{
			"t.yaml:4:5: unknown key \"team\" in deployment (did you mean \"teams\"?)",
		}},
		{name: "team/teamName key", in: "version: 1\ndeployments:\n  - id: dep-1\n    teams:\n      - {teamName: ml, role: DEPLOYMENT_ADMIN}\n", want: []string{
			"t.yaml:5:10: unknown key \"teamName\" in team entry (did you mean \"name\"?)",
		}},
		{name: "team/role missing", in: "version: 1\ndeployments:\n  - id: dep-1\n    teams:\n      - id: clteam1\n", want: []string{
			"t.yaml:5:9: team \"clteam1\": missing key \"role\" (required unless \"state\" is \"absent\")",
		}},
		{name: "team/workspace accessor", in: "version: 1\ndeployments:\n  - id: dep-1\n    teams:\n      - {name: ml, role: workspace_accessor}\n", want: []string{
			"t.yaml:5:26: team \"ml\": role \"workspace_accessor\" is a workspace role, not a deployment role",
		}},
		{name: "glob/ignoreUsers bad", in: "version: 1\nignoreUsers: [\"*@[example.com\"]\n", want: []string{
			"t.yaml:2:15: invalid glob \"*@[example.com\": a character class ([...]) is not closed",
		}},
		{name: "glob/ignoreTeams bad", in: "version: 1\nignoreTeams: [ok-*, \"idp-\\\\\"]\n", want: []string{
			"t.yaml:2:21: invalid glob \"idp-\\\\\": the pattern ends with a lone \\; write \\\\ for a backslash",
		}},
		{name: "glob/ignoreTeams mapping", in: "version: 1\nignoreTeams: {a: b}\n", want: []string{
			"t.yaml:2:14: \"ignoreTeams\" must be a list, got mapping",
		}},
		{name: "glob/ignoreUser", in: "version: 1\nignoreUser: []\n", want: []string{
			"t.yaml:2:1: unknown key \"ignoreUser\" at top level (did you mean \"ignoreUsers\"?)",
		}},
		{name: "glob/too long", in: "version: 1\nignoreTokens: [\"*" + strings.Repeat("a", MaxGlob) + "\"]\n", want: []string{
			"t.yaml:2:16: invalid glob \"*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": 1025 bytes, longer than a pattern may be (1024)",
		}},
		{name: "glob/bad", in: "version: 1\nignoreTokens: [\"break-glass-[\"]\n", want: []string{
			"t.yaml:2:16: invalid glob \"break-glass-[\": a character class ([...]) is not closed",
		}},
		{name: "glob/classes", in: "version: 1\nignoreTokens: [\"ci-[]\", \"ci-[z-a]\", \"ci-[0-9]\", \"ci-\\\\[x\\\\]\"]\n", want: []string{
			"t.yaml:2:16: invalid glob \"ci-[]\": ']' is not a character of a class: write \\] (a class is never empty)",
			"t.yaml:2:25: invalid glob \"ci-[z-a]\": the character range z-a is backwards",
		}},
		{name: "glob/not a string", in: "version: 1\nignoreTokens: [42]\n", want: []string{
			"t.yaml:2:16: \"ignoreTokens\" entry must be a string, got integer 42",
		}},
		{name: "version/2", in: "version: 2\n", want: []string{
			"t.yaml:1:10: unsupported version 2; this build reads version 1",
		}},
		{name: "version/missing", in: "deployments: []\n", want: []string{
			"t.yaml:1:1: missing key \"version\" (the format version, 1)",
		}},
		{name: "version/float", in: "version: 1.0\n", want: []string{
			"t.yaml:1:10: \"version\" must be an integer, got number 1.0",
		}},
		{name: "version/huge", in: "version: 99999999999999999999999\n", want: []string{
			"t.yaml:1:10: \"version\" must be an integer, got number 99999999999999999999999",
		}},
		{name: "organization/empty", in: "version: 1\norganization: \"\"\n", want: []string{
			"t.yaml:2:15: \"organization\" must not be empty",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				s   *Spec
				err error
			)
			if n := allocated(func() { s, err = Parse("t.yaml", []byte(tt.in)) }); n > parseBudget(len(tt.in)) {
				t.Errorf("Parse allocated %d bytes for %d bytes of input (budget %d)", n, len(tt.in), parseBudget(len(tt.in)))
			}
			if (err == nil) != (s != nil) {
				t.Errorf("Parse returned spec %v and error %v: want exactly one", s != nil, err)
			}
			got := errorLines(t, err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// allocated returns the bytes f allocates on the heap. Unlike a duration
// it does not depend on how busy the machine is, so a bound on it holds
// on a shared machine and under the race detector alike.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// parseBudget is what parsing an input of n bytes may allocate: 200 times
// its size (the YAML node tree, positions, errors; the worst hostile input
// takes about 120) over a floor for tiny inputs. An expansion attack
// (aliases, deep nesting) or a quadratic step blows far past it.
func parseBudget(n int) uint64 { return 16<<20 + 200*uint64(n) }

// TestErrorTotal: a list capped at MaxErrors counts the errors it left out,
// so that what says how many errors a spec has says the true number.
func TestErrorTotal(t *testing.T) {
	for _, n := range []int{1, MaxErrors, MaxErrors + 1, 3 * MaxErrors} {
		_, err := Parse("t.yaml", []byte(manyBadTokens(n)))
		list, ok := err.(ErrorList)
		if !ok {
			t.Fatalf("%d errors: error is %T, want ErrorList", n, err)
		}
		if got := list.Total(); got != n {
			t.Errorf("%d errors: Total() = %d", n, got)
		}
	}
}
