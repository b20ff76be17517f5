"use strict";
// One run: summary, a waterfall of its spans, the selected span's details (request/response bodies
// when content was captured) and the conversation. Polls while the run is in progress.
const ident = decodeURIComponent(location.pathname.split("/").pop());
let selected = null;
let current = null;

const CONTENT = {
  request: ["gen_ai.system_instructions", "gen_ai.input.messages", "gen_ai.tool.definitions", "gen_ai.tool.call.arguments", "process.command_line", "agentcore.input"],
  response: ["gen_ai.output.messages", "gen_ai.tool.call.result", "agentcore.sandbox.output", "agentcore.output"],
};

function spanType(s) {
  const a = s.attributes || {};
  const op = a["gen_ai.operation.name"];
  if (op === "invoke_agent" || op === "create_agent") return "agent";
  if (op === "chat" || op === "text_completion" || op === "generate_content") return "model";
  if (op === "execute_tool") return a["gen_ai.transfer.target.name"] || /^execute_tool transfer_to_/.test(s.name) ? "handoff" : "tool";
  if (op === "apply_guardrail") return "guardrail";
  if (s.name.startsWith("agentcore.sandbox") || "process.command_line" in a) return "sandbox";
  return "other";
}

function isError(s) {
  // A failed span, a tool call that returned an error, a command that exited non-zero.
  const a = s.attributes || {};
  const code = a["process.exit.code"];
  return s.status === "ERROR" || !!a["agentcore.tool.is_error"] || (code !== undefined && String(code) !== "0");
}

function facts(s) {
  const a = s.attributes || {}, out = [];
  const op = a["gen_ai.operation.name"];
  if (op === "chat" || op === "text_completion" || op === "generate_content") {
    out.push(`${fmtInt(a["gen_ai.usage.input_tokens"])} in / ${fmtInt(a["gen_ai.usage.output_tokens"])} out`);
    const cost = a["gen_ai.usage.cost"] ?? a["llm.cost.total"];
    if (cost !== undefined) out.push(fmtCost(cost));
    if (a["gen_ai.response.finish_reasons"]) out.push("finish=" + [].concat(a["gen_ai.response.finish_reasons"]).join(","));
    if (a["agentcore.retry.attempt"]) out.push("retry #" + a["agentcore.retry.attempt"]);
  }
  if (a["gen_ai.transfer.target.name"]) out.push("→ " + a["gen_ai.transfer.target.name"]);
  if (a["agentcore.guardrail.action"]) out.push(a["agentcore.guardrail.action"]);
  if (a["process.exit.code"] !== undefined) out.push("exit=" + a["process.exit.code"]);
  if (s.status === "ERROR") out.push("ERROR " + (a["error.type"] || "") + (s.status_message ? ": " + s.status_message : ""));
  return out.join("  ·  ");
}

function tree(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, { span: s, children: [] }]));
  const roots = [];
  for (const node of byId.values()) {
    const parent = byId.get(node.span.parent_id);
    (parent ? parent.children : roots).push(node);
  }
  const order = (a, b) => (a.span.start || 0) - (b.span.start || 0);
  for (const node of byId.values()) node.children.sort(order);
  roots.sort(order);
  const flat = [];
  const walk = (node, depth) => { flat.push([node.span, depth]); node.children.forEach((c) => walk(c, depth + 1)); };
  roots.forEach((r) => walk(r, 0));
  return flat;
}

function renderSummary(run, session) {
  document.title = `agentcore · ${run.agent || run.name}`;
  document.getElementById("crumb").textContent = run.trace_id.slice(0, 12);
  const fact = (label, value) => el("div", { class: "fact" }, el("span", { class: "label", text: label }), el("span", { class: "value", text: value }));
  document.getElementById("summary").replaceChildren(
    el("h1", {}, badge(run.status), " ", run.agent || run.name),
    el("p", { class: "input", text: run.input || "" }),
    el("div", { class: "facts" },
      fact("Model(s)", run.models.join(", ") || "—"), fact("Turns", fmtInt(run.turns)),
      fact("Tokens in / out", `${fmtInt(run.input_tokens)} / ${fmtInt(run.output_tokens)}`),
      fact("Cost", fmtCost(run.cost)), fact("Duration", run.status === "running" ? "running…" : fmtMs(run.duration_ms)),
      fact("Spans", `${run.spans}${run.errors ? ` (${run.errors} with errors)` : ""}`),
      fact("Started", fmtTime(run.start)), fact("Service", run.service || "—"),
      fact("Trace", run.trace_id), fact("Run", run.run_id || "—"),
      sessionFact(run, session)));
  document.getElementById("live").hidden = run.status !== "running";
}

function sessionFact(run, session) {
  // The session (or conversation) links to the runs list filtered to its runs.
  const id = session ? session.id : run.conversation_id;
  const label = session ? `${session.id} (${session.items} items)` : (id || "—");
  const value = id ? el("a", { class: "value", href: "/?q=" + encodeURIComponent(id), title: "every run of this session", text: label })
    : el("span", { class: "value", text: label });
  return el("div", { class: "fact" }, el("span", { class: "label", text: "Session" }), value);
}

function renderWaterfall(spans) {
  const box = document.getElementById("waterfall");
  if (!spans.length) { box.replaceChildren(); return; }
  const t0 = Math.min(...spans.map((s) => s.start || Infinity));
  const t1 = Math.max(...spans.map((s) => s.end || s.start || 0));
  const total = Math.max(t1 - t0, 1);
  const rows = tree(spans).map(([s, depth]) => {
    const type = spanType(s);
    const left = (((s.start || t0) - t0) / total) * 100;
    const width = Math.max((((s.end || t1) - (s.start || t0)) / total) * 100, 0.4);
    const row = el("div", { class: `wf-row t-${type}` + (isError(s) ? " error" : "") + (s.span_id === selected ? " selected" : ""), "data-span": s.span_id, "data-type": type, onclick: () => select(s.span_id) },
      el("div", { class: "wf-label", style: `padding-left:${depth * 16 + 6}px` },
        el("i", { class: "dot" }), el("span", { class: "wf-name", text: s.name }), el("span", { class: "wf-facts", text: facts(s) })),
      el("div", { class: "wf-track" },
        el("div", { class: "wf-bar", style: `left:${left}%;width:${width}%` }),
        durLabel(s, left, width)));
    return row;
  });
  box.replaceChildren(...rows);
}

function durLabel(s, left, width) {
  // After the bar; near the right edge inside a wide bar, or before a narrow one.
  const label = s.end ? fmtMs((s.end - s.start) / 1e6) : "…";
  if (left + width <= 86) return el("span", { class: "wf-dur", style: `left:${left + width}%`, text: label });
  if (width > 12) return el("span", { class: "wf-dur inside", style: `right:${100 - left - width}%`, text: label });
  return el("span", { class: "wf-dur before", style: `right:${100 - left}%`, text: label });
}

function pretty(value) {
  if (typeof value !== "string") return JSON.stringify(value, null, 2);
  try { const v = JSON.parse(value); return typeof v === "string" ? v : JSON.stringify(v, null, 2); } catch (e) { return value; }
}

function select(spanId) {
  selected = spanId;
  document.querySelectorAll(".wf-row").forEach((r) => r.classList.toggle("selected", r.dataset.span === spanId));
  const s = current.spans.find((x) => x.span_id === spanId);
  if (!s) return;
  const panel = document.getElementById("details-panel");
  panel.hidden = false;
  document.getElementById("details-title").textContent = s.name;
  const a = s.attributes || {};
  const content = new Set([...CONTENT.request, ...CONTENT.response]);
  const body = (title, keys) => {
    const present = keys.filter((k) => k in a);
    if (!present.length) return null;
    return el("div", { class: "body " + title.toLowerCase() }, el("h3", { text: title }),
      ...present.map((k) => el("div", {}, el("div", { class: "key", text: k }), el("pre", { text: pretty(a[k]) }))));
  };
  const rows = Object.keys(a).filter((k) => !content.has(k)).sort().map((k) =>
    el("tr", {}, el("th", { text: k }), el("td", { text: typeof a[k] === "string" ? a[k] : JSON.stringify(a[k]) })));
  const events = (s.events || []).map((e) => el("li", { text: `${e.name} ${JSON.stringify(e.attributes || {})}` }));
  const bodies = [body("Request", CONTENT.request), body("Response", CONTENT.response)].filter(Boolean);
  document.getElementById("details").replaceChildren(
    el("p", {}, badge(s.status === "ERROR" ? "error" : (s.status || "UNSET").toLowerCase()), ` ${s.kind || ""} · ${fmtMs(((s.end || 0) - (s.start || 0)) / 1e6)}`, s.status_message ? el("span", { class: "errmsg", text: " " + s.status_message }) : null),
    ...(bodies.length ? bodies : [el("p", { class: "note", text: spanType(s) === "model" ? "No request/response body: content capture was off for this run." : "" })]),
    el("table", { class: "attrs" }, el("tbody", {}, ...rows)),
    events.length ? el("div", {}, el("h3", { text: "Events" }), el("ul", { class: "events" }, ...events)) : null);
}

function part(p) {
  if (!p || typeof p !== "object") return el("div", { class: "text", text: String(p) });
  if (p.type === "tool_call") return el("div", { class: "tool-call" }, el("span", { class: "tag", text: "tool call" }), el("b", { text: p.name }), el("pre", { text: pretty(p.arguments ?? "") }));
  if (p.type === "tool_call_response") return el("div", { class: "tool-result" }, el("span", { class: "tag", text: "tool result" }), el("pre", { text: pretty(p.response ?? p.result ?? "") }));
  if (p.type === "reasoning") return el("div", { class: "reasoning", text: p.content || "" });
  return el("div", { class: "text", text: p.content ?? JSON.stringify(p) });
}

function renderConversation(messages, session) {
  const box = document.getElementById("conversation");
  let note = null;
  if (!messages.length && session && session.messages.length) {
    messages = session.messages;
    note = el("p", { class: "note", text: `No content in this run's spans; the last ${session.messages.length} messages of session ${session.id}:` });
  } else if (!messages.length) {
    note = el("p", { class: "note", text: "No message content was captured for this run (content capture was off)." });
  }
  box.replaceChildren(note || "", ...messages.map((m) =>
    el("div", { class: "msg " + m.role, "data-role": m.role, onclick: m.span_id ? () => select(m.span_id) : null },
      el("div", { class: "who", text: m.role + (m.agent ? " · " + m.agent : "") }),
      ...(m.parts || []).map(part))));
}

async function load() {
  const r = await fetch("/api/runs/" + encodeURIComponent(ident), { credentials: "same-origin" });
  if (!r.ok) { document.getElementById("summary").replaceChildren(el("h1", { text: "No such run: " + ident })); return; }
  current = await r.json();
  renderSummary(current.run, current.session);
  renderWaterfall(current.spans);
  renderConversation(current.conversation, current.session);
  if (selected) select(selected);
  document.body.dataset.loaded = "1";
}

load().then(() => pollVersion(load, 1500));  // live: spans of a run in progress arrive as they end
