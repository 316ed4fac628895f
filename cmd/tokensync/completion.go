package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
)

// CompletionCmd is `tokensync completion`.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"Shell: bash, zsh or fish."`
}

// Run prints a completion script for the shell: commands, each command's
// flags (long and short), files for -f and the other file flags and
// arguments, and the values of flags and arguments that take one of a list
// (-o, --rate-limit, the shell of completion). Install: bash:
// source <(tokensync completion bash); zsh: the same in .zshrc; fish:
// tokensync completion fish | source.
func (c *CompletionCmd) Run(k *kong.Context, st *Streams) error {
	cmds := completionModel(k.Model.Node)
	var script string
	switch c.Shell {
	case "bash":
		script = bashCompletion(cmds)
	case "zsh":
		script = "autoload -U +X bashcompinit && bashcompinit\n" + bashCompletion(cmds)
	case "fish":
		script = fishCompletion(cmds)
	}
	_, err := fmt.Fprint(st.Out, script)
	return err
}

// What a flag's value or an argument completes to.
const (
	noValue   = ""      // a bool flag
	anyValue  = "any"   // a value we cannot guess (a URL, an id, a number)
	fileValue = "files" // a file name
	listValue = "list"  // one of a list
)

// complValue is what one flag or positional argument completes to.
type complValue struct {
	long, short string // "--file", "-f"; "" for an argument
	kind        string
	list        []string
}

// complCmd is one command's flags and arguments.
type complCmd struct {
	name  string
	flags []complValue
	args  []complValue
}

// completionModel reads the commands, their visible flags and arguments
// from kong's model, sorted by name.
func completionModel(root *kong.Node) []complCmd {
	var cmds []complCmd
	for _, n := range root.Children {
		if n.Hidden {
			continue
		}
		c := complCmd{name: n.Name, flags: []complValue{{long: "--help", short: "-h"}}}
		for _, f := range n.Flags {
			if f.Hidden {
				continue
			}
			v := complValue{long: "--" + f.Name, kind: valueKind(f.Value), list: enumOf(f.Value)}
			if f.Short != 0 {
				v.short = "-" + string(f.Short)
			}
			c.flags = append(c.flags, v)
		}
		for _, a := range n.Positional {
			c.args = append(c.args, complValue{kind: valueKind(a), list: enumOf(a)})
		}
		cmds = append(cmds, c)
	}
	slices.SortFunc(cmds, func(a, b complCmd) int { return strings.Compare(a.name, b.name) })
	return cmds
}

// valueKind says what v's value completes to.
func valueKind(v *kong.Value) string {
	switch {
	case v.IsBool():
		return noValue
	case v.Enum != "":
		return listValue
	case v.Name == "file" || v.Tag != nil && slices.Contains([]string{"path", "existingfile", "existingdir"}, v.Tag.Type):
		return fileValue
	}
	return anyValue
}

func enumOf(v *kong.Value) []string {
	if v.Enum == "" {
		return nil
	}
	return v.EnumSlice()
}

// names are a flag's spellings: --long and, if it has one, -s.
func (v complValue) names() []string {
	if v.short == "" {
		return []string{v.long}
	}
	return []string{v.long, v.short}
}

// bashCompletion is the bash (and, through bashcompinit, zsh) script. A
// flag's value is completed after "--flag value" and "--flag=value" (bash
// splits the latter at "=").
func bashCompletion(cmds []complCmd) string {
	var b strings.Builder
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	b.WriteString(`_tokensync() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="${COMP_WORDS[1]}"
  if [ "$cur" = "=" ]; then cur=""; elif [ "$prev" = "=" ]; then prev="${COMP_WORDS[COMP_CWORD-2]}"; fi
  COMPREPLY=()
`)
	fmt.Fprintf(&b, "  if [ \"$COMP_CWORD\" -eq 1 ]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi\n", strings.Join(names, " "))
	b.WriteString("  case \"$cmd\" in\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %s)\n    case \"$prev\" in\n", c.name)
		var all []string
		for _, f := range c.flags {
			all = append(all, f.names()...)
			if f.kind != noValue {
				fmt.Fprintf(&b, "      %s) %s; return ;;\n", strings.Join(f.names(), "|"), bashValue(f))
			}
		}
		b.WriteString("    esac\n")
		fmt.Fprintf(&b, "    case \"$cur\" in\n      -*) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", strings.Join(all, " "))
		if len(c.args) > 0 && c.args[0].kind != anyValue {
			fmt.Fprintf(&b, "      *) %s ;;\n", bashValue(c.args[0]))
		}
		b.WriteString("    esac ;;\n")
	}
	b.WriteString("  esac\n}\ncomplete -o filenames -F _tokensync tokensync\n")
	return b.String()
}

// bashValue is the bash that completes a value of v into COMPREPLY.
func bashValue(v complValue) string {
	switch v.kind {
	case fileValue:
		return `COMPREPLY=($(compgen -f -- "$cur"))`
	case listValue:
		return fmt.Sprintf(`COMPREPLY=($(compgen -W %q -- "$cur"))`, strings.Join(v.list, " "))
	}
	return ":"
}

// fishCompletion is the fish script.
func fishCompletion(cmds []complCmd) string {
	var b strings.Builder
	b.WriteString("complete -c tokensync -f\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "complete -c tokensync -n __fish_use_subcommand -a %s\n", c.name)
		cond := fmt.Sprintf("-n '__fish_seen_subcommand_from %s'", c.name)
		for _, f := range c.flags {
			line := fmt.Sprintf("complete -c tokensync %s -l %s", cond, strings.TrimPrefix(f.long, "--"))
			if f.short != "" {
				line += " -s " + strings.TrimPrefix(f.short, "-")
			}
			fmt.Fprintln(&b, line+fishValue(f))
		}
		if len(c.args) > 0 && c.args[0].kind != anyValue {
			fmt.Fprintf(&b, "complete -c tokensync %s%s\n", cond, strings.TrimPrefix(fishValue(c.args[0]), " -r"))
		}
	}
	return b.String()
}

// fishValue are the options of a fish complete line for v's value.
func fishValue(v complValue) string {
	switch v.kind {
	case fileValue:
		return " -r -F"
	case listValue:
		return fmt.Sprintf(" -x -a '%s'", strings.Join(v.list, " "))
	case anyValue:
		return " -x"
	}
	return ""
}
