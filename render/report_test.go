package render

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// reportObserved is a small organization: every source of access, a
// deployment nobody can touch, and a team with members.
func reportObserved(extra ...sync.Subject) *sync.Observed {
	subjects := []sync.Subject{
		sync.TokenSubject(astroapi.Token{ID: "tok-ci", Name: "ci-deployer", Scope: "WORKSPACE", Roles: []astroapi.Role{
			{EntityType: "WORKSPACE", EntityID: "ws-data", Role: "WORKSPACE_ACCESSOR"},
			{EntityType: "DEPLOYMENT", EntityID: "dep-prod", Role: "DEPLOYMENT_ADMIN"}}}),
		sync.TokenSubject(astroapi.Token{ID: "tok-tf", Name: "terraform", Scope: "ORGANIZATION", Roles: []astroapi.Role{
			{EntityType: "ORGANIZATION", EntityID: "org1", Role: "ORGANIZATION_OWNER"}}}),
		sync.TokenSubject(astroapi.Token{ID: "tok-key", Name: "prod-key", Scope: "DEPLOYMENT", Roles: []astroapi.Role{
			{EntityType: "DEPLOYMENT", EntityID: "dep-prod", Role: "DEPLOYMENT_ADMIN"}}}),
		sync.UserSubject(astroapi.User{ID: "usr-1", Username: "alice@example.com", Status: "ACTIVE", OrganizationRole: "ORGANIZATION_MEMBER",
			DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep-prod", Role: "DAG_DEPLOYER"}}}),
		sync.TeamSubject(astroapi.Team{ID: "team-1", Name: "data-eng", OrganizationRole: "ORGANIZATION_MEMBER",
			WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: "ws-data", Role: "WORKSPACE_MEMBER"}}}),
	}
	return &sync.Observed{
		Organization: "org1",
		Workspaces:   []astroapi.Workspace{{ID: "ws-data", Name: "data"}, {ID: "ws-ml", Name: "ml"}},
		Deployments: []astroapi.Deployment{
			{ID: "dep-prod", Name: "prod", WorkspaceID: "ws-data"},
			{ID: "dep-dev", Name: "dev", WorkspaceID: "ws-data"},
			{ID: "dep-ml", Name: "train", WorkspaceID: "ws-ml"},
		},
		Subjects: append(subjects, extra...),
	}
}

// reports are the fixtures of the report goldens: plain, full (every
// source of access, a spec, teams expanded, since a previous report, token
// findings and a policy violation) and findings (full, and an inactive
// user whose deployment role is redundant).
func reports() map[string]access.Report {
	return map[string]access.Report{"report-plain": plainReport(), "report-full": fullReport(), "report-findings": fullReport(dave)}
}

// dave is an inactive user whose deployment role his workspace role makes
// redundant.
var dave = sync.UserSubject(astroapi.User{ID: "usr-4", Username: "dave@example.com", Status: "INACTIVE", OrganizationRole: "ORGANIZATION_MEMBER",
	WorkspaceRoles:  []astroapi.WorkspaceRole{{WorkspaceID: "ws-data", Role: "WORKSPACE_OWNER"}},
	DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep-dev", Role: "DEPLOYMENT_ADMIN"}}})

func plainReport() access.Report {
	plain := access.Compute(access.Input{Observed: reportObserved(), Production: []spec.Glob{"*prod*"}})
	plain.TokensyncVersion, plain.GeneratedAt = "test", "2026-02-01T10:00:00Z"
	return plain
}

func fullReport(extra ...sync.Subject) access.Report {

	now := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	review := access.DefaultReview(now)
	at := func(days int) *time.Time { t := now.AddDate(0, 0, days); return &t }
	// Every token finding: ci-deployer expires within 30 days and was last
	// used long ago; terraform never expires, was never used and never
	// rotated; prod-key expired.
	tokens := map[string]astroapi.Token{
		"tok-ci":  {ID: "tok-ci", EndAt: at(10), LastUsedAt: at(-100), LastRotatedAt: at(-10), CreatedAt: now.AddDate(-1, 0, 0)},
		"tok-tf":  {ID: "tok-tf", CreatedAt: now.AddDate(-1, 0, 0)},
		"tok-key": {ID: "tok-key", EndAt: at(-1), LastUsedAt: at(-2), LastRotatedAt: at(-200), CreatedAt: now.AddDate(-1, 0, 0)},
		"tok-new": {ID: "tok-new", EndAt: at(300), LastUsedAt: at(0), CreatedAt: now},
	}
	listed := func(obs *sync.Observed) *sync.Observed {
		for i, s := range obs.Subjects {
			if t, ok := tokens[s.ID]; ok {
				obs.Subjects[i].Hygiene = sync.TokenSubject(t).Hygiene
			}
		}
		return obs
	}
	before := access.Compute(access.Input{Observed: listed(reportObserved()), Production: []spec.Glob{"*prod*"}, Review: &review})
	before.GeneratedAt = "2026-01-01T10:00:00Z"
	full := access.Compute(access.Input{
		Review: &review,
		Observed: listed(reportObserved(append([]sync.Subject{sync.TokenSubject(astroapi.Token{ID: "tok-new", Name: "new-bot", Scope: "WORKSPACE", Roles: []astroapi.Role{
			{EntityType: "WORKSPACE", EntityID: "ws-ml", Role: "WORKSPACE_AUTHOR"}}}),
			// DAG roles: on a DAG the spec lists carol on, and on a tag it
			// does not manage.
			sync.UserSubject(astroapi.User{ID: "usr-3", Username: "carol@example.com", Status: "ACTIVE", OrganizationRole: "ORGANIZATION_MEMBER",
				DagRoles: []astroapi.DagRole{{DeploymentID: "dep-prod", DagID: "rollup", Role: "DAG_AUTHOR"}, {DeploymentID: "dep-dev", DagTag: "finance", Role: "DAG_VIEWER"}}})},
			extra...)...)),
		Desired: &sync.Desired{Scopes: []sync.ManagedScope{{
			// The organization lists the terraform token: its owner role is
			// managed on every deployment.
			ScopeRef:    sync.ScopeRef{Level: sync.LevelOrganization, ID: "org1", Name: "org1"},
			Assignments: []sync.DesiredAssignment{{Subject: sync.SubjectRef{Kind: sync.KindOrganizationToken, ID: "tok-tf"}, Role: "ORGANIZATION_OWNER"}},
		}, {
			// The ml workspace lists the team and prunes users.
			ScopeRef: sync.ScopeRef{Level: sync.LevelWorkspace, ID: "ws-ml", Name: "ml"}, WorkspaceID: "ws-ml", Prune: true, Lists: []sync.Kind{sync.KindUser, sync.KindTeam},
		}, {
			ScopeRef: sync.ScopeRef{Level: sync.LevelDeployment, ID: "dep-prod", Name: "prod"},
			Assignments: []sync.DesiredAssignment{
				{Subject: sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "tok-ci"}, Role: "DEPLOYMENT_ADMIN"},
				{Subject: sync.SubjectRef{Kind: sync.KindTeam, ID: "team-1"}, Absent: true},
			},
		}, {
			ScopeRef:    sync.ScopeRef{Level: sync.LevelDAG, ID: "rollup", Name: "rollup", Deployment: sync.DeploymentRef{ID: "dep-prod", Name: "prod"}},
			Assignments: []sync.DesiredAssignment{{Subject: sync.SubjectRef{Kind: sync.KindUser, ID: "usr-3"}, Role: "DAG_AUTHOR"}},
		}}},
		Members:    map[string][]astroapi.TeamMember{"team-1": {{UserID: "usr-1", Username: "alice@example.com"}, {UserID: "usr-2", Username: "bob@example.com"}}},
		Production: []spec.Glob{"*prod*"},
	})
	full.TokensyncVersion, full.GeneratedAt = "test", "2026-02-01T10:00:00Z"
	full.AddFindings(access.Finding{Kind: access.FindingPolicy, Category: access.CategoryPolicy, Severity: access.SeverityHigh,
		Principal: access.Ref{Kind: "workspaceToken", ID: "tok-ci", Name: "ci-deployer"}, Deployment: &access.DeploymentRef{ID: "dep-prod", Name: "prod", Workspace: "data"},
		Message: "a token holds admin on a production deployment", Rule: "no-token-admin-on-prod", Source: "tokens.yaml:12"},
		// A rule over a scope names no principal.
		access.Finding{Kind: access.FindingPolicy, Category: access.CategoryPolicy, Severity: access.SeverityHigh,
			Deployment: &access.DeploymentRef{ID: "dep-prod", Name: "prod", Workspace: "data"},
			Message:    "at most three admins on a production deployment", Rule: "prod-admins-at-most-three"})
	full.Since = access.Diff(before, full)
	access.DiffFindings(&before, &full)
	return full
}

func renderReport(t *testing.T, format string, r access.Report) []byte {
	t.Helper()
	var b bytes.Buffer
	render := map[string]func(*bytes.Buffer, access.Report) error{
		"txt":  func(b *bytes.Buffer, r access.Report) error { return ReportText(b, r) },
		"md":   func(b *bytes.Buffer, r access.Report) error { return ReportMarkdown(b, r) },
		"csv":  func(b *bytes.Buffer, r access.Report) error { return ReportCSV(b, r) },
		"json": func(b *bytes.Buffer, r access.Report) error { return ReportJSON(b, r) },
		"html": func(b *bytes.Buffer, r access.Report) error { return ReportHTML(b, r) },
	}[format]
	if err := render(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReportGolden(t *testing.T) {
	for name, r := range reports() {
		for _, format := range []string{"txt", "md", "csv", "json", "html"} {
			t.Run(name+"."+format, func(t *testing.T) {
				golden(t, name+"."+format, renderReport(t, format, r))
			})
		}
	}
}

func compileReportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ReportSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestReportJSONMatchesSchema: every report document, an empty one and
// one with hostile names too, matches report.schema.json, and the schema
// refuses a field it does not describe.
func TestReportJSONMatchesSchema(t *testing.T) {
	sch := compileReportSchema(t)
	rs := reports()
	rs["empty"] = access.Compute(access.Input{Observed: &sync.Observed{Organization: "org1"}})
	rs["hostile"] = hostileReport()
	for name, r := range rs {
		t.Run(name, func(t *testing.T) {
			data := renderReport(t, "json", r)
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(v); err != nil {
				t.Errorf("does not match report.schema.json: %v\n%s", err, data)
			}
			back, err := access.Read(data)
			if err != nil {
				t.Fatalf("the document does not read back: %v", err)
			}
			if n := len(access.Diff(back, r).Changes); n != 0 {
				t.Errorf("read back, the report differs from itself in %d cells", n)
			}
		})
	}
	const minimal = `{"format_version":"2","tokensync_version":"x","organization":"o","generated_at":"","spec":false,"teams_expanded":false,"production":[],"principals":[],"grants":[],"deployments":[]`
	for doc, valid := range map[string]bool{minimal + `}`: true, minimal + `,"extra":1}`: false} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); (err == nil) != valid {
			t.Errorf("report.schema.json on %s: %v, want valid %t", doc, err, valid)
		}
	}
}

// hostile names: markup, a terminal escape, a bidi override, a line
// break, a URL and a spreadsheet formula.
const (
	hostileTeam  = `<script>alert(1)</script><img src="https://evil.example/x.png">`
	hostileToken = "evil\x1b]8;;https://evil.example\x07\u202ename\nnext"
	hostileUser  = `=HYPERLINK("https://evil.example","x")`
)

func hostileReport() access.Report {
	obs := reportObserved(
		sync.TeamSubject(astroapi.Team{ID: "team-x", Name: hostileTeam, OrganizationRole: "ORGANIZATION_OWNER"}),
		sync.TokenSubject(astroapi.Token{ID: "tok-x", Name: hostileToken, Scope: "WORKSPACE", Roles: []astroapi.Role{
			{EntityType: "DEPLOYMENT", EntityID: "dep-prod", Role: `ROLE"><b>`}}}),
		sync.UserSubject(astroapi.User{ID: "usr-x", Username: hostileUser, OrganizationRole: "ORGANIZATION_OWNER"}),
	)
	obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: "dep-x", Name: "</td></tr><tr><td>x", WorkspaceID: "ws-ml"})
	r := access.Compute(access.Input{Observed: obs, Members: map[string][]astroapi.TeamMember{"team-x": {{UserID: "usr-y", Username: "<b>member</b>"}}}})
	r.Since = access.Diff(access.Report{GeneratedAt: `<i>then</i>`}, r)
	return r
}

// TestReportHTMLSelfContained: the page loads nothing: no element that
// fetches (src, href, link, CSS url() or @import), no http(s) address at
// all in a report of ordinary names, and a Content-Security-Policy that
// forbids every request.
func TestReportHTMLSelfContained(t *testing.T) {
	for name, r := range reports() {
		t.Run(name, func(t *testing.T) {
			page := string(renderReport(t, "html", r))
			for _, bad := range []string{"http://", "https://", "//cdn", " src=", " href=", "<link", "url(", "@import", "<iframe", "<object", "<embed", "<img"} {
				if strings.Contains(page, bad) {
					t.Errorf("the page holds %q", bad)
				}
			}
			if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none';`) {
				t.Error("no Content-Security-Policy forbidding requests")
			}
		})
	}
}

// TestReportHostileNames: names from the API cannot add markup or
// attributes to the page, drive a terminal, break a line of text or
// markdown, or be a spreadsheet formula.
func TestReportHostileNames(t *testing.T) {
	r := hostileReport()
	page := string(renderReport(t, "html", r))
	for _, bad := range []string{"<script>alert", "<img", "<b>", "<i>", "</td></tr><tr><td>x", "\x1b", "\u202e", `"><b>`} {
		if strings.Contains(page, bad) {
			t.Errorf("html: the page holds %q", bad)
		}
	}
	if n := strings.Count(page, "<script>"); n != 1 {
		t.Errorf("html: %d <script> elements, want only the page's own", n)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("html: the team's name is not shown escaped")
	}
	for _, format := range []string{"txt", "md", "csv"} {
		out := string(renderReport(t, format, r))
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("%s: a control or bidi character is not escaped:\n%s", format, out)
		}
		if strings.Contains(out, "\nnext") {
			t.Errorf("%s: a name breaks a line", format)
		}
	}
	if md := string(renderReport(t, "md", r)); strings.Contains(md, "<script>") || strings.Contains(md, "<b>") {
		t.Errorf("md: markup from a name:\n%s", md)
	}
	rows, err := csv.NewReader(bytes.NewReader(renderReport(t, "csv", r))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	formula := regexp.MustCompile(`^[=+\-@\t\r]`)
	for _, row := range rows {
		for _, f := range row {
			if formula.MatchString(f) {
				t.Errorf("csv: field %q is a formula", f)
			}
		}
	}
	if js := renderReport(t, "json", r); bytes.ContainsAny(js, "\x1b\x07") || bytes.Contains(js, []byte("\u202e")) {
		t.Errorf("json: a control or bidi character is not escaped")
	}
}

// TestReportMarkdownSaysWhen: the markdown report says when it was made,
// as text and HTML do.
func TestReportMarkdownSaysWhen(t *testing.T) {
	r := reports()["report-plain"]
	r.GeneratedAt = "2026-02-01T10:00:00Z"
	out := string(renderReport(t, "md", r))
	if want := "Generated at 2026-02-01T10:00:00Z"; !strings.Contains(out, want) {
		t.Errorf("markdown does not say %q:\n%s", want, out)
	}
	r.GeneratedAt = ""
	if out := string(renderReport(t, "md", r)); strings.Contains(out, "Generated at") {
		t.Errorf("markdown of a report without its time says one:\n%s", out)
	}
}

// TestReportScopeFindingNamesScope: a policy rule over a scope names no
// principal; text and markdown show the scope in its place, not "-".
func TestReportScopeFindingNamesScope(t *testing.T) {
	r := reports()["report-full"]
	for format, want := range map[string]string{
		"txt": "policy-violation     deployment data/prod",
		"md":  "| policy-violation | deployment data/prod | scope |",
	} {
		if out := string(renderReport(t, format, r)); !strings.Contains(out, want) {
			t.Errorf("%s lacks %q:\n%s", format, want, out)
		}
	}
}
