package render

import (
	"bytes"
	"encoding/json"
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
		{Name: sync.GuardLockout, OK: true, Message: "no managed organization or workspace loses its last owner"},
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
		okGuards()[1], okGuards()[2], okGuards()[3],
	}
	partial := addsOnly
	partial.Partial = []sync.ScopeRef{sync.DeploymentScope(prod), sync.DeploymentScope(sync.DeploymentRef{ID: "dep-empty", Name: "analytics|dev"})}
	lockout := everyLevelPlan()
	lockout.Guards = slices.Clone(lockout.Guards)
	lockout.Guards[3] = sync.Guard{Name: sync.GuardLockout, Message: lockoutMessage}
	partialLevels := everyLevelPlan()
	partialLevels.Partial = []sync.ScopeRef{orgScope, dataWs, sync.DeploymentScope(prod)}
	return map[string]sync.Plan{
		"every-level":         withTarget(everyLevelPlan()),
		"lockout":             withTarget(lockout),
		"partial-every-level": withTarget(partialLevels),
		"partial":             withTarget(partial),
		"no-changes": withTarget(sync.Plan{
			Organization: "org1",
			Unmanaged:    mixed.Unmanaged,
			Guards:       okGuards(),
			Fingerprints: map[string]string{},
		}),
		"adds-only": withTarget(addsOnly),
		"mentions":  withTarget(mentionsPlan()),
		"mixed":     withTarget(mixed),
		"refused":   withTarget(refused),
	}
}

// mentionsPlan has names GitHub would act on, were they written as they
// are: a team and a deployment that read as mentions, an e-mail address,
// and two tokens whose names differ by backticks and apostrophes.
func mentionsPlan() sync.Plan {
	ops := sync.DeploymentRef{ID: "dep-ops", Name: "(@ops) prod"}
	admins := sync.SubjectRef{Kind: sync.KindTeam, ID: "team-admins", Name: "@acme/platform-admins"}
	ticks := sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-tick", Name: "big-token-`tick`"}
	quotes := sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-quote", Name: "big-token-'tick'"}
	return sync.Plan{
		Organization: "org1",
		Changes: []sync.Change{
			{Action: sync.Update, Scope: sync.DeploymentScope(ops), Subject: admins, Before: "DEPLOYMENT_VIEWER", After: "DEPLOYMENT_ADMIN", Source: at(4)},
			{Action: sync.Add, Scope: sync.DeploymentScope(ops), Subject: alice, After: "DEPLOYMENT_ADMIN", Source: at(8)},
			{Action: sync.Add, Scope: sync.DeploymentScope(ops), Subject: ticks, After: "DEPLOYMENT_ADMIN", Source: at(12)},
			{Action: sync.Remove, Scope: sync.DeploymentScope(ops), Subject: quotes, Before: "DEPLOYMENT_ADMIN", Reason: sync.ReasonPrune},
		},
		Guards: okGuards(),
		Fingerprints: map[string]string{
			"team-admins": strings.Repeat("a", 64), "usr-alice": strings.Repeat("b", 64),
			"tok-tick": strings.Repeat("c", 64), "tok-quote": strings.Repeat("d", 64),
		},
	}
}

// The scopes of everyLevelPlan besides the deployments prod and staging.
var (
	orgScope   = sync.ScopeRef{Level: sync.LevelOrganization, ID: "org1", Name: "org1"}
	dataWs     = sync.ScopeRef{Level: sync.LevelWorkspace, ID: "ws-data", Name: "data-platform"}
	mlWs       = sync.ScopeRef{Level: sync.LevelWorkspace, ID: "ws-ml", Name: "ml"}
	rollupDAG  = sync.ScopeRef{Level: sync.LevelDAG, ID: "daily_rollup", Name: "daily_rollup", Deployment: prod}
	financeTag = sync.ScopeRef{Level: sync.LevelDAGTag, ID: "finance", Name: "finance", Deployment: prod}
	ingestDAG  = sync.ScopeRef{Level: sync.LevelDAG, ID: "ingest", Name: "ingest", Deployment: staging}
)

// lockoutMessage is the message of a lockout guard that refuses.
const lockoutMessage = `the plan would leave the organization without any ORGANIZATION_OWNER (user "alice@example.com" would lose it) (list another owner first)`

// everyLevelPlan has changes on every level, in the plan's order: the
// organization, two workspaces, a deployment with a DAG and a DAG tag,
// another deployment with an unmanaged assignment on a DAG of it.
func everyLevelPlan() sync.Plan {
	return sync.Plan{
		Organization: "org1",
		Changes: []sync.Change{
			{Action: sync.Update, Scope: orgScope, Subject: alice, Before: "ORGANIZATION_OWNER", After: "ORGANIZATION_MEMBER", Source: at(3)},
			{Action: sync.Update, Scope: orgScope, Subject: obs, Before: "ORGANIZATION_MEMBER", After: "ORGANIZATION_BILLING_ADMIN", Source: at(4)},
			{Action: sync.Update, Scope: dataWs, Subject: ci, Before: "WORKSPACE_MEMBER", After: "WORKSPACE_OPERATOR", Source: at(8)},
			{Action: sync.Add, Scope: dataWs, Subject: dataEng, After: "WORKSPACE_AUTHOR", Source: at(9)},
			{Action: sync.Add, Scope: mlWs, Subject: alice, After: "WORKSPACE_OWNER", Source: at(12)},
			{Action: sync.Add, Scope: sync.DeploymentScope(prod), Subject: alice, After: "DEPLOYMENT_ADMIN", Source: at(16)},
			{Action: sync.Add, Scope: rollupDAG, Subject: dataEng, After: "DAG_AUTHOR", Source: at(20)},
			{Action: sync.Remove, Scope: financeTag, Subject: ci, Before: "DAG_VIEWER", Reason: sync.ReasonPrune},
			{Action: sync.Add, Scope: sync.DeploymentScope(staging), Subject: ci, After: "DEPLOYMENT_ADMIN", Source: at(27)},
		},
		Unmanaged: []sync.Change{
			{Action: sync.Unmanaged, Scope: ingestDAG, Subject: dbt, Before: "DAG_VIEWER", After: "DAG_VIEWER", Reason: sync.ReasonNotInSpec},
		},
		Guards: okGuards(),
		Fingerprints: map[string]string{
			"usr-alice": strings.Repeat("a", 64), "tok-obs": strings.Repeat("b", 64),
			"tok-ci": strings.Repeat("c", 64), "team-de": strings.Repeat("d", 64),
		},
	}
}

// withTarget gives p the Target a real plan has: every scope of a change
// or unmanaged assignment, with its listed entries (adds, updates, state:
// absent removals), and the workspace of each deployment.
func withTarget(p sync.Plan) sync.Plan {
	t := &sync.Target{Desired: sync.Desired{Ignore: map[sync.Kind][]string{}, Workspaces: map[string]string{}}}
	index := map[sync.Scope]int{}
	for _, c := range append(slices.Clone(p.Changes), p.Unmanaged...) {
		i, ok := index[c.Scope.Key()]
		if !ok {
			i = len(t.Desired.Scopes)
			index[c.Scope.Key()] = i
			md := sync.ManagedScope{ScopeRef: c.Scope, Lists: spec.Kinds()}
			switch c.Scope.Level {
			case sync.LevelWorkspace:
				md.WorkspaceID = c.Scope.ID
			case sync.LevelDeployment, sync.LevelDAG, sync.LevelDAGTag:
				dep := c.Scope.Deployment.ID
				if c.Scope.Level == sync.LevelDeployment {
					dep = c.Scope.ID
				}
				md.WorkspaceID = "ws-data"
				t.Desired.Workspaces[dep] = "ws-data"
			}
			t.Desired.Scopes = append(t.Desired.Scopes, md)
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
	// 400 deployments, 100 of them written: the note counts the other 300.
	if got := strings.Count(md.String(), "<details"); got != 100 {
		t.Errorf("%d sections written, want 100", got)
	}
	if !strings.Contains(md.String(), "> 300 scope section(s) with 1500 change(s) left out to keep this comment under 60000 characters") {
		t.Errorf("no note about the cut, or a wrong count")
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
		"<details open><summary><b>deployment analytics-prod</b>",
		"lose their role on these scopes",
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
	p.Guards = []sync.Guard{okGuards()[0], {Name: sync.GuardAllowEmpty, Message: strings.Join(msgs, "; ")}, okGuards()[2], okGuards()[3]}
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
	if !strings.Contains(md.String(), "| `A\\|B` | ``C`D`` |") {
		t.Errorf("role names break the markdown table:\n%s", md.String())
	}
}

// TestEveryLevelText: the text plan has a group per scope in the plan's
// order (the organization, workspaces by name, deployments by name each
// followed by its DAGs and DAG tags), titled by level, whatever the order
// of the changes it is given.
func TestEveryLevelText(t *testing.T) {
	p := everyLevelPlan()
	var got bytes.Buffer
	if err := Text(&got, p, false); err != nil {
		t.Fatal(err)
	}
	titles := []string{
		"organization org1\n",
		"\nworkspace data-platform (ws-data)\n",
		"\nworkspace ml (ws-ml)\n",
		"\ndeployment analytics-prod (dep-prod)\n",
		"\nDAG daily_rollup of deployment analytics-prod (dep-prod)\n",
		"\nDAG tag finance of deployment analytics-prod (dep-prod)\n",
		"\ndeployment analytics-staging (dep-stg)\n",
		"\nDAG ingest of deployment analytics-staging (dep-stg)\n",
	}
	inOrder(t, "text", got.String(), titles)
	if !strings.HasPrefix(got.String(), titles[0]) {
		t.Errorf("the organization is not the first group:\n%s", got.String())
	}

	shuffled := p
	shuffled.Changes = slices.Clone(p.Changes)
	slices.Reverse(shuffled.Changes)
	shuffled.Changes[0], shuffled.Changes[4] = shuffled.Changes[4], shuffled.Changes[0]
	var again bytes.Buffer
	if err := Text(&again, shuffled, false); err != nil {
		t.Fatal(err)
	}
	// Within a scope the plan's order is kept, so compare group by group.
	for _, title := range titles {
		if !strings.Contains(again.String(), title) {
			t.Errorf("shuffled changes lose the group %q:\n%s", title, again.String())
		}
	}
	inOrder(t, "text of shuffled changes", again.String(), titles)
}

// TestEveryLevelMarkdown: the markdown plan has a section per scope of a
// change in the plan's order, titled by level, and lists the unmanaged
// assignment with its scope's title.
func TestEveryLevelMarkdown(t *testing.T) {
	var md bytes.Buffer
	if err := Markdown(&md, everyLevelPlan(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	inOrder(t, "markdown", md.String(), []string{
		"<summary><b>organization org1</b>: +0 ~2 -0</summary>",
		"<summary><b>workspace data-platform</b> (<code>ws-data</code>): +1 ~1 -0</summary>",
		"<summary><b>workspace ml</b> (<code>ws-ml</code>): +1 ~0 -0</summary>",
		"<summary><b>deployment analytics-prod</b> (<code>dep-prod</code>): +1 ~0 -0</summary>",
		"<summary><b>DAG daily_rollup of deployment analytics-prod</b> (<code>dep-prod</code>): +1 ~0 -0</summary>",
		"<details open><summary><b>DAG tag finance of deployment analytics-prod</b> (<code>dep-prod</code>): +0 ~0 -1</summary>",
		"<summary><b>deployment analytics-staging</b> (<code>dep-stg</code>): +1 ~0 -0</summary>",
		"<summary>1 unmanaged assignment(s) left alone</summary>",
		"| DAG ingest of deployment analytics-staging | workspace token dbt\\_runner\\|prod",
	})
	if strings.Contains(md.String(), "[!CAUTION]") {
		t.Errorf("a plan no guard refuses shows a refusal:\n%s", md.String())
	}
}

// TestEveryLevelJSON: each change names its scope {level, id, name} and a
// DAG's or tag's deployment; the target lists every scope and the
// deployments' workspaces; the document matches the schema and reads back
// as the plan it was made from.
func TestEveryLevelJSON(t *testing.T) {
	p := withTarget(everyLevelPlan())
	var buf bytes.Buffer
	if err := JSON(&buf, p, planfile.Meta{ToolVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	validateDocument(t, buf.Bytes())
	doc, err := planfile.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var scopes []planfile.ScopeJSON
	for _, c := range doc.Changes {
		scopes = append(scopes, c.Scope)
	}
	dep := &planfile.DeploymentJSON{ID: "dep-prod", Name: "analytics-prod"}
	want := []planfile.ScopeJSON{
		{Level: "organization", ID: "org1", Name: "org1"},
		{Level: "organization", ID: "org1", Name: "org1"},
		{Level: "workspace", ID: "ws-data", Name: "data-platform"},
		{Level: "workspace", ID: "ws-data", Name: "data-platform"},
		{Level: "workspace", ID: "ws-ml", Name: "ml"},
		{Level: "deployment", ID: "dep-prod", Name: "analytics-prod"},
		{Level: "dag", ID: "daily_rollup", Name: "daily_rollup", Deployment: dep},
		{Level: "dagTag", ID: "finance", Name: "finance", Deployment: dep},
		{Level: "deployment", ID: "dep-stg", Name: "analytics-staging"},
	}
	if diff := cmp.Diff(want, scopes); diff != "" {
		t.Errorf("scopes of the changes (-want +got):\n%s", diff)
	}
	if len(doc.Target.Scopes) != 8 || doc.Target.Scopes[7].Scope.Level != "dag" || doc.Target.Scopes[7].Scope.Deployment.ID != "dep-stg" {
		t.Errorf("target scopes: %+v", doc.Target.Scopes)
	}
	if diff := cmp.Diff(map[string]string{"dep-prod": "ws-data", "dep-stg": "ws-data"}, doc.Target.Workspaces); diff != "" {
		t.Errorf("target workspaces (-want +got):\n%s", diff)
	}
	// The guards are derived again (TestJSONRoundTrip checks them).
	if diff := cmp.Diff(p, doc.Plan(), cmpopts.IgnoreFields(sync.Plan{}, "Guards")); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// TestPlanSchemaHoldsScopes: the schema refuses a scope that does not say
// what its level needs: a DAG or tag without its deployment, a
// deployment with one, an unknown level, a workspace without an id.
func TestPlanSchemaHoldsScopes(t *testing.T) {
	p := withTarget(everyLevelPlan())
	var buf bytes.Buffer
	if err := JSON(&buf, p, planfile.Meta{ToolVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	valid := buf.String()
	for name, edit := range map[string][2]string{
		"a DAG without its deployment": {`"level": "dag",
        "id": "daily_rollup",
        "name": "daily_rollup",
        "deployment": {
          "id": "dep-prod",
          "name": "analytics-prod"
        }`, `"level": "dag",
        "id": "daily_rollup",
        "name": "daily_rollup"`},
		"a deployment with a deployment": {`"level": "deployment",
        "id": "dep-stg",
        "name": "analytics-staging"`, `"level": "deployment",
        "id": "dep-stg",
        "name": "analytics-staging",
        "deployment": {"id": "dep-stg", "name": "analytics-staging"}`},
		"an unknown level":       {`"level": "workspace",`, `"level": "cluster",`},
		"a workspace without id": {`"id": "ws-ml",`, `"id": "",`},
		"an unknown guard":       {`"name": "lockout",`, `"name": "lockdown",`},
	} {
		if !strings.Contains(valid, edit[0]) {
			t.Fatalf("%s: the document lacks %q", name, edit[0])
		}
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(strings.Replace(valid, edit[0], edit[1], 1)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if planSchema(t).Validate(v) == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

// TestLockoutRefuses: a plan the lockout guard refuses says so in text,
// markdown and JSON.
func TestLockoutRefuses(t *testing.T) {
	p := plans()["lockout"]
	var text, md, js bytes.Buffer
	if err := Text(&text, p, false); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, p, planfile.Meta{}); err != nil {
		t.Fatal(err)
	}
	if want := "\nRefused by guard lockout: " + lockoutMessage + "\n"; !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, text.String())
	}
	if want := "> [!CAUTION]\n> **Refused by guard lockout:** the plan would leave the organization without any ORGANIZATION\\_OWNER"; !strings.Contains(md.String(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, md.String())
	}
	var doc planfile.Document
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := planfile.GuardJSON{Name: "lockout", OK: false, Message: lockoutMessage}
	if !doc.Refused || !slices.Contains(doc.Guards, want) {
		t.Errorf("JSON: refused %v, guards %+v; want refused and %+v", doc.Refused, doc.Guards, want)
	}
	validateDocument(t, js.Bytes())
}

// TestMarkdownPartialNoteIsCapped: however many scopes --target named,
// the partial-plan note names 20 of them and counts the rest.
func TestMarkdownPartialNoteIsCapped(t *testing.T) {
	p := everyLevelPlan()
	for i := range 5000 {
		p.Partial = append(p.Partial, sync.DeploymentScope(sync.DeploymentRef{ID: fmt.Sprintf("dep-%04d", i), Name: fmt.Sprintf("deployment-%04d", i)}))
	}
	var md bytes.Buffer
	if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"> Partial plan: only deployment deployment-0000 (dep-0000), deployment deployment-0001 (dep-0001),",
		"deployment deployment-0019 (dep-0019), and 4980 more (`--target`).",
		"<summary><b>organization org1</b>",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%.2000s", want, md.String())
		}
	}
}

// TestPartialNoteNamesScopesByID: two deployments may share a name (in
// two workspaces), so the partial-plan note gives each scope's id beside
// its name, as the plan's headings do.
func TestPartialNoteNamesScopesByID(t *testing.T) {
	p := everyLevelPlan()
	p.Partial = []sync.ScopeRef{
		sync.DeploymentScope(sync.DeploymentRef{ID: "dep-a", Name: "sandbox"}),
		sync.DeploymentScope(sync.DeploymentRef{ID: "dep-b", Name: "sandbox"}),
		{Level: sync.LevelWorkspace, ID: "ws-1", Name: "data"},
		{Level: sync.LevelOrganization, ID: "org1", Name: "org1"},
	}
	var txt, md bytes.Buffer
	if err := Text(&txt, p, false); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ out, want string }{
		"text":     {txt.String(), "Partial plan: only deployment sandbox (dep-a), deployment sandbox (dep-b), workspace data (ws-1), organization org1 (--target)"},
		"markdown": {md.String(), "> Partial plan: only deployment sandbox (dep-a), deployment sandbox (dep-b), workspace data (ws-1), organization org1 (`--target`)"},
	} {
		if !strings.Contains(tc.out, tc.want) {
			t.Errorf("%s lacks %q:\n%s", name, tc.want, tc.out)
		}
	}
}

// inOrder checks that out holds each of want, in that order.
func inOrder(t *testing.T, name, out string, want []string) {
	t.Helper()
	at := 0
	for _, w := range want {
		i := strings.Index(out[at:], w)
		if i < 0 {
			t.Errorf("%s lacks %q after byte %d:\n%s", name, w, at, out)
			return
		}
		at += i + len(w)
	}
}

// planSchema compiles plan.schema.json.
func planSchema(t *testing.T) *jsonschema.Schema {
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
	return sch
}
