package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"strings"
	stdsync "sync"
	"time"

	"github.com/alecthomas/kong"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/internal/inputfile"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
)

// Exit codes: stable, listed in the root help and docs/commands.md.
const (
	exitOK       = 0  // success, nothing to change, or applied cleanly
	exitError    = 1  // runtime or API error
	exitChanges  = 2  // changes pending (--detailed-exitcode)
	exitInvalid  = 3  // invalid spec or unresolvable reference
	exitRefused  = 4  // a guard refused the plan
	exitStale    = 5  // saved plan is stale or belongs to another organization or spec
	exitPartial  = 6  // apply partly failed
	exitDrift    = 7  // applied, but verification found managed assignments not as the spec says
	exitFindings = 8  // report --fail-on: the report has findings (or policy violations)
	exitUsage    = 64 // bad flags or arguments
)

// codeError carries an exit code up to run; its message is printed unless
// it is empty (the command already said what happened).
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *codeError) Unwrap() error { return e.err }

func exitWith(code int, format string, a ...any) error {
	return &codeError{code: code, err: fmt.Errorf(format, a...)}
}

// Streams are the process's standard streams and what is known about them.
type Streams struct {
	In                    io.Reader
	Out, Err              io.Writer
	InTTY, OutTTY, ErrTTY bool
	Getenv                func(string) string
	// redact removes the credential from a message; run sets it.
	redact func(string) string
	// shortWarning is the warning about a short credential, given once a
	// run (warnShortCredential); run sets it.
	shortWarning *stdsync.Once
}

// CLI is the command line of tokensync.
type CLI struct {
	Plan        PlanCmd       `cmd:"" help:"Show the changes that would make the API match the spec. Writes nothing; needs only read access."`
	Apply       ApplyCmd      `cmd:"" help:"Plan, then make the API match the spec (or apply a saved plan)."`
	Validate    ValidateCmd   `cmd:"" help:"Check spec files; with --offline, contact nothing."`
	Export      ExportCmd     `cmd:"" help:"Print a spec of today's assignments (plan on it is empty)."`
	Report      ReportCmd     `cmd:"" help:"Report who can touch which deployment, and how (read-only): text, markdown, CSV, JSON or HTML."`
	Emulator    EmulatorCmd   `cmd:"" help:"Serve the Astro API emulator, seeded from a state file (on 127.0.0.1:8080 unless --listen says otherwise)."`
	Schema      SchemaCmd     `cmd:"" help:"Print the JSON Schema of the spec file."`
	Version     VersionCmd    `cmd:"" help:"Print the version and commit."`
	Completion  CompletionCmd `cmd:"" help:"Print a shell completion script (bash, zsh or fish)."`
	HelpCommand HelpCmd       `cmd:"" name:"help" help:"Show the help of tokensync or of a command."`

	VersionFlag kong.VersionFlag `name:"version" env:"-" hidden:"" help:"Print the version and exit."`
}

// Globals are the flags of the commands that talk to the API (plan, apply,
// validate, export, report), each of which embeds them; the other commands neither
// take nor show them.
type Globals struct {
	APIURL       string        `name:"api-url" env:"TOKENSYNC_API_URL,ASTRO_API_URL" default:"https://api.astronomer.io/v1" help:"Astro API base URL."`
	Organization string        `env:"TOKENSYNC_ORGANIZATION,ASTRO_ORGANIZATION_ID" help:"Organization id; overrides the spec's organization key." placeholder:"ID"`
	TokenFile    string        `type:"path" help:"Read the API credential from this file instead of ASTRO_API_TOKEN." placeholder:"FILE"`
	Emulate      string        `type:"existingfile" help:"Run against an in-process Astro API emulator seeded from this state file (on loopback; nothing leaves the machine). Not with --api-url." placeholder:"STATE.yaml"`
	Parallelism  int           `default:"8" help:"Tokens, users and teams handled at once: apply's writes, and the team member lists that policies, the lockout guard and report --expand-teams read."`
	MaxRetries   int           `default:"5" help:"Retries of a request after 429, 502, 503, 504 or a network error."`
	Timeout      time.Duration `default:"30s" help:"Timeout of one API request."`
	NoColor      bool          `help:"Plain output without colour (also NO_COLOR; FORCE_COLOR or CLICOLOR_FORCE colour output that is not a terminal)."`
	Verbose      bool          `short:"v" help:"Log every API request to stderr (the credential is never logged)."`
	RateScale    float64       `default:"1" hidden:"" help:"Multiply the client's rate limits (Astro's GET 25/s, POST 10/s, DELETE 5/s), e.g. for an organization with raised limits or a scaled emulator."`
}

// defaultAPIURL is the API --api-url names unless given.
const defaultAPIURL = "https://api.astronomer.io/v1"

// version and commit are set at build time with -ldflags; commit falls back
// to the VCS revision Go records (see resolveBuild).
var (
	version = "dev"
	commit  = ""
)

// run parses args, runs the command and returns the exit code. It is the
// whole program but for the process edges, so tests call it directly.
func run(ctx context.Context, args []string, st Streams) int {
	if st.Getenv == nil {
		st.Getenv = os.Getenv
	}
	st.shortWarning = new(stdsync.Once)
	args = helpArgs(args)
	var cli CLI
	exited := -1
	pathOption, existingOption := pathMappers()
	parser, err := kong.New(&cli,
		kong.Name("tokensync"),
		kong.Description("Deployment access as code for Astronomer's Astro: a reviewed YAML file says which API tokens, users and teams hold which role on the organization, its workspaces, deployments and DAGs; tokensync plans and applies the difference.\n\nThe credential comes from ASTRO_API_TOKEN or --token-file, never from a flag value. Every flag also reads a TOKENSYNC_* environment variable, but -o and --out, whose values differ from command to command, and --version."),
		kong.Writers(st.Out, st.Err),
		kong.Exit(func(code int) { exited = code }),
		kong.DefaultEnvars("TOKENSYNC"),
		kong.WithHyphenPrefixedParameters(true), // --max-removals -1
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Vars{"version": versionLine(build{Version: version, Commit: commit, Date: date})},
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Bind(&st),
		pathOption, existingOption,
	)
	if err != nil {
		fmt.Fprintf(st.Err, "tokensync: %v\n", err)
		return exitError
	}
	args, err = globalsFirst(parser.Model, args)
	var misplaced *misplacedFlag
	if errors.As(err, &misplaced) {
		fmt.Fprintf(st.Err, "tokensync: %s\n", render.Safe(err.Error()))
		fmt.Fprintf(st.Err, "Run '%s --help' for usage.\n", misplaced.help())
		return exitUsage
	}
	kctx, err := parser.Parse(args)
	if exited >= 0 {
		return exited // --help
	}
	if err != nil {
		// The flags were not parsed: the credential file is looked for
		// in args, so that the credential in it never shows.
		st.redact = (&Globals{TokenFile: tokenFileArg(args)}).redactor(st)
		msg := err.Error()
		var pe *kong.ParseError
		if arg, ok := strings.CutPrefix(msg, "unexpected argument "); ok && errors.As(err, &pe) && usageOf(pe.Context) == "tokensync" && !isSpecFileName(arg) {
			arg, _, _ = strings.Cut(arg, ", did you mean") // kong's own suggestion
			msg = unknownCommand(parser.Model.Node, arg)   // no command was given
		}
		fmt.Fprintf(st.Err, "tokensync: %s\n", st.text(msg))
		if arg, ok := strings.CutPrefix(err.Error(), "unexpected argument "); ok && isSpecFileName(arg) {
			fmt.Fprintf(st.Err, "hint: give a spec file with -f: -f %s\n", st.text(arg))
		}
		if errors.As(err, &pe) {
			variableHints(st, pe.Context, err)
			fmt.Fprintf(st.Err, "Run '%s --help' for usage.\n", usageOf(pe.Context))
		}
		return exitUsage
	}
	g := &Globals{}
	if c, ok := kctx.Selected().Target.Addr().Interface().(apiCommand); ok {
		g = c.globals()
	}
	st.redact = g.redactor(st)
	err = kctx.Run(g)
	code := report(st, err)
	if code == exitUsage {
		variableHints(st, kctx, err)
	}
	if in, ok := interruptCause(ctx); ok && (code == exitError || errors.Is(err, in)) {
		// The command stopped short because of the first interrupt (a
		// read it cut short may have been reported as a usage error).
		code = in.exitCode()
	}
	return code
}

// usageOf is the command whose help a usage error points to: the command
// being parsed when it happened ("tokensync plan"), or tokensync itself.
func usageOf(kctx *kong.Context) string {
	if kctx != nil {
		for i := len(kctx.Path) - 1; i >= 0; i-- {
			if n := kctx.Path[i].Command; n != nil {
				return n.FullPath()
			}
		}
	}
	return "tokensync"
}

// helpArgs makes a bare `tokensync` show its help, as kubectl and gh do.
func helpArgs(args []string) []string {
	if len(args) == 0 {
		return []string{"--help"}
	}
	return args
}

// apiCommand is a command that talks to the API: it embeds Globals.
type apiCommand interface{ globals() *Globals }

func (g *Globals) globals() *Globals { return g }

// Validate checks the values of plan's flags.
func (c *PlanCmd) Validate() error {
	return errors.Join(c.Globals.Validate(), c.PlanFlags.Validate())
}

// Validate checks the values of apply's flags.
func (c *ApplyCmd) Validate() error {
	return errors.Join(c.Globals.Validate(), c.PlanFlags.Validate())
}

// Validate checks the API flags' values, so that a bad one is a usage
// error (exit 64) before anything runs.
func (g *Globals) Validate() error {
	switch {
	case g.Emulate != "" && g.APIURL != defaultAPIURL:
		// Both given, the emulator would win without a word: a leftover
		// TOKENSYNC_EMULATE would make a real apply a silent no-op.
		return fmt.Errorf("--emulate runs against an in-process emulator, and --api-url names an API: give one of them")
	case g.Timeout <= 0:
		return fmt.Errorf("--timeout must be above 0, not %v", g.Timeout)
	case g.Parallelism < 1:
		return fmt.Errorf("--parallelism must be at least 1, not %d", g.Parallelism)
	case g.MaxRetries < 0:
		return fmt.Errorf("--max-retries must be 0 or more, not %d", g.MaxRetries)
	case !(g.RateScale > 0) || math.IsInf(g.RateScale, 0):
		return fmt.Errorf("--rate-scale must be above 0, not %v", g.RateScale)
	}
	return nil
}

// Validate checks the values of the flags that shape a plan.
func (f *PlanFlags) Validate() error {
	if f.MaxRemovals < -1 {
		return fmt.Errorf("--max-removals must be -1 (no limit) or more, not %d", f.MaxRemovals)
	}
	f.Protect = trimAll(f.Protect) // "a, b" is a and b, as the list reads
	_, err := parseGlobs("--protect", f.Protect)
	return err
}

// trimAll is globs, each without the white space around it.
func trimAll(globs []string) []string {
	for i, g := range globs {
		globs[i] = strings.TrimSpace(g)
	}
	return globs
}

// parseGlobs checks the globs given to flag (spec.ParseGlob, the one
// dialect), so that a bad one is a usage error naming the flag.
func parseGlobs(flag string, globs []string) ([]spec.Glob, error) {
	var out []spec.Glob
	for _, g := range globs {
		p, err := spec.ParseGlob(g)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flag, g, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Validate checks the emulator's flag values.
func (c *EmulatorCmd) Validate() error {
	switch {
	case !(c.FaultRate >= 0 && c.FaultRate <= 1): // NaN too
		return fmt.Errorf("--fault-rate must be between 0 and 1, not %v", c.FaultRate)
	case c.Latency < 0:
		return fmt.Errorf("--latency must be 0 or more, not %v", c.Latency)
	}
	return nil
}

// report prints err and turns it into the exit code: the one place where
// errors become exit codes.
func report(st Streams, err error) int {
	if err == nil {
		return exitOK
	}
	var list spec.ErrorList
	if errors.As(err, &list) {
		var unresolved *unresolvedError
		if errors.As(err, &unresolved) && len(list) > spec.MaxErrors {
			// Capped like the errors of the files themselves, the last
			// annotation too.
			printSpecErrors(st, list[:spec.MaxErrors])
			more := fmt.Sprintf("... and %d more", len(list)-spec.MaxErrors)
			fmt.Fprintln(st.Err, more)
			if st.Getenv("GITHUB_ACTIONS") == "true" {
				annotate(st, "error", list[spec.MaxErrors-1].Pos, more)
			}
		} else {
			printSpecErrors(st, list)
		}
		if unresolved != nil {
			fmt.Fprintf(st.Err, "tokensync: %d error(s) in the spec against organization %s; nothing was written.\n", list.Total(), render.Safe(unresolved.org))
		} else {
			fmt.Fprintf(st.Err, "tokensync: %d error(s) in the spec; nothing was contacted or written.\n", list.Total())
		}
		return exitInvalid
	}
	code := exitError
	var ee *codeError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if msg := st.errorText(err); msg != "" {
		fmt.Fprintf(st.Err, "tokensync: %s\n", msg)
	}
	return code
}

// unresolvedError wraps the spec errors found by resolving the spec against
// what was read from an organization: unlike errors in the file itself,
// they come after the API was contacted.
type unresolvedError struct {
	org string
	err error
}

func (e *unresolvedError) Error() string { return e.err.Error() }
func (e *unresolvedError) Unwrap() error { return e.err }

// printSpecErrors writes spec errors as file:line:col: message and, under
// GitHub Actions, also as workflow annotations, each escaped and redacted.
func printSpecErrors(st Streams, list spec.ErrorList) {
	gha := st.Getenv("GITHUB_ACTIONS") == "true"
	for _, e := range list {
		fmt.Fprintln(st.Err, st.text(e.Error()))
		if gha {
			annotate(st, "error", e.Pos, e.Msg)
		}
	}
}

// colour says whether output to a stream (a terminal when tty) is
// coloured, the one place that decides: --no-color and NO_COLOR turn it off
// whatever else is set; FORCE_COLOR or CLICOLOR_FORCE (set, and not "0")
// turn it on, also off a terminal (CI logs); otherwise a stream that takes
// escape sequences (smart) is coloured and anything else is not.
func (g *Globals) colour(st Streams, tty bool) bool {
	forced := func(name string) bool { v := st.Getenv(name); return v != "" && v != "0" }
	switch {
	case g.NoColor || st.Getenv("NO_COLOR") != "":
		return false
	case forced("FORCE_COLOR") || forced("CLICOLOR_FORCE"):
		return true
	}
	return st.smart(tty)
}

// smart says whether a stream (a terminal when tty) takes escape
// sequences and carriage returns, as colour and apply's live progress
// line need: a terminal whose TERM is not "dumb". NO_COLOR is about colour
// alone and leaves the live progress line; FORCE_COLOR colours a log but
// gives it no live line.
func (st Streams) smart(tty bool) bool {
	return tty && st.Getenv("TERM") != "dumb"
}

// session is a connection to the API (or to an in-process emulator) for
// one organization.
type session struct {
	client *astroapi.Client
	org    string
	log    *slog.Logger
	close  func()
	// apiHint is the --api-url the user may have meant, when the one given
	// does not end in /v1: said if the first list answers 404.
	apiHint string
	// orgFlag says that org came from --organization (or its variables);
	// orgPos, when set, is where the spec names org, which it came from.
	orgFlag bool
	orgPos  *spec.Pos
	// emulated is the organization of the --emulate state, "" without it.
	emulated string
	// parallelism is --parallelism: reads of team members at once.
	parallelism int
}

// apiURLHint checks the path of --api-url, where every Astro API v1 path
// lives under /v1. A URL without a path (or "/") is refused before any
// request: it cannot be the API. Another path that does not end in /v1 may
// be a proxy's prefix, so it is tried; the hint returned is said if the
// API answers 404. A URL that does not parse, or whose scheme is not http
// or https, gets no word about its path: astroapi.New refuses it for what
// is wrong with it.
func apiURLHint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return "", nil
	}
	path := strings.TrimSuffix(u.Path, "/")
	if strings.HasSuffix(path, "/v1") {
		return "", nil
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = path+"/v1", "", "", ""
	if path == "" {
		return "", exitWith(exitUsage, "--api-url %s has no path; the Astro API is under /v1: did you mean %s?", raw, u)
	}
	return u.String(), nil
}

// connect builds the client lazily, only for commands that contact the API.
// specOrg is the spec's organization, used when no flag or variable names
// one. With --emulate it first starts the emulator, which the session's
// close stops; on error nothing is left running.
func (g *Globals) connect(ctx context.Context, st Streams, specOrg string) (_ *session, err error) {
	s := &session{log: g.logger(st), close: func() {}, parallelism: g.Parallelism}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	secret, err := g.credential(ctx, st)
	if err != nil {
		return nil, err
	}
	if n := len(secret); n > 0 && n < shortCredential {
		st.warnShortCredential(n)
	}
	baseURL, emulatedOrg := g.APIURL, ""
	if g.Emulate != "" && os.Getenv("TOKENSYNC_EMULATE") != "" {
		fmt.Fprintf(st.Err, "warning: TOKENSYNC_EMULATE is set: this runs against an in-process emulator seeded from %s, not the Astro API\n", st.text(g.Emulate))
	}
	if g.Emulate != "" {
		var stop func()
		if baseURL, emulatedOrg, stop, err = emulate(ctx, g.Emulate); err != nil {
			return nil, err
		}
		s.close = stop
		secret = cmp.Or(secret, "emulated")
	}
	// The flag (or variable) first, then the spec's key, then the emulated
	// organization.
	s.orgFlag = g.Organization != ""
	s.emulated = emulatedOrg
	if s.org = cmp.Or(g.Organization, specOrg, emulatedOrg); s.org == "" {
		return nil, exitWith(exitUsage, "no organization: set ASTRO_ORGANIZATION_ID, --organization, or the spec's organization key (%s)", noOrgDiscovery)
	}
	if secret == "" {
		return nil, exitWith(exitUsage, "no credential: ASTRO_API_TOKEN is unset or empty; set it, or give --token-file")
	}
	if s.client, err = g.client(baseURL, secret, s.log); err != nil {
		return nil, err
	}
	if g.Emulate == "" {
		// After the client, which refuses what is wrong with the URL
		// itself (its scheme, http off loopback) before a word on its
		// path.
		if s.apiHint, err = apiURLHint(baseURL); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// connectSpec is connect for the organization of sp (nil for none), which
// it remembers where sp names, so that an organization the API does not
// know is an error at that place in the spec.
func (g *Globals) connectSpec(ctx context.Context, st Streams, sp *spec.Spec) (*session, error) {
	if sp == nil {
		return g.connect(ctx, st, "")
	}
	s, err := g.connect(ctx, st, sp.Organization)
	if err == nil && !s.orgFlag && sp.Organization != "" && s.org == sp.Organization {
		pos := sp.OrganizationPos
		s.orgPos = &pos
	}
	return s, err
}

// noOrgDiscovery says why tokensync cannot find the organization itself:
// the Astro API v1 lists organizations (GET /organizations) only for a
// personal access token, not for the API tokens tokensync is meant to run
// with, and every other path needs the organization's id.
const noOrgDiscovery = "the Astro API lists organizations only for personal access tokens, not for API tokens; the id is in the Astro UI under Organization Settings"

// logger is the session's logger: the client's requests on stderr with
// --verbose (without timestamps, so that runs compare), nothing otherwise.
func (g *Globals) logger(st Streams) *slog.Logger {
	if !g.Verbose {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(st.Err, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			// The API's words (an error's message, a request id) hold no
			// workflow command of GitHub Actions either; the handler quotes
			// what else needs it.
			if a.Value.Kind() == slog.KindString {
				a.Value = slog.StringValue(spec.NoCommand(a.Value.String()))
			}
			return a
		},
	}))
}

// emulate starts an in-process emulator of the state file at path and
// returns its base URL, its organization and the function that stops it.
func emulate(ctx context.Context, path string) (baseURL, org string, stop func(), err error) {
	state, err := loadState(ctx, "--emulate", path)
	if err != nil {
		return "", "", nil, err
	}
	baseURL, stop, err = startEmulator(ctx, state, astroapitest.Options{})
	if err != nil {
		return "", "", nil, err
	}
	return baseURL, state.Organization.ID, stop, nil
}

// client builds the API client from the global flags.
func (g *Globals) client(baseURL, secret string, log *slog.Logger) (*astroapi.Client, error) {
	client, err := astroapi.New(baseURL,
		astroapi.WithCredential(secret),
		astroapi.WithUserAgent("tokensync/"+version),
		astroapi.WithMaxRetries(g.MaxRetries),
		astroapi.WithRequestTimeout(g.Timeout),
		astroapi.WithLogger(log),
		astroapi.WithRateLimits(25*g.RateScale, 10*g.RateScale, 5*g.RateScale),
	)
	if err != nil {
		return nil, exitWith(exitUsage, "--api-url: %v", err)
	}
	return client, nil
}

// maxTokenFile caps --token-file: an Astro API token is about 1 KB.
const maxTokenFile = 64 << 10

// credential reads the API token from --token-file or ASTRO_API_TOKEN.
func (g *Globals) credential(ctx context.Context, st Streams) (string, error) {
	if g.TokenFile == "" {
		secret := strings.TrimSpace(st.Getenv("ASTRO_API_TOKEN"))
		if astroapi.BadCredential(secret) {
			return "", exitWith(exitUsage, "ASTRO_API_TOKEN: %s", credentialSpaces)
		}
		return secret, nil
	}
	data, err := inputfile.Read(ctx, g.TokenFile, maxTokenFile)
	if err != nil {
		return "", exitWith(exitUsage, "--token-file %s: %w", render.Safe(g.TokenFile), err)
	}
	if info, err := os.Stat(g.TokenFile); err == nil && info.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(st.Err, "warning: token file %s is %s by group or others (mode %04o); chmod 600 it\n", render.Safe(g.TokenFile), openTo(info.Mode().Perm()), info.Mode().Perm())
	}
	secret := strings.TrimSpace(string(data))
	switch {
	case secret == "":
		return "", exitWith(exitUsage, "token file %s is empty", render.Safe(g.TokenFile))
	case astroapi.BadCredential(secret):
		return "", exitWith(exitUsage, "--token-file %s: %s", render.Safe(g.TokenFile), credentialSpaces)
	}
	return secret, nil
}

// credentialSpaces says why astroapi.BadCredential refused a credential.
const credentialSpaces = "the credential contains white space or control characters (an Astro API token is one word)"

// startEmulator serves an emulator on a loopback port until stop is called.
func startEmulator(ctx context.Context, state *astroapitest.State, opts astroapitest.Options) (baseURL string, stop func(), err error) {
	srv := astroapitest.NewServer(state, opts)
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, "127.0.0.1:0", func(u string) { ready <- u }) }()
	select {
	case u := <-ready:
		return u, func() { cancel(); <-done }, nil
	case err := <-done:
		cancel()
		return "", nil, fmt.Errorf("start emulator: %w", err)
	}
}

// openTo says how group or others may use a file of mode perm: "readable",
// "writable", "executable" or two or three of them.
func openTo(perm os.FileMode) string {
	var ways []string
	for _, w := range []struct {
		bits os.FileMode
		name string
	}{{0o044, "readable"}, {0o022, "writable"}, {0o011, "executable"}} {
		if perm&w.bits != 0 {
			ways = append(ways, w.name)
		}
	}
	if len(ways) > 1 {
		return strings.Join(ways[:len(ways)-1], ", ") + " and " + ways[len(ways)-1]
	}
	return ways[0]
}
