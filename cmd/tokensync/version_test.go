package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestResolveBuild: -ldflags win; without them the module version of
// `go install …@version` and the VCS settings fill in, and "dev" is left
// only when nothing at all is known.
func TestResolveBuild(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2025-01-02T15:04:05Z"},
	}
	tests := []struct {
		name string
		ld   build
		info *debug.BuildInfo
		want build
	}{
		{
			name: "release: ldflags set everything",
			ld:   build{Version: "v1.2.3", Commit: "abc1234", Date: "2025-03-04T05:06:07Z"},
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			want: build{Version: "v1.2.3", Commit: "abc1234", Date: "2025-03-04T05:06:07Z"},
		},
		{
			name: "go install of a tagged version",
			ld:   build{Version: "dev"},
			info: &debug.BuildInfo{Main: debug.Module{Path: "github.com/tokensync/tokensync", Version: "v1.2.3"}},
			want: build{Version: "v1.2.3"},
		},
		{
			name: "go install of a commit: the pseudo-version names it",
			ld:   build{Version: "dev"},
			info: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20250102150405-0123456789ab"}},
			want: build{Version: "v0.0.0-20250102150405-0123456789ab", Commit: "0123456789ab", Date: "2025-01-02T15:04:05Z"},
		},
		{
			name: "go install of a commit after a prerelease tag",
			ld:   build{Version: "dev"},
			info: &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0-rc.1.0.20250102150405-0123456789ab+incompatible"}},
			want: build{Version: "v1.3.0-rc.1.0.20250102150405-0123456789ab+incompatible", Commit: "0123456789ab", Date: "2025-01-02T15:04:05Z"},
		},
		{
			name: "go build in a checkout: VCS settings, no version",
			ld:   build{Version: "dev"},
			info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			want: build{Version: "dev", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2025-01-02T15:04:05Z"},
		},
		{
			name: "go build with the version Go stamps from a tag",
			ld:   build{Version: "dev"},
			info: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: vcs},
			want: build{Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2025-01-02T15:04:05Z"},
		},
		{
			name: "no build info",
			ld:   build{Version: "dev"},
			want: build{Version: "dev"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, resolveBuild(tt.ld, tt.info)); diff != "" {
				t.Errorf("resolveBuild (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVersionLine: a release says version, commit and date; a build from
// source says what is known and "built from source", never "unknown".
func TestVersionLine(t *testing.T) {
	for _, tt := range []struct {
		b    build
		want string
	}{
		{build{Version: "v1.2.3", Commit: "abc1234", Date: "2025-03-04T05:06:07Z"}, "tokensync v1.2.3 (commit abc1234, built 2025-03-04T05:06:07Z)"},
		{build{Version: "dev", Commit: "0123456789ab"}, "tokensync dev (commit 0123456789ab, built from source)"},
		{build{Version: "v1.2.3"}, "tokensync v1.2.3 (built from source)"},
		{build{Version: "dev"}, "tokensync dev (built from source)"},
	} {
		if got := versionLine(tt.b); got != tt.want {
			t.Errorf("versionLine(%+v) = %q, want %q", tt.b, got, tt.want)
		}
	}
}

// TestVersionWithoutVCS builds the binary as a clone without VCS
// information would (-buildvcs=false): it says "built from source", not
// "unknown".
func TestVersionWithoutVCS(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tokensync")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", out, "./cmd/tokensync")
	cmd.Dir = repoRoot
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	got, err := exec.Command(out, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, got)
	}
	if want := "tokensync dev (built from source)\n"; string(got) != want {
		t.Errorf("version without VCS information = %q, want %q", got, want)
	}
}
