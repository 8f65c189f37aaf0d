import { UsageError } from './args.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** What one `fleetgate keys|teams …` invocation asks of the admin API. */
export interface AdminCall {
  readonly url: string;
  readonly masterKey: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: Record<string, unknown>;
}

/** The gateway and the master key: flags first, then LiteLLM's and Fleetgate's environment. */
export function target(
  v: Readonly<Record<string, string | string[] | boolean | undefined>>,
  env: Env,
): { url: string; masterKey: string } {
  const url = (
    (v['url'] as string | undefined) ??
    env['FLEETGATE_URL'] ??
    env['LITELLM_PROXY_URL'] ??
    'http://localhost:4000'
  ).replace(/\/+$/, '');
  const masterKey =
    (v['master-key'] as string | undefined) ?? env['LITELLM_MASTER_KEY'] ?? env['LITELLM_PROXY_API_KEY'];
  if (!masterKey) throw new UsageError('the master key is required: --master-key or LITELLM_MASTER_KEY');
  return { url, masterKey };
}

/** Sends the call; prints the JSON answer. Returns the exit code: 0 on success, 1 when the gateway refused. */
export async function runAdminCall(
  call: AdminCall,
  label: string,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  let res: Response;
  try {
    res = await fetch(`${call.url}${call.path}`, {
      method: call.method,
      headers: { authorization: `Bearer ${call.masterKey}`, 'content-type': 'application/json' },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
    });
  } catch (error) {
    err(`fleetgate ${label}: cannot reach ${call.url}: ${(error as Error).message}`);
    return 1;
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // Not JSON: print it as it came.
    }
    err(`fleetgate ${label}: ${res.status}: ${message}`);
    return 1;
  }
  out(JSON.stringify(JSON.parse(text), null, 2));
  return 0;
}

export function whole(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} must be a whole number, got "${text}"`);
  return Number(text);
}

export function amount(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--${flag} must be a number of dollars, got "${text}"`);
  return n;
}

export function json(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`--${flag} must be JSON, got "${text}"`);
  }
}
