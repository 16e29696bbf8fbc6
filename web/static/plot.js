// Interactive plots of a job's recorded data, from the compact summary the
// worker extracts after the job (docs/web.md describes its format): spike
// rasters, membrane traces (the BrainScaleS-2 MADC readout among them) and
// mapping pictures. Plain SVG, no library: drag across a plot to zoom into a
// time window (every plot follows), double-click or "Reset zoom" to see all.

const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#1f5fa8", "#c0392b", "#1b7a3a", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#b8860b"];
const W = 900, H = 260, M = { l: 56, r: 12, t: 12, b: 34 };

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.append(e);
  return e;
}

function html(name, props, parent) {
  const e = document.createElement(name);
  Object.assign(e, props || {});
  if (parent) parent.append(e);
  return e;
}

function ticks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n, p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function fmt(v) {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(4));
}

// extent is the time range of a panel, in its units (ms).
function extent(p) {
  if (p.kind === "signal") {
    const n = p.values.reduce((m, v) => Math.max(m, v.length), 0);
    return [p.t_start, p.t_start + Math.max(n - 1, 1) * p.dt];
  }
  let lo = p.t_start ?? Infinity, hi = p.t_stop ?? -Infinity;
  for (const t of p.times) if (t.length) { lo = Math.min(lo, t[0]); hi = Math.max(hi, t[t.length - 1]); }
  if (!isFinite(lo)) lo = 0;
  if (!(hi > lo)) hi = lo + 1;
  return [lo, hi];
}

function axes(svg, x0, x1, y0, y1, xlabel, ylabel, yticks) {
  const sx = (v) => M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
  const sy = (v) => H - M.b - ((v - y0) / (y1 - y0 || 1)) * (H - M.t - M.b);
  el("line", { x1: M.l, y1: H - M.b, x2: W - M.r, y2: H - M.b, class: "axis" }, svg);
  el("line", { x1: M.l, y1: M.t, x2: M.l, y2: H - M.b, class: "axis" }, svg);
  for (const t of ticks(x0, x1, 8)) {
    el("line", { x1: sx(t), x2: sx(t), y1: H - M.b, y2: H - M.b + 4, class: "axis" }, svg);
    el("text", { x: sx(t), y: H - M.b + 16, "text-anchor": "middle" }, svg).textContent = fmt(t);
  }
  for (const t of yticks || ticks(y0, y1, 5)) {
    el("line", { x1: M.l - 4, x2: M.l, y1: sy(t), y2: sy(t), class: "axis" }, svg);
    el("text", { x: M.l - 6, y: sy(t) + 4, "text-anchor": "end" }, svg).textContent = fmt(t);
  }
  el("text", { x: (M.l + W - M.r) / 2, y: H - 4, "text-anchor": "middle" }, svg).textContent = xlabel;
  el("text", { x: 12, y: (M.t + H - M.b) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(M.t + H - M.b) / 2})` }, svg).textContent = ylabel;
  return { sx, sy };
}

function drawSpikes(svg, p, x0, x1) {
  const ids = p.ids && p.ids.length === p.times.length ? p.ids : p.times.map((_, i) => i);
  const lo = Math.min(...ids, 0), hi = Math.max(...ids, 1);
  const yt = hi - lo <= 12 ? ids : undefined;
  const { sx, sy } = axes(svg, x0, x1, lo - 0.5, hi + 0.5, "time (ms)", "neuron", yt);
  let d = "", n = 0;
  const half = Math.max(1, Math.min(6, (H - M.t - M.b) / (hi - lo + 1) / 2.5));
  p.times.forEach((train, i) => {
    const y = sy(ids[i]);
    for (const t of train) {
      if (t < x0 || t > x1) continue;
      d += `M${sx(t).toFixed(1)} ${(y - half).toFixed(1)}v${(2 * half).toFixed(1)}`;
      n++;
    }
  });
  el("path", { d, stroke: COLORS[0], "stroke-width": 1.2, fill: "none" }, svg);
  return n;
}

function drawSignal(svg, p, x0, x1) {
  let lo = Infinity, hi = -Infinity;
  const i0 = Math.max(0, Math.floor((x0 - p.t_start) / p.dt)), i1 = Math.ceil((x1 - p.t_start) / p.dt);
  for (const v of p.values) for (let i = i0; i <= Math.min(i1, v.length - 1); i++) {
    if (v[i] === null) continue;
    lo = Math.min(lo, v[i]); hi = Math.max(hi, v[i]);
  }
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (hi === lo) { hi += 1; lo -= 1; }
  const pad = (hi - lo) * 0.05;
  const { sx, sy } = axes(svg, x0, x1, lo - pad, hi + pad, "time (ms)", `${p.name} (${p.units || "a.u."})`);
  p.values.forEach((v, c) => {
    let d = "";
    // At most two points per pixel column: the minimum and the maximum.
    const stride = Math.max(1, Math.floor((i1 - i0) / ((W - M.l - M.r) * 2)));
    for (let i = i0; i <= Math.min(i1, v.length - 1); i += stride) {
      let a = v[i], b = v[i];
      for (let k = 1; k < stride && i + k < v.length; k++) { const u = v[i + k]; if (u < a) a = u; if (u > b) b = u; }
      if (a === null) continue;
      const x = sx(p.t_start + i * p.dt).toFixed(1);
      d += (d ? "L" : "M") + x + " " + sy(a).toFixed(1);
      if (b !== a) d += "L" + x + " " + sy(b).toFixed(1);
    }
    el("path", { d, stroke: COLORS[c % COLORS.length], "stroke-width": 1.2, fill: "none" }, svg);
  });
}

function drawMapping(box, m) {
  const info = m.mapping || {};
  const pops = info.populations || info.neurons || [];
  const total = info.neuron_circuits || info.circuits_total || 512;
  const used = new Map();
  pops.forEach((pop, k) => {
    for (const c of pop.circuits || []) used.set(c, k);
  });
  const cols = 64, rows = Math.ceil(total / cols), cw = W / cols, ch = 12;
  const svg = el("svg", { viewBox: `0 0 ${W} ${rows * ch + 20}`, class: "plot mapping-grid", role: "img",
    "aria-label": `placement: ${used.size} of ${total} neuron circuits used` }, box);
  for (let i = 0; i < total; i++) {
    const k = used.get(i);
    const r = el("rect", { x: (i % cols) * cw + 0.5, y: Math.floor(i / cols) * ch + 0.5, width: cw - 1, height: ch - 1,
      fill: k === undefined ? "#e4e8ec" : COLORS[k % COLORS.length] }, svg);
    el("title", {}, r).textContent = `circuit ${i}` + (k === undefined ? " (free)" : ` (${pops[k].label || pops[k].population || "population " + k})`);
  }
  el("text", { x: 0, y: rows * ch + 15 }, svg).textContent = `${used.size} of ${total} neuron circuits used`;
  const facts = [];
  const walk = (o, prefix) => {
    for (const [k, v] of Object.entries(o)) {
      if (v !== null && typeof v === "object" && !Array.isArray(v)) walk(v, prefix + k + ".");
      else if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") facts.push([prefix + k, v]);
    }
  };
  walk(info, "");
  if (facts.length) {
    const dl = html("dl", { className: "facts" }, box);
    for (const [k, v] of facts.slice(0, 40)) {
      html("dt", { textContent: k }, dl);
      html("dd", { textContent: String(v) }, dl);
    }
  }
}

export function renderSummary(root, summary) {
  const panels = (summary.panels || []).filter((p) => p.kind === "spikes" || p.kind === "signal");
  const maps = summary.mappings || [];
  if (!panels.length && !maps.length) {
    html("p", { className: "hint", textContent: "The job's data files hold no spikes or signals nmp can plot." }, root);
    return;
  }
  const pops = [...new Set(panels.map((p) => p.population || "(unnamed)"))];
  const shown = new Set(pops);
  let zoom = null; // [t0, t1] shared by every plot, or null for each plot's whole range
  const controls = html("div", { className: "plot-controls" }, root);
  if (pops.length > 1) {
    html("span", { textContent: "Populations:" }, controls);
    pops.forEach((name, i) => {
      const id = "pop-" + i;
      const cb = html("input", { type: "checkbox", id, checked: true }, controls);
      html("label", { htmlFor: id, textContent: name }, controls);
      cb.addEventListener("change", () => { cb.checked ? shown.add(name) : shown.delete(name); draw(); });
    });
  }
  const reset = html("button", { type: "button", textContent: "Reset zoom", disabled: true }, controls);
  const zin = html("button", { type: "button", textContent: "Zoom in" }, controls);
  const zout = html("button", { type: "button", textContent: "Zoom out" }, controls);
  html("span", { className: "hint", textContent: "Drag across a plot to zoom into a time window; double-click to see it all." }, controls);
  const area = html("div", {}, root);
  let full = [Infinity, -Infinity];
  for (const p of panels) { const [a, b] = extent(p); full = [Math.min(full[0], a), Math.max(full[1], b)]; }
  const setZoom = (z) => { zoom = z; reset.disabled = !z; draw(); };
  reset.addEventListener("click", () => setZoom(null));
  zin.addEventListener("click", () => { const [a, b] = zoom || full, q = (b - a) / 4; setZoom([a + q, b - q]); });
  zout.addEventListener("click", () => {
    const [a, b] = zoom || full, q = (b - a) / 2;
    const z = [Math.max(full[0], a - q), Math.min(full[1], b + q)];
    setZoom(z[0] <= full[0] && z[1] >= full[1] ? null : z);
  });

  function draw() {
    area.replaceChildren();
    let group = "";
    for (const p of panels) {
      if (!shown.has(p.population || "(unnamed)")) continue;
      const g = `${p.file}, segment ${p.segment ?? 0}`;
      if (g !== group) { html("h3", { textContent: g }, area); group = g; }
      const [x0, x1] = zoom || extent(p);
      const what = p.kind === "spikes" ? "spikes" : `${p.name} of ${p.ids ? p.ids.length : p.values.length} neurons`;
      html("p", { className: "meta", textContent: `${p.population || "(unnamed)"}: ${what}` +
        (p.step > 1 ? `, 1 sample in ${p.step}` : "") + (p.truncated ? " (cut to fit the summary)" : "") }, area);
      const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", tabindex: 0,
        "data-kind": p.kind, "aria-label": `${p.kind === "spikes" ? "spike raster" : "trace"} of ${p.population || "a population"}` }, area);
      if (p.kind === "spikes") drawSpikes(svg, p, x0, x1);
      else drawSignal(svg, p, x0, x1);
      brush(svg, x0, x1);
    }
    for (const m of maps) {
      html("h3", { textContent: "Mapping" + (m.source ? ` (${m.source})` : "") }, area);
      drawMapping(area, m);
    }
  }

  // brush lets the pointer select a time window on a plot.
  function brush(svg, x0, x1) {
    const toT = (ev) => {
      const r = svg.getBoundingClientRect();
      const px = ((ev.clientX - r.left) / r.width) * W;
      return x0 + ((Math.min(Math.max(px, M.l), W - M.r) - M.l) / (W - M.l - M.r)) * (x1 - x0);
    };
    let start = null, rect = null;
    svg.addEventListener("pointerdown", (ev) => {
      start = toT(ev);
      rect = el("rect", { class: "sel", y: M.t, height: H - M.t - M.b, x: 0, width: 0 }, svg);
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener("pointermove", (ev) => {
      if (start === null) return;
      const t = toT(ev), a = Math.min(start, t), b = Math.max(start, t);
      const sx = (v) => M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
      rect.setAttribute("x", sx(a)); rect.setAttribute("width", sx(b) - sx(a));
    });
    svg.addEventListener("pointerup", (ev) => {
      if (start === null) return;
      const t = toT(ev), a = Math.min(start, t), b = Math.max(start, t);
      start = null;
      if (b - a > (x1 - x0) / 200) setZoom([a, b]);
      else rect.remove();
    });
    svg.addEventListener("dblclick", () => setZoom(null));
    svg.addEventListener("keydown", (ev) => {
      if (ev.key === "+") zin.click();
      if (ev.key === "-") zout.click();
      if (ev.key === "0") setZoom(null);
    });
  }
  draw();
}
