// mockgw inspector: a small page over the server's JSON view-models (/__mockgw/ui/api/...). No framework, no
// build step. Every value from the journal is put in the page as text (never as HTML).
"use strict";

const API = "api";
const ENDPOINTS = ["/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/models",
  "/v1/messages/count_tokens", "/v1/count_tokens", "/v1/compress"];
const state = { offset: 0, limit: 100, overview: null, source: null, firstScreen: null, listKey: "" };
const started = performance.now();

// --- small helpers -------------------------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const data = await response.json();
  if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
  return data;
}

// State-changing actions: a same-origin JSON POST (the server refuses them unless started with --ui-write).
async function act(path, body) {
  const response = await fetch(`${API}/${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    notify((data.error && data.error.message) || `refused (${response.status})`);
    return null;
  }
  return data;
}

let noticeTimer = null;
function notify(text) {
  const notice = document.getElementById("notice");
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.hidden = true; }, 6000);
}

function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function statusCell(row) {
  if (row.status === null || row.status === undefined) {
    return el("span", { class: "status-bad", title: `no answer reached the client (${row.ending || "cut"})` }, "—");
  }
  const cls = row.status < 300 ? "status-ok" : row.status < 500 ? "status-warn" : "status-bad";
  return el("span", { class: cls }, row.status);
}

function ms(value) { return value === null || value === undefined ? "" : `${Number(value).toFixed(1)} ms`; }

function selectedSession() { return document.getElementById("session").value; }

function sessionParam() {
  const value = selectedSession();
  return value === "*" ? null : value;
}

function sessionLabel(name) { return name === "" ? "(default)" : name; }

// --- routing -------------------------------------------------------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#\/?/, "") || "calls";
  const [view, id] = hash.split("/");
  for (const link of document.querySelectorAll(".tabs a")) {
    const current = link.dataset.view === view;
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  const main = document.getElementById("main");
  main.replaceChildren();
  if (view === "calls" && id) return showCall(decodeURIComponent(id));
  if (view === "fixtures") return showFixtures();
  if (view === "faults") return showFaults();
  if (view === "scenarios") return showScenarios();
  if (view === "holds") return showHolds();
  return showCalls();
}

// --- overview: health, sessions, the other tabs --------------------------------------------------------------------

async function loadOverview() {
  const session = selectedSession() === "*" ? "" : selectedSession();
  const data = await getJSON(`${API}/overview?session=${encodeURIComponent(session)}`);
  state.overview = data;
  const select = document.getElementById("session");
  const current = select.value || "*";
  const options = [el("option", { value: "*" }, "All sessions"),
    ...data.sessions.map((name) => el("option", { value: name }, sessionLabel(name)))];
  select.replaceChildren(...options);
  select.value = [...select.options].some((o) => o.value === current) ? current : "*";
  const h = data.health;
  document.getElementById("health").replaceChildren(
    el("span", { class: "dot", "aria-hidden": "true" }, "● "),
    `${h.status} · mockgw ${h.version} · seed ${h.seed}${h.strict ? " · strict" : ""} · ${h.calls_kept} calls kept`
      + ` (${h.calls_total} received) · ${h.fixtures} fixtures${h.problems ? ` · ${h.problems} problems` : ""} `,
    el("span", { class: data.write ? "badge write" : "badge" }, data.write ? "write mode" : "read-only"),
  );
  return data;
}

function writeButton(label, onClick, description) {
  const write = state.overview && state.overview.write;
  return el("button", {
    type: "button",
    "aria-disabled": write ? null : "true",
    title: write ? description : "Read-only: start the server with --ui-write to allow this",
    onclick: onClick,
  }, label);
}

function table(caption, headers, rows, emptyText) {
  if (!rows.length) return el("p", { class: "empty" }, emptyText);
  return el("table", {},
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))));
}

async function showFixtures() {
  const data = await loadOverview();
  const unused = data.fixtures.filter((f) => f.uses === 0);
  document.getElementById("main").append(
    el("h2", {}, `Fixtures of session ${sessionLabel(data.session)}`),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("b", {}, data.files.length), "files"),
      el("div", { class: "card" }, el("b", {}, data.fixtures.length), "fixtures"),
      el("div", { class: "card" }, el("b", {}, unused.length), "unused")),
    el("h3", {}, "Loaded files"),
    el("ul", {}, data.files.map((f) => el("li", {}, el("code", {}, f)))),
    el("h3", {}, "Fixtures"),
    table("Fixtures, in load order", ["Name", "Source", "Times used", "Limit", "Priority", "Scenario"],
      data.fixtures.map((f) => [
        el("span", {}, f.name, " ", f.uses === 0 ? el("span", { class: "tag unused" }, "unused") : null),
        el("code", {}, f.source), String(f.uses), f.times === null ? "—" : String(f.times), String(f.priority),
        f.scenario || "—"]),
      "No fixtures are loaded: every request gets a generated answer (or 404 in strict mode)."),
  );
}

function schedule(rule) {
  const parts = [];
  if (rule.nth) parts.push(`nth ${rule.nth.join(", ")}`);
  if (rule.every) parts.push(`every ${rule.every}`);
  if (rule.times !== null) parts.push(`at most ${rule.times}×`);
  if (rule.probability !== null) parts.push(`p=${rule.probability}`);
  return parts.join(", ") || "every match";
}

async function showFaults() {
  const data = await loadOverview();
  document.getElementById("main").append(
    el("h2", {}, `Fault rules of session ${sessionLabel(data.session)}`),
    table("Fault rules in the order they are tried", ["Name", "Fault", "Schedule", "Matched", "Fired", "Source", ""],
      data.faults.map((rule) => [
        rule.name, el("code", {}, JSON.stringify(rule.fault)), schedule(rule), String(rule.matched),
        String(rule.fired), el("code", {}, rule.source),
        rule.runtime ? writeButton(`Delete rule ${rule.name}`, async () => {
          if (await act("faults/delete", { session: data.session, name: rule.name })) showFaultsAgain();
        }, "Delete this run-time rule") : el("span", { class: "muted" }, "config"),
      ]),
      "No fault rules. Add them in the config file (faults:) or with POST /__mockgw/faults."),
  );
}

function showFaultsAgain() { if (location.hash.startsWith("#/faults")) route(); }

async function showScenarios() {
  const data = await loadOverview();
  document.getElementById("main").append(
    el("h2", {}, `Scenarios of session ${sessionLabel(data.session)}`),
    table("Scenarios and their states", ["Scenario", "State", "States it knows", "Fixtures ready now"],
      data.scenarios.map((s) => [el("b", {}, s.name), el("span", { class: "tag fault" }, s.state),
        s.states.join(" → "), s.ready.join(", ") || "—"]),
      "No scenarios: fixtures name one with `scenario:`."),
  );
}

async function showHolds() {
  const data = await loadOverview();
  const main = document.getElementById("main");
  main.append(
    el("h2", {}, "Held answers (every session)"),
    el("p", { class: "muted" }, data.write ? "Releasing an answer sends it to the waiting client."
      : "Read-only: start the server with --ui-write (or ui_write: true) to release answers from here."),
    table("Answers held right now", ["Id", "Session", "Fixture", "Path", "Kind", "Held since", ""],
      data.holds.map((h) => [h.id, sessionLabel(h.session), h.fixture || "—", h.path, h.kind, time(h.arrived),
        writeButton(`Release ${h.id}`, async () => {
          if (await act("release", { id: h.id })) { notify(`${h.id} released`); if (location.hash === "#/holds") route(); }
        }, "Send this answer now")]),
      "No answer is held. Fixtures with `hold: true`, and the hang and stall faults, hold answers until released."),
  );
  if (data.write) {
    main.append(el("h3", {}, "Session"),
      writeButton(`Reset session ${sessionLabel(data.session)}`, async () => {
        if (await act("reset", { session: data.session })) { notify("session reset"); route(); }
      }, "Clear this session's journal, run-time fixtures, rules and counters"));
  }
}

// --- the call list -------------------------------------------------------------------------------------------------

function filterParams() {
  const form = document.getElementById("filters");
  const params = new URLSearchParams();
  const session = sessionParam();
  if (session !== null) params.set("session", session);
  for (const name of ["endpoint", "status", "model", "fixture", "fault"]) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  if (form.elements.unmatched.checked) params.set("unmatched", "1");
  return params;
}

function rowNode(row, fresh) {
  const href = `#/calls/${encodeURIComponent(row.id)}`;
  const tr = el("tr", { class: fresh ? "fresh" : null, "data-id": row.id },
    el("td", {}, el("a", { href, class: "open", "aria-label": `${row.id} at ${time(row.time)}: ${row.method} ${row.endpoint}, status ${row.status ?? "none"}` }, time(row.time))),
    el("td", {}, row.session === "" ? el("span", { class: "muted" }, "default") : row.session),
    el("td", { title: row.text || "" }, row.endpoint),
    el("td", {}, row.model || ""),
    el("td", {}, statusCell(row)),
    el("td", {}, row.fixture || (row.unmatched ? el("span", { class: "tag miss" }, "unmatched") : "")),
    el("td", {}, row.fault ? el("span", { class: "tag fault" }, row.fault) : ""),
    el("td", { class: "num" }, ms(row.duration_ms)),
  );
  tr.addEventListener("click", (event) => { if (!event.target.closest("a")) location.hash = href; });
  return tr;
}

function countText(data) {
  const first = data.matched ? data.offset + 1 : 0;
  const last = Math.min(data.offset + data.rows.length, data.matched);
  return `Showing ${first}–${last} of ${data.matched.toLocaleString("en")} matching calls `
    + `(${data.kept.toLocaleString("en")} kept), newest first`;
}

async function loadCalls() {
  const params = filterParams();
  params.set("offset", state.offset);
  params.set("limit", state.limit);
  const data = await getJSON(`${API}/calls?${params}`);
  state.list = data;
  document.getElementById("rows").replaceChildren(...data.rows.map((row) => rowNode(row, false)));
  document.getElementById("count").textContent = countText(data);
  document.getElementById("empty").hidden = data.kept > 0;
  document.getElementById("newer").disabled = state.offset === 0;
  document.getElementById("older").disabled = data.offset + data.rows.length >= data.matched;
  const session = sessionParam();
  const har = document.getElementById("har");
  har.href = `${API}/har${session === null ? "" : `?session=${encodeURIComponent(session)}`}`;
  har.textContent = session === null ? "Download all as HAR" : "Download session as HAR";
  if (state.firstScreen === null) {
    state.firstScreen = Math.round(performance.now() - started);
    document.body.dataset.firstScreenMs = String(state.firstScreen);
  }
  document.body.dataset.listed = String(Date.now());
  listen(params);
}

// Live calls: the server pushes new rows (Server-Sent Events) with the list's filters applied.
function listen(params) {
  const live = new URLSearchParams(params);
  live.delete("offset");
  live.delete("limit");
  const key = live.toString();
  if (state.source && state.listKey === key && state.source.readyState !== EventSource.CLOSED) {
    const i = document.getElementById("live");
    if (i && state.source.readyState === EventSource.OPEN) { i.classList.remove("off"); i.textContent = "● live"; }
    return;
  }
  if (state.source) state.source.close();
  state.listKey = key;
  const source = new EventSource(`${API}/live?${key}`);
  state.source = source;
  const indicator = () => document.getElementById("live");
  source.onopen = () => { const i = indicator(); if (i) { i.classList.remove("off"); i.textContent = "● live"; } };
  source.onerror = () => { const i = indicator(); if (i) { i.classList.add("off"); i.textContent = "○ reconnecting"; } };
  source.addEventListener("cleared", () => { if (document.getElementById("rows")) loadCalls(); });
  source.addEventListener("calls", (event) => {
    const data = JSON.parse(event.data);
    const body = document.getElementById("rows");
    if (!body || !state.list) return;
    state.list.matched += data.rows.length;
    state.list.kept = data.kept;
    if (state.offset === 0) {
      body.prepend(...data.rows.map((row) => rowNode(row, true)));
      while (body.children.length > state.limit) body.lastElementChild.remove();
      state.list.rows = [...data.rows, ...state.list.rows].slice(0, state.limit);
    } else {
      state.list.offset += data.rows.length;  // the page keeps showing the same calls
      state.offset = state.list.offset;
    }
    document.getElementById("count").textContent = countText(state.list);
    document.getElementById("empty").hidden = true;
    document.getElementById("older").disabled = state.list.offset + state.list.rows.length >= state.list.matched;
  });
}

function showCalls() {
  const main = document.getElementById("main");
  main.append(document.getElementById("calls-view").content.cloneNode(true));
  const endpoint = document.getElementById("f-endpoint");
  for (const path of ENDPOINTS) endpoint.append(el("option", { value: path }, path));
  const form = document.getElementById("filters");
  const saved = new URLSearchParams(sessionStorage.getItem("filters") || "");
  for (const name of ["endpoint", "status", "model", "fixture", "fault"]) form.elements[name].value = saved.get(name) || "";
  form.elements.unmatched.checked = saved.get("unmatched") === "1";
  let timer = null;
  const changed = () => {
    sessionStorage.setItem("filters", filterParams().toString());
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.offset = 0;
      loadCalls().catch((e) => notify(e.message));
    }, 150);
  };
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("reset", () => setTimeout(changed, 0));
  form.addEventListener("submit", (event) => { event.preventDefault(); changed(); });
  document.getElementById("newer").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - state.limit); loadCalls();
  });
  document.getElementById("older").addEventListener("click", () => { state.offset += state.limit; loadCalls(); });
  document.getElementById("rows").addEventListener("keydown", (event) => {
    const links = [...document.querySelectorAll("#rows a.open")];
    const index = links.indexOf(document.activeElement);
    if (index < 0) return;
    const next = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: links.length - 1 }[event.key];
    if (next !== undefined && links[next]) { event.preventDefault(); links[next].focus(); }
  });
  loadOverview().catch(() => {});
  return loadCalls().catch((e) => notify(e.message));
}

// --- a call's page -------------------------------------------------------------------------------------------------

function roleName(turn) {
  if (turn.reply) {
    const from = turn.fixture ? `reply from fixture “${turn.fixture}”` : "reply (no fixture: generated)";
    return `assistant · ${from}${turn.partial ? " · the client received only part of it" : ""}`;
  }
  if (turn.role === "tool") return `tool result${turn.tool_name ? ` · ${turn.tool_name}` : ""}${turn.tool_call_id ? ` (${turn.tool_call_id})` : ""}`;
  return turn.role;
}

function chatView(turns) {
  if (!turns.length) return el("p", { class: "empty" }, "This request carried no conversation.");
  return el("ol", { class: "chat", "aria-label": "Conversation" }, turns.map((turn) =>
    el("li", { class: `turn ${turn.role}${turn.reply ? " reply" : ""}`, "data-role": turn.role },
      el("div", { class: "who" }, roleName(turn)),
      turn.text ? el("div", { class: "text" }, turn.text) : null,
      turn.tool_calls.map((call) => el("div", { class: "toolcall", "data-tool": call.name || "" },
        el("div", {}, "calls ", el("span", { class: "name" }, call.name || "?"), call.id ? el("span", { class: "muted" }, ` (${call.id})`) : null),
        call.arguments !== null ? el("pre", { tabindex: "0", "aria-label": `arguments of ${call.name}` }, call.arguments) : null)),
      turn.reply && turn.finish_reason ? el("div", { class: "muted" }, `finish reason: ${turn.finish_reason}`) : null)));
}

function timelineView(timeline) {
  const head = el("p", { class: "muted" },
    `${timeline.events_received} of ${timeline.events_planned} events reached the client; ${timeline.ending_text}. `
    + "Times are the scheduled waits from the start of the response.");
  const list = el("ol", { class: "timeline", "aria-label": "Stream timeline" }, timeline.items.map((item) => {
    if (item.kind === "fault") return el("li", { class: "marker fault", "data-kind": "fault" }, el("span", { class: "at" }, `+${item.at_ms} ms`), "⚡ ", item.label);
    if (item.kind === "stop") return el("li", { class: "marker stop", "data-kind": "stop" }, el("span", { class: "at" }, `+${item.at_ms} ms`), "■ ", item.label);
    return el("li", { class: item.received ? "event" : "event unsent", "data-kind": item.kind },
      el("span", { class: "at" }, `+${item.at_ms} ms`),
      el("span", { class: "num" }, item.number ? `#${item.number}` : ""),
      item.name ? el("b", {}, `${item.name} `) : null,
      item.gist ? el("span", { class: "gist" }, item.gist) : null,
      el("code", { class: "raw" }, item.data));
  }));
  return [head, list];
}

function nearMissView(misses) {
  return misses.map((miss, index) => el("table", { class: "diff" },
    el("caption", {}, `${index === 0 ? "Closest" : "Next"}: fixture “${miss.fixture}” (${miss.source}) — ${miss.failed} key${miss.failed === 1 ? "" : "s"} failed`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Key"), el("th", { scope: "col" }, "Expected"), el("th", { scope: "col" }, "Actual"))),
    el("tbody", {}, miss.rows.map((r) => el("tr", { "data-key": r.key },
      el("td", { class: "key" }, r.key), el("td", { class: "expected" }, r.expected), el("td", { class: "actual" }, r.actual))))));
}

function kvTable(caption, entries) {
  return el("table", { class: "kv" }, el("caption", { class: "visually-hidden" }, caption),
    el("tbody", {}, entries.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v)))));
}

async function copy(text, label) {
  try {
    await navigator.clipboard.writeText(text);
    notify(`${label} copied to the clipboard`);
  } catch (error) {
    notify(`${label}: the browser refused the clipboard; select it below`);
  }
}

async function showCall(id) {
  const main = document.getElementById("main");
  let page;
  try {
    page = await getJSON(`${API}/calls/${encodeURIComponent(id)}`);
  } catch (error) {
    main.append(el("p", {}, el("a", { href: "#/calls" }, "← Calls")), el("p", { role: "alert" }, error.message));
    return;
  }
  const row = page.row;
  const sessionQuery = `?session=${encodeURIComponent(row.session)}`;
  const facts = [
    el("span", {}, "status ", statusCell(row)),
    row.fixture ? el("span", {}, "answered by fixture ", el("b", { "data-fixture": row.fixture }, row.fixture))
      : row.unmatched ? el("span", { class: "tag miss" }, "no fixture matched") : null,
    row.fault ? el("span", { class: "tag fault" }, `fault: ${row.fault}`) : null,
    el("span", { class: "muted" }, ms(row.duration_ms)),
    el("span", { class: "muted" }, `session ${sessionLabel(row.session)}`),
    el("span", { class: "muted" }, time(row.time)),
  ];
  const curlPre = el("pre", { tabindex: "0", id: "curl", "aria-label": "curl command" }, page.curl);
  const yamlPre = el("pre", { tabindex: "0", id: "fixture-yaml", "aria-label": "fixture YAML" }, page.fixture_yaml);
  const answer = page.timeline ? timelineView(page.timeline)
    : page.response.body !== null ? el("pre", { tabindex: "0", "aria-label": "response body" }, page.response.body)
    : el("pre", { tabindex: "0", "aria-label": "response summary" }, JSON.stringify(page.response.summary, null, 2));
  const left = el("div", {},
    el("h3", {}, "Conversation"), chatView(page.chat),
    page.near_misses.length ? [el("h3", {}, "Near misses: why no fixture matched"), nearMissView(page.near_misses)] : null,
    el("h3", {}, page.timeline ? "Stream timeline" : "Response"), answer);
  const right = el("div", {},
    el("h3", {}, "Request"),
    el("p", {}, el("code", {}, `${page.request.method} ${page.request.path}`)),
    el("pre", { tabindex: "0", "aria-label": "request body" }, page.request.body),
    el("h3", {}, "Headers"),
    kvTable("Request headers (credentials redacted)", Object.entries(page.request.headers)),
    el("h3", {}, "Delivery"), el("pre", { tabindex: "0", "aria-label": "delivery record" }, JSON.stringify(page.response.delivered, null, 2)),
    el("details", {}, el("summary", {}, "curl command"), curlPre),
    el("details", {}, el("summary", {}, "Fixture YAML"), yamlPre));
  main.append(
    el("p", {}, el("a", { href: "#/calls" }, "← Calls")),
    el("div", { class: "callhead" }, el("h2", { tabindex: "-1", id: "call-title" }, `${row.method} ${row.endpoint}`), ...facts),
    el("div", { class: "actions" },
      el("button", { type: "button", onclick: () => copy(page.curl, "curl command") }, "Copy as curl"),
      el("a", { class: "button", id: "save-fixture", href: `${API}/calls/${encodeURIComponent(id)}/fixture.yaml`, download: `saved-${id}.yaml` }, "Save as fixture"),
      el("a", { class: "button", href: `${API}/har${sessionQuery}`, download: true }, "Download session as HAR")),
    el("div", { class: "grid" }, left, right));
  document.getElementById("call-title").focus();
}

// --- start ---------------------------------------------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if (event.key === "/" && !/INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName)) {
    const first = document.querySelector("#filters input, #filters select");
    if (first) { event.preventDefault(); first.focus(); }
  }
  if (event.key === "Escape" && location.hash.startsWith("#/calls/")) location.hash = "#/calls";
});
document.getElementById("session").addEventListener("change", () => {
  state.offset = 0;
  if (document.getElementById("rows")) loadCalls().catch((e) => notify(e.message)); else route();
});
window.addEventListener("hashchange", route);
// `?session=NAME` (the pytest plugin's --mockgw-ui prints such links) opens on that session's calls.
const asked = new URLSearchParams(location.search).get("session");
document.getElementById("session").append(el("option", { value: "*" }, "All sessions"));
if (asked !== null) document.getElementById("session").append(el("option", { value: asked, selected: true }, sessionLabel(asked)));
route();
