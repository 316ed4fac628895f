package render

import (
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tokensync/tokensync/access"
)

// ReportHTML writes the report as one self-contained HTML page: its CSS
// and script are inline, it loads nothing (its Content-Security-Policy
// forbids every request), and its table sorts (click a column), filters
// (kind, source, unmanaged) and searches. The filter is kept in the URL's
// fragment (#q=alice&kind=user&source=workspace&unmanaged=1), so a link
// opens the page filtered. Every string from the API goes through Safe and
// html/template's escaping.
func ReportHTML(w io.Writer, r access.Report) error {
	return reportPage.Execute(w, newHTMLReport(r))
}

type htmlReport struct {
	Organization, GeneratedAt string
	Spec, TeamsExpanded       bool
	Deployments, Cells        int
	Kinds                     []htmlOption
	Rows                      []htmlRow
	Nobody                    []string // deployments nobody can touch
	Since                     *htmlSince
}

type htmlOption struct{ Value, Label string }

type htmlRow struct {
	Workspace, Deployment, DeploymentID string
	Kind, KindLabel, Principal, ID      string
	Status, Access, Sources             string
	InSpec, Unmanaged                   bool
}

type htmlSince struct {
	From                  string
	Gained, Lost, Changed int
	Changes               []htmlChange
}

type htmlChange struct {
	Change, Symbol, Deployment, Kind, Principal, ID, Access string
}

func newHTMLReport(r access.Report) htmlReport {
	h := htmlReport{Organization: Safe(r.Organization), GeneratedAt: Safe(r.GeneratedAt), Spec: r.Spec, TeamsExpanded: r.TeamsExpanded, Deployments: len(r.Deployments)}
	kinds := map[string]bool{}
	for _, d := range r.Deployments {
		if len(d.Access) == 0 {
			h.Nobody = append(h.Nobody, deploymentTitle(d.Workspace, d.Name))
		}
		for _, e := range d.Access {
			kinds[e.Principal.Kind] = true
			h.Rows = append(h.Rows, htmlRow{
				Workspace: Safe(d.Workspace), Deployment: Safe(d.Name), DeploymentID: Safe(d.ID),
				Kind: Safe(e.Principal.Kind), KindLabel: kindLabel(e.Principal.Kind), Principal: Safe(e.Principal.Name), ID: Safe(e.Principal.ID),
				Status: Safe(e.Status), Access: grantsText(e.Grants), Sources: sourcesOf(e.Grants), InSpec: d.InSpec, Unmanaged: e.Unmanaged,
			})
		}
	}
	h.Cells = len(h.Rows)
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		h.Kinds = append(h.Kinds, htmlOption{Value: Safe(k), Label: kindLabel(k)})
	}
	if r.Since != nil {
		s := &htmlSince{From: Safe(cmpOr(r.Since.GeneratedAt, "the previous report"))}
		s.Gained, s.Lost, s.Changed = sinceCounts(r.Since)
		for _, c := range r.Since.Changes {
			s.Changes = append(s.Changes, htmlChange{Change: c.Change, Symbol: changeSymbol[c.Change], Deployment: deploymentTitle(c.Deployment.Workspace, c.Deployment.Name),
				Kind: kindLabel(c.Principal.Kind), Principal: Safe(c.Principal.Name), ID: Safe(c.Principal.ID), Access: changeText(c)})
		}
		h.Since = s
	}
	return h
}

// sourcesOf are the distinct sources of grants, space-separated.
func sourcesOf(gs []access.Grant) string {
	var out []string
	for _, g := range gs {
		if s := string(g.Source); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{"itoa": strconv.Itoa}).Parse(reportTemplate))

const reportTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Access report: {{.Organization}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1f2328;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.meta,.muted{color:#59636e}code{font:12px ui-monospace,monospace}
.controls{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin:1rem 0;position:sticky;top:0;background:#fff;padding:.5rem 0}
input[type=search]{min-width:18rem;padding:.3rem .5rem}select{padding:.25rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d1d9e0;vertical-align:top}
th button{all:unset;cursor:pointer;font-weight:600}th[aria-sort=ascending] button::after{content:" \25B2"}th[aria-sort=descending] button::after{content:" \25BC"}
tr.unmanaged td{background:#fff8c5}.tag{font-size:11px;padding:0 .35rem;border-radius:1rem;border:1px solid #d1d9e0;white-space:nowrap}
.tag.unmanaged{border-color:#bf8700;color:#7d4e00}.gained{color:#1a7f37}.lost{color:#d1242f}.changed{color:#9a6700}
td.id{color:#59636e;font:12px ui-monospace,monospace}
@media (prefers-color-scheme:dark){body,.controls{background:#0d1117;color:#e6edf3}th,td{border-color:#30363d}tr.unmanaged td{background:#3b2e00}.meta,.muted,td.id{color:#9198a1}}
</style>
</head>
<body>
<h1>Access report</h1>
<p class="meta">Organization <code>{{.Organization}}</code>{{if .GeneratedAt}} · {{.GeneratedAt}}{{end}} · {{.Deployments}} deployments · {{.Cells}} cells{{if .TeamsExpanded}} · team members expanded{{end}}{{if .Spec}} · cells the spec does not list are marked unmanaged{{end}}</p>
{{with .Since}}
<h2>Since {{.From}}: {{.Gained}} gained, {{.Lost}} lost, {{.Changed}} changed</h2>
{{if .Changes}}<table id="since">
<thead><tr><th>Change</th><th>Deployment</th><th>Kind</th><th>Principal</th><th>Access</th></tr></thead>
<tbody>
{{range .Changes}}<tr class="{{.Change}}"><td>{{.Symbol}} {{.Change}}</td><td>{{.Deployment}}</td><td>{{.Kind}}</td><td>{{.Principal}} <span class="muted">{{.ID}}</span></td><td>{{.Access}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{end}}
<h2>Who can touch which deployment</h2>
<div class="controls" role="search">
<label>Search <input type="search" id="q" placeholder="name, id, role, deployment…" autocomplete="off"></label>
<label>Kind <select id="kind"><option value="">any</option>{{range .Kinds}}<option value="{{.Value}}">{{.Label}}</option>{{end}}</select></label>
<label>Source <select id="source"><option value="">any</option><option value="deployment">deployment</option><option value="workspace">workspace</option><option value="organization">organization</option></select></label>
{{if .Spec}}<label><input type="checkbox" id="unmanaged"> unmanaged only</label>{{end}}
<span id="count" class="muted" aria-live="polite">{{.Cells}} of {{.Cells}}</span>
</div>
<table id="access">
<thead><tr><th><button type="button">Workspace</button></th><th><button type="button">Deployment</button></th><th><button type="button">Principal</button></th><th><button type="button">Kind</button></th><th><button type="button">Access</button></th>{{if .Spec}}<th><button type="button">Spec</button></th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr data-kind="{{.Kind}}" data-sources="{{.Sources}}" data-unmanaged="{{.Unmanaged}}"{{if .Unmanaged}} class="unmanaged"{{end}}><td>{{.Workspace}}</td><td>{{.Deployment}}<br><span class="muted">{{.DeploymentID}}</span></td><td>{{.Principal}}{{if .Status}} <span class="tag">{{.Status}}</span>{{end}}<br><span class="muted">{{.ID}}</span></td><td>{{.KindLabel}}</td><td>{{.Access}}</td>{{if $.Spec}}<td>{{if .Unmanaged}}<span class="tag unmanaged">unmanaged</span>{{else}}managed{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{if .Nobody}}<h2>Deployments nobody can touch</h2>
<ul>{{range .Nobody}}<li>{{.}}</li>{{end}}</ul>{{end}}
<script>
(function () {
  "use strict";
  var q = document.getElementById("q"), kind = document.getElementById("kind"), source = document.getElementById("source"),
      unmanaged = document.getElementById("unmanaged"), count = document.getElementById("count"),
      body = document.querySelector("#access tbody"), rows = Array.prototype.slice.call(body.rows);
  function load() {
    var p = new URLSearchParams(location.hash.slice(1));
    q.value = p.get("q") || "";
    kind.value = p.get("kind") || "";
    source.value = p.get("source") || "";
    if (unmanaged) { unmanaged.checked = p.get("unmanaged") === "1"; }
  }
  function save(text) {
    var p = new URLSearchParams();
    if (text) { p.set("q", text); }
    if (kind.value) { p.set("kind", kind.value); }
    if (source.value) { p.set("source", source.value); }
    if (unmanaged && unmanaged.checked) { p.set("unmanaged", "1"); }
    var h = p.toString();
    if (h !== location.hash.slice(1)) {
      try { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); } catch (e) { /* a file: page may refuse */ }
    }
  }
  function filter() {
    var text = q.value.trim(), needle = text.toLowerCase(), shown = 0;
    rows.forEach(function (r) {
      var show = (!needle || r.textContent.toLowerCase().indexOf(needle) >= 0) &&
        (!kind.value || r.getAttribute("data-kind") === kind.value) &&
        (!source.value || (" " + r.getAttribute("data-sources") + " ").indexOf(" " + source.value + " ") >= 0) &&
        (!unmanaged || !unmanaged.checked || r.getAttribute("data-unmanaged") === "true");
      r.hidden = !show;
      if (show) { shown++; }
    });
    count.textContent = shown + " of " + rows.length;
    save(text);
  }
  var heads = document.querySelectorAll("#access thead th");
  Array.prototype.forEach.call(heads, function (th, i) {
    th.querySelector("button").addEventListener("click", function () {
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      rows.sort(function (a, b) { return dir * a.cells[i].textContent.localeCompare(b.cells[i].textContent); });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  [q, kind, source, unmanaged].forEach(function (el) { if (el) { el.addEventListener("input", filter); el.addEventListener("change", filter); } });
  window.addEventListener("hashchange", function () { load(); filter(); });
  load();
  filter();
}());
</script>
</body>
</html>
`
