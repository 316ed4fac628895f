package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// everyHidden holds every class of character Safe escapes: C0 controls and
// DEL, ESC sequences (CSI, OSC ended by BEL), C1 controls, line breaks of
// every kind, the bidirectional marks, embeddings, overrides and isolates,
// zero-width characters, the BOM, a no-break space, a tag character and a
// private-use one.
const everyHidden = "ctl\x00\x01\x07\x08\t\x0b\x0c\x7f esc\x1b[2J\x1b]0;owned\x07 c1\u0085\u009b " +
	"bidi\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069 " +
	"zw\u200b\u200c\u200d\u2060 bom\ufeff sep\u2028\u2029 cr\r\nnext nbsp\u00a0 tag\U000E0041 pua\ue000"

// hostileOf is s made hostile: what an API could return as a name. It
// starts a GitHub Actions workflow command (::stop-commands) and holds one
// of the old form (##[add-mask]) too, which a line of a job's log must not
// make.
func hostileOf(s string) string {
	return "::stop-commands::" + s + " ##[add-mask]" + s + " " + everyHidden
}

// hostileFixture is one of each thing a renderer presents, every string in
// it from the API holding every character Safe escapes.
type hostileFixture struct {
	plan    sync.Plan
	outcome []sync.Outcome
	report  access.Report
}

func newHostileFixture() hostileFixture {
	dep := sync.DeploymentRef{ID: hostileOf("dep"), Name: hostileOf("deployment")}
	tok := sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: hostileOf("tok"), Name: hostileOf("token")}
	usr := sync.SubjectRef{Kind: sync.KindUser, ID: hostileOf("usr"), Name: hostileOf("user")}
	src := &spec.Pos{File: hostileOf("tokens") + ".yaml", Line: 3, Col: 9}
	// A scope of every other level, named by the API (or the spec, for a
	// DAG id or tag).
	org := sync.ScopeRef{Level: sync.LevelOrganization, ID: hostileOf("org"), Name: hostileOf("org")}
	ws := sync.ScopeRef{Level: sync.LevelWorkspace, ID: hostileOf("ws"), Name: hostileOf("workspace")}
	dag := sync.ScopeRef{Level: sync.LevelDAG, ID: hostileOf("dag"), Name: hostileOf("dag"), Deployment: dep}
	tag := sync.ScopeRef{Level: sync.LevelDAGTag, ID: hostileOf("tag"), Name: hostileOf("tag"), Deployment: dep}
	p := sync.Plan{
		Organization: hostileOf("org"),
		Changes: []sync.Change{
			{Action: sync.Add, Scope: sync.DeploymentScope(dep), Subject: usr, After: hostileOf("ROLE"), Source: src},
			{Action: sync.Update, Scope: sync.DeploymentScope(dep), Subject: tok, Before: hostileOf("OLD"), After: "DEPLOYMENT_ADMIN", Source: src},
			{Action: sync.Remove, Scope: sync.DeploymentScope(dep), Subject: tok, Before: hostileOf("ROLE"), Reason: hostileOf("reason")},
			{Action: sync.Update, Scope: org, Subject: usr, Before: "ORGANIZATION_OWNER", After: hostileOf("ROLE"), Source: src},
			{Action: sync.Add, Scope: ws, Subject: tok, After: hostileOf("ROLE"), Source: src},
			{Action: sync.Add, Scope: dag, Subject: usr, After: hostileOf("ROLE"), Source: src},
			{Action: sync.Remove, Scope: tag, Subject: tok, Before: hostileOf("ROLE"), Reason: hostileOf("reason")},
		},
		Unmanaged: []sync.Change{
			{Action: sync.Unmanaged, Scope: sync.DeploymentScope(dep), Subject: usr, Before: hostileOf("ROLE"), Reason: hostileOf("ignored")},
			{Action: sync.Unmanaged, Scope: tag, Subject: usr, Before: hostileOf("ROLE"), Reason: hostileOf("ignored")},
		},
		Guards: []sync.Guard{
			{Name: sync.GuardMaxRemovals, OK: true, Message: "1 removal"},
			{Name: sync.GuardProtect, Message: hostileOf("protected token")},
			{Name: sync.GuardLockout, Message: hostileOf("the plan would leave the organization without any ORGANIZATION_OWNER")},
		},
		Partial:      []sync.ScopeRef{org, ws, sync.DeploymentScope(dep)},
		Fingerprints: map[string]string{tok.ID: strings.Repeat("a", 64), usr.ID: strings.Repeat("b", 64)},
		Violations: []sync.Violation{
			{Rule: hostileOf("rule"), Description: hostileOf("description"), Scope: sync.DeploymentScope(dep), Subject: &usr,
				Role: hostileOf("ROLE"), Via: "team " + hostileOf("team"), Source: src, Err: hostileOf("error")},
			{Rule: hostileOf("scope rule"), Description: hostileOf("description"), Scope: dag},
		},
	}
	p.Guards = append(p.Guards, sync.Guard{Name: sync.GuardPolicy, Message: hostileOf("2 violations")})
	p = withTarget(p)

	written := sync.SubjectResult{Subject: tok, Changes: p.Changes[1:], Wrote: true, Duration: time.Millisecond,
		Before: []sync.Grant{{Scope: sync.Scope{Level: sync.LevelDeployment, ID: dep.ID}, Role: hostileOf("OLD")}, {Scope: tag.Key(), Role: hostileOf("ROLE")}},
		After:  []sync.Grant{{Scope: ws.Key(), Role: hostileOf("ROLE")}, {Scope: sync.Scope{Level: sync.Level(hostileOf("entity:")), ID: hostileOf("x")}, Role: hostileOf("ROLE")}}}
	failed := sync.SubjectResult{Subject: usr, Changes: p.Changes[:1], Before: []sync.Grant{}, After: []sync.Grant{},
		Err: &astroapi.Error{Method: "POST", Path: "/organizations/o/users/" + usr.ID, StatusCode: 400, Message: hostileOf("refused"), RequestID: hostileOf("req")}}
	outcomes := []sync.Outcome{
		{
			Result: sync.Result{Written: []sync.SubjectResult{written}, Failed: []sync.SubjectResult{failed},
				NotStarted: []sync.SubjectResult{{Subject: usr}}, Stale: []sync.SubjectResult{{Subject: tok}}},
			Verification: &sync.Verification{Remaining: []sync.Change{p.Changes[0], p.Changes[5]}, ChangedByOthers: []sync.SubjectRef{usr}},
		},
		{Result: sync.Result{Written: []sync.SubjectResult{written}}, VerifyErr: errors.New(hostileOf("verification read"))},
	}

	obs := &sync.Observed{
		Organization: hostileOf("org"),
		Workspaces:   []astroapi.Workspace{{ID: hostileOf("ws"), Name: hostileOf("workspace")}},
		Deployments:  []astroapi.Deployment{{ID: dep.ID, Name: dep.Name, WorkspaceID: hostileOf("ws")}},
		Subjects: []sync.Subject{
			sync.TokenSubject(astroapi.Token{ID: tok.ID, Name: tok.Name, Scope: "WORKSPACE", Roles: []astroapi.Role{
				{EntityType: "DEPLOYMENT", EntityID: dep.ID, Role: hostileOf("ROLE")}}}),
			sync.UserSubject(astroapi.User{ID: usr.ID, Username: usr.Name, Status: hostileOf("ACTIVE"), OrganizationRole: "ORGANIZATION_MEMBER",
				DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: dep.ID, Role: "DEPLOYMENT_ADMIN"}}}),
			sync.TeamSubject(astroapi.Team{ID: hostileOf("team-id"), Name: hostileOf("team"), OrganizationRole: "ORGANIZATION_OWNER"}),
		},
	}
	r := access.Compute(access.Input{Observed: obs, Production: []spec.Glob{spec.Glob(hostileOf("*"))},
		Members:    map[string][]astroapi.TeamMember{hostileOf("team-id"): {{UserID: hostileOf("member-id"), Username: hostileOf("member")}}},
		RoleLevels: access.RoleLevels{hostileOf("ROLE"): access.LevelAdmin}})
	r.GeneratedAt = hostileOf("then")
	r.Since = access.Diff(access.Report{GeneratedAt: hostileOf("before")}, r)
	r.Filters = &access.Filter{Deployments: []string{hostileOf("dep")}, Principals: []spec.Glob{spec.Glob(hostileOf("*"))}}
	r.Review = &access.Review{}
	r.AddFindings(access.Finding{Kind: hostileOf("kind"), Category: hostileOf("category"), Severity: hostileOf("severity"),
		Principal: access.Ref{Kind: hostileOf("kind"), ID: tok.ID, Name: tok.Name}, Deployment: &access.DeploymentRef{ID: dep.ID, Name: dep.Name, Workspace: hostileOf("workspace")},
		Scope: hostileOf("scope"), Role: hostileOf("ROLE"), Message: hostileOf("message"), Rule: hostileOf("rule"), Source: hostileOf("file:1"), New: true},
		access.Finding{Kind: access.FindingPolicy, Category: access.CategoryPolicy, Principal: access.Ref{Kind: "user", ID: hostileOf("nobody"), Name: hostileOf("nobody")},
			Scope: hostileOf("scope"), Message: hostileOf("message")})
	return hostileFixture{plan: p, outcome: outcomes, report: r}
}

// writers are every output of package render, by the name of the exported
// function that makes it. TestEveryWriterIsInTheTable fails when an exported
// function that writes to an io.Writer or returns text is missing here, so
// a new output inherits TestEveryWriterEscapes by being added to the table.
//
// own removes what a writer writes of its own accord (colours, the live
// progress line's carriage return and erase) before the check.
var writers = []struct {
	name  string
	write func(w io.Writer, f hostileFixture) error
	own   func(string) string
}{
	{name: "Text", write: func(w io.Writer, f hostileFixture) error { return Text(w, f.plan, false) }},
	{name: "Text", write: func(w io.Writer, f hostileFixture) error { return Text(w, f.plan, true) }, own: noSGR},
	{name: "SavedText", write: func(w io.Writer, f hostileFixture) error { return SavedText(w, f.plan, false) }},
	{name: "Markdown", write: func(w io.Writer, f hostileFixture) error { return Markdown(w, f.plan, MarkdownOptions{}) }},
	{name: "Markdown", write: func(w io.Writer, f hostileFixture) error {
		return Markdown(w, f.plan, MarkdownOptions{Limit: 600})
	}},
	{name: "MarkdownFailure", write: func(w io.Writer, f hostileFixture) error {
		return MarkdownFailure(w, []string{hostileOf("reason"), f.plan.Guards[1].Message}, MarkdownOptions{})
	}},
	{name: "JSON", write: func(w io.Writer, f hostileFixture) error {
		return JSON(w, f.plan, planfile.Meta{SpecFiles: []string{hostileOf("tokens")}, Options: sync.Options{Protect: []string{hostileOf("*")}}})
	}},
	{name: "ApplyText", write: func(w io.Writer, f hostileFixture) error {
		for _, o := range f.outcome {
			if err := ApplyText(w, w, o); err != nil {
				return err
			}
		}
		return nil
	}},
	{name: "ApplyJSON", write: func(w io.Writer, f hostileFixture) error {
		for _, o := range f.outcome {
			if err := ApplyJSON(w, o, hostileOf("org"), hostileOf("v1")); err != nil {
				return err
			}
		}
		return nil
	}},
	{name: "NewAuditLog", write: func(w io.Writer, f hostileFixture) error {
		l := NewAuditLog(w, hostileOf("org"), func() time.Time { return time.Unix(0, 0) })
		for _, o := range f.outcome {
			for _, r := range slices.Concat(o.Written, o.Failed) {
				l.Done(r)
			}
		}
		return l.Err()
	}},
	{name: "NewProgress", write: func(w io.Writer, f hostileFixture) error { return progress(NewProgress(w, false, 3), f) }},
	{name: "NewProgressClock", write: func(w io.Writer, f hostileFixture) error {
		return progress(NewProgressClock(w, true, 3, time.Now), f)
	}, own: func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r", ""), "\x1b[K", "") }},
	{name: "Stale", write: func(w io.Writer, f hostileFixture) error {
		Stale(w, f.outcome[0].Verification.ChangedByOthers)
		return nil
	}},
	{name: "ReportText", write: func(w io.Writer, f hostileFixture) error { return ReportText(w, f.report) }},
	{name: "ReportMarkdown", write: func(w io.Writer, f hostileFixture) error { return ReportMarkdown(w, f.report) }},
	{name: "ReportCSV", write: func(w io.Writer, f hostileFixture) error { return ReportCSV(w, f.report) }, own: noCRLF},
	{name: "ReportJSON", write: func(w io.Writer, f hostileFixture) error { return ReportJSON(w, f.report) }},
	{name: "ReportJSONIndent", write: func(w io.Writer, f hostileFixture) error { return ReportJSONIndent(w, f.report) }},
	{name: "ReportHTML", write: func(w io.Writer, f hostileFixture) error { return ReportHTML(w, f.report) }},
	{name: "ApplySchema", write: func(w io.Writer, _ hostileFixture) error { return text(w, string(ApplySchema())) }},
	{name: "ReportSchema", write: func(w io.Writer, _ hostileFixture) error { return text(w, string(ReportSchema())) }},
	{name: "Safe", write: func(w io.Writer, _ hostileFixture) error { return text(w, Safe(hostileOf("name"))) }},
	{name: "SafeLines", write: func(w io.Writer, _ hostileFixture) error {
		return text(w, SafeLines("a\n"+strings.ReplaceAll(hostileOf("b"), "\n", "")))
	}},
	{name: "SubjectLabel", write: func(w io.Writer, f hostileFixture) error {
		return text(w, SubjectLabel(f.plan.Changes[0].Subject)+SubjectLabel(f.plan.Changes[1].Subject))
	}},
	{name: "PartialNote", write: func(w io.Writer, f hostileFixture) error {
		return text(w, PartialNote(f.plan.Partial))
	}},
	{name: "ScopeTitle", write: func(w io.Writer, f hostileFixture) error {
		for _, c := range f.plan.Changes {
			if err := text(w, ScopeTitle(c.Scope)+"\n"); err != nil {
				return err
			}
		}
		return nil
	}},
	{name: "EscapeQuoted", write: func(w io.Writer, _ hostileFixture) error {
		doc, err := json.Marshal(hostileOf("name"))
		if err != nil {
			return err
		}
		return text(w, string(EscapeQuoted(doc, jsonEscape)))
	}},
}

func progress(p *Progress, f hostileFixture) error {
	for _, r := range slices.Concat(f.outcome[0].Written, f.outcome[0].Failed, f.outcome[1].Written) {
		p.Done(r)
	}
	p.Finish()
	return nil
}

func text(w io.Writer, s string) error {
	_, err := io.WriteString(w, s)
	return err
}

func noSGR(s string) string  { return sgr.ReplaceAllString(s, "") }
func noCRLF(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") } // CSV ends its records so

// TestEveryWriterEscapes: no output of render passes through a control,
// bidirectional or invisible character from the API (any character Safe
// escapes, but the line feeds that end lines); every JSON document and
// line is valid JSON that holds the hostile strings as \u escapes.
func TestEveryWriterEscapes(t *testing.T) {
	f := newHostileFixture()
	for i, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := w.write(&b, f); err != nil {
				t.Fatalf("writer %d: %v", i, err)
			}
			out := b.String()
			if w.own != nil {
				out = w.own(out)
			}
			inert(t, w.name, out)
			if strings.Contains(out, "\nnext") {
				t.Errorf("%s: a name starts a line of its own", w.name)
			}
			for l := range strings.Lines(out) {
				if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") || strings.Contains(l, "##[") {
					t.Errorf("%s: a GitHub Actions runner takes this line for a workflow command: %q", w.name, l)
				}
			}
		})
	}
}

// TestJSONOutputsReadBack: the JSON documents and lines escape, and read back
// with the same strings.
func TestJSONOutputsReadBack(t *testing.T) {
	f := newHostileFixture()
	for _, w := range writers {
		if !strings.Contains(w.name, "JSON") && w.name != "NewAuditLog" {
			continue
		}
		var b bytes.Buffer
		if err := w.write(&b, f); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b.Bytes(), []byte(`\u202e`)) || !bytes.Contains(b.Bytes(), []byte(`\u200b`)) || !bytes.Contains(b.Bytes(), []byte(`\ufeff`)) {
			t.Errorf("%s does not write U+202E, U+200B and U+FEFF as \\u escapes:\n%s", w.name, b.String())
		}
		dec := json.NewDecoder(&b)
		found := false
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			found = found || holds(v, hostileOf("token"))
		}
		if !found {
			t.Errorf("%s: the token's name does not read back as it was", w.name)
		}
	}
}

// holds reports whether s is a string somewhere in v, a decoded JSON value.
func holds(v any, s string) bool {
	switch v := v.(type) {
	case string:
		return v == s
	case []any:
		return slices.ContainsFunc(v, func(x any) bool { return holds(x, s) })
	case map[string]any:
		for _, x := range v {
			if holds(x, s) {
				return true
			}
		}
	}
	return false
}

// TestEveryWriterIsInTheTable: every exported function of render that
// takes an io.Writer or returns text (a string or bytes) has a row in
// writers, so that a new output is checked by TestEveryWriterEscapes.
func TestEveryWriterIsInTheTable(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, w := range writers {
		covered[w.name] = true
	}
	for _, file := range pkgs["render"].Files {
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || !writes(fn.Type) {
				continue
			}
			if !covered[fn.Name.Name] {
				t.Errorf("%s writes output but has no row in writers (escaping_test.go): add one", fn.Name.Name)
			}
		}
	}
}

// writes reports whether a function of type ft takes an io.Writer or
// returns a string or []byte.
func writes(ft *ast.FuncType) bool {
	for _, p := range ft.Params.List {
		if sel, ok := p.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Writer" {
			return true
		}
	}
	if ft.Results == nil {
		return false
	}
	for _, r := range ft.Results.List {
		switch t := r.Type.(type) {
		case *ast.Ident:
			if t.Name == "string" {
				return true
			}
		case *ast.ArrayType:
			if id, ok := t.Elt.(*ast.Ident); ok && id.Name == "byte" {
				return true
			}
		}
	}
	return false
}
