import type { LitellmParams } from '../config/schema.js';
import type { AdapterContext } from './adapter-context.js';
import { GoogleTokenCache } from './google/token-cache.js';
import type { Endpoint, TranslateInput, Translator, UpstreamIo, UpstreamRequest } from './types.js';

/** An adapter context for tests: the params given, no environment, no files. */
export function testContext(
  provider: string,
  upstreamModel: string,
  params: Partial<LitellmParams> = {},
  extra: Partial<AdapterContext> = {},
): AdapterContext {
  return {
    provider,
    upstreamModel,
    deploymentName: '"d1" of model group m',
    params: { model: `${provider}/${upstreamModel}`, ...params },
    env: {},
    readFile: () => {
      throw Object.assign(new Error('no files in tests'), { code: 'ENOENT' });
    },
    googleTokens: new GoogleTokenCache(),
    ...extra,
  };
}

/** A request as a translator sees it, from a client body. */
export function input(
  endpoint: Endpoint,
  body: Record<string, unknown>,
  upstreamModel?: string,
): TranslateInput {
  const raw = Buffer.from(JSON.stringify(body));
  return { endpoint, body, raw, stream: body['stream'] === true, upstreamModel };
}

const io: UpstreamIo = {
  dispatcher: undefined as never,
  now: () => Date.UTC(2025, 0, 2, 3, 4, 5),
};

/** The upstream call a translator builds synchronously (credentials that need fetching fail the test). */
export function requestOf(t: Translator, i: TranslateInput): UpstreamRequest {
  const r = t.request(i, io);
  if (r instanceof Promise) throw new Error('the request needed credentials fetched');
  return r;
}

/** The upstream body a translator builds, parsed. */
export function upstreamBody(t: Translator, i: TranslateInput): Record<string, unknown> {
  return JSON.parse(requestOf(t, i).body.toString()) as Record<string, unknown>;
}

/** Feeds `chunks` through a stream translation and returns everything it passed on. */
export function runStream(t: Translator, i: TranslateInput, chunks: Buffer[], clientWantsUsage = false) {
  const s = t.createStream(i, clientWantsUsage);
  const out = chunks.map((c) => s.process(c).toString()).join('') + (s.flush()?.toString() ?? '');
  return { text: out, usage: s.usage, failedStatus: s.failedStatus };
}

/** An OpenAI stream event as tests read it. */
export interface ChunkJson {
  id: string;
  choices: Array<{
    index: number;
    delta: {
      role?: string;
      content?: string;
      reasoning_content?: string;
      tool_calls?: Array<Record<string, unknown>>;
    };
    finish_reason: string | null;
  }>;
  usage?: Record<string, unknown>;
  error?: { type: string; message: string };
}

/** The `data:` payloads of OpenAI SSE text, parsed (`[DONE]` kept as a string). */
export function sseData(text: string): Array<ChunkJson | '[DONE]'> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => (l === 'data: [DONE]' ? '[DONE]' : JSON.parse(l.slice(6))));
}

/** The chunks of an OpenAI stream that carry a choice, in order. */
export function choiceChunks(text: string): Array<ChunkJson['choices'][number]> {
  return sseData(text).flatMap((c) => (typeof c === 'object' && c.choices.length > 0 ? [c.choices[0]!] : []));
}
