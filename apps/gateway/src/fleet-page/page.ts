/**
 * The fleet page: one static HTML document, its script and its style, served as they are (no
 * template, no data in them). The script asks for a key (kept in the tab's sessionStorage only),
 * reads `/fleet/state` with it every second, and renders with textContent (never innerHTML), so
 * nothing the state holds can become markup. Every number cell carries `data-field` and the exact
 * `data-value` for tests; what is shown is rounded for people.
 */
export const FLEET_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fleetgate — fleet</title>
<link rel="stylesheet" href="/fleet/app.css">
<script src="/fleet/app.js" defer></script>
</head>
<body>
<header>
  <h1>Fleetgate fleet</h1>
  <span id="mode" class="badge">…</span>
  <span id="alive" class="muted"></span>
  <span id="updated" class="muted"></span>
  <button id="sign-out" type="button" hidden>Sign out</button>
</header>
<form id="sign-in" hidden>
  <label for="key">Master key or fleet viewer key</label>
  <input id="key" type="password" autocomplete="off" spellcheck="false">
  <button type="submit">Show the fleet</button>
  <p id="sign-in-error" class="error" hidden></p>
</form>
<main id="fleet" hidden>
  <p id="errors" class="error" hidden></p>
  <section>
    <h2>Deployments <small>rolling 60 s window, fleet-wide</small></h2>
    <table id="deployments"><thead><tr>
      <th>group</th><th>deployment</th><th>requests / rpm</th><th>tokens / tpm</th>
      <th>in flight</th><th>ok</th><th>failed</th><th>state</th>
    </tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Replicas</h2>
    <table id="replicas"><thead><tr>
      <th>replica</th><th>version</th><th>mode</th><th>started</th><th>in flight</th><th>ok</th><th>failed</th>
    </tr></thead><tbody></tbody></table>
  </section>
  <div class="columns">
    <section>
      <h2>Virtual keys <small id="keys-total"></small></h2>
      <table id="keys"><thead><tr>
        <th>alias</th><th>key</th><th>team</th><th>spend / budget</th><th>rpm</th><th>tpm</th><th>status</th>
      </tr></thead><tbody></tbody></table>
    </section>
    <section>
      <h2>Teams <small id="teams-total"></small></h2>
      <table id="teams"><thead><tr><th>team</th><th>keys shown</th><th>spend / budget</th><th>status</th></tr></thead><tbody></tbody></table>
    </section>
  </div>
</main>
</body>
</html>
`;

export const FLEET_CSS = `
[hidden] { display: none !important; }
:root { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; background: #f6f7f9; }
body { margin: 0; padding: 0 16px 24px; }
header { display: flex; align-items: baseline; gap: 12px; padding: 12px 0; border-bottom: 1px solid #d8dce1; flex-wrap: wrap; }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 15px; margin: 18px 0 6px; }
h2 small, .muted { color: #5b6470; font-weight: normal; font-size: 12px; }
.badge { border-radius: 10px; padding: 1px 10px; font-size: 12px; font-weight: 600; background: #d8dce1; }
.badge.shared { background: #cdeccf; color: #14521a; }
.badge.local { background: #dbe6f7; color: #173f7a; }
.badge.degraded { background: #fbd9d3; color: #7a1c0e; }
#sign-out { margin-left: auto; }
form { margin: 40px auto; max-width: 420px; display: grid; gap: 8px; }
input { font: inherit; padding: 6px 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d8dce1; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceef1; white-space: nowrap; }
th { font-size: 12px; color: #5b6470; font-weight: 600; background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.id { max-width: 260px; overflow: hidden; text-overflow: ellipsis; }
.meter { display: inline-block; vertical-align: middle; width: 90px; height: 8px; background: #eceef1; border-radius: 4px; margin-left: 6px; overflow: hidden; }
.meter > span { display: block; height: 100%; background: #3b82c4; }
.meter.high > span { background: #d9822b; }
.meter.full > span { background: #c0392b; }
.cool { color: #7a1c0e; font-weight: 600; }
.ok { color: #14521a; }
.error { color: #7a1c0e; background: #fbd9d3; padding: 6px 10px; border-radius: 4px; }
.columns { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; }
@media (max-width: 1100px) { .columns { grid-template-columns: 1fr; } }
`;

export const FLEET_JS = `'use strict';
(() => {
  const STORE = 'fleetgate.fleet.key';
  const $ = (id) => document.getElementById(id);
  let timer;

  const fmt = (n, digits = 0) =>
    n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const usd = (n) => (n === null || n === undefined ? '—' : '$' + fmt(n, n < 1 ? 4 : 2));
  const seconds = (ms) => (ms / 1000).toFixed(1) + ' s';

  function cell(row, text, field, value, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (field) td.dataset.field = field;
    if (value !== undefined) td.dataset.value = value === null ? '' : String(value);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  /** used / limit with a meter; a count without a meter when there is no limit; "no limit" when not counted; "?" when unread. */
  function fill(row, used, limit, field) {
    const text = used === null ? (limit ? '? / ' + fmt(limit) : 'no limit') : fmt(used) + (limit ? ' / ' + fmt(limit) : '');
    const td = cell(row, text, field, used, 'num');
    td.dataset.limit = limit === null ? '' : String(limit);
    if (limit && used !== null) {
      const share = Math.min(1, used / limit);
      const meter = document.createElement('span');
      meter.className = 'meter' + (share >= 1 ? ' full' : share >= 0.8 ? ' high' : '');
      meter.title = Math.round(share * 100) + ' % of the limit';
      const bar = document.createElement('span');
      bar.style.width = (share * 100).toFixed(1) + '%';
      meter.appendChild(bar);
      td.appendChild(meter);
    }
  }

  function rows(table, items, render) {
    const body = $(table).tBodies[0];
    const fresh = document.createElement('tbody');
    for (const item of items) {
      const row = document.createElement('tr');
      render(row, item);
      fresh.appendChild(row);
    }
    body.replaceWith(fresh);
  }

  function render(s) {
    const degraded = s.fleet.store === 'redis' && s.fleet.mode !== 'shared';
    const mode = $('mode');
    mode.textContent = degraded ? 'degraded: Redis unreachable, local shares' : s.fleet.mode === 'shared' ? 'shared limits (Redis)' : 'local: this replica alone';
    mode.className = 'badge ' + (degraded ? 'degraded' : s.fleet.mode);
    mode.dataset.value = s.fleet.mode;
    const alive = $('alive');
    alive.textContent = s.fleet.replicas.length + ' replica' + (s.fleet.replicas.length === 1 ? '' : 's') + ' alive';
    alive.dataset.value = String(s.fleet.replicas.length);
    $('updated').textContent = 'updated ' + new Date(s.generated_at).toLocaleTimeString() + ' by ' + s.replica;
    const errors = $('errors');
    errors.hidden = s.errors.length === 0;
    errors.textContent = s.errors.join('; ');

    rows('deployments', s.deployments, (row, d) => {
      row.dataset.id = d.id;
      cell(row, d.model_group);
      cell(row, d.id, 'id', d.id, 'id').title = d.provider + '/' + d.model + ' at ' + d.api_base;
      fill(row, d.requests_in_window, d.rpm_limit, 'requests');
      fill(row, d.tokens_in_window, d.tpm_limit, 'tokens');
      cell(row, fmt(d.in_flight) + (d.max_parallel ? ' / ' + fmt(d.max_parallel) : ''), 'in_flight', d.in_flight, 'num');
      cell(row, fmt(d.ok), 'ok', d.ok, 'num');
      cell(row, fmt(d.failed), 'failed', d.failed, 'num');
      const state = d.cooldown_ms > 0
        ? cell(row, 'cooling down ' + seconds(d.cooldown_ms) + (d.cooldown_reason ? ': ' + d.cooldown_reason : ''), 'state', 'cooldown', 'cool')
        : cell(row, 'available', 'state', 'available', 'ok');
      state.dataset.cooldownMs = String(d.cooldown_ms);
      state.dataset.reason = d.cooldown_reason || '';
    });
    rows('replicas', s.fleet.replicas, (row, r) => {
      row.dataset.id = r.id;
      cell(row, r.id + (r.id === s.replica ? ' (this page)' : ''), 'id', r.id, 'id');
      cell(row, r.version || '—');
      cell(row, r.mode || '—', 'mode', r.mode);
      cell(row, r.started_at ? new Date(r.started_at).toLocaleTimeString() : '—');
      cell(row, fmt(r.in_flight), 'in_flight', r.in_flight, 'num');
      cell(row, fmt(r.ok), 'ok', r.ok, 'num');
      cell(row, fmt(r.failed), 'failed', r.failed, 'num');
    });
    $('keys-total').textContent = s.keys.total > s.keys.shown.length ? s.keys.shown.length + ' newest of ' + s.keys.total : String(s.keys.total);
    rows('keys', s.keys.shown, (row, k) => {
      row.dataset.id = k.key_alias || k.key_name;
      cell(row, k.key_alias || '—');
      cell(row, k.key_name, 'key_name', k.key_name);
      cell(row, k.team_id || '—');
      const budget = cell(row, usd(k.spend) + (k.max_budget !== null ? ' / ' + usd(k.max_budget) : ''), 'spend', k.spend, 'num');
      budget.dataset.budget = k.max_budget === null ? '' : String(k.max_budget);
      cell(row, fmt(k.rpm_limit), 'rpm_limit', k.rpm_limit, 'num');
      cell(row, fmt(k.tpm_limit), 'tpm_limit', k.tpm_limit, 'num');
      const expired = k.expires !== null && Date.parse(k.expires) <= Date.now();
      const over = k.max_budget !== null && k.spend >= k.max_budget;
      cell(row, k.blocked ? 'blocked' : expired ? 'expired' : over ? 'over budget' : 'active', 'status');
    });
    $('teams-total').textContent = s.teams.total > s.teams.shown.length ? s.teams.shown.length + ' newest of ' + s.teams.total : String(s.teams.total);
    rows('teams', s.teams.shown, (row, t) => {
      row.dataset.id = t.team_id;
      cell(row, t.team_alias || t.team_id, 'team', t.team_id);
      cell(row, fmt(t.keys), 'keys', t.keys, 'num');
      const budget = cell(row, usd(t.spend) + (t.max_budget !== null ? ' / ' + usd(t.max_budget) : ''), 'spend', t.spend, 'num');
      budget.dataset.budget = t.max_budget === null ? '' : String(t.max_budget);
      cell(row, t.blocked ? 'blocked' : t.max_budget !== null && t.spend >= t.max_budget ? 'over budget' : 'active', 'status');
    });
  }

  function signIn(message) {
    clearTimeout(timer);
    sessionStorage.removeItem(STORE);
    $('fleet').hidden = true;
    $('sign-out').hidden = true;
    $('sign-in').hidden = false;
    const error = $('sign-in-error');
    error.hidden = !message;
    error.textContent = message || '';
    $('key').focus();
  }

  async function poll() {
    const key = sessionStorage.getItem(STORE);
    try {
      const res = await fetch('/fleet/state', {
        headers: key ? { authorization: 'Bearer ' + key } : {},
        cache: 'no-store',
      });
      if (res.status === 401) return signIn(key ? 'That key may not read the fleet page.' : '');
      if (!res.ok) throw new Error('the gateway answered ' + res.status);
      render(await res.json());
      $('sign-in').hidden = true;
      $('fleet').hidden = false;
      $('sign-out').hidden = !key;
    } catch (error) {
      const errors = $('errors');
      errors.hidden = false;
      errors.textContent = 'Cannot read the fleet state: ' + error.message;
    }
    timer = setTimeout(poll, 1000);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('sign-in').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('key');
      sessionStorage.setItem(STORE, input.value.trim());
      input.value = '';
      clearTimeout(timer);
      poll();
    });
    $('sign-out').addEventListener('click', () => signIn(''));
    poll();
  });
})();
`;
