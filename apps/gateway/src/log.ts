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

function bufferedStdout(): pino.DestinationStream {
  const dest = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  setInterval(() => dest.flush(), 100).unref();
  return dest;
}

/** Writes out whatever the logger still buffers; call before `process.exit`. */
export function flushLogs(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as {
    flushSync?: () => void;
  };
  try {
    stream.flushSync?.();
  } catch {
    // Nothing more can be done for a closed stdout.
  }
}
