import type { IncomingHttpHeaders } from 'node:http';
import type { OAuthStats } from './oauth.js';
import type { PrefixCounts, QuotaStats } from './quota.js';

/** How many recent requests `last` keeps. */
export const LAST_REQUESTS = 50;

/** Bodies larger than this are recorded as `{ truncated: true, bytes }`. */
export const RECORDED_BODY_LIMIT = 64 * 1024;

/** One received request as the upstream saw it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Raw query string without `?` ('' when none); Gemini clients put `key=` here. */
  query: string;
  /** Lower-cased header names, values exactly as received (credentials included: this is a test fake). */
  headers: IncomingHttpHeaders;
  /**
   * The parsed JSON body; `null` when empty; the raw text when it is not JSON; `{ truncated: true,
   * bytes }` when over 64 KB.
   */
  body: unknown;
  /** ms since the epoch, when the body had arrived. */
  receivedAt: number;
}

/** What the fake received, as returned by `stats()` and `GET /__stats`. */
export interface FakeLlmStats {
  /** Requests received on every endpoint except the `/__*` control API. */
  requests: number;
  byPath: Record<string, number>;
  /** Responses by status code (headers sent; hung and cut-before-response requests have none). */
  byStatus: Record<string, number>;
  /** Per configured quota prefix: accepted and 429-rejected (a rejection counts on the full prefixes only). */
  byPrefix: Record<string, PrefixCounts>;
  /** Per quota prefix: accepted timestamps (ms since epoch), oldest first, the last 100,000. */
  accepted: Record<string, number[]>;
  /** Per quota prefix: the most accepted timestamps found in any rolling window. */
  maxInAnyWindow: Record<string, number>;
  quotaWindowMs: number;
  /** Requests the client gave up on before the response finished (hung and cut ones excluded). */
  aborted: number;
  /** Requests deliberately never answered (hangRate). */
  hung: number;
  /** Requests whose connection was deliberately dropped (cutRate). */
  cut: number;
  /** Requests received whose response has not closed yet. */
  inFlight: number;
  /** Requests per body `model` (or, for Gemini, the model in the path). */
  models: Record<string, number>;
  /** The last 50 requests, oldest first. */
  last: RecordedRequest[];
  /** Token endpoint exchanges (granted and refused) and tokens issued. */
  oauth: OAuthStats;
}

const increment = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Counters behind {@link FakeLlmStats}; the quota part lives in QuotaBook. */
export class StatsRecorder {
  requests = 0;
  aborted = 0;
  hung = 0;
  cut = 0;
  /** Live, so `reset()` leaves it alone: the requests are still open. */
  inFlight = 0;
  private byPath = new Map<string, number>();
  private byStatus = new Map<string, number>();
  private models = new Map<string, number>();
  private last: RecordedRequest[] = [];
  /** Where the next entry of the `last` ring goes once it is full. */
  private lastNext = 0;

  received(path: string): void {
    this.requests++;
    increment(this.byPath, path);
  }

  status(status: number): void {
    increment(this.byStatus, String(status));
  }

  model(model: string): void {
    increment(this.models, model);
  }

  record(entry: RecordedRequest): void {
    if (this.last.length < LAST_REQUESTS) {
      this.last.push(entry);
    } else {
      this.last[this.lastNext] = entry;
      this.lastNext = (this.lastNext + 1) % LAST_REQUESTS;
    }
  }

  reset(): void {
    this.requests = 0;
    this.aborted = 0;
    this.hung = 0;
    this.cut = 0;
    this.byPath.clear();
    this.byStatus.clear();
    this.models.clear();
    this.last = [];
    this.lastNext = 0;
  }

  snapshot(quota: QuotaStats, quotaWindowMs: number): Omit<FakeLlmStats, 'oauth'> {
    return {
      requests: this.requests,
      byPath: Object.fromEntries(this.byPath),
      byStatus: Object.fromEntries(this.byStatus),
      ...quota,
      quotaWindowMs,
      aborted: this.aborted,
      hung: this.hung,
      cut: this.cut,
      inFlight: this.inFlight,
      models: Object.fromEntries(this.models),
      last: [...this.last.slice(this.lastNext), ...this.last.slice(0, this.lastNext)],
    };
  }
}
