import type { AdapterContext } from './adapter-context.js';
import { createAnthropicAdapter } from './anthropic/anthropic-adapter.js';
import { createBedrockAdapter } from './bedrock/bedrock-adapter.js';
import { withCompletionsViaChat } from './common/completions-via-chat.js';
import { createGeminiAdapter, createVertexAdapter } from './gemini/google-adapter.js';
import { createAzureAdapter, createAzureAiAdapter } from './openai/azure.js';
import { createOpenAiCompatibleAdapter } from './openai/openai-compatible.js';
import { createTextCompletionAdapter } from './openai/text-completion.js';
import type { ProviderAdapter } from './types.js';

/** Builds the adapter of one deployment; throws AdapterConfigError naming the key at fault. */
export type AdapterFactory = (ctx: AdapterContext) => ProviderAdapter;

/**
 * Providers that speak OpenAI's API, with the base URL LiteLLM uses for each when `api_base` is
 * not set (`undefined`: the deployment must give one).
 */
const OPENAI_COMPATIBLE: Readonly<Record<string, string | undefined>> = {
  openai: 'https://api.openai.com/v1',
  aiohttp_openai: 'https://api.openai.com/v1',
  custom_openai: undefined,
  openai_like: undefined,
  openai_compatible: undefined,
  hosted_vllm: undefined,
  lm_studio: undefined,
  llamafile: undefined,
  groq: 'https://api.groq.com/openai/v1',
  together_ai: 'https://api.together.xyz/v1',
  fireworks_ai: 'https://api.fireworks.ai/inference/v1',
  deepseek: 'https://api.deepseek.com/v1',
  mistral: 'https://api.mistral.ai/v1',
  perplexity: 'https://api.perplexity.ai',
  xai: 'https://api.x.ai/v1',
  openrouter: 'https://openrouter.ai/api/v1',
  deepinfra: 'https://api.deepinfra.com/v1/openai',
};

/** Providers with their own translator. */
const TRANSLATED: Readonly<Record<string, AdapterFactory>> = {
  azure: createAzureAdapter,
  azure_ai: createAzureAiAdapter,
  anthropic: createAnthropicAdapter,
  vertex_ai: createVertexAdapter,
  vertex_ai_beta: createVertexAdapter,
  gemini: createGeminiAdapter,
  bedrock: createBedrockAdapter,
  'text-completion-openai': (ctx) => createTextCompletionAdapter(ctx, 'https://api.openai.com/v1'),
};

/** Providers LiteLLM knows that need a translator Fleetgate does not have yet. */
const NOT_YET: ReadonlySet<string> = new Set([
  'cohere',
  'ollama',
  'ollama_chat',
  'huggingface',
  'replicate',
  'sagemaker',
  'watsonx',
  'databricks',
  'cloudflare',
]);

/** The outcome of looking up a deployment's provider: an adapter factory, or why there is none. */
export type ProviderLookup =
  | {
      readonly ok: true;
      readonly provider: string;
      readonly factory: AdapterFactory;
      readonly needsApiBase: boolean;
    }
  | { readonly ok: false; readonly message: string };

export const SUPPORTED_PROVIDERS: readonly string[] = [
  ...Object.keys(OPENAI_COMPATIBLE),
  ...Object.keys(TRANSLATED),
];

/** Splits LiteLLM's `provider/model` (the provider may be overridden by `custom_llm_provider`). */
export function splitModel(
  model: string,
  customProvider?: string,
): { provider: string; upstreamModel: string } {
  if (customProvider) {
    const prefix = `${customProvider}/`;
    return {
      provider: customProvider,
      upstreamModel: model.startsWith(prefix) ? model.slice(prefix.length) : model,
    };
  }
  const slash = model.indexOf('/');
  // No prefix: LiteLLM treats bare names (gpt-4o, text-embedding-3-small) as OpenAI models.
  if (slash <= 0) return { provider: 'openai', upstreamModel: model };
  return { provider: model.slice(0, slash), upstreamModel: model.slice(slash + 1) };
}

export function lookupProvider(provider: string): ProviderLookup {
  if (Object.hasOwn(OPENAI_COMPATIBLE, provider)) {
    const defaultBase = OPENAI_COMPATIBLE[provider];
    return {
      ok: true,
      provider,
      needsApiBase: defaultBase === undefined,
      factory: (ctx) => createOpenAiCompatibleAdapter(ctx, defaultBase ?? ''),
    };
  }
  const factory = TRANSLATED[provider];
  // A provider that only chats answers /completions through chat, as LiteLLM's text_completion does.
  if (factory)
    return {
      ok: true,
      provider,
      needsApiBase: false,
      factory: (ctx) => withCompletionsViaChat(factory(ctx)),
    };
  if (NOT_YET.has(provider)) {
    return {
      ok: false,
      message: `provider "${provider}" is not supported by Fleetgate yet (supported: ${SUPPORTED_PROVIDERS.join(', ')})`,
    };
  }
  return {
    ok: false,
    message: `unknown provider "${provider}" (supported: ${SUPPORTED_PROVIDERS.join(', ')}); for another OpenAI-compatible server use "openai/<model>" with api_base`,
  };
}
