import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Deployment } from '../config/deployments.js';
import type { RequestRecord } from '../proxy/request-record.js';
import { FastCounter, FastGauge, FastHistogram, type Series } from './families.js';

/** LiteLLM's LATENCY_BUCKETS, in seconds, so existing dashboards' quantiles line up. */
const LATENCY_BUCKETS = [
  0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8,
  8.5, 9, 9.5, 10, 15, 20, 25, 30, 60, 120, 180, 240, 300,
];

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

  let fleet: () => { local: boolean; replicas: number } = () => ({ local: false, replicas: 1 });
  new Gauge({
    name: 'fleetgate_fleet_state_local',
    help: '1 while this replica limits on its local share because Redis is unreachable, else 0',
    aggregator: 'max',
    registers: [registry],
    collect() {
      this.set(fleet().local ? 1 : 0);
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

  const remainingSeries = new Map<string, [Series, Series]>();

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
      h.deploymentTotal.value++;
      if (errorStatus === undefined) {
        h.success.value++;
        h.state.value = 0;
      } else {
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
    cooledDown(d: Deployment, status: number | undefined) {
      const dv = ofDeployment(d);
      cooledDown.inc([...dv, status === undefined ? NONE : String(status)]);
      deploymentState.set(dv, 2);
    },
    remaining(d: Deployment, requests: number | undefined, tokens: number | undefined) {
      let pair = remainingSeries.get(d.id);
      if (!pair) {
        const labels = [d.modelGroup, d.provider, d.apiBaseLabel, d.upstreamModel, d.id];
        pair = [remainingRequests.series(labels), remainingTokens.series(labels)];
        remainingSeries.set(d.id, pair);
      }
      if (requests !== undefined) pair[0].value = requests;
      if (tokens !== undefined) pair[1].value = tokens;
    },
    admission(group: string, result: 'admitted' | 'rate_limited' | 'no_deployment_available') {
      admissions.series([group, result]).value++;
    },
    /** Where the fleet gauges read from, at scrape time. */
    watchFleet(read: () => { local: boolean; replicas: number }) {
      fleet = read;
    },
    /** The request ended (for streams: the stream ended). */
    request(r: RequestRecord, totalMs: number) {
      const d = r.deployment;
      if (r.status === 200 && d) {
        // The common case: one cached bundle of series, no label work at all.
        const h = hot(r, d);
        h.ok.value++;
        totalLatency.observeSeries(h.totalLatency, totalMs / 1000);
        apiLatency.observeSeries(h.apiLatency, r.upstreamMs / 1000);
        overhead.observeSeries(h.overhead, Math.max(0, totalMs - r.upstreamMs) / 1000);
        if (r.promptTokens !== undefined) {
          const completion = r.completionTokens ?? 0;
          h.inputTokens.value += r.promptTokens;
          h.outputTokens.value += completion;
          h.totalTokens.value += r.promptTokens + completion;
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
      }
    },
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
