import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { ERROR_CODE_HEADER, GatewayError } from '../../errors.js';
import { anthropicClientTranslator } from '../../providers/anthropic/client-translator.js';
import { checkMessagesRequest } from '../../providers/anthropic/messages-request.js';
import { anthropicErrorBody } from '../../providers/anthropic/messages-response.js';
import type { ClientApi } from '../../proxy/client-api.js';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';
import { finishRequest } from '../../proxy/finish.js';
import { createLlmHandler } from '../../proxy/llm-handler.js';

/** Anthropic's Messages API as a client API of the gateway. */
const ANTHROPIC_MESSAGES: ClientApi = {
  route: 'messages',
  check: checkMessagesRequest,
  translatorOf: anthropicClientTranslator,
  // Beta features (prompt caching, long context, …) are asked for by header; Anthropic deployments get it.
  forwardHeaders: ['anthropic-beta'],
};

/**
 * `POST /v1/messages` for clients of Anthropic's SDK and tools built on it, as LiteLLM serves it:
 * passed through to `anthropic/` deployments, translated for every other provider; admitted,
 * limited, retried, charged and logged like every other request. The gateway's own errors answer in
 * Anthropic's shape (`{"type":"error","error":{type,message}}`, OpenAI's `param` and `code` kept).
 */
export function registerMessagesRoute(app: Hono<GatewayEnv>, deps: ProxyDeps): void {
  const handler = createLlmHandler('chat', deps, ANTHROPIC_MESSAGES);
  app.post('/v1/messages', async (c) => {
    try {
      return await handler(c);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      const record = c.get('record');
      if (record) {
        record.status = error.status;
        record.errorCode = error.code;
        finishRequest(deps, record);
      }
      return new Response(anthropicErrorBody(error.status, error.toJSON().error), {
        status: error.status,
        headers: {
          'content-type': 'application/json',
          ...error.headers,
          'x-litellm-call-id': c.get('callId') ?? randomUUID(),
          [ERROR_CODE_HEADER]: error.code,
        },
      });
    }
  });
}
