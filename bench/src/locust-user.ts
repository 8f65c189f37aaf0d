/**
 * A Node port of the seed's locustfile (bench/locustfile.py), for machines without Python/locust:
 * each simulated user keeps one keep-alive connection (a requests.Session), sends
 * `Authorization: Bearer $API_KEY` (default sk-1234), POSTs the same payload to `chat/completions`
 * under --host, appends the body of every non-200 answer to error.txt, and waits 0.5–1 s
 * (`between(0.5, 1)`) before its next task. Users start at --spawn-rate per second up to --users;
 * the run stops after --run-time. Prints locust-like totals.
 *
 *   node bench/dist/locust-user.js --host http://127.0.0.1:4000/ --users 100 --spawn-rate 100 --run-time 60s
 */
import { setMaxListeners } from 'node:events';
import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { locustBody } from './payload.js';
import { isMain } from './procs.js';
import { fmt, mdTable, Samples } from './stats.js';

export interface LocustOptions {
  readonly host: string;
  readonly users: number;
  readonly spawnRate: number;
  readonly runTimeS: number;
  readonly apiKey: string;
  readonly errorFile: string;
  /** Called for every response (or connection error), for charts over time. @default none */
  readonly onSample?: ((sample: LocustSample) => void) | undefined;
  /** Called once per started user, for progress lines. @default none */
  readonly onUser?: ((users: number) => void) | undefined;
}

/** One request of one simulated user. */
export interface LocustSample {
  /** When it was sent, ms after the run started. */
  readonly at: number;
  readonly latencyMs: number;
  /** 0 for a connection error. */
  readonly status: number;
  /** The gateway's own time (`x-litellm-overhead-duration-ms`), when the answer carried it. */
  readonly overheadMs: number | undefined;
}

export interface LocustTotals {
  readonly requests: number;
  readonly failures: number;
  readonly seconds: number;
  readonly rps: number;
  readonly failuresPerS: number;
  readonly avgMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly medianMs: number;
  readonly percentiles: Record<string, number>;
  readonly errors: Record<string, number>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

/** locust's `-t` syntax: 90, 90s, 2m, 1h30m. */
export function parseRunTime(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === '') throw new Error(`--run-time: cannot parse "${text}" (e.g. 60, 60s, 2m, 1h30m)`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

export async function runLocust(options: LocustOptions): Promise<LocustTotals> {
  // locust builds the URL as host + path ("chat/completions"), so the host needs its trailing slash.
  let base = options.host;
  if (!base.endsWith('/')) {
    console.error(
      `note: locust would request "${base}chat/completions" (host + path); using "${base}/" as the host`,
    );
    base += '/';
  }
  const url = new URL(`${base}chat/completions`);
  const path = url.pathname + url.search;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` };
  const latency = new Samples();
  const errors: Record<string, number> = {};
  let failures = 0;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // every sleeping user listens for the stop
  const started = performance.now();

  const user = async () => {
    const client = new Client(url.origin, { pipelining: 1, keepAliveTimeout: 60_000 });
    try {
      while (!stop.signal.aborted) {
        const s = performance.now();
        let status = 0;
        let text = '';
        let overhead: string | string[] | undefined;
        try {
          const res = await client.request({ path, method: 'POST', headers, body: locustBody() });
          status = res.statusCode;
          overhead = res.headers['x-litellm-overhead-duration-ms'];
          text = await res.body.text();
        } catch (error) {
          text = String(error);
        }
        const ms = performance.now() - s;
        latency.push(ms);
        options.onSample?.({
          at: s - started,
          latencyMs: ms,
          status,
          overheadMs: typeof overhead === 'string' ? Number(overhead) : undefined,
        });
        // locust fails a request on a connection error (status 0) or an HTTP status of 400 or more.
        if (status === 0 || status >= 400) {
          failures++;
          errors[String(status)] = (errors[String(status)] ?? 0) + 1;
        }
        // The locustfile logs every non-200 body to error.txt.
        if (status !== 200) await appendFile(options.errorFile, `${text}\n`);
        await sleep(500 + Math.random() * 500, stop.signal);
      }
    } finally {
      await client.close().catch(() => client.destroy());
    }
  };

  const users: Promise<void>[] = [];
  const spawnEvery = 1000 / options.spawnRate;
  const deadline = setTimeout(() => stop.abort(), options.runTimeS * 1000);
  for (let i = 0; i < options.users && !stop.signal.aborted; i++) {
    users.push(user());
    options.onUser?.(i + 1);
    if (i + 1 < options.users) await sleep(spawnEvery, stop.signal);
  }
  await new Promise<void>((resolve) =>
    stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve()),
  );
  clearTimeout(deadline);
  const seconds = (performance.now() - started) / 1000;
  // Like locust, stop without waiting long for users in the middle of a request.
  await Promise.race([Promise.allSettled(users), new Promise((r) => setTimeout(r, 5_000))]);
  const s = latency.summary();
  const pcts: Record<string, number> = {};
  for (const q of [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100])
    pcts[`${q}%`] = latency.quantile(q / 100);
  return {
    requests: s.count,
    failures,
    seconds,
    rps: s.count / seconds,
    failuresPerS: failures / seconds,
    avgMs: s.mean,
    minMs: latency.length ? latency.quantile(0) : Number.NaN,
    maxMs: s.max,
    medianMs: s.p50,
    percentiles: pcts,
    errors,
  };
}

export function locustReport(t: LocustTotals): string {
  const row = (name: string) => [
    'POST',
    name,
    fmt(t.requests),
    `${fmt(t.failures)}(${fmt(t.requests ? (100 * t.failures) / t.requests : 0, 2)}%)`,
    fmt(t.avgMs),
    fmt(t.minMs),
    fmt(t.maxMs),
    fmt(t.medianMs),
    fmt(t.rps, 2),
    fmt(t.failuresPerS, 2),
  ];
  return [
    mdTable(
      ['Type', 'Name', '# reqs', '# fails', 'Avg', 'Min', 'Max', 'Med', 'req/s', 'failures/s'],
      [row('/chat/completions'), ['', 'Aggregated', ...row('').slice(2)]],
    ),
    '',
    'Response time percentiles (ms)',
    mdTable(Object.keys(t.percentiles), [Object.values(t.percentiles).map((v) => fmt(v))]),
    Object.keys(t.errors).length
      ? `\nFailures by status: ${Object.entries(t.errors)
          .map(([k, v]) => `${k === '0' ? 'connection error' : k} × ${v}`)
          .join(', ')} (bodies appended to error.txt)`
      : '',
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', short: 'H' },
      users: { type: 'string', short: 'u', default: '10' },
      'spawn-rate': { type: 'string', short: 'r', default: '10' },
      'run-time': { type: 'string', short: 't', default: '60s' },
      'error-file': { type: 'string', default: 'error.txt' },
    },
  });
  if (!values.host) {
    console.error(
      'usage: node bench/dist/locust-user.js --host http://HOST:PORT/ [--users N] [--spawn-rate R] [--run-time 60s]',
    );
    process.exit(2);
  }
  const options: LocustOptions = {
    host: values.host,
    users: Number(values.users),
    spawnRate: Number(values['spawn-rate']),
    runTimeS: parseRunTime(values['run-time']),
    apiKey: process.env['API_KEY'] ?? 'sk-1234',
    errorFile: values['error-file'],
  };
  console.log(
    `${options.users} users at ${options.spawnRate}/s against ${options.host} for ${options.runTimeS} s (wait_time between(0.5, 1))`,
  );
  console.log(locustReport(await runLocust(options)));
  // Users stuck in a request past the 5 s grace must not keep the process alive.
  process.exit(0);
}
