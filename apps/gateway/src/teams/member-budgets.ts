import type { StoredAccount } from '@fleetgate/ratelimit';
import { badRequest, GatewayError } from '../errors.js';
import { applyBudgetDuration } from '../keys/budget-fields.js';
import {
  type Directory,
  isMemberAccount,
  memberAccountId,
  teamAccountId,
  userAccountId,
} from '../keys/directory.js';
import { type MemberBudgetDoc, memberDocOf, membershipInfo, toMemberAccount } from './member-budget.js';

/** What a membership's budget should become: a budget (and its reset schedule), or none. */
export interface MemberBudgetChange {
  readonly maxBudget: number | null;
  readonly duration: string | null;
}

const noSuchUser = (userId: string, param: string) =>
  badRequest(
    `User=${userId} does not exist. A budget in a team is kept for a user: create it first (/user/new).`,
    param,
  );

/**
 * The member budget accounts of teams: written with the membership, read for the admin API. The
 * account store cannot write a team's document and other records in one step (deleting a team or a
 * user does take its member budgets in the same step: they name both as parents), so membership
 * writes are ordered: a budget is created before the team names the member (and deleted again if
 * the team write fails), and deleted before the team stops naming the member. Only a crash between
 * the two leaves a budget without a membership (still holding that user's keys of the team); adding
 * the member again replaces it.
 */
export function createMemberBudgets(dir: Directory, now: () => number = Date.now) {
  const { members } = dir;

  return {
    /** The budget of one membership, or undefined when it has none. */
    get: (teamId: string, userId: string) => members.get(memberAccountId(teamId, userId)),

    /** The memberships of a team that have a budget, as LiteLLM's `team_memberships` shows them. */
    async ofTeam(teamId: string): Promise<Record<string, unknown>[]> {
      const ids = (await dir.keys.members(teamAccountId(teamId))).filter(isMemberAccount);
      const found = (await Promise.all(ids.map((id) => members.get(id)))).filter(
        (a): a is StoredAccount => !!a,
      );
      return found.map(membershipInfo);
    },

    /**
     * Creates the budgets of members being added (all or none). Any account already there for one of
     * them belongs to no membership (an interrupted earlier write): it is replaced, spend and all.
     */
    async create(teamId: string, userIds: readonly string[], maxBudget: number): Promise<StoredAccount[]> {
      const t = now();
      const stamp = new Date(t).toISOString();
      const records = userIds.map((userId) => {
        const doc: MemberBudgetDoc = {
          team_id: teamId,
          user_id: userId,
          max_budget_in_team: maxBudget,
          budget_duration: null,
          created_at: stamp,
          updated_at: stamp,
        };
        return toMemberAccount(doc, undefined, t);
      });
      await members.delete(records.map((r) => r.id));
      const written = await members.createAll(
        records.map((record) => ({ record, spend: 0 })),
        { mustExist: [teamAccountId(teamId), ...userIds.map(userAccountId)] },
      );
      if (written.result === 'parent_missing') {
        if (written.id === teamAccountId(teamId)) throw teamGone(teamId);
        throw noSuchUser(written.id?.slice('user:'.length) ?? '', 'member.user_id');
      }
      if (written.result !== 'created') throw new Error(`member budgets not created: ${written.result}`);
      return records.map((r) => ({ ...r, spend: 0 }));
    },

    /**
     * Sets, changes or removes one membership's budget (`/team/member_update`). A new budget starts at
     * zero spend; a changed one keeps its spend; a removed one is deleted with its spend.
     */
    async set(
      teamId: string,
      userId: string,
      change: MemberBudgetChange,
    ): Promise<StoredAccount | undefined> {
      const id = memberAccountId(teamId, userId);
      const current = await members.get(id);
      if (change.maxBudget === null) {
        if (change.duration !== null) {
          throw badRequest('"budget_duration" needs a "max_budget_in_team" to reset', 'budget_duration');
        }
        if (current) await members.delete([id]);
        return undefined;
      }
      const t = now();
      const before = current && memberDocOf(current);
      const { text, budget } = applyBudgetDuration(
        change.duration,
        { text: before?.budget_duration ?? null, budget: current?.budget },
        t,
      );
      const stamp = new Date(t).toISOString();
      const doc: MemberBudgetDoc = {
        team_id: teamId,
        user_id: userId,
        max_budget_in_team: change.maxBudget,
        budget_duration: text,
        created_at: before?.created_at ?? stamp,
        updated_at: stamp,
      };
      const mustExist = { mustExist: [teamAccountId(teamId), userAccountId(userId)] };
      const record = toMemberAccount(doc, budget, current?.createdAt ?? t);
      const result = current
        ? await members.update(record, undefined, mustExist)
        : await members.create(record, 0, mustExist);
      if (result === 'parent_missing') {
        if (!(await dir.teams.get(teamAccountId(teamId)))) throw teamGone(teamId);
        throw noSuchUser(userId, 'user_id');
      }
      if (result !== 'created' && result !== 'updated') {
        // Deleted or created by another write in between: the admin sees it and may send it again.
        throw new GatewayError(
          409,
          'invalid_request',
          `the budget of User=${userId} in Team=${teamId} changed meanwhile; retry`,
          {
            param: 'user_id',
          },
        );
      }
      return (await members.get(id)) ?? { ...record, spend: current?.spend ?? 0 };
    },

    /** Deletes the budgets of these members of the team (those that have one). */
    async remove(teamId: string, userIds: readonly string[]): Promise<void> {
      if (userIds.length > 0) await members.delete(userIds.map((u) => memberAccountId(teamId, u)));
    },

    /** Checks, before anything is written, that every member given a budget is an existing user. */
    async checkUsers(userIds: readonly (string | null)[], emails: readonly (string | null)[]): Promise<void> {
      for (const [i, userId] of userIds.entries()) {
        if (userId === null) {
          throw badRequest(
            `No user has email ${emails[i]}. A budget in a team is kept for a user: create it first (/user/new).`,
            'member.user_email',
          );
        }
        if (!(await dir.users.get(userAccountId(userId)))) throw noSuchUser(userId, 'member.user_id');
      }
    },
  };
}

const teamGone = (teamId: string) =>
  new GatewayError(404, 'not_found', `Team not found for team_id=${teamId}`, { param: 'team_id' });

export type MemberBudgets = ReturnType<typeof createMemberBudgets>;
