package sync

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/tokensync/tokensync/astroapi"
)

// TokenAPI is what the token adapter needs of the API. *astroapi.Client
// implements it.
type TokenAPI interface {
	Tokens(ctx context.Context, org string, f astroapi.TokenFilter) ([]astroapi.Token, error)
	Token(ctx context.Context, org, id string) (astroapi.Token, error)
	SetTokenRoles(ctx context.Context, org, id string, roles []astroapi.Role) (astroapi.SubjectRoles, error)
}

// UserAPI is what the user adapter needs of the API. *astroapi.Client
// implements it.
type UserAPI interface {
	Users(ctx context.Context, org string, f astroapi.UserFilter) ([]astroapi.User, error)
	User(ctx context.Context, org, id string) (astroapi.User, error)
	SetUserRoles(ctx context.Context, org, id string, r astroapi.UpdateUserRolesRequest) (astroapi.SubjectRoles, error)
}

// TeamAPI is what the team adapter needs of the API. *astroapi.Client
// implements it.
type TeamAPI interface {
	Teams(ctx context.Context, org string, f astroapi.TeamFilter) ([]astroapi.Team, error)
	Team(ctx context.Context, org, id string) (astroapi.Team, error)
	SetTeamRoles(ctx context.Context, org, id string, r astroapi.UpdateTeamRolesRequest) (astroapi.SubjectRoles, error)
}

// Client is the whole API as sync uses it. *astroapi.Client implements it.
type Client interface {
	Lister
	TokenAPI
	UserAPI
	TeamAPI
}

// NewAdapters returns the adapters of every family of subject, for
// organization org: API tokens, users and teams. When c can reserve write
// slots (WriteReserver), so can they.
func NewAdapters(c Client, org string) Adapters {
	return Adapters{TokenAdapter(c, org), UserAdapter(c, org), TeamAdapter(c, org)}
}

// reserver passes a WriteReserver's ReserveWrite through, when the API
// has one.
type reserver struct{ api any }

func (r reserver) ReserveWrite(ctx context.Context) (context.Context, func(), error) {
	if wr, ok := r.api.(WriteReserver); ok {
		return wr.ReserveWrite(ctx)
	}
	return ctx, func() {}, nil
}

// listIn lists the organization's subjects with list(""), or, when
// workspaces is not nil, those of each workspace (see eachWorkspace).
func listIn(ctx context.Context, workspaces []string, list func(ctx context.Context, workspace string) ([]Subject, error)) ([]Subject, error) {
	if workspaces == nil {
		return list(ctx, "")
	}
	return eachWorkspace(ctx, workspaces, func(ws string) ([]Subject, error) { return list(ctx, ws) })
}

// eachWorkspace lists with list once per workspace, keeping the first of
// subjects seen in several.
func eachWorkspace(ctx context.Context, workspaces []string, list func(ws string) ([]Subject, error)) ([]Subject, error) {
	seen := map[string]bool{}
	var out []Subject
	for _, ws := range workspaces {
		subjects, err := list(ws)
		if err != nil {
			return nil, fmt.Errorf("workspace %s: %w", ws, err)
		}
		for _, s := range subjects {
			if !seen[s.ID] {
				seen[s.ID] = true
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// tokenPager, userPager: an API that hands a list over a page at a time
// (*astroapi.Client), so that a list of subjects holds one page of what
// the API says at a time, not every token or user as read besides the
// subjects made of them.
type (
	tokenPager interface {
		TokenPages(ctx context.Context, org string, f astroapi.TokenFilter, each func([]astroapi.Token) error) error
	}
	userPager interface {
		UserPages(ctx context.Context, org string, f astroapi.UserFilter, each func([]astroapi.User) error) error
	}
)

// convertPages is convert over the pages pages hands to its each. Each
// page's subjects are kept apart and joined once at the end, so that the
// subjects are copied once, not each time a growing list outgrows its room.
func convertPages[T any](pages func(each func([]T) error) error, f func(T) Subject) ([]Subject, error) {
	var chunks [][]Subject
	err := pages(func(page []T) error {
		chunks = append(chunks, convert(page, f))
		return nil
	})
	return concat(chunks), err
}

// concat joins chunks into one list with room for nothing more; an empty
// list, never nil.
func concat(chunks [][]Subject) []Subject {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	out := make([]Subject, 0, n)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}

func convert[T any](xs []T, f func(T) Subject) []Subject {
	out := make([]Subject, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// ---- API tokens

type tokenAdapter struct {
	reserver
	api TokenAPI
	org string
}

// TokenAdapter is the adapter of API tokens: their role list, a list of
// (entityType, entityId, role) entries, is replaced whole on each write.
// Entries a plan does not change are written back exactly as read, in
// their order.
func TokenAdapter(api TokenAPI, org string) Adapter {
	return tokenAdapter{reserver: reserver{api}, api: api, org: org}
}

func (tokenAdapter) Kinds() []Kind {
	return []Kind{KindWorkspaceToken, KindOrganizationToken, KindDeploymentToken}
}

func (a tokenAdapter) List(ctx context.Context, workspaces []string) ([]Subject, error) {
	return listIn(ctx, workspaces, func(ctx context.Context, ws string) ([]Subject, error) {
		f := astroapi.TokenFilter{WorkspaceID: ws}
		if p, ok := a.api.(tokenPager); ok {
			return convertPages(func(each func([]astroapi.Token) error) error { return p.TokenPages(ctx, a.org, f, each) }, TokenSubject)
		}
		tokens, err := a.api.Tokens(ctx, a.org, f)
		return convert(tokens, TokenSubject), err
	})
}

func (a tokenAdapter) Get(ctx context.Context, id string) (Subject, error) {
	t, err := a.api.Token(ctx, a.org, id)
	if err != nil {
		return Subject{}, err
	}
	return TokenSubject(t), nil
}

func (a tokenAdapter) Set(ctx context.Context, s Subject, grants []Grant) (string, error) {
	if len(grants) == 0 {
		return "", errEmptyRoles
	}
	roles := make([]astroapi.Role, len(grants))
	for i, g := range grants {
		roles[i] = tokenRole(g, a.org)
	}
	if _, err := a.api.SetTokenRoles(ctx, a.org, s.ID, roles); err != nil {
		return "", err
	}
	return Fingerprint(roles), nil
}

var errEmptyRoles = errors.New("no role would be left, and the API needs at least one")

// tokenKinds maps a token's scope to its kind.
var tokenKinds = map[string]Kind{
	astroapi.ScopeWorkspace:    KindWorkspaceToken,
	astroapi.ScopeOrganization: KindOrganizationToken,
	astroapi.ScopeDeployment:   KindDeploymentToken,
}

// TokenSubject is t as a subject. A token of a scope tokensync does not
// know gets a kind of its own, which is never managed.
func TokenSubject(t astroapi.Token) Subject {
	kind, ok := tokenKinds[t.Scope]
	if !ok {
		kind = Kind("token:" + t.Scope)
	}
	s := Subject{
		SubjectRef:  SubjectRef{Kind: kind, ID: t.ID, Name: t.Name},
		Grants:      make([]Grant, len(t.Roles)),
		Fingerprint: Fingerprint(t.Roles),
	}
	for i, r := range t.Roles {
		s.Grants[i] = grantOfToken(r)
	}
	if kind == KindWorkspaceToken {
		s.Workspace = tokenWorkspace(t.Roles)
	}
	s.Hygiene = tokenHygiene(t)
	return s
}

// tokenWorkspace is the workspace of a workspace token: the entity of its
// WORKSPACE role, or "".
func tokenWorkspace(roles []astroapi.Role) string {
	for _, r := range roles {
		if r.EntityType == astroapi.EntityWorkspace {
			return r.EntityID
		}
	}
	return ""
}

// Fingerprint is the sha256 hex digest of a token's role list in canonical
// (sorted) order, so that a reordered list has the same fingerprint and any
// other difference a different one. A nil and an empty list are the same.
func Fingerprint(roles []astroapi.Role) string {
	c := slices.Clone(roles)
	slices.SortFunc(c, compareRole)
	var b []byte
	for _, r := range c {
		b = appendFields(b, r.EntityType, r.EntityID, r.Role, r.DeploymentID)
	}
	return digest(b)
}

func compareRole(a, b astroapi.Role) int {
	return cmp.Or(
		cmp.Compare(a.EntityType, b.EntityType),
		cmp.Compare(a.EntityID, b.EntityID),
		cmp.Compare(a.Role, b.Role),
		cmp.Compare(a.DeploymentID, b.DeploymentID),
	)
}

// appendFields appends one line of quoted fields.
func appendFields(b []byte, fields ...string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendQuote(b, f)
	}
	return append(b, '\n')
}

// appendQuote is strconv.AppendQuote, which leaves printable ASCII other
// than '"' and '\\' as it is: a field of only those, as ids and roles are,
// is appended between quotes without strconv's rune by rune escaping.
func appendQuote(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ---- users and teams

// roleSet is the role set of a user or team, as the API writes it.
type roleSet struct {
	OrganizationRole string
	WorkspaceRoles   []astroapi.WorkspaceRole
	DeploymentRoles  []astroapi.DeploymentRole
	DagRoles         []astroapi.DagRole
}

// fingerprint digests a role set in canonical order. The WORKSPACE_ACCESSOR
// roles Astro adds on its own, when a deployment role is given in a
// workspace where the subject has no workspace role, are left out: they
// are not a change by another writer.
func (r roleSet) fingerprint() string {
	// The lines go into one buffer; spans, their bounds, are sorted
	// instead of the lines, and the sorted lines copied out to digest.
	var buf, sorted [1024]byte
	var spanBuf [32][2]int
	b, spans := buf[:0], spanBuf[:0]
	add := func(fields ...string) {
		start := len(b)
		b = appendFields(b, fields...)
		spans = append(spans, [2]int{start, len(b)})
	}
	add("organization", r.OrganizationRole)
	for _, w := range r.WorkspaceRoles {
		if w.Role != astroapi.RoleWorkspaceAccessor {
			add("workspace", w.WorkspaceID, w.Role)
		}
	}
	for _, d := range r.DeploymentRoles {
		add("deployment", d.DeploymentID, d.Role)
	}
	for _, d := range r.DagRoles {
		add("dag", d.DeploymentID, d.DagID, d.DagTag, d.Role)
	}
	slices.SortFunc(spans, func(x, y [2]int) int { return bytes.Compare(b[x[0]:x[1]], b[y[0]:y[1]]) })
	out := sorted[:0]
	for _, sp := range spans {
		out = append(out, b[sp[0]:sp[1]]...)
	}
	return digest(out)
}

func (r roleSet) subject(ref SubjectRef) Subject {
	s := Subject{SubjectRef: ref, Fingerprint: r.fingerprint(), NoOrganizationRole: r.OrganizationRole == ""}
	s.Grants = make([]Grant, 0, 1+len(r.WorkspaceRoles)+len(r.DeploymentRoles)+len(r.DagRoles))
	if r.OrganizationRole != "" {
		s.Grants = append(s.Grants, Grant{Scope: Organization, Role: r.OrganizationRole})
	}
	for _, w := range r.WorkspaceRoles {
		s.Grants = append(s.Grants, Grant{Scope: Scope{Level: LevelWorkspace, ID: w.WorkspaceID}, Role: w.Role})
	}
	for _, d := range r.DeploymentRoles {
		s.Grants = append(s.Grants, Grant{Scope: Scope{Level: LevelDeployment, ID: d.DeploymentID}, Role: d.Role})
	}
	for _, d := range r.DagRoles {
		sc := Scope{Level: LevelDAG, ID: d.DagID, Deployment: d.DeploymentID}
		if d.DagTag != "" {
			sc = Scope{Level: LevelDAGTag, ID: d.DagTag, Deployment: d.DeploymentID}
		}
		s.Grants = append(s.Grants, Grant{Scope: sc, Role: d.Role})
	}
	return s
}

// roleSetOf is grants as a user's or team's role set. Lists are never nil,
// so a write always sends every part; the first organization role counts.
func roleSetOf(grants []Grant) roleSet {
	r := roleSet{WorkspaceRoles: []astroapi.WorkspaceRole{}, DeploymentRoles: []astroapi.DeploymentRole{}, DagRoles: []astroapi.DagRole{}}
	for _, g := range grants {
		switch g.Scope.Level {
		case LevelOrganization:
			r.OrganizationRole = cmp.Or(r.OrganizationRole, g.Role)
		case LevelWorkspace:
			r.WorkspaceRoles = append(r.WorkspaceRoles, astroapi.WorkspaceRole{WorkspaceID: g.Scope.ID, Role: g.Role})
		case LevelDeployment:
			r.DeploymentRoles = append(r.DeploymentRoles, astroapi.DeploymentRole{DeploymentID: g.Scope.ID, Role: g.Role})
		case LevelDAG:
			r.DagRoles = append(r.DagRoles, astroapi.DagRole{DeploymentID: g.Scope.Deployment, DagID: g.Scope.ID, Role: g.Role})
		case LevelDAGTag:
			r.DagRoles = append(r.DagRoles, astroapi.DagRole{DeploymentID: g.Scope.Deployment, DagTag: g.Scope.ID, Role: g.Role})
		}
	}
	return r
}

// roleSetAdapter is the adapter of users or teams: a write replaces the
// whole role set (organization role, workspace roles, deployment roles, DAG
// roles), so every part is always sent.
type roleSetAdapter struct {
	reserver
	kind Kind
	list func(ctx context.Context, workspace string) ([]Subject, error) // "" for the organization
	get  func(ctx context.Context, id string) (Subject, error)
	set  func(ctx context.Context, id string, r roleSet) (astroapi.SubjectRoles, error)
}

func (a roleSetAdapter) Kinds() []Kind { return []Kind{a.kind} }

func (a roleSetAdapter) List(ctx context.Context, workspaces []string) ([]Subject, error) {
	return listIn(ctx, workspaces, a.list)
}

func (a roleSetAdapter) Get(ctx context.Context, id string) (Subject, error) { return a.get(ctx, id) }

func (a roleSetAdapter) Set(ctx context.Context, s Subject, grants []Grant) (string, error) {
	w := roleSetOf(grants)
	got, err := a.set(ctx, s.ID, w)
	if err != nil {
		return "", err
	}
	if got.OrganizationRole != "" {
		// The role set as the API keeps it, with the accessor roles it
		// adds on its own (DEPLOYMENT_ACCESSOR for a DAG role), as a read
		// will find it.
		return roleSet(got).fingerprint(), nil
	}
	return w.fingerprint(), nil
}

// UserAdapter is the adapter of users.
func UserAdapter(api UserAPI, org string) Adapter {
	return roleSetAdapter{
		reserver: reserver{api},
		kind:     KindUser,
		list: func(ctx context.Context, ws string) ([]Subject, error) {
			f := astroapi.UserFilter{WorkspaceID: ws}
			if p, ok := api.(userPager); ok {
				return convertPages(func(each func([]astroapi.User) error) error { return p.UserPages(ctx, org, f, each) }, UserSubject)
			}
			users, err := api.Users(ctx, org, f)
			return convert(users, UserSubject), err
		},
		get: func(ctx context.Context, id string) (Subject, error) {
			u, err := api.User(ctx, org, id)
			if err != nil {
				return Subject{}, err
			}
			return UserSubject(u), nil
		},
		set: func(ctx context.Context, id string, r roleSet) (astroapi.SubjectRoles, error) {
			return api.SetUserRoles(ctx, org, id, astroapi.UpdateUserRolesRequest(r))
		},
	}
}

// UserSubject is u as a subject, named by its username.
func UserSubject(u astroapi.User) Subject {
	r := roleSet{OrganizationRole: u.OrganizationRole, WorkspaceRoles: u.WorkspaceRoles, DeploymentRoles: u.DeploymentRoles, DagRoles: u.DagRoles}
	s := r.subject(SubjectRef{Kind: KindUser, ID: u.ID, Name: u.Username})
	s.Status = u.Status
	s.Hygiene = userHygiene(u)
	return s
}

// TeamAdapter is the adapter of teams, whose role set is written like a
// user's.
func TeamAdapter(api TeamAPI, org string) Adapter {
	return roleSetAdapter{
		reserver: reserver{api},
		kind:     KindTeam,
		list: func(ctx context.Context, ws string) ([]Subject, error) {
			teams, err := api.Teams(ctx, org, astroapi.TeamFilter{WorkspaceID: ws})
			return convert(teams, TeamSubject), err
		},
		get: func(ctx context.Context, id string) (Subject, error) {
			t, err := api.Team(ctx, org, id)
			if err != nil {
				return Subject{}, err
			}
			return TeamSubject(t), nil
		},
		set: func(ctx context.Context, id string, r roleSet) (astroapi.SubjectRoles, error) {
			return api.SetTeamRoles(ctx, org, id, astroapi.UpdateTeamRolesRequest(r))
		},
	}
}

// TeamSubject is t as a subject.
func TeamSubject(t astroapi.Team) Subject {
	r := roleSet{OrganizationRole: t.OrganizationRole, WorkspaceRoles: t.WorkspaceRoles, DeploymentRoles: t.DeploymentRoles, DagRoles: t.DagRoles}
	s := r.subject(SubjectRef{Kind: KindTeam, ID: t.ID, Name: t.Name})
	s.Hygiene = teamHygiene(t)
	return s
}
