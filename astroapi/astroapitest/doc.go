// Package astroapitest is an in-memory emulator of the Astro API v1, the
// ground truth of tokensync's tests, of --emulate and of `tokensync
// emulator`. It is strict on purpose: what passes against it must work
// against the real API, so it rejects everything the API documents as
// invalid and, where the API is silent, the stricter reading.
//
// # State
//
// A State (LoadState, ParseState, or built in Go) holds one organization,
// its workspaces, deployments, custom roles (scopeType ORGANIZATION,
// WORKSPACE, DEPLOYMENT or DAG, with their permissions), API tokens with
// their role lists and lifecycle fields (kind, startAt, endAt,
// expiryPeriodInDays, lastUsedAt, lastRotatedAt), users (with their
// status) and teams (with isIdpManaged) with their role sets (RoleSet:
// organizationRole, workspaceRoles, deploymentRoles, dagRoles; teams also
// memberIds), and optional credentials. State files are YAML with the API's
// field names; GET /_emulator/state answers the same shape as JSON. Loading
// is strict: unknown or duplicate keys, duplicate ids, dangling references,
// bad scopes or entity types, and role lists the API would refuse (the same
// rules as POST /tokens/{id}/roles, with built-in role names in upper case)
// are all reported at once as "file:line:col: message". A token's own scope
// entity is the entity of its one role of the scope's entity type; it never
// changes. Timestamps absent from the state get fixed defaults in file
// order, so the default list order is the file order.
//
// Users need id, username (unique, compared case-insensitively) and status
// (ACTIVE, INACTIVE, PENDING or BANNED); teams need id, name and an
// organizationRole; memberIds must name users, once each. Their role sets
// are checked by the rules of POST /users/{id}/roles and /teams/{id}/roles
// below, and two more, since Astro would have added the accessor (the
// message says what to add): a DAG role on a deployment where the subject
// holds no deployment role is an error (DEPLOYMENT_ACCESSOR), and so is a
// deployment role in a workspace where it holds no workspace role
// (WORKSPACE_ACCESSOR). A token's DAG role needs no DEPLOYMENT role: a
// token's role list is stored as sent (below). A token's kind is STANDARD (the
// default) or DIRECT_ACCESS, its expiryPeriodInDays not negative, its endAt
// after its start, and its lastUsedAt and lastRotatedAt not before its
// createdAt; a custom role's permissions are not empty and listed once.
//
// # API
//
// NewServer serves, under /v1/organizations/{organizationId}:
//
//	GET    /tokens               workspaceId, deploymentId, includeOnlyOrganizationTokens, offset, limit, sorts
//	GET    /tokens/{tokenId}
//	POST   /tokens/{tokenId}     {"name", "description"}: renames, answers the token
//	DELETE /tokens/{tokenId}     204, then 404
//	POST   /tokens/{tokenId}/roles  {"roles": [...]}: replaces the whole list, answers SubjectRoles
//	GET    /deployments          deploymentIds, workspaceIds, names (repeated keys), offset, limit, sorts
//	GET    /workspaces           workspaceIds, names, offset, limit, sorts
//	GET    /roles                scopeTypes, includeDefaultRoles, offset, limit, sorts
//	GET    /roles/{roleId}       a custom role with its permissions (RoleWithPermission)
//	GET    /users                workspaceId, deploymentId, dagId, dagTags, offset, limit, sorts (username, fullName, createdAt, updatedAt)
//	GET    /users/{userId}
//	POST   /users/{userId}/roles  UpdateUserRolesRequest: replaces the whole set, answers SubjectRoles
//	GET    /teams                names (repeated), workspaceId, deploymentId, offset, limit, sorts (name, description, createdAt, updatedAt)
//	GET    /teams/{teamId}
//	POST   /teams/{teamId}        {"name", "description"}: renames, answers the team
//	POST   /teams/{teamId}/roles  UpdateTeamRolesRequest: replaces the whole set, answers SubjectRoles
//	GET    /teams/{teamId}/members  offset, limit, sorts (username, fullName, createdAt); envelope teamMembers
//
// Any other path answers 404, another method on a known path 405 (with
// Allow); the other real token operations (create, rotate) are not
// emulated, nor are user invites, team creation or membership changes. An
// unknown organization, token, user, team or role is 404. The renames take
// a name (not empty) and keep the description when none is sent
// (inferred); a credential confined to workspaces may rename the tokens
// of its workspaces, and no team. Every 4xx and 5xx
// carries the Error body {message, requestId, statusCode[, fieldErrors]}
// as application/json, and every answer a request id unique to it.
//
// Auth: a missing, empty or non-Bearer Authorization header is 401. With
// credentials in the state, an unknown secret is 401 (deleting a token
// removes the credentials of that token); a readOnly credential gets 403 on POST and DELETE; a
// credential with workspaceIds sees only those workspaces: the list of
// workspaces gives its own without a filter (inferred), org-wide lists of
// tokens and deployments are 403 unless filtered to its workspaces
// (workspaceId, or deploymentId of one of its deployments, for tokens;
// workspaceIds for deployments; a workspaceIds filter naming another
// workspace is 403 on workspaces too), a token is readable
// if it holds a role in one of them and writable if it belongs to one.
// Users and teams follow the token rules for reads: lists need a
// workspaceId of the credential or a deploymentId in one of its
// workspaces, and a user or team is readable if it holds a role there; a
// confined credential may not write a user's or team's roles at all
// (inferred: the body carries the organization role).
//
// Lists: offset defaults to 0, limit to 20 and must be 1..1000; an invalid
// offset or limit is a 400 with fieldErrors, never clamped. The answer
// echoes offset and limit and gives totalCount. The default order is
// createdAt, then id; sorts (repeated "field:asc|desc") sorts first, names
// and descriptions compared case-insensitively. An unknown query parameter,
// an unknown sort field, a repeated single-valued parameter or an empty
// value is a 400 too. Options.MaxPageSize returns short pages mid-list.
// GET /roles counts and pages custom roles only, without permissions;
// scopeTypes takes ORGANIZATION, WORKSPACE, DEPLOYMENT and DAG;
// defaultRoles, only with includeDefaultRoles=true, lists every built-in
// role of the asked scopeTypes (DEPLOYMENT_ACCESSOR, DAG_VIEWER and
// DAG_AUTHOR included) with its permissions, on every page. GET
// /roles/{roleId} finds a custom role by its id (or the one derived from
// its name); built-in roles have none. GET /users?dagId=D (?dagTags=T,
// repeated) lists the users holding a role on DAG D (on one of the tags),
// on the deploymentId's deployment when one is given.
//
// POST /tokens/{tokenId}/roles rejects with 400 and fieldErrors: a body
// that is not exactly one JSON object {"roles": [...]} (unknown fields
// included, and a field name in another case: JSON names are exact), an empty list, an unknown entity type, organization,
// workspace, deployment or custom role, a deploymentId missing on a DAG or
// DAG_TAG entry or present on another, a role that does not fit its entity
// type (DAG_VIEWER, DAG_AUTHOR or a custom DAG role for DAG and DAG_TAG
// entries), a custom role of another scopeType, of scope ORGANIZATION or
// WORKSPACE (those levels' roles are built-in only) or restricted to other
// workspaces, and every scope violation: a token keeps exactly one role on
// its own scope entity; a WORKSPACE token holds no ORGANIZATION role and no
// role on another workspace or its deployments; a DEPLOYMENT token holds
// roles on its own deployment only. An applied write stores the list as
// sent, adding no accessor, sets updatedAt (strictly increasing) and
// updatedBy, and is counted in Stats.RoleWrites.
//
// POST /users/{userId}/roles and /teams/{teamId}/roles take one JSON object
// with organizationRole, workspaceRoles, deploymentRoles and dagRoles, and
// replace all four: a part left out (or null) becomes empty, dagRoles
// included (inferred). They reject with 400 and fieldErrors: a body that is
// not one such object (unknown fields included, and a field name in
// another case); a team without
// organizationRole; a user with workspaceRoles, deploymentRoles or
// dagRoles but no organizationRole ("deploymentRoles ... requires also
// specifying an organizationRole"); an unknown workspace or deployment;
// two entries on one workspace, one deployment, or one DAG or tag; a role
// that does not fit its place (a built-in organization role for
// organizationRole, a built-in workspace role for workspaceRoles, DEPLOYMENT_ADMIN,
// DEPLOYMENT_ACCESSOR or a custom DEPLOYMENT role for deploymentRoles,
// DAG_VIEWER, DAG_AUTHOR or a custom DAG role for dagRoles, a custom role
// allowed in the deployment's workspace); a DAG role without deploymentId
// or without exactly one of dagId and dagTag. Built-in names are accepted
// in any case and stored upper case. Every applied write then gives
// DEPLOYMENT_ACCESSOR on each deployment where the subject now holds a DAG
// role but no deployment role (inferred), then WORKSPACE_ACCESSOR on each
// workspace where it holds a deployment role but no workspace role
// (Astronomer's docs); it never removes one. The answer is
// the stored set; the write sets updatedAt (and a team's updatedBy) and is
// counted in Stats.UserRoleWrites or Stats.TeamRoleWrites. Server's
// SetUserRoles and SetTeamRoles make the same change without HTTP.
// The users and teams endpoints share the credential's rate-limit buckets
// with the token endpoints, and the same faults apply.
//
// Rate limits: a token bucket per credential and method class (GET,
// POST, DELETE) with rate and burst equal to the limit; over it, 429 with
// a Retry-After header in whole seconds (at least 1). Faults
// (Options.FaultRate, seeded by FaultSeed) answer 500, 502, 503, 429
// without Retry-After, or drop the connection without a response (half
// the dropped POSTs after applying the write). Note that Go's HTTP client
// silently retries an idempotent request whose reused connection drops, so
// a dropped GET may show as two requests in Stats.
//
// Admin endpoints, without auth, limits, faults or stats: GET
// /_emulator/stats (Stats as JSON) and GET /_emulator/state (State as JSON).
// Neither ever answers a credential's secret: the state's credentials come
// without theirs, and a secret in an unknown route's path is redacted.
//
// # Inferred behaviours
//
// Astronomer does not document these; the emulator follows the inference
// of docs/astro-api.md and a test names each:
//
//   - The API enforces the Terraform provider's scope rules, and a
//     WORKSPACE token may hold DEPLOYMENT (and DAG) roles only on
//     deployments of its own workspace (TestPostRoles400).
//   - Two entries for the same entity in one role list are rejected
//     (TestPostRoles400).
//   - GET /tokens?deploymentId=D (or workspaceId=W) returns every token
//     holding a role on D (DAG and DAG_TAG roles on D included) or on W,
//     whatever its scope (TestTokenFilterHoldersWhateverScopeInferred).
//   - Built-in role names are accepted in any case and stored upper case,
//     as Terraform provider issue 195 reports
//     (TestBuiltinRoleCaseInsensitiveInferredTerraformIssue195), while a
//     custom role name matches only exactly: "Reader" and "READER" are two
//     roles and "reader" is neither
//     (TestCustomRoleNamesAreExactBuiltinsAnyCase).
//   - There is no ETag or version: the last writer wins
//     (TestConcurrentWriteLastWriterWinsInferred).
//   - A filter on an id that does not exist matches nothing (200, empty
//     list) rather than failing (TestFilterUnknownIDMatchesNothingInferred).
//   - A credential confined to some workspaces answers 403 to org-wide
//     token and deployment lists, and lists only its own workspaces
//     (TestConfinedCredentialListsOnlyItsWorkspacesInferred).
//   - GET /users?deploymentId=D (or /teams) returns the users (teams)
//     holding a deployment or DAG role on D, ?workspaceId=W those holding a
//     workspace role on W; roles held through a team do not make a user
//     match (TestUserFiltersHoldersInferred).
//   - A POST to /users/{id}/roles or /teams/{id}/roles replaces all four
//     parts; dagRoles left out means none
//     (TestPostSubjectRolesReplacesWholeSetOmittedDagRolesMeanNoneInferred),
//     which is how the Astro CLI's deployment user and team commands drop
//     DAG roles (TestAstroDeploymentUserAddDropsDagRolesInferred,
//     TestAstroDeploymentTeamUpdateDropsDagRolesInferred).
//   - Removing a subject's last deployment role in a workspace leaves the
//     WORKSPACE_ACCESSOR that came with it
//     (TestDeploymentRoleAddsWorkspaceAccessorRemovalKeepsItInferred,
//     TestAstroDeploymentUserRemoveKeepsWorkspaceAccessorInferred).
//   - A DAG role of a user or team brings DEPLOYMENT_ACCESSOR on its
//     deployment when the subject holds no deployment role there, and so
//     WORKSPACE_ACCESSOR; a write that leaves the accessor out while the
//     DAG role stays gets it back
//     (TestDagRoleAddsDeploymentAndWorkspaceAccessorsInferred). A token's
//     DAG or DAG_TAG role brings no DEPLOYMENT_ACCESSOR, as its deployment
//     roles bring no WORKSPACE_ACCESSOR: Astronomer describes the implied
//     parents for users and teams (TestTokenDagRoleBringsNoAccessorInferred).
//   - The Astro CLI's workspace user and team commands, like its
//     deployment ones, drop DAG roles
//     (TestAstroWorkspaceUserUpdateDropsDagRolesInferred,
//     TestAstroWorkspaceTeamUpdateDropsDagRolesInferred), and its
//     organization user update, which posts the organization role alone,
//     drops every other role
//     (TestAstroOrganizationUserUpdateDropsOtherRolesInferred).
//   - GET /users?dagId=D and ?dagTags=T match DAG roles only on that DAG
//     or tag: a DAG id never matches a tag (TestUserDagFiltersInferred).
//   - A rename without a description keeps it; a credential confined to
//     workspaces may not rename teams (TestUpdateTokenAndTeamNames).
//   - A credential confined to workspaces may not write users' or teams'
//     roles (TestUsersAndTeamsAuth).
//   - INACTIVE, PENDING and BANNED users' roles can be written like any
//     user's (TestDeploymentRoleAddsWorkspaceAccessorRemovalKeepsItInferred
//     writes an INACTIVE user).
package astroapitest
