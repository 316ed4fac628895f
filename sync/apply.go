package sync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	gosync "sync"
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

// DefaultParallelism is how many subjects Apply writes at once when
// ApplyOptions.Parallelism is not set.
const DefaultParallelism = 4

// ApplyOptions steer Apply.
type ApplyOptions struct {
	// Parallelism is how many subjects are read and written at once;
	// DefaultParallelism when <= 0.
	Parallelism int
	// RequireFingerprints is for a saved plan: read every subject of the
	// plan first and, if the role set of any differs from the plan's
	// fingerprint, write nothing and report those subjects as Stale.
	RequireFingerprints bool
	// Protect are the subjects (globs, as Options.Protect) that must not
	// lose or change a role: apply holds them to it also where a subject
	// changed since the plan.
	Protect []string
	// MaxRemovals is the most roles the apply may take away, as
	// Options.MaxRemovals (-1: no limit). A subject changed since the plan
	// is written from a fresh read, and the roles that takes away besides
	// the plan's count too: a write that would take more than MaxRemovals
	// in all is refused.
	MaxRemovals int
	// Progress, when set, is called once for every subject that was
	// written or failed, as it finishes. Calls are serialised.
	Progress func(SubjectResult)
}

// SubjectResult is what Apply did to one subject.
type SubjectResult struct {
	Subject SubjectRef
	// Changes are the changes of this subject: the plan's or, when it
	// changed since the plan and was written from a fresh read, those
	// that write made.
	Changes []Change
	// Before is its role set as read right before the write, on every
	// level; After the one written (or, when nothing had to be written or
	// the write failed, as read; the plan's Changes say what was meant).
	Before, After []Grant
	// Wrote says a write was sent and succeeded; a subject already as
	// planned is written without one.
	Wrote bool
	// Sent says a write request was sent. One that failed may still have
	// landed (its answer lost); a subject that failed without it was not
	// written.
	Sent bool
	// Fingerprint is of the role set written, or read when nothing was
	// written.
	Fingerprint string
	// ChangedSincePlan is set when the role set read right before writing
	// differed from the plan's fingerprint.
	ChangedSincePlan bool
	// Deleted says the subject was deleted since the plan, which only took
	// roles from it: it holds none now, and nothing was written.
	Deleted bool
	// Duration is the time from the read to the end of the write.
	Duration time.Duration
	Err      error
}

// Result is what Apply did, per subject. Each list is sorted by subject
// name, then id.
type Result struct {
	Written    []SubjectResult // written (or already as planned)
	Failed     []SubjectResult // the read or the write failed: Err says why
	NotStarted []SubjectResult // not touched: refused, stale plan, or cancelled
	Stale      []SubjectResult // changed since the saved plan (RequireFingerprints)
	// Refused is set when the plan's guards refused it; nothing was done.
	Refused bool
}

// Summary counts the changes of the written subjects by action.
func (r Result) Summary() (add, change, remove int) {
	for _, t := range r.Written {
		a, c, d := count(t.Changes)
		add, change, remove = add+a, change+c, remove+d
	}
	return add, change, remove
}

// Complete reports whether every subject of the plan was written.
func (r Result) Complete() bool {
	return len(r.Failed)+len(r.NotStarted)+len(r.Stale) == 0 && !r.Refused
}

type outcome int

const (
	notStarted outcome = iota
	written
	failed
	stale
)

type job struct {
	res     SubjectResult
	out     outcome
	upserts bool // some change adds or updates
}

type applier struct {
	as     Adapters
	p      Plan
	opts   ApplyOptions
	target *planner     // the plan's Target; nil: go by the plan's changes
	mu     gosync.Mutex // serialises Progress
	// forbidden ends the context no new subject starts after: a 403 says
	// the credential may not write, so every other would fail the same way.
	forbidden context.CancelCauseFunc
	// taken counts the roles taken away: the plan's, and those that
	// subjects changed since the plan add (ApplyOptions.MaxRemovals).
	taken gosync.Mutex
	takes int
}

// Apply makes the API match the plan p: for every subject with changes,
// in one read-modify-write through its adapter, it reads the subject,
// computes its new deployment roles from that fresh read and writes it
// once, every other part of its role set exactly as read. Unmanaged
// changes are never applied.
//
// Subjects whose changes include an add or an update are written first,
// then those with removals only. Up to Parallelism subjects are in flight
// at once; a failed subject does not stop the others, except a 403
// (astroapi.ErrForbidden): then no new subject starts. When ctx is
// cancelled no new subject starts; one already started finishes its read
// and write. Apply does nothing when p's guards refuse it.
func Apply(ctx context.Context, as Adapters, p Plan, opts ApplyOptions) Result {
	jobs := groupBySubject(p)
	if p.Refused() {
		r := collect(jobs)
		r.Refused = true
		return r
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	ctx, forbidden := context.WithCancelCause(ctx)
	defer forbidden(nil)
	a := &applier{as: as, p: p, opts: opts, forbidden: forbidden, takes: takes(p.Changes)}
	if p.Target != nil {
		a.target = newPlanner(p.Target.Desired, p.Target.Prune, nil)
	}
	if opts.RequireFingerprints && !a.checkFingerprints(ctx, jobs) {
		return collect(jobs)
	}
	var first, second []*job
	for _, j := range jobs {
		if j.upserts {
			first = append(first, j)
		} else {
			second = append(second, j)
		}
	}
	a.forEach(ctx, first, a.write)
	a.forEach(ctx, second, a.write)
	return collect(jobs)
}

// groupBySubject groups the plan's changes by subject, sorted by subject
// name, then id; each subject's changes keep the plan's order.
func groupBySubject(p Plan) []*job {
	byID := make(map[string]*job)
	var jobs []*job
	for _, c := range p.Changes {
		if c.Action != Add && c.Action != Update && c.Action != Remove {
			continue
		}
		j := byID[c.Subject.ID]
		if j == nil {
			j = &job{res: SubjectResult{Subject: c.Subject}}
			byID[c.Subject.ID] = j
			jobs = append(jobs, j)
		}
		j.res.Changes = append(j.res.Changes, c)
		j.upserts = j.upserts || c.Action != Remove
	}
	slices.SortFunc(jobs, func(a, b *job) int { return compareSubject(a.res.Subject, b.res.Subject) })
	return jobs
}

// Unstarted is the result of an apply of p that wrote nothing (a refused
// plan, a dry run, or a saved plan found stale before any write): every
// subject of p not started, but those in changed, which changed since
// the plan and are stale; each list in the order Apply gives.
func Unstarted(p Plan, changed []SubjectRef) Result {
	jobs := groupBySubject(p)
	isChanged := make(map[string]bool, len(changed))
	for _, s := range changed {
		isChanged[s.ID] = true
	}
	for _, j := range jobs {
		if isChanged[j.res.Subject.ID] {
			j.res.ChangedSincePlan = true
			j.out = stale
		}
	}
	return collect(jobs)
}

func collect(jobs []*job) Result {
	var r Result
	for _, j := range jobs {
		switch j.out {
		case written:
			r.Written = append(r.Written, j.res)
		case failed:
			r.Failed = append(r.Failed, j.res)
		case stale:
			r.Stale = append(r.Stale, j.res)
		default:
			r.NotStarted = append(r.NotStarted, j.res)
		}
	}
	return r
}

// forEach runs do for the jobs on up to Parallelism workers. Once ctx is
// cancelled no job starts: the rest stay notStarted.
func (a *applier) forEach(ctx context.Context, jobs []*job, do func(context.Context, *job)) {
	if len(jobs) == 0 || ctx.Err() != nil {
		return
	}
	ch := make(chan *job)
	var wg gosync.WaitGroup
	for range min(a.opts.Parallelism, len(jobs)) {
		wg.Go(func() {
			for j := range ch {
				if ctx.Err() == nil {
					do(ctx, j)
				}
			}
		})
	}
send:
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
			break send
		}
	}
	close(ch)
	wg.Wait()
}

// adapter returns the adapter of the job's subject, or fails the job.
func (a *applier) adapter(j *job) Adapter {
	ad := a.as.For(j.res.Subject.Kind)
	if ad == nil {
		j.res.Err = fmt.Errorf("%s: no adapter for subjects of kind %q", Label(j.res.Subject), j.res.Subject.Kind)
		j.out = failed
	}
	return ad
}

// checkFingerprints reads every subject of the plan and compares it with
// the plan's fingerprint. It reports whether all match; if not, the
// mismatched subjects (and those deleted since) are stale, unreadable ones
// failed, all others not started.
func (a *applier) checkFingerprints(ctx context.Context, jobs []*job) bool {
	var mu gosync.Mutex
	done := 0
	a.forEach(ctx, jobs, func(ctx context.Context, j *job) {
		ad := a.adapter(j)
		var (
			s   Subject
			err error
		)
		if ad != nil {
			s, err = ad.Get(ctx, j.res.Subject.ID)
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ad == nil:
		case err != nil && ctx.Err() != nil:
			return // cancelled: not started
		case errors.Is(err, astroapi.ErrNotFound) && a.p.Fingerprints[j.res.Subject.ID] != Fingerprint(nil):
			// Deleted since the plan, which read it.
			j.res.ChangedSincePlan = true
			j.out = stale
		case err != nil:
			j.res.Err = fmt.Errorf("read %s (%s): %w", Label(j.res.Subject), j.res.Subject.ID, err)
			j.out = failed
		case a.p.Fingerprints[j.res.Subject.ID] != s.Fingerprint:
			j.res.ChangedSincePlan = true
			j.out = stale
		}
		done++
	})
	ok := done == len(jobs)
	for _, j := range jobs {
		ok = ok && j.out == notStarted
	}
	return ok
}

// write is the read-modify-write of one subject. Once started it is not
// cancelled, so that a write is never cut off between its read and post.
// When the adapter is a WriteReserver, the write's rate-limit slot is
// taken before the read, so nothing waits between the read and the post.
func (a *applier) write(ctx context.Context, j *job) {
	ctx = context.WithoutCancel(ctx)
	defer a.progress(j)
	ad := a.adapter(j)
	if ad == nil {
		return
	}
	j.res.Err = a.readModifyWrite(ctx, ad, &j.res)
	j.out = written
	if j.res.Err == nil {
		return
	}
	j.out = failed
	if errors.Is(j.res.Err, astroapi.ErrForbidden) && j.res.Before != nil {
		a.forbidden(j.res.Err)
	}
}

func (a *applier) readModifyWrite(ctx context.Context, ad Adapter, res *SubjectResult) error {
	id, label := res.Subject.ID, Label(res.Subject)
	if r, ok := ad.(WriteReserver); ok {
		slot, release, err := r.ReserveWrite(ctx)
		if err != nil {
			return fmt.Errorf("write %s (%s): %w", label, id, err)
		}
		defer release()
		ctx = slot
	}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	s, err := ad.Get(ctx, id)
	if errors.Is(err, astroapi.ErrNotFound) && onlyRemoves(res.Changes) {
		// Deleted since the plan: it holds nothing, as the plan wanted of
		// it. Apply made no change.
		res.Before, res.After, res.Changes, res.ChangedSincePlan, res.Deleted = []Grant{}, []Grant{}, nil, true, true
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s (%s): %w", label, id, err)
	}
	res.Before = s.Grants
	if res.Before == nil {
		res.Before = []Grant{}
	}
	res.ChangedSincePlan = s.Fingerprint != a.p.Fingerprints[id] && a.p.Fingerprints[id] != ""
	changes, pinned := res.Changes, map[Scope]string(nil)
	if a.target != nil {
		changes, pinned = a.target.changesOf(&s), a.target.pinned(id)
		c, why, ok := a.unguarded(changes, res.Changes)
		if !ok {
			c, why, ok = a.takeMore(changes, res.Changes)
		}
		if ok {
			res.After, res.ChangedSincePlan = res.Before, true
			return fmt.Errorf("%s (%s): %w: writing the spec to it now would %s, which the plan does not show and %s; not written, run plan again",
				label, id, ErrNotPlanned, describe(c), why)
		}
		res.Changes = made(changes, res.Changes)
	}
	res.After = applyChanges(s.Grants, changes, pinned)
	res.Fingerprint = s.Fingerprint
	if slices.Equal(res.After, s.Grants) {
		return nil
	}
	res.Sent = true
	fp, err := ad.Set(ctx, s, res.After)
	if err != nil {
		res.After = res.Before // what is known: the set as read
		return fmt.Errorf("set roles of %s (%s): %w", label, id, err)
	}
	res.Wrote, res.Fingerprint = true, fp
	return nil
}

// onlyRemoves reports whether every change of cs takes a role away.
func onlyRemoves(cs []Change) bool {
	return len(cs) > 0 && !slices.ContainsFunc(cs, func(c Change) bool { return c.Action != Remove })
}

// ErrNotPlanned says a subject changed since the plan, so that writing
// the spec to it now would make a change the plan does not show and a
// guard forbids: Apply does not write such a subject.
var ErrNotPlanned = errors.New("changed since the plan")

// unguarded returns the first of changes (a subject's changes from the
// read made right before its write) that planned (the plan's changes of
// that subject) does not show, and that a guard would have refused: a
// protected subject losing or changing a role (--protect), or an owner
// role taken (lockout), with why. The spec wins over another writer's
// change elsewhere (docs/reliability.md); these two the guards must hold
// whatever happened since the plan.
func (a *applier) unguarded(changes, planned []Change) (Change, string, bool) {
	for _, c := range changes {
		if c.Action == Unmanaged || slices.ContainsFunc(planned, c.same) {
			continue
		}
		if _, ok := matchGlob(a.opts.Protect, c.Subject); ok && c.Action != Add {
			return c, "it is protected (--protect)", true
		}
		if _, takes := c.takesOwner(); takes {
			return c, "takes an owner role (lockout guard)", true
		}
	}
	return Change{}, "", false
}

// takeMore counts the roles that changes (of a subject read right before
// its write) take away besides its planned changes; if that would take
// the apply past ApplyOptions.MaxRemovals, it returns the first such
// change and why, and counts nothing.
func (a *applier) takeMore(changes, planned []Change) (Change, string, bool) {
	more := takes(changes) - takes(planned)
	if more <= 0 || a.opts.MaxRemovals < 0 {
		return Change{}, "", false
	}
	a.taken.Lock()
	defer a.taken.Unlock()
	if a.takes+more <= a.opts.MaxRemovals {
		a.takes += more
		return Change{}, "", false
	}
	for _, c := range changes {
		if c.Takes() && !slices.ContainsFunc(planned, func(p Change) bool { return p.Key() == c.Key() && p.Takes() }) {
			return c, fmt.Sprintf("it would take the apply past --max-removals %d", a.opts.MaxRemovals), true
		}
	}
	return Change{}, "", false
}

// takes counts the changes that take a role away (Change.Takes).
func takes(changes []Change) int {
	n := 0
	for _, c := range changes {
		if c.Takes() {
			n++
		}
	}
	return n
}

// made are the changes a write of changes (of a subject read right
// before it) makes: planned, when it makes those; else each of changes
// but the unmanaged, as planned shows it where it does, sorted as a plan.
func made(changes, planned []Change) []Change {
	var out []Change
	for _, c := range changes {
		if c.Action != Add && c.Action != Update && c.Action != Remove {
			continue
		}
		if i := slices.IndexFunc(planned, c.same); i >= 0 {
			c = planned[i]
		}
		out = append(out, c)
	}
	if len(out) == len(planned) && !slices.ContainsFunc(out, func(c Change) bool { return !slices.ContainsFunc(planned, c.same) }) {
		return planned
	}
	slices.SortFunc(out, compareChange)
	return out
}

// same reports whether c and d make the same change.
func (c Change) same(d Change) bool {
	return c.Key() == d.Key() && c.Action == d.Action && c.Before == d.Before && c.After == d.After
}

// describe says what change c does, for messages: "add DEPLOYMENT_ADMIN
// on deployment "prod"".
func describe(c Change) string {
	switch c.Action {
	case Add:
		return fmt.Sprintf("add %s on %s", c.After, c.Scope)
	case Remove:
		return fmt.Sprintf("remove %s on %s", c.Before, c.Scope)
	}
	return fmt.Sprintf("change %s on %s to %s", c.Before, c.Scope, c.After)
}

func (a *applier) progress(j *job) {
	if a.opts.Progress == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opts.Progress(j.res)
}

// applyChanges applies changes (all of one subject; unmanaged ones are
// skipped) to the grants read: each changed scope gets exactly the role
// after the change, and each pinned scope its role once (a duplicate
// entry of a listed role is dropped); every other grant is kept exactly as
// read.
func applyChanges(read []Grant, changes []Change, pinned map[Scope]string) []Grant {
	want := make(map[Scope]string, len(changes)+len(pinned))
	maps.Copy(want, pinned)
	var order []Scope
	for _, c := range changes {
		sc := c.Key().Scope
		switch c.Action {
		case Add, Update:
			want[sc] = c.After
		case Remove:
			want[sc] = ""
		default:
			continue
		}
		order = append(order, sc)
	}
	if len(want) == 0 {
		return slices.Clone(read)
	}
	return withGrants(read, want, order)
}

// pinned are the roles the spec lists for subject id (state: absent
// aside), by scope.
func (pl *planner) pinned(id string) map[Scope]string {
	var out map[Scope]string
	for _, l := range pl.entries(id) {
		if l.entry.Absent {
			continue
		}
		if out == nil {
			out = make(map[Scope]string)
		}
		out[l.scope] = l.entry.Role
	}
	return out
}
