package spec

import (
	"bytes"
	_ "embed"
)

//go:embed schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of the spec file, for
// editors and other tools. Parse checks more than the schema can express
// (duplicate keys; workspaces, deployments, DAGs, tokens, users and teams
// listed twice; control and invisible characters in usernames; conflicts
// between files), so a file valid for the schema may still be refused.
// Files the schema refuses are refused by Parse too. Roles are checked by
// level as Parse checks them, built-in role names in any case.
func Schema() []byte {
	return bytes.Clone(schema)
}
