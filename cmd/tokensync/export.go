package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ExportCmd is `tokensync export`.
type ExportCmd struct {
	Workspace  []string `help:"Export only this workspace (id or name): its workspace roles, deployments and DAGs; repeatable." placeholder:"W"`
	Deployment []string `help:"Export only this deployment (id, name or workspace/name) and its DAGs; repeatable." placeholder:"D"`
	Levels     []string `sep:"," help:"Export only these levels: organization, workspace, deployment, dag (comma-separated or repeated). Default: every level; with --workspace or --deployment, every level but the organization." placeholder:"LEVEL"`
	Ignore     []string `help:"Leave out the tokens, users and teams whose name or id matches this glob (in any case), and write it to the spec's ignore lists; repeatable." placeholder:"GLOB"`
	Out        string   `env:"-" type:"path" help:"Write a directory instead of stdout: organization.yaml (the organization level) and one workspace-NAME.yaml per workspace (its workspace roles, deployments and DAGs). DIR must not exist, or be empty." placeholder:"DIR"`
	Globals
}

// The levels --levels names.
const (
	levelOrganization = "organization"
	levelWorkspace    = "workspace"
	levelDeployment   = "deployment"
	levelDAG          = "dag"
)

// exportLevels are the levels an export writes.
type exportLevels struct{ organization, workspace, deployment, dag bool }

// Validate checks the API flags, --levels and the --ignore globs.
func (c *ExportCmd) Validate() error {
	if err := c.Globals.Validate(); err != nil {
		return err
	}
	if _, err := c.levels(); err != nil {
		return err
	}
	_, err := parseGlobs("--ignore", c.Ignore)
	return err
}

// levels are the levels to export: those --levels names or, without it,
// every level (but the organization when --workspace or --deployment
// narrows the export: the organization level belongs to no workspace).
func (c *ExportCmd) levels() (exportLevels, error) {
	if len(c.Levels) == 0 {
		narrowed := len(c.Workspace) > 0 || len(c.Deployment) > 0
		return exportLevels{organization: !narrowed, workspace: true, deployment: true, dag: true}, nil
	}
	var l exportLevels
	for _, name := range c.Levels {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case levelOrganization:
			l.organization = true
		case levelWorkspace:
			l.workspace = true
		case levelDeployment:
			l.deployment = true
		case levelDAG, "dags":
			l.dag = true
		default:
			return l, exitWith(exitUsage, "--levels %q: not a level; use organization, workspace, deployment or dag", name)
		}
	}
	return l, nil
}

// Run prints a spec of today's roles on the selected levels, or writes it
// to a directory (--out). Deployment API tokens are left out: tokensync
// never manages them.
func (c *ExportCmd) Run(ctx context.Context, g *Globals, st *Streams) error {
	levels, err := c.levels()
	if err != nil {
		return err
	}
	if c.Out != "" {
		// Refuse a directory in the way before reading the organization.
		if err := checkExportDir(c.Out); err != nil {
			return err
		}
	}
	sess, err := g.connect(ctx, *st, "")
	if err != nil {
		return err
	}
	defer sess.close()
	obs, err := observe(ctx, sess)
	if err != nil {
		return err
	}
	sel, err := c.selection(obs, levels)
	if err != nil {
		return err
	}
	if sel.levels.organization && obs.PerWorkspace {
		sess.log.Warn("the credential may not list the whole organization: the organization level is left out of the export")
		sel.levels.organization = false
	}
	doc := exportSpec(obs, sel, c.Ignore)
	if c.Out != "" {
		files := splitExport(doc, obs)
		if err := writeExportDir(c.Out, files, specFileLimits); err != nil {
			return err
		}
		fmt.Fprintf(st.Err, "Wrote %d spec files to %s; plan them with: tokensync plan -f %s\n", len(files), render.Safe(c.Out), render.Safe(c.Out))
		return nil
	}
	return writeExport(st.Out, doc, specFileLimits)
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
		return exitWith(exitInvalid, "the export holds %d deployments in %d bytes, over what a spec file may hold (%d deployments, %d bytes): export part of the organization per file with --workspace or --deployment, or a file per workspace with --out DIR",
			len(doc.Deployments), b.Len(), limits.deployments, limits.bytes)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// exportSelection is what an export covers: the levels, the workspaces of
// the workspace level and the deployments of the deployment and DAG
// levels.
type exportSelection struct {
	levels      exportLevels
	workspaces  []astroapi.Workspace
	deployments []astroapi.Deployment
}

// everything selects every level, workspace and deployment of obs.
func everything(obs *sync.Observed) exportSelection {
	return exportSelection{levels: exportLevels{true, true, true, true}, workspaces: obs.Workspaces, deployments: obs.Deployments}
}

// selection applies --workspace and --deployment to obs: with neither,
// every workspace and deployment is selected; otherwise the workspaces
// --workspace names, and their deployments and those --deployment names.
// A value that names nothing, or a name that fits several, is a usage
// error listing every such value.
func (c *ExportCmd) selection(obs *sync.Observed, levels exportLevels) (exportSelection, error) {
	if len(c.Workspace) == 0 && len(c.Deployment) == 0 {
		sel := everything(obs)
		sel.levels = levels
		return sel, nil
	}
	sel := exportSelection{levels: levels}
	wantedWs, wanted := map[string]bool{}, map[string]bool{}
	var problems []string
	for _, w := range c.Workspace {
		id, problem := exportWorkspace(obs, w)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("--workspace %q: %s", w, problem))
			continue
		}
		wantedWs[id] = true
		for _, d := range obs.Deployments {
			if d.WorkspaceID == id {
				wanted[d.ID] = true
			}
		}
	}
	for _, ref := range c.Deployment {
		id, problem := exportDeployment(obs, ref)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("--deployment %q: %s", ref, problem))
			continue
		}
		wanted[id] = true
	}
	if len(problems) > 0 {
		// A flag value that names nothing is a usage error, as in report.
		return sel, exitWith(exitUsage, "%s", strings.Join(problems, "\n"))
	}
	for _, w := range obs.Workspaces {
		if wantedWs[w.ID] {
			sel.workspaces = append(sel.workspaces, w)
		}
	}
	for _, d := range obs.Deployments {
		if wanted[d.ID] {
			sel.deployments = append(sel.deployments, d)
		}
	}
	return sel, nil
}

// exportWorkspace is the id of the workspace ref names, by id first, then
// by name; or what is wrong with ref: it names none, or several.
func exportWorkspace(obs *sync.Observed, ref string) (id, problem string) {
	var byName []string
	for _, w := range obs.Workspaces {
		if w.ID == ref {
			return w.ID, ""
		}
		if w.Name == ref {
			byName = append(byName, w.ID)
		}
	}
	switch len(byName) {
	case 0:
		return "", fmt.Sprintf("no such workspace in organization %s", obs.Organization)
	case 1:
		return byName[0], ""
	}
	slices.Sort(byName)
	return "", fmt.Sprintf("%d workspaces have this name (%s): give its id", len(byName), strings.Join(byName, ", "))
}

// exportDeployment is the id of the deployment ref names, as --target
// and report name one: by id first, then by workspace/name (the
// workspace's id or name) or by name alone; or what is wrong with ref: it
// names none, or several.
func exportDeployment(obs *sync.Observed, ref string) (id, problem string) {
	wsName := map[string]string{}
	for _, w := range obs.Workspaces {
		wsName[w.ID] = w.Name
	}
	var candidates []string
	for _, d := range obs.Deployments {
		if d.ID == ref {
			return d.ID, ""
		}
		ws := wsName[d.WorkspaceID]
		if ref == d.Name || ref == d.WorkspaceID+"/"+d.Name || (ws != "" && ref == ws+"/"+d.Name) {
			candidates = append(candidates, fmt.Sprintf("%s (workspace %s)", d.ID, cmp.Or(ws, d.WorkspaceID)))
		}
	}
	switch len(candidates) {
	case 0:
		return "", fmt.Sprintf("no such deployment in organization %s (give its id, name or workspace/name)", obs.Organization)
	case 1:
		id, _, _ := strings.Cut(candidates[0], " ")
		return id, ""
	}
	slices.Sort(candidates)
	return "", fmt.Sprintf("%d deployments have this name: %s; give its id or workspace/name", len(candidates), strings.Join(candidates, ", "))
}

// exportComment heads the exported file.
const exportComment = "Exported by tokensync: the current roles of workspace and organization tokens, users and teams\non the organization, its workspaces, deployments and DAGs, implied accessor roles included.\nOn the organization level, ORGANIZATION_MEMBER is the floor and is not listed: a plan leaves an\nunlisted member as it is, and prune demotes an unlisted user or team to it.\nDeployment API tokens are left out. A user whose status is not ACTIVE has it in a comment: the spec keeps its roles, and prune removes them once its entry is deleted."

// exportEntries are the roles held at each scope, by the subjects an
// export may list: every subject of a managed kind that no ignore glob
// matches, its first role at a scope (the one plan reads).
type exportEntries struct {
	held      map[sync.Scope][]exportHeld
	nameCount map[string]int
}

// exportHeld is one role a subject holds at a scope.
type exportHeld struct {
	subject sync.Subject
	role    string
}

func newExportEntries(obs *sync.Observed, ignore []string) *exportEntries {
	x := &exportEntries{held: map[sync.Scope][]exportHeld{}, nameCount: map[string]int{}}
	for _, s := range obs.Subjects {
		x.nameCount[nameScope(s)]++
	}
	seenSubject := map[string]bool{}
	for _, s := range obs.Subjects {
		if !slices.Contains(spec.Kinds(), s.Kind) || sync.Matches(ignore, s.SubjectRef) || seenSubject[s.ID] {
			continue
		}
		seenSubject[s.ID] = true
		seen := map[sync.Scope]bool{}
		for _, g := range s.Grants {
			if seen[g.Scope] {
				continue // a second role at one scope: plan reads the first
			}
			seen[g.Scope] = true
			x.held[g.Scope] = append(x.held[g.Scope], exportHeld{s, g.Role})
		}
	}
	for _, hs := range x.held {
		slices.SortFunc(hs, func(a, b exportHeld) int {
			return cmp.Or(strings.Compare(a.subject.Name, b.subject.Name), strings.Compare(a.subject.ID, b.subject.ID))
		})
	}
	return x
}

// at is the entries of the roles held at sc, by kind. A workspace token
// is listed on the workspace level only under its own workspace (its one
// workspace role), never on the organization (where the API gives it no
// role).
func (x *exportEntries) at(sc sync.Scope) map[spec.Kind][]spec.EntryDoc {
	out := map[spec.Kind][]spec.EntryDoc{}
	for _, h := range x.held[sc] {
		s := h.subject
		if s.Kind == spec.KindWorkspaceToken && (sc.Level == sync.LevelOrganization || sc.Level == sync.LevelWorkspace && s.Workspace != sc.ID) {
			continue
		}
		out[s.Kind] = append(out[s.Kind], exportEntry(s, h.role, x.nameCount[nameScope(s)] != 1))
	}
	return out
}

// aboveMember is the organization level's entries, but for those holding
// ORGANIZATION_MEMBER: it is the floor of the organization (nobody is
// removed from it, and prune demotes an unlisted user or team to it), so
// a plan leaves an unlisted member as it is, with or without prune, and
// the organization of 50,000 people fits one file.
func (x *exportEntries) aboveMember() map[spec.Kind][]spec.EntryDoc {
	out := x.at(sync.Organization)
	for k, entries := range out {
		out[k] = slices.DeleteFunc(entries, func(e spec.EntryDoc) bool { return e.Role == astroapi.RoleOrganizationMember })
	}
	return out
}

// dags are the DAG entries of deployment dep: every DAG id, then every
// DAG tag, on which a listed subject holds a role, in order.
func (x *exportEntries) dags(dep astroapi.Deployment) []spec.DagDoc {
	var scopes []sync.Scope
	for sc := range x.held {
		if (sc.Level == sync.LevelDAG || sc.Level == sync.LevelDAGTag) && sc.Deployment == dep.ID && sc.ID != "" {
			scopes = append(scopes, sc)
		}
	}
	slices.SortFunc(scopes, func(a, b sync.Scope) int {
		return cmp.Or(strings.Compare(string(a.Level), string(b.Level)), strings.Compare(a.ID, b.ID)) // "dag" before "dagTag"
	})
	var out []spec.DagDoc
	for _, sc := range scopes {
		entries := x.at(sc)
		if len(entries) == 0 {
			continue
		}
		g := spec.DagDoc{DagID: sc.ID, Entries: entries}
		if sc.Level == sync.LevelDAGTag {
			g = spec.DagDoc{DagTag: sc.ID, Entries: entries}
		}
		out = append(out, g)
	}
	return out
}

// exportSpec builds the spec of today's roles on the levels and scopes sel
// selects: the organization level (organizationRoles), each workspace by
// id, each deployment by id (name and workspace in a comment) with its
// DAGs and DAG tags, and every role held there, whatever the user's status
// or organization role (the resolver takes an entry that asks for what is
// held as it is, so a plan of the export is empty). Implied accessor roles
// (WORKSPACE_ACCESSOR, DEPLOYMENT_ACCESSOR) are listed as held: a listed
// role is a listed role. Every scope written has the key of every kind it
// can list (empty lists included), so the export manages every kind;
// without the deployment level, a deployment is written only to hold its
// DAGs, and then no level writes empty lists (they are per document).
// Deployment API tokens are left out, and so are the subjects a glob of
// ignore matches (name or id), which the spec's ignore lists then name.
// Each subject is written as exportEntry says. Names are unique or not
// among every subject, the ignored ones too: the spec is resolved against
// all of them.
func exportSpec(obs *sync.Observed, sel exportSelection, ignore []string) spec.Document {
	x := newExportEntries(obs, ignore)
	wsName := map[string]string{}
	for _, w := range obs.Workspaces {
		wsName[w.ID] = w.Name
	}
	doc := spec.Document{Organization: obs.Organization, Comment: exportComment, Ignore: ignore}
	if sel.levels.deployment {
		doc.Always = spec.Kinds()
	}
	if sel.levels.organization {
		doc.OrganizationRoles = &spec.OrganizationRolesDoc{Entries: x.aboveMember()}
	}
	if sel.levels.workspace {
		workspaces := slices.Clone(sel.workspaces)
		slices.SortFunc(workspaces, func(a, b astroapi.Workspace) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
		})
		for _, w := range workspaces {
			sc := sync.Scope{Level: sync.LevelWorkspace, ID: w.ID}
			doc.Workspaces = append(doc.Workspaces, spec.WorkspaceDoc{ID: w.ID, Name: w.Name, Entries: x.at(sc)})
		}
	}
	deps := slices.Clone(sel.deployments)
	slices.SortFunc(deps, func(a, b astroapi.Deployment) int {
		return cmp.Or(strings.Compare(wsName[a.WorkspaceID], wsName[b.WorkspaceID]), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	for _, d := range deps {
		dd := spec.DeploymentDoc{ID: d.ID, Name: d.Name, Workspace: wsName[d.WorkspaceID]}
		if sel.levels.deployment {
			dd.Entries = x.at(sync.Scope{Level: sync.LevelDeployment, ID: d.ID})
		}
		if sel.levels.dag {
			dd.Dags = x.dags(d)
		}
		if !sel.levels.deployment && len(dd.Dags) == 0 {
			continue
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
