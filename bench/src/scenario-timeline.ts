import type { LocustSample } from './locust-user.js';

/** One second of a run, as the report charts it. */
export interface Second {
  readonly t: number;
  readonly requests: number;
  readonly failures: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** The gateway's own time per request (`x-litellm-overhead-duration-ms`); NaN without it. */
  readonly overheadP50: number;
  readonly overheadP99: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Collects samples into one-second bins by send time; `seconds()` summarises them. */
export class Timeline {
  private readonly bins: Array<{ latency: number[]; overhead: number[]; failures: number }> = [];
  private total = 0;
  private failed = 0;
  private readonly all: number[] = [];

  add(s: LocustSample): void {
    const i = Math.floor(s.at / 1000);
    while (this.bins.length <= i) this.bins.push({ latency: [], overhead: [], failures: 0 });
    const b = this.bins[i]!;
    b.latency.push(s.latencyMs);
    if (s.overheadMs !== undefined && Number.isFinite(s.overheadMs)) b.overhead.push(s.overheadMs);
    this.total++;
    this.all.push(s.latencyMs);
    if (s.status === 0 || s.status >= 400) {
      b.failures++;
      this.failed++;
    }
  }

  /** Adds a second measured elsewhere (locust's stats history). */
  addSecond(second: Second): void {
    this.external.push(second);
  }
  private readonly external: Second[] = [];

  seconds(): Second[] {
    if (this.external.length > 0) return this.external;
    return this.bins.map((b, t) => {
      const l = [...b.latency].sort((x, y) => x - y);
      const o = [...b.overhead].sort((x, y) => x - y);
      return {
        t,
        requests: l.length,
        failures: b.failures,
        p50: quantile(l, 0.5),
        p95: quantile(l, 0.95),
        p99: quantile(l, 0.99),
        overheadP50: quantile(o, 0.5),
        overheadP99: quantile(o, 0.99),
      };
    });
  }

  /** The last `n` full seconds before `nowS`, for progress lines. */
  recent(nowS: number, n = 5): { rps: number; p50: number; p99: number; failures: number } {
    const from = Math.max(0, Math.floor(nowS) - n);
    const lat: number[] = [];
    let failures = 0;
    for (let i = from; i < Math.floor(nowS) && i < this.bins.length; i++) {
      lat.push(...this.bins[i]!.latency);
      failures += this.bins[i]!.failures;
    }
    lat.sort((x, y) => x - y);
    const span = Math.max(1, Math.min(n, Math.floor(nowS) - from));
    return { rps: lat.length / span, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), failures };
  }

  totals(): { requests: number; failures: number; p50: number; p95: number; p99: number; mean: number } {
    if (this.external.length > 0) {
      const requests = this.external.reduce((n, s) => n + s.requests, 0);
      const last = this.external[this.external.length - 1];
      return {
        requests,
        failures: this.external.reduce((n, s) => n + s.failures, 0),
        p50: last?.p50 ?? Number.NaN,
        p95: last?.p95 ?? Number.NaN,
        p99: last?.p99 ?? Number.NaN,
        mean: Number.NaN,
      };
    }
    const sorted = [...this.all].sort((x, y) => x - y);
    return {
      requests: this.total,
      failures: this.failed,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
      mean: sorted.reduce((n, v) => n + v, 0) / Math.max(1, sorted.length),
    };
  }
}

/**
 * locust's `--csv-full-history` file (`PREFIX_stats_history.csv`): one row per second per name; the
 * "Aggregated" rows become seconds. Requests/s and the percentile columns are locust's own.
 */
export function parseLocustHistory(csv: string): Second[] {
  const [header, ...rows] = csv.trim().split('\n');
  const cols = (header ?? '').split(',').map((c) => c.replace(/"/g, ''));
  const at = (name: string) => cols.indexOf(name);
  const out: Second[] = [];
  let t0: number | undefined;
  for (const row of rows) {
    const f = row.split(',').map((c) => c.replace(/"/g, ''));
    if (f[at('Name')] !== 'Aggregated') continue;
    const ts = Number(f[at('Timestamp')]);
    t0 ??= ts;
    const n = (name: string) => Number(f[at(name)] ?? Number.NaN);
    out.push({
      t: ts - t0,
      requests: n('Requests/s'),
      failures: n('Failures/s'),
      p50: n('50%'),
      p95: n('95%'),
      p99: n('99%'),
      overheadP50: Number.NaN,
      overheadP99: Number.NaN,
    });
  }
  return out;
}
