import { parseArgs } from 'node:util';

/** A bad command line: one line for stderr, exit code 2. */
export class UsageError extends Error {}

export interface ServeArgs {
  readonly command: 'serve';
  readonly config: string;
  readonly port: number;
  readonly host: string;
  readonly workers: number;
  /** Idle keep-alive seconds; longer than the load balancer's idle timeout. */
  readonly keepAliveSeconds: number;
}

export type CliArgs = ServeArgs | { readonly command: 'help' } | { readonly command: 'version' };

export const USAGE = `usage: fleetgate --config FILE [--port 4000] [--host 0.0.0.0] [--workers N]
       fleetgate keys generate|list|info|delete …   (see fleetgate keys --help)
       fleetgate teams new|update|list|info|block|unblock|delete|add-member|remove-member …   (see fleetgate teams --help)

  --config, -c FILE        LiteLLM config.yaml to serve (env CONFIG_FILE_PATH)
  --port PORT              port to listen on (env PORT; default 4000)
  --host HOST              address to listen on (env HOST; default 0.0.0.0)
  --workers N              processes sharing the port (also --num_workers, env NUM_WORKERS); N > 1 needs Redis
  --keepalive_timeout S    idle keep-alive seconds, above your load balancer's (default 65)
  --version, --help

environment: REDIS_URL (or REDIS_HOST/REDIS_PORT/REDIS_PASSWORD), LITELLM_MASTER_KEY,
             FLEETGATE_VIEWER_KEY (the fleet page at /fleet), LOG_LEVEL`;

/** Parses the serve command line; `env` supplies PORT and HOST defaults. */
export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string' },
        host: { type: 'string' },
        workers: { type: 'string' },
        num_workers: { type: 'string' },
        keepalive_timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see fleetgate --help)`);
  }
  if (values['help']) return { command: 'help' };
  if (values['version']) return { command: 'version' };
  const config = values['config'] ?? env['CONFIG_FILE_PATH'];
  if (typeof config !== 'string' || config === '')
    throw new UsageError('--config FILE is required (see fleetgate --help)');
  const port = integer('--port', (values['port'] as string | undefined) ?? env['PORT'] ?? '4000', 0, 65535);
  const host = (values['host'] as string | undefined) ?? env['HOST'] ?? '0.0.0.0';
  const workersText = (values['workers'] ?? values['num_workers'] ?? env['NUM_WORKERS'] ?? '1') as string;
  const workers = integer('--workers', workersText, 1, 256);
  const keepAliveSeconds = integer(
    '--keepalive_timeout',
    (values['keepalive_timeout'] as string | undefined) ?? '65',
    1,
    3600,
  );
  return { command: 'serve', config, port, host, workers, keepAliveSeconds };
}

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}
