package sync

import (
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// Observed is what the API says today: the organization's workspaces,
// deployments and custom roles, and its subjects (API tokens, users and
// teams, each with its whole role set).
type Observed struct {
	Organization string
	Workspaces   []astroapi.Workspace
	Deployments  []astroapi.Deployment
	CustomRoles  []astroapi.CustomRole
	Subjects     []Subject
	// PerWorkspace says the credential could not list the organization, so
	// only the workspaces it can see were read.
	PerWorkspace bool
	// TeamActive holds, for each team whose members were read for the
	// lockout guard (LockoutTeams), whether one of them is an active user:
	// a team counts as an owner only then. A team not in it counts as an
	// owner, as its members were not read.
	TeamActive map[string]bool
}

// Desired is a spec resolved against Observed: every reference is an id.
type Desired struct {
	// Scopes are the scopes the spec manages, on every level: the
	// organization, workspaces, deployments, DAGs and DAG tags.
	Scopes []ManagedScope
	// Ignore are, per kind, the globs matched against subject names and
	// ids: ignoreTokens for both token kinds, ignoreUsers, ignoreTeams.
	Ignore map[Kind][]string
	// Workspaces maps every deployment id to its workspace id, as
	// observed: Astro keeps a WORKSPACE_ACCESSOR for a deployment role, so
	// the planner must know which workspace a deployment role needs.
	Workspaces map[string]string
	// Notes are what the user should know but is no error, sorted by
	// position: a state: absent entry whose subject no longer exists.
	Notes []Note
}

// Deployments are the managed scopes of the deployment level.
func (d Desired) Deployments() []ManagedScope {
	var out []ManagedScope
	for _, m := range d.Scopes {
		if m.Level == LevelDeployment {
			out = append(out, m)
		}
	}
	return out
}

// Note is a remark about a spec entry, shown as a warning.
type Note struct {
	Pos spec.Pos
	Msg string
}

// String formats n as file:line:col: message.
func (n Note) String() string { return n.Pos.String() + ": " + n.Msg }

// ManagedScope is one scope the spec manages: the organization level, a
// workspace, a deployment, or a DAG or DAG tag of a deployment.
type ManagedScope struct {
	ScopeRef
	// WorkspaceID is the workspace of a workspace, deployment, DAG or DAG
	// tag scope; "" for the organization.
	WorkspaceID string
	Prune       bool
	AllowEmpty  bool
	// Lists are the kinds whose key the spec entry contains: prune removes
	// unlisted assignments of these kinds only.
	Lists       []Kind
	Source      spec.Pos
	Assignments []DesiredAssignment
}

// DesiredAssignment is one entry of a managed deployment: a subject with a
// role, or state: absent.
type DesiredAssignment struct {
	Subject SubjectRef
	Role    string // "" when Absent
	Absent  bool
	Source  spec.Pos
}

// DeploymentRef names a deployment in a plan.
type DeploymentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
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

// Change is one assignment (subject, scope) that differs, or that is left
// alone (Unmanaged).
type Change struct {
	Action  Action
	Scope   ScopeRef
	Subject SubjectRef
	Before  string // role today, "" if none
	After   string // role after apply, "" if removed
	Reason  string
	Source  *spec.Pos // the spec entry, nil for prune removals and unmanaged
}

// Guard is the result of one guard check.
type Guard struct {
	Name    string // "max-removals", "allow-empty", "protect"
	OK      bool
	Message string
}

// Plan is the whole difference between Desired and Observed, sorted by
// scope (see CompareScope), then subject name and id.
type Plan struct {
	Organization string
	Changes      []Change // add, update, remove
	Unmanaged    []Change // assignments on managed scopes left alone
	Guards       []Guard
	// Fingerprints maps every subject with a change to a digest of its
	// role set as observed, so a saved plan can detect a changed subject.
	Fingerprints map[string]string
	// Target is what the plan was computed to reach, so that Apply sets
	// every managed assignment of a subject it writes as the spec says, and
	// Verify checks every managed assignment. Nil for a plan read back from
	// a saved document: Apply and Verify then go by Changes alone.
	Target *Target
	// Partial are the scopes --target limited the plan to (Only); nil
	// when the plan covers the whole spec.
	Partial []ScopeRef
	// Violations are the policy rules found true on the access the plan
	// would leave. Package policy finds them and the command attaches
	// them, with the policy guard's verdict; the engine only carries them
	// to the outputs.
	Violations []Violation
}

// Violation is one policy rule found true: on a grant (a subject's role
// at a scope, directly or through a team, workspace or organization role)
// or on a scope as a whole.
type Violation struct {
	Rule        string
	Description string
	Scope       ScopeRef
	// Subject, Role and Via are the grant's; nil and "" for a rule over a
	// scope. Via is "direct", "team NAME", "workspace" or "organization".
	Subject *SubjectRef
	Role    string
	Via     string
	// Source is the spec entry that writes the grant, when a file does.
	Source *spec.Pos
	// Err says the rule could not be evaluated here: it counts as broken.
	Err string
	// Why says why a rule over a scope holds there: the values of the
	// parts of its expression that read the scope's grants ("" for a
	// grant rule).
	Why string
}

// Target is the spec a plan aims at: Desired in canonical order (scopes as
// compareScope orders them; assignments by subject id; without notes) and
// Options.Prune.
type Target struct {
	Desired Desired
	Prune   bool
}

// Options steer Compute.
type Options struct {
	Prune       bool     // --prune: prune every managed scope
	MaxRemovals int      // -1 means no limit
	Protect     []string // subject names or ids (globs) that must not lose or change a role
}
