package access

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/sync"
)

// The categories of finding.
const (
	CategoryToken  = "token"
	CategoryUser   = "user"
	CategoryGrant  = "grant"
	CategoryPolicy = "policy"
)

// The kinds of finding the report computes; a policy violation is of kind
// FindingPolicy.
const (
	FindingExpired     = "token-expired"       // endAt <= now
	FindingExpiring    = "token-expiring"      // now < endAt <= now+expiring
	FindingNoExpiry    = "token-no-expiry"     // no endAt
	FindingNeverUsed   = "token-never-used"    // no lastUsedAt
	FindingUnused      = "token-unused"        // lastUsedAt < now-unused
	FindingNeverRotate = "token-never-rotated" // no lastRotatedAt, createdAt < now-rotated
	FindingNotRotated  = "token-not-rotated"   // lastRotatedAt < now-rotated
	FindingUserStatus  = "user-status"         // an INACTIVE, BANNED or PENDING user holds a role
	FindingRedundant   = "redundant-grant"     // a direct deployment role no stronger than another way in
	FindingPolicy      = "policy-violation"    // a policy rule's condition holds (computed by the caller)
)

// The severities of finding, highest first.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
	SeverityLow    = "low"
)

var severityRank = map[string]int{SeverityHigh: 0, SeverityMedium: 1, SeverityLow: 2}

// Finding is one thing an access review should look at: a token's
// hygiene, a user's status, a grant that has no effect, or a policy
// violation computed elsewhere and added with Report.AddFindings.
type Finding struct {
	// Kind is what was found (FindingExpired, …, FindingPolicy).
	Kind string `json:"kind"`
	// Category groups kinds: token, user, grant or policy.
	Category string `json:"category"`
	// Severity is high, medium, low or "" (not rated).
	Severity string `json:"severity,omitempty"`
	// Principal is who the finding is about.
	Principal Ref `json:"principal"`
	// Status is the principal's status when it is a user (ACTIVE,
	// INACTIVE, PENDING, BANNED), as a cell gives it, or "".
	Status string `json:"status,omitempty"`
	// Deployment is the deployment it is about, nil when it is about the
	// principal as a whole.
	Deployment *DeploymentRef `json:"deployment,omitempty"`
	// Scope names a scope that is not a deployment (a policy violation on
	// a workspace: "workspace data-platform"), "" otherwise.
	Scope string `json:"scope,omitempty"`
	// Role is the role the finding is about (a redundant grant's), or "".
	Role string `json:"role,omitempty"`
	// Message says what was found, for a reader.
	Message string `json:"message"`
	// Rule is the policy rule's name (policy violations).
	Rule string `json:"rule,omitempty"`
	// Source is where the violating grant or rule is written, as
	// file:line (policy violations), or "".
	Source string `json:"source,omitempty"`
	// New says the finding was not in the report of --since (false
	// without --since).
	New bool `json:"new,omitempty"`
}

// HasPrincipal says the finding is about a principal: every finding but a
// violation of a policy rule over a scope.
func (f Finding) HasPrincipal() bool { return f.Principal != (Ref{}) }

// Key identifies a finding across reports: its kind, principal,
// deployment, scope, role and rule (not its message, severity or source,
// which may change while it stays the same finding).
func (f Finding) Key() string {
	dep := ""
	if f.Deployment != nil {
		dep = f.Deployment.ID
	}
	return strings.Join([]string{f.Kind, f.Principal.Kind, f.Principal.ID, dep, f.Scope, f.Role, f.Rule}, "\x1f")
}

// Review are the thresholds of the findings on tokens, and the time they
// are measured from.
type Review struct {
	// Now is the time of the review.
	Now time.Time `json:"now"`
	// Expiring: a token ending within it is expiring.
	Expiring Duration `json:"expiring"`
	// Unused: a token last used longer ago is unused.
	Unused Duration `json:"unused"`
	// Rotated: a token last rotated (or, never rotated, created) longer
	// ago is not rotated.
	Rotated Duration `json:"rotated"`
}

// DefaultReview are the thresholds without flags: expiring within 30
// days, unused for 90, not rotated for 180.
func DefaultReview(now time.Time) Review {
	return Review{Now: now, Expiring: Duration(30 * day), Unused: Duration(90 * day), Rotated: Duration(180 * day)}
}

const day = 24 * time.Hour

// Duration is a length of time written as Nd (days) or as a Go duration
// (36h, 90m).
type Duration time.Duration

// ParseDuration reads Nd (whole days) or a Go duration; a negative one is
// an error.
func ParseDuration(s string) (Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" {
		days, err := strconv.Atoi(n)
		if err != nil || days > 100000 {
			return 0, fmt.Errorf("%q: want a number of days (30d) or a duration (36h)", s)
		}
		d = time.Duration(days) * day
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: want a number of days (30d) or a duration (36h)", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: must not be negative", s)
	}
	return Duration(d), nil
}

// String is d as Nd when it is whole days, else as a Go duration.
func (d Duration) String() string {
	if td := time.Duration(d); td%day == 0 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	return time.Duration(d).String()
}

// MarshalText writes d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads d as ParseDuration does.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = v
	return err
}

// AddFindings adds findings computed elsewhere (policy violations, of
// category CategoryPolicy and kind FindingPolicy, with Rule and Source) to
// the report, keeping its findings in order. Call it before Filter.Apply,
// which narrows findings too, and before DiffFindings, so that --since
// marks the new ones and --fail-on violations sees them.
func (r *Report) AddFindings(fs ...Finding) {
	r.Findings = append(r.Findings, fs...)
	sortFindings(r.Findings)
}

// sortFindings sorts fs, stably, most severe first: by severity,
// category, kind, principal, deployment, scope, role and rule. Each
// finding's ranks and deployment are worked out once, not at every
// comparison.
func sortFindings(fs []Finding) {
	keys := make([]findingKey, len(fs))
	for i := range fs {
		keys[i] = findingKey{f: &fs[i], sev: severityOf(fs[i].Severity), cat: categoryRank[fs[i].Category], dep: depName(fs[i])}
	}
	slices.SortStableFunc(keys, compareFindingKey)
	sorted := make([]Finding, len(fs))
	for i, k := range keys {
		sorted[i] = *k.f
	}
	copy(fs, sorted)
}

// findingKey is a finding and what it is sorted by besides its fields.
type findingKey struct {
	f        *Finding
	sev, cat int
	dep      string
}

var categoryRank = map[string]int{CategoryPolicy: 0, CategoryToken: 1, CategoryUser: 2, CategoryGrant: 3}

func severityOf(s string) int {
	if r, ok := severityRank[s]; ok {
		return r
	}
	return len(severityRank)
}

func depName(f Finding) string {
	if f.Deployment == nil {
		return ""
	}
	return f.Deployment.Workspace + "/" + f.Deployment.Name + "/" + f.Deployment.ID
}

func compareFindingKey(x, y findingKey) int {
	a, b := x.f, y.f
	return cmp.Or(cmp.Compare(x.sev, y.sev), cmp.Compare(x.cat, y.cat),
		strings.Compare(a.Kind, b.Kind), compareRef(a.Principal, b.Principal), strings.Compare(x.dep, y.dep),
		strings.Compare(a.Scope, b.Scope), strings.Compare(a.Role, b.Role), strings.Compare(a.Rule, b.Rule))
}

// findings are the findings of a report computed from in: tokens, users
// and redundant grants (of r's cells).
func findings(in Input, r Report) []Finding {
	out := []Finding{}
	rv := *in.Review
	viaTeams := teamRoles(in.Observed.Subjects, in.Members)
	for _, s := range in.Observed.Subjects {
		switch {
		case s.Kind == sync.KindUser:
			out = append(out, userFindings(s, viaTeams[s.ID])...)
		case isToken(s.Kind):
			out = append(out, tokenFindings(rv, principal(s), s.Hygiene)...)
		}
	}
	out = append(out, redundantGrants(r)...)
	sortFindings(out)
	return out
}

func isToken(k sync.Kind) bool {
	return k == sync.KindWorkspaceToken || k == sync.KindOrganizationToken || k == sync.KindDeploymentToken
}

// tokenFindings are a token's findings. The boundaries: a token whose
// endAt is now or earlier is expired; one whose endAt is after now and at
// most now+Expiring is expiring (ending exactly at now+Expiring is
// expiring). A token last used (or rotated) strictly before now-Unused
// (now-Rotated) is unused (not rotated): used exactly at now-Unused is
// not. A token never rotated is measured from its createdAt the same way;
// one without either is never rotated.
func tokenFindings(rv Review, p Ref, h sync.Hygiene) []Finding {
	var out []Finding
	add := func(kind, sev, msg string, args ...any) {
		out = append(out, Finding{Kind: kind, Category: CategoryToken, Severity: sev, Principal: p, Message: fmt.Sprintf(msg, args...)})
	}
	now := rv.Now
	switch {
	case h.ExpiresAt.IsZero():
		add(FindingNoExpiry, SeverityLow, "never expires")
	case !h.ExpiresAt.After(now):
		add(FindingExpired, SeverityHigh, "expired %s (%s)", date(h.ExpiresAt), ago(now.Sub(h.ExpiresAt)))
	case !h.ExpiresAt.After(now.Add(time.Duration(rv.Expiring))):
		add(FindingExpiring, SeverityMedium, "expires %s (in %s; within %s)", date(h.ExpiresAt), span(h.ExpiresAt.Sub(now)), rv.Expiring)
	}
	unusedSince := now.Add(-time.Duration(rv.Unused))
	switch {
	case h.LastUsedAt.IsZero():
		add(FindingNeverUsed, SeverityMedium, "never used")
	case h.LastUsedAt.Before(unusedSince):
		add(FindingUnused, SeverityMedium, "last used %s (%s; more than %s)", date(h.LastUsedAt), ago(now.Sub(h.LastUsedAt)), rv.Unused)
	}
	rotatedSince := now.Add(-time.Duration(rv.Rotated))
	switch {
	case !h.LastRotatedAt.IsZero():
		if h.LastRotatedAt.Before(rotatedSince) {
			add(FindingNotRotated, SeverityLow, "last rotated %s (%s; more than %s)", date(h.LastRotatedAt), ago(now.Sub(h.LastRotatedAt)), rv.Rotated)
		}
	case h.CreatedAt.IsZero():
		add(FindingNeverRotate, SeverityLow, "never rotated (created at an unknown time)")
	case h.CreatedAt.Before(rotatedSince):
		add(FindingNeverRotate, SeverityLow, "never rotated since created %s (%s; more than %s)", date(h.CreatedAt), ago(now.Sub(h.CreatedAt)), rv.Rotated)
	}
	return out
}

func date(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// span is d in whole days when at least one, else as a duration.
func span(d time.Duration) string {
	if d >= day {
		return Duration(d.Truncate(day)).String()
	}
	return d.Truncate(time.Second).String()
}

func ago(d time.Duration) string { return span(d) + " ago" }

// inactiveStatus are the user statuses under which a role is a finding.
var inactiveStatus = map[string]bool{astroapi.UserInactive: true, astroapi.UserBanned: true, astroapi.UserPending: true}

// teamRoles are the roles each user holds through its teams, by user id,
// as userFindings names them: none unless the members are known
// (--expand-teams).
func teamRoles(subjects []sync.Subject, members map[string][]astroapi.TeamMember) map[string][]string {
	if members == nil {
		return nil
	}
	out := make(map[string][]string)
	for _, t := range subjects {
		if t.Kind != sync.KindTeam {
			continue
		}
		for _, m := range members[t.ID] {
			for _, g := range t.Grants {
				out[m.UserID] = append(out[m.UserID], fmt.Sprintf("%s (%s, via team %s)", g.Role, g.Scope.Level, t.Name))
			}
		}
	}
	return out
}

// userFindings is a finding when an INACTIVE, BANNED or PENDING user holds
// any role, on any level: its own, or one of viaTeams, the roles of its
// teams.
func userFindings(s sync.Subject, viaTeams []string) []Finding {
	if !inactiveStatus[s.Status] || len(s.Grants)+len(viaTeams) == 0 {
		return nil
	}
	roles := make([]string, 0, len(s.Grants)+len(viaTeams))
	for _, g := range s.Grants {
		roles = append(roles, g.Role+" ("+string(g.Scope.Level)+")")
	}
	roles = append(roles, viaTeams...)
	const shown = 5
	more := ""
	if len(roles) > shown {
		more = fmt.Sprintf(" and %d more", len(roles)-shown)
		roles = roles[:shown]
	}
	sev := SeverityMedium
	if s.Status == astroapi.UserBanned {
		sev = SeverityHigh
	}
	return []Finding{{Kind: FindingUserStatus, Category: CategoryUser, Severity: sev, Principal: principal(s), Status: s.Status,
		Message: fmt.Sprintf("%s user holds %d role(s): %s%s", s.Status, len(s.Grants)+len(viaTeams), strings.Join(roles, ", "), more)}}
}

// redundantGrants are the direct deployment roles (not via a team) that
// are no stronger than another grant of the same cell: a workspace or
// organization role, or a team's role (--expand-teams). Both levels must
// be rated: a custom role without a level is never compared.
func redundantGrants(r Report) []Finding {
	var out []Finding
	for _, d := range r.Deployments {
		ref := &DeploymentRef{ID: d.ID, Name: d.Name, Workspace: d.Workspace}
		for _, e := range d.Access {
			for _, g := range e.Grants {
				if g.Source != FromDeployment || g.Via != nil || !rated(g.Level) {
					continue
				}
				cover, ok := strongestOther(e.Grants, g)
				if !ok {
					continue
				}
				out = append(out, Finding{Kind: FindingRedundant, Category: CategoryGrant, Severity: SeverityLow, Principal: e.Principal,
					Status: e.Status, Deployment: ref, Role: g.Role,
					Message: fmt.Sprintf("%s (%s) has no effect: %s already gives %s", g.Role, g.Level, cover.String(), cover.Level)})
			}
		}
	}
	return out
}

// strongestOther is the strongest grant of gs, other than direct
// deployment ones, that is rated and at least as strong as g.
func strongestOther(gs []Grant, g Grant) (Grant, bool) {
	var best Grant
	found := false
	for _, o := range gs {
		if (o.Source == FromDeployment && o.Via == nil) || o.OnDAG() || !rated(o.Level) || o.Level.Rank() < g.Level.Rank() {
			continue
		}
		if !found || o.Level.Rank() > best.Level.Rank() {
			best, found = o, true
		}
	}
	return best, found
}

// rated says l is a level grants can be compared by: view, author,
// operate or admin.
func rated(l Level) bool { return rateable(l) }

// refreshRedundant computes the redundant grants again (after the levels
// changed), keeping the other findings.
func (r *Report) refreshRedundant() {
	if r.Review == nil {
		return
	}
	kept := slices.DeleteFunc(r.Findings, func(f Finding) bool { return f.Kind == FindingRedundant })
	r.Findings = append(kept, redundantGrants(*r)...)
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	sortFindings(r.Findings)
}

// DiffFindings marks the findings of now that before did not have (by
// Key) as New, and says how many.
func DiffFindings(before, now *Report) int {
	was := map[string]bool{}
	for _, f := range before.Findings {
		was[f.Key()] = true
	}
	n := 0
	for i := range now.Findings {
		now.Findings[i].New = !was[now.Findings[i].Key()]
		if now.Findings[i].New {
			n++
		}
	}
	return n
}
