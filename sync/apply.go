package sync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	gosync "sync"

	"github.com/tokensync/tokensync/astroapi"
)

// DefaultParallelism is how many tokens Apply writes at once when
// ApplyOptions.Parallelism is not set.
const DefaultParallelism = 4

// ApplyOptions steer Apply.
type ApplyOptions struct {
	// Parallelism is how many tokens are read and written at once;
	// DefaultParallelism when <= 0.
	Parallelism int
	// RequireFingerprints is for a saved plan: read every token of the plan
	// first and, if the role list of any differs from the plan's
	// fingerprint, write nothing and report those tokens as Stale.
	RequireFingerprints bool
	// Progress, when set, is called once for every token that was written
	// or failed, as it finishes. Calls are serialised.
	Progress func(TokenResult)
}

// TokenResult is what Apply did to one token.
type TokenResult struct {
	Token   TokenRef
	Changes []Change // the plan's changes of this token
	// Roles is the role list posted (or, when the token already held it
	// and nothing was posted, the list read).
	Roles []astroapi.Role
	// ChangedSincePlan is set when the token's role list, read right
	// before writing, differed from the plan's fingerprint.
	ChangedSincePlan bool
	Err              error
}

// Result is what Apply did, per token. Each list is sorted by token name,
// then id.
type Result struct {
	Written    []TokenResult // written (or already as planned)
	Failed     []TokenResult // the read or the write failed: Err says why
	NotStarted []TokenResult // not touched: refused, stale plan, or cancelled
	Stale      []TokenResult // changed since the saved plan (RequireFingerprints)
	// Refused is set when the plan's guards refused it; nothing was done.
	Refused bool
}

// Summary counts the changes of the written tokens by action.
func (r Result) Summary() (add, change, remove int) {
	for _, t := range r.Written {
		a, c, d := count(t.Changes)
		add, change, remove = add+a, change+c, remove+d
	}
	return add, change, remove
}

type outcome int

const (
	notStarted outcome = iota
	written
	failed
	stale
)

type job struct {
	res     TokenResult
	out     outcome
	upserts bool // some change adds or updates
}

type applier struct {
	s      TokenStore
	p      Plan
	opts   ApplyOptions
	target *targetIndex // nil: go by the plan's changes
	mu     gosync.Mutex // serialises Progress
	// forbidden ends the context no new token starts after: a 403 says the
	// credential may not write, so every other token would fail the same way.
	forbidden context.CancelCauseFunc
}

// targetIndex is a plan's Target, indexed for one token at a time.
type targetIndex struct {
	prune  map[string]bool              // managed deployment id → prune is on
	order  []string                     // managed deployment ids, in the plan's order
	listed map[string]map[string]string // token id → deployment id → role ("" for state: absent)
}

func newTargetIndex(t *Target) *targetIndex {
	x := &targetIndex{prune: make(map[string]bool), listed: make(map[string]map[string]string)}
	for _, md := range t.Desired.Deployments {
		x.prune[md.ID] = t.Prune || md.Prune
		x.order = append(x.order, md.ID)
		for _, a := range md.Assignments {
			m := x.listed[a.Token.ID]
			if m == nil {
				m = make(map[string]string)
				x.listed[a.Token.ID] = m
			}
			m[md.ID] = a.Role
			if a.Absent {
				m[md.ID] = ""
			}
		}
	}
	return x
}

// roles computes the role list of token id from the list read: every
// managed assignment as the spec says (listed: its role or, for state:
// absent, none; not listed: none with prune, as read without), every other
// entry exactly as read.
func (x *targetIndex) roles(id string, read []astroapi.Role) []astroapi.Role {
	listed := x.listed[id]
	want := make(map[string]string)
	for _, r := range read {
		if prune, managed := x.prune[r.EntityID]; managed && prune && r.EntityType == astroapi.EntityDeployment {
			want[r.EntityID] = ""
		}
	}
	var order []string
	for _, dep := range x.order {
		if role, ok := listed[dep]; ok {
			want[dep] = role
			order = append(order, dep)
		}
	}
	return setRoles(read, want, order)
}

// Apply makes the API match the plan p: for every token with changes, in
// one read-modify-write, it reads the token, computes its new role list
// from that fresh read (keeping every entry the changes do not manage,
// exactly as read) and posts it once. Unmanaged changes are never applied.
//
// Tokens whose changes include an add or an update are written first, then
// the tokens with removals only. Up to Parallelism tokens are in flight at
// once; a failed token does not stop the others, except a 403
// (astroapi.ErrForbidden): then no new token starts. When ctx is cancelled
// no new token starts; a token already started finishes its read and write.
// Apply does nothing when p's guards refuse it.
func Apply(ctx context.Context, s TokenStore, p Plan, opts ApplyOptions) Result {
	jobs := groupByToken(p)
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
	a := &applier{s: s, p: p, opts: opts, forbidden: forbidden}
	if p.Target != nil {
		a.target = newTargetIndex(p.Target)
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

// groupByToken groups the plan's changes by token, sorted by token name,
// then id; each token's changes keep the plan's order.
func groupByToken(p Plan) []*job {
	byID := make(map[string]*job)
	var jobs []*job
	for _, c := range p.Changes {
		if c.Action != Add && c.Action != Update && c.Action != Remove {
			continue
		}
		j := byID[c.Token.ID]
		if j == nil {
			j = &job{res: TokenResult{Token: c.Token}}
			byID[c.Token.ID] = j
			jobs = append(jobs, j)
		}
		j.res.Changes = append(j.res.Changes, c)
		j.upserts = j.upserts || c.Action != Remove
	}
	slices.SortFunc(jobs, func(a, b *job) int { return compareTokenRef(a.res.Token, b.res.Token) })
	return jobs
}

func compareTokenRef(a, b TokenRef) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
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
		if ctx.Err() != nil {
			break
		}
		select {
		case ch <- j:
		case <-ctx.Done():
			break send
		}
	}
	close(ch)
	wg.Wait()
}

// checkFingerprints reads every token of the plan and compares it with the
// plan's fingerprint. It reports whether all match; if not, the mismatched
// tokens are stale, unreadable ones failed, and all others not started.
func (a *applier) checkFingerprints(ctx context.Context, jobs []*job) bool {
	var mu gosync.Mutex
	done := 0
	a.forEach(ctx, jobs, func(ctx context.Context, j *job) {
		t, err := a.s.Token(ctx, j.res.Token.ID)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil && ctx.Err() != nil:
			return // cancelled: not started
		case err != nil:
			j.res.Err = fmt.Errorf("read %s: %w", label(j.res.Token), err)
			j.out = failed
		case a.p.Fingerprints[j.res.Token.ID] != Fingerprint(t.Roles):
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

func label(t TokenRef) string { return fmt.Sprintf("token %q (%s)", t.Name, t.ID) }

// write is the read-modify-write of one token. Once started it is not
// cancelled, so that a write is never cut off between its read and post.
// With a WriteReserver, the write's rate-limit slot is taken before the
// read, so nothing waits between the read and the post.
func (a *applier) write(ctx context.Context, j *job) {
	ctx = context.WithoutCancel(ctx)
	id := j.res.Token.ID
	defer a.progress(j)
	if r, ok := a.s.(WriteReserver); ok {
		slot, release, err := r.ReserveWrite(ctx)
		if err != nil {
			j.res.Err = fmt.Errorf("write %s: %w", label(j.res.Token), err)
			j.out = failed
			return
		}
		defer release()
		ctx = slot
	}
	t, err := a.s.Token(ctx, id)
	if err != nil {
		j.res.Err = fmt.Errorf("read %s: %w", label(j.res.Token), err)
		j.out = failed
		return
	}
	if fp, ok := a.p.Fingerprints[id]; ok && fp != Fingerprint(t.Roles) {
		j.res.ChangedSincePlan = true
	}
	var roles []astroapi.Role
	if a.target != nil {
		roles = a.target.roles(id, t.Roles)
	} else {
		roles = newRoles(t.Roles, j.res.Changes)
	}
	j.res.Roles = roles
	if slices.Equal(roles, t.Roles) {
		j.out = written
		return
	}
	if len(roles) == 0 {
		j.res.Err = fmt.Errorf("set roles of %s: %w", label(j.res.Token), errEmptyRoles)
		j.out = failed
		return
	}
	if err := a.s.SetRoles(ctx, id, roles); err != nil {
		j.res.Err = fmt.Errorf("set roles of %s: %w", label(j.res.Token), err)
		j.out = failed
		if errors.Is(err, astroapi.ErrForbidden) {
			a.forbidden(j.res.Err)
		}
		return
	}
	j.out = written
}

var errEmptyRoles = errors.New("no role would be left, and the API needs at least one")

func (a *applier) progress(j *job) {
	if a.opts.Progress == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opts.Progress(j.res)
}

// newRoles applies changes (all of one token) to the role list read, for a
// plan without a Target; see setRoles.
func newRoles(read []astroapi.Role, changes []Change) []astroapi.Role {
	want := make(map[string]string, len(changes))
	var order []string
	for _, c := range changes {
		if _, dup := want[c.Deployment.ID]; !dup {
			order = append(order, c.Deployment.ID)
		}
		if c.Action == Remove {
			want[c.Deployment.ID] = ""
		} else {
			want[c.Deployment.ID] = c.After
		}
	}
	return setRoles(read, want, order)
}

// setRoles returns the role list read with the DEPLOYMENT entries of the
// deployments in want set to want's role ("" for none): the first such
// entry is replaced in place, or one appended (in the order of order), and
// duplicates are dropped. Every other entry is kept exactly as read, in its
// order. An entry that already holds the wanted role (compared
// case-insensitively) is kept as read.
func setRoles(read []astroapi.Role, want map[string]string, order []string) []astroapi.Role {
	placed := make(map[string]bool, len(want))
	out := make([]astroapi.Role, 0, len(read)+len(order))
	for _, r := range read {
		role, managed := want[r.EntityID]
		if !managed || r.EntityType != astroapi.EntityDeployment {
			out = append(out, r)
			continue
		}
		if role == "" || placed[r.EntityID] {
			continue
		}
		placed[r.EntityID] = true
		if !sameRole(r.Role, role) {
			r = astroapi.Role{EntityID: r.EntityID, EntityType: astroapi.EntityDeployment, Role: role}
		}
		out = append(out, r)
	}
	for _, dep := range order {
		if role := want[dep]; role != "" && !placed[dep] {
			out = append(out, astroapi.Role{EntityID: dep, EntityType: astroapi.EntityDeployment, Role: role})
		}
	}
	return out
}

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
	// ChangedByOthers are written tokens whose role list now differs from
	// the list posted: someone else wrote them during the run.
	ChangedByOthers []TokenRef
}

// Verify compares the managed assignments with now, the tokens as listed
// after apply: every one of them against p's Target (the plan recomputed on
// now must be empty) or, without a Target, those of p's changes. It also
// compares the written tokens of r with what was posted.
func Verify(p Plan, r Result, now []astroapi.Token) Verification {
	byID := make(map[string]*astroapi.Token, len(now))
	for i := range now {
		byID[now[i].ID] = &now[i]
	}
	var v Verification
	if p.Target != nil {
		again := Compute(p.Target.Desired, &Observed{Organization: p.Organization, Tokens: now},
			Options{Prune: p.Target.Prune, MaxRemovals: -1})
		v.Remaining = again.Changes
	} else {
		v.Remaining = remaining(p, byID)
	}
	for _, w := range r.Written {
		t := byID[w.Token.ID]
		if t == nil || Fingerprint(t.Roles) != Fingerprint(w.Roles) {
			v.ChangedByOthers = append(v.ChangedByOthers, w.Token)
		}
	}
	slices.SortFunc(v.Remaining, compareChange)
	slices.SortFunc(v.ChangedByOthers, compareTokenRef)
	v.Converged = len(v.Remaining) == 0
	return v
}

// remaining are the changes of p that do not hold in byID.
func remaining(p Plan, byID map[string]*astroapi.Token) []Change {
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
		if t := byID[c.Token.ID]; t != nil {
			have = deploymentRole(t.Roles, c.Deployment.ID)
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

// deploymentRole is the role of the first DEPLOYMENT entry for dep, or "".
func deploymentRole(roles []astroapi.Role, dep string) string {
	for _, r := range roles {
		if r.EntityType == astroapi.EntityDeployment && r.EntityID == dep {
			return r.Role
		}
	}
	return ""
}
