package planfile

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

var (
	prod  = sync.DeploymentRef{ID: "dep-prod", Name: "analytics-prod"}
	ci    = sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-ci", Name: "ci-deployer"}
	alice = sync.SubjectRef{Kind: sync.KindUser, ID: "usr-alice", Name: "alice@example.com"}
	team  = sync.SubjectRef{Kind: sync.KindTeam, ID: "team-de", Name: "data-engineering"}
	at    = spec.Pos{File: "tokens.yaml", Line: 7, Col: 9}
)

// plan is a plan that prunes the last subject off a deployment that does
// not allow it: allow-empty refuses it.
func plan() sync.Plan {
	target := &sync.Target{Prune: true, Desired: sync.Desired{
		Ignore: map[sync.Kind][]string{sync.KindUser: {"*@contractor.example"}},
		Scopes: []sync.ManagedScope{{
			ScopeRef:    sync.ScopeRef{Level: sync.LevelDeployment, ID: prod.ID, Name: prod.Name},
			WorkspaceID: "ws",
			Prune:       true,
			Lists:       spec.Kinds(),
			Assignments: []sync.DesiredAssignment{{Subject: team, Absent: true, Source: at}},
		}},
	}}
	p := sync.Plan{
		Organization: "org1",
		Changes: []sync.Change{
			{Action: sync.Remove, Scope: sync.DeploymentScope(prod), Subject: alice, Before: "DEPLOYMENT_ADMIN", Reason: sync.ReasonPrune},
			{Action: sync.Remove, Scope: sync.DeploymentScope(prod), Subject: ci, Before: "DEPLOYMENT_ADMIN", Reason: sync.ReasonPrune},
			{Action: sync.Remove, Scope: sync.DeploymentScope(prod), Subject: team, Before: "DAG_DEPLOYER", Reason: sync.ReasonAbsent, Source: &at},
		},
		Fingerprints: map[string]string{"usr-alice": strings.Repeat("a", 64), "tok-ci": strings.Repeat("b", 64), "team-de": strings.Repeat("c", 64)},
		Target:       target,
	}
	p.Guards = sync.Guards(p, sync.Options{Prune: true, MaxRemovals: 20})
	return p
}

func write(t *testing.T, d Document) []byte {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	p := plan()
	scope := sync.ScopeRef{Level: sync.LevelDeployment, ID: prod.ID, Name: prod.Name}
	p.Violations = []sync.Violation{
		{Rule: "two-admins", Description: "at most two admins", Scope: scope, Why: "grants.filter(g, g.role.access == 'admin').size() = 3"},
		{Rule: "expiry", Description: "tokens expire", Scope: scope, Subject: &ci, Role: "DEPLOYMENT_ADMIN", Via: "direct", Source: &at, Err: "no such key: expiresAt"},
	}
	doc := New(p, Meta{ToolVersion: "test", Options: sync.Options{Prune: true, MaxRemovals: 20}})
	data := write(t, doc)
	if want := `"why":"grants.filter(g, g.role.access == 'admin').size() = 3"`; !bytes.Contains(data, []byte(want)) {
		t.Errorf("the document lacks %s:\n%s", want, data)
	}
	got, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got.Plan(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("plan read back (-want +got):\n%s", diff)
	}
	if !got.Plan().Refused() {
		t.Error("the allow-empty guard does not refuse the plan read back")
	}
}

// TestGuardsAreDerivedAgain: a document edited to say its refused plan is
// fine is refused all the same, and a raised limit recorded in it counts.
func TestGuardsAreDerivedAgain(t *testing.T) {
	doc := New(plan(), Meta{Options: sync.Options{Prune: true, MaxRemovals: 1}})
	for i := range doc.Guards {
		doc.Guards[i].OK = true
	}
	doc.Refused = false
	got, err := Read(bytes.NewReader(write(t, doc)))
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]bool{}
	for _, g := range got.Plan().Guards {
		refused[g.Name] = !g.OK
	}
	want := map[string]bool{sync.GuardMaxRemovals: true, sync.GuardAllowEmpty: true, sync.GuardProtect: false, sync.GuardLockout: false}
	if diff := cmp.Diff(want, refused); diff != "" {
		t.Errorf("guards refusing (-want +got):\n%s", diff)
	}

	doc.Options.MaxRemovals = -1
	doc.Target.Scopes[0].AllowEmpty = true
	got, err = Read(bytes.NewReader(write(t, doc)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Plan().Refused() {
		t.Errorf("refused with no removal limit and allowEmpty: %v", got.Plan().Guards)
	}
}

func TestReadRefuses(t *testing.T) {
	valid := func(edit func(*Document)) string {
		d := New(plan(), Meta{})
		edit(&d)
		return string(write(t, d))
	}
	for name, in := range map[string]string{
		"older version":         valid(func(d *Document) { d.FormatVersion = "2" }),
		"newer version":         valid(func(d *Document) { d.FormatVersion = "4" }),
		"unknown field":         strings.Replace(valid(func(*Document) {}), `{`, `{"extra": 1, `, 1),
		"not json":              `plan: yes`,
		"trailing data":         valid(func(*Document) {}) + ` {}`,
		"no organization":       valid(func(d *Document) { d.Organization = "" }),
		"no target":             valid(func(d *Document) { d.Target = nil }),
		"max_removals below -1": valid(func(d *Document) { d.Options.MaxRemovals = -5 }),
		"unknown action":        valid(func(d *Document) { d.Changes[0].Action = "unmanaged" }),
		"deployment token":      valid(func(d *Document) { d.Changes[0].Subject.Kind = "deploymentToken" }),
		"no fingerprint":        valid(func(d *Document) { delete(d.Fingerprints, d.Changes[0].Subject.ID) }),
		"a remove with after":   valid(func(d *Document) { d.Changes[0].After = "DEPLOYMENT_ADMIN" }),
		"an add without role":   valid(func(d *Document) { d.Changes[0].Action = "add" }),
		"a bad protect glob":    valid(func(d *Document) { d.Options.Protect = []string{"ci-["} }),
		"a bad ignore glob":     valid(func(d *Document) { d.Target.Ignore["workspaceToken"] = []string{"ok", "[z-a]"} }),
		"an unknown level":      valid(func(d *Document) { d.Changes[0].Scope.Level = "cluster" }),
		"a DAG without its deployment": valid(func(d *Document) {
			d.Changes[0].Scope = ScopeJSON{Level: string(sync.LevelDAG), ID: "rollup", Name: "rollup"}
		}),
		"a workspace without id": valid(func(d *Document) {
			d.Changes[0].Scope = ScopeJSON{Level: string(sync.LevelWorkspace), Name: "data"}
		}),
	} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Read(strings.NewReader(valid(func(*Document) {}))); err != nil {
		t.Errorf("the valid document: %v", err)
	}
	// Options left out would read as --max-removals 0.
	for _, key := range []string{"options", "max_removals", "prune"} {
		var doc map[string]any
		if err := json.Unmarshal([]byte(valid(func(*Document) {})), &doc); err != nil {
			t.Fatal(err)
		}
		if key == "options" {
			delete(doc, key)
		} else {
			delete(doc["options"].(map[string]any), key)
		}
		in, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Read(bytes.NewReader(in)); err == nil || !strings.Contains(err.Error(), "no options") {
			t.Errorf("without %s: %v, want no options", key, err)
		}
	}
}

// TestCounted: a document whose changes were cut, the summary left, or
// with a fingerprint of a subject no change names, does not hold together.
func TestCounted(t *testing.T) {
	d := New(plan(), Meta{})
	if err := d.Counted(); err != nil {
		t.Fatalf("the document as made: %v", err)
	}
	cut := d
	cut.Changes = cut.Changes[1:]
	if err := cut.Counted(); err == nil || !strings.Contains(err.Error(), "does not count the changes") {
		t.Errorf("a change cut: %v", err)
	}
	all := d
	all.Changes, all.Summary = nil, Summary{Unmanaged: d.Summary.Unmanaged}
	if err := all.Counted(); err == nil || !strings.Contains(err.Error(), "which no change names") {
		t.Errorf("every change cut, the summary made to agree: %v", err)
	}
}

// everyLevel is a plan with a change on every level: the organization, a
// workspace, a deployment, a DAG and a DAG tag of it; its target lists
// each scope, and the deployment's workspace.
func everyLevel() sync.Plan {
	org := sync.ScopeRef{Level: sync.LevelOrganization, ID: "org1", Name: "org1"}
	ws := sync.ScopeRef{Level: sync.LevelWorkspace, ID: "ws-data", Name: "data-platform"}
	dep := sync.DeploymentScope(prod)
	dag := sync.ScopeRef{Level: sync.LevelDAG, ID: "daily_rollup", Name: "daily_rollup", Deployment: prod}
	tag := sync.ScopeRef{Level: sync.LevelDAGTag, ID: "finance", Name: "finance", Deployment: prod}
	managed := func(s sync.ScopeRef, wsID string, a sync.DesiredAssignment) sync.ManagedScope {
		return sync.ManagedScope{ScopeRef: s, WorkspaceID: wsID, Prune: true, Lists: []sync.Kind{sync.KindUser, sync.KindTeam},
			Assignments: []sync.DesiredAssignment{a}}
	}
	p := sync.Plan{
		Organization: "org1",
		Changes: []sync.Change{
			{Action: sync.Update, Scope: org, Subject: alice, Before: "ORGANIZATION_MEMBER", After: "ORGANIZATION_OWNER", Source: &at},
			{Action: sync.Update, Scope: ws, Subject: team, Before: "WORKSPACE_MEMBER", After: "WORKSPACE_AUTHOR", Source: &at},
			{Action: sync.Add, Scope: dep, Subject: alice, After: "DEPLOYMENT_ADMIN", Source: &at},
			{Action: sync.Add, Scope: dag, Subject: team, After: "DAG_AUTHOR", Source: &at},
			{Action: sync.Remove, Scope: tag, Subject: ci, Before: "DAG_VIEWER", Reason: sync.ReasonPrune},
		},
		Fingerprints: map[string]string{"usr-alice": strings.Repeat("a", 64), "tok-ci": strings.Repeat("b", 64), "team-de": strings.Repeat("c", 64)},
		Target: &sync.Target{Prune: true, Desired: sync.Desired{
			Ignore:     map[sync.Kind][]string{},
			Workspaces: map[string]string{prod.ID: "ws-data"},
			Scopes: []sync.ManagedScope{
				managed(org, "", sync.DesiredAssignment{Subject: alice, Role: "ORGANIZATION_OWNER", Source: at}),
				managed(ws, "ws-data", sync.DesiredAssignment{Subject: team, Role: "WORKSPACE_AUTHOR", Source: at}),
				managed(dep, "ws-data", sync.DesiredAssignment{Subject: alice, Role: "DEPLOYMENT_ADMIN", Source: at}),
				managed(dag, "ws-data", sync.DesiredAssignment{Subject: team, Role: "DAG_AUTHOR", Source: at}),
				managed(tag, "ws-data", sync.DesiredAssignment{Subject: alice, Absent: true, Source: at}),
			},
		}},
		Partial: []sync.ScopeRef{org, ws, dep},
	}
	p.Guards = sync.Guards(p, sync.Options{Prune: true, MaxRemovals: 20})
	return p
}

// TestRoundTripEveryLevel: a saved plan of every level reads back with
// each change's scope (a DAG's and a tag's deployment too), the target's
// scopes and workspaces, and the scopes --target named.
func TestRoundTripEveryLevel(t *testing.T) {
	p := everyLevel()
	doc := New(p, Meta{ToolVersion: "test", Options: sync.Options{Prune: true, MaxRemovals: 20}})
	data := write(t, doc)
	for _, want := range []string{
		`"scope":{"level":"organization","id":"org1","name":"org1"}`,
		`"scope":{"level":"dagTag","id":"finance","name":"finance","deployment":{"id":"dep-prod","name":"analytics-prod"}}`,
		`"workspaces":{"dep-prod":"ws-data"}`,
		`"targets":[{"level":"organization"`,
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("the document lacks %s:\n%s", want, data)
		}
	}
	got, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got.Plan(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("plan read back (-want +got):\n%s", diff)
	}
}

// TestLockoutVerdictStands: the lockout guard cannot be derived from a
// saved plan (it needs every owner of the organization), so the verdict it
// records stands: a plan refused for lockout is refused when read back.
func TestLockoutVerdictStands(t *testing.T) {
	p := everyLevel()
	msg := `the plan would leave the organization without any ORGANIZATION_OWNER (user "alice@example.com" would lose it) (list another owner first)`
	for i := range p.Guards {
		if p.Guards[i].Name == sync.GuardLockout {
			p.Guards[i] = sync.Guard{Name: sync.GuardLockout, Message: msg}
		}
	}
	doc := New(p, Meta{Options: sync.Options{Prune: true, MaxRemovals: 20}})
	if !doc.Refused {
		t.Fatal("the document of a plan the lockout guard refuses is not refused")
	}
	got, err := Read(bytes.NewReader(write(t, doc)))
	if err != nil {
		t.Fatal(err)
	}
	read := got.Plan()
	if !read.Refused() {
		t.Fatalf("a plan refused by lockout reads back as not refused: %v", read.Guards)
	}
	want := sync.Guard{Name: sync.GuardLockout, Message: msg}
	if i := slices.IndexFunc(read.Guards, func(g sync.Guard) bool { return g.Name == sync.GuardLockout }); i < 0 || read.Guards[i] != want {
		t.Errorf("lockout guard read back: %v, want %v", read.Guards, want)
	}
}
