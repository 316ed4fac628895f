package sync

import (
	"context"
	"fmt"
	gosync "sync"

	"github.com/tokensync/tokensync/astroapi"
)

// Lister is what Observe needs of the API: the organization-wide lists.
// *astroapi.Client implements it.
type Lister interface {
	Tokens(ctx context.Context, org string, f astroapi.TokenFilter) ([]astroapi.Token, error)
	Deployments(ctx context.Context, org string, f astroapi.DeploymentFilter) ([]astroapi.Deployment, error)
	Workspaces(ctx context.Context, org string, f astroapi.WorkspaceFilter) ([]astroapi.Workspace, error)
	Roles(ctx context.Context, org string, f astroapi.RoleFilter) (astroapi.Roles, error)
}

// Observe reads what the API says today with four organization-wide lists
// made at once, so its cost is a page per 1,000 objects whatever the number
// of deployments a spec names.
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
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("read organization %s: %w", org, err)
		}
	}
	return obs, nil
}
