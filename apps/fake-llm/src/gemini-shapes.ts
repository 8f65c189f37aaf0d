import { embeddingOf } from './embeddings.js';
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

/** The model named in a Gemini / Vertex path: `…/models/<model>:generateContent` (`:predict`, …). */
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

const textsOf = (items: unknown, pick: (item: Record<string, unknown>) => unknown): string[] =>
  Array.isArray(items)
    ? items.map((item) => {
        const v =
          item !== null && typeof item === 'object' ? pick(item as Record<string, unknown>) : undefined;
        return typeof v === 'string' ? v : '';
      })
    : [];

function dimensionsOf(requested: unknown, ctx: ReplyContext): number {
  return typeof requested === 'number' && Number.isInteger(requested) && requested > 0 && requested <= 65_536
    ? requested
    : ctx.behaviour.embeddingDimensions;
}

/** `POST …:predict` for Vertex AI text embedding models: `instances[].content` → `predictions[].embeddings`. */
export function vertexPredict(body: Record<string, unknown>, ctx: ReplyContext): Reply {
  const params = body['parameters'] as Record<string, unknown> | undefined;
  const dimensions = dimensionsOf(params?.['outputDimensionality'], ctx);
  const predictions = textsOf(body['instances'], (i) => i['content']).map((text) => ({
    embeddings: {
      values: Array.from(embeddingOf(text, dimensions)),
      statistics: { token_count: estimateTokens(text.length), truncated: false },
    },
  }));
  return { kind: 'json', json: JSON.stringify({ predictions }) };
}

/** `POST …:batchEmbedContents` (Google AI Studio): `requests[].content.parts[].text` → `embeddings[].values`. */
export function batchEmbedContents(body: Record<string, unknown>, ctx: ReplyContext): Reply {
  const requests = Array.isArray(body['requests'])
    ? (body['requests'] as Array<Record<string, unknown>>)
    : [];
  const embeddings = requests.map((r) => {
    const parts = (r['content'] as { parts?: Array<{ text?: unknown }> } | undefined)?.parts ?? [];
    const text = parts.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
    return { values: Array.from(embeddingOf(text, dimensionsOf(r['outputDimensionality'], ctx))) };
  });
  return { kind: 'json', json: JSON.stringify({ embeddings }) };
}
