/* hypersweep dashboard: one run's view (definition, metrics as charts and tables, tags, files, logs),
 * shared by the run page and the notebook widget. */
(function (global) {
  "use strict";
  const HS = global.HS || (global.HS = {});
  const el = (...a) => HS.el(...a);

  /** ``obj`` with the values that arrived as null because they were not finite named (inf, -inf, nan). */
  function withMarks(obj, marks, prefix) {
    const out = Object.assign({}, obj);
    for (const k of Object.keys(out)) if (out[k] === null && marks && marks[prefix + k]) out[k] = marks[prefix + k];
    return out;
  }

  /** Hyperparameters named as on the sweep page and in the notebook: "--width" is "width". */
  function plainNames(obj) {
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k.replace(/^-+/, "") || k, v]));
  }

  function kvTable(obj, className) {
    const keys = Object.keys(obj);
    if (!keys.length) return el("p", { className: "hs-muted", text: "none" });
    return el("table", { className: "hs-table hs-kv " + (className || "") }, [el("tbody", null, keys.map((k) =>
      el("tr", null, [el("th", { text: k }), el("td", { text: HS.fmt(obj[k]) })])))]);
  }

  function columnsTable(columns, className) {
    const names = Object.keys(columns);
    const n = Math.max(0, ...names.map((c) => columns[c].length));
    const rows = [];
    for (let i = 0; i < n; i++) rows.push(el("tr", null, names.map((c) => el("td", { className: "hs-num", text: HS.fmt(columns[c][i]) }))));
    return el("table", { className: "hs-table " + (className || "") }, [el("thead", null, [el("tr", null, names.map((c) => el("th", { text: c })))]), el("tbody", null, rows)]);
  }

  /**
   * @param root  the element to fill
   * @param data  the answer of GET /api/runs/{id}
   * @param opts  {links: link the sweep and the files, logs: show log panels (filled by the page),
 *               onCancel: async () => void, for a cancel button while the run is not finished}
   */
  HS.RunView = function (root, data, opts) {
    this.root = root;
    this.opts = Object.assign({ links: false, logs: false }, opts || {});
    this.charts = new Map();
    root.classList.add("hs");
    this.main = el("div");
    this.logBoxes = {};
    const parts = [this.main];
    if (this.opts.logs) {
      for (const stream of ["stdout", "stderr"]) {
        this.logBoxes[stream] = el("pre", { className: "hs-log", id: "hs-log-" + stream });
        parts.push(el("h3", { text: stream + " (tail, live)" }), this.logBoxes[stream]);
      }
    }
    root.replaceChildren(...parts);
    this.update(data);
  };

  HS.RunView.prototype.update = function (data) {
    const r = data.run;
    this.data = data;
    const single = r.kind === "single";  // a single run: a run of its experiment, with no sweep
    const sweepLink = this.opts.links
      ? el("a", { href: "/sweeps/" + encodeURIComponent(r.sweep_id), text: r.sweep_id }) : el("span", { text: r.sweep_id });
    const facts = single ? [
      ["experiment", el("span", { text: r.experiment || "" })], ["kind", el("span", { text: "single run" })],
      ["duration", HS.fmtDuration(r.duration)], ["started", HS.fmtTime(r.started)], ["ended", HS.fmtTime(r.ended)],
    ] : [
      ["sweep", sweepLink], ["run number", String(r.number)],
      [`${r.primary_metric} best`, (r.nonfinite || {}).best || HS.fmt(r.best)], ["last", (r.nonfinite || {}).last || HS.fmt(r.last)], ["intervals", String(r.intervals)],
      ["duration", HS.fmtDuration(r.duration)], ["started", HS.fmtTime(r.started)], ["ended", HS.fmtTime(r.ended)],
    ];
    const header = [
      el("h1", null, [el("span", { className: "hs-id", text: r.id }), " ", HS.statusBadge(r.status)]),
      el("dl", { className: "hs-facts" }, facts.map(([k, v]) => el("div", null, [el("dt", { text: k }), el("dd", null, [v])]))),
    ];
    if (this.opts.onCancel && !HS.TERMINAL.has(r.status)) {
      const button = el("button", { className: "hs-cancel", type: "button", text: "Cancel run" });
      button.addEventListener("click", async () => {
        if (!global.confirm("Cancel this run? Its sweep goes on.")) return;
        button.disabled = true;
        try { await this.opts.onCancel(); button.textContent = "Cancel requested"; } catch (e) { button.disabled = false; HS.showError(e); }
      });
      header.push(button);
    }
    if (r.reason) header.push(el("p", { className: "hs-reason", text: "Why it stopped: " + r.reason }));
    if (r.error) header.push(el("pre", { className: "hs-error-text", text: r.error }));

    const series = [], scalars = {}, tables = [];
    for (const name of Object.keys(data.metrics).sort()) {
      const m = data.metrics[name];
      if (m.kind === "table") tables.push([name, m.columns]);
      else if (m.values.length > 1 && m.values.some((v) => typeof v === "number")) series.push([name, m]);
      else scalars[name] = m.values.length === 1 ? m.values[0] : m.values[m.values.length - 1];
    }
    const chartGrid = el("div", { className: "hs-scatters" });
    for (const [name] of series) {
      let box = this.charts.get(name);
      if (!box) { box = el("div", { className: "hs-chart hs-small", dataset: { metric: name } }); this.charts.set(name, box); }
      chartGrid.appendChild(box);
    }
    const files = data.files.length ? el("ul", { className: "hs-files" }, data.files.map((f) => el("li", null, [
      this.opts.links ? el("a", { href: `/api/runs/${encodeURIComponent(r.id)}/file?name=${encodeURIComponent(f.name)}`, download: "", text: f.name })
        : el("span", { text: f.name }),
      el("span", { className: "hs-muted", text: ` ${f.size} bytes` })]))) : el("p", { className: "hs-muted", text: "none" });

    const imageSrc = (img) => img.data || (this.opts.links ? `/api/runs/${encodeURIComponent(r.id)}/image?name=${encodeURIComponent(img.path)}` : null);
    const images = (data.images || []).map((img) => el("figure", { className: "hs-image", dataset: { image: img.name } }, [
      imageSrc(img) ? el("img", { src: imageSrc(img), alt: img.name }) : el("span", { className: "hs-muted", text: img.path }),
      el("figcaption", { text: img.name + (img.description ? " · " + img.description : "") })]));
    const documents = (data.documents || []).flatMap((d) => [
      el("h4", { text: `${d.name} (${d.kind.replace(/_/g, " ")})` }),
      Object.keys(d.columns || {}).length ? columnsTable(d.columns, "hs-document")
        : el("pre", { className: "hs-args hs-document", text: JSON.stringify(d.value, null, 1) })]);

    this.main.replaceChildren(
      ...header,
      el("h3", { text: "arguments" }),
      el("pre", { className: "hs-args", text: (r.arguments || []).map(String).join(" ") }),
      el("h3", { text: "hyperparameters" }), kvTable(plainNames(withMarks(r.hyperparameters, r.nonfinite, "hyperparameters."))),
      el("h3", { text: "metrics" }), chartGrid,
      ...(Object.keys(scalars).length ? [el("h4", { text: "logged once" }), kvTable(scalars, "hs-metrics")] : []),
      ...tables.flatMap(([name, columns]) => [el("h4", { text: name }), columnsTable(columns)]),
      ...documents,
      ...(images.length ? [el("h3", { text: "images" }), el("div", { className: "hs-images" }, images)] : []),
      el("h3", { text: "tags" }), kvTable(data.tags, "hs-tags-table"),
      el("h3", { text: "files" }), files,
    );
    let pending = series.length;
    const root = this.root;
    const done = () => { pending -= 1; if (pending === 0) { root.dataset.chartsDrawn = String(series.length); document.documentElement.dataset.hsChartsDrawn = String(series.length); } };
    if (!series.length) { root.dataset.chartsDrawn = "0"; document.documentElement.dataset.hsChartsDrawn = "0"; }
    for (const [name, m] of series) HS.draw(this.charts.get(name), HS.metricOption(name, m.steps, m.values), done);
  };
})(typeof window !== "undefined" ? window : this);
