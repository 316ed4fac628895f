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

// Run prints the version and commit.
func (c *VersionCmd) Run(st *Streams) error {
	_, err := fmt.Fprintf(st.Out, "tokensync %s (commit %s)\n", version, buildCommit())
	return err
}
