/* hypersweep dashboard: the run page (polls the run and the tails of its logs while it runs). */
(function () {
  "use strict";
  const id = HS.pageId();
  const path = "/api/runs/" + encodeURIComponent(id);
  const root = document.getElementById("app");
  const MAX_LOG_CHARS = 400000;
  document.title = id + " · hypersweep";
  document.getElementById("hs-where").textContent = " / " + id;

  function follow(view, stream) {
    const box = view.logBoxes[stream];
    let offset = null;
    return async function () {
      const query = offset === null ? "?tail=200" : "?offset=" + offset;
      const chunk = await HS.api(path + "/logs/" + stream + query);
      offset = chunk.offset;
      if (chunk.text) {
        const nearBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
        let text = box.textContent + chunk.text;
        if (text.length > MAX_LOG_CHARS) text = text.slice(text.length - MAX_LOG_CHARS);
        box.textContent = text;
        if (nearBottom) box.scrollTop = box.scrollHeight;
      }
      return chunk.truncated;
    };
  }

  const first = HS.api(path);  // requested now, while the chart library is still being parsed

  async function start() {
    await HS.loaded;
    const data = await first;
    const view = new HS.RunView(root, data, {
      links: true, logs: true, onCancel: () => HS.api(path + "/cancel", { method: "POST" }),
    });
    const logs = [follow(view, "stdout"), follow(view, "stderr")];
    const readLogs = async () => { for (const f of logs) while (await f()) { /* read what is waiting */ } };
    await readLogs();
    root.dataset.logsLoaded = "1";
    if (HS.TERMINAL.has(data.run.status)) return;
    HS.poll(async () => {
      const fresh = await HS.api(path);
      await readLogs();
      view.update(fresh);
      return !HS.TERMINAL.has(fresh.run.status);
    }, 1500);
  }
  start().catch((e) => { root.replaceChildren(HS.el("p", { className: "hs-error", text: e.message })); });
})();
