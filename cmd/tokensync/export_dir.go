package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// exportFile is one file of an export written to a directory.
type exportFile struct {
	name string // a base name: no separator, no leading dot
	doc  spec.Document
}

// exportOrganizationFile is the name of the file that holds the
// organization level.
const exportOrganizationFile = "organization.yaml"

// splitExport splits doc into the files of `export --out`: the
// organization level in organization.yaml, and each workspace (its
// workspace roles and its deployments with their DAGs) in a file of its
// own, named by exportFileNames. Every file names the organization and
// carries the ignore lists, so that a file planned alone leaves the
// ignored principals alone too.
func splitExport(doc spec.Document, obs *sync.Observed) []exportFile {
	base := spec.Document{Organization: doc.Organization, Comment: doc.Comment, Always: doc.Always, Ignore: doc.Ignore}
	org := base
	org.OrganizationRoles = doc.OrganizationRoles
	files := []exportFile{{name: exportOrganizationFile, doc: org}}

	wsOf := map[string]string{}
	for _, d := range obs.Deployments {
		wsOf[d.ID] = d.WorkspaceID
	}
	names := map[string]string{}
	for _, w := range obs.Workspaces {
		names[w.ID] = w.Name
	}
	type group struct {
		id, name string
		doc      spec.Document
	}
	groups := map[string]*group{}
	var order []*group
	get := func(id string) *group {
		g := groups[id]
		if g == nil {
			g = &group{id: id, name: cmp.Or(names[id], id), doc: base}
			groups[id] = g
			order = append(order, g)
		}
		return g
	}
	for _, w := range doc.Workspaces {
		g := get(w.ID)
		g.doc.Workspaces = append(g.doc.Workspaces, w)
	}
	for _, d := range doc.Deployments {
		g := get(wsOf[d.ID])
		g.doc.Deployments = append(g.doc.Deployments, d)
	}
	slices.SortFunc(order, func(a, b *group) int { return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.id, b.id)) })
	used := map[string]bool{exportOrganizationFile: true}
	for _, g := range order {
		files = append(files, exportFile{name: exportFileName(g.name, g.id, used), doc: g.doc})
	}
	return files
}

// exportFileName is the file name of the workspace named name (id id):
// "workspace-" and its name made safe (safeFileWord), or its id when the
// name leaves nothing; when that is taken (in any case: some file systems
// ignore it), its id is added, then a number. used holds the names taken,
// lower-cased, and gets the one returned.
func exportFileName(name, id string, used map[string]bool) string {
	word := cmp.Or(safeFileWord(name), safeFileWord(id), "workspace")
	candidates := []string{word}
	if w := safeFileWord(id); w != "" && w != word {
		candidates = append(candidates, word+"-"+w)
	}
	for _, c := range candidates {
		if f := "workspace-" + c + ".yaml"; !used[f] {
			used[f] = true
			return f
		}
	}
	last := candidates[len(candidates)-1]
	for n := 2; ; n++ {
		if f := "workspace-" + last + "-" + strconv.Itoa(n) + ".yaml"; !used[f] {
			used[f] = true
			return f
		}
	}
}

// safeFileWord is s as a piece of a file name that every file system
// takes as it is: lower-case ASCII letters, digits, '_' and '.', each run
// of other characters (separators, spaces, controls, non-ASCII) one '-',
// without a leading or trailing '-' or '.', at most 60 bytes. It may be
// empty.
func safeFileWord(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-.")
	if len(out) > 60 {
		out = strings.Trim(out[:60], "-.")
	}
	return out
}

// checkExportDir refuses an --out directory that exists and is not empty,
// or is not a directory: export never writes over or among other files.
func checkExportDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, lerr := os.Lstat(filepath.Clean(dir)); lerr == nil { // Clean: "link/" would follow it
			// A link to nothing: the rename at the end cannot replace it.
			return exitWith(exitUsage, "--out %s: a symbolic link to nothing; give a directory that does not exist yet, or an empty one", render.Safe(dir))
		}
		return nil
	case err != nil:
		return exitWith(exitUsage, "--out %s: %w", render.Safe(dir), err)
	case !fi.IsDir():
		return exitWith(exitUsage, "--out %s: not a directory; give a directory that does not exist yet, or an empty one", render.Safe(dir))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return exitWith(exitUsage, "--out %s: %w", render.Safe(dir), err)
	}
	if len(entries) > 0 {
		return exitWith(exitUsage, "--out %s: the directory is not empty; export writes only a new or empty directory (nothing was written)", render.Safe(dir))
	}
	return nil
}

// writeExportDir writes files into dir, all or nothing: each file within
// limits (refused otherwise, exit 3, nothing written). dir must not exist
// or be empty (checkExportDir). A new dir is written as a temporary
// directory beside it, then renamed to it; the directories above it that
// do not exist are made (as mkdir -p does), and removed again when the
// export fails. An empty dir that exists is kept, with its mode, owner and
// any symbolic link to it, and the files are moved into it.
func writeExportDir(dir string, files []exportFile, limits fileLimits) (err error) {
	data := make([][]byte, len(files))
	total := 0
	for i, f := range files {
		var b bytes.Buffer
		if err := spec.Encode(&b, f.doc); err != nil {
			return err
		}
		if b.Len() > limits.bytes {
			return exitWith(exitInvalid, "the export's %s holds %d bytes, over what a spec file may hold (%d bytes): export its deployments in parts with --deployment; nothing was written",
				f.name, b.Len(), limits.bytes)
		}
		total += len(f.doc.Deployments)
		data[i] = b.Bytes()
	}
	if total > limits.deployments {
		return exitWith(exitInvalid, "the export holds %d deployments, over what a spec may hold (%d): export part of the organization with --workspace or --deployment; nothing was written",
			total, limits.deployments)
	}
	if err := checkExportDir(dir); err != nil {
		return err
	}
	if _, err := os.Stat(dir); err == nil {
		return fillExportDir(dir, files, data)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	made, err := mkdirParents(parent)
	if err != nil {
		return exitWith(exitUsage, "--out %s: %w; nothing was written", render.Safe(dir), err)
	}
	defer func() {
		if err != nil {
			removeMade(made)
		}
	}()
	tmp, err := writeExportTemp(parent, dir, files, data)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("export to %s: %w", render.Safe(dir), err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("export to %s: %w", render.Safe(dir), err)
	}
	return nil
}

// writeExportTemp writes the files of an export to dir into a new
// temporary directory in parent, and returns it; the caller removes it.
func writeExportTemp(parent, dir string, files []exportFile, data [][]byte) (string, error) {
	tmp, err := os.MkdirTemp(parent, ".tokensync-export-*")
	if err != nil {
		return "", fmt.Errorf("export to %s: %w", render.Safe(dir), err)
	}
	for i, f := range files {
		if err := os.WriteFile(filepath.Join(tmp, f.name), data[i], 0o644); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("export to %s: %w", render.Safe(dir), err)
		}
	}
	return tmp, nil
}

// fillExportDir writes the files of an export into dir, an empty directory
// that exists: into a temporary directory within it first, then each moved
// up into dir; when one cannot be moved, those moved already are removed,
// so that dir is left empty.
func fillExportDir(dir string, files []exportFile, data [][]byte) error {
	tmp, err := writeExportTemp(dir, dir, files, data)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for i, f := range files {
		if err := os.Rename(filepath.Join(tmp, f.name), filepath.Join(dir, f.name)); err != nil {
			for _, moved := range files[:i] {
				os.Remove(filepath.Join(dir, moved.name))
			}
			return fmt.Errorf("export to %s: %w", render.Safe(dir), err)
		}
	}
	return nil
}

// mkdirParents makes dir and every directory above it that does not exist,
// as mkdir -p does, and returns those it made, the deepest first. When one
// cannot be made, those made before it are removed again.
func mkdirParents(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		switch err := os.Mkdir(missing[i], 0o755); {
		case err == nil:
			made = append([]string{missing[i]}, made...)
		case !errors.Is(err, fs.ErrExist): // made meanwhile by another: not ours
			removeMade(made)
			return nil, err
		}
	}
	return made, nil
}

// removeMade removes the directories mkdirParents made, the deepest first,
// each only while it is empty.
func removeMade(made []string) {
	for _, d := range made {
		os.Remove(d)
	}
}
