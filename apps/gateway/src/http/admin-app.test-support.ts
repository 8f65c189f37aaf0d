import { randomUUID } from 'node:crypto';
import {
  type AccountStore,
  createMemoryStore,
  createRedisAccounts,
  createRedisStore,
  type FleetStore,
  MemoryAccounts,
} from '@fleetgate/ratelimit';
import type { Hono } from 'hono';
import { Redis } from 'ioredis';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import type { GatewayEnv } from '../proxy/context.js';
import { createGatewayApp } from '../server.js';

/**
 * An in-process gateway for admin API tests (`app.request()`), on the memory store or a real Redis,
 * in front of a fake upstream: model `gpt-4o` (priced) and `embed`, master key `sk-1234` as in
 * LiteLLM's tests. Not a test itself; the test files drive it.
 */
export const MASTER = 'sk-1234';
export const IN = 0.000001;
export const OUT = 0.000002;
/** What the fake upstream charges for `chat()` below: 3 prompt tokens ("hello there"), 16 completion tokens. */
export const CALL_COST = 3 * IN + 16 * OUT;

export type Backend = 'memory' | 'redis';

export interface AdminApp {
  readonly app: Hono<GatewayEnv>;
  /** GET when `body` is undefined, else POST with the body as JSON. */
  call(path: string, body?: unknown, key?: string): Promise<Response>;
  /** Like `call`, expecting 200; the JSON body. */
  ok<T = Record<string, unknown>>(path: string, body?: unknown, key?: string): Promise<T>;
  chat(key: string, model?: string): Promise<Response>;
  close(): Promise<void>;
}

/** Two apps on one Redis namespace are two replicas; `pollMs` is how often each looks for changes. */
export interface AdminAppOptions {
  readonly namespace?: string;
  readonly pollMs?: number;
}

export function startAdminApp(
  backend: Backend,
  fakeBase: string,
  redisUrl: string,
  options: AdminAppOptions = {},
): AdminApp {
  let redis: Redis | undefined;
  let store: FleetStore;
  let accounts: AccountStore;
  if (backend === 'memory') {
    const memory = new MemoryAccounts();
    accounts = memory;
    store = createMemoryStore({ accounts: memory });
  } else {
    redis = new Redis(redisUrl, { enableAutoPipelining: true });
    const namespace = options.namespace ?? `admin-${randomUUID()}`;
    store = createRedisStore(redis, { namespace });
    accounts = createRedisAccounts(redis, { namespace, pollMs: options.pollMs ?? 50 });
  }
  const config = parseConfig(
    'admin.yaml',
    `
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, api_base: "${fakeBase}/v1", input_cost_per_token: ${IN}, output_cost_per_token: ${OUT} }
  - model_name: embed
    litellm_params: { model: openai/embed, api_base: "${fakeBase}/v1" }
general_settings:
  master_key: ${MASTER}
`,
    {},
  );
  const { app } = createGatewayApp({
    config,
    logger: createLogger('silent'),
    store,
    accounts,
    replicaId: 'test',
  });
  const call = async (path: string, body?: unknown, key = MASTER): Promise<Response> =>
    app.request(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  return {
    app,
    call,
    async ok<T>(path: string, body?: unknown, key?: string): Promise<T> {
      const res = await call(path, body, key);
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as T;
    },
    chat: async (key, model = 'gpt-4o') =>
      app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }], max_tokens: 16 }),
      }),
    async close() {
      await store.close();
      await redis?.quit();
    },
  };
}

/** An error response as LiteLLM's tests read it: status, the body's error, the stable code header. */
export async function errorOf(res: Response): Promise<Record<string, unknown> & { status: number }> {
  const body = (await res.json()) as { error: Record<string, unknown> };
  return { status: res.status, ...body.error, fleetgate: res.headers.get('x-fleetgate-error-code') };
}
