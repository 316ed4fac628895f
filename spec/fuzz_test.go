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
		"version: 1\norganizationRoles: {prune: true, users: [{username: a@b.c, role: organization_owner}], teams: [], organizationTokens: [{id: t, state: absent}]}\n",
		"version: 1\norganizationRoles: {workspaceTokens: [], users: [{username: a@b.c, role: WORKSPACE_OWNER}, {username: A@B.C, role: x}]}\n",
		"version: 1\nworkspaces: [{name: w, prune: true, users: [{username: a@b.c, role: workspace_author}], workspaceTokens: [{name: t, role: WORKSPACE_MEMBER}]}, {id: w}, {name: w}]\n",
		"version: 1\nworkspaces: [{id: w, name: w, teams: [{name: t, role: DEPLOYMENT_ADMIN}, {name: t, state: absent}]}, {dags: []}]\n",
		"version: 1\ndeployments: [{id: a, dags: [{dagId: x, prune: true, users: [{username: a@b.c, role: dag_viewer}]}, {dagTag: x, teams: [{name: t, role: Custom}]}, {dagId: x}]}]\n",
		"version: 1\ndeployments: [{id: a, dags: [{dagId: x, dagTag: y}, {}, {dagTag: [z]}, {dagId: y, organizationTokens: [{id: t, role: WORKSPACE_OWNER}]}]}]\n",
		"version: 1\npolicies:\n  - name: a\n    description: d\n    grant: >-\n      a &&\n\n        b ==\n      'é' # c\n  - name: b\n    description: d\n    scope: a ||\n      b # c\n",
		"version: 1\npolicies:\n  - name: a\n    description: d\n    grant: >-\n      r'C:\\' == '''it's //''' // é\n      || \"open\n",
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
		for _, p := range s.Policies {
			for line := range 4 {
				for col := range 40 {
					if pos := p.Expr.At(line, col); pos.File != "fuzz.yaml" {
						t.Errorf("Expr.At(%d, %d) of %q = %v", line, col, p.Expr.Text, pos)
					}
				}
			}
		}
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
	if o := s.OrganizationRoles; o != nil {
		if o.Pos.Line < 1 || o.Pos.Col < 1 {
			t.Errorf("organizationRoles %+v not positioned", o)
		}
		checkEntries(t, organizationLevel, "organizationRoles", o.Lists, nil, o.OrganizationTokens, o.Users, o.Teams)
		if slices.Contains(o.Lists, KindWorkspaceToken) {
			t.Errorf("organizationRoles lists workspace tokens")
		}
	}
	workspaces := map[string]bool{}
	for _, w := range s.Workspaces {
		if (w.ID == "") == (w.Name == "") || w.Pos.Line < 1 || w.Pos.Col < 1 {
			t.Errorf("workspace %+v: want exactly one of ID and Name, and a position", w)
		}
		k := "id:" + w.ID + "\x00name:" + w.Name
		if workspaces[k] {
			t.Errorf("workspace %q declared twice", w.Ref())
		}
		workspaces[k] = true
		checkEntries(t, workspaceLevel, "workspace "+w.Ref(), w.Lists, w.WorkspaceTokens, w.OrganizationTokens, w.Users, w.Teams)
	}
	for _, d := range s.Deployments {
		if (d.ID == "") == (d.Name == "") || (d.Name != "") != (d.Workspace != "") {
			t.Errorf("deployment %+v: want exactly one of ID and Name, Workspace with Name", d)
		}
		if d.Pos.Line < 1 || d.Pos.Col < 1 {
			t.Errorf("deployment %+v not positioned", d)
		}
		checkEntries(t, deploymentLevel, "deployment "+d.Ref(), d.Lists, d.WorkspaceTokens, d.OrganizationTokens, d.Users, d.Teams)
		dags := map[string]bool{}
		for _, g := range d.Dags {
			if (g.DagID == "") == (g.DagTag == "") || g.Pos.Line < 1 || g.Pos.Col < 1 {
				t.Errorf("DAG entry %+v: want exactly one of DagID and DagTag, and a position", g)
			}
			if dags[g.Ref()+"\x00"+g.DagID] {
				t.Errorf("DAG %q listed twice", g.Ref())
			}
			dags[g.Ref()+"\x00"+g.DagID] = true
			checkEntries(t, dagLevel, "DAG "+g.Ref(), g.Lists, g.WorkspaceTokens, g.OrganizationTokens, g.Users, g.Teams)
		}
	}
	if len(s.Files) != 1 || len(s.Digest) != 64 {
		t.Errorf("Files %v, Digest %q", s.Files, s.Digest)
	}
}

// checkEntries checks the invariants of the principal lists of one entry
// of level lv, named what: entries with one of ID and Name, a state, a
// role unless absent, normalised and of the level; no user listed twice;
// Lists in the order of Kinds and as Listed says.
func checkEntries(t *testing.T, lv *level, what string, lists []Kind, wsTokens, orgTokens []TokenEntry, users []UserEntry, teams []TeamEntry) {
	t.Helper()
	entries := append(slices.Clone(wsTokens), orgTokens...)
	for _, u := range users {
		if u.Username != "" && CheckUsername(u.Username) != nil {
			t.Errorf("%s: user entry %+v: username is not an e-mail address", what, u)
		}
		entries = append(entries, TokenEntry{Pos: u.Pos, ID: u.ID, Name: u.Username, Role: u.Role, State: u.State})
	}
	for _, e := range teams {
		entries = append(entries, TokenEntry(e))
	}
	for _, e := range entries {
		if (e.ID == "") == (e.Name == "") {
			t.Errorf("%s: entry %+v: want exactly one of ID and Name", what, e)
		}
		if e.State != Present && e.State != Absent || (e.State == Absent && lv == organizationLevel) {
			t.Errorf("%s: entry %+v: bad state", what, e)
		}
		if e.Role == "" && e.State != Absent {
			t.Errorf("%s: entry %+v: no role", what, e)
		}
		if e.Role != astroapi.CanonicalRole(e.Role) {
			t.Errorf("%s: entry %+v: role not normalised", what, e)
		}
		if _, problem := lv.check(e.Role); e.Role != "" && problem != "" {
			t.Errorf("%s: entry %+v: %s", what, e, problem)
		}
	}
	seen := make(map[string]bool)
	for _, u := range users {
		k := "id:" + u.ID
		if u.ID == "" {
			k = "username:" + FoldUsername(u.Username)
		}
		if seen[k] {
			t.Errorf("%s: user %q listed twice", what, u.Ref())
		}
		seen[k] = true
	}
	if !slices.IsSortedFunc(lists, func(a, b Kind) int { return slices.Index(Kinds(), a) - slices.Index(Kinds(), b) }) {
		t.Errorf("%s: Lists %v not in the order of Kinds", what, lists)
	}
	for _, k := range Kinds() {
		if listed(lists, k, wsTokens, orgTokens, users, teams) != slices.Contains(lists, k) {
			t.Errorf("%s: Listed(%s) with Lists %v", what, k, lists)
		}
	}
}
