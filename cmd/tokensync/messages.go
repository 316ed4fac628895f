package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"

	"github.com/alecthomas/kong"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
)

// Messages hold text from outside: file names (a spec file's, a flag's
// value), excerpts of a spec file, names from the API. Each is escaped with
// the one rule (render.Safe) before it is printed, so that a line feed in a
// file name cannot start a line of its own (a GitHub workflow command such
// as ::warning or ::stop-commands), nor start one with a leading "::" or
// hold one of the old form, "##[" (spec.NoCommand), and ESC or U+202E cannot reach a
// terminal; and every message is redacted (astroapi.Redact), so that the
// credential never shows, even quoted from a spec file.

// maxCredentialRead is the most of --token-file that redactor reads: far
// more than any Astro API token.
const maxCredentialRead = 64 << 10

// redactor returns the function that removes the credential from a
// message: the credential of --token-file and of ASTRO_API_TOKEN, read
// when first needed, so that it is redacted also from what is printed
// before the credential is read or without it (a spec error).
func (g *Globals) redactor(st Streams) func(string) string {
	secrets := stdsync.OnceValue(func() []string {
		return []string{readCredentialFile(g.TokenFile), strings.TrimSpace(st.Getenv("ASTRO_API_TOKEN"))}
	})
	return func(s string) string {
		for _, secret := range secrets() {
			r := astroapi.Redact(s, secret)
			if r != s && len(secret) < shortCredential {
				st.warnShortCredential(len(secret))
			}
			s = r
		}
		return s
	}
}

// shortCredential is the length under which a credential draws a warning:
// redacted wherever it shows, it garbles the messages it shows in.
const shortCredential = 8

// warnShortCredential warns, once a run, that a credential of n
// characters (shorter than shortCredential) is hidden even inside words,
// so that the messages it is hidden in read oddly: before the first such
// message, or as an online command starts.
func (st Streams) warnShortCredential(n int) {
	if st.shortWarning != nil {
		st.shortWarning.Do(func() {
			fmt.Fprintf(st.Err, "warning: the credential is only %d character(s) long: tokensync hides it wherever it shows in a message, even inside a word, so messages may read oddly (an Astro API token is far longer)\n", n)
		})
	}
}

// tokenFileArg is the --token-file that args give, or its variable, for
// a command line that could not be parsed.
func tokenFileArg(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--token-file="); ok {
			return v
		}
		if a == "--token-file" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return os.Getenv("TOKENSYNC_TOKEN_FILE")
}

// readCredentialFile is the credential in the regular file path, "" when
// there is none or it cannot be read.
func readCredentialFile(path string) string {
	if path == "" {
		return ""
	}
	// A FIFO or a device is not opened: opening a FIFO waits for a writer.
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialRead))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// text is s as a message may print it: redacted and escaped, on one line.
func (st Streams) text(s string) string { return render.Safe(st.redacted(s)) }

// redacted is s without the credential.
func (st Streams) redacted(s string) string {
	if st.redact == nil {
		return s
	}
	return st.redact(s)
}

// errorText is err's message as report prints it: redacted, the file names
// of the os errors it wraps escaped, and each line escaped (a joined error
// has several lines by design).
func (st Streams) errorText(err error) string {
	msg := err.Error()
	for _, name := range pathsIn(err) {
		if safe := render.Safe(name); name != "" && safe != name {
			msg = strings.ReplaceAll(msg, name, safe)
		}
	}
	return render.SafeLines(st.redacted(msg))
}

// namedFile marks an error whose message may hold the name of a file
// raw, as the errors of a state file do; errorText escapes it.
type namedFile struct {
	name string
	err  error
}

func (e *namedFile) Error() string { return e.err.Error() }
func (e *namedFile) Unwrap() error { return e.err }

// pathsIn are the file names that the *fs.PathError, *os.LinkError and
// *namedFile values in err's tree hold.
func pathsIn(err error) []string {
	var names []string
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *fs.PathError:
			names = append(names, e.Path)
		case *os.LinkError:
			names = append(names, e.Old, e.New)
		case *namedFile:
			names = append(names, e.name)
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				walk(next)
			}
		case interface{ Unwrap() []error }:
			for _, next := range u.Unwrap() {
				walk(next)
			}
		}
	}
	walk(err)
	return names
}

// annotate writes a GitHub Actions workflow command (level error or
// warning) for a message at pos: the file name and the message escaped
// with the rule of every message, then as the workflow command syntax
// requires.
func annotate(st Streams, level string, pos spec.Pos, msg string) {
	fmt.Fprintf(st.Err, "::%s file=%s,line=%d,col=%d::%s\n", level,
		annotationProperty(spec.Shown(annotationFile(st, pos.File))), pos.Line, pos.Col, annotationData(st.text(msg)))
}

// annotationFile is the file name an annotation names: GitHub attaches an
// annotation to a file of the pull request by its path from the
// repository's root (GITHUB_WORKSPACE), while the name as given is relative
// to where tokensync runs (the Action's working-directory). A file outside
// GITHUB_WORKSPACE, standard input, or any file without GITHUB_WORKSPACE
// keeps its name as given.
func annotationFile(st Streams, name string) string {
	root := st.Getenv("GITHUB_WORKSPACE")
	if root == "" || name == "" || name == spec.Stdin {
		return name
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return name
	}
	rootAbs, err := filepath.Abs(root)
	if err != nil {
		return name
	}
	rel, err := filepath.Rel(rootAbs, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return name
	}
	return filepath.ToSlash(rel)
}

// The escapes of a workflow command's message and property values.
var (
	annotationDataEscapes     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	annotationPropertyEscapes = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// annotationData escapes a workflow command's message.
func annotationData(s string) string { return annotationDataEscapes.Replace(s) }

// annotationProperty escapes a workflow command's property value.
func annotationProperty(s string) string { return annotationPropertyEscapes.Replace(s) }

// variableHints says which flags that err, a usage error, names took their
// value from an environment variable (TOKENSYNC_*, ASTRO_*) and not from
// the command line: a variable set for one command surprises another.
func variableHints(st Streams, kctx *kong.Context, err error) {
	if kctx == nil || err == nil {
		return
	}
	// What a did-you-mean names was not given at all.
	msg, _, _ := strings.Cut(err.Error(), "did you mean")
	onLine := make(map[string]bool)
	for _, p := range kctx.Path {
		if p.Flag != nil {
			onLine[p.Flag.Name] = true
		}
	}
	for _, f := range kctx.Flags() {
		if onLine[f.Name] || !(namesFlag(msg, "--"+f.Name) || f.Short != 0 && namesFlag(msg, "-"+string(f.Short))) {
			continue
		}
		if env, set := variableOf(f); set && !strings.Contains(msg, env) {
			name := "--" + f.Name
			if f.Short != 0 {
				name = "-" + string(f.Short) + "/" + name
			}
			fmt.Fprintf(st.Err, "hint: %s was set by the environment variable %s, not on the command line\n", name, env)
		}
	}
}

// variableOf is the first of flag f's environment variables that is set,
// as kong reads them (from the process's environment).
func variableOf(f *kong.Flag) (string, bool) {
	for _, env := range f.Envs {
		if _, set := os.LookupEnv(env); set {
			return env, true
		}
	}
	return "", false
}

// namesFlag says whether msg names flag ("--from", "-f") as a word of its
// own: "-f" is not named by "--from" or "-foo".
func namesFlag(msg, flag string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], flag)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(flag)
		before := start == 0 || !isFlagChar(msg[start-1])
		after := end == len(msg) || !isFlagChar(msg[end])
		if before && after {
			return true
		}
		i = end
	}
}

// isFlagChar says whether c may be part of a flag's name.
func isFlagChar(c byte) bool {
	return c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
