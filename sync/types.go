package sync

import (
	"context"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// Observed is what the API says today: the organization's workspaces,
// deployments, tokens (with their full role lists) and custom roles.
type Observed struct {
	Organization string
	Workspaces   []astroapi.Workspace
	Deployments  []astroapi.Deployment
	Tokens       []astroapi.Token
	CustomRoles  []astroapi.CustomRole
	// PerWorkspace says the credential could not list the organization, so
	// only the workspaces it can see were read.
	PerWorkspace bool
}

// Desired is a spec resolved against Observed: every reference is an id.
type Desired struct {
	Deployments []ManagedDeployment
	// IgnoreTokens are globs matched against token names and ids.
	IgnoreTokens []string
	// Notes are what the user should know but is no error, sorted by
	// position: a state: absent entry whose token no longer exists.
	Notes []Note
}

// Note is a remark about a spec entry, shown as a warning.
type Note struct {
	Pos spec.Pos
	Msg string
}

// String formats n as file:line:col: message.
func (n Note) String() string { return n.Pos.String() + ": " + n.Msg }

// ManagedDeployment is one deployment named in the spec.
type ManagedDeployment struct {
	ID          string
	Name        string
	WorkspaceID string
	Prune       bool
	AllowEmpty  bool
	Source      spec.Pos
	Assignments []DesiredAssignment
}

// DesiredAssignment is one token entry of a managed deployment.
type DesiredAssignment struct {
	Token  TokenRef
	Role   string // "" when Absent
	Absent bool
	Source spec.Pos
}

// DeploymentRef names a deployment in a plan.
type DeploymentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TokenRef names a token in a plan.
type TokenRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Scope string `json:"scope"`
}

// Action is what a Change does.
type Action string

// The actions of a plan. Unmanaged changes are shown, never applied.
const (
	Add       Action = "add"
	Update    Action = "update"
	Remove    Action = "remove"
	Unmanaged Action = "unmanaged"
)

// Change is one assignment (token, deployment) that differs, or that is
// left alone (Unmanaged).
type Change struct {
	Action     Action
	Deployment DeploymentRef
	Token      TokenRef
	Before     string // role today, "" if none
	After      string // role after apply, "" if removed
	Reason     string
	Source     *spec.Pos // the spec entry, nil for prune removals and unmanaged
}

// Guard is the result of one guard check.
type Guard struct {
	Name    string // "max-removals", "allow-empty", "protect"
	OK      bool
	Message string
}

// Plan is the whole difference between Desired and Observed, sorted by
// deployment name, deployment id, token name, token id.
type Plan struct {
	Organization string
	Changes      []Change // add, update, remove
	Unmanaged    []Change // assignments on managed deployments left alone
	Guards       []Guard
	// Fingerprints maps every token with a change to a digest of its role
	// list as observed, so a saved plan can detect a changed token.
	Fingerprints map[string]string
	// Target is what the plan was computed to reach, so that Apply sets
	// every managed assignment of a token it writes as the spec says, and
	// Verify checks every managed assignment. Nil for a plan read back from
	// a saved document: Apply and Verify then go by Changes alone.
	Target *Target
}

// Target is the spec a plan aims at: Desired in canonical order
// (deployments by name, then id; assignments by token id; without notes)
// and Options.Prune.
type Target struct {
	Desired Desired
	Prune   bool
}

// Options steer Compute.
type Options struct {
	Prune       bool     // --prune: prune every managed deployment
	MaxRemovals int      // -1 means no limit
	Protect     []string // token names or ids (globs) that must not lose or change a role
}

// TokenStore is what Apply needs of the API: the role list of a token is
// read and replaced as a whole.
type TokenStore interface {
	Token(ctx context.Context, id string) (astroapi.Token, error)
	SetRoles(ctx context.Context, id string, roles []astroapi.Role) error
}

// WriteReserver is a TokenStore that rate-limits its writes and can take a
// write's slot ahead of time. Apply takes it before a token's read, so the
// write follows the read at once instead of after a wait for the limiter:
// the window in which another writer's change is lost stays one round trip.
// The returned context carries the slot to SetRoles; release gives an
// unused slot back. *astroapi.Client's ReserveWrite has this shape.
type WriteReserver interface {
	ReserveWrite(ctx context.Context) (slot context.Context, release func(), err error)
}
