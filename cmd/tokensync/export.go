package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// ExportCmd is `tokensync export`.
type ExportCmd struct {
	Workspace  []string `help:"Export only the deployments of this workspace (id or name); repeatable." placeholder:"W"`
	Deployment []string `help:"Export only this deployment (id or name); repeatable." placeholder:"D"`
}

// Run prints a spec of today's assignments on the selected deployments.
// Deployment API tokens are left out: tokensync never manages them.
func (c *ExportCmd) Run(ctx context.Context, g *Globals, st *Streams) error {
	sess, err := g.connect(ctx, *st, "")
	if err != nil {
		return err
	}
	defer sess.close()
	obs, err := observe(ctx, sess)
	if err != nil {
		return err
	}
	deps, err := c.selectDeployments(obs)
	if err != nil {
		return err
	}
	out, err := encodeSpec(exportSpec(obs, deps))
	if err != nil {
		return err
	}
	_, err = st.Out.Write(out)
	return err
}

// encodeSpec writes the exported document as YAML in which every character
// that render.Safe escapes is escaped. scalar double-quotes every value that
// holds one; in double quotes the YAML encoder escapes the ASCII ones and
// writes the rest (bidi overrides, invisible characters, other spaces and
// line breaks) as they are, so they are escaped here, as \u or \U escapes.
// Comments are escaped by render.Safe and keys are the spec's own, so no
// such character is found outside a double-quoted scalar.
func encodeSpec(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return render.EscapeQuoted(b.Bytes(), yamlEscape), nil
}

// yamlEscape appends r as an escape of a double-quoted YAML scalar.
func yamlEscape(dst []byte, r rune) []byte {
	if r > 0xffff {
		return fmt.Appendf(dst, `\U%08X`, r)
	}
	return fmt.Appendf(dst, `\u%04X`, r)
}

// selectDeployments applies --workspace and --deployment; with neither,
// every deployment is selected.
func (c *ExportCmd) selectDeployments(obs *sync.Observed) ([]astroapi.Deployment, error) {
	if len(c.Workspace) == 0 && len(c.Deployment) == 0 {
		return obs.Deployments, nil
	}
	wanted := map[string]bool{}
	for _, w := range c.Workspace {
		n := 0
		for _, ws := range obs.Workspaces {
			if ws.ID == w || ws.Name == w {
				n++
				for _, d := range obs.Deployments {
					if d.WorkspaceID == ws.ID {
						wanted[d.ID] = true
					}
				}
			}
		}
		if n == 0 {
			return nil, exitWith(exitInvalid, "--workspace %q: no such workspace in organization %s", w, obs.Organization)
		}
	}
	for _, ref := range c.Deployment {
		n := 0
		for _, d := range obs.Deployments {
			if d.ID == ref || d.Name == ref {
				wanted[d.ID] = true
				n++
			}
		}
		if n == 0 {
			return nil, exitWith(exitInvalid, "--deployment %q: no such deployment in organization %s", ref, obs.Organization)
		}
	}
	var out []astroapi.Deployment
	for _, d := range obs.Deployments {
		if wanted[d.ID] {
			out = append(out, d)
		}
	}
	return out, nil
}

// exportSpec builds the spec document: deployments by id (name and
// workspace in a comment), with all four lists. Tokens and teams go by name
// where the name is unique among their kind's family (and not empty, which
// the spec refuses) and by id otherwise; users by username.
func exportSpec(obs *sync.Observed, deps []astroapi.Deployment) *yaml.Node {
	wsName := map[string]string{}
	for _, w := range obs.Workspaces {
		wsName[w.ID] = w.Name
	}
	nameCount := map[string]int{}
	for _, s := range obs.Subjects {
		nameCount[family(s.Kind)+"\x00"+s.Name]++
	}
	deps = slices.Clone(deps)
	slices.SortFunc(deps, func(a, b astroapi.Deployment) int {
		return cmp.Or(strings.Compare(wsName[a.WorkspaceID], wsName[b.WorkspaceID]), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})

	type entry struct {
		subject sync.Subject
		role    string
	}
	held := map[string][]entry{} // deployment id → assignments
	for _, s := range obs.Subjects {
		if !slices.Contains(spec.Kinds(), s.Kind) {
			continue // deployment API tokens are never managed
		}
		if s.Status == astroapi.UserInactive || s.Status == astroapi.UserBanned {
			continue // may not be given a role: a spec that lists it is invalid
		}
		for _, r := range s.Deployments {
			held[r.DeploymentID] = append(held[r.DeploymentID], entry{s, r.Role})
		}
	}

	deployments := seq()
	for _, d := range deps {
		entries := held[d.ID]
		slices.SortFunc(entries, func(a, b entry) int {
			return cmp.Or(strings.Compare(a.subject.Name, b.subject.Name), strings.Compare(a.subject.ID, b.subject.ID))
		})
		lists := map[spec.Kind]*yaml.Node{}
		for _, k := range spec.Kinds() {
			lists[k] = seq()
		}
		for _, e := range entries {
			s := e.subject
			nameKey := "name"
			if s.Kind == spec.KindUser {
				nameKey = "username"
			}
			var n *yaml.Node
			if nameCount[family(s.Kind)+"\x00"+s.Name] == 1 && s.Name != "" {
				n = mapping(nameKey, scalar(s.Name), "role", scalar(e.role))
			} else {
				n = mapping("id", scalar(s.ID), "role", scalar(e.role))
				n.Content[1].LineComment = render.Safe(s.Name) + " (name shared by several)"
			}
			lists[s.Kind].Content = append(lists[s.Kind].Content, n)
		}
		dep := mapping("id", scalar(d.ID))
		dep.Content[1].LineComment = fmt.Sprintf("%s (workspace %s)", render.Safe(d.Name), render.Safe(wsName[d.WorkspaceID]))
		for _, k := range spec.Kinds() {
			dep.Content = append(dep.Content, scalar(k.Key()), lists[k])
		}
		deployments.Content = append(deployments.Content, dep)
	}
	root := mapping("version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"},
		"organization", scalar(obs.Organization),
		"deployments", deployments)
	root.HeadComment = "Exported by tokensync: the current deployment roles of workspace and organization tokens, users and teams.\nDeployment API tokens are not managed and are left out."
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
}

// family groups the kinds whose names share one namespace: the tokens.
func family(k spec.Kind) string {
	if k == spec.KindUser || k == spec.KindTeam {
		return string(k)
	}
	return "token"
}

// scalar is a string value. It is plain only when every YAML version and
// every reader takes it as that string and nothing else; otherwise it is
// double-quoted, where every character can be escaped (see encodeSpec).
func scalar(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if !plainWord.MatchString(v) || yaml11Word[strings.ToLower(v)] {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// plainWord matches the strings written plain: a letter, then letters,
// digits and "_.@/-", words separated by single spaces. What else YAML may
// write plain (a leading digit, ':' or '#' inside, "~", "=") some reader
// takes as a number, a time, a comment or a null.
var plainWord = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.@/-]*( [A-Za-z0-9_.@/-]+)*$`)

// yaml11Word are the words YAML 1.1 reads as booleans or null, in lower
// case: written plain, `name: yes` is a string for the spec's parser but a
// boolean for other tools.
var yaml11Word = map[string]bool{
	"y": true, "yes": true, "n": true, "no": true, "true": true, "false": true,
	"on": true, "off": true, "null": true,
}

func seq() *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
}

// mapping builds a mapping node from alternating keys and value nodes.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, scalar(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}
