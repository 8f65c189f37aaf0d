import { Agent, request } from 'undici';

export interface LoadResult {
  readonly status: number;
  readonly target: number;
  readonly latencyMs: number;
  readonly retryAfter: string | undefined;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface OpenLoopOptions {
  /** Base URLs; requests go round-robin across them, as an ingress would spread them. */
  readonly targets: readonly string[];
  readonly path: string;
  /** Requests per second, sent on schedule whether or not earlier ones answered. */
  readonly rate: number;
  readonly durationMs: number;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/**
 * An open-loop load: one request every 1/rate seconds for the duration, each sent on time no matter
 * how slow the last was, which is how many independent clients behave. Resolves once all answered.
 */
export async function openLoop(options: OpenLoopOptions): Promise<LoadResult[]> {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  const total = Math.round((options.rate * options.durationMs) / 1000);
  const interval = 1000 / options.rate;
  const started = performance.now();
  const pending: Array<Promise<LoadResult>> = [];
  try {
    for (let i = 0; i < total; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const target = i % options.targets.length;
      pending.push(send(agent, `${options.targets[target]}${options.path}`, options, target));
    }
    return await Promise.all(pending);
  } finally {
    await agent.close();
  }
}

async function send(
  agent: Agent,
  url: string,
  options: OpenLoopOptions,
  target: number,
): Promise<LoadResult> {
  const t0 = performance.now();
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body,
  });
  await res.body.dump();
  const retryAfter = res.headers['retry-after'];
  return {
    status: res.statusCode,
    target,
    latencyMs: performance.now() - t0,
    retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    headers: res.headers,
  };
}

/** Counts results by status. */
export function byStatus(results: readonly LoadResult[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of results) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}
