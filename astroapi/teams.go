package astroapi

import (
	"context"
	"net/url"
	"time"
)

// Team is a team of the organization (Team). Team names are not known to
// be unique. IsIdpManaged teams get their members from an identity
// provider; their roles are set like any team's.
type Team struct {
	ID               string           `json:"id"`
	Name             string           `json:"name"`
	Description      string           `json:"description,omitempty"`
	IsIdpManaged     bool             `json:"isIdpManaged"`
	OrganizationID   string           `json:"organizationId,omitempty"`
	OrganizationRole string           `json:"organizationRole"`
	WorkspaceRoles   []WorkspaceRole  `json:"workspaceRoles,omitempty"`
	DeploymentRoles  []DeploymentRole `json:"deploymentRoles,omitempty"`
	DagRoles         []DagRole        `json:"dagRoles,omitempty"`
	RolesCount       int              `json:"rolesCount,omitempty"`
	CreatedAt        time.Time        `json:"createdAt"`
	CreatedBy        *Subject         `json:"createdBy,omitempty"`
	UpdatedAt        time.Time        `json:"updatedAt"`
	UpdatedBy        *Subject         `json:"updatedBy,omitempty"`
}

// TeamMember is a member of a team (TeamMember).
type TeamMember struct {
	UserID    string     `json:"userId"`
	Username  string     `json:"username"`
	FullName  string     `json:"fullName,omitempty"`
	AvatarURL string     `json:"avatarUrl,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
}

// TeamFilter selects teams in Client.Teams. Zero values mean no filter.
type TeamFilter struct {
	Names        []string
	WorkspaceID  string
	DeploymentID string
}

// UpdateTeamRolesRequest is the body of POST /teams/{id}/roles: the team's
// whole new role set. Every part replaces what the team holds: a nil or
// empty list removes every role of that kind, dagRoles included.
// OrganizationRole is required.
type UpdateTeamRolesRequest struct {
	OrganizationRole string           `json:"organizationRole"`
	WorkspaceRoles   []WorkspaceRole  `json:"workspaceRoles"`
	DeploymentRoles  []DeploymentRole `json:"deploymentRoles"`
	DagRoles         []DagRole        `json:"dagRoles"`
}

// Teams lists the organization's teams that match f, draining every page.
// With f.DeploymentID (or f.WorkspaceID) the API returns the teams that
// hold a role on that deployment (or workspace); f.Names keeps the teams
// with one of those names.
func (c *Client) Teams(ctx context.Context, org string, f TeamFilter) ([]Team, error) {
	path, err := orgPath(org, "teams")
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	addAll(q, "names", f.Names)
	if f.WorkspaceID != "" {
		q.Set("workspaceId", f.WorkspaceID)
	}
	if f.DeploymentID != "" {
		q.Set("deploymentId", f.DeploymentID)
	}
	return listAll[Team](ctx, c, path, "teams", q, nil)
}

// Team returns one team. An unknown id gives an error that matches
// ErrNotFound; an answer about another team (or none) is an error.
func (c *Client) Team(ctx context.Context, org, id string) (Team, error) {
	return getOne(ctx, c, org, "team", "teams", id, func(t Team) string { return t.ID })
}

// SetTeamRoles replaces the whole role set of a team with r and returns the
// team's roles as the API answers them. Every role the caller wants to keep,
// DAG roles included, must be in r. Lists are always sent, empty as [].
// A request without an organization role is refused before anything is
// sent.
func (c *Client) SetTeamRoles(ctx context.Context, org, id string, r UpdateTeamRolesRequest) (SubjectRoles, error) {
	var refuse string
	if r.OrganizationRole == "" {
		refuse = "a team needs an organization role"
	}
	r.WorkspaceRoles = nonNil(r.WorkspaceRoles)
	r.DeploymentRoles = nonNil(r.DeploymentRoles)
	r.DagRoles = nonNil(r.DagRoles)
	return c.postRoleSet(ctx, org, "team", "teams", id, refuse, r)
}

// TeamMembers lists the members of a team, draining every page.
func (c *Client) TeamMembers(ctx context.Context, org, teamID string) ([]TeamMember, error) {
	if err := checkID("team", teamID); err != nil {
		return nil, err
	}
	path, err := orgPath(org, "teams", teamID, "members")
	if err != nil {
		return nil, err
	}
	return listAll[TeamMember](ctx, c, path, "teamMembers", url.Values{}, nil)
}
