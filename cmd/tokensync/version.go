package main

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"time"
)

// date is set at build time with -ldflags, like version and commit (the
// release sets all three; see .goreleaser.yaml).
var date = ""

func init() {
	info, _ := debug.ReadBuildInfo() // nil when the binary has none
	b := resolveBuild(build{Version: version, Commit: commit, Date: date}, info)
	version, commit, date = b.Version, b.Commit, b.Date
}

// build names the binary: what `tokensync version`, the User-Agent and
// saved plans say.
type build struct{ Version, Commit, Date string }

// pseudoVersion matches the tail of a Go pseudo-version
// (v0.0.0-20250102150405-abcdef123456): the commit's time and hash.
var pseudoVersion = regexp.MustCompile(`[-.](\d{14})-([0-9a-f]{12})(\+.*)?$`)

// resolveBuild fills what -ldflags left unset from the build info Go
// records: the module version of `go install …@version`, the VCS revision
// and time of a build in a checkout, or the commit a pseudo-version names.
func resolveBuild(ld build, info *debug.BuildInfo) build {
	b := ld
	if b.Version == "dev" {
		b.Version = ""
	}
	if info != nil {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
		if m := pseudoVersion.FindStringSubmatch(info.Main.Version); m != nil {
			if b.Commit == "" {
				b.Commit = m[2]
			}
			if t, err := time.Parse("20060102150405", m[1]); err == nil && b.Date == "" {
				b.Date = t.UTC().Format(time.RFC3339)
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// versionLine is what `tokensync version` prints: a release build says
// `tokensync vX (commit C, built D)`; a build from source says what Go
// recorded (the module version, the commit) and "built from source" for
// what it did not, rather than "unknown".
func versionLine(b build) string {
	if b.Commit != "" && b.Date != "" {
		return fmt.Sprintf("tokensync %s (commit %s, built %s)", b.Version, b.Commit, b.Date)
	}
	if b.Commit != "" {
		return fmt.Sprintf("tokensync %s (commit %s, built from source)", b.Version, b.Commit)
	}
	return fmt.Sprintf("tokensync %s (built from source)", b.Version)
}
