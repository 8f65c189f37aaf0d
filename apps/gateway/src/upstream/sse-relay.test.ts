import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { GatewayError } from '../errors.js';
import { relaySse, type StreamEnd } from './sse-relay.js';

/** An upstream body the test writes to, and what the relay told about the stream's end. */
function setup(timeoutMs = 1_000) {
  const upstream = new PassThrough();
  const ends: StreamEnd[] = [];
  const signal = Object.assign(new EventEmitter(), { aborted: false });
  const stream = relaySse(upstream, { onEnd: (end) => ends.push(end) }, timeoutMs, signal);
  const leave = () => {
    signal.aborted = true;
    signal.emit('abort');
  };
  return { upstream, ends, stream, leave };
}

describe('the SSE relay ends its stream on every way out', () => {
  it('read to the end: done, with the events it passed on', async () => {
    const { upstream, ends, stream } = setup();
    upstream.end('data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n');
    const text = await new Response(stream).text();
    expect(text).toContain('[DONE]');
    expect(ends).toEqual([{ kind: 'done', events: 2 }]);
  });

  it('its client gone before anything read it: cancelled, the upstream destroyed', async () => {
    const { upstream, ends, leave } = setup();
    leave();
    await expect.poll(() => ends).toEqual([{ kind: 'cancelled', events: 0 }]);
    expect(upstream.destroyed).toBe(true);
  });

  it('never read for its timeout (a response built but never sent): cancelled', async () => {
    const { upstream, ends } = setup(100);
    upstream.write('data: {"a":1}\n\n');
    await expect.poll(() => ends, { timeout: 2_000 }).toEqual([{ kind: 'cancelled', events: 0 }]);
    expect(upstream.destroyed).toBe(true);
  });

  it('its client gone mid-stream: cancelled with what it streamed, never the upstream failing', async () => {
    const { upstream, ends, stream } = setup();
    const reader = stream.getReader();
    upstream.write('data: {"a":1}\n\n');
    await reader.read();
    // A read waits on the upstream when the client's abort reaches the upstream request: its body
    // fails as an abort, under the read.
    const waiting = reader.read();
    upstream.destroy(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    expect((await waiting).done).toBe(true);
    expect(ends).toEqual([{ kind: 'cancelled', events: 1 }]);
  });

  it('cut by the upstream: an error, with one error event for the client', async () => {
    const { upstream, ends, stream } = setup();
    upstream.write('data: {"a":1}\n\n');
    setTimeout(() => upstream.destroy(new Error('socket hang up')), 10);
    const text = await new Response(stream).text();
    expect(text).toContain('"error"');
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ kind: 'error', events: 1 });
    expect((ends[0] as { error: GatewayError }).error.code).toBe('upstream_unreachable');
  });
});
