import { topLevelValueRange } from './json-splice.js';
import type { AdapterDeployment, Endpoint, ProviderAdapter, UpstreamTarget } from './types.js';

const ASK_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

/** The raw body with the model value replaced, and the usage request added first when asked. */
function rewrite(raw: Buffer, [start, end]: [number, number], model: Buffer, askUsage: boolean): Buffer {
  if (!askUsage) return Buffer.concat([raw.subarray(0, start), model, raw.subarray(end)]);
  const open = raw.indexOf(0x7b /* { */) + 1;
  return Buffer.concat([
    raw.subarray(0, open),
    ASK_USAGE,
    raw.subarray(open, start),
    model,
    raw.subarray(end),
  ]);
}

const ENDPOINT_PATHS: Readonly<Record<Endpoint, string>> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
};

/** Suffixes that mean "api_base is already a full endpoint URL" (the seed's first config). */
const ENDPOINT_SUFFIXES = ['/chat/completions', '/completions', '/embeddings'];

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

/**
 * OpenAI and every server that speaks its API (vLLM, LM Studio, Groq, …): the body passes through
 * with `model` rewritten to the upstream name, and the deployment's key goes in `Authorization`.
 */
export function createOpenAiCompatibleAdapter(
  provider: string,
  defaultApiBase: string,
  deployment: AdapterDeployment,
): ProviderAdapter {
  const apiBase = deployment.apiBase ?? defaultApiBase;
  const targets: Record<Endpoint, UpstreamTarget> = {
    chat: joinEndpoint(apiBase, 'chat'),
    completions: joinEndpoint(apiBase, 'completions'),
    embeddings: joinEndpoint(apiBase, 'embeddings'),
  };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(deployment.extraHeaders ?? {}))
    headers[name.toLowerCase()] = value;
  if (deployment.apiKey) headers['authorization'] = `Bearer ${deployment.apiKey}`;
  if (deployment.organization) headers['openai-organization'] = deployment.organization;
  const upstreamModel = deployment.upstreamModel;
  const modelJson = Buffer.from(JSON.stringify(upstreamModel));
  const secret = deployment.apiKey ? Buffer.from(deployment.apiKey) : undefined;
  return {
    provider,
    headers,
    target: (endpoint) => targets[endpoint],
    encodeBody(endpoint, body, raw, model) {
      const askUsage = body['stream'] === true && endpoint !== 'embeddings';
      // Fast path: splice the upstream model (and the usage request) into the client's own bytes.
      if (!askUsage || body['stream_options'] === undefined) {
        const range = topLevelValueRange(raw, 'model');
        if (range)
          return rewrite(
            raw,
            range,
            model === undefined ? modelJson : Buffer.from(JSON.stringify(model)),
            askUsage,
          );
      }
      body['model'] = model ?? upstreamModel;
      if (askUsage) {
        const options = body['stream_options'];
        body['stream_options'] = {
          ...(options && typeof options === 'object' ? options : {}),
          include_usage: true,
        };
      }
      return JSON.stringify(body);
    },
    scrub(text) {
      if (!secret || secret.length < 4 || text.indexOf(secret) < 0) return text;
      return Buffer.from(text.toString('utf8').replaceAll(deployment.apiKey!, '[redacted]'));
    },
  };
}
