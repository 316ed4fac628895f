package spec

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// largeSpec returns a valid spec of deployments × (tokens + users + teams)
// assignments, in the block style people write, with a comment now and then.
func largeSpec(deployments, tokens, users, teams int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\norganization: clx0org0000000000000000\nignoreTokens: [\"break-glass-*\"]\ndeployments:\n")
	for d := range deployments {
		if d%2 == 0 {
			fmt.Fprintf(&b, "  - id: clvduhrvd%016d # deployment %d\n    prune: true\n", d, d)
		} else {
			fmt.Fprintf(&b, "  - name: deployment-%d\n    workspace: workspace-%d\n    allowEmpty: false\n", d, d%7)
		}
		b.WriteString("    workspaceTokens:\n")
		for t := range tokens {
			switch {
			case t == tokens-1:
				fmt.Fprintf(&b, "    organizationTokens:\n      - name: org-token-%d\n        role: deployment_admin\n", t)
			case t%3 == 0:
				fmt.Fprintf(&b, "      - id: clxtok%020d\n        role: DAG_DEPLOYER\n", t)
			case t%10 == 1:
				fmt.Fprintf(&b, "      - name: old bot %d\n        state: absent\n", t)
			default:
				fmt.Fprintf(&b, "      - name: \"ci token %d\"\n        role: DEPLOYMENT_ADMIN\n", t)
			}
		}
		if users > 0 {
			b.WriteString("    users:\n")
		}
		for u := range users {
			switch {
			case u%5 == 0:
				fmt.Fprintf(&b, "      - id: clusr%022d\n        role: DAG_DEPLOYER\n", u)
			case u%10 == 1:
				fmt.Fprintf(&b, "      - username: Former.User%d@Example.com\n        state: absent\n", u)
			default:
				fmt.Fprintf(&b, "      - username: user%d@example.com # a person\n        role: deployment_admin\n", u)
			}
		}
		if teams > 0 {
			b.WriteString("    teams:\n")
		}
		for t := range teams {
			fmt.Fprintf(&b, "      - name: team %d\n        role: DEPLOYMENT_ADMIN\n", t)
		}
	}
	return []byte(b.String())
}

// BenchmarkParse parses generated specs: S (10 deployments × 10 token
// entries), M (100 × 30), L (1,000 × 30: 30,000 assignments, about 2 MB)
// and P (300 × (10 tokens + 40 users + 10 teams): 18,000 assignments).
// The yaml sub-benchmarks measure the YAML parser alone on the same input,
// the floor under Parse.
func BenchmarkParse(b *testing.B) {
	for _, size := range []struct {
		name                              string
		deployments, tokens, users, teams int
	}{{"S", 10, 10, 0, 0}, {"M", 100, 30, 0, 0}, {"L", 1000, 30, 0, 0}, {"P", 300, 10, 40, 10}} {
		data := largeSpec(size.deployments, size.tokens, size.users, size.teams)
		if len(data) > MaxFileSize {
			b.Fatalf("spec is %d bytes, over the limit", len(data))
		}
		b.Run(size.name, func(b *testing.B) {
			s, err := Parse("large.yaml", data)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, d := range s.Deployments {
				n += len(d.WorkspaceTokens) + len(d.OrganizationTokens) + len(d.Users) + len(d.Teams)
			}
			if len(s.Deployments) != size.deployments || n != size.deployments*(size.tokens+size.users+size.teams) {
				b.Fatalf("got %d deployments, %d entries", len(s.Deployments), n)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("large.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/yaml", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var n yaml.Node
				if err := yaml.Unmarshal(data, &n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
