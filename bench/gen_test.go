package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// TestGenerate checks that every size is generated exactly, deterministically,
// within the API's scope rules, and that its spec parses.
func TestGenerate(t *testing.T) {
	for _, z := range sizes {
		t.Run(z.Name, func(t *testing.T) {
			if testing.Short() && (z.Name == "L" || z.Name == "X") {
				t.Skip("short")
			}
			o, err := Generate(z, seed)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Generate(z, seed)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(o, again) || !bytes.Equal(o.SpecYAML(), again.SpecYAML()) {
				t.Fatal("two generations with the same seed differ")
			}
			if other, _ := Generate(z, seed+1); reflect.DeepEqual(o.Want, other.Want) {
				t.Error("another seed gives the same assignments")
			}
			all := z.Assignments + z.People.UserAssignments + z.People.TeamAssignments
			if len(o.Workspaces) != z.Workspaces || len(o.Deployments) != z.Deployments || len(o.Tokens) != z.Tokens || len(o.Want) != all {
				t.Fatalf("got %d workspaces, %d deployments, %d tokens, %d assignments; want %+v",
					len(o.Workspaces), len(o.Deployments), len(o.Tokens), len(o.Want), z)
			}
			if len(o.Drift) != all/10 {
				t.Errorf("drift of %d assignments, want %d", len(o.Drift), all/10)
			}
			orgTokens, perToken, perDep := 0, map[int]int{}, map[int]int{}
			for _, a := range o.Want {
				if a.Kind != KindToken {
					continue
				}
				perToken[a.Subject]++
				perDep[a.Deployment]++
				if ws := o.Tokens[a.Subject].Workspace; ws >= 0 && o.Deployments[a.Deployment].WorkspaceID != o.Workspaces[ws].ID {
					t.Fatalf("token %s has a role on deployment %s of another workspace", o.Tokens[a.Subject].Name, o.Deployments[a.Deployment].ID)
				}
			}
			for _, tok := range o.Tokens {
				if tok.Workspace < 0 {
					orgTokens++
				}
			}
			if orgTokens == 0 || orgTokens > z.Tokens/10+2 {
				t.Errorf("%d organization tokens of %d", orgTokens, z.Tokens)
			}
			if len(perToken) != z.Tokens || len(perDep) != z.Deployments {
				t.Errorf("%d tokens and %d deployments have an assignment, want all", len(perToken), len(perDep))
			}
			for _, st := range []*struct {
				name string
				as   []Assignment
			}{{"bare", nil}, {"full", o.Want}, {"drifted", o.Drifted()}} {
				if err := o.State(st.as).Validate(); err != nil {
					t.Fatalf("%s state: %v", st.name, err)
				}
				if lost, err := o.Check(o.State(st.as), st.as); err != nil || lost != 0 {
					t.Fatalf("%s state: %d lost DAG roles, %v", st.name, lost, err)
				}
			}
			sp, err := spec.Parse("tokens.yaml", o.SpecYAML())
			if err != nil {
				t.Fatal(err)
			}
			n, users, teams := 0, 0, 0
			for _, d := range sp.Deployments {
				for _, k := range []spec.Kind{spec.KindWorkspaceToken, spec.KindOrganizationToken, spec.KindUser, spec.KindTeam} {
					if !d.Listed(k) {
						t.Fatalf("deployment %s does not list %s: prune would leave its drift", d.ID, k)
					}
				}
				n += len(d.WorkspaceTokens) + len(d.OrganizationTokens)
				users += len(d.Users)
				teams += len(d.Teams)
			}
			if n != z.Assignments || users != z.People.UserAssignments || teams != z.People.TeamAssignments || len(sp.Deployments) != z.Deployments {
				t.Errorf("spec has %d deployments and %d token, %d user and %d team entries, want %d and %d, %d, %d",
					len(sp.Deployments), n, users, teams, z.Deployments, z.Assignments, z.People.UserAssignments, z.People.TeamAssignments)
			}
		})
	}
}

// TestGeneratePeople checks the users and teams of P: how many hold roles
// and how many roles, unique usernames and team names, the roles a write
// must keep, and a drift that touches every kind.
func TestGeneratePeople(t *testing.T) {
	z := sizes[slices.IndexFunc(sizes, func(z Size) bool { return z.Name == "P" })]
	o, err := Generate(z, seed)
	if err != nil {
		t.Fatal(err)
	}
	p := z.People
	if len(o.Users) != p.Users || len(o.Teams) != p.Teams {
		t.Fatalf("%d users and %d teams, want %d and %d", len(o.Users), len(o.Teams), p.Users, p.Teams)
	}
	var per [3]int
	with := [3]map[int]bool{{}, {}, {}}
	for _, a := range o.Want {
		per[a.Kind]++
		with[a.Kind][a.Subject] = true
	}
	got := []int{per[KindUser], len(with[KindUser]), per[KindTeam], len(with[KindTeam])}
	want := []int{p.UserAssignments, p.UsersWithRoles, p.TeamAssignments, p.TeamsWithRoles}
	if !slices.Equal(got, want) {
		t.Errorf("user assignments, users with roles, team assignments, teams with roles: got %v, want %v", got, want)
	}
	if !slices.IsSortedFunc(o.Want, compareAssignment) {
		t.Error("assignments are not sorted")
	}
	names := map[string]bool{}
	for _, u := range o.Users {
		names[strings.ToLower(u.Username)] = true
	}
	for _, tm := range o.Teams {
		names[tm.Name] = true
	}
	if len(names) != p.Users+p.Teams {
		t.Errorf("%d distinct usernames and team names, want %d", len(names), p.Users+p.Teams)
	}
	st := o.State(o.Drifted())
	var dags, accessors int
	for _, u := range st.Users {
		dags += len(u.DagRoles)
		for _, w := range u.WorkspaceRoles {
			if w.Role == astroapi.RoleWorkspaceAccessor {
				accessors++
			}
		}
	}
	wantDags := 0
	for _, u := range o.Users {
		if u.DAG >= 0 {
			wantDags++
		}
	}
	if dags != wantDags || dags == 0 || accessors == 0 {
		t.Errorf("users hold %d DAG roles (want %d, some) and %d WORKSPACE_ACCESSOR roles (want some)", dags, wantDags, accessors)
	}
	var drifted [3]int
	for _, d := range o.Drift {
		drifted[max(d.Want.Kind, d.Have.Kind)]++
	}
	if drifted[KindToken] == 0 || drifted[KindUser] == 0 || drifted[KindTeam] == 0 {
		t.Errorf("drift by kind (tokens, users, teams): %v, want every kind", drifted)
	}
	if n := o.Changed(nil, o.Want); n != [3]int{z.Tokens, p.UsersWithRoles, p.TeamsWithRoles} {
		t.Errorf("an apply from nothing writes %v subjects, want %v", n, [3]int{z.Tokens, p.UsersWithRoles, p.TeamsWithRoles})
	}
}

// TestTokenSizesUnchanged: adding users and teams to the generator left
// the organizations of S, M and L as they were (their workspaces,
// deployments, tokens, assignments and drift hash as before), so that
// their figures stay comparable.
func TestTokenSizesUnchanged(t *testing.T) {
	want := map[string]string{
		"S": "b6137a8c938ef75cc35afd6b0dddf8372dd4de6231a5e5bb9408acd5d973d147",
		"M": "c3000d87e1ae058f016af4e859f5bb1964f22e51d5ec406bdbb104660a8e564e",
		"L": "c0c6642b2559be4964a8115975e63c7cf621a9d3f7b35d60867b8c10e8361f23",
	}
	for _, z := range sizes {
		if want[z.Name] == "" || (testing.Short() && z.Name == "L") {
			continue
		}
		o, err := Generate(z, seed)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		fmt.Fprintf(h, "%v\n%v\n%v\n", o.Workspaces, o.Deployments, o.Tokens)
		for _, a := range o.Want {
			fmt.Fprintf(h, "%d %d %s\n", a.Subject, a.Deployment, a.Role)
		}
		for _, d := range o.Drift {
			fmt.Fprintf(h, "%d %d %d %s %d %d %s\n", d.Kind, d.Want.Subject, d.Want.Deployment, d.Want.Role, d.Have.Subject, d.Have.Deployment, d.Have.Role)
		}
		if got := fmt.Sprintf("%x", h.Sum(nil)); got != want[z.Name] {
			t.Errorf("%s: the organization changed: hash %s, want %s", z.Name, got, want[z.Name])
		}
	}
}
