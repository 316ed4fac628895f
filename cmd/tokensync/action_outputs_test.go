package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// TestActionOutputsDocumented: the outputs docs/ci.md and the example
// workflow list are those action.yml declares and action/run.sh sets.
func TestActionOutputsDocumented(t *testing.T) {
	read := func(name string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	var a actionYAML
	if err := yaml.Unmarshal([]byte(read("action.yml")), &a); err != nil {
		t.Fatal(err)
	}
	var want []string
	for name := range a.Outputs {
		want = append(want, name)
	}
	slices.Sort(want)
	var set []string
	for _, m := range regexp.MustCompile(`(?m)^\s*echo "([a-z-]+)=`).FindAllStringSubmatch(read("action/run.sh"), -1) {
		set = append(set, m[1])
	}
	slices.Sort(set)
	if diff := cmp.Diff(want, set); diff != "" {
		t.Errorf("action/run.sh sets other outputs than action.yml declares (-want +got):\n%s", diff)
	}
	for _, doc := range []struct{ name, re string }{
		{"docs/ci.md", `Outputs: ([^.]*)\.`},
		{"examples/ci/github-actions.yml", `# Outputs: ([^\n]*)`},
	} {
		m := regexp.MustCompile(doc.re).FindStringSubmatch(read(doc.name))
		if m == nil {
			t.Errorf("%s lists no outputs", doc.name)
			continue
		}
		for _, name := range want {
			if !strings.Contains(m[1], name) {
				t.Errorf("%s: the outputs (%q) leave out %s", doc.name, m[1], name)
			}
		}
	}
}
