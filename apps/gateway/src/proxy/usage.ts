import type { Usage } from '../providers/types.js';

const USAGE = Buffer.from('"usage"');

/**
 * Reads `usage` out of an OpenAI JSON response without parsing the whole body (embedding responses
 * are large; `usage` is small and near the end): finds the last `"usage"` key and parses only its object.
 */
export function usageFromJson(body: Buffer): Usage | undefined {
  const at = body.lastIndexOf(USAGE);
  if (at < 0) return undefined;
  const open = body.indexOf(0x7b /* { */, at + USAGE.length);
  if (open < 0) return undefined;
  const close = matchingBrace(body, open);
  if (close < 0) return undefined;
  try {
    return toUsage(JSON.parse(body.subarray(open, close + 1).toString('utf8')));
  } catch {
    return undefined;
  }
}

function matchingBrace(buf: Buffer, open: number): number {
  let depth = 0;
  for (let i = open; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return i;
  }
  return -1;
}

export function toUsage(raw: unknown): Usage | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const u = raw as { prompt_tokens?: unknown; completion_tokens?: unknown };
  const prompt = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : undefined;
  const completion = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  if (prompt === undefined) return undefined;
  return { promptTokens: prompt, completionTokens: completion };
}

/**
 * Watches an OpenAI SSE stream for its usage chunk. Only complete `data:` lines that mention usage are
 * parsed. Without stripping, bytes pass on exactly as they came. With stripping — when the gateway
 * asked upstream for usage on the client's behalf (`stream_options.include_usage`) — the usage-only
 * chunk (`"choices": []`) is dropped so clients that did not ask never see a chunk without choices;
 * then a partial last line is held back until its newline arrives (`flush` returns what is left).
 */
export class SseUsageTracker {
  usage: Usage | undefined;
  private carry = '';

  constructor(private readonly strip: boolean) {}

  /** The bytes to pass on now. */
  process(chunk: Buffer): Buffer {
    const lastNl = chunk.lastIndexOf(0x0a);
    if (this.carry === '' && lastNl === chunk.length - 1 && chunk.indexOf(USAGE) < 0) return chunk;
    const text = this.carry + chunk.toString('utf8');
    const cut = text.lastIndexOf('\n') + 1;
    this.carry = text.slice(cut);
    const complete = text.slice(0, cut);
    if (!this.strip) {
      if (complete.includes('"usage"')) this.scan(complete);
      return chunk;
    }
    return Buffer.from(complete.includes('"usage"') ? this.scan(complete) : complete, 'utf8');
  }

  /** What a stripping tracker still holds when the stream ends. */
  flush(): Buffer | undefined {
    const rest = this.carry;
    this.carry = '';
    return this.strip && rest !== '' ? Buffer.from(rest, 'utf8') : undefined;
  }

  /** Records usage from complete lines; returns them without the usage-only event when stripping. */
  private scan(lines: string): string {
    let dropped = false;
    const kept = lines.split('\n').filter((line) => {
      if (!line.startsWith('data:') || !line.includes('"usage"')) return true;
      try {
        const event = JSON.parse(line.slice(5)) as { usage?: unknown; choices?: unknown[] };
        const usage = toUsage(event.usage);
        if (usage) this.usage = usage;
        if (this.strip && usage && Array.isArray(event.choices) && event.choices.length === 0) {
          dropped = true;
          return false;
        }
      } catch {
        // Not JSON after all: pass it on untouched.
      }
      return true;
    });
    // The dropped line's blank separator stays: an extra blank line is an empty event, which SSE ignores.
    return dropped ? kept.join('\n') : lines;
  }
}
