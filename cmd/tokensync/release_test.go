package main

// The release (.goreleaser.yaml), its image (Dockerfile) and the examples
// that name them must agree: a user who copies an example gets the image
// and the binary the release publishes.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	gosync "sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// repoRoot is the repository's root, from this package's directory.
const repoRoot = "../.."

// releaseConfig is the part of .goreleaser.yaml the tests read.
type releaseConfig struct {
	Version     int    `yaml:"version"`
	ProjectName string `yaml:"project_name"`
	Builds      []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
	} `yaml:"builds"`
	Archives []struct {
		NameTemplate string `yaml:"name_template"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
	} `yaml:"checksum"`
	Dockers []struct {
		IDs        []string `yaml:"ids"`
		Dockerfile string   `yaml:"dockerfile"`
		Images     []string `yaml:"images"`
		Tags       []string `yaml:"tags"`
		Platforms  []string `yaml:"platforms"`
		ExtraFiles []string `yaml:"extra_files"`
	} `yaml:"dockers_v2"`
}

func goreleaserConfig(t *testing.T) releaseConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c releaseConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	if c.Version != 2 || len(c.Builds) != 1 || len(c.Archives) != 1 || len(c.Dockers) != 1 {
		t.Fatalf(".goreleaser.yaml: want version 2 with one build, one archive and one image, got %+v", c)
	}
	return c
}

// dockerfile is what the tests read of the Dockerfile: its instructions,
// keyword upper-cased, arguments as written.
func dockerfile(t *testing.T, name string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	ins := map[string][]string{}
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kw, arg, _ := strings.Cut(line, " ")
		ins[strings.ToUpper(kw)] = append(ins[strings.ToUpper(kw)], strings.TrimSpace(arg))
	}
	return ins
}

// cronJobContainer is the container of examples/ci/cronjob.yaml.
type cronJobContainer struct {
	Image        string   `yaml:"image"`
	Command      []string `yaml:"command"`
	Args         []string `yaml:"args"`
	Env          []struct{ Name, Value string }
	VolumeMounts []struct {
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	SecurityContext struct {
		ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
}

func cronJob(t *testing.T) (c cronJobContainer, runAsUser int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples/ci/cronjob.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cj struct {
		Spec struct {
			JobTemplate struct {
				Spec struct {
					Template struct {
						Spec struct {
							SecurityContext struct {
								RunAsUser int `yaml:"runAsUser"`
							} `yaml:"securityContext"`
							Containers []cronJobContainer `yaml:"containers"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &cj); err != nil {
		t.Fatal(err)
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("cronjob.yaml: want one container, got %d", len(pod.Containers))
	}
	return pod.Containers[0], pod.SecurityContext.RunAsUser
}

// releaseTag is the form of the tags the release is made from.
var releaseTag = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)

// TestReleaseImageAgreesWithExamples: the CronJob names the image the
// release publishes, with a release tag, and runs the Dockerfile's
// entrypoint as the Dockerfile's user; the Dockerfile copies the binary
// the release builds, for the platforms it builds.
func TestReleaseImageAgreesWithExamples(t *testing.T) {
	cfg := goreleaserConfig(t)
	build, img := cfg.Builds[0], cfg.Dockers[0]
	df := dockerfile(t, img.Dockerfile)
	c, runAsUser := cronJob(t)

	repo, tag, ok := strings.Cut(c.Image, ":")
	if !ok || !slices.Contains(img.Images, repo) || !releaseTag.MatchString(tag) || !slices.Contains(img.Tags, "{{ .Tag }}") {
		t.Errorf("the CronJob's image %q is not one the release publishes: images %v, tags %v", c.Image, img.Images, img.Tags)
	}
	if want := "ghcr.io/tokensync/tokensync"; !slices.Contains(img.Images, want) {
		t.Errorf("release images %v, want %s (the module's GitHub owner and name)", img.Images, want)
	}

	var entrypoint []string
	if len(df["ENTRYPOINT"]) != 1 || json.Unmarshal([]byte(df["ENTRYPOINT"][0]), &entrypoint) != nil {
		t.Fatalf("Dockerfile ENTRYPOINT %v: want one, in exec (JSON) form", df["ENTRYPOINT"])
	}
	for _, check := range []struct {
		what      string
		got, want any
	}{
		{"Dockerfile FROM", df["FROM"], []string{"scratch"}},
		{"Dockerfile USER", df["USER"], []string{"65532:65532"}},
		{"Dockerfile ENTRYPOINT", entrypoint, []string{build.Binary}},
		{"CronJob command", c.Command, entrypoint},
		{"CronJob runAsUser", runAsUser, 65532},
		{"CronJob readOnlyRootFilesystem", c.SecurityContext.ReadOnlyRootFilesystem, true},
		{"image platforms", img.Platforms, []string{"linux/amd64", "linux/arm64"}},
		{"image builds", img.IDs, []string{build.ID}},
	} {
		if diff := cmp.Diff(check.want, check.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", check.what, diff)
		}
	}

	// The binary is copied from the build context's <platform>/ directory,
	// where goreleaser puts it, onto the image's PATH; the CA bundle too.
	var binDest string
	for _, cp := range df["COPY"] {
		src, dst, _ := strings.Cut(cp, " ")
		if src == "$TARGETPLATFORM/"+build.Binary {
			binDest = dst
		}
	}
	if binDest == "" || filepath.Base(binDest) != build.Binary {
		t.Errorf("Dockerfile COPY %v: want $TARGETPLATFORM/%s copied to a directory on PATH", df["COPY"], build.Binary)
	}
	if !slices.Contains(df["ENV"], "PATH="+filepath.Dir(binDest)) {
		t.Errorf("Dockerfile ENV %v: want PATH=%s", df["ENV"], filepath.Dir(binDest))
	}
	const certs = "/etc/ssl/certs/ca-certificates.crt"
	if !slices.Contains(img.ExtraFiles, certs) || !slices.Contains(df["COPY"], strings.TrimPrefix(certs, "/")+" "+certs) {
		t.Errorf("the image lacks the CA bundle: extra_files %v, COPY %v", img.ExtraFiles, df["COPY"])
	}
}

// TestReleaseBuild: the release's build is static (CGO_ENABLED=0,
// -trimpath) for every platform the issue names, and its ldflags reach the
// variables `tokensync version` prints: a released binary never says dev.
func TestReleaseBuild(t *testing.T) {
	cfg := goreleaserConfig(t)
	b := cfg.Builds[0]
	for _, check := range []struct {
		what      string
		got, want any
	}{
		{"main", b.Main, "./cmd/tokensync"},
		{"env", b.Env, []string{"CGO_ENABLED=0"}},
		{"flags", b.Flags, []string{"-trimpath"}},
		{"goos", b.Goos, []string{"linux", "darwin", "windows"}},
		{"goarch", b.Goarch, []string{"amd64", "arm64"}},
	} {
		if diff := cmp.Diff(check.want, check.got); diff != "" {
			t.Errorf("build %s (-want +got):\n%s", check.what, diff)
		}
	}

	bin := buildTokensync(t, "v1.2.3")
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	want := "tokensync v1.2.3 (commit 0123456789abcdef0123456789abcdef01234567, built 2025-01-02T15:04:05Z)\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("version of a release build (-want +got):\n%s", diff)
	}
}

// builds are the binaries buildTokensync made, by version: each version
// is built once per test binary (a build takes seconds on a loaded
// machine, and a dozen tests use one), and TestMain removes them.
var builds struct {
	mu   gosync.Mutex
	dir  string
	bins map[string]string
}

// removeBuilds removes the binaries buildTokensync made.
func removeBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
}

// buildTokensync builds cmd/tokensync with the release's ldflags (from
// .goreleaser.yaml, rendered with the given version), once per version;
// callers share the binary and must not change it.
func buildTokensync(t *testing.T, version string) string {
	t.Helper()
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if bin, ok := builds.bins[version]; ok {
		return bin
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "tokensync-test-build-")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.bins = dir, map[string]string{}
	}
	dir, err := os.MkdirTemp(builds.dir, "build-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "tokensync")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	b := goreleaserConfig(t).Builds[0]
	ldflags := renderTemplate(t, strings.Join(b.Ldflags, " "), map[string]string{
		"Version":    strings.TrimPrefix(version, "v"),
		"FullCommit": "0123456789abcdef0123456789abcdef01234567",
		"CommitDate": "2025-01-02T15:04:05Z",
	})
	args := append([]string{"build", "-o", out, "-ldflags", ldflags}, b.Flags...)
	cmd := exec.Command("go", append(args, "./cmd/tokensync")...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	builds.bins[version] = out
	return out
}

// renderTemplate fills goreleaser's {{ .Name }} fields; any other template
// syntax fails the test, so the config stays within what tests understand.
func renderTemplate(t *testing.T, s string, fields map[string]string) string {
	t.Helper()
	re := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	s = re.ReplaceAllStringFunc(s, func(m string) string {
		name := re.FindStringSubmatch(m)[1]
		v, ok := fields[name]
		if !ok {
			t.Fatalf("template field %s in %q is not known to the test", name, s)
		}
		return v
	})
	if strings.Contains(s, "{{") {
		t.Fatalf("unrendered template in %q", s)
	}
	return s
}
