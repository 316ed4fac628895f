package access

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// TestDiff: gained, lost and changed cells since a previous report, read
// back from its JSON; an unchanged cell is no change.
func TestDiff(t *testing.T) {
	before := Compute(Input{Observed: org(
		alice,
		tok("keep", "WORKSPACE", dep("d-a1", "DEPLOYMENT_ADMIN")),
		tok("gone", "WORKSPACE", dep("d-a2", "DEPLOYMENT_ADMIN")),
		tok("role", "WORKSPACE", dep("d-b1", "DEPLOYMENT_VIEWER")),
	)})
	before.GeneratedAt = "2026-01-01T00:00:00Z"
	// The previous report as report -o json writes it (format 2), and as
	// an earlier tokensync wrote it (format 1: the report's own json form).
	v1 := before
	v1.FormatVersion = FormatVersion1
	for name, doc := range map[string]any{"format 2": before.Document(), "format 1": v1} {
		t.Run(name, func(t *testing.T) {
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			prev, err := Read(data)
			if err != nil {
				t.Fatal(err)
			}
			now := Compute(Input{Observed: org(
				alice,
				tok("keep", "WORKSPACE", dep("d-a1", "DEPLOYMENT_ADMIN")),
				tok("role", "WORKSPACE", dep("d-b1", "DEPLOYMENT_ADMIN")),
				tok("new", "WORKSPACE", ws("ws-a", "WORKSPACE_MEMBER")),
			)})
			s := Diff(prev, now)
			var got []string
			for _, c := range s.Changes {
				got = append(got, c.Change+" "+c.Deployment.Name+" "+c.Principal.Name+" "+grantList(c.Before)+" -> "+grantList(c.After))
			}
			want := []string{
				"gained a1 new  -> WORKSPACE_MEMBER (workspace)",
				"lost a2 gone DEPLOYMENT_ADMIN (deployment) -> ",
				"gained a2 new  -> WORKSPACE_MEMBER (workspace)",
				"changed b1 role DEPLOYMENT_VIEWER (deployment) -> DEPLOYMENT_ADMIN (deployment)",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if s.GeneratedAt != "2026-01-01T00:00:00Z" {
				t.Errorf("GeneratedAt = %q", s.GeneratedAt)
			}
			if n := len(Diff(now, now).Changes); n != 0 {
				t.Errorf("a report against itself: %d changes", n)
			}
		})
	}
}

func grantList(gs []Grant) string {
	var s []string
	for _, g := range gs {
		s = append(s, g.String())
	}
	return strings.Join(s, "; ")
}

// TestDiffTeamExpansion: a user who gains access through a team shows as
// a change of its grants.
func TestDiffTeamExpansion(t *testing.T) {
	before := Compute(Input{Observed: org(alice, teamA), Members: map[string][]astroapi.TeamMember{}})
	now := Compute(Input{Observed: org(alice, teamA), Members: map[string][]astroapi.TeamMember{"g-1": {{UserID: "u-1"}}}})
	var got []string
	for _, c := range Diff(before, now).Changes {
		got = append(got, c.Change+" "+c.Deployment.ID+" "+c.Principal.Name)
	}
	if diff := cmp.Diff([]string{"changed d-a1 alice", "gained d-b1 alice"}, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestReadRefusesOtherVersions(t *testing.T) {
	for _, doc := range []string{`{"format_version":"3"}`, `{}`, `not json`, `{"format_version":1}`, `{"format_version":2}`} {
		if _, err := Read([]byte(doc)); err == nil {
			t.Errorf("Read(%s) = nil error", doc)
		}
	}
}

// TestDiffNullGrants: a previous report whose cell has "grants": null (a
// hand-edited file) still gives changes whose before is a list.
func TestDiffNullGrants(t *testing.T) {
	prev, err := Read([]byte(`{"format_version":"1","deployments":[
		{"id":"d-a1","name":"a1","workspace":"alpha","access":[{"principal":{"kind":"user","id":"u-1","name":"alice"},"grants":null}]},
		{"id":"d-a2","name":"a2","workspace":"alpha","access":[{"principal":{"kind":"user","id":"u-1","name":"alice"},"grants":null}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := Diff(prev, Compute(Input{Observed: org(alice)}))
	if len(s.Changes) != 2 {
		t.Fatalf("changes %+v, want a change and a loss", s.Changes)
	}
	for _, c := range s.Changes {
		if c.Before == nil || c.After == nil {
			t.Errorf("%s %s: before %v, after %v: want lists", c.Change, c.Deployment.ID, c.Before, c.After)
		}
	}
}

// TestReadSaysWhere: a broken report is refused with the line and column
// of the fault.
func TestReadSaysWhere(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{"{\n  \"format_version\": \"1\",\n  \"deployments\": [,]\n}", "read report: line 3, column 19: invalid character ','"},
		{"{\n  \"format_version\": \"1\",\n  \"spec\": \"yes\"\n}", "read report: line 3, column 15: json: cannot unmarshal string"},
	} {
		_, err := Read([]byte(tt.doc))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Read(%q) = %v, want it to start %q", tt.doc, err, tt.want)
		}
	}
}

// TestReadRefusesBrokenEntries: what report -o json never writes is
// refused rather than read as data: a second document after the first, a
// null deployment, principal or grant, and a generated_at that is not a
// time.
func TestReadRefusesBrokenEntries(t *testing.T) {
	const cell = `{"principal":{"kind":"user","id":"u-1","name":"alice"},"grants":[{"role":"WORKSPACE_MEMBER","level":"view","source":"workspace"}]}`
	for _, tt := range []struct{ doc, want string }{
		{`{"format_version":"1","deployments":[]}` + "\n" + `{"format_version":"1","deployments":[]}`, "read report: line 2: data after the report"},
		{`{"format_version":"1","deployments":[null]}`, "read report: deployment 1 has no id"},
		{`{"format_version":"1","deployments":[{"id":"d","access":[{"principal":null,"grants":[]}]}]}`, "read report: deployment d: access entry 1 has no principal kind or id"},
		{`{"format_version":"1","deployments":[{"id":"d","access":[{"principal":{"kind":"user","id":"u-1"},"grants":[null]}]}]}`, "read report: deployment d: principal u-1: grant 1 has no role"},
		{`{"format_version":"2","principals":[],"grants":[],"deployments":[null]}`, "read report: deployment 1 has no id"},
		{`{"format_version":"1","generated_at":"yesterday","deployments":[{"id":"d","access":[` + cell + `]}]}`, `read report: generated_at "yesterday" is not a time`},
	} {
		_, err := Read([]byte(tt.doc))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Read(%s) = %v, want it to start %q", tt.doc, err, tt.want)
		}
	}
	if _, err := Read([]byte(`{"format_version":"1","generated_at":"2026-01-02T03:04:05Z","deployments":[{"id":"d","access":[` + cell + `]}]}` + "\n\n")); err != nil {
		t.Errorf("a report and blank lines: %v", err)
	}
}

// TestReadNamesOtherDocuments: a saved plan or an apply result given for a
// report is named for what it is, whatever its format_version.
func TestReadNamesOtherDocuments(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"format_version":"3","organization":"o","changes":[],"guards":[],"fingerprints":{}}`, "read report: a saved plan (tokensync plan -o json or --out), not a report"},
		{`{"format_version":"4","changes":[],"guards":[]}`, "read report: a saved plan (tokensync plan -o json or --out), not a report"},
		{`{"format_version":"2","complete":true,"writes":[],"failed":[]}`, "read report: an apply result (tokensync apply -o json), not a report"},
	} {
		_, err := Read([]byte(tc.doc))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Read(%s) = %v, want %q…", tc.doc, err, tc.want)
		}
	}
}
