package main

import (
	"fmt"

	"github.com/tokensync/tokensync/spec"
)

// SchemaCmd is `tokensync schema`.
type SchemaCmd struct{}

// Run prints the JSON Schema of the spec file.
func (c *SchemaCmd) Run(st *Streams) error {
	_, err := fmt.Fprintf(st.Out, "%s", spec.Schema())
	return err
}

// VersionCmd is `tokensync version`.
type VersionCmd struct{}

// Run prints the version, commit and build date.
func (c *VersionCmd) Run(st *Streams) error {
	_, err := fmt.Fprintln(st.Out, versionLine(build{Version: version, Commit: commit, Date: date}))
	return err
}
