package sync

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
)

// TargetOrganization is the --target that names the organization level.
const TargetOrganization = "organization"

// Only limits d to the scopes of the spec that targets name (plan and
// apply --target). A target is one of:
//   - organization: the organization level;
//   - a workspace id or name: that workspace's level and every managed
//     deployment of it, with their DAGs;
//   - a deployment id, or workspace/name with the workspace's name or id:
//     that deployment and its DAGs.
//
// Everything Compute does from d (prune, the guards, the fingerprints) then
// stays within those scopes, and so do Apply and Verify through the plan's
// Target.
//
// It returns the scopes kept, in d's order (DAGs are not listed: they
// follow their deployment), for the plan to say it is partial. A target
// that names no scope of the spec is an error that lists every such
// target.
func Only(d Desired, workspaces []astroapi.Workspace, targets []string) (Desired, []ScopeRef, error) {
	wsName := make(map[string]string, len(workspaces))
	for _, w := range workspaces {
		wsName[w.ID] = w.Name
	}
	matched := make(map[string]bool, len(targets))
	kept := make(map[string]bool) // deployment ids kept, for their DAGs
	out := d
	out.Scopes = nil
	var refs []ScopeRef
	for _, md := range d.Scopes {
		if md.Level == LevelDAG || md.Level == LevelDAGTag {
			continue
		}
		keep := false
		for _, t := range targets {
			if targetMatches(t, md, wsName[md.WorkspaceID]) {
				matched[t], keep = true, true
			}
		}
		if keep {
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
			if slices.ContainsFunc(refs, func(r ScopeRef) bool { return r.Key() == md.Key() }) {
				out.Scopes = append(out.Scopes, md)
			}
		}
	}
	var missing []string
	for _, t := range targets {
		if !matched[t] && !slices.Contains(missing, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return Desired{}, nil, unknownTargets(missing, d, wsName)
	}
	return out, refs, nil
}

// targetMatches reports whether target names md (of workspace wsName), or
// the workspace md belongs to.
func targetMatches(target string, md ManagedScope, wsName string) bool {
	switch md.Level {
	case LevelOrganization:
		return target == TargetOrganization
	case LevelWorkspace:
		return target == md.ID || target == md.Name
	}
	if target == md.ID || target == md.WorkspaceID || (wsName != "" && target == wsName) {
		return true
	}
	ws, ok := strings.CutSuffix(target, "/"+md.Name)
	return ok && (ws == md.WorkspaceID || (wsName != "" && ws == wsName))
}

// unknownTargets is the error of targets that name no scope of the spec,
// with the closest one as a hint.
func unknownTargets(missing []string, d Desired, wsName map[string]string) error {
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
	msgs := make([]string, len(missing))
	for i, t := range missing {
		msgs[i] = fmt.Sprintf("%q%s", t, didYouMean(t, slices.Clone(names)))
	}
	return fmt.Errorf("--target %s: not a scope of the spec (give organization, a workspace id or name, a deployment id or workspace/name)", strings.Join(msgs, ", "))
}
