import { type Logger, pino } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON lines on stdout. The destination is asynchronous and buffered so a log line per request
 * does not block the event loop on a slow stdout; writes coalesce while one is in flight, and `flush()`
 * runs on shutdown. Request and response bodies
 * and headers are never logged, so keys cannot leak through logs; the redaction list is a second
 * fence for fields that might be added to a log call by mistake.
 */
export function createLogger(
  level: LogLevel,
  destination: pino.DestinationStream = defaultDestination(),
): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'apiKey',
          'api_key',
          'masterKey',
          'master_key',
          'authorization',
          'key',
          '*.apiKey',
          '*.api_key',
          '*.key',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

function defaultDestination(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}
