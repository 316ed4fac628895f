package main

import (
	"strings"
	"testing"

	"github.com/tokensync/tokensync/render"
)

// TestMarkdownOnFailure: with -o markdown, a plan that fails still prints a
// markdown document on stdout that starts with the plan's marker and says
// that it failed and why (escaped), so a pull-request comment found by the
// marker never keeps showing an older plan; the exit code is unchanged.
func TestMarkdownOnFailure(t *testing.T) {
	tests := []struct {
		name  string
		creds string
		spec  string
		args  []string
		code  int
		want  []string
	}{
		{
			name: "invalid spec",
			spec: "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - {name: ci, role: WORKSPACE_OWNER}\n",
			code: exitInvalid,
			want: []string{"### tokensync plan: failed", `role "WORKSPACE\_OWNER" is a workspace role`},
		},
		{
			name: "unresolvable reference",
			spec: "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - {name: \"<b>nobody|here</b>\", role: DEPLOYMENT_ADMIN}\n",
			code: exitInvalid,
			want: []string{"### tokensync plan: failed", `&lt;b&gt;nobody\|here&lt;/b&gt;`},
		},
		{
			name:  "API error",
			creds: "credentials: [{secret: someone-else}]\n",
			spec:  mainSpec,
			code:  exitError,
			want:  []string{"### tokensync plan: failed", "401"},
		},
		{
			name: "guard refusal",
			spec: "version: 1\ndeployments:\n  - id: dep-a1\n    prune: true\n    allowEmpty: true\n    workspaceTokens: []\n",
			args: []string{"--max-removals", "0"},
			code: exitRefused,
			want: []string{"**Refused by guard max-removals:**"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, testState+tt.creds)
			f := c.write("tokens.yaml", tt.spec)
			r := c.run(append([]string{"plan", "-f", f, "-o", "markdown"}, tt.args...)...)
			wantCode(t, r, tt.code)
			if !strings.HasPrefix(r.stdout, render.DefaultMarker+"\n") {
				t.Errorf("stdout does not start with the marker:\n%s", r.stdout)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, raw := range []string{"<b>nobody", "nobody|here"} {
				if strings.Contains(r.stdout, raw) {
					t.Errorf("stdout holds %q unescaped:\n%s", raw, r.stdout)
				}
			}
			if tt.code != exitRefused && r.stderr == "" {
				t.Error("the error is not on stderr too")
			}
		})
	}
}
