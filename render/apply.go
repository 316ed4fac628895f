package render

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/sync"
)

// Progress reports apply progress as done/total, the failures so far,
// the rate and the time left. On a terminal (live) it keeps one line up to
// date; otherwise it prints a line when another tenth of the subjects, and
// at least ProgressStep of them, is done, or when ProgressInterval has
// passed since the last line, and the last count: never a line per
// subject, however small the plan (a plan of 7 prints one line). The final
// report names every failure.
// Done is called once per finished subject, never concurrently
// (sync.ApplyOptions.Progress).
type Progress struct {
	w       io.Writer
	live    bool
	total   int
	n       int
	failed  int
	now     func() time.Time
	start   time.Time
	printed int       // n of the last line printed
	at      time.Time // when the last line was printed
}

// ProgressInterval is the longest time between two lines of progress off a
// terminal while subjects finish.
const ProgressInterval = 5 * time.Second

// ProgressStep is the fewest subjects between two lines of progress off a
// terminal, so that a small plan does not print a line per subject.
const ProgressStep = 10

// NewProgress returns the progress of an apply of total subjects on w; live
// says w is a terminal that takes carriage returns and escape sequences
// (not TERM=dumb), where one line is kept up to date.
func NewProgress(w io.Writer, live bool, total int) *Progress {
	return NewProgressClock(w, live, total, time.Now)
}

// NewProgressClock is NewProgress with the clock now, for tests.
func NewProgressClock(w io.Writer, live bool, total int, now func() time.Time) *Progress {
	t := now()
	return &Progress{w: w, live: live, total: total, now: now, start: t, at: t}
}

// Done reports one finished subject.
func (p *Progress) Done(r sync.SubjectResult) {
	p.n++
	if r.Err != nil {
		p.failed++
	}
	t := p.now()
	switch {
	case p.live:
		fmt.Fprintf(p.w, "\rApplying: %s\x1b[K", p.status(t))
	case p.n == p.total || p.n/p.step() > p.printed/p.step() || t.Sub(p.at) >= ProgressInterval:
		p.line(t)
	}
}

// step is how many subjects apart the lines off a terminal are: a tenth
// of them, at least ProgressStep.
func (p *Progress) step() int {
	return max((p.total+9)/10, ProgressStep)
}

// line prints the status off a terminal.
func (p *Progress) line(t time.Time) {
	fmt.Fprintf(p.w, "Applying: %s\n", p.status(t))
	p.printed, p.at = p.n, t
}

// status reads like "12/40 (30%), 1 failed, 4.0/s, 7s left".
func (p *Progress) status(t time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d (%d%%)", p.n, p.total, p.n*100/max(p.total, 1))
	if p.failed > 0 {
		fmt.Fprintf(&b, ", %d failed", p.failed)
	}
	elapsed := t.Sub(p.start)
	if elapsed <= 0 || p.n == 0 {
		return b.String()
	}
	rate := float64(p.n) / elapsed.Seconds()
	fmt.Fprintf(&b, ", %.1f/s", rate)
	if left := p.total - p.n; left > 0 {
		eta := time.Duration(float64(left) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", %s left", eta.Round(time.Second))
	}
	return b.String()
}

// Finish ends the live line; off a terminal it prints the last count if
// the last line did not (an interrupted apply).
func (p *Progress) Finish() {
	switch {
	case p.live && p.n > 0:
		fmt.Fprintln(p.w)
	case !p.live && p.n > p.printed:
		p.line(p.now())
	}
}

// Stale lists the subjects changed since a saved plan, on w.
func Stale(w io.Writer, stale []sync.SubjectRef) {
	for _, s := range stale {
		fmt.Fprintf(w, "  changed since the plan: %s\n", SubjectLabel(s))
	}
}

// MaxListed is the most subjects not started that ApplyText names one by
// one; above it, it gives their count (apply -o json lists them all).
const MaxListed = 20

// ApplyText writes the outcome of an apply as text: the summary line on
// out; failures (with the API's message and request id), subjects not
// started, notes and the verification on log.
func ApplyText(out, log io.Writer, o sync.Outcome) error {
	bw := bufio.NewWriter(log)
	for _, r := range o.Failed {
		fmt.Fprintf(bw, "  failed: %s: %s\n", SubjectLabel(r.Subject), Safe(r.Err.Error()))
	}
	if len(o.NotStarted) > MaxListed {
		fmt.Fprintf(bw, "  not started: %d principal(s) (see apply -o json)\n", len(o.NotStarted))
	} else {
		for _, r := range o.NotStarted {
			fmt.Fprintf(bw, "  not started: %s\n", SubjectLabel(r.Subject))
		}
	}
	for _, r := range o.Written {
		if r.Deleted {
			fmt.Fprintf(bw, "  note: %s was deleted since the plan, which only took roles from it: nothing to write\n", SubjectLabel(r.Subject))
		} else if r.ChangedSincePlan {
			fmt.Fprintf(bw, "  note: %s had changed since the plan; its new roles were computed from a fresh read\n", SubjectLabel(r.Subject))
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	add, change, remove := o.Summary()
	var err error
	if o.Complete() {
		_, err = fmt.Fprintf(out, "Apply complete: %d added, %d changed, %d removed.\n", add, change, remove)
	} else {
		_, err = fmt.Fprintf(out, "Apply incomplete: %d added, %d changed, %d removed; %d principal(s) failed, %d not started.\n",
			add, change, remove, len(o.Failed), len(o.NotStarted))
	}
	if err != nil {
		return err
	}
	return verificationText(log, o)
}

func verificationText(w io.Writer, o sync.Outcome) error {
	bw := bufio.NewWriter(w)
	if o.VerifyErr != nil {
		fmt.Fprintf(bw, "warning: %s\n", Safe(o.VerifyErr.Error()))
	}
	if v := o.Verification; v != nil {
		for _, s := range v.ChangedByOthers {
			fmt.Fprintf(bw, "warning: %s was changed by someone else during the run\n", SubjectLabel(s))
		}
		if v.Converged {
			fmt.Fprintln(bw, "Verified: converged.")
		} else {
			fmt.Fprintf(bw, "Verification: %d managed assignment(s) are not as the spec says:\n", len(v.Remaining))
			for _, c := range v.Remaining {
				fmt.Fprintf(bw, "  %s on %s: want %s, have %s\n", SubjectLabel(c.Subject), ScopeTitle(c.Scope), Safe(strconv.Quote(c.After)), Safe(strconv.Quote(c.Before)))
			}
		}
	}
	return bw.Flush()
}

// ApplyFormatVersion is the version of the JSON apply result document.
const ApplyFormatVersion = "2"

// ApplyDocument is the JSON result of an apply (apply -o json), described
// by apply.schema.json.
type ApplyDocument struct {
	FormatVersion string                 `json:"format_version"`
	ToolVersion   string                 `json:"tokensync_version"`
	Organization  string                 `json:"organization"`
	Complete      bool                   `json:"complete"`
	Summary       planfile.Summary       `json:"summary"`
	Writes        []WriteJSON            `json:"writes"`
	Failed        []WriteJSON            `json:"failed"`
	NotStarted    []planfile.SubjectJSON `json:"not_started"`
	Stale         []planfile.SubjectJSON `json:"stale"`
	Verification  *VerifyJSON            `json:"verification"`
	Refused       bool                   `json:"refused"`
}

// WriteJSON is one subject apply wrote (or tried to).
type WriteJSON struct {
	Subject      planfile.SubjectJSON  `json:"subject"`
	Changes      []planfile.ChangeJSON `json:"changes"`
	Before       []GrantJSON           `json:"before"`
	After        []GrantJSON           `json:"after"`
	Status       string                `json:"status"` // written, unchanged, failed
	Error        string                `json:"error,omitempty"`
	StatusCode   int                   `json:"status_code,omitempty"`
	RequestID    string                `json:"request_id,omitempty"`
	DurationMS   float64               `json:"duration_ms"`
	ChangedSince bool                  `json:"changed_since_plan"`
}

// GrantJSON is one role of a subject, on any level: the scope's level
// and id (the organization's is ""), a DAG's or tag's deployment, and the
// role.
type GrantJSON struct {
	Level        string `json:"level"`
	ID           string `json:"id"`
	DeploymentID string `json:"deployment_id,omitempty"`
	Role         string `json:"role"`
}

// VerifyJSON is the verification after apply.
type VerifyJSON struct {
	Converged       bool                   `json:"converged"`
	Remaining       []planfile.ChangeJSON  `json:"remaining"`
	ChangedByOthers []planfile.SubjectJSON `json:"changed_by_others"`
	Error           string                 `json:"error,omitempty"`
}

// NewApplyDocument builds the JSON result of an apply.
func NewApplyDocument(o sync.Outcome, org, toolVersion string) ApplyDocument {
	add, change, remove := o.Summary()
	d := ApplyDocument{
		FormatVersion: ApplyFormatVersion,
		ToolVersion:   toolVersion,
		Organization:  org,
		Complete:      o.Complete(),
		Summary:       planfile.Summary{Add: add, Change: change, Remove: remove},
		Writes:        writesJSON(o.Written),
		Failed:        writesJSON(o.Failed),
		NotStarted:    subjectsJSON(o.NotStarted),
		Stale:         subjectsJSON(o.Stale),
		Refused:       o.Refused,
	}
	if o.Verification != nil || o.VerifyErr != nil {
		v := &VerifyJSON{Remaining: []planfile.ChangeJSON{}, ChangedByOthers: []planfile.SubjectJSON{}}
		if o.VerifyErr != nil {
			v.Error = o.VerifyErr.Error()
		} else {
			v.Converged = o.Verification.Converged
			v.Remaining = planfile.ChangesJSON(o.Verification.Remaining)
			for _, s := range o.Verification.ChangedByOthers {
				v.ChangedByOthers = append(v.ChangedByOthers, subjectJSON(s))
			}
		}
		d.Verification = v
	}
	return d
}

// ApplyJSON writes the JSON result of an apply, indented, followed by a
// newline, by the one rule of encodeJSON.
func ApplyJSON(w io.Writer, o sync.Outcome, org, toolVersion string) error {
	return encodeJSON(w, NewApplyDocument(o, org, toolVersion), true)
}

func subjectJSON(s sync.SubjectRef) planfile.SubjectJSON {
	return planfile.SubjectJSON{Kind: string(s.Kind), ID: s.ID, Name: s.Name}
}

func subjectsJSON(rs []sync.SubjectResult) []planfile.SubjectJSON {
	out := []planfile.SubjectJSON{}
	for _, r := range rs {
		out = append(out, subjectJSON(r.Subject))
	}
	return out
}

func rolesJSON(gs []sync.Grant) []GrantJSON {
	out := make([]GrantJSON, 0, len(gs))
	for _, g := range gs {
		out = append(out, GrantJSON{Level: string(g.Scope.Level), ID: g.Scope.ID, DeploymentID: g.Scope.Deployment, Role: g.Role})
	}
	return out
}

func writesJSON(rs []sync.SubjectResult) []WriteJSON {
	out := []WriteJSON{}
	for _, r := range rs {
		out = append(out, writeJSON(r))
	}
	return out
}

// writeJSON is what apply did to one subject.
func writeJSON(r sync.SubjectResult) WriteJSON {
	w := WriteJSON{
		Subject:      subjectJSON(r.Subject),
		Changes:      planfile.ChangesJSON(r.Changes),
		Before:       rolesJSON(r.Before),
		After:        rolesJSON(r.After),
		Status:       "unchanged",
		DurationMS:   float64(r.Duration) / float64(time.Millisecond),
		ChangedSince: r.ChangedSincePlan,
	}
	switch {
	case r.Err != nil:
		w.Status, w.Error = "failed", r.Err.Error()
		var apiErr *astroapi.Error
		if errors.As(r.Err, &apiErr) {
			w.StatusCode, w.RequestID = apiErr.StatusCode, apiErr.RequestID
		}
	case r.Wrote:
		w.Status = "written"
	}
	return w
}

// AuditFormatVersion is the version of a line of apply --audit-log.
const AuditFormatVersion = "2"

// AuditLine is one line of apply --audit-log: what apply did to one
// subject, as a write of the apply result document (WriteJSON), with the
// time it finished and the organization. apply.schema.json describes it
// ($defs/auditLine).
type AuditLine struct {
	FormatVersion string `json:"audit_version"`
	Time          string `json:"time"`
	Organization  string `json:"organization"`
	WriteJSON
}

// AuditLog appends a line per finished subject to w: pass its Done as (or
// from) sync.ApplyOptions.Progress, whose calls are serialised. Each line
// is one Write, so lines of concurrent runs appending to the same file do
// not interleave.
type AuditLog struct {
	w   io.Writer
	org string
	now func() time.Time
	err error
}

// NewAuditLog returns the audit log of an apply in organization org on w;
// now stamps each line (time.Now when nil).
func NewAuditLog(w io.Writer, org string, now func() time.Time) *AuditLog {
	if now == nil {
		now = time.Now
	}
	return &AuditLog{w: w, org: org, now: now}
}

// Done writes the line of one finished subject. After a failed write it
// writes nothing more: Err says why.
func (l *AuditLog) Done(r sync.SubjectResult) {
	if l.err != nil {
		return
	}
	line := AuditLine{
		FormatVersion: AuditFormatVersion,
		Time:          l.now().UTC().Format(time.RFC3339Nano),
		Organization:  l.org,
		WriteJSON:     writeJSON(r),
	}
	if err := encodeJSON(l.w, line, false); err != nil {
		l.err = fmt.Errorf("write the audit log: %w", err)
	}
}

// Err is the first error writing the log, if any.
func (l *AuditLog) Err() error { return l.err }

//go:embed apply.schema.json
var applySchema []byte

// ApplySchema returns the JSON Schema of the apply result document; its
// $defs/auditLine describes a line of apply --audit-log.
func ApplySchema() []byte { return applySchema }
