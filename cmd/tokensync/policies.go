package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/policy"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// The values of --policy-mode.
const (
	policyEnforce = "enforce"
	policyWarn    = "warn"
)

// checkPolicies checks the rules of sp against the access p would leave
// on obs (managed and unmanaged, teams expanded when a rule can see
// members) and attaches the violations and the policy guard to p. In warn
// mode the guard lets the plan through. Without rules it reads nothing and
// adds nothing.
func checkPolicies(ctx context.Context, sess *session, sp *spec.Spec, rules *policy.Set, mode string, obs *sync.Observed, p *sync.Plan) error {
	if rules == nil || len(rules.Rules) == 0 {
		return nil
	}
	after := p.After(obs.Subjects)
	w := policy.World{
		Organization: obs.Organization,
		Subjects:     after,
		Workspaces:   obs.Workspaces,
		Deployments:  obs.Deployments,
		Production:   sp.ProductionGlobs(),
		Sources:      sources(p.Target),
	}
	if rules.RatesRoles() {
		// role.access rates a custom role from its permissions, as the
		// report does: those of the roles held once the plan is applied.
		// A role that cannot be read fails the plan, as a team's members
		// do: a guard does not pass on what it could not see.
		perms, failed := customRolePermissions(ctx, sess, obs.CustomRoles, after, nil)
		if len(failed) > 0 {
			return fmt.Errorf("%w; the policies rate custom roles from their permissions", failed[0])
		}
		w.RolePermissions = perms
	}
	if rules.SeesMembers() {
		members, err := teamMembers(ctx, sess, obs.Subjects)
		if err != nil {
			return err
		}
		w.Members = memberIDs(members)
	}
	found := rules.Check(policy.Build(w), time.Now())
	p.Violations = make([]sync.Violation, len(found))
	for i, v := range found {
		p.Violations[i] = violation(v)
	}
	g := sync.Guard{Name: sync.GuardPolicy, OK: true, Message: fmt.Sprintf("%d rule(s) hold", len(rules.Rules))}
	switch {
	case len(found) > 0 && mode == policyWarn:
		g.Message = fmt.Sprintf("%d violation(s) of %d rule(s), reported only (--policy-mode warn)", len(found), len(rules.Rules))
	case len(found) > 0:
		g.OK = false
		g.Message = fmt.Sprintf("%d violation(s) of the policies (listed with the plan; --policy-mode warn reports them without refusing)", len(found))
	}
	p.Guards = append(p.Guards, g)
	return nil
}

// sources are the spec entries of a plan's target, by key: the file and
// line a violation of a listed grant names, and what files: rules match.
func sources(t *sync.Target) map[sync.Key]spec.Pos {
	out := map[sync.Key]spec.Pos{}
	if t == nil {
		return out
	}
	for _, m := range t.Desired.Scopes {
		for _, a := range m.Assignments {
			out[sync.Key{Scope: m.Key(), Subject: a.Subject.ID}] = a.Source
		}
	}
	return out
}

// memberIDs are the user ids of each team's members.
func memberIDs(members map[string][]astroapi.TeamMember) map[string][]string {
	out := make(map[string][]string, len(members))
	for team, ms := range members {
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.UserID
		}
		out[team] = ids
	}
	return out
}

// violation is v as the plan carries it.
func violation(v policy.Violation) sync.Violation {
	out := sync.Violation{Rule: v.Rule, Description: v.Description, Err: v.Err, Why: v.Why}
	if v.Scope != nil {
		k := v.Scope.Key()
		out.Scope = sync.ScopeRef{Level: k.Level, ID: v.Scope.ID, Name: v.Scope.Name}
		if k.Deployment != "" {
			out.Scope.Deployment = sync.DeploymentRef{ID: k.Deployment, Name: v.Scope.Deployment}
		}
	}
	if v.Subject != nil {
		out.Subject = &sync.SubjectRef{Kind: sync.Kind(v.Subject.Kind), ID: v.Subject.ID, Name: v.Subject.Name}
		out.Role = v.Role.Name
		out.Via = v.Via.Kind
		if v.Via.Team != "" && v.Via.Kind == policy.ViaTeam {
			out.Via = "team " + v.Via.Team
		}
	}
	if v.Source != (spec.Pos{}) {
		src := v.Source
		out.Source = &src
	}
	return out
}

// violationFindings are policy violations as report findings: on the
// deployment they are about (a DAG's deployment too), or on another scope,
// named.
func violationFindings(vs []policy.Violation, obs *sync.Observed) []access.Finding {
	if len(vs) == 0 {
		return nil
	}
	wsName := map[string]string{}
	for _, w := range obs.Workspaces {
		wsName[w.ID] = w.Name
	}
	deps := map[string]astroapi.Deployment{}
	for _, d := range obs.Deployments {
		deps[d.ID] = d
	}
	out := make([]access.Finding, 0, len(vs))
	for _, v := range vs {
		pv := violation(v)
		f := access.Finding{
			Kind: access.FindingPolicy, Category: access.CategoryPolicy, Severity: "high",
			Rule: pv.Rule, Message: pv.Description, Role: pv.Role,
		}
		if pv.Err != "" {
			f.Message += " (the rule could not be evaluated: " + pv.Err + ")"
		}
		if pv.Why != "" {
			f.Message += " (" + pv.Why + ")"
		}
		if pv.Subject != nil {
			f.Principal = access.Ref{Kind: string(pv.Subject.Kind), ID: pv.Subject.ID, Name: pv.Subject.Name}
			if pv.Via != "" && pv.Via != policy.ViaDirect {
				f.Message += " (through " + pv.Via + ")"
			}
		}
		dep := ""
		switch pv.Scope.Level {
		case sync.LevelDeployment:
			dep = pv.Scope.ID
		case sync.LevelDAG, sync.LevelDAGTag:
			dep = pv.Scope.Deployment.ID
			f.Scope = pv.Scope.String() // the report escapes it
		default:
			f.Scope = pv.Scope.String() // the report escapes it
		}
		if d, ok := deps[dep]; ok {
			f.Deployment = &access.DeploymentRef{ID: d.ID, Name: d.Name, Workspace: wsName[d.WorkspaceID]}
		}
		if pv.Source != nil {
			f.Source = pv.Source.String()
		}
		out = append(out, f)
	}
	return out
}
