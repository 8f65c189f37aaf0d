import { randomUUID } from 'node:crypto';
import { createFakeLlm, type FakeLlm } from '@fleetgate/fake-llm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AdminApp, CALL_COST, errorOf, startAdminApp } from './admin-app.test-support.js';

/**
 * Teams, LiteLLM's way: the cases of LiteLLM's tests/test_team.py (test_users_in_team_budget among
 * them: a member's budget inside the team) and the team half of
 * tests/otel_tests/test_e2e_budgeting.py (requests and assertions, in this project's code), plus
 * what Fleetgate adds — exact team and member limits in the key's admission, member budgets going
 * with the membership, the team and the user, nothing written by a failed write, a replica that has
 * not heard of a removed member budget still serving the key. In-process, on the memory store and
 * on Redis.
 */
let fake: FakeLlm;
let fakeBase = '';
beforeAll(async () => {
  fake = createFakeLlm();
  fakeBase = (await fake.listen()).url;
});
afterAll(async () => {
  await fake.close();
});

interface Team {
  team_id: string;
  team_alias: string | null;
  members_with_roles: Array<{ role: string; user_id: string | null; user_email: string | null }>;
  [k: string]: unknown;
}

describe.each(['memory', 'redis'] as const)('teams (%s)', (backend) => {
  let g: AdminApp;
  beforeAll(() => {
    g = startAdminApp(backend, fakeBase, inject('redisUrl'));
  });
  afterAll(async () => {
    await g.close();
  });
  const newTeam = (body: Record<string, unknown> = {}) =>
    g.ok<Team>('/team/new', { team_alias: 'my-new-team', ...body });
  const newKey = (body: Record<string, unknown> = {}) =>
    g.ok<{ key: string; token: string }>('/key/generate', body);
  const newUser = (body: Record<string, unknown> = {}) =>
    g.ok<{ key: string; user_id: string }>('/user/new', { user_id: `u-${randomUUID()}`, ...body });

  describe('admin API (test_team.py)', () => {
    it('creates teams in parallel, each with its own id, alias not unique', async () => {
      const teams = await Promise.all(Array.from({ length: 10 }, () => newTeam()));
      expect(new Set(teams.map((t) => t.team_id)).size).toBe(10);
      expect(teams.every((t) => t.team_alias === 'my-new-team')).toBe(true);
    });

    it('shows a team to the master key and to its own keys, not to other keys', async () => {
      const team = await newTeam();
      const info = await g.ok<{ team_id: string; team_info: Team; keys: unknown[] }>(
        `/team/info?team_id=${team.team_id}`,
      );
      expect(info.team_info.team_id).toBe(team.team_id);
      const inTeam = await newKey({ team_id: team.team_id });
      expect((await g.call(`/team/info?team_id=${team.team_id}`, undefined, inTeam.key)).status).toBe(200);
      const outsider = await newKey();
      expect((await g.call(`/team/info?team_id=${team.team_id}`, undefined, outsider.key)).status).toBe(403);
    });

    it('adds members, changes the alias, and leaves the rest of the team as it was', async () => {
      const admin = (await newUser()).user_id;
      const team = await newTeam({ members_with_roles: [{ role: 'admin', user_id: admin }] });
      const members = Array.from({ length: 10 }, () => ({
        role: 'user',
        user_id: `krrish_${randomUUID()}@berri.ai`,
      }));
      await g.ok('/team/member_add', { team_id: team.team_id, member: members });
      const info = await g.ok<{ team_info: Team }>(`/team/info?team_id=${team.team_id}`);
      // The admin, the master key's user (LiteLLM makes a team's creator its admin), ten members.
      expect(info.team_info.members_with_roles).toHaveLength(12);
      const updated = await g.ok<{ data: Team }>('/team/update', {
        team_id: team.team_id,
        team_alias: 'my-new-team',
      });
      expect(updated.data.team_alias).toBe('my-new-team');
      for (const [k, v] of Object.entries(updated.data)) {
        if (['members_with_roles', 'created_at', 'updated_at'].includes(k)) continue;
        expect(v, k).toEqual(team[k]);
      }
    });

    it('adds a member by email: the user with that email is in the team', async () => {
      const email = `krrish${randomUUID()}@berri.ai`;
      const user = await newUser({ user_email: email });
      const team = await newTeam();
      await g.ok('/team/member_add', {
        team_id: team.team_id,
        member: [{ role: 'user', user_email: email }],
      });
      const info = await g.ok<{ teams: Team[] }>(`/user/info?user_id=${user.user_id}`);
      expect(info.teams.map((t) => t.team_id)).toContain(team.team_id);
    });

    it('deletes a team: memberships and keys go with it, its info is a 404', async () => {
      const member = (await newUser()).user_id;
      const team = await newTeam({ members_with_roles: [{ role: 'user', user_id: member }] });
      expect((await g.ok<{ teams: unknown[] }>(`/user/info?user_id=${member}`)).teams).toHaveLength(1);
      const key = await newKey({ team_id: team.team_id });
      expect((await g.chat(key.key)).status).toBe(200);
      expect(await g.ok('/team/delete', { team_ids: [team.team_id] })).toEqual({
        deleted_teams: [team.team_id],
      });
      expect((await g.ok<{ teams: unknown[] }>(`/user/info?user_id=${member}`)).teams).toHaveLength(0);
      expect((await g.call(`/team/info?team_id=${team.team_id}`)).status).toBe(404);
      // The key went with its team, on this replica's very next request.
      expect((await errorOf(await g.chat(key.key))).status).toBe(401);
      expect((await g.call(`/key/info?key=${key.token}`)).status).toBe(404);
    });

    it.each(['user_id', 'user_email'] as const)('removes a member by %s', async (by) => {
      const userId = randomUUID();
      const email = `${userId}@berri.ai`;
      await newUser({ user_id: userId, user_email: email });
      const member =
        by === 'user_id' ? { role: 'user', user_id: userId } : { role: 'user', user_email: email };
      const team = await newTeam({ members_with_roles: [member] });
      expect(team.members_with_roles.some((m) => m.user_id === userId || m.user_email === email)).toBe(true);
      const after = await g.ok<Team>('/team/member_delete', {
        team_id: team.team_id,
        ...(by === 'user_id' ? { user_id: userId } : { user_email: email }),
      });
      expect(after.members_with_roles.some((m) => m.user_id === userId || m.user_email === email)).toBe(
        false,
      );
      expect(
        await errorOf(await g.call('/team/member_delete', { team_id: team.team_id, user_id: userId })),
      ).toMatchObject({ status: 400, message: 'User not found in team' });
    });

    it('lists teams, by member, sorted by alias, with their keys', async () => {
      const who = `lister-${randomUUID()}`;
      const b = await newTeam({
        team_alias: `b-${who}`,
        members_with_roles: [{ role: 'user', user_id: who }],
      });
      const a = await newTeam({
        team_alias: `a-${who}`,
        members_with_roles: [{ role: 'user', user_id: who }],
      });
      const key = await newKey({ team_id: a.team_id });
      const list = await g.ok<Array<Team & { keys: Array<{ token: string }> }>>(`/team/list?user_id=${who}`);
      expect(list.map((t) => t.team_id)).toEqual([a.team_id, b.team_id]);
      expect(list[0]!.keys.map((k) => k.token)).toEqual([key.token]);
    });
  });

  describe('bad input writes nothing', () => {
    it("refuses a key for a team that does not exist with LiteLLM's 400 naming team_id", async () => {
      const before = (await g.ok<{ total_count: number }>('/key/list')).total_count;
      const error = await errorOf(await g.call('/key/generate', { team_id: 'no-such-team' }));
      expect(error).toMatchObject({
        status: 400,
        param: 'team_id',
        code: '400',
        message: 'Unable to find team object in database. Team ID: no-such-team',
      });
      expect((await g.ok<{ total_count: number }>('/key/list')).total_count).toBe(before);
    });

    it('leaves a key unchanged when moving it to a team that does not exist', async () => {
      const team = await newTeam();
      const key = await newKey({ team_id: team.team_id, rpm_limit: 5 });
      expect(
        await errorOf(await g.call('/key/update', { key: key.key, team_id: 'gone', rpm_limit: 9 })),
      ).toMatchObject({ status: 400, param: 'team_id' });
      const info = await g.ok<{ info: { team_id: string; rpm_limit: number } }>(`/key/info?key=${key.token}`);
      expect(info.info).toMatchObject({ team_id: team.team_id, rpm_limit: 5 });
    });

    it('leaves no team behind when a create fails, and keeps the one already there', async () => {
      const team = await newTeam({ rpm_limit: 7 });
      expect(await errorOf(await g.call('/team/new', { team_id: team.team_id }))).toMatchObject({
        status: 400,
        param: 'team_id',
      });
      expect(
        (await g.ok<{ team_info: Team }>(`/team/info?team_id=${team.team_id}`)).team_info['rpm_limit'],
      ).toBe(7);
      const id = `bad-${randomUUID()}`;
      for (const body of [
        { team_id: id, rpm_limit: -1 },
        { team_id: id, budget_duration: '1y' },
        { team_id: id, surprise: 1 },
      ]) {
        expect((await errorOf(await g.call('/team/new', body))).status).toBe(400);
      }
      expect((await g.call(`/team/info?team_id=${id}`)).status).toBe(404);
    });

    it("answers LiteLLM's errors for unknown teams and missing ids", async () => {
      expect((await errorOf(await g.call('/team/update', { team_id: 'nope', rpm_limit: 1 }))).status).toBe(
        404,
      );
      expect((await errorOf(await g.call('/team/delete', { team_ids: ['nope'] }))).status).toBe(404);
      expect((await errorOf(await g.call('/team/block', { team_id: 'nope' }))).status).toBe(404);
      expect((await errorOf(await g.call('/team/info'))).status).toBe(422);
      expect(
        await errorOf(await g.call('/team/member_delete', { team_id: 'nope', user_id: 'x' })),
      ).toMatchObject({
        status: 400,
        message: 'Team id=nope does not exist in db',
      });
      const outsider = await newKey();
      expect((await errorOf(await g.call('/team/new', {}, outsider.key))).status).toBe(401);
    });
  });

  type Membership = {
    user_id: string;
    team_id: string;
    spend: number;
    litellm_budget_table: {
      max_budget: number;
      budget_duration: string | null;
      budget_reset_at: string | null;
    };
  };
  const membershipsOf = async (userId: string, teamId: string) => {
    const info = await g.ok<{ teams: Array<{ team_id: string; team_memberships: Membership[] }> }>(
      `/user/info?user_id=${userId}`,
    );
    return info.teams.find((t) => t.team_id === teamId)?.team_memberships ?? [];
  };

  describe('member budgets (max_budget_in_team)', () => {
    const over = (userId: string, teamId: string) =>
      `Budget has been exceeded! User=${userId} in Team=${teamId} Current cost:`;

    it('refuses the second call once the member budget is spent (test_users_in_team_budget)', async () => {
      const team = await newTeam();
      const userId = `krrish_${randomUUID()}@berri.ai`;
      const { key } = await newUser({
        user_id: userId,
        max_budget: 10,
        budget_duration: '5s',
        team_id: team.team_id,
        models: ['gpt-4o'],
      });
      await g.ok('/team/member_update', {
        team_id: team.team_id,
        user_id: userId,
        max_budget_in_team: 0.0000001,
      });
      expect((await g.chat(key)).status).toBe(200);
      const error = await errorOf(await g.chat(key));
      expect(error).toMatchObject({
        status: 400,
        code: '400',
        type: 'budget_exceeded',
        fleetgate: 'budget_exceeded',
      });
      expect(error['message']).toContain('Budget has been exceeded');
      expect(error['message']).toContain(over(userId, team.team_id));
      expect(error['message']).toContain('Max budget: 1e-7');
      const [membership] = await membershipsOf(userId, team.team_id);
      expect(membership?.litellm_budget_table.max_budget).toBe(0.0000001);
      // The user's own budget (10) is not what refused: its personal keys still work.
      const personal = await newKey({ user_id: userId });
      expect((await g.chat(personal.key)).status).toBe(200);
    });

    it('gives each member added with /team/member_add the budget, for keys of that team and that user only', async () => {
      const team = await newTeam();
      const other = await newTeam();
      const user = await newUser();
      const teammate = await newUser();
      await g.ok('/team/member_add', {
        team_id: team.team_id,
        member: [
          { role: 'user', user_id: user.user_id },
          { role: 'user', user_id: teammate.user_id },
        ],
        max_budget_in_team: 0.0000001,
      });
      const held = await newKey({ team_id: team.team_id, user_id: user.user_id });
      expect((await g.chat(held.key)).status).toBe(200);
      expect((await errorOf(await g.chat(held.key)))['message']).toContain(over(user.user_id, team.team_id));
      // Another key of the same member shares the spent budget…
      const second = await newKey({ team_id: team.team_id, user_id: user.user_id });
      expect((await errorOf(await g.chat(second.key))).status).toBe(400);
      // …but the user's keys elsewhere, the team's keys without a user and the teammate's are not held to it.
      for (const body of [
        { user_id: user.user_id },
        { team_id: other.team_id, user_id: user.user_id },
        { team_id: team.team_id },
      ]) {
        expect((await g.chat((await newKey(body)).key)).status, JSON.stringify(body)).toBe(200);
      }
      const mate = await newKey({ team_id: team.team_id, user_id: teammate.user_id });
      expect((await g.chat(mate.key)).status).toBe(200);
      const info = await g.ok<{ team_memberships: Membership[] }>(`/team/info?team_id=${team.team_id}`);
      expect(info.team_memberships.map((m) => m.user_id).sort()).toEqual(
        [user.user_id, teammate.user_id].sort(),
      );
      await expect
        .poll(async () => (await membershipsOf(user.user_id, team.team_id))[0]?.spend, {
          timeout: 2_000,
          interval: 20,
        })
        .toBeCloseTo(CALL_COST, 12);
    });

    it('gives a budget to a user created into a team with /user/new teams', async () => {
      const team = await newTeam();
      const user = await newUser({ teams: [{ team_id: team.team_id, max_budget_in_team: 0.5 }] });
      const [membership] = await membershipsOf(user.user_id, team.team_id);
      expect(membership).toMatchObject({ spend: 0, litellm_budget_table: { max_budget: 0.5 } });
    });

    it('changes and removes the budget with /team/member_update, keeping the spend while it exists', async () => {
      const team = await newTeam();
      const user = await newUser({ team_id: team.team_id });
      await g.ok('/team/member_update', {
        team_id: team.team_id,
        user_id: user.user_id,
        max_budget_in_team: 0.0000001,
      });
      expect((await g.chat(user.key)).status).toBe(200);
      expect((await errorOf(await g.chat(user.key))).status).toBe(400);
      const raised = await g.ok<Record<string, unknown>>('/team/member_update', {
        team_id: team.team_id,
        user_id: user.user_id,
        max_budget_in_team: 1,
        budget_duration: '30d',
      });
      expect(raised).toMatchObject({ team_id: team.team_id, user_id: user.user_id, max_budget_in_team: 1 });
      expect((await g.chat(user.key)).status).toBe(200);
      const [kept] = await membershipsOf(user.user_id, team.team_id);
      expect(kept?.spend).toBeGreaterThan(0);
      expect(kept?.litellm_budget_table).toMatchObject({ max_budget: 1, budget_duration: '30d' });
      expect(kept?.litellm_budget_table.budget_reset_at).not.toBeNull();
      // A role change alone leaves the budget as it is (merge-patch, as LiteLLM's).
      await g.ok('/team/member_update', { team_id: team.team_id, user_id: user.user_id, role: 'admin' });
      expect((await membershipsOf(user.user_id, team.team_id))[0]?.litellm_budget_table.max_budget).toBe(1);
      const info = await g.ok<{ team_info: Team }>(`/team/info?team_id=${team.team_id}`);
      expect(info.team_info.members_with_roles.find((m) => m.user_id === user.user_id)?.role).toBe('admin');
      await g.ok('/team/member_update', {
        team_id: team.team_id,
        user_id: user.user_id,
        max_budget_in_team: 0.0000001,
      });
      expect((await errorOf(await g.chat(user.key))).status).toBe(400);
      const removed = await g.ok('/team/member_update', {
        team_id: team.team_id,
        user_email: null,
        user_id: user.user_id,
        max_budget_in_team: null,
      });
      expect(removed).toMatchObject({ max_budget_in_team: null });
      expect(await membershipsOf(user.user_id, team.team_id)).toEqual([]);
      expect((await g.chat(user.key)).status).toBe(200);
    });

    it('deletes the budget with the membership: /team/member_delete, /team/delete, /user/delete', async () => {
      const team = await newTeam();
      const user = await newUser({ team_id: team.team_id });
      const spend = async () => {
        await g.ok('/team/member_update', {
          team_id: team.team_id,
          user_id: user.user_id,
          max_budget_in_team: 0.0000001,
        });
        expect((await g.chat(user.key)).status).toBe(200);
        expect((await errorOf(await g.chat(user.key))).status).toBe(400);
      };
      await spend();
      await g.ok('/team/member_delete', { team_id: team.team_id, user_id: user.user_id });
      expect((await g.chat(user.key)).status).toBe(200);
      // Added again with a budget, the member starts from nothing: the old account and its spend are gone.
      await g.ok('/team/member_add', {
        team_id: team.team_id,
        member: { role: 'user', user_id: user.user_id },
        max_budget_in_team: 1,
      });
      expect((await membershipsOf(user.user_id, team.team_id))[0]).toMatchObject({ spend: 0 });

      // The team deleted (its keys with it) and made again under the same id: no budget comes back.
      const teamId = `t-${randomUUID()}`;
      const member = await newUser();
      await newTeam({ team_id: teamId, members_with_roles: [{ role: 'user', user_id: member.user_id }] });
      await g.ok('/team/member_update', {
        team_id: teamId,
        user_id: member.user_id,
        max_budget_in_team: 0.0000001,
      });
      const first = await newKey({ team_id: teamId, user_id: member.user_id });
      expect((await g.chat(first.key)).status).toBe(200);
      await g.ok('/team/delete', { team_ids: [teamId] });
      await newTeam({ team_id: teamId, members_with_roles: [{ role: 'user', user_id: member.user_id }] });
      expect(
        (await g.ok<{ team_memberships: unknown[] }>(`/team/info?team_id=${teamId}`)).team_memberships,
      ).toEqual([]);
      const again = await newKey({ team_id: teamId, user_id: member.user_id });
      expect((await g.chat(again.key)).status).toBe(200);
      expect((await g.chat(again.key)).status).toBe(200);

      // The user deleted: its budgets in teams go with it.
      await g.ok('/team/member_update', { team_id: teamId, user_id: member.user_id, max_budget_in_team: 2 });
      expect(
        (await g.ok<{ team_memberships: unknown[] }>(`/team/info?team_id=${teamId}`)).team_memberships,
      ).toHaveLength(1);
      await g.ok('/user/delete', { user_ids: [member.user_id] });
      expect(
        (await g.ok<{ team_memberships: unknown[] }>(`/team/info?team_id=${teamId}`)).team_memberships,
      ).toEqual([]);
    });

    it.runIf(backend === 'redis')(
      'serves a key on a replica that has not heard yet that its member budget was removed',
      async () => {
        const namespace = `admin-${randomUUID()}`;
        const a = startAdminApp('redis', fakeBase, inject('redisUrl'), { namespace });
        // A replica that polls for changes only once a minute: its copy of the key stays stale.
        const b = startAdminApp('redis', fakeBase, inject('redisUrl'), { namespace, pollMs: 60_000 });
        try {
          const team = await a.ok<Team>('/team/new', {});
          const user = await a.ok<{ key: string; user_id: string }>('/user/new', {
            user_id: `u-${randomUUID()}`,
            team_id: team.team_id,
          });
          await a.ok('/team/member_update', {
            team_id: team.team_id,
            user_id: user.user_id,
            max_budget_in_team: 5,
          });
          expect((await b.chat(user.key)).status).toBe(200);
          await a.ok('/team/member_update', {
            team_id: team.team_id,
            user_id: user.user_id,
            max_budget_in_team: null,
          });
          expect((await b.chat(user.key)).status).toBe(200);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
    );
  });

  describe('member budgets: bad input writes nothing', () => {
    it('refuses a negative budget, naming the field, and adds no member', async () => {
      const team = await newTeam();
      const user = await newUser();
      const add = await errorOf(
        await g.call('/team/member_add', {
          team_id: team.team_id,
          member: { role: 'user', user_id: user.user_id },
          max_budget_in_team: -1,
        }),
      );
      expect(add).toMatchObject({ status: 400, code: '400', param: 'max_budget_in_team' });
      const info = await g.ok<{ team_info: Team; team_memberships: unknown[] }>(
        `/team/info?team_id=${team.team_id}`,
      );
      expect(info.team_info.members_with_roles.some((m) => m.user_id === user.user_id)).toBe(false);
      expect(info.team_memberships).toEqual([]);
      await g.ok('/team/member_add', {
        team_id: team.team_id,
        member: { role: 'user', user_id: user.user_id },
      });
      for (const [body, param] of [
        [{ max_budget_in_team: -1 }, 'max_budget_in_team'],
        [{ max_budget_in_team: 'a lot' }, 'max_budget_in_team'],
        [{ max_budget_in_team: 1, budget_duration: '1y' }, 'budget_duration'],
        [{ budget_duration: '30d' }, 'budget_duration'],
        [{ max_budget_in_team: 1, tpm_limit: 10 }, 'tpm_limit'],
        [{ max_budget_in_team: 1, surprise: 1 }, 'surprise'],
      ] as const) {
        const error = await errorOf(
          await g.call('/team/member_update', { team_id: team.team_id, user_id: user.user_id, ...body }),
        );
        expect(error, JSON.stringify(body)).toMatchObject({ status: 400, code: '400', param });
      }
      expect(await membershipsOf(user.user_id, team.team_id)).toEqual([]);
    });

    it("answers LiteLLM's 400s for an unknown team, a non-member and a user that does not exist", async () => {
      const team = await newTeam();
      const user = await newUser();
      expect(
        await errorOf(
          await g.call('/team/member_update', {
            team_id: 'nope',
            user_id: user.user_id,
            max_budget_in_team: 1,
          }),
        ),
      ).toMatchObject({ status: 400, param: 'team_id', message: 'Team id=nope does not exist in db' });
      const outsider = await errorOf(
        await g.call('/team/member_update', {
          team_id: team.team_id,
          user_id: user.user_id,
          max_budget_in_team: 1,
        }),
      );
      expect(outsider).toMatchObject({ status: 400, param: 'user_id' });
      expect(outsider['message']).toContain("User id doesn't exist in team table");
      expect(
        await errorOf(await g.call('/team/member_update', { team_id: team.team_id, max_budget_in_team: 1 })),
      ).toMatchObject({ status: 400, param: 'user_id' });
      // A budget is kept for a user: a member that is no user cannot have one, and is not added either.
      const ghost = `ghost-${randomUUID()}`;
      const missing = await errorOf(
        await g.call('/team/member_add', {
          team_id: team.team_id,
          member: [
            { role: 'user', user_id: user.user_id },
            { role: 'user', user_id: ghost },
          ],
          max_budget_in_team: 1,
        }),
      );
      expect(missing).toMatchObject({ status: 400, param: 'member.user_id' });
      expect(missing['message']).toContain(`User=${ghost} does not exist`);
      const info = await g.ok<{ team_info: Team; team_memberships: unknown[] }>(
        `/team/info?team_id=${team.team_id}`,
      );
      expect(info.team_info.members_with_roles.map((m) => m.user_id)).not.toContain(user.user_id);
      expect(info.team_memberships).toEqual([]);
      expect(
        await errorOf(
          await g.call('/team/member_add', {
            team_id: 'nope',
            member: { role: 'user', user_id: user.user_id },
            max_budget_in_team: 1,
          }),
        ),
      ).toMatchObject({ status: 404, param: 'team_id' });
    });
  });

  describe('enforcement', () => {
    it('sets a limit and clears it again (test_team_limit_modifications)', async () => {
      const team = await newTeam({ max_budget: null, rpm_limit: null, tpm_limit: null });
      const set = await g.ok<{ data: Team }>('/team/update', { team_id: team.team_id, max_budget: 10 });
      expect(set.data['max_budget']).toBe(10);
      const cleared = await g.ok<{ data: Team }>('/team/update', { team_id: team.team_id, max_budget: null });
      expect(cleared.data['max_budget']).toBeNull();
    });

    it('refuses a team key once the team budget is spent, naming the team; a raise lets it through', async () => {
      const team = await newTeam({ max_budget: 0.0000000005 });
      const key = await newKey({ team_id: team.team_id, max_budget: 0.001 });
      let calls = 0;
      let error: Record<string, unknown> & { status: number } = { status: 0 };
      while (calls < 50) {
        const res = await g.chat(key.key);
        if (res.status !== 200) {
          error = await errorOf(res);
          break;
        }
        calls++;
      }
      expect(calls).toBeGreaterThan(0);
      expect(error).toMatchObject({ status: 400, code: '400', type: 'budget_exceeded' });
      expect(error['message']).toContain(`Budget has been exceeded! Team=${team.team_id}`);
      expect(error['message']).toContain('Max budget:');
      await g.ok('/team/update', { team_id: team.team_id, max_budget: 0.001 });
      for (let i = 0; i < 3; i++) expect((await g.chat(key.key)).status).toBe(200);
    });

    it("shows spend on the key, the team and the key's user", async () => {
      const team = await newTeam();
      const user = await newUser({ team_id: team.team_id });
      const key = await newKey({ team_id: team.team_id, user_id: user.user_id });
      expect((await g.chat(key.key)).status).toBe(200);
      const spendOf = async () => [
        (await g.ok<{ info: { spend: number } }>(`/key/info?key=${key.token}`)).info.spend,
        (await g.ok<{ team_info: { spend: number } }>(`/team/info?team_id=${team.team_id}`)).team_info.spend,
        (await g.ok<{ user_info: { spend: number } }>(`/user/info?user_id=${user.user_id}`)).user_info.spend,
      ];
      await expect
        .poll(spendOf, { timeout: 2_000, interval: 20 })
        .toEqual([
          expect.closeTo(CALL_COST, 12),
          expect.closeTo(CALL_COST, 12),
          expect.closeTo(CALL_COST, 12),
        ]);
    });

    it("holds all of a team's keys to the team's rpm together", async () => {
      const team = await newTeam({ rpm_limit: 3 });
      const a = await newKey({ team_id: team.team_id });
      const b = await newKey({ team_id: team.team_id });
      for (const k of [a, b, a]) expect((await g.chat(k.key)).status).toBe(200);
      const refused = await g.chat(b.key);
      expect(await errorOf(refused.clone())).toMatchObject({ status: 429, fleetgate: 'rate_limited' });
      expect((await errorOf(refused)).message).toContain(
        `Rate limit exceeded for team: ${team.team_id}. Limit type: requests`,
      );
    });

    it("caps a team's requests in flight across its keys", async () => {
      const team = await newTeam({ max_parallel_requests: 1 });
      const a = await newKey({ team_id: team.team_id });
      const b = await newKey({ team_id: team.team_id });
      fake.configure({ latencyMs: 300 });
      try {
        const statuses = (await Promise.all([g.chat(a.key), g.chat(b.key)])).map((r) => r.status).sort();
        expect(statuses).toEqual([200, 429]);
      } finally {
        fake.configure({ latencyMs: 0 });
      }
    });

    it("refuses a model the team may not use with LiteLLM's team_model_access_denied", async () => {
      const team = await newTeam({ models: ['gpt-4o'] });
      const key = await newKey({ team_id: team.team_id });
      expect((await g.chat(key.key)).status).toBe(200);
      const denied = await errorOf(await g.chat(key.key, 'embed'));
      // LiteLLM's e2e model-access test: 403, code "403", a message naming the team.
      expect(denied).toMatchObject({ status: 403, type: 'team_model_access_denied', param: 'model' });
      expect(String(denied['message'])).toContain('eam not allowed to access model');
      const listed = await g.ok<{ data: Array<{ id: string }> }>('/v1/models', undefined, key.key);
      expect(listed.data.map((m) => m.id)).toEqual(['gpt-4o']);
    });

    it("serves a team's keys its model_aliases (test_team_alias), a key's own aliases over them", async () => {
      const team = await newTeam({ model_aliases: { 'cheap-model': 'gpt-4o', vectors: 'embed' } });
      const key = await newKey({ team_id: team.team_id, models: ['gpt-4o'] });
      const before = fake.stats().requests;
      const res = await g.chat(key.key, 'cheap-model');
      expect(res.status).toBe(200);
      expect(fake.stats().requests).toBe(before + 1);
      expect(fake.stats().last.at(-1)?.body).toMatchObject({ model: 'gpt-4o' });
      // An alias does not widen what the key may use: its target is checked like a model asked for.
      expect(await errorOf(await g.chat(key.key, 'vectors'))).toMatchObject({
        status: 403,
        type: 'key_model_access_denied',
      });
      // The key's own aliases win over the team's; other keys have none.
      const own = await newKey({ team_id: team.team_id, aliases: { 'cheap-model': 'nowhere' } });
      expect(await errorOf(await g.chat(own.key, 'cheap-model'))).toMatchObject({ status: 400 });
      const outsider = await newKey();
      expect(await errorOf(await g.chat(outsider.key, 'cheap-model'))).toMatchObject({ status: 400 });
      // A bad shape is refused, naming the entry.
      expect(
        await errorOf(await g.call('/team/new', { team_alias: 'x', model_aliases: { a: 1 } })),
      ).toMatchObject({ status: 400, param: 'model_aliases.a' });
    });

    it('refuses the keys of a blocked team at once, and serves them again when unblocked', async () => {
      const team = await newTeam();
      const key = await newKey({ team_id: team.team_id });
      expect((await g.chat(key.key)).status).toBe(200);
      expect((await g.ok<Team>('/team/block', { team_id: team.team_id }))['blocked']).toBe(true);
      const error = await errorOf(await g.chat(key.key));
      expect(error).toMatchObject({ status: 401, type: 'auth_error' });
      expect(error['message']).toContain(`Team=${team.team_id} is blocked`);
      expect((await g.ok<Team>('/team/unblock', { team_id: team.team_id }))['blocked']).toBe(false);
      await expect
        .poll(async () => (await g.chat(key.key)).status, { timeout: 2_000, interval: 20 })
        .toBe(200);
    });

    it.each([
      ['key max_parallel_requests', {}, { max_parallel_requests: 0 }, 'api_key', 'max_parallel_requests'],
      ['key rpm_limit', {}, { rpm_limit: 0 }, 'api_key', 'requests'],
      ['key tpm_limit', {}, { tpm_limit: 0 }, 'api_key', 'tokens'],
      ['team max_parallel_requests', { max_parallel_requests: 0 }, {}, 'team', 'max_parallel_requests'],
      ['team rpm_limit', { rpm_limit: 0 }, {}, 'team', 'requests'],
      ['team tpm_limit', { tpm_limit: 0 }, {}, 'team', 'tokens'],
    ])('serves nothing with a %s of 0 (LiteLLM: 429)', async (_name, teamBody, keyBody, scope, kind) => {
      const team = await newTeam(teamBody);
      const key = await newKey({ team_id: team.team_id, ...keyBody });
      const error = await errorOf(await g.chat(key.key));
      expect(error).toMatchObject({ status: 429, code: '429' });
      expect(error['message']).toContain(`Rate limit exceeded for ${scope}: `);
      expect(error['message']).toContain(`Limit type: ${kind}. Current limit: 0`);
    });
  });
});
