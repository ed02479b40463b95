// The ipgraph page script. Inlined into the page by ipgraph.view.page_html.
// Safety rule: text from the graph reaches the DOM only through textContent / text nodes (never
// innerHTML), and tooltips are DOM elements, so a title holding markup shows as text.
"use strict";
// pyvis's globals, kept so that tests and users' scripts can reach the network as on any pyvis page.
var nodes, edges, network, data, options, container, allNodes, allEdges;

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var readJSON = function (id) { return JSON.parse($(id).textContent); };
  var META = readJSON("ipgraph-meta");
  var NODE_LIST = readJSON("ipgraph-nodes");
  var EDGE_LIST = readJSON("ipgraph-edges");
  options = readJSON("ipgraph-options");
  // the selected node's edges stand out: drawn much wider than the others (a function, so not in the JSON)
  options.edges.selectionWidth = function (width) { return width * 2 + 2; };
  performance.mark("ipgraph:data-parsed");
  var CLASS = {}, REL = {};
  META.classes.forEach(function (c) { CLASS[c.key] = c; });
  META.relations.forEach(function (r) { REL[r.key] = r; });
  var BY_ID = new Map(NODE_LIST.map(function (n) { return [n.id, n]; }));
  var RANK = new Map(NODE_LIST.map(function (n, i) { return [n.id, i]; }));  // reading order, from Python
  var EDGE_BY_ID = new Map(EDGE_LIST.map(function (e) { return [e.id, e]; }));
  // two views of one graph: the overview (documents, agencies, programmes, directives; measures counted
  // on its own edges, marked ipg.ov) and the detailed view; the panel and the neighbourhood use the
  // detailed edges, so an agency's measures are one click away in either view
  var OVERVIEW = META.overview;
  var OV_CLASSES = new Set(OVERVIEW ? OVERVIEW.classes : []);
  var FIRST_MODE = OVERVIEW && OVERVIEW.first ? "overview" : "detail";
  var INCIDENT = new Map();
  EDGE_LIST.forEach(function (e) {
    if (e.ipg.ov) return;
    [e.from, e.to].forEach(function (end) {
      if (!INCIDENT.has(end)) INCIDENT.set(end, []);
      INCIDENT.get(end).push(e);
    });
  });
  var HOME = { detail: new Map(), overview: new Map() };
  NODE_LIST.forEach(function (n) {
    HOME.detail.set(n.id, { x: n.x, y: n.y });
    if (n.ipg.ov) HOME.overview.set(n.id, { x: n.ipg.ov[0], y: n.ipg.ov[1] });
  });
  function shownIn(mode, n) { return mode === "detail" || OV_CLASSES.has(n.ipg.cls); }
  function edgeIn(mode, e) { return mode === "overview" ? !!e.ipg.ov : !e.ipg.ov; }
  // the first view's positions and visibility are set before the network is made: one drawing only
  NODE_LIST.forEach(function (n) {
    var home = HOME[FIRST_MODE].get(n.id);
    if (home) { n.x = home.x; n.y = home.y; }
    n.hidden = !shownIn(FIRST_MODE, n) || (FIRST_MODE === "overview" && OVERVIEW.start.indexOf(n.ipg.cls) < 0);
  });
  EDGE_LIST.forEach(function (e) { e.hidden = !edgeIn(FIRST_MODE, e); });

  // element builder: attributes are set as attributes, text only as text
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    });
    for (var i = 2; i < arguments.length; i++) {
      if (arguments[i] !== null && arguments[i] !== undefined) node.append(arguments[i]);
    }
    return node;
  }
  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function shapeIcon(shape, color) {
    var box = svg("svg", { width: 16, height: 16, viewBox: "0 0 16 16", "aria-hidden": "true" });
    var common = { fill: color, stroke: color };
    var poly = {
      hexagon: "8,1 14,4.5 14,11.5 8,15 2,11.5 2,4.5",
      star: "8,1 9.8,6 15,6 10.8,9.2 12.4,14.5 8,11.3 3.6,14.5 5.2,9.2 1,6 6.2,6",
      triangle: "8,2 15,14 1,14",
      triangleDown: "1,2 15,2 8,14",
    }[shape];
    if (poly) box.append(svg("polygon", Object.assign({ points: poly }, common)));
    else if (shape === "dot") box.append(svg("circle", Object.assign({ cx: 8, cy: 8, r: 6 }, common)));
    else if (shape === "box") box.append(svg("rect", Object.assign({ x: 1, y: 4, width: 14, height: 8, rx: 2 }, common)));
    else box.append(svg("rect", Object.assign({ x: 3, y: 3, width: 10, height: 10 }, common)));
    return box;
  }
  function lineIcon(rel) {
    var box = svg("svg", { width: 34, height: 10, "aria-hidden": "true" });
    var attrs = { x1: 1, y1: 5, x2: 33, y2: 5, stroke: rel.color, "stroke-width": Math.max(1, rel.width) };
    if (rel.dashes) attrs["stroke-dasharray"] = rel.dashes.join(",");
    box.append(svg("line", attrs));
    return box;
  }
  function classBadge(cls) {
    var c = CLASS[cls];
    var badge = el("span", { class: "cls", text: c.zh + " " + c.en });
    badge.style.background = c.color;
    return badge;
  }

  // ---- tooltips: DOM elements, so vis-network never parses graph text as HTML
  function clip(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }
  function nodeTip(n) {
    var c = CLASS[n.ipg.cls];
    var tip = el("div", { class: "tip" }, el("b", { text: n.ipg.name }),
      el("span", { class: "muted", text: c.zh + " " + c.en + (n.ipg.count ? " · " + n.ipg.count + " 项措施 measures" : "") }));
    if (n.ipg.aliases.length) tip.append(el("div", { class: "muted", text: "别名 aliases: " + clip(n.ipg.aliases.join("、"), 120) }));
    return tip;
  }
  function edgeTip(e) {
    var r = REL[e.ipg.rel];
    var tip = el("div", { class: "tip" }, el("b", { text: r.zh + " " + r.en + (e.ipg.count > 1 ? " ×" + e.ipg.count : "") }));
    if (e.ipg.evidence.length) tip.append(el("div", { text: clip(e.ipg.evidence[0], 200) }));
    return tip;
  }
  NODE_LIST.forEach(function (n) { n.title = nodeTip(n); });
  EDGE_LIST.forEach(function (e) { e.title = edgeTip(e); });
  performance.mark("ipgraph:tooltips-made");

  // ---- the network (pyvis's drawGraph, with fixed positions and no physics)
  container = $("mynetwork");
  nodes = new vis.DataSet(NODE_LIST);
  edges = new vis.DataSet(EDGE_LIST);
  allNodes = nodes.get({ returnType: "Object" });
  allEdges = edges.get({ returnType: "Object" });
  data = { nodes: nodes, edges: edges };
  performance.mark("ipgraph:datasets-made");
  network = new vis.Network(container, data, options);
  performance.mark("ipgraph:network-made");
  network.once("afterDrawing", function () {
    performance.mark("ipgraph:drawn");
    window.ipgraphLoadMs = performance.now();
    window.ipgraphReady = true;
    document.body.setAttribute("data-ready", "1");
  });
  network.fit({ animation: false });

  // ---- state: class filter, document filter, neighbourhood (ego) view
  function classesFor(mode) {
    return new Set(mode === "overview" ? OVERVIEW.start : META.classes.map(function (c) { return c.key; }));
  }
  var state = { classes: classesFor(FIRST_MODE), doc: "", ego: null, physics: false, mode: FIRST_MODE };

  function egoSet(id, depth) {
    var seen = new Set([id]);
    var frontier = [id];
    for (var d = 0; d < depth; d++) {
      var next = [];
      frontier.forEach(function (n) {
        (INCIDENT.get(n) || []).forEach(function (e) {
          var other = e.from === n ? e.to : e.from;
          if (!seen.has(other)) { seen.add(other); next.push(other); }
        });
      });
      frontier = next;
    }
    return seen;
  }

  function applyVisibility() {
    var ego = state.ego ? egoSet(state.ego.id, state.ego.depth) : null;
    var changes = [];
    NODE_LIST.forEach(function (n) {
      var show = state.classes.has(n.ipg.cls) && shownIn(state.mode, n) &&
        (!state.doc || n.id === state.doc || n.ipg.docs.indexOf(state.doc) >= 0) &&
        (!ego || ego.has(n.id));
      if (!!n.hidden === show) { n.hidden = !show; changes.push({ id: n.id, hidden: !show }); }
    });
    if (changes.length) nodes.update(changes);
    var edgeChanges = [];
    EDGE_LIST.forEach(function (e) {
      var show = edgeIn(state.mode, e);
      if (!!e.hidden === show) { e.hidden = !show; edgeChanges.push({ id: e.id, hidden: !show }); }
    });
    if (edgeChanges.length) edges.update(edgeChanges);
    updateCounts();
    return changes.length;
  }
  // switch between the overview and the detailed view; each has its own positions
  function setMode(mode) {
    if (!OVERVIEW || mode === state.mode) return false;
    state.mode = mode;
    state.classes = classesFor(mode);
    syncClassBoxes();
    if (mode === "overview") state.ego = null;
    var home = HOME[mode];
    nodes.update(NODE_LIST.filter(function (n) { return home.has(n.id); }).map(function (n) {
      var h = home.get(n.id); return { id: n.id, x: h.x, y: h.y };
    }));
    applyVisibility();
    syncModeButton();
    return true;
  }
  function syncModeButton() {
    var button = $("mode");
    if (!OVERVIEW) { button.hidden = true; return; }
    button.textContent = state.mode === "overview" ? "显示措施 show measures" : "总览 overview";
    button.setAttribute("aria-pressed", String(state.mode === "detail"));
  }
  function visibleIds() { return NODE_LIST.filter(function (n) { return !n.hidden; }).map(function (n) { return n.id; }); }
  // an edge is drawn when it belongs to the current view and both its ends are shown
  function visibleEdgeIds() {
    return EDGE_LIST.filter(function (e) {
      return !e.hidden && !BY_ID.get(e.from).hidden && !BY_ID.get(e.to).hidden;
    }).map(function (e) { return e.id; });
  }
  var DETAIL_EDGES = EDGE_LIST.filter(function (e) { return !e.ipg.ov; }).length;
  function updateCounts() {
    var shown = visibleIds().length;
    var shownEdges = visibleEdgeIds().length;
    var text = "节点 nodes " + (shown === NODE_LIST.length ? NODE_LIST.length : shown + " / " + NODE_LIST.length) +
      " · 边 edges " + (shownEdges === DETAIL_EDGES && state.mode === "detail" ? DETAIL_EDGES : shownEdges + " / " + DETAIL_EDGES);
    if (state.mode === "overview") text += " · 总览 overview";
    if (META.aggregated) text += " · 聚合 aggregated (" + META.selectedNodes + ")";
    $("counts").textContent = text;
  }

  function setEgo(id, depth) {
    setMode("detail");  // a neighbourhood is of measures too
    state.ego = { id: id, depth: depth || Number($("ego-depth").value) };
    applyVisibility();
    network.fit({ nodes: visibleIds(), animation: false });
  }

  // ---- side panel
  var panel = $("panel");
  function help() {
    panel.replaceChildren(
      el("h3", { text: "使用 How to use" }),
      el("p", { class: "help", text: "搜索机构、项目或文件名称（含别名）或条文内容，点击结果即跳到该节点；措施面板列出其他文件中相似的措施（呼应）；点击节点或连线查看详情；双击节点只显示它的邻域；“重置”恢复全图。" }),
      el("p", { class: "help", text: OVERVIEW ? "总览：机构越大，牵头的措施越多；连线上的数字是措施数。“显示措施”看全部措施。 Overview: the bigger an agency, the more measures it leads; numbers on the links count measures. “Show measures” shows every measure." : "" }),
      el("p", { class: "help", text: "Search a name, an alias or words of a measure's text and pick a result to jump to it (a measure's panel lists similar measures of other documents: its echoes); click a node or an edge for details; double-click a node to show only its neighbourhood; Reset shows everything again." }));
  }
  // an evidence sentence as shown (hard wraps joined); the verbatim sentence on hover when it differs
  function evidenceLine(e, shown, k) {
    var line = el("div", { class: "evidence", text: shown });
    if (e.ipg.verbatim && e.ipg.verbatim[k] !== shown) line.title = "原文 verbatim: " + e.ipg.verbatim[k];
    return line;
  }
  function nodeButton(id, extra) {
    var n = BY_ID.get(id);
    return el("button", { type: "button", "data-node": id, onclick: function () { focusNode(id); } },
      n ? n.ipg.name : id, extra || null);
  }
  function showNode(id) {
    var n = BY_ID.get(id);
    if (!n) return false;
    var ipg = n.ipg;
    panel.replaceChildren(classBadge(ipg.cls), el("h2", { text: ipg.name }));
    panel.setAttribute("data-node", id);
    if (ipg.aliases.length) {
      panel.append(el("h3", { text: "别名 aliases" }),
        el("ul", null, ...ipg.aliases.map(function (a) { return el("li", { text: a }); })));
    }
    if (ipg.info.length) {
      var dl = el("dl");
      ipg.info.forEach(function (pair) {
        var dd = el("dd", { text: pair[1], class: pair[0].indexOf("全文") === 0 ? "fulltext" : "" });
        if (pair.length > 2) dd.title = "原文 verbatim: " + pair[2];  // the joined form is shown, the verbatim one kept
        dl.append(el("dt", { text: pair[0] }), dd);
      });
      panel.append(dl);
    }
    if (ipg.warnings && ipg.warnings.length) {
      // the build's quality report for this document (report.json): warnings first, then notes
      panel.append(el("h3", { class: "quality", text: "质量提示 quality report (" + ipg.warnings.length + ")" }),
        el("ul", { class: "quality" }, ...ipg.warnings.map(function (w) {
          return el("li", { class: w[0], text: w[1] });
        })));
    }
    panel.append(el("div", { class: "actions" },
      el("button", { type: "button", class: "link", text: "只看邻域 show neighbourhood", onclick: function () { setEgo(id); } })));
    echoList(id);
    // relations, grouped by kind and direction, in the order of the legend
    var groups = new Map();
    var shownSentences = new Set();  // several agencies named in one sentence: the sentence once, under the first
    (INCIDENT.get(id) || []).forEach(function (e) {
      var key = e.ipg.rel + (e.from === id ? ":out" : ":in");
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(e);
    });
    META.relations.forEach(function (r) {
      ["out", "in"].forEach(function (dir) {
        var list = groups.get(r.key + ":" + dir);
        if (!list) return;
        var heading = dir === "out" ? r.outZh + " " + r.outEn : r.inZh + " " + r.inEn;
        var h = el("h3", { text: heading + " (" + list.length + ")" });
        h.style.color = r.color === "#c8c8c8" ? "#666" : r.color;
        var otherOf = function (e) { return dir === "out" ? e.to : e.from; };
        list.sort(function (a, b) { return RANK.get(otherOf(a)) - RANK.get(otherOf(b)); });
        var items = list.map(function (e) {
          var other = otherOf(e);
          var li = el("li", null, nodeButton(other, e.ipg.count > 1 ? " ×" + e.ipg.count : null));
          var home = BY_ID.get(other).ipg.docs;
          // an agency works across documents: say which document each of its measures is in
          if (ipg.docs.length > 1 && home.length === 1 && home[0] !== other && BY_ID.has(home[0])) {
            li.append(el("span", { class: "alias", text: clip(BY_ID.get(home[0]).ipg.name, 16) }));
          }
          if (list.length <= 10) {
            e.ipg.evidence.slice(0, 2).forEach(function (s, k) {
              if (shownSentences.has(s)) return;
              shownSentences.add(s);
              li.append(evidenceLine(e, s, k));
            });
          }
          return li;
        });
        panel.append(h, el("ul", { "data-rel": r.key + ":" + dir }, ...items));
      });
    });
    if (ipg.more) {  // the bounded page left some of this node's edges or documents off (view.bounded_view)
      panel.append(el("p", { class: "help", "data-more": ipg.more.edges + " " + ipg.more.docs,
        text: "另有 +" + ipg.more.edges + " 条连线、+" + ipg.more.docs + " 个文件未画出 (+" + ipg.more.edges +
          " more edges, +" + ipg.more.docs + " more documents not drawn): ipgraph serve → /id/…, " +
          "ipgraph view --focus " + ipg.name }));
    }
    return true;
  }
  // ---- echoes (ipg:echoes, from the build's search stage): similar measures of other documents
  var SEARCH = $("ipgraph-search") ? readJSON("ipgraph-search") : null;
  function measureLabel(iri) {
    var info = SEARCH && SEARCH.measures[iri];
    return info ? clip(info[0], 24) + " · " + info[1] : iri;
  }
  function echoList(id) {
    var echoes = SEARCH && SEARCH.echoes[id];
    if (!echoes || !echoes.length) return;
    panel.append(el("h3", { text: "呼应 echoes (" + echoes.length + ")" }),
      el("ul", { "data-rel": "echoes" }, ...echoes.map(function (pair) {
        return el("li", null, el("button", {
          type: "button", "data-measure": pair[0], title: pair[0],
          onclick: function () { openMeasure(pair[0]); },
        }, measureLabel(pair[0])), el("span", { class: "alias", text: "相似度 score " + pair[1].toFixed(4) }));
      })));
  }
  // a measure: its node when the page draws it, else a panel of what the search data knows
  function openMeasure(iri) {
    if (BY_ID.has(iri)) return focusNode(iri);
    var info = SEARCH && SEARCH.measures[iri];
    panel.replaceChildren(el("h2", { text: info ? info[0] + " · " + info[1] : iri }));
    panel.setAttribute("data-node", iri);
    echoList(iri);
    return true;
  }
  function showEdge(id) {
    var e = EDGE_BY_ID.get(id);
    if (!e) return false;
    var r = REL[e.ipg.rel];
    panel.replaceChildren(el("h2", { text: r.zh + " " + r.en + (e.ipg.count > 1 ? " ×" + e.ipg.count : "") }));
    panel.setAttribute("data-edge", id);
    panel.append(el("ul", null, el("li", null, nodeButton(e.from)), el("li", null, nodeButton(e.to))));
    if (e.ipg.evidence.length) {
      panel.append(el("h3", { text: "原文 source sentence" }));
      e.ipg.evidence.forEach(function (s, k) {
        panel.append(evidenceLine(e, s, k));
      });
    } else if (e.ipg.count > 1) {
      panel.append(el("p", { class: "help", text: "聚合了 " + e.ipg.count + " 条措施层面的关系 (stands for " + e.ipg.count + " measure-level links)" }));
    }
    return true;
  }

  function focusNode(id) {
    var n = BY_ID.get(id);
    if (!n) return false;
    if (n.hidden) {  // a filter hides it: show it again rather than jump to nothing
      if (!shownIn(state.mode, n)) setMode("detail");
      state.classes.add(n.ipg.cls);
      syncClassBoxes();
      if (state.doc && n.ipg.docs.indexOf(state.doc) < 0 && n.id !== state.doc) { state.doc = ""; $("doc-filter").value = ""; }
      if (state.ego) state.ego = null;
      applyVisibility();
    }
    network.selectNodes([id]);
    network.focus(id, { scale: Math.max(network.getScale(), 0.9), animation: false });
    showNode(id);
    if ($("ego-on-click").checked) setEgo(id);
    return true;
  }

  // ---- search (labels and aliases)
  var INDEX = NODE_LIST.map(function (n) {
    return { id: n.id, name: n.ipg.name.toLowerCase(), aliases: n.ipg.aliases.map(function (a) { return a.toLowerCase(); }) };
  });
  function search(query, limit) {
    var q = query.trim().toLowerCase();
    if (!q) return [];
    var scored = [];
    INDEX.forEach(function (item, i) {
      var rank = item.name === q ? 0 : item.aliases.indexOf(q) >= 0 ? 1 : item.name.indexOf(q) === 0 ? 2 :
        item.name.indexOf(q) > 0 ? 3 : item.aliases.some(function (a) { return a.indexOf(q) >= 0; }) ? 4 : -1;
      if (rank >= 0) scored.push([rank, item.name.length, i]);
    });
    scored.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; });
    return scored.slice(0, limit || 50).map(function (s) { return NODE_LIST[s[2]].id; });
  }
  // ---- search in measure texts: the page cannot run jieba, so it ranks as ipgraph.search.page.page_search
  // does: the query's parts as typed and its character bigrams, each once, those the index holds, each
  // adding its precomputed score per measure (one posting list per token over both fields); a page too
  // big to carry the index asks the server's /search endpoint
  var WORD = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9a-z]+(?:[.\-][0-9a-z]+)*/g;
  var HAN = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
  var has = function (obj, key) { return !!obj && Object.prototype.hasOwnProperty.call(obj, key); };
  function once(list) { return list.filter(function (t, i) { return list.indexOf(t) === i; }); }
  // the bigrams of ipgraph.search.tokenise.bigram_tokenise; gram_tokens drops stopwords and lone
  // characters from them, which neither field holds, so the lookups below drop them too
  function gramTokens(q) {
    var out = [];
    (q.match(WORD) || []).forEach(function (run) {
      if (HAN.test(run) && run.length > 1) {
        for (var i = 0; i + 2 <= run.length; i++) out.push(run.slice(i, i + 2));
      } else out.push(run);
    });
    return out;
  }
  function queryTokens(query) {  // ipgraph.search.page.page_query_tokens
    var data = SEARCH && SEARCH.index;
    var q = query.normalize("NFKC").toLowerCase();
    var parts = q.split(/[\s,、;]+/).filter(function (part) { return part; });
    return once(parts.concat(gramTokens(q)).filter(function (t) { return has(data.postings, t); }));
  }
  function searchMeasures(query, limit) {
    var data = SEARCH && SEARCH.index;
    if (!data || !query.trim()) return [];
    var values = new Float64Array(data.measures.length);
    queryTokens(query).forEach(function (token) {
      var posting = data.postings[token];
      for (var k = 0; k < posting[0].length; k++) values[posting[0][k]] += posting[1][k];
    });
    var hits = [];
    for (var i = 0; i < values.length; i++) {
      if (values[i] > 0) hits.push([Math.round(values[i] * 1e4) / 1e4, i]);
    }
    hits.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });  // score, then index order (as top())
    return hits.slice(0, limit || 10).map(function (h) { return data.measures[h[1]]; });
  }
  var asked = 0;  // the latest endpoint request: an older answer arriving late is dropped
  function measureResults(q) {
    if (!SEARCH) return;
    if (SEARCH.index) { appendMeasures(searchMeasures(q, 10), null); return; }
    var mine = ++asked;
    fetch(SEARCH.endpoint + "?" + new URLSearchParams({ q: q.trim(), limit: "10" })).then(function (reply) {
      return reply.ok ? reply.json() : Promise.reject(new Error("HTTP " + reply.status));
    }).then(function (body) {
      if (mine !== asked) return;
      appendMeasures(body.hits.map(function (h) { return h.measure; }), body.hits);
    }).catch(function () {
      if (mine !== asked) return;
      results.append(el("li", { class: "none", text: "条文搜索需要 ipgraph serve (measure search asks the server's /search)" }));
    });
  }
  function appendMeasures(iris, hits) {
    if (!iris.length) return;
    results.append(el("li", { class: "none", text: "条文 measures (" + iris.length + ")" }));
    iris.forEach(function (iri, k) {
      if (hits && !SEARCH.measures[iri]) SEARCH.measures[iri] = [hits[k].document, hits[k].number];
      var n = BY_ID.get(iri);
      results.append(el("li", { role: "option" }, el("button", {
        type: "button", "data-measure": iri,
        onclick: function () { results.hidden = true; openMeasure(iri); },
      }, classBadge("measure"), measureLabel(iri), n ? el("span", { class: "alias", text: clip(n.ipg.name, 30) }) : null)));
    });
    results.hidden = false;
  }
  var results = $("search-results");
  function showResults() {
    var q = $("search").value;
    var found = search(q);
    results.replaceChildren();
    if (!q.trim()) { results.hidden = true; return; }
    if (!found.length) results.append(el("li", { class: "none", text: "没有匹配名称 no name matches" }));
    found.forEach(function (id) {
      var n = BY_ID.get(id);
      var lower = q.trim().toLowerCase();
      var alias = n.ipg.name.toLowerCase().indexOf(lower) < 0 ?
        n.ipg.aliases.filter(function (a) { return a.toLowerCase().indexOf(lower) >= 0; })[0] : null;
      results.append(el("li", { role: "option" }, el("button", {
        type: "button", "data-node": id,
        onclick: function () { results.hidden = true; focusNode(id); },
      }, classBadge(n.ipg.cls), n.ipg.name, alias ? el("span", { class: "alias", text: "别名 " + alias }) : null)));
    });
    results.hidden = false;
    measureResults(q);
  }
  $("search").addEventListener("input", showResults);
  $("search").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      var found = search($("search").value, 1);
      var measures = found.length ? [] : searchMeasures($("search").value, 1);
      if (found.length) { results.hidden = true; focusNode(found[0]); }
      else if (measures.length) { results.hidden = true; openMeasure(measures[0]); }
    } else if (ev.key === "Escape") { results.hidden = true; }
  });
  document.addEventListener("click", function (ev) {
    if (!ev.target.closest(".search-wrap")) results.hidden = true;
  });

  // ---- legend with class filters
  var legend = $("legend");
  var counts = {};
  NODE_LIST.forEach(function (n) { counts[n.ipg.cls] = (counts[n.ipg.cls] || 0) + 1; });
  legend.append(el("h2", { text: "节点 nodes" }));
  META.classes.forEach(function (c) {
    var box = el("input", { type: "checkbox", "data-class": c.key });
    box.checked = state.classes.has(c.key);
    box.addEventListener("change", function () {
      if (box.checked) state.classes.add(c.key); else state.classes.delete(c.key);
      if (box.checked && !OV_CLASSES.has(c.key)) setMode("detail");  // asking for measures shows them
      applyVisibility();
    });
    legend.append(el("label", null, box, shapeIcon(c.shape, c.color),
      el("span", { text: c.zh + " " + c.en + " (" + (counts[c.key] || 0) + ")" })));
  });
  function syncClassBoxes() {
    legend.querySelectorAll("input[data-class]").forEach(function (box) {
      box.checked = state.classes.has(box.getAttribute("data-class"));
    });
  }
  legend.append(el("h2", { text: "关系 relations" }));
  var used = new Set(EDGE_LIST.map(function (e) { return e.ipg.rel; }));
  META.relations.forEach(function (r) {
    if (used.has(r.key)) legend.append(el("div", { class: "rel" }, lineIcon(r), el("span", { text: r.zh + " " + r.en })));
  });
  legend.append(el("p", { class: "muted", text: META.legendNote }));

  // ---- document filter
  NODE_LIST.forEach(function (n) {
    if (n.ipg.cls === "document") $("doc-filter").append(el("option", { value: n.id, text: clip(n.ipg.name, 40) }));
  });
  $("doc-filter").addEventListener("change", function () {
    state.doc = $("doc-filter").value;
    applyVisibility();
    network.fit({ nodes: visibleIds(), animation: false });
  });

  // ---- physics, reset, clicks
  $("physics").addEventListener("click", function () {
    state.physics = !state.physics;
    network.setOptions({ physics: { enabled: state.physics } });
    $("physics").textContent = "物理布局 physics: " + (state.physics ? "开 on" : "关 off");
    $("physics").setAttribute("aria-pressed", String(state.physics));
  });
  function reset() {
    state.classes = classesFor(FIRST_MODE);
    state.doc = "";
    state.ego = null;
    syncClassBoxes();
    $("doc-filter").value = "";
    $("search").value = "";
    results.hidden = true;
    if (state.physics) $("physics").click();
    state.mode = FIRST_MODE;
    var home = HOME[FIRST_MODE];
    nodes.update(NODE_LIST.filter(function (n) { return home.has(n.id); }).map(function (n) {
      var h = home.get(n.id); return { id: n.id, x: h.x, y: h.y };
    }));
    applyVisibility();
    syncModeButton();
    network.unselectAll();
    network.fit({ animation: false });
    help();
  }
  $("reset").addEventListener("click", reset);
  $("mode").addEventListener("click", function () {
    setMode(state.mode === "overview" ? "detail" : "overview");
    network.fit({ nodes: visibleIds(), animation: false });
  });
  network.on("click", function (params) {
    if (params.nodes.length) {
      showNode(params.nodes[0]);
      if ($("ego-on-click").checked) setEgo(params.nodes[0]);
    } else if (params.edges.length) {
      showEdge(params.edges[0]);
    }
  });
  network.on("doubleClick", function (params) { if (params.nodes.length) setEgo(params.nodes[0]); });

  help();
  updateCounts();
  syncModeButton();
  if (META.root && BY_ID.has(META.root)) { network.selectNodes([META.root]); showNode(META.root); }

  // a small API for tests and users' scripts
  window.ipgraph = {
    meta: META, state: state, search: search, focusNode: focusNode, showNode: showNode, showEdge: showEdge,
    setEgo: setEgo, reset: reset, applyVisibility: applyVisibility, visibleIds: visibleIds,
    visibleEdgeIds: visibleEdgeIds, setMode: setMode, searchMeasures: searchMeasures, queryTokens: queryTokens,
    openMeasure: openMeasure,
  };
})();
