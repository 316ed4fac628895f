package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ApplyCmd is `tokensync apply`.
type ApplyCmd struct {
	PlanFlags
	SavedPlan string `arg:"" optional:"" name:"PLAN.json" type:"path" help:"Apply this saved plan (from 'plan --out') instead of planning now."`
	DryRun    bool   `help:"Plan and show the changes, write nothing."`
	Yes       bool   `short:"y" help:"Apply without asking; required when not run from a terminal."`
}

// Run plans (or reads a saved plan), asks, applies and verifies.
func (c *ApplyCmd) Run(ctx context.Context, g *Globals, st *Streams) error {
	var (
		p         sync.Plan
		sess      *session
		savedPlan = c.SavedPlan != ""
	)
	if !c.Yes && !c.DryRun && !st.InTTY {
		return exitWith(exitUsage, "apply needs --yes when not run from a terminal; nothing was written")
	}
	if savedPlan {
		doc, err := c.readSavedPlan()
		if err != nil {
			return err
		}
		if sess, err = g.connect(ctx, *st, doc.Organization); err != nil {
			return err
		}
		if sess.org != doc.Organization {
			sess.close()
			return exitWith(exitStale, "the plan %s belongs to organization %s, not %s; nothing was written", c.SavedPlan, doc.Organization, sess.org)
		}
		p = doc.Plan()
		p.Guards = append(p.Guards, sync.CheckSaved(p, sync.Options{Prune: c.Prune, MaxRemovals: c.MaxRemovals, Protect: c.Protect})...)
	} else {
		pl, err := c.makePlan(ctx, g, *st)
		if err != nil {
			return err
		}
		p, sess = pl.plan, pl.sess
	}
	defer sess.close()

	if err := render.Text(st.Out, p, g.colour(*st, st.OutTTY)); err != nil {
		return err
	}
	switch {
	case p.Refused():
		return exitWith(exitRefused, "a guard refused the plan; nothing was written")
	case len(p.Changes) == 0:
		return nil
	case c.DryRun && savedPlan:
		if err := checkStale(ctx, *st, sess, p); err != nil {
			return err
		}
		fmt.Fprintln(st.Err, "Dry run: the plan is current; nothing was written.")
		return nil
	case c.DryRun:
		fmt.Fprintln(st.Err, "Dry run: nothing was written.")
		return nil
	}
	if err := c.confirm(ctx, *st); err != nil {
		return err
	}

	store := tokenStore{client: sess.client, org: sess.org}
	prog := newProgress(*st, len(tokensOf(p)))
	res := sync.Apply(ctx, store, p, sync.ApplyOptions{
		Parallelism:         g.Parallelism,
		RequireFingerprints: savedPlan,
		Progress:            prog.done,
	})
	prog.finish()
	if len(res.Stale) > 0 {
		refs := make([]sync.TokenRef, len(res.Stale))
		for i, t := range res.Stale {
			refs[i] = t.Token
		}
		return staleError(*st, refs)
	}
	return c.report(ctx, *st, sess, p, res)
}

// staleError lists the tokens changed since a saved plan and refuses it.
func staleError(st Streams, stale []sync.TokenRef) error {
	for _, t := range stale {
		fmt.Fprintf(st.Err, "  changed since the plan: %s\n", render.TokenLabel(t))
	}
	return exitWith(exitStale, "the plan is stale: %d token(s) changed since it was made; nothing was written; run plan again", len(stale))
}

// checkStale is apply's staleness check of a saved plan without writing:
// one list of the organization, and every token the plan changes must
// still hold the role list the plan fingerprinted.
func checkStale(ctx context.Context, st Streams, sess *session, p sync.Plan) error {
	obs, err := observe(ctx, sess)
	if err != nil {
		return err
	}
	now := make(map[string]astroapi.Token, len(obs.Tokens))
	for _, t := range obs.Tokens {
		now[t.ID] = t
	}
	var stale []sync.TokenRef
	seen := map[string]bool{}
	for _, ch := range p.Changes {
		fp, ok := p.Fingerprints[ch.Token.ID]
		if !ok || seen[ch.Token.ID] {
			continue
		}
		seen[ch.Token.ID] = true
		if t, found := now[ch.Token.ID]; !found || sync.Fingerprint(t.Roles) != fp {
			stale = append(stale, ch.Token)
		}
	}
	if len(stale) > 0 {
		return staleError(st, stale)
	}
	return nil
}

// readSavedPlan reads the saved plan and, when -f is also given, checks it
// was made from those files.
func (c *ApplyCmd) readSavedPlan() (render.Document, error) {
	f, err := os.Open(c.SavedPlan)
	if err != nil {
		return render.Document{}, exitWith(exitUsage, "read plan: %w; nothing was written", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return render.Document{}, exitWith(exitUsage, "read plan: %s is a directory, not a plan file; nothing was written", c.SavedPlan)
	}
	doc, err := render.ReadDocument(f)
	if err != nil {
		return render.Document{}, exitWith(exitInvalid, "%s is not a tokensync plan (from 'tokensync plan --out'): %w; nothing was written", c.SavedPlan, err)
	}
	if len(c.Files) > 0 {
		sp, err := spec.Load(c.Files)
		if err != nil {
			return render.Document{}, err
		}
		if sp.Digest != doc.Spec.Digest {
			return render.Document{}, exitWith(exitStale, "the plan %s was made from another version of the spec; nothing was written; run plan again", c.SavedPlan)
		}
	}
	return doc, nil
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

// report prints the outcome of an apply, verifies it with one list of the
// organization's tokens, and decides the exit code.
func (c *ApplyCmd) report(ctx context.Context, st Streams, sess *session, p sync.Plan, res sync.Result) error {
	add, change, remove := res.Summary()
	for _, t := range res.Failed {
		fmt.Fprintf(st.Err, "  failed: %s: %s\n", render.TokenLabel(t.Token), render.Safe(t.Err.Error()))
	}
	for _, t := range res.NotStarted {
		fmt.Fprintf(st.Err, "  not started: %s\n", render.TokenLabel(t.Token))
	}
	for _, t := range res.Written {
		if t.ChangedSincePlan {
			fmt.Fprintf(st.Err, "  note: %s had changed since the plan; its new roles were computed from a fresh read\n", render.TokenLabel(t.Token))
		}
	}
	incomplete := len(res.Failed) + len(res.NotStarted)
	if incomplete == 0 {
		fmt.Fprintf(st.Out, "Apply complete: %d added, %d changed, %d removed.\n", add, change, remove)
	} else {
		fmt.Fprintf(st.Out, "Apply incomplete: %d added, %d changed, %d removed; %d token(s) failed, %d not started.\n",
			add, change, remove, len(res.Failed), len(res.NotStarted))
	}

	unverified := 0 // managed assignments verification found not as the spec says
	if ctx.Err() == nil {
		now, err := sess.client.Tokens(ctx, sess.org, astroapi.TokenFilter{})
		if errors.Is(err, astroapi.ErrForbidden) {
			// A credential confined to some workspaces: read as the plan did.
			var obs *sync.Observed
			if obs, err = sync.Observe(ctx, sess.client, sess.org); err == nil {
				now = obs.Tokens
			}
		}
		if err != nil {
			fmt.Fprintf(st.Err, "warning: verification read failed: %s\n", render.Safe(err.Error()))
		} else {
			v := sync.Verify(p, res, now)
			for _, t := range v.ChangedByOthers {
				fmt.Fprintf(st.Err, "warning: %s was changed by someone else during the run\n", render.TokenLabel(t))
			}
			if v.Converged {
				fmt.Fprintln(st.Err, "Verified: converged.")
			} else {
				unverified = len(v.Remaining)
				fmt.Fprintf(st.Err, "Verification: %d managed assignment(s) are not as the spec says:\n", len(v.Remaining))
				for _, ch := range v.Remaining {
					fmt.Fprintf(st.Err, "  %s on %s: want %q, have %q\n", render.Safe(ch.Token.Name), render.Safe(ch.Deployment.Name), ch.After, ch.Before)
				}
			}
		}
	}

	switch {
	case incomplete == 0 && ctx.Err() != nil:
		return exitWith(exitError, "interrupted: every write was done, but the result was not verified; run plan to check")
	case incomplete == 0 && unverified > 0:
		return exitWith(exitDrift, "applied, but %d managed assignment(s) are not as the spec says (changed by another writer?); run apply again", unverified)
	case incomplete == 0:
		return nil
	case len(res.Written) == 0 && denied(res):
		return exitWith(exitError, "%s; nothing was written", permissionNeeded)
	case len(res.Written) == 0 && ctx.Err() != nil:
		return exitWith(exitError, "interrupted before any write; nothing was written")
	case len(res.Written) == 0 && len(res.Failed) > 0:
		return exitWith(exitPartial, "apply failed: %d token(s) failed, nothing was written; run apply again", len(res.Failed))
	case ctx.Err() != nil:
		return exitWith(exitPartial, "interrupted: %d token(s) written, %d not started; run apply again to finish", len(res.Written), len(res.NotStarted))
	case denied(res):
		return exitWith(exitPartial, "apply stopped: %s; %d token(s) written, %d failed, %d not started", permissionNeeded, len(res.Written), len(res.Failed), len(res.NotStarted))
	default:
		return exitWith(exitPartial, "apply partly failed: %d token(s) written, %d failed, %d not started; run apply again to finish", len(res.Written), len(res.Failed), len(res.NotStarted))
	}
}

// permissionNeeded says what a credential refused a role write (403) lacks.
const permissionNeeded = "the credential may not update API token roles: it needs Organization Owner (or Workspace Owner for workspace tokens)"

// denied reports whether a role write was refused with 403: apply then
// started no other token.
func denied(res sync.Result) bool {
	return slices.ContainsFunc(res.Failed, func(t sync.TokenResult) bool {
		var apiErr *astroapi.Error
		return errors.As(t.Err, &apiErr) && apiErr.Method == http.MethodPost && errors.Is(t.Err, astroapi.ErrForbidden)
	})
}

// tokensOf returns the ids of the tokens a plan writes.
func tokensOf(p sync.Plan) map[string]bool {
	ids := map[string]bool{}
	for _, c := range p.Changes {
		ids[c.Token.ID] = true
	}
	return ids
}

// tokenStore is the API as sync.Apply needs it, bound to one organization.
type tokenStore struct {
	client *astroapi.Client
	org    string
}

func (s tokenStore) Token(ctx context.Context, id string) (astroapi.Token, error) {
	return s.client.Token(ctx, s.org, id)
}

func (s tokenStore) SetRoles(ctx context.Context, id string, roles []astroapi.Role) error {
	_, err := s.client.SetTokenRoles(ctx, s.org, id, roles)
	return err
}

// ReserveWrite takes the write's rate-limit slot before the read (see
// sync.WriteReserver).
func (s tokenStore) ReserveWrite(ctx context.Context) (context.Context, func(), error) {
	return s.client.ReserveWrite(ctx)
}

// progress reports apply progress on stderr: a live counter on a terminal,
// a line per token otherwise.
type progress struct {
	st    Streams
	total int
	n     int
}

func newProgress(st Streams, total int) *progress {
	return &progress{st: st, total: total}
}

// done is called once per finished token, never concurrently.
func (p *progress) done(t sync.TokenResult) {
	p.n++
	if p.st.ErrTTY {
		fmt.Fprintf(p.st.Err, "\rApplying: %d/%d tokens", p.n, p.total)
		return
	}
	verb := "wrote"
	if t.Err != nil {
		verb = "failed"
	}
	fmt.Fprintf(p.st.Err, "[%d/%d] %s %s: %s\n", p.n, p.total, verb, render.TokenLabel(t.Token), changeCounts(t.Changes))
}

func (p *progress) finish() {
	if p.st.ErrTTY && p.n > 0 {
		fmt.Fprintln(p.st.Err)
	}
}

// changeCounts summarises one token's changes, e.g. "+1 ~0 -2".
func changeCounts(cs []sync.Change) string {
	a, u, r := sync.Plan{Changes: cs}.Summary()
	return fmt.Sprintf("+%d ~%d -%d", a, u, r)
}
