package astroapitest

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// TestCustomRoleNamesAreExactBuiltinsAnyCase: custom role names are exact
// ("Reader" and "READER" are two roles, "reader" is neither), while a
// built-in role is accepted in any case and answered upper case
// (docs/astro-api.md, Terraform provider issue 195), for tokens, users and
// teams alike.
func TestCustomRoleNamesAreExactBuiltinsAnyCase(t *testing.T) {
	state := func() *State {
		st := subjectState()
		st.Roles = append(st.Roles,
			CustomRole{ID: "role-r1", Name: "Reader", ScopeType: astroapi.ScopeDeployment},
			CustomRole{ID: "role-r2", Name: "READER", ScopeType: astroapi.ScopeDeployment})
		return st
	}
	tests := []struct {
		role, want string // want "" for 400 not_found
	}{
		{"Reader", "Reader"},
		{"READER", "READER"},
		{"reader", ""},
		{"ReadeR", ""},
		{"deployment_admin", astroapi.RoleDeploymentAdmin},
		{"Deployment_Admin", astroapi.RoleDeploymentAdmin},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			srv, base := NewTestServer(t, state(), Options{RateLimits: NoRateLimit})
			o := base + "/organizations/" + org

			// A token.
			resp, raw := fetch(t, http.MethodPost, o+"/tokens/tok-ws-a/roles", bearer,
				rolesBody(wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", tt.role)))
			if tt.want == "" {
				body := wantError(t, resp, raw, http.StatusBadRequest)
				if diff := cmp.Diff([]string{"roles[1].role not_found"}, fieldsOf(body.FieldErrors)); diff != "" {
					t.Errorf("token field errors (-want +got):\n%s", diff)
				}
			} else {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("POST token roles: %d %s", resp.StatusCode, raw)
				}
				got := get[astroapi.Token](t, o+"/tokens/tok-ws-a").Roles
				want := []astroapi.Role{wsRole("ws-a", "WORKSPACE_MEMBER"), depRole("dep-a1", tt.want)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("token roles (-want +got):\n%s", diff)
				}
			}

			// A user.
			body := `{"organizationRole":"ORGANIZATION_MEMBER","workspaceRoles":[{"workspaceId":"ws-a","role":"WORKSPACE_MEMBER"}],` +
				`"deploymentRoles":[{"deploymentId":"dep-a1","role":"` + tt.role + `"}]}`
			resp, raw = fetch(t, http.MethodPost, o+"/users/usr-ann/roles", bearer, body)
			if tt.want == "" {
				eb := wantError(t, resp, raw, http.StatusBadRequest)
				if diff := cmp.Diff([]string{"deploymentRoles[0].role not_found"}, fieldsOf(eb.FieldErrors)); diff != "" {
					t.Errorf("user field errors (-want +got):\n%s", diff)
				}
				if st := srv.Stats(); len(st.RoleWrites)+len(st.UserRoleWrites) != 0 {
					t.Errorf("role writes %v %v, want none", st.RoleWrites, st.UserRoleWrites)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST user roles: %d %s", resp.StatusCode, raw)
			}
			want := []astroapi.DeploymentRole{{DeploymentID: "dep-a1", Role: tt.want}}
			if diff := cmp.Diff(want, get[astroapi.User](t, o+"/users/usr-ann").DeploymentRoles); diff != "" {
				t.Errorf("user deployment roles (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListRolesKeepsCustomNamesAsCreated: GET /roles answers both custom
// roles that differ only in case, each with its own spelling.
func TestListRolesKeepsCustomNamesAsCreated(t *testing.T) {
	st := testState()
	st.Roles = append(st.Roles,
		CustomRole{ID: "role-r1", Name: "Reader", ScopeType: astroapi.ScopeDeployment},
		CustomRole{ID: "role-r2", Name: "READER", ScopeType: astroapi.ScopeDeployment})
	_, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	page := get[struct {
		Roles []astroapi.CustomRole `json:"roles"`
	}](t, base+"/organizations/"+org+"/roles?scopeTypes=DEPLOYMENT")
	var names []string
	for _, r := range page.Roles {
		names = append(names, r.Name)
	}
	want := []string{"DAG_DEPLOYER", "DEPLOYMENT_VIEWER", "Reader", "READER"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("custom deployment roles (-want +got):\n%s", diff)
	}
}
