/**
 * The gateway benchmark: the same load, measured four ways in one run, against one fake upstream:
 *   direct   → fake-llm itself (what the client would see with no proxy at all)
 *   bare     → bench/dist/bare-proxy.js (parse once, set model, forward: the floor)
 *   bare-redis → the same with one Redis INCR per request (the floor of a quota shared in Redis; only
 *              with --only)
 *   Fleetgate, Redis off (in-memory fleet store)
 *   Fleetgate, Redis on  (REDIS_URL; admission and settlement are Redis scripts)
 * Each with a closed loop (saturation) and an open loop (fixed rate, latency from schedule). The load
 * generator runs in its own process; CPU per request is read from /proc for the proxy, the fake
 * upstream and (INFO cpu) Redis across the measured interval.
 *
 *   node bench/dist/gateway-bench.js [--connections 64] [--duration 10] [--rate 500] [--warmup 2] [--prewarm 10] [--no-redis]
 *                                    [--only direct,bare,bare-redis,off,on,vkey,tkey,base] [--rounds 5] [--open-rounds N]
 *                                    [--strategy NAME] [--baseline DIR]
 * `--strategy` sets `router_settings.routing_strategy` in the generated config; `--baseline DIR` adds
 * another build's gateway (DIR/apps/gateway/dist/main.js, Redis on) as the target `base`, measured
 * in the same interleaved rounds, so a change is compared with what it replaces on the same machine
 * at the same moment.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { treeCpuMicros } from './cpu.js';
import { type LoadOptions, type LoadResult, runLoadInChild } from './load.js';
import { locustBody } from './payload.js';
import {
  isMain,
  type Started,
  smoke,
  startBareProxy,
  startFakeLlm,
  startGateway as startFleetgate,
} from './procs.js';
import { fmt, mdTable } from './stats.js';

export interface GatewayBenchOptions {
  readonly connections: number;
  readonly durationS: number;
  readonly rate: number;
  readonly warmupS: number;
  /** Seconds of closed-loop load on every target before the first round (JIT warm-up). @default 0 */
  readonly prewarmS?: number | undefined;
  /**
   * Closed-loop rounds. Each round measures every target in turn with all of them running, and the
   * ratios are the medians of the per-round ratios: a noisy neighbour slowing the machine for a few
   * seconds then hits one round of every target, not one target of the run. @default 3
   */
  readonly rounds?: number;
  /**
   * Open-loop rounds, interleaved like the closed ones (round i of every target back to back); the
   * tail figures are medians over rounds. @default 1
   */
  readonly openRounds?: number | undefined;
  /** Only these targets (e.g. on, vkey, tkey for the virtual-key piece). @default all but base */
  readonly only?: readonly TargetKey[] | undefined;
  /** `router_settings.routing_strategy` for Fleetgate's config. @default none (simple-shuffle) */
  readonly strategy?: string | undefined;
  /** Another build's root (with apps/gateway/dist/main.js): the `base` target, Redis on. */
  readonly baseline?: string | undefined;
  /** Redis for the "Redis on" variant; undefined skips it. */
  readonly redisUrl: string | undefined;
  /** Why Redis is skipped, for the report. */
  readonly redisSkipReason?: string | undefined;
  readonly log: (line: string) => void;
}

export interface Measured {
  readonly load: LoadResult;
  /** CPU µs per completed request, over the measured interval. */
  readonly proxyCpu: number | undefined;
  readonly fakeCpu: number;
  readonly redisCpu: number | undefined;
}

export type TargetKey = 'direct' | 'bare' | 'bare-redis' | 'off' | 'on' | 'vkey' | 'tkey' | 'base';
export const TARGET_KEYS: readonly TargetKey[] = [
  'direct',
  'bare',
  'bare-redis',
  'off',
  'on',
  'vkey',
  'tkey',
  'base',
];

/** The targets served by the Redis-on Fleetgate (`base` is another build's, started beside it). */
const FLEETGATE_WITH_REDIS: readonly TargetKey[] = ['on', 'vkey', 'tkey', 'base'];

export interface TargetRun {
  readonly key: TargetKey;
  readonly label: string;
  /** The closed-loop round with the median throughput. */
  readonly closed: Measured;
  /** Every closed-loop round, in order (round i of every target ran back to back). */
  readonly rounds: Measured[];
  /** The open-loop round with the median p99. */
  readonly open: Measured;
  /** Every open-loop round, in order (interleaved like the closed ones). */
  readonly opens: Measured[];
}

export interface GatewayBenchResult {
  readonly options: Omit<GatewayBenchOptions, 'log'>;
  readonly runs: TargetRun[];
}

export const API_KEY = 'sk-1234';
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };

/** Fleetgate's config: the seed's, plus rpm/tpm high enough never to bind, so admission does real work. */
export function configYaml(fakeUrl: string, deploymentId: string, strategy?: string): string {
  return `model_list:
  - model_name: fake-openai-endpoint
    litellm_params:
      model: aiohttp_openai/any
      api_base: ${fakeUrl}/chat/completions
      api_key: "test"
      rpm: 100000000
      tpm: 10000000000
      input_cost_per_token: 0.0000025
      output_cost_per_token: 0.00001
    model_info:
      id: ${deploymentId}
general_settings:
  master_key: ${API_KEY}
${strategy ? `router_settings:\n  routing_strategy: ${strategy}\n` : ''}`;
}

async function redisCpuMicros(redis: Redis | undefined): Promise<number | undefined> {
  if (!redis) return undefined;
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
}

/** Runs one load against `url`, reading the processes' CPU at the start and end of the measured interval. */
async function measure(
  options: GatewayBenchOptions,
  mode: 'closed' | 'open',
  url: string,
  fake: Started,
  proxy: Started | undefined,
  redis: Redis | undefined,
  apiKey: string = API_KEY,
): Promise<Measured> {
  const load: LoadOptions = {
    url,
    mode,
    connections: mode === 'closed' ? options.connections : 256,
    rate: options.rate,
    durationS: options.durationS,
    warmupS: options.warmupS,
    apiKey,
  };
  let proxy0 = 0;
  let proxy1 = 0;
  let fake0 = 0;
  let fake1 = 0;
  let redis0: Promise<number | undefined> = Promise.resolve(undefined);
  let redis1: Promise<number | undefined> = Promise.resolve(undefined);
  const result = await runLoadInChild(load, {
    onStart: () => {
      proxy0 = proxy ? treeCpuMicros(proxy.pid) : 0;
      fake0 = treeCpuMicros(fake.pid);
      redis0 = redisCpuMicros(redis);
    },
    onEnd: () => {
      proxy1 = proxy ? treeCpuMicros(proxy.pid) : 0;
      fake1 = treeCpuMicros(fake.pid);
      redis1 = redisCpuMicros(redis);
    },
  });
  const completed = result.ok + Object.values(result.errors).reduce((a, b) => a + b, 0);
  const [r0, r1] = await Promise.all([redis0, redis1]);
  return {
    load: result,
    proxyCpu: proxy ? (proxy1 - proxy0) / completed : undefined,
    fakeCpu: (fake1 - fake0) / completed,
    redisCpu: r0 !== undefined && r1 !== undefined ? (r1 - r0) / completed : undefined,
  };
}

interface Target {
  readonly key: TargetRun['key'];
  readonly label: string;
  readonly url: string;
  readonly proxy: Started | undefined;
  readonly redis: Redis | undefined;
  /** @default the master key */
  readonly apiKey?: string;
}

/**
 * The targets in round `r`'s order: each round starts one target later. On a shared VM a target's
 * place in a round moved its CPU per request by ~5 % (the same binary measured first and last), as
 * much as the builds being compared differed; rotating spreads that over every target.
 */
const rotated = <T>(xs: readonly T[], r: number): T[] => xs.map((_, i) => xs[(i + r) % xs.length]!);

const medianBy = (xs: Measured[], by: (m: Measured) => number = (m) => m.load.rps) =>
  [...xs].sort((a, b) => by(a) - by(b))[Math.floor(xs.length / 2)]!;

export async function runGatewayBench(options: GatewayBenchOptions): Promise<GatewayBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-bench-'));
  const started: Started[] = [];
  let redis: Redis | undefined;
  try {
    const fake = await startFakeLlm(0);
    started.push(fake);
    const upstream = `${fake.url}/chat/completions`;
    const config = join(dir, 'config.yaml');
    writeFileSync(config, configYaml(fake.url, `bench-${randomUUID().slice(0, 8)}`, options.strategy));
    if (options.strategy) options.log(`routing_strategy: ${options.strategy}`);
    options.log(`fake-llm at ${fake.url} (pid ${fake.pid}, latency 0 ms)`);
    // Not run unless asked for: the base target (needs a baseline build) and the bare proxy with Redis.
    const want = (k: TargetKey) =>
      options.only
        ? options.only.includes(k)
        : (k !== 'base' || options.baseline !== undefined) && k !== 'bare-redis';
    const targets: Target[] = [];
    const wantFleetgateWithRedis = FLEETGATE_WITH_REDIS.some(want);
    if (want('direct'))
      targets.push({
        key: 'direct',
        label: 'direct (fake-llm)',
        url: upstream,
        proxy: undefined,
        redis: undefined,
      });
    if (want('bare')) {
      const bare = await startBareProxy(upstream);
      started.push(bare);
      targets.push({
        key: 'bare',
        label: 'bare proxy',
        url: `${bare.url}/chat/completions`,
        proxy: bare,
        redis: undefined,
      });
    }
    if (want('off')) {
      const off = await startFleetgate({ config, logLevel: 'info' });
      started.push(off);
      targets.push({
        key: 'off',
        label: 'Fleetgate, Redis off',
        url: `${off.url}/chat/completions`,
        proxy: off,
        redis: undefined,
      });
    }
    if (options.redisUrl && (wantFleetgateWithRedis || want('bare-redis'))) {
      redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      if (want('bare-redis')) {
        const bareRedis = await startBareProxy(upstream, [], options.redisUrl);
        started.push(bareRedis);
        targets.push({
          key: 'bare-redis',
          label: 'bare proxy + Redis INCR',
          url: `${bareRedis.url}/chat/completions`,
          proxy: bareRedis,
          redis,
        });
      }
      if (want('base')) {
        if (!options.baseline) throw new Error('target base needs --baseline DIR');
        const main = join(options.baseline, 'apps/gateway/dist/main.js');
        const base = await startFleetgate({ config, logLevel: 'info', redisUrl: options.redisUrl, main });
        started.push(base);
        targets.push({
          key: 'base',
          label: 'baseline build, Redis on',
          url: `${base.url}/chat/completions`,
          proxy: base,
          redis,
        });
      }
      if (wantFleetgateWithRedis) {
        const on = await startFleetgate({ config, logLevel: 'info', redisUrl: options.redisUrl });
        started.push(on);
        targets.push({
          key: 'on',
          label: 'Fleetgate, Redis on',
          url: `${on.url}/chat/completions`,
          proxy: on,
          redis,
        });
        const admin = async (path: string, body: Record<string, unknown>) => {
          const res = await fetch(`${on.url}${path}`, {
            method: 'POST',
            headers: HEADERS,
            body: JSON.stringify(body),
          });
          if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
          return (await res.json()) as Record<string, unknown>;
        };
        // Limits and budgets that never bind: every window and account is checked and charged anyway.
        const unbound = { rpm_limit: 100_000_000, tpm_limit: 10_000_000_000, max_budget: 1_000_000 };
        // The same gateway, called with a virtual key: its windows and spend in the same admission call.
        if (want('vkey')) {
          const { key } = await admin('/key/generate', { key_alias: `bench-${randomUUID()}`, ...unbound });
          targets.push({
            key: 'vkey',
            label: 'Fleetgate, Redis on, virtual key',
            url: `${on.url}/chat/completions`,
            proxy: on,
            redis,
            apiKey: key as string,
          });
        }
        // A key in a team, issued to a user: the team's window is one more gate, the team's and the
        // user's records two more accounts — still the one admission call.
        if (want('tkey')) {
          const { team_id } = await admin('/team/new', { team_alias: 'bench', ...unbound });
          const { user_id } = await admin('/user/new', { auto_create_key: false });
          const { key } = await admin('/key/generate', { team_id, user_id, ...unbound });
          targets.push({
            key: 'tkey',
            label: 'Fleetgate, Redis on, virtual key in a team',
            url: `${on.url}/chat/completions`,
            proxy: on,
            redis,
            apiKey: key as string,
          });
        }
      }
    } else {
      options.log(
        `Redis targets (Fleetgate with Redis, bare proxy + Redis INCR): SKIPPED — ${options.redisSkipReason ?? 'no Redis configured'}`,
      );
    }
    for (const t of targets) {
      await smoke(t.url, locustBody(), { ...HEADERS, authorization: `Bearer ${t.apiKey ?? API_KEY}` });
      options.log(`${t.label}: ${t.proxy ? `pid ${t.proxy.pid}, ` : ''}${t.url}`);
    }

    // Before any round: each target under the closed loop for a while, so that the first round does
    // not measure V8 still optimising (a gateway has more code to warm up than the bare proxy; with
    // --trace-opt its compilations tail off only after ~10 s at full load).
    const prewarmS = options.prewarmS ?? 0;
    if (prewarmS > 0) {
      for (const t of targets) {
        await measure(
          { ...options, durationS: prewarmS, warmupS: 0 },
          'closed',
          t.url,
          fake,
          t.proxy,
          t.redis,
          t.apiKey,
        );
        options.log(`  pre-warmed ${t.label} for ${prewarmS} s`);
      }
    }
    const rounds = options.rounds ?? 3;
    const closed = new Map<TargetKey, Measured[]>(targets.map((t) => [t.key, []]));
    for (let r = 1; r <= rounds; r++) {
      for (const t of rotated(targets, r - 1)) {
        const m = await measure(options, 'closed', t.url, fake, t.proxy, t.redis, t.apiKey);
        closed.get(t.key)!.push(m);
        options.log(
          `  round ${r}/${rounds} closed loop, ${t.label}: ${fmt(m.load.rps)} req/s, ${fmt(m.proxyCpu)} proxy CPU-µs/req`,
        );
      }
    }
    const openRounds = options.openRounds ?? 1;
    const open = new Map<TargetKey, Measured[]>(targets.map((t) => [t.key, []]));
    for (let r = 1; r <= openRounds; r++) {
      for (const t of rotated(targets, r - 1)) {
        const m = await measure(options, 'open', t.url, fake, t.proxy, t.redis, t.apiKey);
        open.get(t.key)!.push(m);
        options.log(
          `  round ${r}/${openRounds} open loop ${options.rate} req/s, ${t.label}: p50 ${fmt(m.load.latency.p50, 2)} ms, p99 ${fmt(m.load.latency.p99, 2)} ms`,
        );
      }
    }
    const runs: TargetRun[] = [];
    for (const t of targets) {
      const all = closed.get(t.key)!;
      const opens = open.get(t.key)!;
      runs.push({
        key: t.key,
        label: t.label,
        closed: medianBy(all),
        rounds: all,
        open: medianBy(opens, (m) => m.load.latency.p99),
        opens,
      });
    }
    const { log: _log, ...rest } = options;
    return { options: rest, runs };
  } finally {
    for (const p of started.reverse()) await p.stop();
    redis?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

const verdict = (ok: boolean | undefined) => (ok === undefined ? '—' : ok ? 'PASS' : 'FAIL');
const errorsOf = (r: LoadResult) => {
  const e = Object.entries(r.errors);
  return e.length ? e.map(([k, v]) => `${k}×${v}`).join(' ') : '0';
};

/** Markdown: closed-loop table, open-loop table, ratios against the targets. */
export function gatewayReport(result: GatewayBenchResult): string {
  const { options, runs } = result;
  const by = (k: TargetKey) => runs.find((r) => r.key === k);
  const closedRows = runs.map((r) => [
    r.label,
    fmt(r.closed.load.rps),
    fmt(r.closed.load.latency.p50, 2),
    fmt(r.closed.load.latency.p99, 2),
    fmt(r.closed.proxyCpu),
    fmt(r.closed.fakeCpu),
    fmt(r.closed.redisCpu),
    fmt(r.closed.load.clientCpuUsPerReq),
    errorsOf(r.closed.load),
  ]);
  const openRows = runs.map((r) => [
    r.label,
    fmt(r.open.load.rps),
    fmt(r.open.load.latency.p50, 2),
    fmt(r.open.load.latency.p90, 2),
    fmt(r.open.load.latency.p99, 2),
    fmt(r.open.load.latency.max, 2),
    fmt(r.open.load.service?.p50, 2),
    fmt(r.open.proxyCpu),
    fmt(r.open.redisCpu),
    errorsOf(r.open.load),
    r.opens.map((m) => `${fmt(m.load.latency.p50, 2)}/${fmt(m.load.latency.p99, 1)}`).join(', '),
  ]);
  const direct = by('direct');
  const bare = by('bare');
  const off = by('off');
  const on = by('on');
  const vkey = by('vkey');
  const tkey = by('tkey');
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
  /** The median over rounds of a/b, each pair measured back to back in the same round. */
  const perRound = (
    a: TargetRun | undefined,
    b: TargetRun | undefined,
    pick: (m: Measured) => number | undefined,
  ) => {
    if (!a || !b) return undefined;
    const xs = a.rounds
      .map((m, i) => ratio(pick(m), b.rounds[i] ? pick(b.rounds[i]!) : undefined))
      .filter((x): x is number => x !== undefined)
      .sort((x, y) => x - y);
    return xs.length ? xs[Math.floor(xs.length / 2)] : undefined;
  };
  const tput = perRound(off, bare, (m) => m.load.rps);
  const cpu = perRound(off, bare, (m) => m.proxyCpu);
  const redisTput = perRound(on, off, (m) => m.load.rps);
  const redisCpu = perRound(on, off, (m) => m.proxyCpu);
  const keyTput = perRound(vkey, on, (m) => m.load.rps);
  const keyCpu = perRound(vkey, on, (m) => m.proxyCpu);
  const teamTput = perRound(tkey, on, (m) => m.load.rps);
  const teamCpu = perRound(tkey, on, (m) => m.proxyCpu);
  const added = (r: TargetRun | undefined) =>
    r && direct ? r.open.load.latency.p50 - direct.open.load.latency.p50 : undefined;
  const addedSvc = (r: TargetRun | undefined) =>
    r?.open.load.service && direct?.open.load.service
      ? r.open.load.service.p50 - direct.open.load.service.p50
      : undefined;
  const pct = (v: number | undefined) => (v === undefined ? '—' : `${fmt(v * 100, 1)} %`);
  const ms = (v: number | undefined) => (v === undefined ? '—' : `${fmt(v, 3)} ms`);
  /** The median over open-loop rounds of a − bare, each pair measured back to back in the same round. */
  const addedOverBare = (a: TargetRun, pick: (m: Measured) => number, ref = bare) => {
    if (!ref) return undefined;
    const xs = a.opens
      .map((m, i) => (ref.opens[i] ? pick(m) - pick(ref.opens[i]!) : undefined))
      .filter((x): x is number => x !== undefined)
      .sort((x, y) => x - y);
    return xs.length ? xs[Math.floor(xs.length / 2)] : undefined;
  };
  const signedMs = (v: number | undefined) => (v === undefined ? '—' : `${v >= 0 ? '+' : ''}${fmt(v, 2)} ms`);
  // Issue 11's targets, every Fleetgate variant against the bare proxy of the same round.
  const overBareRows = runs
    .filter((r) => r.key !== 'direct' && r.key !== 'bare')
    .map((r) => {
      const t = perRound(r, bare, (m) => m.load.rps);
      const p50 = addedOverBare(r, (m) => m.load.latency.p50);
      const p99 = addedOverBare(r, (m) => m.load.latency.p99);
      return [
        r.label,
        `${pct(t)} ${verdict(t !== undefined ? t >= 0.85 : undefined)}`,
        `${signedMs(p50)} ${verdict(p50 !== undefined ? p50 <= 0.5 : undefined)}`,
        `${signedMs(p99)} ${verdict(p99 !== undefined ? p99 <= 1 : undefined)}`,
        fmt(
          perRound(r, bare, (m) => m.proxyCpu),
          2,
        ),
      ];
    });
  // The same, against the floor of a shared quota: the bare proxy with one Redis INCR per request.
  const bareRedis = by('bare-redis');
  const overFloorRows = runs
    .filter((r) => FLEETGATE_WITH_REDIS.includes(r.key))
    .map((r) => [
      r.label,
      pct(perRound(r, bareRedis, (m) => m.load.rps)),
      signedMs(addedOverBare(r, (m) => m.load.latency.p50, bareRedis)),
      signedMs(addedOverBare(r, (m) => m.load.latency.p99, bareRedis)),
      fmt(
        perRound(r, bareRedis, (m) => m.proxyCpu),
        2,
      ),
    ]);
  const ratioRows = [
    [
      'Fleetgate (Redis off) / bare proxy, throughput',
      pct(tput),
      '≥ 80 %',
      verdict(tput !== undefined ? tput >= 0.8 : undefined),
    ],
    ['Fleetgate (Redis off) / bare proxy, CPU per request', cpu ? `${fmt(cpu, 2)}×` : '—', '—', 'info'],
    [
      'Redis on / Redis off, throughput',
      pct(redisTput),
      '≥ 85 %',
      on && off ? verdict(redisTput !== undefined && redisTput >= 0.85) : 'skipped',
    ],
    ['Redis on / Redis off, gateway CPU per request', redisCpu ? `${fmt(redisCpu, 2)}×` : '—', '—', 'info'],
    [
      'virtual key (rpm_limit) / master key, throughput (Redis on)',
      pct(keyTput),
      '≥ 90 %',
      vkey ? verdict(keyTput !== undefined && keyTput >= 0.9) : 'skipped',
    ],
    ['virtual key / master key, gateway CPU per request', keyCpu ? `${fmt(keyCpu, 2)}×` : '—', '—', 'info'],
    [
      'virtual key in a team (with a user) / master key, throughput (Redis on)',
      pct(teamTput),
      '≥ 90 %',
      tkey ? verdict(teamTput !== undefined && teamTput >= 0.9) : 'skipped',
    ],
    [
      'virtual key in a team / master key, gateway CPU per request',
      teamCpu ? `${fmt(teamCpu, 2)}×` : '—',
      '—',
      'info',
    ],
    [
      `added p50 at ${options.rate} req/s: Fleetgate (Redis off) − direct`,
      ms(added(off)),
      '< 1 ms',
      verdict(added(off) !== undefined ? added(off)! < 1 : undefined),
    ],
    [
      `added p50 at ${options.rate} req/s: Fleetgate (Redis on) − direct`,
      ms(added(on)),
      '< 1 ms',
      on ? verdict(added(on) !== undefined ? added(on)! < 1 : undefined) : 'skipped',
    ],
    [`added p50 at ${options.rate} req/s: bare proxy − direct`, ms(added(bare)), '— (the floor)', 'info'],
    [
      `added p50 service time (from actual send): Fleetgate (Redis off) / (Redis on) / bare − direct`,
      `${ms(addedSvc(off))} / ${ms(addedSvc(on))} / ${ms(addedSvc(bare))}`,
      '—',
      'info',
    ],
  ];
  return [
    `### Closed loop: ${options.connections} connections, ${options.durationS} s measured after ${options.warmupS} s warm-up${options.prewarmS ? ` (every target pre-warmed for ${options.prewarmS} s before the first round)` : ''}, ${runs[0]?.rounds.length ?? 0} interleaved rounds (the round with the median req/s is shown; ratios below are medians of per-round ratios)`,
    '',
    mdTable(
      [
        'target',
        'req/s',
        'p50 ms',
        'p99 ms',
        'proxy CPU-µs/req',
        'fake-llm CPU-µs/req',
        'Redis CPU-µs/req',
        'client CPU-µs/req',
        'errors',
      ],
      closedRows,
    ),
    '',
    `### Open loop: ${options.rate} req/s for ${options.durationS} s after ${options.warmupS} s warm-up, ${runs[0]?.opens.length ?? 0} interleaved rounds (latency from the scheduled send time; the round with the median p99 is shown)`,
    '',
    mdTable(
      [
        'target',
        'req/s',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        'svc p50 ms',
        'proxy CPU-µs/req',
        'Redis CPU-µs/req',
        'errors',
        'p50/p99 ms per round',
      ],
      openRows,
    ),
    '',
    ...(bare && overBareRows.length > 0
      ? [
          `### Against the bare proxy, round by round (issue 11: throughput ≥ 85 %; at ${options.rate} req/s p50 ≤ bare + 0.5 ms, p99 ≤ bare + 1 ms)`,
          '',
          mdTable(
            [
              'target',
              'req/s ÷ bare (closed, median of rounds)',
              `p50 − bare at ${options.rate} req/s (median of rounds)`,
              `p99 − bare at ${options.rate} req/s (median of rounds)`,
              'CPU/req ÷ bare (closed)',
            ],
            overBareRows,
          ),
          '',
        ]
      : []),
    ...(bareRedis && overFloorRows.length > 0
      ? [
          `### Against the bare proxy with Redis (one INCR per request, auto-pipelined: the floor of any gateway that admits against numbers shared in Redis), round by round`,
          '',
          mdTable(
            [
              'target',
              'req/s ÷ bare + Redis (closed)',
              `p50 − bare + Redis at ${options.rate} req/s`,
              `p99 − bare + Redis at ${options.rate} req/s`,
              'CPU/req ÷ bare + Redis (closed)',
            ],
            overFloorRows,
          ),
          '',
        ]
      : []),
    '### Ratios (compare within this run only)',
    '',
    mdTable(['ratio', 'value', 'target', 'verdict'], ratioRows),
    '',
    'Fleetgate runs with `LOG_LEVEL=info` (one JSON log line per request, stdout to /dev/null) and a deployment ' +
      'with `rpm: 100000000`, `tpm: 10000000000` in both variants, so admission does real work; the only ' +
      'difference between "Redis off" and "Redis on" is the store (in-memory vs `REDIS_URL`). ' +
      "Payload: the seed locustfile's (~16 KB, fresh uuid per request). fake-llm answers with 0 ms latency." +
      (options.strategy ? ` \`router_settings.routing_strategy: ${options.strategy}\`.` : '') +
      (options.baseline ? ` Baseline build: ${options.baseline}.` : '') +
      (on ? '' : ` Redis on: skipped (${options.redisSkipReason ?? 'no Redis'}).`),
  ].join('\n');
}

export function parseGatewayArgs(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      connections: { type: 'string', default: '64' },
      duration: { type: 'string', default: '10' },
      rate: { type: 'string', default: '500' },
      warmup: { type: 'string', default: '2' },
      prewarm: { type: 'string', default: '10' },
      'no-redis': { type: 'boolean', default: false },
      rounds: { type: 'string', default: '5' },
      'open-rounds': { type: 'string' },
      only: { type: 'string' },
      strategy: { type: 'string' },
      baseline: { type: 'string' },
    },
  });
  const only = values.only?.split(',').map((k) => k.trim()) as TargetKey[] | undefined;
  for (const k of only ?? []) {
    if (!TARGET_KEYS.includes(k)) throw new Error(`--only takes ${TARGET_KEYS.join(', ')}; got "${k}"`);
  }
  return {
    rounds: Number(values.rounds),
    connections: Number(values.connections),
    durationS: Number(values.duration),
    rate: Number(values.rate),
    warmupS: Number(values.warmup),
    prewarmS: Number(values.prewarm),
    noRedis: values['no-redis'],
    only,
    openRounds: Number(values['open-rounds'] ?? values.rounds),
    strategy: values.strategy,
    baseline: values.baseline,
  };
}

/** REDIS_URL (or redis://127.0.0.1:6379) if it answers PING within a second, else why not. */
export async function findRedis(): Promise<{ url: string | undefined; reason: string | undefined }> {
  const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return { url, reason: undefined };
  } catch (error) {
    return { url: undefined, reason: `no Redis answers at ${url} (${(error as Error).message})` };
  } finally {
    client.disconnect();
  }
}

if (isMain(import.meta.url)) {
  const args = parseGatewayArgs(process.argv.slice(2));
  const redis = args.noRedis ? { url: undefined, reason: '--no-redis' } : await findRedis();
  const result = await runGatewayBench({
    ...args,
    redisUrl: redis.url,
    redisSkipReason: redis.reason,
    log: (line) => console.log(line),
  });
  console.log(`\n${gatewayReport(result)}`);
}
