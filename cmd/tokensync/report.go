package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/internal/inputfile"
	"github.com/tokensync/tokensync/policy"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ReportCmd is `tokensync report`: read-only, who can touch which
// deployment, and how.
type ReportCmd struct {
	Files       []string `short:"f" name:"file" type:"path" sep:"none" help:"Spec file or directory of *.yaml files, or - for stdin; repeatable (the variable takes one: a directory gives several). Access the spec does not list is marked unmanaged; its policies are checked." placeholder:"FILE"`
	Policy      []string `type:"path" sep:"none" help:"A file of policies (a spec file holding only policies: and production:): their violations on today's access are findings; repeatable." placeholder:"FILE"`
	Output      string   `env:"-" short:"o" enum:"text,markdown,csv,json,html" default:"text" help:"Output format: text, markdown, csv, json or html (one self-contained page)."`
	Out         string   `env:"-" type:"path" help:"Write the report to this file (atomically) instead of stdout." placeholder:"FILE"`
	Indent      bool     `help:"With -o json: indent the document, two spaces a level (by default it is compact, on one line)."`
	Since       string   `type:"existingfile" help:"A previous JSON report (-o json): add who gained or lost access, or changed role, since." placeholder:"REPORT.json"`
	ExpandTeams bool     `help:"List the members of each team as users, with their access via the team (one request per team)."`
	Deployments []string `name:"deployment" sep:"none" help:"Only this deployment: its id, name or workspace/name; repeatable." placeholder:"DEPLOYMENT"`
	Workspaces  []string `name:"workspace" sep:"none" help:"Only the deployments of this workspace: its id or name; repeatable." placeholder:"WORKSPACE"`
	Principals  []string `name:"principal" sep:"none" help:"Only principals whose name or id matches this glob (in any case; * matches any run of characters, / included; see Globs in docs/spec.md); repeatable." placeholder:"GLOB"`
	MinRole     string   `name:"min-role" help:"Only grants of at least this level: dag, view, author, operate or admin, or a role (WORKSPACE_MEMBER, WORKSPACE_AUTHOR, WORKSPACE_OPERATOR, WORKSPACE_OWNER, DEPLOYMENT_ADMIN, ORGANIZATION_OWNER). A custom deployment role is rated from its permissions; one that is not (no permissions, or one not understood) is kept unless --role-level rates it." placeholder:"ROLE"`
	Production  []string `sep:"none" help:"Deployments whose name matches this glob are production (in any case; repeatable; default: the spec's production: globs, or *prod*): marked in every output, their admin paths highlighted in HTML, and what policies call production." placeholder:"GLOB"`
	RoleLevel   []string `name:"role-level" sep:"none" help:"The level of a custom deployment role, as CUSTOM_ROLE=LEVEL (view, author, operate or admin), over the one rated from its permissions (then it is not read); repeatable. A custom role neither rated nor given a level is custom, and --min-role keeps it." placeholder:"ROLE=LEVEL"`
	From        string   `type:"existingfile" help:"Write this saved JSON report (-o json) in the format of -o instead of reading the API: one read, every format, the same snapshot. Needs no credential." placeholder:"REPORT.json"`
	Expiring    string   `help:"A token whose endAt is at most this far ahead (Nd or a duration such as 36h; default 30d) is a finding: expiring." placeholder:"D"`
	Unused      string   `help:"A token last used longer ago than this (default 90d) is a finding: unused." placeholder:"D"`
	Rotated     string   `help:"A token last rotated (or, never rotated, created) longer ago than this (default 180d) is a finding: not rotated." placeholder:"D"`
	FailOn      string   `name:"fail-on" enum:",findings,violations" default:"" help:"Exit 8 after writing the report when it has any finding (findings) or any policy violation (violations): for scheduled audits." placeholder:"findings|violations"`
	Globals
}

// Validate checks the flags' values, so that a bad one is a usage error
// (exit 64) before anything is read.
func (c *ReportCmd) Validate() error {
	_, err := c.filter()
	if _, perr := parseGlobs("--production", slices.DeleteFunc(slices.Clone(c.Production), func(p string) bool { return p == "" })); perr != nil {
		err = errors.Join(err, perr)
	}
	if _, rerr := c.roleLevels(); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if c.From != "" && (len(c.Files) > 0 || len(c.Policy) > 0 || c.ExpandTeams) {
		err = errors.Join(err, errors.New("--from renders a saved report: -f, --policy and --expand-teams apply when the report is made"))
	}
	if _, rerr := c.review(time.Time{}); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if c.From != "" && (c.Expiring != "" || c.Unused != "" || c.Rotated != "") {
		err = errors.Join(err, errors.New("--from renders a saved report: --expiring, --unused and --rotated apply when the report is made"))
	}
	return errors.Join(c.Globals.Validate(), err)
}

// filter is the report's filter, from the flags.
func (c *ReportCmd) filter() (access.Filter, error) {
	f := access.Filter{Deployments: c.Deployments, Workspaces: c.Workspaces}
	principals, err := parseGlobs("--principal", c.Principals)
	if err != nil {
		return f, err
	}
	f.Principals = principals
	for _, ref := range append(slices.Clone(c.Deployments), c.Workspaces...) {
		if ref == "" {
			return f, errors.New("--deployment and --workspace need a name or id, not an empty value")
		}
	}
	if c.MinRole != "" {
		l, err := access.ParseLevel(c.MinRole)
		if err != nil {
			return f, fmt.Errorf("--min-role: %w", err)
		}
		f.MinLevel = l
	}
	return f, nil
}

// roleLevels are the --role-level values, nil without any.
func (c *ReportCmd) roleLevels() (access.RoleLevels, error) {
	if len(c.RoleLevel) == 0 {
		return nil, nil
	}
	m := access.RoleLevels{}
	for _, v := range c.RoleLevel {
		role, l, err := access.ParseRoleLevel(v)
		if err != nil {
			return nil, fmt.Errorf("--role-level %w", err)
		}
		m[role] = l
	}
	return m, nil
}

// review are the thresholds of the token findings, measured from now.
func (c *ReportCmd) review(now time.Time) (access.Review, error) {
	rv := access.DefaultReview(now)
	var errs []error
	for _, f := range []struct {
		flag, value string
		to          *access.Duration
	}{{"--expiring", c.Expiring, &rv.Expiring}, {"--unused", c.Unused, &rv.Unused}, {"--rotated", c.Rotated, &rv.Rotated}} {
		if f.value == "" {
			continue
		}
		d, err := access.ParseDuration(f.value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %w", f.flag, err))
			continue
		}
		*f.to = d
	}
	return rv, errors.Join(errs...)
}

// nowEnv names the environment variable that sets the report's "now"
// (RFC 3339), for tests: findings are measured from it, and it is the
// report's generated_at.
const nowEnv = "TOKENSYNC_NOW"

// now is the time of the report: TOKENSYNC_NOW when set (for tests), else
// the clock.
func reportNow(st *Streams) (time.Time, error) {
	v := st.Getenv(nowEnv)
	if v == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, exitWith(exitUsage, "%s: %q is not an RFC 3339 time", nowEnv, v)
	}
	return t.UTC(), nil
}

// production are the --production patterns.
func (c *ReportCmd) production() []spec.Glob {
	var out []spec.Glob
	for _, p := range c.Production {
		if p != "" {
			out = append(out, spec.Glob(p))
		}
	}
	return out
}

// Run reads the organization (and the spec, when given), or a saved
// report with --from, and writes the report. It writes nothing to the API.
func (c *ReportCmd) Run(ctx context.Context, g *Globals, st *Streams) error {
	if c.Out != "" {
		inputs := append(slices.Concat(c.Files, c.Policy), g.Emulate, g.TokenFile)
		if c.Output != "json" {
			// A JSON report may replace the one it came from or is
			// compared with; another format would lose that snapshot.
			inputs = append(inputs, c.Since, c.From)
		}
		if err := checkReplaceFile("--out", c.Out, st.In, inputs...); err != nil {
			return err
		}
	}
	prev, err := readReportFlag(ctx, "--since", c.Since)
	if err != nil {
		return err
	}
	var r access.Report
	if c.From != "" {
		r, err = c.saved(ctx)
	} else {
		r, err = c.compute(ctx, g, st)
	}
	if err != nil {
		return err
	}
	f, _ := c.filter() // checked by Validate
	byID, bad := reportDeployments(r, f)
	if bad = append(bad, access.Filter{Workspaces: f.Workspaces}.Unmatched(r)...); len(bad) > 0 {
		return exitWith(exitUsage, "%s", strings.Join(bad, "\n"))
	}
	// narrow is the filter --since narrows the previous report by: the
	// deployments by id, which the previous report may name otherwise.
	narrow := filterOf(&r)
	if !f.IsZero() {
		narrow = byID
		r = byID.Apply(r)
		r.Filters = &f
	}
	if f.MinLevel != "" {
		noteUnratedRoles(st, r)
	}
	if prev != nil {
		if prev.Organization != r.Organization {
			fmt.Fprintf(st.Err, "warning: --since %s is a report of organization %s, not %s\n", render.Safe(c.Since), render.Safe(prev.Organization), render.Safe(r.Organization))
		}
		if was, now := filterOf(prev), filterOf(&r); was.String() != now.String() {
			fmt.Fprintf(st.Err, "warning: --since %s was made with %s; comparing it narrowed by %s\n", render.Safe(c.Since), render.Safe(was.String()), render.Safe(now.String()))
		}
		if prev.TeamsExpanded != r.TeamsExpanded {
			with := map[bool]string{true: "with", false: "without"}
			fmt.Fprintf(st.Err, "warning: --since %s was made %s --expand-teams and this report %s: access of team members shows as changed where only the flag did\n", render.Safe(c.Since), with[prev.TeamsExpanded], with[r.TeamsExpanded])
		}
		was := narrow.Apply(*prev)
		r.Since = access.Diff(was, r)
		access.DiffFindings(&was, &r)
	}
	if err := c.write(*st, r); err != nil {
		return err
	}
	return c.failOn(r)
}

// reportDeployments is f with each --deployment value replaced by the id
// of the deployment of r it names, as export names one (exportDeployment):
// by id, workspace/name (the workspace's id or name) or name; and what is
// wrong with each value that names none, or several.
func reportDeployments(r access.Report, f access.Filter) (access.Filter, []string) {
	obs := &sync.Observed{Organization: r.Organization}
	seen := map[string]bool{}
	for _, d := range r.Deployments {
		obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: d.ID, Name: d.Name, WorkspaceID: d.WorkspaceID})
		if !seen[d.WorkspaceID] {
			seen[d.WorkspaceID] = true
			obs.Workspaces = append(obs.Workspaces, astroapi.Workspace{ID: d.WorkspaceID, Name: d.Workspace})
		}
	}
	var problems []string
	byID := f
	byID.Deployments = nil
	for _, ref := range f.Deployments {
		id, problem := exportDeployment(obs, ref)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("--deployment %q: %s", ref, problem))
			continue
		}
		byID.Deployments = append(byID.Deployments, id)
	}
	return byID, problems
}

// failOn is exit 8 when --fail-on asks for it and the report has what it
// names: any finding, or any policy violation.
func (c *ReportCmd) failOn(r access.Report) error {
	n := 0
	for _, f := range r.Findings {
		if c.FailOn == "findings" || (c.FailOn == "violations" && f.Category == access.CategoryPolicy) {
			n++
		}
	}
	if c.FailOn == "" || n == 0 {
		return nil
	}
	what := "finding(s)"
	if c.FailOn == "violations" {
		what = "policy violation(s)"
	}
	return exitWith(exitFindings, "--fail-on %s: the report has %d %s", c.FailOn, n, what)
}

// noteUnratedRoles says which custom roles --min-role kept only because
// their level is unknown, and how to give them one.
func noteUnratedRoles(st *Streams, r access.Report) {
	seen := map[string]bool{}
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			for _, g := range e.Grants {
				if g.Level == access.LevelCustom {
					seen[g.Role] = true
				}
			}
		}
	}
	if len(seen) == 0 {
		return
	}
	roles := slices.Sorted(maps.Keys(seen))
	for i, role := range roles {
		roles[i] = render.Safe(role)
	}
	fmt.Fprintf(st.Err, "note: --min-role keeps the custom role(s) %s: their permissions are unknown; --role-level %s=LEVEL gives one a level\n",
		strings.Join(roles, ", "), roles[0])
}

// maxReportSize caps a saved report (--from, --since): a report of the
// benchmarks' organization R (300 deployments, 6,500 principals, 55,813
// cells) is about 4.8 MB in format 2, and was about 25 MB indented in
// format 1 (about 450 bytes a cell), which --since still reads; an
// organization of 50,000 users and 20,000 tokens on 2,000 deployments
// makes about 600,000 cells, under 300 MB in format 1 indented.
const maxReportSize = 512 << 20

// readReportFlag reads the JSON report a flag names, nil when it names
// none; a file that is not one, cannot be read or is over maxReportSize is
// a usage error.
func readReportFlag(ctx context.Context, flag, path string) (*access.Report, error) {
	if path == "" {
		return nil, nil
	}
	data, err := inputfile.Read(ctx, path, maxReportSize)
	if err != nil {
		return nil, exitWith(exitUsage, "%s %s: %w", flag, path, err)
	}
	r, err := untilDone(ctx, func() (access.Report, error) { return access.Read(data) })
	if err != nil {
		return nil, exitWith(exitUsage, "%s %s: %w", flag, render.Safe(path), err)
	}
	return &r, nil
}

// compute reads the organization and computes its report.
func (c *ReportCmd) compute(ctx context.Context, g *Globals, st *Streams) (access.Report, error) {
	var (
		sp    *spec.Spec
		rules *policy.Set
	)
	if len(c.Files) > 0 || len(c.Policy) > 0 {
		var err error
		if sp, rules, err = policy.Load(ctx, c.Files, c.Policy, st.In); err != nil {
			return access.Report{}, err
		}
	}
	production := c.production()
	if len(c.Production) == 0 {
		production = defaultProduction
		if sp != nil {
			production = sp.ProductionGlobs()
		}
	}
	now, err := reportNow(st)
	if err != nil {
		return access.Report{}, err
	}
	in, violations, err := c.read(ctx, g, *st, sp, rules, production, now)
	if err != nil {
		return access.Report{}, err
	}
	in.Production = production
	rv, _ := c.review(now) // checked by Validate
	in.Review = &rv
	r := access.Compute(in)
	r.TokensyncVersion, r.GeneratedAt = version, now.Format(time.RFC3339)
	r.AddFindings(violationFindings(violations, in.Observed)...)
	return r, nil
}

// defaultProduction marks production deployments without --production.
var defaultProduction = []spec.Glob{"*prod*"}

// saved reads the report of --from: the filter it was made with stays,
// and its production deployments too unless --production is given.
func (c *ReportCmd) saved(ctx context.Context) (access.Report, error) {
	r, err := readReportFlag(ctx, "--from", c.From)
	if err != nil {
		return access.Report{}, err
	}
	if f, _ := c.filter(); r.Filters != nil && !f.IsZero() {
		return access.Report{}, exitWith(exitUsage, "--from %s was made with %s: filter the report it came from instead", render.Safe(c.From), render.Safe(r.Filters.String()))
	}
	if len(c.Production) > 0 {
		r.MarkProduction(c.production())
	}
	if len(c.RoleLevel) > 0 {
		m, _ := c.roleLevels() // checked by Validate
		r.Relevel(m)
	}
	return *r, nil
}

// filterOf is the filter a report was made with.
func filterOf(r *access.Report) access.Filter {
	if r.Filters == nil {
		return access.Filter{}
	}
	return *r.Filters
}

// read observes the organization, resolves the spec against it and, with
// --expand-teams, lists the members of every team.
func (c *ReportCmd) read(ctx context.Context, g *Globals, st Streams, sp *spec.Spec, rules *policy.Set, production []spec.Glob, now time.Time) (access.Input, []policy.Violation, error) {
	sess, err := g.connectSpec(ctx, st, sp)
	if err != nil {
		return access.Input{}, nil, err
	}
	defer sess.close()
	obs, err := observe(ctx, sess)
	if err != nil {
		return access.Input{}, nil, err
	}
	if obs.PerWorkspace {
		fmt.Fprintf(st.Err, "warning: the credential cannot list the whole organization; the report covers the %d workspace(s) it can see\n", len(obs.Workspaces))
	}
	in := access.Input{Observed: obs}
	in.RoleLevels, _ = c.roleLevels() // checked by Validate
	var failed []roleReadError
	in.RolePermissions, failed = customRolePermissions(ctx, sess, obs.CustomRoles, obs.Subjects, in.RoleLevels)
	for _, f := range failed {
		fmt.Fprintf(st.Err, "warning: %v; its level stays unknown (--role-level %s=LEVEL gives one)\n", f, render.Safe(f.role))
	}
	if sp != nil && len(sp.Files) > 0 { // --policy alone is no spec
		desired, err := sync.Resolve(sp, obs)
		if err != nil {
			return access.Input{}, nil, &unresolvedError{org: sess.org, err: err}
		}
		printNotes(st, desired.Notes)
		in.Desired = &desired
	}
	if c.ExpandTeams || (rules != nil && rules.SeesMembers()) {
		if in.Members, err = teamMembers(ctx, sess, obs.Subjects); err != nil {
			return access.Input{}, nil, err
		}
	}
	var violations []policy.Violation
	if rules != nil && len(rules.Rules) > 0 {
		w := policy.World{
			Organization: obs.Organization, Subjects: obs.Subjects, Workspaces: obs.Workspaces, Deployments: obs.Deployments,
			Members: memberIDs(in.Members), Production: production,
			RolePermissions: in.RolePermissions, RoleLevels: in.RoleLevels,
		}
		if in.Desired != nil {
			w.Sources = sources(&sync.Target{Desired: *in.Desired})
		}
		violations = rules.Check(policy.Build(w), now)
	}
	if !c.ExpandTeams {
		in.Members = nil // read for the policies only
	}
	return in, violations, nil
}

// customRolePermissions reads the permissions of each custom deployment
// role that one of subjects holds on a deployment and given does not rate:
// one GET /roles/{id} per role, none when no such role is held. failed
// are the roles that could not be read, in order, with why.
func customRolePermissions(ctx context.Context, sess *session, roles []astroapi.CustomRole, subjects []sync.Subject, given access.RoleLevels) (perms map[string][]string, failed []roleReadError) {
	ids := map[string]string{}
	for _, r := range roles {
		ids[r.Name] = r.ID
	}
	used := map[string]bool{}
	for _, s := range subjects {
		for _, g := range s.Deployments() {
			if _, ok := given[g.Role]; !ok && access.RoleLevel(g.Role) == access.LevelCustom && ids[g.Role] != "" {
				used[g.Role] = true
			}
		}
	}
	if len(used) == 0 {
		return nil, nil
	}
	perms = map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(used)) {
		role, err := sess.client.Role(ctx, sess.org, ids[name])
		if err != nil {
			failed = append(failed, roleReadError{role: name, err: err})
			continue
		}
		perms[name] = role.Permissions
	}
	return perms, failed
}

// roleReadError is a custom role whose permissions could not be read.
type roleReadError struct {
	role string
	err  error
}

func (e roleReadError) Error() string {
	return fmt.Sprintf("read custom role %s: %v", render.Safe(e.role), e.err)
}

// teamMembers lists the members of every team in subjects, at most
// --parallelism at once.
func teamMembers(ctx context.Context, sess *session, subjects []sync.Subject) (map[string][]astroapi.TeamMember, error) {
	var teams []sync.Subject
	for _, s := range subjects {
		if s.Kind == sync.KindTeam {
			teams = append(teams, s)
		}
	}
	members := make([][]astroapi.TeamMember, len(teams))
	errs := make([]error, len(teams))
	slots := make(chan struct{}, max(sess.parallelism, 1))
	var wg gosync.WaitGroup
	for i, t := range teams {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			members[i], errs[i] = sess.client.TeamMembers(ctx, sess.org, t.ID)
		})
	}
	wg.Wait()
	out := make(map[string][]astroapi.TeamMember, len(teams))
	for i, t := range teams {
		if errs[i] != nil {
			return nil, fmt.Errorf("list members of team %s: %w", render.Safe(t.Name), errs[i])
		}
		out[t.ID] = members[i]
	}
	return out, nil
}

// write renders the report to stdout or, with --out, straight into a
// temporary file renamed into place, so the file is never left
// half-written and the report is not held in memory besides.
func (c *ReportCmd) write(st Streams, r access.Report) error {
	write := reportRenderers[c.Output]
	if c.Indent && c.Output == "json" {
		write = render.ReportJSONIndent
	}
	if c.Out == "" {
		var buf bytes.Buffer
		if err := write(&buf, r); err != nil {
			return fmt.Errorf("render report: %w", err)
		}
		_, err := st.Out.Write(buf.Bytes())
		return err
	}
	if err := writeReportFile(c.Out, func(w io.Writer) error { return write(w, r) }); err != nil {
		return err
	}
	fmt.Fprintf(st.Err, "Wrote the access report to %s.\n", render.Safe(c.Out))
	return nil
}

// writeReportFile renders into path as writeAtomic writes; an error names
// path, not the temporary file, and says whether writing or rendering
// failed.
func writeReportFile(path string, render func(io.Writer) error) error {
	err := writeAtomic(path, render)
	var fe *fillError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return fmt.Errorf("render report: %w", fe.err)
	}
	return fmt.Errorf("write report: %w", err)
}

var reportRenderers = map[string]func(io.Writer, access.Report) error{
	"text":     render.ReportText,
	"markdown": render.ReportMarkdown,
	"csv":      render.ReportCSV,
	"json":     render.ReportJSON,
	"html":     render.ReportHTML,
}
