import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: tests start the built programs, never import their internals. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GATEWAY = join(ROOT, 'apps/gateway/dist/main.js');
const FAKE_LLM = join(ROOT, 'apps/fake-llm/dist/main.js');

const running = new Set<ChildProcess>();

/** Kills every process a test file started and did not stop (call from afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      running.delete(child);
    }),
  );
}

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every stdout and stderr line so far. */
  readonly lines: string[];
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<number | string>;
  /** SIGKILL: a crash, as far as anyone else can tell. */
  kill(): Promise<void>;
  /** Calls `listener` with every later line; returns the unsubscribe. */
  onLine(listener: (line: string) => void): () => void;
}

function launch(args: string[], env: Record<string, string | undefined>): Proc {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 20_000) lines.splice(0, 10_000);
      for (const l of listeners) l(line);
    });
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    });
  });
  return {
    child,
    pid: child.pid!,
    lines,
    exited,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Waits for the first line matching `pattern`, failing with the output so far after `timeoutMs`. */
function waitForLine(proc: Proc, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (line: string) => {
      const m = line.match(pattern);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code: number | string) => {
      cleanup();
      reject(new Error(`process exited (${code}) before printing ${pattern}:\n${proc.lines.join('\n')}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no line matching ${pattern} after ${timeoutMs} ms:\n${proc.lines.join('\n')}`));
    }, timeoutMs);
    let unsubscribe = () => {};
    let done = false;
    const cleanup = () => {
      done = true;
      clearTimeout(timer);
      unsubscribe();
    };
    for (const line of proc.lines) if (!done) check(line);
    if (!done) unsubscribe = proc.onLine(check);
    void proc.exited.then((code) => {
      if (!done) onExit(code);
    });
  });
}

export interface FakeLlmProc extends Proc {
  readonly url: string;
  stats(): Promise<FakeStats>;
  control(patch: Record<string, unknown>): Promise<void>;
  reset(): Promise<void>;
}

/** What `/__stats` of apps/fake-llm reports (the fields tests read). */
export interface FakeStats {
  requests: number;
  byPath: Record<string, number>;
  byStatus: Record<string, number>;
  byPrefix: Record<string, { accepted: number; rejected429: number }>;
  maxInAnyWindow: Record<string, number>;
  quotaWindowMs: number;
  accepted: Record<string, number[]>;
  aborted: number;
  inFlight: number;
  last: Array<{ path: string; query: string; headers: Record<string, string>; body: unknown }>;
  oauth: { exchanges: number; issued: number; refused: number };
  models: Record<string, number>;
}

/** Starts apps/fake-llm on a free port with the given CLI flags. */
export async function startFakeLlm(flags: string[] = []): Promise<FakeLlmProc> {
  const proc = launch([FAKE_LLM, '--port', '0', ...flags], {});
  const [, url] = await waitForLine(proc, /listening on (http:\/\/\S+)/, 10_000);
  const call = async (path: string, body?: unknown) => {
    const res = await fetch(
      `${url}${path}`,
      body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) },
    );
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  return {
    ...proc,
    url: url!,
    stats: async () => (await (await call('/__stats')).json()) as FakeStats,
    control: async (patch) => void (await call('/__control', patch)),
    reset: async () => void (await call('/__reset', {})),
  };
}

export interface GatewayProc extends Proc {
  readonly url: string;
  readonly port: number;
  readiness(): Promise<{ status: number; body: Record<string, unknown> }>;
}

export interface GatewayOptions {
  /** The config.yaml text. */
  readonly config: string;
  readonly env?: Record<string, string | undefined>;
  /** Extra CLI flags, e.g. ['--workers', '4']. */
  readonly flags?: string[];
  /** @default 0 (the OS picks) */
  readonly port?: number;
}

/** Writes the config to a temp file and starts the built gateway; resolves once it listens. */
export async function startGateway(options: GatewayOptions): Promise<GatewayProc> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-test-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, options.config);
  const proc = launch(
    [
      GATEWAY,
      '--config',
      file,
      '--host',
      '127.0.0.1',
      '--port',
      String(options.port ?? 0),
      ...(options.flags ?? []),
    ],
    { LOG_LEVEL: 'info', ...options.env },
  );
  const [, port] = await waitForLine(proc, /"msg":"fleetgate listening on http:\/\/[^:]+:(\d+)"/, 15_000);
  const url = `http://127.0.0.1:${port}`;
  return {
    ...proc,
    url,
    port: Number(port),
    async readiness() {
      const res = await fetch(`${url}/health/readiness`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
  };
}

/** Runs the gateway CLI to completion (for flag and config errors). */
export async function runGatewayCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | string; lines: string[] }> {
  const proc = launch([GATEWAY, ...args], env);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  const code = await proc.exited;
  clearTimeout(timer);
  // Let the line readers drain.
  await new Promise((r) => setImmediate(r));
  return { code, lines: proc.lines };
}

/** A config file on disk, for CLI tests that pass a path. */
export function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-test-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, text);
  return file;
}
