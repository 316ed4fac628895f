package main

import (
	"context"
	"fmt"

	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ValidateCmd is `tokensync validate`.
type ValidateCmd struct {
	Files   []string `short:"f" name:"file" sep:"none" help:"Spec file or directory of *.yaml files; repeatable." placeholder:"FILE"`
	Offline bool     `help:"Check only the files themselves; contact nothing and need no credential."`
}

// Run checks the spec, and unless --offline, resolves it against the API.
func (c *ValidateCmd) Run(ctx context.Context, g *Globals, st *Streams) error {
	if len(c.Files) == 0 {
		return exitWith(exitUsage, "no spec: give -f FILE or -f DIRECTORY")
	}
	sp, err := spec.Load(c.Files)
	if err != nil {
		return err
	}
	entries := 0
	for _, d := range sp.Deployments {
		entries += len(d.WorkspaceTokens) + len(d.OrganizationTokens)
	}
	what := fmt.Sprintf("%d deployment(s), %d token entries in %d file(s)", len(sp.Deployments), entries, len(sp.Files))
	if c.Offline {
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
