package main

import (
	"strings"
	"testing"
)

// accessorState has a user whose only deployment role, DEPLOYMENT_ACCESSOR,
// is there for its DAG role on that deployment, as Astro keeps it.
const accessorState = `
organization: {id: org1, name: Test Org}
workspaces:
  - {id: ws-a, name: alpha}
deployments:
  - {id: dep-a1, name: a-prod, workspaceId: ws-a}
users:
  - id: usr-admin
    username: admin@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_MEMBER}
    deploymentRoles:
      - {deploymentId: dep-a1, role: DEPLOYMENT_ADMIN}
  - id: usr-dana
    username: dana@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles:
      - {workspaceId: ws-a, role: WORKSPACE_ACCESSOR}
    deploymentRoles:
      - {deploymentId: dep-a1, role: DEPLOYMENT_ACCESSOR}
    dagRoles:
      - {deploymentId: dep-a1, dagId: etl_daily, role: DAG_AUTHOR}
`

// TestPruneKeepsAccessorOfDagRoles: prune does not remove the
// DEPLOYMENT_ACCESSOR that a user's DAG role on the deployment needs (Astro
// would add it again, and verification would find drift): the plan shows
// it as implied, apply converges, and the next plan is empty.
func TestPruneKeepsAccessorOfDagRoles(t *testing.T) {
	c := newCLI(t, accessorState)
	f := c.write("tokens.yaml", `version: 1
deployments:
  - id: dep-a1
    prune: true
    users:
      - {username: admin@example.com, role: DEPLOYMENT_ADMIN}
`)
	r := c.run("plan", "-f", f, "--detailed-exitcode", "--no-color")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "implied by its DAG roles") {
		t.Errorf("plan does not show the implied accessor:\n%s", r.stdout)
	}
	r = c.run("apply", "-f", f, "--yes", "--no-color")
	wantCode(t, r, exitOK)
	if n := c.posts(); n != 0 {
		t.Errorf("apply made %d POSTs; want none", n)
	}
}
