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
// write: an API token, a user or a team, as read. Its deployment roles are
// the part tokensync manages; everything else (its organization and
// workspace roles, DAG roles) is the rest, kept exactly as read and
// written back unchanged. Only the adapter that read a subject knows the
// shape of its rest.
type Subject struct {
	SubjectRef
	// Deployments are its deployment roles, as read, in the API's order.
	Deployments []astroapi.DeploymentRole
	// Fingerprint is a digest of the whole role set as read, so a saved
	// plan can tell that the subject changed since.
	Fingerprint string
	// Workspace is the workspace a workspace token belongs to ("" for
	// other kinds): it may hold roles only on that workspace's deployments.
	Workspace string
	// Status is a user's status (ACTIVE, INACTIVE, PENDING, BANNED); ""
	// for other kinds.
	Status string
	// NoOrganizationRole says a user or team holds no organization role:
	// the API gives it a deployment role only together with one.
	NoOrganizationRole bool
	// DagDeployments are the deployments on which it holds a DAG or DAG
	// tag role: Astro needs a deployment role there (it adds
	// DEPLOYMENT_ACCESSOR itself), so prune leaves that accessor alone.
	DagDeployments []string

	rest any // the adapter's: the whole role set as read
}

// Role is the role s holds on deployment dep as read: the first of its
// entries for dep, or "".
func (s Subject) Role(dep string) string {
	for _, d := range s.Deployments {
		if d.DeploymentID == dep {
			return d.Role
		}
	}
	return ""
}

// Adapter reads and writes one family of subjects: API tokens, users or
// teams. Each family's role set is replaced whole by a write, so Set takes
// the subject as read and writes it back with only its deployment roles
// replaced.
type Adapter interface {
	// Kinds are the kinds of subject the adapter serves.
	Kinds() []Kind
	// List reads every subject of the organization or, when workspaces is
	// not nil, those holding a role in one of them.
	List(ctx context.Context, workspaces []string) ([]Subject, error)
	// Get reads one subject.
	Get(ctx context.Context, id string) (Subject, error)
	// Set writes s with its deployment roles replaced by deployments and
	// every other part of its role set exactly as read. It returns the
	// fingerprint of the role set it wrote, as a read will find it.
	Set(ctx context.Context, s Subject, deployments []astroapi.DeploymentRole) (string, error)
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

// withDeployments returns read with the roles on the deployments of want
// set to want's role ("" for none): the first entry of such a deployment
// is replaced in place, or one appended (in the order of order), and its
// duplicates dropped. Entries on other deployments are kept exactly as
// read, in their order. A managed entry gets exactly the wanted role.
func withDeployments(read []astroapi.DeploymentRole, want map[string]string, order []string) []astroapi.DeploymentRole {
	placed := make(map[string]bool, len(want))
	out := make([]astroapi.DeploymentRole, 0, len(read)+len(order))
	for _, r := range read {
		role, managed := want[r.DeploymentID]
		if !managed {
			out = append(out, r)
			continue
		}
		if role == "" || placed[r.DeploymentID] {
			continue
		}
		placed[r.DeploymentID] = true
		r.Role = role
		out = append(out, r)
	}
	for _, dep := range order {
		if role := want[dep]; role != "" && !placed[dep] {
			out = append(out, astroapi.DeploymentRole{DeploymentID: dep, Role: role})
		}
	}
	return out
}

// WorkspaceRoles are the workspace roles s holds, as read: a token's
// WORKSPACE entries, a user's or team's workspace roles. It is read-only
// information for reports; the engine never writes them.
func (s Subject) WorkspaceRoles() []astroapi.WorkspaceRole {
	switch rest := s.rest.(type) {
	case []astroapi.Role:
		var out []astroapi.WorkspaceRole
		for _, r := range rest {
			if r.EntityType == astroapi.EntityWorkspace {
				out = append(out, astroapi.WorkspaceRole{WorkspaceID: r.EntityID, Role: r.Role})
			}
		}
		return out
	case roleSet:
		return slices.Clone(rest.WorkspaceRoles)
	}
	return nil
}

// OrganizationRole is the organization role s holds, as read: a token's
// ORGANIZATION entry, a user's or team's organization role; "" for none.
func (s Subject) OrganizationRole() string {
	switch rest := s.rest.(type) {
	case []astroapi.Role:
		for _, r := range rest {
			if r.EntityType == astroapi.EntityOrganization {
				return r.Role
			}
		}
	case roleSet:
		return rest.OrganizationRole
	}
	return ""
}
