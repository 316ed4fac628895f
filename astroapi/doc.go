// Package astroapi is a client for the parts of Astronomer's Astro API v1
// that tokensync needs: API tokens and their role lists, users and teams
// and their role sets, team members, deployments, workspaces and roles.
// It also holds the API's wire types.
//
// The contract:
//
//   - Every request goes through one chokepoint that sends the bearer
//     credential, a User-Agent and JSON headers, bounds each attempt by a
//     timeout (WithRequestTimeout) and every body by a size (error bodies
//     are cut at 64 KiB, success bodies over 64 MiB are an error).
//   - Success is 200 or 204 only. Any other status, 201 and 3xx included, is
//     an *Error carrying the API's message, field errors and requestId, or,
//     when the body is not the API's error JSON (an HTML page from a proxy,
//     nothing), the status text and a short sanitized snippet. errors.Is
//     matches an *Error against ErrNotFound, ErrUnauthorized and
//     ErrForbidden. A 200 whose body is empty, not JSON, or does not decode
//     is an error that names the method and path.
//   - Idempotent calls (all the calls of this package: GETs and the role
//     POSTs of tokens, users and teams, which replace the whole list or
//     set) are retried on 429, 502,
//     503, 504 and transport errors, up to WithMaxRetries times. The wait is
//     the server's Retry-After (delta seconds or HTTP date) when present,
//     else exponential backoff with full jitter; both are capped by
//     WithBackoff's max. Retries stop at once when the context ends, even
//     during a wait. Certificate errors, refused redirects and oversized
//     bodies are not retried.
//   - Before each attempt the client waits on a rate limiter per HTTP
//     method (burst 1, default GET 25/s, POST 10/s, DELETE 5/s: Astro's
//     published limits per API token), so that at the defaults it never
//     provokes a 429 from a server that enforces those limits.
//     ReserveWrite takes a POST slot ahead of time, so that a write that
//     follows a read does not wait for the limiter after the read.
//   - The base URL must use https, except on loopback hosts (localhost,
//     127.0.0.0/8, ::1). Redirects are refused, so the credential goes only
//     to the base URL's host. TLS certificates are verified as the standard
//     library does by default.
//   - The credential never appears in an error, a log line (WithLogger) or
//     the Client's String: text meant for people is redacted (Redact, also
//     for callers' own messages), each piece of server text before it is
//     cut and the final message again. Data decoded
//     from a response is never redacted: it is the API's, byte for byte,
//     even when a short credential occurs inside an id or a name.
//   - List calls drain every page with offset/limit, adding each page's
//     length to the offset until a page is empty or the offset reaches
//     totalCount, so a server may return short pages mid-list. A list that
//     makes no progress is refused: a page of items all seen before, a
//     totalCount or offset above 100,000 items, more than 200 pages. An
//     id seen again on a later page is kept once, where it was first seen.
//   - A role write replaces the subject's whole role set. SetTokenRoles
//     sends a token's full role list. SetUserRoles and SetTeamRoles send
//     the full UpdateUserRolesRequest or UpdateTeamRolesRequest
//     (organizationRole, workspaceRoles, deploymentRoles, dagRoles), every
//     list present, empty as [], so that a write never leaves out (and so
//     drops) a part by accident; the Astro CLI omits dagRoles on such
//     writes, which drops them (inferred). A team write without an
//     organization role, and a user write with workspace, deployment or
//     DAG roles but no organization role ("requires also specifying an
//     organizationRole"), are refused before anything is sent.
//   - Astro gives WORKSPACE_ACCESSOR (RoleWorkspaceAccessor) on its own to
//     a user or team that gains a deployment role in a workspace where it
//     has no workspace role, and DEPLOYMENT_ACCESSOR
//     (RoleDeploymentAccessor) for a DAG role on a deployment where it has
//     no deployment role (inferred; not to a token), so a write's answer
//     and the next read may hold roles that were not sent. The API's own description
//     of SubjectRoles says deploymentRoles is "currently only for API
//     tokens": a caller that must know a user's or team's roles after a
//     write reads them again (User, Team) rather than trust the answer.
//   - User, Team, Token and Role check that the answer is about the id
//     asked for (not null, {}, or another subject), since role sets are
//     rewritten from it. Role answers a custom role with its permissions;
//     built-in roles come with theirs from Roles (IncludeDefaultRoles).
//   - A token's lifecycle fields (StartAt, EndAt, ExpiryPeriodInDays,
//     LastUsedAt, LastRotatedAt, Kind) and a user's Status are decoded as
//     the API sends them; a time the API leaves out is nil.
//
// The package imports only the standard library, golang.org/x/time/rate
// and github.com/segmentio/encoding/json (which decodes the items of a list
// page, as encoding/json would; see page.go).
// The emulator in astroapi/astroapitest serves the same API for tests.
package astroapi
