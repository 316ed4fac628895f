package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/tokensync/tokensync/internal/inputfile"
	"github.com/tokensync/tokensync/spec"
)

// loadSpec reads the spec files and the --policy files, as spec.LoadAll
// does. LoadAll reads each path once, so a --policy file that is also a
// spec file (the same path, or a file of a -f directory) would be read as
// a spec file alone and pass, where a copy of it at another path is held
// to what a policy file may hold: such a file is checked as a policy file
// too (spec.ParsePolicies), so that the same file is checked the same way
// whatever its path.
func loadSpec(ctx context.Context, files, policies []string, stdin io.Reader) (*spec.Spec, error) {
	var extra spec.ErrorList
	for _, name := range alsoSpecFiles(files, policies) {
		data, err := inputfile.Read(ctx, name, spec.MaxFileSize)
		if err != nil {
			continue // LoadAll says why it cannot be read
		}
		if _, err := spec.ParsePolicies(name, data); err != nil {
			var list spec.ErrorList
			if !errors.As(err, &list) {
				return nil, err
			}
			extra = append(extra, list...)
		}
	}
	sp, err := spec.LoadAll(ctx, files, policies, stdin)
	if len(extra) == 0 {
		return sp, err
	}
	var list spec.ErrorList
	if err != nil && !errors.As(err, &list) {
		return nil, err
	}
	return nil, append(list, extra...)
}

// alsoSpecFiles are the policy files that LoadAll reads as spec files:
// those whose path (cleaned) is a -f file, or a *.yaml or *.yml file in a
// -f directory. Each is listed once.
func alsoSpecFiles(files, policies []string) []string {
	isFile, isDir := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		if f == "-" {
			continue
		}
		key := filepath.Clean(f)
		if fi, err := os.Stat(f); err == nil && fi.IsDir() {
			isDir[key] = true
		} else {
			isFile[key] = true
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range policies {
		key := filepath.Clean(p)
		ext := filepath.Ext(key)
		inDir := isDir[filepath.Dir(key)] && (ext == ".yaml" || ext == ".yml")
		if (isFile[key] || inDir) && !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	return out
}
