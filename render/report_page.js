(function () {
  "use strict";
  // The access matrix: principals (rows) by deployments (columns, grouped
  // by workspace), drawn from the JSON data element. Only the rows and
  // columns in view (plus a margin) are in the DOM; scrolling redraws on
  // the next animation frame when the window moves by a chunk. Every
  // string from the report is written with textContent or setAttribute.
  var ROW_H = 26, COL_W = 104, P_W = 300, WS_H = 24, DEP_H = 54, HEAD_H = WS_H + DEP_H;
  var ROW_CHUNK = 32, COL_CHUNK = 8, PRINT_ROWS = 2000, PRINT_CELLS = 60000;
  var LEVELS = ["", "dag", "view", "author", "operate", "custom", "admin"];
  var DAG = LEVELS.indexOf("dag"), CUSTOM = LEVELS.indexOf("custom"), ADMIN = LEVELS.indexOf("admin");
  var T = { start: performance.now() };
  var D = JSON.parse(document.getElementById("report-data").textContent);
  T.parsed = performance.now();
  var WS = D.ws, DEP = D.d, K = D.k, G = D.g, P = D.p, C = D.c;
  var nP = P.length, nD = DEP.length;
  var $ = function (id) { return document.getElementById(id); };
  var grid = $("grid"), sizer = grid.firstChild, wsRow = $("ws-row"), depRow = $("dep-row"), body = $("rows");
  var q = $("q"), wsSel = $("ws"), roleSel = $("role"), kindSel = $("kind"), managedSel = $("managed"), prodBox = $("prod"), count = $("count");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function option(sel, value, label) { var o = el("option", "", label); o.value = value; sel.appendChild(o); }

  // Indexes: search text and name order of principals, roles present.
  var hay = new Array(nP), nameOrder = new Array(nP), i, j;
  for (i = 0; i < nP; i++) { hay[i] = (P[i][2] + "\n" + P[i][1] + "\n" + P[i][3]).toLowerCase(); nameOrder[i] = i; }
  var collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
  nameOrder.sort(function (a, b) { return collator.compare(P[a][2], P[b][2]) || collator.compare(P[a][1], P[b][1]); });
  var nameRank = new Int32Array(nP);
  for (i = 0; i < nP; i++) { nameRank[nameOrder[i]] = i; }
  var roleNames = [], roleOfGrant = new Int32Array(G.length), seenRole = {};
  for (i = 0; i < G.length; i++) {
    if (!Object.prototype.hasOwnProperty.call(seenRole, G[i][0])) { seenRole[G[i][0]] = roleNames.length; roleNames.push(G[i][0]); }
  }
  var sortedRoles = roleNames.slice().sort();
  for (i = 0; i < G.length; i++) { roleOfGrant[i] = seenRole[G[i][0]]; }
  // holds says a cell holds a grant of level rank r.
  function holds(c, r) {
    for (var j = 3; j < c.length; j++) { if (G[c[j]][1] === r) { return true; } }
    return false;
  }

  T.indexed = performance.now();
  // Controls.
  WS.forEach(function (w) { option(wsSel, w[0], w[1]); });
  // As --min-role: a custom role's permissions are unknown, so a level
  // floor never hides it.
  // A DAG role reaches one DAG or tag only: "dag" keeps the cells that
  // hold one, whatever else they hold.
  var lg = el("optgroup"); lg.label = "Level at least (custom roles kept)";
  [ADMIN, ADMIN - 2, ADMIN - 3, ADMIN - 4].forEach(function (r) { var o = el("option", "", LEVELS[r] + " or more"); o.value = "level:" + LEVELS[r]; lg.appendChild(o); });
  (function () { var o = el("option", "", "dag: holds a DAG role"); o.value = "level:dag"; lg.appendChild(o); }());
  roleSel.appendChild(lg);
  var rg = el("optgroup"); rg.label = "Role";
  sortedRoles.forEach(function (r) { var o = el("option", "", r); o.value = "role:" + r; rg.appendChild(o); });
  roleSel.appendChild(rg);
  K.forEach(function (k) { option(kindSel, k[0], k[1]); });

  // State, kept in the fragment.
  // pid and dep narrow the matrix to one principal (by id) and one
  // deployment (by id): a selected finding's.
  var st = { q: "", ws: "", role: "", kind: "", managed: "", prod: false, pid: "", dep: "", sort: "name", dir: 1 };
  function load() {
    var p = new URLSearchParams(location.hash.slice(1));
    st.q = p.get("q") || "";
    st.ws = p.get("ws") || "";
    // A workspace by name works too.
    if (st.ws && !WS.some(function (w) { return w[0] === st.ws; })) {
      var byName = WS.filter(function (w) { return w[1] === st.ws; })[0];
      if (byName) { st.ws = byName[0]; }
    }
    st.role = p.get("role") || "";
    st.kind = p.get("kind") || "";
    st.managed = p.get("managed") || (p.get("unmanaged") === "1" ? "unmanaged" : "");
    if (!managedSel) { st.managed = ""; }
    st.prod = p.get("prod") === "1";
    st.pid = p.get("pid") || "";
    st.dep = p.get("dep") || "";
    st.sort = p.get("sort") || "name";
    st.dir = p.get("dir") === "desc" ? -1 : p.get("dir") === "asc" ? 1 : defaultDir(st.sort);
    q.value = st.q; wsSel.value = st.ws; roleSel.value = st.role; kindSel.value = st.kind; prodBox.checked = st.prod;
    if (managedSel) { managedSel.value = st.managed; }
    // A value the page does not offer reads as no filter.
    st.ws = wsSel.value; st.role = roleSel.value; st.kind = kindSel.value;
    if (managedSel) { st.managed = managedSel.value; }
  }
  function defaultDir(sort) { return sort === "name" || sort === "kind" ? 1 : -1; }
  function save() {
    var p = new URLSearchParams();
    if (st.q) { p.set("q", st.q); }
    if (st.ws) { p.set("ws", st.ws); }
    if (st.role) { p.set("role", st.role); }
    if (st.kind) { p.set("kind", st.kind); }
    if (st.managed) { p.set("managed", st.managed); }
    if (st.prod) { p.set("prod", "1"); }
    if (st.pid) { p.set("pid", st.pid); }
    if (st.dep) { p.set("dep", st.dep); }
    if (st.sort !== "name") { p.set("sort", st.sort); }
    if (st.dir !== defaultDir(st.sort)) { p.set("dir", st.dir > 0 ? "asc" : "desc"); }
    var h = p.toString();
    if (h !== location.hash.slice(1)) {
      try { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); } catch (e) { /* a file: page may refuse */ }
    }
  }

  // The filtered view: shown columns, shown rows in order, per row its
  // shown cells, per column its count.
  var cols = [], colPos = new Int32Array(nD), rows = [], reach = new Int32Array(nP), depCount = new Int32Array(nD);
  var cellOK = new Uint8Array(0), cellStart = new Int32Array(nP + 1);
  (function () { var n = 0; for (var p = 0; p < nP; p++) { cellStart[p] = n; n += C[p].length; } cellStart[nP] = n; cellOK = new Uint8Array(n); }());

  var applied = "";
  function apply(again) {
    var sig = JSON.stringify(st);
    if (sig === applied && !again) { return; }
    applied = sig;
    var t0 = performance.now(), d, p, c, cs, k;
    var wsIdx = -1;
    for (i = 0; i < WS.length; i++) { if (WS[i][0] === st.ws) { wsIdx = i; } }
    cols = [];
    for (d = 0; d < nD; d++) {
      colPos[d] = -1;
      if ((wsIdx < 0 || DEP[d][2] === wsIdx) && (!st.prod || DEP[d][3] === 1) && (!st.dep || DEP[d][0] === st.dep)) { colPos[d] = cols.length; cols.push(d); }
      depCount[d] = 0;
    }
    var minRank = 0, role = -1, dagOnly = st.role === "level:dag";
    if (st.role.indexOf("level:") === 0 && !dagOnly) { minRank = LEVELS.indexOf(st.role.slice(6)); }
    if (st.role.indexOf("role:") === 0) { role = Object.prototype.hasOwnProperty.call(seenRole, st.role.slice(5)) ? seenRole[st.role.slice(5)] : -2; }
    var kindIdx = -1;
    for (i = 0; i < K.length; i++) { if (K[i][0] === st.kind) { kindIdx = i; } }
    var needle = st.q.trim().toLowerCase(), um = st.managed === "unmanaged" ? 1 : st.managed === "managed" ? 0 : -1;
    rows = [];
    for (p = 0; p < nP; p++) {
      reach[p] = 0;
      var base = cellStart[p];
      cs = C[p];
      if ((kindIdx >= 0 && P[p][0] !== kindIdx) || (needle && hay[p].indexOf(needle) < 0) || (st.pid && P[p][1] !== st.pid)) {
        for (k = 0; k < cs.length; k++) { cellOK[base + k] = 0; }
        continue;
      }
      var n = 0;
      for (k = 0; k < cs.length; k++) {
        c = cs[k];
        var ok = colPos[c[0]] >= 0 && (c[1] >= minRank || holds(c, CUSTOM)) && (!dagOnly || holds(c, DAG)) && (um < 0 || c[2] === um);
        if (ok && role !== -1) {
          ok = false;
          for (j = 3; j < c.length; j++) { if (roleOfGrant[c[j]] === role) { ok = true; break; } }
        }
        cellOK[base + k] = ok ? 1 : 0;
        if (ok) { n++; depCount[c[0]]++; }
      }
      reach[p] = n;
      if (n > 0) { rows.push(p); }
    }
    sortRows();
    save();
    layout();
    paint(true);
    var any = st.q || st.ws || st.role || st.kind || st.managed || st.prod || st.pid || st.dep;
    count.textContent = rows.length + " of " + nP + " principals · " + cols.length + " of " + nD + " deployments" + (any ? " (filtered)" : "") +
      (st.pid || st.dep ? " · finding: " + (st.pid || "any principal") + (st.dep ? " on " + st.dep : "") : "");
    markFindings();
    window.__reportLastApply = { q: st.q, rows: rows.length, cols: cols.length, ms: performance.now() - t0, at: performance.now() };
  }

  function levelOn(p, d) {
    var cs = C[p], base = cellStart[p];
    for (var k = 0; k < cs.length; k++) { if (cs[k][0] === d) { return cellOK[base + k] ? cs[k][1] : 0; } }
    return 0;
  }
  function sortRows() {
    var dir = st.dir, by;
    if (st.sort === "kind") {
      by = function (a, b) { return dir * collator.compare(K[P[a][0]][1], K[P[b][0]][1]) || nameRank[a] - nameRank[b]; };
    } else if (st.sort === "reach") {
      by = function (a, b) { return dir * (reach[a] - reach[b]) || nameRank[a] - nameRank[b]; };
    } else if (st.sort.indexOf("dep:") === 0) {
      var id = st.sort.slice(4), d = -1;
      for (i = 0; i < nD; i++) { if (DEP[i][0] === id) { d = i; } }
      var lv = new Int8Array(nP);
      if (d >= 0) { rows.forEach(function (p) { lv[p] = levelOn(p, d); }); }
      by = function (a, b) { return dir * (lv[a] - lv[b]) || nameRank[a] - nameRank[b]; };
    } else {
      by = function (a, b) { return dir * (nameRank[a] - nameRank[b]); };
    }
    rows.sort(by);
  }

  // Drawing.
  var win = { r0: -1, r1: -1, c0: -1, c1: -1 };
  function layout() {
    var w = P_W + cols.length * COL_W;
    sizer.style.width = w + "px";
    sizer.style.height = HEAD_H + rows.length * ROW_H + "px";
    wsRow.style.width = depRow.style.width = w + "px";
    wsRow.style.height = WS_H + "px";
    depRow.style.height = DEP_H + "px";
    body.style.top = HEAD_H + "px";
    body.style.width = w + "px";
    body.style.height = rows.length * ROW_H + "px";
    grid.setAttribute("aria-rowcount", String(rows.length + 2));
    grid.setAttribute("aria-colcount", String(cols.length + 1));
  }
  function windowNow() {
    var top = grid.scrollTop, left = grid.scrollLeft, h = grid.clientHeight || 800, w = grid.clientWidth || 1200;
    var r0 = Math.max(0, Math.floor((top - ROW_H * 8) / ROW_H / ROW_CHUNK) * ROW_CHUNK);
    var r1 = Math.min(rows.length, (Math.floor((top + h + ROW_H * 8) / ROW_H / ROW_CHUNK) + 1) * ROW_CHUNK);
    var c0 = Math.max(0, Math.floor((left - COL_W * 2) / COL_W / COL_CHUNK) * COL_CHUNK);
    var c1 = Math.min(cols.length, (Math.floor((left + w - P_W + COL_W * 2) / COL_W / COL_CHUNK) + 1) * COL_CHUNK);
    return { r0: r0, r1: r1, c0: c0, c1: c1 };
  }
  function paint(force) {
    var nw = windowNow();
    var colsMoved = nw.c0 !== win.c0 || nw.c1 !== win.c1;
    if (!force && !colsMoved && nw.r0 === win.r0 && nw.r1 === win.r1) { return; }
    if (force || colsMoved) { paintHead(nw); }
    win = nw;
    var frag = document.createDocumentFragment();
    for (var r = nw.r0; r < nw.r1; r++) { frag.appendChild(rowEl(r, nw)); }
    body.textContent = "";
    body.appendChild(frag);
    if (!rows.length) { body.appendChild(el("div", "empty", "No principal matches the filters.")); }
  }
  function sortAttr(node, key) {
    if (st.sort === key) { node.setAttribute("aria-sort", st.dir > 0 ? "ascending" : "descending"); } else { node.removeAttribute("aria-sort"); }
  }
  function sortButton(label, key, title) {
    var b = el("button", "", label);
    b.type = "button";
    b.title = title;
    b.setAttribute("data-sort", key);
    if (st.sort === key) { b.className = st.dir > 0 ? "asc" : "desc"; }
    return b;
  }
  function paintHead(nw) {
    wsRow.textContent = "";
    depRow.textContent = "";
    var corner = el("div", "corner");
    corner.style.width = P_W + "px";
    corner.setAttribute("role", "columnheader");
    corner.appendChild(el("span", "muted", "Workspace →"));
    wsRow.appendChild(corner);
    var pc = el("div", "corner");
    pc.style.width = P_W + "px";
    pc.setAttribute("role", "columnheader");
    pc.setAttribute("aria-colindex", "1");
    if (st.sort === "name" || st.sort === "kind" || st.sort === "reach") { pc.setAttribute("aria-sort", st.dir > 0 ? "ascending" : "descending"); }
    pc.appendChild(sortButton("Principal", "name", "Sort by name"));
    pc.appendChild(sortButton("Kind", "kind", "Sort by kind, then name"));
    pc.appendChild(sortButton("Reach", "reach", "Sort by how many deployments (shown) each principal reaches"));
    depRow.appendChild(pc);
    var x, d, dep;
    for (x = nw.c0; x < nw.c1;) {
      var w = DEP[cols[x]][2], end = x;
      while (end < nw.c1 && DEP[cols[end]][2] === w) { end++; }
      var g = el("div", "wsh", WS[w][1]);
      g.setAttribute("role", "columnheader");
      g.setAttribute("aria-colindex", String(x + 2));
      g.setAttribute("aria-colspan", String(end - x));
      g.title = "workspace " + WS[w][1] + " (" + WS[w][0] + ")";
      g.style.left = P_W + x * COL_W + "px";
      g.style.width = (end - x) * COL_W + "px";
      wsRow.appendChild(g);
      x = end;
    }
    for (x = nw.c0; x < nw.c1; x++) {
      d = cols[x];
      dep = DEP[d];
      var h = el("div", "dh" + (dep[3] ? " prod" : ""));
      h.setAttribute("role", "columnheader");
      h.setAttribute("aria-colindex", String(x + 2));
      h.setAttribute("data-dep", dep[0]);
      sortAttr(h, "dep:" + dep[0]);
      h.style.left = P_W + x * COL_W + "px";
      h.style.width = COL_W + "px";
      var b = el("button");
      b.type = "button";
      b.title = WS[dep[2]][1] + "/" + dep[1] + " (" + dep[0] + ")" + (dep[3] ? ", production" : "") + (D.spec && !dep[4] ? ", not in the spec" : "") +
        ": " + depCount[d] + " principals. Sort rows by their level here.";
      h.title = b.title; // the full name on hover, wherever the name is cut
      b.appendChild(el("span", "n", dep[1]));
      b.appendChild(el("span", "w", WS[dep[2]][1])); // same-named deployments of two workspaces differ
      if (dep[3]) { b.appendChild(el("span", "badge", "PROD")); b.appendChild(document.createTextNode(" ")); }
      b.appendChild(el("span", "cnt", String(depCount[d])));
      h.appendChild(b);
      depRow.appendChild(h);
    }
  }
  function rowEl(r, nw) {
    var p = rows[r], pr = P[p];
    var row = el("div", "row");
    row.setAttribute("role", "row");
    row.setAttribute("aria-rowindex", String(r + 3));
    row.setAttribute("data-pid", pr[1]);
    row.style.top = r * ROW_H + "px";
    row.style.height = ROW_H + "px";
    row.style.width = P_W + cols.length * COL_W + "px";
    var ph = el("div", "ph");
    ph.setAttribute("role", "rowheader");
    ph.setAttribute("aria-colindex", "1");
    ph.style.width = P_W + "px";
    ph.title = K[pr[0]][1] + " " + pr[2] + " (" + pr[1] + ")" + (pr[3] ? ", " + pr[3] : "") + ": reaches " + reach[p] + " of the deployments shown, " + C[p].length + " in all";
    ph.appendChild(el("span", "pn", pr[2]));
    if (pr[3] && pr[3] !== "ACTIVE") { ph.appendChild(el("span", "st", pr[3])); }
    ph.appendChild(el("span", "pk", K[pr[0]][1]));
    ph.appendChild(el("span", "rc", String(reach[p])));
    row.appendChild(ph);
    var cs = C[p], base = cellStart[p];
    for (var k = 0; k < cs.length; k++) {
      var c = cs[k], x = colPos[c[0]];
      if (!cellOK[base + k] || x < nw.c0 || x >= nw.c1) { continue; }
      row.appendChild(cellEl(p, c, x));
    }
    return row;
  }
  // cellText is the short text of a cell: its highest grant, and how many
  // more there are.
  function topGrant(c) {
    var top = c[3];
    for (var j = 4; j < c.length; j++) { if (G[c[j]][1] > G[top][1]) { top = c[j]; } }
    return top;
  }
  function cellText(c) {
    return G[topGrant(c)][4] + (c.length > 4 ? " +" + (c.length - 4) : "");
  }
  function cellTitle(p, c) {
    var dep = DEP[c[0]], parts = [];
    for (var j = 3; j < c.length; j++) { parts.push(G[c[j]][5]); }
    return P[p][2] + " on " + WS[dep[2]][1] + "/" + dep[1] + ": " + LEVELS[c[1]] + "\n" + parts.join("\n") +
      (dep[3] && c[1] === ADMIN ? "\nadmin on a production deployment" : "") + (D.spec ? (c[2] ? "\nunmanaged: the spec does not list it" : "\nmanaged") : "");
  }
  function cellClass(c) {
    var dep = DEP[c[0]];
    return "lv" + c[1] + (dep[3] && c[1] === ADMIN ? " ap" : "") + (c[2] && D.spec ? " um" : "");
  }
  function cellEl(p, c, x) {
    var e = el("div", "c " + cellClass(c), cellText(c));
    e.setAttribute("role", "gridcell");
    e.setAttribute("aria-colindex", String(x + 2));
    e.setAttribute("data-dep", DEP[c[0]][0]);
    e.title = cellTitle(p, c);
    e.style.left = P_W + x * COL_W + "px";
    e.style.width = COL_W + "px";
    return e;
  }

  // Print: the filtered rows as a real table, capped at PRINT_ROWS rows
  // and about PRINT_CELLS cells.
  function printTable() {
    var box = $("print");
    box.textContent = "";
    var t = el("table"), head = el("thead"), h1 = el("tr"), h2 = el("tr");
    h1.appendChild(el("th", "", ""));
    for (var x = 0; x < cols.length;) {
      var w = DEP[cols[x]][2], end = x;
      while (end < cols.length && DEP[cols[end]][2] === w) { end++; }
      var th = el("th", "", WS[w][1]);
      th.colSpan = end - x;
      th.scope = "colgroup";
      h1.appendChild(th);
      x = end;
    }
    var ph = el("th", "", "Principal");
    ph.scope = "col";
    h2.appendChild(ph);
    cols.forEach(function (d) {
      var th = el("th", DEP[d][3] ? "prod" : "", WS[DEP[d][2]][1] + "/" + DEP[d][1] + (DEP[d][3] ? " (prod)" : "") + " · " + depCount[d]);
      th.scope = "col";
      h2.appendChild(th);
    });
    head.appendChild(h1);
    head.appendChild(h2);
    t.appendChild(head);
    var tb = el("tbody"), n = Math.min(rows.length, PRINT_ROWS, Math.max(50, Math.floor(PRINT_CELLS / Math.max(1, cols.length))));
    for (var r = 0; r < n; r++) {
      var p = rows[r], tr = el("tr"), cells = new Array(cols.length), cs = C[p], base = cellStart[p];
      var rh = el("th", "", P[p][2] + " (" + K[P[p][0]][1] + ", " + reach[p] + ")");
      rh.scope = "row";
      tr.appendChild(rh);
      for (var k = 0; k < cs.length; k++) { if (cellOK[base + k]) { cells[colPos[cs[k][0]]] = cs[k]; } }
      for (var y = 0; y < cols.length; y++) {
        var c = cells[y];
        tr.appendChild(c ? el("td", DEP[c[0]][3] && c[1] === ADMIN ? "ap" : "", cellText(c)) : el("td"));
      }
      tb.appendChild(tr);
    }
    t.appendChild(tb);
    var note = el("p", "", count.textContent + (rows.length > n ? " · printed the first " + n + " principals; filter to print the others" : ""));
    box.appendChild(note);
    box.appendChild(t);
  }
  var sinceBox = document.querySelector("#since details"), sinceWasOpen = false;
  window.addEventListener("beforeprint", function () {
    printTable();
    if (sinceBox) { sinceWasOpen = sinceBox.open; sinceBox.open = true; }
  });
  window.addEventListener("afterprint", function () {
    $("print").textContent = "";
    if (sinceBox) { sinceBox.open = sinceWasOpen; }
  });

  // Changes since the previous report beyond the first ones in the page.
  var more = $("since-more"), shownMore = 0;
  if (more) {
    more.addEventListener("click", function () {
      var tb = $("since-rows"), end = Math.min(D.s.length, shownMore + 500);
      for (; shownMore < end; shownMore++) {
        var s = D.s[shownMore], tr = el("tr", s[0]);
        tr.appendChild(el("td", "", ({ gained: "+", lost: "-", changed: "~" })[s[0]] + " " + s[0]));
        tr.appendChild(el("td", "", s[1]));
        tr.appendChild(el("td", "", s[2]));
        var td = el("td", "", s[3] + " ");
        td.appendChild(el("span", "muted", s[4]));
        tr.appendChild(td);
        tr.appendChild(el("td", "", s[5]));
        tb.appendChild(tr);
      }
      if (shownMore >= D.s.length) { more.remove(); } else { more.textContent = "Show " + (D.s.length - shownMore) + " more changes"; }
    });
  }

  // Findings: a list of buttons, each narrowing the matrix to its
  // principal and deployment (pid, dep). Shown FINDINGS_CHUNK at a time.
  var FINDINGS_CHUNK = 200, F = D.f || [], fList = $("findings-list"), fMore = $("findings-more"), fShown = 0;
  function findingEl(i) {
    var f = F[i], li = el("li"), b = el("button");
    b.type = "button";
    b.setAttribute("data-f", String(i));
    b.setAttribute("aria-pressed", "false");
    b.appendChild(el("span", "sev" + (({ high: " high", medium: " medium", low: " low" })[f[0]] || ""), f[0]));
    b.appendChild(el("span", "fk", f[1]));
    var who = el("span", "fp", f[4] + " ");
    who.appendChild(el("span", "muted", f[2]));
    b.appendChild(who);
    b.appendChild(el("span", "ft", f[7]));
    if (f[8]) { b.appendChild(el("span", "fnew", "new")); }
    // A rule over a scope names no principal (f[3] is "").
    b.title = [f[3] ? f[2] + " " + f[4] + " (" + f[3] + ")" : "", f[5] ? "on " + f[6] : ""].filter(Boolean).join(" ") + ": " + f[7];
    li.appendChild(b);
    return li;
  }
  function moreFindings() {
    if (!fList) { return; }
    var end = Math.min(F.length, fShown + FINDINGS_CHUNK), frag = document.createDocumentFragment();
    for (; fShown < end; fShown++) { frag.appendChild(findingEl(fShown)); }
    fList.appendChild(frag);
    if (fMore) {
      fMore.hidden = fShown >= F.length;
      fMore.textContent = "Show " + (F.length - fShown) + " more findings";
    }
    markFindings();
  }
  function markFindings() {
    if (!fList) { return; }
    var bs = fList.querySelectorAll("button[data-f]");
    for (var n = 0; n < bs.length; n++) {
      var f = F[+bs[n].getAttribute("data-f")];
      bs[n].setAttribute("aria-pressed", st.pid === f[3] && st.dep === f[5] ? "true" : "false");
    }
  }
  if (fList) {
    fList.addEventListener("click", function (ev) {
      var b = ev.target.closest ? ev.target.closest("button[data-f]") : null;
      if (!b) { return; }
      var f = F[+b.getAttribute("data-f")];
      if (st.pid === f[3] && st.dep === f[5]) { st.pid = ""; st.dep = ""; } else { st.pid = f[3]; st.dep = f[5]; }
      apply();
      if (st.pid) { grid.scrollIntoView(); }
    });
  }
  if (fMore) { fMore.addEventListener("click", moreFindings); }

  // Events.
  var pending = false;
  grid.addEventListener("scroll", function () {
    if (pending) { return; }
    pending = true;
    requestAnimationFrame(function () { pending = false; paint(false); });
  }, { passive: true });
  window.addEventListener("resize", function () { paint(true); });
  grid.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button") : null;
    if (!b) { return; }
    var key = b.getAttribute("data-sort");
    if (!key) { var h = b.parentNode; key = h && h.getAttribute("data-dep") ? "dep:" + h.getAttribute("data-dep") : ""; }
    if (!key) { return; }
    st.dir = st.sort === key ? -st.dir : defaultDir(key);
    st.sort = key;
    apply(true);
  });
  function fromControls() {
    st.q = q.value; st.ws = wsSel.value; st.role = roleSel.value; st.kind = kindSel.value; st.prod = prodBox.checked;
    st.managed = managedSel ? managedSel.value : "";
    apply();
  }
  [q, wsSel, roleSel, kindSel, managedSel, prodBox].forEach(function (c) {
    if (c) { c.addEventListener("input", fromControls); c.addEventListener("change", fromControls); }
  });
  $("reset").addEventListener("click", function () {
    q.value = ""; wsSel.value = ""; roleSel.value = ""; kindSel.value = ""; prodBox.checked = false;
    st.pid = ""; st.dep = "";
    if (managedSel) { managedSel.value = ""; }
    fromControls();
  });
  var showAP = $("show-admin-prod");
  if (showAP) {
    showAP.addEventListener("click", function () {
      roleSel.value = "level:admin"; prodBox.checked = true;
      fromControls();
      grid.scrollIntoView();
    });
  }
  window.addEventListener("hashchange", function () { load(); apply(); });

  load();
  moreFindings();
  apply();
  T.ready = window.__reportReady = performance.now();
  window.__reportTimings = T;
  document.documentElement.setAttribute("data-ready", "1");
}());
