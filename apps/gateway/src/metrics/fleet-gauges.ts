import { Gauge, type Registry } from 'prom-client';
import type { Deployment } from '../config/deployments.js';

/** What the fleet gauges read at scrape time. */
export interface FleetReading {
  /** 'shared' while limits live in Redis for the fleet, 'local' while this replica limits alone. */
  readonly mode: 'shared' | 'local';
  /** 'redis' when the fleet is configured with Redis, 'memory' when it has no shared store. */
  readonly store: 'redis' | 'memory';
  readonly replicas: number;
}

/** A budgeted team, as its record says right now (spend is fleet-wide: every key of the team's). */
export interface TeamBudget {
  readonly id: string;
  readonly alias: string | undefined;
  readonly spend: number;
  readonly maxBudget: number;
}

/** A budgeted user, as its record says right now (spend is fleet-wide: every key of the user's). */
export interface UserBudget {
  readonly id: string;
  readonly spend: number;
  readonly maxBudget: number;
}

/** A budgeted virtual key, as its record says right now (spend is fleet-wide). */
export interface KeyBudget {
  readonly hash: string;
  readonly alias: string | undefined;
  readonly spend: number;
  readonly maxBudget: number;
}

const NONE = 'None';
const DEPLOYMENT = ['litellm_model_name', 'model_id', 'api_base', 'api_provider'];

/**
 * Gauges read when Prometheus scrapes, not on requests: the fleet's mode and size, each limited
 * deployment's limits, and the budgets of the keys this replica served. Series exist only where
 * there is something to say: a deployment without an rpm has no rpm-limit series, a key without a
 * budget no budget series (LiteLLM writes +Inf there; an absent series cannot fire an alert).
 */
export function createFleetGauges(registry: Registry) {
  let fleet: () => FleetReading = () => ({ mode: 'shared', store: 'redis', replicas: 1 });
  let budgets: () => Promise<readonly KeyBudget[]> = () => Promise.resolve([]);
  let teamBudgets: () => Promise<readonly TeamBudget[]> = () => Promise.resolve([]);
  let userBudgets: () => Promise<readonly UserBudget[]> = () => Promise.resolve([]);

  new Gauge({
    name: 'fleetgate_fleet_state_local',
    help: '1 while this replica limits on its local share because Redis is unreachable, else 0 (also 0 without Redis configured)',
    aggregator: 'max',
    registers: [registry],
    collect() {
      const f = fleet();
      this.set(f.store === 'redis' && f.mode === 'local' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'fleetgate_fleet_state_mode',
    help: 'Where this replica keeps its limits: 1 on the current mode ("shared" in Redis for the fleet, "local" on its own), 0 on the other; store says what is configured',
    labelNames: ['mode', 'store'],
    aggregator: 'max',
    registers: [registry],
    collect() {
      const f = fleet();
      this.reset();
      for (const mode of ['shared', 'local'] as const)
        this.set({ mode, store: f.store }, f.mode === mode ? 1 : 0);
    },
  });
  new Gauge({
    name: 'fleetgate_live_replicas',
    help: 'Replicas alive at the last heartbeat (the divisor of local shares)',
    aggregator: 'max',
    registers: [registry],
    collect() {
      this.set(fleet().replicas);
    },
  });

  const rpmLimit = new Gauge({
    name: 'litellm_deployment_rpm_limit',
    help: "A deployment's requests-per-minute limit (fleet-wide); only deployments with an rpm",
    labelNames: DEPLOYMENT,
    aggregator: 'max',
    registers: [registry],
  });
  const tpmLimit = new Gauge({
    name: 'litellm_deployment_tpm_limit',
    help: "A deployment's tokens-per-minute limit (fleet-wide); only deployments with a tpm",
    labelNames: DEPLOYMENT,
    aggregator: 'max',
    registers: [registry],
  });

  budgetGauges(registry, {
    max: 'litellm_api_key_max_budget_metric',
    maxHelp: 'Max budget (USD) of a virtual key this replica served; only keys with a budget',
    remaining: 'litellm_remaining_api_key_budget_metric',
    remainingHelp:
      'Budget (USD) a virtual key this replica served has left, fleet-wide, read from the key record at scrape time',
    labelNames: ['hashed_api_key', 'api_key_alias'],
    read: () => budgets(),
    labels: (k) => ({ hashed_api_key: k.hash, api_key_alias: k.alias ?? NONE }),
  });
  budgetGauges(registry, {
    max: 'litellm_team_max_budget_metric',
    maxHelp: 'Max budget (USD) of a team whose keys this replica served; only teams with a budget',
    remaining: 'litellm_remaining_team_budget_metric',
    remainingHelp:
      'Budget (USD) a team whose keys this replica served has left, fleet-wide, read from the team record at scrape time',
    labelNames: ['team', 'team_alias'],
    read: () => teamBudgets(),
    labels: (t) => ({ team: t.id, team_alias: t.alias ?? NONE }),
  });
  budgetGauges(registry, {
    max: 'litellm_user_max_budget_metric',
    maxHelp: 'Max budget (USD) of a user whose keys this replica served; only users with a budget',
    remaining: 'litellm_remaining_user_budget_metric',
    remainingHelp:
      'Budget (USD) a user whose keys this replica served has left, fleet-wide, read from the user record at scrape time',
    labelNames: ['user'],
    read: () => userBudgets(),
    labels: (u) => ({ user: u.id }),
  });

  return {
    /** The deployments' limits, once at startup (they change only with the config). */
    declareDeployments(deployments: readonly Deployment[]) {
      for (const d of deployments) {
        const labels = {
          litellm_model_name: d.upstreamModel,
          model_id: d.id,
          api_base: d.apiBaseLabel,
          api_provider: d.provider,
        };
        if (d.rpm !== undefined) rpmLimit.set(labels, d.rpm);
        if (d.tpm !== undefined) tpmLimit.set(labels, d.tpm);
      }
    },
    /** Where the fleet gauges read from, at scrape time. */
    watchFleet(read: () => FleetReading) {
      fleet = read;
    },
    /** Where key budgets are read from, at scrape time. */
    watchBudgets(read: () => Promise<readonly KeyBudget[]>) {
      budgets = read;
    },
    /** Where team budgets are read from, at scrape time. */
    watchTeamBudgets(read: () => Promise<readonly TeamBudget[]>) {
      teamBudgets = read;
    },
    /** Where user budgets are read from, at scrape time. */
    watchUserBudgets(read: () => Promise<readonly UserBudget[]>) {
      userBudgets = read;
    },
  };
}

/**
 * An owner's (key's, team's, user's) max-budget and remaining-budget gauges, read at scrape time:
 * one series per budgeted owner, none for an owner without a budget. When the read fails (Redis
 * away) the last values stay rather than pretend the owners are gone.
 */
function budgetGauges<B extends { readonly spend: number; readonly maxBudget: number }>(
  registry: Registry,
  o: {
    max: string;
    maxHelp: string;
    remaining: string;
    remainingHelp: string;
    labelNames: string[];
    read: () => Promise<readonly B[]>;
    labels: (b: B) => Record<string, string>;
  },
): void {
  const max = new Gauge({
    name: o.max,
    help: o.maxHelp,
    labelNames: o.labelNames,
    aggregator: 'max',
    registers: [registry],
  });
  new Gauge({
    name: o.remaining,
    help: o.remainingHelp,
    labelNames: o.labelNames,
    aggregator: 'min',
    registers: [registry],
    async collect() {
      const read = await o.read().catch(() => undefined);
      if (!read) return;
      this.reset();
      max.reset();
      for (const b of read) {
        const labels = o.labels(b);
        this.set(labels, Math.max(0, b.maxBudget - b.spend));
        max.set(labels, b.maxBudget);
      }
    },
  });
}
