import type { Context, Hono } from 'hono';
import { GatewayError } from '../../errors.js';
import { parseAdmin } from '../../keys/admin-schema.js';
import type { GatewayEnv } from '../../proxy/context.js';
import type { TeamAdmin } from '../../teams/team-admin.js';
import {
  blockTeamSchema,
  deleteTeamSchema,
  memberAddSchema,
  memberDeleteSchema,
  memberUpdateSchema,
  newTeamSchema,
  updateTeamSchema,
} from '../../teams/team-schema.js';
import { type AdminAccess, notYours } from './admin-access.js';

/**
 * LiteLLM's team admin API: `/team/new`, `/team/info`, `/team/update`, `/team/delete`,
 * `/team/list`, `/team/block`, `/team/unblock`, `/team/member_add`, `/team/member_update`,
 * `/team/member_delete`.
 * Master key only, except that a key of the team (or of one of its members) may read `/team/info`.
 */
export function registerTeamRoutes(app: Hono<GatewayEnv>, access: AdminAccess, admin: TeamAdmin): void {
  const post = (path: string, handle: (c: Context<GatewayEnv>) => Promise<unknown>) =>
    app.post(path, async (c) => {
      await access.master(c);
      return c.json(await handle(c));
    });

  post('/team/new', async (c) => admin.create(parseAdmin(newTeamSchema, await access.body(c))));
  post('/team/update', async (c) => admin.update(parseAdmin(updateTeamSchema, await access.body(c))));
  post('/team/delete', async (c) =>
    admin.delete(parseAdmin(deleteTeamSchema, await access.body(c)).team_ids),
  );
  post('/team/block', async (c) =>
    admin.block(parseAdmin(blockTeamSchema, await access.body(c)).team_id, true),
  );
  post('/team/unblock', async (c) =>
    admin.block(parseAdmin(blockTeamSchema, await access.body(c)).team_id, false),
  );
  post('/team/member_add', async (c) => {
    const b = parseAdmin(memberAddSchema, await access.body(c));
    return admin.memberAdd(b.team_id, b.member, b.max_budget_in_team ?? null);
  });
  post('/team/member_update', async (c) =>
    admin.memberUpdate(parseAdmin(memberUpdateSchema, await access.body(c))),
  );
  post('/team/member_delete', async (c) => {
    const b = parseAdmin(memberDeleteSchema, await access.body(c));
    return admin.memberDelete(b.team_id, b);
  });
  app.get('/team/info', async (c) => {
    const caller = await access.caller(c);
    const teamId = c.req.query('team_id');
    // LiteLLM answers 422 for a missing team_id.
    if (!teamId) {
      throw new GatewayError(422, 'invalid_request', 'Malformed request. No team id passed in.', {
        param: 'team_id',
      });
    }
    const info = await admin.info(teamId);
    if (caller.kind === 'virtual') {
      const { doc } = caller.key;
      const members = (info.team_info['members_with_roles'] as Array<{ user_id: string | null }>) ?? [];
      const mine =
        doc.team_id === teamId || (doc.user_id !== null && members.some((m) => m.user_id === doc.user_id));
      if (!mine) throw notYours(`User=${doc.user_id} not authorized to access this team=${teamId}`);
    }
    return c.json(info);
  });
  app.get('/team/list', async (c) => {
    await access.master(c);
    return c.json(await admin.list({ user_id: c.req.query('user_id') }));
  });
}
