package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// concurrentState has one workspace, two managed deployments and one that
// no spec below names. Token names sort in the order apply writes them.
const concurrentState = `
organization: {id: org1, name: Test Org}
workspaces: [{id: ws-a, name: alpha}]
deployments:
  - {id: dep-m1, name: managed-1, workspaceId: ws-a}
  - {id: dep-m2, name: managed-2, workspaceId: ws-a}
  - {id: dep-u, name: unmanaged, workspaceId: ws-a}
roles:
  - {name: VIEWER, scopeType: DEPLOYMENT, restrictedWorkspaceIds: []}
  - {name: DAG_DEPLOYER, scopeType: DEPLOYMENT, restrictedWorkspaceIds: []}
tokens:
  - id: tok-a
    name: a-first
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-m1, role: VIEWER}
  - id: tok-b
    name: b-changed-before-read
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-u, role: VIEWER}
      - {entityType: DAG, entityId: etl, deploymentId: dep-u, role: DAG_AUTHOR}
  - id: tok-c
    name: c-managed-changed-before-read
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-m2, role: VIEWER}
  - id: tok-d
    name: d-changed-between-read-and-write
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
  - id: tok-e
    name: e-last
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
  - id: tok-z
    name: z-not-in-plan
    scope: WORKSPACE
    roles:
      - {entityType: WORKSPACE, entityId: ws-a, role: WORKSPACE_MEMBER}
      - {entityType: DEPLOYMENT, entityId: dep-m1, role: DEPLOYMENT_ADMIN}
`

// concurrentSpec updates a and c, adds b, d and e, leaves z as it is.
const concurrentSpec = `version: 1
deployments:
  - id: dep-m1
    workspaceTokens:
      - {id: tok-a, role: DEPLOYMENT_ADMIN}
      - {id: tok-b, role: DEPLOYMENT_ADMIN}
      - {id: tok-e, role: VIEWER}
      - {id: tok-z, role: DEPLOYMENT_ADMIN}
  - id: dep-m2
    workspaceTokens:
      - {id: tok-c, role: DAG_DEPLOYER}
      - {id: tok-d, role: VIEWER}
`

func wsMember() astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityWorkspace, EntityID: "ws-a", Role: "WORKSPACE_MEMBER"}
}

func onDep(dep, role string) astroapi.Role {
	return astroapi.Role{EntityType: astroapi.EntityDeployment, EntityID: dep, Role: role}
}

// concurrentEmulator is an emulator whose role-write hook the test can set,
// with a log of the writes applied through the API.
type concurrentEmulator struct {
	*cli
	log  writeLog
	mu   gosync.Mutex
	hook func(tokenID string)
}

func newConcurrentEmulator(t *testing.T) *concurrentEmulator {
	st, err := astroapitest.ParseState("state.yaml", []byte(concurrentState))
	if err != nil {
		t.Fatal(err)
	}
	e := &concurrentEmulator{}
	e.cli = newCLIWith(t, st, astroapitest.Options{
		RateLimits: astroapitest.NoRateLimit,
		BeforeRoleWrite: func(id string) {
			e.mu.Lock()
			h := e.hook
			e.mu.Unlock()
			if h != nil {
				h(id)
			}
		},
		AfterRoleWrite: e.log.record,
	})
	return e
}

func (e *concurrentEmulator) setHook(h func(string)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hook = h
}

// set is another writer replacing a token's roles.
func (e *concurrentEmulator) set(id string, roles ...astroapi.Role) {
	e.t.Helper()
	if err := e.srv.SetTokenRoles(id, roles); err != nil {
		e.t.Error(err)
	}
}

func (e *concurrentEmulator) roles(id string) []astroapi.Role {
	for _, tok := range e.srv.State().Tokens {
		if tok.ID == id {
			return tok.Roles
		}
	}
	e.t.Fatalf("no token %s", id)
	return nil
}

// writesByTokensync is how many writes of each token came through the API.
func (e *concurrentEmulator) writesByTokensync() map[string]int {
	out := map[string]int{}
	for id, ws := range e.log.snapshot() {
		out[id] = len(ws)
	}
	return out
}

// TestConcurrentWriters: while apply runs (one token at a time, in name
// order), another writer changes tokens through the API at set points:
//   - before apply reads b: b's unmanaged entries (workspace role, a role on
//     an unmanaged deployment, a DAG role) change: apply keeps them all;
//   - before apply reads c: c's managed entry and an unmanaged one change:
//     apply keeps the unmanaged one and sets the managed one as the spec says;
//   - z, which has nothing to change, changes: apply never writes it;
//   - after apply wrote a and c, they change again: apply's verification
//     names both as changed by someone else, and c's assignment as not
//     holding, and apply exits 7;
//   - between apply's read of d and its write: that change is lost, the
//     documented window of a read-modify-write without ETag.
//
// With -o json apply says the same on stderr, the summary included, for a
// CI log to show.
func TestConcurrentWriters(t *testing.T) {
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) { testConcurrentWriters(t, output) })
	}
}

func testConcurrentWriters(t *testing.T, output string) {
	e := newConcurrentEmulator(t)
	f := e.write("tokens.yaml", concurrentSpec)
	// The roles another writer gives a after apply wrote it.
	var aByOther []astroapi.Role
	e.setHook(func(id string) {
		switch id {
		case "tok-a": // before apply reads b, c (and never z)
			e.set("tok-b",
				astroapi.Role{EntityType: astroapi.EntityWorkspace, EntityID: "ws-a", Role: "WORKSPACE_AUTHOR"},
				onDep("dep-u", "DEPLOYMENT_ADMIN"),
				astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: "etl", DeploymentID: "dep-u", Role: "DAG_VIEWER"},
				astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: "load", DeploymentID: "dep-m1", Role: "DAG_AUTHOR"})
			e.set("tok-c", wsMember(), onDep("dep-m2", "DEPLOYMENT_ADMIN"), onDep("dep-u", "VIEWER"))
			e.set("tok-z", wsMember(), onDep("dep-m1", "DEPLOYMENT_ADMIN"), onDep("dep-u", "VIEWER"))
		case "tok-d": // apply has read d and is writing it
			e.set("tok-d", wsMember(), onDep("dep-u", "DEPLOYMENT_ADMIN"))
		case "tok-e": // apply has written a and c
			aByOther = append(e.roles("tok-a"), onDep("dep-u", "VIEWER"))
			e.set("tok-a", aByOther...)
			e.set("tok-c", wsMember(), onDep("dep-m2", "DEPLOYMENT_ADMIN"), onDep("dep-u", "VIEWER"))
		}
	})

	r := e.runLocked("apply", "-f", f, "--yes", "--parallelism=1", "--no-color", "-o", output)
	wantCode(t, r, exitDrift)
	summary := r.stdout
	if output == "json" {
		summary = r.stderr
		if !json.Valid([]byte(r.stdout)) {
			t.Errorf("stdout is not one JSON document:\n%s", r.stdout)
		}
	}
	if !strings.Contains(summary, "Apply complete: 3 added, 2 changed, 0 removed.") {
		t.Errorf("summary:\n%s", summary)
	}
	var named []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "warning: ") || strings.HasPrefix(l, "  note: ") || strings.HasPrefix(l, "Verification: ") || strings.HasPrefix(l, "  workspace token c-") {
			named = append(named, l)
		}
	}
	want := []string{
		"  note: workspace token b-changed-before-read [tok-b] had changed since the plan; its new roles were computed from a fresh read",
		"  note: workspace token c-managed-changed-before-read [tok-c] had changed since the plan; its new roles were computed from a fresh read",
		"warning: workspace token a-first [tok-a] was changed by someone else during the run",
		"warning: workspace token c-managed-changed-before-read [tok-c] was changed by someone else during the run",
		"Verification: 1 managed assignment(s) are not as the spec says:",
		`  workspace token c-managed-changed-before-read [tok-c] on deployment managed-2: want "DAG_DEPLOYER", have "DEPLOYMENT_ADMIN"`,
	}
	if diff := cmp.Diff(want, named); diff != "" {
		t.Errorf("what apply says about the other writer (-want +got):\n%s\nstderr:\n%s", diff, r.stderr)
	}

	wantRoles := map[string][]astroapi.Role{
		// Changed by the other writer after apply's write: theirs.
		"tok-a": aByOther,
		// Unmanaged entries changed before apply's read: all kept, in order.
		"tok-b": {
			{EntityType: astroapi.EntityWorkspace, EntityID: "ws-a", Role: "WORKSPACE_AUTHOR"},
			onDep("dep-u", "DEPLOYMENT_ADMIN"),
			{EntityType: astroapi.EntityDAG, EntityID: "etl", DeploymentID: "dep-u", Role: "DAG_VIEWER"},
			{EntityType: astroapi.EntityDAG, EntityID: "load", DeploymentID: "dep-m1", Role: "DAG_AUTHOR"},
			onDep("dep-m1", "DEPLOYMENT_ADMIN"),
		},
		// Managed entry changed after apply's write: theirs, and reported.
		"tok-c": {wsMember(), onDep("dep-m2", "DEPLOYMENT_ADMIN"), onDep("dep-u", "VIEWER")},
		// Changed between apply's read and write: the change is lost.
		"tok-d": {wsMember(), onDep("dep-m2", "VIEWER")},
		"tok-e": {wsMember(), onDep("dep-m1", "VIEWER")},
		// Not in the plan: the other writer's change stands.
		"tok-z": {wsMember(), onDep("dep-m1", "DEPLOYMENT_ADMIN"), onDep("dep-u", "VIEWER")},
	}
	for id, roles := range wantRoles {
		if diff := cmp.Diff(roles, e.roles(id)); diff != "" {
			t.Errorf("%s roles (-want +got):\n%s", id, diff)
		}
	}
	// What apply wrote for c kept the other writer's unmanaged entry.
	if diff := cmp.Diff([][]astroapi.Role{{wsMember(), onDep("dep-m2", "DAG_DEPLOYER"), onDep("dep-u", "VIEWER")}}, e.log.snapshot()["tok-c"]); diff != "" {
		t.Errorf("apply's writes of c (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"tok-a": 1, "tok-b": 1, "tok-c": 1, "tok-d": 1, "tok-e": 1}, e.writesByTokensync()); diff != "" {
		t.Errorf("writes by apply (-want +got):\n%s", diff)
	}
}

// TestSavedPlanRefusesChangedTokens: `apply PLAN.json` reads every token of
// the plan first; a token changed since the plan (in an unmanaged entry as
// much as a managed one) refuses the whole plan with exit 5, naming exactly
// those tokens, before any write. A token outside the plan may change.
// Once the check passed, a token changed before apply reads it to write is
// written from that fresh read, keeping the change.
func TestSavedPlanRefusesChangedTokens(t *testing.T) {
	e := newConcurrentEmulator(t)
	f := e.write("tokens.yaml", concurrentSpec)
	planFile := filepath.Join(e.dir, "plan.json")
	wantCode(t, e.run("plan", "-f", f, "--out", planFile), exitOK)

	e.set("tok-b", wsMember(), onDep("dep-u", "VIEWER"), astroapi.Role{EntityType: astroapi.EntityDAG, EntityID: "etl", DeploymentID: "dep-u", Role: "DAG_VIEWER"})
	e.set("tok-c", wsMember(), onDep("dep-m2", "DEPLOYMENT_ADMIN"))
	e.set("tok-z", wsMember())
	e.srv.ResetStats()
	r := e.run("apply", planFile, "--yes")
	wantCode(t, r, exitStale)
	wantErr := "  changed since the plan: workspace token b-changed-before-read [tok-b]\n" +
		"  changed since the plan: workspace token c-managed-changed-before-read [tok-c]\n" +
		"tokensync: the plan is stale: 2 principal(s) changed since it was made; nothing was written; run plan again\n"
	if diff := cmp.Diff(wantErr, r.stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	if n := e.posts(); n != 0 {
		t.Errorf("a stale plan made %d POSTs", n)
	}
	if n := len(e.writesByTokensync()); n != 0 {
		t.Errorf("a stale plan wrote %d tokens", n)
	}

	// A fresh plan; this time b changes after the check, before its write.
	wantCode(t, e.run("plan", "-f", f, "--out", planFile), exitOK)
	bByOther := []astroapi.Role{wsMember(), onDep("dep-u", "DEPLOYMENT_ADMIN")}
	e.setHook(func(id string) {
		if id == "tok-a" {
			e.set("tok-b", bByOther...)
		}
	})
	r = e.runLocked("apply", planFile, "--yes", "--parallelism=1")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stderr, "  note: workspace token b-changed-before-read [tok-b] had changed since the plan; its new roles were computed from a fresh read\n") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if diff := cmp.Diff(append(slices.Clone(bByOther), onDep("dep-m1", "DEPLOYMENT_ADMIN")), e.roles("tok-b")); diff != "" {
		t.Errorf("b roles (-want +got):\n%s", diff)
	}
	wantCode(t, e.run("plan", "-f", f, "--detailed-exitcode"), exitOK)
}

// TestSavedPlanKeepsItsProtect: the subjects a saved plan was made to
// protect stay protected when apply writes it, without --protect again: b,
// protected, is changed by another writer after apply's check and before
// its write, where writing the spec would change a role the plan never
// showed; b is not written, the others are (exit 6).
func TestSavedPlanKeepsItsProtect(t *testing.T) {
	e := newConcurrentEmulator(t)
	f := e.write("tokens.yaml", concurrentSpec)
	planFile := filepath.Join(e.dir, "plan.json")
	wantCode(t, e.run("plan", "-f", f, "--protect", "b-changed-*", "--out", planFile), exitOK)
	bByOther := []astroapi.Role{wsMember(), onDep("dep-m1", "VIEWER")}
	e.setHook(func(id string) {
		if id == "tok-a" {
			e.set("tok-b", bByOther...)
		}
	})
	r := e.runLocked("apply", planFile, "--yes", "--parallelism=1", "--no-color")
	wantCode(t, r, exitPartial)
	if !strings.Contains(r.stderr, "it is protected (--protect); not written") {
		t.Errorf("stderr does not say b is protected:\n%s", r.stderr)
	}
	if !strings.HasSuffix(r.stderr, "; the saved plan is stale now: run plan --out again, then apply the new plan to finish\n") {
		t.Errorf("the last line does not say to plan again:\n%s", r.stderr)
	}
	if diff := cmp.Diff(bByOther, e.roles("tok-b")); diff != "" {
		t.Errorf("b roles (-want +got):\n%s", diff)
	}
	if _, ok := e.writesByTokensync()["tok-b"]; ok {
		t.Error("b was written")
	}
}
