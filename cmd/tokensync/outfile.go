package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
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
// or a socket, nor a symbolic link to one, or to nothing; not a file this
// user may not write; and not one of inputs, the files (or directories of
// spec files) the command reads: the reviewed spec must not become a plan.
func checkReplaceFile(flag, path string, stdin io.Reader, inputs ...string) error {
	if err := checkOutFile(flag, path); err != nil {
		return err
	}
	target, err := replaced(path)
	if err != nil {
		return exitWith(exitUsage, "%s %s: %v; nothing was done", flag, render.Safe(path), err)
	}
	if err := checkNotInput(flag, path, target, stdin, inputs); err != nil {
		return err
	}
	// The file is written beside target and renamed: a directory this user
	// may not write is found now, not after the reads.
	f, err := tempBeside(target)
	if err != nil {
		return exitWith(exitUsage, "%s %s: %v; nothing was done", flag, render.Safe(path), atPath(path, err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// checkNotInput refuses (exit 64) the file target, which flag (path as
// given) writes, when it is one the command reads: one of inputs, a spec
// file of one that is a directory, or the file stdin reads (-f -).
func checkNotInput(flag, path, target string, stdin io.Reader, inputs []string) error {
	if in, ok := amongInputs(target, stdin, inputs); ok {
		return exitWith(exitUsage, "%s %s: the command also reads it (%s); write elsewhere; nothing was done", flag, render.Safe(path), render.Safe(in))
	}
	return nil
}

// amongInputs says whether the existing file target is one of inputs, or
// a spec file one that is a directory reads (also through a link, to a
// file whose own name the directory would skip), and which.
func amongInputs(target string, stdin io.Reader, inputs []string) (string, bool) {
	fi, err := os.Stat(target)
	if err != nil {
		return "", false // a new file is no input
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		var ii fs.FileInfo
		if in == "-" {
			f, ok := stdin.(*os.File)
			if !ok {
				continue
			}
			ii, err = f.Stat()
			in = "standard input"
		} else {
			ii, err = os.Stat(in)
		}
		switch {
		case err != nil:
		case os.SameFile(fi, ii):
			return in, true
		case ii.IsDir():
			for _, f := range spec.Files(in) {
				if ri, err := os.Stat(f); err == nil && os.SameFile(fi, ri) {
					return in, true
				}
			}
		}
	}
	return "", false
}

// isSpecFileName says name looks like a spec file (for hints).
func isSpecFileName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
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
	// The rename needs only the directory's permission: a file this user
	// may not write would be replaced all the same.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return "", errors.New("this user may not write it")
		}
		return "", err
	}
	f.Close()
	return path, nil
}

// tempBeside creates a new file beside target, to be renamed into its
// place: with target's permissions when it exists, otherwise with those
// the umask leaves of 0666, as the shell's > makes a file.
func tempBeside(target string) (*os.File, error) {
	mode, keep := os.FileMode(0o666), false
	if fi, err := os.Stat(target); err == nil {
		mode, keep = fi.Mode().Perm(), true
	}
	for range 100 {
		name := filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+"."+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if keep { // the umask took its bits at creation
			if err := f.Chmod(mode); err != nil {
				f.Close()
				os.Remove(name)
				return nil, err
			}
		}
		return f, nil
	}
	return nil, fmt.Errorf("no free temporary name beside %s", target)
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

// writeAtomic writes what fill writes to a new file beside path (or the
// file a link at path leads to) and renames it into place, so that path is
// never left half-written. An error of the file names path, not the
// temporary file; an error of fill's own, not of writing, comes back as a
// *fillError.
func writeAtomic(path string, fill func(io.Writer) error) error {
	target, err := replaced(path)
	if err != nil {
		return atPath(path, &os.PathError{Op: "write", Err: err})
	}
	f, err := tempBeside(target)
	if err != nil {
		return atPath(path, err)
	}
	defer os.Remove(f.Name())
	fw := &fileWriter{f: f}
	if err := fill(fw); err != nil {
		f.Close()
		if fw.err != nil {
			return atPath(path, fw.err)
		}
		return &fillError{err}
	}
	if err := f.Close(); err != nil {
		return atPath(path, err)
	}
	return atPath(path, os.Rename(f.Name(), target))
}

// fillError is an error of what writeAtomic was given to write, not of the
// file.
type fillError struct{ err error }

func (e *fillError) Error() string { return e.err.Error() }
func (e *fillError) Unwrap() error { return e.err }

// fileWriter keeps the first error writing to its file, so that a failed
// write is told from a failed fill.
type fileWriter struct {
	f   *os.File
	err error
}

func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}
