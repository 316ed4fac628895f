package policy

import (
	"cmp"
	"iter"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/tokensync/tokensync/spec"
)

// Violation is one rule found true on a grant or a scope.
type Violation struct {
	Rule        string
	Description string
	// RulePos is the position of the rule's entry.
	RulePos spec.Pos
	On      spec.Condition
	Scope   *Scope
	// Subject, Role and Via are the grant's; nil and zero for a scope
	// rule.
	Subject *Subject
	Role    Role
	Via     Via
	// Source is the spec entry that writes the grant; zero when no spec
	// file does, and for a scope rule.
	Source spec.Pos
	// Err says the rule could not be evaluated here (an error, or its cost
	// limit reached); "" when it was, and was true.
	Err string
	// Why says why a scope rule holds here: the values of the parts of its
	// expression that read grants (`grants.filter(…).size() = 4`), as
	// evaluated; "" for a grant rule, or when no such part was evaluated.
	Why string
}

// Check evaluates every rule of s over a at time now and returns the
// violations, sorted by rule name, scope, subject, via and role: the same
// inputs give the same list.
//
// Rules are taken in the order of their names, and the grants in the
// order of their violations (the index Build made), so that violations
// come out sorted. A grant rule's leaves (see split) are decided once per
// value of the variable they read, and once for every rule with a leaf of
// the same text; a scope rule's grants are made a CEL list once per scope,
// and only for a scope some rule reads them on, and a part of it that
// reads only grants once per list (see sharedParts).
func (s *Set) Check(a Access, now time.Time) []Violation {
	if s == nil || len(s.Rules) == 0 {
		return nil
	}
	ix := a.ix
	if !ix.valid(a) {
		ix = newIndex(a)
	}
	c := &checker{a: a, ix: ix, vars: &activation{now: types.Timestamp{Time: now}, objs: newObjects(ix),
		parts: &parts{vals: map[partKey]ref.Val{}}}, errMsgs: []string{""}, whys: []string{""}}
	rules := slices.Clone(s.Rules)
	slices.SortStableFunc(rules, func(a, b *Rule) int { return strings.Compare(a.Name, b.Name) })
	c.rules = rules
	var resort [][2]int // ranges of hits of rules sharing a name
	for i := 0; i < len(rules); {
		j, start := i+1, c.hits.len()
		for j < len(rules) && rules[j].Name == rules[i].Name {
			j++
		}
		for n := i; n < j; n++ {
			if rules[n].On == spec.ConditionScope {
				c.scopeRule(rules[n], int32(n))
			} else {
				c.grantRule(rules[n], int32(n))
			}
		}
		if j-i > 1 {
			resort = append(resort, [2]int{start, c.hits.len()})
		}
		i = j
	}
	if c.hits.len() == 0 {
		return nil
	}
	out := make([]Violation, c.hits.len())
	for i, h := range c.hits.all() {
		r, err := rules[h.rule], c.errMsgs[h.err]
		if r.On == spec.ConditionScope {
			out[i] = Violation{Rule: r.Name, Description: r.Description, RulePos: r.Pos, On: r.On, Scope: c.sorted[h.at], Err: err, Why: c.whys[h.why]}
			continue
		}
		setGrantViolation(&out[i], r, &a.Grants[ix.order[h.at]], err)
	}
	for _, rg := range resort {
		slices.SortStableFunc(out[rg[0]:rg[1]], compareViolation)
	}
	return out
}

// hit is a violation before it is made one: rule (in checker.rules) true,
// or in error (errMsgs[err]), on the grant at ix.order[at], or on the
// scope sorted[at], and why (whys[why]). It holds no pointer: the collector skips the hits.
type hit struct{ rule, at, err, why int32 }

// hits are hits in chunks, so that adding one never copies the others:
// a Check can make millions.
type hits struct {
	chunks [][]hit
	n      int
}

// hitsChunk is the number of hits in a chunk.
const hitsChunk = 1 << 16

func (hs *hits) add(h hit) {
	if hs.n%hitsChunk == 0 {
		hs.chunks = append(hs.chunks, make([]hit, 0, hitsChunk))
	}
	last := &hs.chunks[len(hs.chunks)-1]
	*last = append(*last, h)
	hs.n++
}

func (hs *hits) len() int { return hs.n }

// all are the hits in the order added, with their places.
func (hs *hits) all() iter.Seq2[int, hit] {
	return func(yield func(int, hit) bool) {
		i := 0
		for _, ch := range hs.chunks {
			for _, h := range ch {
				if !yield(i, h) {
					return
				}
				i++
			}
		}
	}
}

// The results of a leaf, as kept in its cache.
const (
	unknown int8 = iota // not evaluated yet
	isFalse
	isTrue
	isErr
)

// checker is the state of one Check.
type checker struct {
	a    Access
	ix   *index
	vars *activation
	hits hits
	// rules are the rules by name; errMsgs the errors of hits, "" first.
	rules   []*Rule
	errMsgs []string
	// whys are why scope rules hold where they do (see Rule.why), "" first.
	whys []string
	// cache[l] are the results of leaf l of the rule being checked;
	// shared those of the leaves every rule that has one shares, by key.
	cache  []*leafCache
	shared map[string]*leafCache
	// covered[f] says the rule being checked covers file f (unknown
	// until asked).
	covered []int8
	// byScope are the grants of each scope (by number) as places in
	// ix.order, in the order of Access.Grants; lists their CEL lists, made
	// when first read; sorted the scopes in order.
	byScope [][]int32
	// byFile are the places of the grants written by each file (by
	// number), in order; made when a grant rule with files is checked.
	byFile   [][]int32
	scopeNum map[*Scope]int32
	lists    map[listKey]ref.Val
	sorted   []*Scope
}

// listKey names the list of the grants of a scope that a rule's files
// cover ("" for every grant).
type listKey struct {
	scope int32
	files string
}

// grantRule checks r on every grant, in order.
func (c *checker) grantRule(r *Rule, n int32) {
	c.cache = c.cache[:0]
	for _, l := range r.leaves {
		c.cache = append(c.cache, c.leafCache(l))
	}
	c.startFiles(r)
	// gate are the leaves whose falsity on a scope makes the rule false on
	// every grant there.
	var gate []*leaf
	switch t := r.tree; t.op {
	case opLeaf:
		gate = append(gate, t.leaf)
	case opAnd:
		for _, k := range t.kids {
			if k.op == opLeaf && (k.leaf.class == classScope || k.leaf.class == classConst) {
				gate = append(gate, k.leaf)
			}
		}
	}
	if len(r.files) > 0 {
		// Only the grants of the files r covers; the gate would give what
		// eval gives.
		for _, k := range c.coveredPlaces(r) {
			if res, err := c.eval(r.tree, k); res != isFalse {
				c.hits.add(hit{rule: n, at: k, err: c.errID(err)})
			}
		}
		return
	}
	runs := c.ix.runs
	for run := 0; run+1 < len(runs); run++ {
		lo, hi := runs[run], runs[run+1]
		if c.gated(gate, lo) {
			continue
		}
		for k := lo; k < hi; k++ {
			if res, err := c.eval(r.tree, k); res != isFalse {
				c.hits.add(hit{rule: n, at: k, err: c.errID(err)})
			}
		}
	}
}

// errID is the number of err in errMsgs.
func (c *checker) errID(err string) int32 {
	if err == "" {
		return 0
	}
	if last := len(c.errMsgs) - 1; c.errMsgs[last] == err {
		return int32(last)
	}
	c.errMsgs = append(c.errMsgs, err)
	return int32(len(c.errMsgs) - 1)
}

// whyID is the number in whys of why r holds on the scope of c.vars, 0
// when it is in error (err) or has nothing to say.
func (c *checker) whyID(r *Rule, err string) int32 {
	if err != "" {
		return 0
	}
	why := r.why(c.vars)
	if why == "" {
		return 0
	}
	c.whys = append(c.whys, why)
	return int32(len(c.whys) - 1)
}

// gated says a leaf of gate is false on the scope of the grant at k.
func (c *checker) gated(gate []*leaf, k int32) bool {
	for _, l := range gate {
		if l.class != classScope && l.class != classConst {
			continue
		}
		if res, _ := c.leaf(l, k); res == isFalse {
			return true
		}
	}
	return false
}

// eval decides n on the grant at k: isFalse, isTrue, or isErr and the
// error.
func (c *checker) eval(n *node, k int32) (int8, string) {
	switch n.op {
	case opLeaf:
		return c.leaf(n.leaf, k)
	case opNot:
		res, err := c.eval(n.kids[0], k)
		switch res {
		case isTrue:
			return isFalse, ""
		case isFalse:
			return isTrue, ""
		}
		return res, err
	}
	// && stops on false, || on true; otherwise the error of the first
	// operand as written that has one.
	stop, all := isFalse, isTrue
	if n.op == opOr {
		stop, all = isTrue, isFalse
	}
	errPos, errMsg := -1, ""
	for _, kid := range n.kids {
		res, err := c.eval(kid, k)
		if res == stop {
			return stop, ""
		}
		if res == isErr && (errPos < 0 || kid.pos < errPos) {
			errPos, errMsg = kid.pos, err
		}
	}
	if errPos >= 0 {
		return isErr, errMsg
	}
	return all, ""
}

// leaf decides l on the grant at k, from its cache when l reads one
// variable.
func (c *checker) leaf(l *leaf, k int32) (int8, string) {
	if l.class == classMixed {
		return c.evalLeaf(l, k)
	}
	v := int32(0)
	if l.class != classConst {
		v = c.ix.at[l.class][k]
	}
	cache := c.cache[l.id]
	switch cache.res[v] {
	case unknown:
		res, err := c.evalLeaf(l, k)
		cache.res[v] = res
		if res == isErr {
			if cache.errs == nil {
				cache.errs = map[int32]string{}
			}
			cache.errs[v] = err
		}
		return res, err
	case isErr:
		return isErr, cache.errs[v]
	}
	return cache.res[v], ""
}

// leafCache holds the results of a leaf on each value of its class
// (unknown until evaluated), and the errors among them.
type leafCache struct {
	res  []int8
	errs map[int32]string
}

// leafCache is the cache of l: the one of its key, shared by every rule
// of the Check with a leaf of that key, or its own.
func (c *checker) leafCache(l *leaf) *leafCache {
	if lc := c.shared[l.key]; l.key != "" && lc != nil {
		return lc
	}
	lc := &leafCache{res: make([]int8, c.ix.count(l.class))}
	if l.key != "" {
		if c.shared == nil {
			c.shared = map[string]*leafCache{}
		}
		c.shared[l.key] = lc
	}
	return lc
}

// evalLeaf evaluates l's program on the grant at k.
func (c *checker) evalLeaf(l *leaf, k int32) (int8, string) {
	c.vars.grant, c.vars.at = &c.a.Grants[c.ix.order[k]], k
	out, _, err := l.prg.Eval(c.vars)
	if err != nil {
		return isErr, err.Error()
	}
	b, ok := out.(types.Bool)
	switch {
	case ok && bool(b):
		return isTrue, ""
	case ok:
		return isFalse, ""
	case l.root:
		return isErr, notBool(out)
	}
	return isErr, types.MaybeNoSuchOverloadErr(out).(*types.Err).Error()
}

// startFiles resets the files r covers.
func (c *checker) startFiles(r *Rule) {
	c.covered = c.covered[:0]
	if len(r.files) > 0 {
		c.covered = append(c.covered, make([]int8, len(c.ix.files))...)
	}
}

// covers says r covers the grant at k.
func (c *checker) covers(r *Rule, k int32) bool {
	return c.coversFile(r, c.ix.fileOf[c.ix.src[k]])
}

// coversFile says r covers the grants written by file f.
func (c *checker) coversFile(r *Rule, f int32) bool {
	switch c.covered[f] {
	case isTrue:
		return true
	case isFalse:
		return false
	}
	ok := r.coversFile(c.ix.files[f])
	c.covered[f] = isFalse
	if ok {
		c.covered[f] = isTrue
	}
	return ok
}

// placesInGrants are the places in ix.order of the grants, in the order
// of Access.Grants.
func (c *checker) placesInGrants() []int32 {
	out := make([]int32, len(c.ix.order))
	for k, i := range c.ix.order {
		out[i] = int32(k)
	}
	return out
}

// coveredPlaces are the places of the grants r covers, in order.
func (c *checker) coveredPlaces(r *Rule) []int32 {
	if c.byFile == nil {
		c.byFile = make([][]int32, len(c.ix.files))
		for k := range c.ix.order {
			f := c.ix.fileOf[c.ix.src[k]]
			c.byFile[f] = append(c.byFile[f], int32(k))
		}
	}
	var out []int32
	files := 0
	for f, ks := range c.byFile {
		if len(ks) > 0 && c.coversFile(r, int32(f)) {
			out = append(out, ks...)
			files++
		}
	}
	if files > 1 {
		slices.Sort(out)
	}
	return out
}

// scopeRule checks r on every scope, in order.
func (c *checker) scopeRule(r *Rule, rn int32) {
	if c.sorted == nil {
		c.sorted = slices.Clone(c.a.Scopes)
		slices.SortStableFunc(c.sorted, compareScope)
		c.byScope = make([][]int32, len(c.ix.scopes))
		for _, k := range c.placesInGrants() {
			s := c.ix.at[classScope][k]
			c.byScope[s] = append(c.byScope[s], k)
		}
		c.lists = map[listKey]ref.Val{}
		c.scopeNum = make(map[*Scope]int32, len(c.ix.scopes))
		for i, s := range c.ix.scopes {
			c.scopeNum[s] = int32(i)
		}
	}
	c.startFiles(r)
	c.vars.grant = nil
	for at, sc := range c.sorted {
		n, ok := c.scopeNum[sc]
		if !ok {
			n = -1
		}
		if len(r.files) > 0 && !c.coversAny(r, n) {
			continue
		}
		c.vars.scope = sc
		c.vars.list = func() ref.Val { return c.list(r, n) }
		c.vars.parts.current = func() (ref.Val, listKey) { return c.list(r, n), listKey{scope: n, files: r.filesKey} }
		prg := r.prg
		if r.untracked != nil && c.scopeSize(n) <= r.maxUntracked {
			prg = r.untracked
		}
		if ok, err := evalProgram(prg, c.vars); ok || err != "" {
			c.hits.add(hit{rule: rn, at: int32(at), err: c.errID(err), why: c.whyID(r, err)})
		}
	}
	c.vars.list, c.vars.parts.current = nil, nil
}

// scopeSize is the number of grants of scope n, at least that of any of
// its lists.
func (c *checker) scopeSize(n int32) int {
	if n < 0 {
		return 0
	}
	return len(c.byScope[n])
}

// coversAny says r covers one of the grants of scope n.
func (c *checker) coversAny(r *Rule, n int32) bool {
	if n < 0 {
		return false
	}
	for _, k := range c.byScope[n] {
		if c.covers(r, k) {
			return true
		}
	}
	return false
}

// list is the CEL list of the grants of scope n that r covers, made
// once.
func (c *checker) list(r *Rule, n int32) ref.Val {
	key := listKey{scope: n, files: r.filesKey}
	if l, ok := c.lists[key]; ok {
		return l
	}
	var ks []int32
	if n >= 0 {
		ks = c.byScope[n]
		if len(r.files) > 0 {
			ks = slices.DeleteFunc(slices.Clone(ks), func(k int32) bool { return !c.covers(r, k) })
		}
	}
	var elems []ref.Val
	if len(ks) > 0 {
		elems = c.vars.objs.grants(c.a, ks)
	}
	l := types.NewRefValList(r.adapter, elems)
	c.lists[key] = l
	return l
}

// covers says the rule applies to g: it has no files, or g is written by
// a file matching one.
func (r *Rule) covers(g *Grant) bool {
	if len(r.files) == 0 {
		return true
	}
	return r.coversFile(g.Source.File)
}

// coversFile says a grant written by file (none: "") is one r covers,
// when r has files (spec.MatchFile): a glob matches the file's absolute
// path, cleaned, or any trailing part of it that starts after a '/', so
// that how -f spells the path (from another directory, absolute, with
// "//", "/./" or "..") does not change what a rule covers.
func (r *Rule) coversFile(file string) bool {
	return spec.MatchFile(r.files, file)
}

// eval evaluates r with vars: true, or the error that kept it from being
// decided.
func (r *Rule) eval(vars *activation) (bool, string) {
	return evalProgram(r.prg, vars)
}

// evalProgram evaluates prg with vars, as Rule.eval.
func evalProgram(prg cel.Program, vars *activation) (bool, string) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, err.Error()
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, notBool(out)
	}
	return bool(b), ""
}

func notBool(out ref.Val) string {
	return "the expression gave " + out.Type().TypeName() + ", not a boolean"
}

// setGrantViolation makes *v, zero, the violation of r on g: field by
// field, each pointer written once, which costs less than copying a whole
// Violation while the collector marks.
func setGrantViolation(v *Violation, r *Rule, g *Grant, err string) {
	v.Rule, v.Description, v.RulePos, v.On = r.Name, r.Description, r.Pos, r.On
	v.Scope, v.Subject, v.Role, v.Via, v.Source = g.Scope, g.Subject, g.Role, g.Via, g.Source
	if err != "" {
		v.Err = err
	}
}

func grantViolation(r *Rule, g *Grant, err string) Violation {
	return Violation{Rule: r.Name, Description: r.Description, RulePos: r.Pos, On: r.On, Scope: g.Scope,
		Subject: g.Subject, Role: g.Role, Via: g.Via, Source: g.Source, Err: err}
}

func compareViolation(a, b Violation) int {
	return cmp.Or(
		strings.Compare(a.Rule, b.Rule),
		compareScope(a.Scope, b.Scope),
		compareSubject(a.Subject, b.Subject),
		strings.Compare(a.Via.Kind, b.Via.Kind),
		strings.Compare(a.Via.Team, b.Via.Team),
		strings.Compare(a.Role.Name, b.Role.Name),
		strings.Compare(a.Source.File, b.Source.File),
		cmp.Compare(a.Source.Line, b.Source.Line),
	)
}

// activation resolves the variables of a grant rule (grant set) or of a
// scope rule (scope and grants, or list, set).
type activation struct {
	now    ref.Val
	grant  *Grant
	scope  *Scope
	grants []Grant
	// list, when set, makes grants' list when first read.
	list func() ref.Val
	// objs, when set, gives a grant rule subject, role and via as the
	// objects of the grant at at in the index (grant is that grant).
	objs *objects
	at   int32
	// parts, when set, are the shared parts of a scope rule's program.
	parts *parts
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "now":
		return a.now, true
	case partsName:
		return a.parts, a.grant == nil && a.parts != nil && a.parts.current != nil
	case "grants":
		if a.grant == nil && a.list != nil {
			return a.list(), true
		}
		return a.grants, a.grant == nil
	}
	if a.grant == nil {
		if name == "scope" {
			return a.scope, true
		}
		return nil, false
	}
	switch name {
	case "scope":
		return a.grant.Scope, true
	case "subject":
		if a.objs != nil {
			return a.objs.subjectAt(a.at), true
		}
		return a.grant.Subject, true
	case "role":
		if a.objs != nil {
			return a.objs.roleAt(a.at), true
		}
		return &a.grant.Role, true
	case "via":
		if a.objs != nil {
			return a.objs.viaAt(a.at), true
		}
		return &a.grant.Via, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

func compareSubject(a, b *Subject) int {
	switch {
	case a == nil || b == nil:
		return cmp.Compare(boolRank(a != nil), boolRank(b != nil))
	}
	return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
