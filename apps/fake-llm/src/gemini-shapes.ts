import type { Reply, ReplyContext, StreamReply } from './reply.js';
import { SSE } from './reply.js';
import {
  type CompletionLength,
  completionLength,
  completionText,
  estimateTokens,
  listChars,
  tokenCap,
  tokenPiece,
} from './tokens.js';

/** The model named in a Gemini / Vertex path: `…/models/<model>:generateContent`. */
export function geminiModelOf(path: string): string {
  const colon = path.lastIndexOf(':');
  const slash = path.lastIndexOf('/', colon);
  const model = path.slice(slash + 1, colon);
  return model.length > 0 ? model : 'fake-model';
}

/** Gemini accepts proto-JSON field names in camelCase or snake_case. */
const field = (body: Record<string, unknown>, camel: string, snake: string): unknown =>
  body[camel] ?? body[snake];

function promptTokens(body: Record<string, unknown>): number {
  const system = field(body, 'systemInstruction', 'system_instruction') as { parts?: unknown } | undefined;
  return estimateTokens(listChars(body['contents'], 'parts') + listChars(system ? [system] : [], 'parts'));
}

function lengthOf(body: Record<string, unknown>, ctx: ReplyContext): CompletionLength {
  const config = field(body, 'generationConfig', 'generation_config') as Record<string, unknown> | undefined;
  const cap = config ? tokenCap(field(config, 'maxOutputTokens', 'max_output_tokens')) : undefined;
  return completionLength(ctx.behaviour.completionTokens, cap);
}

/** Gemini says "MAX_TOKENS" when maxOutputTokens ended the answer, as the real API does. */
const finishReason = (length: CompletionLength) => (length.capped ? 'MAX_TOKENS' : 'STOP');

function usageMetadata(prompt: number, candidates: number) {
  return { promptTokenCount: prompt, candidatesTokenCount: candidates, totalTokenCount: prompt + candidates };
}

/** `POST …:generateContent`. */
export function generateContent(body: Record<string, unknown>, ctx: ReplyContext): Reply {
  const length = lengthOf(body, ctx);
  const prompt = promptTokens(body);
  const json = JSON.stringify({
    candidates: [
      {
        content: { role: 'model', parts: [{ text: completionText(length.tokens) }] },
        finishReason: finishReason(length),
        index: 0,
      },
    ],
    usageMetadata: usageMetadata(prompt, length.tokens),
    modelVersion: geminiModelOf(ctx.path),
    responseId: ctx.id,
  });
  return { kind: 'json', json };
}

/**
 * `POST …:streamGenerateContent`: one response chunk per token, the last carrying finishReason and
 * usageMetadata. Without `alt=sse` the chunks form one JSON array written piecewise (`[`, `,`, `]`),
 * as Gemini does; with it each chunk is an SSE `data:` event.
 */
export function streamGenerateContent(body: Record<string, unknown>, ctx: ReplyContext): StreamReply {
  const length = lengthOf(body, ctx);
  const prompt = promptTokens(body);
  const sse = new URLSearchParams(ctx.query).get('alt') === 'sse';
  const head = `{"candidates":[{"content":{"role":"model","parts":[{"text":"`;
  const tail = `,"modelVersion":${JSON.stringify(geminiModelOf(ctx.path))},"responseId":"${ctx.id}"}`;
  const count = Math.max(1, length.tokens);
  const chunks = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const text = i < length.tokens ? tokenPiece(i) : '';
    const last = i === count - 1;
    const json = last
      ? `${head}${text}"}]},"finishReason":"${finishReason(length)}","index":0}],"usageMetadata":${JSON.stringify(usageMetadata(prompt, length.tokens))}${tail}`
      : `${head}${text}"}]},"index":0}]${tail}`;
    chunks[i] = sse ? `data: ${json}\n\n` : `${i === 0 ? '[' : ','}${json}`;
  }
  if (sse) return { kind: 'stream', contentType: SSE, lead: '', chunks, tail: '' };
  return { kind: 'stream', contentType: 'application/json', lead: '', chunks, tail: ']' };
}
