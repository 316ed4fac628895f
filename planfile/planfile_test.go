package planfile

import (
	"bytes"
	"encoding/json"
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
	doc := New(p, Meta{ToolVersion: "test", Options: sync.Options{Prune: true, MaxRemovals: 20}})
	got, err := Read(bytes.NewReader(write(t, doc)))
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
	want := map[string]bool{sync.GuardMaxRemovals: true, sync.GuardAllowEmpty: true, sync.GuardProtect: false}
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
		"older version":       `{"format_version": "1"}`,
		"newer version":       `{"format_version": "3"}`,
		"unknown field":       `{"format_version": "2", "extra": 1}`,
		"not json":            `plan: yes`,
		"trailing data":       valid(func(*Document) {}) + ` {}`,
		"no organization":     valid(func(d *Document) { d.Organization = "" }),
		"no target":           valid(func(d *Document) { d.Target = nil }),
		"unknown action":      valid(func(d *Document) { d.Changes[0].Action = "unmanaged" }),
		"deployment token":    valid(func(d *Document) { d.Changes[0].Subject.Kind = "deploymentToken" }),
		"no fingerprint":      valid(func(d *Document) { delete(d.Fingerprints, d.Changes[0].Subject.ID) }),
		"a remove with after": valid(func(d *Document) { d.Changes[0].After = "DEPLOYMENT_ADMIN" }),
		"an add without role": valid(func(d *Document) { d.Changes[0].Action = "add" }),
		"a bad protect glob":  valid(func(d *Document) { d.Options.Protect = []string{"ci-["} }),
		"a bad ignore glob":   valid(func(d *Document) { d.Target.Ignore["workspaceToken"] = []string{"ok", "[z-a]"} }),
	} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Read(strings.NewReader(valid(func(*Document) {}))); err != nil {
		t.Errorf("the valid document: %v", err)
	}
}
