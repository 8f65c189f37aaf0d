import { writeSync } from 'node:fs';
import { type Logger, pino } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON lines on stdout. Request and response bodies and headers are never logged, so keys cannot
 * leak through logs (log calls pass metadata fields by name; there is nothing to redact). Lines are
 * gathered in 8 KB batches and written asynchronously — a log line per request costs no write syscall
 * of its own — and flushed every 100 ms, so a quiet gateway's lines still appear at once; `flushLogs`
 * writes them out before a planned exit, and an exit hook whatever the exit.
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
  const dest = pino.destination({ dest: STDOUT, sync: false, minLength: BATCH_CHARS });
  // A closed stdout (the reader of a pipe exited) is not a reason to crash or hang: the gateway
  // keeps serving, and its logs are lost. Without a listener the write error would throw.
  dest.on('error', () => broken.add(dest));
  const lines = new LineBatch(dest, STDOUT);
  setInterval(() => {
    lines.drain();
    if (!broken.has(dest)) dest.flush();
  }, 100).unref();
  // Registered after the destination's own exit hook (which writes out what it holds): the lines
  // still gathered here follow them, written synchronously, however the process ends.
  process.on('exit', () => lines.writeOutSync());
  return lines;
}

const STDOUT = 1;
const BATCH_CHARS = 8 * 1024;

/**
 * Lines gathered into one string of ~8 KB before the destination sees them. sonic-boom measures the
 * byte length of its whole pending buffer on every write and appends to it as a rope, which at a line
 * per request costs more than the line itself; handed a batch, it does that once per 8 KB.
 */
class LineBatch {
  private lines: string[] = [];
  private chars = 0;

  constructor(
    private readonly dest: pino.DestinationStream & Flushable,
    private readonly fd: number,
  ) {}

  write(line: string): boolean {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= BATCH_CHARS) this.drain();
    return true;
  }

  /** Hands the gathered lines to the destination (which writes them once it holds 8 KB, or on flush). */
  drain(): void {
    if (this.chars === 0) return;
    const text = this.take();
    if (!broken.has(this.dest)) this.dest.write(text);
  }

  flush(cb?: (error?: Error) => void): void {
    this.drain();
    if (broken.has(this.dest) || !this.dest.flush) cb?.();
    else this.dest.flush(cb);
  }

  /** pino calls it after a fatal line: the line is written before whatever follows it. */
  flushSync(): void {
    this.drain();
    if (!broken.has(this.dest)) this.dest.flushSync?.();
  }

  writeOutSync(): void {
    if (this.chars === 0 || broken.has(this.dest)) return;
    try {
      writeSync(this.fd, this.take());
    } catch {
      // Exiting with a stdout that cannot take more: the lines are lost, the exit is not delayed.
    }
  }

  private take(): string {
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    this.chars = 0;
    return text;
  }
}

interface Flushable {
  flush?: (cb?: (error?: Error) => void) => void;
  flushSync?: () => void;
}

/**
 * Writes out whatever the logger still buffers; await it before `process.exit`. Asynchronous and
 * bounded by `timeoutMs`, because the synchronous flush of pino's destination never returns when
 * stdout is a closed pipe (it retries the failed write forever), which kept a gateway told to
 * stop from ever exiting.
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
