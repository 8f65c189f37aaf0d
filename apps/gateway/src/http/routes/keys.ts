import type { Context, Hono } from 'hono';
import { GatewayError } from '../../errors.js';
import {
  blockSchema,
  deleteSchema,
  generateSchema,
  parseAdmin,
  regenerateSchema,
  updateSchema,
} from '../../keys/admin-schema.js';
import type { KeyAdmin } from '../../keys/key-admin.js';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';
import { parseJsonObject, readBody } from '../body.js';
import { headerReader } from '../headers.js';

/**
 * LiteLLM's key admin API: `/key/generate`, `/key/info`, `/key/update`, `/key/delete`,
 * `/key/regenerate` (and `/key/{key}/regenerate`), `/key/list`, `/key/block`, `/key/unblock`.
 * Master key only; without a master key configured the API is closed rather than open to anyone.
 */
export function registerKeyRoutes(app: Hono<GatewayEnv>, deps: ProxyDeps, admin: KeyAdmin): void {
  const guard = (c: Context<GatewayEnv>) => {
    if (deps.config.masterKey === undefined) {
      throw new GatewayError(
        403,
        'forbidden',
        'the key admin API needs a master key: set general_settings.master_key or LITELLM_MASTER_KEY',
      );
    }
    const principal = deps.authenticate(headerReader(c));
    if (principal instanceof Promise || principal.kind !== 'master') {
      void Promise.resolve(principal).catch(() => {});
      throw new GatewayError(401, 'auth_error', 'Authentication Error, only the master key may manage keys.');
    }
  };
  const body = async (c: Context<GatewayEnv>) =>
    parseJsonObject(
      await readBody(
        c.env?.incoming,
        c.req.raw,
        headerReader(c)('content-length'),
        deps.config.maxRequestBytes,
      ),
    );
  const post = (path: string, handle: (c: Context<GatewayEnv>) => Promise<unknown>) =>
    app.post(path, async (c) => {
      guard(c);
      return c.json(await handle(c));
    });

  post('/key/generate', async (c) => admin.generate(parseAdmin(generateSchema, await body(c))));
  post('/key/update', async (c) => admin.update(parseAdmin(updateSchema, await body(c))));
  post('/key/delete', async (c) => {
    const b = parseAdmin(deleteSchema, await body(c));
    return admin.delete(b.keys, b.key_aliases);
  });
  post('/key/regenerate', async (c) =>
    admin.regenerate(undefined, parseAdmin(regenerateSchema, await body(c))),
  );
  post('/key/:key/regenerate', async (c) => {
    // The key is in the path; a body with changes is optional.
    const raw = await readBody(
      c.env?.incoming,
      c.req.raw,
      headerReader(c)('content-length'),
      deps.config.maxRequestBytes,
    );
    const fields = raw.length === 0 ? {} : parseJsonObject(raw);
    return admin.regenerate(c.req.param('key'), parseAdmin(regenerateSchema, fields));
  });
  post('/key/block', async (c) => admin.block(parseAdmin(blockSchema, await body(c)).key, true));
  post('/key/unblock', async (c) => admin.block(parseAdmin(blockSchema, await body(c)).key, false));
  app.get('/key/info', async (c) => {
    guard(c);
    return c.json(await admin.info(c.req.query('key')));
  });
  app.get('/key/list', async (c) => {
    guard(c);
    const page = positiveInt(c.req.query('page'), 'page', 1, Number.MAX_SAFE_INTEGER) ?? 1;
    const size = positiveInt(c.req.query('size'), 'size', 1, 100) ?? 10;
    const full = c.req.query('return_full_object');
    return c.json(
      await admin.list({
        page,
        size,
        key_alias: c.req.query('key_alias'),
        user_id: c.req.query('user_id'),
        team_id: c.req.query('team_id'),
        full: full === 'true' || full === '1',
      }),
    );
  });
}

function positiveInt(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new GatewayError(400, 'invalid_request', `"${name}" must be a whole number from ${min} to ${max}`, {
      param: name,
    });
  }
  return n;
}
