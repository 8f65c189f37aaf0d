/**
 * The floor any gateway pays: read the body, parse it once, set `model`, serialise, forward with the
 * upstream key over a keep-alive pool, relay status and body. Nothing else.
 *   node bench/dist/bare-proxy.js --port 0 --upstream http://127.0.0.1:P/chat/completions [--model any] [--key test]
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    upstream: { type: 'string' },
    model: { type: 'string', default: 'any' },
    key: { type: 'string', default: 'test' },
  },
});
if (!args.upstream) throw new Error('--upstream URL is required');
const upstream = new URL(args.upstream);
const headers = { 'content-type': 'application/json', authorization: `Bearer ${args.key}` };
const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: null });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      body['model'] = args.model;
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
    void agent.close().finally(() => process.exit(0));
  });
}
