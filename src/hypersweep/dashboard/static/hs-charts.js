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
  const base = () => ({ animation: false, textStyle: { fontFamily: "inherit" } });

  /** Draw (or redraw) `option` into `container`; `done` is called once, after the first full render. */
  HS.draw = function (container, option, done) {
    let chart = container._hsChart;
    if (!chart) {
      chart = global.echarts.init(container, null, { renderer: "canvas" });
      container._hsChart = chart;
      if (global.ResizeObserver) new ResizeObserver(() => chart.resize()).observe(container);
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
    return { type: "value", scale: true, name: metricName(model), nameLocation: "middle", nameGap: 42, nameTextStyle: { fontSize: 11 } };
  }

  /** Each run's primary metric against interval, the best run highlighted. */
  HS.intervalsOption = function (model) {
    const best = model.sweep.best_run;
    const numbers = Object.keys(model.series.y).map(Number).sort((a, b) => a - b);
    const series = [];
    const thin = { type: "line", showSymbol: false, symbol: "none", silent: false, triggerLineEvent: true,
      lineStyle: { width: 1, color: LINE, opacity: 0.45 }, emphasis: { focus: "series", lineStyle: { width: 2, opacity: 1 } } };
    if (numbers.length <= HS.PER_RUN_SERIES_MAX) {
      for (const n of numbers) {
        if (n === best) continue;
        series.push(Object.assign({}, thin, { name: "run #" + n, data: HS.runPoints(model, n) }));
      }
    } else {
      // One "lines" series in large mode draws every other run as a polyline in one pass.
      const lines = [];
      for (const n of numbers) {
        if (n === best) continue;
        const pts = HS.runPoints(model, n).filter((p) => p[1] !== null);
        if (pts.length > 1) lines.push({ coords: pts });
      }
      series.push({ type: "lines", name: "other runs", coordinateSystem: "cartesian2d", polyline: true, large: true,
        largeThreshold: 100, silent: true, data: lines, lineStyle: { width: 1, color: LINE, opacity: 0.25 } });
    }
    if (best !== null && best !== undefined && model.series.y[best]) {
      series.push({ type: "line", name: "run #" + best + " (best)", data: HS.runPoints(model, best), showSymbol: false,
        triggerLineEvent: true, z: 10, lineStyle: { width: 3, color: BEST }, itemStyle: { color: BEST } });
    }
    return Object.assign(base(), {
      title: { text: `${metricName(model)} per interval`, left: 0, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "item", formatter: (p) => esc(p.seriesName) },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "value", name: "interval", nameLocation: "middle", nameGap: 25, minInterval: 1, min: 1, max: "dataMax" },
      yAxis: yAxis(model),
      series: series,
    });
  };

  /** Each run's best value against run number, with the best so far (HyperDrive's `<metric>_max`). */
  HS.bestSoFarOption = function (model) {
    const maximize = model.sweep.goal === "maximize";
    const pts = [], running = [];
    let best = null;
    for (const r of model.runs) {
      if (r.best === null || r.best === undefined) continue;
      pts.push([r.number, r.best]);
      if (best === null || (maximize ? r.best > best : r.best < best)) best = r.best;
      running.push([r.number, best]);
    }
    const name = `${metricName(model)}_${maximize ? "max" : "min"}`;
    return Object.assign(base(), {
      title: { text: "best so far", left: 0, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "item", formatter: (p) => esc(`${p.seriesName} · run #${p.value[0]}: ${HS.fmt(p.value[1])}`) },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "value", name: "run", nameLocation: "middle", nameGap: 25, minInterval: 1 },
      yAxis: yAxis(model),
      series: [
        { type: "scatter", name: metricName(model), data: pts, symbolSize: 5, itemStyle: { color: LINE, opacity: 0.7 }, large: pts.length > 2000 },
        { type: "line", name: name, data: running, step: "end", showSymbol: false, lineStyle: { width: 2, color: BEST }, itemStyle: { color: BEST } },
      ],
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
    for (const p of pts) { min = Math.min(min, p[dim]); max = Math.max(max, p[dim]); }
    if (!isFinite(min)) { min = 0; max = 1; }
    const colors = model.sweep.goal === "maximize" ? VIRIDIS : VIRIDIS.slice().reverse();
    return { type: "continuous", dimension: dim, min: min, max: max === min ? min + 1e-9 : max, calculable: true,
      orient: "vertical", right: 5, top: "middle", itemHeight: 120, inRange: { color: colors }, formatter: (v) => HS.fmt(v, 4) };
  }

  /** Parallel coordinates: one axis per hyperparameter and one for the metric, lines coloured by it. */
  HS.parallelOption = function (model) {
    const params = model.sweep.parameters;
    const scored = model.runs.filter((r) => r.best !== null && r.best !== undefined);
    const axes = params.map((p) => HS.paramAxis(p, scored));
    const parallelAxis = params.map((p, i) => ({ dim: i, name: p.label, type: axes[i].type, data: axes[i].data, scale: axes[i].scale,
      nameTextStyle: { fontSize: 11 } }));
    parallelAxis.push({ dim: params.length, name: metricName(model), type: "value", scale: true, nameTextStyle: { fontSize: 11, fontWeight: "bold" } });
    const data = scored.map((r) => {
      // "-" is ECharts' empty value: a key of another branch of a nested choice
      const row = params.map((p, i) => (r.hp[p.name] === undefined ? "-" : axes[i].value(r.hp[p.name])));
      row.push(r.best, r.number);
      return row;
    });
    return Object.assign(base(), {
      title: { text: "hyperparameters → " + metricName(model), left: 0, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "item", formatter: (p) => esc(`run #${p.value[params.length + 1]}: ${HS.fmt(p.value[params.length])}`) },
      parallel: { left: 40, right: 130, top: 50, bottom: 30 },
      parallelAxis: parallelAxis,
      visualMap: visualMap(model, data, params.length),
      series: [{ type: "parallel", data: data, lineStyle: { width: 1, opacity: 0.55 }, progressive: 500, smooth: false,
        emphasis: { lineStyle: { width: 3, opacity: 1 } } }],
    });
  };

  /** One hyperparameter against the metric (each run's best), the best run highlighted. */
  HS.scatterOption = function (model, param) {
    const scored = model.runs.filter((r) => r.best !== null && r.best !== undefined && r.hp[param.name] !== undefined);
    const axis = HS.paramAxis(param, scored);
    const best = model.sweep.best_run;
    const pts = [], top = [];
    for (const r of scored) (r.number === best ? top : pts).push([axis.value(r.hp[param.name]), r.best, r.number]);
    return Object.assign(base(), {
      title: { text: param.label, left: 0, textStyle: { fontSize: 12 } },
      tooltip: { trigger: "item", formatter: (p) => esc(`run #${p.value[2]}: ${param.label}=${HS.fmt(p.value[0])}, ${HS.fmt(p.value[1])}`) },
      grid: { left: 50, right: 12, top: 32, bottom: 28 },
      xAxis: { type: axis.type, data: axis.data, scale: axis.scale },
      yAxis: { type: "value", scale: true },
      series: [
        { type: "scatter", data: pts, symbolSize: 6, itemStyle: { color: LINE, opacity: 0.6 }, large: pts.length > 2000 },
        { type: "scatter", data: top, symbolSize: 11, itemStyle: { color: BEST }, z: 10 },
      ],
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
