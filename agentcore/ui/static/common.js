"use strict";
// Helpers shared by the pages: DOM building (text only, never HTML from data), formatting, polling.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}
function svg(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}
function fmtInt(n) { return (n || 0).toLocaleString("en-US"); }
function fmtCost(c) {
  if (c === null || c === undefined) return "—";
  return c >= 0.01 ? "$" + c.toFixed(2) : "$" + c.toFixed(5);
}
function fmtMs(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return Math.round(ms) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  return Math.floor(ms / 60000) + " m " + Math.round((ms % 60000) / 1000) + " s";
}
function fmtTime(ns) {
  if (!ns) return "—";
  const d = new Date(ns / 1e6);
  const pad = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin" });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}
function badge(status) { return el("span", { class: "badge " + status, text: status }); }
// Calls onChange when the index saw new spans; the live dot shows that polling works.
function pollVersion(onChange, everyMs) {
  let seen = null;
  const live = document.getElementById("live");
  async function tick() {
    try {
      const v = await getJSON("/api/version");
      if (live) live.classList.remove("stale");
      if (seen !== null && v.generation !== seen) await onChange();
      seen = v.generation;
    } catch (e) { if (live) live.classList.add("stale"); }
    setTimeout(tick, everyMs);
  }
  tick();
}
