package access

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/sync"
)

// org is two workspaces with a deployment each (ws-a has two).
func org(subjects ...sync.Subject) *sync.Observed {
	return &sync.Observed{
		Organization: "o",
		Workspaces:   []astroapi.Workspace{{ID: "ws-a", Name: "alpha"}, {ID: "ws-b", Name: "beta"}},
		Deployments: []astroapi.Deployment{
			{ID: "d-a1", Name: "a1", WorkspaceID: "ws-a"},
			{ID: "d-a2", Name: "a2", WorkspaceID: "ws-a"},
			{ID: "d-b1", Name: "b1", WorkspaceID: "ws-b"},
		},
		Subjects: subjects,
	}
}

func tok(id, scope string, roles ...astroapi.Role) sync.Subject {
	return sync.TokenSubject(astroapi.Token{ID: id, Name: id, Scope: scope, Roles: roles})
}

func dep(id, role string) astroapi.Role {
	return astroapi.Role{EntityType: "DEPLOYMENT", EntityID: id, Role: role}
}
func ws(id, role string) astroapi.Role {
	return astroapi.Role{EntityType: "WORKSPACE", EntityID: id, Role: role}
}
func orgRole(role string) astroapi.Role {
	return astroapi.Role{EntityType: "ORGANIZATION", EntityID: "o", Role: role}
}

// cells flattens a report to "deployment kind:name" → grants, unmanaged
// marked with a trailing "!".
func cells(r Report) map[string][]string {
	out := map[string][]string{}
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			k := d.ID + " " + e.Principal.Kind + ":" + e.Principal.Name
			if e.Unmanaged {
				k += " !"
			}
			for _, g := range e.Grants {
				out[k] = append(out[k], g.String())
			}
		}
	}
	return out
}

var (
	teamA = sync.TeamSubject(astroapi.Team{ID: "g-1", Name: "team-a", OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:  []astroapi.WorkspaceRole{{WorkspaceID: "ws-b", Role: "WORKSPACE_OPERATOR"}},
		DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "d-a1", Role: "DAG_DEPLOYER"}}})
	alice = sync.UserSubject(astroapi.User{ID: "u-1", Username: "alice", Status: "ACTIVE", OrganizationRole: "ORGANIZATION_MEMBER",
		DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "d-a1", Role: "DEPLOYMENT_ADMIN"}}})
)

func TestCompute(t *testing.T) {
	tests := []struct {
		name    string
		in      Input
		want    map[string][]string
		checkFn func(t *testing.T, r Report)
	}{
		{
			name: "deployment role",
			in:   Input{Observed: org(tok("t1", "WORKSPACE", ws("ws-a", "WORKSPACE_ACCESSOR"), dep("d-a2", "DEPLOYMENT_ADMIN")))},
			want: map[string][]string{"d-a2 workspaceToken:t1": {"DEPLOYMENT_ADMIN (deployment)"}},
		},
		{
			name: "workspace accessor grants nothing by itself",
			in:   Input{Observed: org(tok("t1", "WORKSPACE", ws("ws-a", "WORKSPACE_ACCESSOR")))},
			want: map[string][]string{},
		},
		{
			name: "every workspace role that implies access reaches each deployment of its workspace only",
			in: Input{Observed: org(
				tok("own", "WORKSPACE", ws("ws-a", "WORKSPACE_OWNER")),
				tok("op", "WORKSPACE", ws("ws-a", "WORKSPACE_OPERATOR")),
				tok("auth", "WORKSPACE", ws("ws-b", "WORKSPACE_AUTHOR")),
				tok("mem", "WORKSPACE", ws("ws-b", "WORKSPACE_MEMBER")),
				tok("custom", "WORKSPACE", ws("ws-b", "SOME_CUSTOM_WORKSPACE_ROLE")),
			)},
			want: map[string][]string{
				"d-a1 workspaceToken:own":  {"WORKSPACE_OWNER (workspace)"},
				"d-a2 workspaceToken:own":  {"WORKSPACE_OWNER (workspace)"},
				"d-a1 workspaceToken:op":   {"WORKSPACE_OPERATOR (workspace)"},
				"d-a2 workspaceToken:op":   {"WORKSPACE_OPERATOR (workspace)"},
				"d-b1 workspaceToken:auth": {"WORKSPACE_AUTHOR (workspace)"},
				"d-b1 workspaceToken:mem":  {"WORKSPACE_MEMBER (workspace)"},
			},
		},
		{
			name: "organization owner reaches every deployment; other organization roles nothing",
			in: Input{Observed: org(
				tok("owner", "ORGANIZATION", orgRole("ORGANIZATION_OWNER"), dep("d-b1", "DEPLOYMENT_ADMIN")),
				tok("billing", "ORGANIZATION", orgRole("ORGANIZATION_BILLING_ADMIN")),
				sync.UserSubject(astroapi.User{ID: "u-9", Username: "erin", OrganizationRole: "ORGANIZATION_OWNER"}),
			)},
			want: map[string][]string{
				"d-a1 organizationToken:owner": {"ORGANIZATION_OWNER (organization)"},
				"d-a2 organizationToken:owner": {"ORGANIZATION_OWNER (organization)"},
				"d-b1 organizationToken:owner": {"DEPLOYMENT_ADMIN (deployment)", "ORGANIZATION_OWNER (organization)"},
				"d-a1 user:erin":               {"ORGANIZATION_OWNER (organization)"},
				"d-a2 user:erin":               {"ORGANIZATION_OWNER (organization)"},
				"d-b1 user:erin":               {"ORGANIZATION_OWNER (organization)"},
			},
		},
		{
			name: "deployment tokens, users and teams",
			in:   Input{Observed: org(tok("key", "DEPLOYMENT", dep("d-b1", "DEPLOYMENT_ADMIN")), alice, teamA)},
			want: map[string][]string{
				"d-b1 deploymentToken:key": {"DEPLOYMENT_ADMIN (deployment)"},
				"d-a1 user:alice":          {"DEPLOYMENT_ADMIN (deployment)"},
				"d-a1 team:team-a":         {"DAG_DEPLOYER (deployment)"},
				"d-b1 team:team-a":         {"WORKSPACE_OPERATOR (workspace)"},
			},
		},
		{
			name: "a role on a deployment not listed is left out",
			in:   Input{Observed: org(tok("t1", "WORKSPACE", dep("d-gone", "DEPLOYMENT_ADMIN")))},
			want: map[string][]string{},
		},
		{
			name: "team members appear as users via the team, merged with their own access",
			in: Input{Observed: org(alice, teamA), Members: map[string][]astroapi.TeamMember{
				"g-1": {{UserID: "u-1", Username: "ALICE"}, {UserID: "u-2", Username: "bob"}},
			}},
			want: map[string][]string{
				"d-a1 user:alice":  {"DEPLOYMENT_ADMIN (deployment)", "DAG_DEPLOYER (deployment, via team team-a)"},
				"d-b1 user:alice":  {"WORKSPACE_OPERATOR (workspace, via team team-a)"},
				"d-a1 user:bob":    {"DAG_DEPLOYER (deployment, via team team-a)"},
				"d-b1 user:bob":    {"WORKSPACE_OPERATOR (workspace, via team team-a)"},
				"d-a1 team:team-a": {"DAG_DEPLOYER (deployment)"},
				"d-b1 team:team-a": {"WORKSPACE_OPERATOR (workspace)"},
			},
			checkFn: func(t *testing.T, r Report) {
				if !r.TeamsExpanded {
					t.Error("TeamsExpanded = false")
				}
			},
		},
		{
			name: "with a spec, cells it does not list are unmanaged",
			in: Input{
				Observed: org(alice, teamA, tok("t1", "WORKSPACE", dep("d-a1", "DEPLOYMENT_ADMIN"), dep("d-a2", "DEPLOYMENT_ADMIN"))),
				Desired: &sync.Desired{Scopes: []sync.ManagedScope{{
					ScopeRef: sync.ScopeRef{Level: sync.LevelDeployment, ID: "d-a1"},
					Assignments: []sync.DesiredAssignment{
						{Subject: sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: "t1"}, Role: "DEPLOYMENT_ADMIN"},
						{Subject: sync.SubjectRef{Kind: sync.KindTeam, ID: "g-1"}, Absent: true},
					},
				}}},
				Members: map[string][]astroapi.TeamMember{"g-1": {{UserID: "u-1"}, {UserID: "u-2", Username: "bob"}}},
			},
			want: map[string][]string{
				"d-a1 workspaceToken:t1":   {"DEPLOYMENT_ADMIN (deployment)"},
				"d-a2 workspaceToken:t1 !": {"DEPLOYMENT_ADMIN (deployment)"},                                               // deployment not in the spec
				"d-a1 user:alice !":        {"DEPLOYMENT_ADMIN (deployment)", "DAG_DEPLOYER (deployment, via team team-a)"}, // its own grant is not listed, its team is
				"d-a1 team:team-a":         {"DAG_DEPLOYER (deployment)"},                                                   // listed (state: absent)
				"d-b1 team:team-a !":       {"WORKSPACE_OPERATOR (workspace)"},
				"d-a1 user:bob":            {"DAG_DEPLOYER (deployment, via team team-a)"}, // covered by its team
				"d-b1 user:bob !":          {"WORKSPACE_OPERATOR (workspace, via team team-a)"},
				"d-b1 user:alice !":        {"WORKSPACE_OPERATOR (workspace, via team team-a)"},
			},
			checkFn: func(t *testing.T, r Report) {
				in := map[string]bool{}
				for _, d := range r.Deployments {
					in[d.ID] = d.InSpec
				}
				if diff := cmp.Diff(map[string]bool{"d-a1": true, "d-a2": false, "d-b1": false}, in); diff != "" {
					t.Errorf("InSpec (-want +got):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute(tt.in)
			if diff := cmp.Diff(tt.want, cells(r)); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
			if got := len(r.Deployments); got != 3 {
				t.Errorf("%d deployments, want every one of 3 (those without access too)", got)
			}
			if tt.checkFn != nil {
				tt.checkFn(t, r)
			}
		})
	}
}

// TestComputeOrder: deployments by workspace name then name, principals
// users first, then teams, then tokens, each by name.
func TestComputeOrder(t *testing.T) {
	r := Compute(Input{Observed: org(tok("z", "ORGANIZATION", orgRole("ORGANIZATION_OWNER")), tok("b", "WORKSPACE", ws("ws-a", "WORKSPACE_MEMBER")), alice, teamA)})
	var deps, first []string
	for _, d := range r.Deployments {
		deps = append(deps, d.Workspace+"/"+d.Name)
	}
	for _, e := range r.Deployments[0].Access {
		first = append(first, e.Principal.Kind+":"+e.Principal.Name)
	}
	if diff := cmp.Diff([]string{"alpha/a1", "alpha/a2", "beta/b1"}, deps); diff != "" {
		t.Errorf("deployments (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"user:alice", "team:team-a", "workspaceToken:b", "organizationToken:z"}, first); diff != "" {
		t.Errorf("principals of a1 (-want +got):\n%s", diff)
	}
}
