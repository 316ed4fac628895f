// Package sync turns a spec into a plan and applies it: the pure core of
// tokensync.
//
// # Contract
//
// Resolve does the online checks of a spec.Spec against Observed (what the
// API says today) and returns a Desired in which every reference is an id.
// Every problem is reported at once, as a spec.ErrorList positioned at the
// spec entry: a deployment (by id, or by name within a workspace given by
// id or name) or a token (by id or exact name) that resolves to no object
// or to several (an ambiguous name lists the candidates' ids and is never
// guessed; a name not found suggests a close one of the same scope). Names
// are looked up where Astro scopes them: a name under workspaceTokens among
// the workspace tokens of the deployment's workspace, under
// organizationTokens among organization tokens, a deployment name within
// its workspace. A state: absent entry whose token does not exist is
// satisfied: it adds a Desired.Notes entry, not an error. Also errors: a
// workspace token on a deployment of another workspace; an
// organization token not under organizationTokens, or a workspace token not
// under workspaceTokens; a deployment API token; a role that is neither
// DEPLOYMENT_ADMIN nor an existing custom role of DEPLOYMENT scope allowed
// in the deployment's workspace; a listed token that matches ignoreTokens.
// Role names match case-insensitively and resolve to the API's spelling.
//
// Compute is pure: no I/O, clock, logging or mutation of its inputs; the
// same inputs give the same Plan, sorted by deployment name, deployment id,
// token name, token id, whatever the order of the input slices. It
// normalises both sides into assignments keyed by Key{Deployment, Token}
// and decides per key with the table below.
//
// Apply applies a Plan through a TokenStore, the interface this package
// owns, shaped by the API: a token's role list is read and replaced as a
// whole. For each token with changes it does one read-modify-write: a GET
// right before the write, a new list computed from that fresh read, and one
// POST (none when the list already matches). A store that is a
// WriteReserver gives the write its rate-limit slot before the read, so the
// POST follows the read without waiting. The new list sets every
// managed assignment of the token, on every managed deployment, as the
// plan's Target says (the table below, applied to the fresh read), so a
// change another writer made after the plan does not survive on a token
// apply writes; it keeps every entry it does not manage exactly as read
// (the token's own workspace or organization role, roles on other
// deployments, unlisted assignments where prune is off, DAG and DAG_TAG
// entries). A plan without a Target (read back from a saved document) goes
// by its changes alone. Verify checks afterwards that every managed
// assignment is as the Target says.
//
// # What is an assignment
//
// An observed assignment is an entry of a token's role list with
// entityType DEPLOYMENT whose entityId is a managed deployment (one named
// in the spec). DAG and DAG_TAG entries are not assignments and are never
// touched, even on a managed deployment. Deployments not in the spec are
// never looked at.
//
// # Decision table
//
// For each key (managed deployment, token), with R the role in the spec
// and O the role observed ("-" for none). Roles compare case-insensitively
// (built-in names upper-cased, custom names as the API spells them).
//
//	token / spec entry                      observed   action     reason
//	--------------------------------------  ---------  ---------  ------------------------------------
//	DEPLOYMENT-scope token (any entry)      O          Unmanaged  deployment API token: not managed
//	DEPLOYMENT-scope token (any entry)      -          -
//	matches ignoreTokens (any entry)        O          Unmanaged  ignored (ignoreTokens "break-glass-*")
//	matches ignoreTokens (any entry)        -          -
//	listed with role R                      -          Add        (After R)
//	listed with role R                      O != R     Update     (Before O, After R)
//	listed with role R                      O == R     -
//	listed with state: absent               O          Remove     state: absent
//	listed with state: absent               -          -
//	not listed, prune on                    O          Remove     not in spec (prune)
//	not listed, prune off                   O          Unmanaged  not in spec; prune is off
//
// The first two groups win over the others: Resolve rejects specs that list
// such tokens, and Compute leaves them alone even if a Desired does. Prune
// is on for a deployment when Options.Prune or its ManagedDeployment.Prune
// is set. Unmanaged changes are shown (Before == After == O), never
// applied.
//
// # Guards
//
// Every Plan carries the three guards, in this order, OK or not:
//
//   - max-removals: the plan removes more than Options.MaxRemovals
//     assignments (a negative limit means none).
//   - allow-empty: prune removes at least one assignment from a deployment
//     and no assignment of a workspace or organization token would remain
//     on it, unless the deployment says allowEmpty.
//   - protect: a change removes or updates an assignment of a token whose
//     name or id matches an Options.Protect glob (adds are fine).
//
// Plan.Refused reports whether any refused; Apply does nothing then.
//
// # Fingerprints
//
// Plan.Fingerprints holds, for every token with a change, Fingerprint of
// its role list as observed. Apply flags a token whose fresh read differs
// (TokenResult.ChangedSincePlan) and still applies the plan's changes to
// the fresh list; with ApplyOptions.RequireFingerprints (a saved plan) it
// first reads every token of the plan and writes nothing if any differs.
//
// # Apply order and interruption
//
// Tokens whose changes include an add or an update are written first,
// then, once all of them are done, the tokens with removals only, so that
// an interrupted apply grants before it revokes. Up to
// ApplyOptions.Parallelism tokens are in flight; a failed token does not
// stop the others. Once the context is cancelled no token starts; a token
// already started completes its read and write (they run without the
// cancellation) and the rest are reported as NotStarted.
package sync
