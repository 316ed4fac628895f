package policy

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// largeWorld is a large organization: 200 workspaces of 10 deployments,
// 50,000 users, 2,000 teams of 25 members each holding a workspace role,
// 20,000 tokens.
func largeWorld() World { return scaledWorld(1) }

// scaledWorld is largeWorld divided by div.
func scaledWorld(div int) World {
	w := World{Organization: "org", Members: map[string][]string{}, Production: []spec.Glob{spec.DefaultProduction},
		Sources: map[sync.Key]spec.Pos{}}
	for i := range 200 / div {
		w.Workspaces = append(w.Workspaces, astroapi.Workspace{ID: fmt.Sprintf("ws-%d", i), Name: fmt.Sprintf("workspace-%d", i)})
		for j := range 10 {
			name := fmt.Sprintf("dep-%d-%d", i, j)
			if j < 3 {
				name += "-prod"
			}
			w.Deployments = append(w.Deployments, astroapi.Deployment{ID: fmt.Sprintf("d-%d-%d", i, j), Name: name, WorkspaceID: fmt.Sprintf("ws-%d", i)})
		}
	}
	dep := func(n int) sync.Scope {
		d := w.Deployments[n%len(w.Deployments)]
		return sync.Scope{Level: sync.LevelDeployment, ID: d.ID}
	}
	ws := func(n int) sync.Scope {
		return sync.Scope{Level: sync.LevelWorkspace, ID: w.Workspaces[n%len(w.Workspaces)].ID}
	}
	member := sync.Grant{Scope: sync.Organization, Role: astroapi.RoleOrganizationMember}
	for i := range 50000 / div {
		s := sync.Subject{SubjectRef: sync.SubjectRef{Kind: sync.KindUser, ID: fmt.Sprintf("u-%d", i), Name: fmt.Sprintf("user%d@example.com", i)},
			Status: "ACTIVE", Grants: []sync.Grant{member}}
		if i%10 == 0 {
			s.Grants = append(s.Grants, sync.Grant{Scope: dep(i), Role: astroapi.RoleDeploymentAdmin})
			w.Sources[sync.Key{Scope: dep(i), Subject: s.ID}] = spec.Pos{File: fmt.Sprintf("teams/t%d.yaml", i%50), Line: i%100 + 1, Col: 9}
		}
		w.Subjects = append(w.Subjects, s)
	}
	for i := range 2000 / div {
		s := sync.Subject{SubjectRef: sync.SubjectRef{Kind: sync.KindTeam, ID: fmt.Sprintf("t-%d", i), Name: fmt.Sprintf("team-%d", i)},
			Grants: []sync.Grant{member, {Scope: ws(i), Role: astroapi.RoleWorkspaceAuthor}, {Scope: dep(i * 7), Role: astroapi.RoleDeploymentAdmin}}}
		w.Sources[sync.Key{Scope: ws(i), Subject: s.ID}] = spec.Pos{File: fmt.Sprintf("teams/t%d.yaml", i%50), Line: 3, Col: 9}
		for j := range 25 {
			w.Members[s.ID] = append(w.Members[s.ID], fmt.Sprintf("u-%d", i*25+j))
		}
		w.Subjects = append(w.Subjects, s)
	}
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20000 / div {
		s := sync.Subject{SubjectRef: sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: fmt.Sprintf("tk-%d", i), Name: fmt.Sprintf("token-%d", i)},
			Grants: []sync.Grant{{Scope: ws(i), Role: astroapi.RoleWorkspaceMember}, {Scope: dep(i * 3), Role: astroapi.RoleDeploymentAdmin}}}
		if i%4 == 0 {
			s.Kind, s.Grants = sync.KindOrganizationToken, []sync.Grant{member}
		}
		if i%2 == 0 {
			s.Hygiene.ExpiresAt = end
		}
		w.Subjects = append(w.Subjects, s)
	}
	return w
}

// benchRules are 100 rules: the four examples' shapes with other
// constants, three grant rules to one scope rule.
func benchRules() []spec.Policy {
	var ps []spec.Policy
	for i := range 25 {
		add := func(on spec.Condition, expr string) {
			ps = append(ps, spec.Policy{Name: fmt.Sprintf("r%d-%d", i, len(ps)), Description: "d", On: on, Expr: spec.Expr{Text: expr}})
		}
		add(spec.ConditionGrant, fmt.Sprintf("subject.kind == 'user' && via.kind == 'direct' && scope.level == 'deployment' && scope.production && role.access == 'admin' && subject.name == 'user%d@example.com'", i))
		add(spec.ConditionGrant, fmt.Sprintf("subject.kind.endsWith('Token') && scope.production && (!has(subject.expiresAt) || subject.expiresAt > now + duration('%dh'))", 2160+i))
		p := len(ps)
		add(spec.ConditionGrant, fmt.Sprintf("scope.workspace != 'workspace-%d'", i))
		ps[p].Files = []spec.Pattern{{Glob: fmt.Sprintf("teams/t%d.yaml", i)}}
		add(spec.ConditionScope, fmt.Sprintf("scope.level == 'deployment' && scope.production && !(grants.filter(g, g.role.access == 'admin' && g.subject.kind != 'team').map(g, g.subject.id).distinct().size() in [1, 2, 3, %d])", 4+i))
	}
	return ps
}

func BenchmarkCheck(b *testing.B) {
	w := largeWorld()
	set, err := Compile(benchRules())
	if err != nil {
		b.Fatal(err)
	}
	a := Build(w)
	b.Logf("%d grants, %d scopes, %d rules", len(a.Grants), len(a.Scopes), len(set.Rules))
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		vs := set.Check(a, now)
		b.ReportMetric(float64(len(vs)), "violations")
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the CPU time the process has used (user and system, every
// thread, the collector's too): on a shared machine, a steadier measure
// than ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBuildAndCheck is what plan pays for its policies: Build of the
// world, then Check of the rules over it. Check alone depends on how much
// garbage Build left the collector, so the two are measured together too.
func BenchmarkBuildAndCheck(b *testing.B) {
	w := largeWorld()
	set, err := Compile(benchRules())
	if err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime()
	for b.Loop() {
		vs := set.Check(Build(w), now)
		b.ReportMetric(float64(len(vs)), "violations")
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

func BenchmarkBuild(b *testing.B) {
	w := largeWorld()
	cpu := cpuTime()
	for b.Loop() {
		Build(w)
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

func BenchmarkCheckSmall(b *testing.B) {
	set, err := Compile(benchRules())
	if err != nil {
		b.Fatal(err)
	}
	a := Build(scaledWorld(20))
	b.Logf("%d grants, %d scopes", len(a.Grants), len(a.Scopes))
	for b.Loop() {
		set.Check(a, now)
	}
}

// BenchmarkCheckParts is BenchmarkCheck with the grant rules alone and
// the scope rules alone.
func BenchmarkCheckParts(b *testing.B) {
	a := Build(largeWorld())
	for _, on := range []spec.Condition{spec.ConditionGrant, spec.ConditionScope} {
		var ps []spec.Policy
		for _, p := range benchRules() {
			if p.On == on {
				ps = append(ps, p)
			}
		}
		set, err := Compile(ps)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(on), func(b *testing.B) {
			cpu := cpuTime()
			for b.Loop() {
				vs := set.Check(a, now)
				b.ReportMetric(float64(len(vs)), "violations")
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
