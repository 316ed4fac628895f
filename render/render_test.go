package render

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	prod    = sync.DeploymentRef{ID: "dep-prod", Name: "analytics-prod"}
	staging = sync.DeploymentRef{ID: "dep-stg", Name: "analytics-staging"}
	ci      = sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-ci", Name: "ci-deployer"}
	dbt     = sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-dbt", Name: "dbt_runner|prod"}
	obs     = sync.SubjectRef{Kind: sync.KindOrganizationToken, ID: "tok-obs", Name: "org-observer"}
	old     = sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-old", Name: "old-bot"}
	alice   = sync.SubjectRef{Kind: sync.KindUser, ID: "usr-alice", Name: "alice@example.com"}
	dataEng = sync.SubjectRef{Kind: sync.KindTeam, ID: "team-de", Name: "data-engineering"}
	key     = sync.SubjectRef{Kind: sync.KindDeploymentToken, ID: "tok-key", Name: "prod-deploy-key"}
)

func okGuards() []sync.Guard {
	return []sync.Guard{
		{Name: sync.GuardMaxRemovals, OK: true, Message: "0 removals (limit 20)"},
		{Name: sync.GuardAllowEmpty, OK: true, Message: "prune empties no deployment"},
		{Name: sync.GuardProtect, OK: true, Message: "no protected tokens"},
	}
}

func at(line int) *spec.Pos { return &spec.Pos{File: "tokens.yaml", Line: line, Col: 9} }

// plans are the golden cases of every renderer.
func plans() map[string]sync.Plan {
	addsOnly := sync.Plan{
		Organization: "org1",
		Changes: []sync.Change{
			{Action: sync.Add, Scope: sync.DeploymentScope(prod), Subject: ci, After: "DEPLOYMENT_ADMIN", Source: at(7)},
			{Action: sync.Add, Scope: sync.DeploymentScope(prod), Subject: obs, After: "DEPLOYMENT_VIEWER", Source: at(12)},
		},
		Guards:       okGuards(),
		Fingerprints: map[string]string{"tok-ci": strings.Repeat("a", 64), "tok-obs": strings.Repeat("b", 64)},
	}
	mixed := sync.Plan{
		Organization: "org1",
		Changes: []sync.Change{
			{Action: sync.Add, Scope: sync.DeploymentScope(prod), Subject: ci, After: "DEPLOYMENT_ADMIN", Source: at(7)},
			{Action: sync.Remove, Scope: sync.DeploymentScope(prod), Subject: old, Before: "DEPLOYMENT_ADMIN", Reason: sync.ReasonAbsent, Source: at(9)},
			{Action: sync.Add, Scope: sync.DeploymentScope(staging), Subject: alice, After: "DEPLOYMENT_ADMIN", Source: at(18)},
			{Action: sync.Update, Scope: sync.DeploymentScope(staging), Subject: dataEng, Before: "DEPLOYMENT_ADMIN", After: "DAG_DEPLOYER", Source: at(21)},
			{Action: sync.Update, Scope: sync.DeploymentScope(staging), Subject: dbt, Before: "DEPLOYMENT_VIEWER", After: "DAG_DEPLOYER", Source: at(15)},
			{Action: sync.Remove, Scope: sync.DeploymentScope(staging), Subject: obs, Before: "DEPLOYMENT_ADMIN", Reason: sync.ReasonPrune},
		},
		Unmanaged: []sync.Change{
			{Action: sync.Unmanaged, Scope: sync.DeploymentScope(prod), Subject: key, Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: sync.ReasonDeploymentToken},
		},
		Guards: okGuards(),
		Fingerprints: map[string]string{
			"tok-ci": strings.Repeat("a", 64), "tok-old": strings.Repeat("c", 64),
			"tok-dbt": strings.Repeat("d", 64), "tok-obs": strings.Repeat("b", 64),
			"usr-alice": strings.Repeat("e", 64), "team-de": strings.Repeat("f", 64),
		},
	}
	refused := mixed
	refused.Guards = []sync.Guard{
		{Name: sync.GuardMaxRemovals, Message: "2 removals exceed --max-removals 1"},
		okGuards()[1], okGuards()[2],
	}
	partial := addsOnly
	partial.Partial = []sync.ScopeRef{sync.DeploymentScope(prod), sync.DeploymentScope(sync.DeploymentRef{ID: "dep-empty", Name: "analytics|dev"})}
	return map[string]sync.Plan{
		"partial": withTarget(partial),
		"no-changes": withTarget(sync.Plan{
			Organization: "org1",
			Unmanaged:    mixed.Unmanaged,
			Guards:       okGuards(),
			Fingerprints: map[string]string{},
		}),
		"adds-only": withTarget(addsOnly),
		"mixed":     withTarget(mixed),
		"refused":   withTarget(refused),
	}
}

// withTarget gives p the Target a real plan has: every deployment of a
// change or unmanaged assignment, with its listed entries (adds, updates,
// state: absent removals).
func withTarget(p sync.Plan) sync.Plan {
	t := &sync.Target{Desired: sync.Desired{Ignore: map[sync.Kind][]string{}}}
	index := map[string]int{}
	for _, c := range append(slices.Clone(p.Changes), p.Unmanaged...) {
		i, ok := index[c.Scope.ID]
		if !ok {
			i = len(t.Desired.Scopes)
			index[c.Scope.ID] = i
			t.Desired.Scopes = append(t.Desired.Scopes, sync.ManagedScope{ScopeRef: c.Scope, Lists: spec.Kinds()})
		}
		if c.Source != nil {
			md := &t.Desired.Scopes[i]
			md.Assignments = append(md.Assignments, sync.DesiredAssignment{
				Subject: c.Subject, Role: c.After, Absent: c.Action == sync.Remove, Source: *c.Source})
		}
	}
	p.Target = t
	return p
}

// bigPlan has enough deployments to pass the markdown limit.
func bigPlan() sync.Plan {
	p := sync.Plan{Organization: "org1", Guards: okGuards(), Fingerprints: map[string]string{}}
	for d := range 400 {
		dep := sync.DeploymentRef{ID: fmt.Sprintf("dep-%03d", d), Name: fmt.Sprintf("deployment-%03d", d)}
		for tk := range 5 {
			tok := sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: fmt.Sprintf("tok-%d", tk), Name: fmt.Sprintf("token-%d", tk)}
			p.Changes = append(p.Changes, sync.Change{Action: sync.Add, Scope: sync.DeploymentScope(dep), Subject: tok, After: "DEPLOYMENT_ADMIN", Source: at(d*5 + tk + 1)})
		}
	}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestGolden(t *testing.T) {
	meta := planfile.Meta{ToolVersion: "test", SpecDigest: strings.Repeat("e", 64), SpecFiles: []string{"tokens.yaml"}}
	for name, p := range plans() {
		t.Run(name, func(t *testing.T) {
			var text, js, md bytes.Buffer
			if err := Text(&text, p, false); err != nil {
				t.Fatal(err)
			}
			if err := JSON(&js, p, meta); err != nil {
				t.Fatal(err)
			}
			if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".txt", text.Bytes())
			golden(t, name+".json", js.Bytes())
			golden(t, name+".md", md.Bytes())
		})
	}
}

func TestMarkdownLimit(t *testing.T) {
	var md bytes.Buffer
	if err := Markdown(&md, bigPlan(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if md.Len() >= DefaultMarkdownLimit {
		t.Errorf("markdown is %d bytes, want below %d", md.Len(), DefaultMarkdownLimit)
	}
	if !strings.Contains(md.String(), "more section(s) left out to keep this comment under 60000 characters") {
		t.Errorf("no note about the cut")
	}
	if !strings.HasPrefix(md.String(), DefaultMarker+"\n### tokensync plan: 2000 to add, 0 to change, 0 to remove\n") {
		t.Errorf("title:\n%s", md.String()[:200])
	}
	golden(t, "big.md", md.Bytes())

	// A small limit still keeps the title and says what was cut.
	md.Reset()
	if err := Markdown(&md, plans()["mixed"], MarkdownOptions{Limit: 700}); err != nil {
		t.Fatal(err)
	}
	if md.Len() > 700 || !strings.Contains(md.String(), "left out") {
		t.Errorf("limit 700 gave %d bytes:\n%s", md.Len(), md.String())
	}
}

func TestMarkdownSections(t *testing.T) {
	var md bytes.Buffer
	if err := Markdown(&md, plans()["mixed"], MarkdownOptions{Marker: "<!-- tokensync:prod -->"}); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, want := range []string{
		"<!-- tokensync:prod -->\n",
		"> [!WARNING]\n> This plan **removes 2 assignment(s)**",
		"<details open><summary><b>analytics-prod</b>",
		"<details><summary>1 unmanaged assignment(s) left alone</summary>",
		`dbt\_runner\|prod`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	md.Reset()
	if err := Markdown(&md, plans()["adds-only"], MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "[!WARNING]") || strings.Contains(md.String(), "<details open>") {
		t.Errorf("a plan without removals has a warning or an open section:\n%s", md.String())
	}
}

func TestTextColour(t *testing.T) {
	var plain, coloured bytes.Buffer
	p := plans()["mixed"]
	if err := Text(&plain, p, false); err != nil {
		t.Fatal(err)
	}
	if err := Text(&coloured, p, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("plain text has escape codes:\n%q", plain.String())
	}
	if !strings.Contains(coloured.String(), "\x1b[32m") || !strings.Contains(coloured.String(), "\x1b[31m") {
		t.Errorf("coloured text lacks green adds or red removals:\n%q", coloured.String())
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for name, p := range plans() {
		var buf bytes.Buffer
		if err := JSON(&buf, p, planfile.Meta{ToolVersion: "test"}); err != nil {
			t.Fatal(err)
		}
		doc, err := planfile.Read(&buf)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := doc.Plan()
		if diff := cmp.Diff(p, got, cmpopts.IgnoreFields(sync.Plan{}, "Guards")); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", name, diff)
		}
		// The guards are derived again, not read: from the changes, the
		// target and the options the document records.
		if diff := cmp.Diff(sync.Guards(p, sync.Options{}), got.Guards); diff != "" {
			t.Errorf("%s: guards read back (-want +got):\n%s", name, diff)
		}
	}
}

// validateDocument checks JSON against the plan schema.
func validateDocument(t *testing.T, data []byte) {
	t.Helper()
	c := jsonschema.NewCompiler()
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(planfile.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("plan.schema.json", schema); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("plan.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("document does not match plan.schema.json: %v\n%s", err, data)
	}
}

func TestSchemaMatchesDocuments(t *testing.T) {
	for name, p := range plans() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := JSON(&buf, p, planfile.Meta{ToolVersion: "test", SpecFiles: []string{"a.yaml"}}); err != nil {
				t.Fatal(err)
			}
			validateDocument(t, buf.Bytes())
		})
	}
}

// A refused guard's message can list every deployment or change (prune
// emptying hundreds of deployments, a protected glob matching many
// tokens); the markdown must still stay under its limit.
func TestMarkdownLimitLongGuardMessage(t *testing.T) {
	var msgs []string
	for d := range 3000 {
		msgs = append(msgs, fmt.Sprintf("prune would leave deployment %q without any workspace or organization token", fmt.Sprintf("deployment-%04d", d)))
	}
	p := bigPlan()
	p.Guards = []sync.Guard{okGuards()[0], {Name: sync.GuardAllowEmpty, Message: strings.Join(msgs, "; ")}, okGuards()[2]}
	var md bytes.Buffer
	if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if md.Len() >= DefaultMarkdownLimit {
		t.Errorf("markdown is %d bytes, want below %d", md.Len(), DefaultMarkdownLimit)
	}
	for _, want := range []string{"**Refused by guard allow-empty:** prune would leave deployment", "left out"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestNamesFromTheAPIAreInert(t *testing.T) {
	evil := sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-evil", Name: "evil\x1b[2J\x1b]0;owned\x07"}
	dep := sync.DeploymentRef{ID: "dep-x", Name: "prod\r\nfake line"}
	p := sync.Plan{
		Organization: "org1",
		Changes:      []sync.Change{{Action: sync.Update, Scope: sync.DeploymentScope(dep), Subject: evil, Before: "A|B", After: "C`D", Source: at(3)}},
		Guards:       okGuards(),
	}
	var text, md bytes.Buffer
	if err := Text(&text, p, false); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if strings.ContainsAny(out, "\x1b\x07\r") {
			t.Errorf("%s output passes control characters through:\n%q", name, out)
		}
		if strings.Contains(out, "\nfake line") {
			t.Errorf("%s output lets a name start a new line:\n%s", name, out)
		}
	}
	if !strings.Contains(md.String(), "| `A\\|B` | `C'D` |") {
		t.Errorf("role names break the markdown table:\n%s", md.String())
	}
}
