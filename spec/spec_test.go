package spec

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/astroapi"
)

func TestPosString(t *testing.T) {
	tests := []struct {
		pos  Pos
		want string
	}{
		{Pos{File: "tokens.yaml", Line: 12, Col: 9}, "tokens.yaml:12:9"},
		{Pos{File: "tokens.yaml", Line: 12}, "tokens.yaml:12"},
		{Pos{File: "tokens.yaml"}, "tokens.yaml"},
		{Pos{File: "dir/a b.yaml", Line: 1, Col: 1}, "dir/a b.yaml:1:1"},
	}
	for _, tt := range tests {
		if got := tt.pos.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.pos, got, tt.want)
		}
	}
}

func TestErrorList(t *testing.T) {
	var empty ErrorList
	if empty.Err() != nil {
		t.Error("empty ErrorList.Err() != nil")
	}
	l := ErrorList{
		{Pos: Pos{"b.yaml", 1, 1}, Msg: "b"},
		{Pos: Pos{"a.yaml", 3, 1}, Msg: "a3"},
		{Pos: Pos{"a.yaml", 2, 7}, Msg: "a2.7 first"},
		{Pos: Pos{"a.yaml", 2, 7}, Msg: "a2.7 second"},
		{Pos: Pos{"a.yaml", 2, 3}, Msg: "a2.3"},
		{Pos: Pos{File: "a.yaml"}, Msg: "whole file", Err: errNotFound},
	}
	l.Sort()
	want := "a.yaml: whole file\na.yaml:2:3: a2.3\na.yaml:2:7: a2.7 first\na.yaml:2:7: a2.7 second\na.yaml:3:1: a3\nb.yaml:1:1: b"
	if diff := cmp.Diff(want, l.Err().Error()); diff != "" {
		t.Errorf("sorted ErrorList (-want +got):\n%s", diff)
	}
	if !errors.Is(l, errNotFound) {
		t.Error("errors.Is does not see the wrapped error")
	}
}

var errNotFound = errors.New("not found")

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{
		"prunee":             "prune",
		"prun":               "prune",
		"Prune":              "prune",
		"allow_empty":        "allowEmpty",
		"workspace-tokens":   "workspaceTokens",
		"workspaceToken":     "workspaceTokens",
		"organisationTokens": "organizationTokens",
		"ID":                 "id",
		"ids":                "id",
		"nam":                "name",
		"tokens":             "",
		"x":                  "",
		"description":        "",
	} {
		if got := Suggest(in, deploymentKeys); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDeploymentListed checks that a deployment lists the kinds whose key
// its entry contains, an empty list included, and no other: prune owns
// only those.
func TestDeploymentListed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Kind
	}{
		{"no key", "prune: true", nil},
		{"empty workspaceTokens", "workspaceTokens: []", []Kind{KindWorkspaceToken}},
		{"organizationTokens only", "organizationTokens: [{name: o, role: DEPLOYMENT_ADMIN}]", []Kind{KindOrganizationToken}},
		{"both token keys, in Kinds order", "organizationTokens: []\n    workspaceTokens: [{name: w, state: absent}]", []Kind{KindWorkspaceToken, KindOrganizationToken}},
		{"empty users", "users: []", []Kind{KindUser}},
		{"teams only", "teams: [{name: t, role: DEPLOYMENT_ADMIN}]", []Kind{KindTeam}},
		{"tokens and users, not teams", "users: [{username: a@example.com, role: DEPLOYMENT_ADMIN}]\n    workspaceTokens: []", []Kind{KindWorkspaceToken, KindUser}},
		{"every key", "teams: []\n    users: []\n    organizationTokens: []\n    workspaceTokens: []", Kinds()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte("version: 1\ndeployments:\n  - id: dep-1\n    "+tt.in+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			d := s.Deployments[0]
			if diff := cmp.Diff(tt.want, d.Lists); diff != "" {
				t.Errorf("Lists mismatch (-want +got):\n%s", diff)
			}
			for _, k := range Kinds() {
				if got, want := d.Listed(k), slices.Contains(tt.want, k); got != want {
					t.Errorf("Listed(%s) = %v, want %v", k, got, want)
				}
			}
		})
	}
}

// TestDeploymentListedInCode checks that a Deployment built in code lists
// the kinds it has entries of, even without Lists.
func TestDeploymentListedInCode(t *testing.T) {
	d := Deployment{
		ID:                 "dep-1",
		OrganizationTokens: []TokenEntry{{Name: "o", Role: astroapi.RoleDeploymentAdmin, State: Present}},
		Teams:              []TeamEntry{{Name: "t", Role: astroapi.RoleDeploymentAdmin, State: Present}},
	}
	want := map[Kind]bool{KindOrganizationToken: true, KindTeam: true}
	for _, k := range Kinds() {
		if got := d.Listed(k); got != want[k] {
			t.Errorf("Listed(%s) = %v, want %v", k, got, want[k])
		}
	}
}

func TestKindKey(t *testing.T) {
	want := []string{"workspaceTokens", "organizationTokens", "users", "teams"}
	var got []string
	for _, k := range Kinds() {
		got = append(got, k.Key())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys mismatch (-want +got):\n%s", diff)
	}
	if k := Kind("token"); k.Key() != "" {
		t.Errorf("Kind(%q).Key() = %q, want \"\"", k, k.Key())
	}
}

// TestSuggestIsTheClosest: Suggest, which computes only what it needs of
// each distance, picks what comparing the whole edit distance of every
// candidate picks (the first of the closest, within the limit).
func TestSuggestIsTheClosest(t *testing.T) {
	alphabet := rapid.SampledFrom([]rune("abAB_-xyé"))
	word := rapid.StringOfN(alphabet, 0, 12, -1)
	rapid.Check(t, func(t *rapid.T) {
		s := word.Draw(t, "s")
		// Words and words a few edits from s, which the limit is about.
		near := rapid.Custom(func(t *rapid.T) string {
			r := []rune(s)
			for range rapid.IntRange(0, 3).Draw(t, "edits") {
				at := rapid.IntRange(0, len(r)).Draw(t, "at")
				c := alphabet.Draw(t, "rune")
				switch {
				case rapid.Bool().Draw(t, "insert") || at == len(r):
					r = append(r[:at], append([]rune{c}, r[at:]...)...)
				case rapid.Bool().Draw(t, "delete"):
					r = append(r[:at], r[at+1:]...)
				default:
					r[at] = c
				}
			}
			return string(r)
		})
		candidates := rapid.SliceOfN(rapid.OneOf(word, near), 0, 30).Draw(t, "candidates")
		if got, want := Suggest(s, candidates), closest(s, candidates); got != want {
			t.Fatalf("Suggest(%q, %q) = %q, want %q", s, candidates, got, want)
		}
	})
}

// TestSuggestCountsCharacters: the distance and the limit count
// characters, not bytes: "zoë" is one edit from "zoe".
func TestSuggestCountsCharacters(t *testing.T) {
	for _, tt := range []struct {
		s          string
		candidates []string
		want       string
	}{
		{"zoe", []string{"zoë"}, "zoë"},
		{"数据组", []string{"数据"}, "数据"},
		{"Åsa-team", []string{"asa_team", "åsa-team"}, "åsa-team"},
	} {
		if got := Suggest(tt.s, tt.candidates); got != tt.want {
			t.Errorf("Suggest(%q, %q) = %q, want %q", tt.s, tt.candidates, got, tt.want)
		}
	}
}

// closest is Suggest as the whole edit distance of every candidate says.
func closest(s string, candidates []string) string {
	ns := fold(s)
	best, bestDist := "", 3
	for _, c := range candidates {
		nc := fold(c)
		limit := 2
		if utf8.RuneCountInString(nc) <= 4 {
			limit = 1
		}
		if d := levenshtein([]rune(ns), []rune(nc)); d <= limit && d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein is the edit distance of a and b, every cell computed.
func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+boolInt(a[i-1] != b[j-1]))
		}
		prev = cur
	}
	return prev[len(b)]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BenchmarkSuggest: a name a spec gets wrong, among the names of an
// organization of 50,000 users (folded once for every such name).
func BenchmarkSuggest(b *testing.B) {
	names := make([]string, 50000)
	for i := range names {
		names[i] = fmt.Sprintf("user.%d@example.com", i)
	}
	sg := NewSuggester(names)
	for b.Loop() {
		sg.Suggest("usr.17@example.org")
	}
}
