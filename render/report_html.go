package render

import (
	"bufio"
	_ "embed"
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
)

// ReportHTML writes the report as one self-contained HTML page: its CSS
// and script are inline and it loads nothing (its Content-Security-Policy
// forbids every request). The page is a matrix, principals by deployments
// grouped by workspace, drawn by its script from the report embedded as
// JSON; only the rows and columns in view are in the DOM, so an
// organization of 300 deployments and 6,000 principals stays responsive.
// It sorts (by principal, kind, reach, or a deployment's level), filters
// (workspace, role or level, DAG roles only, kind, managed, production
// only) and searches;
// the filter is kept in the URL's fragment
// (#q=alice&ws=data&role=level:admin&kind=user&managed=unmanaged&prod=1&sort=dep:ID),
// so a link opens the page filtered. Every string from the API goes
// through Safe, then html/template's escaping (the summary and the first
// changes since a previous report) or JSON escaping of <, > and & (the
// data, which the script only ever writes as text).
func ReportHTML(w io.Writer, r access.Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	h := newHTMLReport(r)
	if err := reportHead.Execute(bw, h); err != nil {
		return err
	}
	bw.WriteString(`<script type="application/json" id="report-data">`)
	bw.Write(h.data)
	bw.WriteString("</script>\n<script>\n")
	bw.WriteString(reportScript)
	bw.WriteString("</script>\n</body>\n</html>\n")
	return bw.Flush()
}

// sinceShown is how many changes since a previous report the page holds
// as HTML; the script shows the others on demand, from the data.
const sinceShown = 100

// sinceOpen is how many changes the page shows without a click.
const sinceOpen = 12

type htmlReport struct {
	Organization, GeneratedAt string
	Spec, TeamsExpanded       bool
	Deployments, Principals   int
	Cells                     int
	Production                int      // production deployments
	AdminProd                 int      // principals with admin on a production deployment
	Patterns                  []string // production patterns
	Since                     *htmlSince
	Findings                  *htmlFindings
	data                      []byte // the <script type="application/json"> element
}

// htmlFindings heads the findings panel; the script lists the findings
// from the data.
type htmlFindings struct {
	Counts string
	Count  int
}

type htmlSince struct {
	From                  string
	Gained, Lost, Changed int
	Changes               []htmlChange // the first sinceShown
	More                  int
	Open                  bool // few enough changes to show them unasked
}

type htmlChange struct {
	Change, Symbol, Deployment, Kind, Principal, ID, Access string
}

// The data the page's script draws, compact: tables of workspaces,
// deployments, grants and principals, and per principal one small array
// per cell (indexes into those tables):
//
//	ws: [[id, name]]
//	d:  [[id, name, workspace, production 0|1, in spec 0|1]]
//	k:  [[kind, label]]
//	g:  [[role, level rank, source, via team name, short text, full text]]
//	p:  [[kind, id, name, status]]
//	c:  [[[deployment, level rank, unmanaged 0|1, grant...]...]] (one list per principal)
//	s:  [[change, deployment, kind label, name, id, access]] (the changes not in the HTML)
//	f:  [[severity, kind, kind label, principal id, principal name, deployment id, deployment title, text, new 0|1]] (the findings)
//
// Level ranks are access.Level.Rank: 1 dag, 2 view … 6 admin.
type dataWriter struct {
	b []byte
}

func (w *dataWriter) raw(s string) { w.b = append(w.b, s...) }
func (w *dataWriter) int(n int)    { w.b = strconv.AppendInt(w.b, int64(n), 10) }
func (w *dataWriter) bool(v bool) {
	if v {
		w.b = append(w.b, '1')
	} else {
		w.b = append(w.b, '0')
	}
}

// str writes s, escaped by Safe, as a JSON string that cannot end the
// script element or start a comment in it: <, > and & are \u escapes, as
// encoding/json writes them, and so are U+2028 and U+2029.
func (w *dataWriter) str(s string) {
	s = Safe(s)
	w.b = append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			w.b = append(w.b, s[start:i]...)
			switch c {
			case '"', '\\':
				w.b = append(w.b, '\\', c)
			default:
				w.b = append(w.b, `\u00`...)
				w.b = append(w.b, hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			w.b = append(w.b, s[start:i]...)
			w.b = append(w.b, `\u202`...)
			w.b = append(w.b, hexDigits[r&0xf])
			start = i + size
		}
		i += size
	}
	w.b = append(w.b, s[start:]...)
	w.b = append(w.b, '"')
}

const hexDigits = "0123456789abcdef"

// sep writes a comma before every element but the first.
func (w *dataWriter) sep(i int) {
	if i > 0 {
		w.b = append(w.b, ',')
	}
}

// shortRole is a role as a cell shows it: a built-in role without its
// scope, in lower case; a custom role as it is.
func shortRole(role string) string {
	if role == astroapi.RoleDAGViewer || role == astroapi.RoleDAGAuthor {
		return strings.ToLower(strings.TrimPrefix(role, "DAG_"))
	}
	for _, p := range []string{"DEPLOYMENT_", "WORKSPACE_", "ORGANIZATION_"} {
		if rest, ok := strings.CutPrefix(role, p); ok && access.RoleLevel(role) != access.LevelCustom {
			return strings.ToLower(rest)
		}
	}
	return role
}

var shortSource = map[access.Source]string{access.FromDeployment: "dep", access.FromWorkspace: "ws", access.FromOrganization: "org",
	access.FromDAG: "dag ", access.FromDAGTag: "tag "}

// shortSourceOf is a grant's source as a cell shows it: dep, ws, org,
// "dag ID" or "tag TAG".
func shortSourceOf(g access.Grant) string {
	s := cmpOr(shortSource[g.Source], string(g.Source))
	if g.OnDAG() {
		s += g.DAG
	}
	return s
}

func newHTMLReport(r access.Report) htmlReport {
	h := htmlReport{Organization: Safe(r.Organization), GeneratedAt: Safe(r.GeneratedAt), Spec: r.Spec, TeamsExpanded: r.TeamsExpanded}
	for _, p := range r.Production {
		h.Patterns = append(h.Patterns, Safe(string(p)))
	}
	for _, d := range r.Deployments {
		h.Cells += len(d.Access)
		if d.Production {
			h.Production++
		}
	}
	g := groupByWorkspace(r.Deployments)
	m := buildMatrix(r.Deployments, g.order)
	h.Deployments, h.Principals, h.AdminProd = len(r.Deployments), len(m.principals), m.adminProd

	w := &dataWriter{b: make([]byte, 0, 4096+h.Cells*16+len(r.Deployments)*64)}
	w.raw(`{"spec":`)
	w.bool(r.Spec)
	w.raw(`,"ws":[`)
	w.workspaces(g)
	w.raw(`],"d":[`)
	w.deployments(r.Deployments, g)
	w.raw(`],"k":[`)
	kinds := w.kinds(m.principals)
	w.raw(`],"g":[`)
	w.grants(m.grants)
	w.raw(`],"p":[`)
	w.principals(m.principals, kinds)
	w.raw(`],"c":[`)
	w.cells(m.cells)
	w.raw(`],"s":[`)
	h.Since = w.since(r.Since)
	w.raw(`],"f":[`)
	h.Findings = w.findings(r)
	w.raw("]}")
	h.data = w.b
	return h
}

// workspaceGroups are the deployments grouped by workspace, in the
// report's order otherwise.
type workspaceGroups struct {
	keys  []workspaceKey
	index map[workspaceKey]int
	order []int // indexes of the report's deployments, grouped
}

type workspaceKey struct{ id, name string }

func groupByWorkspace(deps []access.Deployment) workspaceGroups {
	g := workspaceGroups{index: map[workspaceKey]int{}, order: make([]int, 0, len(deps))}
	byWS := map[workspaceKey][]int{}
	for i, d := range deps {
		k := workspaceKey{d.WorkspaceID, d.Workspace}
		if _, ok := g.index[k]; !ok {
			g.index[k] = len(g.keys)
			g.keys = append(g.keys, k)
		}
		byWS[k] = append(byWS[k], i)
	}
	for _, k := range g.keys {
		g.order = append(g.order, byWS[k]...)
	}
	return g
}

// matrix is the report by principal: each principal once, its cells, and
// the grants they hold, interned.
type matrix struct {
	principals []access.Entry
	cells      [][]cellRef // per principal
	grants     []access.Grant
	adminProd  int // principals with admin on a production deployment
}

type cellRef struct {
	dep, rank int // dep: the deployment's position in the page's order
	unmanaged bool
	grants    []int
}

type principalKey struct{ kind, id string }

type grantKey struct {
	role   string
	rank   int
	source access.Source
	dag    string
	via    string
}

// grantRank is a grant's level rank, from its role (or its source, for a
// DAG role) when a hand-made report left the level out.
func grantRank(g access.Grant) int {
	switch {
	case g.Level.Rank() > 0:
		return g.Level.Rank()
	case g.OnDAG():
		return access.LevelDAG.Rank()
	}
	return access.RoleLevel(g.Role).Rank()
}

func buildMatrix(deps []access.Deployment, order []int) matrix {
	var m matrix
	pIndex := map[principalKey]int{}
	gIndex := map[grantKey]int{}
	adminProd := map[int]bool{}
	for pos, di := range order {
		d := deps[di]
		for _, e := range d.Access {
			pk := principalKey{e.Principal.Kind, e.Principal.ID}
			p, ok := pIndex[pk]
			if !ok {
				p = len(m.principals)
				pIndex[pk] = p
				m.principals = append(m.principals, e)
				m.cells = append(m.cells, nil)
			} else if m.principals[p].Status == "" {
				m.principals[p].Status = e.Status
			}
			c := cellRef{dep: pos, rank: e.Level.Rank(), unmanaged: e.Unmanaged, grants: make([]int, len(e.Grants))}
			for gi, g := range e.Grants {
				gk := grantKey{role: g.Role, rank: grantRank(g), source: g.Source, dag: g.DAG}
				if g.Via != nil {
					gk.via = g.Via.Name
				}
				n, ok := gIndex[gk]
				if !ok {
					n = len(m.grants)
					gIndex[gk] = n
					m.grants = append(m.grants, g)
				}
				c.grants[gi] = n
				c.rank = max(c.rank, gk.rank)
			}
			if c.rank == access.LevelAdmin.Rank() && d.Production {
				adminProd[p] = true
			}
			m.cells[p] = append(m.cells[p], c)
		}
	}
	m.adminProd = len(adminProd)
	return m
}

// record writes one array of fields, each written by its function.
func (w *dataWriter) record(fields ...func()) {
	w.raw("[")
	for i, f := range fields {
		w.sep(i)
		f()
	}
	w.raw("]")
}

func (w *dataWriter) workspaces(g workspaceGroups) {
	for i, k := range g.keys {
		w.sep(i)
		w.record(func() { w.str(k.id) }, func() { w.str(k.name) })
	}
}

func (w *dataWriter) deployments(deps []access.Deployment, g workspaceGroups) {
	for i, di := range g.order {
		d := deps[di]
		w.sep(i)
		w.record(func() { w.str(d.ID) }, func() { w.str(d.Name) }, func() { w.int(g.index[workspaceKey{d.WorkspaceID, d.Workspace}]) },
			func() { w.bool(d.Production) }, func() { w.bool(d.InSpec) })
	}
}

// kinds writes the kinds of principals, sorted, and returns their indexes.
func (w *dataWriter) kinds(principals []access.Entry) map[string]int {
	seen := map[string]bool{}
	for _, e := range principals {
		seen[e.Principal.Kind] = true
	}
	index := map[string]int{}
	for i, k := range slices.Sorted(maps.Keys(seen)) {
		index[k] = i
		w.sep(i)
		w.record(func() { w.str(k) }, func() { w.str(kindLabel(k)) })
	}
	return index
}

func (w *dataWriter) grants(grants []access.Grant) {
	for i, g := range grants {
		via, short := "", shortRole(g.Role)+" · "
		if g.Via != nil {
			via = g.Via.Name
			short += "via " + via
		} else {
			short += shortSourceOf(g)
		}
		w.sep(i)
		w.record(func() { w.str(g.Role) }, func() { w.int(grantRank(g)) }, func() { w.str(string(g.Source)) },
			func() { w.str(via) }, func() { w.str(short) }, func() { w.str(grantText(g)) })
	}
}

func (w *dataWriter) principals(principals []access.Entry, kinds map[string]int) {
	for i, e := range principals {
		w.sep(i)
		w.record(func() { w.int(kinds[e.Principal.Kind]) }, func() { w.str(e.Principal.ID) }, func() { w.str(e.Principal.Name) }, func() { w.str(e.Status) })
	}
}

func (w *dataWriter) cells(cells [][]cellRef) {
	for i, cs := range cells {
		w.sep(i)
		w.raw("[")
		for j, c := range cs {
			w.sep(j)
			w.raw("[")
			w.int(c.dep)
			w.raw(",")
			w.int(c.rank)
			w.raw(",")
			w.bool(c.unmanaged)
			for _, g := range c.grants {
				w.raw(",")
				w.int(g)
			}
			w.raw("]")
		}
		w.raw("]")
	}
}

// since returns the changes since a previous report the page holds as
// HTML (the first sinceShown), and writes the others as data.
func (w *dataWriter) since(since *access.Since) *htmlSince {
	if since == nil {
		return nil
	}
	s := &htmlSince{From: Safe(cmpOr(since.GeneratedAt, "the previous report")), Open: len(since.Changes) <= sinceOpen}
	s.Gained, s.Lost, s.Changed = sinceCounts(since)
	for i, c := range since.Changes {
		hc := htmlChange{Change: c.Change, Symbol: changeSymbol[c.Change], Deployment: deploymentTitle(c.Deployment.Workspace, c.Deployment.Name),
			Kind: kindLabel(c.Principal.Kind), Principal: Safe(c.Principal.Name), ID: Safe(c.Principal.ID), Access: changeText(c)}
		if i < sinceShown {
			s.Changes = append(s.Changes, hc)
			continue
		}
		s.More++
		w.sep(i - sinceShown)
		w.raw("[")
		for j, f := range []string{hc.Change, hc.Deployment, hc.Kind, hc.Principal, hc.ID, hc.Access} {
			w.sep(j)
			w.str(f)
		}
		w.raw("]")
	}
	return s
}

// findings writes the findings as data, and returns the panel's head (nil
// when the report has none computed).
func (w *dataWriter) findings(r access.Report) *htmlFindings {
	if r.Review == nil && len(r.Findings) == 0 {
		return nil
	}
	for i, f := range r.Findings {
		dep, title := "", ""
		if f.Deployment != nil {
			dep, title = f.Deployment.ID, deploymentTitle(f.Deployment.Workspace, f.Deployment.Name)
		}
		w.sep(i)
		w.record(func() { w.str(cmpOr(f.Severity, "-")) }, func() { w.str(f.Kind) }, func() { w.str(kindLabel(f.Principal.Kind)) },
			func() { w.str(f.Principal.ID) }, func() { w.str(f.Principal.Name) }, func() { w.str(dep) }, func() { w.str(title) },
			func() { w.str(findingText(f)) }, func() { w.bool(r.Since != nil && f.New) })
	}
	return &htmlFindings{Counts: findingCounts(r), Count: len(r.Findings)}
}

// reportScript draws the matrix; it holds no template action and reads
// the data only as text (textContent, setAttribute), never as markup.
//
//go:embed report_page.js
var reportScript string

var reportHead = template.Must(template.New("report").Funcs(template.FuncMap{"join": strings.Join}).Parse(reportHeadHTML))

const reportHeadHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Access report: {{.Organization}}</title>
<style>
:root{--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;--hover:#eef4ff;
--l1:#eaeef2;--l1f:#424a53;--l2:#ddf4ff;--l2f:#0a3069;--l3:#dafbe1;--l3f:#116329;--l4:#fff8c5;--l4f:#7d4e00;--l5:#fbefff;--l5f:#6e40c9;--l6:#ffebe9;--l6f:#a40e26;
--ap:#cf222e;--apf:#fff;--prod:#fff1f0;--um:#bf8700}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#30363d;--head:#161b22;--hover:#1c2a3f;
--l1:#21262d;--l1f:#c9d1d9;--l2:#0c2d4a;--l2f:#9cd4ff;--l3:#0f3320;--l3f:#7ee2a0;--l4:#3b2e00;--l4f:#f2cc60;--l5:#2e1f4d;--l5f:#d2a8ff;--l6:#4a1a1e;--l6f:#ffaba8;
--ap:#da3633;--apf:#fff;--prod:#2a1517;--um:#d29922}}
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1rem 1.5rem;color:var(--fg);background:var(--bg)}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.25rem 0 .5rem}
.meta,.muted{color:var(--muted)}code{font:12px ui-monospace,monospace}
.summary{font-size:1.05rem;margin:.5rem 0}.summary strong.hot{color:var(--ap)}
.controls{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:.75rem 0}
.controls label{display:flex;gap:.35rem;align-items:center}
input[type=search]{min-width:16rem;padding:.3rem .5rem}select{padding:.25rem;max-width:16rem}
button{font:inherit}
.legend{display:flex;gap:.4rem;flex-wrap:wrap;align-items:center;font-size:12px;margin:.25rem 0 .5rem}
.legend span{padding:0 .4rem;border-radius:3px}
#grid{position:relative;overflow:auto;height:78vh;min-height:320px;border:1px solid var(--line);outline-offset:2px;contain:strict}
#grid .sizer{position:relative}
.head{position:sticky;top:0;z-index:3;background:var(--head)}
.hrow{position:relative;border-bottom:1px solid var(--line)}
.hrow>div{position:absolute;top:0;bottom:0;overflow:hidden;border-left:1px solid var(--line);background:var(--head)}
.hrow>.corner{position:sticky;left:0;z-index:2;display:flex;gap:.5rem;align-items:center;padding:0 .5rem;border-left:0;border-right:2px solid var(--line)}
.wsh{font-weight:600;padding:2px .5rem;white-space:nowrap;text-overflow:ellipsis}
.dh{padding:2px 4px;font-size:12px;line-height:1.25;cursor:pointer}
.dh button{all:unset;cursor:pointer;display:block;width:100%;height:100%;overflow:hidden}
.dh .n{display:block;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.dh .w{display:block;color:var(--muted);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.dh .cnt{color:var(--muted)}
.dh.prod{background:var(--prod);box-shadow:inset 0 3px 0 var(--ap)}
.badge{display:inline-block;font-size:10px;font-weight:700;padding:0 3px;border-radius:3px;background:var(--ap);color:var(--apf);letter-spacing:.03em}
.corner button{all:unset;cursor:pointer;font-weight:600;padding:0 .15rem}
.dh[aria-sort=ascending] .n::after,.corner button.asc::after{content:" \25B2"}
.dh[aria-sort=descending] .n::after,.corner button.desc::after{content:" \25BC"}
.dh:focus-within,.corner button:focus-visible{outline:2px solid #0969da;outline-offset:-2px}
.body{position:absolute;left:0}
.row{position:absolute;left:0;border-bottom:1px solid var(--line)}
.row:hover>div{filter:brightness(.97)}
.ph{position:sticky;left:0;z-index:1;height:100%;background:var(--bg);border-right:2px solid var(--line);padding:0 .5rem;display:flex;gap:.4rem;align-items:center;white-space:nowrap;overflow:hidden}
.ph .pn{overflow:hidden;text-overflow:ellipsis;flex:1 1 auto}
.ph .pk,.ph .rc{color:var(--muted);font-size:11px;flex:none}
.ph .st{font-size:10px;border:1px solid var(--line);border-radius:1rem;padding:0 .3rem;flex:none}
.c{position:absolute;top:0;bottom:0;border-left:1px solid var(--line);font-size:12px;padding:0 4px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;display:flex;align-items:center}
.c.pc{background:var(--prod)}
.lv1{background:var(--l1);color:var(--l1f)}.lv2{background:var(--l2);color:var(--l2f)}.lv3{background:var(--l3);color:var(--l3f)}
.lv4{background:var(--l4);color:var(--l4f)}.lv5{background:var(--l5);color:var(--l5f)}.lv6{background:var(--l6);color:var(--l6f)}
.c.ap{background:var(--ap);color:var(--apf);font-weight:700}
.c.um{box-shadow:inset 0 -3px 0 var(--um)}
.empty{padding:1rem;color:var(--muted)}
#since summary{cursor:pointer}#since summary h2{display:inline;font-size:1.1rem}
table.since{border-collapse:collapse;width:100%;margin:.5rem 0}
table.since th,table.since td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
.gained{color:#1a7f37}.lost{color:#d1242f}.changed{color:#9a6700}
ul.findings{list-style:none;padding:0;margin:.25rem 0;max-height:16rem;overflow:auto;border:1px solid var(--line)}
ul.findings li{border-bottom:1px solid var(--line)}
ul.findings button{all:unset;cursor:pointer;display:flex;gap:.5rem;width:100%;padding:.2rem .5rem;box-sizing:border-box}
ul.findings button:hover,ul.findings button[aria-pressed=true]{background:var(--hover)}
ul.findings button:focus-visible{outline:2px solid #0969da;outline-offset:-2px}
.sev{font-size:11px;font-weight:700;text-transform:uppercase;min-width:4.5em}.sev.high{color:var(--ap)}.sev.medium{color:var(--um)}
.fk{color:var(--muted);min-width:11em}.fnew{font-size:10px;font-weight:700;padding:0 3px;border-radius:3px;background:var(--l3);color:var(--l3f)}
#print{display:none}
@media print{
:root{--fg:#000;--bg:#fff;--muted:#444;--line:#999;--head:#eee;--l1:#fff;--l2:#fff;--l3:#fff;--l4:#fff;--l5:#fff;--l6:#fff;--l1f:#000;--l2f:#000;--l3f:#000;--l4f:#000;--l5f:#000;--l6f:#000;--ap:#000;--apf:#fff;--prod:#fff}
body{margin:0;font-size:10px}.controls,.legend,#grid,#count,button.more,.noprint{display:none!important}
#print{display:block}
#print table{border-collapse:collapse;font-size:9px}
#print th,#print td{border:1px solid #999;padding:1px 3px;text-align:left;vertical-align:top}
#print thead{display:table-header-group}#print tr{break-inside:avoid}
#print td.ap{font-weight:700;outline:2px solid #000;outline-offset:-2px}
#print th.prod{text-decoration:underline}
}
</style>
</head>
<body>
<h1>Access report</h1>
<p class="meta">Organization <code>{{.Organization}}</code>{{if .GeneratedAt}} · {{.GeneratedAt}}{{end}} · {{.Deployments}} deployments ({{.Production}} production{{if .Patterns}}: {{join .Patterns ", "}}{{end}}) · {{.Principals}} principals · {{.Cells}} cells{{if .TeamsExpanded}} · team members expanded{{end}}{{if .Spec}} · cells the spec does not list are marked unmanaged{{end}}</p>
<p class="summary" id="summary">{{if .Production}}<strong{{if .AdminProd}} class="hot"{{end}}>{{.AdminProd}}</strong> principal{{if ne .AdminProd 1}}s hold{{else}} holds{{end}} admin on production deployments.{{if .AdminProd}} <button type="button" id="show-admin-prod" class="noprint">Show them</button>{{end}}{{else}}No deployment is marked production (--production).{{end}}</p>
{{with .Since}}<section id="since" aria-labelledby="since-h">
<details{{if .Open}} open{{end}}><summary><h2 id="since-h">Since {{.From}}: <span class="gained">{{.Gained}} gained</span>, <span class="lost">{{.Lost}} lost</span>, <span class="changed">{{.Changed}} changed</span></h2></summary>
{{if .Changes}}<table class="since">
<thead><tr><th scope="col">Change</th><th scope="col">Deployment</th><th scope="col">Kind</th><th scope="col">Principal</th><th scope="col">Access</th></tr></thead>
<tbody id="since-rows">
{{range .Changes}}<tr class="{{.Change}}"><td>{{.Symbol}} {{.Change}}</td><td>{{.Deployment}}</td><td>{{.Kind}}</td><td>{{.Principal}} <span class="muted">{{.ID}}</span></td><td>{{.Access}}</td></tr>
{{end}}</tbody>
</table>{{if .More}}
<button type="button" class="more" id="since-more">Show {{.More}} more changes</button>{{end}}{{end}}
</details>
</section>
{{end}}{{with .Findings}}<section id="findings" aria-labelledby="findings-h">
<h2 id="findings-h">Findings: {{.Counts}}</h2>
{{if .Count}}<p class="muted noprint">Select a finding to show its principal (and its deployment) in the matrix; Clear shows everyone again.</p>
<ul id="findings-list" class="findings"></ul>
<button type="button" class="more" id="findings-more" hidden></button>{{end}}
</section>
{{end}}<h2 id="matrix-h">Who can touch which deployment</h2>
<noscript><p>The matrix needs JavaScript; the same report is available as text, markdown, CSV or JSON (tokensync report -o).</p></noscript>
<div class="controls" role="search" aria-label="Filter the matrix">
<label>Search <input type="search" id="q" placeholder="principal name, id, status" autocomplete="off"></label>
<label>Workspace <select id="ws"><option value="">all</option></select></label>
<label>Role <select id="role"><option value="">any</option></select></label>
<label>Kind <select id="kind"><option value="">any</option></select></label>
{{if .Spec}}<label>Spec <select id="managed"><option value="">managed and unmanaged</option><option value="managed">managed</option><option value="unmanaged">unmanaged</option></select></label>
{{end}}<label><input type="checkbox" id="prod"> production only</label>
<button type="button" id="reset">Clear</button>
<span id="count" class="muted" aria-live="polite"></span>
</div>
<div class="legend" aria-hidden="true"><span class="lv1">dag</span><span class="lv2">view</span><span class="lv3">author</span><span class="lv4">operate</span><span class="lv5">custom</span><span class="lv6">admin</span><span class="c ap" style="position:static;display:inline">admin on production</span><span><span class="badge">PROD</span> production deployment</span>{{if .Spec}}<span style="box-shadow:inset 0 -3px 0 var(--um)">unmanaged</span>{{end}}<span class="muted">dep, ws, org, dag, tag: the role is on the deployment, its workspace, the organization, one DAG, one DAG tag</span></div>
<div id="grid" role="grid" aria-labelledby="matrix-h" tabindex="0"><div class="sizer"><div class="head" role="rowgroup"><div class="hrow" id="ws-row" role="row"></div><div class="hrow" id="dep-row" role="row"></div></div><div class="body" role="rowgroup" id="rows"></div></div></div>
<div id="print"></div>
`
