package sync

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
)

// fingerprintLines is roleSet.fingerprint as first written, a line
// slice each: the digest must not change with the way it is computed, or
// a plan saved by one version would look stale to the next.
func fingerprintLines(r roleSet) string {
	var lines [][]byte
	add := func(fields ...string) { lines = append(lines, appendFields(nil, fields...)) }
	add("organization", r.OrganizationRole)
	for _, w := range r.WorkspaceRoles {
		if w.Role != astroapi.RoleWorkspaceAccessor {
			add("workspace", w.WorkspaceID, w.Role)
		}
	}
	for _, d := range r.DeploymentRoles {
		add("deployment", d.DeploymentID, d.Role)
	}
	for _, d := range r.DagRoles {
		add("dag", d.DeploymentID, d.DagID, d.DagTag, d.Role)
	}
	slices.SortFunc(lines, func(a, b []byte) int { return cmp.Compare(string(a), string(b)) })
	return digest(slices.Concat(lines...))
}

func TestFingerprintUnchanged(t *testing.T) {
	many := func(n int) roleSet {
		r := roleSet{OrganizationRole: "ORGANIZATION_MEMBER"}
		for i := range n {
			r.DeploymentRoles = append(r.DeploymentRoles, astroapi.DeploymentRole{DeploymentID: fmt.Sprintf("dep-%03d", n-i), Role: "DEPLOYMENT_ADMIN"})
			r.WorkspaceRoles = append(r.WorkspaceRoles, astroapi.WorkspaceRole{WorkspaceID: fmt.Sprintf("ws-%d", i%7), Role: "WORKSPACE_MEMBER"})
			r.DagRoles = append(r.DagRoles, astroapi.DagRole{DeploymentID: "dep-1", DagID: fmt.Sprintf("dag \"%d\"", i), Role: "DAG_VIEWER"})
		}
		return r
	}
	for _, r := range []roleSet{
		{},
		{OrganizationRole: "ORGANIZATION_OWNER", WorkspaceRoles: []astroapi.WorkspaceRole{{WorkspaceID: "w", Role: astroapi.RoleWorkspaceAccessor}}},
		many(1), many(5), many(11), many(40), many(300),
	} {
		if got, want := r.fingerprint(), fingerprintLines(r); got != want {
			t.Errorf("fingerprint of %d roles = %s, want %s", 1+len(r.WorkspaceRoles)+len(r.DeploymentRoles)+len(r.DagRoles), got, want)
		}
	}
}
