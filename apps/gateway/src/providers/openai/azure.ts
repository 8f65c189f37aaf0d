import { AdapterConfigError, type AdapterContext, firstSet } from '../adapter-context.js';
import { apiBaseLabel } from '../common/api-base-label.js';
import { createScrubber } from '../common/scrub.js';
import type { Endpoint, ProviderAdapter, UpstreamTarget } from '../types.js';
import { ALL_ENDPOINTS, baseHeaders, endpointTargets, joinEndpoint } from './openai-compatible.js';
import { createOpenAiTranslator } from './openai-translator.js';

/** LiteLLM's `AZURE_DEFAULT_API_VERSION` (litellm/__init__.py), used when neither the config nor AZURE_API_VERSION sets one. */
export const AZURE_DEFAULT_API_VERSION = '2025-02-01-preview';

/** Azure accepts `stream_options` (the usage chunk) from this api-version on; older ones refuse the field. */
const STREAM_USAGE_SINCE = '2024-07-01';

const PATHS: Readonly<Record<Endpoint, string>> = {
  chat: 'chat/completions',
  completions: 'completions',
  embeddings: 'embeddings',
};

/**
 * `azure/<deployment>`: OpenAI's API on another path and with another credential header —
 * `{api_base}/openai/deployments/{deployment}/{endpoint}?api-version=…`, the key in `api-key`, or an
 * Entra ID token (`azure_ad_token`) as a bearer. Defaults as LiteLLM reads them: AZURE_API_BASE,
 * AZURE_API_VERSION, AZURE_OPENAI_API_KEY / AZURE_API_KEY, AZURE_AD_TOKEN.
 */
export function createAzureAdapter(ctx: AdapterContext): ProviderAdapter {
  const p = ctx.params;
  const apiBase = firstSet(p.api_base, ctx.env['AZURE_API_BASE']);
  if (!apiBase)
    throw new AdapterConfigError('api_base', 'azure deployments need an api_base (or AZURE_API_BASE)');
  const version = firstSet(p.api_version, ctx.env['AZURE_API_VERSION']) ?? AZURE_DEFAULT_API_VERSION;
  const apiKey = firstSet(p.api_key, ctx.env['AZURE_OPENAI_API_KEY'], ctx.env['AZURE_API_KEY']);
  const adToken = firstSet(p.azure_ad_token, ctx.env['AZURE_AD_TOKEN']);
  if (!apiKey && !adToken) {
    throw new AdapterConfigError(
      'api_key',
      'azure deployments need an api_key or azure_ad_token (or AZURE_API_KEY)',
    );
  }
  const headers = baseHeaders(p.extra_headers);
  if (apiKey) headers['api-key'] = apiKey;
  else headers['authorization'] = `Bearer ${adToken}`;
  const url = new URL(apiBase);
  const base = url.pathname.replace(/\/+$/, '');
  const full = base.includes('/openai/deployments/');
  const query = (search: string) => {
    const q = new URLSearchParams(search);
    if (!q.has('api-version')) q.set('api-version', version);
    return `?${q.toString()}`;
  };
  const targetFor = (endpoint: Endpoint, model: string): UpstreamTarget => {
    if (full) {
      const t = joinEndpoint(`${url.origin}${base}`, endpoint);
      return { origin: t.origin, path: `${t.path}${query(url.search)}` };
    }
    const path = `${base}/openai/deployments/${encodeURIComponent(model)}/${PATHS[endpoint]}`;
    return { origin: url.origin, path: `${path}${query(url.search)}` };
  };
  const targets = {
    chat: targetFor('chat', ctx.upstreamModel),
    completions: targetFor('completions', ctx.upstreamModel),
    embeddings: targetFor('embeddings', ctx.upstreamModel),
  };
  return {
    provider: ctx.provider,
    api: 'openai',
    endpoints: ALL_ENDPOINTS,
    apiBase: apiBaseLabel(apiBase),
    openai: createOpenAiTranslator({
      targets,
      targetFor,
      headers,
      upstreamModel: ctx.upstreamModel,
      askUsage: version.slice(0, 10) >= STREAM_USAGE_SINCE,
      scrub: createScrubber([apiKey, adToken]),
    }),
  };
}

/**
 * `azure_ai/<model>` (Azure AI Foundry serverless and model-inference endpoints), as LiteLLM's
 * AzureAIStudioConfig builds it: `{api_base}/models/chat/completions` on `*.services.ai.azure.com`,
 * else `{api_base}/chat/completions`; the key in `api-key` on Azure hosts, else as a bearer.
 * Defaults AZURE_AI_API_BASE and AZURE_AI_API_KEY.
 */
export function createAzureAiAdapter(ctx: AdapterContext): ProviderAdapter {
  const p = ctx.params;
  const apiBase = firstSet(p.api_base, ctx.env['AZURE_AI_API_BASE']);
  if (!apiBase) {
    throw new AdapterConfigError('api_base', 'azure_ai deployments need an api_base (or AZURE_AI_API_BASE)');
  }
  const apiKey = firstSet(p.api_key, ctx.env['AZURE_AI_API_KEY']);
  const url = new URL(apiBase);
  const host = url.hostname;
  const onAzure = host.endsWith('.services.ai.azure.com') || host.endsWith('.openai.azure.com');
  let base = apiBase;
  if (host.endsWith('.services.ai.azure.com') && !url.pathname.includes('/models')) {
    base = `${url.origin}${url.pathname.replace(/\/+$/, '')}/models${url.search}`;
  }
  if (p.api_version) {
    const u = new URL(base);
    if (!u.searchParams.has('api-version')) u.searchParams.set('api-version', p.api_version);
    base = u.toString();
  }
  const targets = endpointTargets(base);
  const headers = baseHeaders(p.extra_headers);
  if (apiKey) {
    if (onAzure) headers['api-key'] = apiKey;
    else headers['authorization'] = `Bearer ${apiKey}`;
  }
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
