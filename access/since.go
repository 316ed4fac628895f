package access

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

// The kinds of change since a previous report.
const (
	Gained  = "gained"
	Lost    = "lost"
	Changed = "changed"
)

// Since is what changed since a previous report.
type Since struct {
	// GeneratedAt is when the previous report was made.
	GeneratedAt string   `json:"generated_at"`
	Changes     []Change `json:"changes"`
}

// Change is a principal that gained or lost access to a deployment, or
// whose access changed.
type Change struct {
	Change     string        `json:"change"`
	Deployment DeploymentRef `json:"deployment"`
	Principal  Ref           `json:"principal"`
	Before     []Grant       `json:"before"`
	After      []Grant       `json:"after"`
}

// DeploymentRef names a deployment in a change.
type DeploymentRef struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Workspace string `json:"workspace"`
}

// Read reads a previous report document: format_version 2 (Document, as
// report -o json writes it) or 1 (Report's own json form, as tokensync
// wrote it before), refusing another, and naming a saved plan or an
// apply result given in its place as what it is. Levels are derived again from the
// roles, so a report made before they were recorded (or edited by hand)
// filters like a new one.
func Read(data []byte) (Report, error) {
	var head struct {
		FormatVersion string `json:"format_version"`
		// Keys of the other JSON documents of tokensync, none a report's.
		Guards       json.RawMessage `json:"guards"`
		Fingerprints json.RawMessage `json:"fingerprints"`
		Writes       json.RawMessage `json:"writes"`
	}
	if err := decode(data, &head); err != nil {
		return Report{}, err
	}
	switch {
	case head.Guards != nil || head.Fingerprints != nil:
		return Report{}, errors.New("read report: a saved plan (tokensync plan -o json or --out), not a report: give a JSON report of tokensync report -o json")
	case head.Writes != nil:
		return Report{}, errors.New("read report: an apply result (tokensync apply -o json), not a report: give a JSON report of tokensync report -o json")
	}
	var r Report
	switch head.FormatVersion {
	case FormatVersion:
		var d Document
		if err := decode(data, &d); err != nil {
			return Report{}, err
		}
		var err error
		if r, err = d.report(); err != nil {
			return Report{}, fmt.Errorf("read report: %w", err)
		}
	case FormatVersion1:
		if err := decode(data, &r); err != nil {
			return Report{}, err
		}
		statusFromMessages(r.Findings)
	default:
		return Report{}, fmt.Errorf("read report: format_version %q, want %q or %q (a JSON report of tokensync report -o json)", head.FormatVersion, FormatVersion, FormatVersion1)
	}
	for role, l := range r.RoleLevels {
		if !rateable(l) {
			return Report{}, fmt.Errorf("read report: role_levels: %q is not a level for %s (view, author, operate or admin)", l, role)
		}
	}
	if err := r.check(); err != nil {
		return Report{}, fmt.Errorf("read report: %w", err)
	}
	r.Relevel(r.RoleLevels)
	return r, nil
}

// statusFromMessages gives the findings of a format 1 report on a user's
// status that status, which format 1 kept only in the message ("INACTIVE
// user holds …"), as a report made now records it.
func statusFromMessages(fs []Finding) {
	for i, f := range fs {
		word, _, _ := strings.Cut(f.Message, " ")
		switch {
		case f.Kind != FindingUserStatus || f.Status != "":
		case word == astroapi.UserInactive || word == astroapi.UserBanned || word == astroapi.UserPending:
			fs[i].Status = word
		}
	}
}

// check refuses what report -o json never writes and a diff would take
// for data: a generated_at that is not a time, a deployment without an id,
// a cell without its principal or a grant without its role (a null, or a
// hand edit).
func (r Report) check() error {
	if r.GeneratedAt != "" {
		if _, err := time.Parse(time.RFC3339, r.GeneratedAt); err != nil {
			return fmt.Errorf("generated_at %q is not a time (RFC 3339)", r.GeneratedAt)
		}
	}
	for i, d := range r.Deployments {
		if d.ID == "" {
			return fmt.Errorf("deployment %d has no id", i+1)
		}
		for j, e := range d.Access {
			if e.Principal.Kind == "" || e.Principal.ID == "" {
				return fmt.Errorf("deployment %s: access entry %d has no principal kind or id", d.ID, j+1)
			}
			for k, g := range e.Grants {
				if g.Role == "" {
					return fmt.Errorf("deployment %s: principal %s: grant %d has no role", d.ID, e.Principal.ID, k+1)
				}
			}
		}
	}
	return nil
}

// decode decodes the JSON value data holds into v, and refuses anything
// after it; an error says where it is.
func decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("read report: %s%w", position(data, err), err)
	}
	if dec.More() {
		off := dec.InputOffset()
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		return fmt.Errorf("read report: line %d: data after the report (one report per file)", line)
	}
	return nil
}

// position is "line L, column C: " of a JSON syntax or type error, from
// its byte offset, or "" for another error.
func position(data []byte, err error) string {
	var offset int64
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	default:
		return ""
	}
	// The offset is just past the byte at fault (the end of a value of
	// the wrong type).
	before := data[:max(0, min(int(offset)-1, len(data)))]
	line := 1 + bytes.Count(before, []byte("\n"))
	col := len(before) - bytes.LastIndexByte(before, '\n') // 1-based: LastIndexByte is -1 on line 1
	return fmt.Sprintf("line %d, column %d: ", line, col)
}

// Diff is what changed from before to now: every cell gained, lost or
// whose grants differ, sorted by deployment and principal.
func Diff(before, now Report) *Since {
	type cell struct {
		dep DeploymentRef
		e   Entry
	}
	index := func(r Report) map[cellKey]cell {
		m := map[cellKey]cell{}
		for _, d := range r.Deployments {
			ref := DeploymentRef{ID: d.ID, Name: d.Name, Workspace: d.Workspace}
			for _, e := range d.Access {
				m[cellKey{d.ID, e.Principal.Kind, e.Principal.ID}] = cell{ref, e}
			}
		}
		return m
	}
	was, is := index(before), index(now)
	s := &Since{GeneratedAt: before.GeneratedAt, Changes: []Change{}}
	for k, c := range is {
		old, ok := was[k]
		switch {
		case !ok:
			s.Changes = append(s.Changes, Change{Change: Gained, Deployment: c.dep, Principal: c.e.Principal, Before: []Grant{}, After: c.e.Grants})
		case !slices.EqualFunc(old.e.Grants, c.e.Grants, sameGrant):
			s.Changes = append(s.Changes, Change{Change: Changed, Deployment: c.dep, Principal: c.e.Principal, Before: nonNil(old.e.Grants), After: c.e.Grants})
		}
	}
	for k, c := range was {
		if _, ok := is[k]; !ok {
			s.Changes = append(s.Changes, Change{Change: Lost, Deployment: c.dep, Principal: c.e.Principal, Before: nonNil(c.e.Grants), After: []Grant{}})
		}
	}
	slices.SortFunc(s.Changes, func(a, b Change) int {
		return cmp.Or(strings.Compare(a.Deployment.Workspace, b.Deployment.Workspace), strings.Compare(a.Deployment.Name, b.Deployment.Name),
			strings.Compare(a.Deployment.ID, b.Deployment.ID), compareRef(a.Principal, b.Principal))
	})
	return s
}

// nonNil keeps a list read from a hand-edited report a list in JSON.
func nonNil(gs []Grant) []Grant {
	if gs == nil {
		return []Grant{}
	}
	return gs
}
