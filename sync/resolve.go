package sync

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

type resolver struct {
	obs          *Observed
	ignore       map[Kind][]string
	wsByID       map[string]*astroapi.Workspace
	wsByName     map[string][]*astroapi.Workspace
	depByID      map[string]*astroapi.Deployment
	byID         map[string]*Subject               // every subject, by id
	byName       map[string]map[string][]*Subject  // family → name as matched → subjects
	roleByName   map[string]*astroapi.CustomRole   // custom roles by exact name; the first of a name counts
	roleByFold   map[string][]*astroapi.CustomRole // custom roles by upper-cased name, for the error of a name in another case
	suggestRoles map[string][]string               // by role scope: the built-in and custom roles of it
	suggesters   map[scope]*spec.Suggester         // among the names a scope holds, once asked for (resolver.suggester)
	errs         spec.ErrorList
	notes        []*Note
	hints        map[any]suggest // an error's or note's did-you-mean, looked for once they are sorted (resolver.finish)
}

// suggest finds the name closest to one not found, or "".
type suggest func() string

// ignoreLists are the spec's ignore lists: their key and the kinds they
// apply to.
func ignoreLists(sp *spec.Spec) []struct {
	key   string
	kinds []Kind
	globs []spec.Pattern
} {
	return []struct {
		key   string
		kinds []Kind
		globs []spec.Pattern
	}{
		{"ignoreTokens", []Kind{KindWorkspaceToken, KindOrganizationToken, KindDeploymentToken}, sp.IgnoreTokens},
		{"ignoreUsers", []Kind{KindUser}, sp.IgnoreUsers},
		{"ignoreTeams", []Kind{KindTeam}, sp.IgnoreTeams},
	}
}

// Resolve checks sp against what the API says (the online checks) and
// turns every reference into an id. Its error is a spec.ErrorList with
// every problem, each at the spec entry it is about, sorted by position.
func Resolve(sp *spec.Spec, obs *Observed) (Desired, error) {
	if obs == nil {
		obs = &Observed{}
	}
	r := newResolver(obs)
	d := Desired{Ignore: make(map[Kind][]string)}
	for _, l := range ignoreLists(sp) {
		for _, p := range l.globs {
			if _, err := spec.ParseGlob(p.Glob); err != nil {
				r.errorf(p.Pos, "invalid %s pattern %q: %v", l.key, p.Glob, err)
				continue
			}
			for _, k := range l.kinds {
				d.Ignore[k] = append(d.Ignore[k], p.Glob)
			}
		}
	}
	r.ignore = d.Ignore

	d.Workspaces = make(map[string]string, len(obs.Deployments))
	for _, dep := range obs.Deployments {
		d.Workspaces[dep.ID] = dep.WorkspaceID
	}
	if o := sp.OrganizationRoles; o != nil {
		ms := ManagedScope{
			ScopeRef: ScopeRef{Level: LevelOrganization, ID: obs.Organization, Name: obs.Organization},
			Prune:    o.Prune, Source: o.Pos, Lists: listedKinds(o.Listed),
		}
		ms.Assignments = r.assignments(organizationEntries(*o), where{scope: Organization, level: LevelOrganization, label: ms.String(), resolved: true})
		d.Scopes = append(d.Scopes, ms)
	}
	seenWs := make(map[string]spec.Pos) // workspace id → where it is listed
	for _, sw := range sp.Workspaces {
		ws := r.workspace(sw)
		if ws != nil {
			if at, dup := seenWs[ws.ID]; dup {
				r.errorf(sw.Pos, "workspace %q (%s) is already listed at %s", ws.Name, ws.ID, at)
				ws = nil
			} else {
				seenWs[ws.ID] = sw.Pos
			}
		}
		ms := ManagedScope{Prune: sw.Prune, Source: sw.Pos, Lists: listedKinds(sw.Listed)}
		w := where{level: LevelWorkspace, label: fmt.Sprintf("workspace %q", sw.Ref())}
		if ws != nil {
			ms.ScopeRef = ScopeRef{Level: LevelWorkspace, ID: ws.ID, Name: ws.Name}
			ms.WorkspaceID = ws.ID
			w = where{scope: ms.Key(), level: LevelWorkspace, workspace: ws.ID, label: ms.String(), resolved: true}
		}
		ms.Assignments = r.assignments(entries(sw.WorkspaceTokens, sw.OrganizationTokens, sw.Users, sw.Teams), w)
		if ws != nil {
			d.Scopes = append(d.Scopes, ms)
		}
	}
	seen := make(map[string]spec.Pos) // deployment id → where it is listed
	for _, sd := range sp.Deployments {
		dep := r.deployment(sd)
		md := ManagedScope{Prune: sd.Prune, AllowEmpty: sd.AllowEmpty, Source: sd.Pos, Lists: listedKinds(sd.Listed)}
		if dep != nil {
			if at, dup := seen[dep.ID]; dup {
				r.errorf(sd.Pos, "deployment %q (%s) is already listed at %s", dep.Name, dep.ID, at)
				dep = nil
			} else {
				seen[dep.ID] = sd.Pos
				md.ScopeRef = ScopeRef{Level: LevelDeployment, ID: dep.ID, Name: dep.Name}
				md.WorkspaceID = dep.WorkspaceID
			}
		}
		w := r.deploymentWhere(dep, LevelDeployment, Scope{}, fmt.Sprintf("deployment %q", cmp.Or(md.Name, sd.Ref())))
		md.Assignments = r.assignments(entries(sd.WorkspaceTokens, sd.OrganizationTokens, sd.Users, sd.Teams), w)
		if dep != nil {
			d.Scopes = append(d.Scopes, md)
		}
		for _, g := range sd.Dags {
			if ms, ok := r.dag(g, dep, sd); ok {
				d.Scopes = append(d.Scopes, ms)
			}
		}
	}
	return r.result(d)
}

// result is d with the notes, or the errors when there are any: sorted by
// position, each with its did-you-mean (resolver.finish).
func (r *resolver) result(d Desired) (Desired, error) {
	if len(r.errs) > 0 {
		slices.SortStableFunc(r.errs, func(a, b *spec.Error) int { return comparePos(a.Pos, b.Pos) })
		r.finish(len(r.errs), func(i int) (any, *string) { return r.errs[i], &r.errs[i].Msg })
		return Desired{}, r.errs
	}
	slices.SortStableFunc(r.notes, func(a, b *Note) int { return comparePos(a.Pos, b.Pos) })
	r.finish(len(r.notes), func(i int) (any, *string) { return r.notes[i], &r.notes[i].Msg })
	for _, n := range r.notes {
		d.Notes = append(d.Notes, *n)
	}
	return d, nil
}

// finish ends the first maxSuggestions of n sorted messages that have a
// did-you-mean to look for with what it finds: the first in the order
// they are shown, of every kind together. The rest are not looked for, as
// each is a pass over every name of its kind. at is the key and the text
// of message i.
func (r *resolver) finish(n int, at func(i int) (any, *string)) {
	looked := 0
	for i := 0; i < n && looked < maxSuggestions; i++ {
		key, msg := at(i)
		if sg := r.hints[key]; sg != nil {
			looked++
			*msg += didYouMean(sg())
		}
	}
}

// listedKinds are the kinds an entry lists (its Listed method): the keys
// its entry contains and, for an entry built in code without Lists, the
// kinds it has entries of. Prune removes only these kinds.
func listedKinds(listed func(spec.Kind) bool) []Kind {
	var out []Kind
	for _, k := range spec.Kinds() {
		if listed(k) {
			out = append(out, k)
		}
	}
	return out
}

// dag resolves one dags entry of deployment sd (dep is nil when the
// deployment did not resolve).
func (r *resolver) dag(g spec.Dag, dep *astroapi.Deployment, sd spec.Deployment) (ManagedScope, bool) {
	level, id := LevelDAG, g.DagID
	if g.DagTag != "" {
		level, id = LevelDAGTag, g.DagTag
	}
	ms := ManagedScope{Prune: g.Prune, Source: g.Pos, Lists: listedKinds(g.Listed)}
	ms.ScopeRef = ScopeRef{Level: level, ID: id, Name: id, Deployment: DeploymentRef{ID: sd.Ref(), Name: sd.Ref()}}
	if dep != nil {
		ms.Deployment = DeploymentRef{ID: dep.ID, Name: dep.Name}
		ms.WorkspaceID = dep.WorkspaceID
	}
	w := r.deploymentWhere(dep, level, ms.Key(), ms.String())
	ms.Assignments = r.assignments(entries(g.WorkspaceTokens, g.OrganizationTokens, g.Users, g.Teams), w)
	return ms, dep != nil
}

// deploymentWhere is where the entries of a deployment or of one of its
// DAG scopes (sc) are resolved; dep is nil when it did not resolve.
func (r *resolver) deploymentWhere(dep *astroapi.Deployment, level Level, sc Scope, label string) where {
	w := where{level: level, label: label}
	if dep != nil {
		w.scope, w.workspace, w.deployment, w.resolved = sc, dep.WorkspaceID, dep, true
		if level == LevelDeployment {
			w.scope = Scope{Level: LevelDeployment, ID: dep.ID}
		}
	}
	return w
}

// workspace resolves one workspaces entry, or reports why it cannot.
func (r *resolver) workspace(sw spec.Workspace) *astroapi.Workspace {
	ws, msg, hint := r.findWorkspace(cmp.Or(sw.ID, sw.Name), sw.ID != "")
	if msg != "" {
		r.hinted(r.errorf(sw.Pos, "%s", msg), hint)
	}
	return ws
}

// findWorkspace finds a workspace by id, or (byID false) by id or name,
// or says why it cannot, with the did-you-mean to look for at its end.
func (r *resolver) findWorkspace(ref string, byID bool) (*astroapi.Workspace, string, suggest) {
	if ws := r.wsByID[ref]; ws != nil {
		return ws, "", nil
	}
	if byID {
		return nil, fmt.Sprintf("workspace %q not found", ref), nil
	}
	switch c := r.wsByName[ref]; len(c) {
	case 0:
		return nil, fmt.Sprintf("workspace %q not found", ref), func() string { return closest(ref, r.workspaceNames()) }
	case 1:
		return c[0], "", nil
	default:
		return nil, fmt.Sprintf("workspace name %q is ambiguous: %s (use id)", ref,
			ids(c, func(w *astroapi.Workspace) string { return w.ID })), nil
	}
}

func comparePos(a, b spec.Pos) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
}

func newResolver(obs *Observed) *resolver {
	r := &resolver{
		obs:        obs,
		wsByID:     make(map[string]*astroapi.Workspace),
		wsByName:   make(map[string][]*astroapi.Workspace),
		depByID:    make(map[string]*astroapi.Deployment, len(obs.Deployments)),
		byID:       make(map[string]*Subject, len(obs.Subjects)),
		byName:     make(map[string]map[string][]*Subject),
		roleByName: make(map[string]*astroapi.CustomRole),
		roleByFold: make(map[string][]*astroapi.CustomRole),
	}
	for i := range obs.Workspaces {
		w := &obs.Workspaces[i]
		r.wsByID[w.ID] = w
		r.wsByName[w.Name] = append(r.wsByName[w.Name], w)
	}
	for i := range obs.Deployments {
		r.depByID[obs.Deployments[i].ID] = &obs.Deployments[i]
	}
	family := make(map[string]int) // subjects of each family, to size byName
	for i := range obs.Subjects {
		family[kinds[obs.Subjects[i].Kind].family]++
	}
	for i := range obs.Subjects {
		s := &obs.Subjects[i]
		if _, dup := r.byID[s.ID]; dup {
			continue
		}
		r.byID[s.ID] = s
		f := kinds[s.Kind].family
		if r.byName[f] == nil {
			r.byName[f] = make(map[string][]*Subject, family[f])
		}
		name := kinds[s.Kind].match(s.Name)
		r.byName[f][name] = append(r.byName[f][name], s)
	}
	r.suggestRoles = make(map[string][]string)
	for _, name := range astroapi.BuiltinRoles() {
		scope := astroapi.BuiltinRoleScope(name)
		r.suggestRoles[scope] = append(r.suggestRoles[scope], name)
	}
	for i := range obs.CustomRoles {
		c := &obs.CustomRoles[i]
		if _, dup := r.roleByName[c.Name]; !dup {
			r.roleByName[c.Name] = c
		}
		up := strings.ToUpper(c.Name)
		r.roleByFold[up] = append(r.roleByFold[up], c)
		scope := strings.ToUpper(c.ScopeType)
		r.suggestRoles[scope] = append(r.suggestRoles[scope], c.Name)
	}
	return r
}

// errorf records an error, and returns it to be marked (resolver.hinted).
func (r *resolver) errorf(pos spec.Pos, format string, args ...any) *spec.Error {
	e := &spec.Error{Pos: pos, Msg: fmt.Sprintf(format, clipQuoted(format, args)...)}
	r.errs = append(r.errs, e)
	return e
}

// notef records a note, and returns it to be marked (resolver.hinted).
func (r *resolver) notef(pos spec.Pos, format string, args ...any) *Note {
	n := &Note{Pos: pos, Msg: fmt.Sprintf(format, clipQuoted(format, args)...)}
	r.notes = append(r.notes, n)
	return n
}

// clipQuoted shortens every string that format quotes with %q to what a
// message may quote of a file (spec.Clip): a name in a spec can be as long
// as the file, and a message names it, it does not copy it. Lists joined
// for %s are left whole.
func clipQuoted(format string, args []any) []any {
	out := slices.Clone(args)
	n := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		for i < len(format) && strings.IndexByte("+-# 0123456789.", format[i]) >= 0 {
			i++
		}
		if i < len(format) && format[i] == 'q' && n < len(out) {
			if s, ok := out[n].(string); ok {
				out[n] = spec.Clip(s)
			}
		}
		n++
	}
	return out
}

func (r *resolver) workspaceNames() []string {
	out := make([]string, 0, len(r.wsByName))
	for name := range r.wsByName {
		out = append(out, name)
	}
	return out
}

// didYouMean is " (did you mean "s"?)", or "" when s is.
func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", s)
}

// closest is the candidate closest to name, or "": the first in sorted
// order of equally close ones. It sorts candidates.
func closest(name string, candidates []string) string {
	slices.Sort(candidates)
	return spec.NewSuggester(candidates).Suggest(name)
}

// hinted marks the error or note at key (what errorf or notef returns)
// to end with the did-you-mean hint finds, if it is among the first
// maxSuggestions (resolver.finish). A nil hint marks nothing.
func (r *resolver) hinted(key any, hint suggest) {
	if hint == nil {
		return
	}
	if r.hints == nil {
		r.hints = make(map[any]suggest)
	}
	r.hints[key] = hint
}

// maxListed is how many ids or names a message lists: those of an
// ambiguous name, or the workspaces a deployment's name is found in.
const maxListed = 10

// ids are the ids of xs, sorted, as a message lists them (enumerate).
func ids[T any](xs []*T, id func(*T) string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = id(x)
	}
	slices.Sort(s)
	return enumerate(s)
}

// enumerate joins the first maxListed of s with ", " and says how many
// more there are: a name that thousands of things share makes one line
// each, not thousands of ids each.
func enumerate(s []string) string {
	if len(s) > maxListed {
		return fmt.Sprintf("%s and %d more", strings.Join(s[:maxListed], ", "), len(s)-maxListed)
	}
	return strings.Join(s, ", ")
}

func (r *resolver) workspaceName(id string) string {
	if w := r.wsByID[id]; w != nil && w.Name != "" {
		return w.Name
	}
	return id
}

// deployment resolves one deployments entry, or reports why it cannot.
func (r *resolver) deployment(sd spec.Deployment) *astroapi.Deployment {
	if sd.ID != "" {
		dep := r.depByID[sd.ID]
		if dep == nil {
			r.errorf(sd.Pos, "deployment %q not found", sd.ID)
		}
		return dep
	}
	var ws *astroapi.Workspace
	if sd.Workspace != "" {
		var (
			msg  string
			hint suggest
		)
		if ws, msg, hint = r.findWorkspace(sd.Workspace, false); msg != "" {
			r.hinted(r.errorf(sd.Pos, "deployment %q: %s", sd.Name, msg), hint)
			return nil
		}
	}
	var found, elsewhere []*astroapi.Deployment
	for i := range r.obs.Deployments {
		dep := &r.obs.Deployments[i]
		if dep.Name != sd.Name {
			continue
		}
		if ws == nil || dep.WorkspaceID == ws.ID {
			found = append(found, dep)
		} else {
			elsewhere = append(elsewhere, dep)
		}
	}
	byID := func(d *astroapi.Deployment) string { return d.ID }
	switch {
	case len(found) == 1:
		return found[0]
	case len(found) > 1 && ws != nil:
		r.errorf(sd.Pos, "deployment name %q is ambiguous in workspace %q: %s (use id)", sd.Name, ws.Name, ids(found, byID))
	case len(found) > 1:
		r.errorf(sd.Pos, "deployment name %q is ambiguous: %s (use id)", sd.Name, ids(found, byID))
	case ws == nil:
		r.errorf(sd.Pos, "deployment %q not found", sd.Name)
	case len(elsewhere) > 0:
		names := make([]string, len(elsewhere))
		for i, d := range elsewhere {
			names[i] = fmt.Sprintf("%q", r.workspaceName(d.WorkspaceID))
		}
		slices.Sort(names)
		names = slices.Compact(names)
		r.errorf(sd.Pos, "deployment %q not found in workspace %q (found in workspace %s)", sd.Name, ws.Name, enumerate(names))
	default:
		r.hinted(r.errorf(sd.Pos, "deployment %q not found in workspace %q", sd.Name, ws.Name), func() string {
			var names []string
			for _, d := range r.obs.Deployments {
				if d.WorkspaceID == ws.ID {
					names = append(names, d.Name)
				}
			}
			return closest(sd.Name, names)
		})
	}
	return nil
}

// role resolves a role name given at w to the API's spelling, or returns
// why it cannot be used there (and the did-you-mean to end it with). A built-in role matches in any case and
// resolves upper case, as the API stores it; it must be of w's level. A
// custom role matches only its exact name and must be of w's level
// (DEPLOYMENT or DAG) and allowed in w's workspace. A name that matches
// custom roles only when case is ignored is refused, naming every
// candidate: Astro tells custom roles apart by case, so taking one for
// another would write a role the spec does not name.
func (r *resolver) role(name string, w where) (string, string, suggest) {
	if name == "" {
		return "", "missing role", nil
	}
	if scope := astroapi.BuiltinRoleScope(name); scope != "" {
		if scope != w.level.roleScope() {
			return "", fmt.Sprintf("role %q is %s role, not %s role", astroapi.CanonicalRole(name),
				article(scopeNoun(scope)), article(levelNoun(w.level))), nil
		}
		return astroapi.CanonicalRole(name), "", nil
	}
	if c := r.roleByName[name]; c != nil {
		role, msg := r.customRole(c, w)
		return role, msg, nil
	}
	if c := r.roleByFold[strings.ToUpper(name)]; len(c) > 0 {
		names := make([]string, len(c))
		for i, x := range c {
			names[i] = strconv.Quote(x.Name)
		}
		slices.Sort(names)
		return "", fmt.Sprintf("role %q matches custom roles only when case is ignored: %s (custom role names are case-sensitive)",
			name, strings.Join(names, ", ")), nil
	}
	return "", fmt.Sprintf("unknown role %q", name), func() string { return spec.Suggest(name, r.suggestRoles[w.level.roleScope()]) }
}

// levelNoun is how messages call the roles of level l.
func levelNoun(l Level) string { return scopeNoun(l.roleScope()) }

// scopeNoun is how messages call the roles of a role scope (ScopeDAG...).
func scopeNoun(scope string) string {
	if scope == astroapi.ScopeDAG {
		return "DAG"
	}
	return strings.ToLower(scope)
}

// customRole checks that the custom role c may be held at w, and returns
// its name.
func (r *resolver) customRole(c *astroapi.CustomRole, w where) (string, string) {
	if !strings.EqualFold(c.ScopeType, w.level.roleScope()) {
		return "", fmt.Sprintf("role %q is %s role, not %s role", c.Name, article(scopeNoun(strings.ToUpper(c.ScopeType))), article(levelNoun(w.level)))
	}
	if w.deployment != nil && len(c.RestrictedWorkspaceIDs) > 0 && !slices.Contains(c.RestrictedWorkspaceIDs, w.deployment.WorkspaceID) {
		return "", fmt.Sprintf("role %q is not allowed in workspace %q of deployment %q",
			c.Name, r.workspaceName(w.deployment.WorkspaceID), w.deployment.Name)
	}
	return c.Name, ""
}
