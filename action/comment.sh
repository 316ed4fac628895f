#!/usr/bin/env bash
# Creates or updates the pull-request comment that carries the marker
# <!-- tokensync-plan -->, so each push updates one comment in place. Only a
# comment the Action's own identity wrote is updated: anyone who can comment
# can write the marker, and such a comment is left alone (a new one is
# posted).
# Usage: comment.sh FILE (the comment's markdown).
#
# Environment: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH (the
# pull_request payload names the number), GITHUB_TOKEN (needs
# pull-requests: write), INPUT_COMMENT_AUTHOR (the login GITHUB_TOKEN posts
# as; default github-actions[bot], the login of the workflow's token).
set -euo pipefail

marker='<!-- tokensync-plan -->'
author=${INPUT_COMMENT_AUTHOR:-github-actions[bot]}
body_file=$1
api=${GITHUB_API_URL:-https://api.github.com}
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}
[ -n "${GITHUB_TOKEN:-}" ] || {
	echo "tokensync comment: no token" >&2
	exit 1
}
number=$(jq -r '.pull_request.number // .number // empty' "${GITHUB_EVENT_PATH:?GITHUB_EVENT_PATH is not set}")
[ -n "$number" ] || {
	echo "tokensync comment: the event payload names no pull request" >&2
	exit 1
}

# gh METHOD URL [BODY_FILE]: one REST call. The token goes to curl as a
# config on stdin from a here-string, which the shell writes in full before
# curl starts: never on the command line, and no pipe from a process that
# could die of SIGPIPE when curl does not read it.
gh() {
	local data=()
	[ $# -ge 3 ] && data=(--data-binary "@$3")
	curl -fsS --retry 3 --retry-delay 1 --config - -X "$1" \
		-H 'Accept: application/vnd.github+json' \
		-H 'X-GitHub-Api-Version: 2022-11-28' \
		-H 'Content-Type: application/json' \
		${data[@]+"${data[@]}"} "$2" <<<"header = \"Authorization: Bearer $GITHUB_TOKEN\""
}

# Find our comment: the first one with the marker that the Action's own
# identity wrote.
id=""
page=1
while [ -z "$id" ]; do
	comments=$(gh GET "$api/repos/$repo/issues/$number/comments?per_page=100&page=$page")
	id=$(jq -r --arg m "$marker" --arg a "$author" '[(. // [])[] | select(.user.login == $a and (.body // "" | contains($m)))][0].id // empty' <<<"$comments")
	[ "$(jq length <<<"$comments")" -eq 100 ] || break
	page=$((page + 1))
done

payload=$(mktemp)
trap 'rm -f "$payload"' EXIT
jq -Rs '{body: .}' <"$body_file" >"$payload"
if [ -n "$id" ]; then
	gh PATCH "$api/repos/$repo/issues/comments/$id" "$payload" >/dev/null
	echo "Updated the plan comment on pull request #$number" >&2
else
	gh POST "$api/repos/$repo/issues/$number/comments" "$payload" >/dev/null
	echo "Posted the plan comment on pull request #$number" >&2
fi
