package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// roundTripState is an organization whose every principal holding a
// deployment role is one export could get wrong: users of every status
// (INACTIVE and BANNED users holding roles nobody could give them today),
// users without an organization role, a username that is not an e-mail
// address, teams without members, teams and tokens sharing a name, names
// that are YAML words, numbers, quotes, unicode and spaces at the ends,
// and custom roles in lower case and with a space.
const roundTripState = `
organization: {id: org1, name: Test Org}
workspaces:
  - {id: ws-a, name: alpha}
  - {id: ws-b, name: beta}
deployments:
  - {id: dep-a1, name: a-prod, workspaceId: ws-a}
  - {id: dep-a2, name: a-staging, workspaceId: ws-a}
  - {id: dep-b1, name: b-prod, workspaceId: ws-b}
roles:
  - {id: role-v, name: viewer, scopeType: DEPLOYMENT, restrictedWorkspaceIds: []}
  - {id: role-ro, name: Read Only, scopeType: DEPLOYMENT, restrictedWorkspaceIds: [ws-a]}
tokens:
  - id: tok-true
    name: "true"
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
  - id: tok-ci-a
    name: ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a2, role: viewer}
  - id: tok-ci-b
    name: ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-b, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-b1, role: viewer}
  - id: tok-dup-1
    name: " dup "
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: Read Only}
  - id: tok-dup-2
    name: " dup "
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: viewer}
  - id: tok-org
    name: ci
    scope: ORGANIZATION
    roles:
      - {entityType: ORGANIZATION, entityId: org1, role: ORGANIZATION_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: viewer}
      - {entityType: DEPLOYMENT, entityId: dep-b1, role: DEPLOYMENT_ADMIN}
  - id: tok-dep
    name: dep-only
    scope: DEPLOYMENT
    roles:
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
users:
  - id: usr-act
    username: Act@Example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_MEMBER}]
    deploymentRoles: [{deploymentId: dep-a1, role: DEPLOYMENT_ADMIN}]
  - id: usr-ina
    username: ina@example.com
    status: INACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}, {workspaceId: ws-b, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a1, role: viewer}, {deploymentId: dep-b1, role: DEPLOYMENT_ADMIN}]
  - id: usr-ban
    username: ban@example.com
    status: BANNED
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a2, role: Read Only}]
  - id: usr-pen
    username: pen@example.com
    status: PENDING
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-b, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-b1, role: viewer}]
  - id: usr-quote
    username: o'neil"x"@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a2, role: DEPLOYMENT_ADMIN}]
  - id: usr-odd
    username: "not an address"
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a1, role: viewer}]
  - {id: usr-norole, username: norole@example.com, status: ACTIVE}
  - {id: usr-norole-ina, username: gone@example.com, status: INACTIVE}
  - {id: usr-ina-norole-pending, username: invited@example.com, status: PENDING}
teams:
  - id: team-no
    name: "no"
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a1, role: DEPLOYMENT_ADMIN}]
    memberIds: []
  - id: team-p1
    name: " platform "
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a2, role: viewer}]
    memberIds: [usr-act, usr-ina]
  - id: team-p2
    name: " platform "
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-b, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-b1, role: viewer}]
    memberIds: []
  - id: team-uni
    name: "Ωmega 東京 1e3"
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-b, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-b1, role: DEPLOYMENT_ADMIN}]
    memberIds: [usr-ban]
  - id: team-idle
    name: idle
    organizationRole: ORGANIZATION_MEMBER
    memberIds: []
`

// TestExportRoundTripsEveryPrincipal: the export of an organization holds
// every assignment of every token, user and team (users of every status,
// with the status in a comment when it is not ACTIVE), names each by name
// where the spec can and by id where not, and plan --prune of it is
// empty: nothing is removed, nothing refused.
func TestExportRoundTripsEveryPrincipal(t *testing.T) {
	c := newCLI(t, roundTripState)
	r := c.run("export")
	wantCode(t, r, exitOK)
	out := r.stdout
	wantIn(t, "export lacks", out,
		"- username: ina@example.com # INACTIVE\n",
		"- username: ban@example.com # BANNED\n",
		"- username: pen@example.com # PENDING\n",
		"- username: Act@Example.com\n",
		"- id: usr-odd # not an address (not an e-mail address)\n",
		"- id: tok-dup-1 #  dup  (name shared by several)\n",
		"- id: team-p1 #  platform  (name shared by several)\n",
		`- name: "true"`, `- name: "no"`, `- name: "Ωmega 東京 1e3"`, `role: Read Only`, `role: viewer`,
	)
	for _, absent := range []string{"# ACTIVE", "tok-dep", "dep-only", "norole@", "gone@", "invited@"} {
		if strings.Contains(out, absent) {
			t.Errorf("export holds %q:\n%s", absent, out)
		}
	}
	// A team holding only ORGANIZATION_MEMBER, the organization's floor,
	// is not listed: a plan leaves it as it is.
	if got := strings.Count(out, "- name: idle\n"); got != 0 {
		t.Errorf("export lists the team idle %d times, want none:\n%s", got, out)
	}
	f := c.write("exported.yaml", out)
	wantCode(t, c.run("validate", "--offline", "-f", f), exitOK)
	r = c.run("plan", "-f", f, "--prune", "--detailed-exitcode", "--no-color")
	wantCode(t, r, exitOK)
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("plan of the export warns:\n%s", r.stderr)
	}
	r = c.run("apply", "-f", f, "--prune", "--yes", "--no-color")
	wantCode(t, r, exitOK)
	if c.posts() != 0 {
		t.Errorf("apply --prune of the export made %d writes:\n%s", c.posts(), r.stdout)
	}
}

// TestExportStatusCommentIsInert: a user's status comes from the API; in
// the export's comment, whatever it holds (line breaks, YAML, controls,
// bidi overrides) stays one inert comment on the entry's line, and the
// file parses back as the same entries.
func TestExportStatusCommentIsInert(t *testing.T) {
	statuses := []string{
		"INACTIVE\nusers:\n  - username: evil@example.com\n    role: DEPLOYMENT_ADMIN",
		"BANNED\r\n# x\u2028y\u0085z",
		"\x1b]0;owned\x07\u202eDENIFED",
		"#", "",
	}
	obs := &sync.Observed{Organization: "org1", Workspaces: []astroapi.Workspace{{ID: "ws", Name: "w"}},
		Deployments: []astroapi.Deployment{{ID: "dep", Name: "d", WorkspaceID: "ws"}}}
	for i, status := range statuses {
		u := astroapi.User{ID: "usr-" + string(rune('a'+i)), Username: string(rune('a'+i)) + "@example.com", Status: status,
			OrganizationRole: "ORGANIZATION_MEMBER", DeploymentRoles: []astroapi.DeploymentRole{{DeploymentID: "dep", Role: astroapi.RoleDeploymentAdmin}}}
		obs.Subjects = append(obs.Subjects, sync.UserSubject(u))
	}
	var buf bytes.Buffer
	if err := spec.Encode(&buf, exportSpec(obs, everything(obs), nil)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	inert(t, "export", out)
	sp, err := spec.Parse("exported.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, out)
	}
	var got []string
	for _, u := range sp.Deployments[0].Users {
		got = append(got, u.Username)
	}
	if want := "a@example.com b@example.com c@example.com d@example.com e@example.com"; strings.Join(got, " ") != want {
		t.Errorf("users parsed back %q, want %q:\n%s", got, want, out)
	}
	wantIn(t, "export lacks", out,
		`- username: a@example.com # INACTIVE\nusers:\n  - username: evil@example.com\n    role: DEPLOYMENT_ADMIN`+"\n",
		`- username: c@example.com # \x1b]0;owned\a\u202eDENIFED`+"\n",
		"- username: d@example.com # #\n",
		"- username: e@example.com # no status\n",
	)
}

// TestPropertyExportPlansEmpty: for random organizations (tokens of every
// scope, users of every status with and without an organization role,
// usernames that are not e-mail addresses, teams with and without
// members, names shared and odd, custom roles; roles on every level:
// organization roles, workspace roles, DAG and DAG tag roles of users,
// teams and tokens, with and without the accessors Astro adds), plan
// --prune of the export, with or without --ignore, to stdout or to a
// directory (--out), on every level or some (--levels), is empty.
func TestPropertyExportPlansEmpty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		st, ignore := genExportState(rt)
		toDir := rapid.Bool().Draw(rt, "out")
		levels := rapid.SampledFrom([]string{"", "", "organization", "workspace,deployment", "dag", "deployment,dag", "organization,workspace,dag"}).Draw(rt, "levels")
		it := &iteration{T: rt}
		defer it.close()
		srv, url := astroapitest.NewTestServer(it, st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
		c := &cli{t: t, srv: srv, baseURL: url, dir: t.TempDir(), env: map[string]string{"ASTRO_API_TOKEN": secret}}
		args := []string{"export", "--rate-scale", "1000"}
		if ignore != "" {
			args = append(args, "--ignore", ignore)
		}
		if levels != "" {
			args = append(args, "--levels", levels)
		}
		f := filepath.Join(c.dir, "exported")
		if toDir {
			args = append(args, "--out", f)
		}
		r := c.run(args...)
		if r.code != exitOK {
			rt.Fatalf("export exited %d:\n%s", r.code, r.stderr)
		}
		if !toDir {
			f = c.write("exported.yaml", r.stdout)
		}
		if p := c.run("plan", "-f", f, "--prune", "--detailed-exitcode", "--no-color", "--rate-scale", "1000"); p.code != exitOK {
			rt.Fatalf("plan --prune of the export exited %d\nexport:\n%s\nplan:\n%s%s", p.code, exported(f, r.stdout), p.stdout, p.stderr)
		}
	})
}

// exported is the export in path, a file or a directory of files, or
// stdout when path is neither, for a failure's message.
func exported(path, stdout string) string {
	entries, err := os.ReadDir(path)
	if err != nil {
		return stdout
	}
	var b strings.Builder
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(path, e.Name()))
		fmt.Fprintf(&b, "--- %s\n%s", e.Name(), data)
	}
	return b.String()
}

// iteration is the astroapitest.TB of one rapid iteration: its cleanups
// run when the iteration ends, so that the emulators of a long shrink do
// not pile up until the test ends.
type iteration struct {
	*rapid.T
	cleanups []func()
}

func (it *iteration) Cleanup(f func()) { it.cleanups = append(it.cleanups, f) }

func (it *iteration) close() {
	for i := len(it.cleanups) - 1; i >= 0; i-- {
		it.cleanups[i]()
	}
}

// exportNames are names drawn for tokens and teams, so that some are
// shared and some are odd.
var exportNames = []string{"ci", "ci", " ci ", "yes", "1e3", "Ωmega 東京", `it's "q"`, "x\u202ey", "a\nb", "#x", "- item"}

// The built-in roles of the levels above and below deployments, for
// genExportState.
var (
	exportOrgRoles = []string{"ORGANIZATION_OWNER", "ORGANIZATION_BILLING_ADMIN", "ORGANIZATION_OBSERVE_ADMIN", "ORGANIZATION_OBSERVE_MEMBER", "ORGANIZATION_MEMBER"}
	exportWsRoles  = []string{"WORKSPACE_OWNER", "WORKSPACE_OPERATOR", "WORKSPACE_AUTHOR", "WORKSPACE_MEMBER", "WORKSPACE_ACCESSOR"}
	exportDagRoles = []string{"DAG_VIEWER", "DAG_AUTHOR", "DAG_VIEWER", "DAG_AUTHOR", "dag reader"}
	// exportDagTargets are the DAGs and tags roles are drawn on; a DAG
	// and a tag may share a name.
	exportDagTargets = []astroapi.DagRole{{DagID: "etl"}, {DagID: "finance"}, {DagTag: "finance"}, {DagTag: "pii data"}}
)

// exportRoles is a role set drawn by genExportState.
type exportRoles struct {
	workspaces  []astroapi.WorkspaceRole
	deployments []astroapi.DeploymentRole
	dags        []astroapi.DagRole
}

// tokenRoles are r as a token's role entries.
func (r exportRoles) tokenRoles() []astroapi.Role {
	var out []astroapi.Role
	for _, w := range r.workspaces {
		out = append(out, astroapi.Role{EntityType: astroapi.EntityWorkspace, EntityID: w.WorkspaceID, Role: w.Role})
	}
	for _, d := range r.deployments {
		out = append(out, astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: d.DeploymentID, Role: d.Role})
	}
	for _, g := range r.dags {
		if g.DagTag != "" {
			out = append(out, astroapi.Role{EntityType: astroapi.EntityDAGTag, EntityID: g.DagTag, DeploymentID: g.DeploymentID, Role: g.Role})
		} else {
			out = append(out, astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: g.DagID, DeploymentID: g.DeploymentID, Role: g.Role})
		}
	}
	return out
}

// genExportState draws a valid organization for TestPropertyExportPlansEmpty
// and, sometimes, an --ignore glob.
func genExportState(rt *rapid.T) (*astroapitest.State, string) {
	st := &astroapitest.State{Organization: astroapitest.Organization{ID: "org1", Name: "Org"}}
	nws := rapid.IntRange(1, 2).Draw(rt, "workspaces")
	var allWs []string
	for i := range nws {
		allWs = append(allWs, fmt.Sprintf("ws%d", i))
		st.Workspaces = append(st.Workspaces, astroapitest.Workspace{ID: fmt.Sprintf("ws%d", i), Name: rapid.SampledFrom(exportNames).Draw(rt, "workspace name")})
	}
	depWS := map[string]string{}
	var deps []string
	for i := range rapid.IntRange(1, 3).Draw(rt, "deployments") {
		id, ws := fmt.Sprintf("dep%d", i), fmt.Sprintf("ws%d", rapid.IntRange(0, nws-1).Draw(rt, "deployment workspace"))
		depWS[id] = ws
		deps = append(deps, id)
		st.Deployments = append(st.Deployments, astroapitest.Deployment{ID: id, Name: rapid.SampledFrom(exportNames).Draw(rt, "deployment name"), WorkspaceID: ws})
	}
	st.Roles = []astroapitest.CustomRole{
		{Name: "viewer", ScopeType: "DEPLOYMENT", RestrictedWorkspaceIDs: []string{}},
		{Name: "Read Only", ScopeType: "DEPLOYMENT", RestrictedWorkspaceIDs: []string{"ws0"}},
		{Name: "dag reader", ScopeType: "DAG", RestrictedWorkspaceIDs: []string{}},
	}
	// held draws roles on some of the workspaces ws and deployments deps
	// (and their DAGs and tags); with parents, the accessors Astro adds
	// for them, which a user's or team's state must list.
	held := func(ws, deps []string, parents bool) exportRoles {
		var r exportRoles
		hasWs, hasDep := map[string]bool{}, map[string]bool{}
		for _, w := range ws {
			if rapid.IntRange(0, 2).Draw(rt, "holds workspace") == 0 {
				r.workspaces = append(r.workspaces, astroapi.WorkspaceRole{WorkspaceID: w, Role: rapid.SampledFrom(exportWsRoles).Draw(rt, "workspace role")})
				hasWs[w] = true
			}
		}
		for _, d := range deps {
			if rapid.Bool().Draw(rt, "holds") {
				roles := []string{astroapi.RoleDeploymentAdmin, "viewer", astroapi.RoleDeploymentAccessor}
				if depWS[d] == "ws0" {
					roles = append(roles, "Read Only")
				}
				r.deployments = append(r.deployments, astroapi.DeploymentRole{DeploymentID: d, Role: rapid.SampledFrom(roles).Draw(rt, "role")})
				hasDep[d] = true
			}
			for _, target := range exportDagTargets {
				if rapid.IntRange(0, 3).Draw(rt, "holds DAG") == 0 {
					g := target
					g.DeploymentID, g.Role = d, rapid.SampledFrom(exportDagRoles).Draw(rt, "DAG role")
					r.dags = append(r.dags, g)
					if parents && !hasDep[d] {
						hasDep[d] = true
						r.deployments = append(r.deployments, astroapi.DeploymentRole{DeploymentID: d, Role: astroapi.RoleDeploymentAccessor})
					}
				}
			}
		}
		if parents {
			for _, d := range r.deployments {
				if w := depWS[d.DeploymentID]; !hasWs[w] {
					hasWs[w] = true
					r.workspaces = append(r.workspaces, astroapi.WorkspaceRole{WorkspaceID: w, Role: astroapi.RoleWorkspaceAccessor})
				}
			}
		}
		return r
	}
	for i := range rapid.IntRange(0, 5).Draw(rt, "tokens") {
		tok := astroapitest.Token{ID: fmt.Sprintf("tok%d", i), Name: rapid.SampledFrom(exportNames).Draw(rt, "token name"),
			Scope: rapid.SampledFrom([]string{astroapi.ScopeWorkspace, astroapi.ScopeOrganization, astroapi.ScopeDeployment}).Draw(rt, "scope")}
		parents := rapid.Bool().Draw(rt, "token parents")
		switch tok.Scope {
		case astroapi.ScopeWorkspace:
			ws := fmt.Sprintf("ws%d", rapid.IntRange(0, nws-1).Draw(rt, "token workspace"))
			tok.Roles = []astroapi.Role{{EntityType: astroapi.EntityWorkspace, EntityID: ws, Role: rapid.SampledFrom(exportWsRoles).Draw(rt, "own workspace role")}}
			mine := slices.DeleteFunc(slices.Clone(deps), func(d string) bool { return depWS[d] != ws })
			r := held(nil, mine, false)
			tok.Roles = append(tok.Roles, r.tokenRoles()...)
		case astroapi.ScopeOrganization:
			tok.Roles = []astroapi.Role{{EntityType: astroapi.EntityOrganization, EntityID: "org1", Role: rapid.SampledFrom(exportOrgRoles).Draw(rt, "own organization role")}}
			tok.Roles = append(tok.Roles, held(allWs, deps, parents).tokenRoles()...)
		default:
			dep := rapid.SampledFrom(deps).Draw(rt, "token deployment")
			tok.Roles = []astroapi.Role{{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: astroapi.RoleDeploymentAdmin}}
			if rapid.Bool().Draw(rt, "deployment token DAG role") {
				tok.Roles = append(tok.Roles, astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: "etl", DeploymentID: dep, Role: "DAG_VIEWER"})
			}
		}
		st.Tokens = append(st.Tokens, tok)
	}
	var userIDs []string
	for i := range rapid.IntRange(0, 5).Draw(rt, "users") {
		u := astroapitest.User{ID: fmt.Sprintf("usr%d", i),
			Username: fmt.Sprintf(rapid.SampledFrom([]string{"u%d@example.com", "U%d@Example.COM", "user %d", "u%d@localhost"}).Draw(rt, "username"), i),
			Status:   rapid.SampledFrom([]string{astroapi.UserActive, astroapi.UserInactive, astroapi.UserPending, astroapi.UserBanned}).Draw(rt, "status")}
		if rapid.IntRange(0, 4).Draw(rt, "organization role") > 0 {
			u.OrganizationRole = rapid.SampledFrom(exportOrgRoles).Draw(rt, "user organization role")
			r := held(allWs, deps, true)
			u.WorkspaceRoles, u.DeploymentRoles, u.DagRoles = r.workspaces, r.deployments, r.dags
		}
		userIDs = append(userIDs, u.ID)
		st.Users = append(st.Users, u)
	}
	for i := range rapid.IntRange(0, 4).Draw(rt, "teams") {
		tm := astroapitest.Team{ID: fmt.Sprintf("team%d", i), Name: rapid.SampledFrom(exportNames).Draw(rt, "team name"),
			MemberIDs: rapid.SliceOfDistinct(rapid.SampledFrom(append([]string{""}, userIDs...)), rapid.ID[string]).Filter(func(ids []string) bool { return !slices.Contains(ids, "") }).Draw(rt, "members")}
		tm.OrganizationRole = rapid.SampledFrom(exportOrgRoles).Draw(rt, "team organization role")
		r := held(allWs, deps, true)
		tm.WorkspaceRoles, tm.DeploymentRoles, tm.DagRoles = r.workspaces, r.deployments, r.dags
		st.Teams = append(st.Teams, tm)
	}
	return st, rapid.SampledFrom([]string{"", "", "ci", "usr1", "*#*"}).Draw(rt, "ignore")
}

// TestExportRefusesWhatPlanCannotRead: an export over the size or the
// number of deployments a spec file may hold is refused (exit 3, saying
// how to split it), with nothing written: plan would refuse the file.
func TestExportRefusesWhatPlanCannotRead(t *testing.T) {
	if specFileLimits != (fileLimits{spec.MaxFileSize, spec.MaxDeployments}) {
		t.Errorf("export's limits %+v are not the spec's", specFileLimits)
	}
	doc := spec.Document{Organization: "org1"}
	for i := range 3 {
		doc.Deployments = append(doc.Deployments, spec.DeploymentDoc{ID: fmt.Sprint("dep", i)})
	}
	var fits bytes.Buffer
	if err := spec.Encode(&fits, doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		limits fileLimits
		ok     bool
	}{
		{fileLimits{fits.Len(), 3}, true},
		{fileLimits{fits.Len() - 1, 3}, false},
		{fileLimits{fits.Len(), 2}, false},
	} {
		var out bytes.Buffer
		err := writeExport(&out, doc, tc.limits)
		if tc.ok {
			if err != nil || out.String() != fits.String() {
				t.Errorf("limits %+v: %v, wrote %q; want the export", tc.limits, err, out.String())
			}
			continue
		}
		var ce *codeError
		if !errors.As(err, &ce) || ce.code != exitInvalid || !strings.Contains(err.Error(), "--workspace or --deployment") {
			t.Errorf("limits %+v: %v, want exit %d saying how to split the export", tc.limits, err, exitInvalid)
		}
		if out.Len() != 0 {
			t.Errorf("limits %+v: wrote %d bytes, want none", tc.limits, out.Len())
		}
	}
}

// TestExportRoundTripsWhatTheEmulatorCannotHold: states the API may answer
// but the emulator refuses to hold: a user with a deployment role and no
// organization role, users with no or an unknown status, a role on a
// custom role since deleted, roles on a deployment since deleted, two
// roles of one token on one deployment (listed once, with the first role,
// the one plan reads). Their
// export parses, resolves, and plans empty with prune.
func TestExportRoundTripsWhatTheEmulatorCannotHold(t *testing.T) {
	role := func(dep, role string) []astroapi.DeploymentRole {
		return []astroapi.DeploymentRole{{DeploymentID: dep, Role: role}}
	}
	user := func(id, status, orgRole string, roles []astroapi.DeploymentRole) sync.Subject {
		return sync.UserSubject(astroapi.User{ID: id, Username: id + "@example.com", Status: status, OrganizationRole: orgRole, DeploymentRoles: roles})
	}
	obs := &sync.Observed{
		Organization: "org1",
		Workspaces:   []astroapi.Workspace{{ID: "ws-a", Name: "alpha"}},
		Deployments:  []astroapi.Deployment{{ID: "dep-a", Name: "a", WorkspaceID: "ws-a"}},
		CustomRoles:  []astroapi.CustomRole{{ID: "r-v", Name: "viewer", ScopeType: astroapi.ScopeDeployment}},
		Subjects: []sync.Subject{
			user("norole", astroapi.UserActive, "", role("dep-a", astroapi.RoleDeploymentAdmin)),
			user("nostatus", "", "ORGANIZATION_MEMBER", role("dep-a", "viewer")),
			user("suspended", "SUSPENDED", "ORGANIZATION_MEMBER", role("dep-a", "viewer")),
			sync.TokenSubject(astroapi.Token{ID: "tok-old", Name: "old-role", Scope: astroapi.ScopeOrganization, Roles: []astroapi.Role{
				{EntityType: astroapi.EntityOrganization, EntityID: "org1", Role: "ORGANIZATION_MEMBER"},
				{EntityType: astroapi.EntityDeployment, EntityID: "dep-a", Role: "OLD_ROLE"},
				{EntityType: astroapi.EntityDeployment, EntityID: "dep-gone", Role: astroapi.RoleDeploymentAdmin},
			}}),
			sync.TokenSubject(astroapi.Token{ID: "tok-twice", Name: "twice", Scope: astroapi.ScopeOrganization, Roles: []astroapi.Role{
				{EntityType: astroapi.EntityOrganization, EntityID: "org1", Role: "ORGANIZATION_MEMBER"},
				{EntityType: astroapi.EntityDeployment, EntityID: "dep-a", Role: "viewer"},
				{EntityType: astroapi.EntityDeployment, EntityID: "dep-a", Role: astroapi.RoleDeploymentAdmin},
			}}),
			sync.TeamSubject(astroapi.Team{ID: "team-gone", Name: "gone", OrganizationRole: "ORGANIZATION_MEMBER", DeploymentRoles: role("dep-gone", "viewer")}),
		},
	}
	var buf bytes.Buffer
	if err := spec.Encode(&buf, exportSpec(obs, everything(obs), nil)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	wantIn(t, "export lacks", out, "- username: nostatus@example.com # no status\n", "- username: suspended@example.com # SUSPENDED\n",
		"- username: norole@example.com\n", "- name: old-role\n        role: OLD_ROLE\n", "- name: twice\n        role: viewer\n")
	if strings.Contains(out, "dep-gone") || strings.Contains(out, "team-gone") {
		t.Errorf("export names the deleted deployment:\n%s", out)
	}
	sp, err := spec.Parse("exported.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, out)
	}
	d, err := sync.Resolve(sp, obs)
	if err != nil {
		t.Fatalf("the export does not resolve: %v\n%s", err, out)
	}
	if p := sync.Compute(d, obs, sync.Options{Prune: true, MaxRemovals: -1}); len(p.Changes) != 0 {
		t.Errorf("plan --prune of the export: %+v, want no change\n%s", p.Changes, out)
	}
}
