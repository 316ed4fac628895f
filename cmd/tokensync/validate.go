package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ValidateCmd is `tokensync validate`.
type ValidateCmd struct {
	Files   []string `short:"f" name:"file" sep:"none" help:"Spec file or directory of *.yaml files, or - for stdin; repeatable." placeholder:"FILE"`
	Offline bool     `help:"Check only the files themselves; contact nothing and need no credential."`
	Globals
}

// Run checks the spec, and unless --offline, resolves it against the API.
func (c *ValidateCmd) Run(ctx context.Context, g *Globals, st *Streams) error {
	if len(c.Files) == 0 {
		return exitWith(exitUsage, "no spec: give -f FILE or -f DIRECTORY")
	}
	sp, err := spec.LoadWith(c.Files, st.In)
	if err != nil {
		return err
	}
	entries := 0
	for _, d := range sp.Deployments {
		entries += len(d.WorkspaceTokens) + len(d.OrganizationTokens)
	}
	what := fmt.Sprintf("%d deployment(s), %d token entries in %d file(s)", len(sp.Deployments), entries, len(sp.Files))
	if c.Offline {
		nearMisses(*st, sp)
		fmt.Fprintf(st.Err, "Valid (offline): %s.\n", what)
		return nil
	}
	sess, err := g.connect(ctx, *st, sp.Organization)
	if err != nil {
		return err
	}
	defer sess.close()
	obs, err := observe(ctx, sess)
	if err != nil {
		return err
	}
	desired, err := sync.Resolve(sp, obs)
	if err != nil {
		return &unresolvedError{org: sess.org, err: err}
	}
	printNotes(*st, desired.Notes)
	fmt.Fprintf(st.Err, "Valid: %s; every reference resolves in organization %s.\n", what, sess.org)
	return nil
}

// nearMisses warns about roles spelled almost like the built-in deployment
// role: offline, such a name can only be taken for a custom role, and the
// API will say whether one exists.
func nearMisses(st Streams, sp *spec.Spec) {
	for _, d := range sp.Deployments {
		for _, e := range append(slices.Clip(d.WorkspaceTokens), d.OrganizationTokens...) {
			if e.Role == "" || e.Role == astroapi.RoleDeploymentAdmin {
				continue
			}
			if s := spec.Suggest(e.Role, []string{astroapi.RoleDeploymentAdmin}); s != "" {
				fmt.Fprintf(st.Err, "%s: warning: role %q is not built in, so it must be a custom role of that name (did you mean %q?)\n", e.Pos, e.Role, s)
			}
		}
	}
}
