import { type LineWriter, type Logger, lineWriter } from '../log.js';
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
  writerOf(deps.logger)(level, requestFields(record, totalMs));
}

const writers = new WeakMap<Logger, LineWriter>();

function writerOf(logger: Logger): LineWriter {
  let writer = writers.get(logger);
  if (!writer) {
    writer = lineWriter(logger);
    writers.set(logger, writer);
  }
  return writer;
}

/**
 * The request line's members, serialised by hand in a fixed order (what pino would write for the
 * same object: absent values left out, a non-finite number as null). Every string goes through
 * JSON.stringify: model names and aliases are the client's or the operator's text.
 */
export function requestFields(record: RequestRecord, totalMs: number): string {
  let out = `"msg":"request","call_id":${JSON.stringify(record.callId)},"route":${JSON.stringify(record.endpoint)},"status":${num(record.status)}`;
  if (record.errorCode !== undefined) out += `,"error":${JSON.stringify(record.errorCode)}`;
  if (record.clientModel !== undefined) out += `,"requested_model":${JSON.stringify(record.clientModel)}`;
  if (record.modelGroup !== undefined) out += `,"model_group":${JSON.stringify(record.modelGroup)}`;
  if (record.deployment !== undefined) out += `,"model_id":${JSON.stringify(record.deployment.id)}`;
  out += `,"stream":${record.stream}`;
  if (record.upstreamStatus !== undefined) out += `,"upstream_status":${num(record.upstreamStatus)}`;
  out += `,"retries":${num(record.retries)},"duration_ms":${num(Math.round(totalMs * 10) / 10)},"overhead_ms":${num(Math.round((totalMs - record.upstreamMs) * 10) / 10)}`;
  if (record.promptTokens !== undefined) out += `,"prompt_tokens":${num(record.promptTokens)}`;
  if (record.completionTokens !== undefined) out += `,"completion_tokens":${num(record.completionTokens)}`;
  if (record.keyAlias !== undefined) out += `,"key_alias":${JSON.stringify(record.keyAlias)}`;
  return out;
}

const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');
