package access

import "strings"

// Glob is a case-insensitive pattern where * matches any run of
// characters (slashes too) and ? any one character.
type Glob string

// Match says s matches the pattern.
func (g Glob) Match(s string) bool {
	return globMatch([]rune(strings.ToLower(string(g))), []rune(strings.ToLower(s)))
}

// globMatch matches with one backtracking point, the last *: linear in
// practice, never exponential.
func globMatch(p, s []rune) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// anyMatch says s matches one of globs.
func anyMatch(globs []Glob, s ...string) bool {
	for _, g := range globs {
		for _, x := range s {
			if g.Match(x) {
				return true
			}
		}
	}
	return false
}
