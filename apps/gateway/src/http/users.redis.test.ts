import { randomUUID } from 'node:crypto';
import { createFakeLlm, type FakeLlm } from '@fleetgate/fake-llm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AdminApp, errorOf, startAdminApp } from './admin-app.test-support.js';

/**
 * Users, LiteLLM's way (the cases of its tests/test_users.py), what a user enforces (its limits on
 * all its keys; its models and budget on its personal keys), and a key reading its own info (the
 * /key/info cases of tests/test_keys.py). In-process, on the memory store and on Redis.
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

interface NewUser {
  key: string | null;
  user_id: string;
  [k: string]: unknown;
}

describe.each(['memory', 'redis'] as const)('users (%s)', (backend) => {
  let g: AdminApp;
  beforeAll(() => {
    g = startAdminApp(backend, fakeBase, inject('redisUrl'));
  });
  afterAll(async () => {
    await g.close();
  });
  // As LiteLLM's test: models, aliases, "duration": null, "max_budget" and "budget_duration" maybe null.
  const newUser = (body: Record<string, unknown> = {}) =>
    g.ok<NewUser>('/user/new', {
      models: [],
      aliases: { 'mistral-7b': 'gpt-3.5-turbo' },
      duration: null,
      max_budget: null,
      budget_duration: null,
      ...body,
    });

  describe('admin API (test_users.py)', () => {
    it('creates users in parallel, each with its first key', async () => {
      const users = await Promise.all(Array.from({ length: 10 }, () => newUser()));
      expect(new Set(users.map((u) => u.user_id)).size).toBe(10);
      for (const u of users) expect(u.key).toMatch(/^sk-/);
      expect(JSON.stringify(users[0])).not.toContain('token_id');
    });

    it("shows a user to the master key and to the user's own key, not to another key", async () => {
      const id = `krrish_${Date.now()}_${randomUUID()}@berri.ai`;
      const user = await newUser({ user_id: id, max_budget: 10, budget_duration: '30d' });
      const admin = await g.ok<{ user_id: string; user_info: Record<string, unknown>; keys: unknown[] }>(
        `/user/info?user_id=${encodeURIComponent(id)}`,
      );
      expect(admin.user_info).toMatchObject({ user_id: id, max_budget: 10, spend: 0 });
      expect(admin.user_info['budget_reset_at']).toEqual(expect.any(String));
      expect(admin.keys).toHaveLength(1);
      expect(
        (await g.call(`/user/info?user_id=${encodeURIComponent(id)}`, undefined, user.key!)).status,
      ).toBe(200);
      const other = await newUser();
      expect(
        (await g.call(`/user/info?user_id=${encodeURIComponent(id)}`, undefined, other.key!)).status,
      ).toBe(403);
    });

    it('upserts on /user/update (LiteLLM\'s tests reset "litellm-proxy-budget" this way)', async () => {
      const id = `proxy-budget-${randomUUID()}`;
      expect(await g.ok('/user/update', { user_id: id, spend: 0 })).toMatchObject({ user_id: id });
      const updated = await g.ok<{ data: Record<string, unknown> }>('/user/update', {
        user_id: id,
        rpm_limit: 7,
      });
      expect(updated.data).toMatchObject({ user_id: id, rpm_limit: 7 });
    });

    it("refuses a duplicate user id with 409 and an unknown team with LiteLLM's 400, writing nothing", async () => {
      const user = await newUser();
      expect((await errorOf(await g.call('/user/new', { user_id: user.user_id }))).status).toBe(409);
      const id = `u-${randomUUID()}`;
      expect(
        await errorOf(await g.call('/user/new', { user_id: id, team_id: 'no-such-team' })),
      ).toMatchObject({
        status: 400,
        param: 'team_id',
      });
      expect((await g.call(`/user/info?user_id=${id}`)).status).toBe(404);
      expect((await errorOf(await g.call('/user/new', { user_id: id, password: 'hunter22' }))).status).toBe(
        400,
      );
      expect((await g.call(`/user/info?user_id=${id}`)).status).toBe(404);
    });

    it('creates a user without a key when asked, lists users with their key counts', async () => {
      const bare = await newUser({ auto_create_key: false });
      expect(bare.key).toBeNull();
      const listed = await g.ok<{ users: Array<{ user_id: string; key_count: number }>; total: number }>(
        `/user/list?user_ids=${bare.user_id}`,
      );
      expect(listed.users).toEqual([expect.objectContaining({ user_id: bare.user_id, key_count: 0 })]);
    });

    it("puts a user created with a team in the team, its key in the team's budget", async () => {
      const team = await g.ok<{ team_id: string }>('/team/new', { max_budget: 0.0000000005 });
      const user = await newUser({ team_id: team.team_id, max_budget: 10, budget_duration: '5s' });
      const info = await g.ok<{ teams: Array<{ team_id: string }>; keys: Array<{ team_id: string }> }>(
        `/user/info?user_id=${user.user_id}`,
      );
      expect(info.teams.map((t) => t.team_id)).toEqual([team.team_id]);
      expect(info.keys[0]?.team_id).toBe(team.team_id);
      expect((await g.chat(user.key!)).status).toBe(200);
      expect((await errorOf(await g.chat(user.key!)))['message']).toContain(`Team=${team.team_id}`);
    });

    it('deletes a user with its keys, and takes it out of its teams', async () => {
      const user = await newUser();
      const team = await g.ok<{ team_id: string }>('/team/new', {
        members_with_roles: [{ role: 'user', user_id: user.user_id }],
      });
      expect((await g.chat(user.key!)).status).toBe(200);
      expect(await g.ok('/user/delete', { user_ids: [user.user_id] })).toEqual({
        deleted_users: [user.user_id],
      });
      expect((await errorOf(await g.chat(user.key!))).status).toBe(401);
      const members = (
        await g.ok<{ team_info: { members_with_roles: Array<{ user_id: string }> } }>(
          `/team/info?team_id=${team.team_id}`,
        )
      ).team_info.members_with_roles;
      expect(members.map((m) => m.user_id)).not.toContain(user.user_id);
      expect((await errorOf(await g.call('/user/delete', { user_ids: [user.user_id] }))).status).toBe(404);
    });
  });

  describe('what a user enforces', () => {
    it("refuses a personal key once its user's budget is spent", async () => {
      const user = await newUser({ max_budget: 0.0000000005 });
      expect((await g.chat(user.key!)).status).toBe(200);
      const error = await errorOf(await g.chat(user.key!));
      expect(error).toMatchObject({ status: 400, type: 'budget_exceeded' });
      expect(error['message']).toContain(`ExceededBudget: User=${user.user_id} over budget.`);
    });

    it("does not hold a team key to its user's budget (the team's governs), but counts its spend", async () => {
      const team = await g.ok<{ team_id: string }>('/team/new', {});
      const user = await newUser({ max_budget: 0.0000000005, auto_create_key: false });
      const key = await g.ok<{ key: string }>('/key/generate', {
        team_id: team.team_id,
        user_id: user.user_id,
      });
      for (let i = 0; i < 3; i++) expect((await g.chat(key.key)).status).toBe(200);
      await expect
        .poll(
          async () =>
            (await g.ok<{ user_info: { spend: number } }>(`/user/info?user_id=${user.user_id}`)).user_info
              .spend,
        )
        .toBeGreaterThan(0);
    });

    it("holds all of a user's keys to the user's rpm together", async () => {
      const user = await newUser({ rpm_limit: 3 });
      const second = await g.ok<{ key: string }>('/key/generate', { user_id: user.user_id });
      for (const k of [user.key!, second.key, user.key!]) expect((await g.chat(k)).status).toBe(200);
      const error = await errorOf(await g.chat(second.key));
      expect(error).toMatchObject({ status: 429 });
      expect(error['message']).toContain(`Rate limit exceeded for user: ${user.user_id}`);
    });

    it("refuses a model outside a personal key's user's models", async () => {
      const user = await newUser({ models: ['gpt-4o'], auto_create_key: false });
      const key = await g.ok<{ key: string }>('/key/generate', { user_id: user.user_id });
      expect((await g.chat(key.key)).status).toBe(200);
      expect(await errorOf(await g.chat(key.key, 'embed'))).toMatchObject({
        type: 'key_model_access_denied',
      });
    });

    it("serves nothing to a user's keys when the user's limit is 0", async () => {
      const user = await newUser({ max_parallel_requests: 0, auto_create_key: false });
      const key = await g.ok<{ key: string }>('/key/generate', { user_id: user.user_id });
      const error = await errorOf(await g.chat(key.key));
      expect(error).toMatchObject({ status: 429 });
      expect(error['message']).toContain(
        `Rate limit exceeded for user: ${user.user_id}. Limit type: max_parallel_requests`,
      );
    });
  });

  describe('a key reads its own info (test_keys.py)', () => {
    it('by itself, with or without ?key=; another key is refused with 403', async () => {
      const mine = await g.ok<{ key: string; token: string }>('/key/generate', { max_budget: 10 });
      const self = await g.ok<{ key: string; info: Record<string, unknown> }>(
        `/key/info?key=${mine.key}`,
        undefined,
        mine.key,
      );
      expect(self).toMatchObject({ key: mine.key, info: { max_budget: 10 } });
      const bare = await g.ok<{ key: string; info: Record<string, unknown> }>(
        '/key/info',
        undefined,
        mine.key,
      );
      // As LiteLLM: without a query the answer names the caller's hash.
      expect(bare.key).toBe(mine.token);
      expect(JSON.stringify(bare)).not.toContain(mine.key);
      const other = await g.ok<{ key: string }>('/key/generate', {});
      expect((await errorOf(await g.call(`/key/info?key=${mine.key}`, undefined, other.key))).status).toBe(
        403,
      );
      expect((await errorOf(await g.call(`/key/info?key=${mine.token}`, undefined, other.key))).status).toBe(
        403,
      );
      expect((await errorOf(await g.call('/key/list', undefined, mine.key))).status).toBe(401);
    });
  });
});
