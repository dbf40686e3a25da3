/* hypersweep dashboard: the charts of a sweep (ECharts options built from the API's data). */
(function (global) {
  "use strict";
  const HS = global.HS || (global.HS = {});
  const BEST = "#d62728";
  const LINE = "#4e79a7";
  const VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];
  // Above this many runs, the non-best runs share one series (a thousand series cost ~10x more to draw).
  HS.PER_RUN_SERIES_MAX = 150;

  const esc = (s) => HS.escapeHTML(s);
  const base = () => ({ animation: false, backgroundColor: "transparent", textStyle: { fontFamily: "inherit" } });

  /**
   * How each status is marked in every chart: a colour and a symbol (a run stopped early by the
   * policy is Canceled, with its reason in the tooltip). CancelRequested is drawn as Canceled.
   */
  HS.STATUS_STYLE = {
    Completed: { color: LINE, symbol: "circle" },
    Canceled: { color: "#f28e2b", symbol: "triangle" },
    Failed: { color: "#9c6ade", symbol: "diamond" },
    Running: { color: "#59a14f", symbol: "rect" },
    Queued: { color: "#9ca3af", symbol: "emptyCircle" },
  };
  HS.STATUS_ORDER = ["Completed", "Canceled", "Failed", "Running", "Queued"];
  /** The status group a run is drawn in. */
  HS.statusGroup = (status) => (status === "CancelRequested" ? "Canceled" : HS.STATUS_STYLE[status] ? status : "Queued");

  /** "dark" when the system prefers a dark colour scheme (ECharts' built-in dark theme), else null. */
  HS.theme = function () {
    return global.matchMedia && global.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : null;
  };

  /** Draw (or redraw) `option` into `container`; `done` is called once, after the first full render. */
  HS.draw = function (container, option, done) {
    let chart = container._hsChart;
    const theme = HS.theme();
    if (chart && container._hsTheme !== theme) { chart.dispose(); chart = null; }  // the system's scheme changed
    if (!chart) {
      chart = global.echarts.init(container, theme, { renderer: "canvas" });
      container._hsChart = chart;
      container._hsTheme = theme;
      if (global.ResizeObserver && !container._hsObserved) {
        container._hsObserved = true;
        new ResizeObserver(() => { if (container._hsChart) container._hsChart.resize(); }).observe(container);
      }
    }
    if (done) chart.on("finished", function once() { chart.off("finished", once); done(); });
    chart.setOption(option, { notMerge: true });
    return chart;
  };

  HS.runPoints = function (model, number) {
    const y = model.series.y[number] || [];
    const x = model.series.x[number];
    const out = new Array(y.length);
    for (let i = 0; i < y.length; i++) out[i] = [x ? x[i] : i + 1, y[i]];
    return out;
  };

  function metricName(model) { return model.sweep.primary_metric; }
  function yAxis(model) {
    return { type: model.logMetric ? "log" : "value", scale: true, name: metricName(model), nameLocation: "middle", nameGap: 42,
      nameTextStyle: { fontSize: 11 } };
  }
  function scored(model) { return model.runs.filter((r) => r.best !== null && r.best !== undefined); }
  const legend = (names, left) => ({ type: "scroll", top: 0, right: 0, left: left || "42%", itemWidth: 12, itemHeight: 8, itemGap: 8,
    textStyle: { fontSize: 11 }, data: names });
  /** Runs grouped by status (in HS.STATUS_ORDER), only the groups that have runs. */
  function byStatus(runs) {
    const groups = new Map();
    for (const r of runs) {
      const g = HS.statusGroup(r.status);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(r);
    }
    return HS.STATUS_ORDER.filter((g) => groups.has(g)).map((g) => [g, groups.get(g)]);
  }

  /** Each run's primary metric against interval, coloured by status, the best run highlighted; a legend. */
  HS.intervalsOption = function (model) {
    const best = model.sweep.best_run;
    const statusOf = new Map(model.runs.map((r) => [r.number, HS.statusGroup(r.status)]));
    const numbers = Object.keys(model.series.y).map(Number).filter((n) => statusOf.has(n)).sort((a, b) => a - b);
    const series = [];
    const names = new Set();
    if (numbers.length <= HS.PER_RUN_SERIES_MAX) {
      for (const n of numbers) {
        if (n === best) continue;
        const st = statusOf.get(n), color = HS.STATUS_STYLE[st].color;
        names.add(st);
        // the series' name is its status (the legend toggles every run of it); its id names the run
        series.push({ type: "line", id: "run #" + n, name: st, data: HS.runPoints(model, n), showSymbol: false, symbol: "none",
          triggerLineEvent: true, lineStyle: { width: 1, color: color, opacity: 0.5 }, itemStyle: { color: color },
          emphasis: { focus: "series", lineStyle: { width: 2, opacity: 1 } } });
      }
    } else {
      // One "lines" series per status in large mode draws its runs as polylines in one pass.
      const lines = new Map();
      for (const n of numbers) {
        if (n === best) continue;
        const pts = HS.runPoints(model, n).filter((p) => p[1] !== null);
        const st = statusOf.get(n);
        if (!lines.has(st)) lines.set(st, []);
        if (pts.length > 1) lines.get(st).push({ coords: pts });
      }
      for (const st of HS.STATUS_ORDER) {
        if (!lines.has(st)) continue;
        names.add(st);
        const color = HS.STATUS_STYLE[st].color;
        series.push({ type: "lines", name: st, coordinateSystem: "cartesian2d", polyline: true, large: true,
          largeThreshold: 100, silent: true, data: lines.get(st), lineStyle: { width: 1, color: color, opacity: 0.25 },
          itemStyle: { color: color } });
      }
    }
    const bestName = "run #" + best + " (best)";
    if (best !== null && best !== undefined && model.series.y[best] && statusOf.has(best)) {
      series.push({ type: "line", id: bestName, name: bestName, data: HS.runPoints(model, best), showSymbol: false,
        triggerLineEvent: true, z: 10, lineStyle: { width: 3, color: BEST }, itemStyle: { color: BEST } });
      names.add(bestName);
    }
    return Object.assign(base(), {
      title: { text: `${metricName(model)} per interval`, left: 0, textStyle: { fontSize: 13 } },
      legend: legend(Array.from(names)),
      tooltip: { trigger: "item", formatter: (p) => esc(p.seriesId && p.seriesId.startsWith("run #") && p.seriesId !== p.seriesName
        ? `${p.seriesId} (${p.seriesName})` : p.seriesName) },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "value", name: "interval", nameLocation: "middle", nameGap: 25, minInterval: 1, min: 1, max: "dataMax" },
      yAxis: yAxis(model),
      series: series,
    });
  };

  /** Each run's best value against run number (marked by status), with the best so far (HyperDrive's `<metric>_max`). */
  HS.bestSoFarOption = function (model) {
    const maximize = model.sweep.goal === "maximize";
    const running = [];
    let best = null;
    const runs = scored(model).slice().sort((a, b) => a.number - b.number);
    for (const r of runs) {
      if (best === null || (maximize ? r.best > best : r.best < best)) best = r.best;
      running.push([r.number, best]);
    }
    const name = `${metricName(model)}_${maximize ? "max" : "min"}`;
    const series = byStatus(runs).map(([st, rs]) => ({ type: "scatter", name: st, data: rs.map((r) => [r.number, r.best]),
      symbol: HS.STATUS_STYLE[st].symbol, symbolSize: 6, itemStyle: { color: HS.STATUS_STYLE[st].color, opacity: 0.75 },
      large: rs.length > 2000 }));
    series.push({ type: "line", name: name, data: running, step: "end", showSymbol: false, lineStyle: { width: 2, color: BEST }, itemStyle: { color: BEST } });
    return Object.assign(base(), {
      title: { text: "best so far", left: 0, textStyle: { fontSize: 13 } },
      legend: legend(series.map((s) => s.name)),
      tooltip: { trigger: "item", formatter: (p) => esc(`${p.seriesName} · run #${p.value[0]}: ${HS.fmt(p.value[1])}`) },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "value", name: "run", nameLocation: "middle", nameGap: 25, minInterval: 1 },
      yAxis: yAxis(model),
      series: series,
    });
  };

  /** The axis (type, categories) for one hyperparameter, from the search space and the values seen. */
  HS.paramAxis = function (param, runs) {
    const values = runs.map((r) => r.hp[param.name]).filter((v) => v !== undefined && v !== null);
    const numeric = values.every((v) => typeof v === "number");
    if (param.values || !numeric) {
      const cats = (param.values || []).map(String);
      for (const v of values) if (!cats.includes(String(v))) cats.push(String(v));
      return { type: "category", data: cats, value: (v) => String(v) };
    }
    const positive = values.length > 0 && values.every((v) => v > 0);
    return { type: param.log && positive ? "log" : "value", value: (v) => v, scale: true };
  };

  function visualMap(model, pts, dim) {
    let min = Infinity, max = -Infinity;
    for (const p of pts) { const v = Array.isArray(p) ? p[dim] : p.value[dim]; min = Math.min(min, v); max = Math.max(max, v); }
    if (!isFinite(min)) { min = 0; max = 1; }
    const colors = model.sweep.goal === "maximize" ? VIRIDIS : VIRIDIS.slice().reverse();
    return { type: "continuous", dimension: dim, min: min, max: max === min ? min + 1e-9 : max, calculable: true,
      orient: "vertical", right: 5, top: "middle", itemHeight: 120, inRange: { color: colors }, formatter: (v) => HS.fmt(v, 4) };
  }

  /** Parallel coordinates: one axis per hyperparameter and one for the metric, lines coloured by it.
   * Brushing an axis (drag along it) selects runs: each row ends with its run number. */
  HS.parallelOption = function (model) {
    const params = model.sweep.parameters;
    const runs = scored(model);
    const axes = params.map((p) => HS.paramAxis(p, runs));
    const parallelAxis = params.map((p, i) => ({ id: "hp-" + i, dim: i, name: p.label, type: axes[i].type, data: axes[i].data,
      scale: axes[i].scale, nameTextStyle: { fontSize: 11 } }));
    parallelAxis.push({ id: "metric", dim: params.length, name: metricName(model), type: model.logMetric ? "log" : "value", scale: true,
      nameTextStyle: { fontSize: 11, fontWeight: "bold" } });
    const data = runs.map((r) => {
      // "-" is ECharts' empty value: a key of another branch of a nested choice
      const row = params.map((p, i) => (r.hp[p.name] === undefined ? "-" : axes[i].value(r.hp[p.name])));
      row.push(r.best, r.number);
      // a run that did not complete (stopped early, failed, still running) is a dashed line
      return r.status === "Completed" ? row : { value: row, lineStyle: { type: [4, 3] } };
    });
    const marked = data.some((d) => !Array.isArray(d));
    return Object.assign(base(), {
      title: { text: "hyperparameters → " + metricName(model) + (marked ? " (dashed: did not complete)" : "")
        + " · drag along an axis to select runs", left: 0, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "item", formatter: (p) => esc(`run #${p.value[params.length + 1]}: ${HS.fmt(p.value[params.length])}`) },
      parallel: { left: 40, right: 130, top: 50, bottom: 30 },
      parallelAxis: parallelAxis,
      visualMap: visualMap(model, data, params.length),
      series: [{ type: "parallel", data: data, lineStyle: { width: 1, opacity: 0.55 }, progressive: 500, smooth: false,
        inactiveOpacity: 0.04, activeOpacity: 0.9, emphasis: { lineStyle: { width: 3, opacity: 1 } } }],
    });
  };

  /** The run numbers the parallel chart's brushes select, or null when no axis is brushed. */
  HS.parallelSelection = function (chart) {
    const series = chart.getModel().getSeries()[0];
    if (!series) return null;
    const active = series.getRawIndicesByActiveState("active");
    const inactive = series.getRawIndicesByActiveState("inactive");
    if (!active.length && !inactive.length) return null;
    const data = chart.getOption().series[0].data;
    const number = (d) => { const row = Array.isArray(d) ? d : d.value; return row[row.length - 1]; };
    return new Set(active.map((i) => number(data[i])));
  };

  /** One hyperparameter against the metric (each run's best), marked by status, the best run highlighted. */
  HS.scatterOption = function (model, param) {
    const runs = scored(model).filter((r) => r.hp[param.name] !== undefined);
    const axis = HS.paramAxis(param, runs);
    const best = model.sweep.best_run;
    const series = byStatus(runs.filter((r) => r.number !== best)).map(([st, rs]) => ({
      type: "scatter", name: st, data: rs.map((r) => [axis.value(r.hp[param.name]), r.best, r.number]),
      symbol: HS.STATUS_STYLE[st].symbol, symbolSize: 6, itemStyle: { color: HS.STATUS_STYLE[st].color, opacity: 0.65 },
      large: rs.length > 2000 }));
    const top = runs.filter((r) => r.number === best).map((r) => [axis.value(r.hp[param.name]), r.best, r.number]);
    series.push({ type: "scatter", name: "best", data: top, symbolSize: 11, itemStyle: { color: BEST }, z: 10 });
    return Object.assign(base(), {
      title: { text: param.label, left: 0, textStyle: { fontSize: 12 } },
      legend: Object.assign(legend(series.map((s) => s.name), 64), { textStyle: { fontSize: 10 }, itemGap: 5 }),
      tooltip: { trigger: "item", formatter: (p) => esc(`run #${p.value[2]} (${p.seriesName}): ${param.label}=${HS.fmt(p.value[0])}, ${HS.fmt(p.value[1])}`) },
      grid: { left: 58, right: 12, top: 32, bottom: 28 },
      xAxis: { type: axis.type, data: axis.data, scale: axis.scale },
      yAxis: Object.assign(yAxis(model), { nameGap: 44 }),
      series: series,
    });
  };

  const BINS = 12;
  /** Bin edges of one hyperparameter for the heat map: categories keep their index, numbers get BINS bins
   * (evenly spaced on the log scale for a log axis). */
  function bins(axis, values) {
    if (axis.type === "category") return { cat: true, of: (v) => axis.data.indexOf(String(v)), cells: axis.data.map((_, i) => [i, i]) };
    let lo = Math.min(...values), hi = Math.max(...values);
    const log = axis.type === "log";
    const f = log ? Math.log : (v) => v, g = log ? Math.exp : (v) => v;
    if (!(hi > lo)) { hi = log ? lo * 1.01 : lo + 1e-9; }
    const a = f(lo), b = f(hi), w = (b - a) / BINS;
    const cells = [];
    for (let i = 0; i < BINS; i++) cells.push([g(a + i * w), g(a + (i + 1) * w)]);
    return { cat: false, of: (v) => Math.min(BINS - 1, Math.max(0, Math.floor((f(v) - a) / w))), cells: cells };
  }

  /**
   * A heat map of the metric over two hyperparameters: each cell is the best value of the runs in it
   * (categories are cells of their own; numbers BINS bins, log-spaced on a log axis), the runs drawn
   * on top, marked by status.
   */
  HS.contourOption = function (model, px, py) {
    const runs = scored(model).filter((r) => r.hp[px.name] !== undefined && r.hp[py.name] !== undefined
      && r.hp[px.name] !== null && r.hp[py.name] !== null);
    const ax = HS.paramAxis(px, runs), ay = HS.paramAxis(py, runs);
    const maximize = model.sweep.goal === "maximize";
    const cells = [];
    if (runs.length) {
      const bx = bins(ax, runs.map((r) => r.hp[px.name])), by = bins(ay, runs.map((r) => r.hp[py.name]));
      const grid = new Map();
      for (const r of runs) {
        const key = bx.of(r.hp[px.name]) + ":" + by.of(r.hp[py.name]);
        const v = grid.get(key);
        if (v === undefined || (maximize ? r.best > v.best : r.best < v.best)) grid.set(key, { best: r.best, n: (v ? v.n : 0) + 1 });
        else v.n += 1;
      }
      for (const [key, v] of grid) {
        const [i, j] = key.split(":").map(Number);
        cells.push([bx.cells[i][0], bx.cells[i][1], by.cells[j][0], by.cells[j][1], v.best, v.n]);
      }
    }
    const dimOf = (axis) => axis.type === "category";
    const xcat = dimOf(ax), ycat = dimOf(ay);
    const at = (axis, v) => (axis.type === "category" ? axis.data.indexOf(String(v)) : v);
    const points = byStatus(runs).map(([st, rs]) => ({
      type: "scatter", name: st, data: rs.map((r) => [at(ax, r.hp[px.name]), at(ay, r.hp[py.name]), r.best, r.number]),
      symbol: HS.STATUS_STYLE[st].symbol, symbolSize: 5, z: 5, large: rs.length > 500,  // many runs: one path, no per-point work
      itemStyle: { color: "rgba(255,255,255,0.85)", borderColor: HS.STATUS_STYLE[st].color, borderWidth: 1.2 } }));
    const vm = visualMap(model, cells, 4);
    vm.seriesIndex = 0;
    const axisOf = (axis, param, extra) => Object.assign({ type: axis.type, data: axis.data, scale: axis.scale, name: param.label,
      nameLocation: "middle", nameTextStyle: { fontSize: 11 } }, extra);
    return Object.assign(base(), {
      title: { text: `best ${metricName(model)} by ${px.label} × ${py.label}`, left: 0, textStyle: { fontSize: 13 } },
      legend: legend(points.map((s) => s.name)),
      tooltip: { trigger: "item", formatter: (p) => (p.seriesIndex === 0
        ? esc(`best ${HS.fmt(p.value[4])} of ${p.value[5]} run${p.value[5] === 1 ? "" : "s"}`)
        : esc(`run #${p.value[3]} (${p.seriesName}): ${px.label}=${HS.fmt(xcat ? ax.data[p.value[0]] : p.value[0])},`
          + ` ${py.label}=${HS.fmt(ycat ? ay.data[p.value[1]] : p.value[1])}, ${HS.fmt(p.value[2])}`)) },
      grid: { left: 70, right: 110, top: 40, bottom: 44 },
      xAxis: axisOf(ax, px, { nameGap: 26 }),
      yAxis: axisOf(ay, py, { nameGap: 52 }),
      visualMap: vm,
      series: [{
        type: "custom", name: "cells", data: cells, encode: { x: [0, 1], y: [2, 3] }, z: 1,
        renderItem: (params, api) => {
          const p0 = api.coord([api.value(0), api.value(2)]), p1 = api.coord([api.value(1), api.value(3)]);
          let x0 = Math.min(p0[0], p1[0]), x1 = Math.max(p0[0], p1[0]), y0 = Math.min(p0[1], p1[1]), y1 = Math.max(p0[1], p1[1]);
          if (xcat) { const w = api.size([1, 0])[0] / 2; x0 -= w; x1 += w; }
          if (ycat) { const h = api.size([0, 1])[1] / 2; y0 -= h; y1 += h; }
          return { type: "rect", shape: { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) },
            style: { fill: api.visual("color"), opacity: 0.9 } };
        },
      }].concat(points),
    });
  };

  /**
   * The runs over wall-clock time: one bar per run from its start to its end (now if it runs), in
   * as many lanes as ran at once (so concurrency and idle gaps show), coloured by status; the
   * tooltip says why each run ended.
   */
  HS.timelineOption = function (model) {
    const now = Date.now() / 1000;
    const runs = model.runs.filter((r) => r.started !== null && r.started !== undefined)
      .slice().sort((a, b) => a.started - b.started || a.number - b.number);
    const lanes = [];  // each lane's end time
    const rows = new Map();
    for (const r of runs) {
      const end = r.ended || (r.duration !== null && r.duration !== undefined ? r.started + r.duration : now);
      let lane = lanes.findIndex((t) => t <= r.started);
      if (lane < 0) { lane = lanes.length; lanes.push(end); } else lanes[lane] = end;
      const st = HS.statusGroup(r.status);
      if (!rows.has(st)) rows.set(st, []);
      rows.get(st).push([r.started * 1000, Math.max(end, r.started) * 1000, lane, r.number, r.note || "", r.status]);
    }
    const render = (params, api) => {
      const a = api.coord([api.value(0), api.value(2)]), b = api.coord([api.value(1), api.value(2)]);
      const h = Math.max(2, Math.min(18, api.size([0, 1])[1] * 0.7));
      const w = b[0] - a[0];  // a pixel's gap between runs that follow each other in one lane
      return { type: "rect", shape: { x: a[0], y: a[1] - h / 2, width: Math.max(1.5, w > 4 ? w - 1 : w), height: h },
        style: { fill: api.visual("color") } };
    };
    const series = HS.STATUS_ORDER.filter((st) => rows.has(st)).map((st) => ({
      type: "custom", name: st, data: rows.get(st), renderItem: render, encode: { x: [0, 1], y: 2 },
      itemStyle: { color: HS.STATUS_STYLE[st].color } }));
    return Object.assign(base(), {
      title: { text: `runs over time (${lanes.length} at most at once)`, left: 0, textStyle: { fontSize: 13 } },
      legend: legend(series.map((s) => s.name)),
      tooltip: { trigger: "item", formatter: (p) => {
        const v = p.value;
        return esc(`run #${v[3]} · ${v[5]} · ${HS.fmtTime(v[0] / 1000)} for ${HS.fmtDuration((v[1] - v[0]) / 1000)}`)
          + (v[4] ? "<br>" + esc(v[4]) : "");
      } },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "time", scale: true },
      yAxis: { type: "value", name: "slot", nameLocation: "middle", nameGap: 36, min: -0.5, max: Math.max(0.5, lanes.length - 0.5),
        minInterval: 1, inverse: true, axisLabel: { formatter: (v) => (Number.isInteger(v) ? String(v + 1) : "") } },
      series: series,
    });
  };

  /** The empirical distribution of the metric: the fraction of runs whose best value is at most x. */
  HS.edfOption = function (model) {
    const values = scored(model).map((r) => r.best).sort((a, b) => a - b);
    const n = values.length;
    const data = values.map((v, i) => [v, (i + 1) / n]);
    return Object.assign(base(), {
      title: { text: `distribution of ${metricName(model)} (${n} runs)`, left: 0, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "item", formatter: (p) => esc(`${HS.fmt(p.value[0])}: ${(100 * p.value[1]).toFixed(1)}% of runs at most`) },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: model.logMetric ? "log" : "value", scale: true, name: metricName(model), nameLocation: "middle", nameGap: 25 },
      yAxis: { type: "value", min: 0, max: 1, name: "fraction of runs", nameLocation: "middle", nameGap: 42, nameTextStyle: { fontSize: 11 } },
      series: [{ type: "line", name: "EDF", data: data, step: "end", showSymbol: n <= 200, symbolSize: 4,
        lineStyle: { width: 2, color: LINE }, itemStyle: { color: LINE } }],
    });
  };

  /** The compared runs' primary metric per interval, overlaid, one colour and legend entry each. */
  HS.compareOption = function (model, runs) {
    const palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
    const series = runs.map((r, i) => ({ type: "line", name: `run #${r.number} (${r.status})`, data: HS.runPoints(model, r.number),
      showSymbol: false, lineStyle: { width: 2, color: palette[i % palette.length] }, itemStyle: { color: palette[i % palette.length] } }));
    return Object.assign(base(), {
      title: { text: `${metricName(model)} per interval`, left: 0, textStyle: { fontSize: 13 } },
      legend: legend(series.map((s) => s.name), 180),
      tooltip: { trigger: "axis" },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "value", name: "interval", nameLocation: "middle", nameGap: 25, minInterval: 1 },
      yAxis: yAxis(model),
      series: series,
    });
  };

  /** A run's own metric, against step (the run page). */
  HS.metricOption = function (name, steps, values) {
    const data = steps.map((s, i) => [s, typeof values[i] === "number" ? values[i] : "-"]);
    return Object.assign(base(), {
      title: { text: name, left: 0, textStyle: { fontSize: 12 } },
      tooltip: { trigger: "axis", formatter: (ps) => esc(ps.map((p) => `${name} [${p.value[0]}]: ${HS.fmt(p.value[1])}`).join(" ")) },
      grid: { left: 55, right: 15, top: 32, bottom: 28 },
      xAxis: { type: "value", minInterval: 1, scale: true },
      yAxis: { type: "value", scale: true },
      series: [{ type: "line", data: data, showSymbol: data.length < 60, lineStyle: { color: LINE }, itemStyle: { color: LINE } }],
    });
  };
})(typeof window !== "undefined" ? window : this);
