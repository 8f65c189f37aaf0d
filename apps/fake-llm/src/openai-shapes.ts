import { modelOf, type Reply, type ReplyContext, SSE } from './reply.js';
import {
  type CompletionLength,
  completionLength,
  completionText,
  estimateTokens,
  listChars,
  tokenCap,
  tokenPiece,
} from './tokens.js';

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function usageOf(promptTokens: number, length: CompletionLength): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: length.tokens,
    total_tokens: promptTokens + length.tokens,
  };
}

/** OpenAI reports "length" when max_tokens ended the completion, as the real API does. */
const finishReason = (length: CompletionLength) => (length.capped ? 'length' : 'stop');

const wantsUsage = (body: Record<string, unknown>) =>
  (body['stream_options'] as { include_usage?: unknown } | undefined)?.include_usage === true;

/** `POST …/chat/completions`, plain or `stream: true`. */
export function chatCompletion(body: Record<string, unknown>, ctx: ReplyContext): Reply {
  const length = completionLength(
    ctx.behaviour.completionTokens,
    tokenCap(body['max_completion_tokens'], body['max_tokens']),
  );
  const usage = usageOf(estimateTokens(listChars(body['messages'])), length);
  const id = `chatcmpl-${ctx.id}`;
  const model = modelOf(body);
  if (body['stream'] === true)
    return chatStream(id, model, ctx.created, length, wantsUsage(body) ? usage : null);
  const json = JSON.stringify({
    id,
    object: 'chat.completion',
    created: ctx.created,
    model,
    system_fingerprint: 'fp_fake',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: completionText(length.tokens), refusal: null },
        logprobs: null,
        finish_reason: finishReason(length),
      },
    ],
    usage,
  });
  return { kind: 'json', json };
}

/** Each event is rendered by string concatenation around a per-request head: no JSON.stringify per chunk. */
function chatStream(
  id: string,
  model: string,
  created: number,
  length: CompletionLength,
  usage: Usage | null,
) {
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":"fp_fake","choices":`;
  const choice = (delta: string, finish: string) =>
    `${head}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
  const chunks = new Array<string>(length.tokens);
  for (let i = 0; i < length.tokens; i++) chunks[i] = choice(`{"content":"${tokenPiece(i)}"}`, 'null');
  let tail = choice('{}', `"${finishReason(length)}"`);
  if (usage) tail += `${head}[],"usage":${JSON.stringify(usage)}}\n\n`;
  return {
    kind: 'stream' as const,
    contentType: SSE,
    lead: choice('{"role":"assistant","content":""}', 'null'),
    chunks,
    tail: tail + 'data: [DONE]\n\n',
  };
}

/** Prompt characters of a legacy `prompt`: string, strings, token ids (4 chars each) or lists of them. */
function promptChars(prompt: unknown): number {
  if (typeof prompt === 'string') return prompt.length;
  if (typeof prompt === 'number') return 4;
  if (!Array.isArray(prompt)) return 0;
  let chars = 0;
  for (const item of prompt) chars += promptChars(item);
  return chars;
}

/** `POST …/completions` (legacy text completion), plain or `stream: true`. */
export function textCompletion(body: Record<string, unknown>, ctx: ReplyContext): Reply {
  const length = completionLength(ctx.behaviour.completionTokens, tokenCap(body['max_tokens']));
  const usage = usageOf(estimateTokens(promptChars(body['prompt'])), length);
  const id = `cmpl-${ctx.id}`;
  const model = modelOf(body);
  if (body['stream'] === true)
    return textStream(id, model, ctx.created, length, wantsUsage(body) ? usage : null);
  const json = JSON.stringify({
    id,
    object: 'text_completion',
    created: ctx.created,
    model,
    choices: [
      { text: completionText(length.tokens), index: 0, logprobs: null, finish_reason: finishReason(length) },
    ],
    usage,
  });
  return { kind: 'json', json };
}

function textStream(
  id: string,
  model: string,
  created: number,
  length: CompletionLength,
  usage: Usage | null,
) {
  const head = `data: {"id":"${id}","object":"text_completion","created":${created},"model":${JSON.stringify(model)},"choices":`;
  const choice = (text: string, finish: string) =>
    `${head}[{"text":"${text}","index":0,"logprobs":null,"finish_reason":${finish}}]}\n\n`;
  const chunks = new Array<string>(length.tokens);
  for (let i = 0; i < length.tokens; i++) chunks[i] = choice(tokenPiece(i), 'null');
  let tail = choice('', `"${finishReason(length)}"`);
  if (usage) tail += `${head}[],"usage":${JSON.stringify(usage)}}\n\n`;
  return { kind: 'stream' as const, contentType: SSE, lead: '', chunks, tail: tail + 'data: [DONE]\n\n' };
}

/** The constant body of `GET …/models`, rendered once. */
export function modelListJson(models: readonly string[], created: number): string {
  return JSON.stringify({
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created, owned_by: 'fake-llm' })),
  });
}
