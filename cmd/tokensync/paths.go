package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/alecthomas/kong"
)

// File names are shown as the user gave them: kong's own "path" and
// "existingfile" types make a name absolute, so that an error (and a GitHub
// annotation) would name /home/runner/work/... for a --policy file that -f
// beside it names relative. These mappers replace kong's: they expand a
// leading ~/ as a shell would and otherwise keep the name, and
// "existingfile" still refuses a name that is missing or a directory.

// pathMappers are the mappers of the "path" and "existingfile" types.
// A list of names is decoded by kong's list decoder of a registry where
// the two names are these mappers.
func pathMappers() (path, existing kong.Option) {
	r := kong.NewRegistry().RegisterDefaults()
	p, e := pathMapper(r, false), pathMapper(r, true)
	r.RegisterName("path", p).RegisterName("existingfile", e)
	return kong.NamedMapper("path", p), kong.NamedMapper("existingfile", e)
}

// pathMapper decodes a file name (or each of a list of them) as given;
// with existing, the file must exist and not be a directory ("-" is stdin).
func pathMapper(r *kong.Registry, existing bool) kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		if target.Kind() == reflect.Slice {
			return r.ForType(target.Type()).Decode(ctx, target)
		}
		if target.Kind() != reflect.String {
			return fmt.Errorf("a file name must be a string, not %s", target.Type())
		}
		var path string
		if err := ctx.Scan.PopValueInto("file", &path); err != nil {
			return err
		}
		path = expandHome(path)
		// An inactive command's flag (set from its variable) is not checked.
		if existing && ctx.Value.Active && path != "-" {
			info, err := os.Stat(path)
			if err != nil {
				return err
			}
			if info.IsDir() {
				return fmt.Errorf("%q exists but is a directory", path)
			}
		}
		target.SetString(path)
		return nil
	}
}

// expandHome replaces a leading ~/ with the home directory, $HOME as a
// shell takes it.
func expandHome(path string) string {
	if !strings.HasPrefix(path, "~/") {
		return path
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return path
	}
	return filepath.Join(home, path[2:])
}
