import { AdapterConfigError, type AdapterContext, firstSet } from '../adapter-context.js';
import { SigV4Signer } from '../aws/sigv4.js';
import { apiBaseLabel } from '../common/api-base-label.js';
import { jsonBody } from '../common/json.js';
import { createScrubber } from '../common/scrub.js';
import { baseHeaders } from '../openai/openai-compatible.js';
import type { Endpoint, ProviderAdapter, Translator, UpstreamTarget } from '../types.js';
import { bedrockError, exceptionError, exceptionStatus } from './errors.js';
import { toConverseRequest } from './request.js';
import { type ConverseResponse, ConverseStream, toChatCompletion } from './response.js';

const ENDPOINTS: ReadonlySet<Endpoint> = new Set(['chat']);
/** LiteLLM's region when nothing names one. */
const DEFAULT_REGION = 'us-west-2';

/**
 * `bedrock/<model id>` (and `bedrock/converse/<model id>`): Bedrock's Converse and ConverseStream
 * APIs, signed with SigV4 (`node:crypto`) by `aws_access_key_id` / `aws_secret_access_key` /
 * `aws_session_token`, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN — or, with
 * `api_key` (AWS_BEARER_TOKEN_BEDROCK), a Bedrock API key as a bearer token. Region:
 * `aws_region_name`, the region of an ARN model id, AWS_REGION_NAME, AWS_REGION, AWS_DEFAULT_REGION,
 * else us-west-2. Endpoint: `aws_bedrock_runtime_endpoint` or `api_base`, else
 * https://bedrock-runtime.<region>.amazonaws.com.
 */
export function createBedrockAdapter(ctx: AdapterContext): ProviderAdapter {
  const p = ctx.params;
  let modelId = ctx.upstreamModel;
  if (modelId.startsWith('converse/')) modelId = modelId.slice('converse/'.length);
  if (modelId.startsWith('invoke/')) {
    throw new AdapterConfigError(
      'model',
      "bedrock/invoke/ models are not supported: Fleetgate calls Bedrock's Converse API (use bedrock/<model id>)",
    );
  }
  const arnRegion = /^arn:aws[\w-]*:bedrock:([a-z0-9-]+):/.exec(modelId)?.[1];
  const region =
    firstSet(
      p.aws_region_name,
      arnRegion,
      ctx.env['AWS_REGION_NAME'],
      ctx.env['AWS_REGION'],
      ctx.env['AWS_DEFAULT_REGION'],
    ) ?? DEFAULT_REGION;
  const endpoint =
    firstSet(p.aws_bedrock_runtime_endpoint, p.api_base, ctx.env['AWS_BEDROCK_RUNTIME_ENDPOINT']) ??
    `https://bedrock-runtime.${region}.amazonaws.com`;
  const bearer = firstSet(p.api_key, ctx.env['AWS_BEARER_TOKEN_BEDROCK']);
  const accessKeyId = firstSet(p.aws_access_key_id, ctx.env['AWS_ACCESS_KEY_ID']);
  const secretAccessKey = firstSet(p.aws_secret_access_key, ctx.env['AWS_SECRET_ACCESS_KEY']);
  const sessionToken = firstSet(p.aws_session_token, ctx.env['AWS_SESSION_TOKEN']);
  if (!bearer && (!accessKeyId || !secretAccessKey)) {
    throw new AdapterConfigError(
      'aws_access_key_id',
      'bedrock deployments need aws_access_key_id and aws_secret_access_key (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or an api_key); roles, profiles and web identity are not supported yet',
    );
  }
  const signer = bearer
    ? undefined
    : new SigV4Signer(
        { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey!, sessionToken },
        region,
        'bedrock',
      );
  const url = new URL(endpoint);
  const base = url.pathname.replace(/\/+$/, '');
  const targetFor = (model: string, stream: boolean): UpstreamTarget => ({
    origin: url.origin,
    path: `${base}/model/${encodeURIComponent(model)}/${stream ? 'converse-stream' : 'converse'}`,
  });
  const targets = { plain: targetFor(modelId, false), stream: targetFor(modelId, true) };
  const headers = baseHeaders(p.extra_headers);
  headers['accept'] = 'application/json';
  if (bearer) headers['authorization'] = `Bearer ${bearer}`;
  const scrub = createScrubber([secretAccessKey, sessionToken, bearer]);
  const openai: Translator = {
    request(input, io) {
      const model = input.upstreamModel ?? modelId;
      const target =
        model === modelId ? (input.stream ? targets.stream : targets.plain) : targetFor(model, input.stream);
      const body = jsonBody(toConverseRequest(input.body), input.raw);
      if (!signer) return { target, headers, body };
      const signed = signer.sign(
        {
          method: 'POST',
          host: url.host,
          path: target.path,
          query: '',
          headers: { 'content-type': headers['content-type']! },
          body,
        },
        io.now(),
      );
      return { target, headers: { ...headers, ...signed }, body };
    },
    isStream: (contentType) => contentType.startsWith('application/vnd.amazon.eventstream'),
    decodeJson(body, input) {
      const out = toChatCompletion(
        JSON.parse(body.toString('utf8')) as ConverseResponse,
        input.upstreamModel ?? modelId,
        now(),
      );
      return { body: out.json, contentType: 'application/json', usage: out.usage };
    },
    createStream: (input, clientWantsUsage) =>
      new ConverseStream(input.upstreamModel ?? modelId, now(), clientWantsUsage, (kind, message) => {
        const decoded = exceptionError(exceptionStatus(kind), kind, scrub(Buffer.from(message)).toString());
        return { status: decoded.status, body: String(decoded.body) };
      }),
    decodeError: (status, body, h) => bedrockError(status, scrub(body), h),
  };
  return {
    provider: ctx.provider,
    api: 'bedrock',
    endpoints: ENDPOINTS,
    apiBase: apiBaseLabel(endpoint),
    openai,
  };
}

const now = () => Math.floor(Date.now() / 1000);
