package render

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"

	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// FormatVersion is the version of the JSON plan document. Any change to the
// document's meaning or shape gets a new version.
const FormatVersion = "2"

// Meta is what a plan document records besides the plan itself.
type Meta struct {
	ToolVersion string
	SpecDigest  string
	SpecFiles   []string
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
}

// SpecInfo identifies the spec a plan was made from.
type SpecInfo struct {
	Digest string   `json:"digest"`
	Files  []string `json:"files"`
}

// ChangeJSON is one change or unmanaged assignment. Before and After are ""
// when the token holds no role on the deployment before or after.
type ChangeJSON struct {
	Action     string         `json:"action"`
	Deployment DeploymentJSON `json:"deployment"`
	Subject    SubjectJSON    `json:"subject"`
	Before     string         `json:"before"`
	After      string         `json:"after"`
	Reason     string         `json:"reason"`
	Source     *SourceJSON    `json:"source"`
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

// NewDocument builds the JSON document of a plan.
func NewDocument(p sync.Plan, m Meta) Document {
	add, change, remove := p.Summary()
	d := Document{
		FormatVersion: FormatVersion,
		ToolVersion:   m.ToolVersion,
		Organization:  p.Organization,
		Spec:          SpecInfo{Digest: m.SpecDigest, Files: nonNil(m.SpecFiles)},
		Changes:       changesJSON(p.Changes),
		Unmanaged:     changesJSON(p.Unmanaged),
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
	return d
}

// JSON writes the plan document, indented, followed by a newline. The
// characters Safe escapes are \u escapes in its strings (encoding/json
// escapes only the ASCII ones), so the document reads back the same and a
// terminal or a viewer of the file shows them.
func JSON(w io.Writer, p sync.Plan, m Meta) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(NewDocument(p, m)); err != nil {
		return err
	}
	_, err := w.Write(EscapeQuoted(b.Bytes(), jsonEscape))
	return err
}

// jsonEscape appends r as a JSON \u escape, a surrogate pair above U+FFFF.
func jsonEscape(dst []byte, r rune) []byte {
	if r > 0xffff {
		hi, lo := utf16.EncodeRune(r)
		return fmt.Appendf(dst, `\u%04x\u%04x`, hi, lo)
	}
	return fmt.Appendf(dst, `\u%04x`, r)
}

// ReadDocument decodes a saved plan. It refuses unknown fields and any
// format version other than FormatVersion.
func ReadDocument(r io.Reader) (Document, error) {
	var d Document
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
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
	return d, nil
}

// Plan turns a document back into the plan it was made from.
func (d Document) Plan() sync.Plan {
	p := sync.Plan{
		Organization: d.Organization,
		Changes:      changesFromJSON(d.Changes),
		Unmanaged:    changesFromJSON(d.Unmanaged),
		Fingerprints: map[string]string{},
	}
	for _, g := range d.Guards {
		p.Guards = append(p.Guards, sync.Guard{Name: g.Name, OK: g.OK, Message: g.Message})
	}
	for k, v := range d.Fingerprints {
		p.Fingerprints[k] = v
	}
	return p
}

func changesJSON(cs []sync.Change) []ChangeJSON {
	out := make([]ChangeJSON, 0, len(cs))
	for _, c := range cs {
		j := ChangeJSON{
			Action:     string(c.Action),
			Deployment: DeploymentJSON{ID: c.Deployment.ID, Name: c.Deployment.Name},
			Subject:    SubjectJSON{Kind: string(c.Subject.Kind), ID: c.Subject.ID, Name: c.Subject.Name},
			Before:     c.Before,
			After:      c.After,
			Reason:     c.Reason,
		}
		if c.Source != nil {
			j.Source = &SourceJSON{File: c.Source.File, Line: c.Source.Line, Col: c.Source.Col}
		}
		out = append(out, j)
	}
	return out
}

func changesFromJSON(cs []ChangeJSON) []sync.Change {
	var out []sync.Change
	for _, j := range cs {
		c := sync.Change{
			Action:     sync.Action(j.Action),
			Deployment: sync.DeploymentRef{ID: j.Deployment.ID, Name: j.Deployment.Name},
			Subject:    sync.SubjectRef{Kind: sync.Kind(j.Subject.Kind), ID: j.Subject.ID, Name: j.Subject.Name},
			Before:     j.Before,
			After:      j.After,
			Reason:     j.Reason,
		}
		if j.Source != nil {
			c.Source = &spec.Pos{File: j.Source.File, Line: j.Source.Line, Col: j.Source.Col}
		}
		out = append(out, c)
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

// PlanSchema returns the JSON Schema of the plan document.
func PlanSchema() []byte { return planSchema }
