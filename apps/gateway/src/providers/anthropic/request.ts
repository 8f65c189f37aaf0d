import { badRequest } from '../../errors.js';
import {
  type ContentPiece,
  contentPieces,
  functionTools,
  maxTokensOf,
  numberParam,
  type OpenAiMessage,
  responseFormatOf,
  stopSequences,
  textOf,
  toolCallsOf,
  toolChoiceOf,
} from '../common/openai-content.js';

type Block = Record<string, unknown>;
interface Turn {
  role: 'user' | 'assistant';
  content: Block[];
}

/** LiteLLM's DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS: Anthropic requires max_tokens, OpenAI clients rarely send it. */
export const DEFAULT_MAX_TOKENS = 4096;

/** The tool LiteLLM asks Claude to call to answer in JSON (`response_format`), read back as the message's content. */
export const JSON_TOOL = 'json_tool_call';

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;

/**
 * An OpenAI chat request as an Anthropic Messages request: system (and developer) messages become
 * `system` blocks, tool results `tool_result` blocks of a user turn, assistant tool calls `tool_use`
 * blocks, images `image` blocks (base64 or URL; PDFs `document` blocks), consecutive turns of one
 * role merged (Anthropic wants them alternating). `max_tokens` defaults to 4096, `stop` becomes
 * `stop_sequences`, `user` `metadata.user_id`, `parallel_tool_calls: false`
 * `disable_parallel_tool_use`, and `response_format` a forced `json_tool_call` tool, as LiteLLM
 * sends them. Content or tool schemas Anthropic would refuse are a 400 naming the field.
 */
export function toAnthropicRequest(
  body: Record<string, unknown>,
  model: string,
  stream: boolean,
): Record<string, unknown> {
  const messages = body['messages'] as OpenAiMessage[];
  const system: Block[] = [];
  const turns: Turn[] = [];
  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = textOf(m.content, i);
        if (text !== '') system.push({ type: 'text', text });
        return;
      }
      case 'user':
        push(turns, 'user', contentPieces(m.content, i).map(userBlock));
        return;
      case 'assistant': {
        const blocks: Block[] = [];
        for (const p of contentPieces(m.content, i)) {
          if (p.kind !== 'text')
            throw badRequest(`"${p.param}": assistant messages may only hold text`, p.param);
          if (p.text !== '') blocks.push({ type: 'text', text: p.text });
        }
        for (const call of toolCallsOf(m, i))
          blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.args });
        push(turns, 'assistant', blocks);
        return;
      }
      case 'tool':
      case 'function': {
        const id = m.tool_call_id;
        if (typeof id !== 'string' || id === '') {
          throw badRequest(`"messages[${i}].tool_call_id" is required`, `messages[${i}].tool_call_id`);
        }
        push(turns, 'user', [{ type: 'tool_result', tool_use_id: id, content: textOf(m.content, i) }]);
        return;
      }
      default:
        throw badRequest(
          `"messages[${i}].role" ${JSON.stringify(m.role)} is not a chat role`,
          `messages[${i}].role`,
        );
    }
  });
  const out: Record<string, unknown> = {
    model,
    messages: turns,
    max_tokens: maxTokensOf(body) ?? DEFAULT_MAX_TOKENS,
  };
  if (system.length > 0) out['system'] = system;
  const set = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  set('temperature', numberParam(body, 'temperature'));
  set('top_p', numberParam(body, 'top_p'));
  set('stop_sequences', stopSequences(body['stop']));
  if (typeof body['user'] === 'string') out['metadata'] = { user_id: body['user'] };
  const thinking = body['thinking'];
  if (thinking && typeof thinking === 'object') out['thinking'] = thinking;
  if (stream) out['stream'] = true;
  addTools(out, body);
  return out;
}

function push(turns: Turn[], role: Turn['role'], blocks: Block[]): void {
  if (blocks.length === 0) return;
  const last = turns[turns.length - 1];
  if (last && last.role === role) last.content.push(...blocks);
  else turns.push({ role, content: blocks });
}

function userBlock(p: ContentPiece): Block {
  if (p.kind === 'text') return { type: 'text', text: p.text };
  if (p.kind === 'audio') throw badRequest(`"${p.param}": Anthropic models do not take audio`, p.param);
  const type = p.mediaType?.toLowerCase();
  if (type === 'application/pdf') {
    const source =
      p.data !== undefined ? { type: 'base64', media_type: type, data: p.data } : { type: 'url', url: p.url };
    return { type: 'document', source };
  }
  if (p.data !== undefined) {
    if (!type || !IMAGE_TYPES.has(type)) {
      throw badRequest(
        `"${p.param}": Anthropic does not take ${type ?? 'untyped'} images (it takes ${[...IMAGE_TYPES].join(', ')})`,
        p.param,
      );
    }
    return { type: 'image', source: { type: 'base64', media_type: type, data: p.data } };
  }
  if (!/^https?:\/\//i.test(p.url ?? '')) {
    throw badRequest(`"${p.param}": Anthropic takes images as data URLs or http(s) URLs`, p.param);
  }
  return { type: 'image', source: { type: 'url', url: p.url } };
}

function addTools(out: Record<string, unknown>, body: Record<string, unknown>): void {
  const tools: Block[] = functionTools(body['tools']).map((t) => {
    if (!TOOL_NAME.test(t.name)) {
      throw badRequest(
        `"${t.param}.name" ${JSON.stringify(t.name)} is not a name Anthropic takes (letters, digits, _ and -, 128 at most)`,
        `${t.param}.name`,
      );
    }
    const schema = t.parameters ?? { type: 'object', properties: {} };
    if (schema['type'] !== 'object') {
      throw badRequest(
        `"${t.param}.parameters" must be a JSON schema of "type": "object" for Anthropic`,
        `${t.param}.parameters`,
      );
    }
    const tool: Block = { name: t.name, input_schema: schema };
    if (t.description) tool['description'] = t.description;
    return tool;
  });
  let choice: Block | undefined;
  const c = toolChoiceOf(body['tool_choice']);
  if (c) {
    choice =
      c.kind === 'function'
        ? { type: 'tool', name: c.name }
        : { type: c.kind === 'required' ? 'any' : c.kind === 'none' ? 'none' : 'auto' };
  }
  const format = responseFormatOf(body['response_format']);
  if (format) {
    const schema = format.kind === 'schema' ? format.schema : { type: 'object', additionalProperties: true };
    tools.push({ name: JSON_TOOL, description: 'Respond with a JSON object.', input_schema: schema });
    choice = { type: 'tool', name: JSON_TOOL };
  }
  if (body['parallel_tool_calls'] === false && tools.length > 0) {
    choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  if (tools.length > 0) out['tools'] = tools;
  if (choice && (tools.length > 0 || choice['type'] === 'none')) out['tool_choice'] = choice;
}
