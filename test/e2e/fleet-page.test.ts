import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { byStatus, openLoop } from '../support/load.js';
import {
  type FakeLlmProc,
  type GatewayProc,
  killAll,
  ROOT,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';
import { scrape } from '../support/prometheus.js';

/**
 * The live fleet page in Debian's headless Chromium, against two replicas sharing Redis under load:
 * what it shows must match what the replicas' /metrics say and what the upstream counted, and no
 * secret may ever reach the page. The screenshot is kept in test/artifacts/ (not committed).
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test/artifacts');
const MASTER = `sk-master-${randomUUID()}`;
const VIEWER = `sk-viewer-${randomUUID()}`;
const UPSTREAM_KEY = `sk-upstream-${randomUUID()}`;
const RPM = 300;
const VIEWPORT = { width: 1366, height: 768 };

let fake: FakeLlmProc;
let gateways: GatewayProc[];
let browser: Browser;
let page: Page;
let virtualKey: string;

function config(fakeUrl: string, namespace: string): string {
  const deployment = (group: string, id: string, prefix: string, limits: string) =>
    `  - model_name: ${group}
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${fakeUrl}/${prefix}/v1", api_key: ${UPSTREAM_KEY}, ${limits}input_cost_per_token: 0.00001, output_cost_per_token: 0.00002 }
    model_info: { id: ${id} }`;
  return `
model_list:
${deployment('gpt-4o-mini', 'deployment-a', 'a', `rpm: ${RPM}, tpm: 1000000, `)}
${deployment('gpt-4o-mini', 'deployment-b', 'b', `rpm: ${RPM}, `)}
${deployment('flaky', 'deployment-c', 'c', '')}
router_settings:
  cooldown_time: 120
general_settings:
  master_key: ${MASTER}
fleetgate_settings:
  redis_namespace: ${namespace}
  fleet_viewer_key: ${VIEWER}
`;
}

/** The value a page cell holds for the exact figure (`data-value`), by table, row id and field. */
async function cellValue(table: string, id: string, field: string): Promise<string | undefined> {
  const cell = page.locator(`#${table} tbody tr[data-id="${id}"] [data-field="${field}"]`);
  if ((await cell.count()) === 0) return undefined;
  return (await cell.getAttribute('data-value')) ?? undefined;
}
const num = async (table: string, id: string, field: string) => Number(await cellValue(table, id, field));

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  // Longer than the 250 ms between one load's requests to one replica (8 req/s over two replicas):
  // each replica always has a request in flight, whenever its once-a-second report is taken. At
  // 150 ms the reports could lock onto the gaps between requests (both cadences are multiples of
  // 250 ms) and show none in flight for the whole load.
  fake = await startFakeLlm(['--latency-ms', '400', '--rpm', `/a=${RPM}`, '--rpm', `/b=${RPM}`]);
  await fake.control({ prefix: '/c', failRate: 1, failStatus: 401 });
  const text = config(fake.url, `fleet-page-${randomUUID()}`);
  const env = { REDIS_URL: inject('redisUrl') };
  gateways = await Promise.all([startGateway({ config: text, env }), startGateway({ config: text, env })]);
  const team = await fetch(`${gateways[0]!.url}/team/new`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}` },
    body: JSON.stringify({ team_id: 'payments', team_alias: 'Payments', max_budget: 10 }),
  });
  expect(team.status).toBe(200);
  const generated = await fetch(`${gateways[0]!.url}/key/generate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}` },
    body: JSON.stringify({ key_alias: 'billing-app', team_id: 'payments', max_budget: 5 }),
  });
  virtualKey = ((await generated.json()) as { key: string }).key;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: VIEWPORT });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await killAll();
});

describe('the fleet page', () => {
  it('refuses a wrong key and signs in with the viewer key', async () => {
    await page.goto(`${gateways[0]!.url}/fleet`);
    await page.fill('#key', 'sk-wrong');
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#sign-in-error:not([hidden])');
    expect(await page.textContent('#sign-in-error')).toMatch(/may not read the fleet page/);
    await page.fill('#key', VIEWER);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#deployments tbody tr[data-id="deployment-a"]');
    expect(await page.inputValue('#key')).toBe('');
    // The viewer key reads the fleet page and nothing else.
    const models = await fetch(`${gateways[0]!.url}/v1/models`, {
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    expect(models.status).toBe(401);
  });

  it('shows the fleet live under load, and then numbers that match /metrics and the upstream', async () => {
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello fleet' }],
    });
    const targets = gateways.map((g) => g.url);
    const load = (key: string) =>
      openLoop({
        targets,
        path: '/v1/chat/completions',
        rate: 8,
        durationMs: 8_000,
        body,
        headers: { authorization: `Bearer ${key}` },
      });
    const running = Promise.all([load(MASTER), load(virtualKey)]);
    // Live: while the load runs, the page (not reloaded) shows requests in flight and a growing window.
    const seen = { inFlight: 0, windows: new Set<number>() };
    const until = Date.now() + 7_000;
    while (Date.now() < until) {
      seen.inFlight = Math.max(
        seen.inFlight,
        (await num('deployments', 'deployment-a', 'in_flight')) +
          (await num('deployments', 'deployment-b', 'in_flight')),
      );
      seen.windows.add(await num('deployments', 'deployment-a', 'requests'));
      await page.waitForTimeout(250);
    }
    expect(seen.inFlight).toBeGreaterThan(0);
    expect(seen.windows.size).toBeGreaterThan(3);
    expect(await cellValue('deployments', 'deployment-a', 'requests')).not.toBe('0');
    // A deployment answering 401 cools down at once; the page says why and for how long.
    const flaky = await fetch(`${gateways[1]!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: body.replace('gpt-4o-mini', 'flaky'),
    });
    expect(flaky.status).toBe(401);
    const results = (await running).flat();
    expect(byStatus(results)).toEqual({ 200: results.length });

    // Settled: wait until the page agrees with the upstream and the replicas' metrics.
    const settled = async () => {
      const stats = await fake.stats();
      const scrapes = await Promise.all(gateways.map((g) => scrape(g.url)));
      const metric = (name: string, labels: Record<string, string>) =>
        scrapes.reduce((n, s) => n + s.sum(name, labels), 0);
      const rows = [];
      for (const [id, prefix] of [
        ['deployment-a', '/a'],
        ['deployment-b', '/b'],
      ] as const) {
        rows.push({
          id,
          upstream: stats.byPrefix[prefix]?.accepted ?? 0,
          pageWindow: await num('deployments', id, 'requests'),
          pageOk: await num('deployments', id, 'ok'),
          metricsOk: metric('litellm_deployment_success_responses_total', { model_id: id }),
          pageInFlight: await num('deployments', id, 'in_flight'),
          metricsInFlight: metric('fleetgate_in_flight_requests', { model_id: id }),
          // The replica that admitted last saw the fewest left: limit − what the window holds.
          remaining: Math.min(
            ...scrapes.flatMap((s) =>
              s.select('litellm_remaining_requests', { model_id: id }).map((x) => x.value),
            ),
          ),
        });
      }
      return { rows, scrapes };
    };
    let state = await settled();
    const deadline = Date.now() + 15_000;
    const agree = (s: typeof state) =>
      s.rows.every(
        (r) =>
          r.pageWindow === r.upstream &&
          r.pageOk === r.upstream &&
          r.metricsOk === r.upstream &&
          r.pageInFlight === 0 &&
          r.metricsInFlight === 0,
      );
    while (!agree(state) && Date.now() < deadline) {
      await page.waitForTimeout(300);
      state = await settled();
    }
    for (const r of state.rows) {
      expect(r).toMatchObject({
        pageWindow: r.upstream,
        pageOk: r.upstream,
        metricsOk: r.upstream,
        pageInFlight: 0,
      });
      expect(r.metricsInFlight).toBe(0);
      expect(r.remaining).toBe(RPM - r.pageWindow);
    }
    const upstreamTotal = state.rows.reduce((n, r) => n + r.upstream, 0);
    expect(upstreamTotal).toBe(results.length);

    // The cooldown, its reason and time left.
    expect(await cellValue('deployments', 'deployment-c', 'state')).toBe('cooldown');
    const reason = await page.getAttribute(
      '#deployments tr[data-id="deployment-c"] [data-field="state"]',
      'data-reason',
    );
    expect(reason).toBe('upstream answered 401');
    const left = Number(
      await page.getAttribute(
        '#deployments tr[data-id="deployment-c"] [data-field="state"]',
        'data-cooldown-ms',
      ),
    );
    expect(left).toBeGreaterThan(100_000);
    expect(left).toBeLessThanOrEqual(120_000);
    expect(
      state.scrapes.reduce(
        (n, s) => n + s.sum('litellm_deployment_cooled_down_total', { model_id: 'deployment-c' }),
        0,
      ),
    ).toBe(1);

    // Replicas alive, as the page and the heartbeat gauge say.
    expect(await page.getAttribute('#alive', 'data-value')).toBe('2');
    for (const s of state.scrapes) expect(s.sum('fleetgate_live_replicas')).toBe(2);
    expect(await page.locator('#replicas tbody tr').count()).toBe(2);

    // The key's spend and budget: the page, the admin API and the budget gauge agree.
    const info = (await (
      await fetch(`${gateways[0]!.url}/key/info?key=${virtualKey}`, {
        headers: { authorization: `Bearer ${MASTER}` },
      })
    ).json()) as { info: { spend: number } };
    expect(info.info.spend).toBeGreaterThan(0);
    await expect.poll(() => num('keys', 'billing-app', 'spend'), { timeout: 3_000 }).toBe(info.info.spend);
    expect(
      await page.getAttribute('#keys tr[data-id="billing-app"] [data-field="spend"]', 'data-budget'),
    ).toBe('5');
    const hash = createHash('sha256').update(virtualKey).digest('hex');
    for (const s of state.scrapes)
      expect(s.sum('litellm_remaining_api_key_budget_metric', { hashed_api_key: hash })).toBeCloseTo(
        5 - info.info.spend,
        9,
      );
    // The team is charged what its only key spent; the page shows the team's own record.
    const teamInfo = (await (
      await fetch(`${gateways[1]!.url}/team/info?team_id=payments`, {
        headers: { authorization: `Bearer ${MASTER}` },
      })
    ).json()) as { team_info: { spend: number } };
    expect(teamInfo.team_info.spend).toBeCloseTo(info.info.spend, 12);
    await expect
      .poll(() => num('teams', 'payments', 'spend'), { timeout: 3_000 })
      .toBe(teamInfo.team_info.spend);
    expect(await page.getAttribute('#teams tr[data-id="payments"] [data-field="spend"]', 'data-budget')).toBe(
      '10',
    );
    expect(await num('teams', 'payments', 'keys')).toBe(1);
    for (const s of state.scrapes)
      expect(
        s.sum('litellm_remaining_team_budget_metric', { team: 'payments', team_alias: 'Payments' }),
      ).toBeCloseTo(10 - teamInfo.team_info.spend, 9);
  });

  it('never shows a secret, fits a laptop screen, and leaves a screenshot', async () => {
    const html = await page.content();
    const state = await (
      await fetch(`${gateways[1]!.url}/fleet/state`, { headers: { authorization: `Bearer ${VIEWER}` } })
    ).text();
    for (const secret of [MASTER, VIEWER, UPSTREAM_KEY, virtualKey]) {
      expect(html).not.toContain(secret);
      expect(state).not.toContain(secret);
    }
    const width = await page.evaluate('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(VIEWPORT.width);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'fleet-page.png');
    await page.screenshot({ path: file });
    const png = readFileSync(file);
    // A PNG of the viewport's size, and not a blank one (a blank page compresses to a few KB).
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([VIEWPORT.width, VIEWPORT.height]);
    expect(statSync(file).size).toBeGreaterThan(30_000);
  });
});
