package spec

import (
	"bytes"
	_ "embed"
)

//go:embed schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of the spec file, for
// editors and other tools. Parse checks more than the schema can express
// (duplicate keys, deployments, tokens, users and teams; roles of another
// scope in any case; control and invisible characters in usernames;
// conflicts between files), so a file valid for the schema may still
// be refused. Files the schema refuses are refused by Parse too.
func Schema() []byte {
	return bytes.Clone(schema)
}
