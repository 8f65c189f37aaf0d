import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type Dialect, errorResponse } from './dialects.js';
import type { StatsRecorder } from './stats.js';

/**
 * One request's response side: writes responses while counting their status, and tracks the
 * pending timer and whether an unfinished close was our doing (hang, cut) or the client's (abort).
 */
export class Exchange {
  /** The latency or chunk timer; cleared when the response closes so close() ends promptly. */
  timer: NodeJS.Timeout | undefined = undefined;
  /** Set when we hang or cut, so the close that follows is not counted as a client abort. */
  deliberate = false;

  constructor(
    readonly res: ServerResponse,
    private readonly stats: StatsRecorder,
  ) {
    stats.inFlight++;
    res.on('close', () => this.closed());
  }

  head(status: number, headers: OutgoingHttpHeaders): void {
    this.stats.status(status);
    this.res.writeHead(status, headers);
  }

  json(status: number, json: string, headers?: OutgoingHttpHeaders): void {
    if (this.res.destroyed) return;
    this.head(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
      ...headers,
    });
    this.res.end(json);
  }

  /** An error in the shape of `dialect` (OpenAI's by default). */
  error(
    status: number,
    message: string,
    code: string | null,
    headers?: OutgoingHttpHeaders,
    dialect: Dialect = 'openai',
  ): void {
    const e = errorResponse(dialect, status, message, code);
    this.json(status, e.json, { ...e.headers, ...headers });
  }

  /** Never answers; the socket stays open until the client or close() ends it. */
  hang(): void {
    this.deliberate = true;
    this.stats.hung++;
  }

  /**
   * Drops the connection. destroySoon() first flushes what was already written (a cut stream's
   * first chunks must reach the client) and then destroys the socket, so no [DONE] or end of
   * the chunked body ever arrives.
   */
  cut(): void {
    this.deliberate = true;
    this.stats.cut++;
    const socket = this.res.socket;
    if (socket) socket.destroySoon();
    else this.res.destroy();
  }

  private closed(): void {
    this.stats.inFlight--;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (!this.res.writableFinished && !this.deliberate) this.stats.aborted++;
  }
}
