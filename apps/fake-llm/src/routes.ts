import { anthropicMessage, vertexClaudeMessage } from './anthropic-shapes.js';
import { converse, converseStream } from './bedrock-shapes.js';
import type { Dialect } from './dialects.js';
import { embeddingsReply } from './embeddings.js';
import {
  batchEmbedContents,
  generateContent,
  streamGenerateContent,
  vertexPredict,
} from './gemini-shapes.js';
import { chatCompletion, textCompletion } from './openai-shapes.js';
import {
  type AuthCheck,
  anthropicAuth,
  azureAuth,
  bedrockAuth,
  metadataAuth,
  vertexAuth,
} from './provider-auth.js';
import type { ReplyBuilder } from './reply.js';

/** An endpoint: its method, a name, how its body is read, whose errors it speaks, and how to answer it. */
export interface Route {
  method: 'GET' | 'POST';
  name: string;
  build: ReplyBuilder;
  /** `json`: a JSON object is required; `form`: URL-encoded fields; `none`: no body (GET). */
  body: 'json' | 'form' | 'none';
  dialect: Dialect;
  /** Checked after routing and before quotas. */
  auth?: AuthCheck | undefined;
}

const post = (name: string, build: ReplyBuilder, dialect: Dialect, auth?: AuthCheck): Route => ({
  method: 'POST',
  name,
  build,
  body: 'json',
  dialect,
  auth,
});
const CHAT = post('chat', chatCompletion, 'openai', azureAuth);
const COMPLETIONS = post('completions', textCompletion, 'openai', azureAuth);
const EMBEDDINGS = post('embeddings', embeddingsReply, 'openai', azureAuth);
const ANTHROPIC = post('anthropic-messages', anthropicMessage, 'anthropic', anthropicAuth);
const GEMINI = post('gemini-generate', generateContent, 'google', vertexAuth);
const VERTEX_CLAUDE = post('vertex-claude', vertexClaudeMessage, 'anthropic', vertexAuth);
const GEMINI_STREAM = post('gemini-stream', streamGenerateContent, 'google', vertexAuth);
const VERTEX_PREDICT = post('vertex-predict', vertexPredict, 'google', vertexAuth);
const GEMINI_EMBED = post('gemini-embed', batchEmbedContents, 'google', vertexAuth);
const BEDROCK = post('bedrock-converse', converse, 'bedrock', bedrockAuth);
const BEDROCK_STREAM = post('bedrock-converse-stream', converseStream, 'bedrock', bedrockAuth);
const TOKEN: Route = {
  method: 'POST',
  name: 'oauth-token',
  body: 'form',
  dialect: 'oauth',
  build: (form, ctx) => ({
    kind: 'json',
    json: ctx.oauth.grant(form as Record<string, string>, ctx.path, ctx.now),
  }),
};
const METADATA_TOKEN: Route = {
  method: 'GET',
  name: 'metadata-token',
  body: 'none',
  dialect: 'oauth',
  auth: metadataAuth,
  build: (_body, ctx) => ({ kind: 'json', json: ctx.oauth.metadataToken(ctx.now) }),
};

/** Where GCE's metadata server hands out the default service account's token. */
export const METADATA_TOKEN_PATH = '/computeMetadata/v1/instance/service-accounts/default/token';

/**
 * The POST endpoint for `path`, matched by suffix so any prefix works (`/v1`, an Azure deployment,
 * a Vertex project path, a gateway's own routing prefix). Order matters: `/chat/completions`
 * before `/completions`.
 */
export function matchPost(path: string): Route | undefined {
  if (path.endsWith('/chat/completions')) return CHAT;
  if (path.endsWith('/completions')) return COMPLETIONS;
  if (path.endsWith('/embeddings')) return EMBEDDINGS;
  if (path.endsWith('/messages')) return ANTHROPIC;
  if (path.endsWith(':generateContent')) return GEMINI;
  if (path.endsWith(':rawPredict') || path.endsWith(':streamRawPredict')) return VERTEX_CLAUDE;
  if (path.endsWith(':streamGenerateContent')) return GEMINI_STREAM;
  if (path.endsWith(':predict')) return VERTEX_PREDICT;
  if (path.endsWith(':batchEmbedContents')) return GEMINI_EMBED;
  if (path.endsWith('/converse')) return BEDROCK;
  if (path.endsWith('/converse-stream')) return BEDROCK_STREAM;
  if (path.endsWith('/token')) return TOKEN;
  return undefined;
}

/** The GET endpoint for `path`: the metadata server's token; `…/models` is the core's. */
export function matchGet(path: string): Route | undefined {
  return path === METADATA_TOKEN_PATH ? METADATA_TOKEN : undefined;
}

/** `GET …/models`, answering with a constant body rendered once. */
export function modelListRoute(json: string): Route {
  return {
    method: 'GET',
    name: 'models',
    body: 'none',
    dialect: 'openai',
    build: () => ({ kind: 'json', json }),
  };
}

/** True for `…/models`, the only GET endpoint besides the control API and the metadata token. */
export function isModelList(path: string): boolean {
  return path.endsWith('/models');
}
