import { AdapterConfigError, type AdapterContext, firstSet } from '../adapter-context.js';
import { createVertexClaudeAdapter } from '../anthropic/vertex-claude.js';
import { apiBaseLabel } from '../common/api-base-label.js';
import { jsonBody } from '../common/json.js';
import { modelTargets } from '../common/model-targets.js';
import { createScrubber } from '../common/scrub.js';
import { googleAuthedRequests } from '../google/authed-request.js';
import { readGoogleCredentials } from '../google/credentials.js';
import type { GoogleTokenSource } from '../google/token-cache.js';
import { baseHeaders } from '../openai/openai-compatible.js';
import type {
  Endpoint,
  ProviderAdapter,
  TranslateInput,
  Translator,
  UpstreamIo,
  UpstreamRequest,
} from '../types.js';
import { fromBatchEmbed, fromVertexPredict, toBatchEmbed, toVertexPredict } from './embeddings.js';
import { fromGoogleError, googleError } from './errors.js';
import { toGeminiRequest } from './request.js';
import { GeminiStream, type GenerateContentResponse, toChatCompletion } from './response.js';

export type Method =
  | 'generateContent'
  | 'streamGenerateContent'
  | 'predict'
  | 'batchEmbedContents'
  | 'rawPredict'
  | 'streamRawPredict';

const ENDPOINTS: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings']);

interface GoogleAdapterSpec {
  readonly ctx: AdapterContext;
  readonly label: string;
  readonly apiBase: string;
  /** Where `model`'s `method` is called (stream URLs carry `?alt=sse`). */
  readonly url: (model: string, method: Method) => string;
  readonly embedMethod: 'predict' | 'batchEmbedContents';
  /** Static credential headers (AI Studio's key), or a token source (Vertex AI). */
  readonly apiKey?: string | undefined;
  readonly tokens?: GoogleTokenSource | undefined;
}

/**
 * `vertex_ai/<gemini or embedding model>`: Gemini on Vertex AI with a service account's (or the
 * metadata server's) OAuth token. `vertex_project`, `vertex_location` and `vertex_credentials`
 * (also spelled `vertex_ai_*`) with LiteLLM's fallbacks: VERTEXAI_PROJECT, the credentials'
 * project_id; VERTEXAI_LOCATION / VERTEX_LOCATION, else us-central1; VERTEXAI_CREDENTIALS, else
 * GOOGLE_APPLICATION_CREDENTIALS. URLs as LiteLLM builds them: the regional host (the global one for
 * `global`), `publishers/google/models/<model>` (`endpoints/<id>` for a numeric tuned model), and
 * `{api_base}:generateContent` / `:streamGenerateContent?alt=sse` when `api_base` is set (the full
 * model path, as in the LiteLLM load-test config).
 */
export function createVertexAdapter(ctx: AdapterContext): ProviderAdapter {
  const p = ctx.params;
  const credentials = readGoogleCredentials(
    p.vertex_credentials ?? p.vertex_ai_credentials ?? firstSet(ctx.env['VERTEXAI_CREDENTIALS']),
    ctx.env,
    ctx.readFile,
  );
  const project = firstSet(
    p.vertex_project,
    p.vertex_ai_project,
    ctx.env['VERTEXAI_PROJECT'],
    credentials.projectId,
  );
  const location =
    firstSet(
      p.vertex_location,
      p.vertex_ai_location,
      ctx.env['VERTEXAI_LOCATION'],
      ctx.env['VERTEX_LOCATION'],
    ) ?? 'us-central1';
  if (!project && !p.api_base) {
    throw new AdapterConfigError(
      'vertex_project',
      'vertex_ai deployments need vertex_project (or VERTEXAI_PROJECT, or credentials with a project_id)',
    );
  }
  const urls = vertexUrls({ apiBase: p.api_base, project: project ?? '', location });
  const tokens = ctx.googleTokens.source(credentials);
  // Partner models: Claude speaks Anthropic's Messages API on Vertex (LiteLLM's vertex_ai/claude-*).
  if (ctx.upstreamModel.startsWith('claude')) {
    return createVertexClaudeAdapter(ctx, {
      tokens,
      apiBase: urls.base,
      url: (model, method) => urls.url(model, method, 'anthropic'),
    });
  }
  return createGoogleAdapter({
    ctx,
    label: 'VertexAI',
    apiBase: urls.base,
    url: urls.url,
    embedMethod: 'predict',
    tokens,
  });
}

/**
 * Vertex AI URLs as LiteLLM's `_get_vertex_url` and `_check_custom_proxy` build them: the regional
 * host (`aiplatform.googleapis.com` for `global`), `publishers/google/models/<model>` or, for a
 * numeric tuned-model id, `endpoints/<id>`; with `api_base`, `{api_base}:<method>`. Streams add
 * `?alt=sse`.
 */
export function vertexUrls(o: { apiBase: string | undefined; project: string; location: string }): {
  base: string;
  url: (model: string, method: Method, publisher?: string) => string;
} {
  const host =
    o.location === 'global' ? 'aiplatform.googleapis.com' : `${o.location}-aiplatform.googleapis.com`;
  const custom = o.apiBase?.replace(/\/+$/, '');
  return {
    base: custom ?? `https://${host}`,
    url: (model, method, publisher = 'google') => {
      const sse = method === 'streamGenerateContent' ? '?alt=sse' : '';
      if (custom) return `${custom}:${method}${sse}`;
      const resource = /^\d+$/.test(model) ? `endpoints/${model}` : `publishers/${publisher}/models/${model}`;
      return `https://${host}/v1/projects/${o.project}/locations/${o.location}/${resource}:${method}${sse}`;
    },
  };
}

/**
 * `gemini/<model>` (Google AI Studio): the same translation with an API key (`api_key`, else
 * GEMINI_API_KEY or GOOGLE_API_KEY), sent in `x-goog-api-key` rather than in the URL's query (a
 * key in a URL ends up in logs). With `api_base`: `{api_base}/models/<model>:<method>`, as LiteLLM.
 */
export function createGeminiAdapter(ctx: AdapterContext): ProviderAdapter {
  const p = ctx.params;
  const apiKey = firstSet(p.api_key, ctx.env['GEMINI_API_KEY'], ctx.env['GOOGLE_API_KEY']);
  if (!apiKey)
    throw new AdapterConfigError('api_key', 'gemini deployments need an api_key (or GEMINI_API_KEY)');
  const base = (p.api_base ?? 'https://generativelanguage.googleapis.com/v1beta').replace(/\/+$/, '');
  return createGoogleAdapter({
    ctx,
    label: 'Gemini',
    apiBase: base,
    url: (model, method) =>
      `${base}/models/${model}:${method}${method === 'streamGenerateContent' ? '?alt=sse' : ''}`,
    embedMethod: 'batchEmbedContents',
    apiKey,
  });
}

function createGoogleAdapter(spec: GoogleAdapterSpec): ProviderAdapter {
  const { ctx } = spec;
  const defaultModel = ctx.upstreamModel;
  const targetFor = modelTargets(spec.url, defaultModel);
  const headers = baseHeaders(ctx.params.extra_headers);
  if (spec.apiKey) headers['x-goog-api-key'] = spec.apiKey;
  const tokens = spec.tokens;
  const scrub = createScrubber([spec.apiKey], tokens ? () => tokens.recent() : undefined);
  const name = `${ctx.provider} deployment ${ctx.deploymentName}`;
  const authed = tokens ? googleAuthedRequests(tokens, headers, name) : undefined;

  const build = (input: TranslateInput) => {
    const model = input.upstreamModel ?? defaultModel;
    if (input.endpoint === 'embeddings') {
      const body =
        spec.embedMethod === 'predict' ? toVertexPredict(input.body) : toBatchEmbed(input.body, model);
      return { target: targetFor(model, spec.embedMethod), body: jsonBody(body, input.raw) };
    }
    const method = input.stream ? 'streamGenerateContent' : 'generateContent';
    return { target: targetFor(model, method), body: jsonBody(toGeminiRequest(input.body), input.raw) };
  };

  const translator: Translator = {
    request(input: TranslateInput, io: UpstreamIo): UpstreamRequest | Promise<UpstreamRequest> {
      const { target: t, body } = build(input);
      return authed ? authed(t, body, io) : { target: t, headers, body };
    },
    isStream: (contentType) => contentType.startsWith('text/event-stream'),
    decodeJson(body, input) {
      const model = input.upstreamModel ?? defaultModel;
      const text = body.toString('utf8');
      if (input.endpoint === 'embeddings') {
        const base64 = input.body['encoding_format'] === 'base64';
        const out =
          spec.embedMethod === 'predict'
            ? fromVertexPredict(text, model, base64)
            : fromBatchEmbed(text, model, base64);
        return { body: out.json, contentType: 'application/json', usage: out.usage };
      }
      const res = JSON.parse(text) as GenerateContentResponse;
      const out = toChatCompletion(res, model, Math.floor(Date.now() / 1000));
      return { body: out.json, contentType: 'application/json', usage: out.usage };
    },
    createStream(input, clientWantsUsage) {
      return new GeminiStream(
        input.upstreamModel ?? defaultModel,
        Math.floor(Date.now() / 1000),
        clientWantsUsage,
        (error) => {
          const e = error as { code?: number };
          const decoded = fromGoogleError(
            spec.label,
            typeof e.code === 'number' ? e.code : 500,
            error as object,
          );
          return { status: decoded.status, body: scrub(Buffer.from(String(decoded.body))).toString() };
        },
      );
    },
    decodeError: (status, body) => googleError(spec.label, status, scrub(body)),
  };
  return {
    provider: ctx.provider,
    api: 'gemini',
    endpoints: ENDPOINTS,
    apiBase: apiBaseLabel(spec.apiBase),
    openai: translator,
  };
}
