package policy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

const accessorsState = `
organization: {id: org-1, name: Org}
workspaces: [{id: ws-1, name: data}]
deployments: [{id: dep-1, name: analytics-prod, workspaceId: ws-1}]
tokens:
  - {id: tok-1, name: org-bot, scope: ORGANIZATION, roles: [{entityType: ORGANIZATION, entityId: org-1, role: ORGANIZATION_MEMBER}]}
  - {id: tok-2, name: ws-bot, scope: WORKSPACE, roles: [{entityType: WORKSPACE, entityId: ws-1, role: WORKSPACE_MEMBER}]}
users:
  - {id: u-1, username: ann@example.com, status: ACTIVE, organizationRole: ORGANIZATION_MEMBER}
  - {id: u-2, username: ben@example.com, status: ACTIVE, organizationRole: ORGANIZATION_OWNER}
  - {id: u-3, username: cat@example.com, status: ACTIVE, organizationRole: ORGANIZATION_MEMBER,
     workspaceRoles: [{workspaceId: ws-1, role: WORKSPACE_MEMBER}]}
teams:
  - {id: t-1, name: eng, organizationRole: ORGANIZATION_MEMBER, memberIds: [u-1]}
`

// accessorsSpec gives DAG roles to a user, a team and a token that hold
// no deployment or workspace role, a deployment role to a user with none
// in its workspace, and a DAG role to one that holds a workspace role.
const accessorsSpec = `
version: 1
deployments:
  - id: dep-1
    users:
      - {username: ben@example.com, role: DEPLOYMENT_ADMIN}
    dags:
      - dagId: rollup
        users:
          - {username: ann@example.com, role: DAG_VIEWER}
          - {username: cat@example.com, role: DAG_AUTHOR}
        teams:
          - {name: eng, role: DAG_VIEWER}
        organizationTokens:
          - {name: org-bot, role: DAG_VIEWER}
`

// TestPlanSeesImpliedAccessors: a rule is checked on the access a plan
// would leave with the accessor roles Astro adds for it (DEPLOYMENT_ACCESSOR
// and WORKSPACE_ACCESSOR for a user's or team's DAG role,
// WORKSPACE_ACCESSOR for a deployment role), and none it does not add (a
// token's DAG role brings none): at plan time it finds what it finds after
// apply, on the emulator.
func TestPlanSeesImpliedAccessors(t *testing.T) {
	ctx := context.Background()
	st, err := astroapitest.ParseState("state.yaml", []byte(accessorsState))
	if err != nil {
		t.Fatal(err)
	}
	_, url := astroapitest.NewTestServer(t, st, astroapitest.Options{})
	c, err := astroapi.New(url, astroapi.WithCredential("accessors-test-credential"))
	if err != nil {
		t.Fatal(err)
	}
	e := sync.NewEngine(c, "org-1")
	sp, err := spec.Parse("tokens.yaml", []byte(accessorsSpec))
	if err != nil {
		t.Fatal(err)
	}
	rules := compileOne(t, spec.ConditionGrant, "via.kind == 'direct' && (role.name == 'DEPLOYMENT_ACCESSOR' || role.name == 'WORKSPACE_ACCESSOR')")
	check := func(subjects []sync.Subject, obs *sync.Observed) []string {
		return fired(rules.Check(Build(World{Organization: obs.Organization, Subjects: subjects, Workspaces: obs.Workspaces,
			Deployments: obs.Deployments, Members: map[string][]string{"t-1": {"u-1"}}}), now))
	}

	obs, err := e.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sync.Resolve(sp, obs)
	if err != nil {
		t.Fatal(err)
	}
	p := sync.Compute(d, obs, sync.Options{MaxRemovals: -1})
	planned := check(p.After(obs.Subjects), obs)

	if out := e.Execute(ctx, p, sync.ApplyOptions{}); len(out.Failed) > 0 || out.Refused {
		t.Fatalf("apply: %+v", out.Result)
	}
	obs, err = e.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	applied := check(obs.Subjects, obs)

	want := []string{
		"eng@workspace:data(direct)",
		"ann@example.com@workspace:data(direct)",
		"ben@example.com@workspace:data(direct)", // DEPLOYMENT_ADMIN
		"eng@deployment:analytics-prod(direct)",
		"ann@example.com@deployment:analytics-prod(direct)",
		"cat@example.com@deployment:analytics-prod(direct)", // holds WORKSPACE_MEMBER: no WORKSPACE_ACCESSOR
	}
	if diff := cmp.Diff(want, applied); diff != "" {
		t.Errorf("after apply (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(applied, planned); diff != "" {
		t.Errorf("at plan time (-after apply +planned):\n%s", diff)
	}
}
