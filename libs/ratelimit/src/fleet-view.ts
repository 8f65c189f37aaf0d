import type { KeyLayout } from './keys.js';
import { type Geometry, geometry, type WindowOptions } from './options.js';
import type { RedisClient } from './redis-store.js';
import { STATE_COOL_OFFSET } from './scripts/window.js';

/**
 * What the fleet holds for one subject right now, for operators (the fleet page, dashboards):
 * read-only, never on a request's path. Counts are fleet-wide in the Redis view.
 */
export interface SubjectView {
  readonly id: string;
  /** Requests admitted in the rolling window (counted only for subjects with an rpm or tpm limit). */
  readonly requests: number;
  /** Tokens held in the rolling window: reservations, settled to real usage. */
  readonly tokens: number;
  /** Leases held (only subjects with a parallel limit keep leases). */
  readonly leases: number;
  /** Milliseconds of cooldown left (0 = none). */
  readonly cooldownMs: number;
  /** Why it is cooling down, as the replica that cooled it down said. */
  readonly cooldownReason?: string | undefined;
}

/** A replica alive at its last heartbeat, and the report it last published. */
export interface ReplicaView {
  readonly id: string;
  /** The caller's own JSON, as published by `report`; absent until the replica publishes one. */
  readonly report?: string | undefined;
}

/** Read-only access to the fleet's state, plus the two small notes operators need beside it. */
export interface FleetView {
  /** Now (ms) on the clock the windows are kept on: Redis's in the Redis view. */
  subjects(ids: readonly string[]): Promise<{ readonly now: number; readonly subjects: SubjectView[] }>;
  /** Replicas alive at their last heartbeat, with their last report. */
  replicas(): Promise<ReplicaView[]>;
  /** Publishes this replica's report (any JSON), kept for `ttlMs`. */
  report(replicaId: string, json: string, ttlMs: number): Promise<void>;
  /** Remembers why a subject cools down, for as long as the cooldown (never shortening a longer note). */
  noteCooldown(subjectId: string, reason: string, ms: number): Promise<void>;
}

/** struct '<dI4': tokens (double), requests (uint32) — a closed bucket (scripts/window.ts). */
const RING_BYTES = 12;
/** The packed state's open bucket and its counts (scripts/window.ts STATE_FMT). */
const STATE_CB = 8;
const STATE_CV = 16;
const STATE_CN = 36;

/**
 * notecooldown.lua — KEYS[1] the note (a string), ARGV[1] the reason, ARGV[2] ms: written unless a
 * note that outlives this one is already there.
 */
const NOTE_LUA = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
`;

/**
 * The fleet view over Redis: a window is read as admit.lua keeps it (its packed state plus one
 * field per closed bucket), counted over the same span an admission counts, on Redis's clock.
 * Reads in one pipeline; writes nothing the scripts read.
 */
export function createRedisFleetView(
  client: RedisClient,
  keys: KeyLayout,
  options: WindowOptions = {},
): FleetView {
  const geo = geometry(options);
  const note = (id: string) => `${keys.prefix}cooldown-reason:${id}`;
  const reportKey = (replicaId: string) => `${keys.prefix}report:${replicaId}`;
  client.defineCommand('fleetgate_note_cooldown', { lua: NOTE_LUA, numberOfKeys: 1 });
  const noteCommand = (
    client as unknown as Record<string, (...a: Array<string | number>) => Promise<unknown>>
  )['fleetgate_note_cooldown']!.bind(client);

  return {
    async subjects(ids) {
      const clock = await client.time();
      const now = Number(clock[0]) * 1000 + Math.floor(Number(clock[1]) / 1000);
      if (ids.length === 0) return { now, subjects: [] };
      const cur = Math.floor(now / geo.bucketMs);
      const names = spanNames(cur, geo);
      const pipeline = client.pipeline();
      for (const id of ids) {
        const k = keys.subject(id);
        pipeline.hmgetBuffer(k.window, 's', ...names.map((n) => n.name));
        pipeline.zcount(k.inflight, now, '+inf');
        pipeline.get(note(id));
      }
      const replies = ((await pipeline.exec()) ?? []) as Array<[Error | null, unknown]>;
      // A command that failed (a timeout under load) must not read as an empty window.
      const failed = replies.find(([error]) => error);
      if (failed?.[0] || replies.length !== 3 * ids.length)
        throw failed?.[0] ?? new Error('incomplete reply');
      const subjects = ids.map((id, i) => {
        const [fields, leases, reason] = [replies[3 * i], replies[3 * i + 1], replies[3 * i + 2]];
        const counted = countWindow((fields?.[1] ?? []) as Array<Buffer | null>, names, cur, geo);
        const cooldownMs = Math.max(0, counted.cool - now);
        return {
          id,
          requests: counted.requests,
          tokens: counted.tokens,
          leases: Number(leases?.[1] ?? 0),
          cooldownMs,
          cooldownReason: cooldownMs > 0 ? ((reason?.[1] as string | null) ?? undefined) : undefined,
        };
      });
      return { now, subjects };
    },
    async replicas() {
      const now = Date.now();
      // Scores are expiries on Redis's clock; a replica a second past its expiry is already gone.
      const ids = (await client.zrangebyscore(keys.replicas, now - 1_000, '+inf')) as string[];
      if (ids.length === 0) return [];
      const reports = (await client.mget(...ids.map(reportKey))) as Array<string | null>;
      return ids.map((id, i) => ({ id, report: reports[i] ?? undefined }));
    },
    async report(replicaId, json, ttlMs) {
      await client.set(reportKey(replicaId), json, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async noteCooldown(subjectId, reason, ms) {
      if (ms <= 0) return;
      await noteCommand(note(subjectId), reason, Math.ceil(ms));
    },
  };
}

interface SpanName {
  readonly bucket: number;
  readonly name: Buffer;
}

/** The field names of every bucket an admission at bucket `cur` counts: cur − K … cur. */
function spanNames(cur: number, geo: Geometry): SpanName[] {
  const out: SpanName[] = [];
  for (let b = cur - geo.k; b <= cur; b++) {
    const name = Buffer.alloc(4);
    name.writeUInt32LE(b % 4294967296);
    out.push({ bucket: b, name });
  }
  return out;
}

/** Sums a window's buckets in the span: closed buckets from their fields, the open one from the state. */
function countWindow(
  fields: Array<Buffer | null>,
  names: readonly SpanName[],
  cur: number,
  geo: Geometry,
): { requests: number; tokens: number; cool: number } {
  const state = fields[0];
  let requests = 0;
  let tokens = 0;
  let cool = 0;
  let open = Number.NaN;
  if (state && state.length >= STATE_CN + 4) {
    cool = state.readDoubleLE(STATE_COOL_OFFSET);
    open = state.readDoubleLE(STATE_CB);
    if (open >= cur - geo.k && open <= cur) {
      tokens += state.readDoubleLE(STATE_CV);
      requests += state.readUInt32LE(STATE_CN);
    }
  }
  names.forEach((n, i) => {
    const ring = fields[i + 1];
    if (!ring || ring.length < RING_BYTES || n.bucket === open) return;
    tokens += ring.readDoubleLE(0);
    requests += ring.readUInt32LE(8);
  });
  return { requests, tokens: Math.max(0, tokens), cool };
}

/** What a memory store shows of one subject (see memory-store.ts `inspect`). */
export interface MemorySubjectState {
  readonly requests: number;
  readonly tokens: number;
  readonly leases: number;
  readonly cooldownUntil: number;
}

/**
 * The fleet view of a single replica without Redis: its memory store's windows, and its own report
 * as the only replica.
 */
export function createMemoryFleetView(
  inspect: (id: string, now: number) => MemorySubjectState,
  now: () => number = Date.now,
): FleetView {
  const notes = new Map<string, { reason: string; until: number }>();
  const reports = new Map<string, { json: string; until: number }>();
  return {
    subjects(ids) {
      const t = now();
      return Promise.resolve({
        now: t,
        subjects: ids.map((id) => {
          const s = inspect(id, t);
          const cooldownMs = Math.max(0, s.cooldownUntil - t);
          const n = notes.get(id);
          return {
            id,
            requests: s.requests,
            tokens: s.tokens,
            leases: s.leases,
            cooldownMs,
            cooldownReason: cooldownMs > 0 && n && n.until > t ? n.reason : undefined,
          };
        }),
      });
    },
    replicas() {
      const t = now();
      return Promise.resolve(
        [...reports].filter(([, r]) => r.until > t).map(([id, r]) => ({ id, report: r.json })),
      );
    },
    report(replicaId, json, ttlMs) {
      reports.set(replicaId, { json, until: now() + ttlMs });
      return Promise.resolve();
    },
    noteCooldown(subjectId, reason, ms) {
      const until = now() + ms;
      const n = notes.get(subjectId);
      if (ms > 0 && (!n || n.until < until)) notes.set(subjectId, { reason, until });
      return Promise.resolve();
    },
  };
}
