package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// compileSchema compiles Schema() as draft 2020-12.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("Schema() is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("compile Schema(): %v", err)
	}
	return sch
}

// yamlToJSON converts a YAML document to the value a JSON parser would give.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSchemaIsDraft202012(t *testing.T) {
	var s struct {
		Schema string `json:"$schema"`
	}
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q", s.Schema)
	}
	b := Schema()
	b[0] = 'x'
	if Schema()[0] != '{' {
		t.Error("Schema() returns the embedded bytes, not a copy")
	}
}

// TestSchemaValid validates the valid testdata files, the load testdata
// and the examples (files with a top-level version key) against Schema().
func TestSchemaValid(t *testing.T) {
	sch := compileSchema(t)
	files := yamlFiles(t, filepath.Join("testdata", "valid"))
	load, _ := filepath.Glob(filepath.Join("testdata", "load", "ok", "*.y*ml"))
	files = append(files, load...)
	examples, _ := filepath.Glob(filepath.Join("..", "examples", "*.y*ml"))
	for _, name := range examples {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]any
		if yaml.Unmarshal(data, &top) == nil && top["version"] != nil {
			files = append(files, name) // a spec, not an emulator state or a workflow
		}
	}
	for _, name := range files {
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(name, data); err != nil {
				t.Errorf("Parse: %v", err)
			}
			if err := sch.Validate(yamlToJSON(t, bytes.TrimPrefix(data, bom))); err != nil {
				t.Errorf("schema: %v", err)
			}
		})
	}
}

// TestSchemaInvalid checks that the schema refuses what Parse refuses, for
// everything the schema can express.
func TestSchemaInvalid(t *testing.T) {
	sch := compileSchema(t)
	tests := map[string]string{
		"unknown top-level key":      "version: 1\ndeploymnets: []\n",
		"unknown deployment key":     "version: 1\ndeployments: [{id: d, prunee: true}]\n",
		"unknown token key":          "version: 1\ndeployments: [{id: d, workspaceTokens: [{name: t, rol: DEPLOYMENT_ADMIN}]}]\n",
		"version missing":            "deployments: []\n",
		"version 2":                  "version: 2\n",
		"version string":             "version: \"1\"\n",
		"deployment id and name":     "version: 1\ndeployments: [{id: d, name: n, workspace: w}]\n",
		"deployment neither":         "version: 1\ndeployments: [{prune: true}]\n",
		"name without workspace":     "version: 1\ndeployments: [{name: n}]\n",
		"id with workspace":          "version: 1\ndeployments: [{id: d, workspace: w}]\n",
		"token id and name":          "version: 1\ndeployments: [{id: d, workspaceTokens: [{id: t, name: t, role: DEPLOYMENT_ADMIN}]}]\n",
		"token neither":              "version: 1\ndeployments: [{id: d, workspaceTokens: [{role: DEPLOYMENT_ADMIN}]}]\n",
		"role missing":               "version: 1\ndeployments: [{id: d, workspaceTokens: [{name: t}]}]\n",
		"role missing, state given":  "version: 1\ndeployments: [{id: d, workspaceTokens: [{name: t, state: present}]}]\n",
		"bad state":                  "version: 1\ndeployments: [{id: d, workspaceTokens: [{name: t, state: gone}]}]\n",
		"workspace role":             "version: 1\ndeployments: [{id: d, organizationTokens: [{name: t, role: WORKSPACE_OWNER}]}]\n",
		"empty role":                 "version: 1\ndeployments: [{id: d, workspaceTokens: [{name: t, role: \"\"}]}]\n",
		"prune not a boolean":        "version: 1\ndeployments: [{id: d, prune: \"yes\"}]\n",
		"tokens not a list":          "version: 1\ndeployments: [{id: d, workspaceTokens: {name: t}}]\n",
		"tokens null":                "version: 1\ndeployments: [{id: d, workspaceTokens: null}]\n",
		"name not a string":          "version: 1\ndeployments: [{id: d, workspaceTokens: [{name: 12, role: r}]}]\n",
		"deployments not a list":     "version: 1\ndeployments: {id: d}\n",
		"organization not a string":  "version: 1\norganization: 12\n",
		"ignoreTokens not a list":    "version: 1\nignoreTokens: ci-*\n",
		"ignoreTokens entry integer": "version: 1\nignoreTokens: [12]\n",
		"top level not a mapping":    "- version: 1\n",
		"unknown users key":          "version: 1\ndeployments: [{id: d, user: []}]\n",
		"unknown user key":           "version: 1\ndeployments: [{id: d, users: [{name: a@example.com, role: DEPLOYMENT_ADMIN}]}]\n",
		"user id and username":       "version: 1\ndeployments: [{id: d, users: [{id: u, username: a@example.com, role: DEPLOYMENT_ADMIN}]}]\n",
		"user neither":               "version: 1\ndeployments: [{id: d, users: [{role: DEPLOYMENT_ADMIN}]}]\n",
		"user role missing":          "version: 1\ndeployments: [{id: d, users: [{username: a@example.com}]}]\n",
		"user workspace role":        "version: 1\ndeployments: [{id: d, users: [{username: a@example.com, role: WORKSPACE_MEMBER}]}]\n",
		"user bad state":             "version: 1\ndeployments: [{id: d, users: [{id: u, state: deleted}]}]\n",
		"username not an e-mail":     "version: 1\ndeployments: [{id: d, users: [{username: alice, role: DEPLOYMENT_ADMIN}]}]\n",
		"users not a list":           "version: 1\ndeployments: [{id: d, users: {id: u}}]\n",
		"team id and name":           "version: 1\ndeployments: [{id: d, teams: [{id: t, name: t, role: DEPLOYMENT_ADMIN}]}]\n",
		"team role missing":          "version: 1\ndeployments: [{id: d, teams: [{name: t, state: present}]}]\n",
		"team organization role":     "version: 1\ndeployments: [{id: d, teams: [{name: t, role: ORGANIZATION_OWNER}]}]\n",
		"team empty name":            "version: 1\ndeployments: [{id: d, teams: [{name: \"\", role: DEPLOYMENT_ADMIN}]}]\n",
		"teams null":                 "version: 1\ndeployments: [{id: d, teams: null}]\n",
		"ignoreUsers not a list":     "version: 1\nignoreUsers: \"*@example.com\"\n",
		"ignoreTeams entry empty":    "version: 1\nignoreTeams: [\"\"]\n",
		"too many deployments":       manyDeployments(MaxDeployments + 1),

		"organizationRoles not a mapping":     "version: 1\norganizationRoles: []\n",
		"organizationRoles unknown key":       "version: 1\norganizationRoles: {prunee: true}\n",
		"organizationRoles workspaceTokens":   "version: 1\norganizationRoles: {workspaceTokens: []}\n",
		"organizationRoles prune string":      "version: 1\norganizationRoles: {prune: \"yes\"}\n",
		"organizationRoles state absent":      "version: 1\norganizationRoles: {users: [{username: a@example.com, role: ORGANIZATION_MEMBER, state: absent}]}\n",
		"organizationRoles absent, no role":   "version: 1\norganizationRoles: {teams: [{name: t, state: absent}]}\n",
		"organizationRoles workspace role":    "version: 1\norganizationRoles: {teams: [{name: t, role: workspace_owner}]}\n",
		"organizationRoles custom role":       "version: 1\norganizationRoles: {organizationTokens: [{name: t, role: Reader}]}\n",
		"organizationRoles user id and name":  "version: 1\norganizationRoles: {users: [{id: u, username: a@example.com, role: ORGANIZATION_MEMBER}]}\n",
		"workspaces not a list":               "version: 1\nworkspaces: {name: w}\n",
		"workspace id and name":               "version: 1\nworkspaces: [{id: w, name: w}]\n",
		"workspace neither":                   "version: 1\nworkspaces: [{prune: true}]\n",
		"workspace unknown key":               "version: 1\nworkspaces: [{name: w, dags: []}]\n",
		"workspace deployment role":           "version: 1\nworkspaces: [{name: w, users: [{username: a@example.com, role: DEPLOYMENT_ADMIN}]}]\n",
		"workspace custom role":               "version: 1\nworkspaces: [{name: w, workspaceTokens: [{name: t, role: Reader}]}]\n",
		"workspace role missing":              "version: 1\nworkspaces: [{name: w, teams: [{name: t}]}]\n",
		"dags not a list":                     "version: 1\ndeployments: [{id: d, dags: {dagId: x}}]\n",
		"dag id and tag":                      "version: 1\ndeployments: [{id: d, dags: [{dagId: x, dagTag: y}]}]\n",
		"dag neither":                         "version: 1\ndeployments: [{id: d, dags: [{prune: true}]}]\n",
		"dag unknown key":                     "version: 1\ndeployments: [{id: d, dags: [{dagId: x, id: y}]}]\n",
		"dag empty id":                        "version: 1\ndeployments: [{id: d, dags: [{dagId: \"\"}]}]\n",
		"dag workspace role":                  "version: 1\ndeployments: [{id: d, dags: [{dagId: x, teams: [{name: t, role: Workspace_Member}]}]}]\n",
		"dag deployment role":                 "version: 1\ndeployments: [{id: d, dags: [{dagTag: x, users: [{username: a@example.com, role: DEPLOYMENT_ACCESSOR}]}]}]\n",
		"deployment DAG role":                 "version: 1\ndeployments: [{id: d, users: [{username: a@example.com, role: dag_viewer}]}]\n",
		"deployment organization role, lower": "version: 1\ndeployments: [{id: d, users: [{username: a@example.com, role: organization_owner}]}]\n",
	}
	// Files of testdata/invalid with at least one error the schema expresses
	// (keys.yaml and types.yaml have duplicate and complex keys: not JSON).
	for _, name := range []string{"deployments", "tokens", "version2", "noversion", "globs", "toplevel", "quoted", "users", "teams", "levels"} {
		data, err := os.ReadFile(filepath.Join("testdata", "invalid", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		tests["testdata/invalid/"+name+".yaml"] = string(data)
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse("t.yaml", []byte(in)); err == nil {
				t.Fatal("Parse accepts it")
			}
			if err := sch.Validate(yamlToJSON(t, []byte(in))); err == nil {
				t.Errorf("schema accepts %q", strings.TrimSpace(in[:min(len(in), 200)]))
			}
		})
	}
}

// TestSchemaUsername checks that the schema's username pattern accepts
// what Parse accepts and refuses what Parse refuses, except characters
// that regular expression engines class differently (non-ASCII spaces) or
// that the pattern does not name (control and invisible characters): Parse
// refuses those, and the schema may.
func TestSchemaUsername(t *testing.T) {
	sch := compileSchema(t)
	tests := []struct {
		username  string
		valid     bool
		parseOnly bool // refused by Parse, perhaps not by the schema
	}{
		{username: "alice@example.com", valid: true},
		{username: "Alice.Smith+ops@Sub.Example.CO.UK", valid: true},
		{username: "dmitri@пример.рф", valid: true},
		{username: "a@b.c", valid: true},
		{username: "alice"},
		{username: "@example.com"},
		{username: "alice@"},
		{username: "alice@localhost"},
		{username: "a@b@example.com"},
		{username: "alice @example.com"},
		{username: "alice@example.com "},
		{username: "alice\u00a0@example.com", parseOnly: true},
		{username: "alice@.example.com"},
		{username: "alice@example.com."},
		{username: "alice@example..com"},
		{username: "alice\t@example.com", parseOnly: true},
		{username: "alice\u200b@example.com", parseOnly: true},
		{username: "alice\u202e@example.com", parseOnly: true},
	}
	for _, tt := range tests {
		t.Run(tt.username, func(t *testing.T) {
			in := "version: 1\ndeployments: [{id: d, users: [{username: \"" + tt.username + "\", role: DEPLOYMENT_ADMIN}]}]\n"
			_, err := Parse("t.yaml", []byte(in))
			if got := err == nil; got != tt.valid {
				t.Errorf("Parse accepts it: %v, want %v (%v)", got, tt.valid, err)
			}
			err = sch.Validate(yamlToJSON(t, []byte(in)))
			if got := err == nil; got != tt.valid && !tt.parseOnly {
				t.Errorf("schema accepts it: %v, want %v (%v)", got, tt.valid, err)
			}
		})
	}
}

// TestSchemaLevelRoles checks the roles of each level as the schema and
// Parse see them: every built-in role of every level, in upper, lower and
// mixed case and with the non-ASCII letters that strings.ToUpper makes
// ASCII (ı, ſ), and names that are no built-in role. Parse and the schema
// agree on each.
func TestSchemaLevelRoles(t *testing.T) {
	sch := compileSchema(t)
	entries := map[*level]string{
		organizationLevel: "organizationRoles: {users: [{username: a@example.com, role: %q}]}\n",
		workspaceLevel:    "workspaces: [{name: w, teams: [{name: t, role: %q}]}]\n",
		deploymentLevel:   "deployments: [{id: d, workspaceTokens: [{name: t, role: %q}]}]\n",
		dagLevel:          "deployments: [{id: d, dags: [{dagTag: x, organizationTokens: [{id: t, role: %q}]}]}]\n",
	}
	var roles []string
	for _, lv := range levels() {
		for _, r := range lv.builtin {
			mixed := []byte(strings.ToLower(r))
			for i := 0; i < len(mixed); i += 2 {
				mixed[i] = strings.ToUpper(string(mixed[i]))[0]
			}
			roles = append(roles, r, strings.ToLower(r), string(mixed),
				strings.NewReplacer("I", "\u0131", "S", "\u017f").Replace(r))
		}
	}
	roles = append(roles, "Reader", "DAG Operator", "WORKSPACE_OWNR", "ORGANIZATION", "ORGANIZATION_OWNER_", " ORGANIZATION_OWNER")
	for lv, entry := range entries {
		for _, role := range roles {
			in := "version: 1\n" + fmt.Sprintf(entry, role)
			_, err := Parse("t.yaml", []byte(in))
			schemaErr := sch.Validate(yamlToJSON(t, []byte(in)))
			if (err == nil) != (schemaErr == nil) {
				t.Errorf("%s level, role %q: Parse error %v, schema error %v", lv.scope, role, err, schemaErr)
			}
		}
	}
}
