package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
)

// FuzzParse checks that Parse never panics, that every error is an
// ErrorList of positioned entries in order, and that what it accepts keeps
// the Spec's invariants. Seeds: every file of testdata and a few hostile
// inputs. Run with go test -fuzz=FuzzParse -fuzztime=10s ./spec/.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.y*ml"))
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join("testdata", "load", "*", "*.y*ml"))
	for _, name := range append(files, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "\ufeff", "---\n", "version: 1\n---\n", "[[[[[[", billionLaughs, "a: *x\n",
		"version: 1\ndeployments:\n\t- id: x\n", "version: 1\xff\n", "version: 1\r\n",
		"version: 1\ndeployments: [{id: a, workspaceTokens: [{name: b, role: c}, {name: b, role: c}]}]\n",
		"version: 1\nignoreUsers: [\"*@x.example\"]\nignoreTeams: [\"idp-[\"]\ndeployments: [{id: a, users: [], teams: []}]\n",
		"version: 1\ndeployments: [{id: a, users: [{username: b@c.d, role: e}, {username: B@C.D, state: absent}]}]\n",
		"version: 1\ndeployments: [{id: a, users: [{username: \"b\\u202e@c.d\", role: e}, {username: \"@\", role: e}, {name: b@c.d}]}]\n",
		"version: 1\ndeployments: [{id: a, teams: [{name: b, role: workspace_owner}, {id: b, name: b}, {team: b}]}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkErrorList(t, err)
			if s != nil {
				t.Errorf("Parse returned a Spec with its error")
			}
			return
		}
		if s == nil {
			t.Fatal("Parse returned neither a Spec nor an error")
		}
		checkSpec(t, s)
	})
}

func checkErrorList(t *testing.T, err error) {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	if len(list) == 0 || len(list) > MaxErrors+1 {
		t.Fatalf("ErrorList has %d entries", len(list))
	}
	for i, e := range list {
		if e.Pos.File != "fuzz.yaml" || e.Pos.Line < 1 || e.Pos.Col < 1 || e.Msg == "" {
			t.Errorf("error %d is not positioned: %#v", i, e)
		}
		if i > 0 {
			p, q := list[i-1].Pos, e.Pos
			if p.Line > q.Line || (p.Line == q.Line && p.Col > q.Col) {
				t.Errorf("errors out of order: %v before %v", list[i-1], e)
			}
		}
	}
}

func checkSpec(t *testing.T, s *Spec) {
	t.Helper()
	if len(s.Deployments) > MaxDeployments {
		t.Errorf("%d deployments", len(s.Deployments))
	}
	for _, d := range s.Deployments {
		if (d.ID == "") == (d.Name == "") || (d.Name != "") != (d.Workspace != "") {
			t.Errorf("deployment %+v: want exactly one of ID and Name, Workspace with Name", d)
		}
		if d.Pos.Line < 1 || d.Pos.Col < 1 {
			t.Errorf("deployment %+v not positioned", d)
		}
		entries := append(d.WorkspaceTokens, d.OrganizationTokens...)
		for _, u := range d.Users {
			if u.Username != "" && CheckUsername(u.Username) != nil {
				t.Errorf("user entry %+v: username is not an e-mail address", u)
			}
			entries = append(entries, TokenEntry{Pos: u.Pos, ID: u.ID, Name: u.Username, Role: u.Role, State: u.State})
		}
		for _, e := range d.Teams {
			entries = append(entries, TokenEntry(e))
		}
		for _, e := range entries {
			if (e.ID == "") == (e.Name == "") {
				t.Errorf("entry %+v: want exactly one of ID and Name", e)
			}
			if e.State != Present && e.State != Absent {
				t.Errorf("entry %+v: bad state", e)
			}
			if e.Role == "" && e.State != Absent {
				t.Errorf("entry %+v: no role", e)
			}
			if e.Role != astroapi.CanonicalRole(e.Role) {
				t.Errorf("entry %+v: role not normalised", e)
			}
		}
		users := make(map[string]bool)
		for _, u := range d.Users {
			k := "id:" + u.ID
			if u.ID == "" {
				k = "username:" + FoldUsername(u.Username)
			}
			if users[k] {
				t.Errorf("user %q listed twice", u.Ref())
			}
			users[k] = true
		}
		if !slices.IsSortedFunc(d.Lists, func(a, b Kind) int { return slices.Index(Kinds(), a) - slices.Index(Kinds(), b) }) {
			t.Errorf("Lists %v not in the order of Kinds", d.Lists)
		}
		for _, k := range Kinds() {
			if d.Listed(k) != slices.Contains(d.Lists, k) {
				t.Errorf("Listed(%s) = %v with Lists %v", k, d.Listed(k), d.Lists)
			}
		}
	}
	if len(s.Files) != 1 || len(s.Digest) != 64 {
		t.Errorf("Files %v, Digest %q", s.Files, s.Digest)
	}
}
