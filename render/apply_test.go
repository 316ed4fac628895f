package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/sync"
)

// applied and refusedWrite are the results of one subject written and one
// whose write the API refused.
var (
	applied = sync.SubjectResult{
		Subject:  ci,
		Changes:  []sync.Change{{Action: sync.Add, Scope: sync.DeploymentScope(prod), Subject: ci, After: "DEPLOYMENT_ADMIN", Source: at(7)}},
		Before:   []sync.Grant{},
		After:    []sync.Grant{{Scope: sync.Scope{Level: sync.LevelDeployment, ID: "dep-prod"}, Role: "DEPLOYMENT_ADMIN"}},
		Wrote:    true,
		Duration: 1500 * time.Microsecond,
	}
	refusedWrite = sync.SubjectResult{
		Subject:  old,
		Changes:  []sync.Change{{Action: sync.Remove, Scope: sync.DeploymentScope(prod), Subject: old, Before: "DEPLOYMENT_ADMIN", Reason: sync.ReasonPrune}},
		Before:   []sync.Grant{{Scope: sync.Scope{Level: sync.LevelDeployment, ID: "dep-prod"}, Role: "DEPLOYMENT_ADMIN"}},
		After:    []sync.Grant{{Scope: sync.Scope{Level: sync.LevelDeployment, ID: "dep-prod"}, Role: "DEPLOYMENT_ADMIN"}},
		Duration: 2 * time.Millisecond,
		Err: &astroapi.Error{Method: "POST", Path: "/organizations/org1/tokens/tok-old/roles", StatusCode: 400,
			Message: "invalid role", RequestID: "req-42"},
	}
)

// everyLevelWrite is a user written on every level: its whole role set
// before and after, with an entity type tokensync does not know kept as
// read.
var everyLevelWrite = func() sync.SubjectResult {
	org := sync.ScopeRef{Level: sync.LevelOrganization, ID: "org1", Name: "org1"}
	ws := sync.ScopeRef{Level: sync.LevelWorkspace, ID: "ws-data", Name: "data-platform"}
	dag := sync.ScopeRef{Level: sync.LevelDAG, ID: "daily_rollup", Name: "daily_rollup", Deployment: prod}
	tag := sync.ScopeRef{Level: sync.LevelDAGTag, ID: "finance", Name: "finance", Deployment: prod}
	unknown := sync.Grant{Scope: sync.Scope{Level: "entity:CLUSTER", ID: "cl-1"}, Role: "CLUSTER_VIEWER"}
	return sync.SubjectResult{
		Subject: alice,
		Changes: []sync.Change{
			{Action: sync.Update, Scope: org, Subject: alice, Before: "ORGANIZATION_MEMBER", After: "ORGANIZATION_OWNER", Source: at(2)},
			{Action: sync.Add, Scope: ws, Subject: alice, After: "WORKSPACE_OPERATOR", Source: at(3)},
			{Action: sync.Add, Scope: sync.DeploymentScope(prod), Subject: alice, After: "DEPLOYMENT_ADMIN", Source: at(4)},
			{Action: sync.Add, Scope: dag, Subject: alice, After: "DAG_AUTHOR", Source: at(5)},
			{Action: sync.Remove, Scope: tag, Subject: alice, Before: "DAG_VIEWER", Reason: sync.ReasonPrune},
		},
		Before: []sync.Grant{
			{Scope: sync.Organization, Role: "ORGANIZATION_MEMBER"},
			{Scope: tag.Key(), Role: "DAG_VIEWER"},
			unknown,
		},
		After: []sync.Grant{
			{Scope: sync.Organization, Role: "ORGANIZATION_OWNER"},
			{Scope: ws.Key(), Role: "WORKSPACE_OPERATOR"},
			{Scope: sync.Scope{Level: sync.LevelDeployment, ID: prod.ID}, Role: "DEPLOYMENT_ADMIN"},
			{Scope: dag.Key(), Role: "DAG_AUTHOR"},
			unknown,
		},
		Wrote:    true,
		Duration: time.Millisecond,
	}
}()

// outcomes are apply outcomes of every shape the result document has.
func outcomes() map[string]sync.Outcome {
	return map[string]sync.Outcome{
		"complete": {
			Result:       sync.Result{Written: []sync.SubjectResult{applied}},
			Verification: &sync.Verification{Converged: true},
		},
		"partly failed": {
			Result: sync.Result{Written: []sync.SubjectResult{applied}, Failed: []sync.SubjectResult{refusedWrite},
				NotStarted: []sync.SubjectResult{{Subject: dbt}}},
			Verification: &sync.Verification{Remaining: []sync.Change{refusedWrite.Changes[0]}, ChangedByOthers: []sync.SubjectRef{alice}},
		},
		"verification failed": {
			Result:    sync.Result{Written: []sync.SubjectResult{applied}},
			VerifyErr: errors.New("verification read: 503"),
		},
		"every level": {
			Result:       sync.Result{Written: []sync.SubjectResult{everyLevelWrite}},
			Verification: &sync.Verification{Remaining: everyLevelWrite.Changes[3:], ChangedByOthers: []sync.SubjectRef{}},
		},
		"stale":   {Result: sync.Result{Stale: []sync.SubjectResult{{Subject: dataEng}}}},
		"refused": {Result: sync.Result{Refused: true, NotStarted: []sync.SubjectResult{{Subject: ci}}}},
	}
}

// compileApplySchema compiles apply.schema.json, or its definition def ("" for the
// document itself).
func compileApplySchema(t *testing.T, def string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ApplySchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("apply.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	loc := "apply.schema.json"
	if def != "" {
		loc += "#/$defs/" + def
	}
	sch, err := c.Compile(loc)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validateAgainst(t *testing.T, sch *jsonschema.Schema, data []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("does not match apply.schema.json: %v\n%s", err, data)
	}
}

func TestApplyJSONMatchesSchema(t *testing.T) {
	sch := compileApplySchema(t, "")
	for name, o := range outcomes() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := ApplyJSON(&buf, o, "org1", "test"); err != nil {
				t.Fatal(err)
			}
			validateAgainst(t, sch, buf.Bytes())
		})
	}
}

// The schema is strict: a field it does not describe is an error, so the
// test above would notice a field added to the document only.
func TestApplySchemaRefusesUnknownFields(t *testing.T) {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"format_version":"2","tokensync_version":"x","organization":"o","complete":true,
		"summary":{"add":0,"change":0,"remove":0,"unmanaged":0},"writes":[],"failed":[],"not_started":[],"stale":[],"verification":null,"refused":false,"extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if compileApplySchema(t, "").Validate(v) == nil {
		t.Error("apply.schema.json accepts an unknown field")
	}
}

func TestAuditLogLines(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.FixedZone("CET", 3600))
	l := NewAuditLog(&buf, "org1", func() time.Time { return now })
	l.Done(applied)
	l.Done(refusedWrite)
	if l.Err() != nil {
		t.Fatal(l.Err())
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		`{"audit_version":"2","time":"2025-03-04T04:06:07.89Z","organization":"org1",` +
			`"subject":{"kind":"workspaceToken","id":"tok-ci","name":"ci-deployer"},` +
			`"changes":[{"action":"add","scope":{"level":"deployment","id":"dep-prod","name":"analytics-prod"},"subject":{"kind":"workspaceToken","id":"tok-ci","name":"ci-deployer"},"before":"","after":"DEPLOYMENT_ADMIN","reason":"","source":{"file":"tokens.yaml","line":7,"col":9}}],` +
			`"before":[],"after":[{"level":"deployment","id":"dep-prod","role":"DEPLOYMENT_ADMIN"}],"status":"written","duration_ms":1.5,"changed_since_plan":false}`,
		`{"audit_version":"2","time":"2025-03-04T04:06:07.89Z","organization":"org1",` +
			`"subject":{"kind":"workspaceToken","id":"tok-old","name":"old-bot"},` +
			`"changes":[{"action":"remove","scope":{"level":"deployment","id":"dep-prod","name":"analytics-prod"},"subject":{"kind":"workspaceToken","id":"tok-old","name":"old-bot"},"before":"DEPLOYMENT_ADMIN","after":"","reason":"not in spec (prune)","source":null}],` +
			`"before":[{"level":"deployment","id":"dep-prod","role":"DEPLOYMENT_ADMIN"}],"after":[{"level":"deployment","id":"dep-prod","role":"DEPLOYMENT_ADMIN"}],"status":"failed",` +
			`"error":"POST /organizations/org1/tokens/tok-old/roles: 400 Bad Request: invalid role (request req-42)","status_code":400,"request_id":"req-42","duration_ms":2,"changed_since_plan":false}`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("audit lines (-want +got):\n%s", diff)
	}
	sch := compileApplySchema(t, "auditLine")
	for _, line := range lines {
		validateAgainst(t, sch, []byte(line))
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, fmt.Errorf("disk full")
}

// After a failed write the log writes nothing more and says why.
func TestAuditLogKeepsItsFirstError(t *testing.T) {
	w := &failingWriter{}
	l := NewAuditLog(w, "org1", nil)
	l.Done(applied)
	l.Done(applied)
	if w.n != 1 || l.Err() == nil || !strings.Contains(l.Err().Error(), "write the audit log: disk full") {
		t.Errorf("%d writes, error %v; want 1 write and the disk's error", w.n, l.Err())
	}
}

// Each line is one JSON object on one line: a name with a line break
// cannot split it.
func TestAuditLogLineIsOneLine(t *testing.T) {
	var buf bytes.Buffer
	r := applied
	r.Subject.Name = "evil\nname\u2028"
	NewAuditLog(&buf, "org1", nil).Done(r)
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Fatalf("%d line breaks in one audit line:\n%s", n, buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
}

// clock is a fake time that the test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestProgressOffATerminal(t *testing.T) {
	t.Run("a line per tenth, not per subject", func(t *testing.T) {
		c := &clock{t: time.Unix(1000, 0)}
		var buf bytes.Buffer
		p := NewProgressClock(&buf, false, 100, c.now)
		for i := range 100 {
			c.t = c.t.Add(100 * time.Millisecond)
			r := applied
			if i == 41 {
				r = refusedWrite
			}
			p.Done(r)
		}
		p.Finish()
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		want := []string{
			"Applying: 10/100 (10%), 10.0/s, 9s left",
			"Applying: 20/100 (20%), 10.0/s, 8s left",
			"Applying: 30/100 (30%), 10.0/s, 7s left",
			"Applying: 40/100 (40%), 10.0/s, 6s left",
			"Applying: 50/100 (50%), 1 failed, 10.0/s, 5s left",
			"Applying: 60/100 (60%), 1 failed, 10.0/s, 4s left",
			"Applying: 70/100 (70%), 1 failed, 10.0/s, 3s left",
			"Applying: 80/100 (80%), 1 failed, 10.0/s, 2s left",
			"Applying: 90/100 (90%), 1 failed, 10.0/s, 1s left",
			"Applying: 100/100 (100%), 1 failed, 10.0/s",
		}
		if diff := cmp.Diff(want, lines); diff != "" {
			t.Errorf("progress (-want +got):\n%s", diff)
		}
	})
	t.Run("a small plan: one line, not one per subject", func(t *testing.T) {
		for _, total := range []int{1, 7, 10} {
			c := &clock{t: time.Unix(1000, 0)}
			var buf bytes.Buffer
			p := NewProgressClock(&buf, false, total, c.now)
			for range total {
				c.t = c.t.Add(100 * time.Millisecond)
				p.Done(applied)
			}
			p.Finish()
			want := fmt.Sprintf("Applying: %d/%d (100%%), 10.0/s\n", total, total)
			if diff := cmp.Diff(want, buf.String()); diff != "" {
				t.Errorf("%d subjects: progress (-want +got):\n%s", total, diff)
			}
		}
	})
	t.Run("a line per ten subjects below a hundred", func(t *testing.T) {
		c := &clock{t: time.Unix(1000, 0)}
		var buf bytes.Buffer
		p := NewProgressClock(&buf, false, 25, c.now)
		for range 25 {
			c.t = c.t.Add(100 * time.Millisecond)
			p.Done(applied)
		}
		p.Finish()
		want := "Applying: 10/25 (40%), 10.0/s, 2s left\nApplying: 20/25 (80%), 10.0/s, 1s left\nApplying: 25/25 (100%), 10.0/s\n"
		if diff := cmp.Diff(want, buf.String()); diff != "" {
			t.Errorf("progress (-want +got):\n%s", diff)
		}
	})
	t.Run("a line every few seconds when slow", func(t *testing.T) {
		c := &clock{t: time.Unix(1000, 0)}
		var buf bytes.Buffer
		p := NewProgressClock(&buf, false, 1000, c.now)
		for range 12 {
			c.t = c.t.Add(time.Second)
			p.Done(applied)
		}
		p.Finish() // interrupted: says the last count
		want := "Applying: 5/1000 (0%), 1.0/s, 16m35s left\nApplying: 10/1000 (1%), 1.0/s, 16m30s left\nApplying: 12/1000 (1%), 1.0/s, 16m28s left\n"
		if diff := cmp.Diff(want, buf.String()); diff != "" {
			t.Errorf("progress (-want +got):\n%s", diff)
		}
	})
}

func TestProgressOnATerminal(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	var buf bytes.Buffer
	p := NewProgressClock(&buf, true, 4, c.now)
	for range 4 {
		c.t = c.t.Add(500 * time.Millisecond)
		p.Done(applied)
	}
	p.Finish()
	want := "\rApplying: 1/4 (25%), 2.0/s, 2s left\x1b[K" +
		"\rApplying: 2/4 (50%), 2.0/s, 1s left\x1b[K" +
		"\rApplying: 3/4 (75%), 2.0/s, 1s left\x1b[K" +
		"\rApplying: 4/4 (100%), 2.0/s\x1b[K\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

// TestApplyTextCountsALongNotStartedList: an interrupt of a large apply
// gives the count of subjects not started, not a screenful of names.
func TestApplyTextCountsALongNotStartedList(t *testing.T) {
	for _, n := range []int{MaxListed, MaxListed + 1} {
		o := sync.Outcome{Result: sync.Result{Written: []sync.SubjectResult{applied}, Failed: []sync.SubjectResult{refusedWrite}}}
		for i := range n {
			o.NotStarted = append(o.NotStarted, sync.SubjectResult{Subject: sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: fmt.Sprintf("tok-%d", i), Name: fmt.Sprintf("bot-%d", i)}})
		}
		var out, log bytes.Buffer
		if err := ApplyText(&out, &log, o); err != nil {
			t.Fatal(err)
		}
		named := strings.Count(log.String(), "  not started: workspace token bot-")
		counted := strings.Contains(log.String(), fmt.Sprintf("  not started: %d principal(s) (see apply -o json)\n", n))
		if n <= MaxListed && (named != n || counted) || n > MaxListed && (named != 0 || !counted) {
			t.Errorf("%d not started: %d named, counted %v:\n%s", n, named, counted, log.String())
		}
		if !strings.Contains(log.String(), "  failed: workspace token old-bot [tok-old]: POST") {
			t.Errorf("the failure is not reported:\n%s", log.String())
		}
	}
}

// TestApplyJSONGrants: a write's grants name their level and id, and a
// DAG's or tag's deployment; the organization's id is empty.
func TestApplyJSONGrants(t *testing.T) {
	var buf bytes.Buffer
	if err := ApplyJSON(&buf, outcomes()["every level"], "org1", "test"); err != nil {
		t.Fatal(err)
	}
	var doc ApplyDocument
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := []GrantJSON{
		{Level: "organization", ID: "", Role: "ORGANIZATION_OWNER"},
		{Level: "workspace", ID: "ws-data", Role: "WORKSPACE_OPERATOR"},
		{Level: "deployment", ID: "dep-prod", Role: "DEPLOYMENT_ADMIN"},
		{Level: "dag", ID: "daily_rollup", DeploymentID: "dep-prod", Role: "DAG_AUTHOR"},
		{Level: "entity:CLUSTER", ID: "cl-1", Role: "CLUSTER_VIEWER"},
	}
	if diff := cmp.Diff(want, doc.Writes[0].After); diff != "" {
		t.Errorf("grants after (-want +got):\n%s", diff)
	}
	if got := doc.Writes[0].Changes[4].Scope; got.Level != "dagTag" || got.Deployment == nil || got.Deployment.ID != "dep-prod" {
		t.Errorf("the DAG tag change's scope: %+v", got)
	}
}

// TestApplySchemaRefusesBadGrants: the schema holds a grant to its level:
// a DAG grant names its deployment, a deployment grant does not, and the
// organization's id is empty.
func TestApplySchemaRefusesBadGrants(t *testing.T) {
	sch := compileApplySchema(t, "grant")
	for _, tc := range []struct {
		grant string
		ok    bool
	}{
		{`{"level":"organization","id":"","role":"ORGANIZATION_OWNER"}`, true},
		{`{"level":"dag","id":"d","deployment_id":"dep","role":"DAG_VIEWER"}`, true},
		{`{"level":"dagTag","id":"finance","deployment_id":"dep","role":"DAG_VIEWER"}`, true},
		{`{"level":"entity:CLUSTER","id":"c","role":"X"}`, true},
		{`{"level":"dag","id":"d","role":"DAG_VIEWER"}`, false},
		{`{"level":"deployment","id":"dep","deployment_id":"dep","role":"DEPLOYMENT_ADMIN"}`, false},
		{`{"level":"deployment","id":"","role":"DEPLOYMENT_ADMIN"}`, false},
		{`{"level":"organization","id":"org1","role":"ORGANIZATION_OWNER"}`, false},
		{`{"level":"cluster","id":"c","role":"X"}`, false},
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.grant))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); (err == nil) != tc.ok {
			t.Errorf("%s: valid %v, want %v (%v)", tc.grant, err == nil, tc.ok, err)
		}
	}
}

// TestApplyTextNotesChangedAndDeleted: a subject written from a fresh read
// and one deleted since the plan each get their own note.
func TestApplyTextNotesChangedAndDeleted(t *testing.T) {
	changed, deleted := applied, applied
	changed.ChangedSincePlan = true
	deleted.Subject = sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-gone", Name: "gone-bot"}
	deleted.ChangedSincePlan, deleted.Deleted, deleted.Changes = true, true, nil
	var out, log bytes.Buffer
	if err := ApplyText(&out, &log, sync.Outcome{Result: sync.Result{Written: []sync.SubjectResult{changed, deleted}}}); err != nil {
		t.Fatal(err)
	}
	want := "  note: " + SubjectLabel(applied.Subject) + " had changed since the plan; its new roles were computed from a fresh read\n" +
		"  note: workspace token gone-bot [tok-gone] was deleted since the plan, which only took roles from it: nothing to write\n"
	if diff := cmp.Diff(want, log.String()); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}
