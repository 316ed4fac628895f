package access

import "strings"

// RatePermissions is the level of a custom deployment role from its
// permissions (GET /organizations/{org}/roles/{id}): the highest level
// any one of them needs.
//
//	admin    who may do what, or the deployment's end: a permission on
//	         apiTokens, users, teams or roles that is not a read
//	         (deployment.apiTokens.update), or any *.delete outside DAGs
//	         (deployment.delete)
//	operate  any other change to the deployment or its workspace
//	         (deployment.update, deployment.variables.update,
//	         workspace.deployments.create)
//	author   code and DAGs: *.deploy, and any permission on dags, dagRuns,
//	         taskInstances or datasets (deployment.dags.update,
//	         deployment.dagRuns.create)
//	view     reads only: *.get, *.list, *.read
//
// A role with no permissions is not rated (custom), nor is one with a
// permission that is none of these (neither a read nor a known kind of
// change): its level stays unknown rather than being guessed low.
func RatePermissions(perms []string) Level {
	if len(perms) == 0 {
		return LevelCustom
	}
	top := LevelView
	for _, p := range perms {
		l := permissionLevel(p)
		if l == LevelCustom {
			return LevelCustom
		}
		if l.Rank() > top.Rank() {
			top = l
		}
	}
	return top
}

// permissionLevel is the level one permission needs (see RatePermissions).
func permissionLevel(p string) Level {
	parts := strings.Split(strings.ToLower(p), ".")
	verb := parts[len(parts)-1]
	has := func(names ...string) bool {
		for _, part := range parts[:len(parts)-1] {
			for _, n := range names {
				if part == strings.ToLower(n) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case len(parts) < 2:
		return LevelCustom
	case verb == "get" || verb == "list" || verb == "read":
		return LevelView
	case has("dags", "dagRuns", "taskInstances", "datasets", "dagTags"):
		return LevelAuthor
	case verb == "deploy":
		return LevelAuthor
	case has("apiTokens", "users", "teams", "roles"):
		return LevelAdmin
	case verb == "delete":
		return LevelAdmin
	case verb == "update" || verb == "create":
		return LevelOperate
	}
	return LevelCustom
}
