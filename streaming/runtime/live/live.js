// The live page's script: asks serve's /live once a second and redraws in place.
// Widgets come from /live/spec, the definitions the Lakeview dashboard and `report` share.
"use strict";

(() => {
  const POLL_MS = 1000;
  const STREAMS = ["bronze", "silver", "gold", "quality"];
  const TABLE_OF = {
    bronze: ["omdb_releases_bronze"],
    silver: ["omdb_releases_silver"],
    gold: ["omdb_releases_gold"],
    quality: ["omdb_releases_quarantine", "omdb_releases_dq_metrics"],
  };
  let spec = null;
  let goldVersion = null;
  let datasets = null;

  const byId = (id) => document.getElementById(id);
  const number = (n) => (n == null ? "–" : Number(n).toLocaleString("en"));

  function setText(element, value) {
    if (element.textContent !== value) element.textContent = value;
  }

  function fillList(dl, pairs) {
    // Rebuilt only when a figure changed: nothing flickers while nothing happens.
    const key = JSON.stringify(pairs);
    if (dl.dataset.key === key) return;
    dl.dataset.key = key;
    dl.replaceChildren();
    for (const [term, value, kind] of pairs) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      if (kind) dd.className = kind;
      dl.append(dt, dd);
    }
  }

  async function getJSON(url) {
    const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `${response.status}`);
    return body;
  }

  function drawPipeline(live) {
    const landing = live.landing;
    const pending = live.streams.find((s) => s.name === "bronze");
    fillList(byId("node-landing").querySelector("dl"), [
      ["pages waiting", landing ? number(landing.live) : "–"],
      ["read and archived", landing ? number(landing.archived) : "–"],
      ["not yet in bronze", pending ? pending.lag : "–"],
    ]);
    const tables = Object.fromEntries(live.tables.map((t) => [t.name, t]));
    for (const name of STREAMS) {
      const stream = live.streams.find((s) => s.name === name);
      const node = byId(`node-${name}`);
      if (!stream) continue;
      node.dataset.state = stream.state;
      const batch = stream.last_batch == null ? "none yet" : `#${stream.last_batch} at ${stream.last_batch_at}`;
      const pairs = [
        ["state", stream.state],
        ["last batch", batch],
        [
          "its rows",
          stream.last_batch_rows == null
            ? "–"
            : `${number(stream.last_batch_rows)} in ${stream.last_batch_seconds.toFixed(1)} s`,
        ],
        ["rows per second", stream.rows_per_second == null ? "–" : number(stream.rows_per_second)],
        ["waiting", stream.lag],
      ];
      for (const table of TABLE_OF[name]) {
        const shown = tables[table];
        if (shown) pairs.push([table.replace("omdb_releases_", ""), `${number(shown.rows)} rows, v${shown.version ?? "–"}`]);
      }
      if (stream.error) pairs.push(["last error", `${stream.failed_at}: ${stream.error}`, "error"]);
      fillList(node.querySelector("dl"), pairs);
    }
    const failed = live.streams.filter((s) => s.state === "failed");
    const problem = byId("problem");
    problem.hidden = failed.length === 0;
    setText(problem, failed.map((s) => `the ${s.name} stream failed: ${s.error}`).join("; "));
    setText(byId("freshness"), live.freshness ? `gold freshness: ${live.freshness.text}` : "");
    const upkeep = live.last_maintenance;
    setText(
      byId("maintenance"),
      upkeep
        ? `last maintenance ${upkeep.at}: ${upkeep.tables} tables, ${number(Math.round(upkeep.freed_bytes / 1024))} KiB freed`
        : "no maintenance yet",
    );
    drawRules(live.rules);
  }

  function drawRules(rules) {
    const body = byId("rules").tBodies[0];
    const key = JSON.stringify(rules);
    if (body.dataset.key === key) return;
    body.dataset.key = key;
    body.replaceChildren(
      ...rules.map((rule) => {
        const row = document.createElement("tr");
        for (const value of [rule.rule, number(rule.passed), number(rule.failed), rule.trend.join(" ") || "–"]) {
          const cell = document.createElement("td");
          cell.textContent = value;
          row.append(cell);
        }
        return row;
      }),
    );
  }

  function rowsOf(name) {
    const dataset = datasets[name];
    return dataset.rows.map((row) => Object.fromEntries(dataset.columns.map((c, i) => [c, row[i]])));
  }

  function traces(widget) {
    // The widget's query: SUM(y) by (x, colour), as the Lakeview dashboard asks it.
    const sums = new Map();
    for (const row of rowsOf(widget.dataset)) {
      const x = row[widget.x.name];
      if (x == null) continue;
      const type = row[widget.color.name];
      if (!sums.has(type)) sums.set(type, new Map());
      const perX = sums.get(type);
      perX.set(x, (perX.get(x) || 0) + Number(row[widget.y.name]));
    }
    const known = spec.order.filter((t) => sums.has(t));
    const others = [...sums.keys()].filter((t) => !spec.order.includes(t)).sort();
    return [...known, ...others].map((type) => {
      const perX = sums.get(type);
      const xs = [...perX.keys()].sort((a, b) => a - b);
      const style = spec.styles[type] || {};
      const trace = {
        name: type,
        x: xs,
        y: xs.map((x) => perX.get(x)),
        hovertemplate: `${type}, %{x}: %{y}<extra></extra>`,
      };
      if (widget.kind === "bar") {
        trace.type = "bar";
        trace.marker = { color: style.color, pattern: { shape: style.pattern || "" } };
      } else {
        trace.type = "scatter";
        trace.mode = "lines+markers";
        trace.line = { color: style.color, dash: style.dash || "solid" };
        trace.marker = { color: style.color, size: 5 };
      }
      return trace;
    });
  }

  function layout(widget, empty) {
    return {
      title: { text: widget.title },
      barmode: "stack",
      xaxis: {
        title: { text: widget.x.label },
        type: widget.x.scale === "categorical" ? "category" : "linear",
        categoryorder: "category ascending",
      },
      yaxis: { title: { text: widget.y.label }, rangemode: "tozero" },
      legend: { title: { text: widget.color.label }, orientation: "h", y: -0.3, traceorder: "normal" },
      margin: { l: 55, r: 10, t: 45, b: 30 },
      annotations: empty ? [{ text: spec.no_data, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }] : [],
      uirevision: widget.name, // keep the reader's zoom across redraws
    };
  }

  function drawGold() {
    for (const widget of spec.widgets) {
      const element = byId(widget.name);
      if (widget.kind === "counter") {
        const rows = rowsOf(widget.dataset);
        const value = rows.length ? rows[0][widget.value.name] : null;
        setText(element.querySelector(".value"), number(value ?? 0));
        continue;
      }
      const data = traces(widget);
      Plotly.react(element, data, layout(widget, data.length === 0), {
        displayModeBar: false,
        responsive: true,
      });
    }
  }

  function buildWidgets() {
    const holder = byId("widgets");
    for (const widget of spec.widgets) {
      const element = document.createElement("div");
      element.id = widget.name;
      if (widget.kind === "counter") {
        element.className = "counter";
        const title = document.createElement("div");
        title.textContent = widget.title;
        const value = document.createElement("div");
        value.className = "value";
        value.setAttribute("aria-live", "polite");
        value.textContent = "–";
        element.append(title, value);
      } else {
        element.className = "chart";
        element.setAttribute("role", "img");
        element.setAttribute("aria-label", widget.title);
      }
      holder.append(element);
    }
  }

  async function poll() {
    try {
      const live = await getJSON(`/live${goldVersion == null ? "" : `?gold=${goldVersion}`}`);
      drawPipeline(live);
      if (live.datasets) {
        datasets = live.datasets;
        goldVersion = live.gold_version;
        drawGold();
      }
      setText(byId("as-of"), live.freshness && live.freshness.gold_updated_at ? `data as of ${live.freshness.gold_updated_at} (gold version ${goldVersion})` : "gold is empty");
      document.body.dataset.goldVersion = goldVersion ?? "";
    } catch (error) {
      const problem = byId("problem");
      problem.hidden = false;
      setText(problem, `serve does not answer (${error.message}): is it still running?`);
    }
    setTimeout(poll, POLL_MS);
  }

  async function start() {
    try {
      spec = await getJSON("/live/spec");
    } catch (error) {
      byId("problem").hidden = false;
      setText(byId("problem"), `serve does not answer (${error.message})`);
      return;
    }
    buildWidgets();
    poll();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
