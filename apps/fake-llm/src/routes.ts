import { anthropicMessage } from './anthropic-shapes.js';
import { embeddingsReply } from './embeddings.js';
import { generateContent, streamGenerateContent } from './gemini-shapes.js';
import { chatCompletion, textCompletion } from './openai-shapes.js';
import type { ReplyBuilder } from './reply.js';

/** An endpoint: its method, a name, and how to answer it. POST endpoints require a JSON object body. */
export interface Route {
  method: 'GET' | 'POST';
  name: string;
  build: ReplyBuilder;
}

const post = (name: string, build: ReplyBuilder): Route => ({ method: 'POST', name, build });
const CHAT = post('chat', chatCompletion);
const COMPLETIONS = post('completions', textCompletion);
const EMBEDDINGS = post('embeddings', embeddingsReply);
const ANTHROPIC = post('anthropic-messages', anthropicMessage);
const GEMINI = post('gemini-generate', generateContent);
const GEMINI_STREAM = post('gemini-stream', streamGenerateContent);

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
  if (path.endsWith(':streamGenerateContent')) return GEMINI_STREAM;
  return undefined;
}

/** `GET …/models`, answering with a constant body rendered once. */
export function modelListRoute(json: string): Route {
  return { method: 'GET', name: 'models', build: () => ({ kind: 'json', json }) };
}

/** True for `…/models`, the only GET endpoint besides the control API. */
export function isModelList(path: string): boolean {
  return path.endsWith('/models');
}
