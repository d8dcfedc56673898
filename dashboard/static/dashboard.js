// Omnistream dashboard: polls the dashboard's own /api/ every 2 s and draws each panel.
// Vanilla JS, no libraries; charts are inline SVG built as markup. Nothing leaves this origin.
"use strict";

const POLL_MS = 2000;
const STALE_MS = 6000;        // a panel whose last good answer is older than this says so
const SKU_REFRESH_MS = 30000;
const fmt = new Intl.NumberFormat("en-US");
const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const COLORS = { store: "#2f6fdf", web: "#1aa179", app: "#e08a1e" };

const state = { sku: new URLSearchParams(location.search).get("sku"), skusAt: 0, lag: null };

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function secs(value) {
  // A duration in the unit a person reads at a glance: 0.42 s, 37 s, 12 min, 5.3 h, 24.6 days.
  if (value === null || value === undefined) return "n/a";
  const v = Number(value);
  if (v < 10) return `${v.toFixed(2)} s`;
  if (v < 120) return `${Math.round(v)} s`;
  if (v < 7200) return `${Math.round(v / 60)} min`;
  if (v < 172800) return `${(v / 3600).toFixed(1)} h`;
  return `${(v / 86400).toFixed(1)} days`;
}

async function getJson(path) {
  let response;
  try {
    // From the origin, not the page's URL: a page opened with client and token in its URL would make
    // fetch refuse a URL with credentials; the browser still sends the Basic credentials it keeps.
    response = await fetch(new URL(path, location.origin), { cache: "no-store" });
  } catch (err) {
    throw new Error(`the dashboard server is not answering (${path})`);
  }
  let body = null;
  try { body = await response.json(); } catch (err) { body = null; }
  if (!response.ok) throw new Error((body && body.error) || `${path} answered HTTP ${response.status}`);
  return body;
}

// One panel: fetch, render on success; on failure keep the last picture, dimmed, with the reason.
function panel(id, render) {
  const root = document.getElementById(id);
  const self = { root, lastOk: 0, error: null, stale: [] };
  self.show = (body) => {
    self.lastOk = Date.now();
    self.error = null;
    root.querySelector(".body").innerHTML = render(body);
    self.paint();
  };
  self.fail = (err) => { self.error = err.message; self.paint(); };
  self.paint = () => {
    const box = root.querySelector(".state");
    const age = self.lastOk ? Math.round((Date.now() - self.lastOk) / 1000) : null;
    const notes = [];
    if (self.error) notes.push(`Source down: ${self.error}`);
    if (self.lastOk && Date.now() - self.lastOk > STALE_MS) notes.push(`Stale: last good answer ${age} s ago.`);
    for (const reason of self.stale) notes.push(`Stale: ${reason}.`);
    if (!self.lastOk && !self.error) notes.push("Loading…");
    root.classList.toggle("is-down", Boolean(self.error));
    root.classList.toggle("is-stale", notes.length > 0 && !self.error && Boolean(self.lastOk));
    box.className = "state" + (self.error ? " error" : notes.length ? " warn" : "");
    box.textContent = notes.join(" ");
    if (self.error && !self.lastOk) root.querySelector(".body").innerHTML = "";
  };
  return self;
}

function bar(parts, total, width = 220, height = 14) {
  let x = 0;
  const rects = parts.map(([value, color, label]) => {
    const w = total > 0 ? Math.max(0, (value / total) * width) : 0;
    const r = `<rect x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="${height}" fill="${color}"><title>${esc(label)}: ${fmt.format(value)}</title></rect>`;
    x += w;
    return r;
  });
  return `<svg class="bar" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"><rect x="0" y="0" width="${width}" height="${height}" fill="#eef1f5"></rect>${rects.join("")}</svg>`;
}

function renderStock(body) {
  const t = body.totals;
  if (!body.nodes.length) return `<p class="empty">The stock table has no position for ${esc(body.sku)} at any node.</p>`;
  const max = Math.max(1, ...body.nodes.map((n) => n.on_hand));
  const rows = body.nodes.map((n) => {
    const other = Math.max(0, n.on_hand - n.atp - n.held);
    const chart = bar([[n.atp, "#1aa179", "ATP"], [n.held, "#e0a21e", "held"], [other, "#b8c1cc", "safety / not promisable"]], max);
    return `<tr data-node="${esc(n.node)}" data-on-hand="${n.on_hand}" data-held="${n.held}" data-atp="${n.atp}">
      <td class="node">${esc(n.node)}</td><td class="num">${fmt.format(n.on_hand)}</td><td class="num">${fmt.format(n.held)}</td>
      <td class="num strong">${fmt.format(n.atp)}</td><td class="num muted">${fmt.format(n.in_transit)}</td><td>${chart}</td></tr>`;
  }).join("");
  return `<div class="figures">
      <div><b id="stock-total-on-hand">${fmt.format(t.on_hand)}</b><span>on hand</span></div>
      <div><b>${fmt.format(t.held)}</b><span>held</span></div>
      <div><b class="good" id="stock-total-atp">${fmt.format(t.atp)}</b><span>available to promise</span></div>
      <div><b>${fmt.format(body.nodes.length)}</b><span>nodes</span></div>
    </div>
    <div class="scroll"><table class="stock" data-sku="${esc(body.sku)}">
      <thead><tr><th>node</th><th class="num">on hand</th><th class="num">held</th><th class="num">ATP</th><th class="num">in transit</th>
      <th><span class="key" style="background:#1aa179"></span>ATP <span class="key" style="background:#e0a21e"></span>held <span class="key" style="background:#b8c1cc"></span>other</th></tr></thead>
      <tbody>${rows}</tbody></table></div>`;
}

function renderSales(body) {
  document.getElementById("sales-day").textContent = body.day
    ? `${body.day} (UTC), the latest day with sales, from the DuckDB snapshot` : "from the DuckDB snapshot";
  if (!body.channels.length) return `<p class="empty">No sales in DuckDB yet.</p>`;
  const max = Math.max(1, ...body.channels.map((c) => c.net_sales));
  const width = 300, row = 30;
  const bars = body.channels.map((c, i) => {
    const w = (c.net_sales / max) * (width - 150);
    const y = i * row;
    return `<text x="0" y="${y + 18}" class="label">${esc(c.channel)}</text>
      <rect x="50" y="${y + 5}" width="${w.toFixed(1)}" height="18" rx="3" fill="${COLORS[c.channel] || "#7a8699"}"></rect>
      <text x="${(56 + w).toFixed(1)}" y="${y + 18}" class="value">${money.format(c.net_sales)}</text>`;
  }).join("");
  const rows = body.channels.map((c) => `<tr data-channel="${esc(c.channel)}" data-lines="${c.lines}" data-units="${c.units}" data-net-sales="${c.net_sales}">
      <td>${esc(c.channel)}</td><td class="num">${fmt.format(c.lines)}</td><td class="num">${fmt.format(c.units)}</td><td class="num">${money.format(c.net_sales)}</td></tr>`).join("");
  return `<svg class="chart" width="100%" height="${body.channels.length * row}" viewBox="0 0 ${width} ${body.channels.length * row}" role="img" aria-label="net sales by channel">${bars}</svg>
    <table class="sales" data-day="${esc(body.day)}"><thead><tr><th>channel</th><th class="num">lines</th><th class="num">units</th><th class="num">net sales</th></tr></thead>
    <tbody>${rows}</tbody><tfoot><tr><td>all</td><td class="num">${fmt.format(body.total.lines)}</td><td class="num">${fmt.format(body.total.units)}</td><td class="num">${money.format(body.total.net_sales)}</td></tr></tfoot></table>`;
}

function renderPoints(body) {
  const chart = bar([[body.pending, "#8a6fdf", "pending"], [body.available, "#1aa179", "available"], [body.held, "#e0a21e", "held"]],
    Math.max(1, body.outstanding), 300, 18);
  return `<div class="big" id="points-outstanding" data-outstanding="${body.outstanding}">${fmt.format(body.outstanding)}<span>points outstanding</span></div>
    ${chart}
    <dl class="points" data-pending="${body.pending}" data-available="${body.available}" data-held="${body.held}">
      <div><dt><span class="key" style="background:#8a6fdf"></span>pending</dt><dd>${fmt.format(body.pending)}</dd></div>
      <div><dt><span class="key" style="background:#1aa179"></span>available</dt><dd>${fmt.format(body.available)}</dd></div>
      <div><dt><span class="key" style="background:#e0a21e"></span>held</dt><dd>${fmt.format(body.held)}</dd></div>
      <div><dt>customers</dt><dd>${fmt.format(body.wallets)}</dd></div>
    </dl>`;
}

function renderAlerts(body) {
  if (!body.alerts.length) return `<p class="empty" id="alerts-empty">No fraud alerts. Rules raise them here when a pattern shows up.</p>`;
  const rows = body.alerts.map((a) => `<tr data-alert-id="${esc(a.alert_id)}">
      <td><span class="sev sev-${esc(a.severity)}">${esc(a.severity)}</span></td><td class="nowrap">${esc(a.rule)}</td>
      <td class="entity" title="${esc(a.entity_kind)} ${esc(a.entity_id)}">${esc(a.entity_id)}</td>
      <td>${esc(a.summary)}</td><td class="muted nowrap">${esc(String(a.raised_at).replace("T", " ").slice(0, 19))}</td></tr>`).join("");
  return `<p class="sub">${fmt.format(body.total)} alerts in all, ${fmt.format(body.high)} high severity</p>
    <div class="scroll short"><table class="alerts"><thead><tr><th>severity</th><th>rule</th><th>entity</th><th>summary</th><th>raised (UTC)</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function pct(value) {
  return value === null || value === undefined ? "n/a" : `${(Number(value) * 100).toFixed(1)}%`;
}

function renderFulfilment(body) {
  document.getElementById("fulfilment-day").textContent = body.day
    ? `${body.day} (UTC), the latest day with sourcing decisions, from the DuckDB snapshot` : "from the DuckDB snapshot";
  if (!body.summary) return `<p class="empty" id="fulfilment-empty">No sourcing decisions yet. The order saga's decisions appear here.</p>`;
  const s = body.summary;
  const rows = body.decisions.map((d) => `<tr data-order-id="${esc(d.order_id)}" data-outcome="${esc(d.outcome)}">
      <td class="entity" title="${esc(d.reason)}">${esc(d.order_id)}</td><td class="num">${fmt.format(d.attempt)}</td>
      <td><span class="outcome outcome-${esc(d.outcome)}">${esc(d.outcome)}</span></td>
      <td class="nowrap">${esc(d.nodes.join(", ") || "none")}</td><td class="num">${money.format(d.cost)}</td>
      <td class="num">${fmt.format(d.km)}</td><td class="num">${fmt.format(d.retries)}</td>
      <td class="muted nowrap">${esc(String(d.decided_at).replace("T", " ").slice(0, 19))}</td></tr>`).join("");
  return `<div class="figures" id="fulfilment-figures" data-orders-sourced="${s.orders_sourced}" data-split-rate="${s.split_rate ?? ""}">
      <div><b>${fmt.format(s.orders_sourced)}</b><span>orders sourced</span></div>
      <div><b>${pct(s.split_rate)}</b><span>split</span></div>
      <div><b>${s.cost_per_order === null ? "n/a" : money.format(s.cost_per_order)}</b><span>cost per order</span></div>
      <div><b>${s.km_per_order === null ? "n/a" : fmt.format(s.km_per_order)}</b><span>km per order</span></div>
      <div><b class="good">${pct(s.promise_met_share)}</b><span>promise met (${fmt.format(s.promise_known)} known)</span></div>
    </div>
    <p class="sub">units from warehouses ${pct(s.warehouse_share)} · same-day ${pct(s.same_day_share)} ·
      re-sourcings ${fmt.format(s.resourcings)} · rejections ${fmt.format(s.rejections)} · waiting ${fmt.format(s.waits)}</p>
    <div class="scroll short"><table class="decisions"><thead><tr><th>order</th><th class="num">attempt</th><th>outcome</th>
      <th>nodes</th><th class="num">cost</th><th class="num">km</th><th class="num">retries</th><th>decided (UTC)</th></tr></thead>
      <tbody>${rows}</tbody></table></div>`;
}

function renderPricing(body) {
  document.getElementById("pricing-day").textContent = body.day
    ? `7 days to ${body.day} (UTC), the latest day with promotion uses, from the DuckDB snapshot` : "from the DuckDB snapshot";
  if (!body.promotions.length && !body.budgets.length && !body.variances.length) {
    return `<p class="empty" id="pricing-empty">No promotion uses, budgets or till variances yet. The pricing stage's facts appear here.</p>`;
  }
  const cost = body.promotions.map((p) => `<tr data-promotion-id="${esc(p.promotion_id)}" data-discount-7d="${p.discount_7d}">
      <td class="entity" title="${esc(p.name)}">${esc(p.promotion_id)}</td><td class="num">${money.format(p.discount_today)}</td>
      <td class="num">${money.format(p.discount_7d)}</td><td class="num">${fmt.format(p.uses_7d)}</td>
      <td class="num">${fmt.format(p.baskets_7d)}</td><td class="num muted">${fmt.format(p.bonus_points_7d)}</td></tr>`).join("");
  const burns = body.budgets.map((b) => {
    const shown = Math.min(1, b.burnt);
    const color = b.burnt >= 1 ? "#c0392b" : b.burnt >= 0.8 ? "#e0a21e" : "#1aa179";
    return `<tr data-promotion-id="${esc(b.promotion_id)}" data-burnt="${b.burnt}">
      <td class="entity" title="${esc(b.name)}">${esc(b.promotion_id)}</td>
      <td class="nowrap muted">${esc(b.scope)} ${esc(b.scope_key)} · ${esc(b.period_key)}</td>
      <td>${bar([[shown, color, "burnt"]], 1, 160, 12)}</td><td class="num">${pct(b.burnt)}</td>
      <td class="num">${fmt.format(b.accounts_exhausted)} / ${fmt.format(b.accounts)}</td></tr>`;
  }).join("");
  const causes = body.variances_by_cause.map((c) => `<div data-cause="${esc(c.cause)}"><b>${money.format(c.variance)}</b>
      <span>${esc(c.cause.replace("_", " "))} · ${fmt.format(c.lines)} lines</span></div>`).join("");
  const stores = body.variances.map((v) => `<tr data-store="${esc(v.store)}" data-cause="${esc(v.cause)}">
      <td>${esc(v.store)}</td><td>${esc(v.cause)}</td><td class="num">${fmt.format(v.lines)}</td>
      <td class="num">${money.format(v.variance)}</td><td class="num">${fmt.format(v.stale_lines)}</td>
      <td class="num muted">${v.max_versions_behind === null ? "n/a" : fmt.format(v.max_versions_behind)}</td></tr>`).join("");
  return `<div class="scroll short"><table class="promotions"><thead><tr><th>promotion</th><th class="num">discount today</th>
      <th class="num">discount 7 days</th><th class="num">uses</th><th class="num">baskets</th><th class="num">bonus points</th></tr></thead>
      <tbody>${cost}</tbody></table></div>
    <h3 class="minor">Budget burn</h3>
    <div class="scroll short"><table class="budgets"><thead><tr><th>promotion</th><th>most burnt account</th><th></th>
      <th class="num">burnt</th><th class="num">exhausted</th></tr></thead><tbody>${burns}</tbody></table></div>
    <h3 class="minor">Till variances (negative: customers paid less)</h3>
    <div class="figures" id="pricing-causes">${causes}</div>
    <div class="scroll short"><table class="variances"><thead><tr><th>store</th><th>cause</th><th class="num">lines</th>
      <th class="num">variance</th><th class="num">stale lines</th><th class="num">versions behind</th></tr></thead>
      <tbody>${stores}</tbody></table></div>`;
}

function renderLag(body) {
  const p = body.projection;
  const late = body.lateness || {};
  // The sink's status table holds exact quantiles; its histogram only bucket upper bounds.
  const bound = (q, v) => (v === null || v === undefined ? "n/a" : (q.exact ? "" : "≤ ") + secs(v));
  return `<dl class="lag">
      <div><dt>snapshot age</dt><dd id="lag-snapshot-age" data-seconds="${body.snapshot_age_s ?? ""}">${secs(body.snapshot_age_s)}</dd></div>
      <div><dt>projection lag p50</dt><dd id="lag-p50" data-seconds="${p.p50_s ?? ""}">${bound(p, p.p50_s)}</dd></div>
      <div><dt>projection lag p99</dt><dd id="lag-p99" data-seconds="${p.p99_s ?? ""}">${bound(p, p.p99_s)}</dd></div>
      <div><dt>sink: since last commit</dt><dd id="lag-commit">${body.sink_up ? secs(body.seconds_since_commit) : "sink down"}</dd></div>
      <div><dt>sink: records waiting</dt><dd>${body.sink_records_waiting === null ? "n/a" : fmt.format(body.sink_records_waiting)}</dd></div>
    </dl>
    <p class="sub" id="lag-source">lag: appended to Kafka → queryable in DuckDB; source: ${esc(p.source || "none yet")}</p>
    <p class="sub lateness" id="lateness" data-p50-seconds="${late.p50_s ?? ""}" data-p99-seconds="${late.p99_s ?? ""}"
      title="How long after their business time (occurred_at) events reached Kafka: replays, backfills and simulated days are late by days. Not pipeline lag.">
      event lateness (business time, not pipeline lag): p50 <span id="lateness-p50">${bound(late, late.p50_s)}</span>,
      p99 <span id="lateness-p99">${bound(late, late.p99_s)}</span></p>`;
}

const panels = {
  stock: panel("panel-stock", renderStock),
  sales: panel("panel-sales", renderSales),
  points: panel("panel-points", renderPoints),
  alerts: panel("panel-alerts", renderAlerts),
  fulfilment: panel("panel-fulfilment", renderFulfilment),
  pricing: panel("panel-pricing", renderPricing),
  lag: panel("panel-lag", renderLag),
};
const fromSnapshot = [panels.sales, panels.points, panels.alerts, panels.fulfilment, panels.pricing];

async function refreshSkus() {
  const picker = document.getElementById("sku-picker");
  const body = await getJson("/api/skus");
  state.skusAt = Date.now();
  const skus = body.skus.map((s) => s.sku);
  if (state.sku && !skus.includes(state.sku)) skus.unshift(state.sku);
  if (!state.sku) state.sku = skus[0] || null;
  picker.innerHTML = skus.map((s) => `<option value="${esc(s)}"${s === state.sku ? " selected" : ""}>${esc(s)}</option>`).join("");
}

async function load(name, path) {
  try { panels[name].show(await getJson(path)); } catch (err) { panels[name].fail(err); }
}

async function loadStock() {
  if (Date.now() - state.skusAt > SKU_REFRESH_MS || !state.sku) {
    try { await refreshSkus(); } catch (err) { if (!state.sku) { panels.stock.fail(err); return; } }
  }
  if (!state.sku) { panels.stock.fail(new Error("no SKU to show yet: DuckDB has no stock or sales")); return; }
  await load("stock", `/api/stock?sku=${encodeURIComponent(state.sku)}`);
}

async function loadLag() {
  try {
    state.lag = await getJson("/api/lag");
    panels.lag.show(state.lag);
  } catch (err) {
    state.lag = null;
    panels.lag.fail(err);
  }
  const reasons = state.lag ? state.lag.stale_reasons : [];
  panels.lag.stale = reasons;
  for (const p of fromSnapshot) p.stale = reasons;
}

// The Kafka cluster as the dashboard's own watch sees it (/api/cluster): a banner while it is not ok.
async function loadCluster() {
  const banner = document.getElementById("cluster-banner");
  let body = null;
  try { body = await getJson("/api/cluster"); } catch (err) { body = null; }
  const bad = Boolean(body) && (body.state === "degraded" || body.state === "waiting for the cluster");
  banner.dataset.state = body ? body.state : "";
  banner.hidden = !bad;
  if (!bad) return;
  const text = body.summary.charAt(0).toUpperCase() + body.summary.slice(1);
  banner.className = "banner " + (body.state === "degraded" ? "banner-warn" : "banner-bad");
  const held = body.bad_for_s < 120 ? `${Math.round(body.bad_for_s)} s` : secs(body.bad_for_s);
  banner.textContent = text + (body.bad_for_s >= 1 ? ` (for ${held})` : "");
}

function paintOverall() {
  const all = Object.values(panels);
  const down = all.filter((p) => p.error).length;
  const stale = all.filter((p) => p.root.classList.contains("is-stale")).length;
  const pill = document.getElementById("overall");
  pill.className = "pill " + (down ? "pill-down" : stale ? "pill-stale" : "pill-live");
  pill.textContent = down ? `${down} source${down > 1 ? "s" : ""} down` : stale ? "stale data" : "live";
  document.getElementById("clock").textContent = "updated " + new Date().toISOString().slice(11, 19) + " UTC";
}

async function tick() {
  await Promise.all([loadStock(), loadLag(), load("sales", "/api/sales-today"), load("points", "/api/points"),
    load("alerts", "/api/alerts"), load("fulfilment", "/api/fulfilment"), load("pricing", "/api/pricing"),
    loadCluster()]);
  Object.values(panels).forEach((p) => p.paint());
  paintOverall();
  setTimeout(tick, POLL_MS);
}

document.getElementById("sku-picker").addEventListener("change", (event) => {
  state.sku = event.target.value;
  const url = new URL(location.href);
  url.searchParams.set("sku", state.sku);
  history.replaceState(null, "", url.pathname + url.search);
  loadStock();
});

tick();
