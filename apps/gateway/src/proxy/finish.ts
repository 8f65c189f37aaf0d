import type { ProxyDeps } from './context.js';
import type { RequestRecord } from './request-record.js';

/** Logs the request's one line and records its metrics, exactly once. */
export function finishRequest(deps: ProxyDeps, record: RequestRecord): void {
  if (record.finished) return;
  record.finished = true;
  const totalMs = performance.now() - record.startedAt;
  deps.metrics.request(record, totalMs);
  const level = record.status >= 500 ? 'warn' : 'info';
  if (!deps.logger.isLevelEnabled(level)) return;
  deps.logger[level]({
    msg: 'request',
    call_id: record.callId,
    route: record.endpoint,
    status: record.status,
    error: record.errorCode,
    requested_model: record.clientModel,
    model_group: record.modelGroup,
    model_id: record.deployment?.id,
    stream: record.stream,
    upstream_status: record.upstreamStatus,
    retries: record.retries,
    duration_ms: Math.round(totalMs * 10) / 10,
    overhead_ms: Math.round((totalMs - record.upstreamMs) * 10) / 10,
    prompt_tokens: record.promptTokens,
    completion_tokens: record.completionTokens,
    key_alias: record.keyAlias,
  });
}
