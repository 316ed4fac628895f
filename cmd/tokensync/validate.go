package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/policy"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ValidateCmd is `tokensync validate`.
type ValidateCmd struct {
	Files   []string `short:"f" name:"file" sep:"none" help:"Spec file or directory of *.yaml files, or - for stdin; repeatable." placeholder:"FILE"`
	Offline bool     `help:"Check only the files themselves; contact nothing and need no credential."`
	Policy  []string `type:"path" sep:"none" help:"A file of policies, checked (compiled) with those of the spec files; repeatable." placeholder:"FILE"`
	Globals
}

// Run checks the spec, and unless --offline, resolves it against the API.
func (c *ValidateCmd) Run(ctx context.Context, g *Globals, st *Streams) error {
	if len(c.Files) == 0 {
		return exitWith(exitUsage, "no spec: give -f FILE or -f DIRECTORY")
	}
	sp, err := loadSpec(ctx, c.Files, c.Policy, st.In)
	if err != nil {
		return err
	}
	if _, err := policy.Compile(sp.Policies); err != nil {
		return err
	}
	what := fmt.Sprintf("%d deployment(s), %s in %d file(s)", len(sp.Deployments), entryCounts(sp), len(sp.Files))
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
	fmt.Fprintf(st.Err, "Valid: %s; every reference resolves in organization %s.\n", what, render.Safe(sess.org))
	return nil
}

// entryCounts counts the spec's entries: of tokens, and of users and teams
// when any deployment lists users or teams.
func entryCounts(sp *spec.Spec) string {
	var tokens, users, teams int
	people := false
	for _, d := range sp.Deployments {
		tokens += len(d.WorkspaceTokens) + len(d.OrganizationTokens)
		users += len(d.Users)
		teams += len(d.Teams)
		people = people || d.Listed(spec.KindUser) || d.Listed(spec.KindTeam)
	}
	if !people {
		return fmt.Sprintf("%d token entries", tokens)
	}
	return fmt.Sprintf("%d token entries, %d user entries, %d team entries", tokens, users, teams)
}

// nearMisses warns about roles spelled almost like the built-in deployment
// role: offline, such a name can only be taken for a custom role, and the
// API will say whether one exists.
func nearMisses(st Streams, sp *spec.Spec) {
	warn := func(pos spec.Pos, role string) {
		if role == "" || role == astroapi.RoleDeploymentAdmin {
			return
		}
		if s := spec.Suggest(role, []string{astroapi.RoleDeploymentAdmin}); s != "" {
			fmt.Fprintf(st.Err, "%s: warning: %s\n", pos, st.text(fmt.Sprintf("role %q is not built in, so it must be a custom role of that name (did you mean %q?)", role, s)))
		}
	}
	for _, d := range sp.Deployments {
		for _, e := range append(slices.Clip(d.WorkspaceTokens), d.OrganizationTokens...) {
			warn(e.Pos, e.Role)
		}
		for _, e := range d.Users {
			warn(e.Pos, e.Role)
		}
		for _, e := range d.Teams {
			warn(e.Pos, e.Role)
		}
	}
}
