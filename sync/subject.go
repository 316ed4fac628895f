package sync

import (
	"context"
	"slices"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// Kind is the kind of a subject, as plans name it.
type Kind = spec.Kind

// The kinds of subject. The four a spec lists are managed; deployment API
// tokens only ever hold a role on their own deployment and are never
// managed.
const (
	KindWorkspaceToken    = spec.KindWorkspaceToken
	KindOrganizationToken = spec.KindOrganizationToken
	KindUser              = spec.KindUser
	KindTeam              = spec.KindTeam
	KindDeploymentToken   = Kind("deploymentToken")
)

// managedKind reports whether subjects of kind k may be managed.
func managedKind(k Kind) bool { return slices.Contains(spec.Kinds(), k) }

// kindInfo is what the engine knows of a kind of subject.
type kindInfo struct {
	family    string // kinds of one family share ids and names: "token", "user", "team"
	noun      string // how messages call such a subject
	plural    string // how messages call several
	ignoreKey string // the spec key of its ignore globs
	fold      bool   // names match case-insensitively (usernames)
	// unmanaged is why a subject of a kind that is never managed is left
	// alone; "" for the managed kinds.
	unmanaged string
}

// match is the form of name that lookups compare.
func (k kindInfo) match(name string) string {
	if k.fold {
		return spec.FoldUsername(name)
	}
	return name
}

// kinds is what the engine knows of each kind.
var kinds = map[Kind]kindInfo{
	KindWorkspaceToken:    {family: "token", noun: "token", plural: "workspace tokens", ignoreKey: "ignoreTokens"},
	KindOrganizationToken: {family: "token", noun: "token", plural: "organization tokens", ignoreKey: "ignoreTokens"},
	KindDeploymentToken:   {family: "token", noun: "token", plural: "deployment tokens", ignoreKey: "ignoreTokens", unmanaged: ReasonDeploymentToken},
	KindUser:              {family: "user", noun: "user", plural: "users", ignoreKey: "ignoreUsers", fold: true},
	KindTeam:              {family: "team", noun: "team", plural: "teams", ignoreKey: "ignoreTeams"},
}

// SubjectRef names a subject in a plan: its kind, id and name (a token's
// or team's name, a user's username).
type SubjectRef struct {
	Kind Kind
	ID   string
	Name string
}

// Subject is a principal whose whole role set the API replaces on each
// write: an API token, a user or a team, as read, with every role it holds
// on every level. A write sends the whole set: what a plan does not change
// is written back exactly as read.
type Subject struct {
	SubjectRef
	// Grants are its roles on every level, as read, in the API's order (a
	// token's role list; a user's or team's organization role, then its
	// workspace, deployment and DAG roles).
	Grants []Grant
	// Fingerprint is a digest of the whole role set as read, so a saved
	// plan can tell that the subject changed since.
	Fingerprint string
	// Workspace is the workspace a workspace token belongs to ("" for
	// other kinds): it may hold roles only on that workspace and its
	// deployments.
	Workspace string
	// Status is a user's status (ACTIVE, INACTIVE, PENDING, BANNED); ""
	// for other kinds.
	Status string
	// NoOrganizationRole says a user or team holds no organization role:
	// the API gives it a role on any other level only together with one.
	NoOrganizationRole bool
	// Hygiene is what the API says of the subject besides its roles
	// (expiry, last use, creation), for policies and the report.
	Hygiene Hygiene
}

// RoleAt is the role s holds at scope sc as read: the first of its grants
// there, or "".
func (s Subject) RoleAt(sc Scope) string {
	for _, g := range s.Grants {
		if g.Scope == sc {
			return g.Role
		}
	}
	return ""
}

// Role is the role s holds on deployment dep as read, or "".
func (s Subject) Role(dep string) string {
	return s.RoleAt(Scope{Level: LevelDeployment, ID: dep})
}

// Deployments are the deployment roles of s, as read, in the API's order.
func (s Subject) Deployments() []astroapi.DeploymentRole {
	var out []astroapi.DeploymentRole
	for _, g := range s.Grants {
		if g.Scope.Level == LevelDeployment {
			out = append(out, astroapi.DeploymentRole{DeploymentID: g.Scope.ID, Role: g.Role})
		}
	}
	return out
}

// Adapter reads and writes one family of subjects: API tokens, users or
// teams. Each family's role set is replaced whole by a write, so Set takes
// the subject as read and the whole set of grants to write.
type Adapter interface {
	// Kinds are the kinds of subject the adapter serves.
	Kinds() []Kind
	// List reads every subject of the organization or, when workspaces is
	// not nil, those holding a role in one of them.
	List(ctx context.Context, workspaces []string) ([]Subject, error)
	// Get reads one subject.
	Get(ctx context.Context, id string) (Subject, error)
	// Set writes grants as the whole role set of s, read as s. It returns
	// the fingerprint of the role set it wrote, as a read will find it.
	Set(ctx context.Context, s Subject, grants []Grant) (string, error)
}

// Adapters are the adapters of every family of subject.
type Adapters []Adapter

// For returns the adapter that serves kind k, or nil.
func (as Adapters) For(k Kind) Adapter {
	for _, a := range as {
		if slices.Contains(a.Kinds(), k) {
			return a
		}
	}
	return nil
}

// WriteReserver is an Adapter that rate-limits its writes and can take a
// write's slot ahead of time. Apply takes it before a subject's read, so
// the write follows the read at once instead of after a wait for the
// limiter: the window in which another writer's change is lost stays one
// round trip. The returned context carries the slot to Set; release gives
// an unused slot back. *astroapi.Client's ReserveWrite has this shape.
type WriteReserver interface {
	ReserveWrite(ctx context.Context) (slot context.Context, release func(), err error)
}

// withGrants returns read with the roles at the scopes of want set to
// want's role ("" for none): the first grant of such a scope is replaced in
// place, or one appended (in the order of order), and its duplicates
// dropped. Grants at other scopes are kept exactly as read, in their
// order. A managed scope gets exactly the wanted role.
func withGrants(read []Grant, want map[Scope]string, order []Scope) []Grant {
	placed := make(map[Scope]bool, len(want))
	out := make([]Grant, 0, len(read)+len(order))
	for _, g := range read {
		role, managed := want[g.Scope]
		if !managed {
			out = append(out, g)
			continue
		}
		if role == "" || placed[g.Scope] {
			continue
		}
		placed[g.Scope] = true
		g.Role = role
		out = append(out, g)
	}
	for _, sc := range order {
		if role := want[sc]; role != "" && !placed[sc] {
			placed[sc] = true
			out = append(out, Grant{Scope: sc, Role: role})
		}
	}
	return out
}

// WorkspaceRoles are the workspace roles s holds, as read: a token's
// WORKSPACE entries, a user's or team's workspace roles.
func (s Subject) WorkspaceRoles() []astroapi.WorkspaceRole {
	var out []astroapi.WorkspaceRole
	for _, g := range s.Grants {
		if g.Scope.Level == LevelWorkspace {
			out = append(out, astroapi.WorkspaceRole{WorkspaceID: g.Scope.ID, Role: g.Role})
		}
	}
	return out
}

// OrganizationRole is the organization role s holds, as read: a token's
// ORGANIZATION entry, a user's or team's organization role; "" for none.
func (s Subject) OrganizationRole() string { return s.RoleAt(Organization) }

// barred says s is a user whose status (INACTIVE, BANNED) bars it from a
// role it does not hold: Resolve refuses such an entry, and Inconsistent
// such a change of a saved plan.
func (s *Subject) barred() bool {
	return s.Status == astroapi.UserInactive || s.Status == astroapi.UserBanned
}
