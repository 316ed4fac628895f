package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Version is the only spec format version this build reads.
const Version = 1

// Pos is a position in a spec file; Line and Col count from 1. Line 0
// means the file as a whole (for example when it cannot be read); Col 0
// means the whole line.
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats p as file:line:col, file:line when Col is 0, or file when
// Line is 0, like go/token.Position. The file name is text from outside
// (a name may hold a line feed, ESC or U+202E), so it is written through
// Inert, the rule for every name printed.
func (p Pos) String() string {
	file := Inert(p.File)
	switch {
	case p.Line <= 0:
		return file
	case p.Col <= 0:
		return fmt.Sprintf("%s:%d", file, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", file, p.Line, p.Col)
}

// Spec is the union of one or more spec files, as written, not yet resolved
// against the API.
type Spec struct {
	// Organization is the organization id, "" when no file names one.
	Organization    string
	OrganizationPos Pos
	// IgnoreTokens are token names or ids (globs, see Glob) that are never touched.
	IgnoreTokens []Pattern
	// IgnoreUsers are usernames or user ids (globs, see Glob) that are
	// never touched.
	IgnoreUsers []Pattern
	// IgnoreTeams are team names or ids (globs, see Glob) that are never
	// touched.
	IgnoreTeams []Pattern
	// OrganizationRoles is the organization level, nil when no file has
	// the key (one file at most may).
	OrganizationRoles *OrganizationRoles
	// Workspaces are the entries of workspaces: the workspace level.
	Workspaces  []Workspace
	Deployments []Deployment
	// Policies are the entries of every policies key, of spec files and
	// policy files, in the order read; names are unique.
	Policies []Policy
	// Production are the globs of the production key, on deployment
	// names; ProductionPos is the position of that key, zero when no file
	// sets it (one file at most may: a policy file, or a spec file that no
	// policy's files match). ProductionGlobs gives the globs in force.
	Production    []Pattern
	ProductionPos Pos
	// Digest is the lower-case hex SHA-256 of the SHA-256 digests of the
	// files read, sorted: each file's is that of its base name, a NUL
	// byte, the length of its content in decimal, a NUL byte, and the
	// content as read (BOM included). The same files give the same digest
	// however their paths are spelled (relative, absolute, from another
	// directory) and in whatever order they are given.
	Digest string
	// Files are the spec files read, in the order read.
	Files []string
	// PolicyFiles are the files of policies only (--policy) read.
	PolicyFiles []string
}

// Pattern is one entry of ignoreTokens, ignoreUsers or ignoreTeams.
type Pattern struct {
	Glob string
	Pos  Pos
}

// Deployment is one entry of deployments: either ID, or Name with Workspace
// (a workspace id or name).
type Deployment struct {
	Pos        Pos
	ID         string
	Name       string
	Workspace  string
	Prune      bool
	AllowEmpty bool
	// Lists are the kinds whose key this deployment's entry contains, in
	// the order of Kinds, an empty list included: prune removes unlisted
	// assignments of these kinds only. Use Listed to ask about one kind.
	Lists []Kind
	// WorkspaceTokens, OrganizationTokens, Users and Teams are the entries
	// under those keys, nil when there are none.
	WorkspaceTokens    []TokenEntry
	OrganizationTokens []TokenEntry
	Users              []UserEntry
	Teams              []TeamEntry
	// Dags are the entries of its dags key: the DAG level of the
	// deployment, one entry per DAG id or DAG tag.
	Dags []Dag
}

// OrganizationRoles is the organization level: organization roles of
// users, teams and organization tokens. Prune demotes an unlisted user or
// team of a listed kind to ORGANIZATION_MEMBER; nobody is ever removed
// from the organization, and no entry is Absent. An organization token's
// organization role is updated, never removed.
type OrganizationRoles struct {
	// Pos is the position of the organizationRoles key.
	Pos   Pos
	Prune bool
	// Lists are the kinds whose key the entry contains, an empty list
	// included, in the order of Kinds (never KindWorkspaceToken), as for
	// Deployment.Lists.
	Lists              []Kind
	OrganizationTokens []TokenEntry
	Users              []UserEntry
	Teams              []TeamEntry
}

// Listed says whether the organization level lists kind, as
// Deployment.Listed does for a deployment.
func (o OrganizationRoles) Listed(kind Kind) bool {
	return listed(o.Lists, kind, nil, o.OrganizationTokens, o.Users, o.Teams)
}

// Workspace is one entry of workspaces: a workspace by ID or by Name
// (exactly one), and the workspace roles of its principals. Roles are
// built-in workspace roles, upper-cased. A workspace token may be listed
// under the workspace it belongs to only (checked online); its role there
// is updated, never removed.
type Workspace struct {
	Pos   Pos
	ID    string
	Name  string
	Prune bool
	// Lists are the kinds whose key the entry contains, as for
	// Deployment.Lists.
	Lists              []Kind
	WorkspaceTokens    []TokenEntry
	OrganizationTokens []TokenEntry
	Users              []UserEntry
	Teams              []TeamEntry
}

// Listed says whether the workspace lists kind, as Deployment.Listed does.
func (w Workspace) Listed(kind Kind) bool {
	return listed(w.Lists, kind, w.WorkspaceTokens, w.OrganizationTokens, w.Users, w.Teams)
}

// Ref is how the workspace is named in messages: its id or its name.
func (w Workspace) Ref() string {
	if w.ID != "" {
		return w.ID
	}
	return w.Name
}

// Dag is one entry of a deployment's dags: exactly one of DagID and
// DagTag, and the DAG roles of its principals there. Roles are DAG_VIEWER
// or DAG_AUTHOR (upper-cased) or the exact name of a custom DAG role.
// Its Prune is about the roles on this DAG (or tag), as a deployment's
// is about the roles on the deployment.
type Dag struct {
	Pos    Pos
	DagID  string
	DagTag string
	Prune  bool
	// Lists are the kinds whose key the entry contains, as for
	// Deployment.Lists.
	Lists              []Kind
	WorkspaceTokens    []TokenEntry
	OrganizationTokens []TokenEntry
	Users              []UserEntry
	Teams              []TeamEntry
}

// Listed says whether the DAG entry lists kind, as Deployment.Listed does.
func (g Dag) Listed(kind Kind) bool {
	return listed(g.Lists, kind, g.WorkspaceTokens, g.OrganizationTokens, g.Users, g.Teams)
}

// Ref is how the DAG entry is named in messages: its DAG id, or "tag "
// and its tag.
func (g Dag) Ref() string {
	if g.DagTag != "" {
		return "tag " + g.DagTag
	}
	return g.DagID
}

// listed says whether kind is in lists or has entries among the given ones.
func listed(lists []Kind, kind Kind, wsTokens, orgTokens []TokenEntry, users []UserEntry, teams []TeamEntry) bool {
	if slices.Contains(lists, kind) {
		return true
	}
	switch kind {
	case KindWorkspaceToken:
		return len(wsTokens) > 0
	case KindOrganizationToken:
		return len(orgTokens) > 0
	case KindUser:
		return len(users) > 0
	case KindTeam:
		return len(teams) > 0
	}
	return false
}

// Listed says whether the deployment lists kind: its entry contains the
// key of kind (Lists has it), or it has entries of kind (as a Deployment
// built in code may, without Lists). Prune leaves the assignments of a kind
// that is not listed alone.
func (d Deployment) Listed(kind Kind) bool {
	return listed(d.Lists, kind, d.WorkspaceTokens, d.OrganizationTokens, d.Users, d.Teams)
}

// Ref is how the deployment is named in messages: its id or its name.
func (d Deployment) Ref() string {
	if d.ID != "" {
		return d.ID
	}
	return d.Name
}

// Kind is a kind of principal whose roles a spec manages. Its value is
// the name the JSON plan gives it.
type Kind string

// The kinds of principal, each listed under its own deployment key.
const (
	KindWorkspaceToken    Kind = "workspaceToken"    // under workspaceTokens
	KindOrganizationToken Kind = "organizationToken" // under organizationTokens
	KindUser              Kind = "user"              // under users
	KindTeam              Kind = "team"              // under teams
)

// Kinds returns every kind, in the order of their keys in the format's
// documentation.
func Kinds() []Kind {
	return []Kind{KindWorkspaceToken, KindOrganizationToken, KindUser, KindTeam}
}

// Key is the key that lists kind in an entry of any level
// ("workspaceTokens", "users"), or "" for a value that is not one of the
// kinds.
func (k Kind) Key() string {
	switch k {
	case KindWorkspaceToken:
		return "workspaceTokens"
	case KindOrganizationToken:
		return "organizationTokens"
	case KindUser:
		return "users"
	case KindTeam:
		return "teams"
	}
	return ""
}

// State says whether an assignment must exist.
type State string

// The values of the state key of a token, user or team entry.
const (
	Present State = "present"
	Absent  State = "absent"
)

// TokenEntry is one token under workspaceTokens or organizationTokens: by ID
// or by exact Name. Role is the role at the level of the list (a
// deployment role under a deployment), upper-cased when it is a built-in
// role; it is "" only when State is Absent.
type TokenEntry struct {
	Pos   Pos
	ID    string
	Name  string
	Role  string
	State State
	// RolePos is where its role is written; zero when it has none.
	RolePos Pos
}

// Ref is how the token is named in messages: its id or its name.
func (t TokenEntry) Ref() string {
	if t.ID != "" {
		return t.ID
	}
	return t.Name
}

// UserEntry is one user under users: by ID or by Username, the user's
// e-mail address as written (usernames are compared by FoldUsername). Role
// and State are as for a TokenEntry.
type UserEntry struct {
	Pos      Pos
	ID       string
	Username string
	Role     string
	State    State
	// RolePos is where its role is written; zero when it has none.
	RolePos Pos
}

// Ref is how the user is named in messages: its id or its username.
func (u UserEntry) Ref() string {
	if u.ID != "" {
		return u.ID
	}
	return u.Username
}

// TeamEntry is one team under teams: by ID or by exact Name. Role and
// State are as for a TokenEntry.
type TeamEntry struct {
	Pos   Pos
	ID    string
	Name  string
	Role  string
	State State
	// RolePos is where its role is written; zero when it has none.
	RolePos Pos
}

// Ref is how the team is named in messages: its id or its name.
func (t TeamEntry) Ref() string {
	if t.ID != "" {
		return t.ID
	}
	return t.Name
}

// Error is one problem in a spec file, at a position.
type Error struct {
	Pos Pos
	Msg string
	// Err is the underlying error when there is one (an I/O error from
	// Load), so that errors.Is(err, fs.ErrNotExist) works; usually nil.
	Err error
	// More is set on the last entry of a list capped at MaxErrors, which is
	// no error itself: how many errors were found but left out.
	More int
}

// Error formats e as file:line:col: message.
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem found, sorted by position. It is what Load,
// Parse and online resolution return as their error.
type ErrorList []*Error

// Sort sorts l by file name, line and column, keeping the order in which
// errors were added at equal positions.
func (l ErrorList) Sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			strings.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
		)
	})
}

// Total is the number of errors found: every entry of l, except that the
// last entry of a capped list counts as the errors it says were left out.
func (l ErrorList) Total() int {
	n := 0
	for _, e := range l {
		if e.More > 0 {
			n += e.More
		} else {
			n++
		}
	}
	return n
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Unwrap returns the entries of l, so that errors.Is and errors.As see
// each *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Error formats l one error a line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}
