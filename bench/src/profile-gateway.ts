/**
 * Profiles Fleetgate under one closed-loop run and lists the functions with the most self time.
 *   node bench/dist/profile-gateway.js [--redis | --bare] [--connections 64] [--duration 10] [--top 15] [--keep DIR]
 *                                      [--open [--rate 500]] [--main DIR/apps/gateway/dist/main.js]
 * Starts fake-llm and Fleetgate (`node --cpu-prof`, LOG_LEVEL=info, the gateway bench's config), runs the
 * load from a separate process, stops the gateway (SIGTERM, so V8 writes the profile) and prints the
 * top self-time functions and the self time per package. `--bare` profiles the bare proxy instead
 * (for comparison). `--open` profiles an open loop at `--rate` req/s instead: where the CPU goes when
 * requests arrive one at a time (each pays its own wake-ups), which is what the latency at 500 req/s
 * is made of. `--main` profiles another build's gateway (an A/B against a baseline checkout). Not part
 * of `npm run bench`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { findRedis } from './gateway-bench.js';
import { runLoadInChild } from './load.js';
import { isMain, ROOT, type Started, startBareProxy, startFakeLlm, startGateway } from './procs.js';
import { fmt, mdTable } from './stats.js';

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  readonly hitCount?: number;
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  /** The caller that accounts for most of this function's self time. */
  readonly caller: string;
  readonly ms: number;
  readonly share: number;
}

/** Where a script lives, short: `apps/gateway/src/…`, `node_modules/hono/…`, `node:internal/…`. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  if (path.startsWith(ROOT)) return path.slice(ROOT.length);
  return path || '(native)';
}

/** The package a script belongs to, for the per-package summary. */
function packageOf(url: string): string {
  const short = shortUrl(url);
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(short);
  if (nm) return nm[1]!;
  if (short.startsWith('node:')) return 'node internals';
  const ws = /^(apps|libs)\/([^/]+)/.exec(short);
  if (ws) return `${ws[1]}/${ws[2]}`;
  return short === '(native)' ? '(native / GC / idle)' : short;
}

/** Self time per function and per package from a V8 .cpuprofile. */
export function analyse(profile: CpuProfile): {
  functions: SelfTime[];
  packages: SelfTime[];
  totalMs: number;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (id: number | undefined) => {
    const n = id === undefined ? undefined : byId.get(id);
    if (!n) return '';
    const { functionName, url, lineNumber } = n.callFrame;
    return `${functionName || '(anonymous)'}${url ? ` (${shortUrl(url)}:${lineNumber + 1})` : ''}`;
  };
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    // timeDeltas[i] is the time since the previous sample; attribute the next delta to this sample.
    const us = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + us);
  }
  const fn = new Map<string, { name: string; where: string; us: number; callers: Map<string, number> }>();
  const pkg = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    // '(program)' is native time outside JS (the event loop, syscalls): busy. Only '(idle)' is not.
    if (name === '(idle)') continue;
    busy += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = fn.get(key) ?? { name, where, us: 0, callers: new Map<string, number>() };
    entry.us += us;
    const caller = label(parent.get(id));
    entry.callers.set(caller, (entry.callers.get(caller) ?? 0) + us);
    fn.set(key, entry);
    const p = name === '(garbage collector)' ? '(garbage collector)' : packageOf(url);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
  }
  const functions = [...fn.values()]
    .sort((a, b) => b.us - a.us)
    .map((f) => ({
      name: f.name,
      where: f.where,
      caller: [...f.callers.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '',
      ms: f.us / 1000,
      share: f.us / busy,
    }));
  const packages = [...pkg.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => ({ name, where: '', caller: '', ms: us / 1000, share: us / busy }));
  return { functions, packages, totalMs: busy / 1000 };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      redis: { type: 'boolean', default: false },
      bare: { type: 'boolean', default: false },
      connections: { type: 'string', default: '64' },
      duration: { type: 'string', default: '10' },
      top: { type: 'string', default: '15' },
      keep: { type: 'string' },
      open: { type: 'boolean', default: false },
      rate: { type: 'string', default: '500' },
      main: { type: 'string' },
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-prof-'));
  let fake: Started | undefined;
  let gateway: Started | undefined;
  try {
    const redisUrl = values.redis ? (await findRedis()).url : undefined;
    if (values.redis && !redisUrl) throw new Error('--redis: no Redis answers');
    fake = await startFakeLlm(0);
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `model_list:
  - model_name: fake-openai-endpoint
    litellm_params:
      model: aiohttp_openai/any
      api_base: ${fake.url}/chat/completions
      api_key: "test"
      rpm: 100000000
      tpm: 10000000000
    model_info:
      id: bench-${randomUUID().slice(0, 8)}
general_settings:
  master_key: sk-1234
`,
    );
    const nodeArgs = ['--cpu-prof', '--cpu-prof-dir', values.keep ?? dir];
    gateway = values.bare
      ? await startBareProxy(`${fake.url}/chat/completions`, nodeArgs)
      : await startGateway({ config, redisUrl, nodeArgs, main: values.main });
    const result = await runLoadInChild({
      url: `${gateway.url}/chat/completions`,
      mode: values.open ? 'open' : 'closed',
      connections: values.open ? 256 : Number(values.connections),
      rate: Number(values.rate),
      durationS: Number(values.duration),
      warmupS: 2,
      apiKey: 'sk-1234',
    });
    await gateway.stop();
    // Every request the proxy handled (warm-up included) reached the fake upstream.
    const stats = await request(`${fake.url}/__stats`);
    const handled = ((await stats.body.json()) as { requests: number }).requests;
    // The newest profile: a kept directory may hold earlier ones.
    const file = readdirSync(values.keep ?? dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort(
        (a, b) =>
          statSync(join(values.keep ?? dir, b)).mtimeMs - statSync(join(values.keep ?? dir, a)).mtimeMs,
      )[0];
    if (!file) throw new Error('no .cpuprofile written');
    const profile = JSON.parse(readFileSync(join(values.keep ?? dir, file), 'utf8')) as CpuProfile;
    const { functions, packages, totalMs } = analyse(profile);
    const top = Number(values.top);
    console.log(
      `${values.bare ? 'bare proxy' : `Fleetgate (${redisUrl ? 'Redis on' : 'Redis off'})`}, ${values.open ? `open loop ${values.rate} req/s` : `closed loop ${values.connections} connections`}: ` +
        `${fmt(result.rps)} req/s, p50 ${fmt(result.latency.p50, 2)} ms, p99 ${fmt(result.latency.p99, 2)} ms; profiled busy time ${fmt(totalMs)} ms over the process lifetime, ` +
        `${fmt(handled)} requests handled → ${fmt((totalMs * 1000) / handled)} µs/req (profiler overhead included)\n`,
    );
    console.log(
      mdTable(
        ['#', 'function', 'self ms', 'self %', 'µs/req', 'where', 'main caller'],
        functions
          .slice(0, top)
          .map((f, i) => [
            String(i + 1),
            f.name,
            fmt(f.ms),
            fmt(f.share * 100, 1),
            fmt((f.ms * 1000) / handled, 1),
            f.where,
            f.caller,
          ]),
      ),
    );
    console.log('');
    console.log(
      mdTable(
        ['package', 'self ms', 'self %', 'µs/req'],
        packages
          .slice(0, 15)
          .map((p) => [p.name, fmt(p.ms), fmt(p.share * 100, 1), fmt((p.ms * 1000) / handled, 1)]),
      ),
    );
  } finally {
    await gateway?.stop();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true }); // the config (and the profile, unless --keep)
  }
}
