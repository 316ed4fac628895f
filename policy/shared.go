package policy

import (
	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// This file shares, between the scope rules of one Check, the value of a
// part of an expression that reads only grants (and now): a walk over a
// scope's grants that several rules write the same way is made once per
// list of grants. CEL is pure, so such a part has one value (or one
// error) per list; it is shared only by programs run without cost
// tracking, on scopes where no rule can reach its cost limit, so that a
// rule's cost is never counted short.

// partsName is the name under which a Check's activation gives its
// shared parts to the programs; no expression can name it.
const partsName = "@policy.parts"

// sharedParts lists the parts of a checked scope rule worth sharing: the
// subexpressions that walk a list (hold a comprehension) and read no
// variable but grants and now and the ones their own comprehensions
// make, named by their text. Nil when there is none. A part within a
// part is one too: rules may share the inner one only
// (grants.filter(...).size() in [1, 2] and in [1, 3]).
func sharedParts(checked *cel.Ast) map[int64]string {
	return partsOf(checked, false)
}

// partsOf is sharedParts, with the whole expression too when root is
// set: a why part (see explain) is one of its rule's parts.
func partsOf(checked *cel.Ast, root bool) map[int64]string {
	native := checked.NativeRep()
	var out map[int64]string
	var visit func(e ast.Expr)
	visit = func(e ast.Expr) {
		if (root || e.ID() != native.Expr().ID()) && hasComprehension(e) && readsGrantsOnly(e) {
			if text, err := cel.ExprToString(e, native.SourceInfo()); err == nil {
				if out == nil {
					out = map[int64]string{}
				}
				out[e.ID()] = text
			}
		}
		for _, k := range children(e) {
			visit(k)
		}
	}
	visit(native.Expr())
	return out
}

// children are the subexpressions of e.
func children(e ast.Expr) []ast.Expr {
	switch e.Kind() {
	case ast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			return append([]ast.Expr{c.Target()}, c.Args()...)
		}
		return c.Args()
	case ast.SelectKind:
		return []ast.Expr{e.AsSelect().Operand()}
	case ast.ListKind:
		return e.AsList().Elements()
	case ast.MapKind:
		var out []ast.Expr
		for _, en := range e.AsMap().Entries() {
			out = append(out, en.AsMapEntry().Key(), en.AsMapEntry().Value())
		}
		return out
	case ast.StructKind:
		var out []ast.Expr
		for _, f := range e.AsStruct().Fields() {
			out = append(out, f.AsStructField().Value())
		}
		return out
	case ast.ComprehensionKind:
		c := e.AsComprehension()
		return []ast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()}
	}
	return nil
}

func hasComprehension(e ast.Expr) bool {
	found := false
	ast.PreOrderVisit(e, ast.NewExprVisitor(func(e ast.Expr) {
		found = found || e.Kind() == ast.ComprehensionKind
	}))
	return found
}

// readsGrantsOnly says e reads grants and no variable but grants, now
// and those of its own comprehensions.
func readsGrantsOnly(e ast.Expr) bool {
	bound := map[string]bool{}
	var idents []string
	ast.PreOrderVisit(e, ast.NewExprVisitor(func(e ast.Expr) {
		switch e.Kind() {
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			bound[c.IterVar()], bound[c.AccuVar()] = true, true
			if v := c.IterVar2(); v != "" {
				bound[v] = true
			}
		case ast.IdentKind:
			idents = append(idents, e.AsIdent())
		}
	}))
	grants := false
	for _, id := range idents {
		switch {
		case id == "grants":
			grants = true
		case id == "now" || bound[id]:
		default:
			return false
		}
	}
	return grants
}

// shareParts is the program option that shares the parts of parts.
func shareParts(parts map[int64]string) cel.ProgramOption {
	return cel.CustomDecoratorV2(func(i interpreter.InterpretableV2) (interpreter.InterpretableV2, error) {
		if key, ok := parts[i.ID()]; ok {
			return &sharedPart{InterpretableV2: i, key: key}, nil
		}
		return i, nil
	})
}

// sharedPart evaluates a part once per list of grants in a Check.
type sharedPart struct {
	interpreter.InterpretableV2
	key string
}

func (p *sharedPart) Exec(f *interpreter.ExecutionFrame) ref.Val {
	return p.value(f, func() ref.Val { return p.InterpretableV2.Exec(f) })
}

func (p *sharedPart) Eval(a interpreter.Activation) ref.Val {
	return p.value(a, func() ref.Val { return p.InterpretableV2.Eval(a) })
}

// value is the part's value on the grants a resolves, from the Check's
// parts when they hold it.
func (p *sharedPart) value(a interpreter.Activation, eval func() ref.Val) ref.Val {
	v, _ := a.ResolveName(partsName)
	ps, ok := v.(*parts)
	if !ok {
		return eval()
	}
	list, key := ps.current()
	if g, ok := a.ResolveName("grants"); !ok || g != any(list) {
		// grants is a comprehension's variable here.
		return eval()
	}
	k := partKey{part: p.key, list: key}
	if val, ok := ps.vals[k]; ok {
		return val
	}
	val := eval()
	ps.vals[k] = val
	return val
}

// parts are the values of the shared parts of one Check, by part and
// list of grants.
type parts struct {
	vals map[partKey]ref.Val
	// current is the list of grants the rule being checked reads, and
	// its key.
	current func() (ref.Val, listKey)
}

type partKey struct {
	part string
	list listKey
}
