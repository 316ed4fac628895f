package main

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ExportCmd is `tokensync export`.
type ExportCmd struct {
	Workspace  []string `help:"Export only the deployments of this workspace (id or name); repeatable." placeholder:"W"`
	Deployment []string `help:"Export only this deployment (id or name); repeatable." placeholder:"D"`
}

// Run prints a spec of today's assignments on the selected deployments.
// Deployment API tokens are left out: tokensync never manages them.
func (c *ExportCmd) Run(ctx context.Context, g *Globals, st *Streams) error {
	sess, err := g.connect(ctx, *st, "")
	if err != nil {
		return err
	}
	defer sess.close()
	obs, err := observe(ctx, sess)
	if err != nil {
		return err
	}
	deps, err := c.selectDeployments(obs)
	if err != nil {
		return err
	}
	return spec.Encode(st.Out, exportSpec(obs, deps))
}

// selectDeployments applies --workspace and --deployment; with neither,
// every deployment is selected.
func (c *ExportCmd) selectDeployments(obs *sync.Observed) ([]astroapi.Deployment, error) {
	if len(c.Workspace) == 0 && len(c.Deployment) == 0 {
		return obs.Deployments, nil
	}
	wanted := map[string]bool{}
	for _, w := range c.Workspace {
		n := 0
		for _, ws := range obs.Workspaces {
			if ws.ID == w || ws.Name == w {
				n++
				for _, d := range obs.Deployments {
					if d.WorkspaceID == ws.ID {
						wanted[d.ID] = true
					}
				}
			}
		}
		if n == 0 {
			return nil, exitWith(exitInvalid, "--workspace %q: no such workspace in organization %s", w, obs.Organization)
		}
	}
	for _, ref := range c.Deployment {
		n := 0
		for _, d := range obs.Deployments {
			if d.ID == ref || d.Name == ref {
				wanted[d.ID] = true
				n++
			}
		}
		if n == 0 {
			return nil, exitWith(exitInvalid, "--deployment %q: no such deployment in organization %s", ref, obs.Organization)
		}
	}
	var out []astroapi.Deployment
	for _, d := range obs.Deployments {
		if wanted[d.ID] {
			out = append(out, d)
		}
	}
	return out, nil
}

// exportComment heads the exported file.
const exportComment = "Exported by tokensync: the current deployment roles of workspace and organization tokens.\nDeployment API tokens are not managed and are left out."

// exportSpec builds the spec document: deployments by id (name and
// workspace in a comment), tokens by name where the name is unique in the
// organization (and not empty, which the spec refuses) and by id otherwise.
func exportSpec(obs *sync.Observed, deps []astroapi.Deployment) spec.Document {
	wsName := map[string]string{}
	for _, w := range obs.Workspaces {
		wsName[w.ID] = w.Name
	}
	nameCount := map[string]int{}
	for _, t := range obs.Tokens {
		nameCount[t.Name]++
	}
	deps = slices.Clone(deps)
	slices.SortFunc(deps, func(a, b astroapi.Deployment) int {
		return cmp.Or(strings.Compare(wsName[a.WorkspaceID], wsName[b.WorkspaceID]), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})

	type entry struct {
		token astroapi.Token
		role  string
	}
	held := map[string][]entry{} // deployment id → assignments
	for _, t := range obs.Tokens {
		if t.Scope == astroapi.ScopeDeployment {
			continue
		}
		for _, r := range astroapi.TokenDeploymentRoles(t.Roles) {
			held[r.DeploymentID] = append(held[r.DeploymentID], entry{t, r.Role})
		}
	}

	doc := spec.Document{Organization: obs.Organization, Comment: exportComment, Always: []spec.Kind{spec.KindWorkspaceToken}}
	for _, d := range deps {
		entries := held[d.ID]
		slices.SortFunc(entries, func(a, b entry) int {
			return cmp.Or(strings.Compare(a.token.Name, b.token.Name), strings.Compare(a.token.ID, b.token.ID))
		})
		dd := spec.DeploymentDoc{ID: d.ID, Name: d.Name, Workspace: wsName[d.WorkspaceID], Entries: map[spec.Kind][]spec.EntryDoc{}}
		for _, e := range entries {
			ed := spec.EntryDoc{Name: e.token.Name, Role: e.role}
			if nameCount[e.token.Name] != 1 || e.token.Name == "" {
				ed = spec.EntryDoc{ID: e.token.ID, Role: e.role, Comment: e.token.Name + " (name shared by several tokens)"}
			}
			kind := spec.KindWorkspaceToken
			if e.token.Scope == astroapi.ScopeOrganization {
				kind = spec.KindOrganizationToken
			}
			dd.Entries[kind] = append(dd.Entries[kind], ed)
		}
		doc.Deployments = append(doc.Deployments, dd)
	}
	return doc
}
