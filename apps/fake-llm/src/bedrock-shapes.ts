import { converseEvent } from './event-stream.js';
import type { Reply, ReplyContext, StreamReply } from './reply.js';
import {
  type CompletionLength,
  completionLength,
  completionText,
  contentChars,
  estimateTokens,
  listChars,
  tokenCap,
  tokenPiece,
} from './tokens.js';

/** The model id in a Bedrock path: `/model/<id>/converse` (percent-decoded: ids hold `:`). */
export function bedrockModelOf(path: string): string {
  const m = /\/model\/([^/]+)\/converse(?:-stream)?$/.exec(path);
  if (!m) return 'fake-model';
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}

const stopReason = (length: CompletionLength) => (length.capped ? 'max_tokens' : 'end_turn');

function measure(body: Record<string, unknown>, ctx: ReplyContext) {
  const config = body['inferenceConfig'] as Record<string, unknown> | undefined;
  const length = completionLength(ctx.behaviour.completionTokens, tokenCap(config?.['maxTokens']));
  const input = estimateTokens(contentChars(body['system']) + listChars(body['messages']));
  return { length, input };
}

/** `POST /model/<id>/converse`: Bedrock's Converse answer. */
export function converse(body: Record<string, unknown>, ctx: ReplyContext): Reply {
  const { length, input } = measure(body, ctx);
  const json = JSON.stringify({
    output: { message: { role: 'assistant', content: [{ text: completionText(length.tokens) }] } },
    stopReason: stopReason(length),
    usage: { inputTokens: input, outputTokens: length.tokens, totalTokens: input + length.tokens },
    metrics: { latencyMs: ctx.behaviour.latencyMs },
  });
  return { kind: 'json', json };
}

/**
 * `POST /model/<id>/converse-stream`: the binary event stream (`application/vnd.amazon.eventstream`)
 * — messageStart, contentBlockDelta per token, contentBlockStop, messageStop, metadata with usage.
 */
export function converseStream(body: Record<string, unknown>, ctx: ReplyContext): StreamReply {
  const { length, input } = measure(body, ctx);
  const chunks = new Array<Buffer>(length.tokens);
  for (let i = 0; i < length.tokens; i++) {
    chunks[i] = converseEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: tokenPiece(i) } });
  }
  const tail = Buffer.concat([
    converseEvent('contentBlockStop', { contentBlockIndex: 0 }),
    converseEvent('messageStop', { stopReason: stopReason(length) }),
    converseEvent('metadata', {
      usage: { inputTokens: input, outputTokens: length.tokens, totalTokens: input + length.tokens },
      metrics: { latencyMs: ctx.behaviour.latencyMs },
    }),
  ]);
  return {
    kind: 'stream',
    contentType: 'application/vnd.amazon.eventstream',
    lead: converseEvent('messageStart', { role: 'assistant' }),
    chunks,
    tail,
  };
}
