package policy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/parser"
)

// whyPart is a part of a scope rule's expression whose value says why the
// rule holds on a scope: its text, and a program that evaluates it alone.
type whyPart struct {
	text string
	prg  cel.Program
}

// maxWhyText is the most characters of a part's text a violation shows.
const maxWhyText = 120

// whyExprs are the parts of a scope rule's expression that say why it
// holds: under its &&, ||, ! and ?:, each condition that reads grants
// or, of a comparison, each side that reads grants (the count of admins,
// not the comparison of that count). None when no condition reads grants.
// A part is never under a comprehension, so it reads only the rule's
// variables.
func whyExprs(e ast.Expr) []ast.Expr {
	if !readsGrants(e) {
		return nil
	}
	if e.Kind() != ast.CallKind {
		return []ast.Expr{e}
	}
	c := e.AsCall()
	var out []ast.Expr
	switch c.FunctionName() {
	case operators.LogicalAnd, operators.LogicalOr, operators.LogicalNot, operators.NotStrictlyFalse, operators.Conditional:
		for _, a := range c.Args() {
			out = append(out, whyExprs(a)...)
		}
	case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals,
		operators.Greater, operators.GreaterEquals, operators.In:
		for _, a := range c.Args() {
			if readsGrants(a) {
				out = append(out, a)
			}
		}
	default:
		out = append(out, e)
	}
	return out
}

// readsGrants says e reads the variable grants.
func readsGrants(e ast.Expr) bool {
	found := false
	ast.PreOrderVisit(e, ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() == ast.IdentKind && e.AsIdent() == "grants" {
			found = true
		}
	}))
	return found
}

// explain makes what why needs of a scope rule: a program for each of its
// why parts, compiled from the part's text, that takes the values of the
// parts it shares with the rule (see sharedParts) from the Check: a walk
// over the scope's grants that the rule made is not made again. A program
// that kept the value of every node of the rule's (OptTrackState) cost
// thirty times the whole Check of the scope rules on a large
// organization.
func (r *Rule) explain(env *cel.Env, checked *cel.Ast) error {
	native := checked.NativeRep()
	for _, e := range whyExprs(native.Expr()) {
		text, err := parser.Unparse(e, native.SourceInfo())
		if err != nil {
			continue
		}
		part, iss := env.Compile(text)
		if iss.Err() != nil {
			continue
		}
		opts := []cel.ProgramOption{cel.CostLimit(MaxCost)}
		if shared := partsOf(part, true); shared != nil {
			opts = append(opts, shareParts(shared))
		}
		prg, err := env.Program(part, opts...)
		if err != nil {
			return err
		}
		r.whyParts = append(r.whyParts, whyPart{text: clip(text, maxWhyText), prg: prg})
	}
	return nil
}

// why says why r, a scope rule true with vars, holds: the value of each of
// its why parts there ("" when it has none); a part that cannot be
// evaluated there is left out.
func (r *Rule) why(vars *activation) string {
	var parts []string
	for _, p := range r.whyParts {
		v, _, err := p.prg.Eval(vars)
		if err != nil || types.IsError(v) {
			continue
		}
		parts = append(parts, p.text+" = "+whyValue(v))
	}
	return strings.Join(parts, "; ")
}

// maxWhyElems is the most elements of a list a violation shows.
const maxWhyElems = 5

// whyValue is a value as a violation shows it: a number, a boolean, a
// quoted string, a list of those (its first elements) or the size of
// another list.
func whyValue(v ref.Val) string {
	switch v := v.(type) {
	case types.Int, types.Uint, types.Double, types.Bool:
		return fmt.Sprint(v.Value())
	case types.String:
		return strconv.Quote(clip(string(v), maxWhyText))
	case traits.Lister:
		n, ok := v.Size().(types.Int)
		if !ok {
			break
		}
		elems := make([]string, 0, min(int(n), maxWhyElems))
		for i := range min(int(n), maxWhyElems) {
			e := v.Get(types.Int(i))
			switch e.(type) {
			case types.Int, types.Uint, types.Double, types.Bool, types.String:
				elems = append(elems, whyValue(e))
			default:
				return fmt.Sprintf("a list of %d", n)
			}
		}
		if int(n) > maxWhyElems {
			elems = append(elems, fmt.Sprintf("and %d more", int(n)-maxWhyElems))
		}
		return "[" + strings.Join(elems, ", ") + "]"
	}
	return v.Type().TypeName()
}

// clip cuts s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
