package spec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestListedTwiceAcrossLongLists: a principal listed twice is found
// whether the lists of an entry hold a few principals or many, and across
// the two token lists, which share their principals (tokens by id): a
// short first list and a long second one, a long list alone.
func TestListedTwiceAcrossLongLists(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ndeployments:\n  - id: dep-1\n    workspaceTokens:\n")
	for i := range 3 {
		fmt.Fprintf(&b, "      - {id: tok-%d, role: DEPLOYMENT_ADMIN}\n", i) // lines 5-7
	}
	b.WriteString("    organizationTokens:\n") // line 8
	for i := range 12 {
		fmt.Fprintf(&b, "      - {id: org-%d, role: DEPLOYMENT_ADMIN}\n", i) // lines 9-20
	}
	b.WriteString("      - {id: tok-1, state: absent}\n")           // line 21
	b.WriteString("      - {id: org-10, role: DEPLOYMENT_ADMIN}\n") // line 22
	b.WriteString("    users:\n")                                   // line 23
	for i := range 20 {
		fmt.Fprintf(&b, "      - {username: u%d@example.com, role: DEPLOYMENT_ADMIN}\n", i) // lines 24-43
	}
	b.WriteString("      - {username: U3@Example.com, state: absent}\n") // line 44
	b.WriteString("    teams:\n")                                        // line 45
	for i := range 5 {
		fmt.Fprintf(&b, "      - {name: team-%d, role: DEPLOYMENT_ADMIN}\n", i) // lines 46-50
	}
	b.WriteString("      - {name: team-4, state: absent}\n") // line 51
	_, err := Parse("t.yaml", []byte(b.String()))
	var got []string
	if err != nil {
		got = strings.Split(err.Error(), "\n")
	}
	want := []string{
		`t.yaml:21:9: token "tok-1" is listed twice for deployment "dep-1" (first at line 6)`,
		`t.yaml:22:9: token "org-10" is listed twice for deployment "dep-1" (first at line 19)`,
		`t.yaml:44:9: user "U3@Example.com" is listed twice for deployment "dep-1" (first at line 27 as "u3@example.com")`,
		`t.yaml:51:9: team "team-4" is listed twice for deployment "dep-1" (first at line 50)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
