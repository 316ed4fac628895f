package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tokensync/tokensync/astroapi"
)

// Verification says whether the API holds what a plan asked for.
type Verification struct {
	// Converged is set when every managed assignment is as the spec says
	// (for a plan without a Target: when every planned change holds).
	Converged bool
	// Remaining are the managed assignments that are not as the spec says
	// (without a Target: the planned changes that do not hold), as changes
	// against the current state: Before is the role now, After the one the
	// spec asks for.
	Remaining []Change
	// ChangedByOthers are written subjects whose role set now differs from
	// the one written: someone else wrote them during the run.
	ChangedByOthers []SubjectRef
}

// Verify compares the managed assignments with now, the subjects as
// listed after apply: every one of them against p's Target (the plan
// recomputed on now must be empty) or, without a Target, those of p's
// changes. It also compares the written subjects of r with what was
// written.
func Verify(p Plan, r Result, now []Subject) Verification {
	byID := make(map[string]*Subject, len(now))
	for i := range now {
		if _, dup := byID[now[i].ID]; !dup {
			byID[now[i].ID] = &now[i]
		}
	}
	var v Verification
	if p.Target != nil {
		again := Compute(p.Target.Desired, &Observed{Organization: p.Organization, Subjects: now},
			Options{Prune: p.Target.Prune, MaxRemovals: -1})
		v.Remaining = again.Changes
	} else {
		v.Remaining = remaining(p, byID)
	}
	for _, w := range r.Written {
		switch s := byID[w.Subject.ID]; {
		case w.Deleted && s == nil: // deleted before apply came to it, and said so then
		case s == nil || s.Fingerprint != w.Fingerprint:
			v.ChangedByOthers = append(v.ChangedByOthers, w.Subject)
		}
	}
	slices.SortFunc(v.Remaining, compareChange)
	slices.SortFunc(v.ChangedByOthers, compareSubject)
	v.Converged = len(v.Remaining) == 0
	return v
}

// remaining are the changes of p that do not hold in byID.
func remaining(p Plan, byID map[string]*Subject) []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Action != Add && c.Action != Update && c.Action != Remove {
			continue
		}
		want := c.After
		if c.Action == Remove {
			want = ""
		}
		have := ""
		if s := byID[c.Subject.ID]; s != nil {
			have = s.RoleAt(c.Key().Scope)
		}
		if sameRole(have, want) {
			continue
		}
		rc := c
		rc.Before, rc.After = have, want
		switch {
		case have == "":
			rc.Action = Add
		case want == "":
			rc.Action = Remove
		default:
			rc.Action = Update
		}
		out = append(out, rc)
	}
	return out
}

// Engine is tokensync's work on one organization through the API: read
// what it says, apply a plan, verify the outcome.
type Engine struct {
	Org      string
	Lister   Lister
	Adapters Adapters
}

// NewEngine returns the engine of organization org through c, with the
// adapters of every family of subject.
func NewEngine(c Client, org string) *Engine {
	return &Engine{Org: org, Lister: c, Adapters: NewAdapters(c, org)}
}

// Observe reads what the API says today; see the package-level Observe.
func (e *Engine) Observe(ctx context.Context) (*Observed, error) {
	return Observe(ctx, e.Lister, e.Adapters, e.Org)
}

// Outcome is what Execute did: the apply's result and its verification.
type Outcome struct {
	Result
	// Verification is nil when the outcome was not verified: the context
	// ended, the plan was refused or stale, or the verification read
	// failed (VerifyErr says why).
	Verification *Verification
	VerifyErr    error
}

// Execute applies p and then, unless ctx has ended or nothing was
// attempted, verifies the outcome with one fresh list of every subject (as
// Observe reads them: per workspace when the credential may not list the
// organization).
func (e *Engine) Execute(ctx context.Context, p Plan, opts ApplyOptions) Outcome {
	o := Outcome{Result: Apply(ctx, e.Adapters, p, opts)}
	if ctx.Err() != nil || o.Refused || len(o.Stale) > 0 {
		return o
	}
	now, err := e.subjects(ctx)
	if err != nil {
		o.VerifyErr = fmt.Errorf("verification read: %w", err)
		return o
	}
	v := Verify(p, o.Result, now)
	o.Verification = &v
	return o
}

// subjects lists every subject; when the credential may not list the
// organization, it reads per workspace as Observe does.
func (e *Engine) subjects(ctx context.Context) ([]Subject, error) {
	var all []Subject
	for _, ad := range e.Adapters {
		s, err := ad.List(ctx, nil)
		if errors.Is(err, astroapi.ErrForbidden) {
			obs, err := e.Observe(ctx)
			if err != nil {
				return nil, err
			}
			return obs.Subjects, nil
		}
		if err != nil {
			return nil, err
		}
		all = append(all, s...)
	}
	return all, nil
}

// Stale returns the subjects p changes whose role set in now differs from
// the one p fingerprinted (or that now lacks): a saved plan made before
// they changed must not be applied.
func Stale(p Plan, now []Subject) []SubjectRef {
	fp := make(map[string]string, len(now))
	for _, s := range now {
		if _, dup := fp[s.ID]; !dup {
			fp[s.ID] = s.Fingerprint
		}
	}
	var stale []SubjectRef
	seen := map[string]bool{}
	for _, c := range p.Changes {
		want, ok := p.Fingerprints[c.Subject.ID]
		if !ok || seen[c.Subject.ID] {
			continue
		}
		seen[c.Subject.ID] = true
		if have, found := fp[c.Subject.ID]; !found || have != want {
			stale = append(stale, c.Subject)
		}
	}
	return stale
}
