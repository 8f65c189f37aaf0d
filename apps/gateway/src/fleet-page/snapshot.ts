import type { AccountStore, FleetView, Subject } from '@fleetgate/ratelimit';
import type { Deployment } from '../config/deployments.js';
import { docOf } from '../keys/key-doc.js';
import type { ReplicaReport } from './replica-report.js';

/** Everything the fleet page shows, as `/fleet/state` serves it. No secret is ever in it. */
export interface FleetSnapshot {
  readonly generated_at: string;
  /** The replica that answered. */
  readonly replica: string;
  readonly version: string;
  readonly fleet: {
    readonly mode: string;
    readonly store: string;
    /** Replicas alive at the last heartbeat, with their reports. */
    readonly replicas: ReadonlyArray<ReplicaRow>;
  };
  readonly deployments: ReadonlyArray<DeploymentRow>;
  readonly keys: { readonly total: number; readonly shown: ReadonlyArray<KeyRow> };
  /** Teams named by keys, with the spend of their keys. */
  readonly teams: ReadonlyArray<{ readonly team_id: string; readonly keys: number; readonly spend: number }>;
  /** What could not be read (Redis away, …): the page says so instead of showing stale numbers. */
  readonly errors: readonly string[];
}

export interface DeploymentRow {
  readonly id: string;
  readonly model_group: string;
  readonly model: string;
  readonly provider: string;
  readonly api_base: string;
  readonly rpm_limit: number | null;
  readonly tpm_limit: number | null;
  readonly max_parallel: number | null;
  /** Admitted in the rolling minute, fleet-wide; null when the deployment has neither rpm nor tpm (not counted) or the store could not be read. */
  readonly requests_in_window: number | null;
  /** Tokens in the rolling minute, fleet-wide; null without a tpm (not counted) or when unread. */
  readonly tokens_in_window: number | null;
  /** In flight now, summed over the replicas' reports. */
  readonly in_flight: number;
  /** Calls that succeeded and failed since each replica started, summed over the replicas alive. */
  readonly ok: number;
  readonly failed: number;
  readonly cooldown_ms: number;
  readonly cooldown_reason: string | null;
}

export interface ReplicaRow {
  readonly id: string;
  readonly version: string | null;
  readonly started_at: string | null;
  readonly mode: string | null;
  readonly in_flight: number;
  readonly ok: number;
  readonly failed: number;
}

export interface KeyRow {
  /** `sk-...abcd`: recognisable, not usable. */
  readonly key_name: string;
  readonly key_alias: string | null;
  readonly team_id: string | null;
  readonly spend: number;
  readonly max_budget: number | null;
  readonly rpm_limit: number | null;
  readonly tpm_limit: number | null;
  readonly blocked: boolean;
  readonly expires: string | null;
}

export interface SnapshotSources {
  readonly deployments: readonly Deployment[];
  readonly subject: (d: Deployment) => Subject;
  readonly view: FleetView;
  readonly accounts: AccountStore | undefined;
  readonly replicaId: string;
  readonly version: string;
  readonly mode: () => string;
  readonly store: string;
}

/** Most keys the page lists (newest first); the total is always shown. */
const KEYS_SHOWN = 200;

/** Reads the fleet's state: windows and cooldowns from the store, replicas' reports, key records. */
export async function fleetSnapshot(src: SnapshotSources): Promise<FleetSnapshot> {
  const errors: string[] = [];
  const failed = (what: string) => (error: unknown) => {
    errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  };
  const ids = src.deployments.map((d) => src.subject(d).id);
  const [windows, replicas, keys] = await Promise.all([
    src.view.subjects(ids).catch(failed('deployment windows')),
    src.view.replicas().catch(failed('replicas')),
    src.accounts ? readKeys(src.accounts).catch(failed('virtual keys')) : undefined,
  ]);
  const reports = (replicas ?? []).map((r) => ({ id: r.id, report: parseReport(r.report) }));
  const sum = (id: string, field: 'inFlight' | 'ok' | 'failed') =>
    reports.reduce((n, r) => n + (r.report?.deployments[id]?.[field] ?? 0), 0);
  const deployments = src.deployments.map((d, i): DeploymentRow => {
    const w = windows?.subjects[i];
    return {
      id: d.id,
      model_group: d.modelGroup,
      model: d.upstreamModel,
      provider: d.provider,
      api_base: d.apiBaseLabel,
      rpm_limit: d.rpm ?? null,
      tpm_limit: d.tpm ?? null,
      max_parallel: d.maxParallelRequests ?? null,
      // Null when not counted (no such limit) or not read (the error says why): never a made-up 0.
      requests_in_window: !w || (d.rpm === undefined && d.tpm === undefined) ? null : w.requests,
      tokens_in_window: !w || d.tpm === undefined ? null : Math.round(w.tokens),
      in_flight: sum(d.id, 'inFlight'),
      ok: sum(d.id, 'ok'),
      failed: sum(d.id, 'failed'),
      cooldown_ms: w?.cooldownMs ?? 0,
      cooldown_reason: w?.cooldownReason ?? null,
    };
  });
  const replicaRows = reports.map(({ id, report }): ReplicaRow => {
    const counts = Object.values(report?.deployments ?? {});
    return {
      id,
      version: report?.version ?? null,
      started_at: report?.started_at ?? null,
      mode: report?.mode ?? null,
      in_flight: counts.reduce((n, c) => n + c.inFlight, 0),
      ok: counts.reduce((n, c) => n + c.ok, 0),
      failed: counts.reduce((n, c) => n + c.failed, 0),
    };
  });
  return {
    generated_at: new Date().toISOString(),
    replica: src.replicaId,
    version: src.version,
    fleet: { mode: src.mode(), store: src.store, replicas: replicaRows },
    deployments,
    keys: keys ?? { total: 0, shown: [] },
    teams: teamsOf(keys?.shown ?? []),
    errors,
  };
}

async function readKeys(accounts: AccountStore): Promise<{ total: number; shown: KeyRow[] }> {
  const { ids, total } = await accounts.list(0, KEYS_SHOWN);
  const records = await Promise.all(ids.map((id) => accounts.get(id)));
  const shown: KeyRow[] = [];
  for (const r of records) {
    if (!r) continue;
    const doc = docOf(r);
    shown.push({
      key_name: doc.key_name,
      key_alias: doc.key_alias,
      team_id: doc.team_id,
      spend: r.spend,
      max_budget: doc.max_budget,
      rpm_limit: doc.rpm_limit,
      tpm_limit: doc.tpm_limit,
      blocked: doc.blocked,
      expires: doc.expires,
    });
  }
  return { total, shown };
}

function teamsOf(keys: readonly KeyRow[]): FleetSnapshot['teams'] {
  const teams = new Map<string, { keys: number; spend: number }>();
  for (const k of keys) {
    if (!k.team_id) continue;
    const t = teams.get(k.team_id) ?? { keys: 0, spend: 0 };
    t.keys++;
    t.spend += k.spend;
    teams.set(k.team_id, t);
  }
  return [...teams].map(([team_id, t]) => ({ team_id, ...t }));
}

function parseReport(json: string | undefined): ReplicaReport | undefined {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as ReplicaReport;
  } catch {
    return undefined;
  }
}
