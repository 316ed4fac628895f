package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/tokensync/tokensync/render"
)

// checkOutFile refuses (exit 64), before anything is read or contacted, a
// file that flag names to be written when it cannot be: its directory does
// not exist or is not a directory, or the path is a directory. tokensync
// makes no directory for such a file.
func checkOutFile(flag, path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return exitWith(exitUsage, "%s %s: the directory %s does not exist; nothing was done", flag, render.Safe(path), render.Safe(dir))
	case err != nil:
		return exitWith(exitUsage, "%s %s: %v; nothing was done", flag, render.Safe(path), atPath(dir, err))
	case !fi.IsDir():
		return exitWith(exitUsage, "%s %s: %s is not a directory; nothing was done", flag, render.Safe(path), render.Safe(dir))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return exitWith(exitUsage, "%s %s: a directory, not a file; nothing was done", flag, render.Safe(path))
	}
	return nil
}

// checkReplaceFile is checkOutFile for a file written whole in place of
// what is there (--out): besides, path must not be a device, a named pipe
// or a socket, nor a symbolic link to one, or to nothing.
func checkReplaceFile(flag, path string) error {
	if err := checkOutFile(flag, path); err != nil {
		return err
	}
	if _, err := replaced(path); err != nil {
		return exitWith(exitUsage, "%s %s: %v; nothing was done", flag, render.Safe(path), err)
	}
	return nil
}

// replaced is the file that writing path replaces: path itself, or the
// file a symbolic link at path leads to, so that the link stays a link.
// A rename puts the new file in place, so that it is never half-written;
// renamed over a device or a named pipe, it would take its place (over
// /dev/null, for root). Such a path is an error.
func replaced(path string) (string, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return path, nil
	case err != nil:
		return "", err
	case fi.Mode()&os.ModeSymlink != 0:
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return "", errors.New("a symbolic link to a file that does not exist, or cannot be reached")
		}
		if fi, err = os.Stat(target); err != nil {
			return "", err
		}
		path = target
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file: a device, named pipe or socket is not replaced")
	}
	return path, nil
}

// atPath makes an error about a temporary file beside path, or about its
// rename to path, name path itself: the temporary name means nothing to
// whoever gave path.
func atPath(path string, err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return &os.PathError{Op: pe.Op, Path: render.Safe(path), Err: pe.Err}
	case errors.As(err, &le):
		return &os.PathError{Op: le.Op, Path: render.Safe(path), Err: le.Err}
	}
	return err
}
