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

  function render(sweeps) {
    if (!sweeps.length) {
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
      sections.push(el("h2", { text: name }), el("table", { className: "hs-table hs-sweeps" }, [
        el("thead", null, [el("tr", null, ["sweep", "status", "runs done / max", "best so far", "goal", "elapsed", "started"].map((h) => el("th", { text: h })))]),
        el("tbody", null, list.map(sweepRow)),
      ]));
    }
    root.replaceChildren(...sections);
    root.dataset.sweeps = String(sweeps.length);
  }

  async function refresh() { render(await HS.api("/api/sweeps")); }
  refresh().then(() => HS.poll(async () => { await refresh(); return true; }, 3000), HS.showError);
})();
