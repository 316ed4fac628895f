package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"

	"github.com/tokensync/tokensync/astroapi"
)

// Lister is what Observe needs of the API besides the adapters: the
// organization's workspaces, deployments and roles. *astroapi.Client
// implements it.
type Lister interface {
	Deployments(ctx context.Context, org string, f astroapi.DeploymentFilter) ([]astroapi.Deployment, error)
	Workspaces(ctx context.Context, org string, f astroapi.WorkspaceFilter) ([]astroapi.Workspace, error)
	Roles(ctx context.Context, org string, f astroapi.RoleFilter) (astroapi.Roles, error)
}

// Observe reads what the API says today with organization-wide lists made
// at once (deployments, workspaces, custom roles, and one per family of
// subject), so its cost is a page per 1,000 objects whatever the number of
// deployments a spec names. When the credential may not list the whole
// organization (403), it lists per workspace it can see instead and sets
// Observed.PerWorkspace.
func Observe(ctx context.Context, l Lister, as Adapters, org string) (*Observed, error) {
	obs := &Observed{Organization: org}
	// errs holds one error per list, the families' first: a failed read
	// reports the first error in this order.
	var (
		wg       gosync.WaitGroup
		n        = len(as)
		errs     = make([]error, n+3)
		subjects = make([][]Subject, n)
	)
	for i, ad := range as {
		wg.Go(func() { subjects[i], errs[i] = ad.List(ctx, nil) })
	}
	wg.Go(func() { obs.Deployments, errs[n] = l.Deployments(ctx, org, astroapi.DeploymentFilter{}) })
	wg.Go(func() { obs.Workspaces, errs[n+1] = l.Workspaces(ctx, org, astroapi.WorkspaceFilter{}) })
	wg.Go(func() {
		var roles astroapi.Roles
		roles, errs[n+2] = l.Roles(ctx, org, astroapi.RoleFilter{ScopeTypes: []string{astroapi.ScopeDeployment, astroapi.ScopeDAG}})
		obs.CustomRoles = roles.Custom
	})
	wg.Wait()
	if errs[n+1] == nil && errs[n+2] == nil && anyForbidden(errs) {
		obs, err := observePerWorkspace(ctx, l, as, obs)
		if err == nil {
			intern(obs)
		}
		return obs, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("read organization %s: %w", org, err)
		}
	}
	if all := concat(subjects); len(all) > 0 {
		obs.Subjects = all // nil, as before, when there are none
	}
	intern(obs)
	return obs, nil
}

// intern makes the equal ids and roles of obs's grants one string each:
// the id of a workspace or deployment as its list gives it, a built-in
// role as astroapi names it. Each page decodes its own copy of every id,
// and the planner compares and hashes grants' scopes and roles many
// times: equal strings that share their bytes compare without reading
// them, and the copies are freed.
func intern(obs *Observed) {
	in := make(map[string]string, len(obs.Workspaces)+len(obs.Deployments)+32)
	for _, w := range obs.Workspaces {
		in[w.ID] = w.ID
	}
	for _, d := range obs.Deployments {
		in[d.ID] = d.ID
	}
	for _, r := range astroapi.BuiltinRoles() {
		in[r] = r
	}
	one := func(s *string) {
		if *s == "" {
			return
		}
		if c, ok := in[*s]; ok {
			*s = c
		} else {
			in[*s] = *s
		}
	}
	for i := range obs.Subjects {
		s := &obs.Subjects[i]
		one(&s.Workspace)
		for j := range s.Grants {
			g := &s.Grants[j]
			one(&g.Scope.ID)
			one(&g.Scope.Deployment)
			one(&g.Role)
		}
	}
}

func anyForbidden(errs []error) bool {
	for _, err := range errs {
		if errors.Is(err, astroapi.ErrForbidden) {
			return true
		}
	}
	return false
}

// observePerWorkspace completes obs for a credential confined to some
// workspaces: the deployments of the workspaces it sees, and the subjects
// holding a role in each of them.
func observePerWorkspace(ctx context.Context, l Lister, as Adapters, obs *Observed) (*Observed, error) {
	obs.PerWorkspace = true
	ids := make([]string, 0, len(obs.Workspaces))
	for _, w := range obs.Workspaces {
		ids = append(ids, w.ID)
	}
	obs.Deployments, obs.Subjects = nil, nil
	if len(ids) == 0 {
		return obs, nil
	}
	var err error
	obs.Deployments, err = l.Deployments(ctx, obs.Organization, astroapi.DeploymentFilter{WorkspaceIDs: ids})
	if err != nil {
		return nil, fmt.Errorf("read organization %s per workspace: %w", obs.Organization, err)
	}
	for _, ad := range as {
		subjects, err := ad.List(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("read organization %s per workspace: %w", obs.Organization, err)
		}
		obs.Subjects = append(obs.Subjects, subjects...)
	}
	return obs, nil
}
