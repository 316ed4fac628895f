#!/usr/bin/env bash
# Installs tokensync for the GitHub Action (action.yml).
#
# A release version (vX.Y.Z, or "latest") is downloaded from the release as
# the archive for this runner's OS and architecture, and installed only if
# its SHA-256 matches the release's checksums file. Any other ref (a branch
# or a commit) is built with `go install`, which needs Go on the runner.
#
# Environment: TOKENSYNC_VERSION (default latest), TOKENSYNC_DOWNLOAD_URL
# (the releases' download base), GITHUB_API_URL and GITHUB_TOKEN (to find
# the latest release), RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_OUTPUT,
# GITHUB_PATH. Writes the binary's path to the step output "bin".
set -euo pipefail

repo=tokensync/tokensync
version=${TOKENSYNC_VERSION:-latest}
download_url=${TOKENSYNC_DOWNLOAD_URL:-https://github.com/$repo/releases/download}
api_url=${GITHUB_API_URL:-https://api.github.com}

die() {
	echo "::error::tokensync install: $*" >&2
	exit 1
}

# fetch URL FILE: download with retries. The token is sent only to the
# API, as a config on stdin from a here-string (written in full by the
# shell before curl starts), never on the command line; nothing is piped
# into a curl that may not read it.
fetch() {
	if [ -n "${GITHUB_TOKEN:-}" ] && [[ "$1" == "$api_url"/* ]]; then
		curl -fsSL --retry 3 --retry-delay 1 --config - -o "$2" "$1" <<<"header = \"Authorization: Bearer $GITHUB_TOKEN\""
	else
		curl -fsSL --retry 3 --retry-delay 1 -o "$2" "$1"
	fi
}

case "${RUNNER_OS:-$(uname -s)}" in
Linux | linux) os=linux ;;
macOS | Darwin) os=darwin ;;
Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
*) die "unsupported OS ${RUNNER_OS:-$(uname -s)}" ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
X64 | x86_64 | amd64) arch=amd64 ;;
ARM64 | aarch64 | arm64) arch=arm64 ;;
*) die "unsupported architecture ${RUNNER_ARCH:-$(uname -m)}" ;;
esac
exe=tokensync
[ "$os" = windows ] && exe=tokensync.exe

tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tokensync-install.XXXXXX")

if [ "$version" = latest ]; then
	fetch "$api_url/repos/$repo/releases/latest" "$tmp/latest.json" ||
		die "find the latest release at $api_url/repos/$repo/releases/latest"
	version=$(jq -r '.tag_name // empty' "$tmp/latest.json")
	[ -n "$version" ] || die "the latest release has no tag_name"
fi

dest="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-$tmp}}/tokensync/$version/$os-$arch"
mkdir -p "$dest"

if [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
	v=${version#v}
	ext=tar.gz
	[ "$os" = windows ] && ext=zip
	archive="tokensync_${v}_${os}_${arch}.$ext"
	sums="tokensync_${v}_checksums.txt"
	echo "Downloading $archive ($version)" >&2
	fetch "$download_url/$version/$archive" "$tmp/$archive" || die "download $download_url/$version/$archive"
	fetch "$download_url/$version/$sums" "$tmp/$sums" || die "download $download_url/$version/$sums"
	want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/$sums")
	[ -n "$want" ] || die "$sums lists no checksum for $archive"
	if command -v sha256sum >/dev/null; then
		got=$(sha256sum "$tmp/$archive" | awk '{ print $1 }')
	else
		got=$(shasum -a 256 "$tmp/$archive" | awk '{ print $1 }')
	fi
	[ "$got" = "$want" ] || die "checksum mismatch for $archive: $sums says $want, the download is $got; not installed"
	echo "Checksum verified: $archive sha256 $got" >&2
	if [ "$ext" = zip ]; then
		unzip -q -o "$tmp/$archive" "$exe" -d "$tmp/x"
	else
		mkdir -p "$tmp/x" && tar -xzf "$tmp/$archive" -C "$tmp/x" "$exe"
	fi
	mv "$tmp/x/$exe" "$dest/$exe"
else
	command -v go >/dev/null || die "$version is not a release version (vX.Y.Z), and building it needs Go on the runner (actions/setup-go)"
	echo "Building github.com/$repo/cmd/tokensync@$version with go install" >&2
	GOBIN="$dest" go install "github.com/$repo/cmd/tokensync@$version" || die "go install github.com/$repo/cmd/tokensync@$version"
fi
chmod +x "$dest/$exe"
rm -rf "$tmp"

"$dest/$exe" version >&2
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	echo "bin=$dest/$exe" >>"$GITHUB_OUTPUT"
	echo "version=$version" >>"$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_PATH:-}" ]; then
	echo "$dest" >>"$GITHUB_PATH"
fi
