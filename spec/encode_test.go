package spec

import (
	"bytes"
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
