/**
 * What one request costs the proxy process, in CPU instructions (valgrind's callgrind) — the same
 * count whatever else the machine is doing, so a change on the hot path can be judged on a shared,
 * noisy machine where requests per second move ±10 % between runs. Each target runs under
 * `valgrind --tool=callgrind` with instrumentation off; it is warmed up (JIT, pools), then only the
 * measured requests are counted (callgrind_control toggles instrumentation), GC included:
 *   bare       bench/dist/bare-proxy.js (the floor)
 *   off        Fleetgate with the in-memory store
 *   on         Fleetgate with Redis (the scripts run in Redis: not counted here, see admission-callgrind)
 *   base       another build's Fleetgate, Redis on (--baseline DIR), for an A/B
 * The seed's ~16 KB body with a fresh uuid per request; fake-llm answers at once, natively.
 *
 *   node bench/dist/gateway-callgrind.js [--only bare,off,on,base] [--baseline DIR] [--strategy NAME]
 *                                        [--warmup 1500] [--requests 500] [--concurrency 1] [--keep DIR]
 * Needs valgrind (Debian: apt-get install valgrind). Under valgrind a request takes ~50× as long: the
 * defaults take about 3 minutes per target.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { API_KEY, configYaml, findRedis } from './gateway-bench.js';
import { locustBody } from './payload.js';
import {
  BENCH_DIST,
  freePort,
  GATEWAY_ENV_OVERRIDES,
  GATEWAY_MAIN,
  isMain,
  startFakeLlm,
  track,
} from './procs.js';
import { fmt, mdTable } from './stats.js';

type Key = 'bare' | 'off' | 'on' | 'base';
const KEYS: readonly Key[] = ['bare', 'off', 'on', 'base'];
const LABELS: Record<Key, string> = {
  bare: 'bare proxy',
  off: 'Fleetgate, Redis off',
  on: 'Fleetgate, Redis on',
  base: 'baseline build, Redis on',
};

export interface GatewayCallgrindRow {
  readonly key: Key;
  readonly label: string;
  /**
   * Instructions the proxy's main thread ran per request: JS, the GC's main-thread share, libuv, the
   * user side of syscalls. Helper threads (V8's optimising compiler, parallel GC) are left out of it:
   * under valgrind the compiler is still at work long after the warm-up a native run needs.
   */
  readonly perRequest: number;
  /** The same with every thread. */
  readonly allThreads: number;
}

interface Options {
  readonly only: readonly Key[];
  readonly baseline: string | undefined;
  readonly strategy: string | undefined;
  readonly warmup: number;
  readonly requests: number;
  readonly concurrency: number;
  readonly keep: string | undefined;
  readonly log: (line: string) => void;
}

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} not ready within ${ms / 1000} s under valgrind`);
}

/** Sends `n` requests, `concurrency` at a time; throws on any answer but 200. */
async function drive(pool: Pool, path: string, n: number, concurrency: number): Promise<void> {
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent++ < n) {
        const res = await pool.request({
          path,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
          body: locustBody(),
        });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text.slice(0, 200)}`);
      }
    }),
  );
}

async function measure(key: Key, fakeUrl: string, cfg: string, redisUrl: string | undefined, o: Options) {
  const dir = o.keep ? join(o.keep, key) : mkdtempSync(join(tmpdir(), 'fleetgate-gw-callgrind-'));
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const script =
    key === 'bare'
      ? [`${BENCH_DIST}bare-proxy.js`, '--port', String(port), '--upstream', `${fakeUrl}/chat/completions`]
      : [
          key === 'base' ? join(o.baseline!, 'apps/gateway/dist/main.js') : GATEWAY_MAIN,
          '--config',
          cfg,
          '--port',
          String(port),
          '--host',
          '127.0.0.1',
        ];
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
  for (const k of GATEWAY_ENV_OVERRIDES) delete env[k];
  if (key === 'on' || key === 'base') env['REDIS_URL'] = redisUrl;
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(dir, 'out.%p')}`,
      process.execPath,
      ...script,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'], env },
  );
  const stop = track(child, 5_000);
  const origin = `http://127.0.0.1:${port}`;
  const pool = new Pool(origin, {
    connections: o.concurrency,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
  const path = key === 'bare' ? '/chat/completions' : '/v1/chat/completions';
  try {
    await until(LABELS[key], 180_000, async () => {
      const res = await pool.request({ path: key === 'bare' ? '/' : '/health/readiness', method: 'GET' });
      await res.body.dump();
      return key === 'bare' || res.statusCode === 200;
    });
    o.log(`${LABELS[key]}: up under valgrind (pid ${child.pid}), ${o.warmup} warm-up requests`);
    await drive(pool, path, o.warmup, o.concurrency);
    // With --separate-threads each dump is one file per thread; the main thread's end in -01.
    const counted = () => {
      execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
      let main = 0;
      let all = 0;
      for (const f of readdirSync(dir)) {
        const n = Number(/^totals: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1] ?? 0);
        all += n;
        if (f.endsWith('-01')) main += n;
      }
      return { main, all };
    };
    const before = counted();
    execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
    await drive(pool, path, o.requests, o.concurrency);
    execFileSync('callgrind_control', ['-i', 'off', String(child.pid)], { stdio: 'ignore' });
    const after = counted();
    const perRequest = (after.main - before.main) / o.requests;
    const allThreads = (after.all - before.all) / o.requests;
    o.log(
      `${LABELS[key]}: ${fmt(perRequest)} instructions per request (${fmt(allThreads)} with helper threads)`,
    );
    return { key, label: LABELS[key], perRequest, allThreads };
  } finally {
    await pool.close();
    child.kill('SIGKILL');
    await stop();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

export async function runGatewayCallgrind(o: Options): Promise<GatewayCallgrindRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-gw-callgrind-cfg-'));
  const fake = await startFakeLlm(0);
  try {
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, configYaml(fake.url, `callgrind-${process.pid}`, o.strategy));
    let redisUrl: string | undefined;
    if (o.only.some((k) => k === 'on' || k === 'base')) {
      const found = await findRedis();
      if (!found.url) throw new Error(`targets on/base need Redis: ${found.reason}`);
      redisUrl = found.url;
    }
    const rows: GatewayCallgrindRow[] = [];
    for (const key of o.only) rows.push(await measure(key, fake.url, cfg, redisUrl, o));
    return rows;
  } finally {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function gatewayCallgrindReport(rows: readonly GatewayCallgrindRow[], o: Options): string {
  const bare = rows.find((r) => r.key === 'bare')?.perRequest;
  return [
    `### Proxy instructions per request (callgrind; ${o.requests} requests counted after ${o.warmup} warm-up, ${o.concurrency} at a time${o.strategy ? `, ${o.strategy}` : ''})`,
    '',
    mdTable(
      ['target', 'main-thread instructions per request', '÷ bare proxy', 'all threads (incl. JIT compiler)'],
      rows.map((r) => [
        r.label,
        fmt(r.perRequest),
        bare ? `${fmt(r.perRequest / bare, 2)}×` : '—',
        fmt(r.allThreads),
      ]),
    ),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: 'bare,off,on' },
      baseline: { type: 'string' },
      strategy: { type: 'string' },
      warmup: { type: 'string', default: '1500' },
      requests: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '1' },
      keep: { type: 'string' },
    },
  });
  const only = values.only.split(',').map((k) => {
    if (!KEYS.includes(k as Key)) throw new Error(`--only: unknown target ${k} (${KEYS.join(', ')})`);
    return k as Key;
  });
  if (only.includes('base') && !values.baseline) throw new Error('target base needs --baseline DIR');
  const options: Options = {
    only,
    baseline: values.baseline,
    strategy: values.strategy,
    warmup: Number(values.warmup),
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    keep: values.keep,
    log: (line) => console.error(line),
  };
  const rows = await runGatewayCallgrind(options);
  console.log(gatewayCallgrindReport(rows, options));
}
