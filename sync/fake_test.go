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

// fakeStore is an in-memory TokenStore: it stores role lists, counts the
// calls per token, logs them in order, and can inject errors, hooks and
// concurrent modifications. Like the API, it refuses an empty role list.
type fakeStore struct {
	mu     gosync.Mutex
	tokens map[string]astroapi.Token
	gets   map[string]int
	sets   map[string]int
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
		gets:   make(map[string]int),
		sets:   make(map[string]int),
		getErr: make(map[string]error),
		setErr: make(map[string]error),
	}
	for _, t := range tokens {
		t.Roles = slices.Clone(t.Roles)
		f.tokens[t.ID] = t
	}
	return f
}

var errNotFound = errors.New("404 Not Found")

func (f *fakeStore) Token(ctx context.Context, id string) (astroapi.Token, error) {
	if f.beforeGet != nil {
		f.beforeGet(ctx, id)
	}
	if err := ctx.Err(); err != nil {
		return astroapi.Token{}, err
	}
	f.mu.Lock()
	f.gets[id]++
	f.log = append(f.log, "GET "+id)
	t, ok := f.tokens[id]
	err := f.getErr[id]
	f.mu.Unlock()
	if f.afterGet != nil {
		f.afterGet(id)
	}
	switch {
	case err != nil:
		return astroapi.Token{}, err
	case !ok:
		return astroapi.Token{}, fmt.Errorf("token %s: %w", id, errNotFound)
	}
	t.Roles = slices.Clone(t.Roles)
	return t, nil
}

func (f *fakeStore) SetRoles(ctx context.Context, id string, roles []astroapi.Role) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets[id]++
	f.log = append(f.log, "SET "+id)
	if err := f.setErr[id]; err != nil {
		return err
	}
	t, ok := f.tokens[id]
	if !ok {
		return fmt.Errorf("token %s: %w", id, errNotFound)
	}
	if len(roles) == 0 {
		return errors.New("400 Bad Request: roles must have at least 1 item")
	}
	t.Roles = slices.Clone(roles)
	f.tokens[id] = t
	return nil
}

// modify changes a stored token, as another writer would.
func (f *fakeStore) modify(id string, change func(*astroapi.Token)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tokens[id]
	t.Roles = slices.Clone(t.Roles)
	change(&t)
	f.tokens[id] = t
}

// snapshot returns every token, sorted by id, as a list would.
func (f *fakeStore) snapshot() []astroapi.Token {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]astroapi.Token, 0, len(f.tokens))
	for _, t := range f.tokens {
		t.Roles = slices.Clone(t.Roles)
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b astroapi.Token) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (f *fakeStore) role(id string) []astroapi.Role {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tokens[id].Roles)
}

func (f *fakeStore) calls() (gets, sets map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps(f.gets), maps(f.sets)
}

func (f *fakeStore) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}
