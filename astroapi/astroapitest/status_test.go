package astroapitest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// TestUserStatusServedAsTheAPIDoes: User.status is served on every read,
// list and get, as the state says (ACTIVE, INACTIVE, PENDING, BANNED,
// upper case), whatever roles the user holds: a status hides no holder
// from a filtered list, a role write on a BANNED user is accepted and
// leaves its status as it was (inferred: nothing documented refuses it,
// and prune relies on it to remove such a user's roles), and
// organizationRole is left out of a user
// that has none (astro-api.md: "may be absent"), while status never is.
func TestUserStatusServedAsTheAPIDoes(t *testing.T) {
	st := subjectState()
	st.Users = append(st.Users, User{ID: "usr-eve", Username: "eve@example.com", Status: astroapi.UserBanned, RoleSet: RoleSet{
		OrganizationRole: "ORGANIZATION_MEMBER",
		WorkspaceRoles:   []astroapi.WorkspaceRole{{WorkspaceID: "ws-a", Role: astroapi.RoleWorkspaceAccessor}},
		DeploymentRoles:  []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: astroapi.RoleDeploymentAdmin}},
	}})
	_, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	o := base + "/organizations/" + org
	want := map[string]string{
		"usr-ann": astroapi.UserActive, "usr-bob": astroapi.UserActive, "usr-cat": astroapi.UserInactive,
		"usr-dan": astroapi.UserPending, "usr-eve": astroapi.UserBanned,
	}
	statuses := func(us []astroapi.User) map[string]string {
		out := map[string]string{}
		for _, u := range us {
			out[u.ID] = u.Status
		}
		return out
	}
	if diff := cmp.Diff(want, statuses(get[userPage](t, o+"/users").Users)); diff != "" {
		t.Errorf("statuses listed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"usr-ann": astroapi.UserActive, "usr-eve": astroapi.UserBanned},
		statuses(get[userPage](t, o+"/users?deploymentId=dep-a1").Users)); diff != "" {
		t.Errorf("holders of dep-a1 (-want +got):\n%s", diff)
	}
	for id, status := range want {
		resp, raw := fetch(t, http.MethodGet, o+"/users/"+id, bearer, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", id, resp.StatusCode, raw)
		}
		var u map[string]any
		if err := json.Unmarshal(raw, &u); err != nil {
			t.Fatal(err)
		}
		if u["status"] != status {
			t.Errorf("GET %s: status %v, want %q: %s", id, u["status"], status, raw)
		}
		if _, has := u["organizationRole"]; has == (id == "usr-dan") {
			t.Errorf("GET %s: organizationRole present = %v, want %v: %s", id, has, id != "usr-dan", raw)
		}
	}

	resp, raw := fetch(t, http.MethodPost, o+"/users/usr-eve/roles", bearer,
		`{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-a","role":"WORKSPACE_ACCESSOR"}],"deploymentRoles":[],"dagRoles":[]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST roles of a BANNED user: %d %s", resp.StatusCode, raw)
	}
	if got := get[astroapi.User](t, o+"/users/usr-eve"); got.Status != astroapi.UserBanned || len(got.DeploymentRoles) != 0 {
		t.Errorf("after the write: status %q, deployment roles %+v; want BANNED and none", got.Status, got.DeploymentRoles)
	}
}
