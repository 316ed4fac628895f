package render

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/sync"
)

// mentionNames are names from the API that GitHub would take for a
// mention, were they written as they are: a team, a user, one after
// punctuation or markdown, one spelt with an entity or a backslash, and
// e-mail addresses, whose @ after a word character mentions nobody.
var mentionNames = []string{
	"@acme/platform-admins",
	"@alice",
	"big-token @bob",
	"(@carol)",
	"x.@dave",
	"é@erin",
	"`@frank`",
	"*@grace*",
	`\@heidi`,
	"&#64;ivan &commat;judy &#x40;mallory",
	"|@niaj|",
	"<b>@olivia</b>",
	"tok_@peggy",
	"alice@example.com",
	"@@trent",
}

// markdownWriters are the outputs of package render that GitHub renders as
// markdown: the plan (whole and cut), a failed plan and the report.
var markdownWriters = []struct {
	name  string
	write func(w *bytes.Buffer, f hostileFixture) error
}{
	{"Markdown", func(w *bytes.Buffer, f hostileFixture) error { return Markdown(w, f.plan, MarkdownOptions{}) }},
	{"Markdown cut", func(w *bytes.Buffer, f hostileFixture) error { return Markdown(w, f.plan, MarkdownOptions{Limit: 900}) }},
	{"MarkdownFailure", func(w *bytes.Buffer, f hostileFixture) error {
		return MarkdownFailure(w, []string{f.plan.Guards[1].Message}, MarkdownOptions{})
	}},
	{"ReportMarkdown", func(w *bytes.Buffer, f hostileFixture) error { return ReportMarkdown(w, f.report) }},
}

// TestMarkdownMentionsNobody: no markdown output lets a name from the API
// mention a user or team on GitHub, wherever the name is shown, and an
// e-mail address keeps its @ as it is.
func TestMarkdownMentionsNobody(t *testing.T) {
	for _, name := range mentionNames {
		f := mentionFixture(name)
		for _, w := range markdownWriters {
			t.Run(w.name+"/"+name, func(t *testing.T) {
				var b bytes.Buffer
				if err := w.write(&b, f); err != nil {
					t.Fatal(err)
				}
				if m := mentions(b.String()); len(m) > 0 {
					t.Errorf("%s mentions %q:\n%s", w.name, m, b.String())
				}
				if name == "alice@example.com" && !strings.Contains(b.String(), "alice@example.com") {
					t.Errorf("%s does not show the e-mail address as it is:\n%s", w.name, b.String())
				}
			})
		}
	}
}

// TestMarkdownMentionsNobodyProperty: for random names made of the
// characters around a mention, no markdown output mentions anyone.
func TestMarkdownMentionsNobodyProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.StringMatching("[a-z_.@/`\\\\&#;* |()<>é-]{1,24}").Draw(t, "name")
		f := mentionFixture(name)
		for _, w := range markdownWriters {
			var b bytes.Buffer
			if err := w.write(&b, f); err != nil {
				t.Fatal(err)
			}
			if m := mentions(b.String()); len(m) > 0 {
				t.Fatalf("%s mentions %q with the name %q:\n%s", w.name, m, name, b.String())
			}
		}
	})
}

// TestNoMention: an @ that could start a mention is followed by a
// zero-width space, written as a reference; one that cannot is kept.
func TestNoMention(t *testing.T) {
	tests := []struct{ in, want string }{
		{"@acme/platform-admins", "@&#8203;acme/platform-admins"},
		{"alice@example.com", "alice@example.com"},
		{"x.@dave 9@x", "x.@&#8203;dave 9@x"},
		{"tok_@peggy", "tok\\_@peggy"}, // _ is a word character: no mention, as in b_@example.com
		{"@@trent", "@@&#8203;trent"},
		{"a-@example.com a+@example.com a.@example.com", "a-@example.com a+@example.com a.@example.com"}, // a domain: no mention
		{"x.@dave. @dave.x @org/team.x", "x.@&#8203;dave. @dave.x @&#8203;org/team.x"},
		{"a @ b, @-x, @_y", "a @ b, @-x, @\\_y"},
		{"ends @", "ends @&#8203;"},
		{"@étienne", "@&#8203;étienne"},
		{"&#64;ivan", "&amp;#64;ivan"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, mdText(tt.in)); diff != "" {
			t.Errorf("mdText(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// mentionFixture is the hostile fixture with name in every string from
// the API that markdown shows: subjects' names and ids, roles, reasons,
// scopes, guard messages, violations, the report's principals and findings.
func mentionFixture(name string) hostileFixture {
	f := newHostileFixture()
	f.plan = replaceHostile(f.plan, name)
	f.report = replaceHostileReport(f.report, name)
	return f
}

// hostileTail is what hostileOf adds to a string.
var hostileTail = " " + everyHidden

// replaceHostile is p with every hostile string of newHostileFixture
// replaced by name, so that name is what each of them shows.
func replaceHostile(p sync.Plan, name string) sync.Plan {
	r := func(s string) string { return strings.ReplaceAll(s, hostileTail, " "+name) }
	sub := func(s sync.SubjectRef) sync.SubjectRef { s.ID, s.Name = r(s.ID), name; return s }
	scope := func(s sync.ScopeRef) sync.ScopeRef {
		s.ID, s.Name = r(s.ID), name
		s.Deployment.ID, s.Deployment.Name = r(s.Deployment.ID), name
		return s
	}
	change := func(c sync.Change) sync.Change {
		c.Scope, c.Subject = scope(c.Scope), sub(c.Subject)
		c.Before, c.After, c.Reason = r(c.Before), r(c.After), r(c.Reason)
		return c
	}
	q := p
	q.Organization = name
	q.Changes, q.Unmanaged, q.Guards, q.Partial, q.Violations = nil, nil, nil, nil, nil
	for _, c := range p.Changes {
		q.Changes = append(q.Changes, change(c))
	}
	for _, c := range p.Unmanaged {
		q.Unmanaged = append(q.Unmanaged, change(c))
	}
	for _, g := range p.Guards {
		g.Message = name + " " + r(g.Message)
		q.Guards = append(q.Guards, g)
	}
	for _, s := range p.Partial {
		q.Partial = append(q.Partial, scope(s))
	}
	for _, v := range p.Violations {
		v.Rule, v.Description, v.Role, v.Via, v.Err, v.Why = name, name, name, "team "+name, name, name
		v.Scope = scope(v.Scope)
		if v.Subject != nil {
			s := sub(*v.Subject)
			v.Subject = &s
		}
		q.Violations = append(q.Violations, v)
	}
	return q
}

// replaceHostileReport is a report like newHostileFixture's in which name
// is every principal's and deployment's name, role and finding.
func replaceHostileReport(r access.Report, name string) access.Report {
	obs := &sync.Observed{
		Organization: name,
		Workspaces:   []astroapi.Workspace{{ID: "ws", Name: name}},
		Deployments:  []astroapi.Deployment{{ID: "dep", Name: name, WorkspaceID: "ws"}},
		Subjects: []sync.Subject{
			sync.TokenSubject(astroapi.Token{ID: "tok " + name, Name: name, Scope: "WORKSPACE", Roles: []astroapi.Role{
				{EntityType: "DEPLOYMENT", EntityID: "dep", Role: name}}}),
			sync.UserSubject(astroapi.User{ID: "usr", Username: name, Status: name, OrganizationRole: "ORGANIZATION_MEMBER",
				DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep", Role: "DEPLOYMENT_ADMIN"}}}),
			sync.TeamSubject(astroapi.Team{ID: "team-id", Name: name, OrganizationRole: "ORGANIZATION_OWNER"}),
		},
	}
	q := access.Compute(access.Input{Observed: obs,
		Members:    map[string][]astroapi.TeamMember{"team-id": {{UserID: "member-id", Username: name}}},
		RoleLevels: access.RoleLevels{name: access.LevelAdmin}})
	q.GeneratedAt = name
	q.Since = access.Diff(access.Report{GeneratedAt: name}, q)
	q.Filters = r.Filters
	q.Review = &access.Review{}
	q.AddFindings(access.Finding{Kind: name, Category: name, Severity: name,
		Principal: access.Ref{Kind: name, ID: name, Name: name}, Deployment: &access.DeploymentRef{ID: "dep", Name: name, Workspace: name},
		Scope: name, Role: name, Message: name, Rule: name, Source: name, New: true})
	return q
}

var (
	// codeElement is an HTML code element; GitHub looks for no mention
	// inside one.
	codeElement = regexp.MustCompile(`(?s)<code>.*?</code>`)
	// htmlTag is an HTML tag, which ends a text node.
	htmlTag = regexp.MustCompile(`<[^>]*>`)
	// mdEscape is a markdown backslash escape of an ASCII punctuation
	// character.
	mdEscape = regexp.MustCompile("\\\\([!-/:-@\\[-`{-~])")
	// mentionRE is the start of GitHub's rule for a mention in a text
	// node: an @ not after a word character ([A-Za-z0-9_]), then a login
	// (see noMention); mentionEnds is the rest.
	mentionRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_])@[A-Za-z0-9][A-Za-z0-9-]*`)
)

// mentions are the mentions GitHub would find in a markdown document,
// line by line, as rendered text: code spans and code elements left out,
// tags ending the text, backslash escapes and character references
// undone.
func mentions(md string) []string {
	var found []string
	for _, line := range strings.Split(codeElement.ReplaceAllString(md, " "), "\n") {
		for _, cell := range strings.Split(withoutCodeSpans(line), "|") {
			text := htmlTag.ReplaceAllString(cell, " ")
			text = html.UnescapeString(mdEscape.ReplaceAllString(text, "$1"))
			for _, m := range mentionRE.FindAllStringIndex(text, -1) {
				if mentionEnds(text[m[1]:]) {
					found = append(found, text[m[0]:m[1]])
				}
			}
		}
	}
	return found
}

// mentionEnds reports whether rest, what follows a login after an @, ends
// a mention as html-pipeline's MentionPattern's lookahead has it: the end,
// a character that is neither a word character nor a dot, or dots then
// the end or such a character. (A login followed by a dot and a word
// character is an e-mail address's domain.)
func mentionEnds(rest string) bool {
	isWord := func(c byte) bool { return isASCIIAlnum(c) || c == '_' }
	dots := strings.TrimLeft(rest, ".")
	switch {
	case rest == "":
		return true
	case rest[0] != '.':
		return !isWord(rest[0])
	}
	return dots == "" || !isWord(dots[0])
}

// withoutCodeSpans is a line of markdown with its code spans (a run of
// backticks not escaped, up to the next run of as many) replaced by a
// space.
func withoutCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		switch {
		case line[i] == '\\' && i+1 < len(line):
			b.WriteString(line[i : i+2])
			i += 2
			continue
		case line[i] != '`':
			b.WriteByte(line[i])
			i++
			continue
		}
		n := len(line[i:]) - len(strings.TrimLeft(line[i:], "`"))
		fence := line[i : i+n]
		end := closingFence(line[i+n:], fence)
		if end < 0 {
			b.WriteString(fence)
			i += n
			continue
		}
		b.WriteString(" ")
		i += n + end + n
	}
	return b.String()
}

// closingFence is where in s a run of exactly fence's backticks starts, or
// -1.
func closingFence(s, fence string) int {
	for j := 0; j < len(s); {
		if s[j] != '`' {
			j++
			continue
		}
		n := len(s[j:]) - len(strings.TrimLeft(s[j:], "`"))
		if n == len(fence) {
			return j
		}
		j += n
	}
	return -1
}
