import type { AccountStore, FleetView, Subject } from '@fleetgate/ratelimit';
import type { Deployment } from '../config/deployments.js';
import type { Directory } from '../keys/directory.js';
import { docOf } from '../keys/key-doc.js';
import { teamDocOf } from '../teams/team-doc.js';
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
  readonly teams: { readonly total: number; readonly shown: ReadonlyArray<TeamRow> };
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

export interface TeamRow {
  readonly team_id: string;
  readonly team_alias: string | null;
  /** The team's own spend (every key of the team is charged to it), fleet-wide. */
  readonly spend: number;
  readonly max_budget: number | null;
  readonly rpm_limit: number | null;
  readonly tpm_limit: number | null;
  readonly blocked: boolean;
  /** Keys of the team among the keys shown. */
  readonly keys: number;
}

export interface SnapshotSources {
  readonly deployments: readonly Deployment[];
  readonly subject: (d: Deployment) => Subject;
  readonly view: FleetView;
  /** Keys, teams and users; undefined without an account store. */
  readonly directory: Directory | undefined;
  readonly replicaId: string;
  readonly version: string;
  readonly mode: () => string;
  readonly store: string;
}

/** Most keys and teams the page lists (newest first); the totals are always shown. */
const SHOWN = 200;

/** Reads the fleet's state: windows and cooldowns from the store, replicas' reports, key records. */
export async function fleetSnapshot(src: SnapshotSources): Promise<FleetSnapshot> {
  const errors: string[] = [];
  const failed = (what: string) => (error: unknown) => {
    errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  };
  const ids = src.deployments.map((d) => src.subject(d).id);
  const dir = src.directory;
  const [windows, replicas, keys, teams] = await Promise.all([
    src.view.subjects(ids).catch(failed('deployment windows')),
    src.view.replicas().catch(failed('replicas')),
    dir ? readKeys(dir.keys).catch(failed('virtual keys')) : undefined,
    dir ? readTeams(dir.teams).catch(failed('teams')) : undefined,
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
    teams: teams
      ? {
          total: teams.total,
          shown: teams.shown.map((t) => ({
            ...t,
            keys: (keys?.shown ?? []).filter((k) => k.team_id === t.team_id).length,
          })),
        }
      : { total: 0, shown: [] },
    errors,
  };
}

async function readKeys(accounts: AccountStore): Promise<{ total: number; shown: KeyRow[] }> {
  const { ids, total } = await accounts.list(0, SHOWN);
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

async function readTeams(teams: AccountStore): Promise<{ total: number; shown: Omit<TeamRow, 'keys'>[] }> {
  const { ids, total } = await teams.list(0, SHOWN);
  const records = await Promise.all(ids.map((id) => teams.get(id)));
  const shown: Omit<TeamRow, 'keys'>[] = [];
  for (const r of records) {
    if (!r) continue;
    const doc = teamDocOf(r);
    shown.push({
      team_id: doc.team_id,
      team_alias: doc.team_alias,
      spend: r.spend,
      max_budget: doc.max_budget,
      rpm_limit: doc.rpm_limit,
      tpm_limit: doc.tpm_limit,
      blocked: doc.blocked,
    });
  }
  return { total, shown };
}

function parseReport(json: string | undefined): ReplicaReport | undefined {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as ReplicaReport;
  } catch {
    return undefined;
  }
}
