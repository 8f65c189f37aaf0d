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
import { geminiSchema } from './schema.js';

type Part = Record<string, unknown>;
interface Content {
  role: 'user' | 'model';
  parts: Part[];
}

/** Image types Gemini takes inline (ai.google.dev and Vertex AI "image understanding"). */
const GEMINI_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif']);

/** Gemini's function names: a letter or underscore, then letters, digits, `_ . : -`, 64 at most. */
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/**
 * An OpenAI chat request as a Gemini `generateContent` request body: system (and developer) messages
 * become `systemInstruction`, turns become `contents` (assistant → `model`, tool results → `user`
 * function responses; consecutive turns of one role merged, as Gemini wants them alternating),
 * images become `inlineData` (data URLs) or `fileData` (http and gs:// URLs), tools and tool_choice
 * become `functionDeclarations` and `toolConfig`, response_format `responseMimeType`/`responseSchema`,
 * and the sampling parameters `generationConfig`. Parameters Gemini has no equivalent for are dropped,
 * as with LiteLLM's `drop_params`. Content Gemini cannot take is a 400 naming the field.
 */
export function toGeminiRequest(body: Record<string, unknown>): Record<string, unknown> {
  const messages = body['messages'] as OpenAiMessage[];
  const contents: Content[] = [];
  const system: Part[] = [];
  const toolNames = new Map<string, string>();
  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = textOf(m.content, i);
        if (text !== '') system.push({ text });
        return;
      }
      case 'user':
        push(contents, 'user', contentPieces(m.content, i).map(userPart));
        return;
      case 'assistant': {
        const parts: Part[] = contentPieces(m.content, i).map((p) => {
          if (p.kind !== 'text')
            throw badRequest(`"${p.param}": assistant messages may only hold text`, p.param);
          return { text: p.text };
        });
        for (const call of toolCallsOf(m, i)) {
          toolNames.set(call.id, call.name);
          parts.push({ functionCall: { name: call.name, args: call.args } });
        }
        push(contents, 'model', parts);
        return;
      }
      case 'tool':
      case 'function':
        push(contents, 'user', [functionResponse(m, i, toolNames)]);
        return;
      default:
        throw badRequest(
          `"messages[${i}].role" ${JSON.stringify(m.role)} is not a chat role`,
          `messages[${i}].role`,
        );
    }
  });
  const out: Record<string, unknown> = { contents };
  if (system.length > 0) out['systemInstruction'] = { parts: system };
  addTools(out, body);
  const config = generationConfig(body);
  if (Object.keys(config).length > 0) out['generationConfig'] = config;
  return out;
}

function push(contents: Content[], role: Content['role'], parts: Part[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

function userPart(p: ContentPiece): Part {
  if (p.kind === 'text') return { text: p.text };
  if (p.kind === 'audio') return { inlineData: { mimeType: `audio/${p.format}`, data: p.data } };
  const type = p.mediaType?.toLowerCase();
  if (!type) {
    throw badRequest(
      `"${p.param}": cannot tell the media type of this image; use a data URL or set "image_url.format" (e.g. "image/png")`,
      p.param,
    );
  }
  if (type.startsWith('image/') && !GEMINI_IMAGE_TYPES.has(type)) {
    throw badRequest(
      `"${p.param}": Gemini does not take ${type} images (it takes ${[...GEMINI_IMAGE_TYPES].join(', ')})`,
      p.param,
    );
  }
  if (p.data !== undefined) return { inlineData: { mimeType: type, data: p.data } };
  return { fileData: { mimeType: type, fileUri: p.url } };
}

function functionResponse(m: OpenAiMessage, i: number, toolNames: Map<string, string>): Part {
  const id = typeof m.tool_call_id === 'string' ? m.tool_call_id : undefined;
  const name = (id && toolNames.get(id)) ?? (typeof m.name === 'string' ? m.name : undefined);
  if (!name) {
    throw badRequest(
      `"messages[${i}].tool_call_id" does not match a tool call of an earlier assistant message`,
      `messages[${i}].tool_call_id`,
    );
  }
  const text = textOf(m.content, i);
  let response: unknown;
  try {
    response = JSON.parse(text);
  } catch {
    response = undefined;
  }
  // Gemini wants an object; anything else goes under "content", as LiteLLM sends it.
  if (response === null || typeof response !== 'object' || Array.isArray(response))
    response = { content: text };
  return { functionResponse: { name, response } };
}

function addTools(out: Record<string, unknown>, body: Record<string, unknown>): void {
  const tools = functionTools(body['tools']);
  if (tools.length > 0) {
    out['tools'] = [
      {
        functionDeclarations: tools.map((t) => {
          if (!FUNCTION_NAME.test(t.name)) {
            throw badRequest(
              `"${t.param}.name" ${JSON.stringify(t.name)} is not a name Gemini takes (letters, digits, _ . : -, 64 at most, not starting with a digit)`,
              `${t.param}.name`,
            );
          }
          const decl: Record<string, unknown> = { name: t.name };
          if (t.description) decl['description'] = t.description;
          const props = t.parameters?.['properties'];
          // Gemini refuses an object schema without properties: a function without parameters has none.
          if (t.parameters && props && typeof props === 'object' && Object.keys(props).length > 0) {
            decl['parameters'] = geminiSchema(t.parameters, `${t.param}.parameters`);
          }
          return decl;
        }),
      },
    ];
  }
  const choice = toolChoiceOf(body['tool_choice']);
  if (!choice) return;
  const config: Record<string, unknown> =
    choice.kind === 'function'
      ? { mode: 'ANY', allowedFunctionNames: [choice.name] }
      : { mode: choice.kind === 'required' ? 'ANY' : choice.kind === 'none' ? 'NONE' : 'AUTO' };
  out['toolConfig'] = { functionCallingConfig: config };
}

function generationConfig(body: Record<string, unknown>): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) c[key] = value;
  };
  set('temperature', numberParam(body, 'temperature'));
  set('topP', numberParam(body, 'top_p'));
  set('candidateCount', numberParam(body, 'n'));
  set('maxOutputTokens', maxTokensOf(body));
  set('seed', numberParam(body, 'seed'));
  set('presencePenalty', numberParam(body, 'presence_penalty'));
  set('frequencyPenalty', numberParam(body, 'frequency_penalty'));
  set('stopSequences', stopSequences(body['stop']));
  const format = responseFormatOf(body['response_format']);
  if (format) {
    c['responseMimeType'] = 'application/json';
    if (format.kind === 'schema') {
      c['responseSchema'] = geminiSchema(format.schema, 'response_format.json_schema.schema', {
        propertyOrdering: true,
      });
    }
  }
  return c;
}
