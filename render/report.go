package render

import (
	"bufio"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tokensync/tokensync/access"
)

// The access report (tokensync report) as text, markdown, CSV, JSON and
// one self-contained HTML page. Every string from the API goes through
// Safe (text, markdown, CSV, HTML) or is written with \u escapes (JSON).

//go:embed report.schema.json
var reportSchema []byte

// ReportSchema is the JSON Schema of the access report document.
func ReportSchema() []byte { return reportSchema }

// kindLabel is how the report names a kind of principal.
func kindLabel(kind string) string {
	switch kind {
	case "workspaceToken":
		return "workspace token"
	case "organizationToken":
		return "organization token"
	case "deploymentToken":
		return "deployment token"
	}
	return Safe(kind)
}

// grantText is a grant as text, escaped by Safe: ROLE (source[, custom
// role][, via team X]); the source of a DAG role names the DAG or tag
// (dag · rollup, dag tag · finance).
func grantText(g access.Grant) string {
	s := Safe(g.Role) + " (" + Safe(g.SourceText())
	if !g.OnDAG() && access.RoleLevel(g.Role) == access.LevelCustom {
		s += ", custom role"
		if g.Level != access.LevelCustom && g.Level != "" {
			s += ": " + string(g.Level) // --role-level
		}
	}
	if g.Via != nil {
		s += ", via team " + Safe(g.Via.Name)
	}
	return s + ")"
}

// grantsText is a cell's grants, joined by "; ", or "none".
func grantsText(gs []access.Grant) string {
	if len(gs) == 0 {
		return "none"
	}
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = grantText(g)
	}
	return strings.Join(parts, "; ")
}

// deploymentTitle names a deployment as workspace/name.
func deploymentTitle(workspace, name string) string {
	return Safe(workspace) + "/" + Safe(name)
}

// sinceCounts counts the changes by kind.
func sinceCounts(s *access.Since) (gained, lost, changed int) {
	for _, c := range s.Changes {
		switch c.Change {
		case access.Gained:
			gained++
		case access.Lost:
			lost++
		default:
			changed++
		}
	}
	return gained, lost, changed
}

// ReportText writes the report for a terminal: what changed since a
// previous report, the findings, then a table per deployment.
func ReportText(w io.Writer, r access.Report) error {
	bw := bufio.NewWriter(w)
	ew := &errWriter{w: bw}
	ew.printf("Access report of organization %s", Safe(r.Organization))
	if r.GeneratedAt != "" {
		ew.printf(" (%s)", Safe(r.GeneratedAt))
	}
	ew.printf("\n")
	if r.Filters != nil {
		ew.printf("Narrowed by %s.\n", Safe(r.Filters.String()))
	}
	if r.Since != nil {
		sinceText(ew, r.Since)
	}
	if r.Review != nil || len(r.Findings) > 0 {
		findingsText(ew, r)
	}
	for _, d := range r.Deployments {
		ew.printf("\ndeployment %s (%s)%s%s\n", deploymentTitle(d.Workspace, d.Name), Safe(d.ID), production(d), notInSpec(r, d))
		if len(d.Access) == 0 {
			ew.printf("  nobody\n")
			continue
		}
		ew.printf("  %s\n", levelSummary(r, d.Access))
		tw := tabwriter.NewWriter(ew.w, 0, 0, 2, ' ', 0)
		for _, e := range d.Access {
			fmt.Fprintf(tw, "  %s\t%s [%s]\t%s%s\n", kindLabel(e.Principal.Kind), Safe(e.Principal.Name), Safe(e.Principal.ID), managedColumn(r, e), grantsText(e.Grants))
		}
		if err := tw.Flush(); err != nil && ew.err == nil {
			ew.err = err
		}
	}
	if ew.err != nil {
		return ew.err
	}
	return bw.Flush()
}

// findingsText lists the findings, most severe first.
func findingsText(ew *errWriter, r access.Report) {
	ew.printf("\nFindings: %s.\n", findingCounts(r))
	tw := tabwriter.NewWriter(ew.w, 0, 0, 2, ' ', 0)
	for _, f := range r.Findings {
		who := Safe(cmpOr(findingScope(f), "-"))
		if f.HasPrincipal() {
			who = fmt.Sprintf("%s %s [%s]", kindLabel(f.Principal.Kind), Safe(f.Principal.Name), Safe(f.Principal.ID))
		}
		fmt.Fprintf(tw, "  %s%s\t%s\t%s\t%s\n", newMark(r, f), Safe(cmpOr(f.Severity, "-")), Safe(f.Kind), who, findingText(f))
	}
	if err := tw.Flush(); err != nil && ew.err == nil {
		ew.err = err
	}
}

// findingCounts is "N (a new): 2 token, 1 user, …" or "none".
func findingCounts(r access.Report) string {
	if len(r.Findings) == 0 {
		return "none"
	}
	n := map[string]int{}
	fresh := 0
	for _, f := range r.Findings {
		n[f.Category]++
		if f.New {
			fresh++
		}
	}
	var parts []string
	for _, c := range []string{access.CategoryPolicy, access.CategoryToken, access.CategoryUser, access.CategoryGrant} {
		if n[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[c], c))
			delete(n, c)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%d %s", n[c], Safe(c)))
	}
	s := strconv.Itoa(len(r.Findings))
	if r.Since != nil {
		s += fmt.Sprintf(" (%d new since %s)", fresh, cmpOr(Safe(r.Since.GeneratedAt), "the previous report"))
	}
	return s + ": " + strings.Join(parts, ", ")
}

// newMark is "new " for a finding the report of --since did not have.
func newMark(r access.Report, f access.Finding) string {
	if r.Since != nil && f.New {
		return "new "
	}
	return ""
}

// findingScope is the scope of a finding that names no principal (a
// policy rule over a scope), shown where the principal would be:
// "deployment W/D", or the scope as the finding names it; "" for a finding
// on a principal, or on nothing. Unescaped.
func findingScope(f access.Finding) string {
	switch {
	case f.HasPrincipal():
		return ""
	case f.Scope != "":
		return f.Scope
	case f.Deployment != nil:
		return "deployment " + f.Deployment.Workspace + "/" + f.Deployment.Name
	}
	return ""
}

// findingText is a finding's message with where it is: on deployment
// W/D, on a scope, by rule R (file:line); escaped by Safe.
func findingText(f access.Finding) string {
	s := Safe(f.Message)
	if f.Deployment != nil {
		s += " (on " + deploymentTitle(f.Deployment.Workspace, f.Deployment.Name) + ")"
	} else if f.Scope != "" {
		s += " (on " + Safe(f.Scope) + ")"
	}
	if f.Rule != "" {
		s += " [rule " + Safe(f.Rule)
		if f.Source != "" {
			s += ", " + Safe(f.Source)
		}
		s += "]"
	}
	return s
}

func production(d access.Deployment) string {
	if d.Production {
		return ", production"
	}
	return ""
}

func notInSpec(r access.Report, d access.Deployment) string {
	if r.Spec && !d.InSpec {
		return ", not in the spec"
	}
	return ""
}

// managedColumn is the column that says whether the spec covers a cell,
// when a spec was given.
func managedColumn(r access.Report, e access.Entry) string {
	switch {
	case !r.Spec:
		return ""
	case e.Unmanaged:
		return "unmanaged\t"
	}
	return "managed\t"
}

var changeSymbol = map[string]string{access.Gained: "+", access.Lost: "-", access.Changed: "~"}

func sinceText(ew *errWriter, s *access.Since) {
	gained, lost, changed := sinceCounts(s)
	ew.printf("\nSince %s: %d gained, %d lost, %d changed.\n", cmpOr(Safe(s.GeneratedAt), "the previous report"), gained, lost, changed)
	tw := tabwriter.NewWriter(ew.w, 0, 0, 2, ' ', 0)
	for _, c := range s.Changes {
		fmt.Fprintf(tw, "  %s %s\t%s %s [%s]\t%s\n", changeSymbol[c.Change], deploymentTitle(c.Deployment.Workspace, c.Deployment.Name),
			kindLabel(c.Principal.Kind), Safe(c.Principal.Name), Safe(c.Principal.ID), changeText(c))
	}
	if err := tw.Flush(); err != nil && ew.err == nil {
		ew.err = err
	}
}

// changeText is a change's access: after, before, or before -> after.
func changeText(c access.Change) string {
	switch c.Change {
	case access.Gained:
		return grantsText(c.After)
	case access.Lost:
		return grantsText(c.Before)
	}
	return grantsText(c.Before) + " -> " + grantsText(c.After)
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// ReportMarkdown writes the report as markdown for a wiki page or a pull
// request: what changed since a previous report, a summary table (who
// can touch each deployment, how many as admin, how many unmanaged), then
// a table per deployment. Like the plan's, it stays under
// DefaultMarkdownLimit characters, with a note saying what was left out.
func ReportMarkdown(w io.Writer, r access.Report) error {
	var head strings.Builder
	fmt.Fprintf(&head, "## Access report of organization %s\n\n", mdCode(r.Organization))
	if r.GeneratedAt != "" {
		fmt.Fprintf(&head, "Generated at %s.\n\n", mdText(r.GeneratedAt))
	}
	if r.Spec {
		head.WriteString("Cells the spec does not list are marked **unmanaged**.\n\n")
	}
	if r.Filters != nil {
		fmt.Fprintf(&head, "Narrowed by %s.\n\n", mdCode(r.Filters.String()))
	}
	// The changes and the findings share the header's half of the limit
	// (see capReportMarkdown), so that each keeps the line that says how
	// many of its rows it left out.
	headRoom := DefaultMarkdownLimit / 2
	findings := r.Review != nil || len(r.Findings) > 0
	if r.Since != nil {
		share := 1
		if findings {
			share = 2
		}
		head.WriteString(mdSince(r.Since, (headRoom-head.Len())/share))
	}
	if findings {
		head.WriteString(mdFindings(r, headRoom-head.Len()))
	}
	sections := make([]string, len(r.Deployments))
	for i, d := range r.Deployments {
		sections[i] = mdDeploymentSection(r, d)
	}
	_, err := io.WriteString(w, capReportMarkdown(head.String(), mdSummary(r), sections, DefaultMarkdownLimit))
	return err
}

// mdSince is what changed since the previous report, its rows cut at
// about limit characters.
func mdSince(s *access.Since, limit int) string {
	var b strings.Builder
	gained, lost, changed := sinceCounts(s)
	fmt.Fprintf(&b, "Since %s: **%d gained, %d lost, %d changed**.\n\n", mdText(cmpOr(s.GeneratedAt, "the previous report")), gained, lost, changed)
	if len(s.Changes) == 0 {
		return b.String()
	}
	shown := mdTable(&b, "| | Deployment | Principal | Access |\n|---|---|---|---|\n", s.Changes, limit, func(c access.Change) string {
		return fmt.Sprintf("| %s | %s | %s | %s |\n", changeSymbol[c.Change], mdDeployment(c.Deployment.Workspace, c.Deployment.Name),
			mdPrincipal(c.Principal), mdText(changeText(c)))
	})
	mdLeftOut(&b, len(s.Changes)-shown, "change")
	return b.String()
}

// mdTable writes header and the rows of rows (each by row) to b while b
// stays within limit characters, keeping room for a line that counts the
// rows left out, and returns how many it wrote.
func mdTable[T any](b *strings.Builder, header string, rows []T, limit int, row func(T) string) (shown int) {
	b.WriteString(header)
	for i, r := range rows {
		line := row(r)
		if b.Len()+len(line)+tableNoteRoom > limit {
			return i
		}
		b.WriteString(line)
	}
	return len(rows)
}

// mdLeftOut ends a table of the report that left n rows (of noun) out,
// saying so when n > 0.
func mdLeftOut(b *strings.Builder, n int, noun string) {
	if n > 0 {
		fmt.Fprintf(b, "\n%d more %s(s) left out: `-o csv` or `-o json` lists them all.\n", n, noun)
	}
	b.WriteString("\n")
}

// tableNoteRoom is room for the line that follows a table cut by mdTable.
const tableNoteRoom = 100

// mdFindings is the findings, their rows cut at about limit characters.
func mdFindings(r access.Report, limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Findings: %s.**\n\n", mdText(findingCounts(r)))
	if len(r.Findings) == 0 {
		return b.String()
	}
	shown := mdTable(&b, "| Severity | Finding | Principal | Kind | Detail |\n|---|---|---|---|---|\n", r.Findings, limit, func(f access.Finding) string {
		sev := mdText(cmpOr(f.Severity, "-"))
		if r.Since != nil && f.New {
			sev += " **new**"
		}
		scope := findingScope(f)
		who, kind := mdText(cmpOr(scope, "-")), "-"
		if scope != "" {
			kind = "scope"
		}
		if f.HasPrincipal() {
			who, kind = mdPrincipal(f.Principal), mdKind(f.Principal.Kind)
		}
		return fmt.Sprintf("| %s | %s | %s | %s | %s |\n", sev, mdText(f.Kind), who, kind, mdText(findingText(f)))
	})
	mdLeftOut(&b, len(r.Findings)-shown, "finding")
	return b.String()
}

// mdSummary is a row per deployment: who can touch it, how many as
// admin, how many the spec does not cover.
func mdSummary(r access.Report) string {
	if len(r.Deployments) == 0 {
		return "No deployments.\n\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| Deployment | Can touch it | Admin |%s\n|---|--:|--:|%s\n", ifSpec(r, " Unmanaged |"), ifSpec(r, "--:|"))
	for _, d := range r.Deployments {
		n := countLevels(d.Access)
		title := mdDeployment(d.Workspace, d.Name)
		if d.Production {
			title += " (production)"
		}
		unmanaged := ""
		if r.Spec {
			unmanaged = fmt.Sprintf(" %d |", n.unmanaged)
		}
		fmt.Fprintf(&b, "| %s | %d | %d |%s\n", title, len(d.Access), n.byLevel[access.LevelAdmin], unmanaged)
	}
	b.WriteString("\n")
	return b.String()
}

func mdDeploymentSection(r access.Report, d access.Deployment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s <sub>%s</sub>%s%s\n\n", mdDeployment(d.Workspace, d.Name), mdText(d.ID), production(d), notInSpec(r, d))
	if len(d.Access) == 0 {
		b.WriteString("Nobody.\n\n")
		return b.String()
	}
	fmt.Fprintf(&b, "| Principal | Kind | Access |%s\n|---|---|---|%s\n", ifSpec(r, " Spec |"), ifSpec(r, "---|"))
	for _, e := range d.Access {
		spec := ""
		if r.Spec {
			spec = " managed |"
			if e.Unmanaged {
				spec = " **unmanaged** |"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |%s\n", mdPrincipal(e.Principal), mdKind(e.Principal.Kind), mdText(grantsText(e.Grants)), spec)
	}
	b.WriteString("\n")
	return b.String()
}

// levelCounts counts a deployment's cells by level, and those unmanaged.
type levelCounts struct {
	byLevel   map[access.Level]int
	unmanaged int
}

func countLevels(es []access.Entry) levelCounts {
	n := levelCounts{byLevel: map[access.Level]int{}}
	for _, e := range es {
		n.byLevel[e.Level]++
		if e.Unmanaged {
			n.unmanaged++
		}
	}
	return n
}

// levelSummary is "N can touch it: 2 admin, 1 view[, 1 unmanaged]",
// highest level first.
func levelSummary(r access.Report, es []access.Entry) string {
	n := countLevels(es)
	var parts []string
	for _, l := range []access.Level{access.LevelAdmin, access.LevelCustom, access.LevelOperate, access.LevelAuthor, access.LevelView, access.LevelDAG} {
		if c := n.byLevel[l]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, l))
		}
	}
	s := fmt.Sprintf("%d can touch it: %s", len(es), strings.Join(parts, ", "))
	if r.Spec {
		s += fmt.Sprintf("; %d unmanaged", n.unmanaged)
	}
	return s
}

func ifSpec(r access.Report, s string) string {
	if r.Spec {
		return s
	}
	return ""
}

func mdDeployment(workspace, name string) string { return mdText(workspace) + "/" + mdText(name) }

func mdPrincipal(p access.Ref) string { return mdText(p.Name) + " <sub>" + mdText(p.ID) + "</sub>" }

// reportCSVHeader names the columns of the CSV report.
var reportCSVHeader = []string{"workspace", "deployment", "deployment_id", "production", "kind", "principal", "principal_id", "status",
	"level", "access", "sources", "unmanaged", "since", "before", "findings"}

// ReportCSV writes the report as CSV: a header, then one row per cell
// (deployment, principal). With --since, since says gained or changed
// (before is the access then), and a cell lost is a row of its own with
// empty access, after its deployment's cells. findings are the cell's
// findings, those on its deployment and those on its principal as a whole,
// each "severity kind: message" ("new " first when new since), joined by
// " | "; a finding whose principal has no cell is a row of its own, with
// no deployment, at the end. A field that a spreadsheet
// would take for a formula (it starts with =, +, -, @, a tab or a carriage
// return) is prefixed with '.
func ReportCSV(w io.Writer, r access.Report) error {
	cw := csv.NewWriter(w)
	write := func(row []string) {
		for i, f := range row {
			row[i] = csvField(f)
		}
		_ = cw.Write(row) // the error sticks: cw.Error below
	}
	write(slices.Clone(reportCSVHeader))
	changes, lost := sinceByCell(r.Since)
	unmanaged := func(e access.Entry) string {
		if !r.Spec {
			return ""
		}
		return strconv.FormatBool(e.Unmanaged)
	}
	fs := findingsByCell(r)
	for _, d := range r.Deployments {
		prod := strconv.FormatBool(d.Production)
		for _, e := range d.Access {
			since, before := "", ""
			if c, ok := changes[cellOf(d.ID, e.Principal)]; ok {
				since, before = c.Change, changeBefore(c)
			}
			write([]string{d.Workspace, d.Name, d.ID, prod, e.Principal.Kind, e.Principal.Name, e.Principal.ID, e.Status,
				string(e.Level), grantsText(e.Grants), sourcesText(e.Grants), unmanaged(e), since, before, fs.of(d.ID, e.Principal)})
		}
		for _, c := range lost[d.ID] {
			write([]string{d.Workspace, d.Name, d.ID, prod, c.Principal.Kind, c.Principal.Name, c.Principal.ID, "", "", "", "", "", access.Lost, grantsText(c.Before), ""})
		}
		delete(lost, d.ID)
	}
	// Cells lost on deployments the report no longer has.
	for _, c := range remaining(r.Since, lost) {
		write([]string{c.Deployment.Workspace, c.Deployment.Name, c.Deployment.ID, "", c.Principal.Kind, c.Principal.Name, c.Principal.ID, "", "", "", "", "", access.Lost, grantsText(c.Before), ""})
	}
	// Findings on principals without a cell (a token without deployment
	// access, a user with roles elsewhere).
	for _, f := range fs.orphans {
		dep := access.DeploymentRef{}
		if f.Deployment != nil {
			dep = *f.Deployment
		}
		write([]string{dep.Workspace, dep.Name, dep.ID, "", f.Principal.Kind, f.Principal.Name, f.Principal.ID, f.Status, "", "", "", "", "", "", csvFinding(r, f)})
	}
	cw.Flush()
	return cw.Error()
}

// cellFindings are the findings of each cell: by cell, by principal (on
// the principal as a whole), and those with no cell in the report.
type cellFindings struct {
	r         access.Report
	byCell    map[cell][]access.Finding
	principal map[cell][]access.Finding // dep ""
	orphans   []access.Finding
}

func findingsByCell(r access.Report) cellFindings {
	fs := cellFindings{r: r, byCell: map[cell][]access.Finding{}, principal: map[cell][]access.Finding{}}
	cells := map[cell]bool{}
	for _, d := range r.Deployments {
		for _, e := range d.Access {
			cells[cellOf(d.ID, e.Principal)] = true
			cells[cellOf("", e.Principal)] = true
		}
	}
	for _, f := range r.Findings {
		k := cellOf("", f.Principal)
		if f.Deployment != nil {
			k.dep = f.Deployment.ID
		}
		if !cells[k] {
			fs.orphans = append(fs.orphans, f)
			continue
		}
		if k.dep == "" {
			fs.principal[k] = append(fs.principal[k], f)
		} else {
			fs.byCell[k] = append(fs.byCell[k], f)
		}
	}
	return fs
}

// of is the findings field of principal p's cell on deployment dep.
func (fs cellFindings) of(dep string, p access.Ref) string {
	var parts []string
	for _, f := range fs.byCell[cellOf(dep, p)] {
		parts = append(parts, csvFinding(fs.r, f))
	}
	for _, f := range fs.principal[cellOf("", p)] {
		parts = append(parts, csvFinding(fs.r, f))
	}
	return strings.Join(parts, " | ")
}

// csvFinding is one finding in the findings column.
func csvFinding(r access.Report, f access.Finding) string {
	return newMark(r, f) + cmpOr(f.Severity, "-") + " " + f.Kind + ": " + findingText(f)
}

// cell names a principal's cell on a deployment.
type cell struct{ dep, kind, id string }

func cellOf(dep string, p access.Ref) cell { return cell{dep, p.Kind, p.ID} }

// sinceByCell indexes the changes gained or changed by cell, and those
// lost by deployment.
func sinceByCell(s *access.Since) (changes map[cell]access.Change, lost map[string][]access.Change) {
	changes, lost = map[cell]access.Change{}, map[string][]access.Change{}
	if s == nil {
		return changes, lost
	}
	for _, c := range s.Changes {
		if c.Change == access.Lost {
			lost[c.Deployment.ID] = append(lost[c.Deployment.ID], c)
		} else {
			changes[cellOf(c.Deployment.ID, c.Principal)] = c
		}
	}
	return changes, lost
}

// remaining are the lost changes still in lost, in the order of s.
func remaining(s *access.Since, lost map[string][]access.Change) []access.Change {
	var out []access.Change
	if s == nil {
		return out
	}
	for _, c := range s.Changes {
		if c.Change == access.Lost && len(lost[c.Deployment.ID]) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// changeBefore is the access a changed cell had before.
func changeBefore(c access.Change) string {
	if c.Change == access.Changed {
		return grantsText(c.Before)
	}
	return ""
}

// sourcesText are the sources of grants, joined by ";" (a DAG role's
// naming its DAG or tag).
func sourcesText(gs []access.Grant) string {
	sources := make([]string, len(gs))
	for i, g := range gs {
		sources[i] = g.SourceText()
	}
	return strings.Join(sources, ";")
}

// csvField is f escaped by Safe, and defused when a spreadsheet would read
// it as a formula.
func csvField(f string) string {
	f = Safe(f)
	if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
		return "'" + f
	}
	return f
}
