// Package sync turns a spec into a plan and applies it: the pure core of
// tokensync.
//
// # Subjects
//
// A subject is anything whose whole role set the API replaces on each
// write: an API token (workspace, organization or deployment scope), a
// user or a team. A Subject has a kind, an id and a name, and its Grants:
// every role it holds, on every level (organization, workspace,
// deployment, DAG, DAG tag), as read and in the API's order. A write sends
// the whole set; what a plan does not change goes back exactly as read.
// Each family of subject has an Adapter (list, get, set): TokenAdapter,
// UserAdapter, TeamAdapter. The planner and apply know subjects only;
// nothing in them depends on a kind but the table of kinds in subject.go.
//
// # Contract
//
// Resolve does the online checks of a spec.Spec against Observed (what the
// API says today) and returns a Desired in which every reference is an id.
// Every problem is reported at once, as a spec.ErrorList positioned at the
// spec entry: a deployment (by id, or by name within a workspace given by
// id or name) or a subject (by id, or by name: a token's or team's exact
// name, a user's username compared case-insensitively) that resolves to
// no object or to several (an ambiguous name lists the candidates' ids and
// is never guessed; a name not found suggests a close one of the same
// scope). Names are looked up where Astro scopes them: a name under
// workspaceTokens among the workspace tokens of the deployment's
// workspace, under organizationTokens among organization tokens, users
// and teams in the organization, a deployment name within its workspace.
// A state: absent entry whose subject does not exist is satisfied: it adds
// a Desired.Notes entry, not an error. Also errors: a workspace token on a
// deployment of another workspace; an organization token not under
// organizationTokens, or a workspace token not under workspaceTokens; a
// deployment API token; an INACTIVE or BANNED user given a role; a role
// that is neither DEPLOYMENT_ADMIN nor an existing custom role of
// DEPLOYMENT scope allowed in the deployment's workspace; a listed subject
// that matches its kind's ignore globs. A built-in role name matches in
// any case and resolves upper case, as the API stores it; a custom role
// name matches only exactly, and a name that matches custom roles only
// when case is ignored is an error that lists every candidate. An entry
// that asks for exactly the role its subject holds on the deployment
// writes nothing, so it is not refused for what only a write needs: the
// user's status, an organization role, or a role the organization no
// longer offers (a note says so). Every export is such a spec, so a plan
// of it is empty.
//
// Resolve also resolves the other levels: the organization level
// (organizationRoles), workspaces (by id or name; a workspace listed twice
// is an error) and the DAGs and DAG tags of a deployment. A role must be of
// its scope's level: a built-in role of another level, or a custom role of
// another scopeType (DEPLOYMENT or DAG), is an error. A workspace token may
// be listed only on its own workspace, its deployments and their DAGs, and
// state: absent cannot take a workspace token's role on its own workspace.
//
// Compute is pure: no I/O, clock, logging or mutation of its inputs; the
// same inputs give the same Plan, sorted by scope (the organization, then
// workspaces by name, then deployments by name each followed by its DAGs
// and DAG tags), subject name, subject id, whatever the order of the
// input slices. The planner's key is Key{Scope, Subject}. It runs in
// stages: index the spec by scope and by subject; for each subject, decide
// each of its keys (its entries, and its roles on managed scopes) by the
// table below, one small function per row, then what Astro's implied
// accessors make of its removals; then the guards; the fingerprints.
//
// Apply applies a Plan through the Adapters: for each subject with
// changes it does one read-modify-write, however many levels change: a
// read right before the write, the new role set computed from that fresh
// read, and one write (none when nothing changes) that sends every other
// grant exactly as read. An adapter that is a WriteReserver gives the
// write its rate-limit slot before the read, so the write follows the read
// without waiting. The new role set is what the planner decides for the
// fresh read under the plan's Target (the same code as Compute), with every
// listed role set exactly once, so a change another writer made after the
// plan does not survive on a subject apply writes. A plan without a Target
// goes by its changes alone. Verify checks afterwards that every managed
// assignment is as the Target says; Engine.Execute applies and verifies
// with one fresh list.
//
// # What is an assignment
//
// An observed assignment is a role of a subject at a managed scope (one
// the spec names: the organization level, a workspace, a deployment, a
// DAG, a DAG tag). Scopes not in the spec are never looked at.
//
// # Decision table
//
// For each key (managed scope, subject), with R the role in the spec and O
// the role observed ("-" for none). Roles compare exactly, both in the
// API's spelling (built-in names upper case, custom names as named). An
// ignore or protect glob (spec.Glob: in any case, * crossing '/') matches a
// subject's id or name.
//
//	row                subject / spec entry                              observed  action     reason
//	-----------------  ------------------------------------------------  --------  ---------  ------------------------------------------------
//	unmanagedKind      deployment API token (any entry)                  O         Unmanaged  deployment API token: not managed
//	unmanagedKind      deployment API token (any entry)                  -         -
//	ignored            matches its kind's ignore globs                   O         Unmanaged  ignored (ignoreTokens "break-glass-*")
//	ignored            matches its kind's ignore globs                   -         -
//	listedWithRole     listed with role R                                -         Add        (After R)
//	listedWithRole     listed with role R                                O != R    Update     (Before O, After R)
//	listedWithRole     listed with role R                                O == R    -
//	ownRole            a token at its own workspace or organization      O         Unmanaged  ... is updated, never removed
//	organizationLevel  organization; not listed (prune, kind listed)     O != MEMBER  Update  demoted to ORGANIZATION_MEMBER
//	                   or state: absent
//	listedAbsent       listed with state: absent                         O         Remove     state: absent
//	listedAbsent       listed with state: absent                         -         -
//	notListed          not listed, prune on, kind listed                 O         Remove     not in spec (prune)
//	notListed          not listed, prune on, kind not listed             O         Unmanaged  not in spec; the scope does not list its kind
//	notListed          not listed, prune off                             O         Unmanaged  not in spec; prune is off
//
// The first two rows win over the others: Resolve rejects specs that list
// such subjects, and Compute leaves them alone even if a Desired does.
// Prune is on for a scope when Options.Prune or its ManagedScope.Prune is
// set, and it removes only subjects of the kinds whose key the scope's
// spec entry contains (ManagedScope.Lists; an empty list counts): adding
// users: to a file is a decision, and upgrading tokensync never widens
// what an existing file prunes. A deployment's prune covers the deployment
// level only, not its dags: entries, which say prune themselves.
// Unmanaged changes are shown (Before == After == O), never applied.
//
// Then the implied accessors. Astro keeps DEPLOYMENT_ACCESSOR on a
// deployment where the subject holds DAG or DAG tag roles, and
// WORKSPACE_ACCESSOR in a workspace where it holds deployment or DAG roles,
// after the plan. A removal of that accessor is not made: it is Unmanaged,
// implied by the child roles. A removal of another role there is shown as
// what it does: an Update to the accessor. An accessor the API adds when
// a plan gives a child role is not drift: the next plan leaves it alone.
// Astro documents these for users and teams; for a token only the first
// rule holds (an accessor beside DAG roles is left alone), since no token
// is known to get an accessor it was not given.
//
// # Guards
//
// Every Plan carries the four guards, in this order, OK or not:
//
//   - max-removals: the plan removes more than Options.MaxRemovals
//     assignments (a negative limit means none).
//   - allow-empty: prune removes at least one assignment from a deployment
//     and no managed subject (token, user or team) would hold a role on it,
//     unless the deployment says allowEmpty.
//   - protect: a change removes or updates an assignment of a subject whose
//     name or id matches an Options.Protect glob (adds are fine).
//   - lockout: a change takes ORGANIZATION_OWNER (or a managed workspace's
//     WORKSPACE_OWNER) from a user or team and no user or team would hold
//     it after the plan. Tokens do not count, nor does the credential: the
//     guard is about people. A saved plan keeps its recorded verdict.
//
// Plan.Refused reports whether any refused; Apply does nothing then.
//
// # Fingerprints
//
// Plan.Fingerprints holds, for every subject with a change, the
// Subject.Fingerprint of its role set as observed (for tokens,
// Fingerprint of the role list). Apply flags a subject whose fresh read
// differs (SubjectResult.ChangedSincePlan); with
// ApplyOptions.RequireFingerprints (a saved plan) it first reads every
// subject of the plan and writes nothing if any differs.
//
// # Apply order and interruption
//
// Subjects whose changes include an add or an update are written first,
// then, once all of them are done, the subjects with removals only, so
// that an interrupted apply grants before it revokes. Up to
// ApplyOptions.Parallelism subjects are in flight; a failed subject does
// not stop the others, except a 403 on a write: the credential may not
// write, so no other subject starts. Once the context is cancelled no
// subject starts; one already started completes its read and write (they
// run without the cancellation) and the rest are reported as NotStarted.
package sync
