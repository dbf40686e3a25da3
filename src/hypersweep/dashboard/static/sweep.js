/* hypersweep dashboard: the sweep page (fetches the sweep once, then polls /updates while it runs). */
(function () {
  "use strict";
  const id = HS.pageId();
  const path = "/api/sweeps/" + encodeURIComponent(id);
  const root = document.getElementById("app");
  document.title = id + " · hypersweep";
  document.getElementById("hs-where").textContent = " / " + id;

  const first = HS.api(path);  // requested now, while the chart library is still being parsed

  async function start() {
    await HS.loaded;
    const data = await first;
    const view = new HS.SweepView(root, data, {
      links: true,
      onCancel: () => HS.api(path + "/cancel", { method: "POST" }),
    });
    const importance = HS.importancePoller(root, path, data.sweep);
    if (HS.TERMINAL.has(data.sweep.status)) return;
    HS.poll(async () => {
      const upd = await HS.api(path + "/updates?since=" + encodeURIComponent(view.model.cursor));
      view.apply(upd);
      importance.changed(upd.sweep);
      return !HS.TERMINAL.has(upd.sweep.status);
    }, 1500);
  }
  start().catch((e) => { root.replaceChildren(HS.el("p", { className: "hs-error", text: e.message })); });
})();
