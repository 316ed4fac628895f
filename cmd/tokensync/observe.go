package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/policy"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// engine is the sync engine of the session's organization.
func (s *session) engine() *sync.Engine { return sync.NewEngine(s.client, s.org) }

// observe lists what the API says today.
func observe(ctx context.Context, s *session) (*sync.Observed, error) {
	obs, err := s.engine().Observe(ctx)
	if errors.Is(err, astroapi.ErrNotFound) && s.apiHint != "" {
		return nil, fmt.Errorf("%w\nhint: the Astro API is under /v1: did you mean --api-url %s?", err, s.apiHint)
	}
	if orgNotFound(err, s.client.Redact(url.PathEscape(s.org))) {
		return nil, s.unknownOrganization(err)
	}
	if err == nil && obs.PerWorkspace {
		s.log.Info("the credential may not list the whole organization; listed per workspace instead", "workspaces", len(obs.Workspaces))
	}
	return obs, err
}

// orgNotFound says whether err is the API's 404 for an organization it
// does not know (or that the credential cannot see), told from the 404 of
// another object by its message: `organization "ID" not found`. org is as
// the error's path shows it: escaped for a path, and redacted
// (astroapi.Client.Redact) when the credential shows in it.
func orgNotFound(err error, org string) bool {
	var ae *astroapi.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound {
		return false
	}
	return strings.HasPrefix(ae.Path, "/organizations/"+org+"/") &&
		strings.HasPrefix(ae.Message, "organization ") && strings.HasSuffix(ae.Message, " not found")
}

// unknownOrganization is the error of an organization the API does not
// know, err the API's 404: an error at the place in the spec that names the
// organization when it came from there, else one that says where it came
// from; exit 3 either way, as for any reference that does not resolve.
func (s *session) unknownOrganization(err error) error {
	answer := "the API answers 404"
	var ae *astroapi.Error
	if errors.As(err, &ae) && ae.RequestID != "" {
		answer += ", request " + ae.RequestID
	}
	name := fmt.Sprintf("organization %q", s.org)
	switch {
	case s.orgPos != nil:
		msg := fmt.Sprintf("%s not found, or not visible to this credential (%s)", name, answer)
		return &unresolvedError{org: s.org, err: spec.ErrorList{{Pos: *s.orgPos, Msg: msg, Err: err}}}
	case s.orgFlag:
		name += " (--organization or ASTRO_ORGANIZATION_ID)"
	}
	return exitWith(exitInvalid, "%s not found, or not visible to this credential (%s)", name, answer)
}

// PlanFlags are the flags that shape a plan, shared by plan and apply.
type PlanFlags struct {
	Files       []string `short:"f" name:"file" type:"path" sep:"none" help:"Spec file or directory of *.yaml files, or - for stdin; repeatable (the variable takes one: a directory gives several)." placeholder:"FILE"`
	Prune       bool     `help:"Remove the roles the spec does not list on every scope it manages (the organization, workspaces, deployments and DAGs it lists), of the kinds of principal each scope lists; on the organization level, demote to ORGANIZATION_MEMBER."`
	MaxRemovals int      `default:"20" help:"Refuse a plan with more removals than this (-1: no limit)."`
	Protect     []string `help:"Name or id (glob, in any case) of a token, user or team that must never lose or change a role; repeatable, and added to the globs of TOKENSYNC_PROTECT." placeholder:"NAME"`
	Target      []string `sep:"none" help:"Plan only this scope of the spec: organization, a workspace (id or name; with its deployments), or a deployment (id, name or workspace/name; with its DAGs); repeatable. Prune and the guards then cover these scopes alone." placeholder:"SCOPE"`
	Policy      []string `type:"path" sep:"none" help:"A file of policies (a spec file holding only policies: and production:), checked with those of the spec files; repeatable." placeholder:"FILE"`
	PolicyMode  string   `enum:"enforce,warn" default:"enforce" help:"enforce: a plan whose access would break a policy is refused (exit 4); warn: the violations are listed and the plan goes on."`
}

// protectVariable adds the globs of TOKENSYNC_PROTECT to those --protect
// gave on the command line, which kong takes instead of the variable: a
// protection a CI job sets must not vanish because a run names another.
func (f *PlanFlags) protectVariable(kctx *kong.Context, getenv func(string) string) error {
	given := slices.ContainsFunc(kctx.Path, func(p *kong.Path) bool { return p.Flag != nil && p.Flag.Name == "protect" })
	env := getenv("TOKENSYNC_PROTECT")
	if !given || env == "" {
		return nil
	}
	// Split as kong splits a list: a trailing comma adds no glob.
	globs := trimAll(strings.Split(strings.TrimSuffix(env, ","), ","))
	if _, err := parseGlobs("--protect (from TOKENSYNC_PROTECT)", globs); err != nil {
		return exitWith(exitUsage, "%v", err)
	}
	f.Protect = append(f.Protect, globs...)
	return nil
}

// options are the options of sync.Compute the flags set.
func (f *PlanFlags) options() sync.Options {
	return sync.Options{Prune: f.Prune, MaxRemovals: f.MaxRemovals, Protect: f.Protect}
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
	sp, rules, err := policy.Load(ctx, f.Files, f.Policy, st.In)
	if err != nil {
		return nil, err
	}
	sess, err := g.connectSpec(ctx, st, sp)
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
		return nil, &unresolvedError{org: sess.org, err: err}
	}
	printNotes(st, desired.Notes)
	var partial []sync.ScopeRef
	if len(f.Target) > 0 {
		if desired, partial, err = sync.Only(desired, obs.Workspaces, f.Target); err != nil {
			sess.close()
			return nil, &codeError{code: exitInvalid, err: fmt.Errorf("%w; nothing was written", err)}
		}
	}
	p := sync.Compute(desired, obs, f.options())
	if read, err := readOwnerTeams(ctx, sess, p, obs); err != nil {
		sess.close()
		return nil, err
	} else if read {
		p = sync.Compute(desired, obs, f.options()) // the lockout guard, on what the members are
	}
	p.Partial = partial
	if err := checkPolicies(ctx, sess, sp, rules, f.PolicyMode, obs, &p); err != nil {
		sess.close()
		return nil, err
	}
	return &planned{spec: sp, sess: sess, obs: obs, plan: p}, nil
}

// readOwnerTeams reads the members of the teams that p's lockout guard
// turns on (sync.LockoutTeams) into obs.TeamActive, and says whether it
// read any: a team counts as an owner only with an active member.
func readOwnerTeams(ctx context.Context, sess *session, p sync.Plan, obs *sync.Observed) (bool, error) {
	ids := sync.LockoutTeams(p, obs)
	if len(ids) == 0 {
		return false, nil
	}
	active := make(map[string]bool) // user id → it is active
	var teams []sync.Subject
	for _, s := range obs.Subjects {
		switch {
		case s.Kind == sync.KindUser:
			active[s.ID] = sync.CanAdminister(&s)
		case s.Kind == sync.KindTeam && slices.Contains(ids, s.ID):
			teams = append(teams, s)
		}
	}
	members, err := teamMembers(ctx, sess, teams)
	if err != nil {
		return false, fmt.Errorf("the lockout guard: %w", err)
	}
	for _, ms := range members {
		for _, m := range ms {
			if _, seen := active[m.UserID]; !seen {
				// The lists did not show it (a read per workspace): it
				// counts only if it can be read, and is active.
				u, err := sess.client.User(ctx, sess.org, m.UserID)
				if err != nil && !errors.Is(err, astroapi.ErrNotFound) && !errors.Is(err, astroapi.ErrForbidden) {
					return false, fmt.Errorf("the lockout guard: read a member of a team: %w", err)
				}
				s := sync.UserSubject(u)
				active[m.UserID] = err == nil && sync.CanAdminister(&s)
			}
		}
	}
	if obs.TeamActive == nil {
		obs.TeamActive = make(map[string]bool, len(members))
	}
	for id, ms := range members {
		obs.TeamActive[id] = slices.ContainsFunc(ms, func(m astroapi.TeamMember) bool { return active[m.UserID] })
	}
	return true, nil
}

// printNotes writes what resolving the spec found worth saying but is no
// error, as file:line:col: warning: message and, under GitHub Actions, also
// as warning annotations.
func printNotes(st Streams, notes []sync.Note) {
	gha := st.Getenv("GITHUB_ACTIONS") == "true"
	for _, n := range notes {
		fmt.Fprintf(st.Err, "%s: warning: %s\n", n.Pos, st.text(n.Msg))
		if gha {
			annotate(st, "warning", n.Pos, n.Msg)
		}
	}
}
