import { SseReader } from '../common/sse-reader.js';
import { topLevelValueRange } from '../openai/json-splice.js';
import type { StreamTranslation, TranslateInput, Translator, UpstreamTarget, Usage } from '../types.js';
import { nativeError } from './errors.js';
import { type AnthropicUsage, mergeUsage, usageOf } from './usage.js';

/**
 * Anthropic clients (`POST /v1/messages`) to an Anthropic deployment: the body passes through with
 * `model` spliced in, the answer and its stream events pass through byte for byte, usage read on the
 * way (message_start and message_delta for streams), errors in Anthropic's shape.
 */
export function createNativeAnthropicTranslator(o: {
  target: UpstreamTarget;
  headers: Readonly<Record<string, string>>;
  upstreamModel: string;
  scrub: (text: Buffer) => Buffer;
}): Translator {
  const modelJson = Buffer.from(JSON.stringify(o.upstreamModel));
  return {
    request: (input) => {
      // Beta features (prompt caching, long context, …) are asked for by header.
      const beta = input.clientHeaders?.['anthropic-beta'];
      const headers = beta === undefined ? o.headers : { ...o.headers, 'anthropic-beta': beta };
      return { target: o.target, headers, body: spliceModel(input, o.upstreamModel, modelJson) };
    },
    isStream: (contentType) => contentType.startsWith('text/event-stream'),
    decodeJson: (body) => ({ body, contentType: 'application/json', usage: usageOf(lastUsage(body)) }),
    createStream: () => new NativeUsageWatcher(),
    decodeError: (status, body) => nativeError(status, o.scrub(body)),
  };
}

function spliceModel(input: TranslateInput, defaultModel: string, defaultJson: Buffer): Buffer | string {
  const model = input.upstreamModel ?? defaultModel;
  const json = model === defaultModel ? defaultJson : Buffer.from(JSON.stringify(model));
  const range = topLevelValueRange(input.raw, 'model');
  if (range) return Buffer.concat([input.raw.subarray(0, range[0]), json, input.raw.subarray(range[1])]);
  return JSON.stringify({ ...input.body, model });
}

const USAGE = Buffer.from('"usage"');

/** The top-level `usage` of a Messages answer: the last `"usage"` key (it comes after the content). */
function lastUsage(body: Buffer): AnthropicUsage | undefined {
  const at = body.lastIndexOf(USAGE);
  if (at < 0) return undefined;
  const open = body.indexOf(0x7b, at);
  const close = open < 0 ? -1 : body.indexOf(0x7d, open);
  if (close < 0) return undefined;
  try {
    return JSON.parse(body.subarray(open, close + 1).toString('utf8')) as AnthropicUsage;
  } catch {
    return undefined;
  }
}

/** Passes Anthropic stream bytes on untouched, reading usage from message_start and message_delta. */
class NativeUsageWatcher implements StreamTranslation {
  failedStatus: number | undefined = undefined;
  private readonly reader = new SseReader();
  private readonly counts: AnthropicUsage = {};

  get usage(): Usage | undefined {
    return usageOf(this.counts);
  }

  process(chunk: Buffer): Buffer {
    this.read(this.reader.push(chunk));
    return chunk;
  }

  flush(): undefined {
    this.read(this.reader.end());
    return undefined;
  }

  cutEvent(error: { status: number; message: string }): Buffer {
    const type = error.status === 504 ? 'timeout_error' : 'api_error';
    return Buffer.from(
      `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message: error.message } })}\n\n`,
    );
  }

  private read(events: ReadonlyArray<{ event: string | undefined; data: string }>): void {
    for (const e of events) {
      if (e.event === 'error') this.failedStatus = 500;
      if (!e.data.includes('"usage"')) continue;
      try {
        const ev = JSON.parse(e.data) as { message?: { usage?: AnthropicUsage }; usage?: AnthropicUsage };
        mergeUsage(this.counts, ev.message?.usage ?? ev.usage);
      } catch {
        // Not JSON: passed on untouched all the same.
      }
    }
  }
}
