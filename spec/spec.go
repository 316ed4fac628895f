package spec

import (
	"fmt"
	"strings"
)

// Version is the only spec format version this build reads.
const Version = 1

// Pos is a position in a spec file; Line and Col count from 1.
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats p as file:line:col.
func (p Pos) String() string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Spec is the union of one or more spec files, as written, not yet resolved
// against the API.
type Spec struct {
	// Organization is the organization id, "" when no file names one.
	Organization    string
	OrganizationPos Pos
	// IgnoreTokens are token names or ids (path.Match globs) that are never touched.
	IgnoreTokens []Pattern
	Deployments  []Deployment
	// Digest is a sha256 hex digest of the files' contents, in path order.
	Digest string
	// Files are the files read, in the order read.
	Files []string
}

// Pattern is one ignoreTokens entry.
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
	// WorkspaceTokens and OrganizationTokens are the entries under those keys.
	WorkspaceTokens    []TokenEntry
	OrganizationTokens []TokenEntry
}

// Ref is how the deployment is named in messages: its id or its name.
func (d Deployment) Ref() string {
	if d.ID != "" {
		return d.ID
	}
	return d.Name
}

// State says whether an assignment must exist.
type State string

// The values of a token entry's state key.
const (
	Present State = "present"
	Absent  State = "absent"
)

// TokenEntry is one token under workspaceTokens or organizationTokens: by ID
// or by exact Name. Role is the deployment role, upper-cased when it is a
// built-in role; it is "" only when State is Absent.
type TokenEntry struct {
	Pos   Pos
	ID    string
	Name  string
	Role  string
	State State
}

// Ref is how the token is named in messages: its id or its name.
func (t TokenEntry) Ref() string {
	if t.ID != "" {
		return t.ID
	}
	return t.Name
}

// Error is one problem in a spec file, at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is every problem found, sorted by position. It is what Load,
// Parse and online resolution return as their error.
type ErrorList []*Error

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
