import { describe, expect, it } from 'vitest';
import { thrownError as errorOf } from '../errors.test-support.js';
import { checkRequest } from './openai-request.js';
import { readRequestControls } from './request-controls.js';

const base = () => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

describe('LiteLLM request fields', () => {
  it('takes every LiteLLM field out of the body and leaves the OpenAI ones', () => {
    const body: Record<string, unknown> = {
      ...base(),
      user: 'u-1',
      temperature: 0.2,
      tools: [{ type: 'function', function: { name: 'f' } }],
      top_k: 5,
      fallbacks: ['other'],
      num_retries: 1,
      mock_testing_fallbacks: false,
      mock_timeout: false,
      caching: true,
      tags: ['a'],
      context_window_fallbacks: [{ m: ['x'] }],
      guardrails: ['g'],
      litellm_metadata: { a: 1 },
      metadata: { trace: 'x' },
      timeout: 3,
      priority: 1,
      'no-log': true,
    };
    const shape = checkRequest('chat', body);
    expect(shape.litellmFields).toBe(true);
    const controls = readRequestControls(body, undefined, true);
    expect(Object.keys(body).sort()).toEqual(['messages', 'model', 'temperature', 'tools', 'top_k', 'user']);
    expect(controls).toMatchObject({ numRetries: 1, timeoutS: 3, fallbacks: [{ model: 'other' }] });
  });

  it('says a plain OpenAI body has none', () => {
    expect(
      checkRequest('chat', { ...base(), user: 'u', stream_options: { include_usage: true } }).litellmFields,
    ).toBe(false);
  });

  it('reads fallbacks as names or as objects with fields of their own, under the body rules', () => {
    const controls = readRequestControls(
      {
        fallbacks: [
          'a',
          { model: 'b', messages: [{ role: 'assistant', content: 'custom' }], num_retries: 3, stream: true },
        ],
      },
      undefined,
      false,
    );
    expect(controls.fallbacks).toEqual([
      { model: 'a', overrides: undefined },
      { model: 'b', overrides: { messages: [{ role: 'assistant', content: 'custom' }] } },
    ]);
    expect(
      errorOf(() =>
        readRequestControls({ fallbacks: [{ model: 'b', api_base: 'http://evil' }] }, undefined, false),
      ),
    ).toMatchObject({ status: 400, code: 'forbidden_parameter', param: 'api_base' });
  });

  it('refuses malformed values with a 400 naming the field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ fallbacks: 3 }, 'fallbacks'],
      [{ fallbacks: 'gpt-4o' }, 'fallbacks'],
      [{ fallbacks: [{ messages: [] }] }, 'fallbacks[0]'],
      [{ fallbacks: ['a', ''] }, 'fallbacks[1]'],
      [{ num_retries: -1 }, 'num_retries'],
      [{ num_retries: 1.5 }, 'num_retries'],
      [{ num_retries: '2' }, 'num_retries'],
      [{ timeout: 0 }, 'timeout'],
      [{ timeout: 'soon' }, 'timeout'],
      [{ stream_timeout: -3 }, 'stream_timeout'],
      [{ disable_fallbacks: 'yes' }, 'disable_fallbacks'],
      [{ mock_response: { content: 'x' } }, 'mock_response'],
    ];
    for (const [body, param] of cases) {
      expect(
        errorOf(() => readRequestControls(body, undefined, true)),
        JSON.stringify(body),
      ).toMatchObject({
        status: 400,
        param,
      });
    }
    expect(errorOf(() => readRequestControls({}, 'never', true))).toMatchObject({
      param: 'x-litellm-timeout',
    });
  });

  it('takes the timeout from x-litellm-timeout before the body', () => {
    expect(readRequestControls({ timeout: 9 }, '0.5', false).timeoutS).toBe(0.5);
    expect(readRequestControls({ request_timeout: 4 }, undefined, false).timeoutS).toBe(4);
    expect(readRequestControls({ timeout: '7' }, undefined, false).timeoutS).toBe(7);
  });

  it('honours mock_response only for callers allowed to mock; the failure switches for everyone', () => {
    const mocks = { mock_response: 'hi', mock_testing_fallbacks: true, mock_testing_rate_limit_error: true };
    const allowed = readRequestControls({ ...mocks }, undefined, true);
    expect(allowed).toMatchObject({
      mock: { kind: 'reply', text: 'hi' },
      mockFailPrimary: true,
      mockFailFirst: true,
    });
    const body: Record<string, unknown> = { ...mocks, mock_timeout: true };
    const plainKey = readRequestControls(body, undefined, false);
    expect(plainKey).toMatchObject({ mock: { kind: 'timeout' }, mockFailPrimary: true, mockFailFirst: true });
    expect(body).toEqual({});
    expect(readRequestControls({ mock_response: 'hi' }, undefined, false).mock).toBeUndefined();
    expect(readRequestControls({ mock_response: 'litellm.RateLimitError' }, undefined, true).mock).toEqual({
      kind: 'failure',
      status: 429,
      message: 'this is a mock rate limit error',
    });
    expect(readRequestControls({ mock_timeout: true, mock_response: 'x' }, undefined, true).mock).toEqual({
      kind: 'timeout',
    });
  });

  it('refuses the credential and destination fields LiteLLM would honour', () => {
    for (const field of ['litellm_credential_name', 'model_list', 'aws_profile_name', 'client_secret']) {
      expect(errorOf(() => checkRequest('chat', { ...base(), [field]: 'x' }))).toMatchObject({
        status: 400,
        code: 'forbidden_parameter',
        param: field,
      });
    }
  });
});
