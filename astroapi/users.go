package astroapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// User statuses, as the API spells them in User.status.
const (
	UserActive   = "ACTIVE"
	UserInactive = "INACTIVE"
	UserPending  = "PENDING"
	UserBanned   = "BANNED"
)

// User is a user of the organization (User). Username is the user's e-mail
// address. OrganizationRole is "" when the API leaves it out.
type User struct {
	ID               string           `json:"id"`
	Username         string           `json:"username"`
	FullName         string           `json:"fullName"`
	AvatarURL        string           `json:"avatarUrl,omitempty"`
	Status           string           `json:"status"`
	OrganizationRole string           `json:"organizationRole,omitempty"`
	WorkspaceRoles   []WorkspaceRole  `json:"workspaceRoles,omitempty"`
	DeploymentRoles  []DeploymentRole `json:"deploymentRoles,omitempty"`
	DagRoles         []DagRole        `json:"dagRoles,omitempty"`
	CreatedAt        time.Time        `json:"createdAt"`
	UpdatedAt        time.Time        `json:"updatedAt"`
}

// UserFilter selects users in Client.Users. Zero values mean no filter.
// DagID and DagTags select the users holding a role on that DAG or on one
// of those tags.
type UserFilter struct {
	WorkspaceID  string
	DeploymentID string
	DagID        string
	DagTags      []string
}

// UpdateUserRolesRequest is the body of POST /users/{id}/roles: the user's
// whole new role set. Every part replaces what the user holds: a nil or
// empty list removes every role of that kind, dagRoles included. The API
// requires OrganizationRole whenever WorkspaceRoles, DeploymentRoles or
// DagRoles is not empty.
type UpdateUserRolesRequest struct {
	OrganizationRole string           `json:"organizationRole,omitempty"`
	WorkspaceRoles   []WorkspaceRole  `json:"workspaceRoles"`
	DeploymentRoles  []DeploymentRole `json:"deploymentRoles"`
	DagRoles         []DagRole        `json:"dagRoles"`
}

// Users lists the organization's users that match f, draining every page.
// With f.DeploymentID (or f.WorkspaceID) the API returns the users that
// hold a role on that deployment (or workspace).
func (c *Client) Users(ctx context.Context, org string, f UserFilter) ([]User, error) {
	path, q, err := usersQuery(org, f)
	if err != nil {
		return nil, err
	}
	return listAll[User](ctx, c, path, "users", q, nil)
}

// UserPages is Users that hands the users to each a page at a time, as
// read, and keeps none: a caller that keeps only part of each user holds
// one page of them at a time, not the whole list. An error of each ends
// the list and is returned as it is.
func (c *Client) UserPages(ctx context.Context, org string, f UserFilter, each func([]User) error) error {
	path, q, err := usersQuery(org, f)
	if err != nil {
		return err
	}
	return listEach(ctx, c, path, "users", q, nil, func(items []User, _ int) error { return each(items) })
}

// usersQuery is the path and query of the user list that f asks for.
func usersQuery(org string, f UserFilter) (string, url.Values, error) {
	path, err := orgPath(org, "users")
	if err != nil {
		return "", nil, err
	}
	q := url.Values{}
	if f.WorkspaceID != "" {
		q.Set("workspaceId", f.WorkspaceID)
	}
	if f.DeploymentID != "" {
		q.Set("deploymentId", f.DeploymentID)
	}
	if f.DagID != "" {
		q.Set("dagId", f.DagID)
	}
	addAll(q, "dagTags", f.DagTags)
	return path, q, nil
}

// User returns one user. An unknown id gives an error that matches
// ErrNotFound; an answer about another user (or none) is an error.
func (c *Client) User(ctx context.Context, org, id string) (User, error) {
	return getOne(ctx, c, org, "user", "users", id, func(u User) string { return u.ID })
}

// getOne GETs /organizations/{org}/{collection}/{id} and checks that the
// answer is about id: a role set is rewritten from it, so an answer about
// another subject (or none: null, {}) is never trusted.
func getOne[T any](ctx context.Context, c *Client, org, kind, collection, id string, idOf func(T) string) (T, error) {
	var zero, v T
	if err := checkID(kind, id); err != nil {
		return zero, err
	}
	path, err := orgPath(org, collection, id)
	if err != nil {
		return zero, err
	}
	if err := c.do(ctx, http.MethodGet, path, nil, nil, &v); err != nil {
		return zero, err
	}
	if got := idOf(v); got != id {
		return zero, fmt.Errorf("GET %s: the answer is about %s %q, not %q", path, kind, sanitize(got, maxMessageLen), id)
	}
	return v, nil
}

// SetUserRoles replaces the whole role set of a user with r and returns the
// user's roles as the API answers them. Every role the caller wants to keep,
// DAG roles included, must be in r. Lists are always sent, empty as [], so
// that the request says what it removes. A request with workspace,
// deployment or DAG roles but no organization role is refused before
// anything is sent.
func (c *Client) SetUserRoles(ctx context.Context, org, id string, r UpdateUserRolesRequest) (SubjectRoles, error) {
	var refuse string
	if r.OrganizationRole == "" && (len(r.WorkspaceRoles) > 0 || len(r.DeploymentRoles) > 0 || len(r.DagRoles) > 0) {
		refuse = "workspace, deployment and DAG roles require an organization role"
	}
	r.WorkspaceRoles = nonNil(r.WorkspaceRoles)
	r.DeploymentRoles = nonNil(r.DeploymentRoles)
	r.DagRoles = nonNil(r.DagRoles)
	return c.postRoleSet(ctx, org, "user", "users", id, refuse, r)
}

// postRoleSet POSTs body to /organizations/{org}/{collection}/{id}/roles,
// unless refuse says why it must not be sent.
func (c *Client) postRoleSet(ctx context.Context, org, kind, collection, id, refuse string, body any) (SubjectRoles, error) {
	if err := checkID(kind, id); err != nil {
		return SubjectRoles{}, err
	}
	path, err := orgPath(org, collection, id, "roles")
	if err != nil {
		return SubjectRoles{}, err
	}
	if refuse != "" {
		return SubjectRoles{}, fmt.Errorf("POST %s: %s", path, refuse)
	}
	var sr SubjectRoles
	if err := c.do(ctx, http.MethodPost, path, nil, body, &sr); err != nil {
		return SubjectRoles{}, err
	}
	return sr, nil
}

// nonNil returns s, or an empty slice when s is nil, so that JSON says [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
