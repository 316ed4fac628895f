package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/internal/inputfile"
	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ApplyCmd is `tokensync apply`.
type ApplyCmd struct {
	PlanFlags
	SavedPlan string `arg:"" optional:"" name:"PLAN.json" type:"path" help:"Apply this saved plan (from 'plan --out') instead of planning now."`
	DryRun    bool   `help:"Plan and show the changes, write nothing."`
	Output    string `env:"-" short:"o" enum:"text,json" default:"text" help:"Result format: text, or json (a versioned result document on stdout; the plan and the text result then go to stderr)."`
	Yes       bool   `short:"y" help:"Apply without asking; required when not run from a terminal."`
	AuditLog  string `type:"path" help:"Append one JSON line per subject apply writes (or tries to) to this file, created with mode 0600." placeholder:"FILE"`
	Globals

	// maxRemovalsGiven says --max-removals (or its environment variable)
	// was given: a saved plan is then held to it, and otherwise to the
	// limit it was planned with.
	maxRemovalsGiven bool
	// policyModeGiven says --policy-mode (or its environment variable) was
	// given: a saved plan cannot honour it.
	policyModeGiven bool
	// savedSpec is the spec -f gave with a saved plan, once its digest
	// matched the plan's.
	savedSpec *spec.Spec
	// planned is the plan apply got as far as (made, or read from the
	// saved plan), and org its organization; documented says -o json
	// printed the result document. Once there is a plan, -o json prints
	// one however apply ends (see Run).
	planned    *sync.Plan
	org        string
	documented bool
}

// Run plans (or reads a saved plan), asks, applies and verifies.
func (c *ApplyCmd) Run(ctx context.Context, g *Globals, st *Streams, kctx *kong.Context) (err error) {
	defer c.documentFailure(st, &err)
	c.maxRemovalsGiven = flagGiven(kctx, "max-removals")
	c.policyModeGiven = flagGiven(kctx, "policy-mode")
	if err := c.protectVariable(kctx, st.Getenv); err != nil {
		return err
	}
	if !c.Yes && !c.DryRun && !st.InTTY {
		return exitWith(exitUsage, "apply needs --yes when not run from a terminal; nothing was written")
	}
	if !c.Yes && !c.DryRun && slices.Contains(c.Files, "-") {
		return exitWith(exitUsage, "apply -f - needs --yes: stdin holds the spec, not the answer; nothing was written")
	}
	if c.AuditLog != "" {
		if err := checkOutFile("--audit-log", c.AuditLog); err != nil {
			return err
		}
		// Appended to, not replaced: still not a file the command reads.
		if err := checkNotInput("--audit-log", c.AuditLog, c.AuditLog, st.In, append(slices.Concat(c.Files, c.Policy), c.SavedPlan, g.Emulate, g.TokenFile)); err != nil {
			return err
		}
	}
	p, sess, err := c.plan(ctx, g, *st)
	if err != nil {
		return err
	}
	defer sess.close()
	c.planned, c.org = &p, sess.org
	savedPlan := c.SavedPlan != ""

	planOut, planTTY := st.Out, st.OutTTY
	if c.Output == "json" { // stdout is the result document's alone
		planOut, planTTY = st.Err, st.ErrTTY
	}
	show := render.Text
	if savedPlan {
		show = render.SavedText
	}
	if err := show(planOut, p, g.colour(*st, planTTY)); err != nil {
		return err
	}
	switch {
	case p.Refused():
		o := sync.Outcome{Result: sync.Unstarted(p, nil)}
		o.Refused = true
		return c.nothingWritten(*st, sess.org, o, exitWith(exitRefused, "a guard refused the plan; nothing was written"))
	case len(p.Changes) == 0:
		return c.nothingWritten(*st, sess.org, sync.Outcome{}, nil)
	case c.DryRun && savedPlan:
		fmt.Fprintln(st.Err, "Dry run: the plan is current; nothing was written.")
	case c.DryRun:
		fmt.Fprintln(st.Err, "Dry run: nothing was written.")
	default:
		return c.execute(ctx, g, *st, sess, p)
	}
	return c.nothingWritten(*st, sess.org, sync.Outcome{Result: sync.Unstarted(p, nil)}, nil)
}

// documentFailure gives a script reading -o json a document whenever
// apply got as far as a plan and ends with *err before it printed one: a
// declined prompt, a read before the first write that failed, a saved
// plan refused for another organization or spec. Every principal of the
// plan is then not started.
func (c *ApplyCmd) documentFailure(st *Streams, err *error) {
	if *err != nil && c.planned != nil {
		*err = c.nothingWritten(*st, c.org, sync.Outcome{Result: sync.Unstarted(*c.planned, nil)}, *err)
	}
}

// nothingWritten ends an apply that wrote nothing (no changes, a dry run,
// a refused or stale plan) with err: with -o json it first writes the
// result document of o, so that stdout holds one whatever the outcome.
func (c *ApplyCmd) nothingWritten(st Streams, org string, o sync.Outcome, err error) error {
	if c.Output != "json" || c.documented {
		return err
	}
	c.documented = true
	if werr := render.ApplyJSON(st.Out, o, org, version); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// execute asks, then applies and verifies the plan p, with progress on
// stderr and each finished subject in the audit log.
func (c *ApplyCmd) execute(ctx context.Context, g *Globals, st Streams, sess *session, p sync.Plan) error {
	if err := c.confirm(ctx, st); err != nil {
		return err
	}
	if err := c.recheck(ctx, st, sess, p); err != nil {
		return err
	}
	// Opened once writes are about to start: a declined prompt leaves no
	// file behind (Run checked that it can be written).
	audit, err := c.openAuditLog(sess.org)
	if err != nil {
		return err
	}
	defer audit.close()

	prog := render.NewProgress(st.Err, st.smart(st.ErrTTY), len(subjectsOf(p)))
	// A write that the audit log cannot record stops the apply: the writes
	// in flight finish, and no other starts.
	applying, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	o := sess.engine().Execute(applying, p, sync.ApplyOptions{
		Parallelism:         c.Parallelism,
		RequireFingerprints: c.SavedPlan != "",
		Protect:             c.Protect,
		MaxRemovals:         c.MaxRemovals,
		Progress: func(r sync.SubjectResult) {
			prog.Done(r)
			if err := audit.done(r); err != nil {
				stop(err)
			}
		},
	})
	prog.Finish()
	if len(o.Stale) > 0 {
		refs := make([]sync.SubjectRef, len(o.Stale))
		for i, r := range o.Stale {
			refs[i] = r.Subject
		}
		return c.nothingWritten(st, sess.org, o, staleError(st, refs))
	}
	if err := c.show(st, sess.org, o); err != nil {
		return err
	}
	if err := audit.close(); err != nil {
		return errors.Join(err, applyExit(ctx, o, c.SavedPlan != ""))
	}
	return applyExit(ctx, o, c.SavedPlan != "")
}

// recheck checks again, right before the first write, the guards of p
// that count subjects p does not change (sync.CountsEveryone), on a fresh
// read of the organization: another writer may have taken the other
// owner's role while the plan was shown or the prompt waited. A saved plan
// applied with --yes was checked on such a read a moment ago.
func (c *ApplyCmd) recheck(ctx context.Context, st Streams, sess *session, p sync.Plan) error {
	if !sync.CountsEveryone(p) || (c.SavedPlan != "" && c.Yes) {
		return nil
	}
	obs, err := observe(ctx, sess)
	if err != nil {
		return fmt.Errorf("%w; nothing was written", err)
	}
	if _, err := readOwnerTeams(ctx, sess, p, obs); err != nil {
		return fmt.Errorf("%w; nothing was written", err)
	}
	refused := sync.RecheckSaved(p, obs)
	if len(refused) == 0 {
		return nil
	}
	for _, g := range refused {
		fmt.Fprintf(st.Err, "Refused by guard %s: %s\n", g.Name, st.text(g.Message))
	}
	o := sync.Outcome{Result: sync.Unstarted(p, nil)}
	o.Refused = true
	return c.nothingWritten(st, sess.org, o, exitWith(exitRefused, "a guard refused the plan right before the first write; nothing was written"))
}

// plan reads the saved plan, or makes one; the caller closes the session.
func (c *ApplyCmd) plan(ctx context.Context, g *Globals, st Streams) (sync.Plan, *session, error) {
	if c.SavedPlan == "" {
		pl, err := c.makePlan(ctx, g, st)
		if err != nil {
			return sync.Plan{}, nil, err
		}
		return pl.plan, pl.sess, nil
	}
	if len(c.Target) > 0 {
		return sync.Plan{}, nil, exitWith(exitUsage, "--target cannot narrow a saved plan: give --target to the plan that made it; nothing was written")
	}
	if len(c.Policy) > 0 {
		return sync.Plan{}, nil, exitWith(exitUsage, "--policy checks a plan as it is made, and a saved plan records the verdict: give --policy to the plan that made it; nothing was written")
	}
	if c.policyModeGiven {
		return sync.Plan{}, nil, exitWith(exitUsage, "--policy-mode decides on a plan's policies as it is made, and a saved plan records the verdict: give --policy-mode to the plan that made it; nothing was written")
	}
	doc, err := c.readSavedPlan(ctx, st.In)
	if err != nil {
		return sync.Plan{}, nil, err
	}
	if c.Prune && !doc.Options.Prune {
		return sync.Plan{}, nil, exitWith(exitUsage, "--prune cannot widen a saved plan: %s was planned without --prune; run plan --prune again; nothing was written", render.Safe(c.SavedPlan))
	}
	sess, err := g.connect(ctx, st, doc.Organization)
	if err != nil {
		return sync.Plan{}, nil, err
	}
	if sess.emulated != "" && !sess.orgFlag && sess.emulated != doc.Organization {
		// The saved plan names its organization, which the emulated state
		// does not hold: the state's organization is the one meant.
		sess.close()
		return sync.Plan{}, nil, exitWith(exitStale, "the plan %s belongs to organization %s, not %s (the organization of the --emulate state); nothing was written", render.Safe(c.SavedPlan), render.Safe(doc.Organization), render.Safe(sess.emulated))
	}
	if sess.org != doc.Organization {
		sess.close()
		return sync.Plan{}, nil, exitWith(exitStale, "the plan %s belongs to organization %s, not %s; nothing was written", render.Safe(c.SavedPlan), render.Safe(doc.Organization), render.Safe(sess.org))
	}
	p := *c.planned
	// The subjects the plan was made to protect stay protected when it is
	// written, besides those --protect adds now: a subject another writer
	// changed since is not written where that would change its roles.
	c.Protect = append(slices.Clone(doc.Options.Protect), c.Protect...)
	if !c.maxRemovalsGiven {
		c.MaxRemovals = doc.Options.MaxRemovals // also what Execute holds the writes to
	}
	opts := c.options()
	p.Guards = append(p.Guards, sync.CheckSaved(p, opts)...)
	if err := c.checkNow(ctx, st, sess, &p); err != nil {
		sess.close()
		return sync.Plan{}, nil, err
	}
	return p, sess, nil
}

// checkNow reads the organization once for a saved plan p with changes:
// every subject it changes must hold what it held then (stale, exit 5),
// the plan must hold together (exit 5 too), and the guards that count
// everyone else are checked again on that read (added to p's guards).
func (c *ApplyCmd) checkNow(ctx context.Context, st Streams, sess *session, p *sync.Plan) error {
	if len(p.Changes) == 0 {
		return nil
	}
	obs, err := observe(ctx, sess)
	if err != nil {
		return err
	}
	if stale := sync.Stale(*p, obs.Subjects); len(stale) > 0 {
		return c.nothingWritten(st, sess.org, sync.Outcome{Result: sync.Unstarted(*p, stale)}, staleError(st, stale))
	}
	if bad := sync.Inconsistent(*p, obs); len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintf(st.Err, "  %s\n", st.text(b))
		}
		// An edited file, or a change the fingerprints leave out (a
		// WORKSPACE_ACCESSOR, a rename): either way a new plan is the cure.
		return exitWith(exitStale, "the plan %s does not hold together on the organization as it is now: what it would write is not what it shows for %d principal(s) (the file was edited, or the organization changed where the plan's fingerprints do not look); nothing was written; run plan again", render.Safe(c.SavedPlan), len(bad))
	}
	if err := c.madeFromSpec(*p, obs); err != nil {
		return err
	}
	if _, err := readOwnerTeams(ctx, sess, *p, obs); err != nil {
		return err
	}
	p.Guards = append(p.Guards, sync.RecheckSaved(*p, obs)...)
	return nil
}

// errText is err's message, or "" for none.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// madeFromSpec checks, when -f gave the spec a saved plan p was made
// from, that p's target is what those files make of the organization
// now (obs): the digest binds the plan to the files, this binds the
// target apply writes to them.
func (c *ApplyCmd) madeFromSpec(p sync.Plan, obs *sync.Observed) error {
	if c.savedSpec == nil {
		return nil
	}
	d, err := sync.Resolve(c.savedSpec, obs)
	if err == nil && len(p.Partial) > 0 {
		targets := make([]string, len(p.Partial))
		for i, r := range p.Partial {
			targets[i] = r.ID
			if r.Level == sync.LevelOrganization {
				targets[i] = "organization"
			}
		}
		d, _, err = sync.Only(d, obs.Workspaces, targets)
	}
	why := ""
	if err == nil {
		why = sync.TargetDiffers(sync.Compute(d, obs, sync.Options{Prune: p.Target != nil && p.Target.Prune, MaxRemovals: -1}).Target, p.Target)
	}
	if err != nil || why != "" {
		return exitWith(exitStale, "the plan %s is not what %s make of the organization now (%s); nothing was written; run plan again",
			render.Safe(c.SavedPlan), render.Safe(strings.Join(c.Files, ", ")), render.Safe(cmp.Or(why, errText(err))))
	}
	return nil
}

// flagGiven reports whether the flag name was given on the command line
// or through one of its environment variables, rather than left at its
// default.
func flagGiven(kctx *kong.Context, name string) bool {
	for _, p := range kctx.Path {
		if p.Flag != nil && p.Flag.Name == name {
			return true
		}
	}
	for _, f := range kctx.Flags() {
		if f.Name == name {
			_, set := variableOf(f)
			return set
		}
	}
	return false
}

// staleError lists the tokens changed since a saved plan and refuses it.
func staleError(st Streams, stale []sync.SubjectRef) error {
	render.Stale(st.Err, stale)
	return exitWith(exitStale, "the plan is stale: %d principal(s) changed since it was made; nothing was written; run plan again", len(stale))
}

// readSavedPlan reads the saved plan and, when -f is also given, checks it
// was made from those files.
func (c *ApplyCmd) readSavedPlan(ctx context.Context, stdin io.Reader) (planfile.Document, error) {
	data, err := inputfile.Read(ctx, c.SavedPlan, planfile.MaxSize)
	if err != nil {
		return planfile.Document{}, exitWith(exitUsage, "read plan %s: %w; nothing was written", render.Safe(c.SavedPlan), err)
	}
	doc, err := untilDone(ctx, func() (planfile.Document, error) { return planfile.Read(bytes.NewReader(data)) })
	if err != nil && ctx.Err() != nil {
		return planfile.Document{}, fmt.Errorf("read plan %s: %w; nothing was written", render.Safe(c.SavedPlan), err)
	}
	if err != nil {
		hint := ""
		if isSpecFileName(c.SavedPlan) {
			hint = fmt.Sprintf(" (a spec file is given with -f: tokensync apply -f %s)", render.Safe(c.SavedPlan))
		}
		return planfile.Document{}, exitWith(exitInvalid, "%s is not a tokensync plan (from 'tokensync plan --out'): %w; nothing was written%s", render.Safe(c.SavedPlan), err, hint)
	}
	p := doc.Plan()
	c.planned, c.org = &p, doc.Organization // -o json prints a document from here on
	if err := doc.Counted(); err != nil {
		return planfile.Document{}, exitWith(exitStale, "the plan %s does not hold together: %w (the file was edited); nothing was written; run plan again", render.Safe(c.SavedPlan), err)
	}
	if len(c.Files) > 0 {
		sp, err := spec.LoadContext(ctx, c.Files, stdin)
		if err != nil {
			return planfile.Document{}, err
		}
		if sp.Digest != doc.Spec.Digest {
			return planfile.Document{}, exitWith(exitStale, "the plan %s was made from other spec files, or another version of them (their names and contents are compared); nothing was written; run plan again", render.Safe(c.SavedPlan))
		}
		c.savedSpec = sp
	}
	return doc, nil
}

// auditLog is apply's --audit-log file, or nothing without the flag.
type auditLog struct {
	f   *os.File
	log *render.AuditLog
}

// openAuditLog opens the --audit-log file for appending, before anything
// is written, so that a file that cannot be opened refuses the apply.
func (c *ApplyCmd) openAuditLog(org string) (*auditLog, error) {
	if c.AuditLog == "" {
		return &auditLog{}, nil
	}
	// O_NONBLOCK: a named pipe that no one reads is refused at once (ENXIO)
	// instead of blocking the open, where no interrupt could end it.
	f, err := os.OpenFile(c.AuditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o600)
	if errors.Is(err, syscall.ENXIO) {
		return nil, exitWith(exitUsage, "open the audit log %s: a named pipe that no process reads; nothing was written", c.AuditLog)
	}
	if err != nil {
		return nil, exitWith(exitUsage, "open the audit log: %w; nothing was written", err)
	}
	return &auditLog{f: f, log: render.NewAuditLog(f, org, nil)}, nil
}

// done writes r's line, and returns the first error of any line written
// so far: then the log is no longer complete.
func (a *auditLog) done(r sync.SubjectResult) error {
	if a.log == nil {
		return nil
	}
	a.log.Done(r)
	return a.log.Err()
}

// close closes the file and says whether every line was written; it may
// be called again.
func (a *auditLog) close() error {
	if a.f == nil {
		return nil
	}
	name := a.f.Name()
	err := errors.Join(a.log.Err(), a.f.Close())
	a.f = nil
	if err != nil {
		return fmt.Errorf("audit log %s is incomplete: %w", render.Safe(name), err)
	}
	return nil
}

// confirm asks on a terminal unless --yes (Run refused already when
// there is no terminal). An interrupt at the prompt cancels at once.
func (c *ApplyCmd) confirm(ctx context.Context, st Streams) error {
	if c.Yes {
		return nil
	}
	fmt.Fprint(st.Err, "\nApply these changes? Only 'yes' will be accepted: ")
	type answer struct {
		line string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		// Left blocked on a terminal that never answers: the process ends.
		line, err := bufio.NewReader(st.In).ReadString('\n')
		answered <- answer{line, err}
	}()
	var a answer
	select {
	case a = <-answered:
	case <-ctx.Done():
		fmt.Fprintln(st.Err)
		return exitWith(exitError, "apply cancelled; nothing was written")
	}
	if a.err != nil && !errors.Is(a.err, io.EOF) {
		return fmt.Errorf("read the answer: %w", a.err)
	}
	if strings.TrimSpace(a.line) != "yes" {
		return exitWith(exitError, "apply cancelled; nothing was written")
	}
	return nil
}

// show writes the outcome of an apply in the chosen format. With -o json
// the text goes to stderr, summary included: a CI log shows a failed
// verification read or a write that failed whichever format a script reads.
func (c *ApplyCmd) show(st Streams, org string, o sync.Outcome) error {
	if c.Output == "json" {
		c.documented = true
		if err := render.ApplyText(st.Err, st.Err, o); err != nil {
			return err
		}
		return render.ApplyJSON(st.Out, o, org, version)
	}
	return render.ApplyText(st.Out, st.Err, o)
}

// applyExit decides the exit code of an apply from its outcome, of a
// saved plan when saved.
func applyExit(ctx context.Context, o sync.Outcome, saved bool) error {
	incomplete := len(o.Failed) + len(o.NotStarted)
	switch {
	case incomplete == 0 && ctx.Err() != nil:
		return exitWith(exitError, "interrupted: every write was done, but the result was not verified; run plan to check")
	case incomplete == 0 && o.Verification != nil && !o.Verification.Converged:
		return exitWith(exitDrift, "applied, but %d managed assignment(s) are not as the spec says (changed by another writer?); %s", len(o.Verification.Remaining), again(o, "", saved))
	case incomplete == 0:
		return nil
	case len(o.Written) == 0 && denied(o.Result):
		return exitWith(exitError, "%s; nothing was written", permissionNeeded)
	case len(o.Written) == 0 && ctx.Err() != nil:
		return exitWith(exitError, "interrupted before any write; nothing was written")
	case len(o.Written) == 0 && len(o.Failed) > 0 && !slices.ContainsFunc(o.Failed, func(r sync.SubjectResult) bool { return r.Sent }):
		// No write was sent: exit 6 would say some were done.
		return exitWith(exitError, "apply failed: %d principal(s) failed before their write, nothing was written; %s", len(o.Failed), again(o, "", saved))
	case len(o.Written) == 0 && len(o.Failed) > 0:
		return exitWith(exitPartial, "apply failed: %d principal(s) failed, nothing was written; %s", len(o.Failed), again(o, "", saved))
	case ctx.Err() != nil:
		return exitWith(exitPartial, "interrupted: %d principal(s) written, %d not started; %s", len(o.Written), len(o.NotStarted), again(o, " to finish", saved))
	case denied(o.Result):
		return exitWith(exitPartial, "apply stopped: %s; %d principal(s) written, %d failed, %d not started", permissionNeeded, len(o.Written), len(o.Failed), len(o.NotStarted))
	default:
		return exitWith(exitPartial, "apply partly failed: %d principal(s) written, %d failed, %d not started; %s", len(o.Written), len(o.Failed), len(o.NotStarted), again(o, " to finish", saved))
	}
}

// again is what to run after an apply that did not finish or converge: a
// saved plan is stale once apply wrote some of it, and a principal that
// changed where the plan did not show it (sync.ErrNotPlanned) needs a new
// plan, which apply again would not make of a saved plan.
func again(o sync.Outcome, finish string, saved bool) string {
	switch {
	case saved && len(o.Written) > 0:
		return "the saved plan is stale now: run plan --out again, then apply the new plan" + finish
	case slices.ContainsFunc(o.Failed, func(r sync.SubjectResult) bool { return errors.Is(r.Err, sync.ErrNotPlanned) }):
		return "run plan again, then apply" + finish
	}
	return "run apply again" + finish
}

// permissionNeeded says what a credential refused a role write (403) lacks.
const permissionNeeded = "the credential may not update role assignments: it needs Organization Owner (or Workspace Owner for workspace tokens)"

// denied reports whether a role write was refused with 403: apply then
// started no other subject.
func denied(res sync.Result) bool {
	return slices.ContainsFunc(res.Failed, func(r sync.SubjectResult) bool {
		var apiErr *astroapi.Error
		return errors.As(r.Err, &apiErr) && apiErr.Method == http.MethodPost && errors.Is(r.Err, astroapi.ErrForbidden)
	})
}

// subjectsOf returns the ids of the subjects a plan writes.
func subjectsOf(p sync.Plan) map[string]bool {
	ids := map[string]bool{}
	for _, c := range p.Changes {
		ids[c.Subject.ID] = true
	}
	return ids
}
