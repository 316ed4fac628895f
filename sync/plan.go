package sync

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// The reasons Compute gives for removals and unmanaged assignments.
const (
	ReasonAbsent          = "state: absent"
	ReasonPrune           = "not in spec (prune)"
	ReasonNotInSpec       = "not in spec; prune is off"
	ReasonImpliedAccessor = "implied by its DAG roles on this deployment (Astro adds DEPLOYMENT_ACCESSOR for them)"
	ReasonNotListedKind   = "not in spec; the deployment does not list its kind"
	ReasonDeploymentToken = "deployment API token: not managed"
	reasonUnknownKind     = "not managed"
)

// Key is the identity of one assignment: a subject's role on a deployment.
// Astro's ids are unique across kinds of subject.
type Key struct {
	Deployment string // deployment id
	Subject    string // subject id
}

// Key returns the identity of the assignment c is about.
func (c Change) Key() Key { return Key{Deployment: c.Deployment.ID, Subject: c.Subject.ID} }

// Refused reports whether any guard of p refused the plan.
func (p Plan) Refused() bool {
	return slices.ContainsFunc(p.Guards, func(g Guard) bool { return !g.OK })
}

// Summary counts the changes of p by action: adds, updates and removals.
func (p Plan) Summary() (add, change, remove int) {
	return count(p.Changes)
}

func count(changes []Change) (add, change, remove int) {
	for _, c := range changes {
		switch c.Action {
		case Add:
			add++
		case Update:
			change++
		case Remove:
			remove++
		}
	}
	return add, change, remove
}

// sameRole reports whether a and b are the same role: exactly equal. Both
// sides are the API's spelling: Resolve upper-cases a built-in name given
// in any case, and the API answers built-in names upper case; a custom
// role is named by its exact name, and Astro tells custom roles apart by
// case ("Reader" and "READER" are two roles). A role read in another case
// than the API's is therefore another role, never the same one.
func sameRole(a, b string) bool { return a == b }

// Matches reports whether one of patterns (spec.Glob) matches the name or
// id of s, as the spec's ignore lists, --protect and export --ignore match.
func Matches(patterns []string, s SubjectRef) bool {
	_, ok := matchGlob(patterns, s)
	return ok
}

// matchGlob returns the first pattern that matches the name or id of s, in
// the one glob dialect (spec.Glob: in any case, * crossing '/').
func matchGlob(patterns []string, s SubjectRef) (string, bool) {
	for _, p := range patterns {
		g := spec.Glob(p)
		if (s.Name != "" && g.Match(s.Name)) || (s.ID != "" && g.Match(s.ID)) {
			return p, true
		}
	}
	return "", false
}

// compareChange orders changes by deployment name, deployment id, subject
// name, subject id.
func compareChange(a, b Change) int {
	return cmp.Or(
		cmp.Compare(a.Deployment.Name, b.Deployment.Name),
		cmp.Compare(a.Deployment.ID, b.Deployment.ID),
		compareSubject(a.Subject, b.Subject),
	)
}

func compareSubject(a, b SubjectRef) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

// Compute decides, for every assignment on a managed deployment, what apply
// must do; see the package documentation for the decision table. It does
// no I/O and does not modify d or obs; equal inputs give equal plans, in
// the same order, whatever the order of the input slices.
//
// It runs in stages: normalise both sides into assignments by Key, decide
// each key by the decision table (with the prune policy), then the guards
// and the fingerprints.
func Compute(d Desired, obs *Observed, opts Options) Plan {
	if obs == nil {
		obs = &Observed{}
	}
	in := normalise(d, obs)
	p := Plan{Organization: obs.Organization}
	for _, k := range in.keys() {
		c, ok := decide(in.situation(k, opts))
		switch {
		case !ok:
		case c.Action == Unmanaged:
			p.Unmanaged = append(p.Unmanaged, c)
		default:
			p.Changes = append(p.Changes, c)
		}
	}
	slices.SortFunc(p.Changes, compareChange)
	slices.SortFunc(p.Unmanaged, compareChange)
	p.Guards = []Guard{
		maxRemovalsGuard(p.Changes, opts.MaxRemovals),
		allowEmptyGuard(p.Changes, in.remaining(p.Changes), in.allowEmpty()),
		protectGuard(p.Changes, opts.Protect),
	}
	p.Fingerprints = in.fingerprints(p.Changes)
	p.Target = newTarget(d, opts.Prune)
	return p
}

// ---- stage 1: normalise

// desiredEntry is one spec entry, by key.
type desiredEntry struct {
	subject SubjectRef
	role    string
	absent  bool
	source  spec.Pos
}

// index is both sides of a plan as assignments by Key.
type index struct {
	managed  map[string]*ManagedDeployment // by deployment id; the first listing counts
	depNames map[string]string             // every observed deployment's name, by id
	subjects map[string]*Subject           // observed, by id; the first of duplicates counts
	ignore   map[Kind][]string
	desired  map[Key]desiredEntry // the first entry of a key counts
	observed map[Key]string       // the first role of a subject on a managed deployment
}

func normalise(d Desired, obs *Observed) *index {
	in := &index{
		managed:  make(map[string]*ManagedDeployment, len(d.Deployments)),
		depNames: make(map[string]string, len(obs.Deployments)),
		subjects: make(map[string]*Subject, len(obs.Subjects)),
		ignore:   d.Ignore,
		desired:  make(map[Key]desiredEntry),
		observed: make(map[Key]string),
	}
	for _, dep := range obs.Deployments {
		in.depNames[dep.ID] = dep.Name
	}
	for i := range obs.Subjects {
		s := &obs.Subjects[i]
		if _, dup := in.subjects[s.ID]; !dup {
			in.subjects[s.ID] = s
		}
	}
	for i := range d.Deployments {
		md := &d.Deployments[i]
		if _, dup := in.managed[md.ID]; dup {
			continue
		}
		in.managed[md.ID] = md
		for _, a := range md.Assignments {
			k := Key{Deployment: md.ID, Subject: a.Subject.ID}
			if _, dup := in.desired[k]; !dup {
				in.desired[k] = desiredEntry{subject: a.Subject, role: a.Role, absent: a.Absent, source: a.Source}
			}
		}
	}
	for _, s := range in.subjects {
		for _, r := range s.Deployments {
			k := Key{Deployment: r.DeploymentID, Subject: s.ID}
			if _, seen := in.observed[k]; !seen && in.managed[r.DeploymentID] != nil {
				in.observed[k] = r.Role
			}
		}
	}
	return in
}

// keys are every key of either side, unsorted.
func (in *index) keys() []Key {
	keys := slices.AppendSeq(make([]Key, 0, len(in.desired)+len(in.observed)), maps.Keys(in.desired))
	for k := range in.observed {
		if _, ok := in.desired[k]; !ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// ---- stage 2: decide

// situation is everything the decision table looks at for one key.
type situation struct {
	deployment DeploymentRef
	subject    SubjectRef
	entry      *desiredEntry // nil when the spec does not list the subject
	before     string        // the role observed, "" for none
	has        bool          // a role is observed
	ignoredBy  string        // the ignore glob the subject matches, if any
	listsKind  bool          // the deployment's entry lists the subject's kind
	prune      bool          // prune is on for the deployment
	dagRoles   bool          // the subject holds DAG roles on the deployment
}

func (in *index) situation(k Key, opts Options) situation {
	md := in.managed[k.Deployment]
	s := situation{deployment: DeploymentRef{ID: md.ID, Name: cmp.Or(md.Name, in.depNames[md.ID])}}
	if e, listed := in.desired[k]; listed {
		s.entry = &e
		s.subject = e.subject
	}
	if sub := in.subjects[k.Subject]; sub != nil {
		s.subject = sub.SubjectRef
	}
	s.before, s.has = in.observed[k]
	s.ignoredBy, _ = matchGlob(in.ignore[s.subject.Kind], s.subject)
	s.listsKind = slices.Contains(md.Lists, s.subject.Kind)
	s.prune = opts.Prune || md.Prune
	if sub := in.subjects[k.Subject]; sub != nil {
		s.dagRoles = slices.Contains(sub.DagDeployments, k.Deployment)
	}
	return s
}

// decisionTable holds the rows of the decision table in sync/doc.go, in
// order: the first row that applies decides.
var decisionTable = []func(situation) (Change, bool){
	unmanagedKind,
	ignored,
	listedWithRole,
	listedAbsent,
	impliedAccessor,
	notListed,
}

// decide returns the change for one key, or false when there is none.
func decide(s situation) (Change, bool) {
	for _, row := range decisionTable {
		if c, applies := row(s); applies {
			return c, c.Action != ""
		}
	}
	return Change{}, false
}

func (s situation) change(a Action, after, reason string) Change {
	c := Change{Action: a, Deployment: s.deployment, Subject: s.subject, Before: s.before, After: after, Reason: reason}
	if s.entry != nil && a != Unmanaged {
		src := s.entry.source
		c.Source = &src
	}
	return c
}

// leftAlone is the unmanaged change of an observed role, or none.
func (s situation) leftAlone(reason string) (Change, bool) {
	if !s.has {
		return Change{}, true
	}
	return s.change(Unmanaged, s.before, reason), true
}

// unmanagedKind: a deployment API token (or a subject of a kind tokensync
// does not know) is never managed.
func unmanagedKind(s situation) (Change, bool) {
	if managedKind(s.subject.Kind) {
		return Change{}, false
	}
	return s.leftAlone(cmp.Or(kinds[s.subject.Kind].unmanaged, reasonUnknownKind))
}

// ignored: a subject that matches its kind's ignore globs is never touched.
func ignored(s situation) (Change, bool) {
	if s.ignoredBy == "" {
		return Change{}, false
	}
	return s.leftAlone(fmt.Sprintf("ignored (%s %q)", kinds[s.subject.Kind].ignoreKey, s.ignoredBy))
}

// listedWithRole: a listed role is added, or updated when another is held.
func listedWithRole(s situation) (Change, bool) {
	if s.entry == nil || s.entry.absent {
		return Change{}, false
	}
	switch {
	case !s.has:
		return s.change(Add, s.entry.role, ""), true
	case !sameRole(s.before, s.entry.role):
		return s.change(Update, s.entry.role, ""), true
	}
	return Change{}, true
}

// listedAbsent: state: absent removes a held role.
func listedAbsent(s situation) (Change, bool) {
	if s.entry == nil {
		return Change{}, false
	}
	if !s.has {
		return Change{}, true
	}
	return s.change(Remove, "", ReasonAbsent), true
}

// impliedAccessor: an unlisted DEPLOYMENT_ACCESSOR of a subject that holds
// DAG roles on the deployment is what Astro adds for them: not drift, and
// never pruned (Astro would add it again at once).
func impliedAccessor(s situation) (Change, bool) {
	if s.entry != nil || !s.dagRoles || s.before != astroapi.RoleDeploymentAccessor {
		return Change{}, false
	}
	return s.leftAlone(ReasonImpliedAccessor)
}

// notListed: the prune policy. An unlisted role is removed only when
// prune is on for the deployment and its entry lists the subject's kind.
func notListed(s situation) (Change, bool) {
	switch {
	case !s.has:
		return Change{}, true
	case s.prune && s.listsKind:
		return s.change(Remove, "", ReasonPrune), true
	case s.prune:
		return s.leftAlone(ReasonNotListedKind)
	}
	return s.leftAlone(ReasonNotInSpec)
}

// ---- stage 3: guards

// The names of the guards, in the order Compute reports them.
const (
	GuardMaxRemovals = "max-removals"
	GuardAllowEmpty  = "allow-empty"
	GuardProtect     = "protect"
)

// remaining counts, per managed deployment, the managed subjects that hold
// a role on it after changes.
func (in *index) remaining(changes []Change) map[string]int {
	after := make(map[Key]bool, len(in.observed))
	for k := range in.observed {
		if s := in.subjects[k.Subject]; s != nil && managedKind(s.Kind) {
			after[k] = true
		}
	}
	for _, c := range changes {
		after[c.Key()] = c.Action != Remove
	}
	n := make(map[string]int)
	for k, holds := range after {
		if holds {
			n[k.Deployment]++
		}
	}
	return n
}

// allowEmpty is the set of managed deployments that say allowEmpty.
func (in *index) allowEmpty() map[string]bool {
	out := make(map[string]bool)
	for id, md := range in.managed {
		if md.AllowEmpty {
			out[id] = true
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func maxRemovalsGuard(changes []Change, limit int) Guard {
	_, _, n := count(changes)
	g := Guard{Name: GuardMaxRemovals, OK: true}
	switch {
	case limit < 0:
		g.Message = plural(n, "removal", "removals") + " (no limit)"
	case n <= limit:
		g.Message = fmt.Sprintf("%s (limit %d)", plural(n, "removal", "removals"), limit)
	default:
		g.OK = false
		g.Message = fmt.Sprintf("%s exceed the limit of %d (raise --max-removals, or -1 for no limit)",
			plural(n, "removal", "removals"), limit)
	}
	return g
}

// allowEmptyGuard refuses a plan whose prune removes the last managed
// subject's role from a deployment that does not say allowEmpty.
func allowEmptyGuard(changes []Change, remaining map[string]int, allowEmpty map[string]bool) Guard {
	var bad []string
	seen := make(map[string]bool)
	for _, c := range changes { // sorted, so the message is too
		id := c.Deployment.ID
		if seen[id] || c.Reason != ReasonPrune || allowEmpty[id] || remaining[id] > 0 {
			continue
		}
		seen[id] = true
		bad = append(bad, fmt.Sprintf("prune would leave deployment %q without any token, user or team", c.Deployment.Name))
	}
	if len(bad) == 0 {
		return Guard{Name: GuardAllowEmpty, OK: true, Message: "prune empties no deployment"}
	}
	return Guard{Name: GuardAllowEmpty, Message: strings.Join(bad, "; ") + " (set allowEmpty: true on the deployment to allow it)"}
}

func protectGuard(changes []Change, protect []string) Guard {
	if len(protect) == 0 {
		return Guard{Name: GuardProtect, OK: true, Message: "no protected subjects"}
	}
	var bad []string
	for _, c := range changes {
		if c.Action == Add {
			continue
		}
		if _, ok := matchGlob(protect, c.Subject); !ok {
			continue
		}
		switch c.Action {
		case Remove:
			bad = append(bad, fmt.Sprintf("protected %s would lose its role %s on deployment %q", Label(c.Subject), c.Before, c.Deployment.Name))
		case Update:
			bad = append(bad, fmt.Sprintf("protected %s would change its role on deployment %q from %s to %s", Label(c.Subject), c.Deployment.Name, c.Before, c.After))
		}
	}
	if len(bad) == 0 {
		return Guard{Name: GuardProtect, OK: true, Message: "no protected subject loses or changes a role"}
	}
	return Guard{Name: GuardProtect, Message: strings.Join(bad, "; ")}
}

// Label names a subject in messages: its kind and name, e.g. `token
// "ci-deployer"`, `user "alice@example.com"`.
func Label(s SubjectRef) string {
	return fmt.Sprintf("%s %q", cmp.Or(kinds[s.Kind].noun, "token"), s.Name)
}

// CheckSaved enforces the guards that apply's own flags set on a saved
// plan: max-removals and protect, against the saved changes. It returns
// only the guards that refuse; the saved plan's own guards still hold.
func CheckSaved(p Plan, opts Options) []Guard {
	var refused []Guard
	for _, g := range []Guard{maxRemovalsGuard(p.Changes, opts.MaxRemovals), protectGuard(p.Changes, opts.Protect)} {
		if !g.OK {
			refused = append(refused, g)
		}
	}
	return refused
}

// ---- stage 4: fingerprints and target

// fingerprints maps every subject with a change to its fingerprint as
// observed ("" for a subject not observed).
func (in *index) fingerprints(changes []Change) map[string]string {
	if len(changes) == 0 {
		return nil
	}
	fp := make(map[string]string)
	for _, c := range changes {
		if s := in.subjects[c.Subject.ID]; s != nil {
			fp[c.Subject.ID] = s.Fingerprint
		} else {
			fp[c.Subject.ID] = Fingerprint(nil)
		}
	}
	return fp
}

// newTarget copies d in canonical order, as Compute reads it: the first
// entry of a deployment or of a subject on a deployment counts.
func newTarget(d Desired, prune bool) *Target {
	t := &Target{Prune: prune, Desired: Desired{Ignore: maps.Clone(d.Ignore)}}
	seen := make(map[string]bool, len(d.Deployments))
	for _, md := range d.Deployments {
		if seen[md.ID] {
			continue
		}
		seen[md.ID] = true
		md.Assignments = slices.Clone(md.Assignments)
		slices.SortStableFunc(md.Assignments, func(a, b DesiredAssignment) int { return cmp.Compare(a.Subject.ID, b.Subject.ID) })
		md.Assignments = slices.CompactFunc(md.Assignments, func(a, b DesiredAssignment) bool { return a.Subject.ID == b.Subject.ID })
		md.Lists = slices.Clone(md.Lists)
		t.Desired.Deployments = append(t.Desired.Deployments, md)
	}
	slices.SortFunc(t.Desired.Deployments, func(a, b ManagedDeployment) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return t
}

// Guards recomputes the guards of a plan from its changes, its unmanaged
// assignments and its Target, under opts: what a saved plan is checked
// against when it is applied, rather than the verdicts it records. After
// apply, a deployment keeps every subject the Target lists with a role and
// every unmanaged assignment of a managed kind.
func Guards(p Plan, opts Options) []Guard {
	remaining := make(map[string]int)
	allowEmpty := make(map[string]bool)
	if p.Target != nil {
		for _, md := range p.Target.Desired.Deployments {
			allowEmpty[md.ID] = md.AllowEmpty
			for _, a := range md.Assignments {
				if !a.Absent {
					remaining[md.ID]++
				}
			}
		}
	}
	for _, c := range p.Unmanaged {
		if managedKind(c.Subject.Kind) {
			remaining[c.Deployment.ID]++
		}
	}
	return []Guard{
		maxRemovalsGuard(p.Changes, opts.MaxRemovals),
		allowEmptyGuard(p.Changes, remaining, allowEmpty),
		protectGuard(p.Changes, opts.Protect),
	}
}
