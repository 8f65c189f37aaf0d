import type { AdapterContext } from '../adapter-context.js';
import { apiBaseLabel } from '../common/api-base-label.js';
import { createScrubber } from '../common/scrub.js';
import type { Endpoint, ProviderAdapter, UpstreamTarget } from '../types.js';
import { createOpenAiTranslator } from './openai-translator.js';

const ENDPOINT_PATHS: Readonly<Record<Endpoint, string>> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
};

/** Suffixes that mean "api_base is already a full endpoint URL" (the seed's first config). */
const ENDPOINT_SUFFIXES = ['/chat/completions', '/completions', '/embeddings'];

export const ALL_ENDPOINTS: ReadonlySet<Endpoint> = new Set(['chat', 'completions', 'embeddings']);

/**
 * Joins a base URL and an endpoint path whether `apiBase` is a bare base (`http://h:p/`,
 * `http://h:p/v1`) or already a full endpoint URL (`…/chat/completions`): a trailing endpoint
 * suffix is cut first, so the same deployment serves chat, completions and embeddings. A query
 * string on the base is kept.
 */
export function joinEndpoint(apiBase: string, endpoint: Endpoint): UpstreamTarget {
  const url = new URL(apiBase);
  let base = url.pathname.replace(/\/+$/, '');
  for (const suffix of ENDPOINT_SUFFIXES) {
    if (base.endsWith(suffix)) {
      base = base.slice(0, -suffix.length);
      break;
    }
  }
  return { origin: url.origin, path: `${base}${ENDPOINT_PATHS[endpoint]}${url.search}` };
}

/** The three endpoints' targets for one base URL, computed once. */
export function endpointTargets(apiBase: string): Record<Endpoint, UpstreamTarget> {
  return {
    chat: joinEndpoint(apiBase, 'chat'),
    completions: joinEndpoint(apiBase, 'completions'),
    embeddings: joinEndpoint(apiBase, 'embeddings'),
  };
}

/** `extra_headers`, lower-cased, under the content type; credentials are added after them and win. */
export function baseHeaders(extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(extra ?? {})) headers[name.toLowerCase()] = value;
  return headers;
}

/**
 * OpenAI and every server that speaks its API (vLLM, LM Studio, Groq, …): the body passes through
 * with `model` rewritten to the upstream name, and the deployment's key goes in `Authorization`.
 */
export function createOpenAiCompatibleAdapter(ctx: AdapterContext, defaultApiBase: string): ProviderAdapter {
  const p = ctx.params;
  const apiBase = p.api_base ?? defaultApiBase;
  const apiKey = p.api_key;
  const targets = endpointTargets(apiBase);
  const headers = baseHeaders(p.extra_headers);
  if (apiKey) headers['authorization'] = `Bearer ${apiKey}`;
  if (p.organization) headers['openai-organization'] = p.organization;
  return {
    provider: ctx.provider,
    api: 'openai',
    endpoints: ALL_ENDPOINTS,
    apiBase: apiBaseLabel(apiBase),
    openai: createOpenAiTranslator({
      targets,
      targetFor: (endpoint) => targets[endpoint],
      headers,
      upstreamModel: ctx.upstreamModel,
      askUsage: true,
      scrub: createScrubber([apiKey]),
    }),
  };
}
