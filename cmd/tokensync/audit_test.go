package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/render"
)

// failingPosts fronts c's emulator: the role write of token id answers
// 400 with a request id, every other request goes through.
func failingPosts(t *testing.T, c *cli, id string) {
	t.Helper()
	failing(t, c, http.StatusBadRequest, "role refused", func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/tokens/"+id+"/roles")
	})
}

// failing fronts c's emulator: a request for which fails is true gets
// status, with msg and a request id; every other request goes through.
func failing(t *testing.T, c *cli, status int, msg string, fails func(*http.Request) bool) {
	t.Helper()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fails(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(astroapi.Error{Message: msg, RequestID: "req-audit-1", StatusCode: status})
			return
		}
		c.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c.baseURL = front.URL + "/v1"
}

// applySchemaOf compiles render/apply.schema.json, or one of its $defs.
func applySchemaOf(t *testing.T, def string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(render.ApplySchema()))
	if err != nil {
		t.Fatal(err)
	}
	comp := jsonschema.NewCompiler()
	comp.AssertFormat()
	if err := comp.AddResource("apply.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	loc := "apply.schema.json"
	if def != "" {
		loc += "#/$defs/" + def
	}
	sch, err := comp.Compile(loc)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validateWith(t *testing.T, sch *jsonschema.Schema, data []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("does not match render/apply.schema.json: %v\n%s", err, data)
	}
}

// TestApplyJSONOutputMatchesSchema: apply -o json, complete and partly
// failed, is the document render/apply.schema.json describes.
func TestApplyJSONOutputMatchesSchema(t *testing.T) {
	sch := applySchemaOf(t, "")
	c := newCLI(t, testState)
	failingPosts(t, c, "tok-old")
	f := c.write("tokens.yaml", mainSpec)
	r := c.run("apply", "-f", f, "--yes", "-o", "json")
	wantCode(t, r, exitPartial)
	validateWith(t, sch, []byte(r.stdout))

	c = newCLI(t, testState)
	r = c.run("apply", "-f", c.write("tokens.yaml", mainSpec), "--yes", "-o", "json")
	wantCode(t, r, exitOK)
	validateWith(t, sch, []byte(r.stdout))
}

// TestApplyAuditLog: --audit-log appends a line per subject as it
// finishes, failures with their request id, in a file only its owner may
// read, never with the credential.
func TestApplyAuditLog(t *testing.T) {
	c := newCLI(t, testState)
	failingPosts(t, c, "tok-old")
	f := c.write("tokens.yaml", mainSpec)
	logFile := filepath.Join(c.dir, "audit", "apply.jsonl")
	if err := os.Mkdir(filepath.Dir(logFile), 0o700); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Second)

	r := c.run("apply", "-f", f, "--yes", "--audit-log", logFile)
	wantCode(t, r, exitPartial)
	info, err := os.Stat(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("audit log mode %04o, want 0600", perm)
	}

	type line struct {
		Time         time.Time `json:"time"`
		Organization string    `json:"organization"`
		Subject      struct{ ID string }
		Status       string `json:"status"`
		RequestID    string `json:"request_id"`
		Changes      []struct {
			Action string
			Scope  struct{ Level, ID string }
		}
		After []struct {
			Level, ID, Role string
		}
	}
	read := func() []line {
		data, err := os.ReadFile(logFile)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Fatal("the audit log holds the credential")
		}
		sch := applySchemaOf(t, "auditLine")
		var lines []line
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			validateWith(t, sch, sc.Bytes())
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		return lines
	}
	lines := read()
	got := map[string]string{}
	for _, l := range lines {
		got[l.Subject.ID] = l.Status + " " + l.RequestID
		if l.Organization != "org1" || l.Time.Before(start) || l.Time.After(time.Now()) {
			t.Errorf("line of %s: organization %q, time %v", l.Subject.ID, l.Organization, l.Time)
		}
	}
	want := map[string]string{"tok-deployer": "written ", "tok-ci-b": "written ", "tok-old": "failed req-audit-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit lines by subject (-want +got):\n%s", diff)
	}
	for _, l := range lines {
		// After is the whole role set written: its own workspace role
		// kept as read, and the added deployment role.
		if l.Subject.ID == "tok-ci-b" && (len(l.Changes) != 1 || l.Changes[0].Scope.ID != "dep-b1" || len(l.After) != 2 ||
			l.After[1].Level != "deployment" || l.After[1].ID != "dep-b1" || l.After[1].Role != "VIEWER") {
			t.Errorf("tok-ci-b's line: changes %+v, after %+v", l.Changes, l.After)
		}
	}

	// A second run appends: the failed write again, and nothing else.
	wantCode(t, c.run("apply", "-f", f, "--yes", "--audit-log", logFile), exitPartial)
	lines = read()
	if len(lines) != 4 || lines[3].Subject.ID != "tok-old" || lines[3].Status != "failed" {
		t.Errorf("after a second run, the log has %d lines, last %+v; want 4, the failed write last", len(lines), lines[len(lines)-1])
	}
}

func TestApplyAuditLogThatCannotBeOpenedRefuses(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	r := c.run("apply", "-f", f, "--yes", "--audit-log", filepath.Join(c.dir, "no-such-dir", "audit.jsonl"))
	wantCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "no-such-dir does not exist") || c.requests() != 0 {
		t.Errorf("%d requests; stderr:\n%s", c.requests(), r.stderr)
	}
}

// TestApplyStopsWhenTheAuditLogFails: once a line cannot be written to the
// audit log, no other write starts: the apply stops with what it wrote
// (exit 6) and says the log is incomplete.
func TestApplyStopsWhenTheAuditLogFails(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full:", err)
	}
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	r := c.run("apply", "-f", f, "--yes", "--parallelism", "1", "--audit-log", "/dev/full")
	wantCode(t, r, exitPartial)
	if n := c.posts(); n != 1 {
		t.Errorf("%d writes after the audit log failed, want the one it failed on", n)
	}
	for _, want := range []string{"audit log /dev/full is incomplete", "1 principal(s) written, 0 failed, 2 not started"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestApplyThatSentNoWriteExits1: when every subject fails before its
// write is sent (here its read right before the write), nothing was
// written, and apply exits 1, not 6 (some writes done). A refused write,
// sent, keeps exit 6 (TestApplyAuditLog).
func TestApplyThatSentNoWriteExits1(t *testing.T) {
	c := newCLI(t, testState)
	failing(t, c, http.StatusInternalServerError, "read refused", func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/tokens/")
	})
	r := c.run("apply", "-f", c.write("tokens.yaml", mainSpec), "--yes", "--no-color")
	wantCode(t, r, exitError)
	if c.posts() != 0 {
		t.Errorf("%d writes", c.posts())
	}
	if want := "failed before their write, nothing was written"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
}
