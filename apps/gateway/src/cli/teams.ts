import { parseArgs } from 'node:util';
import { type AdminCall, amount, type Env, json, target, whole } from './admin-call.js';
import { UsageError } from './args.js';

export const TEAMS_USAGE = `usage: fleetgate teams <command> [options]

  new [--id T] [--alias A] [--models a,b] [--rpm N] [--tpm N] [--max-parallel N]
      [--max-budget USD] [--budget-duration 30d] [--metadata JSON]      create a team
  update TEAM [the same options]                                      change a team
  list [--user-id U]                                                  list teams (with spend)
  info TEAM                                                           show a team, its keys, its spend
  block TEAM | unblock TEAM                                           refuse / serve its keys again
  delete TEAM...                                                      delete teams and their keys
  add-member TEAM USER [--role admin|user]                            add a member (user id)
  remove-member TEAM USER                                             remove a member

  --url URL         the gateway (env FLEETGATE_URL or LITELLM_PROXY_URL; default http://localhost:4000)
  --master-key KEY  (env LITELLM_MASTER_KEY or LITELLM_PROXY_API_KEY)
Keys join a team with: fleetgate keys generate --team-id TEAM`;

const LIMITS = `  --alias A             team_alias
  --models a,b          model groups its keys may use (default: all)
  --rpm N, --tpm N      requests / tokens per minute for the whole team, fleet-wide
  --max-parallel N      requests in flight at once
  --max-budget USD      spend limit, with --budget-duration 30d for a periodic reset
  --metadata JSON`;

/** One usage text per `fleetgate teams` command, printed by `fleetgate teams COMMAND --help`. */
const COMMAND_USAGE: Readonly<Record<string, string>> = {
  new: `usage: fleetgate teams new [--id T] [options]      create a team\n\n${LIMITS}`,
  update: `usage: fleetgate teams update TEAM [options]      change a team's limits or alias\n\n${LIMITS}`,
  list: 'usage: fleetgate teams list [--user-id U]      list teams with their spend',
  info: 'usage: fleetgate teams info TEAM      show a team, its keys and its spend',
  block: "usage: fleetgate teams block TEAM      refuse the team's keys until unblocked",
  unblock: "usage: fleetgate teams unblock TEAM      serve the team's keys again",
  delete: 'usage: fleetgate teams delete TEAM...      delete teams and their keys',
  'add-member':
    'usage: fleetgate teams add-member TEAM USER [--role admin|user]      add a member (a user id)',
  'remove-member': 'usage: fleetgate teams remove-member TEAM USER      remove a member',
};

const CONNECTION = `  --url URL         the gateway (env FLEETGATE_URL or LITELLM_PROXY_URL; default http://localhost:4000)
  --master-key KEY  (env LITELLM_MASTER_KEY or LITELLM_PROXY_API_KEY)`;

/** The usage of one command (with the connection options), or of them all. */
export function teamsUsage(command: string | undefined): string {
  const one = command === undefined ? undefined : COMMAND_USAGE[command];
  return one === undefined ? TEAMS_USAGE : `${one}\n\n${CONNECTION}`;
}

/** Turns `fleetgate teams …` arguments into one admin API call; bad input is a UsageError (exit 2). */
export function parseTeamsCli(argv: readonly string[], env: Env): AdminCall {
  const [command, ...rest] = argv;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        'master-key': { type: 'string' },
        id: { type: 'string' },
        alias: { type: 'string' },
        models: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        'max-parallel': { type: 'string' },
        'max-budget': { type: 'string' },
        'budget-duration': { type: 'string' },
        metadata: { type: 'string' },
        'user-id': { type: 'string' },
        role: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see fleetgate teams --help)`);
  }
  const v = parsed.values as Record<string, string | undefined>;
  const base = target(v, env);
  const [first, second] = parsed.positionals;
  const one = (what: string) => {
    if (!first) throw new UsageError(`${command} needs a TEAM`);
    if (parsed.positionals.length > 1 && what !== 'many') throw new UsageError(`${command} takes one TEAM`);
    return first;
  };
  switch (command) {
    case 'new':
      return {
        ...base,
        method: 'POST',
        path: '/team/new',
        body: { ...fields(v), ...(v['id'] ? { team_id: v['id'] } : {}) },
      };
    case 'update':
      return { ...base, method: 'POST', path: '/team/update', body: { team_id: one('one'), ...fields(v) } };
    case 'list': {
      const user = v['user-id'];
      return {
        ...base,
        method: 'GET',
        path: user ? `/team/list?user_id=${encodeURIComponent(user)}` : '/team/list',
      };
    }
    case 'info':
      return { ...base, method: 'GET', path: `/team/info?team_id=${encodeURIComponent(one('one'))}` };
    case 'block':
    case 'unblock':
      return { ...base, method: 'POST', path: `/team/${command}`, body: { team_id: one('one') } };
    case 'delete':
      one('many');
      return { ...base, method: 'POST', path: '/team/delete', body: { team_ids: parsed.positionals } };
    case 'add-member':
    case 'remove-member': {
      if (!first || !second || parsed.positionals.length > 2)
        throw new UsageError(`${command} needs TEAM USER`);
      if (command === 'remove-member')
        return {
          ...base,
          method: 'POST',
          path: '/team/member_delete',
          body: { team_id: first, user_id: second },
        };
      const role = v['role'] ?? 'user';
      if (role !== 'admin' && role !== 'user')
        throw new UsageError(`--role must be admin or user, got "${role}"`);
      return {
        ...base,
        method: 'POST',
        path: '/team/member_add',
        body: { team_id: first, member: { role, user_id: second } },
      };
    }
    default:
      throw new UsageError(
        `unknown teams command "${command ?? ''}" (new, update, list, info, block, unblock, delete, add-member, remove-member)`,
      );
  }
}

/** The team fields the flags set (those not given are left out, so an update changes only them). */
function fields(v: Record<string, string | undefined>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (v['alias'] !== undefined) body['team_alias'] = v['alias'];
  if (v['models'] !== undefined)
    body['models'] = v['models']
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
  for (const [flag, field] of [
    ['rpm', 'rpm_limit'],
    ['tpm', 'tpm_limit'],
    ['max-parallel', 'max_parallel_requests'],
  ] as const) {
    if (v[flag] !== undefined) body[field] = whole(flag, v[flag]);
  }
  if (v['max-budget'] !== undefined) body['max_budget'] = amount('max-budget', v['max-budget']);
  if (v['budget-duration'] !== undefined) body['budget_duration'] = v['budget-duration'];
  if (v['metadata'] !== undefined) body['metadata'] = json('metadata', v['metadata']);
  return body;
}
