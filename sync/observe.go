package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"

	"github.com/tokensync/tokensync/astroapi"
)

// Lister is what Observe needs of the API: the organization's lists.
// *astroapi.Client implements it.
type Lister interface {
	Tokens(ctx context.Context, org string, f astroapi.TokenFilter) ([]astroapi.Token, error)
	Deployments(ctx context.Context, org string, f astroapi.DeploymentFilter) ([]astroapi.Deployment, error)
	Workspaces(ctx context.Context, org string, f astroapi.WorkspaceFilter) ([]astroapi.Workspace, error)
	Roles(ctx context.Context, org string, f astroapi.RoleFilter) (astroapi.Roles, error)
}

// Observe reads what the API says today with four organization-wide lists
// made at once, so its cost is a page per 1,000 objects whatever the number
// of deployments a spec names. When the credential may not list the whole
// organization (403), it lists per workspace it can see instead and sets
// Observed.PerWorkspace.
func Observe(ctx context.Context, l Lister, org string) (*Observed, error) {
	obs := &Observed{Organization: org}
	var (
		wg   gosync.WaitGroup
		errs [4]error
	)
	wg.Go(func() { obs.Tokens, errs[0] = l.Tokens(ctx, org, astroapi.TokenFilter{}) })
	wg.Go(func() { obs.Deployments, errs[1] = l.Deployments(ctx, org, astroapi.DeploymentFilter{}) })
	wg.Go(func() { obs.Workspaces, errs[2] = l.Workspaces(ctx, org, astroapi.WorkspaceFilter{}) })
	wg.Go(func() {
		var roles astroapi.Roles
		roles, errs[3] = l.Roles(ctx, org, astroapi.RoleFilter{ScopeTypes: []string{astroapi.ScopeDeployment}})
		obs.CustomRoles = roles.Custom
	})
	wg.Wait()
	if errs[3] == nil && errs[2] == nil && (errors.Is(errs[0], astroapi.ErrForbidden) || errors.Is(errs[1], astroapi.ErrForbidden)) {
		return observePerWorkspace(ctx, l, obs)
	}
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("read organization %s: %w", org, err)
		}
	}
	return obs, nil
}

// observePerWorkspace completes obs for a credential confined to some
// workspaces: the deployments of the workspaces it sees, and the tokens
// holding a role in each of them.
func observePerWorkspace(ctx context.Context, l Lister, obs *Observed) (*Observed, error) {
	obs.PerWorkspace = true
	ids := make([]string, 0, len(obs.Workspaces))
	for _, w := range obs.Workspaces {
		ids = append(ids, w.ID)
	}
	var err error
	if len(ids) > 0 {
		obs.Deployments, err = l.Deployments(ctx, obs.Organization, astroapi.DeploymentFilter{WorkspaceIDs: ids})
		if err != nil {
			return nil, fmt.Errorf("read organization %s per workspace: %w", obs.Organization, err)
		}
	}
	seen := map[string]bool{}
	obs.Tokens = nil
	for _, id := range ids {
		tokens, err := l.Tokens(ctx, obs.Organization, astroapi.TokenFilter{WorkspaceID: id})
		if err != nil {
			return nil, fmt.Errorf("read tokens of workspace %s: %w", id, err)
		}
		for _, t := range tokens {
			if !seen[t.ID] {
				seen[t.ID] = true
				obs.Tokens = append(obs.Tokens, t)
			}
		}
	}
	return obs, nil
}
