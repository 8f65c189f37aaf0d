/**
 * What one script call costs Redis, in CPU instructions — the same count whatever else the machine
 * is doing, so a change to a script can be judged on a shared, noisy machine where calls/s cannot.
 * Starts its own `redis-server` under `valgrind --tool=callgrind` on a free port (instrumentation off),
 * warms each phase up, then counts only the phase's calls (callgrind_control toggles instrumentation):
 *   INCR_LUA                       the yardstick of the admission benchmark
 *   admit, 1 candidate             with room
 *   admit, 4 candidates            the first has room (the benchmark's target case), one per call
 *   admit, 4 candidates            the same, batched per tick as the gateway sends them
 *   admit + settle                 as the gateway does per request (16 callers: settlements batch)
 *   admit, 4 candidates + 1 gate   a virtual key's window checked and reserved too
 *   … + the key's account          its spend, budget, blocked and expiry checked and charged too
 *   … + a team                     a team key: the team's window, the team's and the user's accounts
 *   ranked by usage / by latency   routing strategies that rank by the fleet's numbers
 *   … with a slice limit           smoothing
 *   … with a parallel limit        an in-flight set (max_parallel_requests), admitted and settled
 *   ranked by in-flight count      least-busy (every deployment keeps an in-flight set), settled
 * Reports instructions per admission (the whole server: parsing, the script, the reply) with 16
 * concurrent callers, so the admissions and settlements of a tick share script calls as in the
 * gateway — except the phase that sends one admission per call.
 *
 *   node bench/dist/admission-callgrind.js [--calls 4000] [--redis-server redis-server] [--keep DIR]
 * --keep leaves callgrind's dumps in DIR (one per phase boundary) for callgrind_annotate.
 * Needs valgrind (Debian: apt-get install valgrind); about a minute.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRedisAccounts, createRedisStore, INCR_LUA, type Subject } from '@fleetgate/ratelimit';
import { Redis } from 'ioredis';
import { freePort, isMain, track } from './procs.js';
import { fmt, mdTable } from './stats.js';

export interface CallgrindRow {
  readonly name: string;
  readonly instructions: number;
}

async function connect(port: number): Promise<Redis> {
  const client = new Redis(port, '127.0.0.1', {
    enableAutoPipelining: true,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  client.on('error', () => {});
  for (let i = 0; i < 150; i++) {
    try {
      await client.connect();
      await client.ping();
      return client;
    } catch {
      client.disconnect();
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error('redis-server under callgrind did not answer within 30 s');
}

export async function runAdmissionCallgrind(
  calls: number,
  redisServer: string,
  keep?: string,
): Promise<CallgrindRow[]> {
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'fleetgate-callgrind-'));
  const port = await freePort();
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${join(dir, 'out.%p')}`,
      redisServer,
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  const stop = track(child, 30_000);
  const rows: CallgrindRow[] = [];
  try {
    const client = await connect(port);
    const store = createRedisStore(client, { namespace: 'callgrind' });
    const single = createRedisStore(client, { namespace: 'callgrind', batchAdmissions: false });
    client.defineCommand('benchIncr', { lua: INCR_LUA, numberOfKeys: 1 });
    const incr = (
      client as unknown as { benchIncr(key: string, ttl: number): Promise<number> }
    ).benchIncr.bind(client);
    const open: Subject = { id: 'd:open', limits: { rpm: 100_000_000, tpm: 10_000_000_000 } };
    const four = [open, { ...open, id: 'd:2' }, { ...open, id: 'd:3' }, { ...open, id: 'd:4' }];
    const gate: Subject = { id: 'k:key', limits: { rpm: 100_000_000, tpm: 10_000_000_000 } };
    // A virtual key's account (spend, budget, blocked, expiry), checked and charged in the same call.
    const accounts = createRedisAccounts(client, { namespace: 'callgrind' });
    const account = { id: 'key', blocked: false, maxBudget: 1e9, createdAt: Date.now(), doc: '{}' };
    await accounts.create(account, 0);
    const charge = { id: 'key', cost: 0.0123 };
    // A key in a team, with a user: the team's window is one more gate, team and user two more accounts.
    const teamGate: Subject = { id: 't:team', limits: { rpm: 100_000_000, tpm: 10_000_000_000 } };
    for (const id of ['team:team', 'user:user']) await accounts.create({ ...account, id }, 0);
    const teamCharges = [
      charge,
      { id: 'team:team', cost: 0.0123 },
      { id: 'user:user', cost: 0.0123, enforceBudget: false },
    ];
    const usagePick = { by: 'usage', tiers: [0, 0, 0, 0] } as const;
    const latencyPick = { by: 'latency', tiers: [0, 0, 0, 0] } as const;
    const smoothed: Subject = {
      id: 'd:smoothed',
      limits: { ...open.limits, slice: { ms: 1_000, max: 100_000_000 } },
    };
    const parallel: Subject = { id: 'd:parallel', limits: { ...open.limits, maxParallel: 1_000_000_000 } };
    const fourParallel = [1, 2, 3, 4].map((i) => ({ ...parallel, id: `d:parallel-${i}` }));
    const inFlightPick = { by: 'in_flight', tiers: [0, 0, 0, 0] } as const;
    let lease = 0;
    const phases: Array<[string, () => Promise<unknown>]> = [
      ['INCR_LUA (INCR + PEXPIRE)', () => incr('fleetgate:v1:{callgrind}:incr', 60_000)],
      [
        'admit, 1 candidate',
        () => store.admit({ candidates: [open], tokens: 4_100, leaseId: `l${lease++}` }),
      ],
      [
        'admit, 4 candidates (the first has room), one per script call',
        () => single.admit({ candidates: four, tokens: 4_100, leaseId: `l${lease++}` }),
      ],
      [
        'admit, 4 candidates (the first has room)',
        () => store.admit({ candidates: four, tokens: 4_100, leaseId: `l${lease++}` }),
      ],
      [
        'admit + settle (1 candidate; settlements batched)',
        async () => {
          const a = await store.admit({ candidates: [open], tokens: 4_100, leaseId: `l${lease++}` });
          if (a.admitted) await store.settle(a.ticket, 4_104, 'success');
        },
      ],
      [
        'admit, 4 candidates + a key gate',
        () => store.admit({ candidates: four, gates: [gate], tokens: 4_100, leaseId: `l${lease++}` }),
      ],
      [
        'admit, 4 candidates + a key gate + the key account',
        () =>
          store.admit({
            candidates: four,
            gates: [gate],
            tokens: 4_100,
            leaseId: `l${lease++}`,
            accounts: [charge],
          }),
      ],
      [
        'admit, 4 candidates + key and team gates + key, team and user accounts',
        () =>
          store.admit({
            candidates: four,
            gates: [gate, teamGate],
            tokens: 4_100,
            leaseId: `l${lease++}`,
            accounts: teamCharges,
          }),
      ],
      // Routing strategies that rank by the fleet's numbers (one more read per candidate), and smoothing.
      [
        'admit, 4 candidates ranked by usage (usage-based-routing)',
        () => store.admit({ candidates: four, tokens: 4_100, leaseId: `l${lease++}`, pick: usagePick }),
      ],
      [
        'admit, 4 candidates ranked by latency (latency-based-routing)',
        () => store.admit({ candidates: four, tokens: 4_100, leaseId: `l${lease++}`, pick: latencyPick }),
      ],
      [
        'admit, 1 candidate with a slice limit (smoothing)',
        () => store.admit({ candidates: [smoothed], tokens: 4_100, leaseId: `l${lease++}` }),
      ],
      // In-flight sets: a deployment with max_parallel_requests, and least-busy (which gives every
      // deployment one). Settled, so each set holds only what is in flight, as in the gateway.
      [
        'admit + settle, 1 candidate with a parallel limit',
        async () => {
          const a = await store.admit({ candidates: [parallel], tokens: 4_100, leaseId: `l${lease++}` });
          if (a.admitted) await store.settle(a.ticket, 4_104, 'success');
        },
      ],
      [
        'admit + settle, 4 candidates ranked by in-flight count (least-busy)',
        async () => {
          const a = await store.admit({
            candidates: fourParallel,
            tokens: 4_100,
            leaseId: `l${lease++}`,
            pick: inFlightPick,
          });
          if (a.admitted) await store.settle(a.ticket, 4_104, 'success');
        },
      ],
    ];
    const drive = async (call: () => Promise<unknown>, n: number) => {
      let started = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (started++ < n) await call();
        }),
      );
    };
    const instructionsSoFar = () => {
      execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
      let total = 0;
      for (const f of readdirSync(dir)) {
        const m = /^totals: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'));
        total += Number(m?.[1] ?? 0);
      }
      return total;
    };
    for (const [name, call] of phases) {
      await drive(call, 1_000);
      const before = instructionsSoFar();
      execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
      await drive(call, calls);
      execFileSync('callgrind_control', ['-i', 'off', String(child.pid)], { stdio: 'ignore' });
      rows.push({ name, instructions: (instructionsSoFar() - before) / calls });
    }
    await store.close();
    await single.close();
    client.disconnect();
  } finally {
    await stop();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function callgrindReport(rows: readonly CallgrindRow[], calls: number): string {
  const base = rows[0]?.instructions ?? 1;
  return [
    `### Redis instructions per admission (callgrind, ${calls} calls per phase, 16 concurrent callers)`,
    '',
    mdTable(
      ['phase', 'instructions per call', '÷ INCR_LUA'],
      rows.map((r) => [r.name, fmt(r.instructions), `${fmt(r.instructions / base, 2)}×`]),
    ),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '4000' },
      'redis-server': { type: 'string', default: 'redis-server' },
      keep: { type: 'string' },
    },
  });
  const calls = Number(values.calls);
  if (values.keep) mkdirSync(values.keep, { recursive: true });
  const rows = await runAdmissionCallgrind(calls, values['redis-server'], values.keep);
  console.log(callgrindReport(rows, calls));
}
