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

/** The tool asked for to answer in JSON (`response_format`), as LiteLLM does for Bedrock. */
export const JSON_TOOL = 'json_tool_call';

const IMAGE_FORMATS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * An OpenAI chat request as a Bedrock Converse request: system messages → `system`, turns →
 * `messages` of content blocks (consecutive turns of one role merged), images → `image` blocks
 * (bytes from data URLs, `s3Location` from s3:// URLs), PDFs → `document` blocks, tool calls →
 * `toolUse`, tool results → `toolResult`, sampling → `inferenceConfig`, tools → `toolConfig`,
 * `response_format` → a forced `json_tool_call` tool. Content Bedrock cannot take is a 400 naming it.
 */
export function toConverseRequest(body: Record<string, unknown>): Record<string, unknown> {
  const messages = body['messages'] as OpenAiMessage[];
  const system: Block[] = [];
  const turns: Turn[] = [];
  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = textOf(m.content, i);
        if (text !== '') system.push({ text });
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
          if (p.text !== '') blocks.push({ text: p.text });
        }
        for (const call of toolCallsOf(m, i))
          blocks.push({ toolUse: { toolUseId: call.id, name: call.name, input: call.args } });
        push(turns, 'assistant', blocks);
        return;
      }
      case 'tool':
      case 'function': {
        const id = m.tool_call_id;
        if (typeof id !== 'string' || id === '') {
          throw badRequest(`"messages[${i}].tool_call_id" is required`, `messages[${i}].tool_call_id`);
        }
        push(turns, 'user', [{ toolResult: { toolUseId: id, content: [{ text: textOf(m.content, i) }] } }]);
        return;
      }
      default:
        throw badRequest(
          `"messages[${i}].role" ${JSON.stringify(m.role)} is not a chat role`,
          `messages[${i}].role`,
        );
    }
  });
  const out: Record<string, unknown> = { messages: turns };
  if (system.length > 0) out['system'] = system;
  const inference: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) inference[key] = value;
  };
  set('maxTokens', maxTokensOf(body));
  set('temperature', numberParam(body, 'temperature'));
  set('topP', numberParam(body, 'top_p'));
  set('stopSequences', stopSequences(body['stop']));
  if (Object.keys(inference).length > 0) out['inferenceConfig'] = inference;
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
  if (p.kind === 'text') return { text: p.text };
  if (p.kind === 'audio')
    throw badRequest(`"${p.param}": Bedrock's Converse API does not take audio`, p.param);
  const type = p.mediaType?.toLowerCase();
  const source =
    p.data !== undefined
      ? { bytes: p.data }
      : p.url?.startsWith('s3://')
        ? { s3Location: { uri: p.url } }
        : undefined;
  if (!source) {
    throw badRequest(`"${p.param}": Bedrock takes images as data URLs or s3:// URLs, not http URLs`, p.param);
  }
  if (type === 'application/pdf') return { document: { format: 'pdf', name: 'document', source } };
  const format = type ? IMAGE_FORMATS[type] : undefined;
  if (!format) {
    throw badRequest(
      `"${p.param}": Bedrock does not take ${type ?? 'untyped'} images (it takes ${Object.keys(IMAGE_FORMATS).join(', ')})`,
      p.param,
    );
  }
  return { image: { format, source } };
}

function addTools(out: Record<string, unknown>, body: Record<string, unknown>): void {
  const tools: Block[] = functionTools(body['tools']).map((t) => {
    if (!TOOL_NAME.test(t.name)) {
      throw badRequest(
        `"${t.param}.name" ${JSON.stringify(t.name)} is not a name Bedrock takes (letters, digits, _ and -, 64 at most)`,
        `${t.param}.name`,
      );
    }
    const spec: Block = {
      name: t.name,
      inputSchema: { json: t.parameters ?? { type: 'object', properties: {} } },
    };
    if (t.description) spec['description'] = t.description;
    return { toolSpec: spec };
  });
  let choice: Block | undefined;
  const c = toolChoiceOf(body['tool_choice']);
  if (c?.kind === 'function') choice = { tool: { name: c.name } };
  else if (c?.kind === 'required') choice = { any: {} };
  else if (c?.kind === 'auto') choice = { auto: {} };
  const format = responseFormatOf(body['response_format']);
  if (format) {
    const schema = format.kind === 'schema' ? format.schema : { type: 'object' };
    tools.push({
      toolSpec: {
        name: JSON_TOOL,
        description: 'Respond with a JSON object.',
        inputSchema: { json: schema },
      },
    });
    choice = { tool: { name: JSON_TOOL } };
  }
  if (tools.length === 0) return;
  const config: Block = { tools };
  if (choice) config['toolChoice'] = choice;
  out['toolConfig'] = config;
}
