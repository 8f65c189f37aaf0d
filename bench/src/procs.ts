import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request } from 'undici';

/** The repository root (bench/dist/procs.js → ../../). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FAKE_LLM_MAIN = `${ROOT}apps/fake-llm/dist/main.js`;
export const GATEWAY_MAIN = `${ROOT}apps/gateway/dist/main.js`;
export const BENCH_DIST = fileURLToPath(new URL('./', import.meta.url));

/**
 * True when the module at `metaUrl` is the script node was started with. The script is then a
 * command line: a mistyped or unknown option (node:util parseArgs) ends it with a one-line message
 * and exit code 2 instead of a stack trace.
 */
export function isMain(metaUrl: string): boolean {
  const script = process.argv[1];
  const main = script !== undefined && pathToFileURL(script).href === metaUrl;
  if (main) installUsageErrors(script);
  return main;
}

let usageErrorsInstalled = false;

function installUsageErrors(script: string): void {
  if (usageErrorsInstalled) return;
  usageErrorsInstalled = true;
  process.on('uncaughtException', (error) => {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      const name = basename(script, '.js');
      process.stderr.write(
        `${name}: ${error.message} (the options are listed at the top of bench/src/${name}.ts)\n`,
      );
      process.exit(2);
    }
    // Anything else ends the process as it would have without this listener.
    process.stderr.write(`${error.stack ?? String(error)}\n`);
    process.exit(1);
  });
}

/** A process this harness started; `stop` ends it and is safe to call twice. */
export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** The last few KB of its stderr, for error messages. */
  stderr(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every child still alive when this process exits or is interrupted (by PID, never by name). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/** Registers a child so it is killed on exit; returns a stop() that sends SIGTERM, then SIGKILL after `graceMs`. */
export function track(child: ChildProcess, graceMs = 5_000): () => Promise<void> {
  installExitHook();
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  }).then(() => {
    live.delete(child);
  });
  return async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
}

function keepTail(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4_000);
  });
  return () => tail;
}

/**
 * Spawns `node script args…` and waits for a stdout line matching `ready` (whose first group is the
 * URL). Stdout keeps being drained afterwards so the child never blocks on a full pipe.
 */
export async function spawnAnnounced(
  name: string,
  script: string,
  args: readonly string[],
  ready: RegExp,
  options: { env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; timeoutMs?: number } = {},
): Promise<Started> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  const stop = track(child);
  const stderr = keepTail(child);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start within ${options.timeoutMs ?? 10_000} ms`)),
        options.timeoutMs ?? 10_000,
      );
      lines.on('line', (line) => {
        const m = ready.exec(line);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${stderr().trim()}`));
      });
    });
    return { name, pid: child.pid!, url, child, stderr, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A port that was free a moment ago (bind to 0, read it back, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export function startFakeLlm(latencyMs = 0): Promise<Started> {
  return spawnAnnounced(
    'fake-llm',
    FAKE_LLM_MAIN,
    ['--port', '0', '--latency-ms', String(latencyMs)],
    /fake-llm listening on (http:\/\/\S+)/,
  );
}

export function startBareProxy(
  upstream: string,
  nodeArgs: readonly string[] = [],
  redisUrl?: string | undefined,
): Promise<Started> {
  return spawnAnnounced(
    'bare-proxy',
    `${BENCH_DIST}bare-proxy.js`,
    ['--port', '0', '--upstream', upstream, ...(redisUrl ? ['--redis', redisUrl] : [])],
    /bare-proxy listening on (http:\/\/\S+)/,
    { nodeArgs },
  );
}

/** Environment variables that would point the gateway at a Redis or override the config's key. */
export const GATEWAY_ENV_OVERRIDES = [
  'REDIS_URL',
  'REDIS_HOST',
  'REDIS_PORT',
  'REDIS_PASSWORD',
  'LITELLM_MASTER_KEY',
  'PORT',
  'HOST',
];

export interface GatewayOptions {
  readonly config: string;
  /** Another build's main.js (an A/B against a baseline checkout). @default this repository's */
  readonly main?: string | undefined;
  readonly redisUrl?: string | undefined;
  readonly logLevel?: string;
  readonly nodeArgs?: readonly string[];
}

/**
 * Starts Fleetgate on a free port with stdout to /dev/null (it logs a JSON line per request) and
 * waits for `/health/readiness` to answer 200 with the expected store (`redis` + `shared`, or `memory`).
 */
export async function startGateway(options: GatewayOptions): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: options.logLevel ?? 'info' };
  for (const k of GATEWAY_ENV_OVERRIDES) delete env[k];
  if (options.redisUrl) env['REDIS_URL'] = options.redisUrl;
  let lastError: unknown;
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        ...(options.nodeArgs ?? []),
        options.main ?? GATEWAY_MAIN,
        '--config',
        options.config,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env },
    );
    const stop = track(child, 10_000);
    const stderr = keepTail(child);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(child, url, options.redisUrl ? 'redis' : 'memory', stderr);
      return { name: 'fleetgate', pid: child.pid!, url, child, stderr, stop };
    } catch (error) {
      lastError = error;
      await stop();
      // Exit code 1 is "cannot start" (e.g. the port was taken meanwhile): try another port.
      if (child.exitCode !== 1) break;
    }
  }
  throw lastError;
}

async function waitReady(child: ChildProcess, url: string, cache: string, stderr: () => string) {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`fleetgate exited (${child.exitCode ?? child.signalCode}): ${stderr().trim()}`);
    }
    try {
      const res = await request(`${url}/health/readiness`, { headersTimeout: 1_000, bodyTimeout: 1_000 });
      const text = await res.body.text();
      last = `${res.statusCode} ${text}`;
      if (res.statusCode === 200) {
        const body = JSON.parse(text) as { cache?: string; fleet_state?: string };
        if (body.cache === cache && (cache !== 'redis' || body.fleet_state === 'shared')) return;
      }
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fleetgate not ready (want cache=${cache}) within 20 s; last answer: ${last}`);
}

/** One POST through `url`; throws unless it answers 200 (a smoke test before measuring). */
export async function smoke(url: string, body: string, headers: Record<string, string>): Promise<void> {
  const res = await request(url, {
    method: 'POST',
    body,
    headers,
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`smoke request to ${url} answered ${res.statusCode}: ${text}`);
}
