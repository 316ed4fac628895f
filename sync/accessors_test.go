package sync

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// TestSubjectWorkspaceAndOrganizationRoles: the read-only accessors give
// a token's WORKSPACE and ORGANIZATION entries and a user's or team's
// fields, as read.
func TestSubjectWorkspaceAndOrganizationRoles(t *testing.T) {
	ws := []astroapi.WorkspaceRole{{WorkspaceID: "ws-1", Role: "WORKSPACE_OWNER"}}
	tests := []struct {
		name    string
		s       Subject
		wantWS  []astroapi.WorkspaceRole
		wantOrg string
	}{
		{"workspace token", TokenSubject(astroapi.Token{ID: "t", Scope: "WORKSPACE", Roles: []astroapi.Role{
			{EntityType: "WORKSPACE", EntityID: "ws-1", Role: "WORKSPACE_OWNER"},
			{EntityType: "DEPLOYMENT", EntityID: "d", Role: "DEPLOYMENT_ADMIN"},
		}}), ws, ""},
		{"organization token", TokenSubject(astroapi.Token{ID: "t", Scope: "ORGANIZATION", Roles: []astroapi.Role{
			{EntityType: "ORGANIZATION", EntityID: "o", Role: "ORGANIZATION_OWNER"},
			{EntityType: "WORKSPACE", EntityID: "ws-1", Role: "WORKSPACE_OWNER"},
		}}), ws, "ORGANIZATION_OWNER"},
		{"user", UserSubject(astroapi.User{ID: "u", OrganizationRole: "ORGANIZATION_MEMBER", WorkspaceRoles: ws}), ws, "ORGANIZATION_MEMBER"},
		{"team", TeamSubject(astroapi.Team{ID: "g", OrganizationRole: "ORGANIZATION_OWNER", WorkspaceRoles: ws}), ws, "ORGANIZATION_OWNER"},
		{"zero", Subject{}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.wantWS, tt.s.WorkspaceRoles()); diff != "" {
				t.Errorf("WorkspaceRoles (-want +got):\n%s", diff)
			}
			if got := tt.s.OrganizationRole(); got != tt.wantOrg {
				t.Errorf("OrganizationRole = %q, want %q", got, tt.wantOrg)
			}
		})
	}
}
