package astroapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Tokens lists the organization's API tokens that match f, draining every
// page. With f.DeploymentID (or f.WorkspaceID) the API returns every token
// that holds a role on that deployment (or workspace), whatever its scope.
func (c *Client) Tokens(ctx context.Context, org string, f TokenFilter) ([]Token, error) {
	path, q, err := tokensQuery(org, f)
	if err != nil {
		return nil, err
	}
	return listAll[Token](ctx, c, path, "tokens", q, nil)
}

// TokenPages is Tokens that hands the tokens to each a page at a time, as
// read, and keeps none: a caller that keeps only part of each token holds
// one page of them at a time, not the whole list. An error of each ends
// the list and is returned as it is.
func (c *Client) TokenPages(ctx context.Context, org string, f TokenFilter, each func([]Token) error) error {
	path, q, err := tokensQuery(org, f)
	if err != nil {
		return err
	}
	return listEach(ctx, c, path, "tokens", q, nil, func(items []Token, _ int) error { return each(items) })
}

// tokensQuery is the path and query of the token list that f asks for.
func tokensQuery(org string, f TokenFilter) (string, url.Values, error) {
	path, err := orgPath(org, "tokens")
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
	if f.IncludeOnlyOrganizationTokens {
		q.Set("includeOnlyOrganizationTokens", "true")
	}
	addAll(q, "sorts", f.Sorts)
	return path, q, nil
}

// Token returns one API token. An unknown id gives an error that matches
// ErrNotFound; an answer about another token (or none: null, {}) is an
// error.
func (c *Client) Token(ctx context.Context, org, id string) (Token, error) {
	if err := checkID("token", id); err != nil {
		return Token{}, err
	}
	path, err := orgPath(org, "tokens", id)
	if err != nil {
		return Token{}, err
	}
	var t Token
	if err := c.do(ctx, http.MethodGet, path, nil, nil, &t); err != nil {
		return Token{}, err
	}
	if t.ID != id {
		// A role list is rewritten from this answer: never trust one that
		// is not about the token asked for (null, {}, another token).
		return Token{}, c.scrub(fmt.Errorf("GET %s: the answer is about token %q, not %q", path, sanitize(redactString(t.ID, c.credential), maxMessageLen), id))
	}
	return t, nil
}

// SetTokenRoles replaces the whole role list of a token with roles and
// returns the token's roles as the API answers them. Every role the caller
// wants to keep must be in roles; an empty list is refused before anything
// is sent.
func (c *Client) SetTokenRoles(ctx context.Context, org, id string, roles []Role) (SubjectRoles, error) {
	if err := checkID("token", id); err != nil {
		return SubjectRoles{}, err
	}
	path, err := orgPath(org, "tokens", id, "roles")
	if err != nil {
		return SubjectRoles{}, err
	}
	if len(roles) == 0 {
		return SubjectRoles{}, c.scrub(fmt.Errorf("POST %s: a token needs at least one role", path))
	}
	in := struct {
		Roles []Role `json:"roles"`
	}{roles}
	var sr SubjectRoles
	if err := c.do(ctx, http.MethodPost, path, nil, in, &sr); err != nil {
		return SubjectRoles{}, err
	}
	return sr, nil
}

// Deployments lists the organization's deployments that match f, draining
// every page.
func (c *Client) Deployments(ctx context.Context, org string, f DeploymentFilter) ([]Deployment, error) {
	path, err := orgPath(org, "deployments")
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	addAll(q, "deploymentIds", f.DeploymentIDs)
	addAll(q, "workspaceIds", f.WorkspaceIDs)
	addAll(q, "names", f.Names)
	return listAll[Deployment](ctx, c, path, "deployments", q, nil)
}

// Workspaces lists the organization's workspaces that match f, draining
// every page.
func (c *Client) Workspaces(ctx context.Context, org string, f WorkspaceFilter) ([]Workspace, error) {
	path, err := orgPath(org, "workspaces")
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	addAll(q, "workspaceIds", f.WorkspaceIDs)
	addAll(q, "names", f.Names)
	return listAll[Workspace](ctx, c, path, "workspaces", q, nil)
}

// Roles lists the organization's custom roles that match f, draining every
// page, and, with f.IncludeDefaultRoles, the built-in roles (taken from the
// first page; the API's counts cover custom roles only).
func (c *Client) Roles(ctx context.Context, org string, f RoleFilter) (Roles, error) {
	path, err := orgPath(org, "roles")
	if err != nil {
		return Roles{}, err
	}
	q := url.Values{}
	addAll(q, "scopeTypes", f.ScopeTypes)
	if f.IncludeDefaultRoles {
		q.Set("includeDefaultRoles", "true")
	}
	var defaults []DefaultRole
	custom, err := listAll[CustomRole](ctx, c, path, "roles", q, func(env map[string]json.RawMessage) error {
		raw, ok := env["defaultRoles"]
		if !ok {
			return nil
		}
		return json.Unmarshal(raw, &defaults)
	})
	if err != nil {
		return Roles{}, err
	}
	return Roles{Custom: custom, Default: defaults}, nil
}

// Role returns one custom role with its permissions. An unknown id gives
// an error that matches ErrNotFound; an answer about another role (or
// none) is an error. Built-in roles have no id: their permissions come
// with Roles and IncludeDefaultRoles.
func (c *Client) Role(ctx context.Context, org, id string) (RoleWithPermission, error) {
	return getOne(ctx, c, org, "role", "roles", id, func(r RoleWithPermission) string { return r.ID })
}

// listItem is an item of a list: it has an id, by which listAll detects
// a list that makes no progress and drops later duplicates.
type listItem interface {
	listID() string
}

func (t Token) listID() string      { return t.ID }
func (d Deployment) listID() string { return d.ID }
func (w Workspace) listID() string  { return w.ID }
func (r CustomRole) listID() string { return r.ID }
func (u User) listID() string       { return u.ID }
func (t Team) listID() string       { return t.ID }
func (m TeamMember) listID() string { return m.UserID }

// listAll drains an offset/limit list: it asks for pages of c.pageSize
// items, adding the length of each page to the offset, until a page is
// empty or the offset reaches totalCount. A page may hold fewer items than
// asked for in the middle of a list. key names the envelope's item array;
// first, when not nil, sees the first page's envelope.
//
// A list that does not make progress is refused, whatever totalCount says:
// a page whose items were all seen on earlier pages (a server that ignores
// the offset, or repeats a page), a totalCount or an offset above
// c.maxItems, more than c.maxPages pages. An id seen again on a later page
// (an item that moved while the list was read) is kept where it was first
// seen and dropped later, so every caller gets each item once. An item
// without an id is refused.
func listAll[T listItem](ctx context.Context, c *Client, path, key string, q url.Values, first func(map[string]json.RawMessage) error) ([]T, error) {
	var all []T
	err := listEach(ctx, c, path, key, q, first, func(items []T, capacity int) error {
		if all == nil {
			all = make([]T, 0, capacity)
		}
		all = append(all, items...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// listEach is listAll that hands the new items of each page, in order,
// to each instead of keeping them, with the room the whole list needs as
// the first page and totalCount tell it (see listCapacity). each sees
// every page, the first even when it is empty; its error ends the list
// and is returned as it is.
func listEach[T listItem](ctx context.Context, c *Client, path, key string, q url.Values, first func(map[string]json.RawMessage) error, each func(items []T, capacity int) error) error {
	var (
		seen     map[string]struct{}
		offset   int
		kept     int // items handed to each
		capacity int
	)
	for page := 0; ; page++ {
		if page >= c.maxPages {
			return c.scrub(fmt.Errorf("GET %s: list did not end after %d pages (%d items)", path, page, kept))
		}
		items, total, env, err := listPage[T](ctx, c, path, key, q, offset, page == 0 && first != nil)
		if err != nil {
			return err
		}
		if total > c.maxItems {
			return fmt.Errorf("GET %s: the list claims %d items, more than the %d this client reads", path, total, c.maxItems)
		}
		if page == 0 {
			if first != nil {
				if err := first(env); err != nil {
					return c.scrub(fmt.Errorf("GET %s: decode first page: %w", path, err))
				}
			}
			capacity = listCapacity(len(items), total)
			seen = make(map[string]struct{}, capacity)
		}
		n := len(items)
		fresh := items[:0] // the page's items, each read once: filtered in place
		for i, it := range items {
			id := it.listID()
			if id == "" {
				return fmt.Errorf("GET %s: item %d at offset %d has no id", path, i, offset)
			}
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			fresh = append(fresh, it)
		}
		if n > 0 && len(fresh) == 0 {
			return fmt.Errorf("GET %s: the list does not advance: the page at offset %d holds only items of earlier pages (%d items read)", path, offset, kept)
		}
		kept += len(fresh)
		if err := each(fresh, capacity); err != nil {
			return err
		}
		offset += n
		if n == 0 || (total >= 0 && offset >= total) {
			return nil
		}
		if offset > c.maxItems {
			return fmt.Errorf("GET %s: list did not end after %d items, more than the %d this client reads", path, offset, c.maxItems)
		}
	}
}

// listPage reads the page at offset of the list at path: its items under
// key, its totalCount (-1 when the answer has none) and, when withEnv, the
// envelope's other fields (for listAll's first).
func listPage[T listItem](ctx context.Context, c *Client, path, key string, q url.Values, offset int, withEnv bool) (items []T, total int, env map[string]json.RawMessage, err error) {
	pq := make(url.Values, len(q)+2)
	for k, v := range q {
		pq[k] = v
	}
	pq.Set("offset", strconv.Itoa(offset))
	pq.Set("limit", strconv.Itoa(c.pageSize))
	p := &page[T]{key: key, withEnv: withEnv}
	if err := c.do(ctx, http.MethodGet, path, pq, nil, p); err != nil {
		return nil, 0, nil, err
	}
	switch {
	case p.missing:
		return nil, 0, nil, c.scrub(fmt.Errorf("GET %s: response has no %q field", path, key))
	case p.itemsErr != nil:
		return nil, 0, nil, c.scrub(fmt.Errorf("GET %s: decode %q at offset %d: %w", path, key, offset, p.itemsErr))
	case p.totalErr != nil:
		return nil, 0, nil, c.scrub(fmt.Errorf("GET %s: decode %q at offset %d: %w", path, "totalCount", offset, p.totalErr))
	}
	return p.items, p.total, p.env, nil
}

// orgPath builds /organizations/{org}/{parts...}, escaping every part.
func orgPath(org string, parts ...string) (string, error) {
	if err := checkID("organization", org); err != nil {
		return "", err
	}
	path := "/organizations/" + url.PathEscape(org)
	for _, p := range parts {
		path += "/" + url.PathEscape(p)
	}
	return path, nil
}

// checkID refuses ids that would change the meaning of a path.
func checkID(what, id string) error {
	switch id {
	case "":
		return fmt.Errorf("%s id is empty", what)
	case ".", "..":
		return fmt.Errorf("%s id %q is not valid", what, id)
	}
	return nil
}

func addAll(q url.Values, key string, values []string) {
	for _, v := range values {
		q.Add(key, v)
	}
}
