import type { Deployment } from '../config/deployments.js';
import type { Endpoint } from '../providers/types.js';
import { attempt } from './attempt.js';
import type { ProxyDeps } from './context.js';
import { newRequestRecord } from './request-record.js';
import { settleAttempt } from './settle.js';

/** Checks running at once: enough to finish a large config quickly, never a burst at the providers. */
const CONCURRENCY = 4;
/** LiteLLM's HEALTH_CHECK_TIMEOUT_SECONDS, unless `model_info.health_check_timeout` says otherwise. */
const DEFAULT_TIMEOUT_MS = 60_000;

/** One deployment as `/health` lists it: its public params, and why it is unhealthy. */
export type HealthEntry = Record<string, unknown>;

export interface HealthReport {
  readonly healthy_endpoints: HealthEntry[];
  readonly unhealthy_endpoints: HealthEntry[];
  /** Not called because they were at their rpm/tpm/parallel limit (calling would overrun it). */
  readonly skipped_endpoints: HealthEntry[];
  readonly healthy_count: number;
  readonly unhealthy_count: number;
  readonly skipped_count: number;
  /** When the checks ran (ISO time): a report is reused until it is `maxAgeMs` old. */
  readonly checked_at: string;
}

/**
 * LiteLLM's `/health`: a real, minimal call to each deployment (a one-token chat or completion, or an
 * embedding, by `model_info.mode`), so it answers whether the provider, key and model work. Each
 * check is admitted through the fleet store like any request — it counts against the deployment's
 * windows and is not made when the deployment is at its limit or cooling down — and is settled
 * without counting toward cooldowns. Checks run a few at a time; one report per set of deployments is
 * reused for `maxAgeMs` and concurrent callers share the run in progress, so scraping `/health`
 * cannot flood providers.
 */
export function createDeploymentHealth(deps: ProxyDeps, maxAgeMs: number) {
  const reports = new Map<string, { at: number; report: Promise<HealthReport> }>();
  return (deployments: readonly Deployment[]): Promise<HealthReport> => {
    const key = deployments.map((d) => d.id).join('\u001f');
    const held = reports.get(key);
    if (held && performance.now() - held.at < maxAgeMs) return held.report;
    const report = runChecks(deps, deployments);
    reports.set(key, { at: performance.now(), report });
    report.catch(() => reports.delete(key));
    return report;
  };
}

async function runChecks(deps: ProxyDeps, deployments: readonly Deployment[]): Promise<HealthReport> {
  const results: Array<{ entry: HealthEntry; verdict: 'healthy' | 'unhealthy' | 'skipped' }> = [];
  let next = 0;
  const worker = async () => {
    while (next < deployments.length) {
      const d = deployments[next++]!;
      results.push(await check(deps, d));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, deployments.length) }, worker));
  const pick = (v: string) => results.filter((r) => r.verdict === v).map((r) => r.entry);
  const healthy = pick('healthy');
  const unhealthy = pick('unhealthy');
  const skipped = pick('skipped');
  return {
    healthy_endpoints: healthy,
    unhealthy_endpoints: unhealthy,
    skipped_endpoints: skipped,
    healthy_count: healthy.length,
    unhealthy_count: unhealthy.length,
    skipped_count: skipped.length,
    checked_at: new Date().toISOString(),
  };
}

const PROBES: Readonly<Record<Endpoint, Record<string, unknown>>> = {
  chat: { messages: [{ role: 'user', content: "What's 1 + 1?" }], max_tokens: 1 },
  completions: { prompt: "What's 1 + 1?", max_tokens: 1 },
  embeddings: { input: ['health check'] },
};

function probeEndpoint(d: Deployment): Endpoint {
  const mode = d.modelInfo['mode'];
  if (mode === 'embedding') return 'embeddings';
  if (mode === 'completion' || d.provider === 'text-completion-openai') return 'completions';
  return 'chat';
}

async function check(
  deps: ProxyDeps,
  d: Deployment,
): Promise<{ entry: HealthEntry; verdict: 'healthy' | 'unhealthy' | 'skipped' }> {
  const entry: HealthEntry = { ...d.publicParams, model_name: d.modelGroup, model_id: d.id };
  // A wildcard deployment (`openai/*`) has no model of its own to ask for.
  if (d.upstreamModel.includes('*'))
    return { entry: { ...entry, skipped: 'wildcard deployment' }, verdict: 'skipped' };
  const endpoint = probeEndpoint(d);
  const body = { model: d.upstreamModel, ...PROBES[endpoint] };
  const raw = Buffer.from(JSON.stringify(body));
  let admission: Awaited<ReturnType<ProxyDeps['store']['admit']>>;
  try {
    admission = await deps.store.admit({
      candidates: [deps.router.subject(d)],
      tokens: Math.ceil(raw.length / 4) + 1,
      leaseId: `${deps.replicaId}:health:${d.id}:${Date.now()}`,
    });
  } catch (error) {
    return { entry: { ...entry, error: `fleet state unavailable: ${String(error)}` }, verdict: 'unhealthy' };
  }
  if (!admission.admitted) {
    if (admission.reason === 'cooldown')
      return { entry: { ...entry, error: 'cooling down after failures' }, verdict: 'unhealthy' };
    return { entry: { ...entry, skipped: 'at its rpm/tpm/parallel limit' }, verdict: 'skipped' };
  }
  const ticket = admission.ticket;
  const record = newRequestRecord(`health-${d.id}`, endpoint, performance.now());
  const configured = Number(d.modelInfo['health_check_timeout']);
  const timeoutMs = Number.isFinite(configured) && configured > 0 ? configured * 1000 : DEFAULT_TIMEOUT_MS;
  let pending: Promise<void> = Promise.resolve();
  const result = await attempt(
    deps,
    {
      endpoint,
      body,
      raw,
      stream: false,
      clientWantsUsage: false,
      signal: new AbortController().signal,
      record,
      timeoutOverrideMs: Math.min(timeoutMs, d.timeoutMs),
    },
    d,
    (usage, failure) => {
      // A failed check says nothing the next real request would not: it never starts a cooldown.
      pending = settleAttempt(deps, record, d, ticket, usage, failure, false);
    },
  ).catch((error: unknown) => ({ kind: 'thrown' as const, error }));
  await pending;
  if (result.kind === 'answer' && result.answer.status < 400) return { entry, verdict: 'healthy' };
  const error =
    result.kind === 'thrown'
      ? String(result.error)
      : result.kind === 'retryable' && result.error
        ? result.error.message
        : `upstream answered ${result.answer?.status}: ${result.answer?.body.toString().slice(0, 300)}`;
  return { entry: { ...entry, error }, verdict: 'unhealthy' };
}
