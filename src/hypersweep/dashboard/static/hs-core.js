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
   * options: {sortKey, sortDir, select: a checkbox in each row's first cell (this.checked holds the rows' numbers),
   *   onCheck(checked)}; a cell of class hs-note is ellipsized and shows its full text on hover.
   */
  HS.Table = function (columns, options) {
    const opts = options || {};
    this.columns = columns;
    this.rows = [];
    this.sortKey = opts.sortKey || columns[0].key;
    this.sortDir = opts.sortDir || 1;
    this.filterText = "";
    this.statusFilter = "";
    this.scope = null;  // a Set of run numbers (a selection made elsewhere), or null for every run
    this.select = Boolean(opts.select);
    this.onCheck = opts.onCheck || null;
    this.checked = new Set();
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
    const headCells = columns.map((c) => HS.el("th", {
      className: c.className, title: "sort by " + c.label, dataset: { key: c.key },
      onclick: () => { if (this.sortKey === c.key) this.sortDir = -this.sortDir; else { this.sortKey = c.key; this.sortDir = c.desc ? -1 : 1; } this.render(); },
    }, [c.label]));
    if (this.select) {
      this.checkAll = HS.el("input", { type: "checkbox", className: "hs-check-all", "aria-label": "select every shown run",
        onchange: () => {
          for (const r of this.shown) { if (this.checkAll.checked) this.checked.add(r.number); else this.checked.delete(r.number); }
          this.render();
          if (this.onCheck) this.onCheck(this.checked);
        } });
      this.checkAll.addEventListener("click", (e) => e.stopPropagation());  // not a click on the header (sort)
      headCells[0].prepend(this.checkAll);
      headCells[0].classList.add("hs-first");
    }
    this.tbody = HS.el("tbody");
    if (this.select) {
      this.tbody.addEventListener("change", (e) => {
        const box = e.target;
        if (!box.classList || !box.classList.contains("hs-check-run")) return;
        const n = Number(box.closest("tr").dataset.run);
        if (box.checked) this.checked.add(n); else this.checked.delete(n);
        if (this.onCheck) this.onCheck(this.checked);
      });
    }
    this.thead = HS.el("thead", null, [HS.el("tr", null, headCells)]);
    this.tools = HS.el("div", { className: "hs-table-tools" }, [this.filterInput, this.statusSelect, this.count]);
    this.shown = [];
    this.el = HS.el("div", { className: "hs-table-wrap" }, [
      this.tools,
      HS.el("div", { className: "hs-table-scroll" }, [HS.el("table", { className: "hs-table" }, [this.thead, this.tbody])]),
    ]);
  };

  HS.Table.prototype.setRows = function (rows) { this.rows = rows; this.render(); };

  /** The rows the table shows, in its order: the selection (scope), the text and status filters applied. */
  HS.Table.prototype.visibleRows = function () {
    const col = this.columns.find((c) => c.key === this.sortKey) || this.columns[0];
    const dir = this.sortDir;
    const text = this.filterText, status = this.statusFilter, scope = this.scope;
    let rows = this.rows;
    if (scope) rows = rows.filter((r) => scope.has(r.number));
    if (status) rows = rows.filter((r) => r.status === status);
    if (text) rows = rows.filter((r) => this.columns.some((c) => String(HS.fmt(c.value(r))).toLowerCase().includes(text)));
    return rows.slice().sort((a, b) => {
      const va = col.value(a), vb = col.value(b);
      const empty = va === null || va === undefined || va === "";
      const emptyB = vb === null || vb === undefined || vb === "";
      if (empty || emptyB) return compare(va, vb);
      return dir * compare(va, vb) || a.number - b.number;
    });
  };

  HS.Table.prototype.render = function () {
    const rows = this.visibleRows();
    this.shown = rows;
    const frag = document.createDocumentFragment();
    for (const r of rows) {
      const tr = document.createElement("tr");
      tr.dataset.run = r.number;
      if (r.isBest) tr.className = "hs-best";
      for (const c of this.columns) {
        const td = document.createElement("td");
        if (c.className) td.className = c.className;
        const content = c.cell ? c.cell(r) : HS.fmt(c.value(r));
        if (typeof content === "string") {
          td.textContent = content;
          if (c.className && c.className.includes("hs-note") && content) td.title = content;  // ellipsized: the whole text on hover
        } else td.appendChild(content);
        if (this.select && c === this.columns[0]) {  // the first cell holds the row's checkbox
          td.classList.add("hs-first");
          const box = document.createElement("input");
          box.type = "checkbox";
          box.className = "hs-check-run";
          box.setAttribute("aria-label", "select run #" + r.number);
          box.checked = this.checked.has(r.number);
          td.prepend(box);
        }
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    this.tbody.replaceChildren(frag);
    for (const th of this.thead.querySelectorAll("th[data-key]")) {
      th.classList.toggle("hs-sorted", th.dataset.key === this.sortKey);
      th.classList.toggle("hs-desc", th.dataset.key === this.sortKey && this.sortDir < 0);
    }
    if (this.checkAll) this.checkAll.checked = rows.length > 0 && rows.every((r) => this.checked.has(r.number));
    this.count.textContent = rows.length === this.rows.length ? `${rows.length} runs` : `${rows.length} of ${this.rows.length} runs`;
  };

  /** Save `text` as a file named `name` (a download made in the page: no server needed). */
  HS.download = function (name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type: type }));
    const a = HS.el("a", { href: url, download: name, style: "display:none" });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };

  /** One CSV field: quoted when needed; text that a spreadsheet would run as a formula is prefixed with '. */
  HS.csvField = function (v) {
    if (v === null || v === undefined) return "";
    let s = typeof v === "object" ? JSON.stringify(v) : String(v);
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
})(typeof window !== "undefined" ? window : this);
