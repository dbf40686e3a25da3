/* hypersweep dashboard: shared helpers (DOM, formatting, API, the sortable runs table).
 * Every user-provided string reaches the page through textContent, never as HTML. */
(function (global) {
  "use strict";
  const HS = global.HS || (global.HS = {});

  /** el("td", {className: "x", text: "y", href: url, onclick: fn}, [children]) */
  HS.el = function (tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const key of Object.keys(props)) {
        const value = props[key];
        if (value === undefined || value === null) continue;
        if (key === "text") node.textContent = String(value);
        else if (key === "className") node.className = value;
        else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
        else if (key === "dataset") Object.assign(node.dataset, value);
        else node.setAttribute(key, String(value));
      }
    }
    for (const child of children || []) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  };

  /** For chart tooltips, which ECharts renders as HTML. */
  HS.escapeHTML = function (s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  };

  HS.fmt = function (v, digits) {
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) return "";
    if (typeof v === "number") {
      if (Number.isInteger(v)) return String(v);
      return String(Number(v.toPrecision(digits || 6)));
    }
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  };

  HS.fmtDuration = function (s) {
    if (s === null || s === undefined) return "";
    if (s < 120) return s.toFixed(1) + "s";
    if (s < 7200) return (s / 60).toFixed(1) + "m";
    return (s / 3600).toFixed(1) + "h";
  };

  HS.fmtTime = function (t) {
    if (!t) return "";
    const d = new Date(t * 1000);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  };

  /** Resolves once every deferred script (the chart library too) has run. */
  HS.loaded = new Promise((resolve) => {
    if (document.readyState === "complete") resolve();
    else document.addEventListener("DOMContentLoaded", () => resolve(), { once: true });
  });

  HS.TERMINAL = new Set(["Completed", "Failed", "Canceled"]);

  HS.statusBadge = function (status) {
    return HS.el("span", { className: "hs-status hs-" + String(status).toLowerCase(), text: status });
  };

  HS.token = function () {
    const meta = document.querySelector('meta[name="hs-token"]');
    return meta ? meta.getAttribute("content") : null;
  };

  /** fetch JSON from the API with the page's token in the Authorization header. */
  HS.api = async function (path, options) {
    const opts = Object.assign({ headers: {} }, options || {});
    const token = HS.token();
    if (token) opts.headers.Authorization = "Bearer " + token;
    const response = await fetch(path, opts);
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      const error = new Error(String(detail));
      error.status = response.status;
      throw error;
    }
    return response.json();
  };

  /** The last path segment of the page's URL (a sweep or run id). */
  HS.pageId = function () {
    const parts = location.pathname.split("/").filter(Boolean);
    return decodeURIComponent(parts[parts.length - 1] || "");
  };

  HS.poll = function (fn, ms) {
    let stopped = false;
    async function tick() {
      if (stopped) return;
      let again = true;
      try { again = (await fn()) !== false; } catch (e) { HS.showError(e); }
      if (again && !stopped) setTimeout(tick, document.hidden ? ms * 3 : ms);
    }
    setTimeout(tick, ms);
    return () => { stopped = true; };
  };

  HS.showError = function (e) {
    let bar = document.getElementById("hs-error");
    if (!bar) {
      bar = HS.el("div", { id: "hs-error", className: "hs-error" });
      document.body.prepend(bar);
    }
    bar.textContent = "Could not refresh: " + (e && e.message ? e.message : String(e));
  };

  function compare(a, b) {
    const an = a === null || a === undefined || a === "", bn = b === null || b === undefined || b === "";
    if (an || bn) return an && bn ? 0 : an ? 1 : -1; // empty last, both directions
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  /**
   * A sortable, filterable table.
   * columns: [{key, label, value(row) -> sortable value, cell(row) -> string | Node, className}]
   */
  HS.Table = function (columns, options) {
    const opts = options || {};
    this.columns = columns;
    this.rows = [];
    this.sortKey = opts.sortKey || columns[0].key;
    this.sortDir = opts.sortDir || 1;
    this.filterText = "";
    this.statusFilter = "";
    this.filterInput = HS.el("input", {
      type: "search", className: "hs-filter", placeholder: "filter runs (any column)",
      "aria-label": "filter runs", oninput: () => { this.filterText = this.filterInput.value.trim().toLowerCase(); this.render(); },
    });
    this.statusSelect = HS.el("select", {
      className: "hs-filter-status", "aria-label": "status",
      onchange: () => { this.statusFilter = this.statusSelect.value; this.render(); },
    }, ["", "Queued", "Running", "CancelRequested", "Completed", "Failed", "Canceled"].map(
      (s) => HS.el("option", { value: s, text: s || "any status" })));
    this.count = HS.el("span", { className: "hs-count" });
    const head = HS.el("tr", null, columns.map((c) => HS.el("th", {
      className: c.className, title: "sort by " + c.label, dataset: { key: c.key },
      onclick: () => { if (this.sortKey === c.key) this.sortDir = -this.sortDir; else { this.sortKey = c.key; this.sortDir = c.desc ? -1 : 1; } this.render(); },
    }, [c.label])));
    this.tbody = HS.el("tbody");
    this.thead = HS.el("thead", null, [head]);
    this.el = HS.el("div", { className: "hs-table-wrap" }, [
      HS.el("div", { className: "hs-table-tools" }, [this.filterInput, this.statusSelect, this.count]),
      HS.el("div", { className: "hs-table-scroll" }, [HS.el("table", { className: "hs-table" }, [this.thead, this.tbody])]),
    ]);
  };

  HS.Table.prototype.setRows = function (rows) { this.rows = rows; this.render(); };

  HS.Table.prototype.render = function () {
    const col = this.columns.find((c) => c.key === this.sortKey) || this.columns[0];
    const dir = this.sortDir;
    const text = this.filterText, status = this.statusFilter;
    let rows = this.rows;
    if (status) rows = rows.filter((r) => r.status === status);
    if (text) rows = rows.filter((r) => this.columns.some((c) => String(HS.fmt(c.value(r))).toLowerCase().includes(text)));
    rows = rows.slice().sort((a, b) => {
      const va = col.value(a), vb = col.value(b);
      const empty = va === null || va === undefined || va === "";
      const emptyB = vb === null || vb === undefined || vb === "";
      if (empty || emptyB) return compare(va, vb);
      return dir * compare(va, vb) || a.number - b.number;
    });
    const frag = document.createDocumentFragment();
    for (const r of rows) {
      const tr = document.createElement("tr");
      tr.dataset.run = r.number;
      if (r.isBest) tr.className = "hs-best";
      for (const c of this.columns) {
        const td = document.createElement("td");
        if (c.className) td.className = c.className;
        const content = c.cell ? c.cell(r) : HS.fmt(c.value(r));
        if (typeof content === "string") td.textContent = content; else td.appendChild(content);
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    this.tbody.replaceChildren(frag);
    for (const th of this.thead.querySelectorAll("th")) {
      th.classList.toggle("hs-sorted", th.dataset.key === this.sortKey);
      th.classList.toggle("hs-desc", th.dataset.key === this.sortKey && dir < 0);
    }
    this.count.textContent = rows.length === this.rows.length ? `${rows.length} runs` : `${rows.length} of ${this.rows.length} runs`;
  };
})(typeof window !== "undefined" ? window : this);
