import { parseArgs } from 'node:util';
import {
  type Behaviour,
  type FakeLlmOptions,
  knobError,
  type QuotaRule,
  quotaWindowError,
  tokenTtlError,
} from './options.js';

/** What `fake-llm` was asked to do. */
export interface CliConfig {
  help: boolean;
  port: number;
  host: string;
  options: FakeLlmOptions;
  /** `--oauth-key` files, read by main (a PEM public key or a service-account JSON key file each). */
  oauthKeyFiles: string[];
}

/** A bad command line; main prints the message and exits 2. */
export class CliError extends Error {
  override name = 'CliError';
}

export const USAGE = `Usage: fake-llm [options]

A fake OpenAI / Anthropic / Gemini upstream for tests and benchmarks.

  --port N               port to listen on, 0 = any free one (default: $PORT or 8080)
  --host HOST            address to bind (default: 127.0.0.1)
  --latency-ms N         delay before the response headers (default: 0)
  --jitter-ms N          uniformly random extra delay (default: 0)
  --chunk-delay-ms N     delay between streamed chunks (default: 0)
  --completion-tokens N  completion length in tokens (default: 16)
  --embedding-dimensions N  embedding length (default: 8)
  --fail-rate F          fraction 0..1 answered with --fail-status (default: 0)
  --fail-status S        status of injected failures, 400..599 (default: 500)
  --hang-rate F          fraction 0..1 never answered (default: 0)
  --cut-rate F           fraction 0..1 whose connection is dropped mid-response (default: 0)
  --rpm PREFIX=N         rolling-window quota for paths starting with PREFIX (repeatable)
  --quota-window-ms N    quota window (default: 60000)
  --model ID             model listed by GET /models (repeatable; default: fake-model)
  --oauth-key FILE       service account whose JWT grants POST …/token accepts: a PEM public key
                         or the account's JSON key file (repeatable); Vertex routes then need a token
  --token-ttl-s N        lifetime of issued tokens in seconds (default: 3600)
  -h, --help             show this help
`;

/** Numeric flags that set a behaviour knob. */
const KNOB_FLAGS = {
  'latency-ms': 'latencyMs',
  'jitter-ms': 'jitterMs',
  'chunk-delay-ms': 'chunkDelayMs',
  'completion-tokens': 'completionTokens',
  'embedding-dimensions': 'embeddingDimensions',
  'fail-rate': 'failRate',
  'fail-status': 'failStatus',
  'hang-rate': 'hangRate',
  'cut-rate': 'cutRate',
} as const satisfies Record<string, keyof Behaviour>;

const STRING = { type: 'string' } as const;
const FLAGS = {
  port: STRING,
  host: STRING,
  ...Object.fromEntries(Object.keys(KNOB_FLAGS).map((flag) => [flag, STRING])),
  rpm: { type: 'string', multiple: true },
  'quota-window-ms': STRING,
  model: { type: 'string', multiple: true },
  'oauth-key': { type: 'string', multiple: true },
  'token-ttl-s': STRING,
  help: { type: 'boolean', short: 'h' },
} as const;

/** A finite number from a flag value; `Number('')` is 0, hence the explicit blank check. */
function numberFlag(flag: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value))
    throw new CliError(`--${flag} expects a number, got "${raw}"`);
  return value;
}

function portOf(raw: string | undefined, source: string): number {
  if (raw === undefined) return 8080;
  const port = numberFlag(source, raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new CliError(`--${source} must be a port 0..65535, got "${raw}"`);
  }
  return port;
}

/** `PREFIX=N`, split at the last `=` so a prefix may itself contain one. */
function quotaOf(raw: string): QuotaRule {
  const eq = raw.lastIndexOf('=');
  const prefix = raw.slice(0, eq);
  const rpm = Number(raw.slice(eq + 1));
  if (eq < 1 || !prefix.startsWith('/') || !Number.isInteger(rpm) || rpm < 1) {
    throw new CliError(
      `--rpm expects PREFIX=N with a path prefix starting with / and an integer N >= 1, got "${raw}"`,
    );
  }
  return { prefix, rpm };
}

/**
 * One line from a parseArgs error. Its messages run on over several sentences; the first says it
 * all, except for a value starting with `-` (say `--latency-ms -5`), which parseArgs calls
 * "ambiguous": no fake-llm flag accepts such a value, so say that instead.
 */
function argsError(error: Error, argv: string[]): CliError {
  const first = error.message.split(/\.(?:\s|$)/)[0] ?? error.message;
  const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(first);
  if (!ambiguous) return new CliError(first);
  const flag = ambiguous[1] ?? '';
  return new CliError(`${flag} got "${argv[argv.indexOf(flag) + 1]}": no value may start with "-"`);
}

/** Parses `fake-llm` arguments (without node and the script); throws CliError on anything invalid. */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = {}): CliConfig {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw argsError(error as Error, argv);
  }
  const options: FakeLlmOptions = {};
  for (const [flag, knob] of Object.entries(KNOB_FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    const value = numberFlag(flag, raw);
    const error = knobError(knob, value);
    if (error) throw new CliError(`--${flag} ${error}, got "${raw}"`);
    options[knob] = value;
  }
  const rpm = values['rpm'];
  if (Array.isArray(rpm)) options.quotas = rpm.map(quotaOf);
  const windowRaw = values['quota-window-ms'];
  if (typeof windowRaw === 'string') {
    const windowMs = numberFlag('quota-window-ms', windowRaw);
    const error = quotaWindowError(windowMs);
    if (error) throw new CliError(`--quota-window-ms ${error}, got "${windowRaw}"`);
    options.quotaWindowMs = windowMs;
  }
  const models = values['model'];
  if (Array.isArray(models)) options.models = models;
  const ttlRaw = values['token-ttl-s'];
  if (typeof ttlRaw === 'string') {
    const ttl = numberFlag('token-ttl-s', ttlRaw);
    const error = tokenTtlError(ttl);
    if (error) throw new CliError(`--token-ttl-s ${error}, got "${ttlRaw}"`);
    options.tokenTtlS = ttl;
  }
  const keyFiles = values['oauth-key'];
  const portFlag = values['port'];
  const port =
    typeof portFlag === 'string' ? portOf(portFlag, 'port') : portOf(env['PORT'], 'port (from $PORT)');
  const host = typeof values['host'] === 'string' ? values['host'] : '127.0.0.1';
  return {
    help: values['help'] === true,
    port,
    host,
    options,
    oauthKeyFiles: Array.isArray(keyFiles) ? keyFiles : [],
  };
}
