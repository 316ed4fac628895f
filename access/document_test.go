package access

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// TestReadRefusesBadIndexes: a format 2 document whose cell, grant,
// change or finding names an index its tables do not have is refused,
// saying where.
func TestReadRefusesBadIndexes(t *testing.T) {
	const head = `{"format_version":"2","principals":[{"kind":"user","id":"u-1","name":"alice"}],"grants":[{"role":"WORKSPACE_MEMBER","level":"view","source":"workspace"}],`
	for _, tt := range []struct{ doc, want string }{
		{head + `"deployments":[{"id":"d","access":[{"principal":1,"grants":[0]}]}]}`, "deployments[0].access[0]: principal 1 is not an index of principals (1)"},
		{head + `"deployments":[{"id":"d","access":[{"principal":0,"grants":[0,2]}]}]}`, "deployments[0].access[0]: grant 2 is not an index of grants (1)"},
		{head + `"deployments":[],"since":{"changes":[{"change":"lost","principal":-1,"before":[0],"after":[]}]}}`, "since.changes[0]: principal -1 is not an index"},
		{head + `"deployments":[],"findings":[{"kind":"token-expired","principal":5}]}`, "findings[0]: principal 5 is not an index"},
		{head[:len(head)-len(`],`)] + `,{"role":"R","source":"workspace","via":1}],"deployments":[],"since":{"changes":[{"change":"gained","principal":0,"after":[1]}]}}`, "since.changes[0]: via: principal 1 is not an index"},
	} {
		_, err := Read([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Read(%s) = %v, want %q", tt.doc, err, tt.want)
		}
	}
}

// TestDocumentRoundTrip: a report read back from its document is the
// report, team members' grants through their team and a change included.
func TestDocumentRoundTrip(t *testing.T) {
	r := Compute(Input{Observed: org(alice, teamA), Members: map[string][]astroapi.TeamMember{"g-1": {{UserID: "u-1"}}}, Review: &Review{}})
	r.Since = Diff(Report{}, r)
	data, err := json.Marshal(r.Document())
	if err != nil {
		t.Fatal(err)
	}
	back, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
}

// TestDocumentKeepsAFindingsStatus: a user with a finding and no cell
// keeps its status through the document, in the principals' table.
func TestDocumentKeepsAFindingsStatus(t *testing.T) {
	r := Report{FormatVersion: FormatVersion, Deployments: []Deployment{}, Findings: []Finding{{
		Kind: FindingUserStatus, Category: CategoryUser, Principal: Ref{Kind: "user", ID: "u-f", Name: "frank"}, Status: "PENDING", Message: "m",
	}}}
	d := r.Document()
	if len(d.Principals) != 1 || d.Principals[0].Status != "PENDING" {
		t.Fatalf("principals %+v, want frank PENDING", d.Principals)
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Findings[0].Status; got != "PENDING" {
		t.Errorf("read back: status %q", got)
	}
}
