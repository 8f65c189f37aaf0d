import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Deployment } from '../config/deployments.js';
import { createLogger, isoTime, lineWriter } from '../log.js';
import { requestFields } from './finish.js';
import { newRequestRecord, type RequestRecord } from './request-record.js';

/** A destination that keeps every line written to it. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

/** The same members as finish.ts writes, as an object for pino's own serialiser. */
function asObject(r: RequestRecord, totalMs: number): Record<string, unknown> {
  return {
    msg: 'request',
    call_id: r.callId,
    route: r.endpoint,
    status: r.status,
    error: r.errorCode,
    requested_model: r.clientModel,
    model_group: r.modelGroup,
    model_id: r.deployment?.id,
    stream: r.stream,
    upstream_status: r.upstreamStatus,
    retries: r.retries,
    duration_ms: Math.round(totalMs * 10) / 10,
    overhead_ms: Math.round((totalMs - r.upstreamMs) * 10) / 10,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    key_alias: r.keyAlias,
  };
}

const withoutTime = (line: string) => line.replace(/"time":"[^"]*"/, '"time":"T"');

describe('the request log line', () => {
  const served = (): RequestRecord => {
    const r = newRequestRecord('call-1', 'chat', 0);
    Object.assign(r, {
      clientModel: 'gpt "quoted" \\ model\n',
      modelGroup: 'group-ü',
      deployment: { id: 'dep-1' } as Deployment,
      status: 200,
      upstreamStatus: 200,
      upstreamMs: 12.34,
      retries: 1,
      promptTokens: 10,
      completionTokens: Number.NaN,
      keyAlias: 'team\u2028alias',
    });
    return r;
  };
  const refused = (): RequestRecord =>
    Object.assign(newRequestRecord('c2', 'embeddings', 0), {
      status: 429,
      errorCode: 'rate_limited',
    });

  it.each([
    ['served, with text that needs escaping', served],
    ['refused before any attempt', refused],
  ])('is the line pino writes for the same members: %s', (_name, make) => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream);
    const record = make();
    logger.info(asObject(record, 45.678));
    lineWriter(logger)('info', requestFields(record, 45.678));
    expect(lines).toHaveLength(2);
    expect(withoutTime(lines[1]!)).toBe(withoutTime(lines[0]!));
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'info', pid: process.pid, msg: 'request' });
  });

  it('honours the level and carries a child logger’s bindings', () => {
    const { lines, stream } = capture();
    const logger = createLogger('warn', stream);
    lineWriter(logger)('info', '"msg":"request"');
    expect(lines).toHaveLength(0);
    lineWriter(logger.child({ replica: 'r1' }))('warn', '"msg":"request"');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'warn',
      pid: process.pid,
      replica: 'r1',
      msg: 'request',
    });
  });

  it('formats time as toISOString does, across second boundaries', () => {
    const base = Date.UTC(2026, 11, 2, 23, 59, 59, 0);
    for (const ms of [0, 7, 999, base, base + 5, base + 42, base + 999, base + 1000, base + 1001, base - 1]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
