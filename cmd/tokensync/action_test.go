package main

// The GitHub Action (action.yml and action/*.sh), run end to end as a
// runner would: the composite steps with GitHub's environment variables,
// a fake release to download from, a fake GitHub REST API for the
// pull-request comment, and the emulator as the Astro API.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/planfile"
	"go.yaml.in/yaml/v3"
)

const (
	ghToken      = "ghs-test-workflow-token-7d1e"
	planMarker   = "<!-- tokensync-plan -->"
	testRepo     = "acme/access"
	testPRNumber = 42
)

// fakeRelease serves the archives and checksums file of one release, laid
// out as GitHub serves release downloads (<base>/<tag>/<file>) and named as
// .goreleaser.yaml names them. Every platform's archive holds bin.
type fakeRelease struct {
	URL       string
	Tag       string
	Archive   string // this machine's archive
	files     map[string][]byte
	mu        gosync.Mutex
	downloads []string
}

func newFakeRelease(t *testing.T, tag, bin string) *fakeRelease {
	t.Helper()
	cfg := goreleaserConfig(t)
	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimPrefix(tag, "v")
	r := &fakeRelease{Tag: tag, files: map[string][]byte{}}
	var sums strings.Builder
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, goarch := range []string{"amd64", "arm64"} {
			name := renderTemplate(t, cfg.Archives[0].NameTemplate, map[string]string{
				"ProjectName": cfg.ProjectName, "Version": version, "Os": goos, "Arch": goarch,
			})
			// Only this machine's archive holds the binary; the others,
			// never installed here, a stand-in.
			content := []byte("#!/bin/sh\necho not for this platform; exit 1\n")
			if goos == runtime.GOOS && goarch == runtime.GOARCH {
				content = exe
			}
			var data []byte
			if goos == "windows" {
				name += ".zip"
				data = zipArchive(t, "tokensync.exe", content)
			} else {
				name += ".tar.gz"
				data = tarArchive(t, "tokensync", content)
			}
			if goos == runtime.GOOS && goarch == runtime.GOARCH {
				r.Archive = name
			}
			r.files[name] = data
			fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(data), name)
		}
	}
	sumsName := renderTemplate(t, cfg.Checksum.NameTemplate, map[string]string{"ProjectName": cfg.ProjectName, "Version": version})
	r.files[sumsName] = []byte(sums.String())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.downloads = append(r.downloads, req.URL.Path)
		name, ok := strings.CutPrefix(req.URL.Path, "/download/"+r.Tag+"/")
		data, found := r.files[name]
		if !ok || !found {
			http.NotFound(w, req)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/download"
	return r
}

// corrupt changes the archive of this machine after its checksum was taken.
func (r *fakeRelease) corrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	data := bytes.Clone(r.files[r.Archive])
	data[len(data)/2] ^= 0xff
	r.files[r.Archive] = data
}

func tarArchive(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		data []byte
		mode int64
	}{{"README.md", []byte("# tokensync\n"), 0o644}, {name, data, 0o755}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipArchive(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ghComment is an issue comment as GitHub's REST API returns it.
type ghComment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User struct {
		Login string `json:"login"`
	} `json:"user"`
}

// fakeGitHub is the part of GitHub's REST API the Action uses: the latest
// release, and listing, creating and updating a pull request's comments.
type fakeGitHub struct {
	URL string
	t   *testing.T

	mu        gosync.Mutex
	login     string // the identity the token posts as
	latest    string
	comments  []ghComment
	nextID    int64
	requests  []string // "METHOD /path"
	forbidden bool     // answer writes with 403, as for a token without pull-requests: write
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	g := &fakeGitHub{t: t, nextID: 1000, login: "github-actions[bot]"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/tokensync/tokensync/releases/latest", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"tag_name": g.latest})
	})
	comments := fmt.Sprintf("/repos/%s/issues/%d/comments", testRepo, testPRNumber)
	mux.HandleFunc("GET "+comments, func(w http.ResponseWriter, r *http.Request) {
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if per <= 0 || per > 100 {
			per = 30
		}
		page = max(page, 1)
		lo, hi := min((page-1)*per, len(g.comments)), min(page*per, len(g.comments))
		json.NewEncoder(w).Encode(append([]ghComment{}, g.comments[lo:hi]...)) // [] when none, as GitHub
	})
	mux.HandleFunc("POST "+comments, func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Body string }
		if !g.decode(w, r, &in) {
			return
		}
		c := ghComment{ID: g.nextID, Body: in.Body}
		c.User.Login = g.login
		g.nextID++
		g.comments = append(g.comments, c)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(c)
	})
	mux.HandleFunc(fmt.Sprintf("PATCH /repos/%s/issues/comments/{id}", testRepo), func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Body string }
		if !g.decode(w, r, &in) {
			return
		}
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		for i := range g.comments {
			if g.comments[i].ID == id {
				g.comments[i].Body = in.Body
				json.NewEncoder(w).Encode(g.comments[i])
				return
			}
		}
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.requests = append(g.requests, r.Method+" "+r.URL.Path)
		if got := r.Header.Get("Authorization"); got != "Bearer "+ghToken {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		if g.forbidden && r.Method != http.MethodGet {
			http.Error(w, `{"message":"Resource not accessible by integration"}`, http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

func (g *fakeGitHub) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

// addComments adds n comments by people, before the Action's.
func (g *fakeGitHub) addComments(n int) {
	for i := range n {
		g.plant("reviewer", fmt.Sprintf("looks good %d", i))
	}
}

// plant adds a comment by login and returns its id.
func (g *fakeGitHub) plant(login, body string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := ghComment{ID: g.nextID, Body: body}
	c.User.Login = login
	g.nextID++
	g.comments = append(g.comments, c)
	return c.ID
}

// comment returns the comment with the id.
func (g *fakeGitHub) comment(id int64) ghComment {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.comments {
		if c.ID == id {
			return c
		}
	}
	g.t.Fatalf("no comment %d", id)
	return ghComment{}
}

// marked returns the comments that carry the plan marker.
func (g *fakeGitHub) marked() []ghComment {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []ghComment
	for _, c := range g.comments {
		if strings.Contains(c.Body, planMarker) {
			out = append(out, c)
		}
	}
	return out
}

// writes counts the POST and PATCH requests.
func (g *fakeGitHub) writes() (posts, patches int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range g.requests {
		switch {
		case strings.HasPrefix(r, "POST "):
			posts++
		case strings.HasPrefix(r, "PATCH "):
			patches++
		}
	}
	return posts, patches
}

// actionYAML is the part of action.yml the runner below reads.
type actionYAML struct {
	Inputs map[string]struct {
		Default  string `yaml:"default"`
		Required bool   `yaml:"required"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID               string            `yaml:"id"`
			Shell            string            `yaml:"shell"`
			WorkingDirectory string            `yaml:"working-directory"`
			Env              map[string]string `yaml:"env"`
			Run              string            `yaml:"run"`
			If               string            `yaml:"if"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

// runner runs action.yml's composite steps as GitHub's runner does: each
// step's script in bash -eo pipefail, with its own GITHUB_OUTPUT file, the
// job's summary file, and ${{ }} expressions over inputs, steps and github.
type runner struct {
	t         *testing.T
	work      string            // the checkout: the job's working directory
	actionRef string            // the @ref of `uses:`
	event     string            // GITHUB_EVENT_NAME
	env       map[string]string // more environment, e.g. ASTRO_*
	summary   string            // the job's GITHUB_STEP_SUMMARY file
	temp      string            // RUNNER_TEMP
	toolCache string            // RUNNER_TOOL_CACHE
	ghAPI     string            // GITHUB_API_URL
	path      []string          // directories prepended to PATH
	stopAfter string            // the id of the last step to run, if not all
}

// actionRun is what one use of the Action did.
type actionRun struct {
	code    int               // the failing step's exit code, or 0
	outputs map[string]string // the Action's outputs
	log     string            // every step's stdout and stderr
}

func newRunner(t *testing.T, work string) *runner {
	t.Helper()
	r := &runner{
		t: t, work: work, event: "pull_request", env: map[string]string{},
		summary: filepath.Join(t.TempDir(), "step_summary.md"),
		temp:    t.TempDir(), toolCache: t.TempDir(),
	}
	event := filepath.Join(t.TempDir(), "event.json")
	payload := fmt.Sprintf(`{"action":"synchronize","number":%d,"pull_request":{"number":%d,"head":{"sha":"abc"}},"repository":{"full_name":%q}}`, testPRNumber, testPRNumber, testRepo)
	if err := os.WriteFile(event, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	r.env["GITHUB_EVENT_PATH"] = event
	return r
}

func (r *runner) readSummary() string {
	r.t.Helper()
	b, err := os.ReadFile(r.summary)
	if err != nil && !os.IsNotExist(err) {
		r.t.Fatal(err)
	}
	return string(b)
}

// resetSummary empties the job summary, as a new job starts with none.
func (r *runner) resetSummary() {
	r.t.Helper()
	if err := os.WriteFile(r.summary, nil, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

var exprRe = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// use runs the Action with the given `with:` inputs.
func (r *runner) use(with map[string]string) actionRun {
	t := r.t
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYAML
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	if a.Runs.Using != "composite" {
		t.Fatalf("action.yml runs.using = %q, want composite", a.Runs.Using)
	}
	for name := range with {
		if _, ok := a.Inputs[name]; !ok {
			t.Fatalf("action.yml has no input %q", name)
		}
	}
	github := map[string]string{
		"token": ghToken, "action_path": root, "action_ref": r.actionRef,
		"event_name": r.event, "repository": testRepo, "api_url": r.ghAPI,
	}
	steps := map[string]map[string]string{}
	var eval func(expr string) string
	eval = func(expr string) string {
		for _, alt := range strings.Split(expr, "||") {
			alt = strings.TrimSpace(alt)
			var v string
			parts := strings.Split(alt, ".")
			switch {
			case strings.HasPrefix(alt, "'") && strings.HasSuffix(alt, "'"):
				v = strings.Trim(alt, "'")
			case parts[0] == "inputs" && len(parts) == 2:
				in, ok := a.Inputs[parts[1]]
				if !ok {
					t.Fatalf("action.yml uses undeclared input %s", parts[1])
				}
				v, ok = with[parts[1]]
				if !ok {
					v = exprRe.ReplaceAllStringFunc(in.Default, func(m string) string { return eval(exprRe.FindStringSubmatch(m)[1]) })
				}
				if in.Required && v == "" {
					t.Fatalf("required input %s is empty", parts[1])
				}
			case parts[0] == "steps" && len(parts) == 4 && parts[2] == "outputs":
				v = steps[parts[1]][parts[3]]
			case parts[0] == "github" && len(parts) == 2:
				var ok bool
				if v, ok = github[parts[1]]; !ok {
					t.Fatalf("the test runner does not know github.%s", parts[1])
				}
			default:
				t.Fatalf("the test runner cannot evaluate %q", alt)
			}
			if v != "" {
				return v
			}
		}
		return ""
	}
	subst := func(s string) string {
		return exprRe.ReplaceAllStringFunc(s, func(m string) string { return eval(exprRe.FindStringSubmatch(m)[1]) })
	}

	run := actionRun{outputs: map[string]string{}}
	var log bytes.Buffer
	for i, st := range a.Runs.Steps {
		if st.Shell != "bash" || st.If != "" {
			t.Fatalf("step %d: the test runner runs only unconditional bash steps", i)
		}
		dir := t.TempDir()
		script := filepath.Join(dir, "step.sh")
		if err := os.WriteFile(script, []byte(subst(st.Run)), 0o755); err != nil {
			t.Fatal(err)
		}
		outFile, pathFile := filepath.Join(dir, "output"), filepath.Join(dir, "path")
		for _, f := range []string{outFile, pathFile} {
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		vars := map[string]string{
			"PATH":                strings.Join(append(append([]string{}, r.path...), os.Getenv("PATH")), string(os.PathListSeparator)),
			"HOME":                os.TempDir(),
			"CI":                  "true",
			"GITHUB_ACTIONS":      "true",
			"GITHUB_ACTION_PATH":  root,
			"GITHUB_API_URL":      r.ghAPI,
			"GITHUB_EVENT_NAME":   r.event,
			"GITHUB_REPOSITORY":   testRepo,
			"GITHUB_WORKSPACE":    r.work,
			"GITHUB_OUTPUT":       outFile,
			"GITHUB_PATH":         pathFile,
			"GITHUB_STEP_SUMMARY": r.summary,
			"RUNNER_OS":           map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows"}[runtime.GOOS],
			"RUNNER_ARCH":         map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH],
			"RUNNER_TEMP":         r.temp,
			"RUNNER_TOOL_CACHE":   r.toolCache,
		}
		for k, v := range r.env {
			vars[k] = v
		}
		for k, v := range st.Env {
			vars[k] = subst(v)
		}
		env := make([]string, 0, len(vars))
		for k, v := range vars {
			env = append(env, k+"="+v)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = filepath.Join(r.work, subst(st.WorkingDirectory))
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = &log, &log
		err := cmd.Run()
		steps[st.ID] = parseOutputs(t, outFile)
		for _, s := range []string{ghToken, secret} {
			if strings.Contains(log.String(), s) {
				t.Errorf("step %s printed a credential:\n%s", st.ID, log.String())
			}
		}
		if code := exitCode(t, err); code != 0 {
			run.code = code
			break
		}
		if st.ID == r.stopAfter {
			break
		}
	}
	for name, o := range a.Outputs {
		run.outputs[name] = subst(o.Value)
	}
	run.log = log.String()
	return run
}

// parseOutputs reads a GITHUB_OUTPUT file: name=value lines and
// name<<DELIMITER blocks.
func parseOutputs(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		if k, delim, ok := strings.Cut(lines[i], "<<"); ok && !strings.Contains(k, "=") {
			var v []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				v = append(v, lines[i])
			}
			out[k] = strings.Join(v, "\n")
			continue
		}
		k, v, ok := strings.Cut(lines[i], "=")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %q is neither name=value nor name<<DELIMITER", lines[i])
		}
		out[k] = v
	}
	return out
}

// actionSetup is the Action's world: the example organization in the
// emulator, a release v0.0.9 of a freshly built tokensync, and GitHub.
type actionSetup struct {
	run     *runner
	release *fakeRelease
	gh      *fakeGitHub
	work    string
}

func newActionSetup(t *testing.T) actionSetup {
	t.Helper()
	const tag = "v0.0.9"
	return newActionWorld(t, newFakeRelease(t, tag, buildTokensync(t, tag)))
}

// newActionWorld is newActionSetup with a release made already.
func newActionWorld(t *testing.T, rel *fakeRelease) actionSetup {
	t.Helper()
	_, baseURL, work := exampleOrg(t)
	gh := newFakeGitHub(t)
	r := newRunner(t, work)
	r.ghAPI = gh.URL
	r.env["ASTRO_API_URL"] = baseURL
	r.env["ASTRO_API_TOKEN"] = secret
	r.env["ASTRO_ORGANIZATION_ID"] = "clx0org0000000000000000"
	return actionSetup{run: r, release: rel, gh: gh, work: work}
}

func (s actionSetup) with(kv ...string) map[string]string {
	m := map[string]string{"version": s.release.Tag, "download-url": s.release.URL}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestActionPlanCommentsOnPullRequest: on a pull request the Action plans,
// writes the summary and outputs, creates the marked comment, updates that
// same comment on the next push, and posts a failed plan there too with
// the failure's exit code as the step's.
func TestActionPlanCommentsOnPullRequest(t *testing.T) {
	s := newActionSetup(t)
	s.gh.addComments(120) // the Action's comment lands on page 2 of the listing

	first := s.run.use(s.with("files", "tokens/"))
	if first.code != 0 {
		t.Fatalf("first run: step exited %d:\n%s", first.code, first.log)
	}
	summary := s.run.readSummary()
	if !strings.HasPrefix(summary, planMarker+"\n### tokensync plan: 3 to add, 2 to change, 2 to remove") {
		t.Errorf("summary:\n%s", summary)
	}
	if diff := cmp.Diff(map[string]string{"exit-code": "2", "has-changes": "true"},
		map[string]string{"exit-code": first.outputs["exit-code"], "has-changes": first.outputs["has-changes"]}); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
	}
	if data, err := os.ReadFile(first.outputs["plan-file"]); err != nil || json.Unmarshal(data, &doc) != nil || doc.FormatVersion != planfile.FormatVersion {
		t.Errorf("plan-file %q is not a saved plan (err %v): %+v", first.outputs["plan-file"], err, doc)
	}
	marked := s.gh.marked()
	if len(marked) != 1 || marked[0].Body != summary {
		t.Fatalf("after the first run: %d marked comments, want 1 with the summary's text: %+v", len(marked), marked)
	}
	if !strings.Contains(first.log, "Checksum verified: "+s.release.Archive) || !strings.Contains(first.log, "tokensync v0.0.9 (commit 0123456789abcdef0123456789abcdef01234567, built 2025-01-02T15:04:05Z)") {
		t.Errorf("the install step did not verify and report the release binary:\n%s", first.log)
	}

	// The next push: the same comment is updated, no second one is made.
	s.run.resetSummary()
	second := s.run.use(s.with("files", "tokens/"))
	if second.code != 0 {
		t.Fatalf("second run: step exited %d:\n%s", second.code, second.log)
	}
	if again := s.gh.marked(); len(again) != 1 || again[0].ID != marked[0].ID {
		t.Fatalf("after the second run: marked comments %+v, want only comment %d", again, marked[0].ID)
	}
	if posts, patches := s.gh.writes(); posts != 1 || patches != 1 {
		t.Errorf("comment writes: %d POST, %d PATCH; want 1 and 1", posts, patches)
	}

	// A push that breaks the spec: the step fails with tokensync's exit
	// code, and the comment shows why.
	if err := os.WriteFile(filepath.Join(s.work, "tokens", "tokens.yaml"), []byte("version: 1\ndeployments:\n  - deployment: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.run.resetSummary()
	failed := s.run.use(s.with("files", "tokens/"))
	if failed.code != exitInvalid || failed.outputs["exit-code"] != strconv.Itoa(exitInvalid) || failed.outputs["has-changes"] != "false" {
		t.Errorf("failed plan: step exit %d, outputs %v; want exit %d", failed.code, failed.outputs, exitInvalid)
	}
	after := s.gh.marked()
	if len(after) != 1 || after[0].ID != marked[0].ID {
		t.Fatalf("after the failed run: marked comments %+v, want only comment %d", after, marked[0].ID)
	}
	for _, want := range []string{planMarker, "failed (exit 3)", "tokens.yaml:"} {
		if !strings.Contains(after[0].Body, want) {
			t.Errorf("the comment of a failed plan lacks %q:\n%s", want, after[0].Body)
		}
	}
	// Each error once: as the markdown's bullet, not again from the log,
	// nor as the workflow command of its annotation.
	if n := strings.Count(after[0].Body, "tokens.yaml:"); n != 1 || strings.Contains(after[0].Body, "::error") {
		t.Errorf("the comment of a failed plan lists its one error %d times (or an annotation):\n%s", n, after[0].Body)
	}
	if !strings.Contains(failed.log, "::error file=tokens/tokens.yaml,") {
		t.Errorf("the job log lacks the annotation:\n%s", failed.log)
	}
	if got := s.run.readSummary(); got != after[0].Body {
		t.Errorf("summary and comment differ:\nsummary:\n%s\ncomment:\n%s", got, after[0].Body)
	}
	if posts, patches := s.gh.writes(); posts != 1 || patches != 2 {
		t.Errorf("comment writes: %d POST, %d PATCH; want 1 and 2", posts, patches)
	}
}

// TestActionOutcomes: the step's exit status and outputs for each command
// and setting, outside pull requests (no comment is made).
func TestActionOutcomes(t *testing.T) {
	s := newActionSetup(t)
	s.run.event = "push"
	steps := []struct {
		name       string
		with       []string
		wantCode   int
		wantOutput string // exit-code
		wantChange string // has-changes
		summary    string
	}{
		{"drift fails on changes", []string{"files", "tokens/", "fail-on-changes", "true"}, 2, "2", "true", "### tokensync plan: 3 to add"},
		{"a guard refuses", []string{"files", "tokens/", "args", "--prune --max-removals 0"}, exitRefused, "4", "false", "Refused by guard max-removals"},
		{"apply", []string{"files", "tokens/", "command", "apply"}, 0, "0", "true", "Apply complete: 3 added, 2 changed, 2 removed."},
		{"drift after apply", []string{"files", "tokens/", "fail-on-changes", "true"}, 0, "0", "false", "no changes"},
		{"apply with nothing to do", []string{"files", "tokens/", "command", "apply"}, 0, "0", "false", "no changes"},
		{"bad command", []string{"files", "tokens/", "command", "destroy"}, 1, "", "", ""},
	}
	for _, st := range steps {
		s.run.resetSummary()
		got := s.run.use(s.with(st.with...))
		if got.code != st.wantCode || got.outputs["exit-code"] != st.wantOutput || got.outputs["has-changes"] != st.wantChange {
			t.Errorf("%s: step exit %d, outputs %v; want exit %d, exit-code %q, has-changes %q\n%s",
				st.name, got.code, got.outputs, st.wantCode, st.wantOutput, st.wantChange, got.log)
		}
		if summary := s.run.readSummary(); !strings.Contains(summary, st.summary) {
			t.Errorf("%s: summary lacks %q:\n%s", st.name, st.summary, summary)
		}
	}
	if posts, patches := s.gh.writes(); posts+patches != 0 {
		t.Errorf("outside pull requests the Action wrote %d comments", posts+patches)
	}
}

// TestActionCommentFailureKeepsPlanResult: a token that may not comment
// (a fork's pull request) leaves a warning, not a failed plan.
func TestActionCommentFailureKeepsPlanResult(t *testing.T) {
	s := newActionSetup(t)
	s.gh.forbidden = true
	got := s.run.use(s.with("files", "tokens/"))
	if got.code != 0 || got.outputs["exit-code"] != "2" {
		t.Fatalf("step exit %d, outputs %v; want 0 and exit-code 2:\n%s", got.code, got.outputs, got.log)
	}
	if !strings.Contains(got.log, "::warning::") || len(s.gh.marked()) != 0 {
		t.Errorf("want a warning and no comment; log:\n%s", got.log)
	}
}

// TestActionCommentOwnership: anyone who can comment can write the marker
// first. The Action edits only a marked comment its own identity wrote
// (github-actions[bot], or the comment-author input for another token);
// next to anyone else's it posts its own, and updates that one on the next
// push.
func TestActionCommentOwnership(t *testing.T) {
	const forged = planMarker + "\n### tokensync plan: no changes\n"
	tests := []struct {
		name    string
		login   string            // whom the token posts as
		with    []string          // more inputs
		planted map[string]string // login: body of a marked comment before the Action's
	}{
		{"another user's marker", "github-actions[bot]", nil, map[string]string{"mallory": forged}},
		{"another app's marker", "github-actions[bot]", nil, map[string]string{"other-app[bot]": forged}},
		{"comment-author of an app token", "acme-tokensync[bot]", []string{"comment-author", "acme-tokensync[bot]"},
			map[string]string{"mallory": forged, "github-actions[bot]": forged}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newActionSetup(t)
			s.gh.login = tt.login
			planted := map[int64]ghComment{}
			for _, login := range slices.Sorted(maps.Keys(tt.planted)) {
				id := s.gh.plant(login, tt.planted[login])
				planted[id] = s.gh.comment(id)
			}
			with := append([]string{"files", "tokens/"}, tt.with...)

			first := s.run.use(s.with(with...))
			if first.code != 0 {
				t.Fatalf("first run: step exited %d:\n%s", first.code, first.log)
			}
			if posts, patches := s.gh.writes(); posts != 1 || patches != 0 {
				t.Errorf("first run: %d POST, %d PATCH; want a new comment (1 POST) and no edit", posts, patches)
			}
			var own []ghComment
			for _, c := range s.gh.marked() {
				if c.User.Login == tt.login {
					if _, ok := planted[c.ID]; !ok {
						own = append(own, c)
					}
				}
			}
			if len(own) != 1 || !strings.Contains(own[0].Body, "### tokensync plan: 3 to add") {
				t.Fatalf("first run: the Action's own comments %+v, want one with the plan", own)
			}

			// The next push updates the Action's own comment, still no other.
			s.run.resetSummary()
			if second := s.run.use(s.with(with...)); second.code != 0 {
				t.Fatalf("second run: step exited %d:\n%s", second.code, second.log)
			}
			if posts, patches := s.gh.writes(); posts != 1 || patches != 1 {
				t.Errorf("second run: %d POST, %d PATCH in all; want 1 and 1", posts, patches)
			}
			s.gh.mu.Lock()
			patched := slices.Contains(s.gh.requests, fmt.Sprintf("PATCH /repos/%s/issues/comments/%d", testRepo, own[0].ID))
			s.gh.mu.Unlock()
			if !patched {
				t.Errorf("second run: the Action's comment %d was not the one updated", own[0].ID)
			}
			for id, want := range planted {
				if diff := cmp.Diff(want, s.gh.comment(id)); diff != "" {
					t.Errorf("the planted comment %d of %s was edited (-want +got):\n%s", id, want.User.Login, diff)
				}
			}
		})
	}
}

// TestActionInstall: the install step takes a release only when its
// checksum matches, finds the latest release through the API, and builds
// any other ref with go install.
func TestActionInstall(t *testing.T) {
	const tag = "v0.0.9"
	bin := buildTokensync(t, tag)
	tests := []struct {
		name     string
		version  string
		setup    func(*fakeRelease, *fakeGitHub)
		wantCode int
		wantLog  []string
	}{
		{name: "release", version: tag, wantLog: []string{"Checksum verified", "tokensync v0.0.9 (commit"}},
		{name: "latest", version: "latest", setup: func(_ *fakeRelease, g *fakeGitHub) { g.latest = tag }, wantLog: []string{"Downloading tokensync_0.0.9_", "Checksum verified"}},
		{name: "checksum mismatch", version: tag, setup: func(r *fakeRelease, _ *fakeGitHub) { r.corrupt() }, wantCode: 1, wantLog: []string{"checksum mismatch", "not installed"}},
		{name: "no checksum listed", version: tag, setup: func(r *fakeRelease, _ *fakeGitHub) {
			for name := range r.files {
				if strings.HasSuffix(name, "_checksums.txt") {
					r.files[name] = []byte("0000  other.tar.gz\n")
				}
			}
		}, wantCode: 1, wantLog: []string{"lists no checksum for"}},
		{name: "release missing", version: "v9.9.9", wantCode: 1, wantLog: []string{"download "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel := newFakeRelease(t, tag, bin)
			gh := newFakeGitHub(t)
			if tt.setup != nil {
				tt.setup(rel, gh)
			}
			r := newRunner(t, t.TempDir())
			r.ghAPI = gh.URL
			r.stopAfter = "install"
			got := r.use(map[string]string{"version": tt.version, "download-url": rel.URL, "files": "x"})
			if got.code != tt.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", got.code, tt.wantCode, got.log)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(got.log, w) {
					t.Errorf("log lacks %q:\n%s", w, got.log)
				}
			}
			installed, _ := filepath.Glob(filepath.Join(r.toolCache, "tokensync", "*", "*", "tokensync*"))
			if tt.wantCode != 0 && len(installed) != 0 {
				t.Errorf("a refused download left %v installed", installed)
			}
		})
	}

	t.Run("a commit is built with go install", func(t *testing.T) {
		// A stand-in for go records its arguments and installs the built
		// tokensync into GOBIN.
		fakeGo := t.TempDir()
		argsFile := filepath.Join(fakeGo, "args")
		script := fmt.Sprintf("#!/bin/sh\necho \"$@\" > %q\necho \"GOBIN=$GOBIN\" >> %q\ncp %q \"$GOBIN/tokensync\"\n", argsFile, argsFile, bin)
		if err := os.WriteFile(filepath.Join(fakeGo, "go"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		r := newRunner(t, t.TempDir())
		r.path = []string{fakeGo}
		r.stopAfter = "install"
		r.actionRef = "5f3c9a0d1e2b" // uses: tokensync/tokensync@<commit>, no version input
		got := r.use(map[string]string{"files": "x"})
		if got.code != 0 {
			t.Fatalf("exit %d:\n%s", got.code, got.log)
		}
		args, err := os.ReadFile(argsFile)
		if err != nil {
			t.Fatal(err)
		}
		want := "install github.com/tokensync/tokensync/cmd/tokensync@5f3c9a0d1e2b\nGOBIN=" + filepath.Join(r.toolCache, "tokensync", "5f3c9a0d1e2b", runtime.GOOS+"-"+runtime.GOARCH) + "\n"
		if diff := cmp.Diff(want, string(args)); diff != "" {
			t.Errorf("go invocation (-want +got):\n%s", diff)
		}
	})
}

// TestActionExampleNamesTheRelease: the CronJob's image tag and the
// version of the Action the workflow uses are the same release.
func TestActionExampleNamesTheRelease(t *testing.T) {
	c, _ := cronJob(t)
	_, tag, _ := strings.Cut(c.Image, ":")
	wf := readWorkflow(t)
	var refs []string
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			if name, ref, ok := strings.Cut(s.Uses, "@"); ok && name == "tokensync/tokensync" {
				refs = append(refs, ref)
			}
		}
	}
	if len(refs) == 0 {
		t.Fatal("the workflow example does not use the Action")
	}
	for _, ref := range refs {
		if ref != tag {
			t.Errorf("the workflow uses tokensync/tokensync@%s, the CronJob the image :%s", ref, tag)
		}
	}
}
