package policy

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// Subject is the variable subject: who holds a grant. A time the API does
// not give is zero, an absent field to CEL: has(subject.lastUsedAt) is
// false, and reading it is an error (see absentField), never the zero
// time.
type Subject struct {
	// Kind is workspaceToken, organizationToken, deploymentToken, user or
	// team.
	Kind string `cel:"kind"`
	ID   string `cel:"id"`
	// Name is a token's or team's name, a user's username.
	Name string `cel:"name"`
	// Status is a user's status (ACTIVE, INACTIVE, PENDING, BANNED); ""
	// for other kinds.
	Status        string    `cel:"status"`
	ExpiresAt     time.Time `cel:"expiresAt"`
	LastUsedAt    time.Time `cel:"lastUsedAt"`
	LastRotatedAt time.Time `cel:"lastRotatedAt"`
	CreatedAt     time.Time `cel:"createdAt"`
	// IdpManaged says a team gets its members from an identity provider.
	IdpManaged bool `cel:"idpManaged"`
}

// Scope is the variable scope: where a grant is held.
type Scope struct {
	// Level is organization, workspace, deployment or dag (a DAG or a DAG
	// tag).
	Level string `cel:"level"`
	// ID is the organization's, workspace's or deployment's id, the DAG id
	// or the tag.
	ID   string `cel:"id"`
	Name string `cel:"name"`
	// Workspace is the name of the scope's workspace; "" for the
	// organization.
	Workspace string `cel:"workspace"`
	// Deployment is the name of a DAG's deployment; "" for other levels.
	Deployment string `cel:"deployment"`
	// Production says the scope is a production deployment or one of its
	// DAGs.
	Production bool `cel:"production"`

	key  sync.Scope
	rank int
}

// Key is the scope's identity in the planner's terms.
func (s Scope) Key() sync.Scope { return s.key }

// Role is the variable role: the role of a grant and its access, as the
// access report rates it (view, author, operate, admin, custom).
type Role struct {
	Name   string `cel:"name"`
	Access string `cel:"access"`
}

// The kinds of Via.
const (
	ViaDirect       = "direct"
	ViaTeam         = "team"
	ViaWorkspace    = "workspace"
	ViaOrganization = "organization"
)

// Via is the variable via: how the subject holds the grant. Kind is
// direct (the subject's own role at the scope), team (a member holds a
// team's role at the scope), workspace (a workspace role reaching a
// deployment of the workspace) or organization (ORGANIZATION_OWNER
// reaching every workspace and deployment). Team is the name of the team
// a member holds the grant through, whatever the kind; "" otherwise.
type Via struct {
	Kind string `cel:"kind"`
	Team string `cel:"team"`
}

// Grant is one effective grant: a subject's role at a scope, and how the
// subject holds it. In a scope rule, grants is a list of {subject, role,
// via}.
type Grant struct {
	Subject *Subject `cel:"subject"`
	Role    Role     `cel:"role"`
	Via     Via      `cel:"via"`
	Scope   *Scope   `cel:"-"`
	// Source is the spec entry that writes the role the grant comes from;
	// zero when no spec file does (an unmanaged role).
	Source spec.Pos `cel:"-"`
}

// absentFields are, by CEL type name, the fields of the variables' types
// that are absent when zero: every timestamp (a time the API does not
// give).
var absentFields = func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for name, t := range map[string]reflect.Type{typeSubject: reflect.TypeFor[Subject](), typeScope: reflect.TypeFor[Scope](),
		typeRole: reflect.TypeFor[Role](), typeVia: reflect.TypeFor[Via](), typeGrant: reflect.TypeFor[Grant]()} {
		for f := range t.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("cel"), ",")
			if f.Type != reflect.TypeFor[time.Time]() || tag == "" || tag == "-" {
				continue
			}
			if out[name] == nil {
				out[name] = map[string]bool{}
			}
			out[name][tag] = true
		}
	}
	return out
}()

// absentField says field of the CEL type typeName is absent when zero:
// has() is false, and reading it is errAbsent, so that a rule reading it
// unguarded cannot be decided (and counts as violated) rather than
// compare the zero time.
func absentField(typeName, field string) bool { return absentFields[typeName][field] }

// errAbsent is the error of reading an absent field.
func errAbsent(field string) error {
	return fmt.Errorf("%s is absent (the API gives none): test it with has()", field)
}
