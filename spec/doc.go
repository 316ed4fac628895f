// Package spec reads tokensync spec files (tokens.yaml) and checks them
// offline: it contacts nothing, and resolving names against the Astro API is
// left to its callers.
//
// Parse reads one file and Load reads the files and directories given with
// -f, merging them into one Spec. Both are strict and report every problem
// at once, as an ErrorList sorted by file, line and column, each entry
// printing as `file:line:col: message` like go/scanner:
//
//	tokens.yaml:7:5: unknown key "prunee" in deployment (did you mean "prune"?)
//	tokens.yaml:12:9: duplicate key "role" (first at line 11)
//	tokens.yaml:14:16: "prune" must be a boolean, got string "yes"
//	tokens.yaml:19:15: token "ci-bot": role "WORKSPACE_OWNER" is a workspace role, not a deployment role
//	tokens.yaml:23:19: "username" must be an e-mail address, got "alice" (no "@")
//	team-b.yaml:3:5: deployment "clvduhrvd000008l842ohcpvb" is already declared at team-a.yaml:4:5
//
// File names in positions are escaped like every name tokensync prints
// (Inert), and a message quotes at most a short, escaped excerpt of a
// file's content (40 characters), so that an error about a file that is
// not a spec never prints the file.
//
// Messages about the shape of the YAML (keys, types) name the key; messages
// about meaning name the deployment, token, user or team when it has an id
// or name.
// Positions are those of the offending key or value, or of the mapping of
// the entry when something is missing from it. Line and column count from
// 1, columns in characters. Errors a file cannot be read for (Load only)
// have Line 0: they concern the file as a whole.
//
// What is refused, besides what the format (see Schema) forbids:
//   - YAML syntax errors, at the line the YAML parser gives (column 1, or the
//     first tab of the line's indentation), and tabs in indentation;
//   - unknown keys (with a suggestion), duplicate keys, values of the wrong
//     type, empty strings for ids, names, roles and globs;
//   - anchors and aliases (which also defuses "billion laughs" alias bombs),
//     more than one YAML document in a file, an empty file or one with only
//     comments ("file is empty");
//   - bytes that are not UTF-8 and control characters, at the first one; a
//     leading UTF-8 byte order mark is ignored and CRLF line ends accepted;
//   - in a directory given to Load, a symbolic link that resolves outside
//     the directory (its content is never read; a link given itself is
//     followed), and one that leads nowhere;
//   - a file over MaxFileSize bytes (refused before parsing), more than
//     MaxDeployments deployments over all files, nesting deeper than the
//     YAML parser's limit of 10000;
//   - a deployment with both or neither of id and name, name without
//     workspace, or id with workspace; a deployment declared twice (same id,
//     or same name and workspace) in any of the files, so that each
//     deployment is owned by one file;
//   - a token entry with both or neither of id and name, without a role
//     (unless state is absent), with a state other than present or absent,
//     or with a built-in organization or workspace role; the same token
//     listed twice for a deployment: the same id in either list, or the
//     same name twice in one list (a name under workspaceTokens and the
//     same name under organizationTokens are two tokens, as Astro scopes
//     token names);
//   - the same for the entries of users (by id or username) and teams (by
//     id or name); the same user listed twice for a deployment (same id, or
//     usernames equal under FoldUsername, so in any case); the same team
//     listed twice (same id, or same name). A token, a user and a team may
//     share a name;
//   - a username that does not look like an e-mail address (CheckUsername):
//     not exactly one '@', nothing before it, a domain without a dot or
//     with an empty label, a space, a control or an invisible character;
//   - an ignoreTokens, ignoreUsers or ignoreTeams glob that ParseGlob
//     rejects (a character class, a lone trailing backslash); two files
//     naming different organizations;
//   - at the other levels, the same rules for their entries, and: a
//     workspace with both or neither of id and name, or declared twice
//     (same id, or same name) in any of the files; organizationRoles in
//     more than one file, or with workspaceTokens (a workspace token has
//     no organization role), or an entry there whose state is absent
//     (nobody is removed from the organization: prune demotes to
//     ORGANIZATION_MEMBER); a DAG entry with both or neither of dagId and
//     dagTag, or the same dagId or the same dagTag twice for a
//     deployment; a principal listed twice for the organization, a
//     workspace or a DAG entry;
//   - a role of another level: every built-in role belongs to one level
//     (organization, workspace, deployment, DAG) and is refused at the
//     others, in any case, naming its level. The organization and
//     workspace levels have no custom roles, so any other name is refused
//     there too, with a suggestion when one is close.
//
// Built-in role names are compared case-insensitively and returned in upper
// case (deployment_admin becomes DEPLOYMENT_ADMIN). Under deployments and
// dags, any other role is taken as the name of a custom deployment or DAG
// role, kept as written, and checked online by the caller (its scope
// too), as are the existence and uniqueness of deployments,
// workspaces, tokens, users and teams (a deployment given by id in one file
// and by name in another, or a user by id and by username, is only found
// then). At most MaxErrors errors are reported; one last entry (its More
// set) says how many more were found, and ErrorList.Total counts them all.
//
// Each deployment records in Deployment.Lists which of the keys
// workspaceTokens, organizationTokens, users and teams its entry contains,
// as Kinds, an empty list included: prune owns only the kinds a deployment
// lists (Deployment.Listed), so a file without users: never prunes a user,
// and adding a kind of principal to the format never widens what an
// existing file prunes. OrganizationRoles, each Workspace and each Dag
// record their Lists the same way. Usernames are kept as written.
//
// The levels above and below deployments are Spec.OrganizationRoles
// (the top-level organizationRoles, in one file at most), Spec.Workspaces
// (workspaces) and Deployment.Dags (the dags of a deployment, each by
// DAG id or by DAG tag). A workspace given by id in one file and by name
// in another is found online, as a deployment is.
//
// Spec.Digest identifies the exact input (paths and bytes), for saved
// plans. Schema returns the format's JSON Schema for editors.
package spec
