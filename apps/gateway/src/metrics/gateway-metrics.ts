import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Deployment } from '../config/deployments.js';
import { actualCost } from '../proxy/key-policy.js';
import type { RequestRecord } from '../proxy/request-record.js';
import type { Series } from './families.js';
import { createFleetGauges } from './fleet-gauges.js';
import { createRequestFamilies } from './request-families.js';

/** Most virtual keys whose budgets one replica reports (keys beyond it are still served, not reported). */
const MAX_SERVED_KEYS = 10_000;

/** USD a request cost on `d`, as virtual keys are charged (0 without prices). */
function cost(d: Deployment, promptTokens: number, completionTokens: number): number {
  return actualCost(d, { promptTokens, completionTokens });
}

/** LiteLLM writes Python's None for an absent label; dashboards filter on it. */
const NONE = 'None';

const ROUTES = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  messages: '/v1/messages',
} as const;

/**
 * How often the event-loop lag histogram (`nodejs_eventloop_lag_p50_seconds` and the rest) takes a
 * sample. prom-client's default, 10 ms, wakes an idle replica 100 times a second: 7.9 ms of CPU a
 * second for nothing (measured alone), most of what an idle replica spent. At 50 ms the histogram
 * still gets 300 samples in a 15 s scrape interval, for 1.6 ms of CPU a second.
 */
const EVENT_LOOP_SAMPLE_MS = 50;

/**
 * Prometheus metrics under LiteLLM's names and labels (counters carry `_total`, as Python's client
 * exposes them), so dashboards built for LiteLLM keep working. Per-user labels (`end_user`, `user`,
 * `client_ip`, `user_agent`) are left out on purpose: unbounded label values are how a Prometheus
 * server runs out of memory. Fleetgate's own gauges are prefixed `fleetgate_`.
 */
export function createMetrics() {
  const registry = new Registry();
  // Process metrics (CPU, heap, event-loop lag, open handles): what tells a slow replica apart.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const {
    keyModelRequests,
    keyModelTokens,
    fallbacksOk,
    fallbacksFailed,
    proxyRequests,
    proxyFailures,
    totalLatency,
    apiLatency,
    overhead,
    successes,
    failures,
    deploymentTotal,
    cooledDown,
    deploymentState,
    inputTokens,
    outputTokens,
    totalTokens,
    remainingRequests,
    remainingTokens,
    admissions,
    episodes,
    storeEvents,
    spend,
    ttft,
    inFlight,
  } = createRequestFamilies(registry);
  const fleetGauges = createFleetGauges(registry);

  /** Per deployment: its remaining-requests and remaining-tokens series (each created only once set), in-flight. */
  const perDeployment = new Map<
    string,
    {
      requests: Series | undefined;
      tokens: Series | undefined;
      labels: string[];
      inFlight: Series;
      /** Calls to the deployment that succeeded, and that failed (litellm_deployment_*_responses). */
      ok: number;
      failed: number;
    }
  >();
  const deploymentSeries = (d: Deployment) => {
    let p = perDeployment.get(d.id);
    if (!p) {
      const labels = [d.modelGroup, d.provider, d.apiBaseLabel, d.upstreamModel, d.id];
      p = {
        requests: undefined,
        tokens: undefined,
        labels,
        inFlight: inFlight.series(labels),
        ok: 0,
        failed: 0,
      };
      perDeployment.set(d.id, p);
    }
    return p;
  };
  /** Virtual keys this replica served (hashes → alias), whose budgets are read at scrape time. */
  const servedKeys = new Map<string, string | undefined>();
  /** Teams of those keys (id → alias), whose budgets are read at scrape time. */
  const servedTeams = new Map<string, string | undefined>();
  /** Per (key, model): its per-model window series, once it had one. */
  const keyModelSeries = new Map<string, { requests: Series | undefined; tokens: Series | undefined }>();
  /** Users of those keys, whose budgets are read at scrape time. */
  const servedUsers = new Set<string>();

  /** Label values of a deployment, built once per deployment. */
  const deploymentValues = new Map<string, string[]>();
  const ofDeployment = (d: Deployment): string[] => {
    let v = deploymentValues.get(d.id);
    if (!v) {
      v = [d.upstreamModel, d.id, d.apiBaseLabel, d.provider];
      deploymentValues.set(d.id, v);
    }
    return v;
  };
  const ofKey = (r: RequestRecord) => [
    r.keyHash ?? NONE,
    r.keyAlias ?? NONE,
    r.teamId ?? NONE,
    r.teamAlias ?? NONE,
  ];

  /**
   * The series one (deployment, requested model, key) combination updates on every successful
   * request, looked up once per request by a short string instead of label arrays.
   */
  const hotSeries = new Map<string, ReturnType<typeof makeHot>>();
  const makeHot = (r: RequestRecord, d: Deployment) => {
    const key = ofKey(r);
    const requested = r.requestedModel ?? NONE;
    const deploymentLabels = [...ofDeployment(d), requested, ...key];
    const modelLabels = [...key, requested, d.upstreamModel];
    return {
      deploymentTotal: deploymentTotal.series(deploymentLabels),
      success: successes.series(deploymentLabels),
      state: deploymentState.series(ofDeployment(d)),
      ok: proxyRequests.series([...key, requested, '200', ROUTES[r.endpoint]]),
      totalLatency: totalLatency.series(modelLabels),
      apiLatency: apiLatency.series(modelLabels),
      overhead: overhead.series([
        d.modelGroup,
        d.provider,
        d.apiBaseLabel,
        d.upstreamModel,
        key[0]!,
        key[1]!,
      ]),
      inputTokens: inputTokens.series(modelLabels),
      outputTokens: outputTokens.series(modelLabels),
      totalTokens: totalTokens.series(modelLabels),
      spend: spend.series([...key, d.upstreamModel, d.id]),
      ttft: ttft.series([d.upstreamModel, key[0]!, key[1]!, key[2]!, key[3]!, requested, d.id]),
    };
  };
  const hot = (r: RequestRecord, d: Deployment) => {
    const k = `${d.id}\u001f${r.requestedModel}\u001f${r.keyHash}\u001f${r.teamId}\u001f${r.endpoint}`;
    let h = hotSeries.get(k);
    if (!h) {
      h = makeHot(r, d);
      hotSeries.set(k, h);
    }
    return h;
  };

  const cooldownListeners: Array<(d: Deployment, status: number | undefined, ms: number) => void> = [];

  return {
    registry,
    /** One upstream attempt ended; `errorStatus` is undefined on success. */
    attempt(
      r: RequestRecord,
      d: Deployment,
      errorStatus: number | undefined,
      errorClass: string | undefined,
    ) {
      const h = hot(r, d);
      const p = deploymentSeries(d);
      h.deploymentTotal.value++;
      if (errorStatus === undefined) {
        p.ok++;
        h.success.value++;
        h.state.value = 0;
      } else {
        p.failed++;
        failures.inc([
          ...ofDeployment(d),
          r.requestedModel ?? NONE,
          ...ofKey(r),
          String(errorStatus),
          errorClass ?? NONE,
        ]);
        h.state.value = 1;
      }
    },
    /**
     * A fallback group was tried after the requested group failed with `status` (`exceptionClass`:
     * LiteLLM's name for that failure); `ok` when it answered.
     */
    fallback(
      r: RequestRecord,
      requested: string,
      fallbackModel: string,
      status: number | undefined,
      exceptionClass: string | undefined,
      ok: boolean,
    ) {
      const labels = [
        requested,
        fallbackModel,
        ...ofKey(r),
        status === undefined ? NONE : String(status),
        exceptionClass ?? NONE,
      ];
      (ok ? fallbacksOk : fallbacksFailed).inc(labels);
    },
    /**
     * What a key's per-model window (`model_rpm_limit` / `model_tpm_limit`) had left after an
     * admission (undefined for a unit it does not limit: no series).
     */
    keyModelRemaining(
      r: RequestRecord,
      model: string,
      requests: number | undefined,
      tokens: number | undefined,
    ) {
      if (r.keyHash === undefined) return;
      const k = `${r.keyHash}\u001f${model}`;
      let s = keyModelSeries.get(k);
      if (!s) {
        if (keyModelSeries.size >= MAX_SERVED_KEYS) return;
        const labels = [r.keyHash, r.keyAlias ?? NONE, model];
        s = {
          requests: requests === undefined ? undefined : keyModelRequests.series(labels),
          tokens: tokens === undefined ? undefined : keyModelTokens.series(labels),
        };
        keyModelSeries.set(k, s);
      }
      if (s.requests && requests !== undefined) s.requests.value = requests;
      if (s.tokens && tokens !== undefined) s.tokens.value = tokens;
    },
    /** A deployment was cooled down for `ms`; listeners (the fleet page's notes) hear why. */
    cooledDown(d: Deployment, status: number | undefined, ms?: number) {
      const dv = ofDeployment(d);
      cooledDown.inc([...dv, status === undefined ? NONE : String(status)]);
      deploymentState.set(dv, 2);
      for (const l of cooldownListeners) l(d, status, ms ?? 0);
    },
    onCooldown(listener: (d: Deployment, status: number | undefined, ms: number) => void) {
      cooldownListeners.push(listener);
    },
    /**
     * One admission to `d` (called once per admission): what its windows have left after it, fleet-wide
     * (undefined for a window the deployment does not have, which then has no series at all), and
     * one more request in flight until `released`.
     */
    remaining(d: Deployment, requests: number | undefined, tokens: number | undefined) {
      const p = deploymentSeries(d);
      p.inFlight.value++;
      if (requests !== undefined) {
        p.requests ??= remainingRequests.series(p.labels);
        p.requests.value = requests;
      }
      if (tokens !== undefined) {
        p.tokens ??= remainingTokens.series(p.labels);
        p.tokens.value = tokens;
      }
    },
    /** An admitted request to `d` settled (whatever its outcome). */
    released(d: Deployment) {
      const p = deploymentSeries(d);
      if (p.inFlight.value > 0) p.inFlight.value--;
    },
    /** Per deployment id: requests in flight on this replica, and its calls that succeeded and failed. */
    deploymentCounts(): Record<string, { inFlight: number; ok: number; failed: number }> {
      const out: Record<string, { inFlight: number; ok: number; failed: number }> = {};
      for (const [id, p] of perDeployment)
        out[id] = { inFlight: p.inFlight.value, ok: p.ok, failed: p.failed };
      return out;
    },
    /** Virtual keys this replica has served (hash → alias). */
    servedKeys: servedKeys as ReadonlyMap<string, string | undefined>,
    /** Teams of the keys this replica has served (id → alias). */
    servedTeams: servedTeams as ReadonlyMap<string, string | undefined>,
    /** Users of the keys this replica has served. */
    servedUsers: servedUsers as ReadonlySet<string>,
    watchTeamBudgets: fleetGauges.watchTeamBudgets,
    watchUserBudgets: fleetGauges.watchUserBudgets,
    declareDeployments: fleetGauges.declareDeployments,
    watchBudgets: fleetGauges.watchBudgets,
    admission(
      group: string,
      result: 'admitted' | 'rate_limited' | 'no_deployment_available' | 'fleet_state_unknown',
    ) {
      admissions.series([group, result]).value++;
    },
    /** A local episode began: 'connection_down' or 'no_reply'. */
    episode(reason: 'connection_down' | 'no_reply') {
      episodes.series([reason]).value++;
    },
    /** Redis trouble the fleet store handled (see StoreEvent). */
    storeEvent(event: string, count: number) {
      storeEvents.series([event]).value += count;
    },
    watchFleet: fleetGauges.watchFleet,
    /** The request ended (for streams: the stream ended). */
    request(r: RequestRecord, totalMs: number) {
      const d = r.deployment;
      if (r.keyHash !== undefined && !servedKeys.has(r.keyHash) && servedKeys.size < MAX_SERVED_KEYS)
        servedKeys.set(r.keyHash, r.keyAlias);
      if (r.teamId !== undefined && !servedTeams.has(r.teamId) && servedTeams.size < MAX_SERVED_KEYS)
        servedTeams.set(r.teamId, r.teamAlias);
      if (r.userId !== undefined && !servedUsers.has(r.userId) && servedUsers.size < MAX_SERVED_KEYS)
        servedUsers.add(r.userId);
      if (r.status === 200 && d) {
        // The common case: one cached bundle of series, no label work at all.
        const h = hot(r, d);
        h.ok.value++;
        totalLatency.observeSeries(h.totalLatency, totalMs / 1000);
        apiLatency.observeSeries(h.apiLatency, r.upstreamMs / 1000);
        overhead.observeSeries(h.overhead, Math.max(0, totalMs - r.upstreamMs) / 1000);
        if (r.firstChunkMs !== undefined) ttft.observeSeries(h.ttft, r.firstChunkMs / 1000);
        if (r.promptTokens !== undefined) {
          const completion = r.completionTokens ?? 0;
          h.inputTokens.value += r.promptTokens;
          h.outputTokens.value += completion;
          h.totalTokens.value += r.promptTokens + completion;
          h.spend.value += cost(d, r.promptTokens, completion);
        }
        return;
      }
      const key = ofKey(r);
      const requested = r.requestedModel ?? NONE;
      const route = ROUTES[r.endpoint];
      proxyRequests.inc([...key, requested, String(r.status), route]);
      if (r.status >= 400)
        proxyFailures.inc([...key, requested, String(r.status), r.errorCode ?? NONE, route]);
      const modelLabels = [...key, requested, d?.upstreamModel ?? NONE];
      totalLatency.observe(modelLabels, totalMs / 1000);
      if (d) {
        apiLatency.observe(modelLabels, r.upstreamMs / 1000);
        overhead.observe(
          [d.modelGroup, d.provider, d.apiBaseLabel, d.upstreamModel, key[0]!, key[1]!],
          Math.max(0, totalMs - r.upstreamMs) / 1000,
        );
      }
      if (r.promptTokens !== undefined) {
        const completion = r.completionTokens ?? 0;
        inputTokens.inc(modelLabels, r.promptTokens);
        outputTokens.inc(modelLabels, completion);
        totalTokens.inc(modelLabels, r.promptTokens + completion);
        if (d) spend.inc([...key, d.upstreamModel, d.id], cost(d, r.promptTokens, completion));
      }
    },
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
