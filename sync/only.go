package sync

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
)

// Only limits d to the deployments of the spec that targets name (plan
// and apply --target): each target is a deployment id, or
// workspace/name with the workspace's name or id. Everything Compute does
// from d (prune, the guards, the fingerprints) then stays within those
// deployments, and so do Apply and Verify through the plan's Target.
//
// It returns the deployments kept, in d's order, for the plan to say it is
// partial. A target that names no deployment of the spec is an error that
// lists every such target.
func Only(d Desired, workspaces []astroapi.Workspace, targets []string) (Desired, []DeploymentRef, error) {
	wsName := make(map[string]string, len(workspaces))
	for _, w := range workspaces {
		wsName[w.ID] = w.Name
	}
	matched := make(map[string]bool, len(targets))
	out := d
	out.Deployments = nil
	var refs []DeploymentRef
	for _, md := range d.Deployments {
		keep := false
		for _, t := range targets {
			if targetMatches(t, md, wsName[md.WorkspaceID]) {
				matched[t], keep = true, true
			}
		}
		if keep {
			out.Deployments = append(out.Deployments, md)
			refs = append(refs, DeploymentRef{ID: md.ID, Name: md.Name})
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

// targetMatches reports whether target names md, a deployment of workspace
// wsName.
func targetMatches(target string, md ManagedDeployment, wsName string) bool {
	if target == md.ID {
		return true
	}
	ws, ok := strings.CutSuffix(target, "/"+md.Name)
	return ok && (ws == md.WorkspaceID || (wsName != "" && ws == wsName))
}

// unknownTargets is the error of targets that name no deployment of the
// spec, with the closest one as a hint.
func unknownTargets(missing []string, d Desired, wsName map[string]string) error {
	var names []string
	for _, md := range d.Deployments {
		names = append(names, md.ID, cmp.Or(wsName[md.WorkspaceID], md.WorkspaceID)+"/"+md.Name)
	}
	msgs := make([]string, len(missing))
	for i, t := range missing {
		msgs[i] = fmt.Sprintf("%q%s", t, didYouMean(t, slices.Clone(names)))
	}
	return fmt.Errorf("--target %s: not a deployment of the spec (give a deployment id or workspace/name)", strings.Join(msgs, ", "))
}
