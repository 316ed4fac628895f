package spec

import "strings"

// Suggest returns the candidate closest to s by edit distance, ignoring
// case, '_' and '-', or "" when none is close: at most 1 edit for
// candidates of up to 4 characters, 2 for longer ones.
func Suggest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	ns := fold(s)
	best, bestDist := "", 3
	for _, c := range candidates {
		nc := fold(c)
		limit := 2
		if len(nc) <= 4 {
			limit = 1
		}
		if d := distance(ns, nc); d <= limit && d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func fold(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
