import { describe, expect, it } from 'vitest';
import { thrownError as errorOf } from '../errors.test-support.js';
import { checkRequest } from './openai-request.js';

describe('checkRequest', () => {
  it('accepts a minimal chat request and reports stream', () => {
    expect(checkRequest('chat', { model: 'm', messages: [{ role: 'user', content: 'hi' }] })).toEqual({
      model: 'm',
      stream: false,
      litellmFields: false,
    });
    expect(
      checkRequest('chat', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }).stream,
    ).toBe(true);
    expect(checkRequest('embeddings', { model: 'm', input: ['a'], stream: true }).stream).toBe(false);
  });

  it('names the missing or malformed field', () => {
    expect(errorOf(() => checkRequest('chat', { messages: [] }))).toMatchObject({
      status: 400,
      param: 'model',
      message: 'missing required parameter "model"',
    });
    expect(errorOf(() => checkRequest('chat', { model: 3, messages: [] }))).toMatchObject({ param: 'model' });
    expect(errorOf(() => checkRequest('chat', { model: 'm' }))).toMatchObject({ param: 'messages' });
    expect(errorOf(() => checkRequest('chat', { model: 'm', messages: [] }))).toMatchObject({
      param: 'messages',
      message: '"messages" must be a non-empty array',
    });
    expect(errorOf(() => checkRequest('chat', { model: 'm', messages: [{ content: 'x' }] }))).toMatchObject({
      param: 'messages[0]',
    });
    expect(
      errorOf(() => checkRequest('chat', { model: 'm', messages: [{ role: 'user' }], stream: 'yes' })),
    ).toMatchObject({ param: 'stream' });
    expect(errorOf(() => checkRequest('completions', { model: 'm' }))).toMatchObject({ param: 'prompt' });
    expect(errorOf(() => checkRequest('embeddings', { model: 'm', input: [] }))).toMatchObject({
      param: 'input',
    });
  });

  it('refuses fields that would redirect the gateway or swap its credentials', () => {
    for (const field of ['api_base', 'base_url', 'api_key', 'custom_llm_provider', 'extra_headers']) {
      expect(
        errorOf(() =>
          checkRequest('chat', { model: 'm', messages: [{ role: 'user' }], [field]: 'http://evil' }),
        ),
      ).toMatchObject({
        status: 400,
        code: 'forbidden_parameter',
        param: field,
      });
    }
  });
});
