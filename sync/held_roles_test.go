package sync

import (
	"fmt"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHeldLikeMap checks held against a map, below and past the number
// of roles its array keeps.
func TestHeldLikeMap(t *testing.T) {
	for _, n := range []int{0, 1, heldList - 1, heldList, heldList + 1, 3 * heldList} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var h held
			want := map[Scope]string{}
			sc := func(i int) Scope { return Scope{Level: LevelDeployment, ID: fmt.Sprintf("dep-%d", i)} }
			for i := range n {
				h.set(sc(i), "A")
				want[sc(i)] = "A"
			}
			for i := 0; i < n; i += 3 {
				h.set(sc(i), "B")
				want[sc(i)] = "B"
			}
			for i := 1; i < n; i += 4 {
				h.delete(sc(i))
				delete(want, sc(i))
			}
			h.delete(sc(n + 1)) // not held
			got := map[Scope]string{}
			h.all(func(s Scope, role string) { got[s] = role })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("all (-want +got):\n%s", diff)
			}
			for s, role := range maps.All(want) {
				if r, ok := h.get(s); !ok || r != role {
					t.Errorf("get(%v) = %q, %v; want %q, true", s, r, ok, role)
				}
			}
			if _, ok := h.get(sc(n + 1)); ok {
				t.Errorf("get of a scope never set: held")
			}
		})
	}
}
