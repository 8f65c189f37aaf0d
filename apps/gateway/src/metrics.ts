import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Deployment } from './config/deployments.js';
import type { RequestRecord } from './proxy/request-record.js';

/** LiteLLM's LATENCY_BUCKETS, in seconds, so existing dashboards' quantiles line up. */
const LATENCY_BUCKETS = [
  0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8,
  8.5, 9, 9.5, 10, 15, 20, 25, 30, 60, 120, 180, 240, 300,
];

/** LiteLLM writes Python's None for an absent label; dashboards filter on it. */
const NONE = 'None';

const KEY_LABELS = ['hashed_api_key', 'api_key_alias', 'team', 'team_alias'] as const;
const DEPLOYMENT_LABELS = ['litellm_model_name', 'model_id', 'api_base', 'api_provider'] as const;

/**
 * Prometheus metrics under LiteLLM's names and labels (counters carry `_total`, as Python's client
 * exposes them), so dashboards built for LiteLLM keep working. Per-user labels (`end_user`, `user`,
 * `client_ip`, `user_agent`) are left out on purpose: unbounded label values are how a Prometheus
 * server runs out of memory. Fleetgate's own gauges are prefixed `fleetgate_`.
 */
export function createMetrics() {
  const registry = new Registry();
  const reg = { registers: [registry] };
  // Process metrics (CPU, heap, event-loop lag, open handles): what tells a slow replica apart.
  collectDefaultMetrics({ register: registry });
  const proxyRequests = new Counter({
    name: 'litellm_proxy_total_requests_metric_total',
    help: 'Requests made to the proxy, by final status',
    labelNames: [...KEY_LABELS, 'requested_model', 'status_code', 'route'],
    ...reg,
  });
  const proxyFailures = new Counter({
    name: 'litellm_proxy_failed_requests_metric_total',
    help: 'Requests the proxy answered with an error',
    labelNames: [...KEY_LABELS, 'requested_model', 'exception_status', 'exception_class', 'route'],
    ...reg,
  });
  const totalLatency = new Histogram({
    name: 'litellm_request_total_latency_metric',
    help: 'Seconds from the request arriving to the response ending',
    labelNames: [...KEY_LABELS, 'requested_model', 'model'],
    buckets: LATENCY_BUCKETS,
    ...reg,
  });
  const apiLatency = new Histogram({
    name: 'litellm_llm_api_latency_metric',
    help: 'Seconds spent waiting on upstream deployments',
    labelNames: [...KEY_LABELS, 'requested_model', 'model'],
    buckets: LATENCY_BUCKETS,
    ...reg,
  });
  const overhead = new Histogram({
    name: 'litellm_overhead_latency_metric',
    help: 'Seconds the gateway added to a request (total minus upstream time)',
    labelNames: [
      'model_group',
      'api_provider',
      'api_base',
      'litellm_model_name',
      'hashed_api_key',
      'api_key_alias',
    ],
    buckets: LATENCY_BUCKETS,
    ...reg,
  });
  const deploymentLabels = [...DEPLOYMENT_LABELS, 'requested_model', ...KEY_LABELS] as const;
  const successes = new Counter({
    name: 'litellm_deployment_success_responses_total',
    help: 'Successful calls to a deployment',
    labelNames: deploymentLabels,
    ...reg,
  });
  const failures = new Counter({
    name: 'litellm_deployment_failure_responses_total',
    help: 'Failed calls to a deployment',
    labelNames: [...deploymentLabels, 'exception_status', 'exception_class'],
    ...reg,
  });
  const deploymentTotal = new Counter({
    name: 'litellm_deployment_total_requests_total',
    help: 'Calls to a deployment, successful or not',
    labelNames: deploymentLabels,
    ...reg,
  });
  const cooledDown = new Counter({
    name: 'litellm_deployment_cooled_down_total',
    help: 'Times a deployment was cooled down by this replica',
    labelNames: [...DEPLOYMENT_LABELS, 'exception_status'],
    ...reg,
  });
  const deploymentState = new Gauge({
    name: 'litellm_deployment_state',
    help: '0 healthy, 1 partial outage (last call failed), 2 complete outage (cooling down)',
    labelNames: DEPLOYMENT_LABELS,
    aggregator: 'max',
    ...reg,
  });
  const tokenLabels = [...KEY_LABELS, 'requested_model', 'model'] as const;
  const inputTokens = new Counter({
    name: 'litellm_input_tokens_metric_total',
    help: 'Prompt tokens',
    labelNames: tokenLabels,
    ...reg,
  });
  const outputTokens = new Counter({
    name: 'litellm_output_tokens_metric_total',
    help: 'Completion tokens',
    labelNames: tokenLabels,
    ...reg,
  });
  const totalTokens = new Counter({
    name: 'litellm_total_tokens_metric_total',
    help: 'Prompt plus completion tokens',
    labelNames: tokenLabels,
    ...reg,
  });
  const remainingLabels = [
    'model_group',
    'api_provider',
    'api_base',
    'litellm_model_name',
    'model_id',
  ] as const;
  const remainingRequests = new Gauge({
    name: 'litellm_remaining_requests',
    help: "Requests left in the deployment's rpm window after the last admission (fleet-wide)",
    labelNames: remainingLabels,
    aggregator: 'min',
    ...reg,
  });
  const remainingTokens = new Gauge({
    name: 'litellm_remaining_tokens',
    help: "Tokens left in the deployment's tpm window after the last admission (fleet-wide)",
    labelNames: remainingLabels,
    aggregator: 'min',
    ...reg,
  });
  let fleet: () => { local: boolean; replicas: number } = () => ({ local: false, replicas: 1 });
  new Gauge({
    name: 'fleetgate_fleet_state_local',
    help: '1 while this replica limits on its local share because Redis is unreachable, else 0',
    aggregator: 'max',
    collect() {
      this.set(fleet().local ? 1 : 0);
    },
    ...reg,
  });
  new Gauge({
    name: 'fleetgate_live_replicas',
    help: 'Replicas alive at the last heartbeat (the divisor of local shares)',
    aggregator: 'max',
    collect() {
      this.set(fleet().replicas);
    },
    ...reg,
  });
  const admissions = new Counter({
    name: 'fleetgate_admissions_total',
    help: 'Admission decisions, by result (admitted, rate_limited, no_deployment_available)',
    labelNames: ['model_group', 'result'],
    ...reg,
  });

  const deploymentValues = (d: Deployment) => ({
    litellm_model_name: d.upstreamModel,
    model_id: d.id,
    api_base: d.apiBaseLabel,
    api_provider: d.provider,
  });
  const keyValues = (r: RequestRecord) => ({
    hashed_api_key: r.keyHash ?? NONE,
    api_key_alias: r.keyAlias ?? NONE,
    team: NONE,
    team_alias: NONE,
  });

  return {
    registry,
    /** One upstream attempt ended; `errorStatus` is undefined on success. */
    attempt(
      r: RequestRecord,
      d: Deployment,
      errorStatus: number | undefined,
      errorClass: string | undefined,
    ) {
      const labels = { ...deploymentValues(d), requested_model: r.requestedModel ?? NONE, ...keyValues(r) };
      deploymentTotal.inc(labels);
      if (errorStatus === undefined) {
        successes.inc(labels);
        deploymentState.set(deploymentValues(d), 0);
      } else {
        failures.inc({
          ...labels,
          exception_status: String(errorStatus),
          exception_class: errorClass ?? NONE,
        });
        deploymentState.set(deploymentValues(d), 1);
      }
    },
    cooledDown(d: Deployment, status: number | undefined) {
      cooledDown.inc({
        ...deploymentValues(d),
        exception_status: status === undefined ? NONE : String(status),
      });
      deploymentState.set(deploymentValues(d), 2);
    },
    remaining(d: Deployment, requests: number | undefined, tokens: number | undefined) {
      const labels = {
        model_group: d.modelGroup,
        api_provider: d.provider,
        api_base: d.apiBaseLabel,
        litellm_model_name: d.upstreamModel,
        model_id: d.id,
      };
      if (requests !== undefined) remainingRequests.set(labels, requests);
      if (tokens !== undefined) remainingTokens.set(labels, tokens);
    },
    admission(group: string, result: 'admitted' | 'rate_limited' | 'no_deployment_available') {
      admissions.inc({ model_group: group, result });
    },
    /** Where the fleet gauges read from, at scrape time. */
    watchFleet(read: () => { local: boolean; replicas: number }) {
      fleet = read;
    },
    /** The request ended (for streams: the stream ended). */
    request(r: RequestRecord, totalMs: number) {
      const key = keyValues(r);
      const requested = r.requestedModel ?? NONE;
      const route = `/${r.endpoint === 'chat' ? 'chat/completions' : r.endpoint}`;
      proxyRequests.inc({ ...key, requested_model: requested, status_code: String(r.status), route });
      if (r.status >= 400) {
        proxyFailures.inc({
          ...key,
          requested_model: requested,
          exception_status: String(r.status),
          exception_class: r.errorCode ?? NONE,
          route,
        });
      }
      const model = r.deployment?.upstreamModel ?? NONE;
      totalLatency.observe({ ...key, requested_model: requested, model }, totalMs / 1000);
      if (r.deployment) {
        apiLatency.observe({ ...key, requested_model: requested, model }, r.upstreamMs / 1000);
        const d = r.deployment;
        overhead.observe(
          {
            model_group: d.modelGroup,
            api_provider: d.provider,
            api_base: d.apiBaseLabel,
            litellm_model_name: d.upstreamModel,
            hashed_api_key: key.hashed_api_key,
            api_key_alias: key.api_key_alias,
          },
          Math.max(0, totalMs - r.upstreamMs) / 1000,
        );
      }
      if (r.promptTokens !== undefined) {
        const labels = { ...key, requested_model: requested, model };
        inputTokens.inc(labels, r.promptTokens);
        outputTokens.inc(labels, r.completionTokens ?? 0);
        totalTokens.inc(labels, r.promptTokens + (r.completionTokens ?? 0));
      }
    },
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
