package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
)

// The API flags (Globals) belong to the commands that talk to the API,
// each of which embeds them, so that the other commands neither take nor
// show them. design.md calls them global, and `tokensync --no-color plan`
// is how kubectl and gh users write them: given before such a command, they
// are moved after it before kong parses the line. Before a command that
// does not take them, they are a usage error that says so.

// globalsFirst returns args with the API flags given before the command
// moved after it. args are returned as they are unless they start with API
// flags (and their values) followed by a command: anything else, --help
// included, is kong's to parse. The error is for API flags before a command
// that does not take them.
func globalsFirst(app *kong.Application, args []string) ([]string, error) {
	flags := apiFlags(app)
	i := 0
	for i < len(args) {
		f, ok := flags[flagName(args[i])]
		if !ok {
			break
		}
		i++
		if !f.IsBool() && !strings.Contains(args[i-1], "=") {
			i++ // the flag's value
		}
	}
	if i == 0 {
		return args, nil
	}
	var cmd *kong.Node
	if i < len(args) {
		cmd = command(app, args[i])
	}
	unknown := cmd == nil && i < len(args) && flagName(args[i]) == "" && args[i] != "--" // no command: kong says what it is
	if !unknown && (cmd == nil || !isAPICommand(cmd)) {
		return nil, &misplacedFlag{flag: flagName(args[0]), command: cmd, apiCommands: apiCommandNames(app)}
	}
	out := make([]string, 0, len(args))
	out = append(out, args[i])
	out = append(out, args[:i]...)
	return append(out, args[i+1:]...), nil
}

// misplacedFlag is an API flag given before a command that does not take
// it.
type misplacedFlag struct {
	flag        string
	command     *kong.Node
	apiCommands []string
}

func (e *misplacedFlag) Error() string {
	what := fmt.Sprintf("%s is a flag of the commands that talk to the API (%s)", e.flag, strings.Join(e.apiCommands, ", "))
	if e.command == nil {
		return fmt.Sprintf("%s; give it with one of them, as in: tokensync plan %s", what, e.flag)
	}
	return fmt.Sprintf("%s; %s does not take it", what, e.command.Name)
}

// help is the command whose help the error points to.
func (e *misplacedFlag) help() string {
	if e.command == nil {
		return "tokensync"
	}
	return e.command.FullPath()
}

// flagName is the flag a command-line word names ("--api-url" of
// "--api-url=x", "-v"), or "" for a word that is no flag.
func flagName(word string) string {
	if !strings.HasPrefix(word, "-") || word == "-" || word == "--" {
		return ""
	}
	return strings.SplitN(word, "=", 2)[0]
}

// apiFlags are the flags that every command talking to the API takes (the
// Globals, and never --help), by "--name" and by "-s".
func apiFlags(app *kong.Application) map[string]*kong.Flag {
	var cmds []*kong.Node
	for _, n := range app.Children {
		if isAPICommand(n) {
			cmds = append(cmds, n)
		}
	}
	out := map[string]*kong.Flag{}
	if len(cmds) == 0 {
		return out
	}
	for _, f := range cmds[0].Flags {
		if f.Name == "help" || slices.ContainsFunc(cmds[1:], func(n *kong.Node) bool { return !hasFlag(n, f.Name) }) {
			continue
		}
		out["--"+f.Name] = f
		if f.Short != 0 {
			out["-"+string(f.Short)] = f
		}
	}
	return out
}

// hasFlag says whether the command n takes the flag name.
func hasFlag(n *kong.Node, name string) bool {
	return slices.ContainsFunc(n.Flags, func(f *kong.Flag) bool { return f.Name == name })
}

// command is the command of the root named word (or aliased so), or nil.
func command(app *kong.Application, word string) *kong.Node {
	for _, n := range app.Children {
		if n.Type == kong.CommandNode && (n.Name == word || slices.Contains(n.Aliases, word)) {
			return n
		}
	}
	return nil
}

// isAPICommand says whether the command n talks to the API (embeds
// Globals).
func isAPICommand(n *kong.Node) bool {
	if n.Type != kong.CommandNode || !n.Target.CanAddr() {
		return false
	}
	_, ok := n.Target.Addr().Interface().(apiCommand)
	return ok
}

// apiCommandNames are the names of the commands that talk to the API.
func apiCommandNames(app *kong.Application) []string {
	var out []string
	for _, n := range app.Children {
		if isAPICommand(n) {
			out = append(out, n.Name)
		}
	}
	return out
}
