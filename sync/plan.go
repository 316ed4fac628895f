package sync

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

// The names of the guards, in the order Compute reports them.
const (
	GuardMaxRemovals = "max-removals"
	GuardAllowEmpty  = "allow-empty"
	GuardProtect     = "protect"
)

// The reasons Compute gives for removals and unmanaged assignments.
const (
	ReasonAbsent          = "state: absent"
	ReasonPrune           = "not in spec (prune)"
	ReasonNotInSpec       = "not in spec; prune is off"
	ReasonDeploymentToken = "deployment API token: not managed"
)

// Key is the identity of one assignment: a token's role on a deployment.
type Key struct {
	Deployment string // deployment id
	Token      string // token id
}

// Key returns the identity of the assignment c is about.
func (c Change) Key() Key { return Key{Deployment: c.Deployment.ID, Token: c.Token.ID} }

// Refused reports whether any guard of p refused the plan.
func (p Plan) Refused() bool {
	for _, g := range p.Guards {
		if !g.OK {
			return true
		}
	}
	return false
}

// Summary counts the changes of p by action: adds, updates and removals.
func (p Plan) Summary() (add, change, remove int) {
	return count(p.Changes)
}

func count(changes []Change) (add, change, remove int) {
	for _, c := range changes {
		switch c.Action {
		case Add:
			add++
		case Update:
			change++
		case Remove:
			remove++
		}
	}
	return add, change, remove
}

// Fingerprint is the sha256 hex digest of a token's role list in canonical
// (sorted) order, so that a reordered list has the same fingerprint and any
// other difference a different one. A nil and an empty list are the same.
func Fingerprint(roles []astroapi.Role) string {
	c := slices.Clone(roles)
	slices.SortFunc(c, compareRole)
	var b []byte
	for _, r := range c {
		b = strconv.AppendQuote(b, r.EntityType)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, r.EntityID)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, r.Role)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, r.DeploymentID)
		b = append(b, '\n')
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func compareRole(a, b astroapi.Role) int {
	return cmp.Or(
		cmp.Compare(a.EntityType, b.EntityType),
		cmp.Compare(a.EntityID, b.EntityID),
		cmp.Compare(a.Role, b.Role),
		cmp.Compare(a.DeploymentID, b.DeploymentID),
	)
}

// sameRole compares role names the way the API does: case-insensitively.
// Built-in names are upper case; custom role names are the API's spelling.
func sameRole(a, b string) bool { return strings.EqualFold(a, b) }

// matchGlob returns the first pattern that matches name or id.
func matchGlob(patterns []string, name, id string) (string, bool) {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok && name != "" {
			return p, true
		}
		if ok, _ := path.Match(p, id); ok && id != "" {
			return p, true
		}
	}
	return "", false
}

// compareChange orders changes by deployment name, deployment id, token
// name, token id.
func compareChange(a, b Change) int {
	if c := strings.Compare(a.Deployment.Name, b.Deployment.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Deployment.ID, b.Deployment.ID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Token.Name, b.Token.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Token.ID, b.Token.ID)
}

type desiredEntry struct {
	token  TokenRef
	role   string
	absent bool
	source spec.Pos
}

// Compute decides, for every assignment on a managed deployment, what apply
// must do; see the package documentation for the decision table. It does
// no I/O and does not modify d or obs; equal inputs give equal plans, in
// the same order, whatever the order of the input slices.
func Compute(d Desired, obs *Observed, opts Options) Plan {
	if obs == nil {
		obs = &Observed{}
	}
	tokens := make(map[string]*astroapi.Token, len(obs.Tokens))
	for i := range obs.Tokens {
		t := &obs.Tokens[i]
		if _, dup := tokens[t.ID]; !dup {
			tokens[t.ID] = t
		}
	}
	depNames := make(map[string]string, len(obs.Deployments))
	for _, dep := range obs.Deployments {
		depNames[dep.ID] = dep.Name
	}

	managed := make(map[string]*ManagedDeployment, len(d.Deployments))
	n := 0
	for _, md := range d.Deployments {
		n += len(md.Assignments)
	}
	desired := make(map[Key]desiredEntry, n)
	for i := range d.Deployments {
		md := &d.Deployments[i]
		if _, dup := managed[md.ID]; dup {
			continue
		}
		managed[md.ID] = md
		for _, a := range md.Assignments {
			k := Key{Deployment: md.ID, Token: a.Token.ID}
			if _, dup := desired[k]; dup {
				continue
			}
			desired[k] = desiredEntry{token: a.Token, role: a.Role, absent: a.Absent, source: a.Source}
		}
	}

	// The observed assignments: DEPLOYMENT entries on managed deployments.
	// A token with several entries for one deployment counts with the first.
	observed := make(map[Key]string, n)
	for _, t := range tokens {
		for _, r := range t.Roles {
			if r.EntityType != astroapi.EntityDeployment || managed[r.EntityID] == nil {
				continue
			}
			k := Key{Deployment: r.EntityID, Token: t.ID}
			if _, seen := observed[k]; !seen {
				observed[k] = r.Role
			}
		}
	}

	keys := make([]Key, 0, len(desired)+len(observed))
	for k := range desired {
		keys = append(keys, k)
	}
	for k := range observed {
		if _, ok := desired[k]; !ok {
			keys = append(keys, k)
		}
	}

	p := Plan{Organization: obs.Organization}
	// remaining counts, per deployment, the workspace and organization
	// tokens that hold a role on it after apply; pruned the deployments
	// where prune removes an assignment.
	remaining := make(map[string]int)
	pruned := make(map[string]bool)
	for _, k := range keys {
		md := managed[k.Deployment]
		dep := DeploymentRef{ID: md.ID, Name: md.Name}
		if dep.Name == "" {
			dep.Name = depNames[md.ID]
		}
		de, listed := desired[k]
		tok := de.token
		if t := tokens[k.Token]; t != nil {
			tok = TokenRef{ID: t.ID, Name: t.Name, Scope: t.Scope}
		}
		before, has := observed[k]
		c := Change{Deployment: dep, Token: tok, Before: before}
		var src *spec.Pos
		if listed {
			s := de.source
			src = &s
		}
		ignoredBy, ignored := matchGlob(d.IgnoreTokens, tok.Name, tok.ID)
		switch {
		case tok.Scope == astroapi.ScopeDeployment:
			if has {
				c.Action, c.After, c.Reason = Unmanaged, before, ReasonDeploymentToken
			}
		case ignored:
			if has {
				c.Action, c.After, c.Reason = Unmanaged, before, fmt.Sprintf("ignored (ignoreTokens %q)", ignoredBy)
			}
		case listed && !de.absent:
			switch {
			case !has:
				c.Action, c.After, c.Source = Add, de.role, src
			case !sameRole(before, de.role):
				c.Action, c.After, c.Source = Update, de.role, src
			}
		case listed:
			if has {
				c.Action, c.Reason, c.Source = Remove, ReasonAbsent, src
			}
		case has && (opts.Prune || md.Prune):
			c.Action, c.Reason = Remove, ReasonPrune
			pruned[md.ID] = true
		case has:
			c.Action, c.After, c.Reason = Unmanaged, before, ReasonNotInSpec
		}
		switch c.Action {
		case Add, Update, Remove:
			p.Changes = append(p.Changes, c)
		case Unmanaged:
			p.Unmanaged = append(p.Unmanaged, c)
		}
		holds := has // after apply
		switch c.Action {
		case Add, Update:
			holds = true
		case Remove:
			holds = false
		}
		if holds && tok.Scope != astroapi.ScopeDeployment {
			remaining[md.ID]++
		}
	}
	slices.SortFunc(p.Changes, compareChange)
	slices.SortFunc(p.Unmanaged, compareChange)

	if len(p.Changes) > 0 {
		p.Fingerprints = make(map[string]string)
		for _, c := range p.Changes {
			if _, done := p.Fingerprints[c.Token.ID]; done {
				continue
			}
			var roles []astroapi.Role
			if t := tokens[c.Token.ID]; t != nil {
				roles = t.Roles
			}
			p.Fingerprints[c.Token.ID] = Fingerprint(roles)
		}
	}

	p.Target = newTarget(d, opts.Prune)
	p.Guards = []Guard{
		maxRemovalsGuard(p.Changes, opts.MaxRemovals),
		allowEmptyGuard(p.Changes, managed, pruned, remaining),
		protectGuard(p.Changes, opts.Protect),
	}
	return p
}

// newTarget copies d in canonical order, as Compute reads it: the first
// entry of a deployment or of a token on a deployment counts.
func newTarget(d Desired, prune bool) *Target {
	t := &Target{Prune: prune, Desired: Desired{IgnoreTokens: slices.Clone(d.IgnoreTokens)}}
	seen := make(map[string]bool, len(d.Deployments))
	for _, md := range d.Deployments {
		if seen[md.ID] {
			continue
		}
		seen[md.ID] = true
		md.Assignments = slices.Clone(md.Assignments)
		slices.SortStableFunc(md.Assignments, func(a, b DesiredAssignment) int { return cmp.Compare(a.Token.ID, b.Token.ID) })
		md.Assignments = slices.CompactFunc(md.Assignments, func(a, b DesiredAssignment) bool { return a.Token.ID == b.Token.ID })
		t.Desired.Deployments = append(t.Desired.Deployments, md)
	}
	slices.SortFunc(t.Desired.Deployments, func(a, b ManagedDeployment) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return t
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func maxRemovalsGuard(changes []Change, limit int) Guard {
	_, _, n := count(changes)
	g := Guard{Name: GuardMaxRemovals, OK: true}
	switch {
	case limit < 0:
		g.Message = plural(n, "removal", "removals") + " (no limit)"
	case n <= limit:
		g.Message = fmt.Sprintf("%s (limit %d)", plural(n, "removal", "removals"), limit)
	default:
		g.OK = false
		g.Message = fmt.Sprintf("%s exceed the limit of %d (raise --max-removals, or -1 for no limit)",
			plural(n, "removal", "removals"), limit)
	}
	return g
}

func allowEmptyGuard(changes []Change, managed map[string]*ManagedDeployment, pruned map[string]bool, remaining map[string]int) Guard {
	var bad []string
	seen := make(map[string]bool)
	for _, c := range changes { // sorted, so the message is too
		id := c.Deployment.ID
		if seen[id] || !pruned[id] || managed[id].AllowEmpty || remaining[id] > 0 {
			continue
		}
		seen[id] = true
		bad = append(bad, fmt.Sprintf("prune would leave deployment %q without any workspace or organization token", c.Deployment.Name))
	}
	if len(bad) == 0 {
		return Guard{Name: GuardAllowEmpty, OK: true, Message: "prune empties no deployment"}
	}
	return Guard{Name: GuardAllowEmpty, Message: strings.Join(bad, "; ") + " (set allowEmpty: true on the deployment to allow it)"}
}

func protectGuard(changes []Change, protect []string) Guard {
	if len(protect) == 0 {
		return Guard{Name: GuardProtect, OK: true, Message: "no protected tokens"}
	}
	var bad []string
	for _, c := range changes {
		if c.Action == Add {
			continue
		}
		if _, ok := matchGlob(protect, c.Token.Name, c.Token.ID); !ok {
			continue
		}
		switch c.Action {
		case Remove:
			bad = append(bad, fmt.Sprintf("protected token %q would lose its role %s on deployment %q", c.Token.Name, c.Before, c.Deployment.Name))
		case Update:
			bad = append(bad, fmt.Sprintf("protected token %q would change its role on deployment %q from %s to %s", c.Token.Name, c.Deployment.Name, c.Before, c.After))
		}
	}
	if len(bad) == 0 {
		return Guard{Name: GuardProtect, OK: true, Message: "no protected token loses or changes a role"}
	}
	return Guard{Name: GuardProtect, Message: strings.Join(bad, "; ")}
}

// CheckSaved enforces the guards that apply's own flags set on a saved
// plan: max-removals and protect, against the saved changes. It returns
// only the guards that refuse; the saved plan's own guards still hold.
func CheckSaved(p Plan, opts Options) []Guard {
	var refused []Guard
	for _, g := range []Guard{maxRemovalsGuard(p.Changes, opts.MaxRemovals), protectGuard(p.Changes, opts.Protect)} {
		if !g.OK {
			refused = append(refused, g)
		}
	}
	return refused
}
