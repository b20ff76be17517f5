"use strict";
// The runs list: filters and search in the URL (?q=&status=&agent=&offset=), a page of 50, live.
const PAGE = 50;
const state = { offset: 0, q: "", status: "", agent: "", total: 0 };

function readURL() {
  const p = new URLSearchParams(location.search);
  state.q = p.get("q") || ""; state.status = p.get("status") || ""; state.agent = p.get("agent") || "";
  state.offset = Math.max(0, parseInt(p.get("offset") || "0", 10) || 0);
  document.getElementById("q").value = state.q;
  document.getElementById("status").value = state.status;
}
function writeURL() {
  const p = new URLSearchParams();
  for (const k of ["q", "status", "agent"]) if (state[k]) p.set(k, state[k]);
  if (state.offset) p.set("offset", state.offset);
  history.replaceState(null, "", p.toString() ? "?" + p : location.pathname);
}

async function loadRuns() {
  const p = new URLSearchParams({ offset: state.offset, limit: PAGE, q: state.q, status: state.status, agent: state.agent });
  const data = await getJSON("/api/runs?" + p);
  state.total = data.total;
  const body = document.querySelector("#runs tbody");
  body.replaceChildren(...data.runs.map(runRow));
  document.getElementById("empty").hidden = data.total > 0;
  const last = Math.min(state.offset + PAGE, data.total);
  document.getElementById("range").textContent =
    data.total ? `${fmtInt(state.offset + 1)}–${fmtInt(last)} of ${fmtInt(data.total)}` : "0 runs";
  document.getElementById("prev").disabled = state.offset === 0;
  document.getElementById("next").disabled = last >= data.total;
  document.body.dataset.loaded = "1";
}

function runRow(r) {
  const href = "/runs/" + r.trace_id;
  const tokens = `${fmtInt(r.input_tokens)} / ${fmtInt(r.output_tokens)}`;
  const row = el("tr", { class: "run " + r.status, "data-trace": r.trace_id },
    el("td", {}, badge(r.status), r.errors && r.status !== "error" ? el("span", { class: "errcount", title: "spans with errors", text: `${r.errors} err` }) : null),
    el("td", { class: "time" }, el("a", { href, text: fmtTime(r.start) })),
    el("td", { class: "agent", text: r.agent || r.name }),
    el("td", { class: "models", text: r.models.join(", ") || "—" }),
    el("td", { class: "num", text: fmtInt(r.turns) }),
    el("td", { class: "num", text: tokens }),
    el("td", { class: "num", text: fmtCost(r.cost) }),
    el("td", { class: "num", text: r.status === "running" ? "…" : fmtMs(r.duration_ms) }),
    el("td", { class: "input", title: r.input || "", text: r.input || (r.service ? `(${r.service})` : "") }));
  row.addEventListener("click", (e) => { if (e.target.tagName !== "A") location.href = href; });
  return row;
}

function bars(svgId, axisId, buckets, series, colors) {
  const box = document.getElementById(svgId);
  box.replaceChildren();
  const W = 600, H = 140, n = Math.max(buckets.length, 1);
  const totals = buckets.map((b) => series.reduce((s, k) => s + (b[k] || 0), 0));
  const max = Math.max(...totals, 0) || 1;
  const w = W / n;
  buckets.forEach((b, i) => {
    let y = H;
    series.forEach((k, j) => {
      const h = ((b[k] || 0) / max) * (H - 10);
      if (h <= 0) return;
      y -= h;
      const rect = svg("rect", { x: i * w + 1, y, width: Math.max(w - 2, 1), height: h, class: colors[j] });
      rect.append(svg("title", {}));
      rect.firstChild.textContent = `${fmtTime(b.start)}  ${k}: ${k === "cost" ? fmtCost(b[k]) : fmtInt(b[k])}  (${b.runs} runs)`;
      box.append(rect);
    });
  });
  const axis = document.getElementById(axisId);
  const top = series[0] === "cost" ? fmtCost(max) : fmtInt(max);
  axis.replaceChildren(
    el("span", { text: buckets.length ? fmtTime(buckets[0].start) : "" }),
    el("span", { text: "max " + top }),
    el("span", { text: buckets.length ? fmtTime(buckets[buckets.length - 1].start) : "" }));
}

async function loadCharts() {
  const data = await getJSON("/api/usage?bucket=hour");
  bars("chart-tokens", "axis-tokens", data.buckets, ["input_tokens", "output_tokens"], ["in", "out"]);
  bars("chart-cost", "axis-cost", data.buckets, ["cost"], ["cost"]);
  const errBox = document.getElementById("chart-cost");
  const maxRuns = Math.max(...data.buckets.map((b) => b.runs), 1);
  data.buckets.forEach((b, i) => {
    if (!b.errors) return;
    const w = 600 / data.buckets.length;
    errBox.append(svg("circle", { cx: i * w + w / 2, cy: 140 - (b.errors / maxRuns) * 130, r: 3, class: "err" }));
  });
}

async function loadAgents() {
  const meta = await getJSON("/api/meta");
  const select = document.getElementById("agent");
  select.replaceChildren(el("option", { value: "", text: "any agent" }), ...meta.agents.map((a) => el("option", { value: a, text: a })));
  select.value = state.agent;
}

function refresh() { writeURL(); return Promise.all([loadRuns(), loadCharts()]); }

let typing = null;
document.getElementById("q").addEventListener("input", (e) => {
  clearTimeout(typing);
  typing = setTimeout(() => { state.q = e.target.value.trim(); state.offset = 0; refresh(); }, 250);
});
document.getElementById("status").addEventListener("change", (e) => { state.status = e.target.value; state.offset = 0; refresh(); });
document.getElementById("agent").addEventListener("change", (e) => { state.agent = e.target.value; state.offset = 0; refresh(); });
document.getElementById("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); refresh(); });
document.getElementById("next").addEventListener("click", () => { state.offset += PAGE; refresh(); });
document.getElementById("filters").addEventListener("submit", (e) => e.preventDefault());

readURL();
loadAgents().then(refresh);
pollVersion(() => Promise.all([loadAgents(), refresh()]), 1500);
