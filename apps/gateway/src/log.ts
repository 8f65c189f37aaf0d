import { type Logger, pino } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON lines on stdout. Request and response bodies and headers are never logged, so keys cannot
 * leak through logs (log calls pass metadata fields by name; there is nothing to redact). The
 * destination is asynchronous and buffered — a log line per request costs no write syscall of its
 * own — and flushed every 100 ms, so a quiet gateway's lines still appear at once, and synchronously
 * by `flushLogs` before the process exits.
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

/** Destinations whose reader went away (EPIPE): nothing more is written to them. */
const broken = new WeakSet<object>();

function bufferedStdout(): pino.DestinationStream {
  const dest = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  // A closed stdout (the reader of a pipe exited) is not a reason to crash or hang: the gateway
  // keeps serving, and its logs are lost. Without a listener the write error would throw.
  dest.on('error', () => broken.add(dest));
  setInterval(() => {
    if (!broken.has(dest)) dest.flush();
  }, 100).unref();
  return dest;
}

interface Flushable {
  flush?: (cb?: (error?: Error) => void) => void;
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
