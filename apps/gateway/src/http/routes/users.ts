import type { Context, Hono } from 'hono';
import { badRequest } from '../../errors.js';
import { parseAdmin } from '../../keys/admin-schema.js';
import type { GatewayEnv } from '../../proxy/context.js';
import type { UserAdmin } from '../../users/user-admin.js';
import { deleteUserSchema, newUserSchema, updateUserSchema } from '../../users/user-schema.js';
import { type AdminAccess, intParam, notYours } from './admin-access.js';

/**
 * LiteLLM's user admin API: `/user/new`, `/user/info`, `/user/update`, `/user/delete`,
 * `/user/list`. Master key only, except that a key may read its own user's `/user/info`.
 */
export function registerUserRoutes(app: Hono<GatewayEnv>, access: AdminAccess, admin: UserAdmin): void {
  const post = (path: string, handle: (c: Context<GatewayEnv>) => Promise<unknown>) =>
    app.post(path, async (c) => {
      await access.master(c);
      return c.json(await handle(c));
    });

  post('/user/new', async (c) => admin.create(parseAdmin(newUserSchema, await access.body(c))));
  post('/user/update', async (c) => admin.update(parseAdmin(updateUserSchema, await access.body(c))));
  post('/user/delete', async (c) =>
    admin.delete(parseAdmin(deleteUserSchema, await access.body(c)).user_ids),
  );
  app.get('/user/info', async (c) => {
    const caller = await access.caller(c);
    let userId = c.req.query('user_id');
    if (caller.kind === 'virtual') {
      const own = caller.key.doc.user_id;
      userId ??= own ?? undefined;
      if (userId === undefined || userId !== own) {
        throw notYours(`User=${own} is not allowed to access the info of user=${userId}`);
      }
    }
    if (userId === undefined) throw badRequest('missing required query parameter "user_id"', 'user_id');
    return c.json(await admin.info(userId));
  });
  app.get('/user/list', async (c) => {
    await access.master(c);
    const ids = c.req.query('user_ids');
    return c.json(
      await admin.list({
        page: intParam(c.req.query('page'), 'page', 1, Number.MAX_SAFE_INTEGER) ?? 1,
        page_size: intParam(c.req.query('page_size'), 'page_size', 1, 100) ?? 25,
        user_ids:
          ids === undefined
            ? undefined
            : ids
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
        role: c.req.query('role'),
        team: c.req.query('team'),
      }),
    );
  });
}
