package sync

import (
	"strconv"
	"testing"
)

// TestAppendQuote: appendQuote writes what strconv.AppendQuote writes,
// which the fingerprints' digests are made of.
func TestAppendQuote(t *testing.T) {
	cases := []string{"", "ORGANIZATION_MEMBER", "clbenchws0000000000000024", "a b", `a"b`, `a\b`, "a\x7fb", "é", "\u2028", "\xff", "tab\t", "~!@#$%^&*()_+`-={}[]|:;'<>?,./"}
	for c := range 256 {
		cases = append(cases, string(rune(c)), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range cases {
		if got, want := string(appendQuote([]byte("p"), s)), string(strconv.AppendQuote([]byte("p"), s)); got != want {
			t.Errorf("appendQuote(%q) = %s, want %s", s, got, want)
		}
	}
}
