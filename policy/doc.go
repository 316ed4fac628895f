// Package policy compiles the rules of a spec's policies (CEL expressions)
// and checks them over effective grants. It is pure: no I/O, no clock
// (Check is given the time), no logging.
//
// Compile turns spec.Policy values into a Set, or a spec.ErrorList whose
// entries point into the expression that does not compile. Build turns a
// world (the subjects as they would be after a plan, with every role on
// every level; the workspaces and deployments; the members of teams) into
// Access: every effective grant, teams expanded and workspace and
// organization roles carried down to deployments, and every scope. Check
// evaluates each rule over Access and returns the violations, sorted.
//
// A grant rule reads subject, scope, role, via and now, and is decided
// on each grant it covers (a part of it under &&, || or ! that reads one
// of those variables is evaluated once per value, with the same result); a scope rule reads scope, grants and now, and
// is evaluated once per scope. A rule with files covers only the grants
// written by a spec file matching one of its globs (the path as given, or
// a trailing part of it after a '/'; Load notes a rule whose files match
// none of the spec files read); a scope rule with files
// sees only those grants and is evaluated only on scopes that have one.
// A scope rule's violation says why it holds (Violation.Why): the values,
// as evaluated there, of the parts of its expression that read grants.
// An expression that cannot be evaluated on a grant or scope (an error, or
// its cost limit reached) is reported as a violation carrying the error:
// a rule that cannot be decided does not pass.
// A timestamp the API does not give (subject.expiresAt of a token that
// never expires) is absent: has() is false, and reading it is such an
// error, never the zero time.
//
// Check gives what evaluating every rule whole, with its cost tracked, on
// every grant and scope would give, at less cost: a scope rule is not
// tracked on a scope where its estimated cost cannot reach the limit;
// fields are read once per subject, role and via; and the rules of one
// Check share what they compute alike (a leaf of the same text, a walk
// over the same grants).
package policy
