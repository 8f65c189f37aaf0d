import { createServer } from 'node:net';

/**
 * Ports are picked below Linux's ephemeral range (32768–60999 by default), where the OS takes the
 * local port of every outgoing connection: a port it handed out for `listen(0)` and that was closed
 * again can be taken by any test's client socket before the child process meant for it binds it —
 * and a Redis restarted on its old port would find it gone. Each test worker gets its own slice
 * of the range (vitest's VITEST_POOL_ID), and a port is never handed out twice by one process.
 */
const FIRST = 20_000;
const SLICE = 1_000;
const SLICES = 12;
const handedOut = new Set<number>();
let next = -1;

/** A TCP port on 127.0.0.1 that was free a moment ago and that nothing but its taker is likely to bind. */
export async function freePort(): Promise<number> {
  const slice = (Number(process.env['VITEST_POOL_ID'] ?? process.pid) || 0) % SLICES;
  const base = FIRST + slice * SLICE;
  if (next < 0) next = Math.floor(Math.random() * SLICE);
  for (let tries = 0; tries < SLICE; tries++) {
    const port = base + (next++ % SLICE);
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port in ${base}–${base + SLICE - 1}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
