package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// roundTripState is an organization whose every principal holding a
// deployment role is one export could get wrong: users of every status
// (INACTIVE and BANNED users holding roles nobody could give them today),
// users without an organization role, a username that is not an e-mail
// address, teams without members, teams and tokens sharing a name, names
// that are YAML words, numbers, quotes, unicode and spaces at the ends,
// and custom roles in lower case and with a space.
const roundTripState = `
organization: {id: org1, name: Test Org}
workspaces:
  - {id: ws-a, name: alpha}
  - {id: ws-b, name: beta}
deployments:
  - {id: dep-a1, name: a-prod, workspaceId: ws-a}
  - {id: dep-a2, name: a-staging, workspaceId: ws-a}
  - {id: dep-b1, name: b-prod, workspaceId: ws-b}
roles:
  - {id: role-v, name: viewer, scopeType: DEPLOYMENT, restrictedWorkspaceIds: []}
  - {id: role-ro, name: Read Only, scopeType: DEPLOYMENT, restrictedWorkspaceIds: [ws-a]}
tokens:
  - id: tok-true
    name: "true"
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
  - id: tok-ci-a
    name: ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a2, role: viewer}
  - id: tok-ci-b
    name: ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-b, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-b1, role: viewer}
  - id: tok-dup-1
    name: " dup "
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: Read Only}
  - id: tok-dup-2
    name: " dup "
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: viewer}
  - id: tok-org
    name: ci
    scope: ORGANIZATION
    roles:
      - {entityType: ORGANIZATION, entityId: org1, role: ORGANIZATION_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: viewer}
      - {entityType: DEPLOYMENT, entityId: dep-b1, role: DEPLOYMENT_ADMIN}
  - id: tok-dep
    name: dep-only
    scope: DEPLOYMENT
    roles:
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
users:
  - id: usr-act
    username: Act@Example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_MEMBER}]
    deploymentRoles: [{deploymentId: dep-a1, role: DEPLOYMENT_ADMIN}]
  - id: usr-ina
    username: ina@example.com
    status: INACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}, {workspaceId: ws-b, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a1, role: viewer}, {deploymentId: dep-b1, role: DEPLOYMENT_ADMIN}]
  - id: usr-ban
    username: ban@example.com
    status: BANNED
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a2, role: Read Only}]
  - id: usr-pen
    username: pen@example.com
    status: PENDING
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-b, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-b1, role: viewer}]
  - id: usr-quote
    username: o'neil"x"@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a2, role: DEPLOYMENT_ADMIN}]
  - id: usr-odd
    username: "not an address"
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a1, role: viewer}]
  - {id: usr-norole, username: norole@example.com, status: ACTIVE}
  - {id: usr-norole-ina, username: gone@example.com, status: INACTIVE}
  - {id: usr-ina-norole-pending, username: invited@example.com, status: PENDING}
teams:
  - id: team-no
    name: "no"
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a1, role: DEPLOYMENT_ADMIN}]
    memberIds: []
  - id: team-p1
    name: " platform "
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a2, role: viewer}]
    memberIds: [usr-act, usr-ina]
  - id: team-p2
    name: " platform "
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-b, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-b1, role: viewer}]
    memberIds: []
  - id: team-uni
    name: "Ωmega 東京 1e3"
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-b, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-b1, role: DEPLOYMENT_ADMIN}]
    memberIds: [usr-ban]
  - id: team-idle
    name: idle
    organizationRole: ORGANIZATION_MEMBER
    memberIds: []
`

// TestExportRoundTripsEveryPrincipal: the export of an organization holds
// every assignment of every token, user and team (users of every status,
// with the status in a comment when it is not ACTIVE), names each by name
// where the spec can and by id where not, and plan --prune of it is
// empty: nothing is removed, nothing refused.
func TestExportRoundTripsEveryPrincipal(t *testing.T) {
	c := newCLI(t, roundTripState)
	r := c.run("export")
	wantCode(t, r, exitOK)
	out := r.stdout
	wantIn(t, "export lacks", out,
		"- username: ina@example.com # INACTIVE\n",
		"- username: ban@example.com # BANNED\n",
		"- username: pen@example.com # PENDING\n",
		"- username: Act@Example.com\n",
		"- id: usr-odd # not an address (not an e-mail address)\n",
		"- id: tok-dup-1 #  dup  (name shared by several)\n",
		"- id: team-p1 #  platform  (name shared by several)\n",
		`- name: "true"`, `- name: "no"`, `- name: "Ωmega 東京 1e3"`, `role: Read Only`, `role: viewer`,
	)
	for _, absent := range []string{"# ACTIVE", "tok-dep", "dep-only", "norole@", "gone@", "invited@", "idle"} {
		if strings.Contains(out, absent) {
			t.Errorf("export holds %q:\n%s", absent, out)
		}
	}
	f := c.write("exported.yaml", out)
	wantCode(t, c.run("validate", "--offline", "-f", f), exitOK)
	r = c.run("plan", "-f", f, "--prune", "--detailed-exitcode", "--no-color")
	wantCode(t, r, exitOK)
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("plan of the export warns:\n%s", r.stderr)
	}
	r = c.run("apply", "-f", f, "--prune", "--yes", "--no-color")
	wantCode(t, r, exitOK)
	if c.posts() != 0 {
		t.Errorf("apply --prune of the export made %d writes:\n%s", c.posts(), r.stdout)
	}
}

// TestExportStatusCommentIsInert: a user's status comes from the API; in
// the export's comment, whatever it holds (line breaks, YAML, controls,
// bidi overrides) stays one inert comment on the entry's line, and the
// file parses back as the same entries.
func TestExportStatusCommentIsInert(t *testing.T) {
	statuses := []string{
		"INACTIVE\nusers:\n  - username: evil@example.com\n    role: DEPLOYMENT_ADMIN",
		"BANNED\r\n# x\u2028y\u0085z",
		"\x1b]0;owned\x07\u202eDENIFED",
		"#", "",
	}
	obs := &sync.Observed{Organization: "org1", Workspaces: []astroapi.Workspace{{ID: "ws", Name: "w"}},
		Deployments: []astroapi.Deployment{{ID: "dep", Name: "d", WorkspaceID: "ws"}}}
	for i, status := range statuses {
		u := astroapi.User{ID: "usr-" + string(rune('a'+i)), Username: string(rune('a'+i)) + "@example.com", Status: status,
			OrganizationRole: "ORGANIZATION_MEMBER", DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep", Role: astroapi.RoleDeploymentAdmin}}}
		obs.Subjects = append(obs.Subjects, sync.UserSubject(u))
	}
	var buf bytes.Buffer
	if err := spec.Encode(&buf, exportSpec(obs, obs.Deployments, nil)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	inert(t, "export", out)
	sp, err := spec.Parse("exported.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, out)
	}
	var got []string
	for _, u := range sp.Deployments[0].Users {
		got = append(got, u.Username)
	}
	if want := "a@example.com b@example.com c@example.com d@example.com e@example.com"; strings.Join(got, " ") != want {
		t.Errorf("users parsed back %q, want %q:\n%s", got, want, out)
	}
	wantIn(t, "export lacks", out,
		`- username: a@example.com # INACTIVE\nusers:\n  - username: evil@example.com\n    role: DEPLOYMENT_ADMIN`+"\n",
		`- username: c@example.com # \x1b]0;owned\a\u202eDENIFED`+"\n",
		"- username: d@example.com # #\n",
		"- username: e@example.com # no status\n",
	)
}
