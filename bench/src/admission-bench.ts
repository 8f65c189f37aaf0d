/**
 * Admission script throughput against a real Redis: 64 concurrent callers on ONE ioredis client
 * (the gateway's client settings: auto-pipelining on), each calling in a loop for a few seconds:
 *   1. INCR_LUA (INCR + PEXPIRE): the yardstick, the cheapest useful script
 *   2. admit() with 4 candidates, the first with room — one admission per script call (the target)
 *   3. the worst case: #1 cooling down, #2 at its rpm limit, #3 at its tpm limit, #4 with room, so
 *      the script checks all four and reserves in #4 — one admission per call
 *   4. admit() then settle() (actual tokens, 'success') per request, the gateway's way: the
 *      admissions of a tick share a script call, and so do the settlements
 *   5, 6. diagnostics: admit() with only the candidate with room; with 3 cooling down + 1 with room
 *   7. 2 again, the gateway's way (batched per tick)
 * Reports calls/s, latency per call, and Redis CPU per call (INFO cpu). Keys live in a random
 * namespace and are deleted afterwards.
 *
 *   node bench/dist/admission-bench.js [--callers 64] [--duration 5] [--warmup 1]   (REDIS_URL or redis://127.0.0.1:6379)
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createRedisStore, INCR_LUA, type Subject } from '@fleetgate/ratelimit';
import { Redis, type RedisOptions } from 'ioredis';
import { findRedis } from './gateway-bench.js';
import { isMain } from './procs.js';
import { fmt, type LatencySummary, mdTable, Samples } from './stats.js';

export interface AdmissionBenchOptions {
  readonly redisUrl: string;
  readonly callers: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly log: (line: string) => void;
}

export interface Phase {
  readonly name: string;
  /** Loop iterations per second (one script call, or admit + settle). */
  readonly perSecond: number;
  /** Script calls (EVALSHA) per iteration; 0 when admissions are batched (a call serves many). */
  readonly scriptsPerIteration: number;
  readonly latency: LatencySummary;
  /** Redis CPU per iteration (µs), from INFO cpu. */
  readonly redisCpuUs: number;
  /** Harness (client) CPU per iteration (µs). */
  readonly clientCpuUs: number;
  /** Admissions that did not pick the 4th candidate, or failed calls. */
  readonly anomalies: number;
}

export interface AdmissionBenchResult {
  readonly options: Omit<AdmissionBenchOptions, 'log'>;
  readonly clientSettings: string;
  readonly phases: Phase[];
}

/** The gateway's ioredis settings (apps/gateway/src/fleet/redis-client.ts), with a roomier timeout. */
const CLIENT_OPTIONS: RedisOptions = {
  enableAutoPipelining: true,
  enableOfflineQueue: true,
  maxRetriesPerRequest: 1,
  commandTimeout: 5_000,
  connectTimeout: 2_000,
  lazyConnect: true,
};
const CLIENT_SETTINGS =
  'one ioredis client, enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout 5 s (the gateway uses the same client options, with its own timeout)';

const TOKENS = 4_100; // ≈ the gateway's estimate for the locustfile payload (16.4 KB / 4)
const ACTUAL_TOKENS = 4_104; // what fake-llm reports for it (prompt + 16 completion tokens)

async function redisCpu(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
}

/** `callers` loops of `call` for warm-up + duration; counts and times the iterations inside the window. */
async function phase(
  client: Redis,
  options: AdmissionBenchOptions,
  name: string,
  scriptsPerIteration: number,
  call: () => Promise<boolean>,
): Promise<Phase> {
  const latency = new Samples();
  let anomalies = 0;
  let measuring = false;
  let stopped = false;
  let count = 0;
  const worker = async () => {
    while (!stopped) {
      const s = performance.now();
      let ok = false;
      try {
        ok = await call();
      } catch {
        ok = false;
      }
      if (!measuring) continue;
      count++;
      latency.push(performance.now() - s);
      if (!ok) anomalies++;
    }
  };
  const workers = Array.from({ length: options.callers }, worker);
  await new Promise((r) => setTimeout(r, options.warmupS * 1000));
  const cpu0 = await redisCpu(client);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, options.durationS * 1000));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const clientUsed = process.cpuUsage(client0);
  const n = count;
  stopped = true;
  await Promise.all(workers);
  const cpu1 = await redisCpu(client);
  const result: Phase = {
    name,
    perSecond: n / seconds,
    scriptsPerIteration,
    latency: latency.summary(),
    // INFO is read once more after the callers drained: the few in-flight calls are noise at this scale.
    redisCpuUs: (cpu1 - cpu0) / n,
    clientCpuUs: (clientUsed.user + clientUsed.system) / n,
    anomalies,
  };
  options.log(
    `  ${name}: ${fmt(result.perSecond)}/s, p50 ${fmt(result.latency.p50, 2)} ms, Redis ${fmt(result.redisCpuUs, 1)} µs/call`,
  );
  return result;
}

export async function runAdmissionBench(options: AdmissionBenchOptions): Promise<AdmissionBenchResult> {
  const namespace = `bench-${randomUUID().slice(0, 8)}`;
  const client = new Redis(options.redisUrl, CLIENT_OPTIONS);
  client.on('error', () => {});
  await client.connect();
  // One admission per script call, for the target (script calls/s against INCR's); and the
  // gateway's way, the admissions of a tick sharing one call, for what a fleet gets.
  const store = createRedisStore(client, { namespace, batchAdmissions: false });
  const batched = createRedisStore(client, { namespace });
  client.defineCommand('benchIncr', { lua: INCR_LUA, numberOfKeys: 1 });
  const incr = (client as unknown as { benchIncr(key: string, ttl: number): Promise<number> }).benchIncr.bind(
    client,
  );
  const prefix = store.keys.prefix;
  const incrKey = `${prefix}bench:incr`;
  const cooling: Subject = { id: 'd:cooling', limits: { rpm: 100_000_000, tpm: 10_000_000_000 } };
  const rpmFull: Subject = { id: 'd:rpm-full', limits: { rpm: 100, tpm: 10_000_000_000 } };
  const tpmFull: Subject = { id: 'd:tpm-full', limits: { rpm: 100_000_000, tpm: 100_000 } };
  const open: Subject = { id: 'd:open', limits: { rpm: 100_000_000, tpm: 10_000_000_000 } };
  const candidates = [cooling, rpmFull, tpmFull, open];
  let lease = 0;
  /** Puts #1–#3 in the state the benchmark needs (again before each phase: windows are 60 s). */
  const prepare = async () => {
    await store.coolDown(cooling.id, 600_000);
    for (;;) {
      const a = await store.admit({ candidates: [rpmFull], tokens: 1, leaseId: `prep:${lease++}` });
      if (!a.admitted) break;
    }
    for (;;) {
      const a = await store.admit({ candidates: [tpmFull], tokens: TOKENS, leaseId: `prep:${lease++}` });
      if (!a.admitted) break;
    }
    const a = await store.admit({ candidates, tokens: TOKENS, leaseId: `prep:${lease++}` });
    if (!a.admitted || a.index !== 3) throw new Error('admission bench setup: expected the 4th candidate');
  };
  const phases: Phase[] = [];
  try {
    options.log(`namespace ${namespace}; ${options.callers} callers, ${options.durationS} s per phase`);
    phases.push(
      await phase(
        client,
        options,
        'INCR_LUA (INCR + PEXPIRE)',
        1,
        async () => (await incr(incrKey, 60_000)) > 0,
      ),
    );
    const fresh = [
      open,
      { ...open, id: 'd:open-2' },
      { ...open, id: 'd:open-3' },
      { ...open, id: 'd:open-4' },
    ];
    phases.push(
      await phase(client, options, 'admit, 4 candidates (the first has room)', 1, async () => {
        const a = await store.admit({ candidates: fresh, tokens: TOKENS, leaseId: `l:${lease++}` });
        return a.admitted && a.index === 0;
      }),
    );
    await prepare();
    phases.push(
      await phase(client, options, 'admit, 4 candidates (worst case: walks to the 4th)', 1, async () => {
        const a = await store.admit({ candidates, tokens: TOKENS, leaseId: `l:${lease++}` });
        return a.admitted && a.index === 3;
      }),
    );
    await prepare();
    phases.push(
      await phase(client, options, 'admit + settle per request (batched, as the gateway)', 0, async () => {
        const a = await batched.admit({ candidates, tokens: TOKENS, leaseId: `l:${lease++}` });
        if (!a.admitted) return false;
        await batched.settle(a.ticket, ACTUAL_TOKENS, 'success');
        return a.index === 3;
      }),
    );
    // Diagnostics: where the cost of the 4-candidate walk comes from.
    phases.push(
      await phase(client, options, 'diagnostic: admit, 1 candidate with room', 1, async () => {
        const a = await store.admit({ candidates: [open], tokens: TOKENS, leaseId: `l:${lease++}` });
        return a.admitted;
      }),
    );
    const cooling3 = [cooling, { ...cooling, id: 'd:cooling-2' }, { ...cooling, id: 'd:cooling-3' }, open];
    await store.coolDown('d:cooling-2', 600_000);
    await store.coolDown('d:cooling-3', 600_000);
    await store.coolDown(cooling.id, 600_000);
    phases.push(
      await phase(client, options, 'diagnostic: admit, 3 cooling down + 1 with room', 1, async () => {
        const a = await store.admit({ candidates: cooling3, tokens: TOKENS, leaseId: `l:${lease++}` });
        return a.admitted && a.index === 3;
      }),
    );
    // Subjects of its own: at over 100,000 admissions a second of 4,100 tokens, the phases before
    // would have filled d:open's tpm (10 G a minute) within this one.
    const unused = fresh.map((s, i) => ({ ...s, id: `d:batched-${i + 1}` }));
    phases.push(
      await phase(
        client,
        options,
        'admit, 4 candidates, first has room (batched, as the gateway)',
        0,
        async () => {
          const a = await batched.admit({ candidates: unused, tokens: TOKENS, leaseId: `l:${lease++}` });
          return a.admitted && a.index === 0;
        },
      ),
    );
  } finally {
    await batched.close();
    await store.close();
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
    options.log(`  cleaned up ${deleted} keys under ${prefix}`);
    await client.quit();
  }
  const { log: _log, ...rest } = options;
  return { options: rest, clientSettings: CLIENT_SETTINGS, phases };
}

export function admissionReport(result: AdmissionBenchResult): string {
  const [incr, admit, walk, both, one, cool, gatewayWay] = result.phases;
  const rows = result.phases.map((p) => [
    p.name,
    fmt(p.perSecond),
    p.scriptsPerIteration > 0 ? fmt(p.perSecond * p.scriptsPerIteration) : '—',
    fmt(p.latency.p50, 2),
    fmt(p.latency.p99, 2),
    fmt(p.redisCpuUs, 1),
    fmt(p.clientCpuUs, 1),
    String(p.anomalies),
  ]);
  const ratio = (p: Phase | undefined) => (p && incr ? p.perSecond / incr.perSecond : undefined);
  const pct = (v: number | undefined) => (v === undefined ? '—' : `${fmt(v * 100, 1)} %`);
  const adm = ratio(admit);
  const ratioRows = [
    [
      'admit (4 candidates, the first has room) calls/s ÷ INCR_LUA calls/s',
      pct(adm),
      '≥ 40 %',
      adm === undefined ? '—' : adm >= 0.4 ? 'PASS' : 'FAIL',
    ],
    ['worst case: admit walking to the 4th ÷ INCR_LUA', pct(ratio(walk)), '—', 'info'],
    ['admit + settle requests/s (batched, as the gateway) ÷ INCR_LUA calls/s', pct(ratio(both)), '—', 'info'],
    [
      'admissions/s batched per tick (as the gateway) ÷ INCR_LUA calls/s',
      pct(ratio(gatewayWay)),
      '—',
      'info',
    ],
    ['diagnostic: admit with 1 candidate ÷ INCR_LUA', pct(ratio(one)), '—', 'info'],
    ['diagnostic: admit with 3 cooling + 1 ÷ INCR_LUA', pct(ratio(cool)), '—', 'info'],
    [
      'Redis CPU per call: admit ÷ INCR_LUA',
      admit && incr ? `${fmt(admit.redisCpuUs / incr.redisCpuUs, 1)}×` : '—',
      '—',
      'info',
    ],
  ];
  return [
    `### Admission script: ${result.options.callers} concurrent callers, ${result.options.durationS} s per phase after ${result.options.warmupS} s warm-up`,
    '',
    mdTable(
      [
        'phase',
        'iterations/s',
        'script calls/s',
        'p50 ms',
        'p99 ms',
        'Redis CPU-µs/iter',
        'client CPU-µs/iter',
        'anomalies',
      ],
      rows,
    ),
    '',
    mdTable(['ratio', 'value', 'target', 'verdict'], ratioRows),
    '',
    `Client: ${result.clientSettings}. Each admission reserves ${TOKENS} tokens (the gateway's estimate for the ` +
      'locustfile payload); candidates #2 and #3 are re-filled before each phase. Redis CPU from `INFO cpu` ' +
      '(user + sys) over the measured interval; "anomalies" counts failed calls and admissions that did not pick #4.',
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      callers: { type: 'string', default: '64' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
    },
  });
  const redis = await findRedis();
  if (!redis.url) {
    console.log(`admission bench: SKIPPED — ${redis.reason}`);
  } else {
    const result = await runAdmissionBench({
      redisUrl: redis.url,
      callers: Number(values.callers),
      durationS: Number(values.duration),
      warmupS: Number(values.warmup),
      log: (line) => console.log(line),
    });
    console.log(`\n${admissionReport(result)}`);
  }
}
