/* hypersweep dashboard: a sweep's view (summary, charts, runs table), shared by the sweep page,
 * the HTML report and the notebook widget. Live pages feed it the API's /updates answers. */
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
    this.model = { sweep: data.sweep, runs: data.runs, series: data.series, cursor: data.cursor };
    this.lastDraw = 0;
    this.drawTimer = null;
    root.classList.add("hs");
    this.header = el("header", { className: "hs-header" });
    this.chartBox = {
      intervals: el("div", { className: "hs-chart", id: "hs-chart-intervals" }),
      best: el("div", { className: "hs-chart", id: "hs-chart-best" }),
      parallel: el("div", { className: "hs-chart hs-wide", id: "hs-chart-parallel" }),
      scatters: el("div", { className: "hs-scatters", id: "hs-chart-scatters" }),
    };
    const sweep = data.sweep;
    const metric = sweep.primary_metric;
    const columns = [
      { key: "number", label: "#", value: (r) => r.number, className: "hs-num",
        cell: (r) => this.opts.links ? el("a", { href: "/runs/" + encodeURIComponent(r.id), text: "#" + r.number }) : "#" + r.number },
      { key: "status", label: "status", value: (r) => r.status, cell: (r) => HS.statusBadge(r.status) },
    ];
    // a value that was not finite arrives as null, named in r.nonfinite (inf, -inf, nan): show the name
    const shown = (r, key, v) => (v === null && r.nonfinite && r.nonfinite[key]) || HS.fmt(v);
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
    this.table = new HS.Table(columns, { sortKey: "best", sortDir: sweep.goal === "maximize" ? -1 : 1 });
    root.replaceChildren(
      this.header,
      el("section", { className: "hs-charts" }, [this.chartBox.intervals, this.chartBox.best, this.chartBox.parallel]),
      el("h3", { text: "each hyperparameter against " + metric }),
      this.chartBox.scatters,
      el("h3", { text: "runs" }),
      this.table.el,
    );
    this.renderHeader();
    this.renderTable();
    this.drawCharts(true);
  };

  const P = HS.SweepView.prototype;

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
  };

  P.renderTable = function () {
    const best = this.model.sweep.best_run;
    for (const r of this.model.runs) r.isBest = r.number === best;
    this.table.setRows(this.model.runs);
  };

  /** Draw every chart; on the first call, mark the root (and the page) once all have rendered. */
  P.drawCharts = function (first) {
    const m = this.model, box = this.chartBox;
    const jobs = [[box.intervals, HS.intervalsOption(m)], [box.best, HS.bestSoFarOption(m)], [box.parallel, HS.parallelOption(m)]];
    if (first) {
      for (const p of m.sweep.parameters) box.scatters.appendChild(el("div", { className: "hs-chart hs-small", dataset: { param: p.label } }));
    }
    m.sweep.parameters.forEach((p, i) => jobs.push([box.scatters.children[i], HS.scatterOption(m, p)]));
    let pending = jobs.length;
    const root = this.root;
    const done = first ? () => {
      pending -= 1;
      if (pending === 0) {
        root.dataset.chartsDrawn = String(jobs.length);
        if (global.performance) root.dataset.drawnAt = performance.now().toFixed(1);  // ms since navigation
        document.documentElement.dataset.hsChartsDrawn = String(jobs.length);
        root.dispatchEvent(new CustomEvent("hs:drawn", { bubbles: true }));
      }
    } : null;
    for (const [container, option] of jobs) HS.draw(container, option, done);
    this.lastDraw = Date.now();
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
