// Package planfile is the plan as a document: the JSON that plan -o json
// shows and plan --out saves, and the saved plan that apply PLAN.json
// reads back, validates and checks again. It owns the document's types,
// the conversion both ways, and the re-derivation of the guards from the
// options the document records; rendering it as bytes is render's.
package planfile

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// FormatVersion is the version of the JSON plan document. Any change to the
// document's meaning or shape gets a new version.
const FormatVersion = "3"

// Meta is what a plan document records besides the plan itself.
type Meta struct {
	ToolVersion string
	SpecDigest  string
	SpecFiles   []string
	Options     sync.Options
}

// Document is the JSON plan document, also the saved-plan file. Its fields
// are a stable contract, described by plan.schema.json.
type Document struct {
	FormatVersion string            `json:"format_version"`
	ToolVersion   string            `json:"tokensync_version"`
	Organization  string            `json:"organization"`
	Spec          SpecInfo          `json:"spec"`
	Changes       []ChangeJSON      `json:"changes"`
	Unmanaged     []ChangeJSON      `json:"unmanaged"`
	Guards        []GuardJSON       `json:"guards"`
	Refused       bool              `json:"refused"`
	Summary       Summary           `json:"summary"`
	Fingerprints  map[string]string `json:"fingerprints"`
	Options       *OptionsJSON      `json:"options"`
	Target        *TargetJSON       `json:"target"`
	// Targets are the scopes --target limited the plan to; absent when
	// the plan covers the whole spec.
	Targets []ScopeJSON `json:"targets,omitempty"`
	// Violations are the policy rules found true on the access the plan
	// would leave (empty without rules).
	Violations []ViolationJSON `json:"violations"`
}

// ViolationJSON is one policy rule found true: on a grant (subject, role
// and via set) or on a scope. Source is the spec entry that writes the
// grant, when a file does; error says the rule could not be evaluated;
// why says why a rule over a scope holds there.
type ViolationJSON struct {
	Rule        string       `json:"rule"`
	Description string       `json:"description"`
	Scope       ScopeJSON    `json:"scope"`
	Subject     *SubjectJSON `json:"subject"`
	Role        string       `json:"role"`
	Via         string       `json:"via"`
	Source      *SourceJSON  `json:"source"`
	Error       string       `json:"error,omitempty"`
	Why         string       `json:"why,omitempty"`
}

// OptionsJSON are the options a plan was computed with; apply of a saved
// plan re-derives the guards from them.
type OptionsJSON struct {
	Prune       bool     `json:"prune"`
	MaxRemovals int      `json:"max_removals"`
	Protect     []string `json:"protect"`
}

// UnmarshalJSON reads the options strictly: prune and max_removals, which
// the schema requires, must be given; no other field may be.
func (o *OptionsJSON) UnmarshalJSON(data []byte) error {
	var in struct {
		Prune       *bool    `json:"prune"`
		MaxRemovals *int     `json:"max_removals"`
		Protect     []string `json:"protect"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	switch {
	case in.Prune == nil:
		return errors.New("no options.prune")
	case in.MaxRemovals == nil:
		return errors.New("no options.max_removals")
	}
	*o = OptionsJSON{Prune: *in.Prune, MaxRemovals: *in.MaxRemovals, Protect: in.Protect}
	return nil
}

// TargetJSON is the resolved spec a plan aims at (sync.Target), so that
// apply of a saved plan sets every managed assignment of a subject it
// writes as the spec says, and verifies every one.
type TargetJSON struct {
	Prune  bool                `json:"prune"`
	Ignore map[string][]string `json:"ignore"`
	// Workspaces maps every deployment id to its workspace id, for the
	// accessor roles Astro keeps (sync.Desired.Workspaces).
	Workspaces map[string]string `json:"workspaces"`
	Scopes     []ManagedJSON     `json:"scopes"`
}

// ManagedJSON is one managed scope of a target.
type ManagedJSON struct {
	Scope       ScopeJSON        `json:"scope"`
	WorkspaceID string           `json:"workspace_id"`
	Prune       bool             `json:"prune"`
	AllowEmpty  bool             `json:"allow_empty"`
	Lists       []string         `json:"lists"`
	Assignments []AssignmentJSON `json:"assignments"`
}

// AssignmentJSON is one spec entry of a managed scope.
type AssignmentJSON struct {
	Subject SubjectJSON `json:"subject"`
	Role    string      `json:"role"`
	Absent  bool        `json:"absent"`
	Source  *SourceJSON `json:"source"`
}

// SpecInfo identifies the spec a plan was made from.
type SpecInfo struct {
	Digest string   `json:"digest"`
	Files  []string `json:"files"`
}

// ChangeJSON is one change or unmanaged assignment. Before and After are ""
// when the subject holds no role at the scope before or after.
type ChangeJSON struct {
	Action  string      `json:"action"`
	Scope   ScopeJSON   `json:"scope"`
	Subject SubjectJSON `json:"subject"`
	Before  string      `json:"before"`
	After   string      `json:"after"`
	Reason  string      `json:"reason"`
	Source  *SourceJSON `json:"source"`
}

// ScopeJSON names a scope: its level (organization, workspace,
// deployment, dag or dagTag), id and name (the organization's id, a
// workspace's or deployment's id and name, a DAG's id or a tag), and for
// a DAG or DAG tag its deployment.
type ScopeJSON struct {
	Level      string          `json:"level"`
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Deployment *DeploymentJSON `json:"deployment,omitempty"`
}

func scopeJSON(r sync.ScopeRef) ScopeJSON {
	j := ScopeJSON{Level: string(r.Level), ID: r.ID, Name: r.Name}
	if r.Level == sync.LevelDAG || r.Level == sync.LevelDAGTag {
		j.Deployment = &DeploymentJSON{ID: r.Deployment.ID, Name: r.Deployment.Name}
	}
	return j
}

func (j ScopeJSON) ref() sync.ScopeRef {
	r := sync.ScopeRef{Level: sync.Level(j.Level), ID: j.ID, Name: j.Name}
	if j.Deployment != nil {
		r.Deployment = sync.DeploymentRef{ID: j.Deployment.ID, Name: j.Deployment.Name}
	}
	return r
}

// DeploymentJSON names a deployment.
type DeploymentJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SubjectJSON names a subject: its kind (workspaceToken,
// organizationToken, deploymentToken, user or team), id and name (a user's
// username).
type SubjectJSON struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SourceJSON is the spec entry a change comes from.
type SourceJSON struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

// GuardJSON is the result of one guard.
type GuardJSON struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// Summary counts the plan's changes.
type Summary struct {
	Add       int `json:"add"`
	Change    int `json:"change"`
	Remove    int `json:"remove"`
	Unmanaged int `json:"unmanaged"`
}

// New builds the document of a plan.
func New(p sync.Plan, m Meta) Document {
	add, change, remove := p.Summary()
	d := Document{
		FormatVersion: FormatVersion,
		ToolVersion:   m.ToolVersion,
		Organization:  p.Organization,
		Spec:          SpecInfo{Digest: m.SpecDigest, Files: nonNil(m.SpecFiles)},
		Changes:       ChangesJSON(p.Changes),
		Unmanaged:     ChangesJSON(p.Unmanaged),
		Guards:        []GuardJSON{},
		Refused:       p.Refused(),
		Summary:       Summary{Add: add, Change: change, Remove: remove, Unmanaged: len(p.Unmanaged)},
		Fingerprints:  map[string]string{},
	}
	for _, g := range p.Guards {
		d.Guards = append(d.Guards, GuardJSON{Name: g.Name, OK: g.OK, Message: g.Message})
	}
	for k, v := range p.Fingerprints {
		d.Fingerprints[k] = v
	}
	d.Options = &OptionsJSON{Prune: m.Options.Prune, MaxRemovals: m.Options.MaxRemovals, Protect: nonNil(m.Options.Protect)}
	d.Target = targetJSON(p.Target)
	for _, r := range p.Partial {
		d.Targets = append(d.Targets, scopeJSON(r))
	}
	d.Violations = make([]ViolationJSON, 0, len(p.Violations))
	for _, v := range p.Violations {
		j := ViolationJSON{Rule: v.Rule, Description: v.Description, Scope: scopeJSON(v.Scope), Role: v.Role, Via: v.Via,
			Source: sourceJSON(v.Source), Error: v.Err, Why: v.Why}
		if v.Subject != nil {
			s := subjectJSON(*v.Subject)
			j.Subject = &s
		}
		d.Violations = append(d.Violations, j)
	}
	return d
}

func targetJSON(t *sync.Target) *TargetJSON {
	if t == nil {
		return nil
	}
	out := &TargetJSON{Prune: t.Prune, Ignore: map[string][]string{}, Workspaces: map[string]string{}, Scopes: []ManagedJSON{}}
	maps.Copy(out.Workspaces, t.Desired.Workspaces)
	for k, globs := range t.Desired.Ignore {
		out.Ignore[string(k)] = slices.Clone(globs)
	}
	for _, md := range t.Desired.Scopes {
		m := ManagedJSON{Scope: scopeJSON(md.ScopeRef), WorkspaceID: md.WorkspaceID, Prune: md.Prune, AllowEmpty: md.AllowEmpty,
			Lists: []string{}, Assignments: []AssignmentJSON{}}
		for _, k := range md.Lists {
			m.Lists = append(m.Lists, string(k))
		}
		for _, a := range md.Assignments {
			src := a.Source
			m.Assignments = append(m.Assignments, AssignmentJSON{Subject: subjectJSON(a.Subject), Role: a.Role, Absent: a.Absent, Source: sourceJSON(&src)})
		}
		out.Scopes = append(out.Scopes, m)
	}
	return out
}

func (t *TargetJSON) target() *sync.Target {
	if t == nil {
		return nil
	}
	out := &sync.Target{Prune: t.Prune, Desired: sync.Desired{Ignore: map[sync.Kind][]string{}, Workspaces: maps.Clone(t.Workspaces)}}
	for k, globs := range t.Ignore {
		out.Desired.Ignore[sync.Kind(k)] = slices.Clone(globs)
	}
	for _, m := range t.Scopes {
		md := sync.ManagedScope{ScopeRef: m.Scope.ref(), WorkspaceID: m.WorkspaceID, Prune: m.Prune, AllowEmpty: m.AllowEmpty}
		for _, k := range m.Lists {
			md.Lists = append(md.Lists, sync.Kind(k))
		}
		for _, a := range m.Assignments {
			da := sync.DesiredAssignment{Subject: a.Subject.ref(), Role: a.Role, Absent: a.Absent}
			if p := a.Source.pos(); p != nil {
				da.Source = *p
			}
			md.Assignments = append(md.Assignments, da)
		}
		out.Desired.Scopes = append(out.Desired.Scopes, md)
	}
	return out
}

func subjectJSON(s sync.SubjectRef) SubjectJSON {
	return SubjectJSON{Kind: string(s.Kind), ID: s.ID, Name: s.Name}
}

func (s SubjectJSON) ref() sync.SubjectRef {
	return sync.SubjectRef{Kind: sync.Kind(s.Kind), ID: s.ID, Name: s.Name}
}

func sourceJSON(p *spec.Pos) *SourceJSON {
	if p == nil {
		return nil
	}
	return &SourceJSON{File: p.File, Line: p.Line, Col: p.Col}
}

func (s *SourceJSON) pos() *spec.Pos {
	if s == nil {
		return nil
	}
	return &spec.Pos{File: s.File, Line: s.Line, Col: s.Col}
}

// MaxSize is the most of a saved plan Read reads, in bytes (256 MiB): a
// change takes about 500 bytes, so it holds half a million changes, more
// than every assignment of an organization of 50,000 users and 20,000
// tokens.
const MaxSize = 256 << 20

// Read decodes a saved plan. It refuses unknown fields and any
// format version other than FormatVersion, and reads no more than MaxSize
// bytes.
func Read(r io.Reader) (Document, error) {
	var d Document
	dec := json.NewDecoder(io.LimitReader(r, MaxSize))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Document{}, fmt.Errorf("read plan: %w", err)
	}
	if d.FormatVersion != FormatVersion {
		return Document{}, fmt.Errorf("read plan: format_version %q is not supported (this tokensync reads %q)", d.FormatVersion, FormatVersion)
	}
	if dec.More() {
		return Document{}, errors.New("read plan: unexpected data after the document")
	}
	if err := d.validate(); err != nil {
		return Document{}, fmt.Errorf("read plan: %w", err)
	}
	return d, nil
}

// Plan turns a document back into the plan it was made from. Its guards
// are not the verdicts the document records: they are derived again from
// its changes, its target and the options it records (sync.Guards), so a
// document edited to say a refused plan is fine is still refused. The
// lockout guard is the exception sync.Guards makes: it needs every owner
// of the organization, which a document does not hold, so its recorded
// verdict stands here; apply checks it again on the organization as it is
// then (sync.RecheckSaved).
func (d Document) Plan() sync.Plan {
	p := sync.Plan{
		Organization: d.Organization,
		Changes:      changesFromJSON(d.Changes),
		Unmanaged:    changesFromJSON(d.Unmanaged),
		Fingerprints: map[string]string{},
		Target:       d.Target.target(),
	}
	for _, g := range d.Guards {
		p.Guards = append(p.Guards, sync.Guard{Name: g.Name, OK: g.OK, Message: g.Message})
	}
	for _, r := range d.Targets {
		p.Partial = append(p.Partial, r.ref())
	}
	for _, j := range d.Violations {
		v := sync.Violation{Rule: j.Rule, Description: j.Description, Scope: j.Scope.ref(), Role: j.Role, Via: j.Via,
			Source: j.Source.pos(), Err: j.Error, Why: j.Why}
		if j.Subject != nil {
			s := j.Subject.ref()
			v.Subject = &s
		}
		p.Violations = append(p.Violations, v)
	}
	for k, v := range d.Fingerprints {
		p.Fingerprints[k] = v
	}
	p.Guards = sync.Guards(p, d.Options.options())
	return p
}

func (o OptionsJSON) options() sync.Options {
	return sync.Options{Prune: o.Prune, MaxRemovals: o.MaxRemovals, Protect: slices.Clone(o.Protect)}
}

// validate checks what the schema cannot: every change is a write of a
// known kind of subject, with a fingerprint; the document has a target;
// its protect and ignore globs are globs (spec.ParseGlob).
func (d Document) validate() error {
	if d.Organization == "" {
		return errors.New("no organization")
	}
	if d.Target == nil {
		return errors.New("no target")
	}
	if d.Options == nil {
		// Left out, they would read as --max-removals 0 and refuse any
		// removal with advice that cannot help.
		return errors.New("no options")
	}
	if d.Options.MaxRemovals < -1 {
		return fmt.Errorf("options.max_removals %d: want -1 (no limit) or more", d.Options.MaxRemovals)
	}
	if err := d.checkGlobs(); err != nil {
		return err
	}
	known := map[string]bool{}
	for _, k := range spec.Kinds() {
		known[string(k)] = true
	}
	for i, c := range d.Changes {
		switch {
		case c.Action != string(sync.Add) && c.Action != string(sync.Update) && c.Action != string(sync.Remove):
			return fmt.Errorf("change %d: action %q is not add, update or remove", i+1, c.Action)
		case !known[c.Subject.Kind]:
			return fmt.Errorf("change %d: subject kind %q cannot be managed", i+1, c.Subject.Kind)
		case c.Subject.ID == "" || c.Scope.ID == "" && c.Scope.Level != string(sync.LevelOrganization):
			return fmt.Errorf("change %d: no subject or scope id", i+1)
		case !knownLevel(c.Scope):
			return fmt.Errorf("change %d: scope level %q is not organization, workspace, deployment, dag or dagTag (or a DAG scope without its deployment)", i+1, c.Scope.Level)
		case d.Fingerprints[c.Subject.ID] == "":
			return fmt.Errorf("change %d: no fingerprint for subject %s", i+1, c.Subject.ID)
		case (c.Action == string(sync.Remove)) != (c.After == ""):
			return fmt.Errorf("change %d: a %s with after %q", i+1, c.Action, c.After)
		}
	}
	return nil
}

// Counted checks that the summary counts the changes and that every
// fingerprint is of a subject a change names: a document whose changes
// were cut, to apply less than it showed, does not hold together.
func (d Document) Counted() error {
	var n Summary
	changed := make(map[string]bool, len(d.Fingerprints))
	for _, c := range d.Changes {
		changed[c.Subject.ID] = true
		switch sync.Action(c.Action) {
		case sync.Add:
			n.Add++
		case sync.Update:
			n.Change++
		default:
			n.Remove++
		}
	}
	n.Unmanaged = len(d.Unmanaged)
	if n != d.Summary {
		return fmt.Errorf("the summary (%d to add, %d to change, %d to remove, %d unmanaged) does not count the changes (%d, %d, %d, %d)",
			d.Summary.Add, d.Summary.Change, d.Summary.Remove, d.Summary.Unmanaged, n.Add, n.Change, n.Remove, n.Unmanaged)
	}
	for _, id := range slices.Sorted(maps.Keys(d.Fingerprints)) {
		if !changed[id] {
			return fmt.Errorf("a fingerprint of subject %s, which no change names", id)
		}
	}
	return nil
}

// knownLevel reports whether s is of a level tokensync manages, and names
// its deployment when it is a DAG or DAG tag.
func knownLevel(s ScopeJSON) bool {
	switch sync.Level(s.Level) {
	case sync.LevelOrganization, sync.LevelWorkspace, sync.LevelDeployment:
		return true
	case sync.LevelDAG, sync.LevelDAGTag:
		return s.Deployment != nil && s.Deployment.ID != ""
	}
	return false
}

// checkGlobs checks the protect and ignore globs the document records.
func (d Document) checkGlobs() error {
	globs := slices.Clone(d.Options.Protect)
	for _, k := range slices.Sorted(maps.Keys(d.Target.Ignore)) {
		globs = append(globs, d.Target.Ignore[k]...)
	}
	for _, g := range globs {
		if _, err := spec.ParseGlob(g); err != nil {
			return fmt.Errorf("glob %q: %w", g, err)
		}
	}
	return nil
}

// ChangesJSON is cs as the document writes them, each with its scope.
func ChangesJSON(cs []sync.Change) []ChangeJSON {
	out := make([]ChangeJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, ChangeJSON{
			Action:  string(c.Action),
			Scope:   scopeJSON(c.Scope),
			Subject: subjectJSON(c.Subject),
			Before:  c.Before,
			After:   c.After,
			Reason:  c.Reason,
			Source:  sourceJSON(c.Source),
		})
	}
	return out
}

func changesFromJSON(cs []ChangeJSON) []sync.Change {
	var out []sync.Change
	for _, j := range cs {
		out = append(out, sync.Change{
			Action:  sync.Action(j.Action),
			Scope:   j.Scope.ref(),
			Subject: j.Subject.ref(),
			Before:  j.Before,
			After:   j.After,
			Reason:  j.Reason,
			Source:  j.Source.pos(),
		})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

//go:embed plan.schema.json
var planSchema []byte

// Schema returns the JSON Schema of the plan document.
func Schema() []byte { return planSchema }
