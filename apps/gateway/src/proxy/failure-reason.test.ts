import { describe, expect, it } from 'vitest';
import { failureReason } from './failure-reason.js';

const error = (e: Record<string, unknown>) => Buffer.from(JSON.stringify({ error: e }));

describe('failureReason', () => {
  it("reads the providers' context window errors", () => {
    for (const e of [
      { code: 'context_length_exceeded', message: "This model's maximum context length is 8192 tokens." },
      { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' },
      { message: 'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).' },
      { code: '400', message: 'Input is too long for requested model.' },
    ]) {
      expect(failureReason(400, error(e)), JSON.stringify(e)).toBe('context_window');
    }
  });

  it('reads content policy refusals', () => {
    expect(failureReason(400, error({ code: 'content_filter', message: 'filtered' }))).toBe('content_policy');
    expect(
      failureReason(
        400,
        error({
          code: 'content_policy_violation',
          message: 'Your request was rejected as a result of our safety system.',
        }),
      ),
    ).toBe('content_policy');
  });

  it('says nothing of other failures, other statuses or bodies that are not OpenAI-shaped', () => {
    expect(
      failureReason(400, error({ code: 'invalid_value', message: "'temperature' must be below 2" })),
    ).toBeUndefined();
    expect(failureReason(500, error({ code: 'context_length_exceeded' }))).toBeUndefined();
    expect(failureReason(400, Buffer.from('<html>context length</html>'))).toBeUndefined();
    expect(failureReason(400, Buffer.from('{"detail":"x"}'))).toBeUndefined();
  });
});
