import { badRequest } from '../../errors.js';

type Block = Record<string, unknown>;

/** What the gateway needs from an Anthropic Messages request. */
export interface MessagesShape {
  readonly model: string;
  readonly stream: boolean;
}

/**
 * Checks what Anthropic's Messages API requires — `model`, `max_tokens`, a non-empty `messages` of
 * user and assistant turns with string or block content — with 400s that name the field.
 */
export function checkMessagesRequest(body: Record<string, unknown>): MessagesShape {
  const model = body['model'];
  if (typeof model !== 'string' || model === '') {
    throw badRequest(
      model === undefined ? 'missing required parameter "model"' : '"model" must be a non-empty string',
      'model',
    );
  }
  const maxTokens = body['max_tokens'];
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw badRequest(
      maxTokens === undefined
        ? 'missing required parameter "max_tokens"'
        : '"max_tokens" must be a whole number of 1 or more',
      'max_tokens',
    );
  }
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0)
    throw badRequest('"messages" must be a non-empty array', 'messages');
  messages.forEach((m, i) => {
    const msg = m as { role?: unknown; content?: unknown } | null;
    if (msg === null || typeof msg !== 'object' || (msg.role !== 'user' && msg.role !== 'assistant')) {
      throw badRequest(`"messages[${i}].role" must be "user" or "assistant"`, `messages[${i}].role`);
    }
    if (typeof msg.content !== 'string' && !Array.isArray(msg.content)) {
      throw badRequest(
        `"messages[${i}].content" must be a string or an array of blocks`,
        `messages[${i}].content`,
      );
    }
  });
  const stream = body['stream'];
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw badRequest('"stream" must be true or false', 'stream');
  }
  return { model, stream: stream === true };
}

/**
 * An Anthropic Messages request as an OpenAI chat request, for deployments of other providers (as
 * LiteLLM's Anthropic adapter translates it): `system` → a system message; text and image blocks →
 * content parts (images as data or http URLs, PDFs as data URLs); `tool_use` → tool_calls;
 * `tool_result` → tool messages; tools, tool_choice, stop_sequences, metadata.user_id → their OpenAI
 * names. Thinking blocks are dropped (their signatures only mean something to Anthropic); server
 * tools and block types other deployments cannot take are a 400 naming them.
 */
export function toOpenAiChat(body: Record<string, unknown>): Record<string, unknown> {
  const messages: Array<Record<string, unknown>> = [];
  const system = systemText(body['system']);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  (body['messages'] as Array<{ role: string; content: unknown }>).forEach((m, i) => {
    if (typeof m.content === 'string') messages.push({ role: m.role, content: m.content });
    else if (m.role === 'assistant') messages.push(assistantMessage(m.content as Block[], i));
    else messages.push(...userMessages(m.content as Block[], i));
  });
  const out: Record<string, unknown> = { model: body['model'], messages, max_tokens: body['max_tokens'] };
  for (const key of ['temperature', 'top_p', 'stream'] as const)
    if (body[key] !== undefined) out[key] = body[key];
  if (Array.isArray(body['stop_sequences'])) out['stop'] = body['stop_sequences'];
  const user = (body['metadata'] as { user_id?: unknown } | undefined)?.user_id;
  if (typeof user === 'string') out['user'] = user;
  addTools(out, body);
  return out;
}

function systemText(system: unknown): string | undefined {
  if (system === undefined || system === null) return undefined;
  if (typeof system === 'string') return system;
  if (!Array.isArray(system))
    throw badRequest('"system" must be a string or an array of text blocks', 'system');
  return system
    .map((b, i) => {
      const block = b as Block;
      if (block?.['type'] !== 'text' || typeof block['text'] !== 'string') {
        throw badRequest(`"system[${i}]" must be a text block`, `system[${i}]`);
      }
      return block['text'];
    })
    .join('\n');
}

function assistantMessage(blocks: Block[], i: number): Record<string, unknown> {
  let text = '';
  const calls: Array<Record<string, unknown>> = [];
  blocks.forEach((b, j) => {
    if (b['type'] === 'text' && typeof b['text'] === 'string') text += b['text'];
    else if (b['type'] === 'tool_use') {
      calls.push({
        id: b['id'],
        type: 'function',
        function: { name: b['name'], arguments: JSON.stringify(b['input'] ?? {}) },
      });
    } else if (b['type'] !== 'thinking' && b['type'] !== 'redacted_thinking') {
      throw badRequest(
        `"messages[${i}].content[${j}].type" ${JSON.stringify(b['type'])} is not supported by this deployment's provider`,
        `messages[${i}].content[${j}]`,
      );
    }
  });
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: text === '' && calls.length > 0 ? null : text,
  };
  if (calls.length > 0) message['tool_calls'] = calls;
  return message;
}

/** A user turn: its tool results as tool messages first, then the rest as one user message. */
function userMessages(blocks: Block[], i: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const parts: Array<Record<string, unknown>> = [];
  blocks.forEach((b, j) => {
    const at = `messages[${i}].content[${j}]`;
    if (b['type'] === 'text' && typeof b['text'] === 'string') parts.push({ type: 'text', text: b['text'] });
    else if (b['type'] === 'image' || b['type'] === 'document')
      parts.push({ type: 'image_url', image_url: { url: sourceUrl(b, at) } });
    else if (b['type'] === 'tool_result')
      out.push({ role: 'tool', tool_call_id: b['tool_use_id'], content: toolResultText(b['content'], at) });
    else
      throw badRequest(
        `"${at}.type" ${JSON.stringify(b['type'])} is not supported by this deployment's provider`,
        at,
      );
  });
  if (parts.length > 0) out.push({ role: 'user', content: parts });
  return out;
}

function sourceUrl(block: Block, at: string): string {
  const source = block['source'] as
    | { type?: unknown; media_type?: unknown; data?: unknown; url?: unknown }
    | undefined;
  if (source?.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') {
    return `data:${source.media_type};base64,${source.data}`;
  }
  if (source?.type === 'url' && typeof source.url === 'string') return source.url;
  throw badRequest(`"${at}.source" must be a base64 or url source`, `${at}.source`);
}

function toolResultText(content: unknown, at: string): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content))
    throw badRequest(`"${at}.content" must be a string or text blocks`, `${at}.content`);
  return content
    .map((b) => {
      const block = b as Block;
      if (block['type'] !== 'text' || typeof block['text'] !== 'string') {
        throw badRequest(
          `"${at}.content": only text tool results are supported by this deployment's provider`,
          `${at}.content`,
        );
      }
      return block['text'];
    })
    .join('');
}

function addTools(out: Record<string, unknown>, body: Record<string, unknown>): void {
  const tools = body['tools'];
  if (Array.isArray(tools) && tools.length > 0) {
    out['tools'] = tools.map((t, i) => {
      const tool = t as Block;
      if (tool['type'] !== undefined && tool['type'] !== 'custom') {
        throw badRequest(
          `"tools[${i}]": Anthropic's server tool ${JSON.stringify(tool['type'])} runs only on Anthropic deployments`,
          `tools[${i}]`,
        );
      }
      const fn: Record<string, unknown> = {
        name: tool['name'],
        parameters: tool['input_schema'] ?? { type: 'object', properties: {} },
      };
      if (typeof tool['description'] === 'string') fn['description'] = tool['description'];
      return { type: 'function', function: fn };
    });
  }
  const choice = body['tool_choice'] as
    | { type?: unknown; name?: unknown; disable_parallel_tool_use?: unknown }
    | undefined;
  if (!choice) return;
  if (choice.type === 'auto') out['tool_choice'] = 'auto';
  else if (choice.type === 'any') out['tool_choice'] = 'required';
  else if (choice.type === 'none') out['tool_choice'] = 'none';
  else if (choice.type === 'tool') out['tool_choice'] = { type: 'function', function: { name: choice.name } };
  if (choice.disable_parallel_tool_use === true) out['parallel_tool_calls'] = false;
}
