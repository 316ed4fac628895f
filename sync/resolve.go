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
		slices.SortStableFunc(r.errs, func(a, b *spec.Error) int {
			return cmp.Or(
				cmp.Compare(a.Pos.File, b.Pos.File),
				cmp.Compare(a.Pos.Line, b.Pos.Line),
				cmp.Compare(a.Pos.Col, b.Pos.Col),
			)
		})
		return Desired{}, r.errs
	}
	return d, nil
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
				r.errorf(sd.Pos, "deployment %q: workspace %q not found", sd.Name, sd.Workspace)
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
		r.errorf(sd.Pos, "deployment %q not found in workspace %q", sd.Name, ws.Name)
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

// token resolves one token entry of a deployment (dep is nil when the
// deployment did not resolve), or reports why it cannot.
func (r *resolver) token(e spec.TokenEntry, list string, dep *astroapi.Deployment) (DesiredAssignment, bool) {
	var t *astroapi.Token
	if e.ID != "" {
		if t = r.tokByID[e.ID]; t == nil {
			r.errorf(e.Pos, "token %q not found", e.ID)
			return DesiredAssignment{}, false
		}
	} else {
		switch c := r.tokByName[e.Name]; len(c) {
		case 0:
			r.errorf(e.Pos, "token %q not found", e.Name)
			return DesiredAssignment{}, false
		case 1:
			t = c[0]
		default:
			r.errorf(e.Pos, "token name %q is ambiguous: %s (use id)", e.Name, ids(c, func(t *astroapi.Token) string { return t.ID }))
			return DesiredAssignment{}, false
		}
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
