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
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

// baselinePageSize is the page size the Astro CLI lists tokens with.
const baselinePageSize = 100

// baseline replays the Astro CLI's call pattern (`astro deployment token
// workspace-token add|update|remove`, and organization-token) for ops, one
// command after another, against the API at base: per command, list the
// tokens of the token's workspace (organization tokens: the organization
// tokens) in pages of 100 until the page that holds its name, GET the
// token, edit its role list, POST all of it. No retries, no parallelism,
// like the CLI. It returns how many commands failed and the first failure.
// The CLI's own start-up per command is not counted.
func baseline(ctx context.Context, base string, o *Org, ops []Op) (failed int, first error) {
	b := &baseliner{base: base, org: o.ID, hc: &http.Client{Timeout: 30 * time.Second}}
	for _, op := range ops {
		if ctx.Err() != nil {
			return failed + 1, ctx.Err()
		}
		if err := b.command(ctx, o, op); err != nil {
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

func (b *baseliner) command(ctx context.Context, o *Org, op Op) error {
	t := o.Tokens[op.Token]
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
	roles := tok.Roles
	switch {
	case op.Kind == "add" && i >= 0:
		return fmt.Errorf("token %q already has a role on deployment %s", t.Name, dep)
	case op.Kind == "add":
		roles = append(roles, astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: op.Role})
	case i < 0:
		return fmt.Errorf("token %q has no role on deployment %s", t.Name, dep)
	case op.Kind == "update":
		roles[i].Role = op.Role
	default:
		roles = slices.Delete(roles, i, i+1)
	}
	body := struct {
		Roles []astroapi.Role `json:"roles"`
	}{roles}
	return b.call(ctx, http.MethodPost, "/tokens/"+url.PathEscape(id)+"/roles", body, nil)
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
