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
// rule holds on a scope: its id in the checked expression, and its text.
type whyPart struct {
	id   int64
	text string
}

// maxWhyText is the most characters of a part's text a violation shows.
const maxWhyText = 120

// whyParts are the parts of a scope rule's expression that say why it
// holds: under its &&, ||, ! and ?:, each condition that reads grants
// or, of a comparison, each side that reads grants (the count of admins,
// not the comparison of that count). None when no condition reads grants.
func whyParts(checked *cel.Ast) []whyPart {
	native := checked.NativeRep()
	var out []whyPart
	add := func(e ast.Expr) {
		text, err := parser.Unparse(e, native.SourceInfo())
		if err != nil {
			return
		}
		out = append(out, whyPart{id: e.ID(), text: clip(text, maxWhyText)})
	}
	var walk func(e ast.Expr)
	walk = func(e ast.Expr) {
		if !readsGrants(e) {
			return
		}
		if e.Kind() != ast.CallKind {
			add(e)
			return
		}
		c := e.AsCall()
		switch c.FunctionName() {
		case operators.LogicalAnd, operators.LogicalOr, operators.LogicalNot, operators.NotStrictlyFalse, operators.Conditional:
			for _, a := range c.Args() {
				walk(a)
			}
		case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals,
			operators.Greater, operators.GreaterEquals, operators.In:
			for _, a := range c.Args() {
				if readsGrants(a) {
					add(a)
				}
			}
		default:
			add(e)
		}
	}
	walk(native.Expr())
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

// explain makes what why needs of a scope rule: its why parts and, when
// it has any, a program that keeps the values of its parts.
func (r *Rule) explain(env *cel.Env, checked *cel.Ast) error {
	if r.whyParts = whyParts(checked); len(r.whyParts) == 0 {
		return nil
	}
	var err error
	r.tracking, err = env.Program(checked, cel.EvalOptions(cel.OptTrackState), cel.CostLimit(MaxCost))
	return err
}

// why says why r, a scope rule true with vars, holds: each of its why
// parts that was evaluated, with its value ("" when none).
func (r *Rule) why(vars *activation) string {
	if r.tracking == nil {
		return ""
	}
	_, det, err := r.tracking.Eval(vars)
	if err != nil || det == nil {
		return ""
	}
	var parts []string
	for _, p := range r.whyParts {
		if v, ok := det.State().Value(p.id); ok {
			parts = append(parts, p.text+" = "+whyValue(v))
		}
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
