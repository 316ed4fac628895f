package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// hostileNames are names an organization may hold: YAML syntax, YAML
// words that are not strings in some YAML version, spaces at the ends,
// line breaks, terminal escape sequences, bidirectional overrides and
// other invisible characters.
var hostileNames = []string{
	`it's "quoted"`, "key: value", "# not a comment", "trailing #hash", `back\slash`,
	"  leading spaces", "trailing spaces  ", " ",
	"line one\nline two", "crlf\r\nline", "tab\tname", "nul\x00del\x7f",
	"\x1b[31mred\x1b[0m", "\x1b]0;owned\x07", "c1\u009b31m",
	"bidi \u202eoverride\u202c", "\u202a\u202b\u202d\u2066\u2067\u2068\u2069",
	"Zürich 東京 🚀", "nbsp\u00a0zero\u200bwidth\ufeffbom", "line\u2028sep\u2029para\u0085nel",
	"yes", "no", "null", "~", "true", "On", "off", "y", "N", "Null",
	"0123", "1e3", "0x1F", "12:30", "1_000", ".inf", "-", "- item", "? key",
	"[flow]", "{map: 1}", "*alias", "&anchor", "!tag", "!!str", "%directive", "@at", "`tick",
	"|", ">", "<<", "=", ",", "'single'", `"`, "...", "---",
}

// hostileState is an organization whose every name is hostile: one
// workspace and deployment, a custom role, a workspace token per hostile
// name, an organization token, and two tokens sharing a name (exported by
// id).
func hostileState() *astroapitest.State {
	const ws, dep = "ws-h", "dep-h"
	st := &astroapitest.State{
		Organization: astroapitest.Organization{ID: "org1", Name: "Org\x1b]0;x\x07"},
		Workspaces:   []astroapitest.Workspace{{ID: ws, Name: "data\u202e #platform\nnext: line"}},
		Deployments:  []astroapitest.Deployment{{ID: dep, Name: "prod\r\n# fake: comment \u2066yes", WorkspaceID: ws}},
		Roles: []astroapitest.CustomRole{
			{Name: "no", ScopeType: astroapi.ScopeDeployment, RestrictedWorkspaceIDs: []string{}},
			{Name: "role: \u202ecustom #1", ScopeType: astroapi.ScopeDeployment, RestrictedWorkspaceIDs: []string{}},
		},
	}
	roles := []string{astroapi.RoleDeploymentAdmin, "no", "role: \u202ecustom #1"}
	for i, name := range hostileNames {
		st.Tokens = append(st.Tokens, astroapitest.Token{
			ID: fmt.Sprintf("tok-%02d", i), Name: name, Scope: astroapi.ScopeWorkspace,
			Roles: []astroapi.Role{
				{EntityType: astroapi.EntityWorkspace, EntityID: ws, Role: "WORKSPACE_MEMBER"},
				{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: roles[i%len(roles)]},
			},
		})
	}
	st.Tokens = append(st.Tokens,
		astroapitest.Token{ID: "tok-org", Name: "org\u2067: null", Scope: astroapi.ScopeOrganization, Roles: []astroapi.Role{
			{EntityType: astroapi.EntityOrganization, EntityID: "org1", Role: "ORGANIZATION_MEMBER"},
			{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: "no"},
		}},
		astroapitest.Token{ID: "tok-twin-1", Name: "twin\n# twin", Scope: astroapi.ScopeWorkspace, Roles: []astroapi.Role{
			{EntityType: astroapi.EntityWorkspace, EntityID: ws, Role: "WORKSPACE_MEMBER"},
			{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: astroapi.RoleDeploymentAdmin},
		}},
		astroapitest.Token{ID: "tok-twin-2", Name: "twin\n# twin", Scope: astroapi.ScopeWorkspace, Roles: []astroapi.Role{
			{EntityType: astroapi.EntityWorkspace, EntityID: ws, Role: "WORKSPACE_MEMBER"},
			{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: "role: \u202ecustom #1"},
		}},
	)
	return st
}

// inert fails the test when out holds a character that render.Safe
// escapes, other than the line feeds that end its lines.
func inert(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		if r != '\n' && render.Escapes(r) {
			t.Errorf("%s passes %U through at byte %d:\n%q", what, r, i, out)
			return
		}
	}
}

// TestExportHostileNamesRoundTrip: whatever the names, the exported file
// holds no raw control, bidi or invisible character, passes validate
// --offline, names every token whose name is unique by that exact name,
// and plans back empty, with prune.
func TestExportHostileNamesRoundTrip(t *testing.T) {
	c := newCLIWith(t, hostileState(), astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
	r := c.run("export")
	wantCode(t, r, exitOK)
	inert(t, "export", r.stdout)
	inert(t, "export's stderr", r.stderr)
	f := c.write("exported.yaml", r.stdout)
	if v := c.runRaw("validate", "--offline", "-f", f); v.code != exitOK {
		t.Fatalf("validate --offline of the export: exit %d\n%s\nexport:\n%s", v.code, v.stderr, r.stdout)
	}

	sp, err := spec.Load([]string{f})
	if err != nil {
		t.Fatal(err)
	}
	var names, ids []string
	for _, d := range sp.Deployments {
		for _, e := range append(slices.Clone(d.WorkspaceTokens), d.OrganizationTokens...) {
			if e.Name != "" {
				names = append(names, e.Name)
			} else {
				ids = append(ids, e.ID)
			}
		}
	}
	wantNames := append(slices.Clone(hostileNames), "org\u2067: null")
	slices.Sort(wantNames)
	slices.Sort(names)
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("token names in the export (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tok-twin-1", "tok-twin-2"}, ids); diff != "" {
		t.Errorf("tokens exported by id (-want +got):\n%s", diff)
	}

	p := c.run("plan", "-f", f, "--prune", "--detailed-exitcode")
	if p.code != exitOK {
		t.Fatalf("plan of the export: exit %d\n%s%s\nexport:\n%s", p.code, p.stdout, p.stderr, r.stdout)
	}
	inert(t, "plan", p.stdout+p.stderr)
	if !strings.Contains(r.stdout, `# prod\r\n# fake: comment \u2066yes (workspace data\u202e #platform\nnext: line)`) {
		t.Errorf("the deployment's comment does not show its names escaped:\n%s", r.stdout)
	}
}

// TestPropertyExportParsesBack: for random names, ids and roles (any
// unicode, YAML syntax, escapes, bidi and invisible characters), the export
// holds no character render.Safe escapes outside line ends, parses as a
// valid spec, and names exactly the tokens and roles it was made from.
func TestPropertyExportParsesBack(t *testing.T) {
	special := []rune("\x00\x07\t\n\r\x1b\x7f\u0085\u009b\u00a0\u200b\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\ufffd🚀東ü :#'\"\\-?*&!|>%@`[]{},~=.0123456789yYnNeEsS")
	text := rapid.OneOf(
		rapid.String(),
		rapid.StringOf(rapid.SampledFrom(special)),
		rapid.SampledFrom(hostileNames),
	)
	nonEmpty := text.Filter(func(s string) bool { return s != "" })
	rapid.Check(t, func(rt *rapid.T) {
		obs := &sync.Observed{Organization: nonEmpty.Draw(rt, "organization"), Workspaces: []astroapi.Workspace{{ID: "ws", Name: text.Draw(rt, "workspace")}}}
		role := rapid.OneOf(rapid.Just(astroapi.RoleDeploymentAdmin), text.Filter(func(r string) bool { return r != "" && astroapi.CanonicalRole(r) == r }))
		want := map[string][]string{} // deployment id → "name=role" or "#id=role", sorted
		depIDs := rapid.SliceOfNDistinct(nonEmpty, 1, 3, rapid.ID[string]).Draw(rt, "deployments")
		for _, id := range depIDs {
			obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: id, Name: text.Draw(rt, "deployment name"), WorkspaceID: "ws"})
			want[id] = []string{}
		}
		tokIDs := rapid.SliceOfNDistinct(nonEmpty, 0, 8, rapid.ID[string]).Draw(rt, "tokens")
		names := map[string]int{}
		var tokens []astroapi.Token
		for _, id := range tokIDs {
			tok := astroapi.Token{ID: id, Name: text.Draw(rt, "token name"), Scope: astroapi.ScopeWorkspace}
			if rapid.Bool().Draw(rt, "organization token") {
				tok.Scope = astroapi.ScopeOrganization
			}
			for _, d := range rapid.SliceOfDistinct(rapid.SampledFrom(depIDs), rapid.ID[string]).Draw(rt, "assigned") {
				tok.Roles = append(tok.Roles, astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: d, Role: role.Draw(rt, "role")})
			}
			names[tok.Scope+" "+tok.Name]++ // a name is looked up among the tokens of its scope
			tokens = append(tokens, tok)
		}
		for _, tok := range tokens {
			ref := tok.Scope + " name " + tok.Name
			if names[tok.Scope+" "+tok.Name] > 1 || tok.Name == "" {
				ref = tok.Scope + " id " + tok.ID
			}
			for _, r := range tok.Roles {
				want[r.EntityID] = append(want[r.EntityID], ref+" = "+r.Role)
			}
		}

		for _, tok := range tokens {
			obs.Subjects = append(obs.Subjects, sync.TokenSubject(tok))
		}
		var buf bytes.Buffer
		if err := spec.Encode(&buf, exportSpec(obs, everything(obs), nil)); err != nil {
			rt.Fatal(err)
		}
		out := buf.Bytes()
		for i, r := range string(out) {
			if r != '\n' && render.Escapes(r) {
				rt.Fatalf("the export holds %U at byte %d:\n%s", r, i, out)
			}
		}
		sp, err := spec.Parse("exported.yaml", out)
		if err != nil {
			rt.Fatalf("the export does not parse: %v\n%s", err, out)
		}
		if sp.Organization != obs.Organization {
			rt.Errorf("organization %q, want %q", sp.Organization, obs.Organization)
		}
		got := map[string][]string{}
		for _, d := range sp.Deployments {
			got[d.ID] = []string{}
			for scope, list := range map[string][]spec.TokenEntry{astroapi.ScopeWorkspace: d.WorkspaceTokens, astroapi.ScopeOrganization: d.OrganizationTokens} {
				for _, e := range list {
					ref := scope + " name " + e.Name
					if e.Name == "" {
						ref = scope + " id " + e.ID
					}
					got[d.ID] = append(got[d.ID], ref+" = "+e.Role)
				}
			}
		}
		for _, m := range []map[string][]string{want, got} {
			for _, l := range m {
				slices.Sort(l)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			rt.Fatalf("the export parses back as other assignments (-want +got):\n%s\n%s", diff, out)
		}
	})
}

// hostileApply is an emulator of hostileState behind a front that answers
// the role writes of some tokens with an error whose message is hostile.
type hostileApply struct {
	*cli
	mu   gosync.Mutex
	hook func(tokenID string)
}

// hostileMessage is an API error message no output may pass on raw.
const hostileMessage = "role \u202erejected\u202c\u2066 by policy\u2069\x1b]0;x\x07\u200b"

func newHostileApply(t *testing.T, failing ...string) *hostileApply {
	st := hostileState()
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	h := &hostileApply{}
	srv := astroapitest.NewServer(st, astroapitest.Options{
		RateLimits: astroapitest.NoRateLimit,
		BeforeRoleWrite: func(id string) {
			h.mu.Lock()
			hook := h.hook
			h.mu.Unlock()
			if hook != nil {
				hook(id)
			}
		},
	})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, id := range failing {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/tokens/"+id+"/roles") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				json.NewEncoder(w).Encode(astroapi.Error{Message: hostileMessage, RequestID: "req\u202e1", StatusCode: http.StatusBadRequest,
					FieldErrors: []astroapi.FieldError{{Field: "roles\u2067[0]", Code: "invalid", Message: hostileMessage}}})
				return
			}
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	h.cli = &cli{t: t, srv: srv, baseURL: front.URL + "/v1", dir: t.TempDir(), env: map[string]string{"ASTRO_API_TOKEN": secret}}
	return h
}

func (h *hostileApply) setHook(f func(string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hook = f
}

// addDAGRole is another writer giving a token one more role.
func (h *hostileApply) addDAGRole(id string) {
	h.t.Helper()
	for _, tok := range h.srv.State().Tokens {
		if tok.ID == id {
			roles := append(tok.Roles, astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: "etl", DeploymentID: "dep-h", Role: "DAG_AUTHOR"})
			if err := h.srv.SetTokenRoles(id, roles); err != nil {
				h.t.Error(err)
			}
			return
		}
	}
	h.t.Fatalf("no token %s", id)
}

// hostileSpec gives every token of hostileNames another role on dep-h.
func hostileSpec() string {
	roles := []string{astroapi.RoleDeploymentAdmin, "no", "role: \u202ecustom #1"}
	var b strings.Builder
	b.WriteString("version: 1\ndeployments:\n  - id: dep-h\n    workspaceTokens:\n")
	for i := range hostileNames {
		fmt.Fprintf(&b, "      - {id: tok-%02d, role: %s}\n", i, strconv.Quote(roles[(i+1)%len(roles)]))
	}
	return b.String()
}

// TestApplyOutputEscapesAPIText: what apply prints about tokens with
// hostile names (failures with the API's hostile message, notes,
// warnings, the verification list, "not started", "changed since the
// plan", and the -v request log) holds no control, bidi or invisible
// character and no line a name started: names show escaped.
func TestApplyOutputEscapesAPIText(t *testing.T) {
	byID := map[string]string{}
	for i, n := range hostileNames {
		byID[fmt.Sprintf("tok-%02d", i)] = n
	}
	// Every hostile token is a workspace token (hostileSpec lists them so).
	line := func(prefix, id string) string {
		return prefix + "workspace token " + render.Safe(byID[id]) + " [" + id + "]"
	}

	t.Run("progress, failures, notes, warnings, verification, -v", func(t *testing.T) {
		h := newHostileApply(t, "tok-09", "tok-15")
		f := h.write("tokens.yaml", hostileSpec())
		var once gosync.Once
		h.setHook(func(id string) {
			once.Do(func() { h.addDAGRole("tok-16") }) // not read yet: a note
			if id == "tok-13" {                        // written second, after tok-12
				h.addDAGRole("tok-12") // a warning
			}
		})
		r := h.runLocked("apply", "-f", f, "--yes", "--parallelism=1", "--rate-scale=1000", "-v")
		if r.code == exitOK {
			t.Fatalf("apply with failing writes exited 0:\n%s", r.stderr)
		}
		inert(t, "apply's stdout", r.stdout)
		inert(t, "apply's stderr", r.stderr)
		for _, want := range []string{
			"Applying: ", // progress counts; it names no token
			line("  failed: ", "tok-09"),
			line("  failed: ", "tok-15"),
			`role \u202erejected\u202c\u2066 by policy\u2069`, // the client made the ESC a space
			line("  note: ", "tok-16"),
			line("warning: ", "tok-12"),
			line("", "tok-15") + " on deployment " + render.Safe("prod\r\n# fake: comment \u2066yes"),
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	})

	t.Run("not started", func(t *testing.T) {
		h := newHostileApply(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h.setHook(func(string) { cancel() })
		f := h.write("tokens.yaml", hostileSpec())
		var out, errb lockedBuffer
		code := run(ctx, []string{"apply", "--api-url", h.baseURL, "--organization", "org1", "-f", f, "--yes", "--parallelism=1", "--rate-scale=1000"},
			Streams{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return h.env[k] }})
		if code == exitOK {
			t.Fatalf("an interrupted apply exited 0:\n%s", errb.String())
		}
		inert(t, "apply's stdout", out.String())
		inert(t, "apply's stderr", errb.String())
		// More than render.MaxListed were not started: a count, not names
		// (ApplyText's names are escaped as the failures above are).
		if want := " principal(s) (see apply -o json)\n"; !strings.Contains(errb.String(), "  not started: ") || !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	})

	t.Run("changed since the plan", func(t *testing.T) {
		h := newHostileApply(t)
		f := h.write("tokens.yaml", hostileSpec())
		planFile := filepath.Join(h.dir, "plan.json")
		wantCode(t, h.run("plan", "-f", f, "--out", planFile), exitOK)
		h.addDAGRole("tok-13")
		h.addDAGRole("tok-19")
		r := h.run("apply", planFile, "--yes", "--rate-scale=1000")
		wantCode(t, r, exitStale)
		inert(t, "apply's stderr", r.stderr)
		for _, id := range []string{"tok-13", "tok-19"} {
			if want := line("  changed since the plan: ", id); !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	})
}

// TestAPIErrorMessageEscaped: an API error that ends a command is printed
// with its message escaped.
func TestAPIErrorMessageEscaped(t *testing.T) {
	srv := astroapitest.NewServer(hostileState(), astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tokens") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(astroapi.Error{Message: hostileMessage, RequestID: "req\u2066", StatusCode: http.StatusNotFound})
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer front.Close()
	c := &cli{t: t, srv: srv, baseURL: front.URL + "/v1", dir: t.TempDir(), env: map[string]string{"ASTRO_API_TOKEN": secret}}
	for _, args := range [][]string{
		{"plan", "-f", c.write("tokens.yaml", hostileSpec())},
		{"export"},
	} {
		r := c.run(args...)
		wantCode(t, r, exitError)
		inert(t, args[0]+"'s stderr", r.stderr)
		if want := `role \u202erejected\u202c\u2066 by policy\u2069`; !strings.Contains(r.stderr, want) {
			t.Errorf("%s: stderr lacks %q:\n%s", args[0], want, r.stderr)
		}
	}
}
