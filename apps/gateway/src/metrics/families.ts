import type { Registry } from 'prom-client';

type Aggregator = 'sum' | 'max' | 'min' | 'first' | 'omit' | 'average';

interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** What prom-client's registry reads from a metric at scrape time (and aggregates across workers). */
interface Collected {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly values: Sample[];
  readonly aggregator: Aggregator;
}

export interface Series {
  readonly labels: Record<string, string>;
  value: number;
}

export interface HistogramSeries {
  readonly labels: Record<string, string>;
  readonly counts: number[];
  sum: number;
  count: number;
}

const SEP = '\u001f';

/**
 * Counters, gauges and histograms cheap enough to update several times per request: a series is
 * found by its label values joined into one string, and updating it is arithmetic on a number.
 * prom-client's own metrics hash a label object on every update, which cost more than the rest of a
 * request's bookkeeping together. These register in a prom-client Registry and render through it,
 * so the text format and `--workers` aggregation are prom-client's.
 */
abstract class Family<S> {
  protected readonly all = new Map<string, S>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly aggregator: Aggregator,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series with these label values (created on first use); hot paths keep it and update it directly. */
  series(values: readonly string[]): S {
    const key = values.length === 1 ? values[0]! : values.join(SEP);
    let s = this.all.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => {
        labels[n] = values[i] ?? '';
      });
      s = this.create(labels);
      this.all.set(key, s);
    }
    return s;
  }

  protected abstract create(labels: Record<string, string>): S;
  abstract get(): Collected;
}

export class FastCounter extends Family<Series> {
  readonly type = 'counter';
  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    super(name, help, labelNames, 'sum', registry);
  }
  protected create(labels: Record<string, string>): Series {
    return { labels, value: 0 };
  }
  inc(values: readonly string[], by = 1): void {
    this.series(values).value += by;
  }
  get(): Collected {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      aggregator: this.aggregator,
      values: [...this.all.values()],
    };
  }
}

export class FastGauge extends Family<Series> {
  readonly type = 'gauge';
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    registry: Registry,
    aggregator: Aggregator = 'sum',
  ) {
    super(name, help, labelNames, aggregator, registry);
  }
  protected create(labels: Record<string, string>): Series {
    return { labels, value: 0 };
  }
  set(values: readonly string[], value: number): void {
    this.series(values).value = value;
  }
  get(): Collected {
    return {
      name: this.name,
      help: this.help,
      type: 'gauge',
      aggregator: this.aggregator,
      values: [...this.all.values()],
    };
  }
}

export class FastHistogram extends Family<HistogramSeries> {
  readonly type = 'histogram';
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, 'sum', registry);
  }
  protected create(labels: Record<string, string>): HistogramSeries {
    return { labels, counts: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
  }
  observe(values: readonly string[], v: number): void {
    this.observeSeries(this.series(values), v);
  }
  observeSeries(s: HistogramSeries, v: number): void {
    s.sum += v;
    s.count++;
    // Buckets are few and sorted: the first bound at or above v takes the count (cumulated on export).
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        s.counts[i]!++;
        return;
      }
    }
  }
  get(): Collected {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.all.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ metricName: bucket, labels: { ...s.labels, le }, value: acc });
      });
      values.push({ metricName: bucket, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: this.aggregator, values };
  }
}
