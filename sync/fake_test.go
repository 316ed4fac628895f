package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	gosync "sync"

	"github.com/tokensync/tokensync/astroapi"
)

// fakeStore is an in-memory API for the adapters: it implements TokenAPI,
// UserAPI and TeamAPI with the API's rule that a write replaces a
// subject's whole role set. It counts the calls per subject (ids are
// unique across kinds, as Astro's are), logs them in order, and can inject
// errors, hooks and concurrent modifications. Like the API, it refuses an
// empty token role list, a team without an organization role and a user
// with workspace or deployment roles but no organization role.
type fakeStore struct {
	mu     gosync.Mutex
	tokens map[string]astroapi.Token
	users  map[string]astroapi.User
	teams  map[string]astroapi.Team
	gets   map[string]int
	sets   map[string]int
	lists  int
	log    []string // "GET id" and "SET id", in the order served

	getErr map[string]error
	setErr map[string]error
	// beforeGet, when set, runs before a GET is served (without the lock).
	beforeGet func(ctx context.Context, id string)
	// afterGet, when set, runs after a GET is served (without the lock):
	// a place to simulate another writer between a read and a write.
	afterGet func(id string)
}

func newFakeStore(tokens ...astroapi.Token) *fakeStore {
	f := &fakeStore{
		tokens: make(map[string]astroapi.Token),
		users:  make(map[string]astroapi.User),
		teams:  make(map[string]astroapi.Team),
		gets:   make(map[string]int),
		sets:   make(map[string]int),
		getErr: make(map[string]error),
		setErr: make(map[string]error),
	}
	for _, t := range tokens {
		f.tokens[t.ID] = cloneToken(t)
	}
	return f
}

// withUsers adds users to the store.
func (f *fakeStore) withUsers(us ...astroapi.User) *fakeStore {
	for _, u := range us {
		f.users[u.ID] = cloneUser(u)
	}
	return f
}

// withTeams adds teams to the store.
func (f *fakeStore) withTeams(ts ...astroapi.Team) *fakeStore {
	for _, t := range ts {
		f.teams[t.ID] = cloneTeam(t)
	}
	return f
}

// adapters are the real adapters of every family over the store.
func (f *fakeStore) adapters() Adapters {
	return Adapters{TokenAdapter(f, org), UserAdapter(f, org), TeamAdapter(f, org)}
}

func cloneToken(t astroapi.Token) astroapi.Token {
	t.Roles = slices.Clone(t.Roles)
	return t
}

func cloneUser(u astroapi.User) astroapi.User {
	u.WorkspaceRoles = slices.Clone(u.WorkspaceRoles)
	u.DeploymentRoles = slices.Clone(u.DeploymentRoles)
	u.DagRoles = slices.Clone(u.DagRoles)
	return u
}

func cloneTeam(t astroapi.Team) astroapi.Team {
	t.WorkspaceRoles = slices.Clone(t.WorkspaceRoles)
	t.DeploymentRoles = slices.Clone(t.DeploymentRoles)
	t.DagRoles = slices.Clone(t.DagRoles)
	return t
}

var errNotFound = errors.New("404 Not Found")

func (f *fakeStore) checkOrg(o string) error {
	if o != org {
		return fmt.Errorf("organization %s: %w", o, errNotFound)
	}
	return nil
}

// get serves a GET of id through read (called with the lock held).
func (f *fakeStore) get(ctx context.Context, o, id string, read func() bool) error {
	if f.beforeGet != nil {
		f.beforeGet(ctx, id)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.checkOrg(o); err != nil {
		return err
	}
	f.mu.Lock()
	f.gets[id]++
	f.log = append(f.log, "GET "+id)
	ok := read()
	err := f.getErr[id]
	f.mu.Unlock()
	if f.afterGet != nil {
		f.afterGet(id)
	}
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("subject %s: %w", id, errNotFound)
	}
	return nil
}

// set serves a POST of id's roles through write (called with the lock
// held; it reports whether id exists and why the body is refused).
func (f *fakeStore) set(ctx context.Context, o, id string, write func() (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.checkOrg(o); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets[id]++
	f.log = append(f.log, "SET "+id)
	if err := f.setErr[id]; err != nil {
		return err
	}
	ok, err := write()
	if !ok {
		return fmt.Errorf("subject %s: %w", id, errNotFound)
	}
	return err
}

func (f *fakeStore) Token(ctx context.Context, o, id string) (astroapi.Token, error) {
	var t astroapi.Token
	err := f.get(ctx, o, id, func() (ok bool) {
		t, ok = f.tokens[id]
		t = cloneToken(t)
		return ok
	})
	if err != nil {
		return astroapi.Token{}, err
	}
	return t, nil
}

func (f *fakeStore) SetTokenRoles(ctx context.Context, o, id string, roles []astroapi.Role) (astroapi.SubjectRoles, error) {
	return astroapi.SubjectRoles{}, f.set(ctx, o, id, func() (bool, error) {
		t, ok := f.tokens[id]
		if !ok {
			return false, nil
		}
		if len(roles) == 0 {
			return true, errors.New("400 Bad Request: roles must have at least 1 item")
		}
		t.Roles = slices.Clone(roles)
		f.tokens[id] = t
		return true, nil
	})
}

func (f *fakeStore) User(ctx context.Context, o, id string) (astroapi.User, error) {
	var u astroapi.User
	err := f.get(ctx, o, id, func() (ok bool) {
		u, ok = f.users[id]
		u = cloneUser(u)
		return ok
	})
	if err != nil {
		return astroapi.User{}, err
	}
	return u, nil
}

func (f *fakeStore) SetUserRoles(ctx context.Context, o, id string, r astroapi.UpdateUserRolesRequest) (astroapi.SubjectRoles, error) {
	return astroapi.SubjectRoles(r), f.set(ctx, o, id, func() (bool, error) {
		u, ok := f.users[id]
		if !ok {
			return false, nil
		}
		if r.OrganizationRole == "" && len(r.WorkspaceRoles)+len(r.DeploymentRoles) > 0 {
			return true, errors.New("400 Bad Request: deploymentRoles requires an organizationRole")
		}
		u.OrganizationRole = r.OrganizationRole
		u.WorkspaceRoles = slices.Clone(r.WorkspaceRoles)
		u.DeploymentRoles = slices.Clone(r.DeploymentRoles)
		u.DagRoles = slices.Clone(r.DagRoles)
		f.users[id] = u
		return true, nil
	})
}

func (f *fakeStore) Team(ctx context.Context, o, id string) (astroapi.Team, error) {
	var t astroapi.Team
	err := f.get(ctx, o, id, func() (ok bool) {
		t, ok = f.teams[id]
		t = cloneTeam(t)
		return ok
	})
	if err != nil {
		return astroapi.Team{}, err
	}
	return t, nil
}

func (f *fakeStore) SetTeamRoles(ctx context.Context, o, id string, r astroapi.UpdateTeamRolesRequest) (astroapi.SubjectRoles, error) {
	return astroapi.SubjectRoles(r), f.set(ctx, o, id, func() (bool, error) {
		t, ok := f.teams[id]
		if !ok {
			return false, nil
		}
		if r.OrganizationRole == "" {
			return true, errors.New("400 Bad Request: organizationRole is required")
		}
		t.OrganizationRole = r.OrganizationRole
		t.WorkspaceRoles = slices.Clone(r.WorkspaceRoles)
		t.DeploymentRoles = slices.Clone(r.DeploymentRoles)
		t.DagRoles = slices.Clone(r.DagRoles)
		f.teams[id] = t
		return true, nil
	})
}

// listed returns the values of m sorted by id, with the count of a list.
func listed[T any](f *fakeStore, m map[string]T, keep func(T) bool, clone func(T) T) []T {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range m {
			if !yield(id) {
				return
			}
		}
	})
	var out []T
	for _, id := range ids {
		if keep(m[id]) {
			out = append(out, clone(m[id]))
		}
	}
	return out
}

func (f *fakeStore) Tokens(_ context.Context, o string, flt astroapi.TokenFilter) ([]astroapi.Token, error) {
	if err := f.checkOrg(o); err != nil {
		return nil, err
	}
	return listed(f, f.tokens, func(t astroapi.Token) bool {
		return flt.WorkspaceID == "" || slices.ContainsFunc(t.Roles, func(r astroapi.Role) bool {
			return r.EntityType == astroapi.EntityWorkspace && r.EntityID == flt.WorkspaceID
		})
	}, cloneToken), nil
}

func (f *fakeStore) Users(_ context.Context, o string, flt astroapi.UserFilter) ([]astroapi.User, error) {
	if err := f.checkOrg(o); err != nil {
		return nil, err
	}
	return listed(f, f.users, func(u astroapi.User) bool {
		return flt.WorkspaceID == "" || slices.ContainsFunc(u.WorkspaceRoles, func(w astroapi.WorkspaceRole) bool { return w.WorkspaceID == flt.WorkspaceID })
	}, cloneUser), nil
}

func (f *fakeStore) Teams(_ context.Context, o string, flt astroapi.TeamFilter) ([]astroapi.Team, error) {
	if err := f.checkOrg(o); err != nil {
		return nil, err
	}
	return listed(f, f.teams, func(t astroapi.Team) bool {
		return flt.WorkspaceID == "" || slices.ContainsFunc(t.WorkspaceRoles, func(w astroapi.WorkspaceRole) bool { return w.WorkspaceID == flt.WorkspaceID })
	}, cloneTeam), nil
}

// modify changes a stored token, as another writer would.
func (f *fakeStore) modify(id string, change func(*astroapi.Token)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := cloneToken(f.tokens[id])
	change(&t)
	f.tokens[id] = t
}

// modifyUser changes a stored user, as another writer would.
func (f *fakeStore) modifyUser(id string, change func(*astroapi.User)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := cloneUser(f.users[id])
	change(&u)
	f.users[id] = u
}

// snapshot returns every subject as a list would: tokens, users, teams,
// each sorted by id.
func (f *fakeStore) snapshot() []Subject {
	ctx := context.Background()
	tokens, _ := f.Tokens(ctx, org, astroapi.TokenFilter{})
	users, _ := f.Users(ctx, org, astroapi.UserFilter{})
	teams, _ := f.Teams(ctx, org, astroapi.TeamFilter{})
	f.mu.Lock()
	f.lists -= 3 // a test's look, not a call of the code under test
	f.mu.Unlock()
	return slices.Concat(convert(tokens, TokenSubject), convert(users, UserSubject), convert(teams, TeamSubject))
}

func (f *fakeStore) role(id string) []astroapi.Role {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tokens[id].Roles)
}

func (f *fakeStore) user(id string) astroapi.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return cloneUser(f.users[id])
}

func (f *fakeStore) team(id string) astroapi.Team {
	f.mu.Lock()
	defer f.mu.Unlock()
	return cloneTeam(f.teams[id])
}

func (f *fakeStore) calls() (gets, sets map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return nonZero(f.gets), nonZero(f.sets)
}

func (f *fakeStore) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

func nonZero(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// subjectIDs are the ids of subjects, sorted.
func subjectIDs(ss []Subject) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	slices.SortFunc(out, strings.Compare)
	return out
}
