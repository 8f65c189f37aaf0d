import { badRequest } from '../../errors.js';

/** An OpenAI message as translators read it (fields they do not know are ignored). */
export interface OpenAiMessage {
  readonly role: string;
  readonly content?: unknown;
  readonly name?: unknown;
  readonly tool_calls?: unknown;
  readonly tool_call_id?: unknown;
}

/** One piece of a message's content, normalised. */
export type ContentPiece =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'image';
      /** Where in the request it came from, for 400s: `messages[1].content[2].image_url`. */
      readonly param: string;
      /** A data URL's bytes (base64) and media type, or a remote URL. */
      readonly data?: string | undefined;
      readonly url?: string | undefined;
      readonly mediaType: string | undefined;
    }
  | {
      readonly kind: 'audio';
      readonly param: string;
      readonly data: string;
      readonly format: string;
    };

const DATA_URL = /^data:([^;,]+)?((?:;[^;,]+)*?);base64,/;

/**
 * The content of message `index` as pieces: a string is one text piece; an array yields its text,
 * image_url and input_audio parts. Any other part type is a 400 naming it.
 */
export function contentPieces(content: unknown, index: number): ContentPiece[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ kind: 'text', text: content }];
  if (!Array.isArray(content)) {
    throw badRequest(
      `"messages[${index}].content" must be a string or an array of parts`,
      `messages[${index}].content`,
    );
  }
  return content.map((part, j) => piece(part, `messages[${index}].content[${j}]`));
}

function piece(part: unknown, at: string): ContentPiece {
  const p = part as { type?: unknown; text?: unknown; image_url?: unknown; input_audio?: unknown } | null;
  if (p === null || typeof p !== 'object') throw badRequest(`"${at}" must be an object`, at);
  if (p.type === 'text') {
    if (typeof p.text !== 'string') throw badRequest(`"${at}.text" must be a string`, `${at}.text`);
    return { kind: 'text', text: p.text };
  }
  if (p.type === 'image_url') {
    const image = p.image_url as { url?: unknown; format?: unknown } | string | undefined;
    const url = typeof image === 'string' ? image : image?.url;
    const format = typeof image === 'object' && typeof image?.format === 'string' ? image.format : undefined;
    if (typeof url !== 'string' || url === '') {
      throw badRequest(`"${at}.image_url.url" must be a URL`, `${at}.image_url`);
    }
    const m = DATA_URL.exec(url);
    if (m)
      return {
        kind: 'image',
        param: `${at}.image_url`,
        data: url.slice(m[0].length),
        mediaType: format ?? m[1],
      };
    if (url.startsWith('data:')) {
      throw badRequest(`"${at}.image_url.url" must be a base64 data URL`, `${at}.image_url`);
    }
    return { kind: 'image', param: `${at}.image_url`, url, mediaType: format ?? mediaTypeOf(url) };
  }
  if (p.type === 'input_audio') {
    const audio = p.input_audio as { data?: unknown; format?: unknown } | undefined;
    if (typeof audio?.data !== 'string' || typeof audio.format !== 'string') {
      throw badRequest(`"${at}.input_audio" needs "data" and "format"`, `${at}.input_audio`);
    }
    return { kind: 'audio', param: `${at}.input_audio`, data: audio.data, format: audio.format };
  }
  throw badRequest(
    `"${at}.type" ${JSON.stringify(p.type)} is not supported by this deployment's provider`,
    `${at}.type`,
  );
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp4: 'video/mp4',
  mov: 'video/mov',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  txt: 'text/plain',
};

/** The media type a URL's file extension names, as LiteLLM guesses it for gs:// and http URLs. */
export function mediaTypeOf(url: string): string | undefined {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return undefined;
  return EXTENSIONS[path.slice(dot + 1).toLowerCase()];
}

/** The text of a content that must be text only (system and tool messages): parts are joined. */
export function textOf(content: unknown, index: number): string {
  return contentPieces(content, index)
    .map((p) => {
      if (p.kind !== 'text') throw badRequest(`"${p.param}": only text is allowed in this message`, p.param);
      return p.text;
    })
    .join('');
}

/** An assistant message's tool calls: id, name and parsed arguments (a 400 naming the call when they are not a JSON object). */
export function toolCallsOf(
  message: OpenAiMessage,
  index: number,
): Array<{ id: string; name: string; args: Record<string, unknown> }> {
  if (message.tool_calls === undefined || message.tool_calls === null) return [];
  if (!Array.isArray(message.tool_calls)) {
    throw badRequest(`"messages[${index}].tool_calls" must be an array`, `messages[${index}].tool_calls`);
  }
  return message.tool_calls.map((call, j) => {
    const at = `messages[${index}].tool_calls[${j}]`;
    const c = call as { id?: unknown; function?: { name?: unknown; arguments?: unknown } } | null;
    const name = c?.function?.name;
    if (typeof name !== 'string' || name === '')
      throw badRequest(`"${at}.function.name" must be a string`, at);
    const raw = c?.function?.arguments;
    let args: unknown = {};
    if (typeof raw === 'string' && raw.trim() !== '') {
      try {
        args = JSON.parse(raw);
      } catch {
        throw badRequest(`"${at}.function.arguments" is not valid JSON`, `${at}.function.arguments`);
      }
    } else if (raw !== undefined && raw !== null && raw !== '' && typeof raw !== 'object') {
      throw badRequest(`"${at}.function.arguments" must be a JSON string`, `${at}.function.arguments`);
    } else if (raw && typeof raw === 'object') args = raw;
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      throw badRequest(`"${at}.function.arguments" must encode a JSON object`, `${at}.function.arguments`);
    }
    return {
      id: typeof c?.id === 'string' ? c.id : `call_${j}`,
      name,
      args: args as Record<string, unknown>,
    };
  });
}

/** The function tools of a request: name, description, parameters schema. Other tool types are a 400. */
export function functionTools(tools: unknown): Array<{
  name: string;
  description: string | undefined;
  parameters: Record<string, unknown> | undefined;
  param: string;
}> {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw badRequest('"tools" must be an array', 'tools');
  return tools.map((tool, i) => {
    const t = tool as {
      type?: unknown;
      function?: { name?: unknown; description?: unknown; parameters?: unknown };
    };
    if (t?.type !== 'function' || !t.function) {
      throw badRequest(`"tools[${i}]" must be {"type":"function","function":{…}}`, `tools[${i}]`);
    }
    const { name, description, parameters } = t.function;
    if (typeof name !== 'string' || name === '') {
      throw badRequest(`"tools[${i}].function.name" must be a string`, `tools[${i}].function.name`);
    }
    if (
      parameters !== undefined &&
      (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters))
    ) {
      throw badRequest(
        `"tools[${i}].function.parameters" must be a JSON schema object`,
        `tools[${i}].function.parameters`,
      );
    }
    return {
      name,
      description: typeof description === 'string' ? description : undefined,
      parameters: parameters as Record<string, unknown> | undefined,
      param: `tools[${i}].function`,
    };
  });
}

/** `tool_choice` normalised: auto, none, required, or one function by name. */
export type ToolChoice =
  | { readonly kind: 'auto' | 'none' | 'required' }
  | { readonly kind: 'function'; readonly name: string };

export function toolChoiceOf(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return { kind: value };
  const name = (value as { function?: { name?: unknown } })?.function?.name;
  if (typeof name === 'string') return { kind: 'function', name };
  throw badRequest(
    '"tool_choice" must be "auto", "none", "required" or {"type":"function","function":{"name"}}',
    'tool_choice',
  );
}

/** `stop` as a list (OpenAI accepts a string or up to 4 strings). */
export function stopSequences(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop as string[];
  throw badRequest('"stop" must be a string or an array of strings', 'stop');
}

/** A numeric sampling parameter, or undefined; a 400 naming it when it is not a number. */
export function numberParam(body: Record<string, unknown>, name: string): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`"${name}" must be a number`, name);
  return v;
}

/** `max_completion_tokens`, else `max_tokens`. */
export function maxTokensOf(body: Record<string, unknown>): number | undefined {
  return numberParam(body, 'max_completion_tokens') ?? numberParam(body, 'max_tokens');
}

/** `response_format`: none, any JSON object, or a JSON schema. */
export type ResponseFormat =
  | { readonly kind: 'json' }
  | { readonly kind: 'schema'; readonly name: string; readonly schema: Record<string, unknown> };

export function responseFormatOf(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value as { type?: unknown; json_schema?: { name?: unknown; schema?: unknown } };
  if (v.type === 'text') return undefined;
  if (v.type === 'json_object') return { kind: 'json' };
  if (v.type === 'json_schema') {
    const schema = v.json_schema?.schema;
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
      throw badRequest(
        '"response_format.json_schema.schema" must be a JSON schema object',
        'response_format',
      );
    }
    const name = typeof v.json_schema?.name === 'string' ? v.json_schema.name : 'json_schema';
    return { kind: 'schema', name, schema: schema as Record<string, unknown> };
  }
  throw badRequest(
    '"response_format.type" must be "text", "json_object" or "json_schema"',
    'response_format',
  );
}
