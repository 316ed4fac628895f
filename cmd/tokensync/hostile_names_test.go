package main

import (
	"fmt"
	"slices"
	"strings"
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
		role := rapid.OneOf(rapid.Just(astroapi.RoleDeploymentAdmin), text.Filter(func(r string) bool { return r != "" && spec.NormalizeRole(r) == r }))
		want := map[string][]string{} // deployment id → "name=role" or "#id=role", sorted
		depIDs := rapid.SliceOfNDistinct(nonEmpty, 1, 3, rapid.ID[string]).Draw(rt, "deployments")
		for _, id := range depIDs {
			obs.Deployments = append(obs.Deployments, astroapi.Deployment{ID: id, Name: text.Draw(rt, "deployment name"), WorkspaceID: "ws"})
			want[id] = []string{}
		}
		tokIDs := rapid.SliceOfNDistinct(nonEmpty, 0, 8, rapid.ID[string]).Draw(rt, "tokens")
		names := map[string]int{}
		for _, id := range tokIDs {
			tok := astroapi.Token{ID: id, Name: text.Draw(rt, "token name"), Scope: astroapi.ScopeWorkspace}
			if rapid.Bool().Draw(rt, "organization token") {
				tok.Scope = astroapi.ScopeOrganization
			}
			for _, d := range rapid.SliceOfDistinct(rapid.SampledFrom(depIDs), rapid.ID[string]).Draw(rt, "assigned") {
				tok.Roles = append(tok.Roles, astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: d, Role: role.Draw(rt, "role")})
			}
			names[tok.Name]++
			obs.Tokens = append(obs.Tokens, tok)
		}
		for _, tok := range obs.Tokens {
			ref := tok.Scope + " name " + tok.Name
			if names[tok.Name] > 1 || tok.Name == "" {
				ref = tok.Scope + " id " + tok.ID
			}
			for _, r := range tok.Roles {
				want[r.EntityID] = append(want[r.EntityID], ref+" = "+r.Role)
			}
		}

		out, err := encodeSpec(exportSpec(obs, obs.Deployments))
		if err != nil {
			rt.Fatal(err)
		}
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
