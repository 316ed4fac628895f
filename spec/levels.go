package spec

import "go.yaml.in/yaml/v3"

// This file reads the levels above and below deployments:
// organizationRoles, workspaces, and the dags of a deployment. Their
// principal lists are read as a deployment's are (principals), with the
// roles of their own level.

// organizationRoles reads the top-level key organizationRoles (p), which
// one file of a spec at most may have.
func (f *file) organizationRoles(p pair) {
	v := p.value
	if v.Kind != yaml.MappingNode {
		f.errorAt(v, `"organizationRoles" must be a mapping, got %s`, describe(v))
		return
	}
	var fm fieldMap
	f.fields(v, "in organizationRoles", organizationKeys, &fm)
	o := OrganizationRoles{Pos: f.pos(p.key)}
	if q, ok := fm.get("prune"); ok {
		o.Prune = f.boolean(q.value, "prune")
	}
	ps := f.principals(&fm, organizationLevel, "the organization")
	o.Lists, o.OrganizationTokens, o.Users, o.Teams = ps.lists, ps.orgTokens, ps.users, ps.teams
	if first := f.l.spec.OrganizationRoles; first != nil {
		f.errorAt(p.key, "organizationRoles is already declared at %s; the organization level is declared in one file only", first.Pos)
		return
	}
	f.l.spec.OrganizationRoles = &o
}

// workspace reads one entry of workspaces.
func (f *file) workspace(n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		return
	}
	if n.Kind != yaml.MappingNode {
		f.errorAt(n, `"workspaces" entry must be a mapping, got %s`, describe(n))
		return
	}
	var fm fieldMap
	f.fields(n, "in workspace", workspaceKeys, &fm)
	w := Workspace{Pos: f.pos(n)}
	var valid bool
	w.ID, w.Name, valid = f.oneOf(n, &fm, "workspace", "id", "name")
	if p, ok := fm.get("prune"); ok {
		w.Prune = f.boolean(p.value, "prune")
	}
	owner := "this workspace"
	if valid {
		owner = "workspace " + excerpt(w.Ref())
	}
	ps := f.principals(&fm, workspaceLevel, owner)
	w.Lists, w.WorkspaceTokens, w.OrganizationTokens, w.Users, w.Teams = ps.lists, ps.wsTokens, ps.orgTokens, ps.users, ps.teams
	if valid {
		f.declareWorkspace(n, w)
	}
}

// declareWorkspace adds workspace w, whose identity is known, to the spec,
// unless it is already declared by the same id or the same name.
func (f *file) declareWorkspace(n *yaml.Node, w Workspace) {
	key := "id\x00" + w.ID
	if w.ID == "" {
		key = "name\x00" + w.Name
	}
	if first, dup := f.l.workspaces[key]; dup {
		f.errorAt(n, "workspace %s is already declared at %s", excerpt(w.Ref()), first)
		return
	}
	f.l.workspaces[key] = w.Pos
	f.l.spec.Workspaces = append(f.l.spec.Workspaces, w)
}

// dags reads the dags key (v) of a deployment, named owner in messages,
// and returns its entries whose DAG id or tag is known, each DAG id and
// each tag once.
func (f *file) dags(v *yaml.Node, owner string) []Dag {
	var (
		out  []Dag
		seen map[string]Pos
	)
	for _, item := range f.list(v, "dags") {
		g, ok := f.dag(item, owner)
		if !ok {
			continue
		}
		key := "id\x00" + g.DagID
		if g.DagTag != "" {
			key = "tag\x00" + g.DagTag
		}
		if first, dup := seen[key]; dup {
			f.errorAt(item, "%s is listed twice for %s (first at line %d)", dagName(g), owner, first.Line)
			continue
		}
		if seen == nil {
			seen = make(map[string]Pos)
		}
		seen[key] = g.Pos
		out = append(out, g)
	}
	return out
}

// dagName names a DAG entry in messages: `DAG "daily"` or `DAG tag
// "finance"`.
func dagName(g Dag) string {
	if g.DagTag != "" {
		return "DAG tag " + excerpt(g.DagTag)
	}
	return "DAG " + excerpt(g.DagID)
}

// dag reads one entry of the dags of the deployment named owner, and
// reports whether its DAG id or tag is known.
func (f *file) dag(n *yaml.Node, owner string) (Dag, bool) {
	if n.Kind == yaml.AliasNode {
		return Dag{}, false
	}
	if n.Kind != yaml.MappingNode {
		f.errorAt(n, `"dags" entry must be a mapping, got %s`, describe(n))
		return Dag{}, false
	}
	var fm fieldMap
	f.fields(n, "in DAG entry", dagKeys, &fm)
	g := Dag{Pos: f.pos(n)}
	var valid bool
	g.DagID, g.DagTag, valid = f.oneOf(n, &fm, "DAG entry", "dagId", "dagTag")
	if p, ok := fm.get("prune"); ok {
		g.Prune = f.boolean(p.value, "prune")
	}
	name := "this DAG entry"
	if valid {
		name = dagName(g) + " of " + owner
	}
	ps := f.principals(&fm, dagLevel, name)
	g.Lists, g.WorkspaceTokens, g.OrganizationTokens, g.Users, g.Teams = ps.lists, ps.wsTokens, ps.orgTokens, ps.users, ps.teams
	return g, valid
}

// oneOf reads the keys a and b of the entry n (noun in messages), exactly
// one of which it must have, as a non-empty string: it returns their
// values and whether the entry has exactly one of them, a string.
func (f *file) oneOf(n *yaml.Node, fm *fieldMap, noun, a, b string) (va, vb string, ok bool) {
	va, okA := f.value(fm, a)
	vb, okB := f.value(fm, b)
	switch hasA, hasB := fm.has(a), fm.has(b); {
	case hasA && hasB:
		pa, _ := fm.get(a)
		pb, _ := fm.get(b)
		f.errorAt(later(pa.key, pb.key), "%s has both %q and %q; use one", noun, a, b)
		return "", "", false
	case !hasA && !hasB:
		if fm.missing(a) && fm.missing(b) {
			f.errorAt(n, "%s needs %q or %q", noun, a, b)
		}
		return "", "", false
	}
	return va, vb, okA || okB
}
