/**
 * The open-loop load of the scenario-2 benchmark, in its own process: `rate` requests a second for
 * `duration` seconds, spread round-robin over the targets (as an ingress spreads them over
 * replicas), each the seed locustfile's payload for `model`. Every request's completion time and
 * status is kept, so the harness can find the busiest minute and the latency of each kind of answer.
 *
 *   node bench/dist/scenario2-load.js --targets http://a,http://b --model gemini-vision --rate 500 --duration 75
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { locustBody } from './payload.js';
import { isMain } from './procs.js';
import { type LatencySummary, Samples } from './stats.js';

export interface Scenario2LoadOptions {
  readonly targets: readonly string[];
  readonly model: string;
  readonly rate: number;
  readonly durationS: number;
  readonly apiKey: string;
  /**
   * Seconds of the same load to `preludeModel` first, not recorded: the generator's connections to
   * the replicas open and every process reaches its steady state before the measured run starts.
   */
  readonly preludeS: number;
  readonly preludeModel: string;
}

export interface Scenario2LoadResult {
  readonly sent: number;
  /** Requests of the prelude (to the warmup group, not measured). */
  readonly preludeSent: number;
  /** Answers by status (or network error code). */
  readonly byStatus: Record<string, number>;
  /** The most 200s completed in any 60 s window, and when that window started (s from the first send). */
  readonly busiestMinute: { readonly ok: number; readonly fromS: number };
  /** 200s and 429s completed per second, from the first send. */
  readonly perSecond: ReadonlyArray<{ readonly ok: number; readonly limited: number }>;
  /** ms from the actual send, by kind of answer. */
  readonly okLatency: LatencySummary;
  readonly limitedLatency: LatencySummary;
  /** How late the generator sent (ms after the scheduled time), p50 and p99. */
  readonly sendLagP50: number;
  readonly sendLagP99: number;
  /** Load generator CPU per request, µs. */
  readonly clientCpuUsPerReq: number;
}

/** The most timestamps (ms, sorted) inside any window of `windowMs`, and where that window starts. */
export function busiestWindow(sorted: readonly number[], windowMs: number): { count: number; from: number } {
  let best = { count: 0, from: sorted[0] ?? 0 };
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    if (hi - lo + 1 > best.count) best = { count: hi - lo + 1, from: sorted[lo]! };
  }
  return best;
}

/** The prelude: the same rate to another model, answers awaited and dropped. */
async function prelude(
  o: Scenario2LoadOptions,
  pools: Pool[],
  headers: Record<string, string>,
): Promise<number> {
  const t0 = performance.now();
  const total = Math.round(o.rate * o.preludeS);
  const interval = 1000 / o.rate;
  const pending: Array<Promise<unknown>> = [];
  let n = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      while (n < total && t0 + n * interval <= performance.now()) {
        const pool = pools[n++ % pools.length]!;
        pending.push(
          pool
            .request({
              path: '/v1/chat/completions',
              method: 'POST',
              headers,
              body: locustBody(undefined, o.preludeModel),
            })
            .then((res) => res.body.dump({ limit: 1 << 20 }))
            .catch(() => undefined),
        );
      }
      if (n >= total) return resolve();
      setTimeout(tick, Math.max(0, Math.floor(t0 + n * interval - performance.now())));
    };
    tick();
  });
  await Promise.all(pending);
  return n;
}

export async function runScenario2Load(o: Scenario2LoadOptions): Promise<Scenario2LoadResult> {
  const pools = o.targets.map(
    (t) =>
      new Pool(t, {
        connections: 128,
        keepAliveTimeout: 60_000,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      }),
  );
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${o.apiKey}` };
  const okAt: number[] = [];
  const byStatus: Record<string, number> = {};
  const okLatency = new Samples();
  const limitedLatency = new Samples();
  const lag = new Samples();
  const seconds = Math.ceil(o.durationS) + 31;
  const perSecond = Array.from({ length: seconds }, () => ({ ok: 0, limited: 0 }));
  const preludeSent = o.preludeS > 0 ? await prelude(o, pools, headers) : 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const total = Math.round(o.rate * o.durationS);
  const interval = 1000 / o.rate;
  const pending: Array<Promise<void>> = [];
  let n = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (n < total && t0 + n * interval <= now) {
        const scheduled = t0 + n * interval;
        const pool = pools[n % pools.length]!;
        n++;
        const sent = performance.now();
        lag.push(sent - scheduled);
        pending.push(
          pool
            .request({
              path: '/v1/chat/completions',
              method: 'POST',
              headers,
              body: locustBody(undefined, o.model),
            })
            .then(async (res) => {
              await res.body.dump({ limit: 1 << 20 });
              return String(res.statusCode);
            })
            .catch((error: unknown) => (error as { code?: string }).code ?? 'network')
            .then((status) => {
              const done = performance.now();
              byStatus[status] = (byStatus[status] ?? 0) + 1;
              const slot = perSecond[Math.min(seconds - 1, Math.floor((done - t0) / 1000))]!;
              if (status === '200') {
                okAt.push(done - t0);
                okLatency.push(done - sent);
                slot.ok++;
              } else if (status === '429') {
                limitedLatency.push(done - sent);
                slot.limited++;
              }
            }),
        );
      }
      if (n >= total) return resolve();
      setTimeout(tick, Math.max(0, Math.floor(t0 + n * interval - performance.now())));
    };
    tick();
  });
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(pools.map((p) => p.close()));
  okAt.sort((a, b) => a - b);
  const busiest = busiestWindow(okAt, 60_000);
  const lastSecond = perSecond.findLastIndex((s) => s.ok + s.limited > 0);
  return {
    sent: n,
    preludeSent,
    byStatus,
    busiestMinute: { ok: busiest.count, fromS: busiest.from / 1000 },
    perSecond: perSecond.slice(0, lastSecond + 1),
    okLatency: okLatency.summary(),
    limitedLatency: limitedLatency.summary(),
    sendLagP50: lag.quantile(0.5),
    sendLagP99: lag.quantile(0.99),
    clientCpuUsPerReq: (cpu.user + cpu.system) / Math.max(1, n),
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string' },
      model: { type: 'string', default: 'gemini-vision' },
      rate: { type: 'string', default: '500' },
      duration: { type: 'string', default: '75' },
      'prelude-s': { type: 'string', default: '0' },
      'prelude-model': { type: 'string', default: 'warmup' },
    },
  });
  const result = await runScenario2Load({
    targets: (values.targets ?? '').split(',').filter(Boolean),
    model: values.model,
    rate: Number(values.rate),
    durationS: Number(values.duration),
    apiKey: process.env['API_KEY'] ?? 'sk-1234',
    preludeS: Number(values['prelude-s']),
    preludeModel: values['prelude-model'],
  });
  if (process.send) {
    process.send({ type: 'result', result });
    process.disconnect();
  } else console.log(JSON.stringify(result, null, 2));
}
