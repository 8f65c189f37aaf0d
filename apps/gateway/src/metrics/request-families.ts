import type { Registry } from 'prom-client';
import { FastCounter, FastGauge, FastHistogram } from './families.js';

/** LiteLLM's LATENCY_BUCKETS, in seconds, so existing dashboards' quantiles line up. */
const LATENCY_BUCKETS = [
  0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8,
  8.5, 9, 9.5, 10, 15, 20, 25, 30, 60, 120, 180, 240, 300,
];

/** A virtual key's labels, in this order, on every per-request family. */
export const KEY = ['hashed_api_key', 'api_key_alias', 'team', 'team_alias'];
/** A deployment's labels, in this order. */
export const DEPLOYMENT = ['litellm_model_name', 'model_id', 'api_base', 'api_provider'];

/**
 * The families updated by requests, under LiteLLM's names and labels (counters carry `_total`, as
 * Python's client exposes them). Names and labels: BerriAI/litellm
 * `litellm/types/integrations/prometheus.py` and `docs/my-website/docs/proxy/prometheus.md`.
 */
export function createRequestFamilies(registry: Registry) {
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
    'Admission decisions, by result (admitted, rate_limited, no_deployment_available, fleet_state_unknown)',
    ['model_group', 'result'],
  );
  const episodes = counter(
    'fleetgate_fleet_state_episodes_total',
    'Local episodes this replica declared (Redis down or silent): it limited on its local share, then wrote back what it admitted',
    ['reason'],
  );
  const storeEvents = counter(
    'fleetgate_fleet_store_events_total',
    'Redis trouble the fleet store handled: admission_unknown, admission_resolved, admission_given_back, admission_unresolved, settlement_resent, settlement_lost',
    ['event'],
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
  const fallbackLabels = ['requested_model', 'fallback_model', ...KEY, 'exception_status', 'exception_class'];
  const fallbacksOk = counter(
    'litellm_deployment_successful_fallbacks_total',
    'Requests a fallback model group answered after the requested group failed (one per fallback tried)',
    fallbackLabels,
  );
  const fallbacksFailed = counter(
    'litellm_deployment_failed_fallbacks_total',
    'Fallback model groups tried that failed too',
    fallbackLabels,
  );
  const keyModelLabels = ['hashed_api_key', 'api_key_alias', 'model'];
  const keyModelRequests = new FastGauge(
    'litellm_remaining_api_key_requests_for_model',
    "Requests left in a virtual key's per-model window (model_rpm_limit) after its last admission on this replica, fleet-wide",
    keyModelLabels,
    registry,
    'min',
  );
  const keyModelTokens = new FastGauge(
    'litellm_remaining_api_key_tokens_for_model',
    "Tokens left in a virtual key's per-model window (model_tpm_limit) after its last admission on this replica, fleet-wide",
    keyModelLabels,
    registry,
    'min',
  );
  return {
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
  };
}
