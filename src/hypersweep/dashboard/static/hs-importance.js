/* hypersweep dashboard: the hyperparameter-importance panel (a horizontal bar chart), on the sweep page
 * and in the report. It is given the answer of GET /api/sweeps/{id}/importance. */
(function (global) {
  "use strict";
  const HS = global.HS || (global.HS = {});
  const BAR = "#4e79a7";
  const pct = (v) => (100 * v).toFixed(v >= 0.1 ? 0 : 1) + "%";

  /** One bar per hyperparameter, the most important at the top; the tooltip has the spread across trees. */
  HS.importanceOption = function (data) {
    const items = data.importances.slice().reverse();  // ECharts puts the first category at the bottom
    const top = items.length ? Math.max(...items.map((d) => d.importance)) : 1;
    return {
      animation: false,
      textStyle: { fontFamily: "inherit" },
      grid: { left: 8, right: 56, top: 10, bottom: 40, containLabel: true },
      tooltip: {
        trigger: "item",
        formatter: (p) => {
          const d = items[p.dataIndex];
          return `<b>${HS.escapeHTML(d.label)}</b><br>${pct(d.importance)} of the variance of ` +
            `${HS.escapeHTML(data.primary_metric)}<br>± ${pct(d.std)} across the forest's trees`;
        },
      },
      xAxis: {
        type: "value", min: 0, max: Math.min(1, Math.max(0.05, top * 1.15)),
        name: "share of the variance of " + data.primary_metric, nameLocation: "middle", nameGap: 26,
        nameTextStyle: { fontSize: 11 }, axisLabel: { formatter: (v) => Math.round(100 * v) + "%" },
      },
      yAxis: { type: "category", data: items.map((d) => d.label), axisLabel: { width: 220, overflow: "truncate" } },
      series: [{
        type: "bar", name: "importance", data: items.map((d) => d.importance), barMaxWidth: 22,
        itemStyle: { color: BAR }, label: { show: true, position: "right", formatter: (p) => pct(p.value) },
      }],
    };
  };

  /** What the runs behind the estimate were, in words. */
  HS.importanceNote = function (data) {
    if (data.message && !data.importances.length) return data.message;
    const c = data.counts || {};
    const out = [`fANOVA on a random forest, from ${data.n_runs} runs (Completed, or stopped early, by their best value)`];
    const left = [];
    if (c.failed) left.push(`${c.failed} failed`);
    if (c.unfinished) left.push(`${c.unfinished} still going`);
    if (c.no_metric) left.push(`${c.no_metric} without a value`);
    if (left.length) out.push("left out: " + left.join(", "));
    if (data.message) out.push(data.message);
    return out.join("; ") + ".";
  };

  /**
   * The panel, placed before the sweep view's charts in `root` (or at its end).
   * update(data) draws it; the section's data-state is "drawn", "empty" or "error".
   */
  HS.ImportancePanel = function (root) {
    const el = HS.el;
    this.title = el("h3", { text: "hyperparameter importance" });
    this.note = el("p", { className: "hs-muted hs-importance-note", text: "Estimating how much each hyperparameter matters…" });
    this.chart = el("div", { className: "hs-importance-chart", id: "hs-chart-importance" });
    this.chart.hidden = true;
    const placed = root.querySelector("#hs-importance");  // the place the sweep view keeps for the panel
    if (placed) {
      this.section = placed;
      placed.replaceChildren(this.title, this.note, this.chart);
      return;
    }
    this.section = el("section", { className: "hs-importance", id: "hs-importance" }, [this.title, this.note, this.chart]);
    const anchor = root.querySelector(".hs-charts");
    if (anchor) anchor.parentNode.insertBefore(this.section, anchor);
    else root.appendChild(this.section);
  };

  HS.ImportancePanel.prototype.update = function (data) {
    this.title.textContent = "hyperparameter importance for " + data.primary_metric;
    this.note.textContent = HS.importanceNote(data);
    if (!data.importances.length) {
      this.chart.hidden = true;
      this.section.dataset.state = "empty";
      return;
    }
    this.chart.hidden = false;
    this.chart.style.height = 60 + 26 * data.importances.length + "px";
    const section = this.section;
    HS.draw(this.chart, HS.importanceOption(data), () => { section.dataset.state = "drawn"; });
    if (this.chart._hsChart) this.chart._hsChart.resize();
  };

  HS.ImportancePanel.prototype.fail = function (message) {
    this.note.textContent = "Importance could not be computed: " + message;
    this.section.dataset.state = "error";
  };
})(typeof window !== "undefined" ? window : this);

/* On a live page: fetch the panel's data now, and again when more runs have ended (at most every 10 s,
 * at once when the sweep ends). */
(function (global) {
  "use strict";
  const HS = global.HS || (global.HS = {});
  HS.importancePoller = function (root, sweepPath, sweep) {
    const panel = new HS.ImportancePanel(root);
    let latest = sweep, shownDone = -1, busy = false, last = 0, timer = null;
    const fetchNow = () => {
      if (busy) return;
      busy = true;
      last = Date.now();
      const done = latest.done;
      HS.api(sweepPath + "/importance")
        .then((data) => { shownDone = done; panel.update(data); })
        .catch((e) => { shownDone = done; panel.fail(e.message); })
        .finally(() => { busy = false; if (latest.done !== shownDone) schedule(); });
    };
    const schedule = () => {
      if (timer || busy) return;
      const wait = HS.TERMINAL.has(latest.status) ? 0 : Math.max(0, 10000 - (Date.now() - last));
      timer = setTimeout(() => { timer = null; fetchNow(); }, wait);
    };
    fetchNow();
    return {
      panel,
      changed(s) {
        latest = s;
        if (s.done !== shownDone) schedule();
      },
    };
  };
})(typeof window !== "undefined" ? window : this);
