package main

import (
	"context"
	"fmt"
	gosync "sync"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// observe lists what the API says today with org-wide lists, all at once:
// one page of 1,000 per call, whatever the number of deployments named.
func observe(ctx context.Context, s *session) (*sync.Observed, error) {
	obs := &sync.Observed{Organization: s.org}
	var (
		wg   gosync.WaitGroup
		errs [4]error
	)
	wg.Go(func() { obs.Tokens, errs[0] = s.client.Tokens(ctx, s.org, astroapi.TokenFilter{}) })
	wg.Go(func() { obs.Deployments, errs[1] = s.client.Deployments(ctx, s.org, astroapi.DeploymentFilter{}) })
	wg.Go(func() { obs.Workspaces, errs[2] = s.client.Workspaces(ctx, s.org, astroapi.WorkspaceFilter{}) })
	wg.Go(func() {
		var roles astroapi.Roles
		roles, errs[3] = s.client.Roles(ctx, s.org, astroapi.RoleFilter{ScopeTypes: []string{"DEPLOYMENT"}})
		obs.CustomRoles = roles.Custom
	})
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("read organization %s: %w", s.org, err)
		}
	}
	return obs, nil
}

// PlanFlags are the flags that shape a plan, shared by plan and apply.
type PlanFlags struct {
	Files       []string `short:"f" name:"file" type:"path" sep:"none" help:"Spec file or directory of *.yaml files; repeatable." placeholder:"FILE"`
	Prune       bool     `help:"Remove assignments on managed deployments that the spec does not list."`
	MaxRemovals int      `default:"20" help:"Refuse a plan with more removals than this (-1: no limit)."`
	Protect     []string `help:"Token name or id (glob) that must never lose or change a role; repeatable." placeholder:"TOKEN"`
}

// planned is everything a plan was made from.
type planned struct {
	spec *spec.Spec
	sess *session
	obs  *sync.Observed
	plan sync.Plan
}

// makePlan reads the spec, and only if it is valid, contacts the API,
// resolves the spec and computes the plan. The caller closes p.sess.
func (f *PlanFlags) makePlan(ctx context.Context, g *Globals, st Streams) (*planned, error) {
	if len(f.Files) == 0 {
		return nil, exitWith(exitUsage, "no spec: give -f FILE or -f DIRECTORY")
	}
	sp, err := spec.Load(f.Files)
	if err != nil {
		return nil, err
	}
	sess, err := g.connect(ctx, st, sp.Organization)
	if err != nil {
		return nil, err
	}
	obs, err := observe(ctx, sess)
	if err != nil {
		sess.close()
		return nil, err
	}
	desired, err := sync.Resolve(sp, obs)
	if err != nil {
		sess.close()
		return nil, err
	}
	p := sync.Compute(desired, obs, sync.Options{Prune: f.Prune, MaxRemovals: f.MaxRemovals, Protect: f.Protect})
	return &planned{spec: sp, sess: sess, obs: obs, plan: p}, nil
}
