import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Deployment } from '../config/deployments.js';
import { actualCost } from '../proxy/key-policy.js';
import type { RequestRecord } from '../proxy/request-record.js';
import { FastCounter, FastGauge, FastHistogram, type Series } from './families.js';
import { createFleetGauges } from './fleet-gauges.js';

/** LiteLLM's LATENCY_BUCKETS, in seconds, so existing dashboards' quantiles line up. */
const LATENCY_BUCKETS = [
  0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8,
  8.5, 9, 9.5, 10, 15, 20, 25, 30, 60, 120, 180, 240, 300,
];

/** Most virtual keys whose budgets one replica reports (keys beyond it are still served, not reported). */
const MAX_SERVED_KEYS = 10_000;

/** USD a request cost on `d`, as virtual keys are charged (0 without prices). */
function cost(d: Deployment, promptTokens: number, completionTokens: number): number {
  return actualCost(d, { promptTokens, completionTokens });
}

/** LiteLLM writes Python's None for an absent label; dashboards filter on it. */
const NONE = 'None';

const KEY = ['hashed_api_key', 'api_key_alias', 'team', 'team_alias'];
const DEPLOYMENT = ['litellm_model_name', 'model_id', 'api_base', 'api_provider'];
const ROUTES = { chat: '/chat/completions', completions: '/completions', embeddings: '/embeddings' } as const;

/**
 * Prometheus metrics under LiteLLM's names and labels (counters carry `_total`, as Python's client
 * exposes them), so dashboards built for LiteLLM keep working. Per-user labels (`end_user`, `user`,
 * `client_ip`, `user_agent`) are left out on purpose: unbounded label values are how a Prometheus
 * server runs out of memory. Fleetgate's own gauges are prefixed `fleetgate_`.
 */
export function createMetrics() {
  const registry = new Registry();
  // Process metrics (CPU, heap, event-loop lag, open handles): what tells a slow replica apart.
  collectDefaultMetrics({ register: registry });
  const counter = (name: string, help: string, labels: string[]) =>
    new FastCounter(name, help, labels, registry);
  const histogram = (name: string, help: string, labels: string[]) =>
    new FastHistogram(name, help, labels, LATENCY_BUCKETS, registry);

  const proxyRequests = counter(
    'litellm_proxy_total_requests_metric_total',
    'Requests made to the proxy, by final status',
    [...KEY, 'requested_model', 'status_code', 'route'],
  );
  const proxyFailures = counter(
    'litellm_proxy_failed_requests_metric_total',
    'Requests the proxy answered with an error',
    [...KEY, 'requested_model', 'exception_status', 'exception_class', 'route'],
  );
  const totalLatency = histogram(
    'litellm_request_total_latency_metric',
    'Seconds from the request arriving to the response ending',
    [...KEY, 'requested_model', 'model'],
  );
  const apiLatency = histogram(
    'litellm_llm_api_latency_metric',
    'Seconds spent waiting on upstream deployments',
    [...KEY, 'requested_model', 'model'],
  );
  const overhead = histogram(
    'litellm_overhead_latency_metric',
    'Seconds the gateway added to a request (total minus upstream time)',
    ['model_group', 'api_provider', 'api_base', 'litellm_model_name', 'hashed_api_key', 'api_key_alias'],
  );
  const deploymentLabels = [...DEPLOYMENT, 'requested_model', ...KEY];
  const successes = counter(
    'litellm_deployment_success_responses_total',
    'Successful calls to a deployment',
    deploymentLabels,
  );
  const failures = counter('litellm_deployment_failure_responses_total', 'Failed calls to a deployment', [
    ...deploymentLabels,
    'exception_status',
    'exception_class',
  ]);
  const deploymentTotal = counter(
    'litellm_deployment_total_requests_total',
    'Calls to a deployment, successful or not',
    deploymentLabels,
  );
  const cooledDown = counter(
    'litellm_deployment_cooled_down_total',
    'Times a deployment was cooled down by this replica',
    [...DEPLOYMENT, 'exception_status'],
  );
  const deploymentState = new FastGauge(
    'litellm_deployment_state',
    '0 healthy, 1 partial outage (last call failed), 2 complete outage (cooling down)',
    DEPLOYMENT,
    registry,
    'max',
  );
  const tokenLabels = [...KEY, 'requested_model', 'model'];
  const inputTokens = counter('litellm_input_tokens_metric_total', 'Prompt tokens', tokenLabels);
  const outputTokens = counter('litellm_output_tokens_metric_total', 'Completion tokens', tokenLabels);
  const totalTokens = counter(
    'litellm_total_tokens_metric_total',
    'Prompt plus completion tokens',
    tokenLabels,
  );
  const remainingLabels = ['model_group', 'api_provider', 'api_base', 'litellm_model_name', 'model_id'];
  const remainingRequests = new FastGauge(
    'litellm_remaining_requests',
    "Requests left in the deployment's rpm window after the last admission (fleet-wide)",
    remainingLabels,
    registry,
    'min',
  );
  const remainingTokens = new FastGauge(
    'litellm_remaining_tokens',
    "Tokens left in the deployment's tpm window after the last admission (fleet-wide)",
    remainingLabels,
    registry,
    'min',
  );
  const admissions = counter(
    'fleetgate_admissions_total',
    'Admission decisions, by result (admitted, rate_limited, no_deployment_available)',
    ['model_group', 'result'],
  );

  const spend = counter(
    'litellm_spend_metric_total',
    "USD spent: usage times the deployment's input/output_cost_per_token (0 without prices)",
    [...KEY, 'model', 'model_id'],
  );
  const ttft = histogram(
    'litellm_llm_api_time_to_first_token_metric',
    'Seconds from sending a streaming request upstream to its first chunk (streams only)',
    ['model', 'hashed_api_key', 'api_key_alias', 'team', 'team_alias', 'requested_model', 'model_id'],
  );
  const inFlight = new FastGauge(
    'fleetgate_in_flight_requests',
    'Requests this replica has admitted to a deployment and not yet settled (sum over replicas: the fleet)',
    ['model_group', 'api_provider', 'api_base', 'litellm_model_name', 'model_id'],
    registry,
    'sum',
  );
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
  const ofKey = (r: RequestRecord) => [r.keyHash ?? NONE, r.keyAlias ?? NONE, NONE, NONE];

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
    const k = `${d.id}\u001f${r.requestedModel}\u001f${r.keyHash}\u001f${r.endpoint}`;
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
    declareDeployments: fleetGauges.declareDeployments,
    watchBudgets: fleetGauges.watchBudgets,
    admission(group: string, result: 'admitted' | 'rate_limited' | 'no_deployment_available') {
      admissions.series([group, result]).value++;
    },
    watchFleet: fleetGauges.watchFleet,
    /** The request ended (for streams: the stream ended). */
    request(r: RequestRecord, totalMs: number) {
      const d = r.deployment;
      if (r.keyHash !== undefined && !servedKeys.has(r.keyHash) && servedKeys.size < MAX_SERVED_KEYS)
        servedKeys.set(r.keyHash, r.keyAlias);
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
