import { parseArgs } from 'node:util';
import { type AdminCall, amount, type Env, json, runAdminCall, target, whole } from './admin-call.js';
import { UsageError } from './args.js';

const CONNECTION = `  --url URL         the gateway (env FLEETGATE_URL or LITELLM_PROXY_URL; default http://localhost:4000)
  --master-key KEY  (env LITELLM_MASTER_KEY or LITELLM_PROXY_API_KEY)`;

/** One usage text per `fleetgate keys` command, printed by `fleetgate keys COMMAND --help`. */
const COMMAND_USAGE: Readonly<Record<string, string>> = {
  generate: `usage: fleetgate keys generate [options]      issue a virtual key (the key is printed once)

  --alias A             key_alias (unique)
  --models a,b          model groups the key may use (default: all)
  --rpm N, --tpm N      requests / tokens per minute, fleet-wide
  --max-parallel N      requests in flight at once
  --max-budget USD      spend limit, with --budget-duration 30d (s, m, h, d, w, mo) for a periodic reset
  --duration 30d        the key expires after this long (default: never)
  --user-id U, --team-id T, --metadata JSON`,
  list: `usage: fleetgate keys list [--page N] [--size N]      list key hashes and aliases (never the keys)`,
  info: `usage: fleetgate keys info KEY      show a key's record and spend (KEY is the key or its hash)`,
  delete: `usage: fleetgate keys delete KEY... | --alias A...      delete keys by key, hash or alias`,
};

export const KEYS_USAGE = `usage: fleetgate keys <command> [options]      (fleetgate keys <command> --help for one command)

  generate [--alias A] [--models a,b] [--rpm N] [--tpm N] [--max-parallel N]
           [--max-budget USD] [--budget-duration 30d] [--duration 30d]
           [--user-id U] [--team-id T] [--metadata JSON]      issue a key (printed once)
  list [--page N] [--size N]                                  list key hashes
  info KEY                                                    show a key (KEY or its hash)
  delete KEY... | --alias A...                                delete keys

${CONNECTION}`;

/** The usage of one command (with the connection options), or of them all. */
export function keysUsage(command: string | undefined): string {
  const one = command === undefined ? undefined : COMMAND_USAGE[command];
  return one === undefined ? KEYS_USAGE : `${one}\n\n${CONNECTION}`;
}

/** What one `fleetgate keys …` invocation asks of the admin API. */
export type KeysCall = AdminCall;

/** Sends the call; prints the JSON answer. Returns the exit code: 0 on success, 1 when the gateway refused. */
export const runKeysCall = (call: KeysCall, out: (line: string) => void, err: (line: string) => void) =>
  runAdminCall(call, 'keys', out, err);

/** Turns `fleetgate keys …` arguments into one admin API call; bad input is a UsageError (exit 2). */
export function parseKeysCli(argv: readonly string[], env: Env): KeysCall {
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
        alias: { type: 'string', multiple: true },
        models: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        'max-parallel': { type: 'string' },
        'max-budget': { type: 'string' },
        'budget-duration': { type: 'string' },
        duration: { type: 'string' },
        'user-id': { type: 'string' },
        'team-id': { type: 'string' },
        metadata: { type: 'string' },
        page: { type: 'string' },
        size: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see fleetgate keys --help)`);
  }
  const v = parsed.values as Record<string, string | string[] | undefined>;
  const base = target(v, env);
  const aliases = (v['alias'] as string[] | undefined) ?? [];
  switch (command) {
    case 'generate': {
      const body: Record<string, unknown> = {};
      if (aliases.length > 1) throw new UsageError('generate takes one --alias');
      if (aliases[0]) body['key_alias'] = aliases[0];
      if (v['models'])
        body['models'] = (v['models'] as string)
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean);
      for (const [flag, field] of [
        ['rpm', 'rpm_limit'],
        ['tpm', 'tpm_limit'],
        ['max-parallel', 'max_parallel_requests'],
      ] as const) {
        if (v[flag] !== undefined) body[field] = whole(flag, v[flag] as string);
      }
      if (v['max-budget'] !== undefined) body['max_budget'] = amount('max-budget', v['max-budget'] as string);
      if (v['budget-duration']) body['budget_duration'] = v['budget-duration'];
      if (v['duration']) body['duration'] = v['duration'];
      if (v['user-id']) body['user_id'] = v['user-id'];
      if (v['team-id']) body['team_id'] = v['team-id'];
      if (v['metadata']) body['metadata'] = json('metadata', v['metadata'] as string);
      return { ...base, method: 'POST', path: '/key/generate', body };
    }
    case 'list': {
      const page = v['page'] === undefined ? 1 : whole('page', v['page'] as string);
      const size = v['size'] === undefined ? 10 : whole('size', v['size'] as string);
      return { ...base, method: 'GET', path: `/key/list?page=${page}&size=${size}` };
    }
    case 'info': {
      const key = parsed.positionals[0];
      if (!key) throw new UsageError('info needs a KEY (the key or its hash)');
      return { ...base, method: 'GET', path: `/key/info?key=${encodeURIComponent(key)}` };
    }
    case 'delete': {
      if (parsed.positionals.length === 0 && aliases.length === 0)
        throw new UsageError('delete needs KEY... or --alias A');
      const body: Record<string, unknown> = {};
      if (parsed.positionals.length > 0) body['keys'] = parsed.positionals;
      if (aliases.length > 0) body['key_aliases'] = aliases;
      return { ...base, method: 'POST', path: '/key/delete', body };
    }
    default:
      throw new UsageError(`unknown keys command "${command ?? ''}" (generate, list, info, delete)`);
  }
}
