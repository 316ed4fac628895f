package spec

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// TestScalarQuoting: a value is written plain only when every YAML reader
// takes it for that string.
func TestScalarQuoting(t *testing.T) {
	for _, tc := range []struct {
		in     string
		quoted bool
	}{
		{"ci-deployer", false},
		{"DEPLOYMENT_ADMIN", false},
		{"alice@example.com", false},
		{"two words", false},
		{"path/to.x", false},
		{"", true},
		{"yes", true}, {"No", true}, {"ON", true}, {"y", true}, {"null", true}, {"False", true},
		{"~", true}, {"0123", true}, {"1e3", true}, {"12:30", true}, {".inf", true},
		{"key: value", true}, {"trailing #hash", true}, {"- item", true}, {"two  spaces", true},
		{" leading", true}, {"trailing ", true}, {"it's", true}, {"line\nbreak", true}, {"Zürich", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := scalar(tc.in).Style == yaml.DoubleQuotedStyle; got != tc.quoted {
				t.Errorf("scalar(%q) double-quoted = %v, want %v", tc.in, got, tc.quoted)
			}
		})
	}
}

// TestEncode: the keys a Document writes, its comments, and escapes of
// hidden characters in values and comments.
func TestEncode(t *testing.T) {
	doc := Document{
		Organization: "org1",
		Comment:      "first line\nsecond \u202eline",
		Always:       []Kind{KindWorkspaceToken, KindUser},
		Deployments: []DeploymentDoc{
			{ID: "dep-1", Name: "prod\n# x", Workspace: "data", Entries: map[Kind][]EntryDoc{
				KindTeam:           {{Name: "ops", Role: "DEPLOYMENT_ADMIN"}},
				KindWorkspaceToken: {{Name: "bidi \u202eoverride", Role: "no"}, {ID: "tok-2", Role: "custom role", Comment: "twin\x1b[0m (shared)"}},
			}},
		},
	}
	want := `# first line
# second \u202eline
version: 1
organization: org1
deployments:
  - id: dep-1 # prod\n# x (workspace data)
    workspaceTokens:
      - name: "bidi \u202Eoverride"
        role: "no"
      - id: tok-2 # twin\x1b[0m (shared)
        role: custom role
    users: []
    teams:
      - name: ops
        role: DEPLOYMENT_ADMIN
`
	var b bytes.Buffer
	if err := Encode(&b, doc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Encode (-want +got):\n%s", diff)
	}
	sp, err := Parse("doc.yaml", b.Bytes())
	if err != nil {
		t.Fatalf("the encoded document does not parse: %v", err)
	}
	d := sp.Deployments[0]
	got := []string{d.WorkspaceTokens[0].Name, d.WorkspaceTokens[0].Role, d.WorkspaceTokens[1].ID, d.Teams[0].Name}
	if diff := cmp.Diff([]string{"bidi \u202eoverride", "no", "tok-2", "ops"}, got); diff != "" {
		t.Errorf("parsed back (-want +got):\n%s", diff)
	}
}

// TestEncodeUserKey: users are written by username.
func TestEncodeUserKey(t *testing.T) {
	doc := Document{Organization: "o", Deployments: []DeploymentDoc{{ID: "d", Entries: map[Kind][]EntryDoc{
		KindUser: {{Name: "alice@example.com", Role: "DEPLOYMENT_ADMIN"}, {ID: "u2", Role: "DEPLOYMENT_ADMIN"}},
	}}}}
	var b bytes.Buffer
	if err := Encode(&b, doc); err != nil {
		t.Fatal(err)
	}
	sp, err := Parse("doc.yaml", b.Bytes())
	if err != nil {
		t.Fatalf("does not parse: %v\n%s", err, b.String())
	}
	got := sp.Deployments[0].Users
	if len(got) != 2 || got[0].Username != "alice@example.com" || got[1].ID != "u2" {
		t.Errorf("users parsed back as %+v\n%s", got, b.String())
	}
}

// TestEncodeCommentKeepsLeadingHash: a comment whose text starts with "#"
// (a name from the API, a user's status) keeps that "#": the encoder
// takes such a comment as already marked and would drop it.
func TestEncodeCommentKeepsLeadingHash(t *testing.T) {
	doc := Document{Organization: "o", Deployments: []DeploymentDoc{{ID: "d", Name: "#1 prod", Workspace: "#ws", Entries: map[Kind][]EntryDoc{
		KindUser: {{Name: "alice@example.com", Role: "DEPLOYMENT_ADMIN", Comment: "#INACTIVE"}},
	}}}}
	var b bytes.Buffer
	if err := Encode(&b, doc); err != nil {
		t.Fatal(err)
	}
	want := `version: 1
organization: o
deployments:
  - id: d # #1 prod (workspace #ws)
    users:
      - username: alice@example.com # #INACTIVE
        role: DEPLOYMENT_ADMIN
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Encode (-want +got):\n%s", diff)
	}
}

// levelsDoc is a Document with every level: the organization, workspaces
// by id and by name, deployments with DAGs by id and by tag.
func levelsDoc() Document {
	return Document{
		Organization: "org-1",
		OrganizationRoles: &OrganizationRolesDoc{Entries: map[Kind][]EntryDoc{
			KindUser:              {{Name: "alice@example.com", Role: "ORGANIZATION_OWNER"}, {ID: "usr-2", Role: "ORGANIZATION_MEMBER", Comment: "bob@example.com"}},
			KindTeam:              {{Name: "platform", Role: "ORGANIZATION_OBSERVE_ADMIN"}},
			KindOrganizationToken: {{Name: "billing-bot", Role: "ORGANIZATION_BILLING_ADMIN"}},
		}},
		Workspaces: []WorkspaceDoc{
			{ID: "ws-1", Name: "data-platform", Entries: map[Kind][]EntryDoc{
				KindWorkspaceToken:    {{Name: "ci-deployer", Role: "WORKSPACE_MEMBER"}},
				KindOrganizationToken: {{Name: "org-observer", Role: "WORKSPACE_ACCESSOR"}},
				KindUser:              {{Name: "bob@example.com", Role: "WORKSPACE_OPERATOR"}},
				KindTeam:              {{ID: "team-9", Role: "WORKSPACE_AUTHOR"}},
			}},
			{Name: "yes", Entries: map[Kind][]EntryDoc{KindUser: {{Name: "carol@example.com", Role: "WORKSPACE_OWNER"}}}},
		},
		Deployments: []DeploymentDoc{
			{ID: "dep-1", Name: "prod", Workspace: "data-platform", Entries: map[Kind][]EntryDoc{
				KindUser: {{Name: "carol@example.com", Role: "DEPLOYMENT_ACCESSOR"}},
			}, Dags: []DagDoc{
				{DagID: "daily_revenue_rollup", Entries: map[Kind][]EntryDoc{
					KindUser:              {{Name: "carol@example.com", Role: "DAG_AUTHOR"}},
					KindTeam:              {{Name: "analysts", Role: "DAG_VIEWER"}},
					KindWorkspaceToken:    {{Name: "ci-deployer", Role: "DAG_VIEWER"}},
					KindOrganizationToken: {{ID: "tok-3", Role: "DAG Operator"}},
				}},
				{DagTag: "01:30", Entries: map[Kind][]EntryDoc{KindTeam: {{Name: "analysts", Role: "DAG_AUTHOR"}}}},
			}},
			{ID: "dep-2", Name: "staging", Workspace: "data-platform"},
		},
	}
}

// TestEncodeLevels: organizationRoles, workspaces and dags as written.
func TestEncodeLevels(t *testing.T) {
	want := `version: 1
organization: org-1
organizationRoles:
  organizationTokens:
    - name: billing-bot
      role: ORGANIZATION_BILLING_ADMIN
  users:
    - username: alice@example.com
      role: ORGANIZATION_OWNER
    - id: usr-2 # bob@example.com
      role: ORGANIZATION_MEMBER
  teams:
    - name: platform
      role: ORGANIZATION_OBSERVE_ADMIN
workspaces:
  - id: ws-1 # data-platform
    workspaceTokens:
      - name: ci-deployer
        role: WORKSPACE_MEMBER
    organizationTokens:
      - name: org-observer
        role: WORKSPACE_ACCESSOR
    users:
      - username: bob@example.com
        role: WORKSPACE_OPERATOR
    teams:
      - id: team-9
        role: WORKSPACE_AUTHOR
  - name: "yes"
    users:
      - username: carol@example.com
        role: WORKSPACE_OWNER
deployments:
  - id: dep-1 # prod (workspace data-platform)
    users:
      - username: carol@example.com
        role: DEPLOYMENT_ACCESSOR
    dags:
      - dagId: daily_revenue_rollup
        workspaceTokens:
          - name: ci-deployer
            role: DAG_VIEWER
        organizationTokens:
          - id: tok-3
            role: DAG Operator
        users:
          - username: carol@example.com
            role: DAG_AUTHOR
        teams:
          - name: analysts
            role: DAG_VIEWER
      - dagTag: "01:30"
        teams:
          - name: analysts
            role: DAG_AUTHOR
  - id: dep-2 # staging (workspace data-platform)
`
	var b bytes.Buffer
	if err := Encode(&b, levelsDoc()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Encode (-want +got):\n%s", diff)
	}
}

// TestEncodeLevelsRoundTrip: a Document of every level, written and parsed
// back, is the same Document; with Always, every entry of every level
// lists the kinds of Always that it has a key for, and no other.
func TestEncodeLevelsRoundTrip(t *testing.T) {
	for _, always := range [][]Kind{nil, Kinds(), {KindWorkspaceToken}} {
		t.Run(fmt.Sprint(always), func(t *testing.T) {
			doc := levelsDoc()
			doc.Always = always
			var b bytes.Buffer
			if err := Encode(&b, doc); err != nil {
				t.Fatal(err)
			}
			sp, err := Parse("export.yaml", b.Bytes())
			if err != nil {
				t.Fatalf("the encoded document does not parse: %v\n%s", err, b.String())
			}
			if diff := cmp.Diff(withoutComments(doc), docOf(sp)); diff != "" {
				t.Errorf("parsed back (-want +got):\n%s", diff)
			}
			wantLists := func(entries map[Kind][]EntryDoc, without Kind) []Kind {
				var lists []Kind
				for _, k := range Kinds() {
					if k != without && (len(entries[k]) > 0 || slices.Contains(always, k)) {
						lists = append(lists, k)
					}
				}
				return lists
			}
			check := func(what string, got []Kind, entries map[Kind][]EntryDoc, without Kind) {
				if diff := cmp.Diff(wantLists(entries, without), got); diff != "" {
					t.Errorf("%s: Lists (-want +got):\n%s", what, diff)
				}
			}
			check("organizationRoles", sp.OrganizationRoles.Lists, doc.OrganizationRoles.Entries, KindWorkspaceToken)
			for i, w := range sp.Workspaces {
				check("workspace "+w.Ref(), w.Lists, doc.Workspaces[i].Entries, "")
			}
			for i, d := range sp.Deployments {
				check("deployment "+d.Ref(), d.Lists, doc.Deployments[i].Entries, "")
				for j, g := range d.Dags {
					check("DAG "+g.Ref(), g.Lists, doc.Deployments[i].Dags[j].Entries, "")
				}
			}
		})
	}
}

// TestEncodeRefuses: what no spec can say is an error, not a file that
// says something else.
func TestEncodeRefuses(t *testing.T) {
	for name, doc := range map[string]Document{
		"workspace token at the organization level": {OrganizationRoles: &OrganizationRolesDoc{Entries: map[Kind][]EntryDoc{
			KindWorkspaceToken: {{Name: "ci", Role: "ORGANIZATION_MEMBER"}},
		}}},
		"DAG entry with neither": {Deployments: []DeploymentDoc{{ID: "d", Dags: []DagDoc{{}}}}},
		"DAG entry with both":    {Deployments: []DeploymentDoc{{ID: "d", Dags: []DagDoc{{DagID: "a", DagTag: "b"}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Encode(&b, doc); err == nil {
				t.Errorf("Encode wrote\n%s", b.String())
			}
			if b.Len() != 0 {
				t.Errorf("Encode wrote %d bytes with its error", b.Len())
			}
		})
	}
}

// docOf is the Document that writes what s says (without comments, and
// with the deployments' names and workspaces left out).
func docOf(s *Spec) Document {
	doc := Document{Organization: s.Organization}
	if o := s.OrganizationRoles; o != nil {
		doc.OrganizationRoles = &OrganizationRolesDoc{Entries: entryDocs(nil, o.OrganizationTokens, o.Users, o.Teams)}
	}
	for _, w := range s.Workspaces {
		doc.Workspaces = append(doc.Workspaces, WorkspaceDoc{ID: w.ID, Name: w.Name, Entries: entryDocs(w.WorkspaceTokens, w.OrganizationTokens, w.Users, w.Teams)})
	}
	for _, d := range s.Deployments {
		dd := DeploymentDoc{ID: d.ID, Entries: entryDocs(d.WorkspaceTokens, d.OrganizationTokens, d.Users, d.Teams)}
		for _, g := range d.Dags {
			dd.Dags = append(dd.Dags, DagDoc{DagID: g.DagID, DagTag: g.DagTag, Entries: entryDocs(g.WorkspaceTokens, g.OrganizationTokens, g.Users, g.Teams)})
		}
		doc.Deployments = append(doc.Deployments, dd)
	}
	return doc
}

// entryDocs are the entries of the four kinds, by kind, leaving out the
// kinds without entries.
func entryDocs(wsTokens, orgTokens []TokenEntry, users []UserEntry, teams []TeamEntry) map[Kind][]EntryDoc {
	m := map[Kind][]EntryDoc{}
	add := func(k Kind, id, name, role string) { m[k] = append(m[k], EntryDoc{ID: id, Name: name, Role: role}) }
	for _, e := range wsTokens {
		add(KindWorkspaceToken, e.ID, e.Name, e.Role)
	}
	for _, e := range orgTokens {
		add(KindOrganizationToken, e.ID, e.Name, e.Role)
	}
	for _, e := range users {
		add(KindUser, e.ID, e.Username, e.Role)
	}
	for _, e := range teams {
		add(KindTeam, e.ID, e.Name, e.Role)
	}
	return m
}

// withoutComments is doc without what Encode writes as comments: entry
// comments, the names of what is written by id, deployments' workspaces.
func withoutComments(doc Document) Document {
	strip := func(entries map[Kind][]EntryDoc) map[Kind][]EntryDoc {
		m := map[Kind][]EntryDoc{}
		for k, list := range entries {
			for _, e := range list {
				if e.ID != "" {
					e.Name = ""
				}
				e.Comment = ""
				m[k] = append(m[k], e)
			}
		}
		return m
	}
	out := Document{Organization: doc.Organization}
	if o := doc.OrganizationRoles; o != nil {
		out.OrganizationRoles = &OrganizationRolesDoc{Entries: strip(o.Entries)}
	}
	for _, w := range doc.Workspaces {
		if w.ID != "" {
			w.Name = ""
		}
		out.Workspaces = append(out.Workspaces, WorkspaceDoc{ID: w.ID, Name: w.Name, Entries: strip(w.Entries)})
	}
	for _, d := range doc.Deployments {
		dd := DeploymentDoc{ID: d.ID, Entries: strip(d.Entries)}
		for _, g := range d.Dags {
			dd.Dags = append(dd.Dags, DagDoc{DagID: g.DagID, DagTag: g.DagTag, Entries: strip(g.Entries)})
		}
		out.Deployments = append(out.Deployments, dd)
	}
	return out
}

// TestEncodeNoWorkflowCommand: a name with "##[" (a GitHub Actions
// workflow command in any line of a job's log) is written with its second
// '#' escaped, in the value and in the comment, and reads back the same.
func TestEncodeNoWorkflowCommand(t *testing.T) {
	doc := Document{Organization: "o", Deployments: []DeploymentDoc{{ID: "d", Name: "##[add-mask]prod", Workspace: "ws", Entries: map[Kind][]EntryDoc{
		KindWorkspaceToken: {{Name: "##[stop-commands]x", Role: "DEPLOYMENT_ADMIN"}},
	}}}}
	var b bytes.Buffer
	if err := Encode(&b, doc); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "##[") {
		t.Errorf("Encode writes ##[:\n%s", b.String())
	}
	sp, err := Parse("t.yaml", b.Bytes())
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, b.String())
	}
	if got := sp.Deployments[0].WorkspaceTokens[0].Name; got != "##[stop-commands]x" {
		t.Errorf("the name reads back as %q:\n%s", got, b.String())
	}
}
