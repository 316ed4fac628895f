package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/policy"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ValidateCmd is `tokensync validate`.
type ValidateCmd struct {
	Files   []string `short:"f" name:"file" type:"path" sep:"none" help:"Spec file or directory of *.yaml files, or - for stdin; repeatable (the variable takes one: a directory gives several)." placeholder:"FILE"`
	Offline bool     `help:"Check only the files themselves; contact nothing and need no credential."`
	Policy  []string `type:"path" sep:"none" help:"A file of policies, checked (compiled) with those of the spec files; repeatable." placeholder:"FILE"`
	Globals
}

// Run checks the spec, and unless --offline, resolves it against the API.
func (c *ValidateCmd) Run(ctx context.Context, g *Globals, st *Streams) error {
	if len(c.Files) == 0 {
		return exitWith(exitUsage, "no spec: give -f FILE or -f DIRECTORY")
	}
	sp, rules, err := policy.Load(ctx, c.Files, c.Policy, st.In)
	if err != nil {
		return err
	}
	// A rule whose files match none of these files is worth a word here,
	// where the config is checked; in plan it would be said again for
	// every team's rule whenever one team's files are planned alone.
	printNotes(*st, rules.Notes)
	what := specSummary(sp)
	if c.Offline {
		nearMisses(*st, sp)
		fmt.Fprintf(st.Err, "Valid (offline): %s.\n", what)
		return nil
	}
	sess, err := g.connectSpec(ctx, *st, sp)
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

// entryLists are the entries of one scope of a spec, and the built-in
// roles of its level when the level also takes custom roles (a near miss
// of one of them passes offline as a custom role); nil otherwise.
type entryLists struct {
	tokens  []spec.TokenEntry
	users   []spec.UserEntry
	teams   []spec.TeamEntry
	people  bool // the scope lists users or teams
	builtin []string
}

// scopeEntries are the entries of every scope of sp, on every level.
func scopeEntries(sp *spec.Spec) []entryLists {
	var out []entryLists
	if o := sp.OrganizationRoles; o != nil {
		out = append(out, entryLists{tokens: o.OrganizationTokens, users: o.Users, teams: o.Teams,
			people: slices.Contains(o.Lists, spec.KindUser) || slices.Contains(o.Lists, spec.KindTeam)})
	}
	for _, w := range sp.Workspaces {
		out = append(out, entryLists{tokens: append(slices.Clip(w.WorkspaceTokens), w.OrganizationTokens...), users: w.Users, teams: w.Teams,
			people: slices.Contains(w.Lists, spec.KindUser) || slices.Contains(w.Lists, spec.KindTeam)})
	}
	for _, d := range sp.Deployments {
		out = append(out, entryLists{tokens: append(slices.Clip(d.WorkspaceTokens), d.OrganizationTokens...), users: d.Users, teams: d.Teams,
			people: d.Listed(spec.KindUser) || d.Listed(spec.KindTeam), builtin: []string{astroapi.RoleDeploymentAdmin, astroapi.RoleDeploymentAccessor}})
		for _, g := range d.Dags {
			out = append(out, entryLists{tokens: append(slices.Clip(g.WorkspaceTokens), g.OrganizationTokens...), users: g.Users, teams: g.Teams,
				people: g.Listed(spec.KindUser) || g.Listed(spec.KindTeam), builtin: astroapi.DAGRoles()})
		}
	}
	return out
}

// specSummary says what sp holds: its scopes on every level, its entries
// (of users and teams only when a scope lists them) and its files.
func specSummary(sp *spec.Spec) string {
	var parts []string
	if sp.OrganizationRoles != nil {
		parts = append(parts, "the organization")
	}
	if n := len(sp.Workspaces); n > 0 {
		parts = append(parts, fmt.Sprintf("%d workspace(s)", n))
	}
	parts = append(parts, fmt.Sprintf("%d deployment(s)", len(sp.Deployments)))
	dags := 0
	for _, d := range sp.Deployments {
		dags += len(d.Dags)
	}
	if dags > 0 {
		parts = append(parts, fmt.Sprintf("%d DAG or DAG tag scope(s)", dags))
	}
	var tokens, users, teams int
	people := false
	for _, e := range scopeEntries(sp) {
		tokens += len(e.tokens)
		users += len(e.users)
		teams += len(e.teams)
		people = people || e.people
	}
	if people {
		parts = append(parts, fmt.Sprintf("%d token entries, %d user entries, %d team entries", tokens, users, teams))
	} else {
		parts = append(parts, fmt.Sprintf("%d token entries", tokens))
	}
	return fmt.Sprintf("%s in %d file(s)", strings.Join(parts, ", "), len(sp.Files))
}

// nearMisses warns about roles spelled almost like a built-in role of a
// level that also takes custom roles: offline, such a name can only be
// taken for a custom role, and the API will say whether one exists.
func nearMisses(st Streams, sp *spec.Spec) {
	warn := func(pos spec.Pos, role string, builtin []string) {
		if role == "" || astroapi.IsBuiltinRole(role) {
			return
		}
		if s := spec.Suggest(role, builtin); s != "" {
			fmt.Fprintf(st.Err, "%s: warning: %s\n", pos, st.text(fmt.Sprintf("role %q is not built in, so it must be a custom role of that name (did you mean %q?)", role, s)))
		}
	}
	for _, e := range scopeEntries(sp) {
		if e.builtin == nil {
			continue
		}
		for _, t := range e.tokens {
			warn(t.RolePos, t.Role, e.builtin)
		}
		for _, u := range e.users {
			warn(u.RolePos, u.Role, e.builtin)
		}
		for _, t := range e.teams {
			warn(t.RolePos, t.Role, e.builtin)
		}
	}
}
