import { modelOf, type Reply, type ReplyContext, SSE, type StreamReply } from './reply.js';
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

/** Anthropic reports "max_tokens" when the request's limit ended the message, as the real API does. */
const stopReason = (length: CompletionLength) => (length.capped ? 'max_tokens' : 'end_turn');

/**
 * `POST …/v1/messages` (Anthropic Messages API), plain or `stream: true`. The prompt estimate
 * counts `system` as well as `messages[].content`, so a gateway translating an OpenAI system
 * message into `system` sees the same prompt token count on both sides.
 */
export function anthropicMessage(body: Record<string, unknown>, ctx: ReplyContext): Reply {
  const length = completionLength(ctx.behaviour.completionTokens, tokenCap(body['max_tokens']));
  const inputTokens = estimateTokens(contentChars(body['system']) + listChars(body['messages']));
  const id = `msg_${ctx.id}`;
  const model = modelOf(body);
  if (body['stream'] === true) return messageStream(id, model, inputTokens, length);
  const json = JSON.stringify({
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: completionText(length.tokens) }],
    stop_reason: stopReason(length),
    stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: length.tokens },
  });
  return { kind: 'json', json };
}

/**
 * Claude on Vertex AI (`…/publishers/anthropic/models/<model>:rawPredict`, `:streamRawPredict`): the
 * Messages API with the model in the path rather than the body (Vertex puts `anthropic_version` in
 * the body; the request is recorded as sent, for tests to check).
 */
export function vertexClaudeMessage(body: Record<string, unknown>, ctx: ReplyContext): Reply {
  const model = /\/models\/([^/:]+):/.exec(ctx.path)?.[1] ?? 'fake-model';
  return anthropicMessage({ ...body, model: decodeURIComponent(model) }, ctx);
}

const event = (name: string, data: string) => `event: ${name}\ndata: ${data}\n\n`;

/** The Anthropic event sequence: message_start, a text block of one delta per token, message_delta, message_stop. */
function messageStream(
  id: string,
  model: string,
  inputTokens: number,
  length: CompletionLength,
): StreamReply {
  const message = JSON.stringify({
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: 1 },
  });
  const lead =
    event('message_start', `{"type":"message_start","message":${message}}`) +
    event(
      'content_block_start',
      '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
    );
  const chunks = new Array<string>(length.tokens);
  for (let i = 0; i < length.tokens; i++) {
    chunks[i] = event(
      'content_block_delta',
      `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${tokenPiece(i)}"}}`,
    );
  }
  const tail =
    event('content_block_stop', '{"type":"content_block_stop","index":0}') +
    event(
      'message_delta',
      `{"type":"message_delta","delta":{"stop_reason":"${stopReason(length)}","stop_sequence":null},"usage":{"output_tokens":${length.tokens}}}`,
    ) +
    event('message_stop', '{"type":"message_stop"}');
  return { kind: 'stream', contentType: SSE, lead, chunks, tail };
}
