package sync

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// TargetOrganization is the --target that names the organization level.
const TargetOrganization = "organization"

// Only limits d to the scopes of the spec that targets name (plan and
// apply --target). A target names exactly one of:
//   - organization: the organization level;
//   - a workspace, by id or name: that workspace's level and every managed
//     deployment of it, with their DAGs;
//   - a deployment of the spec, by id, name, or workspace/name with the
//     workspace's name or id: that deployment and its DAGs.
//
// An id is taken first; a name that fits more than one workspace or
// deployment is an error that lists their ids, as in a spec. (A workspace
// named "organization" is named by its id.)
//
// Everything Compute does from d (prune, the guards, the fingerprints) then
// stays within those scopes, and so do Apply and Verify through the plan's
// Target.
//
// It returns the scopes kept, in d's order (DAGs are not listed: they
// follow their deployment), for the plan to say it is partial. Targets
// that name no scope of the spec, or more than one workspace or
// deployment, are one error that lists every such target.
func Only(d Desired, workspaces []astroapi.Workspace, targets []string) (Desired, []ScopeRef, error) {
	wsName := make(map[string]string, len(workspaces))
	for _, w := range workspaces {
		wsName[w.ID] = w.Name
	}
	var (
		resolved         []target
		missing, unclear []string
	)
	for _, t := range targets {
		switch tg, candidates := resolveTarget(t, d, workspaces, wsName); {
		case len(candidates) > 1:
			unclear = append(unclear, fmt.Sprintf("%q is ambiguous: %s (use an id)", t, strings.Join(candidates, ", ")))
		case tg == target{}:
			missing = append(missing, t)
		default:
			tg.name = t
			resolved = append(resolved, tg)
		}
	}
	keeps := func(md ManagedScope) bool {
		return slices.ContainsFunc(resolved, func(tg target) bool { return tg.keeps(md) })
	}
	out := d
	out.Scopes = nil
	var refs []ScopeRef
	kept := make(map[string]bool) // deployment ids kept, for their DAGs
	for _, md := range d.Scopes {
		switch {
		case md.Level == LevelDAG || md.Level == LevelDAGTag:
		case keeps(md):
			if md.Level == LevelDeployment {
				kept[md.ID] = true
			}
			refs = append(refs, md.ScopeRef)
		}
	}
	for _, md := range d.Scopes {
		switch md.Level {
		case LevelDAG, LevelDAGTag:
			if kept[md.Deployment.ID] {
				out.Scopes = append(out.Scopes, md)
			}
		default:
			if keeps(md) {
				out.Scopes = append(out.Scopes, md)
			}
		}
	}
	var unmanaged []string
	for _, tg := range resolved {
		switch {
		case slices.ContainsFunc(d.Scopes, tg.keeps):
		case tg.org:
			unmanaged = append(unmanaged, fmt.Sprintf("--target %q: the spec has no organizationRoles", tg.name))
		default:
			unmanaged = append(unmanaged, fmt.Sprintf("--target %q: the spec lists neither workspace %s nor any deployment of it", tg.name, cmp.Or(wsName[tg.workspace], tg.workspace)))
		}
	}
	if len(missing)+len(unclear)+len(unmanaged) > 0 {
		return Desired{}, nil, targetError(missing, unclear, unmanaged, d, wsName)
	}
	return out, refs, nil
}

// target is what one --target (name) names: the organization, a
// workspace or a deployment, by id.
type target struct {
	name       string
	org        bool
	workspace  string
	deployment string
}

// keeps reports whether the target keeps md: the organization level; a
// workspace's level and its deployments; a deployment. (A DAG follows its
// deployment.)
func (t target) keeps(md ManagedScope) bool {
	switch md.Level {
	case LevelOrganization:
		return t.org
	case LevelWorkspace:
		return t.workspace != "" && md.ID == t.workspace
	case LevelDeployment:
		return md.ID == t.deployment || (t.workspace != "" && md.WorkspaceID == t.workspace)
	}
	return false
}

// resolveTarget is what t names among the workspaces of the organization
// and the managed deployments of d: by id first, then by name, among the
// scopes of d (a deployment of d, a workspace d lists something of). When
// a name fits more than one, candidates lists them, and target is zero.
func resolveTarget(t string, d Desired, workspaces []astroapi.Workspace, wsName map[string]string) (target, []string) {
	if t == TargetOrganization {
		return target{org: true}, nil
	}
	if _, ok := wsName[t]; ok {
		return target{workspace: t}, nil
	}
	var byName []target
	var candidates []string
	for _, md := range d.Scopes {
		if md.Level != LevelDeployment {
			continue
		}
		if md.ID == t {
			return target{deployment: md.ID}, nil
		}
		ws, ok := strings.CutSuffix(t, "/"+md.Name)
		if t == md.Name || ok && (ws == md.WorkspaceID || (wsName[md.WorkspaceID] != "" && ws == wsName[md.WorkspaceID])) {
			byName = append(byName, target{deployment: md.ID})
			candidates = append(candidates, fmt.Sprintf("deployment %s", md.ID))
		}
	}
	// A name is looked for among the workspaces the spec lists something
	// of, as the deployments above are the spec's: the organization may
	// have others of the name. Only when none fits, among every workspace,
	// for an error that says the spec lists nothing of it.
	var others []target
	for _, w := range workspaces {
		switch {
		case w.Name != t:
		case slices.ContainsFunc(d.Scopes, target{workspace: w.ID}.keeps):
			byName = append(byName, target{workspace: w.ID})
			candidates = append(candidates, fmt.Sprintf("workspace %s", w.ID))
		default:
			others = append(others, target{workspace: w.ID})
		}
	}
	if len(byName) == 0 && len(others) == 1 {
		byName = others
	}
	switch len(byName) {
	case 0:
		return target{}, nil
	case 1:
		return byName[0], nil
	}
	slices.Sort(candidates)
	return target{}, slices.Compact(candidates)
}

// targetError is the error of targets that name no scope of the spec,
// with the closest one as a hint, of those that name more than one, and
// (unmanaged, each its message) of those that name one the spec lists
// nothing of.
func targetError(missing, unclear, unmanaged []string, d Desired, wsName map[string]string) error {
	var names []string
	for _, md := range d.Scopes {
		switch md.Level {
		case LevelOrganization:
			names = append(names, TargetOrganization)
		case LevelWorkspace:
			names = append(names, md.ID, md.Name)
		case LevelDeployment:
			names = append(names, md.ID, cmp.Or(wsName[md.WorkspaceID], md.WorkspaceID)+"/"+md.Name)
		}
	}
	var errs []string
	if len(missing) > 0 {
		slices.Sort(names) // the first of equally close ones wins
		sg := spec.NewSuggester(names)
		msgs := make([]string, len(missing))
		for i, t := range missing {
			msgs[i] = strconv.Quote(t)
			if i < maxSuggestions {
				msgs[i] += didYouMean(sg.Suggest(t))
			}
		}
		errs = append(errs, fmt.Sprintf("--target %s: not a scope of the spec (give organization, a workspace id or name, a deployment id, name or workspace/name)", strings.Join(msgs, ", ")))
	}
	for _, u := range unclear {
		errs = append(errs, "--target "+u)
	}
	errs = append(errs, unmanaged...)
	return errors.New(strings.Join(errs, "; "))
}
