package spec

import (
	"slices"

	"go.yaml.in/yaml/v3"
)

// The keys of each mapping, in the order of the format's documentation
// (suggestions prefer the earlier key on a tie). No list is longer than
// maxKeys.
var (
	topKeys          = []string{"version", "organization", "ignoreTokens", "ignoreUsers", "ignoreTeams", "organizationRoles", "workspaces", "deployments", "policies", "production"}
	organizationKeys = []string{"prune", "organizationTokens", "users", "teams"}
	workspaceKeys    = []string{"id", "name", "prune", "workspaceTokens", "organizationTokens", "users", "teams"}
	deploymentKeys   = []string{"id", "name", "workspace", "prune", "allowEmpty", "workspaceTokens", "organizationTokens", "users", "teams", "dags"}
	dagKeys          = []string{"dagId", "dagTag", "prune", "workspaceTokens", "organizationTokens", "users", "teams"}
	tokenKeys        = []string{"id", "name", "role", "state"}
	userKeys         = []string{"id", "username", "role", "state"}
	teamKeys         = []string{"id", "name", "role", "state"}
)

const maxKeys = 10

// keyHints name the known key meant by an unknown one that Suggest finds
// too far from it, by where the key is (as given to fields) and folded.
var keyHints = map[string]map[string]string{
	"in user entry":  {"name": "username", "email": "username", "mail": "username", "user": "username"},
	"in team entry":  {"team": "name", "teamname": "name", "username": "name"},
	"in workspace":   {"workspace": "name"},
	"at top level":   {"policy": "policies", "rules": "policies"},
	"in policy file": {"policy": "policies", "rules": "policies"},
	"in policy":      {"rule": "grant", "condition": "grant", "expr": "grant", "file": "files"},
	"in DAG entry":   {"id": "dagId", "name": "dagId", "dag": "dagId", "tag": "dagTag", "tags": "dagTag", "dagtags": "dagTag"},
}

// keyNotes say why a key that is known elsewhere has no place where it
// is, by where the key is (as given to fields) and as written.
var keyNotes = map[string]map[string]string{
	"in organizationRoles": {
		"workspaceTokens": "a workspace token has no organization role; its role on its own workspace goes under workspaces",
	},
	"in workspace": {"dags": "DAG roles go under the dags of a deployment"},
	"in policy file": {
		"organization": notInPolicyFile, "ignoreTokens": notInPolicyFile, "ignoreUsers": notInPolicyFile,
		"ignoreTeams": notInPolicyFile, "organizationRoles": notInPolicyFile, "workspaces": notInPolicyFile,
		"deployments": notInPolicyFile,
	},
}

const notInPolicyFile = "a file given with --policy holds only policies, production and version; give this file with -f"

// entryKind describes the entries of one kind of principal.
type entryKind struct {
	noun    string   // in messages: `user "x": ...`, "user entry"
	where   string   // "in user entry", for fields
	nameKey string   // the key naming an entry besides "id"
	keys    []string // the keys of an entry
}

var (
	tokenKind = &entryKind{noun: "token", where: "in token entry", nameKey: "name", keys: tokenKeys}
	userKind  = &entryKind{noun: "user", where: "in user entry", nameKey: "username", keys: userKeys}
	teamKind  = &entryKind{noun: "team", where: "in team entry", nameKey: "name", keys: teamKeys}
)

// pair is a key of a mapping and its value.
type pair struct{ key, value *yaml.Node }

// fieldMap holds the known keys found in a mapping, and the known keys
// suggested for unknown ones (typos), whose absence is not reported again.
type fieldMap struct {
	known []string
	pairs [maxKeys]pair // by index in known; key is nil when absent
	typos [maxKeys]bool
}

func (fm *fieldMap) index(key string) int {
	for i, k := range fm.known {
		if k == key {
			return i
		}
	}
	panic("spec: unknown field " + key)
}

// get returns the key and value of key, if present.
func (fm *fieldMap) get(key string) (pair, bool) {
	p := fm.pairs[fm.index(key)]
	return p, p.key != nil
}

// has says whether key is present.
func (fm *fieldMap) has(key string) bool {
	_, ok := fm.get(key)
	return ok
}

// missing says whether key is absent and no unknown key looked like it.
func (fm *fieldMap) missing(key string) bool {
	i := fm.index(key)
	return fm.pairs[i].key == nil && !fm.typos[i]
}

// fields checks the keys of mapping n (strings, no duplicates, no unknown
// keys, described as being `where`) and records the known ones in fm. Keys
// or values that are aliases are left out: checkAnchors reports them.
func (f *file) fields(n *yaml.Node, where string, known []string, fm *fieldMap) {
	fm.known = known
	var seen map[string]*yaml.Node
	if len(n.Content) > 32 {
		seen = make(map[string]*yaml.Node, len(n.Content)/2)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			f.errorAt(k, "keys must be strings, got %s", describe(k))
			continue
		}
		if first := firstKey(n, i, seen); first != nil {
			f.errorAt(k, "duplicate key %s (first at line %d)", excerpt(k.Value), first.Line)
			continue
		}
		if v.Kind == yaml.AliasNode {
			continue // a merge key (<<: *x) too
		}
		j := indexOf(known, k.Value)
		if j < 0 {
			s := Suggest(k.Value, known)
			if s == "" {
				s = keyHints[where][fold(k.Value)]
			}
			switch note := keyNotes[where][k.Value]; {
			case s != "":
				fm.typos[indexOf(known, s)] = true
				f.errorAt(k, "unknown key %s %s (did you mean %q?)", excerpt(k.Value), where, s)
			case note != "":
				f.errorAt(k, "unknown key %s %s (%s)", excerpt(k.Value), where, note)
			default:
				f.errorAt(k, "unknown key %s %s", excerpt(k.Value), where)
			}
			continue
		}
		fm.pairs[j] = pair{k, v}
	}
}

// firstKey returns the earlier scalar key of n equal to the key at index
// i, and records that key in seen when seen is not nil (large mappings).
func firstKey(n *yaml.Node, i int, seen map[string]*yaml.Node) *yaml.Node {
	key := n.Content[i].Value
	if seen != nil {
		if first, ok := seen[key]; ok {
			return first
		}
		seen[key] = n.Content[i]
		return nil
	}
	for j := 0; j < i; j += 2 {
		if k := n.Content[j]; k.Kind == yaml.ScalarNode && k.Value == key {
			return k
		}
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// str returns the value of v, a non-empty string, or reports why it is not.
// Messages name it as the value of key, followed by suffix.
func (f *file) str(v *yaml.Node, key, suffix string) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		f.errorAt(v, "%q%s must be a string, got %s", key, suffix, describe(v))
		return "", false
	}
	if v.Value == "" {
		f.errorAt(v, "%q%s must not be empty", key, suffix)
		return "", false
	}
	return v.Value, true
}

// boolean returns the value of v, a boolean, or reports why it is not.
func (f *file) boolean(v *yaml.Node, key string) bool {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		switch v.Value {
		case "true":
			return true
		case "false":
			return false
		}
		var b bool
		if err := v.Decode(&b); err == nil {
			return b
		}
	}
	f.errorAt(v, "%q must be a boolean, got %s", key, describe(v))
	return false
}

// list returns the items of v, a sequence, or reports why it is not one.
func (f *file) list(v *yaml.Node, key string) []*yaml.Node {
	if v.Kind != yaml.SequenceNode {
		f.errorAt(v, "%q must be a list, got %s", key, describe(v))
		return nil
	}
	return v.Content
}

// top checks the root of a file and adds its content to the Spec.
func (f *file) top(root *yaml.Node) {
	if root.Kind != yaml.MappingNode {
		f.errorAt(root, "the top level must be a mapping, got %s", describe(root))
		return
	}
	if looksLikeState(root) {
		f.errorAt(root, "this looks like an emulator state file, not a spec; use --emulate %s", f.name)
		return
	}
	var fm fieldMap
	f.fields(root, "at top level", topKeys, &fm)
	if p, ok := fm.get("version"); ok {
		f.version(p.value)
	} else if fm.missing("version") {
		f.errorAt(root, `missing key "version" (the format version, 1)`)
	}
	if p, ok := fm.get("organization"); ok {
		f.organization(p.value)
	}
	if p, ok := fm.get("ignoreTokens"); ok {
		f.l.spec.IgnoreTokens = f.globs(p.value, "ignoreTokens", f.l.spec.IgnoreTokens)
	}
	if p, ok := fm.get("ignoreUsers"); ok {
		f.l.spec.IgnoreUsers = f.globs(p.value, "ignoreUsers", f.l.spec.IgnoreUsers)
	}
	if p, ok := fm.get("ignoreTeams"); ok {
		f.l.spec.IgnoreTeams = f.globs(p.value, "ignoreTeams", f.l.spec.IgnoreTeams)
	}
	if p, ok := fm.get("organizationRoles"); ok {
		f.organizationRoles(p)
	}
	if p, ok := fm.get("workspaces"); ok {
		for _, item := range f.list(p.value, "workspaces") {
			f.workspace(item)
		}
	}
	if p, ok := fm.get("policies"); ok {
		f.policies(p.value)
	}
	if p, ok := fm.get("production"); ok {
		f.production(p)
	}
	if p, ok := fm.get("deployments"); ok {
		for _, item := range f.list(p.value, "deployments") {
			if f.l.count >= MaxDeployments {
				if !f.l.tooMany {
					f.l.tooMany = true
					f.errorAt(item, "too many deployments: the limit is %d over all files", MaxDeployments)
				}
				break
			}
			f.l.count++
			f.deployment(item)
		}
	}
}

// stateKeys are top-level keys of the emulator's state file
// (astroapitest.State) that no spec has (workspaces is the key of both).
var stateKeys = []string{"roles", "tokens", "users", "teams", "credentials"}

// looksLikeState says whether a file's root, a mapping, is the emulator's
// state file rather than a spec: no version, and a key only a state file
// has, or an organization that is a mapping ({id, name}). Given to -f by
// mistake, it is one error instead of one per key.
func looksLikeState(root *yaml.Node) bool {
	version, state := false, false
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i].Value, root.Content[i+1]
		switch {
		case k == "version":
			version = true
		case slices.Contains(stateKeys, k), k == "organization" && v.Kind == yaml.MappingNode:
			state = true
		}
	}
	return state && !version
}

func (f *file) version(v *yaml.Node) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
		f.errorAt(v, `"version" must be an integer, got %s`, describe(v))
		return
	}
	var n int
	if err := v.Decode(&n); err != nil || n != Version {
		f.errorAt(v, "unsupported version %s; this build reads version %d", show(v), Version)
	}
}

func (f *file) organization(v *yaml.Node) {
	org, ok := f.str(v, "organization", "")
	if !ok {
		return
	}
	s := &f.l.spec
	switch {
	case s.Organization == "":
		s.Organization, s.OrganizationPos = org, f.pos(v)
	case s.Organization != org:
		f.errorAt(v, "organization %s conflicts with %s at %s", excerpt(org), excerpt(s.Organization), s.OrganizationPos)
	}
}

// globs checks the value of key, a list of globs (ParseGlob), and returns
// them appended to patterns.
func (f *file) globs(v *yaml.Node, key string, patterns []Pattern) []Pattern {
	for _, item := range f.list(v, key) {
		if item.Kind == yaml.AliasNode {
			continue
		}
		glob, ok := f.str(item, key, " entry")
		if !ok {
			continue
		}
		if _, err := ParseGlob(glob); err != nil {
			f.errorAt(item, "invalid glob %s: %v", excerpt(glob), err)
			continue
		}
		patterns = append(patterns, Pattern{Glob: glob, Pos: f.pos(item)})
	}
	return patterns
}

// later returns whichever of two nodes comes later in the file.
func later(a, b *yaml.Node) *yaml.Node {
	if b.Line > a.Line || (b.Line == a.Line && b.Column > a.Column) {
		return b
	}
	return a
}

// entryKey identifies a principal within one entry of a level (a
// deployment, say): its id, its name, or the FoldUsername of its username.
type entryKey struct {
	byID bool
	ref  string
	// list is the list a name is looked up in: a token name under
	// workspaceTokens and one under organizationTokens name two tokens
	// (Astro scopes names); an id is one object whatever the list.
	list Kind
}

// firstEntry is where an entry was first listed, and how it was named.
type firstEntry struct {
	pos Pos
	ref string
}

func (f *file) deployment(n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		return
	}
	if n.Kind != yaml.MappingNode {
		f.errorAt(n, `"deployments" entry must be a mapping, got %s`, describe(n))
		return
	}
	var fm fieldMap
	f.fields(n, "in deployment", deploymentKeys, &fm)
	d := Deployment{Pos: f.pos(n)}
	valid := f.deploymentIdentity(n, &fm, &d) // the deployment's identity is known
	owner := "this deployment"
	if valid {
		owner = "deployment " + excerpt(d.Ref())
	}
	ps := f.principals(&fm, deploymentLevel, owner)
	d.Lists, d.WorkspaceTokens, d.OrganizationTokens, d.Users, d.Teams = ps.lists, ps.wsTokens, ps.orgTokens, ps.users, ps.teams
	if p, ok := fm.get("dags"); ok {
		d.Dags = f.dags(p.value, owner)
	}
	if valid {
		f.declare(n, d)
	}
}

// deploymentIdentity reads the keys of deployment d other than its lists
// and reports whether its identity is known: an id, or a name and a
// workspace, each a string.
func (f *file) deploymentIdentity(n *yaml.Node, fm *fieldMap, d *Deployment) bool {
	valid := true
	get := func(key string) (string, bool) {
		p, ok := fm.get(key)
		if !ok {
			return "", false
		}
		s, ok := f.str(p.value, key, "")
		valid = valid && ok
		return s, true
	}
	var hasID, hasName, hasWorkspace bool
	d.ID, hasID = get("id")
	d.Name, hasName = get("name")
	d.Workspace, hasWorkspace = get("workspace")
	if p, ok := fm.get("prune"); ok {
		d.Prune = f.boolean(p.value, "prune")
	}
	if p, ok := fm.get("allowEmpty"); ok {
		d.AllowEmpty = f.boolean(p.value, "allowEmpty")
	}
	switch {
	case hasID && hasName:
		id, _ := fm.get("id")
		name, _ := fm.get("name")
		f.errorAt(later(id.key, name.key), `deployment has both "id" and "name"; use one`)
	case !hasID && !hasName:
		if fm.missing("id") && fm.missing("name") {
			f.errorAt(n, `deployment needs "id" or "name"`)
		}
	case hasName && !hasWorkspace:
		if fm.missing("workspace") {
			f.errorAt(n, `deployment %s: missing key "workspace" (required with "name")`, excerpt(d.Name))
		}
	case hasID && hasWorkspace:
		ws, _ := fm.get("workspace")
		f.errorAt(ws.key, `deployment %s: "workspace" is not allowed with "id"`, excerpt(d.ID))
	default:
		return valid
	}
	return false
}

// principals are the principal lists of one entry of a level: the
// organization, a workspace, a deployment or a DAG.
type principals struct {
	lists     []Kind // the kinds whose key the entry contains, in the order of Kinds
	wsTokens  []TokenEntry
	orgTokens []TokenEntry
	users     []UserEntry
	teams     []TeamEntry
}

// principals reads the token, user and team lists of an entry of level lv
// whose keys are in fm. Tokens, users and teams are each listed once per
// entry; a token and a team may share a name. owner names the entry in
// messages (`deployment "dep-1"`, "this deployment" when its identity is
// not known).
func (f *file) principals(fm *fieldMap, lv *level, owner string) principals {
	var ps principals
	for _, k := range Kinds() {
		if indexOf(fm.known, k.Key()) >= 0 && fm.has(k.Key()) {
			ps.lists = append(ps.lists, k)
		}
	}
	in := listing{lv: lv, owner: owner}
	ps.wsTokens = f.entries(fm, KindWorkspaceToken, tokenKind, &in.tokens, in)
	ps.orgTokens = f.entries(fm, KindOrganizationToken, tokenKind, &in.tokens, in)
	if list := f.entries(fm, KindUser, userKind, &in.users, in); list != nil {
		ps.users = make([]UserEntry, len(list))
		for i, e := range list {
			ps.users[i] = UserEntry{Pos: e.Pos, ID: e.ID, Username: e.Name, Role: e.Role, State: e.State, RolePos: e.RolePos}
		}
	}
	if list := f.entries(fm, KindTeam, teamKind, &in.teams, in); list != nil {
		ps.teams = make([]TeamEntry, len(list))
		for i, e := range list {
			ps.teams[i] = TeamEntry(e)
		}
	}
	return ps
}

// listing is what the lists of one entry of a level share: the level,
// the entry's name in messages, and the principals already listed.
type listing struct {
	lv                   *level
	owner                string
	tokens, users, teams map[entryKey]firstEntry
}

// entries reads the list of kind (entries of ek) of the entry in, or nil
// when it is absent, not a key of the entry, or keeps no entry. seenp
// holds the principals already listed by a list that shares them (the two
// token lists); a principal listed again is an error.
func (f *file) entries(fm *fieldMap, kind Kind, ek *entryKind, seenp *map[entryKey]firstEntry, in listing) []TokenEntry {
	if indexOf(fm.known, kind.Key()) < 0 {
		return nil
	}
	p, ok := fm.get(kind.Key())
	if !ok {
		return nil
	}
	items := f.list(p.value, kind.Key())
	if *seenp == nil && len(items) > 0 {
		*seenp = make(map[entryKey]firstEntry, len(items))
	}
	seen := *seenp
	list := make([]TokenEntry, 0, len(items))
	for _, item := range items {
		e, ok := f.entry(item, kind.Key(), ek, in.lv)
		if !ok {
			continue // no usable id or name
		}
		k := entryKey{byID: e.ID != "", ref: e.ID}
		if e.ID == "" {
			k.ref, k.list = e.Name, kind
			if ek == userKind {
				k.ref = FoldUsername(e.Name)
			}
		}
		if first, dup := seen[k]; dup {
			f.listedTwice(item, ek, e, first, in.owner)
			continue
		}
		seen[k] = firstEntry{pos: e.Pos, ref: e.Ref()}
		list = append(list, e)
	}
	if len(list) == 0 {
		return nil
	}
	return list
}

// listedTwice reports entry e (at item) of owner, first listed as first.
func (f *file) listedTwice(item *yaml.Node, ek *entryKind, e TokenEntry, first firstEntry, owner string) {
	spelled := ""
	if first.ref != e.Ref() {
		spelled = " as " + excerpt(first.ref)
	}
	f.errorAt(item, "%s %s is listed twice for %s (first at line %d%s)", ek.noun, excerpt(e.Ref()), owner, first.pos.Line, spelled)
}

// declare adds deployment d, whose identity is known, to the spec, unless
// it is already declared.
func (f *file) declare(n *yaml.Node, d Deployment) {
	key, desc := "id\x00"+d.ID, excerpt(d.ID)
	if d.ID == "" {
		key = "name\x00" + d.Workspace + "\x00" + d.Name
		desc = excerpt(d.Name) + " in workspace " + excerpt(d.Workspace)
	}
	if first, dup := f.l.deployments[key]; dup {
		f.errorAt(n, "deployment %s is already declared at %s", desc, first)
		return
	}
	f.l.deployments[key] = d.Pos
	f.l.spec.Deployments = append(f.l.spec.Deployments, d)
}

// entry checks one entry of the list key, of kind ek. Its name (the
// username of a user) is returned as Name. It reports false when the entry
// has no usable id or name.
func (f *file) entry(n *yaml.Node, key string, ek *entryKind, lv *level) (TokenEntry, bool) {
	if n.Kind == yaml.AliasNode {
		return TokenEntry{}, false
	}
	if n.Kind != yaml.MappingNode {
		f.errorAt(n, "%q entry must be a mapping, got %s", key, describe(n))
		return TokenEntry{}, false
	}
	var fm fieldMap
	f.fields(n, ek.where, ek.keys, &fm)
	t := TokenEntry{Pos: f.pos(n), State: Present}
	valid := f.entryRef(n, &fm, ek, &t)
	f.entryRole(n, &fm, ek, lv, &t)
	return t, valid
}

// value returns the string value of key, and whether key is present with
// a string value (an error is reported for any other value).
func (f *file) value(fm *fieldMap, key string) (string, bool) {
	p, ok := fm.get(key)
	if !ok {
		return "", false
	}
	return f.str(p.value, key, "")
}

// entryRef reads the id or name of entry t and reports whether it has a
// usable one.
func (f *file) entryRef(n *yaml.Node, fm *fieldMap, ek *entryKind, t *TokenEntry) bool {
	var idOK, nameOK bool
	t.ID, idOK = f.value(fm, "id")
	t.Name, nameOK = f.value(fm, ek.nameKey)
	if nameOK && ek == userKind {
		if why := usernameProblem(t.Name); why != "" {
			p, _ := fm.get(ek.nameKey)
			f.errorAt(p.value, "%q must be an e-mail address, got %s (%s)", ek.nameKey, excerpt(t.Name), why)
			t.Name, nameOK = "", false
		}
	}
	switch hasID, hasName := fm.has("id"), fm.has(ek.nameKey); {
	case hasID && hasName:
		id, _ := fm.get("id")
		name, _ := fm.get(ek.nameKey)
		f.errorAt(later(id.key, name.key), `%s entry has both "id" and %q; use one`, ek.noun, ek.nameKey)
		return false
	case !hasID && !hasName:
		if fm.missing("id") && fm.missing(ek.nameKey) {
			f.errorAt(n, `%s entry needs "id" or %q`, ek.noun, ek.nameKey)
		}
	}
	return idOK || nameOK
}

// entryRole reads the state and role of entry t of level lv, whose id or
// name is read.
func (f *file) entryRole(n *yaml.Node, fm *fieldMap, ek *entryKind, lv *level, t *TokenEntry) {
	// prefix names the entry at the start of a message, when it has an id
	// or name.
	prefix := func() string {
		if ref := t.Ref(); ref != "" {
			return ek.noun + " " + excerpt(ref) + ": "
		}
		return ""
	}
	stateOK := !fm.has("state")
	if state, ok := f.value(fm, "state"); ok {
		switch State(state) {
		case Absent:
			if lv == organizationLevel {
				p, _ := fm.get("state")
				f.errorAt(p.value, `%s"state: absent" is not allowed in organizationRoles: nobody is removed from the organization; leave the entry out (with prune, an unlisted user or team is demoted to ORGANIZATION_MEMBER)`, prefix())
				break
			}
			t.State, stateOK = Absent, true
		case Present:
			t.State, stateOK = Present, true
		default:
			p, _ := fm.get("state")
			f.errorAt(p.value, `%s"state" must be "present" or "absent", got %s`, prefix(), excerpt(state))
		}
	}
	if role, ok := f.value(fm, "role"); ok {
		p, _ := fm.get("role")
		r, problem := lv.check(role)
		if problem != "" {
			f.errorAt(p.value, "%s%s", prefix(), problem)
		}
		t.Role, t.RolePos = r, f.pos(p.value)
	} else if stateOK && t.State != Absent && fm.missing("role") {
		f.errorAt(n, `%smissing key "role" (required unless "state" is "absent")`, prefix())
	}
}
