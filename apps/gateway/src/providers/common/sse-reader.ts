/** One server-sent event: its `event:` name (when given) and its `data:` lines joined by newlines. */
export interface SseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

/**
 * An incremental parser of `text/event-stream`: chunks may split lines and events anywhere (even
 * inside a UTF-8 character); `push` returns the events completed so far, `end` the last one if the
 * stream ended without its blank line. Comments and `id:`/`retry:` fields are ignored.
 */
export class SseReader {
  private carry = '';
  private event: string | undefined = undefined;
  private data: string[] = [];
  private readonly decoder = new TextDecoder();

  push(chunk: Buffer): SseEvent[] {
    const text = this.carry + this.decoder.decode(chunk, { stream: true });
    const out: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(text.slice(start, end), out);
      start = nl + 1;
    }
    this.carry = text.slice(start);
    return out;
  }

  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.carry !== '') this.line(this.carry, out);
    this.carry = '';
    this.line('', out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event, data: this.data.join('\n') });
      this.event = undefined;
      this.data = [];
      return;
    }
    if (line.charCodeAt(0) === 58 /* : comment */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}
