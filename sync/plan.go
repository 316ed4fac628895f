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
	ReasonKeepsAccessor   = "its DAG roles on this deployment keep DEPLOYMENT_ACCESSOR (Astro adds it for them)"
	ReasonImpliedWsAccess = "implied by its roles in this workspace (Astro adds WORKSPACE_ACCESSOR for them)"
	ReasonKeepsWsAccess   = "its roles in this workspace keep WORKSPACE_ACCESSOR (Astro adds it for them)"
	ReasonDemote          = "not in spec (prune): demoted to ORGANIZATION_MEMBER; nobody is removed from the organization"
	// A removal by prune that Astro's implied accessors make an update.
	ReasonPruneKeepsAccessor = ReasonPrune + ": " + ReasonKeepsAccessor
	ReasonPruneKeepsWsAccess = ReasonPrune + ": " + ReasonKeepsWsAccess
	ReasonOwnWorkspace       = "a workspace token's role on its own workspace is updated, never removed"
	ReasonOwnOrganization    = "an organization token's organization role is updated, never removed"
	ReasonNotListedKind      = "not in spec; the scope does not list its kind"
	ReasonDeploymentToken    = "deployment API token: not managed"
	reasonUnknownKind        = "not managed"
)

// Key is the identity of one assignment: a subject's role at a scope.
// Astro's ids are unique across kinds of subject.
type Key struct {
	Scope   Scope
	Subject string // subject id
}

// Key returns the identity of the assignment c is about.
func (c Change) Key() Key { return Key{Scope: c.Scope.Key(), Subject: c.Subject.ID} }

// Takes reports whether c takes a role away: a removal, or an update
// that leaves only what Astro keeps by itself (a demotion to
// ORGANIZATION_MEMBER, or the accessor role that other roles imply). The
// max-removals guard counts these.
func (c Change) Takes() bool {
	switch c.Action {
	case Remove:
		return true
	case Update:
		switch c.Reason {
		case ReasonDemote, ReasonKeepsAccessor, ReasonKeepsWsAccess, ReasonPruneKeepsAccessor, ReasonPruneKeepsWsAccess:
			return true
		}
	}
	return false
}

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

// compareChange orders changes by scope (compareScope), subject name,
// subject id.
func compareChange(a, b Change) int {
	return cmp.Or(CompareScope(a.Scope, b.Scope), compareSubject(a.Subject, b.Subject))
}

func compareSubject(a, b SubjectRef) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

// Compute decides, for every assignment on a managed scope, what apply
// must do; see the package documentation for the decision table. It does
// no I/O and does not modify d or obs; equal inputs give equal plans, in
// the same order, whatever the order of the input slices.
//
// It runs in stages: index the spec by subject; for each subject, gather
// its keys (its entries and its roles on managed scopes), decide each key
// by the decision table (with the prune policy), then what Astro's implied
// accessors make of removals; then the guards and the fingerprints.
func Compute(d Desired, obs *Observed, opts Options) Plan {
	if obs == nil {
		obs = &Observed{}
	}
	pl := newPlanner(d, opts.Prune, obs)
	p := Plan{Organization: obs.Organization}
	g := newGuardState(pl, obs)
	seen := make(map[string]bool, len(obs.Subjects))
	// One subject's roles on managed scopes and their scopes, reused.
	var (
		roles held
		keys  []Scope
	)
	add := func(ref SubjectRef, s *Subject) {
		keys = pl.held(s, &roles, keys[:0])
		changes := pl.subject(ref, s, &roles, keys)
		g.count(ref, s, &roles, changes)
		for _, c := range changes {
			if c.Action == Unmanaged {
				p.Unmanaged = append(p.Unmanaged, c)
			} else {
				p.Changes = append(p.Changes, c)
			}
		}
	}
	for i := range obs.Subjects {
		s := &obs.Subjects[i]
		if !seen[s.ID] {
			seen[s.ID] = true
			add(s.SubjectRef, s)
		}
	}
	for _, id := range pl.subjects {
		if !seen[id] {
			add(pl.entries(id)[0].entry.Subject, nil)
		}
	}
	slices.SortFunc(p.Changes, compareChange)
	slices.SortFunc(p.Unmanaged, compareChange)
	p.Guards = []Guard{
		maxRemovalsGuard(p.Changes, opts.MaxRemovals),
		allowEmptyGuard(p.Changes, g.remaining, pl.allowEmpty()),
		protectGuard(p.Changes, opts.Protect),
		lockoutGuard(p.Changes, g),
	}
	p.Fingerprints = fingerprints(p.Changes, obs.Subjects)
	p.Target = newTarget(d, opts.Prune)
	return p
}

// ---- stage 1: index the spec

// listedEntry is a spec entry, by key: its assignment, with its scope.
type listedEntry struct {
	scope Scope
	entry *DesiredAssignment // in the Desired the planner was made from
}

// planner is the spec side of a plan, indexed by scope and by subject:
// what Compute decides each subject by, and what Apply decides a fresh
// read of one subject by.
type planner struct {
	managed    map[Scope]*ManagedScope // the first listing of a scope counts
	order      []Scope                 // managed scopes, in the spec's order
	index      map[string]int32        // listed subject id → its position in subjects and listed
	subjects   []string                // listed subject ids, in the spec's order
	listed     [][]listedEntry         // the entries of each listed subject; the first entry of a key counts
	ignore     map[Kind][]string
	workspaces map[string]string // deployment id → workspace id
	depNames   map[string]string // observed deployment names, by id
	prune      bool              // Options.Prune
}

func newPlanner(d Desired, prune bool, obs *Observed) *planner {
	pl := &planner{
		managed:    make(map[Scope]*ManagedScope, len(d.Scopes)),
		ignore:     d.Ignore,
		workspaces: maps.Clone(d.Workspaces),
		depNames:   make(map[string]string),
		prune:      prune,
	}
	if pl.workspaces == nil {
		pl.workspaces = make(map[string]string)
	}
	if obs != nil {
		pl.depNames = make(map[string]string, len(obs.Deployments))
		for _, dep := range obs.Deployments {
			// What the API says wins over a saved plan's record of it.
			pl.depNames[dep.ID] = dep.Name
			pl.workspaces[dep.ID] = dep.WorkspaceID
		}
	}
	// First the managed scopes and, for every assignment on them, the
	// position of its subject in pl.subjects; then each subject's entries
	// in one slice carved from a single array, in the spec's order.
	var (
		scopes []*ManagedScope // the managed scopes, in the spec's order
		total  int
	)
	for i := range d.Scopes {
		md := &d.Scopes[i]
		sc := md.Key()
		if _, dup := pl.managed[sc]; dup {
			continue
		}
		pl.managed[sc] = md
		pl.order = append(pl.order, sc)
		scopes = append(scopes, md)
		total += len(md.Assignments)
		if md.Level == LevelDeployment && md.WorkspaceID != "" && pl.workspaces[md.ID] == "" {
			pl.workspaces[md.ID] = md.WorkspaceID
		}
	}
	pl.index = make(map[string]int32)
	of := make([]int32, 0, total) // the subject of each assignment, by position
	var counts []int32
	for _, md := range scopes {
		for _, a := range md.Assignments {
			i, ok := pl.index[a.Subject.ID]
			if !ok {
				i = int32(len(pl.subjects))
				pl.index[a.Subject.ID] = i
				pl.subjects = append(pl.subjects, a.Subject.ID)
				counts = append(counts, 0)
			}
			counts[i]++
			of = append(of, i)
		}
	}
	all := make([]listedEntry, total)
	lists := make([][]listedEntry, len(pl.subjects))
	off := int32(0)
	for i, n := range counts {
		lists[i] = all[off : off : off+n]
		off += n
	}
	k := 0
	for _, md := range scopes {
		sc := md.Key()
		for j := range md.Assignments {
			i := of[k]
			k++
			if slices.ContainsFunc(lists[i], func(l listedEntry) bool { return l.scope == sc }) {
				continue
			}
			lists[i] = append(lists[i], listedEntry{scope: sc, entry: &md.Assignments[j]})
		}
	}
	pl.listed = lists
	return pl
}

// entries are the spec entries of subject id, nil when it is not listed.
func (pl *planner) entries(id string) []listedEntry {
	if i, ok := pl.index[id]; ok {
		return pl.listed[i]
	}
	return nil
}

// changesOf returns the changes of subject s, as read (planner.subject).
func (pl *planner) changesOf(s *Subject) []Change {
	var roles held
	return pl.subject(s.SubjectRef, s, &roles, pl.held(s, &roles, nil))
}

// held sets h to the roles s holds on managed scopes, as read (none when s
// is nil): the first grant of a scope counts. It appends those scopes to
// keys, in the order of s's grants, and returns the result.
func (pl *planner) held(s *Subject, h *held, keys []Scope) []Scope {
	h.reset()
	if s == nil {
		return keys
	}
	h.grow(len(s.Grants))
	for _, g := range s.Grants {
		if _, seen := h.get(g.Scope); !seen && pl.managed[g.Scope] != nil {
			h.set(g.Scope, g.Role)
			keys = append(keys, g.Scope)
		}
	}
	return keys
}

// ref is how a plan names managed scope sc.
func (pl *planner) ref(sc Scope) ScopeRef {
	md := pl.managed[sc]
	r := md.ScopeRef
	if r.Level == LevelDeployment && r.Name == "" {
		r.Name = pl.depNames[r.ID]
	}
	if (r.Level == LevelDAG || r.Level == LevelDAGTag) && r.Deployment.Name == "" {
		r.Deployment.Name = pl.depNames[r.Deployment.ID]
	}
	return r
}

// ---- stage 2: decide, one subject at a time

// subject returns the changes of one subject, unmanaged ones included: s
// as read, or nil when it was not observed (ref then names it as listed);
// observed are its roles on managed scopes and keys their scopes
// (planner.held). It appends to keys.
func (pl *planner) subject(ref SubjectRef, s *Subject, observed *held, keys []Scope) []Change {
	if s != nil {
		ref = s.SubjectRef
	}
	entries := pl.entries(ref.ID)
	for _, l := range entries {
		if _, has := observed.get(l.scope); !has {
			keys = append(keys, l.scope)
		}
	}
	// Decided once for the subject: the first rows of the decision table
	// look at nothing else, and a key whose listed role is held needs no
	// other row (listedWithRole).
	var ignoredBy string
	if len(keys) > 0 {
		ignoredBy, _ = matchGlob(pl.ignore[ref.Kind], ref)
	}
	plain := ignoredBy == "" && managedKind(ref.Kind)
	var changes []Change
	for _, sc := range keys {
		var entry *DesiredAssignment
		for _, l := range entries {
			if l.scope == sc {
				entry = l.entry
				break
			}
		}
		before, has := observed.get(sc)
		if plain && entry != nil && !entry.Absent && has && sameRole(before, entry.Role) {
			continue
		}
		sit := situation{scope: pl.ref(sc), subject: ref, entry: entry, before: before, has: has, ignoredBy: ignoredBy}
		md := pl.managed[sc]
		sit.listsKind = slices.Contains(md.Lists, ref.Kind)
		sit.prune = pl.prune || md.Prune
		sit.own = ownScope(ref.Kind, sc, s)
		if c, ok := decide(sit); ok {
			changes = append(changes, c)
		}
	}
	if s != nil {
		changes = pl.accessors(s, changes)
	}
	return changes
}

// held are the roles of one subject by scope, the first of a scope
// counts: an array while they are few, as most subjects hold a few roles,
// and a map once they are not.
type held struct {
	list [heldList]heldRole
	n    int // roles in list
	m    map[Scope]string
}

type heldRole struct {
	scope Scope
	role  string
}

// heldList is the most roles held keeps in its array.
const heldList = 16

func (h *held) grow(n int) {
	if n > heldList {
		h.m = make(map[Scope]string, n)
	}
}

// reset forgets every role, for the next subject.
func (h *held) reset() {
	clear(h.list[:h.n])
	h.n, h.m = 0, nil
}

func (h *held) get(sc Scope) (string, bool) {
	if h.m != nil {
		role, ok := h.m[sc]
		return role, ok
	}
	for _, r := range h.list[:h.n] {
		if r.scope == sc {
			return r.role, true
		}
	}
	return "", false
}

// set records role at sc, replacing the role there if any.
func (h *held) set(sc Scope, role string) {
	if h.m != nil {
		h.m[sc] = role
		return
	}
	for i := range h.list[:h.n] {
		if h.list[i].scope == sc {
			h.list[i].role = role
			return
		}
	}
	if h.n == heldList {
		h.m = make(map[Scope]string, 2*heldList)
		for _, r := range h.list[:h.n] {
			h.m[r.scope] = r.role
		}
		h.m[sc] = role
		return
	}
	h.list[h.n] = heldRole{sc, role}
	h.n++
}

// delete forgets the role at sc.
func (h *held) delete(sc Scope) {
	if h.m != nil {
		delete(h.m, sc)
		return
	}
	for i := range h.list[:h.n] {
		if h.list[i].scope == sc {
			copy(h.list[i:h.n], h.list[i+1:h.n])
			h.n--
			h.list[h.n] = heldRole{}
			return
		}
	}
}

// all calls f for every scope and its role.
func (h *held) all(f func(Scope, string)) {
	if h.m != nil {
		for sc, role := range h.m {
			f(sc, role)
		}
		return
	}
	for _, r := range h.list[:h.n] {
		f(r.scope, r.role)
	}
}

// ownScope reports whether sc is the scope a token of kind k belongs to:
// an organization token's organization, a workspace token's workspace.
func ownScope(k Kind, sc Scope, s *Subject) bool {
	switch k {
	case KindOrganizationToken:
		return sc.Level == LevelOrganization
	case KindWorkspaceToken:
		return s != nil && sc.Level == LevelWorkspace && sc.ID == s.Workspace
	}
	return false
}

// situation is everything the decision table looks at for one key.
type situation struct {
	scope     ScopeRef
	subject   SubjectRef
	entry     *DesiredAssignment // nil when the spec does not list the subject
	before    string             // the role observed, "" for none
	has       bool               // a role is observed
	ignoredBy string             // the ignore glob the subject matches, if any
	listsKind bool               // the scope's entry lists the subject's kind
	prune     bool               // prune is on for the scope
	own       bool               // the scope is the token's own workspace or organization
}

// decisionTable holds the rows of the decision table in sync/doc.go, in
// order: the first row that applies decides.
var decisionTable = []func(situation) (Change, bool){
	unmanagedKind,
	ignored,
	listedWithRole,
	ownRole,
	organizationLevel,
	listedAbsent,
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
	c := Change{Action: a, Scope: s.scope, Subject: s.subject, Before: s.before, After: after, Reason: reason}
	if s.entry != nil && a != Unmanaged {
		src := s.entry.Source
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
	if s.entry == nil || s.entry.Absent {
		return Change{}, false
	}
	switch {
	case !s.has:
		return s.change(Add, s.entry.Role, ""), true
	case !sameRole(s.before, s.entry.Role):
		return s.change(Update, s.entry.Role, ""), true
	}
	return Change{}, true
}

// ownRole: a token's role on its own workspace or organization is what
// makes it a token of that scope: it is updated, never removed.
func ownRole(s situation) (Change, bool) {
	if !s.own {
		return Change{}, false
	}
	if s.scope.Level == LevelOrganization {
		return s.leftAlone(ReasonOwnOrganization)
	}
	return s.leftAlone(ReasonOwnWorkspace)
}

// organizationLevel: nobody is removed from the organization. A user or
// team that prune (or state: absent) would remove is demoted to
// ORGANIZATION_MEMBER instead.
func organizationLevel(s situation) (Change, bool) {
	if s.scope.Level != LevelOrganization || !s.has {
		return Change{}, false
	}
	if s.entry == nil && !(s.prune && s.listsKind) {
		return Change{}, false
	}
	if s.before == astroapi.RoleOrganizationMember {
		return Change{}, true
	}
	return s.change(Update, astroapi.RoleOrganizationMember, ReasonDemote), true
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

// notListed: the prune policy. An unlisted role is removed only when
// prune is on for the scope and its entry lists the subject's kind.
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

// accessors is what Astro's implied parent roles make of a subject's
// removals: Astro keeps DEPLOYMENT_ACCESSOR on a deployment where the
// subject holds DAG roles, and WORKSPACE_ACCESSOR in a workspace where it
// holds deployment or DAG roles, after the plan. A removal of such an
// accessor is not made (Astro would add it again): the role is left alone
// as implied. A removal of another role there is what Astro turns it
// into: an update to the accessor.
//
// For a token only the first holds: Astro documents the implied accessors
// for the role sets of users and teams, and a token is not known to get
// them (the emulator adds none), so a token's other role is removed as
// asked, but an accessor it holds beside DAG roles is still left alone.
func (pl *planner) accessors(s *Subject, changes []Change) []Change {
	if !slices.ContainsFunc(changes, func(c Change) bool { return c.Action == Remove }) {
		return changes
	}
	person := s.Kind == KindUser || s.Kind == KindTeam
	after := heldAfter(s, changes)
	needs := make(map[Scope]bool)
	for sc := range after {
		if p := sc.Parent(); p.Level != "" {
			needs[p] = true
		}
	}
	out := slices.Clone(changes)
	for i := range out {
		if c := &out[i]; c.Action == Remove && c.Scope.Level == LevelDeployment && needs[c.Key().Scope] {
			keepAccessor(c, person, astroapi.RoleDeploymentAccessor, ReasonImpliedAccessor, ReasonKeepsAccessor)
			if c.Action != Remove {
				after[c.Key().Scope] = true
			}
		}
	}
	for sc := range after {
		if ws := pl.workspaces[deploymentOf(sc)]; ws != "" {
			needs[Scope{Level: LevelWorkspace, ID: ws}] = true
		}
	}
	for i := range out {
		if c := &out[i]; c.Action == Remove && c.Scope.Level == LevelWorkspace && needs[c.Key().Scope] {
			keepAccessor(c, person, astroapi.RoleWorkspaceAccessor, ReasonImpliedWsAccess, ReasonKeepsWsAccess)
		}
	}
	return out
}

// heldAfter is the set of scopes where s holds a role after changes.
func heldAfter(s *Subject, changes []Change) map[Scope]bool {
	after := make(map[Scope]bool, len(s.Grants))
	for _, g := range s.Grants {
		after[g.Scope] = true
	}
	for _, c := range changes {
		switch c.Action {
		case Add:
			after[c.Key().Scope] = true
		case Remove:
			delete(after, c.Key().Scope)
		}
	}
	return after
}

// deploymentOf is the deployment of a deployment, DAG or DAG tag scope,
// or "".
func deploymentOf(sc Scope) string {
	switch sc.Level {
	case LevelDeployment:
		return sc.ID
	case LevelDAG, LevelDAGTag:
		return sc.Deployment
	}
	return ""
}

// keepAccessor turns the removal c of a role that a child role needs into
// what Astro makes of it: an accessor removed is left alone as implied;
// another role of a user or team becomes the accessor. A token's other
// role is removed as asked.
func keepAccessor(c *Change, person bool, accessor, implied, keeps string) {
	switch {
	case c.Before == accessor:
		c.Action, c.After, c.Reason, c.Source = Unmanaged, c.Before, implied, nil
	case person && c.Reason == ReasonPrune:
		c.Action, c.After, c.Reason = Update, accessor, ReasonPrune+": "+keeps
	case person:
		c.Action, c.After, c.Reason = Update, accessor, keeps
	}
}

// ---- stage 3: guards

// The names of the guards, in the order Compute reports them.
const (
	GuardMaxRemovals = "max-removals"
	GuardAllowEmpty  = "allow-empty"
	GuardProtect     = "protect"
	GuardLockout     = "lockout"
	// GuardPolicy is the verdict of the policy rules, which the command
	// adds to a plan when a spec or --policy has rules.
	GuardPolicy = "policy"
)

// guardState is what the guards count over every subject, after the plan.
type guardState struct {
	remaining map[Scope]int      // managed deployment → managed subjects, not ignored, holding a role on it other than DEPLOYMENT_ACCESSOR
	before    map[Scope]int      // the managed organization or workspace → users and teams that count as holding its owner role, as read
	owners    map[Scope]int      // the same, after the plan
	users     map[Scope]int      // the same → the active users among them
	teams     map[Scope][]string // the same → every team holding it before or after, counted or not
	// ignore are the spec's ignore globs: an ignored subject (a
	// break-glass token, say) does not keep a deployment from being
	// empty, or the guard would never catch a truncated file where such
	// subjects sit on every deployment.
	ignore     map[Kind][]string
	teamActive map[string]bool // Observed.TeamActive
}

func newGuardState(pl *planner, obs *Observed) *guardState {
	return &guardState{
		remaining: make(map[Scope]int), before: make(map[Scope]int), owners: make(map[Scope]int), users: make(map[Scope]int),
		teams:  make(map[Scope][]string),
		ignore: pl.ignore, teamActive: obs.TeamActive,
	}
}

// ownerRole is the role whose holders the lockout guard counts at level l,
// or "".
func ownerRole(l Level) string {
	switch l {
	case LevelOrganization:
		return astroapi.RoleOrganizationOwner
	case LevelWorkspace:
		return astroapi.RoleWorkspaceOwner
	}
	return ""
}

// count adds what subject ref (s as read, or nil) holds on managed scopes
// after changes; after holds its roles there as read (planner.held), and
// count changes it to the roles after changes.
func (g *guardState) count(ref SubjectRef, s *Subject, after *held, changes []Change) {
	if !managedKind(ref.Kind) {
		return
	}
	after.all(func(sc Scope, role string) {
		if owner := ownerRole(sc.Level); owner == "" || role != owner {
			return
		}
		if ref.Kind == KindTeam {
			g.teams[sc] = append(g.teams[sc], ref.ID) // one the plan takes it from too
		}
		if g.countsAsOwner(ref, s) {
			g.before[sc]++
		}
	})
	for _, c := range changes {
		switch c.Action {
		case Add, Update:
			after.set(c.Key().Scope, c.After)
		case Remove:
			after.delete(c.Key().Scope)
		}
	}
	_, ignored := matchGlob(g.ignore[ref.Kind], ref)
	after.all(func(sc Scope, role string) {
		if sc.Level == LevelDeployment && role != astroapi.RoleDeploymentAccessor && !ignored {
			g.remaining[sc]++
		}
		if owner := ownerRole(sc.Level); owner == "" || role != owner {
			return
		}
		if ref.Kind == KindTeam {
			g.teams[sc] = append(g.teams[sc], ref.ID)
		}
		if g.countsAsOwner(ref, s) {
			g.owners[sc]++
			if ref.Kind == KindUser {
				g.users[sc]++
			}
		}
	})
}

// countsAsOwner says whether subject ref (s as read, or nil) counts as an
// owner where it holds an owner role: an active user, or a team with an
// active member or whose members were not read. A token does not, nor a
// user nobody can sign in as.
func (g *guardState) countsAsOwner(ref SubjectRef, s *Subject) bool {
	switch ref.Kind {
	case KindUser:
		return CanAdminister(s)
	case KindTeam:
		active, read := g.teamActive[ref.ID]
		return active || !read
	}
	return false
}

// CanAdminister says user s (nil if not read) may use the roles it holds:
// an inactive, pending or banned user holds them, but nobody can sign in
// as it, so it keeps nobody out of a lockout.
func CanAdminister(s *Subject) bool {
	return s == nil || s.Status == "" || s.Status == astroapi.UserActive
}

// allowEmpty is the set of managed deployments that say allowEmpty.
func (pl *planner) allowEmpty() map[Scope]bool {
	out := make(map[Scope]bool)
	for sc, md := range pl.managed {
		if md.AllowEmpty {
			out[sc] = true
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

// maxRemovalsGuard refuses a plan that takes more than limit roles away
// (Change.Takes): a truncated file with prune demotes and downgrades as
// surely as it removes.
func maxRemovalsGuard(changes []Change, limit int) Guard {
	n, demotions := 0, 0
	for _, c := range changes {
		if c.Takes() {
			n++
			if c.Action == Update {
				demotions++
			}
		}
	}
	what := plural(n, "removal", "removals")
	if demotions > 0 {
		what += fmt.Sprintf(" (%d of them to %s)", demotions, "ORGANIZATION_MEMBER or an accessor role")
	}
	g := Guard{Name: GuardMaxRemovals, OK: true}
	switch {
	case limit < 0:
		g.Message = what + " (no limit)"
	case n <= limit:
		g.Message = fmt.Sprintf("%s (limit %d)", what, limit)
	default:
		g.OK = false
		g.Message = fmt.Sprintf("%s exceed the limit of %d (raise --max-removals, or -1 for no limit)", what, limit)
	}
	return g
}

// allowEmptyGuard refuses a plan whose prune takes the last managed
// subject's role (other than the DEPLOYMENT_ACCESSOR that DAG roles imply)
// from a deployment that does not say allowEmpty. remaining counts the
// subjects that keep such a role on each deployment.
func allowEmptyGuard(changes []Change, remaining map[Scope]int, allowEmpty map[Scope]bool) Guard {
	var bad []string
	seen := make(map[Scope]bool)
	for _, c := range changes { // sorted, so the message is too
		sc := c.Key().Scope
		if !c.prunesDeployment() || seen[sc] || allowEmpty[sc] || remaining[sc] > 0 {
			continue
		}
		seen[sc] = true
		bad = append(bad, fmt.Sprintf("prune would leave %s without any token, user or team", c.Scope))
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
			bad = append(bad, fmt.Sprintf("protected %s would lose its role %s on %s", Label(c.Subject), c.Before, c.Scope))
		case Update:
			bad = append(bad, fmt.Sprintf("protected %s would change its role on %s from %s to %s", Label(c.Subject), c.Scope, c.Before, c.After))
		}
	}
	if len(bad) == 0 {
		return Guard{Name: GuardProtect, OK: true, Message: "no protected subject loses or changes a role"}
	}
	return Guard{Name: GuardProtect, Message: strings.Join(bad, "; ")}
}

// lockoutGuard refuses a plan that takes the owner role from the last user
// or team holding it (g.before and g.owners count those that count as
// owners, before and after the plan): no plan may leave the organization
// without an ORGANIZATION_OWNER, or a managed workspace without a
// WORKSPACE_OWNER. The credential's own access is not special: the guard
// is about people, so a token's owner role neither keeps a scope from
// being left without one nor is guarded itself.
func lockoutGuard(changes []Change, g *guardState) Guard {
	var bad []string
	seen := make(map[Scope]bool)
	for _, c := range changes {
		sc := c.Key().Scope
		owner, takes := c.takesOwner()
		person := c.Subject.Kind == KindUser || c.Subject.Kind == KindTeam
		if !takes || !person || seen[sc] || g.before[sc] == 0 || g.owners[sc] > 0 {
			continue
		}
		seen[sc] = true
		bad = append(bad, fmt.Sprintf("the plan would leave %s without any %s (%s would lose it)", c.Scope, owner, Label(c.Subject)))
	}
	if len(bad) == 0 {
		return Guard{Name: GuardLockout, OK: true, Message: "no managed organization or workspace loses its last owner"}
	}
	return Guard{Name: GuardLockout, Message: strings.Join(bad, "; ") + " (list another owner first; owners are active users and teams with an active member, not tokens)"}
}

// Label names a subject in messages: its kind and name, e.g. `token
// "ci-deployer"`, `user "alice@example.com"`.
func Label(s SubjectRef) string {
	return fmt.Sprintf("%s %q", cmp.Or(kinds[s.Kind].noun, "token"), s.Name)
}

// CheckSaved enforces the guards that apply's own flags set on a saved
// plan: max-removals and protect, against the saved changes. It returns
// only the guards that refuse, and not one that the saved plan's own
// guards already hold as it is; those still hold.
func CheckSaved(p Plan, opts Options) []Guard {
	var refused []Guard
	for _, g := range []Guard{maxRemovalsGuard(p.Changes, opts.MaxRemovals), protectGuard(p.Changes, opts.Protect)} {
		if !g.OK && !slices.Contains(p.Guards, g) {
			refused = append(refused, g)
		}
	}
	return refused
}

// RecheckSaved enforces again, on the organization as read now, the
// guards of a saved plan that count subjects the plan does not change: a
// workspace or the organization must keep an owner (lockout), and prune
// must not empty a deployment (allow-empty). Another writer may have taken
// an owner role, or a deployment role, from someone else since the plan
// was made, and such a change does not make the plan stale. It returns
// only the guards that refuse, on the saved changes as they stand.
func RecheckSaved(p Plan, obs *Observed) []Guard {
	pl, g := countAfter(p, obs)
	if g == nil {
		return nil
	}
	var refused []Guard
	for _, gd := range []Guard{allowEmptyGuard(p.Changes, g.remaining, pl.allowEmpty()), lockoutGuard(p.Changes, g)} {
		if !gd.OK {
			gd.Message = "on the organization as it is now (not as the plan shows it), " + gd.Message
			refused = append(refused, gd)
		}
	}
	return refused
}

// countAfter counts what the guards of saved plan p count, on the
// organization as read now (obs): what every subject would hold after
// p's changes. g is nil for a plan without a Target or changes.
func countAfter(p Plan, obs *Observed) (pl *planner, g *guardState) {
	if p.Target == nil || len(p.Changes) == 0 {
		return nil, nil
	}
	pl = newPlanner(p.Target.Desired, p.Target.Prune, obs)
	g = newGuardState(pl, obs)
	changes := make(map[string][]Change)
	for _, c := range p.Changes {
		changes[c.Subject.ID] = append(changes[c.Subject.ID], c)
	}
	seen := make(map[string]bool, len(obs.Subjects))
	var roles held
	for i := range obs.Subjects {
		if s := &obs.Subjects[i]; !seen[s.ID] {
			seen[s.ID] = true
			pl.held(s, &roles, nil)
			g.count(s.SubjectRef, s, &roles, changes[s.ID])
		}
	}
	for id, cs := range changes {
		if !seen[id] {
			pl.held(nil, &roles, nil)
			g.count(cs[0].Subject, nil, &roles, cs)
		}
	}
	return pl, g
}

// LockoutTeams are the teams whose members the lockout guard of p needs
// on obs, sorted: where p takes an owner role and no active user holds it
// after p, teams that hold it and whose members were not read
// (Observed.TeamActive). A team counts as an owner only with an active
// member, and a plan reads members only where the guard turns on them:
// reading every team's would be a request per team.
func LockoutTeams(p Plan, obs *Observed) []string {
	if !slices.ContainsFunc(p.Changes, func(c Change) bool { _, takes := c.takesOwner(); return takes }) {
		return nil // the usual plan: no count over every subject again
	}
	_, g := countAfter(p, obs)
	if g == nil {
		return nil
	}
	var out []string
	for _, c := range p.Changes {
		sc := c.Key().Scope
		if _, takes := c.takesOwner(); !takes || g.users[sc] > 0 {
			continue
		}
		for _, id := range g.teams[sc] {
			if _, read := obs.TeamActive[id]; !read {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Inconsistent checks that a saved plan holds together on the
// organization as read now (obs): that its Target makes, of every subject
// it changes, exactly the changes it shows. Apply writes what the Target
// makes of a fresh read, while the guards, the output and the audit log
// go by the changes shown: a plan file edited in one and not the other
// would write what nobody saw. Its fingerprints were checked on obs
// already, so a difference is an edit, not another writer. It returns a
// message per subject that differs, sorted; none for a plan without a
// Target.
func Inconsistent(p Plan, obs *Observed) []string {
	if p.Target == nil || len(p.Changes) == 0 {
		return nil
	}
	if bad := movedDeployments(p, obs); len(bad) > 0 {
		return bad // what the target makes of the API's record would differ from what apply writes
	}
	pl := newPlanner(p.Target.Desired, p.Target.Prune, obs)
	shown := make(map[string][]Change)
	for _, c := range p.Changes {
		shown[c.Subject.ID] = append(shown[c.Subject.ID], c)
	}
	names := scopeNames(obs)
	var out []string
	seen := make(map[string]bool, len(shown))
	// Every subject, not only those with a change shown: a subject whose
	// changes were all cut from the file is still written as the target
	// says.
	for i := range obs.Subjects {
		s := &obs.Subjects[i]
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		if c, ok := misnamed(shown[s.ID], s.SubjectRef, names); ok {
			out = append(out, fmt.Sprintf("%s (%s): %s", Label(s.SubjectRef), s.ID, c))
		} else if c, ok := firstDifference(pl.changesOf(s), shown[s.ID]); ok {
			out = append(out, fmt.Sprintf("%s (%s): %s", Label(s.SubjectRef), s.ID, c))
		} else if why := cannotBeGiven(s, shown[s.ID]); why != "" {
			out = append(out, fmt.Sprintf("%s (%s): %s", Label(s.SubjectRef), s.ID, why))
		}
	}
	slices.Sort(out)
	return out
}

// cannotBeGiven says why s may not be given the roles its changes cs add,
// as Resolve refuses in a spec: it is no member of the organization, or an
// inactive or banned user; "" when it may (or cs adds none). An update is
// not counted: prune demotes an inactive owner to ORGANIZATION_MEMBER, and
// a removal Astro would turn into an accessor shows as that update.
func cannotBeGiven(s *Subject, cs []Change) string {
	if !slices.ContainsFunc(cs, func(c Change) bool { return c.Action == Add }) {
		return ""
	}
	switch {
	case s.NoOrganizationRole:
		return "its changes give it a role, but it has no organization role (tokensync adds no members)"
	case s.barred():
		return fmt.Sprintf("its changes give it a role, but it is %s", s.Status)
	}
	return ""
}

// TargetDiffers describes the first way in which the targets a and b
// manage otherwise, or says "": the same scopes, in order, with the same
// prune, allowEmpty and listed kinds, the same assignments (subject, role
// or absent) and the same ignore globs. Positions in the spec and names
// are left out: the same files given by another path make the same
// target.
func TargetDiffers(a, b *Target) string {
	if a == nil || b == nil {
		if a != b {
			return "one of them has no target"
		}
		return ""
	}
	if a.Prune != b.Prune {
		return "one was made with --prune and the other without"
	}
	if !maps.EqualFunc(a.Desired.Ignore, b.Desired.Ignore, slices.Equal) {
		return "their ignore lists differ"
	}
	as, bs := a.Desired.Scopes, b.Desired.Scopes
	for i := range max(len(as), len(bs)) {
		if i >= len(as) || i >= len(bs) {
			return "they manage other scopes"
		}
		x, y := as[i], bs[i]
		switch {
		case x.Key() != y.Key():
			return fmt.Sprintf("%s is not %s", x.ScopeRef, y.ScopeRef)
		case x.Prune != y.Prune || x.AllowEmpty != y.AllowEmpty || !slices.Equal(x.Lists, y.Lists):
			return fmt.Sprintf("%s is managed otherwise (prune, allowEmpty or the kinds it lists)", x.ScopeRef)
		case !slices.EqualFunc(x.Assignments, y.Assignments, func(p, q DesiredAssignment) bool {
			return p.Subject.ID == q.Subject.ID && p.Role == q.Role && p.Absent == q.Absent
		}):
			return fmt.Sprintf("%s has other assignments", x.ScopeRef)
		}
	}
	return ""
}

// movedDeployments describes each deployment whose workspace a plan's
// target records otherwise than the organization does, or not at all,
// among those its writes depend on: the deployments of its scopes, and
// those where a subject it changes holds a role. A write keeps the
// accessor roles of the workspaces that record gives.
func movedDeployments(p Plan, obs *Observed) []string {
	recorded := p.Target.Desired.Workspaces
	needed := map[string]bool{}
	for _, m := range p.Target.Desired.Scopes {
		if m.Level == LevelDeployment {
			needed[m.ID] = true
		}
		if m.Deployment.ID != "" {
			needed[m.Deployment.ID] = true
		}
	}
	changed := map[string]bool{}
	for _, c := range p.Changes {
		changed[c.Subject.ID] = true
	}
	for _, s := range obs.Subjects {
		if !changed[s.ID] {
			continue
		}
		for _, g := range s.Grants {
			switch {
			case g.Scope.Level == LevelDeployment:
				needed[g.Scope.ID] = true
			case g.Scope.Deployment != "":
				needed[g.Scope.Deployment] = true
			}
		}
	}
	var out []string
	for _, d := range obs.Deployments {
		ws, ok := recorded[d.ID]
		switch {
		case !needed[d.ID] && !ok:
		case !ok:
			out = append(out, fmt.Sprintf("deployment %q (%s): its target has no record of its workspace", d.Name, d.ID))
		case ws != d.WorkspaceID:
			out = append(out, fmt.Sprintf("deployment %q (%s): its target records it in workspace %s, but it is in %s", d.Name, d.ID, ws, d.WorkspaceID))
		}
	}
	slices.Sort(out)
	return out
}

// scopeNames are the names of obs's workspaces and deployments, by id.
func scopeNames(obs *Observed) map[string]string {
	names := make(map[string]string, len(obs.Workspaces)+len(obs.Deployments)+1)
	names[""] = obs.Organization // the organization scope's id and name
	for _, w := range obs.Workspaces {
		names[w.ID] = w.Name
	}
	for _, d := range obs.Deployments {
		names[d.ID] = d.Name
	}
	return names
}

// misnamed describes the first of shown (a subject's changes, as a saved
// plan shows them) that names the subject, or a workspace or deployment,
// otherwise than the organization does (names, by id): --protect, the
// output and the audit log go by those names, so an edited one would
// mislead them all.
func misnamed(shown []Change, s SubjectRef, names map[string]string) (string, bool) {
	for _, c := range shown {
		if c.Subject != s {
			return fmt.Sprintf("its changes name it %s %q, but it is %s %q", c.Subject.Kind, c.Subject.Name, s.Kind, s.Name), true
		}
		id, name, what := c.Scope.ID, c.Scope.Name, string(c.Scope.Level)
		switch c.Scope.Level {
		case LevelWorkspace, LevelDeployment:
		case LevelDAG, LevelDAGTag:
			if c.Scope.Name != c.Scope.ID { // a DAG's or tag's name is its id
				return fmt.Sprintf("its changes name %s %q %q", c.Scope.Level, c.Scope.ID, c.Scope.Name), true
			}
			id, name = c.Scope.Deployment.ID, c.Scope.Deployment.Name
			what = fmt.Sprintf("the deployment of %s %q", c.Scope.Level, c.Scope.ID)
		case LevelOrganization:
			if want := names[""]; c.Scope.ID != want || c.Scope.Name != want {
				return fmt.Sprintf("its changes name the organization %q (%s), but it is %s", c.Scope.Name, c.Scope.ID, want), true
			}
			continue
		default:
			continue
		}
		if want, ok := names[id]; ok && name != want {
			return fmt.Sprintf("its changes name %s (%s) %q, but it is %q", what, id, name, want), true
		}
	}
	return "", false
}

// firstDifference describes the first change that made (of a subject, by
// a Target) and shown (the plan's changes of it) do not both hold, on its
// assignment, action, roles and reason.
func firstDifference(made, shown []Change) (string, bool) {
	same := func(a, b Change) bool {
		return a.Key() == b.Key() && a.Action == b.Action && a.Before == b.Before && a.After == b.After && a.Reason == b.Reason
	}
	for _, c := range made {
		if c.Action != Unmanaged && !slices.ContainsFunc(shown, func(x Change) bool { return same(c, x) }) {
			return "its target would " + describe(c) + ", which its changes do not show", true
		}
	}
	for i, c := range shown {
		if !slices.ContainsFunc(made, func(x Change) bool { return same(c, x) }) {
			return "its changes show it would " + describe(c) + ", which its target does not make", true
		}
		if slices.ContainsFunc(shown[:i], func(x Change) bool { return x.Key() == c.Key() }) {
			return "its changes show twice what it would do on " + c.Scope.String(), true
		}
	}
	return "", false
}

// CountsEveryone reports whether a guard of p depends on subjects p does
// not change: it takes an owner role from someone (lockout: another owner
// must remain) or prunes on a deployment (allow-empty: another subject
// must remain). Another writer can take those roles between the plan and
// its writes, so apply checks these guards again right before writing
// (RecheckSaved on a fresh read).
func CountsEveryone(p Plan) bool {
	return slices.ContainsFunc(p.Changes, func(c Change) bool {
		_, takes := c.takesOwner()
		return takes || c.prunesDeployment()
	})
}

// takesOwner reports whether c takes the owner role of its scope (the
// organization's or a workspace's), and names that role.
func (c Change) takesOwner() (string, bool) {
	owner := ownerRole(c.Scope.Level)
	return owner, owner != "" && c.Before == owner && c.After != owner
}

// prunesDeployment reports whether c is prune taking a role on a
// deployment (removed, or cut to the accessor DAG roles keep).
func (c Change) prunesDeployment() bool {
	return c.Scope.Level == LevelDeployment && (c.Reason == ReasonPrune || c.Reason == ReasonPruneKeepsAccessor)
}

// ---- stage 4: fingerprints and target

// fingerprints maps every subject with a change to its fingerprint as
// observed ("" for a subject not observed); the first of duplicates counts.
func fingerprints(changes []Change, subjects []Subject) map[string]string {
	if len(changes) == 0 {
		return nil
	}
	fp := make(map[string]string)
	for _, c := range changes {
		fp[c.Subject.ID] = Fingerprint(nil)
	}
	seen := make(map[string]bool, len(fp))
	for _, s := range subjects {
		if _, changed := fp[s.ID]; changed && !seen[s.ID] {
			seen[s.ID] = true
			fp[s.ID] = s.Fingerprint
		}
	}
	return fp
}

// newTarget copies d in canonical order, as Compute reads it: the first
// entry of a scope or of a subject on a scope counts.
func newTarget(d Desired, prune bool) *Target {
	t := &Target{Prune: prune, Desired: Desired{Ignore: maps.Clone(d.Ignore), Workspaces: maps.Clone(d.Workspaces)}}
	seen := make(map[Scope]bool, len(d.Scopes))
	for _, md := range d.Scopes {
		if seen[md.Key()] {
			continue
		}
		seen[md.Key()] = true
		md.Assignments = firstByID(md.Assignments)
		md.Lists = slices.Clone(md.Lists)
		t.Desired.Scopes = append(t.Desired.Scopes, md)
	}
	slices.SortFunc(t.Desired.Scopes, func(a, b ManagedScope) int { return CompareScope(a.ScopeRef, b.ScopeRef) })
	return t
}

// firstByID is a copy of as in the order of subject ids, with the first
// assignment of each subject only.
func firstByID(as []DesiredAssignment) []DesiredAssignment {
	if len(as) == 0 {
		return slices.Clone(as)
	}
	// Sorting positions by id, then position, keeps equal ids in order as
	// a stable sort would, and moves 4 bytes rather than an assignment.
	order := make([]int32, len(as))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		return cmp.Or(strings.Compare(as[i].Subject.ID, as[j].Subject.ID), cmp.Compare(i, j))
	})
	out := make([]DesiredAssignment, 0, len(as))
	for k, i := range order {
		if k > 0 && as[i].Subject.ID == as[order[k-1]].Subject.ID {
			continue
		}
		out = append(out, as[i])
	}
	return out
}

// Guards recomputes the guards of a plan from its changes, its unmanaged
// assignments and its Target, under opts: what a saved plan is checked
// against when it is applied, rather than the verdicts it records. After
// apply, a deployment keeps every subject the Target lists with a role and
// every unmanaged assignment of a managed kind. The lockout guard needs
// every owner of the organization, which a saved plan does not hold: its
// recorded verdict stands here, and RecheckSaved checks it again on the
// organization as it is when the plan is applied.
func Guards(p Plan, opts Options) []Guard {
	remaining := make(map[Scope]int)
	allowEmpty := make(map[Scope]bool)
	if p.Target != nil {
		for _, md := range p.Target.Desired.Scopes {
			allowEmpty[md.Key()] = md.AllowEmpty
			for _, a := range md.Assignments {
				if !a.Absent && a.Role != astroapi.RoleDeploymentAccessor {
					remaining[md.Key()]++
				}
			}
		}
	}
	var ignore map[Kind][]string
	if p.Target != nil {
		ignore = p.Target.Desired.Ignore
	}
	for _, c := range p.Unmanaged {
		if _, ignored := matchGlob(ignore[c.Subject.Kind], c.Subject); managedKind(c.Subject.Kind) && c.After != astroapi.RoleDeploymentAccessor && !ignored {
			remaining[c.Key().Scope]++
		}
	}
	lockout := Guard{Name: GuardLockout, OK: true, Message: "no managed organization or workspace loses its last owner"}
	if i := slices.IndexFunc(p.Guards, func(g Guard) bool { return g.Name == GuardLockout }); i >= 0 {
		lockout = p.Guards[i]
	}
	guards := []Guard{
		maxRemovalsGuard(p.Changes, opts.MaxRemovals),
		allowEmptyGuard(p.Changes, remaining, allowEmpty),
		protectGuard(p.Changes, opts.Protect),
		lockout,
	}
	// The policy verdict needs the whole organization too: it stands as
	// recorded.
	if i := slices.IndexFunc(p.Guards, func(g Guard) bool { return g.Name == GuardPolicy }); i >= 0 {
		guards = append(guards, p.Guards[i])
	}
	return guards
}

// After returns subjects with the plan's changes applied: the role sets the
// API would hold after apply, every other grant as read. Subjects are not
// modified; those without changes are returned as they are.
func (p Plan) After(subjects []Subject) []Subject {
	bySubject := make(map[string][]Change)
	for _, c := range p.Changes {
		bySubject[c.Subject.ID] = append(bySubject[c.Subject.ID], c)
	}
	out := slices.Clone(subjects)
	for i := range out {
		if cs := bySubject[out[i].ID]; len(cs) > 0 {
			out[i].Grants = applyChanges(out[i].Grants, cs, nil)
		}
	}
	return out
}
