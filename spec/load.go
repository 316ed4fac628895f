package spec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tokensync/tokensync/internal/inputfile"
)

// Limits that keep hostile or mistaken input cheap to reject.
const (
	// MaxFileSize is the largest spec file read, in bytes (4 MiB). Larger
	// files are refused without being parsed.
	MaxFileSize = 4 << 20
	// MaxDeployments is the most deployments a spec may declare, over all
	// its files.
	MaxDeployments = 10000
	// MaxErrors is the most errors reported; when more are found, one last
	// entry says how many were left out (Error.More).
	MaxErrors = 1000
)

var bom = []byte("\xef\xbb\xbf")

// Parse reads one spec file. filename is used in positions and the digest
// only. A non-nil error is always an ErrorList whose entries have Line and
// Col >= 1; the Spec is then nil.
func Parse(filename string, data []byte) (*Spec, error) {
	l := newLoader()
	l.file(filename, data)
	return l.finish()
}

// Load reads the spec files named by paths, as given with -f: a file, or a
// directory standing for every *.yaml and *.yml file directly in it
// whose name does not begin with a dot (see specName), in name order (a
// directory with none is an error; so is an entry there that
// cannot be read, such as a broken or looping symbolic link, or a symbolic
// link that leads out of the directory, which is not read; directories
// and other files that are not regular are skipped). Files are read in
// that order and merged into one Spec; a file met twice (however its paths
// spell it: see fileKey) is read once. A non-nil
// error is an ErrorList, I/O errors included: those have Line 0 (the file
// as a whole) and wrap the underlying error. Load returns another error
// only when paths is empty.
func Load(paths []string) (*Spec, error) {
	return LoadWith(paths, nil)
}

// Stdin is the name a spec read from standard input has in positions, in
// the digest and in Spec.Files.
const Stdin = "<stdin>"

// LoadWith is Load where the path "-" stands for stdin (-f -), read to
// its end once (under the limit of a file) and named Stdin. With stdin nil,
// "-" is a file of that name, as for Load.
func LoadWith(paths []string, stdin io.Reader) (*Spec, error) {
	return LoadContext(context.Background(), paths, stdin)
}

// LoadContext is LoadWith that stops reading when ctx ends: a read then
// fails with the context's cause, standard input's too, even when nothing
// is ever written to it. A path that is not a regular file (a device, a
// named pipe) is an error, read no further than its type; "-" is the way
// to read standard input.
func LoadContext(ctx context.Context, paths []string, stdin io.Reader) (*Spec, error) {
	if len(paths) == 0 {
		return nil, errors.New("spec: no spec file given")
	}
	return LoadAll(ctx, paths, nil, stdin)
}

// LoadAll is LoadContext that also reads the policy files given with
// --policy, after the spec files: each is a file (not a directory) that
// holds only policies, production and, optionally, version. A policy
// file's production is the one in force, and then no spec file may set
// production; nor may a spec file that a policy's files match (see
// MatchFile). Their policies join the
// spec's, in the order read, and a policy's name is unique over every
// file. Policy files are listed in PolicyFiles, not in Files, and are not
// in the Digest: the digest names the spec a saved plan was made from,
// which apply -f checks, and the plan records the policies' verdict. With
// no spec file (paths empty), the Spec holds the policies only; with
// neither, it is an error.
func LoadAll(ctx context.Context, paths, policyFiles []string, stdin io.Reader) (*Spec, error) {
	return Loader{}.LoadAll(ctx, paths, policyFiles, stdin)
}

// Loader reads spec and policy files as LoadAll does. CheckPolicies, when
// set, is given the policies that parsed, even when other entries did not,
// and the ErrorList it returns (say, expressions that do not compile)
// joins the files' own errors: every error is reported at once.
type Loader struct {
	CheckPolicies func([]Policy) error
}

// LoadAll is LoadAll, with ld's checks.
func (ld Loader) LoadAll(ctx context.Context, paths, policyFiles []string, stdin io.Reader) (*Spec, error) {
	if len(paths) == 0 && len(policyFiles) == 0 {
		return nil, errors.New("spec: no spec file given")
	}
	l := newLoader()
	read := make(map[string]bool)
	for _, p := range paths {
		if p == "-" && stdin != nil {
			if !read[Stdin] {
				read[Stdin] = true
				l.read(ctx, Stdin, stdin)
			}
			continue
		}
		files, errs := expand(p)
		for _, err := range errs {
			l.add(err)
		}
		for _, name := range files {
			key := fileKey(name)
			if read[key] {
				continue
			}
			read[key] = true
			data, err := readFile(ctx, name)
			if err != nil {
				l.add(err)
				continue
			}
			l.file(name, data)
		}
	}
	l.policyFiles(ctx, policyFiles, read)
	if ld.CheckPolicies != nil && len(l.spec.Policies) > 0 {
		var list ErrorList
		if err := ld.CheckPolicies(l.spec.Policies); errors.As(err, &list) {
			for _, e := range list {
				l.add(e)
			}
		} else if err != nil {
			return nil, err
		}
	}
	return l.finish()
}

// policyFiles reads the files given with --policy, each once. One that
// was read as a spec file (read) already, its policies with it, must still
// hold only what a policy file may, as any other does.
func (l *loader) policyFiles(ctx context.Context, names []string, read map[string]bool) {
	seen := make(map[string]bool)
	for _, name := range names {
		key := fileKey(name)
		if seen[key] {
			continue
		}
		seen[key] = true
		data, err := readFile(ctx, name)
		if err != nil {
			l.add(err)
			continue
		}
		if read[key] {
			check := newLoader()
			check.parse(&file{l: check, name: name, policyOnly: true}, data)
			for _, e := range check.errs {
				l.add(e)
			}
			continue
		}
		l.parse(&file{l: l, name: name, policyOnly: true}, data)
	}
}

// fileKey names the file at path name however name spells it (relative or
// absolute, with "//", "." or ".."), to read a file met twice once: its
// absolute path, cleaned. Symbolic links are not followed.
func fileKey(name string) string {
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return filepath.Clean(name)
}

// ParsePolicies reads one policy file, as given with --policy, as Parse
// reads a spec file.
func ParsePolicies(filename string, data []byte) (*Spec, error) {
	l := newLoader()
	l.parse(&file{l: l, name: filename, policyOnly: true}, data)
	return l.finish()
}

// DirectoryEntry reports whether a -f directory reads its entry of this
// name as a spec file: *.yaml or *.yml, as a shell matches it; a name that
// begins with a dot, an editor's lock or backup copy, say (emacs's
// .#tokens.yaml), is not.
func DirectoryEntry(name string) bool {
	ext := filepath.Ext(name)
	return !strings.HasPrefix(name, ".") && (ext == ".yaml" || ext == ".yml")
}

// Files are the files -f path reads: path itself, or the spec files of a
// directory (DirectoryEntry, and links to files within it), to tell a
// file the command reads from one it may write.
func Files(path string) []string {
	files, _ := expand(path)
	return files
}

// expand turns one -f value into the files it names, and the errors of
// the entries that cannot be read.
func expand(p string) ([]string, []*Error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, []*Error{ioError(p, err)}
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, []*Error{ioError(p, err)}
	}
	var (
		files []string
		errs  []*Error
	)
	root := ""
	for _, e := range entries {
		if !DirectoryEntry(e.Name()) {
			continue
		}
		name := filepath.Join(p, e.Name())
		if !e.Type().IsRegular() {
			if root == "" {
				if root, err = realPath(p); err != nil {
					return nil, []*Error{ioError(p, err)}
				}
			}
			ok, err := linkedFile(root, name)
			if err != nil {
				errs = append(errs, err)
			}
			if !ok {
				continue
			}
		}
		files = append(files, name)
	}
	if len(files) == 0 && len(errs) == 0 {
		return nil, []*Error{{Pos: Pos{File: p}, Msg: "directory has no *.yaml or *.yml files"}}
	}
	return files, errs
}

// linkedFile reports whether name, an entry of the directory whose real
// path is root that is not a regular file, is a spec file to read: a
// symbolic link to a regular file inside root (as a Kubernetes ConfigMap
// mounts its files: tokens.yaml -> ..data/tokens.yaml, ..data ->
// ..2026_12_01_...). Directories and the like are skipped. A link that
// leads nowhere (broken, looping) is an error, as the file it stood for
// would silently be left out of the spec; so is a link that leads out of
// the directory, whose content is never read: the directory's files are
// what -f named, and a link must not add another (a credential, say)
// behind the reviewer's back. A file outside is read when -f names it.
func linkedFile(root, name string) (bool, *Error) {
	fi, err := os.Stat(name)
	if err != nil {
		e := ioError(name, err)
		if target, lerr := os.Readlink(name); lerr == nil {
			e.Msg = fmt.Sprintf("cannot read: symbolic link to %q: %s", target, ioMessage(err))
		}
		return false, e
	}
	resolved, err := realPath(name)
	if err != nil {
		return false, ioError(name, err)
	}
	if rel, err := filepath.Rel(root, resolved); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		msg := "symbolic link leads out of its directory; not read (name the file with -f to read it)"
		if target, lerr := os.Readlink(name); lerr == nil {
			msg = fmt.Sprintf("symbolic link to %q leads out of its directory; not read (name the file with -f to read it)", target)
		}
		return false, &Error{Pos: Pos{File: name}, Msg: msg}
	}
	return fi.Mode().IsRegular(), nil
}

// realPath is the absolute path of name with every symbolic link resolved.
func realPath(name string) (string, error) {
	p, err := filepath.EvalSymlinks(name)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// readFile reads a spec file, refusing one over MaxFileSize before reading
// it, and one that is not a regular file.
func readFile(ctx context.Context, name string) ([]byte, *Error) {
	data, err := inputfile.Read(ctx, name, MaxFileSize)
	return data, readError(name, err)
}

// readError is the error of reading the file name, nil for none.
func readError(name string, err error) *Error {
	var big *inputfile.TooLargeError
	var special *inputfile.NotRegularError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &big) && big.Size >= 0:
		return tooBig(name, strconv.FormatInt(big.Size, 10))
	case errors.As(err, &big):
		return tooBig(name, "over "+strconv.Itoa(MaxFileSize))
	case errors.As(err, &special):
		e := ioError(name, err)
		e.Msg += "; use - for standard input"
		return e
	}
	return ioError(name, err)
}

// read adds the spec read from r, named name, refusing more than
// MaxFileSize bytes.
func (l *loader) read(ctx context.Context, name string, r io.Reader) {
	data, err := inputfile.ReadAll(ctx, r, MaxFileSize)
	if err := readError(name, err); err != nil {
		l.add(err)
		return
	}
	l.file(name, data)
}

func tooBig(name, size string) *Error {
	return &Error{
		Pos: Pos{File: name, Line: 1, Col: 1},
		Msg: fmt.Sprintf("file is %s bytes; the limit is %d", size, MaxFileSize),
	}
}

// ioError positions an I/O error on the file as a whole.
func ioError(name string, err error) *Error {
	return &Error{Pos: Pos{File: name}, Msg: "cannot read: " + ioMessage(err), Err: err}
}

// ioMessage is an I/O error's message without the path it names.
func ioMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// loader accumulates the files of one Spec and the errors found in them.
type loader struct {
	spec    Spec
	errs    ErrorList
	dropped int
	// digests are the SHA-256 of each spec file's name and content, in
	// read order; finish makes the Spec's Digest of them, sorted.
	digests [][sha256.Size]byte
	// deployments maps a deployment's identity to where it is declared.
	deployments map[string]Pos
	// workspaces maps a workspace's identity ("id\x00" and its id, or
	// "name\x00" and its name) to where it is declared.
	workspaces map[string]Pos
	// policies maps a policy's name to where it is declared.
	policies map[string]declared
	// specProduction and policyProduction are the production keys of the
	// first spec file and of the first policy file that have one.
	specProduction, policyProduction Pos
	count                            int  // deployments seen, over all files
	tooMany                          bool // MaxDeployments was exceeded (and reported)
}

func newLoader() *loader {
	return &loader{deployments: make(map[string]Pos), workspaces: make(map[string]Pos), policies: make(map[string]declared)}
}

// declared is where a name is declared, and whether in a policy file
// (--policy).
type declared struct {
	Pos
	policyFile bool
}

func (l *loader) add(e *Error) {
	if len(l.errs) >= MaxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, e)
}

func (l *loader) errorf(pos Pos, format string, args ...any) {
	if len(l.errs) >= MaxErrors {
		l.dropped++ // without formatting a message no one reads
		return
	}
	l.add(&Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// finish returns the Spec, or every error sorted by position.
func (l *loader) finish() (*Spec, error) {
	l.checkProduction()
	if len(l.errs) > 0 {
		l.errs.Sort()
		if l.dropped > 0 {
			last := l.errs[len(l.errs)-1]
			l.errs = append(l.errs, &Error{
				Pos:  last.Pos,
				Msg:  fmt.Sprintf("too many errors; %d more not shown", l.dropped),
				More: l.dropped,
			})
		}
		return nil, l.errs
	}
	l.spec.Digest = l.digest()
	return &l.spec, nil
}

// digest is the Spec's Digest: the SHA-256 of the files' digests, sorted,
// so that the order -f gives the files in does not change it.
func (l *loader) digest() string {
	slices.SortFunc(l.digests, func(a, b [sha256.Size]byte) int { return bytes.Compare(a[:], b[:]) })
	h := sha256.New()
	for _, d := range l.digests {
		h.Write(d[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// file parses one spec file's content into l.
func (l *loader) file(name string, data []byte) {
	l.parse(&file{l: l, name: name}, data)
}

// parse parses the content of f into l.
func (l *loader) parse(f *file, data []byte) {
	name := f.name
	if f.policyOnly {
		l.spec.PolicyFiles = append(l.spec.PolicyFiles, name)
	} else {
		l.spec.Files = append(l.spec.Files, name)
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(name), len(data))
		h.Write(data)
		l.digests = append(l.digests, [sha256.Size]byte(h.Sum(nil)))
	}

	if len(data) > MaxFileSize {
		l.add(tooBig(name, strconv.Itoa(len(data))))
		return
	}
	text := bytes.TrimPrefix(data, bom)
	if line, col, msg := checkText(text); msg != "" {
		f.errorf(line, col, "%s", msg)
		return
	}
	f.text = text
	root := f.decode(text)
	if root == nil {
		return
	}
	f.checkAnchors(root)
	if f.policyOnly {
		f.policyTop(root)
		return
	}
	f.top(root)
}
