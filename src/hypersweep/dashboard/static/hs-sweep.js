/* hypersweep dashboard: a sweep's view (summary, charts, runs table), shared by the sweep page,
 * the HTML report and the notebook widget. Live pages feed it the API's /updates answers.
 *
 * Selection: brushing the parallel-coordinates chart selects runs; the table and every other chart
 * then show those runs only. The brushes are kept as runs arrive: a new run inside them is selected. Runs checked in the table can be compared side by side, and the table
 * (as filtered) exports as CSV or JSON. */
(function (global) {
  "use strict";
  const HS = global.HS || (global.HS = {});
  const el = (...a) => HS.el(...a);

  /**
   * @param root   the element to fill
   * @param data   the answer of GET /api/sweeps/{id}
   * @param opts   {links: link runs to their pages, onCancel: async () => void, redrawMs}
   */
  HS.SweepView = function (root, data, opts) {
    this.root = root;
    this.opts = Object.assign({ links: false, onCancel: null, redrawMs: 2000 }, opts || {});
    this.model = { sweep: data.sweep, runs: data.runs, series: data.series, cursor: data.cursor, logMetric: false };
    this.selection = null;  // run numbers brushed in the parallel chart, or null
    this.brushes = {};      // {parallel axis id: its brushed intervals}, drawn again on every redraw
    this.compared = [];     // run numbers shown in the comparison
    this.drawn = false;
    this.lastDraw = 0;
    this.drawTimer = null;
    root.classList.add("hs");
    const sweep = data.sweep;
    const params = sweep.parameters;
    this.header = el("header", { className: "hs-header" });
    this.state = el("div", { className: "hs-state", role: "status" });
    this.chartBox = {
      intervals: el("div", { className: "hs-chart", id: "hs-chart-intervals" }),
      best: el("div", { className: "hs-chart", id: "hs-chart-best" }),
      parallel: el("div", { className: "hs-chart hs-wide", id: "hs-chart-parallel" }),
      contour: el("div", { className: "hs-chart hs-chart-contour", id: "hs-chart-contour" }),
      edf: el("div", { className: "hs-chart", id: "hs-chart-edf" }),
      timeline: el("div", { className: "hs-chart hs-wide", id: "hs-chart-timeline" }),
      scatters: el("div", { className: "hs-scatters", id: "hs-chart-scatters" }),
    };
    // the contour's two hyperparameters
    const choose = (label, index) => el("select", { className: "hs-contour-" + label, "aria-label": "contour " + label,
      onchange: () => this.drawContour() },
    params.map((p, i) => { const o = el("option", { value: String(i), text: p.label }); if (i === index) o.selected = true; return o; }));
    this.contourX = choose("x", 0);
    this.contourY = choose("y", Math.min(1, params.length - 1));
    const contourPanel = el("div", { className: "hs-panel" }, params.length >= 2
      ? [el("div", { className: "hs-panel-tools" }, [el("label", null, ["x ", this.contourX]), el("label", null, [" y ", this.contourY])]),
        this.chartBox.contour]
      : [el("p", { className: "hs-muted hs-contour-none", text: "The heat map needs two hyperparameters." })]);
    this.hasContour = params.length >= 2;
    // tools above the charts: log scale, the selection
    this.logToggle = el("input", { type: "checkbox", className: "hs-log-metric", onchange: () => {
      this.model.logMetric = this.logToggle.checked; this.drawCharts(false);  // the brushes stay
    } });
    this.selectionNote = el("span", { className: "hs-selection-note" });
    this.clearButton = el("button", { type: "button", className: "hs-clear-selection", text: "Clear selection",
      onclick: () => this.clearSelection() });
    this.selectionBar = el("span", { className: "hs-selection", hidden: "" }, [this.selectionNote, " ", this.clearButton]);
    this.chartTools = el("div", { className: "hs-chart-tools" }, [
      el("label", { className: "hs-log-label" }, [this.logToggle, ` log scale for ${sweep.primary_metric}`]), this.selectionBar]);
    this.charts = el("div", { className: "hs-chart-area" }, [
      this.chartTools,
      el("section", { className: "hs-charts" }, [this.chartBox.intervals, this.chartBox.best, this.chartBox.parallel,
        contourPanel, this.chartBox.edf, this.chartBox.timeline]),
      el("h3", { text: "each hyperparameter against " + sweep.primary_metric }),
      this.chartBox.scatters,
    ]);
    this.compareBox = el("section", { className: "hs-compare", id: "hs-compare", hidden: "" });
    const columns = this.columns(sweep);
    this.table = new HS.Table(columns, { sortKey: "best", sortDir: sweep.goal === "maximize" ? -1 : 1, select: true,
      onCheck: () => this.renderCompareButton() });
    this.compareButton = el("button", { type: "button", className: "hs-compare-button", text: "Compare", disabled: "",
      onclick: () => this.showCompare(Array.from(this.table.checked)) });
    const exportAs = (kind) => el("button", { type: "button", className: "hs-export-" + kind, text: "Export " + kind.toUpperCase(),
      title: "the runs shown, as filtered", onclick: () => this.exportRows(kind) });
    this.table.tools.append(this.compareButton, exportAs("csv"), exportAs("json"));
    root.replaceChildren(
      this.header,
      this.state,
      el("section", { className: "hs-importance", id: "hs-importance" }),  // filled by the importance panel
      this.charts,
      this.compareBox,
      el("h3", { text: "runs" }),
      this.table.el,
    );
    if (global.matchMedia) {
      const scheme = global.matchMedia("(prefers-color-scheme: dark)");
      if (scheme.addEventListener) scheme.addEventListener("change", () => { if (this.drawn) this.drawCharts(false); });
    }
    this.renderHeader();
    this.renderTable();
    this.drawCharts(true);
  };

  const P = HS.SweepView.prototype;

  /** The runs table's columns. */
  P.columns = function (sweep) {
    const metric = sweep.primary_metric;
    // a value that was not finite arrives as null, named in r.nonfinite (inf, -inf, nan): show the name
    const shown = (r, key, v) => (v === null && r.nonfinite && r.nonfinite[key]) || HS.fmt(v);
    const columns = [
      { key: "number", label: "#", value: (r) => r.number, className: "hs-num",
        cell: (r) => this.opts.links ? el("a", { href: "/runs/" + encodeURIComponent(r.id), text: "#" + r.number }) : "#" + r.number },
      { key: "status", label: "status", value: (r) => r.status, cell: (r) => HS.statusBadge(r.status) },
    ];
    for (const p of sweep.parameters) columns.push({ key: "hp:" + p.name, label: p.label, value: (r) => r.hp[p.name], className: "hs-num",
      cell: (r) => shown(r, p.name, r.hp[p.name]) });
    columns.push(
      { key: "best", label: metric + " best", value: (r) => r.best, className: "hs-num hs-strong", desc: sweep.goal === "maximize",
        cell: (r) => shown(r, "best", r.best) },
      { key: "last", label: "last", value: (r) => r.last, className: "hs-num", desc: sweep.goal === "maximize",
        cell: (r) => shown(r, "last", r.last) },
      { key: "intervals", label: "intervals", value: (r) => r.intervals, className: "hs-num", desc: true },
      { key: "duration", label: "duration", value: (r) => r.duration, className: "hs-num", cell: (r) => HS.fmtDuration(r.duration), desc: true },
      { key: "note", label: "why it stopped", value: (r) => r.note, className: "hs-note" },
    );
    return columns;
  };

  /** What the sweep is doing when its charts cannot say it: starting, empty, or every run failed. */
  P.stateMessage = function () {
    const s = this.model.sweep, runs = this.model.runs;
    const terminal = HS.TERMINAL.has(s.status);
    const scoredRuns = runs.filter((r) => r.best !== null && r.best !== undefined).length;
    if (!runs.length) {
      if (!terminal) return { kind: "starting", text: `The sweep is ${s.status === "Queued" ? "queued" : "starting"}: no run has started yet. This page updates by itself.` };
      return { kind: "empty", text: `This sweep ended (${s.status}) without starting a run.` + (s.error ? " " + s.error.split("\n")[0] : "") };
    }
    const failed = runs.filter((r) => r.status === "Failed");
    if (failed.length === runs.length && (terminal || runs.every((r) => HS.TERMINAL.has(r.status)))) {
      const first = failed.slice().sort((a, b) => a.number - b.number)[0];
      return { kind: "failed", text: `Every run failed (${failed.length} of ${runs.length}). The first failure, run #${first.number}: `
        + (first.note || "no reason recorded"), run: first };
    }
    if (!scoredRuns) {
      const running = runs.filter((r) => !HS.TERMINAL.has(r.status)).length;
      return { kind: "waiting", text: `No run has logged ${s.primary_metric} yet (${running} running or queued, ${runs.length - running} ended).` };
    }
    return null;
  };

  P.hasValues = function () { return this.model.runs.some((r) => r.best !== null && r.best !== undefined); };

  P.renderState = function () {
    const msg = this.stateMessage();
    this.state.dataset.state = msg ? msg.kind : "";
    this.charts.hidden = !this.hasValues();
    if (!msg) { this.state.replaceChildren(); return; }
    const children = [el("span", { className: "hs-state-text", text: msg.text })];
    if (msg.run && this.opts.links) {
      children.push(" ", el("a", { className: "hs-state-logs", href: "/runs/" + encodeURIComponent(msg.run.id),
        text: `its logs (run #${msg.run.number})` }));
    }
    this.state.replaceChildren(...children);
  };

  P.renderHeader = function () {
    const s = this.model.sweep;
    const pct = s.max_total_runs ? Math.min(100, (100 * s.done) / s.max_total_runs) : 0;
    const bar = el("span", { className: "hs-progress", title: `${s.done} of ${s.max_total_runs} runs ended` }, [
      el("span", { className: "hs-progress-fill", style: `width:${pct.toFixed(1)}%` })]);
    const best = s.best === null || s.best === undefined ? "no value yet" : `${HS.fmt(s.best)} (run #${s.best_run})`;
    const facts = [
      ["experiment", s.experiment], ["runs", `${s.done} / ${s.max_total_runs} ended, ${s.n_runs} started`],
      [`best ${s.primary_metric} (${s.goal})`, best], ["elapsed", HS.fmtDuration(s.elapsed)],
      ["sampling", s.sampling || ""], ["policy", s.policy ? s.policy.name : "none"], ["started", HS.fmtTime(s.started || s.created)],
    ];
    const children = [
      el("h1", null, [el("span", { className: "hs-id", text: s.id }), " ", HS.statusBadge(s.status)]),
      el("div", { className: "hs-progress-line" }, [bar, el("span", { text: ` ${s.done}/${s.max_total_runs}` })]),
      el("dl", { className: "hs-facts" }, facts.map(([k, v]) => el("div", null, [el("dt", { text: k }), el("dd", { text: v })]))),
    ];
    if (s.error) children.push(el("pre", { className: "hs-error-text", text: s.error }));
    const tagKeys = Object.keys(s.tags || {});
    if (tagKeys.length) children.push(el("div", { className: "hs-tags" }, tagKeys.map((k) => el("span", { className: "hs-tag", text: `${k}: ${s.tags[k]}` }))));
    if (this.opts.onCancel && !HS.TERMINAL.has(s.status)) {
      const button = el("button", { className: "hs-cancel", type: "button", text: s.cancel_requested ? "Cancel requested" : "Cancel sweep" });
      if (s.cancel_requested) button.disabled = true;
      button.addEventListener("click", async () => {
        if (!global.confirm("Cancel this sweep? Its running runs are stopped.")) return;
        button.disabled = true;
        try { await this.opts.onCancel(); button.textContent = "Cancel requested"; } catch (e) { button.disabled = false; HS.showError(e); }
      });
      children.push(button);
    }
    this.header.replaceChildren(...children);
    this.renderState();
  };

  P.renderTable = function () {
    const best = this.model.sweep.best_run;
    for (const r of this.model.runs) r.isBest = r.number === best;
    this.table.scope = this.selection;
    this.table.setRows(this.model.runs);
    const values = this.model.runs.map((r) => r.best).filter((v) => typeof v === "number");
    const canLog = values.length > 0 && values.every((v) => v > 0);
    this.logToggle.disabled = !canLog;
    this.logToggle.parentNode.title = canLog ? "" : `a log scale needs every value of ${this.model.sweep.primary_metric} above 0`;
    if (!canLog && this.model.logMetric) { this.model.logMetric = false; this.logToggle.checked = false; }
    if (!this.compareBox.hidden) this.showCompare(this.compared);
  };

  /** The model the charts other than the parallel coordinates draw: the selected runs only. */
  P.shownModel = function () {
    const m = this.model, sel = this.selection;
    if (!sel) return m;
    return Object.assign({}, m, { runs: m.runs.filter((r) => sel.has(r.number)) });
  };

  P.drawContour = function (done) {
    if (!this.hasContour) return false;
    const params = this.model.sweep.parameters;
    const px = params[Number(this.contourX.value)], py = params[Number(this.contourY.value)];
    HS.draw(this.chartBox.contour, HS.contourOption(this.shownModel(), px, py), done);
    return true;
  };

  /**
   * Draw every chart; on the first full draw, mark the root (and the page) once all have rendered.
   * The parallel chart always shows every run; the ranges brushed on it are drawn again each time
   * and the selection follows from them, so a run that arrives inside them joins the selection.
   * With {keepParallel: true} (a brush being dragged) the parallel chart is left as it is.
   */
  P.drawCharts = function (first, how) {
    const m = this.model, box = this.chartBox;
    const root = this.root;
    if (!this.hasValues() && !this.drawn) {
      // nothing to chart yet: the state says why; the page is drawn all the same
      if (first) {
        root.dataset.chartsDrawn = "0";
        document.documentElement.dataset.hsChartsDrawn = "0";
        if (global.performance) root.dataset.drawnAt = performance.now().toFixed(1);
        root.dispatchEvent(new CustomEvent("hs:drawn", { bubbles: true }));
      }
      return;
    }
    const firstDraw = !this.drawn;
    this.drawn = true;
    let total = null, finished = 0;
    const mark = () => {
      root.dataset.chartsDrawn = String(total);
      if (global.performance) root.dataset.drawnAt = performance.now().toFixed(1);  // ms since navigation
      document.documentElement.dataset.hsChartsDrawn = String(total);
      root.dispatchEvent(new CustomEvent("hs:drawn", { bubbles: true }));
    };
    const done = firstDraw ? () => { finished += 1; if (finished === total) mark(); } : null;
    let count = 0;
    if (firstDraw || !(how && how.keepParallel)) { this.drawParallel(done); count += 1; }
    const shown = this.shownModel();
    const jobs = [[box.intervals, HS.intervalsOption(shown)], [box.best, HS.bestSoFarOption(shown)]];
    const timeline = HS.timelineOption(shown);
    // as tall as its lanes need (a sweep of one or two at once needs no 360 px)
    box.timeline.style.height = Math.round(Math.min(360, Math.max(150, 110 + 26 * (timeline.yAxis.max + 0.5)))) + "px";
    jobs.push([box.edf, HS.edfOption(shown)], [box.timeline, timeline]);
    if (!box.scatters.children.length) {
      for (const p of m.sweep.parameters) box.scatters.appendChild(el("div", { className: "hs-chart hs-small", dataset: { param: p.label } }));
    }
    m.sweep.parameters.forEach((p, i) => jobs.push([box.scatters.children[i], HS.scatterOption(shown, p)]));
    for (const [container, option] of jobs) HS.draw(container, option, done);
    if (this.drawContour(done)) count += 1;
    total = count + jobs.length;
    if (firstDraw && finished === total) mark();
    this.lastDraw = Date.now();
  };

  /** The parallel chart with every run, its brushes drawn again; the selection is what they hold. */
  P.drawParallel = function (done) {
    const chart = HS.draw(this.chartBox.parallel, HS.parallelOption(this.model), done);
    if (!chart._hsWired) {  // a new chart (the first, or one for another colour scheme)
      chart._hsWired = true;
      chart.on("axisareaselected", (event) => this.brushed(chart, event));
    }
    const brushes = Object.entries(this.brushes);
    if (!brushes.length) {
      if (this.selection) this.setSelection(null);
      return;
    }
    this.restoring = true;
    try {
      for (const [id, intervals] of brushes) chart.dispatchAction({ type: "axisAreaSelect", parallelAxisId: id, intervals: intervals });
    } finally {
      this.restoring = false;
    }
    this.setSelection(HS.parallelSelection(chart));
  };

  /** A brush drawn, moved or removed on one axis of the parallel chart. */
  P.brushed = function (chart, event) {
    if (this.restoring) return;
    if (event && event.parallelAxisId !== undefined) {
      if (event.intervals && event.intervals.length) this.brushes[event.parallelAxisId] = event.intervals;
      else delete this.brushes[event.parallelAxisId];
    }
    this.setSelection(HS.parallelSelection(chart));
    this.drawCharts(false, { keepParallel: true });
  };

  /** The selection, its note and the table's rows (no chart is redrawn). */
  P.setSelection = function (numbers) {
    this.selection = numbers;
    const total = this.model.runs.filter((r) => r.best !== null && r.best !== undefined).length;
    this.selectionBar.hidden = !numbers;
    this.selectionNote.textContent = numbers ? `${numbers.size} of ${total} runs selected` : "";
    this.root.dataset.selected = numbers ? String(numbers.size) : "";
    this.renderTable();
  };

  P.clearSelection = function () {
    this.brushes = {};
    this.drawCharts(false);  // the parallel chart without brushes: nothing is selected
  };

  P.renderCompareButton = function () {
    const n = this.table.checked.size;
    this.compareButton.disabled = n === 0;
    this.compareButton.textContent = n ? `Compare ${n} run${n === 1 ? "" : "s"}` : "Compare";
  };

  /** The checked runs side by side: hyperparameters, values, durations, status and why each ended; their curves overlaid. */
  P.showCompare = function (numbers) {
    const byNumber = new Map(this.model.runs.map((r) => [r.number, r]));
    const runs = numbers.map((n) => byNumber.get(n)).filter(Boolean).sort((a, b) => a.number - b.number);
    this.compared = runs.map((r) => r.number);
    if (!runs.length) { this.compareBox.hidden = true; return; }
    const s = this.model.sweep;
    const rowsOf = [["status", (r) => HS.statusBadge(r.status)]];
    for (const p of s.parameters) rowsOf.push([p.label, (r) => HS.fmt(r.hp[p.name])]);
    rowsOf.push([s.primary_metric + " best", (r) => HS.fmt(r.best)], ["last", (r) => HS.fmt(r.last)], ["intervals", (r) => HS.fmt(r.intervals)],
      ["duration", (r) => HS.fmtDuration(r.duration)], ["started", (r) => HS.fmtTime(r.started)], ["why it stopped", (r) => r.note || ""]);
    const head = el("tr", null, [el("th", { text: "" })].concat(runs.map((r) => el("th", null, [
      this.opts.links ? el("a", { href: "/runs/" + encodeURIComponent(r.id), text: "run #" + r.number }) : "run #" + r.number]))));
    const body = rowsOf.map(([label, f]) => el("tr", { dataset: { field: label } }, [el("th", { text: label })].concat(runs.map((r) => {
      const v = f(r);
      return el("td", typeof v === "string" ? { text: v, title: v.length > 40 ? v : null } : null, typeof v === "string" ? null : [v]);
    }))));
    const chart = this.compareChart || (this.compareChart = el("div", { className: "hs-chart", id: "hs-chart-compare" }));
    this.compareBox.replaceChildren(
      el("div", { className: "hs-compare-head" }, [el("h3", { text: `comparing ${runs.length} run${runs.length === 1 ? "" : "s"}` }),
        el("button", { type: "button", className: "hs-compare-close", text: "Close", onclick: () => { this.compareBox.hidden = true; } })]),
      el("div", { className: "hs-compare-grid" }, [
        el("div", { className: "hs-table-scroll" }, [el("table", { className: "hs-compare-table" }, [el("thead", null, [head]), el("tbody", null, body)])]),
        chart]),
    );
    this.compareBox.hidden = false;
    HS.draw(chart, HS.compareOption(this.model, runs));
  };

  /** Download the table's shown runs (selection and filters applied, in its order) as CSV or JSON. */
  P.exportRows = function (kind) {
    const s = this.model.sweep, rows = this.table.visibleRows();
    const records = rows.map((r) => ({ number: r.number, id: r.id, status: r.status, hyperparameters: r.hp, best: r.best, last: r.last,
      intervals: r.intervals, duration: r.duration, started: r.started, ended: r.ended, why_it_stopped: r.note, nonfinite: r.nonfinite }));
    if (kind === "json") {
      HS.download(`${s.id}-runs.json`, "application/json", JSON.stringify({ sweep: s.id, primary_metric: s.primary_metric, goal: s.goal, runs: records }, null, 1));
      return;
    }
    const head = ["number", "id", "status"].concat(s.parameters.map((p) => p.label),
      [s.primary_metric + "_best", s.primary_metric + "_last", "intervals", "duration_s", "started", "ended", "why_it_stopped"]);
    const lines = [head.map(HS.csvField).join(",")];
    const mark = (r, key, v) => (v === null && r.nonfinite && r.nonfinite[key]) || v;
    for (const r of records) {
      lines.push([r.number, r.id, r.status].concat(s.parameters.map((p) => mark(r, p.name, r.hyperparameters[p.name])),
        [mark(r, "best", r.best), mark(r, "last", r.last), r.intervals, r.duration, r.started, r.ended, r.why_it_stopped]).map(HS.csvField).join(","));
    }
    HS.download(`${s.id}-runs.csv`, "text/csv", lines.join("\r\n") + "\r\n");
  };

  /** Merge an answer of GET /api/sweeps/{id}/updates; redraw (charts at most every redrawMs). */
  P.apply = function (upd) {
    const m = this.model;
    m.sweep = upd.sweep;
    m.cursor = upd.cursor;
    if (upd.runs.length) {
      const byNumber = new Map(m.runs.map((r) => [r.number, r]));
      for (const r of upd.runs) byNumber.set(r.number, r);
      m.runs = Array.from(byNumber.values()).sort((a, b) => a.number - b.number);
    }
    let newPoints = 0;
    for (const key of Object.keys(upd.points)) {
      const ys = m.series.y[key] || (m.series.y[key] = []);
      let xs = m.series.x[key];
      for (const [step, value] of upd.points[key]) {
        if (!xs && step !== ys.length + 1) xs = m.series.x[key] = ys.map((_, i) => i + 1);
        if (xs) xs.push(step);
        ys.push(value);
        newPoints += 1;
      }
    }
    this.renderHeader();
    if (upd.runs.length) this.renderTable();
    if (upd.runs.length || newPoints) this.scheduleDraw();
    this.root.dataset.updates = String(Number(this.root.dataset.updates || 0) + 1);
  };

  P.scheduleDraw = function () {
    if (this.drawTimer) return;
    const wait = Math.max(0, this.opts.redrawMs - (Date.now() - this.lastDraw));
    this.drawTimer = setTimeout(() => { this.drawTimer = null; this.drawCharts(false); }, wait);
  };
})(typeof window !== "undefined" ? window : this);
