package main

import (
	"bytes"
	"slices"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"go.yaml.in/yaml/v3"
)

// levelsSize is X's shape, smaller.
var levelsSize = Size{Name: "x", Workspaces: 20, Deployments: 100, Tokens: 400, Assignments: 800, DAGGrants: 600,
	People: People{Users: 1000, UsersWithRoles: 300, UserAssignments: 450, Teams: 60, TeamsWithRoles: 40, TeamAssignments: 80}}

// TestGenerateLevels checks an organization that uses every level: every
// user and team has an organization role and one or two workspace roles,
// organization tokens have workspace roles, the DAG roles are all there
// and sit where their subject holds a deployment role; its states are
// valid, keep those roles, and its deployment-level spec parses as before.
func TestGenerateLevels(t *testing.T) {
	o, err := Generate(levelsSize, seed)
	if err != nil {
		t.Fatal(err)
	}
	if n := o.DAGGrants(); n != levelsSize.DAGGrants {
		t.Errorf("%d DAG roles, want %d", n, levelsSize.DAGGrants)
	}
	want := map[place]bool{}
	for _, a := range o.Want {
		want[a.place()] = true
	}
	orgRoles := map[string]int{}
	for k, ls := range o.Levels {
		for s, l := range ls {
			if Kind(k) != KindToken {
				orgRoles[l.OrgRole]++
				if len(l.Workspaces) < 1 || len(l.Workspaces) > 2 {
					t.Fatalf("%s %d has %d workspace roles, want 1 or 2", Kind(k), s, len(l.Workspaces))
				}
			} else if (o.Tokens[s].Workspace < 0) != (len(l.Workspaces) > 0) {
				t.Fatalf("token %d (workspace %d) has %d workspace roles besides its own", s, o.Tokens[s].Workspace, len(l.Workspaces))
			}
			for _, g := range l.DAGs {
				if !want[place{Kind(k), s, g.Deployment}] {
					t.Fatalf("%s %d has a DAG role on deployment %d, where the spec gives it no role", Kind(k), s, g.Deployment)
				}
			}
		}
	}
	if orgRoles[astroapi.RoleOrganizationMember] < len(o.Users)*9/10 || orgRoles[astroapi.RoleOrganizationOwner] == 0 {
		t.Errorf("organization roles %v: want mostly ORGANIZATION_MEMBER and an owner", orgRoles)
	}
	for _, st := range []struct {
		name string
		as   []Assignment
	}{{"bare", nil}, {"full", o.Want}, {"drifted", o.Drifted()}} {
		s := o.State(st.as)
		if err := s.Validate(); err != nil {
			t.Fatalf("%s state: %v", st.name, err)
		}
		if lost, err := o.Check(s, st.as); err != nil || lost != 0 {
			t.Fatalf("%s state: %d lost DAG roles, %v", st.name, lost, err)
		}
		dags := 0
		for _, u := range s.Users {
			dags += len(u.DagRoles)
		}
		for _, tm := range s.Teams {
			dags += len(tm.DagRoles)
		}
		for _, tk := range s.Tokens {
			for _, r := range tk.Roles {
				if r.EntityType == astroapi.EntityDAG || r.EntityType == astroapi.EntityDAGTag {
					dags++
				}
			}
		}
		if dags != levelsSize.DAGGrants {
			t.Errorf("%s state holds %d DAG roles, want %d", st.name, dags, levelsSize.DAGGrants)
		}
	}
	if _, err := spec.Parse("tokens.yaml", o.SpecYAML()); err != nil {
		t.Fatalf("the deployment-level spec: %v", err)
	}
}

// specEntry is an entry of a level's list in the every-level spec.
type specEntry struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	Username string `yaml:"username"`
	Role     string `yaml:"role"`
}

// levelLists are the lists of a level's entry.
type levelListsYAML struct {
	Users              []specEntry `yaml:"users"`
	Teams              []specEntry `yaml:"teams"`
	WorkspaceTokens    []specEntry `yaml:"workspaceTokens"`
	OrganizationTokens []specEntry `yaml:"organizationTokens"`
}

func (l levelListsYAML) all() []specEntry {
	return slices.Concat(l.Users, l.Teams, l.WorkspaceTokens, l.OrganizationTokens)
}

// everyLevelYAML is design.md's "Every level" format, as far as the
// generator writes it.
type everyLevelYAML struct {
	Version           int    `yaml:"version"`
	Organization      string `yaml:"organization"`
	OrganizationRoles struct {
		Prune              bool        `yaml:"prune"`
		Users              []specEntry `yaml:"users"`
		Teams              []specEntry `yaml:"teams"`
		OrganizationTokens []specEntry `yaml:"organizationTokens"`
	} `yaml:"organizationRoles"`
	Workspaces []struct {
		ID             string `yaml:"id"`
		Prune          bool   `yaml:"prune"`
		levelListsYAML `yaml:",inline"`
	} `yaml:"workspaces"`
	Deployments []struct {
		ID             string `yaml:"id"`
		Prune          bool   `yaml:"prune"`
		levelListsYAML `yaml:",inline"`
		DAGs           []struct {
			DagID          string `yaml:"dagId"`
			DagTag         string `yaml:"dagTag"`
			Prune          bool   `yaml:"prune"`
			levelListsYAML `yaml:",inline"`
		} `yaml:"dags"`
	} `yaml:"deployments"`
}

// TestEveryLevelSpecShape checks the shape of the every-level spec (the
// spec parser of those keys is not there yet): only design.md's keys,
// every level listed with prune, every grant once, each entry naming its
// subject one way and holding a role of its level.
func TestEveryLevelSpecShape(t *testing.T) {
	o, err := Generate(levelsSize, seed)
	if err != nil {
		t.Fatal(err)
	}
	data := o.EveryLevelSpecYAML()
	if again, _ := Generate(levelsSize, seed); !bytes.Equal(data, again.EveryLevelSpecYAML()) {
		t.Fatal("two generations give different specs")
	}
	var sp everyLevelYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sp); err != nil {
		t.Fatal(err)
	}
	checkEntries := func(where string, es []specEntry, prefix string) {
		t.Helper()
		for _, e := range es {
			n := 0
			for _, v := range []string{e.ID, e.Name, e.Username} {
				if v != "" {
					n++
				}
			}
			if n != 1 || len(e.Role) < len(prefix) || e.Role[:len(prefix)] != prefix {
				t.Fatalf("%s: entry %+v: want one of id, name, username and a %s* role", where, e, prefix)
			}
		}
	}
	org := sp.OrganizationRoles
	if sp.Version != 1 || sp.Organization != o.ID || !org.Prune {
		t.Fatalf("version %d, organization %q, prune %t", sp.Version, sp.Organization, org.Prune)
	}
	orgTokens := 0
	for _, tk := range o.Tokens {
		if tk.Workspace < 0 {
			orgTokens++
		}
	}
	if len(org.Users) != len(o.Users) || len(org.Teams) != len(o.Teams) || len(org.OrganizationTokens) != orgTokens {
		t.Errorf("organizationRoles lists %d users, %d teams, %d tokens; want %d, %d, %d", len(org.Users), len(org.Teams), len(org.OrganizationTokens), len(o.Users), len(o.Teams), orgTokens)
	}
	checkEntries("organizationRoles", slices.Concat(org.Users, org.Teams, org.OrganizationTokens), "ORGANIZATION_")

	wantWS := len(o.Tokens) - orgTokens // every workspace token's own role
	for _, ls := range o.Levels {
		for _, l := range ls {
			wantWS += len(l.Workspaces)
		}
	}
	gotWS := 0
	for _, w := range sp.Workspaces {
		if !w.Prune {
			t.Errorf("workspace %s does not prune", w.ID)
		}
		checkEntries("workspace "+w.ID, w.all(), "WORKSPACE_")
		gotWS += len(w.all())
	}
	if len(sp.Workspaces) != len(o.Workspaces) || gotWS != wantWS {
		t.Errorf("%d workspaces with %d entries, want %d with %d", len(sp.Workspaces), gotWS, len(o.Workspaces), wantWS)
	}

	deps, dags := 0, 0
	for _, d := range sp.Deployments {
		deps += len(d.all())
		for _, g := range d.DAGs {
			if (g.DagID == "") == (g.DagTag == "") || !g.Prune {
				t.Fatalf("deployment %s: DAG entry %q/%q: want exactly one of dagId and dagTag, and prune", d.ID, g.DagID, g.DagTag)
			}
			checkEntries("deployment "+d.ID+" DAG", g.all(), "DAG_")
			dags += len(g.all())
		}
	}
	if len(sp.Deployments) != len(o.Deployments) || deps != len(o.Want) || dags != levelsSize.DAGGrants {
		t.Errorf("%d deployments with %d deployment roles and %d DAG roles, want %d, %d, %d", len(sp.Deployments), deps, dags, len(o.Deployments), len(o.Want), levelsSize.DAGGrants)
	}
}
