/**
 * The floor any gateway pays: read the body, parse it once, set `model`, serialise, forward with the
 * upstream key over a keep-alive pool, relay status and body. Nothing else.
 *   node bench/dist/bare-proxy.js --port 0 --upstream http://127.0.0.1:P/chat/completions [--model any] [--key test]
 *                                 [--redis redis://127.0.0.1:6379]
 *
 * `--redis`: the floor of a fleet-wide quota as well — before forwarding, one INCR of this minute's
 * counter in Redis (a fixed window, refusing with 429 past an unreachable limit), auto-pipelined so the
 * requests of one event-loop tick share a write. No gateway that admits a request against numbers it
 * shares through Redis can pay less than this round trip.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Agent } from 'undici';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    upstream: { type: 'string' },
    model: { type: 'string', default: 'any' },
    key: { type: 'string', default: 'test' },
    redis: { type: 'string' },
  },
});
if (!args.upstream) throw new Error('--upstream URL is required');
const upstream = new URL(args.upstream);
const headers = { 'content-type': 'application/json', authorization: `Bearer ${args.key}` };
const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: null });
const redis = args.redis
  ? new Redis(args.redis, { enableAutoPipelining: true, maxRetriesPerRequest: 1 })
  : undefined;
const counterPrefix = `bare-proxy:${process.pid}:`;
/** Never reached in a bench: the limit is there so that the count is a real admission decision. */
const RPM_LIMIT = 1e12;

/** One shared admission: this minute's count, incremented; false past the limit. */
async function admit(): Promise<boolean> {
  if (!redis) return true;
  const key = counterPrefix + Math.floor(Date.now() / 60_000);
  const count = await redis.incr(key);
  // The first request of a minute gives its counter a lifetime (once a minute: not on the path).
  if (count === 1) void redis.expire(key, 120).catch(() => undefined);
  return count <= RPM_LIMIT;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      body['model'] = args.model;
      if (!(await admit())) {
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'rate limited', type: 'bare_proxy_error' } }));
        return;
      }
      const up = await agent.request({
        origin: upstream.origin,
        path: upstream.pathname + upstream.search,
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      const out = Buffer.from(await up.body.arrayBuffer());
      res.writeHead(up.statusCode, {
        'content-type': String(up.headers['content-type'] ?? 'application/json'),
      });
      res.end(out);
    } catch (error) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(error), type: 'bare_proxy_error' } }));
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(args.port), args.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : args.port;
  console.log(`bare-proxy listening on http://${args.host}:${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    redis?.disconnect();
    void agent.close().finally(() => process.exit(0));
  });
}
