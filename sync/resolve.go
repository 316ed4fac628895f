package sync

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// builtinRoles are the built-in role names that are not deployment roles.
var builtinRoles = map[string]bool{
	"ORGANIZATION_OWNER":          true,
	"ORGANIZATION_BILLING_ADMIN":  true,
	"ORGANIZATION_MEMBER":         true,
	"ORGANIZATION_OBSERVE_ADMIN":  true,
	"ORGANIZATION_OBSERVE_MEMBER": true,
	"WORKSPACE_OWNER":             true,
	"WORKSPACE_OPERATOR":          true,
	"WORKSPACE_AUTHOR":            true,
	"WORKSPACE_MEMBER":            true,
	"WORKSPACE_ACCESSOR":          true,
}

type resolver struct {
	obs          *Observed
	ignore       []string
	wsByID       map[string]*astroapi.Workspace
	wsByName     map[string][]*astroapi.Workspace
	depByID      map[string]*astroapi.Deployment
	tokByID      map[string]*astroapi.Token
	tokByName    map[string][]*astroapi.Token
	roleByUpper  map[string]*astroapi.CustomRole
	suggestRoles []string
	errs         spec.ErrorList
	notes        []Note
}

// Resolve checks sp against what the API says (the online checks) and
// turns every reference into an id. Its error is a spec.ErrorList with
// every problem, each at the spec entry it is about, sorted by position.
func Resolve(sp *spec.Spec, obs *Observed) (Desired, error) {
	if obs == nil {
		obs = &Observed{}
	}
	r := newResolver(obs)
	var d Desired
	for _, p := range sp.IgnoreTokens {
		if _, err := path.Match(p.Glob, ""); err != nil {
			r.errorf(p.Pos, "invalid ignoreTokens pattern %q: %v", p.Glob, err)
			continue
		}
		d.IgnoreTokens = append(d.IgnoreTokens, p.Glob)
	}
	r.ignore = d.IgnoreTokens

	seen := make(map[string]spec.Pos) // deployment id → where it is listed
	for _, sd := range sp.Deployments {
		dep := r.deployment(sd)
		md := ManagedDeployment{Prune: sd.Prune, AllowEmpty: sd.AllowEmpty, Source: sd.Pos}
		if dep != nil {
			if at, dup := seen[dep.ID]; dup {
				r.errorf(sd.Pos, "deployment %q (%s) is already listed at %s", dep.Name, dep.ID, at)
				dep = nil
			} else {
				seen[dep.ID] = sd.Pos
				md.ID, md.Name, md.WorkspaceID = dep.ID, dep.Name, dep.WorkspaceID
			}
		}
		label := md.Name
		if label == "" {
			label = sd.Ref()
		}
		listed := make(map[string]spec.Pos) // token id → where it is listed
		for _, list := range []struct {
			name    string
			entries []spec.TokenEntry
		}{
			{"workspaceTokens", sd.WorkspaceTokens},
			{"organizationTokens", sd.OrganizationTokens},
		} {
			for _, e := range list.entries {
				a, ok := r.token(e, list.name, dep)
				if !ok {
					continue
				}
				if at, dup := listed[a.Token.ID]; dup {
					r.errorf(e.Pos, "token %q (%s) is listed twice for deployment %q (also at %s)", a.Token.Name, a.Token.ID, label, at)
					continue
				}
				listed[a.Token.ID] = e.Pos
				md.Assignments = append(md.Assignments, a)
			}
		}
		if dep != nil {
			d.Deployments = append(d.Deployments, md)
		}
	}
	if len(r.errs) > 0 {
		slices.SortStableFunc(r.errs, func(a, b *spec.Error) int { return comparePos(a.Pos, b.Pos) })
		return Desired{}, r.errs
	}
	slices.SortStableFunc(r.notes, func(a, b Note) int { return comparePos(a.Pos, b.Pos) })
	d.Notes = r.notes
	return d, nil
}

func comparePos(a, b spec.Pos) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
}

func newResolver(obs *Observed) *resolver {
	r := &resolver{
		obs:         obs,
		wsByID:      make(map[string]*astroapi.Workspace),
		wsByName:    make(map[string][]*astroapi.Workspace),
		depByID:     make(map[string]*astroapi.Deployment),
		tokByID:     make(map[string]*astroapi.Token),
		tokByName:   make(map[string][]*astroapi.Token),
		roleByUpper: make(map[string]*astroapi.CustomRole),
	}
	for i := range obs.Workspaces {
		w := &obs.Workspaces[i]
		r.wsByID[w.ID] = w
		r.wsByName[w.Name] = append(r.wsByName[w.Name], w)
	}
	for i := range obs.Deployments {
		r.depByID[obs.Deployments[i].ID] = &obs.Deployments[i]
	}
	for i := range obs.Tokens {
		t := &obs.Tokens[i]
		r.tokByID[t.ID] = t
		r.tokByName[t.Name] = append(r.tokByName[t.Name], t)
	}
	r.suggestRoles = []string{astroapi.RoleDeploymentAdmin}
	for i := range obs.CustomRoles {
		c := &obs.CustomRoles[i]
		up := strings.ToUpper(c.Name)
		if prev, dup := r.roleByUpper[up]; !dup || (prev.Name != up && c.Name == up) {
			r.roleByUpper[up] = c
		}
		if strings.EqualFold(c.ScopeType, astroapi.ScopeDeployment) {
			r.suggestRoles = append(r.suggestRoles, c.Name)
		}
	}
	return r
}

func (r *resolver) errorf(pos spec.Pos, format string, args ...any) {
	r.errs = append(r.errs, &spec.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (r *resolver) notef(pos spec.Pos, format string, args ...any) {
	r.notes = append(r.notes, Note{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (r *resolver) workspaceNames() []string {
	out := make([]string, 0, len(r.wsByName))
	for name := range r.wsByName {
		out = append(out, name)
	}
	return out
}

// didYouMean is " (did you mean "x"?)" for the closest candidate, or "".
func didYouMean(name string, candidates []string) string {
	slices.Sort(candidates) // the first of equally close ones wins
	if s := spec.Suggest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func ids[T any](xs []*T, id func(*T) string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = id(x)
	}
	slices.Sort(s)
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
		ws = r.wsByID[sd.Workspace]
		if ws == nil {
			switch c := r.wsByName[sd.Workspace]; len(c) {
			case 0:
				r.errorf(sd.Pos, "deployment %q: workspace %q not found%s", sd.Name, sd.Workspace,
					didYouMean(sd.Workspace, r.workspaceNames()))
				return nil
			case 1:
				ws = c[0]
			default:
				r.errorf(sd.Pos, "deployment %q: workspace name %q is ambiguous: %s (use id)", sd.Name, sd.Workspace,
					ids(c, func(w *astroapi.Workspace) string { return w.ID }))
				return nil
			}
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
		r.errorf(sd.Pos, "deployment %q not found in workspace %q (found in workspace %s)", sd.Name, ws.Name, strings.Join(names, ", "))
	default:
		var names []string
		for _, d := range r.obs.Deployments {
			if d.WorkspaceID == ws.ID {
				names = append(names, d.Name)
			}
		}
		r.errorf(sd.Pos, "deployment %q not found in workspace %q%s", sd.Name, ws.Name, didYouMean(sd.Name, names))
	}
	return nil
}

// tokenWorkspace returns the workspace of a WORKSPACE token: the entity of
// its WORKSPACE role.
func tokenWorkspace(t *astroapi.Token) (string, bool) {
	for _, r := range t.Roles {
		if r.EntityType == astroapi.EntityWorkspace {
			return r.EntityID, true
		}
	}
	return "", false
}

// scopeOf names the list a token entry is in and, for workspaceTokens, the
// workspace it is looked up in ("" when the deployment did not resolve).
type scopeOf struct {
	list      string // "workspaceTokens" or "organizationTokens"
	workspace string
}

// inScope reports whether t is where Astro scopes a name of the list: a
// workspace token of the deployment's workspace, or an organization token.
func (s scopeOf) inScope(t *astroapi.Token) bool {
	if s.list == "organizationTokens" {
		return t.Scope == astroapi.ScopeOrganization
	}
	if t.Scope != astroapi.ScopeWorkspace {
		return false
	}
	ws, _ := tokenWorkspace(t)
	return s.workspace == "" || ws == s.workspace
}

// describe names the scope in messages.
func (r *resolver) describe(s scopeOf) string {
	if s.list == "organizationTokens" {
		return "among the organization tokens"
	}
	if s.workspace == "" {
		return "among the workspace tokens"
	}
	return fmt.Sprintf("among the workspace tokens of workspace %q", r.workspaceName(s.workspace))
}

// names are the names of the tokens in scope s, for suggestions.
func (r *resolver) names(s scopeOf) []string {
	var out []string
	for name, ts := range r.tokByName {
		if slices.ContainsFunc(ts, s.inScope) {
			out = append(out, name)
		}
	}
	return out
}

// lookup finds the token an entry names. A name is looked up where Astro
// scopes it; when nothing in scope has it, elsewhere are the tokens of that
// name outside the scope, for a precise error. It reports ambiguity itself
// and returns a nil token then.
func (r *resolver) lookup(e spec.TokenEntry, s scopeOf) (t *astroapi.Token, elsewhere []*astroapi.Token, reported bool) {
	if e.ID != "" {
		return r.tokByID[e.ID], nil, false
	}
	var found []*astroapi.Token
	for _, c := range r.tokByName[e.Name] {
		if s.inScope(c) {
			found = append(found, c)
		} else {
			elsewhere = append(elsewhere, c)
		}
	}
	byID := func(t *astroapi.Token) string { return t.ID }
	switch {
	case len(found) == 1:
		return found[0], nil, false
	case len(found) == 0:
		return nil, elsewhere, false
	case s.list == "workspaceTokens" && s.workspace == "" && !oneWorkspace(found):
		// The deployment did not resolve, so the workspace is unknown:
		// names in several workspaces are not ambiguous, and the
		// deployment's error says enough.
		return nil, nil, true
	}
	r.errorf(e.Pos, "token name %q is ambiguous: %s (use id)", e.Name, ids(found, byID))
	return nil, nil, true
}

// oneWorkspace reports whether the workspace tokens ts are all of one
// workspace.
func oneWorkspace(ts []*astroapi.Token) bool {
	first, _ := tokenWorkspace(ts[0])
	for _, t := range ts[1:] {
		if ws, _ := tokenWorkspace(t); ws != first {
			return false
		}
	}
	return true
}

// notFound reports an entry whose token is not where the spec says:
// absent entries are satisfied with a note, others are errors that say
// where the name is instead, or suggest a name of the same scope.
func (r *resolver) notFound(e spec.TokenEntry, s scopeOf, elsewhere []*astroapi.Token) {
	ref := e.Ref()
	if e.State == spec.Absent {
		if e.ID != "" {
			r.notef(e.Pos, "token %q not found: state: absent is satisfied", ref)
		} else {
			r.notef(e.Pos, "token %q not found %s: state: absent is satisfied", ref, r.describe(s))
		}
		return
	}
	if e.ID != "" {
		r.errorf(e.Pos, "token %q not found", ref)
		return
	}
	if len(elsewhere) > 0 {
		where := make([]string, len(elsewhere))
		for i, t := range elsewhere {
			switch ws, _ := tokenWorkspace(t); {
			case t.Scope == astroapi.ScopeWorkspace:
				where[i] = fmt.Sprintf("%s (workspace %q)", t.ID, r.workspaceName(ws))
			default:
				where[i] = fmt.Sprintf("%s (%s token)", t.ID, strings.ToLower(t.Scope))
			}
		}
		slices.Sort(where)
		r.errorf(e.Pos, "token %q not found %s (tokens of that name: %s)", ref, r.describe(s), strings.Join(where, ", "))
		return
	}
	r.errorf(e.Pos, "token %q not found %s%s", ref, r.describe(s), didYouMean(e.Name, r.names(s)))
}

// token resolves one token entry of a deployment (dep is nil when the
// deployment did not resolve), or reports why it cannot. A name is looked
// up where Astro scopes it (see scopeOf); an id anywhere.
func (r *resolver) token(e spec.TokenEntry, list string, dep *astroapi.Deployment) (DesiredAssignment, bool) {
	s := scopeOf{list: list}
	if dep != nil {
		s.workspace = dep.WorkspaceID
	}
	t, elsewhere, reported := r.lookup(e, s)
	if reported {
		return DesiredAssignment{}, false
	}
	if t == nil && len(elsewhere) == 1 && e.State != spec.Absent {
		// The one token of that name is out of scope: the checks below
		// say why (wrong list, other workspace, deployment token).
		t = elsewhere[0]
	}
	if t == nil {
		r.notFound(e, s, elsewhere)
		return DesiredAssignment{}, false
	}
	ref := e.Ref()
	ok := true
	if p, ignored := matchGlob(r.ignore, t.Name, t.ID); ignored {
		r.errorf(e.Pos, "token %q matches ignoreTokens %q: remove it from the spec or from ignoreTokens", ref, p)
		ok = false
	}
	switch t.Scope {
	case astroapi.ScopeDeployment:
		r.errorf(e.Pos, "token %q is a deployment API token: deployment tokens cannot be managed", ref)
		return DesiredAssignment{}, false
	case astroapi.ScopeOrganization:
		if list != "organizationTokens" {
			r.errorf(e.Pos, "token %q is an organization token: list it under organizationTokens", ref)
			ok = false
		}
	case astroapi.ScopeWorkspace:
		if list != "workspaceTokens" {
			r.errorf(e.Pos, "token %q is a workspace token: list it under workspaceTokens", ref)
			ok = false
		}
		ws, has := tokenWorkspace(t)
		switch {
		case !has:
			r.errorf(e.Pos, "token %q is a workspace token without a workspace role", ref)
			ok = false
		case dep != nil && ws != dep.WorkspaceID:
			r.errorf(e.Pos, "token %q belongs to workspace %q and cannot have a role on deployment %q of workspace %q",
				ref, r.workspaceName(ws), dep.Name, r.workspaceName(dep.WorkspaceID))
			ok = false
		}
	default:
		r.errorf(e.Pos, "token %q has an unknown scope %q", ref, t.Scope)
		return DesiredAssignment{}, false
	}
	a := DesiredAssignment{
		Token:  TokenRef{ID: t.ID, Name: t.Name, Scope: t.Scope},
		Absent: e.State == spec.Absent,
		Source: e.Pos,
	}
	if !a.Absent {
		role, msg := r.role(e.Role, dep)
		if msg != "" {
			r.errorf(e.Pos, "token %q: %s", ref, msg)
			ok = false
		}
		a.Role = role
	}
	return a, ok
}

// role resolves a deployment role name to the API's spelling, or returns
// why it cannot be used on dep (nil when the deployment did not resolve).
func (r *resolver) role(name string, dep *astroapi.Deployment) (string, string) {
	up := strings.ToUpper(name)
	if up == astroapi.RoleDeploymentAdmin {
		return up, ""
	}
	if name == "" {
		return "", "missing role"
	}
	if c := r.roleByUpper[up]; c != nil {
		if !strings.EqualFold(c.ScopeType, astroapi.ScopeDeployment) {
			return "", fmt.Sprintf("role %q is a %s role, not a deployment role", name, c.ScopeType)
		}
		if dep != nil && len(c.RestrictedWorkspaceIDs) > 0 && !slices.Contains(c.RestrictedWorkspaceIDs, dep.WorkspaceID) {
			return "", fmt.Sprintf("role %q is not allowed in workspace %q of deployment %q",
				c.Name, r.workspaceName(dep.WorkspaceID), dep.Name)
		}
		return c.Name, ""
	}
	if builtinRoles[up] {
		return "", fmt.Sprintf("role %q is not a deployment role", name)
	}
	if s := spec.Suggest(name, r.suggestRoles); s != "" {
		return "", fmt.Sprintf("unknown role %q (did you mean %q?)", name, s)
	}
	return "", fmt.Sprintf("unknown role %q", name)
}
