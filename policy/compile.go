package policy

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// Limits that keep a rule from running away.
const (
	// MaxExprSize is the most code points an expression may have.
	MaxExprSize = 16 << 10
	// MaxCost is the most a rule may cost on one grant or scope, in CEL's
	// cost units (about one per operation, per list element visited):
	// enough for a few passes over the grants of a large scope, not for a
	// loop nested in a loop over them.
	MaxCost = 10_000_000
)

// The CEL names of the variables' types.
const (
	typeSubject = "policy.Subject"
	typeScope   = "policy.Scope"
	typeGrant   = "policy.Grant"
	typeRole    = "policy.Role"
	typeVia     = "policy.Via"
)

// SeesMembers says some rule of s can tell a team's members from the team,
// so that its members must be read (one request per team) before Build.
func (s *Set) SeesMembers() bool {
	for _, r := range s.Rules {
		if r.SeesMembers {
			return true
		}
	}
	return false
}

// RatesRoles says some rule of s may read a role's access (it reads role
// or grants), so that the permissions of the custom roles held must be
// read before Build rates them.
func (s *Set) RatesRoles() bool {
	for _, r := range s.Rules {
		if r.ratesRoles {
			return true
		}
	}
	return false
}

// readsIdent says e reads one of names anywhere, bound by a comprehension
// or not: a rule that names one may read it.
func readsIdent(e ast.Expr, names ...string) bool {
	found := false
	ast.PreOrderVisit(e, ast.NewExprVisitor(func(e ast.Expr) {
		found = found || e.Kind() == ast.IdentKind && slices.Contains(names, e.AsIdent())
	}))
	return found
}

// seesMembers says e reads subject, via or grants, the variables through
// which a rule sees the members of a team (a member's grants have the
// user as subject and the team as via), where no comprehension of e binds
// the name; bound are the names bound around e.
func seesMembers(e ast.Expr, bound []string) bool {
	if e.Kind() == ast.IdentKind {
		switch name := e.AsIdent(); name {
		case "subject", "via", "grants":
			return !slices.Contains(bound, name)
		}
		return false
	}
	if e.Kind() != ast.ComprehensionKind {
		for _, k := range children(e) {
			if seesMembers(k, bound) {
				return true
			}
		}
		return false
	}
	c := e.AsComprehension()
	inLoop := append(slices.Clip(bound), c.IterVar(), c.AccuVar())
	if v := c.IterVar2(); v != "" {
		inLoop = append(inLoop, v)
	}
	return seesMembers(c.IterRange(), bound) || seesMembers(c.AccuInit(), bound) ||
		seesMembers(c.LoopCondition(), inLoop) || seesMembers(c.LoopStep(), inLoop) ||
		seesMembers(c.Result(), append(slices.Clip(bound), c.AccuVar()))
}

// Rule is one compiled policy.
type Rule struct {
	Name        string
	Description string
	On          spec.Condition
	// Pos is the position of the policy's entry.
	Pos spec.Pos
	// SeesMembers says the rule can tell a team's members from the team:
	// it reads subject, via or grants (see seesMembers).
	SeesMembers bool
	// ratesRoles says the rule reads role or grants, through which it may
	// read a role's access.
	ratesRoles bool
	files      []spec.Glob
	prg        cel.Program
	// filesKey are the files joined, to share the lists of grants of
	// scope rules with the same files.
	filesKey string
	// tree and leaves are a grant rule's expression split (see split).
	tree    *node
	leaves  []*leaf
	adapter types.Adapter
	// untracked is a scope rule's program without cost tracking, for the
	// scopes of at most maxUntracked grants, on which its estimated cost
	// stays within MaxCost (see maxGrantsUntracked); nil when none. It
	// shares the parts that read only grants with the other rules of a
	// Check (see sharedParts).
	untracked    cel.Program
	maxUntracked int
	// whyParts are a scope rule's parts that say why it holds (see why);
	// nil when none.
	whyParts []whyPart
}

// Set is the compiled rules of a spec, in the order written.
type Set struct {
	Rules []*Rule
	// Notes are what Load found worth a warning but no error, in the
	// order of the rules: a rule whose files match none of the spec files
	// read.
	Notes []sync.Note
}

// envs are the CEL environments of grant rules and of scope rules.
type envs struct{ grant, scope *cel.Env }

func newEnvs() (envs, error) { return makeEnvs(true) }

// makeEnvs makes the environments; with objects, their provider reads
// objects (see provider), else it is ext.NativeTypes' alone; in both, an
// absent field is read as an error (see absentProvider).
func makeEnvs(objects bool) (envs, error) {
	common := []cel.EnvOption{
		nativeTypes(),
		withAbsent,
		func(e *cel.Env) (*cel.Env, error) {
			if !objects {
				return e, nil
			}
			return cel.CustomTypeProvider(provider{e.CELTypeProvider()})(e)
		},
		ext.Strings(),
		ext.Lists(),
		cel.ParserExpressionSizeLimit(MaxExprSize),
		// Keeps the macros as written, for the text of shared parts.
		cel.EnableMacroCallTracking(),
		cel.Variable("scope", cel.ObjectType(typeScope)),
		cel.Variable("now", cel.TimestampType),
	}
	grant, err := cel.NewEnv(append(common,
		cel.Variable("subject", cel.ObjectType(typeSubject)),
		cel.Variable("role", cel.ObjectType(typeRole)),
		cel.Variable("via", cel.ObjectType(typeVia)),
	)...)
	if err != nil {
		return envs{}, err
	}
	scope, err := cel.NewEnv(append(common, cel.Variable("grants", cel.ListType(cel.ObjectType(typeGrant))))...)
	if err != nil {
		return envs{}, err
	}
	return envs{grant, scope}, nil
}

// MaxString is the size of a string the cost estimate assumes: a name, an
// id, a role. Lists (grants) have no such bound.
const MaxString = 1024

// estimator bounds the size of strings for the cost estimate, so that a
// rule whose cost is bounded by its expression runs without tracking;
// with grants set, it bounds the size of the variable grants too.
type estimator struct {
	grants uint64
	sized  bool
}

func (e estimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if n.Type().IsExactType(types.StringType) {
		return &cost.SizeEstimate{Min: 0, Max: MaxString}
	}
	if p := n.Path(); e.sized && len(p) == 1 && p[0] == "grants" {
		return &cost.SizeEstimate{Min: 0, Max: e.grants}
	}
	return nil
}

// maxGrantsUntracked is a number of grants, close to the most, up to
// which r's cost, as estimated, stays within MaxCost: on a scope with no
// more, the rule cannot reach the limit and runs without tracking. -1 when
// even no grants do not bound it.
func maxGrantsUntracked(env *cel.Env, checked *cel.Ast) int {
	within := func(n uint64) bool {
		est, err := env.EstimateCost(checked, estimator{grants: n, sized: true})
		return err == nil && est.Max <= MaxCost
	}
	if !within(0) {
		return -1
	}
	// Double, then halve the gap a few times: within 1/32 of the most.
	const most = 1 << 31
	lo, hi := uint64(0), uint64(1) // within(lo), and hi untried
	for within(hi) {
		if hi >= most {
			return most
		}
		lo, hi = hi, hi*2
	}
	for range 5 {
		mid := lo + (hi-lo)/2
		if within(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return int(lo)
}

func (estimator) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	return nil
}

// Compile compiles policies. A non-nil error is a spec.ErrorList, every
// rule that does not compile at the position in its expression that CEL
// gives, sorted by position.
func Compile(policies []spec.Policy) (*Set, error) {
	e, err := newEnvs()
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var (
		set  Set
		errs spec.ErrorList
	)
	for _, p := range policies {
		r, perrs := compile(e, p)
		errs = append(errs, perrs...)
		if r != nil {
			set.Rules = append(set.Rules, r)
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return &set, nil
}

// Load reads the spec files and policy files (spec.LoadAll) and compiles
// the policies. Expressions that do not compile are reported with the
// files' other errors, every error at once.
func Load(ctx context.Context, paths, policyFiles []string, stdin io.Reader) (*spec.Spec, *Set, error) {
	var set *Set
	ld := spec.Loader{CheckPolicies: func(ps []spec.Policy) (err error) {
		set, err = Compile(ps)
		return err
	}}
	sp, err := ld.LoadAll(ctx, paths, policyFiles, stdin)
	if err != nil {
		return nil, nil, err
	}
	if set == nil { // no policies
		set = &Set{}
	}
	set.Notes = filesNotes(set.Rules, sp.Files)
	return sp, set, nil
}

// maxNotedFiles is the most spec files a note on a rule's files names.
const maxNotedFiles = 5

// filesNotes are notes on the rules with files that match none of the
// spec files read (files, as given): such a rule checks no grant, most
// likely because -f spells the path another way than the glob.
func filesNotes(rules []*Rule, files []string) []sync.Note {
	var notes []sync.Note
	for _, r := range rules {
		if len(r.files) == 0 || slices.ContainsFunc(files, r.coversFile) {
			continue
		}
		globs := make([]string, len(r.files))
		for i, g := range r.files {
			globs[i] = strconv.Quote(string(g))
		}
		read := "none"
		if len(files) > 0 {
			read = strings.Join(files[:min(len(files), maxNotedFiles)], ", ")
			if len(files) > maxNotedFiles {
				read += fmt.Sprintf(" and %d more", len(files)-maxNotedFiles)
			}
		}
		notes = append(notes, sync.Note{Pos: r.Pos, Msg: fmt.Sprintf("policy %q: files %s match none of the %d spec file(s) read (%s): the rule checks no grant",
			spec.Clip(r.Name), strings.Join(globs, ", "), len(files), read)})
	}
	return notes
}

// compile compiles one policy, or returns why it does not compile.
func compile(e envs, p spec.Policy) (*Rule, spec.ErrorList) {
	env := e.grant
	if p.On == spec.ConditionScope {
		env = e.scope
	}
	prefix := fmt.Sprintf("policy %q: %s: ", spec.Clip(p.Name), p.On)
	ast, iss := env.Compile(p.Expr.Text)
	if iss.Err() != nil {
		var errs spec.ErrorList
		for _, ce := range iss.Errors() {
			pos := p.Expr.Pos
			if loc := ce.Location; loc != nil && loc.Line() > 0 {
				pos = p.Expr.At(loc.Line(), loc.Column()+1)
			}
			errs = append(errs, &spec.Error{Pos: pos, Msg: prefix + ce.Message})
		}
		return nil, errs
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return nil, spec.ErrorList{{Pos: p.Expr.Pos, Msg: prefix + "must be a boolean (true is a violation), got " + ast.OutputType().String()}}
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	tracked := false
	if est, err := env.EstimateCost(ast, estimator{}); err != nil || est.Max > MaxCost {
		// The cost is not bounded by the expression alone (it walks grants):
		// track it and stop at MaxCost.
		opts = append(opts, cel.CostLimit(MaxCost))
		tracked = true
	}
	prg, err := env.Program(ast, opts...)
	if err != nil {
		return nil, spec.ErrorList{{Pos: p.Expr.Pos, Msg: prefix + err.Error()}}
	}
	r := &Rule{Name: p.Name, Description: p.Description, On: p.On, Pos: p.Pos, prg: prg, adapter: env.CELTypeAdapter(),
		SeesMembers: seesMembers(ast.NativeRep().Expr(), nil), ratesRoles: readsIdent(ast.NativeRep().Expr(), "role", "grants")}
	var keys []string
	for _, f := range p.Files {
		r.files = append(r.files, spec.Glob(f.Glob))
		keys = append(keys, f.Glob)
	}
	r.filesKey = strings.Join(keys, "\x00")
	if p.On == spec.ConditionScope && tracked {
		if r.maxUntracked = maxGrantsUntracked(env, ast); r.maxUntracked >= 0 {
			popts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
			if parts := sharedParts(ast); parts != nil {
				popts = append(popts, shareParts(parts))
			}
			if r.untracked, err = env.Program(ast, popts...); err != nil {
				return nil, spec.ErrorList{{Pos: p.Expr.Pos, Msg: prefix + err.Error()}}
			}
		}
	}
	if p.On == spec.ConditionScope {
		if err := r.explain(env, ast); err != nil {
			return nil, spec.ErrorList{{Pos: p.Expr.Pos, Msg: prefix + err.Error()}}
		}
	}
	if p.On != spec.ConditionScope {
		if r.tree, err = split(env, ast, prg, tracked); err != nil {
			return nil, spec.ErrorList{{Pos: p.Expr.Pos, Msg: prefix + err.Error()}}
		}
		r.leaves = leavesOf(r.tree, nil)
	}
	return r, nil
}
