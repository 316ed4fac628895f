package policy

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tokensync/tokensync/spec"
)

// index numbers the distinct values of the variables of an Access's
// grants, so that what a rule decides on one value is kept in a slice,
// and orders the grants as Check reports their violations.
type index struct {
	// order are the grants' indexes by scope, subject, via, role and
	// source (compareViolation's order; ties by index).
	order []int32
	// at[c][k] is the number of the value of class c (role, via, scope,
	// subject) of grant order[k]; src[k] the number of its source.
	at  [numClasses][]int32
	src []int32
	// runs are where each run of grants with the same scope starts in
	// order, and len(order).
	runs []int32
	// The values by number.
	subjects []*Subject
	scopes   []*Scope
	roles    []Role
	vias     []Via
	sources  []spec.Pos
	// fileOf is the number of each source's file in files; files[0] is
	// "" (no spec file).
	fileOf []int32
	files  []string
}

// numberer gives each distinct value a number, in the order met.
type numberer[K comparable] struct {
	ids    map[K]int32
	vals   []K
	last   K
	lastID int32
}

func newNumberer[K comparable]() *numberer[K] { return &numberer[K]{ids: map[K]int32{}, lastID: -1} }

func (n *numberer[K]) id(k K) int32 {
	if n.lastID >= 0 && k == n.last {
		return n.lastID
	}
	id, ok := n.ids[k]
	if !ok {
		id = int32(len(n.vals))
		n.ids[k] = id
		n.vals = append(n.vals, k)
	}
	n.last, n.lastID = k, id
	return id
}

// ranks are the places of vals in the order of compare, equal values
// sharing one.
func ranks[K any](vals []K, compare func(a, b K) int) []int32 {
	idx := make([]int32, len(vals))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return compare(vals[a], vals[b]) })
	out := make([]int32, len(vals))
	for i, id := range idx {
		if i > 0 {
			prev := idx[i-1]
			out[id] = out[prev]
			if compare(vals[prev], vals[id]) != 0 {
				out[id]++
			}
		}
	}
	return out
}

// newIndex indexes the grants of a.
func newIndex(a Access) *index {
	n := len(a.Grants)
	var (
		subjects = newNumberer[*Subject]()
		scopes   = newNumberer[*Scope]()
		roles    = newNumberer[Role]()
		vias     = newNumberer[Via]()
		sources  = newNumberer[spec.Pos]()
	)
	type key struct{ scope, subject, via, role, src, grant int32 }
	keys := make([]key, n)
	for i := range a.Grants {
		g := &a.Grants[i]
		keys[i] = key{scopes.id(g.Scope), subjects.id(g.Subject), vias.id(g.Via), roles.id(g.Role), sources.id(g.Source), int32(i)}
	}
	ix := &index{subjects: subjects.vals, scopes: scopes.vals, roles: roles.vals, vias: vias.vals, sources: sources.vals}
	files := newNumberer[string]()
	files.id("")
	ix.fileOf = make([]int32, len(ix.sources))
	for i, s := range ix.sources {
		ix.fileOf[i] = files.id(s.File)
	}
	ix.files = files.vals

	scopeRank := ranks(ix.scopes, compareScope)
	subjectRank := ranks(ix.subjects, compareSubject)
	viaRank := ranks(ix.vias, func(a, b Via) int { return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Team, b.Team)) })
	roleRank := ranks(ix.roles, func(a, b Role) int { return strings.Compare(a.Name, b.Name) })
	srcRank := ranks(ix.sources, func(a, b spec.Pos) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	slices.SortFunc(keys, func(a, b key) int {
		switch {
		case a.scope != b.scope && scopeRank[a.scope] != scopeRank[b.scope]:
			return cmp.Compare(scopeRank[a.scope], scopeRank[b.scope])
		case subjectRank[a.subject] != subjectRank[b.subject]:
			return cmp.Compare(subjectRank[a.subject], subjectRank[b.subject])
		case viaRank[a.via] != viaRank[b.via]:
			return cmp.Compare(viaRank[a.via], viaRank[b.via])
		case roleRank[a.role] != roleRank[b.role]:
			return cmp.Compare(roleRank[a.role], roleRank[b.role])
		case srcRank[a.src] != srcRank[b.src]:
			return cmp.Compare(srcRank[a.src], srcRank[b.src])
		}
		return cmp.Compare(a.grant, b.grant)
	})
	ix.order = make([]int32, n)
	for c := classRole; c <= classSubject; c++ {
		ix.at[c] = make([]int32, n)
	}
	ix.src = make([]int32, n)
	for k, key := range keys {
		ix.order[k] = key.grant
		ix.at[classRole][k], ix.at[classVia][k], ix.at[classScope][k], ix.at[classSubject][k] = key.role, key.via, key.scope, key.subject
		ix.src[k] = key.src
		if k == 0 || key.scope != keys[k-1].scope {
			ix.runs = append(ix.runs, int32(k))
		}
	}
	ix.runs = append(ix.runs, int32(n))
	return ix
}

// valid says ix indexes the grants of a as they are now: Access's fields
// can be changed after Build.
func (ix *index) valid(a Access) bool {
	if ix == nil || len(ix.order) != len(a.Grants) {
		return false
	}
	for k, i := range ix.order {
		g := &a.Grants[i]
		if g.Scope != ix.scopes[ix.at[classScope][k]] || g.Subject != ix.subjects[ix.at[classSubject][k]] ||
			g.Role != ix.roles[ix.at[classRole][k]] || g.Via != ix.vias[ix.at[classVia][k]] || g.Source != ix.sources[ix.src[k]] {
			return false
		}
	}
	return true
}

// count is the number of distinct values of class c.
func (ix *index) count(c class) int {
	switch c {
	case classRole:
		return len(ix.roles)
	case classVia:
		return len(ix.vias)
	case classScope:
		return len(ix.scopes)
	case classSubject:
		return len(ix.subjects)
	}
	return 1
}
