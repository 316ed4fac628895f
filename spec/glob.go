package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Glob is a pattern in tokensync's one glob dialect, the dialect of every
// glob it takes: the spec's ignoreTokens, ignoreUsers and ignoreTeams,
// --protect, export --ignore, and report --principal and --production.
//
//   - * matches any run of characters, the empty run and '/' included;
//   - ? matches any one character;
//   - [abc], [a-z] match one character of the class, [^a-z] one not in it
//     (write \-, \] and \\ for those characters inside);
//   - \ makes the next character literal: \*, \?, \[, \\;
//   - every character, in a class too, matches in any case (Unicode simple
//     case folding, as strings.EqualFold).
//
// It is path.Match's syntax, with * crossing '/' and case ignored. Names
// in Astro are display names and usernames are e-mail addresses, in which
// case means nothing, and a name may hold a '/'. A glob matches more this
// way than path.Match, never less: the globs that ignore and protect are
// safer for it.
type Glob string

// MaxGlob is the longest glob in bytes. Matching backtracks to the last
// *, so its cost grows with a glob's length times a name's: a glob of
// 40,000 characters took 22 s against one long name.
const MaxGlob = 1024

// ParseGlob returns s as a Glob, or why it is not one: it is empty or
// longer than MaxGlob, a class is not closed, is empty or has a backwards
// range, or it ends with a lone backslash.
func ParseGlob(s string) (Glob, error) {
	if s == "" {
		return "", errors.New("an empty pattern matches nothing; * matches everything")
	}
	if len(s) > MaxGlob {
		return "", fmt.Errorf("%d bytes, longer than a pattern may be (%d)", len(s), MaxGlob)
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '*', '?':
			i++
		case '[':
			n, _, err := class(s[i:], nil)
			if err != nil {
				return "", err
			}
			i += n
		default:
			_, n, err := literal(s[i:])
			if err != nil {
				return "", err
			}
			i += n
		}
	}
	return Glob(s), nil
}

// Match reports whether name matches g. A glob that ParseGlob refuses
// matches nothing.
func (g Glob) Match(name string) bool {
	return globMatch(string(g), name)
}

// globMatch matches with one backtracking point, the last *: linear in
// practice, never exponential.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0 // the byte after the last * in p; where in s its run ends
	for si < len(s) {
		if pi < len(p) && p[pi] == '*' {
			pi++
			star, mark = pi, si
			continue
		}
		r, sn := utf8.DecodeRuneInString(s[si:])
		if pi < len(p) {
			pn, ok, err := element(p[pi:], r)
			if err != nil {
				return false
			}
			if ok {
				pi += pn
				si += sn
				continue
			}
		}
		if star < 0 {
			return false
		}
		_, mn := utf8.DecodeRuneInString(s[mark:])
		mark += mn
		pi, si = star, mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// element matches r against the element p starts with (not a *): a ?, a
// class or a literal. It returns the element's length in bytes.
func element(p string, r rune) (n int, ok bool, err error) {
	switch p[0] {
	case '?':
		return 1, true, nil
	case '[':
		return class(p, foldsOf(r))
	}
	c, n, err := literal(p)
	return n, err == nil && foldEqual(c, r), err
}

// literal reads the character p starts with, \ escaping the next one.
func literal(p string) (c rune, n int, err error) {
	if p[0] != '\\' {
		c, n = utf8.DecodeRuneInString(p)
		return c, n, nil
	}
	if len(p) == 1 {
		return 0, 0, errors.New(`the pattern ends with a lone \; write \\ for a backslash`)
	}
	c, n = utf8.DecodeRuneInString(p[1:])
	return c, n + 1, nil
}

// class reads the class p starts with ('['), and says whether one of folds
// (a character and its other cases) is in it, or for [^...] none is.
func class(p string, folds []rune) (n int, ok bool, err error) {
	i := 1
	negated := i < len(p) && p[i] == '^'
	if negated {
		i++
	}
	in := false
	for first := true; i >= len(p) || p[i] != ']' || first; first = false {
		lo, m, err := classChar(p[i:])
		if err != nil {
			return 0, false, err
		}
		i += m
		hi := lo
		if i < len(p) && p[i] == '-' {
			if hi, m, err = classChar(p[i+1:]); err != nil {
				return 0, false, err
			}
			i += 1 + m
			if hi < lo {
				return 0, false, fmt.Errorf("the character range %c-%c is backwards", lo, hi)
			}
		}
		for _, f := range folds {
			in = in || (lo <= f && f <= hi)
		}
	}
	return i + 1, in != negated, nil
}

// classChar reads one character of a class.
func classChar(p string) (rune, int, error) {
	switch {
	case p == "" || p == `\`:
		return 0, 0, errors.New("a character class ([...]) is not closed")
	case p[0] == '-' || p[0] == ']':
		return 0, 0, fmt.Errorf(`%q is not a character of a class: write \%c (a class is never empty)`, p[0], p[0])
	}
	return literal(p)
}

// foldsOf is r and its other cases.
func foldsOf(r rune) []rune {
	folds := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		folds = append(folds, f)
	}
	return folds
}

// foldEqual reports whether a and b are equal under simple case folding.
func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// MatchFile reports whether one of globs, the files of a policy, matches
// the spec file name (a path as given with -f): its absolute path,
// cleaned, with '/' separating its parts (filepath.Abs, then
// filepath.ToSlash), or any trailing part of that which starts after a
// '/'. So however -f spells a path (from another directory, absolute,
// with "//", "/./" or "..") the same globs match it. Stdin is matched as
// it is named; the empty name (no file) matches nothing.
func MatchFile(globs []Glob, name string) bool {
	if name == "" {
		return false
	}
	if name != Stdin {
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		} else { // no working directory: the path as given, cleaned
			name = filepath.Clean(name)
		}
	}
	name = filepath.ToSlash(name)
	for {
		for _, g := range globs {
			if g.Match(name) {
				return true
			}
		}
		_, rest, ok := strings.Cut(name, "/")
		if !ok {
			return false
		}
		name = rest
	}
}
