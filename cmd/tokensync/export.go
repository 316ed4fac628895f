package main

import (
	"bytes"
	"cmp"
	"context"
	"io"
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
	Ignore     []string `help:"Leave out the tokens, users and teams whose name or id matches this glob (in any case), and write it to the spec's ignore lists; repeatable." placeholder:"GLOB"`
	Globals
}

// Validate checks the API flags and the --ignore globs.
func (c *ExportCmd) Validate() error {
	if err := c.Globals.Validate(); err != nil {
		return err
	}
	_, err := parseGlobs("--ignore", c.Ignore)
	return err
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
	return writeExport(st.Out, exportSpec(obs, deps, c.Ignore), specFileLimits)
}

// fileLimits are what one spec file may hold.
type fileLimits struct{ bytes, deployments int }

// specFileLimits are what plan reads in one spec file.
var specFileLimits = fileLimits{spec.MaxFileSize, spec.MaxDeployments}

// writeExport writes doc to w when it is within limits, so that plan can
// read it back. A larger export is refused, with nothing written, rather
// than written as a file no command reads.
func writeExport(w io.Writer, doc spec.Document, limits fileLimits) error {
	var b bytes.Buffer
	if err := spec.Encode(&b, doc); err != nil {
		return err
	}
	if b.Len() > limits.bytes || len(doc.Deployments) > limits.deployments {
		return exitWith(exitInvalid, "the export holds %d deployments in %d bytes, over what a spec file may hold (%d deployments, %d bytes): export part of the organization per file with --workspace or --deployment",
			len(doc.Deployments), b.Len(), limits.deployments, limits.bytes)
	}
	_, err := w.Write(b.Bytes())
	return err
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
const exportComment = "Exported by tokensync: the current deployment roles of workspace and organization tokens, users and teams.\nDeployment API tokens are left out. A user whose status is not ACTIVE has it in a comment: the spec keeps its roles, and prune removes them once its entry is deleted."

// exportSpec builds the spec of today's assignments: deployments by id
// (name and workspace in a comment) with all four lists, and every
// assignment held there, whatever the user's status or organization role
// (the resolver takes an entry that asks for what is held as it is, so a
// plan of the export is empty). Deployment API tokens are left out, and so
// are the subjects a glob of ignore matches (name or id), which the spec's
// ignore lists then name. Each subject is written as exportEntry says.
// Names are unique or not among every subject, the ignored ones too: the
// spec is resolved against all of them.
func exportSpec(obs *sync.Observed, deps []astroapi.Deployment, ignore []string) spec.Document {
	wsName := map[string]string{}
	for _, w := range obs.Workspaces {
		wsName[w.ID] = w.Name
	}
	nameCount := map[string]int{}
	for _, s := range obs.Subjects {
		nameCount[nameScope(s)]++
	}
	deps = slices.Clone(deps)
	slices.SortFunc(deps, func(a, b astroapi.Deployment) int {
		return cmp.Or(strings.Compare(wsName[a.WorkspaceID], wsName[b.WorkspaceID]), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})

	type entry struct {
		subject sync.Subject
		role    string
	}
	held := map[string][]entry{} // deployment id → assignments
	for _, s := range obs.Subjects {
		if !slices.Contains(spec.Kinds(), s.Kind) || sync.Matches(ignore, s.SubjectRef) {
			continue
		}
		seen := map[string]bool{}
		for _, r := range s.Deployments() {
			if seen[r.DeploymentID] {
				continue // a second role on one deployment: plan reads the first
			}
			seen[r.DeploymentID] = true
			held[r.DeploymentID] = append(held[r.DeploymentID], entry{s, r.Role})
		}
	}

	doc := spec.Document{Organization: obs.Organization, Comment: exportComment, Always: spec.Kinds(), Ignore: ignore}
	for _, d := range deps {
		entries := held[d.ID]
		slices.SortFunc(entries, func(a, b entry) int {
			return cmp.Or(strings.Compare(a.subject.Name, b.subject.Name), strings.Compare(a.subject.ID, b.subject.ID))
		})
		dd := spec.DeploymentDoc{ID: d.ID, Name: d.Name, Workspace: wsName[d.WorkspaceID], Entries: map[spec.Kind][]spec.EntryDoc{}}
		for _, e := range entries {
			s := e.subject
			dd.Entries[s.Kind] = append(dd.Entries[s.Kind], exportEntry(s, e.role, nameCount[nameScope(s)] != 1))
		}
		doc.Deployments = append(doc.Deployments, dd)
	}
	return doc
}

// exportEntry is the entry of subject s holding role: by name when the
// spec can name it (a name not shared in its scope, a username the spec
// accepts as an e-mail address), by id otherwise, with the name in the
// comment. A user whose status is not ACTIVE has it in the comment too;
// Encode makes the comment inert, whatever the API sent.
func exportEntry(s sync.Subject, role string, shared bool) spec.EntryDoc {
	e := spec.EntryDoc{Name: s.Name, Role: role}
	var comment []string
	switch {
	case s.Name == "":
		e = spec.EntryDoc{ID: s.ID, Role: role}
	case shared:
		e = spec.EntryDoc{ID: s.ID, Role: role}
		comment = append(comment, s.Name+" (name shared by several)")
	case s.Kind == spec.KindUser && spec.CheckUsername(s.Name) != nil:
		e = spec.EntryDoc{ID: s.ID, Role: role}
		comment = append(comment, s.Name+" (not an e-mail address)")
	}
	if s.Kind == spec.KindUser && s.Status != astroapi.UserActive {
		comment = append(comment, cmp.Or(s.Status, "no status"))
	}
	e.Comment = strings.Join(comment, "; ")
	return e
}

// nameScope is where a name of s is looked up when the spec names it (as
// sync.Resolve does): a workspace token among the workspace tokens of its
// workspace, other kinds among their kind. A name unique in its scope is
// exported by name, others by id.
func nameScope(s sync.Subject) string {
	name := s.Name
	if s.Kind == spec.KindUser {
		name = spec.FoldUsername(name)
	}
	return string(s.Kind) + "\x00" + s.Workspace + "\x00" + name
}
