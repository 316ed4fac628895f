package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
)

// CompletionCmd is `tokensync completion`.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"Shell: bash, zsh or fish."`
}

// Run prints a completion script of commands and flags for the shell.
// Install: bash: source <(tokensync completion bash); zsh: the same in
// .zshrc; fish: tokensync completion fish | source.
func (c *CompletionCmd) Run(k *kong.Context, st *Streams) error {
	cmds := map[string][]string{}
	var names []string
	global := flagsOf(k.Model.Node)
	for _, n := range k.Model.Children {
		if n.Hidden {
			continue
		}
		names = append(names, n.Name)
		cmds[n.Name] = append(flagsOf(n), global...)
	}
	sort.Strings(names)
	var b strings.Builder
	switch c.Shell {
	case "bash", "zsh":
		if c.Shell == "zsh" {
			b.WriteString("autoload -U +X bashcompinit && bashcompinit\n")
		}
		b.WriteString("_tokensync() {\n  local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"${COMP_WORDS[1]}\"\n")
		fmt.Fprintf(&b, "  if [ \"$COMP_CWORD\" -eq 1 ]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi\n", strings.Join(names, " "))
		b.WriteString("  case \"$cmd\" in\n")
		for _, n := range names {
			fmt.Fprintf(&b, "    %s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", n, strings.Join(cmds[n], " "))
		}
		b.WriteString("  esac\n  [ ${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- \"$cur\"))\n}\ncomplete -F _tokensync tokensync\n")
	case "fish":
		for _, n := range names {
			fmt.Fprintf(&b, "complete -c tokensync -n __fish_use_subcommand -a %s\n", n)
			for _, f := range cmds[n] {
				fmt.Fprintf(&b, "complete -c tokensync -n '__fish_seen_subcommand_from %s' -l %s\n", n, strings.TrimPrefix(f, "--"))
			}
		}
	}
	_, err := fmt.Fprint(st.Out, b.String())
	return err
}

// flagsOf lists a node's own visible flags as --name.
func flagsOf(n *kong.Node) []string {
	var out []string
	for _, f := range n.Flags {
		if !f.Hidden {
			out = append(out, "--"+f.Name)
		}
	}
	return out
}
