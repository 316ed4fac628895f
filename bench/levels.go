package main

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/tokensync/tokensync/astroapi"
)

// Levels are the roles of a subject on the levels above and below a
// deployment, in an organization that uses every level (a Size with
// DAGGrants): its organization role (users and teams; a token's is its
// OwnRole), its workspace roles (users, teams and organization tokens; a
// workspace token's is its OwnRole) and its DAG roles. Deployment roles
// stay in Org.Want.
type Levels struct {
	OrgRole    string
	Workspaces []WorkspaceGrant
	DAGs       []DAGGrant
}

// WorkspaceGrant is a role on workspace Workspace (an index of
// Org.Workspaces).
type WorkspaceGrant struct {
	Workspace int
	Role      string
}

// DAGGrant is a role on one DAG (ID) or on the DAGs with a tag (Tag) of
// deployment Deployment (an index of Org.Deployments); one of ID and Tag
// is set.
type DAGGrant struct {
	Deployment int
	ID, Tag    string
	Role       string
}

// levels gives every user, team and token its roles on every level: an
// organization role (mostly ORGANIZATION_MEMBER; some owners and admins),
// one or two workspace roles (users, teams and organization tokens), then
// z.DAGGrants DAG roles, each on a DAG or a DAG tag of a deployment where
// its subject holds a deployment role in the spec (Astro adds
// DEPLOYMENT_ACCESSOR for a DAG role without one, which a spec at the
// deployment level would have to list). Sizes without DAGGrants draw
// nothing.
func (g *generator) levels() error {
	z, r, o := g.z, g.r, g.o
	if z.DAGGrants == 0 {
		return nil
	}
	o.Levels = [3][]Levels{make([]Levels, len(o.Tokens)), make([]Levels, len(o.Users)), make([]Levels, len(o.Teams))}
	workspaceRoles := func(n int, roles []string) []WorkspaceGrant {
		var ws []WorkspaceGrant
		for _, w := range r.Perm(z.Workspaces)[:n] {
			ws = append(ws, WorkspaceGrant{Workspace: w, Role: roles[r.IntN(len(roles))]})
		}
		slices.SortFunc(ws, func(a, b WorkspaceGrant) int { return a.Workspace - b.Workspace })
		return ws
	}
	for i := range o.Users {
		l := &o.Levels[KindUser][i]
		switch n := r.IntN(1000); {
		case n < 2:
			l.OrgRole = astroapi.RoleOrganizationOwner
		case n < 7:
			l.OrgRole = astroapi.RoleOrganizationBillingAdmin
		case n < 15:
			l.OrgRole = astroapi.RoleOrganizationObserveAdmin
		case n < 40:
			l.OrgRole = astroapi.RoleOrganizationObserveMember
		default:
			l.OrgRole = astroapi.RoleOrganizationMember
		}
		l.Workspaces = workspaceRoles(1+r.IntN(2), userWorkspaceRoles)
		o.Users[i].Workspace, o.Users[i].DAG = l.Workspaces[0].Workspace, -1
	}
	for i := range o.Teams {
		l := &o.Levels[KindTeam][i]
		l.OrgRole = astroapi.RoleOrganizationMember
		if r.IntN(20) == 0 {
			l.OrgRole = astroapi.RoleOrganizationObserveAdmin
		}
		l.Workspaces = workspaceRoles(1+r.IntN(2), teamWorkspaceRoles)
		o.Teams[i].Workspace, o.Teams[i].DAG = l.Workspaces[0].Workspace, -1
	}
	for i, t := range o.Tokens {
		if t.Workspace < 0 {
			o.Levels[KindToken][i].Workspaces = workspaceRoles(1+r.IntN(2), orgTokenWorkspaceRoles)
		}
	}
	if len(o.Want)*len(dagNames) < z.DAGGrants {
		return fmt.Errorf("size %s: %d DAG roles do not fit on %d assignments", z.Name, z.DAGGrants, len(o.Want))
	}
	type dagKey struct {
		p    place
		name string
	}
	seen := make(map[dagKey]bool, z.DAGGrants)
	o.dagDeps = map[place]bool{}
	for n := 0; n < z.DAGGrants; {
		a := o.Want[r.IntN(len(o.Want))]
		gr := DAGGrant{Deployment: a.Deployment, Role: astroapi.RoleDAGViewer}
		if r.IntN(3) == 0 {
			gr.Role = astroapi.RoleDAGAuthor
		}
		name := dagNames[r.IntN(len(dagNames))]
		if r.IntN(5) == 0 {
			gr.Tag = dagTags[r.IntN(len(dagTags))]
			name = "#" + gr.Tag
		} else {
			gr.ID = name
		}
		if k := (dagKey{a.place(), name}); !seen[k] {
			seen[k] = true
			l := &o.Levels[a.Kind][a.Subject]
			l.DAGs = append(l.DAGs, gr)
			o.dagDeps[a.place()] = a.Kind != KindToken
			n++
		}
	}
	for k := range o.Levels {
		for i := range o.Levels[k] {
			slices.SortFunc(o.Levels[k][i].DAGs, compareDAGGrant)
		}
	}
	return nil
}

func compareDAGGrant(a, b DAGGrant) int {
	if a.Deployment != b.Deployment {
		return a.Deployment - b.Deployment
	}
	if a.Tag != b.Tag {
		return compareStrings(a.Tag, b.Tag)
	}
	return compareStrings(a.ID, b.ID)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var (
	userWorkspaceRoles     = []string{astroapi.RoleWorkspaceMember, astroapi.RoleWorkspaceMember, astroapi.RoleWorkspaceMember, astroapi.RoleWorkspaceAuthor, astroapi.RoleWorkspaceAuthor, astroapi.RoleWorkspaceOperator, astroapi.RoleWorkspaceOwner}
	teamWorkspaceRoles     = []string{astroapi.RoleWorkspaceOperator, astroapi.RoleWorkspaceAuthor, astroapi.RoleWorkspaceMember, astroapi.RoleWorkspaceOwner}
	orgTokenWorkspaceRoles = []string{astroapi.RoleWorkspaceMember, astroapi.RoleWorkspaceOperator}
	dagNames               = []string{"etl_daily", "daily_revenue_rollup", "hourly_ingest", "feature_backfill", "model_training", "report_weekly", "dbt_run", "cleanup", "export_s3", "quality_checks"}
	dagTags                = []string{"nightly", "finance", "pii", "critical"}
)

// dagRoles are the DAG roles of a user or team: the API's DagRole.
func (o *Org) dagRoles(l Levels) []astroapi.DagRole {
	out := make([]astroapi.DagRole, 0, len(l.DAGs))
	for _, g := range l.DAGs {
		out = append(out, astroapi.DagRole{DeploymentID: o.Deployments[g.Deployment].ID, DagID: g.ID, DagTag: g.Tag, Role: g.Role})
	}
	return out
}

// tokenLevelRoles are the roles of token i besides its own role and its
// deployment roles: an organization token's workspace roles, then its DAG
// roles (entity DAG or DAG_TAG, with the deployment).
func (o *Org) tokenLevelRoles(i int) []astroapi.Role {
	if o.Levels[KindToken] == nil {
		return nil
	}
	l := o.Levels[KindToken][i]
	var out []astroapi.Role
	for _, w := range l.Workspaces {
		out = append(out, astroapi.Role{EntityType: astroapi.EntityWorkspace, EntityID: o.Workspaces[w.Workspace].ID, Role: w.Role})
	}
	for _, g := range l.DAGs {
		r := astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: g.ID, DeploymentID: o.Deployments[g.Deployment].ID, Role: g.Role}
		if g.Tag != "" {
			r.EntityType, r.EntityID = astroapi.EntityDAGTag, g.Tag
		}
		out = append(out, r)
	}
	return out
}

// DAGGrants counts the DAG roles of every subject.
func (o *Org) DAGGrants() int {
	n := 0
	for _, ls := range o.Levels {
		for _, l := range ls {
			n += len(l.DAGs)
		}
	}
	return n
}

// EveryLevelSpecYAML returns a spec of the organization that lists every
// level, in the format of design.md's "Every level": the organization
// roles of every user and team and of every organization token, each
// workspace's roles (users, teams, its own workspace tokens, organization
// tokens), and every deployment with its deployment roles (as SpecYAML
// lists them) and its DAGs and DAG tags. Every level prunes. Subjects are
// named as in SpecYAML. It is nil for a size without DAGGrants.
func (o *Org) EveryLevelSpecYAML() []byte {
	if o.Levels[KindUser] == nil {
		return nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by `go run ./bench`: organization %s, seed %d, every level.\n", o.Size.Name, seed)
	fmt.Fprintf(&b, "version: 1\norganization: %s\norganizationRoles:\n  prune: true\n", o.ID)
	org := o.organizationEntries()
	o.writeLevelLists(&b, "  ", []string{"users", "teams", "organizationTokens"}, levelEntries{org[0], org[1], org[3]})
	b.WriteString("workspaces:\n")
	for w, entries := range o.workspaceEntries() {
		fmt.Fprintf(&b, "  - id: %s\n    prune: true\n", o.Workspaces[w].ID)
		o.writeLevelLists(&b, "    ", levelLists, entries)
	}
	o.writeDeploymentsWithDAGs(&b)
	return b.Bytes()
}

// levelEntry is one entry of the every-level spec: subject s of kind k
// with role.
type levelEntry struct {
	k    Kind
	s    int
	role string
}

// levelEntries are a scope's entries by list, in the order of levelLists.
type levelEntries [4][]levelEntry

// dagScope is a DAG id or a DAG tag.
type dagScope struct{ id, tag string }

// writeLevelLists writes the lists of one scope at indent.
func (o *Org) writeLevelLists(b *bytes.Buffer, indent string, lists []string, entries levelEntries) {
	for i, key := range lists {
		if len(entries[i]) == 0 {
			fmt.Fprintf(b, "%s%s: []\n", indent, key)
			continue
		}
		fmt.Fprintf(b, "%s%s:\n", indent, key)
		for _, e := range entries[i] {
			k, v := o.ref(Assignment{Kind: e.k, Subject: e.s})
			fmt.Fprintf(b, "%s  - %s: %s\n%s    role: %s\n", indent, k, v, indent, e.role)
		}
	}
}

// levelList is the index in levelLists of subject s of kind k.
func (o *Org) levelList(k Kind, s int) int {
	switch {
	case k == KindUser:
		return 0
	case k == KindTeam:
		return 1
	case o.Tokens[s].Workspace >= 0:
		return 2
	}
	return 3
}

// organizationEntries are the organization level's entries.
func (o *Org) organizationEntries() levelEntries {
	var out levelEntries
	for i := range o.Users {
		out[0] = append(out[0], levelEntry{KindUser, i, o.Levels[KindUser][i].OrgRole})
	}
	for i := range o.Teams {
		out[1] = append(out[1], levelEntry{KindTeam, i, o.Levels[KindTeam][i].OrgRole})
	}
	for i, t := range o.Tokens {
		if t.Workspace < 0 {
			out[3] = append(out[3], levelEntry{KindToken, i, t.OwnRole})
		}
	}
	return out
}

// workspaceEntries are each workspace's entries, by workspace index.
func (o *Org) workspaceEntries() []levelEntries {
	ws := make([]levelEntries, len(o.Workspaces))
	for _, k := range []Kind{KindUser, KindTeam, KindToken} {
		for s, l := range o.Levels[k] {
			for _, w := range l.Workspaces {
				ws[w.Workspace][o.levelList(k, s)] = append(ws[w.Workspace][o.levelList(k, s)], levelEntry{k, s, w.Role})
			}
		}
	}
	for i, t := range o.Tokens {
		if t.Workspace >= 0 {
			ws[t.Workspace][2] = append(ws[t.Workspace][2], levelEntry{KindToken, i, t.OwnRole})
		}
	}
	return ws
}

// dagEntries are each deployment's DAG scopes, in order of first sight,
// and their entries.
func (o *Org) dagEntries() ([]map[dagScope]*levelEntries, [][]dagScope) {
	dags := make([]map[dagScope]*levelEntries, len(o.Deployments))
	order := make([][]dagScope, len(o.Deployments))
	for _, k := range []Kind{KindUser, KindTeam, KindToken} {
		for s, l := range o.Levels[k] {
			for _, g := range l.DAGs {
				if dags[g.Deployment] == nil {
					dags[g.Deployment] = map[dagScope]*levelEntries{}
				}
				sc := dagScope{g.ID, g.Tag}
				e := dags[g.Deployment][sc]
				if e == nil {
					e = new(levelEntries)
					dags[g.Deployment][sc] = e
					order[g.Deployment] = append(order[g.Deployment], sc)
				}
				e[o.levelList(k, s)] = append(e[o.levelList(k, s)], levelEntry{k, s, g.Role})
			}
		}
	}
	return dags, order
}

// writeDeploymentsWithDAGs writes every deployment with its deployment
// roles (as SpecYAML lists them) and its DAGs, tags sorted after ids.
func (o *Org) writeDeploymentsWithDAGs(b *bytes.Buffer) {
	dags, order := o.dagEntries()
	byDep := make([][]Assignment, len(o.Deployments))
	for _, a := range o.Want {
		byDep[a.Deployment] = append(byDep[a.Deployment], a)
	}
	b.WriteString("deployments:\n")
	for d, dep := range o.Deployments {
		fmt.Fprintf(b, "  - id: %s\n    prune: true\n", dep.ID)
		o.writeDeploymentLists(b, byDep[d])
		if len(order[d]) == 0 {
			continue
		}
		b.WriteString("    dags:\n")
		slices.SortFunc(order[d], func(a, b dagScope) int {
			if a.tag != b.tag {
				return compareStrings(a.tag, b.tag)
			}
			return compareStrings(a.id, b.id)
		})
		for _, sc := range order[d] {
			if sc.tag != "" {
				fmt.Fprintf(b, "      - dagTag: %s\n        prune: true\n", sc.tag)
			} else {
				fmt.Fprintf(b, "      - dagId: %s\n        prune: true\n", sc.id)
			}
			o.writeLevelLists(b, "        ", levelLists, *dags[d][sc])
		}
	}
}

// levelLists are the keys of a workspace or a DAG in the every-level
// spec, in the order of EveryLevelSpecYAML's entries.
var levelLists = []string{"users", "teams", "workspaceTokens", "organizationTokens"}
