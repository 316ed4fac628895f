package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMarkdownFailure: a failed plan is a document with the plan's marker
// that says it failed and lists why, escaped, capped at 50 reasons and
// under the limit.
func TestMarkdownFailure(t *testing.T) {
	t.Run("escaped", func(t *testing.T) {
		var b strings.Builder
		reasons := []string{
			`tokens.yaml:5:9: token "<img src=x>|*bold*": not found`,
			"read organization o: GET /organizations/o/tokens: 500 Internal `Server` Error",
			"a name with a newline\n### and a heading",
		}
		if err := MarkdownFailure(&b, reasons, MarkdownOptions{}); err != nil {
			t.Fatal(err)
		}
		want := DefaultMarker + "\n" +
			"### tokensync plan: failed\n\n" +
			"> [!CAUTION]\n> The plan could not be made, so this shows no changes, and no earlier plan is current. Fix what is listed below and run `tokensync plan` again.\n\n" +
			`- tokens.yaml:5:9: token "&lt;img src=x&gt;\|\*bold\*": not found` + "\n" +
			"- read organization o: GET /organizations/o/tokens: 500 Internal \\`Server\\` Error\n"
		got := b.String()
		if diff := cmp.Diff(want, got[:min(len(want), len(got))]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		// However a newline is escaped, it does not start a line.
		if last := got[len(want):]; strings.Count(last, "\n") != 1 || !strings.HasPrefix(last, "- a name with a newline") {
			t.Errorf("the reason with a newline became %q", last)
		}
	})
	t.Run("capped", func(t *testing.T) {
		var reasons []string
		for i := range 10000 {
			reasons = append(reasons, fmt.Sprintf("tokens.yaml:%d:5: deployment %q not found", i+3, strings.Repeat("d", 100)))
		}
		for _, tt := range []struct{ limit, listed int }{{0, 50}, {3000, 18}} {
			var b strings.Builder
			if err := MarkdownFailure(&b, reasons, MarkdownOptions{Limit: tt.limit}); err != nil {
				t.Fatal(err)
			}
			got := b.String()
			if tt.limit > 0 && len(got) > tt.limit {
				t.Errorf("limit %d: %d bytes", tt.limit, len(got))
			}
			listed := strings.Count(got, "\n- tokens.yaml:")
			if listed != tt.listed {
				t.Errorf("limit %d: %d reasons listed, want %d", tt.limit, listed, tt.listed)
			}
			if more := fmt.Sprintf("- ... and %d more\n", len(reasons)-listed); !strings.HasSuffix(got, more) {
				t.Errorf("limit %d: does not end with %q:\n%s", tt.limit, more, got[len(got)-200:])
			}
		}
	})
}
