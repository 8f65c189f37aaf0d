import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP relay in front of Redis that misbehaves on demand, as production networks and Redis servers
 * do: it can hold Redis's replies back for a while (a fork for persistence, a failover, a network
 * blip — Redis has already run the commands) and drop every connection at once. Commands from the
 * clients always pass straight through.
 */
export interface RedisRelay {
  readonly url: string;
  readonly port: number;
  /** Holds every reply from now for `ms`, then lets them all through in order. */
  stall(ms: number): void;
  /** Stalls for `holdMs` every `everyMs`, from now until `stopStalls()`. */
  stallEvery(holdMs: number, everyMs: number): void;
  stopStalls(): void;
  /** Stalls begun so far. */
  stalls(): number;
  /** Closes every relayed connection, both sides, as a network cut would. */
  dropAll(): void;
  /** Connections relayed so far (a reconnecting client opens a new one). */
  connections(): number;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  /** Replies held back while stalled. */
  held: Buffer[];
}

export async function startRedisRelay(target: { host?: string; port: number }): Promise<RedisRelay> {
  const pairs = new Set<Pair>();
  let holding = false;
  let stallTimer: NodeJS.Timeout | undefined;
  let releaseTimer: NodeJS.Timeout | undefined;
  let stallCount = 0;
  let connectionCount = 0;

  const release = () => {
    holding = false;
    for (const p of pairs) {
      for (const chunk of p.held) if (!p.client.destroyed) p.client.write(chunk);
      p.held = [];
    }
  };
  const stall = (ms: number) => {
    stallCount++;
    holding = true;
    if (releaseTimer) clearTimeout(releaseTimer);
    releaseTimer = setTimeout(release, ms);
  };
  const server = createServer((client) => {
    connectionCount++;
    const upstream = createConnection({ host: target.host ?? '127.0.0.1', port: target.port });
    const pair: Pair = { client, server: upstream, held: [] };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (holding) pair.held.push(chunk);
      else client.write(chunk);
    });
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stall,
    stallEvery(holdMs, everyMs) {
      if (stallTimer) clearInterval(stallTimer);
      stall(holdMs);
      stallTimer = setInterval(() => stall(holdMs), everyMs);
    },
    stopStalls() {
      if (stallTimer) clearInterval(stallTimer);
      stallTimer = undefined;
    },
    stalls: () => stallCount,
    dropAll() {
      for (const p of [...pairs]) {
        pairs.delete(p);
        p.client.destroy();
        p.server.destroy();
      }
    },
    connections: () => connectionCount,
    async close() {
      if (stallTimer) clearInterval(stallTimer);
      if (releaseTimer) clearTimeout(releaseTimer);
      release();
      for (const p of pairs) {
        p.client.destroy();
        p.server.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
