import type { Exchange } from './exchange.js';
import type { StreamReply } from './reply.js';

/**
 * Sends a pre-rendered stream: headers and `lead` at once, then each chunk as its own write,
 * `chunkDelayMs` apart (back to back when 0), then `tail` and the end. With `cut` only about half
 * the chunks go out before the connection is dropped.
 */
export function sendStream(ex: Exchange, reply: StreamReply, chunkDelayMs: number, cut: boolean): void {
  const { res } = ex;
  if (res.destroyed) return;
  ex.head(200, { 'content-type': reply.contentType, 'cache-control': 'no-cache' });
  // Headers go out now even with nothing to lead with, so time-to-first-byte reflects latencyMs.
  if (reply.lead.length > 0) res.write(reply.lead);
  else res.flushHeaders();
  const { chunks } = reply;
  const stopAt = cut ? Math.floor(chunks.length / 2) : chunks.length;
  const finish = () => {
    if (cut) ex.cut();
    else res.end(reply.tail);
  };
  if (chunkDelayMs <= 0) {
    for (let i = 0; i < stopAt; i++) res.write(chunks[i]!);
    finish();
    return;
  }
  let next = 0;
  const tick = () => {
    ex.timer = undefined;
    if (res.destroyed) return;
    res.write(chunks[next++]!);
    if (next < stopAt) ex.timer = setTimeout(tick, chunkDelayMs);
    else finish();
  };
  if (stopAt > 0) ex.timer = setTimeout(tick, chunkDelayMs);
  else finish();
}
