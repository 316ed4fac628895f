package policy

import (
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// This file splits a grant rule into parts that can be decided once per
// distinct subject, scope, role or via instead of once per grant.
//
// A rule's expression is a tree of &&, || and ! over boolean
// subexpressions, the leaves. CEL decides && and || whatever the order of
// their operands: && is false when one operand is false, else the error of
// the first operand (in the order written) that has one, else true; || is
// the same with true and false swapped; ! keeps an error. So the leaves
// can be evaluated in any order, each as its own program, and a leaf that
// reads one variable (and now, the same for a whole Check) gives the same
// result for every grant with the same value of that variable.

// class is what a leaf reads, in the order the leaves are evaluated: the
// ones with few distinct values first.
type class int8

const (
	classConst   class = iota // neither subject, scope, role nor via
	classRole                 // role only
	classVia                  // via only
	classScope                // scope only
	classSubject              // subject only
	classMixed                // two or more: evaluated per grant
	numClasses
)

// The operators of a node.
const (
	opLeaf = iota
	opAnd
	opOr
	opNot
)

// node is part of a rule's expression as the fast path evaluates it.
type node struct {
	op int
	// kids are the operands of && and || in the order they are evaluated
	// (by class), and the operand of !.
	kids []*node
	// pos is the node's place among its siblings as written.
	pos int
	// leaf is set for opLeaf.
	leaf *leaf
}

// leaf is a subexpression evaluated as a program of its own.
type leaf struct {
	prg   cel.Program
	class class
	// id numbers the leaves of a rule, for their caches.
	id int
	// root says the leaf is the whole expression.
	root bool
	// key names what the leaf decides, for every rule of a Check with a
	// leaf of the same key to share its results: its class and its text;
	// "" for a leaf whose cost is tracked, decided for its rule alone.
	key string
}

// split builds the tree of checked, whose program is prg. A rule whose
// cost is tracked is not split (its limit holds for the whole
// expression): it is one leaf, prg.
func split(env *cel.Env, checked *cel.Ast, prg cel.Program, tracked bool) (*node, error) {
	s := &splitter{env: env, ast: checked.NativeRep()}
	if tracked {
		return &node{op: opLeaf, leaf: &leaf{prg: prg, class: classOf(s.ast.Expr()), root: true}}, nil
	}
	n, err := s.node(s.ast.Expr(), 0)
	if err != nil {
		return nil, err
	}
	if n.op == opLeaf {
		n.leaf.prg, n.leaf.root = prg, true
		if n.leaf.key != "" {
			n.leaf.key = "root " + n.leaf.key
		}
	}
	return n, nil
}

type splitter struct {
	env    *cel.Env
	ast    *ast.AST
	leaves int
}

func (s *splitter) node(e ast.Expr, pos int) (*node, error) {
	if e.Kind() == ast.CallKind && classOf(e) == classMixed {
		call := e.AsCall()
		op := map[string]int{operators.LogicalAnd: opAnd, operators.LogicalOr: opOr, operators.LogicalNot: opNot}[call.FunctionName()]
		if op != opLeaf && s.allBool(call.Args()) {
			n := &node{op: op, pos: pos}
			var operands []ast.Expr
			if op == opNot {
				operands = call.Args()
			} else {
				operands = s.flatten(e, call.FunctionName(), nil)
			}
			for i, a := range operands {
				k, err := s.node(a, i)
				if err != nil {
					return nil, err
				}
				n.kids = append(n.kids, k)
			}
			sortNodes(n.kids)
			return n, nil
		}
	}
	l := &leaf{class: classOf(e), id: s.leaves}
	s.leaves++
	if text, err := cel.ExprToString(e, s.ast.SourceInfo()); err == nil {
		l.key = fmt.Sprintf("%d %s", l.class, text)
	}
	if s.ast.Expr().ID() != e.ID() {
		pb, err := ast.ToProto(ast.NewCheckedAST(ast.NewAST(e, s.ast.SourceInfo()), s.ast.TypeMap(), s.ast.ReferenceMap()))
		if err != nil {
			return nil, err
		}
		if l.prg, err = s.env.Program(cel.CheckedExprToAst(pb), cel.EvalOptions(cel.OptOptimize)); err != nil {
			return nil, err
		}
	}
	return &node{op: opLeaf, pos: pos, leaf: l}, nil
}

// flatten lists the operands of a chain of fn (&& or ||) rooted at e, in
// the order written.
func (s *splitter) flatten(e ast.Expr, fn string, out []ast.Expr) []ast.Expr {
	if e.Kind() == ast.CallKind && e.AsCall().FunctionName() == fn && s.allBool(e.AsCall().Args()) {
		for _, a := range e.AsCall().Args() {
			out = s.flatten(a, fn, out)
		}
		return out
	}
	return append(out, e)
}

// allBool says every expression of es is a boolean (not dyn): its value
// is a bool or an error, as the operand of && or || must be for the
// split to decide as CEL does.
func (s *splitter) allBool(es []ast.Expr) bool {
	for _, e := range es {
		if t := s.ast.GetType(e.ID()); t == nil || !t.IsExactType(types.BoolType) {
			return false
		}
	}
	return true
}

// classOf is the class of e from the variables it names. A name a
// comprehension gives its own variable counts too: that can only make a
// leaf mixed, never wrong.
func classOf(e ast.Expr) class {
	var vars [numClasses]bool
	ast.PreOrderVisit(e, ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.IdentKind {
			return
		}
		switch e.AsIdent() {
		case "subject":
			vars[classSubject] = true
		case "scope":
			vars[classScope] = true
		case "role":
			vars[classRole] = true
		case "via":
			vars[classVia] = true
		case "now":
		default:
			// Any other name of the grant environment is a
			// comprehension's variable; one we do not know (a qualified
			// name) is read per grant.
			if !isLocal(e.AsIdent()) {
				vars[classMixed] = true
			}
		}
	}))
	c, n := classConst, 0
	for k, ok := range vars {
		if ok {
			c, n = class(k), n+1
		}
	}
	if n > 1 || vars[classMixed] {
		return classMixed
	}
	return c
}

// isLocal says name can only be a comprehension's variable: a plain
// identifier, not one of the environment's variables.
func isLocal(name string) bool {
	for _, r := range name {
		if r == '.' {
			return false
		}
	}
	return true
}

// sortNodes orders operands by class: leaves on few values first, then
// nodes of more than one leaf, mixed ones last.
func sortNodes(ns []*node) {
	rank := func(n *node) int {
		if n.op == opLeaf {
			return int(n.leaf.class)
		}
		return int(classMixed)
	}
	// Insertion sort, stable: a handful of operands.
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && rank(ns[j]) < rank(ns[j-1]); j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
}

// leavesOf lists the leaves of n by id.
func leavesOf(n *node, out []*leaf) []*leaf {
	if n.op == opLeaf {
		for len(out) <= n.leaf.id {
			out = append(out, nil)
		}
		out[n.leaf.id] = n.leaf
		return out
	}
	for _, k := range n.kids {
		out = leavesOf(k, out)
	}
	return out
}
