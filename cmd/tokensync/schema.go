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
	built := date
	if built == "" {
		built = "unknown"
	}
	_, err := fmt.Fprintf(st.Out, "tokensync %s (commit %s, built %s)\n", version, buildCommit(), built)
	return err
}
