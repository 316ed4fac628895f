package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/tokensync/tokensync/spec"
)

// The help of each command ends with examples (kong prints a command's
// Help() under its one-line summary, indented lines as they are). The
// examples are what docs/commands.md shows; a test runs them against the
// emulator.

// Help is the root help's detail: how to start, and the exit codes.
func (*CLI) Help() string {
	return `Start with "tokensync plan -f examples/tokens.yaml --emulate examples/org.yaml" in a clone: it plans against an emulated organization, and nothing leaves the machine. "tokensync help COMMAND" shows a command's flags and examples; "tokensync --version" prints the version.

Exit codes:

    0    success: nothing to change, or applied cleanly
    1    runtime or API error, or the apply prompt was not answered yes
    2    changes pending (plan --detailed-exitcode)
    3    invalid spec or unresolvable reference
    4    a guard refused the plan; nothing was written
    5    saved plan is stale or belongs to another organization or spec
    6    apply partly failed: some writes done, the output says which
    7    applied, but verification found assignments not as the spec says
    8    report --fail-on: the report has findings (or policy violations)
    64   usage error: bad flags or values, no credential, apply without --yes off a terminal
    130  interrupted (143 for SIGTERM, 129 for SIGHUP)`
}

// Help is plan's examples.
func (*PlanCmd) Help() string {
	return `Examples:

    # what would change, as text
    tokensync plan -f tokens.yaml

    # in CI: markdown for the pull-request comment; exit 2 when there are changes
    tokensync plan -f tokens/ -o markdown --detailed-exitcode

    # save the plan, to apply exactly it after review
    tokensync plan -f tokens.yaml --out plan.json

    # only one deployment of the spec, removing what it does not list
    tokensync plan -f tokens.yaml --target data-platform/analytics-prod --prune`
}

// Help is apply's examples.
func (*ApplyCmd) Help() string {
	return `Examples:

    # plan, ask, then apply
    tokensync apply -f tokens.yaml

    # in CI: no prompt, the result as JSON, a JSON line per write
    tokensync apply -f tokens/ --yes -o json --audit-log audit.jsonl

    # apply a reviewed saved plan (exit 5 if anything in it changed since)
    tokensync apply plan.json --yes

    # plan and write nothing
    tokensync apply -f tokens.yaml --dry-run`
}

// Help is validate's examples.
func (*ValidateCmd) Help() string {
	return `Examples:

    # the file alone: no credential, nothing contacted
    tokensync validate -f tokens.yaml --offline

    # every reference resolved against the organization
    tokensync validate -f tokens/`
}

// Help is export's examples.
func (*ExportCmd) Help() string {
	return `Examples:

    # a spec of today's assignments: plan on it is empty
    tokensync export > tokens.yaml

    # one workspace (its workspace roles, deployments and DAGs), leaving out the break-glass tokens
    tokensync export --workspace data-platform --ignore 'break-glass-*' > data-platform.yaml

    # only the organization level, or only deployment and DAG roles
    tokensync export --levels organization > organization.yaml
    tokensync export --levels deployment,dag > deployments.yaml

    # a new directory: organization.yaml and one workspace-NAME.yaml per workspace
    tokensync export --out access/ && tokensync plan -f access/ --prune`
}

// Help is report's examples.
func (*ReportCmd) Help() string {
	return `Examples:

    # a table per deployment; access the spec does not list is marked unmanaged
    tokensync report -f tokens.yaml

    # one self-contained page to share, with team members
    tokensync report -o html --out access.html --expand-teams

    # who holds admin on one workspace's deployments (--min-role keeps a custom role unless rated)
    tokensync report --workspace data-platform --min-role admin --role-level DAG_DEPLOYER=author --role-level DEPLOYMENT_VIEWER=view

    # keep today's report, then later say who gained or lost access
    tokensync report -o json --out today.json
    tokensync report --since today.json`
}

// Help is the emulator's examples.
func (*EmulatorCmd) Help() string {
	return `Examples:

    # serve the example organization, then plan against it (in another
    # shell: the emulator takes any credential without whitespace)
    tokensync emulator --state examples/org.yaml --listen 127.0.0.1:18080
    ASTRO_API_TOKEN=emu_anything tokensync plan -f examples/tokens.yaml --api-url http://127.0.0.1:18080/v1

    # slow and unreliable on purpose
    tokensync emulator --state examples/org.yaml --latency 50ms --fault-rate 0.1`
}

// Help is schema's examples.
func (*SchemaCmd) Help() string {
	return `Examples:

    # for an editor's YAML language server
    tokensync schema > tokens.schema.json`
}

// Help is version's examples.
func (*VersionCmd) Help() string {
	return `Examples:

    tokensync version
    tokensync --version`
}

// Help is completion's examples.
func (*CompletionCmd) Help() string {
	return `Examples:

    # this shell only
    source <(tokensync completion bash)

    # every new shell (docs/commands.md has zsh and fish)
    echo 'source <(tokensync completion bash)' >> ~/.bashrc`
}

// HelpCmd is `tokensync help [COMMAND]`.
type HelpCmd struct {
	Command []string `arg:"" optional:"" help:"The command to show the help of."`
}

// Help is help's examples.
func (*HelpCmd) Help() string {
	return `Examples:

    tokensync help
    tokensync help plan`
}

// Run prints the help of the command named, or of tokensync.
func (c *HelpCmd) Run(k *kong.Context) error {
	if len(c.Command) > 0 && !slices.Contains(commandNames(k.Model.Node), c.Command[0]) {
		return exitWith(exitUsage, "help: %s", unknownCommand(k.Model.Node, c.Command[0]))
	}
	if len(c.Command) > 1 {
		return exitWith(exitUsage, "help: give one command, not %d (%s)", len(c.Command), strings.Join(c.Command, " "))
	}
	ctx, err := kong.Trace(k.Kong, c.Command)
	if err != nil {
		return exitWith(exitUsage, "%v", err)
	}
	if ctx.Error != nil {
		return exitWith(exitUsage, "help: %v", ctx.Error)
	}
	return ctx.PrintUsage(false)
}

// commandNames are the names of root's commands that help lists.
func commandNames(root *kong.Node) []string {
	var names []string
	for _, n := range root.Children {
		if n.Type == kong.CommandNode && !n.Hidden {
			names = append(names, n.Name)
		}
	}
	return names
}

// unknownCommand says that name is no command of root, with the closest
// command if one is close, and the commands there are.
func unknownCommand(root *kong.Node, name string) string {
	names := commandNames(root)
	mean := ""
	if s := spec.NewSuggester(slices.Sorted(slices.Values(names))).Suggest(name); s != "" {
		mean = fmt.Sprintf(" (did you mean %q?)", s)
	}
	return fmt.Sprintf("unknown command %q%s; the commands are %s", name, mean, strings.Join(names, ", "))
}
