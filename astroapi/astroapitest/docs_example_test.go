package astroapitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEmulatorDocExample serves examples/org.yaml and checks that the
// response docs/emulator.md shows for its first curl is what the emulator
// answers: every field the abridged document names holds the value it shows,
// and its arrays begin with the elements it lists. "{...}" stands for any
// object and ", ..." for the elements or fields left out.
func TestEmulatorDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/emulator.md")
	if err != nil {
		t.Fatal(err)
	}
	path, shown := docExample(t, string(doc))

	st, err := LoadState("../../examples/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	resp, raw := fetch(t, http.MethodGet, strings.TrimSuffix(base, "/v1")+path, bearer, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, raw)
	}
	var got any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	diffs := abridgedDiff("$", shown, got)
	slices.Sort(diffs)
	for _, diff := range diffs {
		t.Errorf("docs/emulator.md shows what the emulator does not answer: %s", diff)
	}
}

// docExample returns the path of the first curl in doc's first sh block and
// the JSON block after it with the abridgements made valid JSON.
func docExample(t *testing.T, doc string) (path string, shown any) {
	t.Helper()
	curl := regexp.MustCompile(`curl -H "Authorization: Bearer \$ASTRO_API_TOKEN" 'http://127\.0\.0\.1:18080(/v1/[^']+)'`).FindStringSubmatch(doc)
	if curl == nil {
		t.Fatal("docs/emulator.md: no curl of the API with the bearer")
	}
	block := regexp.MustCompile("(?s)```json\n(.*?)```").FindStringSubmatch(doc)
	if block == nil {
		t.Fatal("docs/emulator.md: no json block")
	}
	text := strings.ReplaceAll(block[1], "{...}", "{}")
	text = regexp.MustCompile(`,\s*\.\.\.`).ReplaceAllString(text, "")
	if err := json.Unmarshal([]byte(text), &shown); err != nil {
		t.Fatalf("docs/emulator.md: the json block, abridgements removed, is not JSON: %v\n%s", err, text)
	}
	return curl[1], shown
}

// abridgedDiff lists where got differs from an abridged want: an object's
// fields are a subset, an array's elements a prefix, anything else equal.
func abridgedDiff(at string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: shows an object, the emulator answers %v", at, got)}
		}
		var diffs []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: not in the answer", at, k))
				continue
			}
			diffs = append(diffs, abridgedDiff(at+"."+k, wv, gv)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) < len(w) {
			return []string{fmt.Sprintf("%s: shows %d elements, the emulator answers %v", at, len(w), got)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, abridgedDiff(fmt.Sprintf("%s[%d]", at, i), w[i], g[i])...)
		}
		return diffs
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: shows %v, the emulator answers %v", at, want, got)}
		}
		return nil
	}
}
