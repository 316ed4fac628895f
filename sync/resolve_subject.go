package sync

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// entry is one spec entry of any kind: a subject by id or by name (a
// token's or team's name, a user's username), with a role or state:
// absent.
type entry struct {
	kind    Kind
	pos     spec.Pos
	id      string
	name    string
	role    string
	state   spec.State
	rolePos spec.Pos // where role is written; messages about the role point there
}

// atRole is where a message about e's role points: its role, or the entry
// when it has none.
func (e entry) atRole() spec.Pos {
	if e.rolePos.Line > 0 {
		return e.rolePos
	}
	return e.pos
}

func (e entry) ref() string {
	if e.id != "" {
		return e.id
	}
	return e.name
}

// entries are the entries of one scope's entry, of every kind, in the
// order of spec.Kinds.
func entries(wsTokens, orgTokens []spec.TokenEntry, users []spec.UserEntry, teams []spec.TeamEntry) []entry {
	out := make([]entry, 0, len(wsTokens)+len(orgTokens)+len(users)+len(teams))
	tokens := func(k Kind, list []spec.TokenEntry) {
		for _, e := range list {
			out = append(out, entry{k, e.Pos, e.ID, e.Name, e.Role, e.State, e.RolePos})
		}
	}
	tokens(KindWorkspaceToken, wsTokens)
	tokens(KindOrganizationToken, orgTokens)
	for _, e := range users {
		out = append(out, entry{KindUser, e.Pos, e.ID, e.Username, e.Role, e.State, e.RolePos})
	}
	for _, e := range teams {
		out = append(out, entry{KindTeam, e.Pos, e.ID, e.Name, e.Role, e.State, e.RolePos})
	}
	return out
}

// organizationEntries are the entries of the organization level.
func organizationEntries(o spec.OrganizationRoles) []entry {
	return entries(nil, o.OrganizationTokens, o.Users, o.Teams)
}

// where is the scope whose entries are being resolved.
type where struct {
	scope      Scope
	level      Level
	workspace  string               // the workspace of the scope; "" for the organization or when unresolved
	deployment *astroapi.Deployment // of a deployment, DAG or DAG tag scope; nil otherwise
	label      string               // how messages name the scope: `deployment "prod"`
	resolved   bool                 // the scope resolved
}

// assignments resolves the entries of one scope.
func (r *resolver) assignments(es []entry, w where) []DesiredAssignment {
	out := make([]DesiredAssignment, 0, len(es))
	listed := make(map[string]spec.Pos, len(es)) // subject id → where it is listed
	for _, e := range es {
		a, ok := r.subject(e, w)
		if !ok {
			continue
		}
		if at, dup := listed[a.Subject.ID]; dup {
			r.errorf(e.pos, "%s is listed twice for %s (also at %s)", labelID(a.Subject), w.label, at)
			continue
		}
		listed[a.Subject.ID] = e.pos
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func labelID(s SubjectRef) string { return fmt.Sprintf("%s (%s)", Label(s), s.ID) }

// scope is where Astro scopes a name of an entry: subjects of the entry's
// kind and, for a workspace token, of the entry's workspace ("" when the
// scope did not resolve).
type scope struct {
	kind      Kind
	workspace string
}

func (s scope) holds(x *Subject) bool {
	if x.Kind != s.kind {
		return false
	}
	return s.kind != KindWorkspaceToken || s.workspace == "" || x.Workspace == s.workspace
}

// describe names the scope in messages.
func (r *resolver) describe(s scope) string {
	if s.kind == KindWorkspaceToken && s.workspace != "" {
		return fmt.Sprintf("among the workspace tokens of workspace %q", r.workspaceName(s.workspace))
	}
	return "among the " + kinds[s.kind].plural
}

// maxSuggestions is how many names not found (principals, workspaces,
// deployments, roles) get a did-you-mean, the first in the order their
// messages are shown: one is a few milliseconds among 50,000 users, a spec
// whose every name is wrong (another mail domain) has a cause more
// suggestions would not show, and each is a pass over every name of its
// kind.
const maxSuggestions = 100

// suggester suggests among the names of the subjects scope s holds,
// sorted (the first of equally close ones wins): made once per scope, as a
// spec that gets a thousand names wrong asks a thousand times.
func (r *resolver) suggester(s scope) *spec.Suggester {
	if sg, ok := r.suggesters[s]; ok {
		return sg
	}
	var names []string
	for _, xs := range r.byName[kinds[s.kind].family] {
		for _, x := range xs {
			if s.holds(x) {
				names = append(names, x.Name)
				break
			}
		}
	}
	slices.Sort(names)
	if r.suggesters == nil {
		r.suggesters = make(map[scope]*spec.Suggester)
	}
	r.suggesters[s] = spec.NewSuggester(names)
	return r.suggesters[s]
}

// lookup finds the subject an entry names: an id within the entry's
// family, a name where Astro scopes it. When nothing in scope has the
// name, elsewhere are the subjects of that name outside the scope, for a
// precise error. It reports ambiguity itself and returns nil then.
func (r *resolver) lookup(e entry, s scope) (x *Subject, elsewhere []*Subject, reported bool) {
	info := kinds[e.kind]
	if e.id != "" {
		if x := r.byID[e.id]; x != nil && kinds[x.Kind].family == info.family {
			return x, nil, false
		}
		return nil, nil, false
	}
	var found []*Subject
	for _, c := range r.byName[info.family][info.match(e.name)] {
		if s.holds(c) {
			found = append(found, c)
		} else {
			elsewhere = append(elsewhere, c)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil, false
	case len(found) == 0:
		return nil, elsewhere, false
	case s.kind == KindWorkspaceToken && s.workspace == "" && !oneWorkspace(found):
		// The deployment did not resolve, so the workspace is unknown:
		// names in several workspaces are not ambiguous, and the
		// deployment's error says enough.
		return nil, nil, true
	}
	r.errorf(e.pos, "%s name %q is ambiguous: %s (use id)", info.noun, e.name, ids(found, func(x *Subject) string { return x.ID }))
	return nil, nil, true
}

// oneWorkspace reports whether the workspace tokens xs are all of one
// workspace.
func oneWorkspace(xs []*Subject) bool {
	return !slices.ContainsFunc(xs, func(x *Subject) bool { return x.Workspace != xs[0].Workspace })
}

// notFound reports an entry whose subject is not where the spec says:
// absent entries are satisfied with a note, others are errors that say
// where the name is instead, or suggest a name of the same scope.
func (r *resolver) notFound(e entry, s scope, elsewhere []*Subject) {
	noun := kinds[e.kind].noun
	switch {
	case e.state == spec.Absent && e.id != "":
		r.notef(e.pos, "%s %q not found: state: absent is satisfied", noun, e.ref())
	case e.state == spec.Absent:
		// A misspelt name would leave the subject it means as it is:
		// the note says which name is close.
		r.hinted(r.notef(e.pos, "%s %q not found %s: state: absent is satisfied", noun, e.ref(), r.describe(s)), r.closestIn(e.name, s))
	case e.id != "":
		r.errorf(e.pos, "%s %q not found", noun, e.ref())
	case len(elsewhere) > 0:
		where := make([]string, len(elsewhere))
		for i, x := range elsewhere {
			if x.Kind == KindWorkspaceToken {
				where[i] = fmt.Sprintf("%s (workspace %q)", x.ID, r.workspaceName(x.Workspace))
			} else {
				where[i] = fmt.Sprintf("%s (%s)", x.ID, strings.TrimSuffix(kinds[x.Kind].plural, "s"))
			}
		}
		slices.Sort(where)
		r.errorf(e.pos, "%s %q not found %s (%ss of that name: %s)", noun, e.ref(), r.describe(s), noun, strings.Join(where, ", "))
	default:
		r.hinted(r.errorf(e.pos, "%s %q not found %s", noun, e.ref(), r.describe(s)), r.closestIn(e.name, s))
	}
}

// closestIn looks for the name of scope s closest to name.
func (r *resolver) closestIn(name string, s scope) suggest {
	return func() string { return r.suggester(s).Suggest(name) }
}

// subject resolves one entry of scope w, or reports why it cannot.
func (r *resolver) subject(e entry, w where) (DesiredAssignment, bool) {
	s := scope{kind: e.kind, workspace: w.workspace}
	x, elsewhere, reported := r.lookup(e, s)
	if reported {
		return DesiredAssignment{}, false
	}
	if x == nil && len(elsewhere) == 1 && e.state != spec.Absent {
		// The one subject of that name is out of scope: the checks below
		// say why (wrong list, other workspace, deployment token).
		x = elsewhere[0]
	}
	if x == nil {
		r.notFound(e, s, elsewhere)
		return DesiredAssignment{}, false
	}
	if !managedKind(x.Kind) {
		r.errorf(e.pos, "token %q is a deployment API token: deployment tokens cannot be managed", e.ref())
		return DesiredAssignment{}, false
	}
	held := holds(e, x, w)
	ok := r.fits(e, x, w, held)
	a := DesiredAssignment{Subject: x.SubjectRef, Absent: e.state == spec.Absent, Source: e.pos}
	if !a.Absent {
		role, msg, hint := r.role(e.role, w)
		if held {
			// The entry asks for what the subject holds: it writes
			// nothing, and the role stays as the API spells it.
			if msg != "" {
				r.hinted(r.notef(e.atRole(), "%s %q: %s: kept as held", kinds[e.kind].noun, e.ref(), msg), hint)
			}
			role, msg = astroapi.CanonicalRole(e.role), ""
		}
		if msg != "" {
			r.hinted(r.errorf(e.atRole(), "%s %q: %s", kinds[e.kind].noun, e.ref(), msg), hint)
			ok = false
		}
		a.Role = role
	}
	return a, ok
}

// holds reports whether entry e asks for exactly the role subject x holds
// at w as read: such an entry changes nothing, so what only a write needs
// (an ACTIVE or PENDING user, an organization role, a role the
// organization still offers) is not asked of it. An export lists every
// role as held, so that a plan of it is empty. A built-in role is held
// only as the API spells it, upper case: one read in another case is
// rewritten, as every other built-in named in a spec is.
func holds(e entry, x *Subject, w where) bool {
	return w.resolved && e.state != spec.Absent && e.role != "" && x.RoleAt(w.scope) == astroapi.CanonicalRole(e.role)
}

// fits reports whether subject x may be listed as entry e at w, and
// reports every reason it may not. held says the entry asks for the role
// x holds there (see holds).
func (r *resolver) fits(e entry, x *Subject, w where, held bool) bool {
	ok := r.listable(e, x, w)
	if x.Kind == KindWorkspaceToken {
		ok = r.inWorkspace(e, x, w) && ok
	}
	if e.state == spec.Absent || held {
		return ok
	}
	return r.mayBeGiven(e, x, w) && ok
}

// listable reports whether x may be listed at all where e is: not
// ignored, and under the key of its kind.
func (r *resolver) listable(e entry, x *Subject, w where) bool {
	ok := true
	noun, ref := kinds[e.kind].noun, e.ref()
	if p, ignored := matchGlob(r.ignore[x.Kind], x.SubjectRef); ignored {
		r.errorf(e.pos, "%s %q matches %s %q: remove it from the spec or from %s", noun, ref, kinds[x.Kind].ignoreKey, p, kinds[x.Kind].ignoreKey)
		ok = false
	}
	switch {
	case x.Kind == e.kind:
	case x.Kind == KindWorkspaceToken && w.level == LevelOrganization:
		r.errorf(e.pos, "%s %q is a workspace token: a workspace token holds no organization role", noun, ref)
		ok = false
	default:
		r.errorf(e.pos, "%s %q is %s: list it under %s", noun, ref, article(strings.TrimSuffix(kinds[x.Kind].plural, "s")), x.Kind.Key())
		ok = false
	}
	return ok
}

// inWorkspace reports whether the workspace token x may be listed at w:
// it holds roles in its own workspace only, and keeps its role on it.
func (r *resolver) inWorkspace(e entry, x *Subject, w where) bool {
	ref := e.ref()
	switch {
	case x.Workspace == "":
		r.errorf(e.pos, "token %q is a workspace token without a workspace role", ref)
	case w.workspace != "" && x.Workspace != w.workspace && w.deployment != nil:
		r.errorf(e.pos, "token %q belongs to workspace %q and cannot have a role on %s of workspace %q",
			ref, r.workspaceName(x.Workspace), w.label, r.workspaceName(w.workspace))
	case w.workspace != "" && x.Workspace != w.workspace:
		r.errorf(e.pos, "token %q belongs to workspace %q and cannot have a role on %s: a workspace token holds roles in its own workspace only",
			ref, r.workspaceName(x.Workspace), w.label)
	case w.level == LevelWorkspace && e.state == spec.Absent:
		r.errorf(e.pos, "token %q: state: absent cannot remove a workspace token's role on its own workspace (it is updated, never removed)", ref)
	default:
		return true
	}
	return false
}

// mayBeGiven reports whether x may be given a role it does not hold at
// w: a user that is neither inactive nor banned, a member of the
// organization.
func (r *resolver) mayBeGiven(e entry, x *Subject, w where) bool {
	ok := true
	noun, ref := kinds[e.kind].noun, e.ref()
	if x.barred() {
		r.errorf(e.pos, "user %q is %s: %s user cannot be given a role", ref, x.Status, article(strings.ToLower(x.Status)))
		ok = false
	}
	switch {
	case x.NoOrganizationRole && w.level == LevelOrganization:
		// Giving the first organization role makes a member: tokensync
		// never adds anyone to the organization (that is an invite).
		r.errorf(e.pos, "%s %q has no organization role: it is not a member of the organization, and tokensync adds no members (invite it first)", noun, ref)
		ok = false
	case x.NoOrganizationRole:
		r.errorf(e.pos, "%s %q has no organization role: Astro gives a %s role only to a member of the organization", noun, ref, levelNoun(w.level))
		ok = false
	}
	return ok
}

func article(s string) string {
	if strings.IndexAny(s[:1], "aeiou") == 0 {
		return "an " + s
	}
	return "a " + s
}
