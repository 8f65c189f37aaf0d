import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { createAdmitBatcher } from './admit-batcher.js';
import { outcomeOf } from './call-outcome.js';
import { createCallRecords } from './call-records.js';
import { createKeyLayout, type KeyLayout } from './keys.js';
import { createLeaseKeeper } from './lease-keeper.js';
import { type Geometry, geometry, type WindowOptions } from './options.js';
import { type AdmitContext, admissionArgs, parseStates, refusal, ticketOf } from './redis-admission.js';
import { createRedisClock } from './redis-clock.js';
import { admitScript } from './scripts/admit.js';
import { settleScript } from './scripts/settle.js';
import { COOLDOWN_LUA, HEARTBEAT_LUA, RENEW_LUA, RESOLVE_LUA } from './scripts/small.js';
import { hex12, STATE_COOL_OFFSET } from './scripts/window.js';
import { writebackScript } from './scripts/writeback.js';
import { createSettleBatcher } from './settle-batcher.js';
import { createTickGroup } from './tick-queue.js';
import type { Admission, AdmitRequest, FleetStore, Ticket } from './types.js';

export type RedisClient = Redis | Cluster;

/** Something the store did about Redis trouble, for the caller's logs and metrics. */
export type StoreEvent =
  /** An admission's reply did not come in time: its request is refused, its outcome resolved later. */
  | 'admission_unknown'
  /** The outcome of an admission that was unknown became known (from its late reply or its record). */
  | 'admission_resolved'
  /** … and Redis had admitted it: it was given back (counted in `admission_resolved` too). */
  | 'admission_given_back'
  /** An admission's outcome could not be learned before its record expired (it stays counted if it ran). */
  | 'admission_unresolved'
  /** A settlement was sent again (the first send's outcome was unknown). */
  | 'settlement_resent'
  /** A settlement could not be delivered before its record would have expired. */
  | 'settlement_lost';

export interface RedisStoreOptions extends WindowOptions {
  /** Isolates one fleet's keys (and each test's); becomes the `{hash tag}`. @default 'fleetgate' */
  readonly namespace?: string;
  /**
   * Send the admissions of one event-loop tick in one script call (each still atomic, in order).
   * Off, every admission is its own call. @default true
   */
  readonly batchAdmissions?: boolean;
  /** Names this replica's call records; unique per process. @default a random id */
  readonly replicaId?: string;
  /**
   * How long an admission waits for Redis before its outcome is unknown: the caller gets a
   * StoreCallError, and what Redis admitted anyway is given back when its reply or record arrives.
   * @default no limit (the client's own timeout applies)
   */
  readonly replyTimeoutMs?: number;
  /**
   * How long Redis keeps the record of each admission and settlement call: within it, a call sent
   * again or arriving late is a no-op, and a call whose reply never came can be resolved. @default 15000
   */
  readonly recordTtlMs?: number;
  /**
   * How long a routine settlement (a success: tokens corrected, the lease released) may wait to
   * leave in the same write as the next admission, rather than wake Redis on its own. Failures and
   * given-back admissions never wait. At a few hundred requests a second this halves the round trips
   * per request; under load every tick has admissions anyway. @default 5
   */
  readonly settleWaitMs?: number;
  /** Told about Redis trouble the store handled (for logs and metrics). */
  readonly onEvent?: (event: StoreEvent, count: number) => void;
}

/** What a replica admitted that Redis has not counted: see `writeBack`. */
export interface WriteBack {
  readonly windows: ReadonlyArray<{
    readonly subjectId: string;
    readonly buckets: ReadonlyArray<{
      readonly bucket: number;
      readonly requests: number;
      readonly tokens: number;
    }>;
  }>;
  readonly leases: ReadonlyArray<{ readonly subjectId: string; readonly leaseIds: readonly string[] }>;
  readonly spend: ReadonlyArray<{ readonly accountId: string; readonly amount: number }>;
}

/** The Redis store, plus the fleet-membership and recovery calls the resilient wrapper uses. */
export interface RedisFleetStore extends FleetStore {
  /** Announces this replica for `ttlMs`; returns how many replicas are alive and this Redis's epoch. */
  heartbeat(replicaId: string, ttlMs: number): Promise<{ replicas: number; epoch: string }>;
  /** Removes this replica from the live set at once (a clean shutdown), so the others' shares grow now. */
  leave(replicaId: string): Promise<void>;
  /**
   * Adds what this replica admitted on its own into the shared windows, leases and spend; applied
   * once per `callId` however often it is sent. Returns each account's budget period (reset_at;
   * -1 when the account is gone), in the order given.
   */
  writeBack(callId: string, work: WriteBack): Promise<number[]>;
  /** Keeps renewing the lease of a ticket this store did not issue (one written back). */
  adopt(ticket: Ticket, holdMs?: number): void;
  /**
   * Drops the settlements waiting to be sent again, for a Redis that lost its data: the windows
   * they would correct are gone, and the replica writes back its own record of them, corrected.
   */
  dropResends(): void;
  /** Redis's clock, as this process estimates it from script replies (ms). */
  now(): number;
  readonly keys: KeyLayout;
}

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;
type Scripts = Record<
  'admit' | 'settle' | 'cooldown' | 'heartbeat' | 'renew' | 'resolve' | 'writeback',
  ScriptCall
>;

let storeSeq = 0;

/**
 * Fleet state in Redis: every replica pointed at the same namespace shares every window, cooldown
 * and lease. Scripts are registered with `defineCommand`, so ioredis sends EVALSHA and falls back to
 * EVAL on NOSCRIPT; the window geometry is compiled into them, so calls carry only per-request data.
 * Every admission and settlement call carries an id and leaves a short-lived record, so none is
 * applied twice and none is lost to a slow or dropped connection (see the lib README).
 */
export function createRedisStore(client: RedisClient, options: RedisStoreOptions = {}): RedisFleetStore {
  const geo = geometry(options);
  const keys = createKeyLayout(options.namespace ?? 'fleetgate');
  const recordTtlMs = options.recordTtlMs ?? 15_000;
  const scripts = defineScripts(client, geo, recordTtlMs);
  const leases = createLeaseKeeper((...args) => scripts.renew(...args), geo.leaseMs, keys);
  const clock = createRedisClock();
  const records = createCallRecords(keys, `${options.replicaId ?? randomUUID()}:${Date.now().toString(36)}`);
  const event = options.onEvent ?? (() => {});
  // Settlements join first: in a shared write they go before the admissions.
  const tickGroup = createTickGroup((run) => corked(client, run));
  const settlements = createSettleBatcher({
    tickGroup,
    lazyMs: options.settleWaitMs ?? 5,
    settle: (...args) => scripts.settle(...args),
    keys,
    records,
    recordTtlMs,
    onResend: () => event('settlement_resent', 1),
    onLost: (n) => event('settlement_lost', n),
  });
  const admissions = createAdmitBatcher<AdmitContext>({
    admit: (...args) => scripts.admit(...args),
    resolve: (record) => scripts.resolve(1, record.key, record.field, recordTtlMs),
    records,
    batched: options.batchAdmissions ?? true,
    tickGroup,
    replyTimeoutMs: options.replyTimeoutMs,
    recordTtlMs,
    onOrphan(context, reply) {
      event('admission_resolved', 1);
      if (reply?.[0] !== 1) return;
      // Admitted after its request was refused: give everything back, the request included.
      const ticket = ticketOf(context, reply);
      event('admission_given_back', 1);
      void settlements.add(ticket, -ticket.tokens, 'none', ticket.accounts ? 0 : undefined, true);
    },
    onUnresolved: (n) => event('admission_unresolved', n),
  });

  async function admit(request: AdmitRequest): Promise<Admission> {
    const { args, context } = admissionArgs(request, keys);
    let reply: number[];
    try {
      reply = await admissions(args);
    } catch (error) {
      if (outcomeOf(error) === 'unknown') event('admission_unknown', 1);
      throw error;
    }
    if (reply[0] !== 1) return refusal(reply);
    const ticket = ticketOf(context, reply);
    leases.hold(ticket, request.holdMs);
    return {
      admitted: true,
      index: Number(reply[1] ?? 1) - 1,
      ticket,
      states: parseStates(reply, ticket.subjects),
      spend: context.charged ? reply[3 + 6 * ticket.subjects.length] : undefined,
    };
  }
  return {
    keys,
    admit,
    settle(ticket, actualTokens, outcome, actualCost, sample) {
      leases.release(ticket.leaseId);
      // Usage that is not a number leaves the reservation as it was (never a correction to -2^47).
      const used = Number.isFinite(actualTokens) ? Math.max(0, Math.ceil(actualTokens)) : ticket.tokens;
      return settlements.add(ticket, used - ticket.tokens, outcome, actualCost, false, sample);
    },
    touch(ticket) {
      leases.touch(ticket.leaseId);
    },
    async coolDown(subjectId, ms) {
      if (ms <= 0) return;
      await scripts.cooldown(keys.subject(subjectId).window, Math.ceil(ms));
    },
    async cooldowns(subjectIds) {
      if (subjectIds.length === 0) return [];
      const pipeline = client.pipeline();
      pipeline.time();
      for (const id of subjectIds) pipeline.hgetBuffer(keys.subject(id).window, 's');
      const [clockReply, ...states] = ((await pipeline.exec()) ?? []) as Array<[Error | null, unknown]>;
      const [seconds, micros] = (clockReply?.[1] as [string, string] | undefined) ?? ['0', '0'];
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      return states.map(([error, state]) => Math.max(0, error ? 0 : cooldownEnd(state) - now));
    },
    async heartbeat(replicaId, ttlMs) {
      const sentAt = Date.now();
      const [replicas, epoch, now] = (await scripts.heartbeat(
        2,
        keys.replicas,
        keys.epoch,
        replicaId,
        ttlMs,
        randomUUID(),
      )) as [number, string, number];
      clock.sample(Number(now), sentAt, Date.now());
      return { replicas: Number(replicas), epoch: String(epoch) };
    },
    async leave(replicaId) {
      await client.zrem(keys.replicas, replicaId);
    },
    async writeBack(callId, work) {
      const reply = (await scripts.writeback(
        ...writeBackArgs(keys, keys.records(`wb:${callId}`, 0), work),
      )) as Buffer;
      const periods: number[] = [];
      for (let at = 8; at + 8 <= reply.length; at += 8) periods.push(reply.readDoubleLE(at));
      return periods;
    },
    adopt(ticket, holdMs) {
      leases.hold(ticket, holdMs);
    },
    dropResends: settlements.dropResends,
    now: clock.now,
    mode: () => 'shared',
    async close() {
      leases.stop();
      await settlements.flushNow();
    },
  };
}

/** writeback.lua's numkeys, keys and arguments (see its header). */
function writeBackArgs(keys: KeyLayout, recordKey: string, work: WriteBack): Array<string | number> {
  const keyArgs: string[] = [recordKey];
  const args: string[] = [
    '!wb',
    hex12(work.windows.length) + hex12(work.leases.length) + hex12(work.spend.length),
  ];
  for (const w of work.windows) {
    keyArgs.push(keys.subject(w.subjectId).window);
    let numbers = hex12(w.buckets.length);
    for (const b of w.buckets) numbers += hex12(b.bucket) + hex12(b.requests) + hex12(b.tokens);
    args.push(numbers);
  }
  for (const l of work.leases) {
    keyArgs.push(keys.subject(l.subjectId).inflight);
    args.push(String(l.leaseIds.length), ...l.leaseIds);
  }
  for (const s of work.spend) {
    keyArgs.push(keys.account(s.accountId));
    args.push(String(Number.isFinite(s.amount) ? s.amount : 0));
  }
  return [keyArgs.length, ...keyArgs, ...args];
}

/** Registers the scripts under names unique to this geometry (several stores may share a client). */
function defineScripts(client: RedisClient, geo: Geometry, recordTtlMs: number): Scripts {
  const tag = `${geo.windowMs}_${geo.bucketMs}_${geo.leaseMs}_${geo.k}_${++storeSeq}`;
  const define = (name: string, lua: string, numberOfKeys?: number, buffer = false, batched = false) => {
    const command = `fleetgate_${name}_${tag}`;
    client.defineCommand(command, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    if (batched) sendUnpipelined(client, command);
    // ioredis adds a `<name>Buffer` twin that hands the reply over as bytes.
    const fn = (client as unknown as Record<string, ScriptCall>)[buffer ? `${command}Buffer` : command]!;
    return fn.bind(client) as ScriptCall;
  };
  return {
    // Batched per event-loop tick by their own queues (admit-batcher, settle-batcher).
    admit: define('admit', admitScript(geo, recordTtlMs), undefined, true, true),
    settle: define('settle', settleScript(geo, recordTtlMs), undefined, false, true),
    cooldown: define('cooldown', COOLDOWN_LUA, 1),
    heartbeat: define('heartbeat', HEARTBEAT_LUA),
    renew: define('renew', RENEW_LUA),
    resolve: define('resolve', RESOLVE_LUA, undefined, true),
    writeback: define('writeback', writebackScript(geo, recordTtlMs), undefined, true),
  };
}

/**
 * Runs `run` with the client's connection corked: what it writes leaves in one write when it returns.
 * A cluster client, or a connection not yet up (ioredis queues commands then), runs it as it is.
 */
function corked(client: RedisClient, run: () => void): void {
  const socket = (client as { stream?: { cork?(): void; uncork?(): void; writable?: boolean } }).stream;
  if (!socket?.cork || !socket.uncork || !socket.writable) {
    run();
    return;
  }
  socket.cork();
  try {
    run();
  } finally {
    socket.uncork();
  }
}

/**
 * Takes a script out of ioredis's auto-pipelining: its calls are written to the socket when they
 * are made. The admission and settlement calls are already batched per event-loop tick by their own
 * queues, so auto-pipelining gave them nothing but a second deferral (its own setImmediate: one more
 * turn of the event loop before an admission leaves) and a Pipeline object per call — and, measured
 * (`--trace-gc`, a sampling heap profile that leaves out what scavenges collect), it kept every
 * request's objects, its parsed 16 KB body among them, alive through two scavenges: they were
 * promoted to the old generation (~25 KB a request), each scavenge copied them (pauses of 4–15 ms
 * instead of ~1 ms at 500 req/s) and mark-compacts had them to collect. Rarer calls (renewals,
 * cooldowns, heartbeats) stay auto-pipelined. The list is replaced, not pushed to: ioredis shares
 * its default array between clients.
 */
function sendUnpipelined(client: RedisClient, command: string): void {
  const options = client.options as { autoPipeliningIgnoredCommands?: string[] };
  const ignored = options.autoPipeliningIgnoredCommands ?? [];
  if (!ignored.includes(command)) options.autoPipeliningIgnoredCommands = [...ignored, command];
}

/** The cooldown end (ms) in a subject's packed state (scripts/window.ts); 0 when there is none. */
function cooldownEnd(state: unknown): number {
  return Buffer.isBuffer(state) && state.length >= STATE_COOL_OFFSET + 8
    ? state.readDoubleLE(STATE_COOL_OFFSET)
    : 0;
}
