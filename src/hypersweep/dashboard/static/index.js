/* hypersweep dashboard: the list of experiments and their sweeps (refreshed every few seconds). */
(function () {
  "use strict";
  const el = HS.el;
  const root = document.getElementById("app");

  function sweepRow(s) {
    const pct = s.max_total_runs ? Math.min(100, (100 * s.done) / s.max_total_runs) : 0;
    return el("tr", { dataset: { sweep: s.id } }, [
      el("td", null, [el("a", { href: "/sweeps/" + encodeURIComponent(s.id), text: s.id })]),
      el("td", null, [HS.statusBadge(s.status)]),
      el("td", { className: "hs-num" }, [
        el("span", { className: "hs-progress" }, [el("span", { className: "hs-progress-fill", style: `width:${pct.toFixed(1)}%` })]),
        el("span", { text: ` ${s.done} / ${s.max_total_runs}` })]),
      el("td", { className: "hs-num", text: s.best === null ? "" : `${s.primary_metric} ${HS.fmt(s.best)}` }),
      el("td", { text: s.goal }),
      el("td", { className: "hs-num", text: HS.fmtDuration(s.elapsed) }),
      el("td", { text: HS.fmtTime(s.started || s.created) }),
    ]);
  }

  function singleRow(s) {
    return el("tr", { dataset: { run: s.run_id || s.id } }, [
      el("td", null, [s.run_id ? el("a", { href: "/runs/" + encodeURIComponent(s.run_id), text: s.run_id }) : el("span", { text: s.id })]),
      el("td", null, [HS.statusBadge(s.run_status || s.status)]),
      el("td", { className: "hs-num", text: HS.fmtDuration(s.elapsed) }),
      el("td", { text: HS.fmtTime(s.started || s.created) }),
    ]);
  }

  function modelRow(m) {
    return el("tr", { dataset: { model: m.name + ":" + m.version } }, [
      el("td", { text: m.name }),
      el("td", { className: "hs-num", text: String(m.version) }),
      el("td", null, [m.run_id ? el("a", { href: "/runs/" + encodeURIComponent(m.run_id), text: m.run_id })
        : el("span", { className: "hs-muted", text: "local file" })]),
      el("td", { text: Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(", ") }),
      el("td", { text: m.description || "" }),
      el("td", { text: HS.fmtTime(m.created) }),
    ]);
  }

  function modelsSection(models) {
    if (!models.length) return [];
    return [el("h1", { text: "Models" }), el("table", { className: "hs-table hs-models" }, [
      el("thead", null, [el("tr", null, ["model", "version", "run", "tags", "description", "registered"].map((h) => el("th", { text: h })))]),
      el("tbody", null, models.map(modelRow)),
    ])];
  }

  function render(sweeps, models) {
    if (!sweeps.length && !models.length) {
      root.replaceChildren(el("h1", { text: "No sweeps yet" }),
        el("p", { text: "Start one with: hypersweep run SWEEP.yml --workspace <this folder>" }));
      return;
    }
    const byExperiment = new Map();
    for (const s of sweeps) {
      if (!byExperiment.has(s.experiment)) byExperiment.set(s.experiment, []);
      byExperiment.get(s.experiment).push(s);
    }
    const sections = [el("h1", { text: "Sweeps" })];
    for (const [name, list] of byExperiment) {
      const swept = list.filter((s) => s.kind !== "single"), singles = list.filter((s) => s.kind === "single");
      sections.push(el("h2", { text: name }));
      if (swept.length) {
        sections.push(el("table", { className: "hs-table hs-sweeps" }, [
          el("thead", null, [el("tr", null, ["sweep", "status", "runs done / max", "best so far", "goal", "elapsed", "started"].map((h) => el("th", { text: h })))]),
          el("tbody", null, swept.map(sweepRow)),
        ]));
      }
      if (singles.length) {
        sections.push(el("table", { className: "hs-table hs-single-runs" }, [
          el("thead", null, [el("tr", null, ["run", "status", "elapsed", "started"].map((h) => el("th", { text: h })))]),
          el("tbody", null, singles.map(singleRow)),
        ]));
      }
    }
    root.replaceChildren(...sections, ...modelsSection(models));
    root.dataset.sweeps = String(sweeps.length);
    root.dataset.models = String(models.length);
  }

  async function refresh() {
    const [sweeps, models] = await Promise.all([HS.api("/api/sweeps"), HS.api("/api/models")]);
    render(sweeps, models);
  }
  refresh().then(() => HS.poll(async () => { await refresh(); return true; }, 3000), HS.showError);
})();
