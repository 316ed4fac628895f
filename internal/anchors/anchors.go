// Package anchors finds YAML anchors and aliases, which tokensync refuses
// in every YAML file it reads (spec files, emulator state): refusing them
// before anything follows an alias defuses alias bombs, where a small file
// stands for a huge tree.
package anchors

import "go.yaml.in/yaml/v3"

// Find returns the first anchor or alias of the tree under root, in
// document order, and how many there are; nil and 0 when there is none.
// The walk does not follow aliases, so it costs one visit per node.
func Find(root *yaml.Node) (first *yaml.Node, n int) {
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.Kind == yaml.AliasNode || x.Anchor != "" {
			if first == nil {
				first = x
			}
			n++
		}
		if x.Kind == yaml.AliasNode {
			continue
		}
		for i := len(x.Content) - 1; i >= 0; i-- {
			stack = append(stack, x.Content[i])
		}
	}
	return first, n
}
