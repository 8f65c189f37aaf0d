import type { AdapterContext } from '../adapter-context.js';
import { apiBaseLabel } from '../common/api-base-label.js';
import { jsonBody } from '../common/json.js';
import { modelTargets } from '../common/model-targets.js';
import { createScrubber } from '../common/scrub.js';
import { googleError } from '../gemini/errors.js';
import { googleAuthedRequests } from '../google/authed-request.js';
import type { GoogleTokenSource } from '../google/token-cache.js';
import { baseHeaders } from '../openai/openai-compatible.js';
import type { Endpoint, ProviderAdapter, Translator } from '../types.js';
import { anthropicAnswers } from './anthropic-adapter.js';
import { anthropicError, anthropicErrorOf } from './errors.js';
import { toAnthropicRequest } from './request.js';

/** What Vertex AI wants in the body in place of the `anthropic-version` header. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

const ENDPOINTS: ReadonlySet<Endpoint> = new Set(['chat']);

export type RawMethod = 'rawPredict' | 'streamRawPredict';

/**
 * `vertex_ai/claude-*`: Claude on Vertex AI, as LiteLLM calls it — Anthropic's Messages API at
 * `…/publishers/anthropic/models/<model>:rawPredict` (`:streamRawPredict` for streams) with a Google
 * access token; the model lives in the URL, not the body, and `anthropic_version` in the body.
 * Answers and errors are Anthropic's (Google's own error shape for what Vertex refuses first, such
 * as a bad token or quota).
 */
export function createVertexClaudeAdapter(
  ctx: AdapterContext,
  o: { tokens: GoogleTokenSource; apiBase: string; url: (model: string, method: RawMethod) => string },
): ProviderAdapter {
  const headers = baseHeaders(ctx.params.extra_headers);
  const scrub = createScrubber([], () => o.tokens.recent());
  const defaultModel = ctx.upstreamModel;
  const targetFor = modelTargets(o.url, defaultModel);
  const send = googleAuthedRequests(o.tokens, headers, `${ctx.provider} deployment ${ctx.deploymentName}`);
  const openai: Translator = {
    request(input, io) {
      const model = input.upstreamModel ?? defaultModel;
      const { model: _inPath, ...body } = toAnthropicRequest(input.body, model, input.stream);
      const target = targetFor(model, input.stream ? 'streamRawPredict' : 'rawPredict');
      return send(target, jsonBody({ anthropic_version: VERTEX_ANTHROPIC_VERSION, ...body }, input.raw), io);
    },
    ...anthropicAnswers(defaultModel, scrub),
    decodeError(status, body) {
      const clean = scrub(body);
      return anthropicErrorOf(clean)?.type !== undefined
        ? anthropicError(status, clean)
        : googleError('VertexAI', status, clean);
    },
  };
  return {
    provider: ctx.provider,
    api: 'anthropic',
    endpoints: ENDPOINTS,
    apiBase: apiBaseLabel(o.apiBase),
    openai,
  };
}
