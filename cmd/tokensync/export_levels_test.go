package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/spec"
)

// levelsState holds roles on every level: organization roles of every
// kind, workspace roles (a workspace token's own one, an organization
// token's, users' and teams'), DAG and DAG tag roles of every kind, the
// accessors Astro adds for them, and a deployment token with a DAG role.
const levelsState = `
organization: {id: org1, name: Test Org}
workspaces:
  - {id: ws-a, name: alpha}
  - {id: ws-b, name: beta}
deployments:
  - {id: dep-a1, name: a-prod, workspaceId: ws-a}
  - {id: dep-b1, name: b-prod, workspaceId: ws-b}
roles:
  - {name: viewer, scopeType: DEPLOYMENT, restrictedWorkspaceIds: []}
tokens:
  - id: tok-ws-a
    name: ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_AUTHOR}
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
      - {entityType: DAG, entityId: etl, deploymentId: dep-a1, role: DAG_AUTHOR}
  - id: tok-ws-b
    name: ci
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-b, role: WORKSPACE_MEMBER}
      - {entityType: DAG_TAG, entityId: finance, deploymentId: dep-b1, role: DAG_VIEWER}
  - id: tok-org
    name: org-bot
    scope: ORGANIZATION
    roles:
      - {entityType: ORGANIZATION, entityId: org1, role: ORGANIZATION_BILLING_ADMIN}
      - {entityType: WORKSPACE, entityId: ws-b, role: WORKSPACE_OPERATOR}
      - {entityType: DAG, entityId: etl, deploymentId: dep-a1, role: DAG_VIEWER}
  - id: tok-dep
    name: dep-only
    scope: DEPLOYMENT
    roles:
      - {entityType: DEPLOYMENT, entityId: dep-a1, role: DEPLOYMENT_ADMIN}
      - {entityType: DAG, entityId: etl, deploymentId: dep-a1, role: DAG_AUTHOR}
users:
  - id: usr-owner
    username: owner@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_OWNER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_OWNER}]
  - id: usr-dag
    username: dag@example.com
    status: ACTIVE
    organizationRole: ORGANIZATION_MEMBER
    workspaceRoles: [{workspaceId: ws-b, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-b1, role: DEPLOYMENT_ACCESSOR}]
    dagRoles:
      - {deploymentId: dep-b1, dagId: etl, role: DAG_AUTHOR}
      - {deploymentId: dep-b1, dagTag: finance, role: DAG_VIEWER}
  - id: usr-ina
    username: ina@example.com
    status: INACTIVE
    organizationRole: ORGANIZATION_OBSERVE_MEMBER
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_MEMBER}]
  - {id: usr-none, username: none@example.com, status: PENDING}
teams:
  - id: team-data
    name: data
    organizationRole: ORGANIZATION_OBSERVE_ADMIN
    workspaceRoles: [{workspaceId: ws-a, role: WORKSPACE_ACCESSOR}]
    deploymentRoles: [{deploymentId: dep-a1, role: viewer}]
    dagRoles: [{deploymentId: dep-a1, dagTag: finance, role: DAG_VIEWER}]
    memberIds: [usr-dag]
`

// TestExportEveryLevel: export writes the organization level, every
// workspace and the DAGs and DAG tags of every deployment, with every
// role held there (implied accessors included, as held), each workspace
// token under its own workspace only and no deployment token anywhere;
// plan --prune of it is empty and warns of nothing, and apply --prune
// writes nothing.
func TestExportEveryLevel(t *testing.T) {
	c := newCLI(t, levelsState)
	r := c.run("export")
	wantCode(t, r, exitOK)
	out := r.stdout
	wantIn(t, "export lacks", out,
		"organizationRoles:\n  organizationTokens:\n    - name: org-bot\n      role: ORGANIZATION_BILLING_ADMIN\n",
		"    - username: owner@example.com\n      role: ORGANIZATION_OWNER\n",
		"    - username: ina@example.com # INACTIVE\n      role: ORGANIZATION_OBSERVE_MEMBER\n",
		"    - name: data\n      role: ORGANIZATION_OBSERVE_ADMIN\n",
		"workspaces:\n  - id: ws-a # alpha\n    workspaceTokens:\n      - name: ci\n        role: WORKSPACE_AUTHOR\n",
		"  - id: ws-b # beta\n    workspaceTokens:\n      - name: ci\n        role: WORKSPACE_MEMBER\n    organizationTokens:\n      - name: org-bot\n        role: WORKSPACE_OPERATOR\n",
		"        role: WORKSPACE_OWNER\n",
		"      - username: dag@example.com\n        role: WORKSPACE_ACCESSOR\n",
		"      - username: dag@example.com\n        role: DEPLOYMENT_ACCESSOR\n",
		"    dags:\n      - dagId: etl\n        workspaceTokens:\n          - name: ci\n            role: DAG_AUTHOR\n        organizationTokens:\n          - name: org-bot\n            role: DAG_VIEWER\n",
		"      - dagTag: finance\n",
		"          - name: data\n            role: DAG_VIEWER\n",
	)
	for _, absent := range []string{"tok-dep", "dep-only", "none@example.com"} {
		if strings.Contains(out, absent) {
			t.Errorf("export holds %q:\n%s", absent, out)
		}
	}
	sp, err := spec.Parse("exported.yaml", []byte(out))
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, out)
	}
	// ORGANIZATION_MEMBER, the organization's floor, is not listed.
	if o := sp.OrganizationRoles; o == nil || len(o.Users) != 2 || len(o.Teams) != 1 || len(o.OrganizationTokens) != 1 {
		t.Errorf("organizationRoles %+v", sp.OrganizationRoles)
	}
	if len(sp.Workspaces) != 2 || len(sp.Deployments) != 2 {
		t.Fatalf("%d workspaces, %d deployments; want 2 and 2", len(sp.Workspaces), len(sp.Deployments))
	}
	var dags []string
	for _, d := range sp.Deployments {
		for _, g := range d.Dags {
			dags = append(dags, d.ID+"/"+g.Ref())
		}
	}
	if want := []string{"dep-a1/etl", "dep-a1/tag finance", "dep-b1/etl", "dep-b1/tag finance"}; !slices.Equal(dags, want) {
		t.Errorf("dags %q, want %q", dags, want)
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

// TestExportLevels: --levels writes only the levels it names, and
// --workspace and --deployment narrow the export to their workspaces and
// deployments, the organization level left out unless --levels names it;
// plan --prune of every such export is empty.
func TestExportLevels(t *testing.T) {
	c := newCLI(t, levelsState)
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"--levels", "organization"}, []string{"organizationRoles:", "deployments: []"}, []string{"workspaces:", "dep-a1", "dags:"}},
		{[]string{"--levels", "workspace,deployment"}, []string{"workspaces:", "id: dep-a1", "DEPLOYMENT_ACCESSOR"}, []string{"organizationRoles:", "dags:"}},
		{[]string{"--levels", "dag"}, []string{"dags:", "dagTag: finance"}, []string{"organizationRoles:", "workspaces:", "DEPLOYMENT_ACCESSOR", "teams: []"}},
		{[]string{"--levels", "Deployment", "--levels", "dag"}, []string{"id: dep-b1", "dags:", "teams: []"}, []string{"organizationRoles:", "workspaces:"}},
		{[]string{"--workspace", "beta"}, []string{"id: ws-b", "id: dep-b1", "dags:"}, []string{"organizationRoles:", "ws-a", "dep-a1"}},
		{[]string{"--deployment", "a-prod"}, []string{"id: dep-a1", "dags:"}, []string{"organizationRoles:", "workspaces:", "dep-b1"}},
		{[]string{"--workspace", "alpha", "--levels", "organization,workspace"}, []string{"organizationRoles:", "id: ws-a"}, []string{"ws-b", "dep-a1"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := c.run(append([]string{"export"}, tc.args...)...)
			wantCode(t, r, exitOK)
			wantIn(t, "export lacks", r.stdout, tc.want...)
			for _, s := range tc.not {
				if strings.Contains(r.stdout, s) {
					t.Errorf("export holds %q:\n%s", s, r.stdout)
				}
			}
			f := c.write("exported.yaml", r.stdout)
			p := c.run("plan", "-f", f, "--prune", "--detailed-exitcode", "--no-color")
			wantCode(t, p, exitOK)
			if strings.Contains(p.stderr, "warning") {
				t.Errorf("plan of the export warns:\n%s", p.stderr)
			}
		})
	}
	r := c.run("export", "--levels", "deployments,teams")
	wantCode(t, r, exitUsage)
	wantIn(t, "stderr lacks", r.stderr, `--levels "deployments": not a level`)
}

// TestExportOutDir: export --out writes organization.yaml and a file per
// workspace, each a spec of its own; plan -f DIR --prune of them is empty,
// through the tokensync process against the emulator. A directory that is
// not empty, or a file, is refused (exit 64) and left as it was.
func TestExportOutDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tokensync as a process")
	}
	bin := binDir(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state.yaml")
	writeTestFile(t, state, levelsState)
	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "tokensync"), args...)
		cmd.Env = processEnv(bin, nil)
		cmd.Dir = dir
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		code := exitCode(t, cmd.Run())
		return out.String(), errb.String(), code
	}

	out := filepath.Join(dir, "access")
	stdout, stderr, code := run("export", "--emulate", state, "--out", out)
	if code != exitOK || stdout != "" {
		t.Fatalf("export --out: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	wantIn(t, "stderr lacks", stderr, "Wrote 3 spec files to "+out)
	if got, want := dirNames(t, out), []string{"organization.yaml", "workspace-alpha.yaml", "workspace-beta.yaml"}; !slices.Equal(got, want) {
		t.Fatalf("files %q, want %q", got, want)
	}
	for name, want := range map[string][]string{
		"organization.yaml":    {"organization: org1", "organizationRoles:", "deployments: []"},
		"workspace-alpha.yaml": {"organization: org1", "id: ws-a", "id: dep-a1", "dags:"},
		"workspace-beta.yaml":  {"organization: org1", "id: ws-b", "id: dep-b1", "dagTag: finance"},
	} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		wantIn(t, name+" lacks", string(data), want...)
		if _, err := spec.Parse(name, data); err != nil {
			t.Errorf("%s does not parse alone: %v", name, err)
		}
	}
	for _, other := range []string{"ws-b", "dep-b1"} {
		if data, _ := os.ReadFile(filepath.Join(out, "workspace-alpha.yaml")); strings.Contains(string(data), other) {
			t.Errorf("workspace-alpha.yaml holds %s:\n%s", other, data)
		}
	}
	stdout, stderr, code = run("plan", "--emulate", state, "-f", out, "--prune", "--detailed-exitcode", "--no-color")
	if code != exitOK || strings.Contains(stderr, "warning") {
		t.Errorf("plan -f DIR --prune: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// A directory in the way is refused and left alone.
	_, stderr, code = run("export", "--emulate", state, "--out", out)
	if code != exitUsage || !strings.Contains(stderr, "is not empty") {
		t.Errorf("export --out onto a full directory: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
	if got := dirNames(t, out); len(got) != 3 {
		t.Errorf("the refused export changed the directory: %q", got)
	}
	_, stderr, code = run("export", "--emulate", state, "--out", state)
	if code != exitUsage || !strings.Contains(stderr, "not a directory") {
		t.Errorf("export --out onto a file: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{dangling, dangling + "/"} {
		_, stderr, code = run("export", "--emulate", state, "--out", out)
		if code != exitUsage || !strings.Contains(stderr, "a symbolic link to nothing") {
			t.Errorf("export --out %s, a link to nothing: exit %d, want %d\n%s", out, code, exitUsage, stderr)
		}
	}
	// An empty directory is taken.
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code = run("export", "--emulate", state, "--out", empty, "--levels", "organization"); code != exitOK {
		t.Fatalf("export --out onto an empty directory: exit %d\n%s", code, stderr)
	}
	if got := dirNames(t, empty); !slices.Equal(got, []string{"organization.yaml"}) {
		t.Errorf("files %q, want organization.yaml alone", got)
	}
	for _, e := range dirNames(t, dir) {
		if strings.HasPrefix(e, ".tokensync-export-") {
			t.Errorf("a temporary directory is left: %s", e)
		}
	}
}

// dirNames are the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestExportFileNames: a workspace's file name is safe whatever its name
// (no separator, no leading dot, nothing but lower-case ASCII letters,
// digits, '_', '.' and '-'), and workspaces whose names make the same file
// name (in any case) get distinct ones, the same on every run.
func TestExportFileNames(t *testing.T) {
	workspaces := []struct{ name, id string }{
		{"Data Platform", "ws1"},
		{"data/platform", "ws2"},
		{"DATA PLATFORM", "ws2"},
		{"../../etc/passwd", "ws3"},
		{".hidden", "ws4"},
		{"..", "ws5"},
		{"東京", "ws6"},
		{"", ""},
		{"a\x00b\\c:d*e?f", "ws7"},
		{"organization", "ws8"},
		{strings.Repeat("x", 300), "ws9"},
	}
	want := []string{
		"workspace-data-platform.yaml",
		"workspace-data-platform-ws2.yaml",
		"workspace-data-platform-ws2-2.yaml",
		"workspace-etc-passwd.yaml",
		"workspace-hidden.yaml",
		"workspace-ws5.yaml",
		"workspace-ws6.yaml",
		"workspace-workspace.yaml",
		"workspace-a-b-c-d-e-f.yaml",
		"workspace-organization.yaml",
		"workspace-" + strings.Repeat("x", 60) + ".yaml",
	}
	for run := range 2 {
		used := map[string]bool{exportOrganizationFile: true}
		for i, w := range workspaces {
			got := exportFileName(w.name, w.id, used)
			if got != want[i] {
				t.Errorf("run %d: %q (%s): %q, want %q", run, w.name, w.id, got, want[i])
			}
			if filepath.Base(got) != got || strings.HasPrefix(got, ".") || strings.ContainsAny(got, `/\`) {
				t.Errorf("%q is not a safe file name", got)
			}
		}
	}
}

// TestExportOutRefusesWhatPlanCannotRead: a file of an export to a
// directory over the size of a spec file, or more deployments in all than
// a spec may hold, is refused (exit 3) and no directory is made.
func TestExportOutRefusesWhatPlanCannotRead(t *testing.T) {
	files := []exportFile{
		{name: "organization.yaml", doc: spec.Document{Organization: "org1"}},
		{name: "workspace-a.yaml", doc: spec.Document{Organization: "org1", Deployments: []spec.DeploymentDoc{{ID: "dep0"}, {ID: "dep1"}}}},
	}
	for _, limits := range []fileLimits{{bytes: 40, deployments: 10}, {bytes: 1 << 20, deployments: 1}} {
		dir := filepath.Join(t.TempDir(), "out")
		err := writeExportDir(dir, files, limits)
		var ce *codeError
		if !errors.As(err, &ce) || ce.code != exitInvalid || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("limits %+v: %v, want exit %d", limits, err, exitInvalid)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("limits %+v: the directory was made: %v", limits, err)
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := writeExportDir(dir, files, specFileLimits); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"organization.yaml", "workspace-a.yaml"}) {
		t.Errorf("files %q", got)
	}
}
