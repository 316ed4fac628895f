package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

func violationPlan(n int) sync.Plan {
	alice := sync.SubjectRef{Kind: sync.KindUser, ID: "usr-alice", Name: "alice@example.com"}
	prod := sync.DeploymentScope(sync.DeploymentRef{ID: "dep-prod", Name: "analytics-prod"})
	p := sync.Plan{Organization: "org1", Guards: []sync.Guard{{Name: sync.GuardPolicy, Message: fmt.Sprintf("%d violations", n+1)}}}
	for i := range n {
		p.Violations = append(p.Violations, sync.Violation{
			Rule: "no-direct-prod-admin", Description: "No user holds admin on production directly.",
			Scope: prod, Subject: &alice, Role: "DEPLOYMENT_ADMIN", Via: "direct",
			Source: &spec.Pos{File: "tokens.yaml", Line: 10 + i, Col: 9},
		})
	}
	p.Violations = append(p.Violations, sync.Violation{Rule: "prod-admins", Description: "At most three admins.", Scope: prod})
	return p
}

// TestViolationsText: each violation on a line with its rule, principal,
// role, scope and the granting spec entry; the rule's description once.
func TestViolationsText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, violationPlan(2), false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Policy violations (3):\n",
		"  no-direct-prod-admin: user alice@example.com [usr-alice] holds DEPLOYMENT_ADMIN on deployment analytics-prod (tokens.yaml:10:9)\n      No user holds admin on production directly.\n  no-direct-prod-admin: user alice@example.com [usr-alice] holds DEPLOYMENT_ADMIN on deployment analytics-prod (tokens.yaml:11:9)\n  prod-admins: deployment analytics-prod\n      At most three admins.\n",
		"Refused by guard policy: 3 violations",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// TestViolationsMarkdown: a table of the violations, at most
// maxViolationsShown rows, saying how many more there are.
func TestViolationsMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, violationPlan(40), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if got := strings.Count(out, "| no-direct-prod-admin<br>"); got != maxViolationsShown {
		t.Errorf("%d rows, want %d:\n%s", got, maxViolationsShown, out)
	}
	for _, want := range []string{"#### Policy violations (41)", "11 more; run `tokensync plan` for every one.", "**Refused by guard policy:**", "| tokens.yaml:10:9 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

// TestViolationsMarkdownLimit: rules with long descriptions keep the
// comment under its limit: the table keeps the rows that fit and counts
// the rest.
func TestViolationsMarkdownLimit(t *testing.T) {
	p := violationPlan(40)
	for i := range p.Violations {
		p.Violations[i].Description = strings.Repeat("Long description. ", 200)
	}
	for _, limit := range []int{DefaultMarkdownLimit, 20000} {
		var b bytes.Buffer
		if err := Markdown(&b, p, MarkdownOptions{Limit: limit}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if len(out) > limit {
			t.Errorf("limit %d: %d characters", limit, len(out))
		}
		shown := strings.Count(out, "| no-direct-prod-admin<br>")
		if !strings.Contains(out, fmt.Sprintf("\n%d more; run `tokensync plan` for every one.\n", len(p.Violations)-shown)) || shown == 0 || shown >= maxViolationsShown {
			t.Errorf("limit %d: %d rows shown, and no line that counts the other %d:\n%.3000s", limit, shown, len(p.Violations)-shown, out)
		}
	}
}

// TestViolationsSayWhy: a rule over a scope says why it holds there, in
// text after the scope and in markdown where a grant's role would be.
func TestViolationsSayWhy(t *testing.T) {
	p := violationPlan(0)
	p.Violations[0].Why = "admins.size() = 5"
	var text, md bytes.Buffer
	if err := Text(&text, p, false); err != nil {
		t.Fatal(err)
	}
	if want := "  prod-admins: deployment analytics-prod: admins.size() = 5\n"; !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, text.String())
	}
	if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if want := "| admins.size() = 5 |"; !strings.Contains(md.String(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, md.String())
	}
}
