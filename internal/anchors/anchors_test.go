package anchors

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		yaml      string
		line, col int
		n         int
	}{
		{"a: 1\nb: [2, 3]\n", 0, 0, 0},
		{"a: &x 1\nb: *x\n", 1, 4, 2},
		{"a:\n  - {k: 1}\n  - &t {k: &u 2}\n  - *t\n  - *u\n", 3, 5, 4},
		{"base: &b {k: 1}\nx:\n  <<: *b\n", 1, 7, 2},
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(tc.yaml), &doc); err != nil {
			t.Fatal(err)
		}
		first, n := Find(&doc)
		if n != tc.n || (n == 0) != (first == nil) || (first != nil && (first.Line != tc.line || first.Column != tc.col)) {
			t.Errorf("Find(%q) = %v, %d; want line %d col %d, %d", tc.yaml, first, n, tc.line, tc.col, tc.n)
		}
	}
}
