import { randomUUID } from 'node:crypto';
import type { BudgetPeriod, StoredAccount } from '@fleetgate/ratelimit';
import { badRequest, GatewayError } from '../errors.js';
import { applyBudgetDuration } from '../keys/budget-fields.js';
import { type Directory, isMemberAccount, teamAccountId } from '../keys/directory.js';
import { keyInfo } from '../keys/key-doc.js';
import { memberDocOf, membershipInfo } from './member-budget.js';
import { createMemberBudgets } from './member-budgets.js';
import { type TeamDoc, type TeamMember, teamDocOf, teamInfo, toTeamAccount } from './team-doc.js';
import {
  type MemberInput,
  type MemberUpdate,
  type NewTeam,
  TEAM_INERT_FIELDS,
  type UpdateTeam,
} from './team-schema.js';

/** The user id LiteLLM gives the master key; it makes the team's creator its admin. */
export const MASTER_USER_ID = 'default_user_id';

const teamNotFound = (teamId: string, message = `Team not found, passed team_id=${teamId}`) =>
  new GatewayError(404, 'not_found', message, { param: 'team_id' });

/**
 * LiteLLM's team admin API over the teams' account store: create, read, change, block, list and
 * delete teams, and manage their members. A team's limits and budget hold for all its keys together
 * (the key cache and admission read them); deleting a team deletes its keys in the same step.
 */
export function createTeamAdmin(dir: Directory, now: () => number = Date.now) {
  const { teams } = dir;
  const budgets = createMemberBudgets(dir, now);

  async function load(teamId: string, notFound = teamNotFound(teamId)): Promise<StoredAccount> {
    const account = await teams.get(teamAccountId(teamId));
    if (!account) throw notFound;
    return account;
  }

  /** Applies the fields present in `body`; returns the budget schedule. */
  function apply(
    doc: TeamDoc,
    body: Omit<Partial<UpdateTeam>, 'team_id'>,
    current: BudgetPeriod | undefined,
  ) {
    const t = now();
    let budget = current;
    for (const field of [
      'team_alias',
      'rpm_limit',
      'tpm_limit',
      'max_parallel_requests',
      'max_budget',
    ] as const) {
      if (body[field] !== undefined) (doc as unknown as Record<string, unknown>)[field] = body[field];
    }
    if (body.models !== undefined) doc.models = body.models;
    if (body.metadata !== undefined) doc.metadata = body.metadata ?? {};
    if (body.blocked !== undefined) doc.blocked = body.blocked ?? false;
    if (body.budget_duration !== undefined) {
      const b = applyBudgetDuration(body.budget_duration, { text: doc.budget_duration, budget }, t);
      budget = b.budget;
      doc.budget_duration = b.text;
    }
    for (const f of TEAM_INERT_FIELDS) {
      const v = (body as Record<string, unknown>)[f];
      if (v !== undefined) doc.extra = { ...doc.extra, [f]: v };
    }
    doc.updated_at = new Date(t).toISOString();
    return budget;
  }

  async function write(account: StoredAccount, doc: TeamDoc, budget = account.budget) {
    const result = await teams.update(toTeamAccount(doc, budget, account.createdAt));
    if (result === 'missing') throw teamNotFound(doc.team_id);
    return (await teams.get(account.id)) ?? { ...account, doc: JSON.stringify(doc) };
  }

  async function userIdOf(email: string): Promise<string | null> {
    const { ids } = await dir.users.list(0, Number.MAX_SAFE_INTEGER);
    for (const id of ids) {
      const user = await dir.users.get(id);
      const doc = user && (JSON.parse(user.doc) as { user_id: string; user_email: string | null });
      if (doc?.user_email === email) return doc.user_id;
    }
    return null;
  }

  /** The team's keys, as `/team/info` and `/team/list` show them (hashes, never the keys). */
  async function keysOf(teamId: string) {
    // A team's members are its keys and its member budgets: only the keys here.
    const ids = (await dir.keys.members(teamAccountId(teamId))).filter((id) => !isMemberAccount(id));
    const keys = await Promise.all(ids.map((id) => dir.keys.get(id)));
    return keys.filter((k): k is StoredAccount => !!k).map(keyInfo);
  }

  return {
    async create(body: NewTeam, creator: string = MASTER_USER_ID) {
      const teamId = body.team_id ?? randomUUID();
      const t = new Date(now()).toISOString();
      const members: TeamMember[] = (body.members_with_roles ?? []).map(memberOf);
      for (const m of members)
        if (m.user_id === null && m.user_email !== null) m.user_id = await userIdOf(m.user_email);
      // As LiteLLM: whoever creates a team is its admin, unless already listed.
      if (!members.some((m) => m.user_id === creator))
        members.push({ role: 'admin', user_id: creator, user_email: null });
      const doc: TeamDoc = {
        team_id: teamId,
        team_alias: null,
        models: [],
        rpm_limit: null,
        tpm_limit: null,
        max_parallel_requests: null,
        max_budget: null,
        budget_duration: null,
        metadata: {},
        members_with_roles: members,
        blocked: false,
        created_at: t,
        updated_at: t,
      };
      const budget = apply(doc, body, undefined);
      const record = toTeamAccount(doc, budget, now());
      if ((await teams.create(record, 0)) === 'exists') {
        throw badRequest(`Team id = ${teamId} already exists. Please use a different team id.`, 'team_id');
      }
      return teamInfo({ ...record, spend: 0 });
    },

    async info(teamId: string) {
      const account = await load(teamId, teamNotFound(teamId, `Team not found, passed team id: ${teamId}.`));
      return {
        team_id: teamId,
        team_info: teamInfo(account),
        keys: await keysOf(teamId),
        team_memberships: await budgets.ofTeam(teamId),
      };
    },

    async update(body: UpdateTeam) {
      const account = await load(body.team_id);
      const doc = teamDocOf(account);
      const budget = apply(doc, body, account.budget);
      return { team_id: body.team_id, data: teamInfo(await write(account, doc, budget)) };
    },

    async block(teamId: string, blocked: boolean) {
      const account = await load(teamId);
      const doc = teamDocOf(account);
      doc.blocked = blocked;
      doc.updated_at = new Date(now()).toISOString();
      return teamInfo(await write(account, doc));
    },

    /**
     * Deletes the teams with every key and member budget they hold (in the same atomic step: those
     * accounts name the team as a parent); all must exist, or nothing is deleted.
     */
    async delete(teamIds: readonly string[]) {
      for (const id of teamIds) await load(id);
      await teams.delete(teamIds.map(teamAccountId));
      return { deleted_teams: teamIds };
    },

    async list(query: { user_id?: string | undefined }) {
      const { ids } = await teams.list(0, Number.MAX_SAFE_INTEGER);
      const accounts = (await Promise.all(ids.map((id) => teams.get(id)))).filter(
        (a): a is StoredAccount => !!a,
      );
      const rows = accounts
        .map((a) => ({ account: a, doc: teamDocOf(a) }))
        .filter(
          ({ doc }) =>
            query.user_id === undefined || doc.members_with_roles.some((m) => m.user_id === query.user_id),
        )
        .sort((a, b) => (a.doc.team_alias ?? '').localeCompare(b.doc.team_alias ?? ''));
      return Promise.all(
        rows.map(async ({ account, doc }) => ({
          ...teamInfo(account),
          team_memberships: await budgets.ofTeam(doc.team_id),
          keys: await keysOf(doc.team_id),
        })),
      );
    },

    /**
     * Adds members; with `maxBudget`, each gets that budget inside the team (LiteLLM's
     * `max_budget_in_team`), so each must be an existing user. The budgets are created first, all or
     * none, and deleted again if the team cannot be written.
     */
    async memberAdd(teamId: string, added: MemberInput | MemberInput[], maxBudget: number | null = null) {
      const account = await load(teamId, teamNotFound(teamId, `Team not found for team_id=${teamId}`));
      const doc = teamDocOf(account);
      const members = (Array.isArray(added) ? added : [added]).map(memberOf);
      // A member named by email is the user with that email, when there is one (LiteLLM links them).
      for (const m of members)
        if (m.user_id === null && m.user_email !== null) m.user_id = await userIdOf(m.user_email);
      for (const m of members) {
        const known = doc.members_with_roles.some(
          (e) =>
            (m.user_id !== null && e.user_id === m.user_id) ||
            (m.user_email !== null && e.user_email === m.user_email),
        );
        if (known) {
          throw badRequest(`User=${m.user_id ?? m.user_email} already in team. Team id=${teamId}`, 'member');
        }
      }
      let created: StoredAccount[] = [];
      if (maxBudget !== null) {
        await budgets.checkUsers(
          members.map((m) => m.user_id),
          members.map((m) => m.user_email),
        );
        created = await budgets.create(
          teamId,
          members.map((m) => m.user_id!),
          maxBudget,
        );
      }
      doc.members_with_roles.push(...members);
      doc.updated_at = new Date(now()).toISOString();
      let written: StoredAccount;
      try {
        written = await write(account, doc);
      } catch (error) {
        // The members are not in the team: their budgets must not hold their keys.
        await budgets.remove(
          teamId,
          created.map((a) => memberDocOf(a).user_id),
        );
        throw error;
      }
      return {
        ...teamInfo(written),
        updated_users: [],
        updated_team_memberships: created.map(membershipInfo),
      };
    },

    /**
     * `/team/member_update`: a member's role and budget inside the team, merge-patch (a field sent
     * changes, null clears, absent stays). The member is found by user_id or email among the team's.
     */
    async memberUpdate(body: MemberUpdate) {
      const account = await teams.get(teamAccountId(body.team_id));
      // LiteLLM answers 400 here, not 404.
      if (!account) throw badRequest(`Team id=${body.team_id} does not exist in db`, 'team_id');
      const doc = teamDocOf(account);
      const member = doc.members_with_roles.find(
        (m) =>
          (body.user_id && m.user_id === body.user_id) ||
          (body.user_email && m.user_email === body.user_email),
      );
      if (!member?.user_id) {
        const who = body.user_id ? `user_id=${body.user_id}` : `user_email=${body.user_email}`;
        throw badRequest(
          `User id doesn't exist in team table. Team id=${body.team_id}, ${who}`,
          body.user_id ? 'user_id' : 'user_email',
        );
      }
      const userId = member.user_id;
      let budget = await budgets.get(body.team_id, userId);
      if (body.max_budget_in_team !== undefined || body.budget_duration !== undefined) {
        const maxBudget =
          body.max_budget_in_team !== undefined ? body.max_budget_in_team : (budget?.maxBudget ?? null);
        const kept = budget && maxBudget !== null ? memberDocOf(budget).budget_duration : null;
        budget = await budgets.set(body.team_id, userId, {
          maxBudget,
          duration: body.budget_duration !== undefined ? body.budget_duration : kept,
        });
      }
      if (body.role && body.role !== member.role) {
        member.role = body.role;
        doc.updated_at = new Date(now()).toISOString();
        await write(account, doc);
      }
      return {
        team_id: body.team_id,
        user_id: userId,
        user_email: member.user_email,
        role: member.role,
        max_budget_in_team: budget?.maxBudget ?? null,
        budget_duration: budget ? memberDocOf(budget).budget_duration : null,
        tpm_limit: null,
        rpm_limit: null,
      };
    },

    async memberDelete(teamId: string, who: { user_id?: string | null; user_email?: string | null }) {
      const account = await teams.get(teamAccountId(teamId));
      // LiteLLM answers 400 here, not 404.
      if (!account) throw badRequest(`Team id=${teamId} does not exist in db`, 'team_id');
      const doc = teamDocOf(account);
      const leaving = (m: TeamMember) =>
        (!!who.user_id && m.user_id === who.user_id) || (!!who.user_email && m.user_email === who.user_email);
      const gone = doc.members_with_roles.filter(leaving);
      if (gone.length === 0) throw badRequest('User not found in team', 'user_id');
      // Their budgets go first: a failed team write then leaves members without budgets (sending the
      // delete again finishes it), never budgets of users who are no longer members.
      await budgets.remove(
        teamId,
        gone.map((m) => m.user_id).filter((id): id is string => id !== null),
      );
      doc.members_with_roles = doc.members_with_roles.filter((m) => !leaving(m));
      doc.updated_at = new Date(now()).toISOString();
      return teamInfo(await write(account, doc));
    },
  };
}

function memberOf(m: MemberInput): TeamMember {
  return { role: m.role, user_id: m.user_id ?? null, user_email: m.user_email ?? null };
}

export type TeamAdmin = ReturnType<typeof createTeamAdmin>;
