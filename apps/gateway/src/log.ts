import { type Logger, pino } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON lines on stdout. Request and response bodies and headers are never logged, so keys cannot
 * leak through logs (log calls pass metadata fields by name; there is nothing to redact). Lines are
 * gathered in 8 KB batches, each written with one synchronous call — a log line per request costs no
 * write syscall of its own — and written every 100 ms, so a quiet gateway's lines still appear at
 * once, and at exit, however the process ends.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? bufferedStdout(),
  );
}

/**
 * A log line for the hot path (one per request): `fields` is the line's own members already
 * serialised (`"msg":"request","status":200,...`). It is written to the logger's destination exactly
 * as pino would write it — level label, ISO time, the logger's bindings (`pid`), then the fields — so
 * it lands in order with every other line, and readers cannot tell the two apart. It costs a string
 * concatenation where pino's generic serialiser costs several times that per request.
 */
export type LineWriter = (level: 'info' | 'warn', fields: string) => void;

export function lineWriter(logger: Logger): LineWriter {
  const symbols = pino.symbols;
  const own = logger as unknown as Record<symbol, unknown>;
  const stream = own[symbols.streamSym] as { write(line: string): unknown };
  const bindings = String(own[symbols.chindingsSym] ?? '');
  return (level, fields) => {
    if (!logger.isLevelEnabled(level)) return;
    stream.write(`{"level":"${level}","time":"${isoTime(Date.now())}"${bindings},${fields}}\n`);
  };
}

let isoSecond = Number.NaN;
let isoPrefix = '';

/** `new Date(ms).toISOString()`, with the date and time up to the second formatted once a second. */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const milli = ms - second * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** Destinations whose reader went away (EPIPE): nothing more is written to them. */
const broken = new WeakSet<object>();

function bufferedStdout(): pino.DestinationStream {
  // Synchronous writes (pino's own default), each of a whole batch: in order whatever happens next.
  // An asynchronous destination had a batch in flight on a worker thread when the process exited
  // while its exit hook wrote the later lines: they could land before it.
  const dest = pino.destination({ dest: STDOUT, sync: true, minLength: 0 });
  // A closed stdout (the reader of a pipe exited) is not a reason to crash or hang: the gateway
  // keeps serving, and its logs are lost. Without a listener the write error would throw.
  dest.on('error', () => broken.add(dest));
  const lines = new LineBatch(dest);
  process.on('exit', () => lines.drain());
  return lines;
}

const STDOUT = 1;
const BATCH_CHARS = 8 * 1024;
/** A line waits at most this long for its batch to be written. */
const BATCH_WAIT_MS = 100;

/**
 * Lines gathered into one string of ~8 KB, written with one call: a line per request costs no write
 * syscall of its own, and sonic-boom handles (EAGAIN, a closed pipe) one batch at a time. The batch
 * is written when it is full, at most 100 ms after a line arrived, on `flush`, after a fatal line
 * and at exit. The timer runs only while lines wait: an idle replica is not woken to write nothing.
 */
class LineBatch {
  private lines: string[] = [];
  private chars = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly late = () => {
    this.timer = undefined;
    this.drain();
  };

  constructor(private readonly dest: pino.DestinationStream) {}

  write(line: string): boolean {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= BATCH_CHARS) this.drain();
    // A timer already set stays: it writes what came after a full batch, or finds nothing.
    else if (this.timer === undefined) this.timer = setTimeout(this.late, BATCH_WAIT_MS).unref();
    return true;
  }

  drain(): void {
    if (this.chars === 0) return;
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    this.chars = 0;
    if (broken.has(this.dest)) return;
    try {
      this.dest.write(text);
    } catch {
      // A destination that cannot take more: the lines are lost, the gateway goes on.
    }
  }

  flush(cb?: (error?: Error) => void): void {
    this.drain();
    cb?.();
  }

  /** pino calls it after a fatal line: the line is written before whatever follows it. */
  flushSync(): void {
    this.drain();
  }
}

interface Flushable {
  flush?: (cb?: (error?: Error) => void) => void;
}

/**
 * Writes out whatever the logger still buffers; await it before `process.exit`. Bounded by
 * `timeoutMs` whatever the destination: a flush may wait on a reader (sonic-boom's synchronous flush
 * retried a write to a closed pipe forever, which once kept a gateway told to stop from exiting).
 */
export function flushLogs(logger: Logger, timeoutMs = 1_000): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | (Flushable & object)
    | undefined;
  if (!stream || broken.has(stream) || typeof stream.flush !== 'function') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    try {
      stream.flush?.(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
