package main

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/tokensync/tokensync/spec"
)

// TestGenerate checks that every size is generated exactly, deterministically,
// within the API's scope rules, and that its spec parses.
func TestGenerate(t *testing.T) {
	for _, z := range sizes {
		t.Run(z.Name, func(t *testing.T) {
			if testing.Short() && z.Name == "L" {
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
			if len(o.Workspaces) != z.Workspaces || len(o.Deployments) != z.Deployments || len(o.Tokens) != z.Tokens || len(o.Want) != z.Assignments {
				t.Fatalf("got %d workspaces, %d deployments, %d tokens, %d assignments; want %+v",
					len(o.Workspaces), len(o.Deployments), len(o.Tokens), len(o.Want), z)
			}
			if len(o.Drift) != z.Assignments/10 {
				t.Errorf("drift of %d assignments, want %d", len(o.Drift), z.Assignments/10)
			}
			orgTokens, perToken, perDep := 0, map[int]int{}, map[int]int{}
			for _, a := range o.Want {
				perToken[a.Token]++
				perDep[a.Deployment]++
				if ws := o.Tokens[a.Token].Workspace; ws >= 0 && o.Deployments[a.Deployment].WorkspaceID != o.Workspaces[ws].ID {
					t.Fatalf("token %s has a role on deployment %s of another workspace", o.Tokens[a.Token].Name, o.Deployments[a.Deployment].ID)
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
				if err := o.Check(o.State(st.as), st.as); err != nil {
					t.Fatalf("%s state: %v", st.name, err)
				}
			}
			sp, err := spec.Parse("tokens.yaml", o.SpecYAML())
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, d := range sp.Deployments {
				n += len(d.WorkspaceTokens) + len(d.OrganizationTokens)
			}
			if n != z.Assignments || len(sp.Deployments) != z.Deployments {
				t.Errorf("spec has %d deployments and %d entries, want %d and %d", len(sp.Deployments), n, z.Deployments, z.Assignments)
			}
		})
	}
}
