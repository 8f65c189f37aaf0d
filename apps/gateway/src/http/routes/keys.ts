import type { Context, Hono } from 'hono';
import { badRequest } from '../../errors.js';
import {
  blockSchema,
  deleteSchema,
  generateSchema,
  parseAdmin,
  regenerateSchema,
  updateSchema,
} from '../../keys/admin-schema.js';
import type { KeyAdmin } from '../../keys/key-admin.js';
import { hashOfRef } from '../../keys/key-hash.js';
import type { GatewayEnv } from '../../proxy/context.js';
import { type AdminAccess, intParam, notYours } from './admin-access.js';

/**
 * LiteLLM's key admin API: `/key/generate`, `/key/info`, `/key/update`, `/key/delete`,
 * `/key/regenerate` (and `/key/{key}/regenerate`), `/key/list`, `/key/block`, `/key/unblock`.
 * Master key only, except that a key may read its own `/key/info`.
 */
export function registerKeyRoutes(app: Hono<GatewayEnv>, access: AdminAccess, admin: KeyAdmin): void {
  const post = (path: string, handle: (c: Context<GatewayEnv>) => Promise<unknown>) =>
    app.post(path, async (c) => {
      await access.master(c);
      return c.json(await handle(c));
    });

  post('/key/generate', async (c) => admin.generate(parseAdmin(generateSchema, await access.body(c))));
  post('/key/update', async (c) => admin.update(parseAdmin(updateSchema, await access.body(c))));
  post('/key/delete', async (c) => {
    const b = parseAdmin(deleteSchema, await access.body(c));
    return admin.delete(b.keys, b.key_aliases);
  });
  post('/key/regenerate', async (c) =>
    admin.regenerate(undefined, parseAdmin(regenerateSchema, await access.body(c))),
  );
  // The key is in the path; a body with changes is optional.
  post('/key/:key/regenerate', async (c) =>
    admin.regenerate(c.req.param('key'), parseAdmin(regenerateSchema, await access.optionalBody(c))),
  );
  post('/key/block', async (c) => admin.block(parseAdmin(blockSchema, await access.body(c)).key, true));
  post('/key/unblock', async (c) => admin.block(parseAdmin(blockSchema, await access.body(c)).key, false));
  app.get('/key/info', async (c) => {
    const caller = await access.caller(c);
    const ref = c.req.query('key');
    if (caller.kind === 'virtual') {
      // A key may read its own info, by itself (no query: LiteLLM answers with its hash) or `?key=`.
      if (ref !== undefined && hashOfRef(ref) !== caller.hash) {
        throw notYours("You are not allowed to access this key's info.");
      }
      return c.json(await admin.info(ref ?? caller.hash));
    }
    if (ref === undefined) throw badRequest('missing required query parameter "key"', 'key');
    return c.json(await admin.info(ref));
  });
  app.get('/key/list', async (c) => {
    await access.master(c);
    const page = intParam(c.req.query('page'), 'page', 1, Number.MAX_SAFE_INTEGER) ?? 1;
    const size = intParam(c.req.query('size'), 'size', 1, 100) ?? 10;
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
