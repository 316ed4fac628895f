#!/usr/bin/env bash
# Runs tokensync for the GitHub Action (action.yml): plan, or plan then
# apply of exactly that plan. Writes the plan as markdown to the job
# summary and, on pull requests, to the comment found by the marker
# <!-- tokensync-plan --> (comment.sh); sets the step outputs exit-code,
# has-changes, plan-file and markdown-file.
#
# Environment: TOKENSYNC_BIN, INPUT_COMMAND (plan or apply), INPUT_FILES
# (spec files or directories, separated by spaces or newlines), INPUT_ARGS
# (more flags for tokensync, see args below), INPUT_FAIL_ON_CHANGES,
# INPUT_COMMENT, INPUT_COMMENT_AUTHOR (comment.sh), and GitHub's
# GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_EVENT_NAME, RUNNER_TEMP.
#
# Exit status: tokensync's, except that a plan with changes (2) succeeds
# unless INPUT_FAIL_ON_CHANGES is true.
set -euo pipefail

marker='<!-- tokensync-plan -->'
bin=${TOKENSYNC_BIN:-tokensync}
command=${INPUT_COMMAND:-plan}

die() {
	echo "::error::tokensync: $*" >&2
	exit 1
}

case "$command" in
plan | apply) ;;
*) die "command must be plan or apply, not \"$command\"" ;;
esac

files=()
read -r -d '' -a words <<<"${INPUT_FILES:-}" || true
for f in ${words[@]+"${words[@]}"}; do
	files+=(-f "$f")
done
[ "${#files[@]}" -gt 0 ] || die "the files input is empty"

# args: each flag goes where it means something. Flags that shape the plan
# go to the plan, and the saved plan carries them to apply: --target,
# --policy and --policy-mode only there, as apply refuses them with a saved
# plan (which records the policies' verdict); --prune and the guards'
# flags go to apply too, which checks the guards again on the saved plan
# (its own defaults would refuse a plan made with a higher --max-removals).
# The connection's flags and --parallelism go to both; --audit-log to
# apply alone. The flags the Action sets itself, and any other, are
# refused.
argv=()
read -r -d '' -a argv <<<"${INPUT_ARGS:-}" || true
plan_args=()
apply_args=()
apply_only=()
i=0
for word in ${argv[@]+"${argv[@]}"}; do
	case "$word" in
	*\"* | *\'*) die "args: words are split on spaces and quotes are kept ($word): name a workspace or deployment whose name has spaces by its id" ;;
	esac
done
while [ "$i" -lt "${#argv[@]}" ]; do
	word=${argv[i]}
	name=${word%%=*}
	flag=("$word")
	case "$name" in
	--target | --policy | --policy-mode | --protect | --max-removals | --audit-log | --api-url | --organization | --token-file | --emulate | --parallelism | --max-retries | --timeout)
		if [ "$name" = "$word" ]; then
			[ $((i + 1)) -lt "${#argv[@]}" ] || die "args: $name needs a value"
			i=$((i + 1))
			flag+=("${argv[i]}")
		fi
		;;
	esac
	case "$name" in
	--target | --policy | --policy-mode) plan_args+=("${flag[@]}") ;;
	--audit-log)
		apply_args+=("${flag[@]}")
		apply_only+=("$name")
		;;
	--prune | --max-removals | --protect | --api-url | --organization | --token-file | --emulate | --parallelism | --max-retries | --timeout | --no-color | -v | --verbose)
		plan_args+=("${flag[@]}")
		apply_args+=("${flag[@]}")
		;;
	-f | --file | -o | --output | --out | --detailed-exitcode | -y | --yes | --dry-run)
		die "args: the Action sets $name itself (spec files go in the files input)" ;;
	*) die "args: $word is not a flag the Action passes to tokensync (see docs/ci.md)" ;;
	esac
	i=$((i + 1))
done

if [ "$command" = plan ] && [ "${#apply_only[@]}" -gt 0 ]; then
	echo "::warning::tokensync: args: ${apply_only[*]} is for apply alone; command plan does not use it" >&2
fi

out=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tokensync.XXXXXX")
plan_file="$out/plan.json"
md="$out/plan.md"
log="$out/tokensync.log"

# fence prints a code fence longer than any run of backticks in file $1.
fence() {
	local longest
	longest=$(grep -o '`*' "$1" | awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }')
	[ "$longest" -ge 3 ] || longest=2
	printf '%*s' "$((longest + 1))" '' | tr ' ' '`'
}

# details TITLE FILE appends FILE to the markdown as a collapsed code block.
details() {
	[ -s "$2" ] || return 0
	local f
	f=$(fence "$2")
	{
		printf '\n<details><summary>%s</summary>\n\n%s text\n' "$1" "$f"
		if [ "$(wc -c <"$2")" -gt 4000 ]; then
			printf '[…the first %d bytes are in the job log]\n' "$(($(wc -c <"$2") - 4000))"
		fi
		tail -c 4000 "$2"
		printf '\n%s\n</details>\n' "$f"
	} >>"$md"
}

set +e
"$bin" plan ${files[@]+"${files[@]}"} -o markdown --detailed-exitcode --out "$plan_file" ${plan_args[@]+"${plan_args[@]}"} >"$md" 2>"$log"
code=$?
set -e
cat "$log" >&2
# Where the plan was saved is said by the outputs, not in the comment;
# the workflow commands (::error file=…) are GitHub's annotations, each the
# repeat of a line of the log, and are left out of it too.
grep -v -e '^Saved the plan to ' -e '^::' "$log" >"$log.shown" || true
mv "$log.shown" "$log"
has_changes=false
[ "$code" -eq 2 ] && has_changes=true

if [ "$code" -ne 0 ] && [ "$code" -ne 2 ]; then
	# The plan failed (invalid spec, refused guard, API error). Post what
	# tokensync said, under the marker, so the comment shows the failure.
	# The first line, read without a pipe: grep -q would stop reading at
	# its first match, and head could then die of SIGPIPE.
	first=""
	IFS= read -r first <"$md" || true
	if [[ "$first" != *"$marker"* ]]; then
		{
			printf '%s\n### tokensync %s failed (exit %d)\n' "$marker" "$command" "$code"
			if [ -s "$md" ]; then
				printf '\n'
				cat "$md"
			fi
		} >"$md.new"
		mv "$md.new" "$md"
		f=$(fence "$log")
		printf '\n%s text\n%s\n%s\n' "$f" "$(head -c 60000 "$log")" "$f" >>"$md"
	else
		# The markdown lists each error (file:line:col: message) already;
		# the details keep the rest of what tokensync said, warnings too.
		awk '/:[0-9]+:[0-9]+: / && !/:[0-9]+:[0-9]+: warning: / { next } { print }' "$log" >"$log.shown"
		mv "$log.shown" "$log"
		printf '\n**tokensync %s failed (exit %d).**\n' "$command" "$code" >>"$md"
		details "tokensync output" "$log"
	fi
	[ -s "$plan_file" ] || plan_file=""
elif [ "$command" = apply ] && [ "$code" -eq 2 ]; then
	# Apply exactly the plan just shown; tokensync refuses (exit 5) if any
	# token changed since, or if the spec is not the one planned.
	set +e
	"$bin" apply "$plan_file" ${files[@]+"${files[@]}"} --yes ${apply_args[@]+"${apply_args[@]}"} >"$log" 2>&1
	code=$?
	set -e
	cat "$log" >&2
	if [ "$code" -eq 0 ]; then
		printf '\n**Applied.**\n' >>"$md"
	else
		printf '\n**Apply failed (exit %d).**\n' "$code" >>"$md"
	fi
	details "tokensync apply" "$log"
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
	cat "$md" >>"$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	{
		echo "exit-code=$code"
		echo "has-changes=$has_changes"
		echo "plan-file=$plan_file"
		echo "markdown-file=$md"
	} >>"$GITHUB_OUTPUT"
fi

case "${GITHUB_EVENT_NAME:-}" in
pull_request | pull_request_target)
	if [ "${INPUT_COMMENT:-true}" = true ]; then
		bash "$(dirname "$0")/comment.sh" "$md" ||
			echo "::warning::tokensync: the plan could not be posted as a pull-request comment (does the job have pull-requests: write?)" >&2
	fi
	;;
esac

if [ "$code" -eq 2 ] && [ "${INPUT_FAIL_ON_CHANGES:-false}" != true ]; then
	exit 0
fi
exit "$code"
