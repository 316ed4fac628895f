package spec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
		for _, e := range append(d.WorkspaceTokens, d.OrganizationTokens...) {
			if (e.ID == "") == (e.Name == "") {
				t.Errorf("token entry %+v: want exactly one of ID and Name", e)
			}
			if e.State != Present && e.State != Absent {
				t.Errorf("token entry %+v: bad state", e)
			}
			if e.Role == "" && e.State != Absent {
				t.Errorf("token entry %+v: no role", e)
			}
			if e.Role != NormalizeRole(e.Role) {
				t.Errorf("token entry %+v: role not normalised", e)
			}
		}
	}
	if len(s.Files) != 1 || len(s.Digest) != 64 {
		t.Errorf("Files %v, Digest %q", s.Files, s.Digest)
	}
}
