package render

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/tokensync/tokensync/sync"
)

// cutPlan is a plan of deployments dep-a, dep-b, ... (in that order), each
// with the changes of its entry in actions: "+1000 -2" is 1000 adds then 2
// removals, "-1 +3" is a removal then 3 adds; subjects are numbered
// across the plan in the order given, so the plan's order is the order
// written.
func cutPlan(actions ...string) sync.Plan {
	p := sync.Plan{Organization: "org1", Guards: okGuards(), Fingerprints: map[string]string{}}
	n := 0
	for d, spec := range actions {
		dep := sync.DeploymentRef{ID: fmt.Sprintf("dep-%c", 'a'+d), Name: fmt.Sprintf("deployment-%c", 'a'+d)}
		for _, part := range strings.Fields(spec) {
			count, err := strconv.Atoi(part[1:])
			if err != nil {
				panic(err)
			}
			for range count {
				tok := sync.SubjectRef{Kind: sync.KindWorkspaceToken, ID: fmt.Sprintf("tok-%05d", n), Name: fmt.Sprintf("token-%05d", n)}
				c := sync.Change{Action: sync.Add, Scope: sync.DeploymentScope(dep), Subject: tok, After: "DEPLOYMENT_ADMIN"}
				if part[0] == '-' {
					c = sync.Change{Action: sync.Remove, Scope: sync.DeploymentScope(dep), Subject: tok, Before: "DEPLOYMENT_ADMIN", Reason: sync.ReasonPrune}
				}
				p.Changes = append(p.Changes, c)
				n++
			}
		}
	}
	return p
}

// withUnmanaged is p with n unmanaged assignments on its first scope.
func withUnmanaged(p sync.Plan, n int) sync.Plan {
	for i := range n {
		tok := sync.SubjectRef{Kind: sync.KindDeploymentToken, ID: fmt.Sprintf("key-%05d", i), Name: fmt.Sprintf("key-%05d", i)}
		p.Unmanaged = append(p.Unmanaged, sync.Change{Action: sync.Unmanaged, Scope: p.Changes[0].Scope, Subject: tok,
			Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: sync.ReasonNotInSpec})
	}
	return p
}

var (
	cutLineRE    = regexp.MustCompile(`\n(\d+) more change\(s\) of this scope left out(, (\d+) of them taking a role away)?\.\n`)
	sectionTopRE = regexp.MustCompile(`<summary><b>deployment (deployment-[a-z])</b>`)
)

// shownSections maps each deployment section in a markdown plan to
// "whole", or to "part" when it says that some of its changes were left
// out, in the order they are written.
func shownSections(out string) (names, how []string) {
	pieces := strings.Split(out, "\n<details")[1:]
	for _, s := range pieces {
		m := sectionTopRE.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		names = append(names, m[1])
		if cutLineRE.MatchString(s) {
			how = append(how, "part")
		} else {
			how = append(how, "whole")
		}
	}
	return names, how
}

// TestMarkdownLimitKeepsRemovals: when the plan passes the limit, the
// sections that take a role away are kept first, every section that fits
// is kept, a section too long is shown in part (its rows that take a role
// away first), the sections stay in the plan's order, and the note counts
// what was left out.
func TestMarkdownLimitKeepsRemovals(t *testing.T) {
	for _, tt := range []struct {
		name      string
		plan      sync.Plan
		limit     int
		sections  string // the deployment sections written, with how
		note      string // a regexp the note matches
		cut       string // a regexp the section shown in part matches
		wantInOut []string
	}{{
		// The trial: 1503 adds on one deployment, 1 removal on the next.
		// The whole plan was cut after its title, removal included.
		name:     "a huge section then a small removal",
		plan:     cutPlan("+1503", "-1"),
		sections: "deployment-a:part deployment-b:whole",
		note:     `\n> \[!NOTE\]\n> \d+ change\(s\) of 1 scope section\(s\) shown in part left out to keep this comment under 60000 characters\. Run`,
		cut:      `\n\d+ more change\(s\) of this scope left out\.\n`,
		wantInOut: []string{
			"<details open><summary><b>deployment deployment-b</b> (<code>dep-b</code>): +0 ~0 -1</summary>",
			"| ➖ **remove** | workspace token token-01503 <sub>tok-01503</sub> | `DEPLOYMENT_ADMIN` | — | not in spec (prune) |",
		},
	}, {
		name:     "a removal after several sections too big",
		plan:     cutPlan("+1000", "+1000", "+1000", "+1000", "+2", "+1 -1"),
		sections: "deployment-a:part deployment-e:whole deployment-f:whole",
		note:     `\n> \[!NOTE\]\n> 3 scope section\(s\) with 3000 change\(s\) and \d+ change\(s\) of 1 scope section\(s\) shown in part left out to keep this comment under 60000 characters\. Run`,
		wantInOut: []string{
			"| ➖ **remove** | workspace token token-04003 <sub>tok-04003</sub> | `DEPLOYMENT_ADMIN` | — | not in spec (prune) |",
		},
	}, {
		// The removals are last in the section, and kept before the adds
		// before them; they are still written in the plan's order.
		name:     "a section shown in part keeps its removals",
		plan:     cutPlan("+1000 -3"),
		sections: "deployment-a:part",
		note:     `\n> \[!NOTE\]\n> \d+ change\(s\) of 1 scope section\(s\) shown in part left out to keep this comment under 60000 characters\. Run`,
		cut:      `\|---\|\n\| ➕ add \| workspace token token-00000 .*\n(\| ➕ add .*\n)+(\| ➖ \*\*remove\*\* .*\n){3}\n\d+ more change\(s\) of this scope left out\.\n`,
		wantInOut: []string{
			"| ➕ add | workspace token token-00000 <sub>tok-00000</sub>",
			"| ➖ **remove** | workspace token token-01000 <sub>tok-01000</sub>",
			"| ➖ **remove** | workspace token token-01002 <sub>tok-01002</sub>",
		},
	}, {
		name:     "removals beyond the limit are counted as such",
		plan:     cutPlan("+5", "-1000"),
		sections: "deployment-b:part",
		note:     `\n> \[!NOTE\]\n> 1 scope section\(s\) with 5 change\(s\) and (\d+) change\(s\) of 1 scope section\(s\) shown in part left out to keep this comment under 60000 characters; (\d+) of the changes left out take a role away\. Run`,
		cut:      `\n(\d+) more change\(s\) of this scope left out, (\d+) of them taking a role away\.\n`,
	}, {
		name:     "a small limit keeps the removal, not the adds before it",
		plan:     cutPlan("+6", "-1"),
		limit:    1000,
		sections: "deployment-b:whole",
		note:     `\n> \[!NOTE\]\n> 1 scope section\(s\) with 6 change\(s\) left out to keep this comment under 1000 characters\. Run`,
	}, {
		name:     "the unmanaged assignments shown in part",
		plan:     withUnmanaged(cutPlan("+2"), 1000),
		sections: "deployment-a:whole",
		note:     `\n> \[!NOTE\]\n> \d+ row\(s\) of the unmanaged assignments' section left out to keep this comment under 60000 characters\. Run`,
		cut:      `<details><summary>1000 unmanaged assignment\(s\) left alone</summary>\n\n.*\n.*\n(\| deployment deployment-a .*\n)+\n\d+ more unmanaged assignment\(s\) left out\.\n\n</details>\n`,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			var md bytes.Buffer
			if err := Markdown(&md, tt.plan, MarkdownOptions{Limit: tt.limit}); err != nil {
				t.Fatal(err)
			}
			out, limit := md.String(), tt.limit
			if limit == 0 {
				limit = DefaultMarkdownLimit
			}
			names, how := shownSections(out)
			var got []string
			for i := range names {
				got = append(got, names[i]+":"+how[i])
			}
			if g := strings.Join(got, " "); g != tt.sections {
				t.Errorf("sections %q, want %q", g, tt.sections)
			}
			if !regexp.MustCompile(tt.note + ".*\n$").MatchString(out) {
				t.Errorf("the note does not match %q:\n%s", tt.note, out[max(0, len(out)-500):])
			}
			if tt.cut != "" && !regexp.MustCompile(tt.cut).MatchString(out) {
				t.Errorf("no section shown in part matches %q", tt.cut)
			}
			for _, want := range tt.wantInOut {
				if !strings.Contains(out, want) {
					t.Errorf("markdown lacks %q", want)
				}
			}
			checkCut(t, wholeSections(t, tt.plan), out, limit)
		})
	}
}

// TestMarkdownLimitCountsScopes: at every limit from a few hundred bytes
// to the whole plan, the markdown of a plan on every level stays within
// the limit, keeps its sections in the plan's order, and its note counts
// what it left out: every scope section (DAG and tag sections are scopes
// of their own), change and unmanaged assignment is shown or counted.
func TestMarkdownLimitCountsScopes(t *testing.T) {
	p := everyLevelPlan() // 7 scopes of changes, then the unmanaged section
	for _, name := range []string{"a", "b"} {
		p.Unmanaged = append(p.Unmanaged, sync.Change{Action: sync.Unmanaged, Scope: ingestDAG,
			Subject: sync.SubjectRef{Kind: sync.KindUser, ID: "usr-" + name, Name: name + "@example.com"}, Before: "DAG_VIEWER", After: "DAG_VIEWER", Reason: sync.ReasonNotInSpec})
	}
	var full bytes.Buffer
	if err := Markdown(&full, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	sections, notes := wholeSections(t, p), map[string]bool{}
	for limit := 700; limit <= full.Len()+10; limit++ {
		var md bytes.Buffer
		if err := Markdown(&md, p, MarkdownOptions{Limit: limit}); err != nil {
			t.Fatal(err)
		}
		checkCut(t, sections, md.String(), limit)
		if i := strings.Index(md.String(), "\n> [!NOTE]\n> "); i >= 0 {
			notes[strings.SplitN(md.String()[i+len("\n> [!NOTE]\n> "):], " left out", 2)[0]] = true
		}
	}
	// Some of the notes on the way.
	for _, want := range []string{
		"7 scope section(s) with 9 change(s) and the unmanaged assignments' section",
		"6 scope section(s) with 8 change(s) and the unmanaged assignments' section", // the removal kept
		"1 scope section(s) with 1 change(s) and the unmanaged assignments' section",
		"The unmanaged assignments' section",
	} {
		if !notes[want] {
			t.Errorf("no limit gives the note %q; the notes: %v", want, notes)
		}
	}
}

// TestMarkdownLimitProperty: for random plans and limits, the markdown
// plan stays within the limit, is the whole plan when it fits, and
// otherwise shows or counts every section, change and unmanaged
// assignment, keeping what takes a role away first (see checkCut).
func TestMarkdownLimitProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := randomPlan(t)
		var full bytes.Buffer
		if err := Markdown(&full, p, MarkdownOptions{Limit: 1 << 30}); err != nil {
			t.Fatal(err)
		}
		limit := rapid.IntRange(min(1000, full.Len()), full.Len()+200).Draw(t, "limit")
		var md bytes.Buffer
		if err := Markdown(&md, p, MarkdownOptions{Limit: limit}); err != nil {
			t.Fatal(err)
		}
		if full.Len() <= limit && md.String() != full.String() {
			t.Fatalf("the whole plan fits in %d bytes, but it was cut", limit)
		}
		checkCut(t, wholeSections(t, p), md.String(), limit)
	})
}

// randomPlan is a plan of up to 6 deployments with up to 100 changes each
// (adds, updates, demotions and removals, of subjects with names of random
// lengths) and up to 40 unmanaged assignments: past the least limit
// (1,000 bytes) at a few dozen rows.
func randomPlan(t *rapid.T) sync.Plan {
	p := sync.Plan{Organization: "org1", Fingerprints: map[string]string{}}
	subject := func(label string, i int) sync.SubjectRef {
		name := rapid.StringMatching(`[a-z]{1,80}`).Draw(t, label)
		return sync.SubjectRef{Kind: sync.KindUser, ID: fmt.Sprintf("%s-%d", label, i), Name: name}
	}
	deps := rapid.IntRange(1, 6).Draw(t, "deployments")
	var scopes []sync.ScopeRef
	for d := range deps {
		dep := sync.DeploymentRef{ID: fmt.Sprintf("dep-%d", d), Name: fmt.Sprintf("deployment-%d-%s", d, rapid.StringMatching(`[a-z]{0,30}`).Draw(t, "deployment"))}
		scopes = append(scopes, sync.DeploymentScope(dep))
		for i := range rapid.IntRange(1, 100).Draw(t, "changes") {
			c := sync.Change{Scope: scopes[d], Subject: subject("usr", i)}
			switch rapid.IntRange(0, 3).Draw(t, "action") {
			case 0:
				c.Action, c.After = sync.Add, "DEPLOYMENT_ADMIN"
			case 1:
				c.Action, c.Before, c.After = sync.Update, "DEPLOYMENT_VIEWER", "DEPLOYMENT_ADMIN"
			case 2:
				c.Action, c.Before, c.After, c.Reason = sync.Update, "DEPLOYMENT_ADMIN", "DEPLOYMENT_VIEWER", sync.ReasonPruneKeepsAccessor
			default:
				c.Action, c.Before, c.Reason = sync.Remove, "DEPLOYMENT_ADMIN", sync.ReasonPrune
			}
			p.Changes = append(p.Changes, c)
		}
	}
	for i := range rapid.IntRange(0, 40).Draw(t, "unmanaged") {
		s := scopes[rapid.IntRange(0, len(scopes)-1).Draw(t, "scope")]
		p.Unmanaged = append(p.Unmanaged, sync.Change{Action: sync.Unmanaged, Scope: s, Subject: subject("tok", i), Before: "DEPLOYMENT_ADMIN", After: "DEPLOYMENT_ADMIN", Reason: sync.ReasonNotInSpec})
	}
	return p
}

// tb is what checkCut needs of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

var (
	noteRE = regexp.MustCompile("\n> \\[!NOTE\\]\n> (.*) left out to keep this comment under (\\d+) characters(; (\\d+) of the changes left out take a role away)?\\. Run `tokensync plan` for the whole plan\\.\n$")
	// the parts of the note's list
	noteSectionsRE  = regexp.MustCompile(`(?:^|, )(\d+) scope section\(s\) with (\d+) change\(s\)`)
	noteCutRE       = regexp.MustCompile(`(?:^|, | and )(\d+) change\(s\) of (\d+) scope section\(s\) shown in part`)
	noteUnmanagedRE = regexp.MustCompile(`(?:^|, | and )(?:(\d+) row\(s\) of t|T|t)he unmanaged assignments' section$`)
)

// cutCount is what a markdown plan left out, as checkCut counts it.
type cutCount struct {
	sections, sectionChanges, cut, cutChanges, takes, unmanagedRows int
	unmanaged                                                       bool
}

// checkCut checks the markdown of a plan under limit against its
// sections written whole (wholeSections): out is at most limit bytes; its
// sections are some of them, in the plan's order; each shows all its
// rows, or some of them in order with a line counting the rest (and those
// that take a role away); no row that takes a role away is left out of a
// section that shows one that does not, nor while a section without any
// is shown; and the note at the end counts what was left out, or there is
// none and nothing was.
func checkCut(t tb, sections []section, out string, limit int) {
	t.Helper()
	if len(out) > limit {
		t.Fatalf("%d bytes, over the limit of %d", len(out), limit)
	}
	at := strings.Index(out, "\n<details")
	if at < 0 {
		at = strings.Index(out, "\n> [!NOTE]\n> ")
	}
	if at < 0 {
		t.Fatalf("neither a section nor a note:\n%s", out)
	}
	var got cutCount
	takesLeftOut, otherShown := false, false
	for _, s := range sections {
		if !strings.HasPrefix(out[at:], s.top) {
			got.add(s, nil)
			takesLeftOut = takesLeftOut || slices.Contains(s.takes, true)
			continue
		}
		otherShown = otherShown || !slices.Contains(s.takes, true)
		end := at + strings.Index(out[at:], s.end) + len(s.end)
		keep := checkRows(t, s, out[at+len(s.top):end-len(s.end)])
		got.add(s, keep)
		for i, k := range keep {
			takesLeftOut = takesLeftOut || (!k && s.takes[i])
		}
		at = end
	}
	if takesLeftOut && otherShown {
		t.Errorf("a change that takes a role away is left out, while a section without any is shown:\n%s", out)
	}
	checkNote(t, out[at:], got, limit)
}

// section is a section of a markdown plan written whole: its top (the
// summary and the table's header), its rows, whether each takes a role
// away, and its end.
type section struct {
	top, end  string
	rows      []string
	takes     []bool
	unmanaged bool
}

// wholeSections is the sections of p's markdown plan written whole.
func wholeSections(t tb, p sync.Plan) []section {
	t.Helper()
	var md bytes.Buffer
	if err := Markdown(&md, p, MarkdownOptions{Limit: 1 << 30}); err != nil {
		t.Fatalf("%v", err)
	}
	groups := groupByScope(sync.Plan{Changes: p.Changes})
	pieces := strings.SplitAfter(md.String(), "\n</details>\n")
	if len(pieces) != len(groups)+min(len(p.Unmanaged), 1)+1 || pieces[len(pieces)-1] != "" {
		t.Fatalf("%d sections in the whole plan, want %d scopes and the unmanaged assignments", len(pieces)-1, len(groups))
	}
	pieces[0] = pieces[0][strings.Index(pieces[0], "\n<details"):]
	var sections []section
	for i, piece := range pieces[:len(pieces)-1] {
		rule := strings.Index(piece, "|---")
		top := piece[:rule+strings.IndexByte(piece[rule:], '\n')+1]
		s := section{top: top, end: "\n</details>\n", rows: strings.SplitAfter(strings.TrimSuffix(piece[len(top):], "\n</details>\n"), "\n")}
		s.rows = s.rows[:len(s.rows)-1] // after the last line break
		if i < len(groups) {
			for _, c := range groups[i].Changes {
				s.takes = append(s.takes, c.Takes())
			}
		} else {
			s.takes, s.unmanaged = make([]bool, len(s.rows)), true
		}
		if len(s.rows) != len(s.takes) {
			t.Fatalf("section %d has %d rows, want %d", i, len(s.rows), len(s.takes))
		}
		sections = append(sections, s)
	}
	return sections
}

// add counts what keep leaves out of s (all of it when nil).
func (c *cutCount) add(s section, keep []bool) {
	n, takes := 0, 0
	for i := range s.rows {
		if keep == nil || !keep[i] {
			n++
			if s.takes[i] {
				takes++
			}
		}
	}
	c.takes += takes
	switch {
	case n == 0:
	case s.unmanaged && keep == nil:
		c.unmanaged = true
	case s.unmanaged:
		c.unmanagedRows += n
	case keep == nil:
		c.sections++
		c.sectionChanges += n
	default:
		c.cut++
		c.cutChanges += n
	}
}

// checkRows checks the body of a section written in out (what is between
// its top and its end) and says which of s's rows it shows.
func checkRows(t tb, s section, body string) []bool {
	t.Helper()
	keep := make([]bool, len(s.rows))
	i, shown, left, takes := 0, 0, 0, 0
	for strings.HasPrefix(body, "| ") {
		row := body[:strings.IndexByte(body, '\n')+1]
		for i < len(s.rows) && s.rows[i] != row {
			i++
		}
		if i == len(s.rows) {
			t.Fatalf("a row that is not the next of its section: %q", row)
		}
		keep[i] = true
		shown++
		i++
		body = body[len(row):]
	}
	sawOther := false
	for i, k := range keep {
		if !k {
			left++
			if s.takes[i] {
				takes++
			}
		} else if !s.takes[i] {
			sawOther = true
		}
	}
	if takes > 0 && sawOther {
		t.Errorf("a section shows a change that takes no role away while it leaves out %d that do", takes)
	}
	want := ""
	if left > 0 {
		want = fmt.Sprintf("\n%d more change(s) of this scope left out.\n", left)
		if takes > 0 {
			want = fmt.Sprintf("\n%d more change(s) of this scope left out, %d of them taking a role away.\n", left, takes)
		}
		if s.unmanaged {
			want = fmt.Sprintf("\n%d more unmanaged assignment(s) left out.\n", left)
		}
	}
	if body != want || shown == 0 {
		t.Errorf("%d rows shown, then %q; want %q after them", shown, body, want)
	}
	return keep
}

// checkNote checks that tail, what follows the last section, is the note
// that counts what got says was left out, or nothing when nothing was.
func checkNote(t tb, tail string, got cutCount, limit int) {
	t.Helper()
	if got == (cutCount{}) {
		if tail != "" {
			t.Errorf("nothing was left out, but the plan ends with %q", tail)
		}
		return
	}
	m := noteRE.FindStringSubmatch(tail)
	if m == nil {
		t.Fatalf("the plan ends with %q, not a note of what was left out", tail)
	}
	var said cutCount
	list := m[1]
	if n := noteSectionsRE.FindStringSubmatch(list); n != nil {
		said.sections, said.sectionChanges = atoi(n[1]), atoi(n[2])
	}
	if n := noteCutRE.FindStringSubmatch(list); n != nil {
		said.cutChanges, said.cut = atoi(n[1]), atoi(n[2])
	}
	if n := noteUnmanagedRE.FindStringSubmatch(list); n != nil {
		said.unmanaged, said.unmanagedRows = n[1] == "", atoi(n[1])
	}
	said.takes = atoi(m[4])
	if said != got || m[2] != strconv.Itoa(limit) {
		t.Errorf("the note %q says %+v left out under %s, want %+v under %d", tail, said, m[2], got, limit)
	}
}

func atoi(s string) int {
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}
