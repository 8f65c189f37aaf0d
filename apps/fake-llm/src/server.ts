import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CONTROL_PREFIX, handleControl } from './control.js';
import { FakeCore } from './core.js';
import type { ConfigurePatch, FakeLlmOptions } from './options.js';
import { handleApiRequest } from './pipeline.js';
import type { FakeLlmStats } from './stats.js';

/** Where a listening fake can be reached. */
export interface ListenAddress {
  port: number;
  /** `http://HOST:PORT`, without a trailing slash. */
  url: string;
}

/** A fake LLM upstream: OpenAI, Anthropic and Gemini endpoints with configurable faults and quotas. */
export interface FakeLlm {
  /**
   * Starts listening. Port 0 lets the OS pick; the address read back is returned.
   * @param port @default 0
   * @param host @default '127.0.0.1'
   */
  listen(port?: number, host?: string): Promise<ListenAddress>;
  /** Stops listening and destroys every connection, idle, hung or mid-response, so tests end promptly. */
  close(): Promise<void>;
  /** What the fake received since it started or was last reset. */
  stats(): FakeLlmStats;
  /** Clears the stats and quota windows; the behaviour stays. */
  reset(): void;
  /** Changes the behaviour at run time (see ConfigurePatch); throws ConfigError on a bad value. */
  configure(patch: ConfigurePatch): void;
}

/**
 * Idle keep-alive connections stay open longer than the usual 60 s client pools keep them, so the
 * gateway never sends a request on a socket this side is closing.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Creates a fake LLM upstream; throws ConfigError when an option is out of range. */
export function createFakeLlm(options: FakeLlmOptions = {}): FakeLlm {
  const core = new FakeCore(options);
  const server = createServer({ noDelay: true }, (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith(CONTROL_PREFIX)) handleControl(core, req, res, path);
    else handleApiRequest(core, req, res, path, q === -1 ? '' : url.slice(q + 1));
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Must exceed keepAliveTimeout, or Node may drop a keep-alive socket just as a request starts on it.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;

  return {
    listen: (port = 0, host = '127.0.0.1') =>
      new Promise<ListenAddress>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          const shownHost = host.includes(':') ? `[${host}]` : host;
          resolve({ port: actual, url: `http://${shownHost}:${actual}` });
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        // The server's close callback can run before its sockets (and so the responses) have
        // emitted 'close'; waiting for those too means stats() after close() shows inFlight 0.
        const socketsClosed = [...sockets].map((socket) => new Promise((done) => socket.once('close', done)));
        server.close(() => {
          Promise.all(socketsClosed).then(() => setImmediate(resolve));
        });
        server.closeAllConnections();
      }),
    stats: () => core.snapshot(),
    reset: () => core.reset(),
    configure: (patch) => core.configure(patch),
  };
}
