package astroapitest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/internal/anchors"
	"github.com/tokensync/tokensync/internal/inputfile"
	"go.yaml.in/yaml/v3"
)

// MaxStateSize is the largest state file read, in bytes (64 MiB): room
// for an organization of 50,000 users and 20,000 tokens (about 30 MB of
// YAML). Parsing takes about 40 times a file's size in memory.
const MaxStateSize = 64 << 20

// LoadState reads and validates an emulator state file; see ParseState.
// A file that is not a regular file, or is over MaxStateSize, is refused
// before it is read.
func LoadState(path string) (*State, error) {
	data, err := inputfile.Read(context.Background(), path, MaxStateSize)
	if err != nil {
		return nil, fmt.Errorf("load emulator state %s: %w", path, err)
	}
	return ParseState(path, data)
}

// ParseState parses and validates an emulator state (YAML, or JSON since
// JSON is YAML) read from the file called name. It is strict: unknown keys,
// duplicate keys, values of the wrong kind and every problem Validate finds
// are errors, all reported at once, one per line, as "name:line:col: message".
// Anchors and aliases are refused, before anything is expanded: a small
// file of aliases cannot stand for a huge state.
func ParseState(name string, data []byte) (*State, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(name, err)
	}
	p := &parser{file: name, pos: map[string]position{}}
	if p.anchors(&doc) {
		return nil, p.err()
	}
	st := &State{}
	switch {
	case len(doc.Content) == 0:
		p.errorf(&doc, "", "empty state: want a mapping with organization, workspaces, deployments, roles, tokens")
	case looksLikeSpec(doc.Content[0]):
		p.errorf(doc.Content[0], "", "this looks like a tokensync spec (it has a version key), not an emulator state; give it with -f %s", name)
		return nil, p.err()
	default:
		p.state(doc.Content[0], st)
	}
	st = st.normalized()
	if len(p.errs) == 0 {
		for _, pr := range st.validate() {
			p.errs = append(p.errs, p.at(pr.path, pr.msg))
		}
	} else {
		// Report the semantic problems that structural errors do not
		// explain (the structural ones only: two semantic problems of one
		// value are both reported).
		explained := p.explainer()
		for _, pr := range st.validate() {
			if !explained(pr.path) {
				p.errs = append(p.errs, p.at(pr.path, pr.msg))
			}
		}
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	return st, nil
}

// looksLikeSpec says root is a tokensync spec's top level: a state has no
// version key, and every spec has one.
func looksLikeSpec(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "version" {
			return true
		}
	}
	return false
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxError(name string, err error) error {
	msg := strings.Replace(err.Error(), "found incompatible YAML document",
		"a %YAML directive other than %YAML 1.1 is not supported; remove the line (a state needs no directive)", 1)
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s:1: %s", name, m[1], m[2])
	}
	return fmt.Errorf("%s:1:1: %s", name, strings.TrimPrefix(msg, "yaml: "))
}

type position struct{ line, col int }

// anchors reports the first anchor or alias of the tree, if any (see
// anchors.Find), and says whether there was one.
func (p *parser) anchors(root *yaml.Node) bool {
	first, n := anchors.Find(root)
	switch {
	case n == 1:
		p.errorf(first, "", "anchors and aliases are not supported")
	case n > 1:
		p.errorf(first, "", "anchors and aliases are not supported (%d more in this file)", n-1)
	}
	return n > 0
}

type parseError struct {
	position
	path string
	msg  string
}

// parser walks the YAML node tree of a state, recording the position of
// every value by its path (e.g. "tokens[3].roles[1].entityId").
type parser struct {
	file string
	pos  map[string]position
	errs []parseError
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, parseError{position{max(n.Line, 1), max(n.Column, 1)}, path, fmt.Sprintf(format, args...)})
}

// at locates a semantic problem at path, or at its closest recorded parent.
func (p *parser) at(path, msg string) parseError {
	for q := path; ; q = parentPath(q) {
		if pos, ok := p.pos[q]; ok {
			return parseError{pos, path, msg}
		}
		if q == "" {
			return parseError{position{1, 1}, path, msg}
		}
	}
}

// explainer returns whether one of the errors so far, the structural
// ones, lies at a path or around it: at the path, inside it or at one of
// its parents. It answers from two sets of paths, in time linear in a
// path's length, as a state can have thousands of both.
func (p *parser) explainer() func(path string) bool {
	at := make(map[string]bool, len(p.errs))     // the errors' paths
	around := make(map[string]bool, len(p.errs)) // those and their parents
	for _, e := range p.errs {
		at[e.path] = true
		for q := e.path; !around[q]; q = parentPath(q) {
			around[q] = true
			if q == "" {
				break
			}
		}
	}
	return func(path string) bool {
		if around[path] {
			return true
		}
		for q := path; ; q = parentPath(q) {
			if at[q] {
				return true
			}
			if q == "" {
				return false
			}
		}
	}
}

func (p *parser) err() error {
	slices.SortStableFunc(p.errs, func(a, b parseError) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
	})
	errs := make([]error, 0, len(p.errs))
	for i, e := range p.errs {
		if i > 0 && e == p.errs[i-1] {
			continue
		}
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s", p.file, e.line, e.col, e.msg))
	}
	return errors.Join(errs...)
}

// parentPath strips the last component of a path: "a.b[1]" → "a.b" → "a".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return resolve(n.Content[0])
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// field decodes the value of one key of a mapping.
type field func(v *yaml.Node, path string)

// mapping walks a mapping node: unknown and duplicate keys are errors.
func (p *parser) mapping(n *yaml.Node, path, what string, fields map[string]field) {
	n = resolve(n)
	p.pos[path] = position{n.Line, n.Column}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "%s: want a mapping, found %s", what, kind(n))
		return
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, path, "%s: want a string key, found %s", what, kind(k))
			continue
		}
		child := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, child, "%s: duplicate key %q (first at line %d)", what, k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		f, ok := fields[k.Value]
		if !ok {
			keys := make([]string, 0, len(fields))
			for key := range fields {
				keys = append(keys, key)
			}
			slices.Sort(keys)
			p.errorf(k, child, "%s: unknown key %q (want one of %s)", what, k.Value, strings.Join(keys, ", "))
			continue
		}
		v = resolve(v)
		p.pos[child] = position{v.Line, v.Column}
		f(v, child)
	}
}

// seq walks a sequence node; null is an empty list.
func (p *parser) seq(n *yaml.Node, path, what string, item func(i int, v *yaml.Node, path string)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "%s: want a list, found %s", what, kind(n))
		return
	}
	for i, v := range n.Content {
		v = resolve(v)
		ip := fmt.Sprintf("%s[%d]", path, i)
		p.pos[ip] = position{v.Line, v.Column}
		item(i, v, ip)
	}
}

func (p *parser) str(dst *string, what string) field {
	return func(v *yaml.Node, path string) {
		switch {
		case isNull(v):
		case v.Kind != yaml.ScalarNode:
			p.errorf(v, path, "%s: want a string, found %s", what, kind(v))
		default:
			*dst = v.Value
		}
	}
}

func (p *parser) strs(dst *[]string, what string) field {
	return func(v *yaml.Node, path string) {
		*dst = []string{}
		p.seq(v, path, what, func(_ int, item *yaml.Node, ip string) {
			var s string
			p.str(&s, what)(item, ip)
			*dst = append(*dst, s)
		})
	}
}

func (p *parser) boolean(dst *bool, what string) field {
	return func(v *yaml.Node, path string) {
		if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
			p.errorf(v, path, "%s: want true or false, found %s", what, kind(v))
			return
		}
		b, err := strconv.ParseBool(strings.ToLower(v.Value))
		if err != nil {
			p.errorf(v, path, "%s: want true or false, found %q", what, v.Value)
		}
		*dst = b
	}
}

func (p *parser) integer(dst *int, what string) field {
	return func(v *yaml.Node, path string) {
		n, err := strconv.Atoi(v.Value)
		if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || err != nil {
			p.errorf(v, path, "%s: want an integer, found %s", what, kind(v))
			return
		}
		*dst = n
	}
}

func (p *parser) time(dst *time.Time, what string) field {
	return func(v *yaml.Node, path string) {
		if isNull(v) {
			return
		}
		t, err := time.Parse(time.RFC3339Nano, v.Value)
		if v.Kind != yaml.ScalarNode || err != nil {
			p.errorf(v, path, "%s: want an RFC 3339 time such as 2024-05-01T12:00:00Z, found %q", what, v.Value)
			return
		}
		*dst = t.UTC()
	}
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "a YAML node of another kind"
}

func (p *parser) state(n *yaml.Node, st *State) {
	p.mapping(n, "", "state", map[string]field{
		"organization": func(v *yaml.Node, path string) {
			o := &st.Organization
			p.mapping(v, path, "organization", map[string]field{
				"id":   p.str(&o.ID, "organization id"),
				"name": p.str(&o.Name, "organization name"),
			})
		},
		"workspaces": func(v *yaml.Node, path string) {
			p.seq(v, path, "workspaces", func(_ int, item *yaml.Node, ip string) {
				var w Workspace
				p.mapping(item, ip, "workspace", map[string]field{
					"id":          p.str(&w.ID, "workspace id"),
					"name":        p.str(&w.Name, "workspace name"),
					"description": p.str(&w.Description, "workspace description"),
				})
				st.Workspaces = append(st.Workspaces, w)
			})
		},
		"deployments": func(v *yaml.Node, path string) {
			p.seq(v, path, "deployments", func(_ int, item *yaml.Node, ip string) {
				var d Deployment
				p.mapping(item, ip, "deployment", map[string]field{
					"id":          p.str(&d.ID, "deployment id"),
					"name":        p.str(&d.Name, "deployment name"),
					"workspaceId": p.str(&d.WorkspaceID, "deployment workspaceId"),
				})
				st.Deployments = append(st.Deployments, d)
			})
		},
		"roles": func(v *yaml.Node, path string) {
			p.seq(v, path, "roles", func(_ int, item *yaml.Node, ip string) {
				var r CustomRole
				p.mapping(item, ip, "custom role", map[string]field{
					"id":                     p.str(&r.ID, "custom role id"),
					"name":                   p.str(&r.Name, "custom role name"),
					"description":            p.str(&r.Description, "custom role description"),
					"scopeType":              p.str(&r.ScopeType, "custom role scopeType"),
					"restrictedWorkspaceIds": p.strs(&r.RestrictedWorkspaceIDs, "custom role restrictedWorkspaceIds"),
					"permissions":            p.strs(&r.Permissions, "custom role permissions"),
				})
				st.Roles = append(st.Roles, r)
			})
		},
		"tokens": func(v *yaml.Node, path string) {
			p.seq(v, path, "tokens", func(_ int, item *yaml.Node, ip string) {
				var t Token
				p.mapping(item, ip, "token", map[string]field{
					"id":                 p.str(&t.ID, "token id"),
					"name":               p.str(&t.Name, "token name"),
					"description":        p.str(&t.Description, "token description"),
					"scope":              p.str(&t.Scope, "token scope"),
					"kind":               p.str(&t.Kind, "token kind"),
					"startAt":            p.time(&t.StartAt, "token startAt"),
					"endAt":              p.time(&t.EndAt, "token endAt"),
					"expiryPeriodInDays": p.integer(&t.ExpiryPeriodInDays, "token expiryPeriodInDays"),
					"lastUsedAt":         p.time(&t.LastUsedAt, "token lastUsedAt"),
					"lastRotatedAt":      p.time(&t.LastRotatedAt, "token lastRotatedAt"),
					"createdAt":          p.time(&t.CreatedAt, "token createdAt"),
					"updatedAt":          p.time(&t.UpdatedAt, "token updatedAt"),
					"roles": func(v *yaml.Node, path string) {
						p.seq(v, path, "token roles", func(_ int, item *yaml.Node, ip string) {
							var r astroapi.Role
							p.mapping(item, ip, "token role", map[string]field{
								"entityType":   p.str(&r.EntityType, "role entityType"),
								"entityId":     p.str(&r.EntityID, "role entityId"),
								"role":         p.str(&r.Role, "role"),
								"deploymentId": p.str(&r.DeploymentID, "role deploymentId"),
							})
							t.Roles = append(t.Roles, r)
						})
					},
				})
				st.Tokens = append(st.Tokens, t)
			})
		},
		"users": p.users(st),
		"teams": p.teams(st),
		"credentials": func(v *yaml.Node, path string) {
			p.seq(v, path, "credentials", func(_ int, item *yaml.Node, ip string) {
				var c Credential
				p.mapping(item, ip, "credential", map[string]field{
					"secret":       p.str(&c.Secret, "credential secret"),
					"tokenId":      p.str(&c.TokenID, "credential tokenId"),
					"workspaceIds": p.strs(&c.WorkspaceIDs, "credential workspaceIds"),
					"readOnly":     p.boolean(&c.ReadOnly, "credential readOnly"),
				})
				st.Credentials = append(st.Credentials, c)
			})
		},
	})
}
