package spec

import "strings"

// Suggest returns the candidate closest to s by edit distance in
// characters, ignoring case, '_' and '-', or "" when none is close: at
// most 1 edit for candidates of up to 4 characters, 2 for longer ones; of
// equally close candidates, the first.
func Suggest(s string, candidates []string) string {
	return NewSuggester(candidates).Suggest(s)
}

// Suggester suggests among the same candidates for many names: a spec
// that gets a thousand names wrong in an organization of 50,000 users asks
// a thousand times. The candidates are folded once, and a candidate is
// given up as soon as it is too far.
type Suggester struct {
	candidates []string
	folded     [][]rune // fold of each candidate
}

// NewSuggester returns a Suggester among candidates, which it keeps.
func NewSuggester(candidates []string) *Suggester {
	folded := make([][]rune, len(candidates))
	for i, c := range candidates {
		folded[i] = []rune(fold(c))
	}
	return &Suggester{candidates: candidates, folded: folded}
}

// Suggest is Suggest(s, the candidates).
func (sg *Suggester) Suggest(s string) string {
	if len(s) > 64 {
		return ""
	}
	ns := []rune(fold(s))
	// The rows of within: a candidate is compared only when it is
	// within 2 characters of ns's length.
	prev, cur := make([]int, len(ns)+3), make([]int, len(ns)+3)
	best, bestDist := "", 3
	for i, nc := range sg.folded {
		limit := 2
		if len(nc) <= 4 {
			limit = 1
		}
		k := min(limit, bestDist-1)
		if d := within(ns, nc, k, prev, cur); d <= k {
			best, bestDist = sg.candidates[i], d
			if d == 0 {
				break
			}
		}
	}
	return best
}

// fold is s as Suggest compares it: lower case, without '_' and '-'.
func fold(s string) string { return strings.ToLower(foldDashes.Replace(s)) }

// foldDashes drops '_' and '-' (built once: a Replacer builds its tables
// on first use).
var foldDashes = strings.NewReplacer("_", "", "-", "")

// within is the Levenshtein distance between a and b, in characters, when it
// is at most k, and k+1 otherwise. Only the cells of the rows within k of
// the diagonal are computed, and it stops at the first row whose cells
// are all over k. prev and cur are its rows, of at least len(a)+k+1
// cells.
func within(a, b []rune, k int, prev, cur []int) int {
	far := k + 1
	if k < 0 || len(a)-len(b) > k || len(b)-len(a) > k {
		return far
	}
	for j := 0; j <= len(b); j++ {
		prev[j] = min(j, far)
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-k), min(len(b), i+k)
		cur[0] = min(i, far)
		if lo > 1 {
			cur[lo-1] = far
		}
		least := cur[0]
		for j := lo; j <= hi; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost, far)
			cur[j] = v
			least = min(least, v)
		}
		if hi < len(b) {
			cur[hi+1] = far
		}
		if least > k {
			return far
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
