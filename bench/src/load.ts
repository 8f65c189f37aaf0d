/**
 * Load generator. Run it in its own process (the harness forks it with `runLoadInChild`), so it never
 * shares an event loop or a CPU budget with the system under test:
 *
 *   node bench/dist/load.js --url http://127.0.0.1:4000/chat/completions --mode closed --connections 64 --duration 10
 *   node bench/dist/load.js --url … --mode open --rate 500 --duration 10
 *
 * closed: C connections, each sending its next request as soon as the previous answer is read
 *         (saturation throughput). Latency is the request's own time.
 * open:   requests are scheduled at a fixed rate R regardless of answers; latency is measured from the
 *         scheduled send time, so a stalled target is charged for the requests it delayed
 *         (no coordinated omission). `svc` is the time from the actual send.
 *
 * Every request carries the seed locustfile's ~16 KB payload with a fresh uuid. A warm-up (default
 * 2 s) precedes the measured interval; under IPC the process announces the interval's start and end
 * (`{type:'start'}` / `{type:'end'}`) so the parent can read the target's CPU counters at those moments.
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { locustBody } from './payload.js';
import { BENCH_DIST, isMain, track } from './procs.js';
import { type LatencySummary, Samples } from './stats.js';

export interface LoadOptions {
  readonly url: string;
  readonly mode: 'closed' | 'open';
  /** closed: concurrent connections; open: the most connections the pool may open. */
  readonly connections: number;
  /** open: requests per second. */
  readonly rate: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly apiKey: string;
  /** The `model` the payload asks for; @default the locustfile's */
  readonly model?: string | undefined;
}

export interface LoadResult {
  readonly mode: 'closed' | 'open';
  readonly connections: number;
  readonly rate: number;
  /** Length of the measured interval (s). */
  readonly seconds: number;
  /** Requests answered 200 in the measured interval. */
  readonly ok: number;
  /** Everything else in the measured interval, by status (or network error code). */
  readonly errors: Record<string, number>;
  /** Answered 200s per second over the measured interval. */
  readonly rps: number;
  /** ms; open loop: from the scheduled send time. */
  readonly latency: LatencySummary;
  /** open loop only: ms from the actual send (service time), and how late sends left (p50, p99). */
  readonly service?: LatencySummary | undefined;
  readonly sendLagP50?: number | undefined;
  readonly sendLagP99?: number | undefined;
  /** CPU the load generator itself used per answered request (µs), to tell if it was the bottleneck. */
  readonly clientCpuUsPerReq: number;
}

export interface LoadHooks {
  /** The measured interval starts (after the warm-up) … */
  onStart?(): void;
  /** … and ends. */
  onEnd?(): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs the load in this process (use `runLoadInChild` from a harness). */
export async function runLoad(options: LoadOptions, hooks: LoadHooks = {}): Promise<LoadResult> {
  const target = new URL(options.url);
  const path = target.pathname + target.search;
  const pool = new Pool(target.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` };
  /** One request; resolves to the status, or to an error code for a network failure. */
  const send = async (): Promise<string> => {
    try {
      const res = await pool.request({
        path,
        method: 'POST',
        headers,
        body: locustBody(undefined, options.model),
      });
      await res.body.dump({ limit: 1 << 20 });
      return String(res.statusCode);
    } catch (error) {
      return (error as { code?: string }).code ?? 'network';
    }
  };
  try {
    return options.mode === 'closed'
      ? await closedLoop(options, send, hooks)
      : await openLoop(options, send, hooks);
  } finally {
    await pool.close().catch(() => pool.destroy());
  }
}

interface Window {
  start: number;
  end: number;
  cpuStart: NodeJS.CpuUsage;
  cpuEnd: NodeJS.CpuUsage;
}

/** Schedules the measured interval: [warm-up end, warm-up end + duration), firing the hooks. */
function measureWindow(options: LoadOptions, hooks: LoadHooks, t0: number) {
  const w: Window = {
    start: Number.POSITIVE_INFINITY,
    end: Number.POSITIVE_INFINITY,
    cpuStart: process.cpuUsage(),
    cpuEnd: process.cpuUsage(),
  };
  const started = new Promise<void>((resolve) =>
    setTimeout(
      () => {
        w.start = performance.now();
        w.cpuStart = process.cpuUsage();
        hooks.onStart?.();
        resolve();
      },
      Math.max(0, t0 + options.warmupS * 1000 - performance.now()),
    ),
  );
  const ended = started.then(
    () =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          w.end = performance.now();
          w.cpuEnd = process.cpuUsage(w.cpuStart);
          hooks.onEnd?.();
          resolve();
        }, options.durationS * 1000),
      ),
  );
  return { w, ended };
}

async function closedLoop(
  options: LoadOptions,
  send: () => Promise<string>,
  hooks: LoadHooks,
): Promise<LoadResult> {
  const latency = new Samples();
  const errors: Record<string, number> = {};
  let ok = 0;
  let stopped = false;
  const t0 = performance.now();
  const { w, ended } = measureWindow(options, hooks, t0);
  void ended.then(() => {
    stopped = true;
  });
  const worker = async () => {
    while (!stopped) {
      const s = performance.now();
      const status = await send();
      const e = performance.now();
      if (e < w.start || e >= w.end) continue;
      if (status === '200') {
        ok++;
        latency.push(e - s);
      } else errors[status] = (errors[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  await ended;
  return result(options, w, ok, errors, latency);
}

async function openLoop(
  options: LoadOptions,
  send: () => Promise<string>,
  hooks: LoadHooks,
): Promise<LoadResult> {
  const latency = new Samples();
  const service = new Samples();
  const lag = new Samples();
  const errors: Record<string, number> = {};
  let ok = 0;
  const interval = 1000 / options.rate;
  const t0 = performance.now();
  const measureFrom = t0 + options.warmupS * 1000;
  const stopAt = measureFrom + options.durationS * 1000;
  const { w, ended } = measureWindow(options, hooks, t0);
  const inFlight = new Set<Promise<void>>();
  const fire = (scheduled: number) => {
    const sent = performance.now();
    const p = send().then((status) => {
      const done = performance.now();
      if (scheduled < measureFrom) return;
      if (status === '200') {
        ok++;
        latency.push(done - scheduled);
        service.push(done - sent);
        lag.push(sent - scheduled);
      } else errors[status] = (errors[status] ?? 0) + 1;
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  // Fire every request whose time has come, then sleep until the next one is due. setTimeout wakes
  // up to ~1 ms late; that lateness is charged to the request (it is measured from its scheduled time).
  await new Promise<void>((resolve) => {
    let next = t0;
    const tick = () => {
      const now = performance.now();
      while (next <= now && next < stopAt) {
        fire(next);
        next += interval;
      }
      if (next >= stopAt) return resolve();
      setTimeout(tick, Math.max(0, Math.floor(next - performance.now())));
    };
    tick();
  });
  await ended;
  // Requests scheduled inside the window still count when they finish after it; give them 30 s.
  await Promise.race([Promise.allSettled([...inFlight]), sleep(30_000)]);
  if (inFlight.size > 0) errors['unanswered'] = inFlight.size;
  const r = result(options, w, ok, errors, latency);
  const svc = service.summary();
  return { ...r, service: svc, sendLagP50: lag.quantile(0.5), sendLagP99: lag.quantile(0.99) };
}

function result(
  options: LoadOptions,
  w: Window,
  ok: number,
  errors: Record<string, number>,
  latency: Samples,
): LoadResult {
  const seconds = (w.end - w.start) / 1000;
  return {
    mode: options.mode,
    connections: options.connections,
    rate: options.rate,
    seconds,
    ok,
    errors,
    rps: ok / seconds,
    latency: latency.summary(),
    clientCpuUsPerReq: ok ? (w.cpuEnd.user + w.cpuEnd.system) / ok : Number.NaN,
  };
}

type LoadMessage = { type: 'start' } | { type: 'end' } | { type: 'result'; result: LoadResult };

function toArgs(o: LoadOptions): string[] {
  return [
    '--url',
    o.url,
    '--mode',
    o.mode,
    '--connections',
    String(o.connections),
    '--rate',
    String(o.rate),
    '--duration',
    String(o.durationS),
    '--warmup',
    String(o.warmupS),
    ...(o.model ? ['--model', o.model] : []),
  ];
}

/**
 * Forks `load.js` with the options and relays its interval hooks; the child gets API_KEY via its
 * environment. Resolves with its result; the child is killed if anything goes wrong.
 */
export async function runLoadInChild(options: LoadOptions, hooks: LoadHooks = {}): Promise<LoadResult> {
  const child = fork(`${BENCH_DIST}load.js`, toArgs(options), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, API_KEY: options.apiKey },
  });
  const stop = track(child);
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      child.on('message', (m: LoadMessage) => {
        if (m.type === 'start') hooks.onStart?.();
        else if (m.type === 'end') hooks.onEnd?.();
        else if (m.type === 'result') resolve(m.result);
      });
      // A result message sent just before exiting may be delivered after 'exit': wait a moment.
      child.once('exit', (code, signal) =>
        setTimeout(
          () => reject(new Error(`load generator exited (${code ?? signal}) without a result`)),
          200,
        ),
      );
      child.once('error', reject);
    });
  } finally {
    await stop();
  }
}

export function parseLoadArgs(argv: readonly string[]): LoadOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      url: { type: 'string' },
      mode: { type: 'string', default: 'closed' },
      connections: { type: 'string', default: '64' },
      rate: { type: 'string', default: '500' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      model: { type: 'string' },
    },
  });
  if (!values.url) throw new Error('--url is required');
  if (values.mode !== 'closed' && values.mode !== 'open') throw new Error('--mode must be closed or open');
  const num = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  return {
    url: values.url,
    mode: values.mode,
    connections: Math.floor(num('connections', values.connections)),
    rate: num('rate', values.rate),
    durationS: num('duration', values.duration),
    warmupS: Number(values.warmup) >= 0 ? Number(values.warmup) : 2,
    apiKey: process.env['API_KEY'] ?? 'sk-1234',
    model: values.model,
  };
}

if (isMain(import.meta.url)) {
  const options = parseLoadArgs(process.argv.slice(2));
  if (process.send) {
    const send = (m: LoadMessage) => process.send!(m);
    const result = await runLoad(options, {
      onStart: () => send({ type: 'start' }),
      onEnd: () => send({ type: 'end' }),
    });
    send({ type: 'result', result });
    process.disconnect();
  } else {
    const result = await runLoad(options);
    console.log(JSON.stringify(result, null, 2));
  }
}
