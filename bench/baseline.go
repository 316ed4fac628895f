package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

// baselinePageSize is the page size the Astro CLI lists tokens, users and
// teams with.
const baselinePageSize = 100

// baseline replays the Astro CLI's call pattern for ops, one command
// after another, against the API at base (see tokenCommand, userCommand
// and teamCommand). No retries, no parallelism, like the CLI. It returns
// how many commands failed and the first failure. The CLI's own start-up
// per command is not counted.
func baseline(ctx context.Context, base string, o *Org, ops []Op) (failed int, first error) {
	b := &baseliner{base: base, org: o.ID, hc: &http.Client{Timeout: 30 * time.Second}}
	for _, op := range ops {
		if ctx.Err() != nil {
			return failed + 1, ctx.Err()
		}
		var err error
		switch op.Kind {
		case KindToken:
			err = b.tokenCommand(ctx, o, op)
		case KindUser:
			err = b.userCommand(ctx, o, op)
		default:
			err = b.teamCommand(ctx, o, op)
		}
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	return failed, first
}

type baseliner struct {
	base, org string
	hc        *http.Client
}

// tokenCommand is `astro deployment token workspace-token add|update|remove`
// (or organization-token): list the tokens of the token's workspace (the
// organization tokens) in pages of 100 until the page that holds its name,
// GET the token, edit its role list, POST all of it.
func (b *baseliner) tokenCommand(ctx context.Context, o *Org, op Op) error {
	t := o.Tokens[op.Subject]
	dep := o.Deployments[op.Deployment].ID
	q := url.Values{}
	if t.Workspace >= 0 {
		q.Set("workspaceId", o.Workspaces[t.Workspace].ID)
	} else {
		q.Set("includeOnlyOrganizationTokens", "true")
	}
	q.Set("limit", strconv.Itoa(baselinePageSize))
	id := ""
	maxPages := len(o.Tokens)/baselinePageSize + 2
	for page, offset := 0, 0; id == ""; page++ {
		if page >= maxPages {
			return fmt.Errorf("token %q: not found after %d pages", t.Name, page)
		}
		q.Set("offset", strconv.Itoa(offset))
		var list struct {
			Tokens     []astroapi.Token `json:"tokens"`
			TotalCount int              `json:"totalCount"`
		}
		if err := b.call(ctx, http.MethodGet, "/tokens?"+q.Encode(), nil, &list); err != nil {
			return err
		}
		for _, lt := range list.Tokens {
			if lt.Name == t.Name {
				id = lt.ID
				break
			}
		}
		offset += len(list.Tokens)
		if id == "" && (len(list.Tokens) == 0 || offset >= list.TotalCount) {
			return fmt.Errorf("token %q not found", t.Name)
		}
	}
	var tok astroapi.Token
	if err := b.call(ctx, http.MethodGet, "/tokens/"+url.PathEscape(id), nil, &tok); err != nil {
		return err
	}
	i := slices.IndexFunc(tok.Roles, func(r astroapi.Role) bool {
		return r.EntityType == astroapi.EntityDeployment && r.EntityID == dep
	})
	if err := checkCommand(op, "token "+t.Name, dep, i >= 0); err != nil {
		return err
	}
	roles := tok.Roles
	switch {
	case op.Command == "add":
		roles = append(roles, astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: op.Role})
	case op.Command == "update":
		roles[i].Role = op.Role
	default:
		roles = slices.Delete(roles, i, i+1)
	}
	body := struct {
		Roles []astroapi.Role `json:"roles"`
	}{roles}
	return b.call(ctx, http.MethodPost, "/tokens/"+url.PathEscape(id)+"/roles", body, nil)
}

// checkCommand refuses, as the CLI does, to add a role the subject has or
// to update or remove one it does not have.
func checkCommand(op Op, subject, dep string, has bool) error {
	switch {
	case op.Command == "add" && has:
		return fmt.Errorf("%s already has a role on deployment %s", subject, dep)
	case op.Command != "add" && !has:
		return fmt.Errorf("%s has no role on deployment %s", subject, dep)
	}
	return nil
}

// cliRolesRequest is the body the CLI posts for a user or team: the
// subject's organization and workspace roles as read and its edited
// deployment roles, without dagRoles (the CLI leaves them out, and the API
// takes that as none).
type cliRolesRequest struct {
	OrganizationRole string                    `json:"organizationRole,omitempty"`
	WorkspaceRoles   []astroapi.WorkspaceRole  `json:"workspaceRoles,omitempty"`
	DeploymentRoles  []astroapi.DeploymentRole `json:"deploymentRoles"`
}

// userCommand is `astro deployment user add|update|remove EMAIL`: add
// lists every user of the organization, update and remove the users of
// the deployment (?deploymentId=), in pages of 100 to the last; then a GET
// of the user and a POST of its roles (cliRolesRequest).
func (b *baseliner) userCommand(ctx context.Context, o *Org, op Op) error {
	u := o.Users[op.Subject]
	dep := o.Deployments[op.Deployment].ID
	q := url.Values{}
	if op.Command != "add" {
		q.Set("deploymentId", dep)
	}
	q.Set("limit", strconv.Itoa(baselinePageSize))
	id := ""
	for offset := 0; ; offset += baselinePageSize {
		q.Set("offset", strconv.Itoa(offset))
		var list struct {
			Users      []astroapi.User `json:"users"`
			TotalCount int             `json:"totalCount"`
		}
		if err := b.call(ctx, http.MethodGet, "/users?"+q.Encode(), nil, &list); err != nil {
			return err
		}
		for _, lu := range list.Users {
			if lu.Username == strings.ToLower(u.Username) {
				id = lu.ID
			}
		}
		if list.TotalCount <= offset+baselinePageSize {
			break
		}
	}
	if id == "" {
		return fmt.Errorf("user %q: no user was found for the email you provided", u.Username)
	}
	var cur astroapi.User
	if err := b.call(ctx, http.MethodGet, "/users/"+url.PathEscape(id), nil, &cur); err != nil {
		return err
	}
	deps, err := editDeploymentRoles(op, "user "+u.Username, dep, cur.DeploymentRoles)
	if err != nil {
		return err
	}
	body := cliRolesRequest{OrganizationRole: cur.OrganizationRole, WorkspaceRoles: cur.WorkspaceRoles, DeploymentRoles: deps}
	return b.call(ctx, http.MethodPost, "/users/"+url.PathEscape(id)+"/roles", body, nil)
}

// teamCommand is `astro deployment team add|update|remove TEAM_ID`: a GET
// of the team and a POST of its roles (cliRolesRequest).
func (b *baseliner) teamCommand(ctx context.Context, o *Org, op Op) error {
	t := o.Teams[op.Subject]
	dep := o.Deployments[op.Deployment].ID
	var cur astroapi.Team
	if err := b.call(ctx, http.MethodGet, "/teams/"+url.PathEscape(t.ID), nil, &cur); err != nil {
		return err
	}
	deps, err := editDeploymentRoles(op, "team "+t.Name, dep, cur.DeploymentRoles)
	if err != nil {
		return err
	}
	body := cliRolesRequest{OrganizationRole: cur.OrganizationRole, WorkspaceRoles: cur.WorkspaceRoles, DeploymentRoles: deps}
	return b.call(ctx, http.MethodPost, "/teams/"+url.PathEscape(t.ID)+"/roles", body, nil)
}

// editDeploymentRoles is the CLI's edit of a user's or team's deployment
// roles: the entry of dep replaced by op's role, or removed.
func editDeploymentRoles(op Op, subject, dep string, roles []astroapi.DeploymentRole) ([]astroapi.DeploymentRole, error) {
	has := slices.ContainsFunc(roles, func(d astroapi.DeploymentRole) bool { return d.DeploymentID == dep })
	if err := checkCommand(op, subject, dep, has); err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(slices.Clone(roles), func(d astroapi.DeploymentRole) bool { return d.DeploymentID == dep })
	if op.Command != "remove" {
		out = append(out, astroapi.DeploymentRole{DeploymentID: dep, Role: op.Role})
	}
	return out, nil
}

// call sends one request; any status but 200 is an error, as in the CLI.
func (b *baseliner) call(ctx context.Context, method, path string, in, out any) error {
	var rd io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+"/organizations/"+b.org+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer bench-credential")
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
